//! Data-subject requests (issue 19): intake (the website on the signed-in subject's behalf,
//! the officer, a representative through the officer, the subject through the portal), the
//! register with its overdue and due-within filters, and the workflow's steps (officer and
//! admin). Every step is journaled with its message to the subject queued in the same
//! transaction; free text is sealed under the subject's key. See docs/requests.md.

use crate::error::ApiError;
use crate::extract::{subject_id, ApiPath, ApiQuery, AuthCaller, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use ward_core::deadline::Regime;
use ward_core::request::{Channel, RequestKind, RequestState};
use ward_core::{DownloadId, ProblemCode, RequestId};
use ward_vault::requests::{
    extension_reason, refusal_reason, AuthorityDocument, Completion, Decision, Details, Intake, ListQuery, RequestView,
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

/// A representative's authority document (sealed).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorityBody {
    /// E.g. `power_of_attorney`.
    pub doc_type: String,
    pub number: String,
    /// As written on it, e.g. `2026-01-15`.
    pub date: String,
}

/// `POST /v1/requests`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRequestBody {
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: String,
    /// `access`, `copy`, `rectification`, `blocking`, `erasure`, `stop_processing`,
    /// `withdraw_consent`, `object_marketing`, `object_legitimate`, `transfer`, `complaint`.
    #[schema(example = "access")]
    pub kind: String,
    /// `website` (a service key vouches the subject is signed in), `officer`,
    /// `representative` (with `authority`), `subject` (the portal: verification follows).
    #[schema(example = "officer")]
    pub channel: String,
    /// `ru`, `eu`, `us-ca`; default `["ru"]`. The earliest deadline applies.
    #[serde(default)]
    pub regimes: Vec<String>,
    /// When the operator received it (RFC 3339); default now.
    pub received_at: Option<String>,
    /// The officer asks for the identity to be verified first (`verifying`).
    #[serde(default)]
    pub verify: bool,
    /// A representative's authority document.
    pub authority: Option<AuthorityBody>,
    /// Rectification: field → new value.
    #[serde(default)]
    pub new_values: BTreeMap<String, String>,
    /// Transfer: the named third party.
    pub recipient: Option<String>,
    /// The request's text (a complaint's, an objection's grounds).
    pub text: Option<String>,
    /// Withdrawal: the purposes (none: every consent that stands).
    #[serde(default)]
    pub purposes: Vec<String>,
    /// Blocking: the categories (none: the whole subject).
    #[serde(default)]
    pub categories: Vec<String>,
}

/// `POST /v1/requests/{id}/pause`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    /// What the subject is asked to clarify (sealed, sent to them).
    pub note: Option<String>,
}

/// `POST /v1/requests/{id}/extend`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    /// `complexity`, `number_of_requests` or `processor_involved`.
    #[schema(example = "complexity")]
    pub reason: Option<String>,
    /// The reasoned notice's own words (sealed, sent to the subject).
    pub note: Option<String>,
}

/// `POST /v1/requests/{id}/refuse`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseBody {
    /// `no_match`, `insufficient_identification`, `insufficient_verification`,
    /// `outside_jurisdiction`, `repeat_request`, `manifestly_unfounded`, `legal_restriction`.
    #[schema(example = "repeat_request")]
    pub reason: Option<String>,
    /// For `legal_restriction`: the law that restricts the right (sealed, sent).
    pub citation: Option<String>,
}

/// `POST /v1/requests/{id}/complete`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// The answer (sealed, sent): required for `complaint` and `object_legitimate`.
    pub answer: Option<String>,
    /// `object_legitimate`: `upheld` or `rejected`.
    pub decision: Option<String>,
    /// `access`, `copy`, `transfer`: the download the report made.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub download: Option<String>,
    /// `rectification`: the purpose it is made under (default: the first that may).
    pub purpose: Option<String>,
    /// `blocking`: the block's reason (default `inaccuracy_claimed`).
    pub block_reason: Option<String>,
}

/// The authority document, opened.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorityView {
    pub doc_type: String,
    pub number: String,
    pub date: String,
}

