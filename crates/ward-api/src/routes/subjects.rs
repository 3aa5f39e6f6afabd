//! Subjects: registration, purpose-bound reads and lookups, rectification, erasure.

use super::consents::EvidenceBody;
use crate::error::{ApiError, FieldError};
use crate::extract::{subject_id, ApiPath, ApiQuery, AuthCaller, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use ward_core::ProblemCode;
use ward_core::ValueError;
use ward_vault::{destruction_reason, DestructionRequest, NewSubjectInput, SubjectView};

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    (
        "create_subject",
        &[
            ProblemCode::UnknownPurpose,
            ProblemCode::PurposeNotAllowedForKey,
            ProblemCode::ActionNotCovered,
            ProblemCode::ConsentNotApplicable,
            ProblemCode::ConsentMissing,
            ProblemCode::BasisNotEstablished,
            ProblemCode::BasisEventNotApplicable,
            ProblemCode::Forbidden,
            ProblemCode::InvalidEvidence,
            ProblemCode::InvalidFields,
            ProblemCode::GuardianConsentRequired,
            ProblemCode::BelowMinimumAge,
            ProblemCode::InvalidAgeBand,
            ProblemCode::WrittenConsentRequired,
            ProblemCode::SignatureRequired,
            ProblemCode::InvalidSignature,
            ProblemCode::SignatureNotValid,
            ProblemCode::DistributionTermsRequired,
            ProblemCode::InvalidDistributionTerms,
            ProblemCode::SeparateConsentRequired,
            ProblemCode::DuplicateValue,
            ProblemCode::Conflict,
        ],
    ),
    (
        "read_subject",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::InvalidQuery,
            ProblemCode::PurposeRequired,
            ProblemCode::UnknownPurpose,
            ProblemCode::PurposeNotAllowedForKey,
            ProblemCode::ActionNotCovered,
            ProblemCode::ConsentMissing,
            ProblemCode::BasisNotEstablished,
            ProblemCode::ConsentScopeExceeded,
            ProblemCode::CategoryNotAllowed,
            ProblemCode::UnknownField,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
            ProblemCode::SubjectBlocked,
            ProblemCode::Forbidden,
        ],
    ),
    (
        "lookup_subjects",
        &[
            ProblemCode::UnknownPurpose,
            ProblemCode::PurposeNotAllowedForKey,
            ProblemCode::ActionNotCovered,
            ProblemCode::UnknownField,
            ProblemCode::FieldNotSearchable,
            ProblemCode::CategoryNotAllowed,
            ProblemCode::InvalidFields,
        ],
    ),
    (
        "rectify_subject",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::InvalidQuery,
            ProblemCode::PurposeRequired,
            ProblemCode::EmptyChange,
            ProblemCode::InvalidFields,
            ProblemCode::UnknownPurpose,
            ProblemCode::PurposeNotAllowedForKey,
            ProblemCode::ActionNotCovered,
            ProblemCode::ConsentMissing,
            ProblemCode::BasisNotEstablished,
            ProblemCode::CategoryNotAllowed,
            ProblemCode::ConsentScopeExceeded,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
            ProblemCode::Conflict,
            ProblemCode::DuplicateValue,
        ],
    ),
    (
        "erase_subject",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::InvalidQuery,
            ProblemCode::ReasonRequired,
            ProblemCode::UnknownReason,
            ProblemCode::Forbidden,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
            ProblemCode::Conflict,
        ],
    ),
    (
        "destroy_subject_data",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::ReasonRequired,
            ProblemCode::UnknownReason,
            ProblemCode::EmptyChange,
            ProblemCode::UnknownCategory,
            ProblemCode::UnknownField,
            ProblemCode::Forbidden,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
            ProblemCode::Conflict,
        ],
    ),
];

