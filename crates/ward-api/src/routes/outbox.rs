//! The outbox: a templated notice sent to a subject (queued, delivered by the delivery job),
//! and the officer's view of the queue (states only, never content) with the retry of a
//! dead-lettered message.

use crate::error::ApiError;
use crate::extract::{subject_id, ApiPath, ApiQuery, AuthCaller, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use ward_core::outbox::MessageState;
use ward_core::{MessageId, ProblemCode};
use ward_vault::MessageView;

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    (
        "send_notice",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::Forbidden,
            ProblemCode::UnknownTemplate,
            ProblemCode::NoContactOnRecord,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    ("list_outbox", &[ProblemCode::Forbidden, ProblemCode::InvalidQuery]),
    (
        "retry_message",
        &[
            ProblemCode::Forbidden,
            ProblemCode::InvalidPath,
            ProblemCode::MessageNotFound,
            ProblemCode::MessageNotDead,
        ],
    ),
];

/// The most messages one listing returns.
pub const MAX_LIST: u32 = 1000;

#[derive(Debug, Deserialize)]
pub(crate) struct SubjectPath {
    id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MessagePath {
    id: String,
}

/// `POST /v1/subjects/{id}/notices`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeRequest {
    /// The template's name: `policy_changed` (the policy in force: its version, the day it
    /// took effect, the operator and its contact).
    #[schema(example = "policy_changed")]
    pub template: String,
}

/// A message in the outbox: ids, template, language and delivery state; never its content.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageBody {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    #[schema(value_type = String, format = Uuid)]
    pub subject_id: String,
    pub template: String,
    /// `ru` or `en`: the subject's language if recorded and a template exists in it, else
    /// the policy's, else English.
    pub language: String,
    /// `queued`, `sending`, `sent` or `dead`.
    pub state: String,
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
}

impl From<MessageView> for MessageBody {
    fn from(m: MessageView) -> Self {
        Self {
            id: m.id.to_string(),
            subject_id: m.subject.to_string(),
            template: m.template,
            language: m.language,
            state: m.state.to_string(),
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

/// Sends the subject a templated notice at the e-mail address on record (officer, admin): it
/// is rendered in the subject's language, sealed under the subject's key and queued; the
/// delivery job sends it. The journal records `message.queued` with ids only.
#[utoipa::path(
    post,
    path = "/v1/subjects/{id}/notices",
    tag = "outbox",
    params(("id" = uuid::Uuid, Path, description = "The subject's id")),
    request_body(content = NoticeRequest, content_type = "application/json"),
    responses((status = 202, description = "Queued", body = MessageBody)),
)]
pub(crate) async fn send_notice(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
    JsonBody(body): JsonBody<NoticeRequest>,
) -> Result<(StatusCode, Json<MessageBody>), ApiError> {
    let id = subject_id(&path.id)?;
    let view = state.vault.outbox().send_notice(&caller, id, &body.template).await?;
    Ok((StatusCode::ACCEPTED, Json(view.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// Only messages in this state: `queued`, `sending`, `sent` or `dead`.
    #[param(value_type = Option<String>, example = "dead")]
    pub state: Option<MessageState>,
    /// At most this many (default 100, at most 1000), oldest first.
    pub limit: Option<u32>,
}

/// The outbox's messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxList {
    pub messages: Vec<MessageBody>,
}

/// The outbox's messages, oldest first (officer, admin).
#[utoipa::path(
    get,
    path = "/v1/outbox",
    tag = "outbox",
    params(OutboxQuery),
    responses((status = 200, description = "The messages", body = OutboxList)),
)]
pub(crate) async fn list_outbox(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Result<Json<OutboxList>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(ApiError::new(
            ProblemCode::InvalidQuery,
            format!("limit must be 1 to {MAX_LIST}"),
        ));
    }
    let messages = state.vault.outbox().list(&caller, q.state, limit).await?;
    Ok(Json(OutboxList {
        messages: messages.into_iter().map(Into::into).collect(),
    }))
}

/// Puts a dead-lettered message back in the queue (officer, admin): due now, its attempts
/// counted afresh.
#[utoipa::path(
    post,
    path = "/v1/outbox/{id}/retry",
    tag = "outbox",
    params(("id" = uuid::Uuid, Path, description = "The message's id")),
    responses((status = 204, description = "Queued again")),
)]
pub(crate) async fn retry_message(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<MessagePath>,
) -> Result<StatusCode, ApiError> {
    let id: MessageId = path
        .id
        .parse()
        .map_err(|_| ApiError::new(ProblemCode::InvalidPath, "the message id is not a UUID"))?;
    state.vault.outbox().retry(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
