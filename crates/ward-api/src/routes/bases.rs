//! A subject's legal bases other than consent: recording a basis event (a contract concluded
//! or ended, an obligation triggered, an objection, overriding grounds) and the overview of
//! where the subject stands on each such purpose, with what an ended basis leaves due for
//! destruction.

use crate::error::ApiError;
use crate::extract::{subject_id, ApiPath, AuthCaller, JsonBody};
use crate::routes::consents::DestructionBody;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use ward_core::basis::{BasisEventKind, BasisEvidence};
use ward_core::ProblemCode;
use ward_vault::{BasisEventView, BasisInput, BasisStatus};

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    (
        "list_bases",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "record_basis",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::UnknownPurpose,
            ProblemCode::PurposeNotAllowedForKey,
            ProblemCode::Forbidden,
            ProblemCode::BasisEventNotApplicable,
            ProblemCode::InvalidEvidence,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
];

#[derive(Debug, Deserialize)]
pub(crate) struct SubjectPath {
    id: String,
}

/// What shows the event. Stored encrypted with the subject's key; the journal records only
/// the purpose and the kind.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BasisEvidenceBody {
    /// A contract or order number, a transaction id, the assessment's reference, a court order.
    #[schema(example = "order 2026-000123")]
    pub reference: String,
    /// Free text: what ended the contract, the officer's overriding grounds.
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /v1/subjects/{id}/bases`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordBasisRequest {
    /// A purpose whose legal basis is not consent.
    #[schema(example = "accounting")]
    pub purpose: String,
    /// `established` (a contract concluded, an obligation triggered, a legitimate interest,
    /// vital interests, a legal duty), `ended`, `objected` (to a legitimate interest) or
    /// `overridden` (the officer's overriding grounds after an objection; admin keys only).
    #[schema(value_type = String, example = "established")]
    pub kind: BasisEventKind,
    /// For `established`: when the basis began, RFC 3339 (an obligation's retention runs
    /// from it, e.g. the payment's date); default now; not in the future.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, example = "2026-11-30T12:00:00Z")]
    pub start: Option<OffsetDateTime>,
    pub evidence: BasisEvidenceBody,
}

impl From<RecordBasisRequest> for BasisInput {
    fn from(body: RecordBasisRequest) -> Self {
        BasisInput {
            purpose: body.purpose,
            kind: body.kind,
            start: body.start,
            evidence: BasisEvidence {
                reference: body.evidence.reference,
                note: body.evidence.note,
            },
        }
    }
}

/// Where a subject stands on one purpose not resting on consent.
#[derive(Debug, Serialize, ToSchema)]
pub struct BasisBody {
    pub purpose: String,
    /// `contract`, `legal_obligation`, `vital_interests`, `public_task` or
    /// `legitimate_interests`.
    pub legal_basis: String,
    /// What establishes it: `collection` or `event`.
    pub established_by: String,
    /// `established`, `ended`, `objected`, `expired` (an obligation's retention ran out) or
    /// `not_established`.
    pub state: String,
    /// When the current state began (RFC 3339).
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    /// For an obligation with a retention period: when it runs out (RFC 3339).
    #[serde(with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
    /// After it ended: data no purpose still holding needs, due for destruction (152-FZ
    /// Art. 21 p. 4: within 30 days).
    pub destruction: Option<DestructionBody>,
}

impl From<BasisStatus> for BasisBody {
    fn from(s: BasisStatus) -> Self {
        Self {
            purpose: s.purpose,
            legal_basis: s.legal_basis.as_str().to_owned(),
            established_by: s.established_by.as_str().to_owned(),
            state: s.state.as_str().to_owned(),
            since: s.since,
            until: s.until,
            destruction: s.destruction.map(Into::into),
        }
    }
}

/// One recorded basis event (its evidence stays sealed).
#[derive(Debug, Serialize, ToSchema)]
pub struct BasisEventBody {
    pub purpose: String,
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
}

impl From<BasisEventView> for BasisEventBody {
    fn from(e: BasisEventView) -> Self {
        Self {
            purpose: e.purpose,
            kind: e.kind.as_str().to_owned(),
            at: e.at,
            start: e.start,
        }
    }
}

/// A subject's standing on every purpose not resting on consent, and the events behind it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BasisList {
    pub bases: Vec<BasisBody>,
    pub events: Vec<BasisEventBody>,
}

/// The subject's standing on every purpose not resting on consent: established, ended,
/// objected, expired or not established, with what an ended basis leaves due for destruction.
#[utoipa::path(
    get,
    path = "/v1/subjects/{id}/bases",
    tag = "bases",
    params(("id" = uuid::Uuid, Path, description = "The subject's id")),
    responses((status = 200, description = "The legal bases overview", body = BasisList)),
)]
pub(crate) async fn list_bases(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
) -> Result<Json<BasisList>, ApiError> {
    let id = subject_id(&path.id)?;
    let (bases, events) = state.vault.bases().overview(&caller, id).await?;
    Ok(Json(BasisList {
        bases: bases.into_iter().map(Into::into).collect(),
        events: events.into_iter().map(Into::into).collect(),
    }))
}

/// Records a basis event for a purpose not resting on consent, with its evidence. Answers
/// the subject's new standing on that purpose.
#[utoipa::path(
    post,
    path = "/v1/subjects/{id}/bases",
    tag = "bases",
    params(("id" = uuid::Uuid, Path, description = "The subject's id")),
    request_body(content = RecordBasisRequest, content_type = "application/json"),
    responses((status = 201, description = "Recorded: the subject's standing on the purpose", body = BasisBody)),
)]
pub(crate) async fn record_basis(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
    JsonBody(body): JsonBody<RecordBasisRequest>,
) -> Result<(axum::http::StatusCode, Json<BasisBody>), ApiError> {
    let id = subject_id(&path.id)?;
    let status = state.vault.bases().record(&caller, id, body.into()).await?;
    Ok((axum::http::StatusCode::CREATED, Json(status.into())))
}
