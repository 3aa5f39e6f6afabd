//! A subject's life-cycle beside consent: policy versions they were told of and accepted
//! (acceptance is never consent), the per-version tally, and a recorded death (after which
//! heirs consent, 152-FZ Art. 9 p. 7).

use crate::error::ApiError;
use crate::extract::{subject_id, ApiPath, AuthCaller, JsonBody};
use crate::routes::policy_versions::VersionPath;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use ward_core::lifecycle::SubjectEventKind;
use ward_core::ProblemCode;
use ward_vault::{Death, PolicyNotice, PolicyStanding};

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    (
        "list_policy_notices",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "record_policy_notice",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::Forbidden,
            ProblemCode::InvalidNotice,
            ProblemCode::PolicyVersionNotFound,
            ProblemCode::AmbiguousPolicyVersion,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "policy_acknowledgements",
        &[
            ProblemCode::Forbidden,
            ProblemCode::InvalidPath,
            ProblemCode::PolicyVersionNotFound,
            ProblemCode::AmbiguousPolicyVersion,
        ],
    ),
    (
        "record_death",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::Forbidden,
            ProblemCode::InvalidDeathRecord,
            ProblemCode::Conflict,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "get_death",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::Forbidden,
            ProblemCode::DeathNotRecorded,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
];

#[derive(Debug, Deserialize)]
pub(crate) struct SubjectPath {
    id: String,
}

/// What happened: the subject was told of a version, or accepted it.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Notified,
    Accepted,
}

/// `POST /v1/subjects/{id}/policy-notices`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyNoticeRequest {
    pub kind: NoticeKind,
    /// The version's hash (or a unique prefix of at least 8 characters); default: the
    /// version in force.
    #[serde(default)]
    pub version: Option<String>,
    /// How: `email`, `sms`, `banner`, `letter`, `continued_use`, ...
    #[schema(example = "email")]
    pub channel: String,
    /// What was sent or shown: a message id, a document number.
    #[serde(default)]
    pub reference: Option<String>,
}

/// When something happened, and how.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeEventBody {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub channel: String,
}

/// The subject's standing on one policy version.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyStandingBody {
    pub hash: String,
    pub version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub effective_at: OffsetDateTime,
    /// The version in force now.
    pub in_force: bool,
    /// When the subject was first told of it.
    pub notified: Option<NoticeEventBody>,
    /// When the subject first accepted it. Acceptance is not consent: purposes the version
    /// added or widened on consent still need the subject's consent.
    pub accepted: Option<NoticeEventBody>,
}

impl From<PolicyStanding> for PolicyStandingBody {
    fn from(s: PolicyStanding) -> Self {
        let ev = |e: Option<(OffsetDateTime, String)>| e.map(|(at, channel)| NoticeEventBody { at, channel });
        Self {
            hash: s.hash,
            version: s.version,
            effective_at: s.effective_at,
            in_force: s.in_force,
            notified: ev(s.notified),
            accepted: ev(s.accepted),
        }
    }
}

/// Every published version, with when the subject was told of it and accepted it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyNoticeList {
    pub versions: Vec<PolicyStandingBody>,
}

/// The policy versions the subject was told of and accepted.
#[utoipa::path(
    get,
    path = "/v1/subjects/{id}/policy-notices",
    tag = "policy",
    params(("id" = uuid::Uuid, Path, description = "The subject's id")),
    responses((status = 200, description = "Every version, with notice and acceptance", body = PolicyNoticeList)),
)]
pub(crate) async fn list_policy_notices(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
) -> Result<Json<PolicyNoticeList>, ApiError> {
    let id = subject_id(&path.id)?;
    let versions = state.vault.lifecycle().policy_standing(&caller, id).await?;
    Ok(Json(PolicyNoticeList {
        versions: versions.into_iter().map(Into::into).collect(),
    }))
}