/// `POST /v1/subjects`: registers a subject, collecting its fields for a purpose.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubjectRequest {
    /// The purpose of collection.
    #[schema(example = "registration")]
    pub purpose: String,
    /// Field name → value. Every value is a JSON string, parsed by the field's type in the
    /// policy (emails are lower-cased, phone numbers become E.164).
    #[schema(value_type = BTreeMap<String, String>)]
    pub fields: BTreeMap<String, Value>,
    /// Consent-based purposes the subject consents to at collection.
    #[serde(default)]
    pub consents: Vec<String>,
    /// An age band the subject declared instead of a birth date (`"16-17"`, `"18+"`); the
    /// age rules apply to its lower bound.
    #[serde(default)]
    pub age_band: Option<String>,
    /// How the data (and the consents) were obtained. Required when `consents` is not empty;
    /// otherwise the channel defaults to `api`.
    #[serde(default)]
    pub evidence: Option<EvidenceBody>,
    /// Basis events recorded with the registration, in the same transaction, each as the body
    /// of `POST /v1/subjects/{id}/bases` (e.g. the contract concluded at checkout: `{"purpose":
    /// "payment", "kind": "established", "evidence": {"reference": "order 42"}}`). Collection
    /// may be under a purpose one of them establishes (`established_by = "event"`).
    #[serde(default)]
    pub bases: Vec<super::bases::RecordBasisRequest>,
}

/// The id of a newly registered subject.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSubject {
    pub id: Uuid,
}

/// A subject as a purpose may see it: only the fields whose category the purpose uses.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectBody {
    pub id: Uuid,
    pub purpose: String,
    /// Field name → value, for the fields the subject has and the purpose may see.
    pub fields: BTreeMap<String, String>,
}

impl From<SubjectView> for SubjectBody {
    fn from(v: SubjectView) -> Self {
        Self {
            id: v.id.as_uuid(),
            purpose: v.purpose,
            fields: v.fields,
        }
    }
}

/// The query of a purpose-bound read or change.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadQuery {
    /// The purpose of the operation (required).
    #[param(required = true, example = "registration")]
    pub purpose: Option<String>,
    /// Comma-separated field names to return (default: every field the purpose may see).
    /// Asking for a field the purpose may not see is refused, not silently dropped.
    #[param(example = "email,phone")]
    pub fields: Option<String>,
    /// `true`: a read for verification (officer and admin only), which blocks on the
    /// subject's data do not refuse; journaled as such.
    pub verification: Option<bool>,
}

/// The query of a purpose-bound change.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PurposeQuery {
    /// The purpose of the operation (required).
    #[param(required = true, example = "registration")]
    pub purpose: Option<String>,
}

/// `POST /v1/subjects/lookup`: finds subjects by a lookup field. The value travels in the
/// body, so it never appears in a URL or an access log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    /// A field with `lookup = true` in the policy.
    #[schema(example = "email")]
    pub field: String,
    /// The value to look for, normalised like a stored value.
    pub value: String,
    /// The purpose of the lookup.
    #[schema(example = "marketing")]
    pub purpose: String,
}

/// The subjects found, as the purpose may see them.
#[derive(Debug, Serialize, ToSchema)]
pub struct LookupResult {
    pub subjects: Vec<SubjectBody>,
}

/// `PATCH /v1/subjects/{id}`: rectification.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectifyRequest {
    /// Field name → new value (a string), or `null` to remove the field.
    #[schema(value_type = BTreeMap<String, Option<String>>)]
    pub fields: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SubjectPath {
    id: String,
}

fn purpose_of(purpose: Option<String>) -> Result<String, ApiError> {
    purpose.filter(|p| !p.trim().is_empty()).ok_or_else(|| {
        ApiError::new(
            ProblemCode::PurposeRequired,
            "name the purpose of this operation: `?purpose=...`",
        )
    })
}

/// Field values that must be strings; anything else is reported by field name.
pub(crate) fn string_fields(raw: BTreeMap<String, Value>) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, value) in raw {
        match value {
            Value::String(s) => {
                out.insert(name, s);
            }
            _ => problems.push(FieldError::new(name, ValueError::NotAString.to_string())),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::invalid_fields(problems))
    }
}

/// Changes: a string sets, `null` removes, anything else is reported by field name.
fn field_changes(raw: BTreeMap<String, Value>) -> Result<BTreeMap<String, Option<String>>, ApiError> {
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, value) in raw {
        match value {
            Value::String(s) => {
                out.insert(name, Some(s));
            }
            Value::Null => {
                out.insert(name, None);
            }
            _ => problems.push(FieldError::new(name, "expected a string, or null to remove the field")),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::invalid_fields(problems))
    }
}

