//! Data-subject requests (issue 19): intake (the website on the signed-in subject's behalf,
//! the officer, a representative through the officer, the subject through the portal), the
//! register with its overdue and due-within filters, and the workflow's steps (officer and
//! admin). Every step is journaled with its message to the subject queued in the same
//! transaction; free text is sealed under the subject's key. See docs/requests.md.

pub use super::request_bodies::*;
use crate::error::ApiError;
use crate::extract::{subject_id, ApiPath, ApiQuery, AuthCaller, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use ward_core::deadline::Regime;
use ward_core::request::{Channel, RequestKind, RequestState};
use ward_core::{DownloadId, ProblemCode, RequestId};
use ward_vault::requests::{
    extension_reason, refusal_reason, AuthorityDocument, Completion, Decision, Details, Intake, ListQuery,
};

const STEP: &[ProblemCode] = &[
    ProblemCode::InvalidRequestId,
    ProblemCode::InvalidPath,
    ProblemCode::Forbidden,
    ProblemCode::RequestNotFound,
    ProblemCode::RequestTransitionInvalid,
    ProblemCode::SubjectNotFound,
    ProblemCode::SubjectErased,
];

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    (
        "file_request",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::UnknownRequestKind,
            ProblemCode::UnknownChannel,
            ProblemCode::UnknownRegime,
            ProblemCode::InvalidReceived,
            ProblemCode::Forbidden,
            ProblemCode::ChannelNotAllowed,
            ProblemCode::RequestDetailsRequired,
            ProblemCode::UnknownField,
            ProblemCode::UnknownPurpose,
            ProblemCode::UnknownCategory,
            ProblemCode::CalendarMissing,
            ProblemCode::NoDeadline,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "list_requests",
        &[
            ProblemCode::InvalidQuery,
            ProblemCode::InvalidCursor,
            ProblemCode::InvalidFilter,
            ProblemCode::InvalidSubjectId,
            ProblemCode::UnknownRequestKind,
            ProblemCode::Forbidden,
        ],
    ),
    (
        "get_request",
        &[
            ProblemCode::InvalidRequestId,
            ProblemCode::InvalidPath,
            ProblemCode::Forbidden,
            ProblemCode::RequestNotFound,
        ],
    ),
    ("pause_request", STEP),
    ("resume_request", STEP),
    ("verify_request", STEP),
    (
        "extend_request",
        &[
            ProblemCode::InvalidRequestId,
            ProblemCode::InvalidPath,
            ProblemCode::Forbidden,
            ProblemCode::ReasonRequired,
            ProblemCode::UnknownReason,
            ProblemCode::RequestNotFound,
            ProblemCode::RequestTransitionInvalid,
            ProblemCode::RequestAlreadyExtended,
            ProblemCode::ExtensionAfterDueDate,
            ProblemCode::ExtensionNotAllowed,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "refuse_request",
        &[
            ProblemCode::InvalidRequestId,
            ProblemCode::InvalidPath,
            ProblemCode::Forbidden,
            ProblemCode::ReasonRequired,
            ProblemCode::UnknownReason,
            ProblemCode::CitationRequired,
            ProblemCode::RequestDetailsRequired,
            ProblemCode::RequestNotFound,
            ProblemCode::RequestTransitionInvalid,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "complete_request",
        &[
            ProblemCode::InvalidRequestId,
            ProblemCode::InvalidPath,
            ProblemCode::InvalidJson,
            ProblemCode::Forbidden,
            ProblemCode::UnknownReason,
            ProblemCode::UnknownPurpose,
            ProblemCode::RequestDetailsRequired,
            ProblemCode::RequestNotFound,
            ProblemCode::RequestTransitionInvalid,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
            ProblemCode::InvalidFields,
            ProblemCode::UnknownField,
            ProblemCode::UnknownCategory,
            ProblemCode::PurposeNotAllowedForKey,
            ProblemCode::ActionNotCovered,
            ProblemCode::CategoryNotAllowed,
            ProblemCode::DuplicateValue,
            ProblemCode::Conflict,
        ],
    ),
];

fn request_id(raw: &str) -> Result<RequestId, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            ProblemCode::InvalidRequestId,
            "the request id in the path is not a UUID",
        )
    })
}

fn named<T: std::str::FromStr>(raw: &str, code: ProblemCode, what: &str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::new(code, format!("`{what}` is not one of its names; see the schema")))
}

