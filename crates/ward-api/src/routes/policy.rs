//! The policy in force, as JSON: what is collected, why, and on what legal basis.

use crate::error::ApiError;
use crate::extract::AuthCaller;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use ward_core::authz::Operation;
use ward_core::policy::{Category, FieldDef, Operator, Purpose};
use ward_core::ProblemCode;
use ward_core::{FieldType, Policy};

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[("get_policy", &[])];

/// The policy in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyBody {
    /// The operator's stable id for the policy.
    pub id: String,
    /// The operator's label for this version.
    pub version: String,
    /// Hex SHA-256 of the policy file: the version's content hash.
    pub hash: String,
    /// ISO 3166 region for phone numbers written without a country code.
    pub default_region: String,
    pub operator: OperatorBody,
    /// Category name → category.
    pub categories: BTreeMap<String, CategoryBody>,
    /// Field name → field.
    pub fields: BTreeMap<String, FieldBody>,
    /// Purpose name → purpose.
    pub purposes: BTreeMap<String, PurposeBody>,
}

/// Who processes the data.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorBody {
    pub name: String,
    pub address: Option<String>,
    pub contact_email: Option<String>,
}

/// A category of personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryBody {
    pub title: String,
    pub description: Option<String>,
    /// A special category (152-FZ Art. 10, GDPR Art. 9).
    pub special: bool,
}

/// A field a subject can have.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldBody {
    pub title: String,
    /// `email`, `phone`, `date`, `text` or `ip`.
    #[serde(rename = "type")]
    pub field_type: String,
    /// For `text`: the most characters a value may have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    pub category: String,
    /// Whether subjects can be found by this field (`POST /v1/subjects/lookup`).
    pub lookup: bool,
    /// Whether a subject registered under a purpose that needs it must have it (and may not
    /// have it removed).
    pub required: bool,
    /// The purposes whose collection needs it; absent when `required` means every purpose
    /// that uses the field's category.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub required_for: Vec<String>,
}

/// A purpose of processing.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeBody {
    pub title: String,
    pub description: Option<String>,
    /// `consent`, `contract`, `legal_obligation`, `vital_interests`, `public_task` or
    /// `legitimate_interests`.
    pub legal_basis: String,
    /// The 152-FZ Art. 6 p. 1 item cited.
    pub fz152_item: String,
    /// The GDPR Art. 6(1) point of the legal basis (`a` to `f`).
    pub gdpr_point: String,
    /// Categories of data the purpose may use.
    pub categories: Vec<String>,
    /// The processing actions (152-FZ Art. 3 item 3) the purpose covers.
    pub actions: Vec<String>,
}

impl PolicyBody {
    pub(crate) fn new(policy: &Policy, hash: &str) -> Self {
        Self {
            id: policy.id.clone(),
            version: policy.version.clone(),
            hash: hash.to_owned(),
            default_region: policy.default_region.clone(),
            operator: (&policy.operator).into(),
            categories: policy.categories.iter().map(|(n, c)| (n.clone(), c.into())).collect(),
            fields: policy.fields.iter().map(|(n, f)| (n.clone(), f.into())).collect(),
            purposes: policy.purposes.iter().map(|(n, p)| (n.clone(), p.into())).collect(),
        }
    }
}

impl From<&Operator> for OperatorBody {
    fn from(o: &Operator) -> Self {
        Self {
            name: o.name.clone(),
            address: o.address.clone(),
            contact_email: o.contact_email.clone(),
        }
    }
}

impl From<&Category> for CategoryBody {
    fn from(c: &Category) -> Self {
        Self {
            title: c.title.clone(),
            description: c.description.clone(),
            special: c.special,
        }
    }
}

impl From<&FieldDef> for FieldBody {
    fn from(f: &FieldDef) -> Self {
        let max_length = match f.field_type {
            FieldType::Text { max_length } => Some(max_length),
            _ => None,
        };
        Self {
            title: f.title.clone(),
            field_type: f.field_type.name().to_owned(),
            max_length,
            category: f.category.clone(),
            lookup: f.lookup,
            required: f.required,
            required_for: f.required_for.iter().cloned().collect(),
        }
    }
}

impl From<&Purpose> for PurposeBody {
    fn from(p: &Purpose) -> Self {
        Self {
            title: p.title.clone(),
            description: p.description.clone(),
            legal_basis: p.legal_basis.as_str().to_owned(),
            fz152_item: p.fz152_item.clone(),
            gdpr_point: p.legal_basis.gdpr_point().to_owned(),
            categories: p.categories.iter().cloned().collect(),
            actions: p.actions.iter().map(|a| a.as_str().to_owned()).collect(),
        }
    }
}

/// The policy in force: categories, fields, purposes with their legal bases and actions.
#[utoipa::path(get, path = "/v1/policy", tag = "policy", responses((status = 200, description = "The policy in force", body = PolicyBody)))]
pub(crate) async fn get_policy(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
) -> Result<Json<PolicyBody>, ApiError> {
    state.vault.authorize(&caller, Operation::PolicyRead)?;
    Ok(Json(PolicyBody::new(
        &state.vault.policies().current(),
        &state.vault.policies().current_hash(),
    )))
}