/// Registers a subject: collects its fields for a purpose and records the consents given.
#[utoipa::path(
    post,
    path = "/v1/subjects",
    tag = "subjects",
    request_body(content = CreateSubjectRequest, content_type = "application/json"),
    responses((
        status = 201,
        description = "The subject is registered",
        body = CreatedSubject,
        headers(("Location" = String, description = "`/v1/subjects/{id}`")),
    )),
)]
pub(crate) async fn create_subject(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<CreateSubjectRequest>,
) -> Result<Response, ApiError> {
    let fields = string_fields(body.fields)?;
    let input = NewSubjectInput {
        age_band: body.age_band,
        purpose: body.purpose,
        fields,
        consents: body.consents,
        evidence: body.evidence.map(Into::into),
        bases: body.bases.into_iter().map(Into::into).collect(),
    };
    let id = state.vault.subjects().create(&caller, input).await?;
    let location = HeaderValue::try_from(format!("/v1/subjects/{id}")).map_err(|_| ApiError::internal())?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(CreatedSubject { id: id.as_uuid() }),
    )
        .into_response())
}

/// A purpose-bound read: the fields the purpose may see. Answers after the read is journaled.
#[utoipa::path(
    get,
    path = "/v1/subjects/{id}",
    tag = "subjects",
    params(("id" = Uuid, Path, description = "The subject's id"), ReadQuery),
    responses((status = 200, description = "The subject, as the purpose may see it", body = SubjectBody)),
)]
pub(crate) async fn read_subject(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<SubjectBody>, ApiError> {
    let id = subject_id(&path.id)?;
    let purpose = purpose_of(query.purpose)?;
    let requested: Option<Vec<String>> = query
        .fields
        .map(|f| {
            f.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|f| !f.is_empty());
    let subjects = state.vault.subjects();
    let view = if query.verification == Some(true) {
        subjects
            .read_for_verification(&caller, id, &purpose, requested.as_deref())
            .await?
    } else {
        subjects.read(&caller, id, &purpose, requested.as_deref()).await?
    };
    Ok(Json(view.into()))
}

/// Finds subjects by a lookup field's value, for a purpose. The field's category must be one
/// the purpose may use (`403 category_not_allowed`, whatever the data holds). Each match
/// carries only the fields the purpose may see; a subject the purpose may not see (no
/// consent, for instance) is answered exactly as no match, `200` with no subjects.
#[utoipa::path(
    post,
    path = "/v1/subjects/lookup",
    tag = "subjects",
    request_body(content = LookupRequest, content_type = "application/json"),
    responses((status = 200, description = "The subjects found (possibly none)", body = LookupResult)),
)]
pub(crate) async fn lookup_subjects(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<LookupRequest>,
) -> Result<Json<LookupResult>, ApiError> {
    let found = state
        .vault
        .subjects()
        .find(&caller, &body.field, &body.value, &body.purpose)
        .await?;
    Ok(Json(LookupResult {
        subjects: found.into_iter().map(Into::into).collect(),
    }))
}

