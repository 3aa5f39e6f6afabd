//! TOML → [`Policy`], with diagnostics a privacy officer can act on: the line, what is wrong,
//! and what would be right.

use super::{Category, FieldDef, Operator, Policy, Purpose};
use crate::action::{LegalBasis, ProcessingAction};
use crate::value::{FieldType, DEFAULT_TEXT_MAX, TEXT_MAX_LIMIT};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use toml::Spanned;

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    policy: RawHeader,
    #[serde(default)]
    operator: Option<RawOperator>,
    #[serde(default)]
    categories: BTreeMap<Spanned<String>, RawCategory>,
    #[serde(default)]
    fields: BTreeMap<Spanned<String>, RawField>,
    #[serde(default)]
    purposes: BTreeMap<Spanned<String>, RawPurpose>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    id: Spanned<String>,
    version: Spanned<String>,
    #[serde(default)]
    default_region: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperator {
    name: String,
    address: Option<String>,
    contact_email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    title: String,
    description: Option<String>,
    #[serde(default)]
    special: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    title: Option<String>,
    category: Spanned<String>,
    #[serde(rename = "type")]
    ty: Spanned<String>,
    max_length: Option<Spanned<i64>>,
    #[serde(default)]
    lookup: bool,
    #[serde(default)]
    required: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPurpose {
    title: String,
    description: Option<String>,
    legal_basis: Spanned<String>,
    fz152_item: Option<Spanned<String>>,
    categories: Spanned<Vec<Spanned<String>>>,
    actions: Spanned<Vec<Spanned<String>>>,
}

struct Checker<'s> {
    src: &'s str,
    problems: Vec<PolicyDiagnostic>,
}

impl Checker<'_> {
    fn line_of(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.src.len());
        self.src.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
    }

    fn report(&mut self, span: Range<usize>, message: String, hint: Option<String>) {
        let line = Some(self.line_of(span));
        self.problems.push(PolicyDiagnostic { line, message, hint });
    }

    fn identifier(&mut self, what: &str, id: &Spanned<String>) {
        let s = id.get_ref();
        let ok = s.len() <= 64
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            self.report(
                id.span(),
                format!("{what} name `{s}` is not a valid identifier"),
                Some("use 1 to 64 characters of a-z, 0-9 and _, starting with a letter".into()),
            );
        }
    }
}

fn one_of<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let v: Vec<&str> = names.into_iter().collect();
    if v.is_empty() {
        "none are declared".into()
    } else {
        format!("one of: {}", v.join(", "))
    }
}

