//! TOML → [`Policy`], with diagnostics a privacy officer can act on: the line, what is wrong,
//! and what would be right.
//!
//! [`Policy::parse`] reads the file ([`raw`]) and checks it section by section of the
//! register, in the order the sections refer to each other: the header and the operator
//! ([`header`]), categories and fields ([`fields`]), recipients ([`recipients`]), purposes
//! ([`purposes`]), consent documents ([`documents`]), then what no purpose needs. Every
//! section reports to one [`checker::Checker`], which gives each problem its line.

mod checker;
mod documents;
mod fields;
mod header;
mod purposes;
mod raw;
mod recipients;

use super::{Category, FieldDef, Policy, Purpose};
use checker::Checker;
use raw::RawPolicy;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One problem with a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDiagnostic {
    /// 1-based line, when the problem has a place in the file.
    pub line: Option<usize>,
    pub message: String,
    /// What would be right, when Ward can tell.
    pub hint: Option<String>,
}

impl fmt::Display for PolicyDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message)?,
            None => f.write_str(&self.message)?,
        }
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

impl Policy {
    /// Parses a policy file. On failure, returns every problem found, each with its line.
    pub fn parse(src: &str) -> Result<Policy, Vec<PolicyDiagnostic>> {
        let raw: RawPolicy = match toml::from_str(src) {
            Ok(r) => r,
            Err(e) => {
                let mut c = Checker::new(src);
                let message = e.message().trim().to_owned();
                match e.span() {
                    Some(span) => c.report(span, message, None),
                    None => c.problems.push(PolicyDiagnostic {
                        line: None,
                        message,
                        hint: None,
                    }),
                }
                return Err(c.problems);
            }
        };
        let mut c = Checker::new(src);

        let default_region = header::check(&mut c, &raw.policy, raw.operator.as_ref());
        let categories = fields::categories(&mut c, raw.categories);
        let (fields, field_spans) = fields::fields(&mut c, raw.fields, &categories);
        let operator_country = header::operator_country(raw.operator.as_ref());
        let recipients = recipients::recipients(&mut c, raw.recipients, &categories);
        let purposes = purposes::purposes(&mut c, raw.purposes, &categories, &recipients);
        fields::check_required(&mut c, &fields, &field_spans, &purposes);
        let consent_documents = documents::documents(&mut c, raw.consent_documents, &purposes);
        check_minimisation(&mut c, &categories, &fields, &purposes);

        if !c.problems.is_empty() {
            c.problems.sort_by_key(|d| d.line.unwrap_or(usize::MAX));
            return Err(c.problems);
        }
        let operator = header::operator(&mut c, raw.operator, operator_country);
        c.warnings.sort_by_key(|d| d.line.unwrap_or(usize::MAX));
        let header = header::Header::from(raw.policy);
        Ok(Policy {
            id: header.id,
            version: header.version,
            default_region,
            language: header.language,
            text_file: header.text_file,
            jurisdictions: header.jurisdictions,
            majority_age: header.majority_age,
            minimum_age: header.minimum_age,
            operator,
            categories,
            fields,
            purposes,
            recipients,
            consent_documents,
            warnings: c.warnings,
        })
    }
}

/// 152-FZ Art. 5 p. 5 / GDPR Art. 5(1)(c): no data that no purpose needs.
fn check_minimisation(
    c: &mut Checker<'_>,
    categories: &BTreeMap<String, Category>,
    fields: &BTreeMap<String, FieldDef>,
    purposes: &BTreeMap<String, Purpose>,
) {
    if purposes.is_empty() {
        c.problems.push(PolicyDiagnostic {
            line: None,
            message: "the policy declares no purposes".into(),
            hint: Some("add at least one [purposes.NAME] table".into()),
        });
    }
    let used: BTreeSet<&String> = purposes.values().flat_map(|p: &Purpose| p.categories.iter()).collect();
    let unused: Vec<String> = fields
        .iter()
        .filter(|(_, f)| categories.contains_key(&f.category) && !used.contains(&f.category))
        .map(|(n, f)| format!("`{n}` ({})", f.category))
        .collect();
    if !unused.is_empty() {
        c.problems.push(PolicyDiagnostic {
            line: None,
            message: format!("no purpose uses the category of field(s) {}: data that no purpose needs may not be collected (152-FZ Art. 5 p. 5)", unused.join(", ")),
            hint: Some("add the category to a purpose, or remove the field".into()),
        });
    }
}
