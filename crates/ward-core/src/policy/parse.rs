//! TOML → [`Policy`], with diagnostics a privacy officer can act on: the line, what is wrong,
//! and what would be right.

use super::register::{
    self, ConsentDocument, ConsentForm, ConsentKind, MarketingChannel, ProcessingMethod, Recipient, RecipientRole,
    Retention, RetentionStart,
};
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
    #[serde(default)]
    recipients: BTreeMap<Spanned<String>, RawRecipient>,
    #[serde(default)]
    consent_documents: BTreeMap<Spanned<String>, RawDocument>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecipient {
    title: String,
    role: Spanned<String>,
    country: Spanned<String>,
    address: Option<Spanned<String>>,
    categories: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    title: String,
    kind: Spanned<String>,
    purposes: Spanned<Vec<Spanned<String>>>,
    channel: Option<Spanned<String>>,
    cookie_category: Option<Spanned<String>>,
    term: Option<Spanned<String>>,
    withdrawal: Spanned<String>,
    text: Spanned<String>,
    version: Option<String>,
    form: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    id: Spanned<String>,
    version: Spanned<String>,
    #[serde(default)]
    default_region: Option<Spanned<String>>,
    language: Option<Spanned<String>>,
    text_file: Option<Spanned<String>>,
    jurisdictions: Option<Vec<Spanned<String>>>,
    majority_age: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperator {
    name: Spanned<String>,
    address: Option<Spanned<String>>,
    contact_email: Option<Spanned<String>>,
    country: Option<Spanned<String>>,
    inn: Option<Spanned<String>>,
    ogrn: Option<Spanned<String>>,
    responsible_person: Option<Spanned<String>>,
    dpo_email: Option<Spanned<String>>,
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
    methods: Option<Vec<Spanned<String>>>,
    retention: Option<Spanned<String>>,
    retention_after: Option<Spanned<String>>,
    #[serde(default)]
    recipients: Vec<Spanned<String>>,
    #[serde(default)]
    service_notices: bool,
}

struct Checker<'s> {
    src: &'s str,
    problems: Vec<PolicyDiagnostic>,
    warnings: Vec<PolicyDiagnostic>,
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

    fn warn(&mut self, span: Range<usize>, message: String) {
        let line = Some(self.line_of(span));
        self.warnings.push(PolicyDiagnostic {
            line,
            message,
            hint: None,
        });
    }

    /// Notes a `FILL IN` placeholder and passes the value through.
    fn text(&mut self, what: &str, v: Spanned<String>) -> String {
        if register::is_placeholder(v.get_ref()) {
            self.warn(v.span(), format!("{what} is a placeholder to fill in: {}", v.get_ref()));
        }
        v.into_inner()
    }

    /// Names in `list` that must be keys of `known`.
    fn references<V>(
        &mut self,
        owner: &str,
        what: &str,
        list: &[Spanned<String>],
        known: &BTreeMap<String, V>,
    ) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for item in list {
            if !known.contains_key(item.get_ref()) {
                self.report(
                    item.span(),
                    format!("{owner} names {what} `{}`, which is not declared", item.get_ref()),
                    Some(format!("use {}", one_of(known.keys().map(String::as_str)))),
                );
            }
            if !out.insert(item.get_ref().clone()) {
                self.report(
                    item.span(),
                    format!("{owner} lists {what} `{}` twice", item.get_ref()),
                    None,
                );
            }
        }
        out
    }

    fn parse_enum<T: std::str::FromStr<Err = crate::action::UnknownName>>(
        &mut self,
        owner: &str,
        key: &str,
        v: &Spanned<String>,
    ) -> Option<T> {
        match v.get_ref().parse::<T>() {
            Ok(x) => Some(x),
            Err(e) => {
                self.report(
                    v.span(),
                    format!("{owner} has unknown {key} `{}`", v.get_ref()),
                    Some(e.to_string()),
                );
                None
            }
        }
    }

    fn retention(&mut self, owner: &str, key: &str, v: &Spanned<String>) -> Option<Retention> {
        let r = Retention::parse(v.get_ref());
        if r.is_none() {
            self.report(
                v.span(),
                format!("{owner} has {key} `{}`, which is not a period", v.get_ref()),
                Some(
                    "write e.g. \"30 days\", \"7 months\", \"3 years\", \"until_withdrawal\" or \"until_achieved\""
                        .into(),
                ),
            );
        }
        r
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
                    warnings: Vec::new(),
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
            warnings: Vec::new(),
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

        for j in raw.policy.jurisdictions.iter().flatten() {
            if !register::valid_jurisdiction(j.get_ref()) {
                c.report(
                    j.span(),
                    format!("jurisdiction `{}` is not known", j.get_ref()),
                    Some("use RU, EU, EU-XX (a member state, e.g. EU-DE) or US".into()),
                );
            }
        }
        if let Some(a) = &raw.policy.majority_age {
            if !(1..=25).contains(a.get_ref()) {
                c.report(
                    a.span(),
                    format!("majority_age {} is out of range", a.get_ref()),
                    Some("an age in years, 1 to 25".into()),
                );
            }
        }
        if let Some(l) = &raw.policy.language {
            let ok = (2..=35).contains(&l.get_ref().len())
                && l.get_ref().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !ok {
                c.report(
                    l.span(),
                    format!("language `{}` is not a language tag", l.get_ref()),
                    Some("e.g. \"ru\", \"en\", \"de-DE\"".into()),
                );
            }
        }
        if let Some(country) = raw.operator.as_ref().and_then(|o| o.country.as_ref()) {
            if !register::valid_country(country.get_ref()) {
                c.report(
                    country.span(),
                    format!("operator country `{}` is not an ISO 3166 code", country.get_ref()),
                    Some("two capital letters, e.g. \"RU\"".into()),
                );
            }
        }

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

        let operator_country = raw
            .operator
            .as_ref()
            .and_then(|o| o.country.as_ref())
            .map_or_else(|| "RU".to_owned(), |c| c.get_ref().clone());
        let mut recipients = BTreeMap::new();
        for (name, r) in raw.recipients {
            c.identifier("recipient", &name);
            let owner = format!("recipient `{}`", name.get_ref());
            let role = c
                .parse_enum::<RecipientRole>(&owner, "role", &r.role)
                .unwrap_or(RecipientRole::Processor);
            if !register::valid_country(r.country.get_ref()) {
                c.report(
                    r.country.span(),
                    format!(
                        "{owner} has country `{}`, which is not an ISO 3166 code",
                        r.country.get_ref()
                    ),
                    Some("two capital letters, e.g. \"RU\", \"DE\", \"US\"".into()),
                );
            }
            let cats = c.references(&owner, "category", r.categories.get_ref(), &categories);
            let address = r.address.map(|a| c.text(&format!("{owner}'s address"), a));
            recipients.insert(
                name.into_inner(),
                Recipient {
                    title: r.title,
                    role,
                    country: r.country.into_inner(),
                    address,
                    categories: cats,
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
            let owner = format!("purpose `{}`", name.get_ref());
            let methods: BTreeSet<ProcessingMethod> = match &p.methods {
                None => BTreeSet::from([ProcessingMethod::Automated]),
                Some(list) => list
                    .iter()
                    .filter_map(|m| c.parse_enum::<ProcessingMethod>(&owner, "method", m))
                    .collect(),
            };
            let retention = p.retention.as_ref().and_then(|r| c.retention(&owner, "retention", r));
            let retention_after = p
                .retention_after
                .as_ref()
                .and_then(|r| c.parse_enum::<RetentionStart>(&owner, "retention_after", r))
                .unwrap_or(RetentionStart::Collection);
            let purpose_recipients = c.references(&owner, "recipient", &p.recipients, &recipients);
            let passes_on = [
                ProcessingAction::Provision,
                ProcessingAction::Access,
                ProcessingAction::Distribution,
            ];
            if !purpose_recipients.is_empty() && !passes_on.iter().any(|a| actions.contains(a)) {
                c.report(
                    p.actions.span(),
                    format!("{owner} passes data to recipients but covers none of the transfer actions"),
                    Some("add \"provision\" (to a defined recipient) to its actions".into()),
                );
            }
            for r in &purpose_recipients {
                // A purpose passes a recipient the categories both name; none in common is a mistake.
                if let Some(rec) = recipients.get(r) {
                    if rec.categories.is_disjoint(&cats) {
                        c.report(
                            p.actions.span(),
                            format!("{owner} passes data to `{r}`, but they have no category of data in common"),
                            Some("add one of the recipient's categories to the purpose, or the other way round".into()),
                        );
                    }
                }
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
                    methods,
                    retention,
                    retention_after,
                    recipients: purpose_recipients,
                    service_notices: p.service_notices,
                },
            );
        }

        let consent_documents = check_documents(&mut c, raw.consent_documents, &purposes);

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
        let operator = match raw.operator {
            None => Operator {
                country: operator_country,
                ..Operator::default()
            },
            Some(o) => Operator {
                name: c.text("operator name", o.name),
                address: o.address.map(|v| c.text("operator address", v)),
                contact_email: o.contact_email.map(|v| c.text("operator contact_email", v)),
                country: operator_country,
                inn: o.inn.map(|v| c.text("operator inn", v)),
                ogrn: o.ogrn.map(|v| c.text("operator ogrn", v)),
                responsible_person: o.responsible_person.map(|v| c.text("operator responsible_person", v)),
                dpo_email: o.dpo_email.map(|v| c.text("operator dpo_email", v)),
            },
        };
        if operator.name.trim().is_empty() {
            c.warnings.push(PolicyDiagnostic {
                line: None,
                message: "the operator's name is not given ([operator] name)".into(),
                hint: None,
            });
        }
        c.warnings.sort_by_key(|d| d.line.unwrap_or(usize::MAX));
        let header = raw.policy;
        let jurisdictions: Vec<String> = match header.jurisdictions {
            None => vec!["RU".to_owned()],
            Some(list) => list.into_iter().map(Spanned::into_inner).collect(),
        };
        Ok(Policy {
            id: header.id.into_inner(),
            version: header.version.into_inner(),
            default_region,
            language: header.language.map_or_else(|| "en".to_owned(), Spanned::into_inner),
            text_file: header.text_file.map(Spanned::into_inner),
            jurisdictions,
            majority_age: header.majority_age.and_then(|a| u8::try_from(*a.get_ref()).ok()),
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

/// Consent documents, and the implied one-per-purpose documents when none are declared.
fn check_documents(
    c: &mut Checker<'_>,
    raw: BTreeMap<Spanned<String>, RawDocument>,
    purposes: &BTreeMap<String, Purpose>,
) -> BTreeMap<String, ConsentDocument> {
    let mut docs = BTreeMap::new();
    let declared = !raw.is_empty();
    for (name, d) in raw {
        c.identifier("consent document", &name);
        let owner = format!("consent document `{}`", name.get_ref());
        let kind = c
            .parse_enum::<ConsentKind>(&owner, "kind", &d.kind)
            .unwrap_or(ConsentKind::Processing);
        let covered = c.references(&owner, "purpose", d.purposes.get_ref(), purposes);
        for p in d.purposes.get_ref() {
            if purposes
                .get(p.get_ref())
                .is_some_and(|x| !x.legal_basis.needs_consent())
            {
                c.report(
                    p.span(),
                    format!(
                        "{owner} covers purpose `{}`, whose legal basis is not consent",
                        p.get_ref()
                    ),
                    Some("only consent-based purposes belong in a consent document".into()),
                );
            }
        }
        if covered.is_empty() {
            c.report(d.purposes.span(), format!("{owner} covers no purposes"), None);
        }
        let channel = d
            .channel
            .as_ref()
            .and_then(|ch| c.parse_enum::<MarketingChannel>(&owner, "channel", ch));
        match (kind, &d.channel) {
            (ConsentKind::Marketing, None) => c.report(
                d.kind.span(),
                format!("{owner} is a marketing consent but names no channel"),
                Some("each channel is consented to separately: add channel = \"email\" (or sms, calls, push)".into()),
            ),
            (k, Some(ch)) if k != ConsentKind::Marketing => c.report(
                ch.span(),
                format!("{owner} has a channel but is not a marketing consent"),
                Some("remove channel, or set kind = \"marketing\"".into()),
            ),
            _ => {}
        }
        match (kind, &d.cookie_category) {
            (ConsentKind::Cookies, None) => c.report(
                d.kind.span(),
                format!("{owner} is a cookie consent but names no cookie_category"),
                Some(format!("use one of: {}", register::COOKIE_CATEGORIES.join(", "))),
            ),
            (ConsentKind::Cookies, Some(cat)) if !register::COOKIE_CATEGORIES.contains(&cat.get_ref().as_str()) => c
                .report(
                    cat.span(),
                    format!("{owner} has unknown cookie_category `{}`", cat.get_ref()),
                    Some(format!(
                        "use one of: {} (strictly necessary cookies need no consent)",
                        register::COOKIE_CATEGORIES.join(", ")
                    )),
                ),
            (k, Some(cat)) if k != ConsentKind::Cookies => c.report(
                cat.span(),
                format!("{owner} has a cookie_category but is not a cookie consent"),
                None,
            ),
            _ => {}
        }
        let term = d.term.as_ref().and_then(|t| c.retention(&owner, "term", t));
        if let (Some(t), Some(Retention::UntilAchieved | Retention::UntilWithdrawal)) = (&d.term, term) {
            c.report(
                t.span(),
                format!("{owner}'s term must be a period"),
                Some("e.g. term = \"3 years\"; leave it out for consent until withdrawn".into()),
            );
        }
        for (key, v) in [("withdrawal", &d.withdrawal), ("text", &d.text)] {
            if v.get_ref().trim().is_empty() {
                c.report(v.span(), format!("{owner} has an empty {key}"), None);
            }
        }
        let form = d
            .form
            .as_ref()
            .and_then(|f| c.parse_enum::<ConsentForm>(&owner, "form", f))
            .unwrap_or(ConsentForm::Any);
        let withdrawal = c.text(&format!("{owner}'s withdrawal"), d.withdrawal);
        let text = c.text(&format!("{owner}'s text"), d.text);
        docs.insert(
            name.into_inner(),
            ConsentDocument {
                title: d.title,
                kind,
                purposes: covered,
                channel,
                cookie_category: d.cookie_category.map(Spanned::into_inner),
                term,
                withdrawal,
                text,
                version: d.version.unwrap_or_else(|| "1".to_owned()),
                form,
                implied: false,
            },
        );
    }
    for (name, p) in purposes.iter().filter(|(_, p)| p.legal_basis.needs_consent()) {
        if docs.values().any(|d: &ConsentDocument| d.purposes.contains(name)) {
            continue;
        }
        if declared {
            c.problems.push(PolicyDiagnostic {
                line: None,
                message: format!("consent-based purpose `{name}` is covered by no consent document"),
                hint: Some(format!("add `{name}` to the purposes of a [consent_documents.*] table")),
            });
        } else if !docs.contains_key(name) {
            docs.insert(
                name.clone(),
                ConsentDocument {
                    title: format!("Consent: {}", p.title),
                    kind: ConsentKind::Processing,
                    purposes: BTreeSet::from([name.clone()]),
                    channel: None,
                    cookie_category: None,
                    term: None,
                    withdrawal: "Withdraw at any time through the operator; processing for this purpose stops at once."
                        .into(),
                    text: format!("I consent to the processing of my personal data for: {}.", p.title),
                    version: "1".into(),
                    form: ConsentForm::Any,
                    implied: true,
                },
            );
        }
    }
    docs
}