/// Records that the subject was told of a policy version, or accepted it (admin). Never
/// consent: see `POST /v1/subjects/{id}/consents` for that.
#[utoipa::path(
    post,
    path = "/v1/subjects/{id}/policy-notices",
    tag = "policy",
    params(("id" = uuid::Uuid, Path, description = "The subject's id")),
    request_body(content = PolicyNoticeRequest, content_type = "application/json"),
    responses((status = 204, description = "Recorded")),
)]
pub(crate) async fn record_policy_notice(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
    JsonBody(body): JsonBody<PolicyNoticeRequest>,
) -> Result<StatusCode, ApiError> {
    let id = subject_id(&path.id)?;
    let notice = PolicyNotice {
        kind: match body.kind {
            NoticeKind::Notified => SubjectEventKind::PolicyNotified,
            NoticeKind::Accepted => SubjectEventKind::PolicyAccepted,
        },
        version: body.version,
        channel: body.channel,
        reference: body.reference,
    };
    state
        .vault
        .lifecycle()
        .record_policy_notice(&caller, id, notice)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many subjects were told of a version and accepted it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcknowledgementsBody {
    pub hash: String,
    /// Distinct subjects told of it.
    pub notified: u64,
    /// Distinct subjects who accepted it.
    pub accepted: u64,
    /// Subjects not erased, now.
    pub active_subjects: u64,
}

/// Who was told of a version and who accepted it (admin).
#[utoipa::path(
    get,
    path = "/v1/policy/versions/{hash}/acknowledgements",
    tag = "policy",
    params(("hash" = String, Path, description = "The version's content hash, or a unique prefix of at least 8 characters")),
    responses((status = 200, description = "The tally", body = AcknowledgementsBody)),
)]
pub(crate) async fn policy_acknowledgements(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<VersionPath>,
) -> Result<Json<AcknowledgementsBody>, ApiError> {
    let summary = state
        .vault
        .lifecycle()
        .policy_acknowledgements(&caller, &path.hash)
        .await?;
    let hash = state.vault.policies().find(&path.hash)?.hash.clone();
    Ok(Json(AcknowledgementsBody {
        hash,
        notified: summary.counts.notified,
        accepted: summary.counts.accepted,
        active_subjects: summary.active_subjects,
    }))
}

/// `POST /v1/subjects/{id}/death`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeathRequest {
    /// `YYYY-MM-DD`, not in the future.
    #[schema(example = "2026-10-01")]
    pub date_of_death: String,
    /// The death certificate: number, date, issuer.
    pub document: String,
}

/// A recorded death.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeathBody {
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    pub date_of_death: Option<String>,
    pub document: Option<String>,
}

impl From<Death> for DeathBody {
    fn from(d: Death) -> Self {
        Self {
            recorded_at: d.recorded_at,
            date_of_death: d.date_of_death,
            document: d.document,
        }
    }
}

/// Records the subject's death (admin). Consents given in life stand; new ones must come
/// from heirs (152-FZ Art. 9 p. 7).
#[utoipa::path(
    post,
    path = "/v1/subjects/{id}/death",
    tag = "subjects",
    params(("id" = uuid::Uuid, Path, description = "The subject's id")),
    request_body(content = DeathRequest, content_type = "application/json"),
    responses((status = 201, description = "Recorded", body = DeathBody)),
)]
pub(crate) async fn record_death(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
    JsonBody(body): JsonBody<DeathRequest>,
) -> Result<(StatusCode, Json<DeathBody>), ApiError> {
    let id = subject_id(&path.id)?;
    let death = state
        .vault
        .lifecycle()
        .record_death(&caller, id, &body.date_of_death, &body.document)
        .await?;
    Ok((StatusCode::CREATED, Json(death.into())))
}

/// The subject's recorded death (admin).
#[utoipa::path(
    get,
    path = "/v1/subjects/{id}/death",
    tag = "subjects",
    params(("id" = uuid::Uuid, Path, description = "The subject's id")),
    responses((status = 200, description = "The record", body = DeathBody)),
)]
pub(crate) async fn get_death(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
) -> Result<Json<DeathBody>, ApiError> {
    if !caller.is_admin() {
        return Err(ApiError::admin_only());
    }
    let id = subject_id(&path.id)?;
    match state.vault.lifecycle().death(&caller, id).await? {
        Some(d) => Ok(Json(d.into())),
        None => Err(ApiError::new(
            ProblemCode::DeathNotRecorded,
            "no death is recorded for this subject",
        )),
    }
}