/// `2d`, `1w` or a number of days.
fn days(raw: &str) -> Result<u32, ApiError> {
    let bad = || {
        ApiError::new(
            ProblemCode::InvalidFilter,
            "due_within is a number of days: `2d`, `1w` or `3`",
        )
    };
    let raw = raw.trim();
    let (n, unit) = match raw.strip_suffix('w') {
        Some(n) => (n, 7),
        None => (raw.strip_suffix('d').unwrap_or(raw), 1),
    };
    let n: u32 = n.parse().map_err(|_| bad())?;
    n.checked_mul(unit).filter(|d| *d <= 3660).ok_or_else(bad)
}

/// Files a data-subject request (admin, officer; the website by `website` or `subject`).
/// Journaled as `subject_request.filed`, the acknowledgement queued with it.
#[utoipa::path(
    post,
    path = "/v1/requests",
    tag = "requests",
    request_body(content = FileRequestBody, content_type = "application/json"),
    responses((status = 201, description = "Filed", body = RequestBody)),
)]
pub(crate) async fn file_request(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    JsonBody(b): JsonBody<FileRequestBody>,
) -> Result<(StatusCode, Json<RequestBody>), ApiError> {
    let subject = subject_id(&b.subject_id)?;
    let kind: RequestKind = named(&b.kind, ProblemCode::UnknownRequestKind, "kind")?;
    let channel: Channel = named(&b.channel, ProblemCode::UnknownChannel, "channel")?;
    let regimes = b
        .regimes
        .iter()
        .map(|r| named::<Regime>(r, ProblemCode::UnknownRegime, "regimes"))
        .collect::<Result<Vec<_>, _>>()?;
    let received_at = b
        .received_at
        .as_deref()
        .map(|r| {
            OffsetDateTime::parse(r, &Rfc3339).map_err(|_| {
                ApiError::new(
                    ProblemCode::InvalidReceived,
                    "received_at must be an RFC 3339 date-time with an offset",
                )
            })
        })
        .transpose()?;
    let details = Details {
        authority: b.authority.map(|a| AuthorityDocument {
            doc_type: a.doc_type,
            number: a.number,
            date: a.date,
        }),
        new_values: b.new_values,
        recipient: b.recipient,
        text: b.text,
        purposes: b.purposes,
        categories: b.categories,
        ..Details::default()
    };
    let view = state
        .vault
        .requests()
        .file(
            &caller,
            Intake {
                subject,
                kind,
                channel,
                regimes,
                received_at,
                verify: b.verify,
                details,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// The register of requests: by state, subject, kind, overdue, due within (admin, officer;
/// the website its own filings). Ids, enums and dates only; journaled.
#[utoipa::path(
    get,
    path = "/v1/requests",
    tag = "requests",
    params(RequestsQuery),
    responses((status = 200, description = "A page of requests", body = RequestPageBody)),
)]
pub(crate) async fn list_requests(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RequestsQuery>,
) -> Result<Json<RequestPageBody>, ApiError> {
    let query = ListQuery {
        state: q
            .state
            .as_deref()
            .map(|s| named::<RequestState>(s, ProblemCode::InvalidFilter, "state"))
            .transpose()?,
        subject: q.subject.as_deref().map(subject_id).transpose()?,
        kind: q
            .kind
            .as_deref()
            .map(|k| named::<RequestKind>(k, ProblemCode::UnknownRequestKind, "kind"))
            .transpose()?,
        overdue: q.overdue.unwrap_or(false),
        due_within_days: q.due_within.as_deref().map(days).transpose()?,
        cursor: q.cursor,
        limit: q.limit.unwrap_or(100),
    };
    let page = state.vault.requests().list(&caller, &query).await?;
    Ok(Json(RequestPageBody {
        items: page.requests.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A request with its details opened (journaled as `subject_request.read`).
#[utoipa::path(
    get,
    path = "/v1/requests/{id}",
    tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "The request's id")),
    responses((status = 200, description = "The request", body = RequestBody)),
)]
pub(crate) async fn get_request(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<RequestPath>,
) -> Result<Json<RequestBody>, ApiError> {
    let id = request_id(&path.id)?;
    Ok(Json(state.vault.requests().get(&caller, id).await?.into()))
}

/// Pauses the request while the subject clarifies it; where every regime stops the clock
/// (not Russia's) the due date moves by the days paused on resume.
#[utoipa::path(
    post,
    path = "/v1/requests/{id}/pause",
    tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "The request's id")),
    request_body(content = PauseBody, content_type = "application/json"),
    responses((status = 200, description = "Paused", body = RequestBody)),
)]
pub(crate) async fn pause_request(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<RequestPath>,
    JsonBody(b): JsonBody<PauseBody>,
) -> Result<Json<RequestBody>, ApiError> {
    let id = request_id(&path.id)?;
    Ok(Json(state.vault.requests().pause(&caller, id, b.note).await?.into()))
}

