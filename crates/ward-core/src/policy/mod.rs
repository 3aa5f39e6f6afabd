//! The policy as code: categories of data, the fields in them, and the purposes that may use
//! them, each with its legal basis and the processing actions it covers.
//!
//! A [`Policy`] is only ever built by [`Policy::parse`], which checks every cross-reference,
//! so code that holds one can index it without checking again.

mod parse;
#[cfg(test)]
mod tests;

pub use parse::PolicyDiagnostic;

use crate::action::{LegalBasis, ProcessingAction};
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
    pub operator: Operator,
    pub categories: BTreeMap<String, Category>,
    pub fields: BTreeMap<String, FieldDef>,
    pub purposes: BTreeMap<String, Purpose>,
}

/// Who processes the data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Operator {
    pub name: String,
    pub address: Option<String>,
    pub contact_email: Option<String>,
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
    /// Whether every subject must have this field at collection.
    pub required: bool,
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

impl Purpose {
    pub fn covers(&self, action: ProcessingAction) -> bool {
        self.actions.contains(&action)
    }
}

/// The policy a fresh data directory starts with: a website with registration, account,
/// payment, accounting, marketing and analytics.
pub const DEFAULT_POLICY: &str = include_str!("../../policies/default.toml");
