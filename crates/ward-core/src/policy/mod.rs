//! The policy as code: categories of data, the fields in them, and the purposes that may use
//! them, each with its legal basis and the processing actions it covers.
//!
//! A [`Policy`] is only ever built by [`Policy::parse`], which checks every cross-reference,
//! so code that holds one can index it without checking again.

pub mod diff;
mod parse;
pub mod register;
#[cfg(test)]
mod tests;

pub use diff::{diff, PolicyChange, Requirement};
pub use parse::PolicyDiagnostic;
pub use register::{
    ConsentDocument, ConsentForm, ConsentKind, ProcessingMethod, Recipient, RecipientRole, Retention, RetentionStart,
};

use crate::action::{LegalBasis, ProcessingAction};
pub use crate::basis::EstablishedBy;
use crate::value::FieldType;
use std::collections::{BTreeMap, BTreeSet};

/// A parsed, cross-checked policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// A stable id for this operator's policy (e.g. `example-shop`).
    pub id: String,
    /// The operator's label for this version (e.g. `2026-11-01`).
    pub version: String,
    /// ISO 3166 alpha-2 region for phone numbers written without a country code.
    pub default_region: String,
    /// Language of the human-readable text (BCP 47).
    pub language: String,
    /// The human-readable text's file, relative to the register.
    pub text_file: Option<String>,
    /// Whose rules apply: `RU`, `EU`, `EU-XX`, `US`.
    pub jurisdictions: Vec<String>,
    /// The policy's own minimum age, if it states one.
    pub majority_age: Option<u8>,
    /// The age below which the policy admits no one at all, whoever consents for them ("we
    /// collect nothing from anyone under the age of majority"): `below_minimum_age`.
    pub minimum_age: Option<u8>,
    pub operator: Operator,
    pub categories: BTreeMap<String, Category>,
    pub fields: BTreeMap<String, FieldDef>,
    pub purposes: BTreeMap<String, Purpose>,
    pub recipients: BTreeMap<String, Recipient>,
    pub consent_documents: BTreeMap<String, ConsentDocument>,
    /// Things that are not errors but need the operator's attention (placeholders).
    pub warnings: Vec<PolicyDiagnostic>,
}

/// Who processes the data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Operator {
    pub name: String,
    pub address: Option<String>,
    pub contact_email: Option<String>,
    /// ISO 3166 alpha-2; transfers to recipients elsewhere are cross-border.
    pub country: String,
    /// Russian taxpayer number (ИНН).
    pub inn: Option<String>,
    /// Russian state registration number (ОГРН).
    pub ogrn: Option<String>,
    /// The person responsible for organising processing (152-FZ Art. 22.1).
    pub responsible_person: Option<String>,
    pub dpo_email: Option<String>,
    /// The information system's name, for destruction acts (RKN Order No. 179 p. 3 g).
    pub information_system: Option<String>,
}

/// A category of personal data (identity, contact, payment, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub title: String,
    pub description: Option<String>,
    /// Special categories (152-FZ Art. 10, GDPR Art. 9) need a stricter basis.
    pub special: bool,
}

/// A field a subject can have.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    pub title: String,
    pub category: String,
    pub field_type: FieldType,
    /// Whether Ward keeps a blind index so subjects can be found by this field.
    pub lookup: bool,
    /// Whether no two live subjects may hold the same value (`unique = true`; needs `lookup`,
    /// since the blind index finds the holders).
    pub unique: bool,
    /// Whether a subject must have this field at collection (and may not have it removed);
    /// under which purposes: [`FieldDef::required_under`].
    pub required: bool,
    /// The purposes under whose collection the field is required (`required = [...]`); empty
    /// with `required`: every purpose whose categories include the field's category.
    pub required_for: BTreeSet<String>,
}

impl FieldDef {
    /// Whether collection under `purpose` (named `name`) needs this field.
    pub fn required_under(&self, name: &str, purpose: &Purpose) -> bool {
        self.required
            && if self.required_for.is_empty() {
                purpose.categories.contains(&self.category)
            } else {
                self.required_for.contains(name)
            }
    }
}

/// A purpose of processing.
#[derive(Debug, Clone, PartialEq)]
pub struct Purpose {
    pub title: String,
    pub description: Option<String>,
    pub legal_basis: LegalBasis,
    /// The 152-FZ Art. 6 p. 1 item cited (e.g. `"5"`).
    pub fz152_item: String,
    pub categories: BTreeSet<String>,
    pub actions: BTreeSet<ProcessingAction>,
    pub methods: BTreeSet<ProcessingMethod>,
    pub retention: Option<Retention>,
    pub retention_after: RetentionStart,
    /// Declared recipients this purpose passes data to.
    pub recipients: BTreeSet<String>,
    /// Sends mandatory service notices, which a marketing opt-out does not stop.
    pub service_notices: bool,
    /// For a purpose not resting on consent: what establishes it for a subject (`event`
    /// when the policy does not say: nothing is assumed). Ignored for consent purposes.
    pub established_by: EstablishedBy,
    /// For a legitimate interest: the reference of its assessment (the balancing test).
    pub assessment: Option<String>,
    /// Rests on the basis established for this other purpose (the same contract, say: account
    /// notices under the account's contract), and holds exactly when that one holds.
    pub basis_of: Option<String>,
}

impl Policy {
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.get(id)
    }

    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.get(name)
    }

    /// The fields whose category `purpose` may use, in name order.
    pub fn fields_for<'a>(&'a self, purpose: &'a Purpose) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(|(_, f)| purpose.categories.contains(&f.category))
            .map(|(n, _)| n.as_str())
    }

    /// Fields with a blind index.
    pub fn lookup_fields(&self) -> impl Iterator<Item = (&str, &FieldDef)> {
        self.fields
            .iter()
            .filter(|(_, f)| f.lookup)
            .map(|(n, f)| (n.as_str(), f))
    }
}

impl Policy {
    /// Recipients abroad (in another country than the operator's) of `purpose`.
    pub fn cross_border_recipients<'a>(
        &'a self,
        purpose: &'a Purpose,
    ) -> impl Iterator<Item = (&'a str, &'a Recipient)> + 'a {
        purpose
            .recipients
            .iter()
            .filter_map(|r| self.recipients.get(r).map(|rec| (r.as_str(), rec)))
            .filter(|(_, r)| r.country != self.operator.country)
    }

    /// The consent documents that cover `purpose`.
    pub fn documents_for<'a>(&'a self, purpose: &'a str) -> impl Iterator<Item = (&'a str, &'a ConsentDocument)> + 'a {
        self.consent_documents
            .iter()
            .filter(move |(_, d)| d.purposes.contains(purpose))
            .map(|(n, d)| (n.as_str(), d))
    }
}

impl Purpose {
    pub fn covers(&self, action: ProcessingAction) -> bool {
        self.actions.contains(&action)
    }
}

/// The policy a fresh data directory starts with: a website with registration, account,
/// payment, accounting, marketing and analytics.
pub const DEFAULT_POLICY: &str = include_str!("../../policies/default.toml");

/// The default policy's human-readable text: its `text_file`, `policy.md` beside it.
pub const DEFAULT_POLICY_TEXT: &str = include_str!("../../policies/default.md");

/// The name the default policy gives its text (`text_file`).
pub const DEFAULT_POLICY_TEXT_FILE: &str = "policy.md";