/// Resumes a paused request.
#[utoipa::path(
    post,
    path = "/v1/requests/{id}/resume",
    tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "The request's id")),
    responses((status = 200, description = "Resumed", body = RequestBody)),
)]
pub(crate) async fn resume_request(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<RequestPath>,
) -> Result<Json<RequestBody>, ApiError> {
    let id = request_id(&path.id)?;
    Ok(Json(state.vault.requests().resume(&caller, id).await?.into()))
}

/// The officer verified the identity (a document checked in person): `in_progress`.
#[utoipa::path(
    post,
    path = "/v1/requests/{id}/verified",
    tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "The request's id")),
    responses((status = 200, description = "In progress", body = RequestBody)),
)]
pub(crate) async fn verify_request(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<RequestPath>,
) -> Result<Json<RequestBody>, ApiError> {
    let id = request_id(&path.id)?;
    Ok(Json(state.vault.requests().verified(&caller, id).await?.into()))
}

/// Extends the term once, with a reason, before the due date; the notice goes out with it.
#[utoipa::path(
    post,
    path = "/v1/requests/{id}/extend",
    tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "The request's id")),
    request_body(content = ExtendBody, content_type = "application/json"),
    responses((status = 200, description = "Extended", body = RequestBody)),
)]
pub(crate) async fn extend_request(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<RequestPath>,
    JsonBody(b): JsonBody<ExtendBody>,
) -> Result<Json<RequestBody>, ApiError> {
    let id = request_id(&path.id)?;
    let reason = extension_reason(b.reason.as_deref())?;
    Ok(Json(
        state.vault.requests().extend(&caller, id, reason, b.note).await?.into(),
    ))
}

/// Refuses the request with a reason from the fixed list (a legal restriction cites its law).
#[utoipa::path(
    post,
    path = "/v1/requests/{id}/refuse",
    tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "The request's id")),
    request_body(content = RefuseBody, content_type = "application/json"),
    responses((status = 200, description = "Refused", body = RequestBody)),
)]
pub(crate) async fn refuse_request(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<RequestPath>,
    JsonBody(b): JsonBody<RefuseBody>,
) -> Result<Json<RequestBody>, ApiError> {
    let id = request_id(&path.id)?;
    let reason = refusal_reason(b.reason.as_deref())?;
    Ok(Json(
        state
            .vault
            .requests()
            .refuse(&caller, id, reason, b.citation)
            .await?
            .into(),
    ))
}

/// Completes the request: its effect on the data (erasure, withdrawal, block, rectification…)
/// through the services that own it, then the outcome and the answer.
#[utoipa::path(
    post,
    path = "/v1/requests/{id}/complete",
    tag = "requests",
    params(("id" = uuid::Uuid, Path, description = "The request's id")),
    request_body(content = CompleteBody, content_type = "application/json"),
    responses((status = 200, description = "Completed", body = RequestBody)),
)]
pub(crate) async fn complete_request(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<RequestPath>,
    JsonBody(b): JsonBody<CompleteBody>,
) -> Result<Json<RequestBody>, ApiError> {
    let id = request_id(&path.id)?;
    let decision = b
        .decision
        .as_deref()
        .map(|d| named::<Decision>(d, ProblemCode::UnknownReason, "decision"))
        .transpose()?;
    let download = b
        .download
        .as_deref()
        .map(|d| {
            d.parse::<DownloadId>()
                .map_err(|_| ApiError::new(ProblemCode::InvalidJson, "download is not a UUID"))
        })
        .transpose()?;
    let block_reason = b
        .block_reason
        .as_deref()
        .map(|r| ward_vault::block_reason(Some(r)))
        .transpose()?;
    let completion = Completion {
        answer: b.answer,
        decision,
        download,
        purpose: b.purpose,
        block_reason,
    };
    Ok(Json(
        state.vault.requests().complete(&caller, id, completion).await?.into(),
    ))
}
