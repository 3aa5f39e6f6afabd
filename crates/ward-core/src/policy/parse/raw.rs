//! The policy file as TOML gives it: every value with its place in the file, for diagnostics.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub(super) policy: RawHeader,
    #[serde(default)]
    pub(super) operator: Option<RawOperator>,
    #[serde(default)]
    pub(super) categories: BTreeMap<Spanned<String>, RawCategory>,
    #[serde(default)]
    pub(super) fields: BTreeMap<Spanned<String>, RawField>,
    #[serde(default)]
    pub(super) purposes: BTreeMap<Spanned<String>, RawPurpose>,
    #[serde(default)]
    pub(super) recipients: BTreeMap<Spanned<String>, RawRecipient>,
    #[serde(default)]
    pub(super) consent_documents: BTreeMap<Spanned<String>, RawDocument>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRecipient {
    pub(super) title: String,
    pub(super) role: Spanned<String>,
    pub(super) country: Spanned<String>,
    pub(super) address: Option<Spanned<String>>,
    pub(super) categories: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDocument {
    pub(super) title: String,
    pub(super) kind: Spanned<String>,
    pub(super) purposes: Spanned<Vec<Spanned<String>>>,
    pub(super) channel: Option<Spanned<String>>,
    pub(super) cookie_category: Option<Spanned<String>>,
    pub(super) term: Option<Spanned<String>>,
    pub(super) withdrawal: Spanned<String>,
    pub(super) text: Spanned<String>,
    pub(super) version: Option<String>,
    pub(super) form: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHeader {
    pub(super) id: Spanned<String>,
    pub(super) version: Spanned<String>,
    #[serde(default)]
    pub(super) default_region: Option<Spanned<String>>,
    pub(super) language: Option<Spanned<String>>,
    pub(super) text_file: Option<Spanned<String>>,
    pub(super) jurisdictions: Option<Vec<Spanned<String>>>,
    pub(super) majority_age: Option<Spanned<i64>>,
    pub(super) minimum_age: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOperator {
    pub(super) name: Spanned<String>,
    pub(super) address: Option<Spanned<String>>,
    pub(super) contact_email: Option<Spanned<String>>,
    pub(super) country: Option<Spanned<String>>,
    pub(super) inn: Option<Spanned<String>>,
    pub(super) ogrn: Option<Spanned<String>>,
    pub(super) responsible_person: Option<Spanned<String>>,
    pub(super) dpo_email: Option<Spanned<String>>,
    pub(super) information_system: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCategory {
    pub(super) title: String,
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) special: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawField {
    pub(super) title: Option<String>,
    pub(super) category: Spanned<String>,
    #[serde(rename = "type")]
    pub(super) ty: Spanned<String>,
    pub(super) max_length: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) lookup: bool,
    pub(super) unique: Option<Spanned<bool>>,
    #[serde(default)]
    pub(super) required: Option<RawRequired>,
}

/// `required = true` (under every purpose that uses the field's category) or
/// `required = ["purpose", ...]` (under those purposes only).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawRequired {
    All(bool),
    Purposes(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPurpose {
    pub(super) title: String,
    pub(super) description: Option<String>,
    pub(super) legal_basis: Spanned<String>,
    pub(super) fz152_item: Option<Spanned<String>>,
    pub(super) categories: Spanned<Vec<Spanned<String>>>,
    pub(super) actions: Spanned<Vec<Spanned<String>>>,
    pub(super) methods: Option<Vec<Spanned<String>>>,
    pub(super) retention: Option<Spanned<String>>,
    pub(super) retention_after: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) recipients: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) service_notices: bool,
    pub(super) established_by: Option<Spanned<String>>,
    pub(super) assessment: Option<Spanned<String>>,
    pub(super) basis_of: Option<Spanned<String>>,
}