/// A request's details, opened (only on `GET /v1/requests/{id}`; journaled).
#[derive(Debug, Serialize, ToSchema)]
pub struct DetailsBody {
    pub authority: Option<AuthorityView>,
    pub new_values: BTreeMap<String, String>,
    pub recipient: Option<String>,
    pub text: Option<String>,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    pub pause_note: Option<String>,
    pub extension_note: Option<String>,
    pub answer: Option<String>,
    pub citation: Option<String>,
}

/// A data-subject request.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestBody {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: String,
    pub kind: String,
    /// `received`, `verifying`, `in_progress`, `paused`, `completed`, `refused`.
    pub state: String,
    pub channel: String,
    pub regimes: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The original due date (`YYYY-MM-DD`, the operator's zone).
    pub due_on: String,
    /// Once extended.
    pub extended_due_on: Option<String>,
    /// The due date that applies.
    pub due: String,
    /// Open and past `due`.
    pub overdue: bool,
    pub extension_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub paused_at: Option<OffsetDateTime>,
    pub paused_seconds: i64,
    pub refusal_reason: Option<String>,
    /// What was done, per category (names only).
    pub outcome: Option<String>,
    /// `vouched`, `officer` or a verification's id.
    pub verification: Option<String>,
    /// An open request of the same kind this one duplicates.
    pub duplicate_of: Option<String>,
    /// A completed access request this one repeats within 30 days (152-FZ Art. 14 p. 4).
    pub repeat_of: Option<String>,
    pub download: Option<String>,
    /// The message this step queued: `queued`, `no_contact`, `subject_erased`; `null` on reads.
    pub notice: Option<String>,
    /// Its id, when queued.
    pub message_id: Option<String>,
    pub details: Option<DetailsBody>,
}

impl From<RequestView> for RequestBody {
    fn from(v: RequestView) -> Self {
        let r = v.request;
        Self {
            id: r.id.to_string(),
            subject_id: r.subject.to_string(),
            kind: r.kind.to_string(),
            state: r.state.to_string(),
            channel: r.channel.to_string(),
            regimes: r.regimes.iter().map(ToString::to_string).collect(),
            received_at: r.received_at,
            due_on: r.due_on.to_string(),
            extended_due_on: r.extended_due_on.map(|d| d.to_string()),
            due: v.due.to_string(),
            overdue: v.overdue,
            extension_reason: r.extension.map(|e| e.to_string()),
            paused_at: r.paused_at,
            paused_seconds: r.paused_secs,
            refusal_reason: r.refusal.map(|e| e.to_string()),
            outcome: r.outcome,
            verification: r.verification,
            duplicate_of: r.duplicate_of.map(|i| i.to_string()),
            repeat_of: r.repeat_of.map(|i| i.to_string()),
            download: r.download.map(|i| i.to_string()),
            notice: v.notice.map(|n| n.as_str().to_owned()),
            message_id: v.notice.and_then(|n| n.message()).map(|m| m.to_string()),
            details: v.details.map(details_body),
        }
    }
}

fn details_body(d: Details) -> DetailsBody {
    DetailsBody {
        authority: d.authority.map(|a| AuthorityView {
            doc_type: a.doc_type,
            number: a.number,
            date: a.date,
        }),
        new_values: d.new_values,
        recipient: d.recipient,
        text: d.text,
        purposes: d.purposes,
        categories: d.categories,
        pause_note: d.pause_note,
        extension_note: d.extension_note,
        answer: d.answer,
        citation: d.citation,
    }
}

/// A page of the register of requests.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestPageBody {
    pub items: Vec<RequestBody>,
    /// Pass as `cursor` for the next page; `null` after the last.
    pub next_cursor: Option<String>,
}

/// Filters of the register of requests; every filter given must hold.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// `received`, `verifying`, `in_progress`, `paused`, `completed`, `refused`.
    pub state: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub subject: Option<String>,
    pub kind: Option<String>,
    /// `true`: open and past the due date as of the operator's today (in due order).
    pub overdue: Option<bool>,
    /// Open and due from today to today + this, e.g. `2d` or `1w` (in due order).
    #[param(example = "2d")]
    pub due_within: Option<String>,
    /// Where to go on: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RequestPath {
    id: String,
}

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