/// Rectifies fields for a purpose: a string sets a field, `null` removes it.
#[utoipa::path(
    patch,
    path = "/v1/subjects/{id}",
    tag = "subjects",
    params(("id" = Uuid, Path, description = "The subject's id"), PurposeQuery),
    request_body(content = RectifyRequest, content_type = "application/json"),
    responses((status = 204, description = "The fields are changed")),
)]
pub(crate) async fn rectify_subject(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
    ApiQuery(query): ApiQuery<PurposeQuery>,
    JsonBody(body): JsonBody<RectifyRequest>,
) -> Result<StatusCode, ApiError> {
    let id = subject_id(&path.id)?;
    let purpose = purpose_of(query.purpose)?;
    let changes = field_changes(body.fields)?;
    state.vault.subjects().rectify(&caller, id, &purpose, &changes).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The query of an erasure.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EraseQuery {
    /// Why the subject is erased (required): `subject_request`, `consent_withdrawn`,
    /// `purpose_achieved`, `retention_expired`, `unlawful_processing` or `authority_order`.
    /// Journaled as it is: the reason is a name, never free text.
    #[param(required = true, example = "subject_request")]
    pub reason: Option<String>,
}

/// Erases the subject by crypto-shredding: its data key is destroyed with its ciphertexts,
/// index entries and consent evidence, and the journal records the reason. Later requests
/// for it get `410 subject_erased`. Allowed to admins and the officer, and to service keys
/// whose purposes together cover destruction of every category the subject's record holds.
/// The erasure's destruction act (RKN Order No. 179) is written with it; `Location` names it.
/// While an established legal obligation requires some categories, retention wins over
/// erasure: the rest is destroyed, the held categories are blocked (`legal_hold`) and erased
/// by the destruction job once the hold ends, and the answer is `200` naming them.
#[utoipa::path(
    delete,
    path = "/v1/subjects/{id}",
    tag = "subjects",
    params(("id" = Uuid, Path, description = "The subject's id"), EraseQuery),
    responses(
        (status = 204, description = "The subject is erased", headers(("Location" = String, description = "The erasure's destruction act"))),
        (status = 200, description = "Erased but for the categories a legal obligation keeps, now blocked", body = ErasureBody, headers(("Location" = String, description = "The erasure's destruction act"))),
    ),
)]
pub(crate) async fn erase_subject(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
    ApiQuery(query): ApiQuery<EraseQuery>,
) -> Result<Response, ApiError> {
    let id = subject_id(&path.id)?;
    let reason = destruction_reason(query.reason.as_deref())?;
    let erasure = state.vault.subjects().erase(&caller, id, reason).await?;
    let location = HeaderValue::from_str(&format!("/v1/destruction-acts/{}", erasure.act))
        .map_err(|_| ApiError::new(ProblemCode::InternalError, "an act id that is no header value"))?;
    if erasure.withheld.is_empty() {
        return Ok((StatusCode::NO_CONTENT, [(header::LOCATION, location)]).into_response());
    }
    let body = ErasureBody {
        act: erasure.act.to_string(),
        block: erasure.block.map(|b| b.to_string()),
        withheld: erasure
            .withheld
            .into_iter()
            .map(|w| WithheldBody {
                category: w.category,
                purposes: w.purposes,
                until: w.until,
            })
            .collect(),
    };
    Ok((StatusCode::OK, [(header::LOCATION, location)], Json(body)).into_response())
}

/// An erasure under a legal hold: what was kept, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureBody {
    /// The destruction act (`GET /v1/destruction-acts/{act}`).
    pub act: String,
    /// The block (`legal_hold`) on the withheld categories.
    pub block: Option<String>,
    pub withheld: Vec<WithheldBody>,
}

/// A category an erasure kept because a legal obligation requires it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WithheldBody {
    pub category: String,
    /// The purposes on a legal obligation that require it (e.g. `accounting`).
    pub purposes: Vec<String>,
    /// When the last of their retention periods ends (RFC 3339), if known.
    #[serde(with = "time::serde::rfc3339::option")]
    pub until: Option<time::OffsetDateTime>,
}

/// `POST /v1/subjects/{id}/destruction`: destroys categories (or fields) of a subject.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DestructionBody {
    /// Categories of the policy: every field of each is destroyed.
    #[serde(default)]
    #[schema(example = json!(["technical"]))]
    pub categories: Vec<String>,
    /// Single fields to destroy besides the categories' fields.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Why (required): one of the erasure's reasons, e.g. `consent_withdrawn`.
    #[schema(example = "consent_withdrawn")]
    pub reason: Option<String>,
}

/// What was destroyed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DestroyedBody {
    /// The fields the subject had that are gone now.
    pub fields: Vec<String>,
    /// The categories concerned.
    pub categories: Vec<String>,
    /// The destruction act written with it (`GET /v1/destruction-acts/{act}`).
    pub act: String,
}

/// Destroys named categories (or fields) of a subject who stays: the fields leave the sealed
/// record and their lookup index in one transaction with the journal entry (action
/// `destruction`, with the categories and the reason). Allowed to admins and the officer, and
/// to service keys whose purposes cover destruction of every category named.
#[utoipa::path(
    post,
    path = "/v1/subjects/{id}/destruction",
    tag = "subjects",
    params(("id" = Uuid, Path, description = "The subject's id")),
    request_body(content = DestructionBody, content_type = "application/json"),
    responses((status = 200, description = "Destroyed", body = DestroyedBody)),
)]
pub(crate) async fn destroy_subject_data(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
    JsonBody(body): JsonBody<DestructionBody>,
) -> Result<Json<DestroyedBody>, ApiError> {
    let id = subject_id(&path.id)?;
    let request = DestructionRequest {
        categories: body.categories,
        fields: body.fields,
        reason: destruction_reason(body.reason.as_deref())?,
    };
    let done = state.vault.subjects().destroy(&caller, id, &request).await?;
    Ok(Json(DestroyedBody {
        fields: done.fields,
        categories: done.categories,
        act: done.act.to_string(),
    }))
}
