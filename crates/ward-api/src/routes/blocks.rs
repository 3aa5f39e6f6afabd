//! Blocking a subject's data (officer and admin): place a block on the whole subject or on
//! categories, list the blocks, lift one. While blocked, reads are refused (`423
//! subject_blocked`) except the officer's reads for verification (`verification=true` on
//! `GET /v1/subjects/{id}`).

use crate::error::ApiError;
use crate::extract::{subject_id, ApiPath, AuthCaller, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use ward_core::{BlockId, ProblemCode};
use ward_vault::block_reason;
use ward_vault::BlockRecord;

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    (
        "place_block",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::Forbidden,
            ProblemCode::ReasonRequired,
            ProblemCode::UnknownReason,
            ProblemCode::UnknownCategory,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "list_blocks",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::Forbidden,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "lift_block",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidBlockId,
            ProblemCode::InvalidPath,
            ProblemCode::Forbidden,
            ProblemCode::BlockNotFound,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
];

/// `POST /v1/subjects/{id}/blocks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockRequest {
    /// Categories to block; none: the whole subject.
    #[serde(default)]
    #[schema(example = json!(["contact"]))]
    pub categories: Vec<String>,
    /// Why (required): `inaccuracy_claimed`, `unlawful_processing_claimed`, `legal_hold` or
    /// `destruction_impossible`.
    #[schema(example = "inaccuracy_claimed")]
    pub reason: Option<String>,
}

/// A block on a subject's data.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockBody {
    pub id: String,
    /// The categories blocked; empty: the whole subject.
    pub categories: Vec<String>,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// When it was lifted; `null`: in force.
    #[serde(with = "time::serde::rfc3339::option")]
    pub lifted_at: Option<OffsetDateTime>,
}

impl From<BlockRecord> for BlockBody {
    fn from(b: BlockRecord) -> Self {
        Self {
            id: b.id.to_string(),
            categories: b.categories,
            reason: b.reason,
            at: b.at,
            lifted_at: b.lifted_at,
        }
    }
}

/// The subject's blocks.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlocksBody {
    pub blocks: Vec<BlockBody>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SubjectPath {
    id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct BlockPath {
    id: String,
    block_id: String,
}

/// Blocks the subject's data (all of it, or categories) for a reason; journaled.
#[utoipa::path(
    post,
    path = "/v1/subjects/{id}/blocks",
    tag = "subjects",
    params(("id" = uuid::Uuid, Path, description = "The subject's id")),
    request_body(content = BlockRequest, content_type = "application/json"),
    responses((status = 201, description = "Blocked", body = BlockBody)),
)]
pub(crate) async fn place_block(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
    JsonBody(body): JsonBody<BlockRequest>,
) -> Result<(StatusCode, Json<BlockBody>), ApiError> {
    let id = subject_id(&path.id)?;
    let reason = block_reason(body.reason.as_deref())?;
    let block = state
        .vault
        .blocks()
        .place(&caller, id, &body.categories, reason)
        .await?;
    Ok((StatusCode::CREATED, Json(block.into())))
}

/// The subject's blocks, lifted ones too, oldest first.
#[utoipa::path(
    get,
    path = "/v1/subjects/{id}/blocks",
    tag = "subjects",
    params(("id" = uuid::Uuid, Path, description = "The subject's id")),
    responses((status = 200, description = "The blocks", body = BlocksBody)),
)]
pub(crate) async fn list_blocks(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
) -> Result<Json<BlocksBody>, ApiError> {
    let id = subject_id(&path.id)?;
    let blocks = state.vault.blocks().list(&caller, id).await?;
    Ok(Json(BlocksBody {
        blocks: blocks.into_iter().map(Into::into).collect(),
    }))
}

/// Lifts a block in force; journaled.
#[utoipa::path(
    delete,
    path = "/v1/subjects/{id}/blocks/{block_id}",
    tag = "subjects",
    params(("id" = uuid::Uuid, Path, description = "The subject's id"), ("block_id" = uuid::Uuid, Path, description = "The block's id")),
    responses((status = 204, description = "Lifted")),
)]
pub(crate) async fn lift_block(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<BlockPath>,
) -> Result<StatusCode, ApiError> {
    let id = subject_id(&path.id)?;
    let block: BlockId = path
        .block_id
        .parse()
        .map_err(|_| ApiError::new(ProblemCode::InvalidBlockId, "the block id in the path is not a UUID"))?;
    state.vault.blocks().lift(&caller, id, block).await?;
    Ok(StatusCode::NO_CONTENT)
}