impl Policy {
    /// Parses a policy file. On failure, returns every problem found, each with its line.
    pub fn parse(src: &str) -> Result<Policy, Vec<PolicyDiagnostic>> {
        let raw: RawPolicy = match toml::from_str(src) {
            Ok(r) => r,
            Err(e) => {
                let mut c = Checker {
                    src,
                    problems: Vec::new(),
                };
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
        let mut c = Checker {
            src,
            problems: Vec::new(),
        };

        c.identifier("policy id", &raw.policy.id);
        if raw.policy.version.get_ref().trim().is_empty() {
            c.report(
                raw.policy.version.span(),
                "policy version is empty".into(),
                Some("e.g. version = \"2026-11-01\"".into()),
            );
        }
        let default_region = match &raw.policy.default_region {
            Some(r) => {
                let s = r.get_ref().to_ascii_uppercase();
                if s.parse::<phonenumber::country::Id>().is_err() {
                    c.report(
                        r.span(),
                        format!("default_region `{}` is not an ISO 3166 country code", r.get_ref()),
                        Some("e.g. \"RU\", \"DE\", \"US\"".into()),
                    );
                }
                s
            }
            None => "RU".to_owned(),
        };

        let mut categories = BTreeMap::new();
        for (name, cat) in raw.categories {
            c.identifier("category", &name);
            categories.insert(
                name.into_inner(),
                Category {
                    title: cat.title,
                    description: cat.description,
                    special: cat.special,
                },
            );
        }

        let mut fields = BTreeMap::new();
        for (name, f) in raw.fields {
            c.identifier("field", &name);
            if !categories.contains_key(f.category.get_ref()) {
                c.report(
                    f.category.span(),
                    format!(
                        "field `{}` is in category `{}`, which is not declared",
                        name.get_ref(),
                        f.category.get_ref()
                    ),
                    Some(format!(
                        "declare [categories.{}] or use {}",
                        f.category.get_ref(),
                        one_of(categories.keys().map(String::as_str))
                    )),
                );
            }
            let field_type = match f.ty.get_ref().as_str() {
                "email" => FieldType::Email,
                "phone" => FieldType::Phone,
                "date" => FieldType::Date,
                "ip" => FieldType::Ip,
                "text" => {
                    let max = match &f.max_length {
                        None => DEFAULT_TEXT_MAX,
                        Some(m) => match usize::try_from(*m.get_ref()) {
                            Ok(v) if (1..=TEXT_MAX_LIMIT).contains(&v) => v,
                            _ => {
                                c.report(
                                    m.span(),
                                    format!("max_length {} is out of range", m.get_ref()),
                                    Some(format!("use 1 to {TEXT_MAX_LIMIT}")),
                                );
                                DEFAULT_TEXT_MAX
                            }
                        },
                    };
                    FieldType::Text { max_length: max }
                }
                other => {
                    c.report(
                        f.ty.span(),
                        format!("field `{}` has unknown type `{other}`", name.get_ref()),
                        Some("use one of: email, phone, date, text, ip".into()),
                    );
                    FieldType::Text {
                        max_length: DEFAULT_TEXT_MAX,
                    }
                }
            };
            if let (Some(m), false) = (&f.max_length, matches!(field_type, FieldType::Text { .. })) {
                c.report(
                    m.span(),
                    format!(
                        "max_length applies only to text fields, and `{}` is a {} field",
                        name.get_ref(),
                        field_type.name()
                    ),
                    Some("remove max_length".into()),
                );
            }
            if f.lookup && !matches!(field_type, FieldType::Email | FieldType::Phone | FieldType::Text { .. }) {
                c.report(
                    f.ty.span(),
                    format!(
                        "field `{}` cannot have lookup = true: only email, phone and text fields can be looked up",
                        name.get_ref()
                    ),
                    None,
                );
            }
            let title = f.title.unwrap_or_else(|| name.get_ref().clone());
            fields.insert(
                name.into_inner(),
                FieldDef {
                    title,
                    category: f.category.into_inner(),
                    field_type,
                    lookup: f.lookup,
                    required: f.required,
                },
            );
        }

        let mut purposes = BTreeMap::new();
        for (name, p) in raw.purposes {
            c.identifier("purpose", &name);
            let legal_basis = match p.legal_basis.get_ref().parse::<LegalBasis>() {
                Ok(b) => b,
                Err(e) => {
                    c.report(
                        p.legal_basis.span(),
                        format!(
                            "purpose `{}` has unknown legal_basis `{}`",
                            name.get_ref(),
                            p.legal_basis.get_ref()
                        ),
                        Some(e.to_string()),
                    );
                    LegalBasis::Consent
                }
            };
            let fz152_item = match &p.fz152_item {
                Some(item) => {
                    if !legal_basis.fz152_items().contains(&item.get_ref().as_str()) {
                        c.report(
                            item.span(),
                            format!(
                                "purpose `{}`: 152-FZ Art. 6 p. 1 item {} does not match legal_basis `{legal_basis}`",
                                name.get_ref(),
                                item.get_ref()
                            ),
                            Some(format!(
                                "for `{legal_basis}` cite item {}",
                                legal_basis.fz152_items().join(" or ")
                            )),
                        );
                    }
                    item.get_ref().clone()
                }
                None => legal_basis.fz152_items()[0].to_owned(),
            };
            let mut cats = BTreeSet::new();
            for cat in p.categories.get_ref() {
                if !categories.contains_key(cat.get_ref()) {
                    c.report(
                        cat.span(),
                        format!(
                            "purpose `{}` uses category `{}`, which is not declared",
                            name.get_ref(),
                            cat.get_ref()
                        ),
                        Some(format!("use {}", one_of(categories.keys().map(String::as_str)))),
                    );
                }
                if !cats.insert(cat.get_ref().clone()) {
                    c.report(
                        cat.span(),
                        format!("purpose `{}` lists category `{}` twice", name.get_ref(), cat.get_ref()),
                        None,
                    );
                }
            }
            if cats.is_empty() {
                c.report(
                    p.categories.span(),
                    format!("purpose `{}` uses no categories of data", name.get_ref()),
                    Some("list the categories it needs, e.g. categories = [\"contact\"]".into()),
                );
            }
            let mut actions = BTreeSet::new();
            for a in p.actions.get_ref() {
                match a.get_ref().parse::<ProcessingAction>() {
                    Ok(act) => {
                        if !actions.insert(act) {
                            c.report(
                                a.span(),
                                format!("purpose `{}` lists action `{act}` twice", name.get_ref()),
                                None,
                            );
                        }
                    }
                    Err(e) => c.report(
                        a.span(),
                        format!("purpose `{}` has unknown action `{}`", name.get_ref(), a.get_ref()),
                        Some(e.to_string()),
                    ),
                }
            }
            if actions.is_empty() {
                c.report(
                    p.actions.span(),
                    format!("purpose `{}` covers no processing actions", name.get_ref()),
                    Some("e.g. actions = [\"collection\", \"storage\", \"use\"]".into()),
                );
            }
            purposes.insert(
                name.into_inner(),
                Purpose {
                    title: p.title,
                    description: p.description,
                    legal_basis,
                    fz152_item,
                    categories: cats,
                    actions,
                },
            );
        }

        // 152-FZ Art. 5 p. 5 / GDPR Art. 5(1)(c): no data that no purpose needs.
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

        if !c.problems.is_empty() {
            c.problems.sort_by_key(|d| d.line.unwrap_or(usize::MAX));
            return Err(c.problems);
        }
        let operator = raw
            .operator
            .map(|o| Operator {
                name: o.name,
                address: o.address,
                contact_email: o.contact_email,
            })
            .unwrap_or_default();
        Ok(Policy {
            id: raw.policy.id.into_inner(),
            version: raw.policy.version.into_inner(),
            default_region,
            operator,
            categories,
            fields,
            purposes,
        })
    }
}
