//! `[policy]` and `[operator]`: the version's header, and who processes the data.

use super::super::register;
use super::super::Operator;
use super::checker::Checker;
use super::raw::{RawHeader, RawOperator};
use super::PolicyDiagnostic;
use toml::Spanned;

/// Checks the header and the operator's country; returns the default region for phone
/// numbers.
pub(super) fn check(c: &mut Checker<'_>, header: &RawHeader, operator: Option<&RawOperator>) -> String {
    c.identifier("policy id", &header.id);
    if header.version.get_ref().trim().is_empty() {
        c.report(
            header.version.span(),
            "policy version is empty".into(),
            Some("e.g. version = \"2026-11-01\"".into()),
        );
    }
    let default_region = match &header.default_region {
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

    for j in header.jurisdictions.iter().flatten() {
        if !register::valid_jurisdiction(j.get_ref()) {
            c.report(
                j.span(),
                format!("jurisdiction `{}` is not known", j.get_ref()),
                Some("use RU, EU, EU-XX (a member state, e.g. EU-DE) or US".into()),
            );
        }
    }
    for (key, a) in [
        ("majority_age", &header.majority_age),
        ("minimum_age", &header.minimum_age),
    ] {
        if let Some(a) = a {
            if !(1..=25).contains(a.get_ref()) {
                c.report(
                    a.span(),
                    format!("{key} {} is out of range", a.get_ref()),
                    Some("an age in years, 1 to 25".into()),
                );
            }
        }
    }
    if let Some(l) = &header.language {
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
    if let Some(country) = operator.and_then(|o| o.country.as_ref()) {
        if !register::valid_country(country.get_ref()) {
            c.report(
                country.span(),
                format!("operator country `{}` is not an ISO 3166 code", country.get_ref()),
                Some("two capital letters, e.g. \"RU\"".into()),
            );
        }
    }
    default_region
}

/// The operator's country; Russia when the policy does not say.
pub(super) fn operator_country(operator: Option<&RawOperator>) -> String {
    operator
        .and_then(|o| o.country.as_ref())
        .map_or_else(|| "RU".to_owned(), |c| c.get_ref().clone())
}

/// The operator, noting placeholders to fill in and a missing name.
pub(super) fn operator(c: &mut Checker<'_>, operator: Option<RawOperator>, country: String) -> Operator {
    let operator = match operator {
        None => Operator {
            country,
            ..Operator::default()
        },
        Some(o) => Operator {
            name: c.text("operator name", o.name),
            address: o.address.map(|v| c.text("operator address", v)),
            contact_email: o.contact_email.map(|v| c.text("operator contact_email", v)),
            country,
            inn: o.inn.map(|v| c.text("operator inn", v)),
            ogrn: o.ogrn.map(|v| c.text("operator ogrn", v)),
            responsible_person: o.responsible_person.map(|v| c.text("operator responsible_person", v)),
            dpo_email: o.dpo_email.map(|v| c.text("operator dpo_email", v)),
            information_system: o.information_system.map(|v| c.text("operator information_system", v)),
        },
    };
    if operator.name.trim().is_empty() {
        c.warnings.push(PolicyDiagnostic {
            line: None,
            message: "the operator's name is not given ([operator] name)".into(),
            hint: None,
        });
    }
    operator
}

/// The header's values, with their defaults.
pub(super) struct Header {
    pub(super) id: String,
    pub(super) version: String,
    pub(super) language: String,
    pub(super) text_file: Option<String>,
    pub(super) jurisdictions: Vec<String>,
    pub(super) majority_age: Option<u8>,
    pub(super) minimum_age: Option<u8>,
}

impl From<RawHeader> for Header {
    fn from(header: RawHeader) -> Self {
        let jurisdictions: Vec<String> = match header.jurisdictions {
            None => vec!["RU".to_owned()],
            Some(list) => list.into_iter().map(Spanned::into_inner).collect(),
        };
        Header {
            id: header.id.into_inner(),
            version: header.version.into_inner(),
            language: header.language.map_or_else(|| "en".to_owned(), Spanned::into_inner),
            text_file: header.text_file.map(Spanned::into_inner),
            jurisdictions,
            majority_age: header.majority_age.and_then(|a| u8::try_from(*a.get_ref()).ok()),
            minimum_age: header.minimum_age.and_then(|a| u8::try_from(*a.get_ref()).ok()),
        }
    }
}
