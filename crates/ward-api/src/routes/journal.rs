//! The processing journal (admin and officer): verification and signed checkpoints.

use crate::error::ApiError;
use crate::extract::AuthCaller;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use ward_core::ProblemCode;
use ward_crypto::Checkpoint;
use ward_vault::{Tamper, VerifyReport};

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    ("verify_journal", &[ProblemCode::Forbidden]),
    ("create_checkpoint", &[ProblemCode::Forbidden]),
];

/// The first thing found wrong with the journal.
#[derive(Debug, Serialize, ToSchema)]
pub struct TamperBody {
    /// `modified`, `removed`, `inserted`, `reordered`, `checkpoint_mismatch`,
    /// `bad_checkpoint`, `truncated`, `end_removed` (entries after the last were removed: the
    /// head records more), `beyond_head` (an entry appended outside Ward), `head_mismatch` (the
    /// end of the chain rewritten), `unsigned` (entries left unsigned longer than a running
    /// Ward leaves them: checkpoints removed), or, against a checkpoint kept apart,
    /// `witness_mismatch`, `witness_truncated` or `witness_key`.
    pub kind: String,
    /// The position of the problem.
    pub seq: i64,
    /// What happened, for people.
    pub message: String,
}

impl From<&Tamper> for TamperBody {
    fn from(t: &Tamper) -> Self {
        Self {
            kind: t.kind().to_owned(),
            seq: t.seq(),
            message: t.to_string(),
        }
    }
}

/// The result of verifying every entry's hash and link and every checkpoint's signature.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyBody {
    /// Whether no problem was found.
    pub valid: bool,
    /// Entries verified.
    pub entries: i64,
    /// Signed checkpoints found.
    pub checkpoints: usize,
    /// Entries after the newest signed checkpoint: only the hash chain and the head vouch
    /// for them.
    pub unsigned: i64,
    /// Hex hash of the last verified entry; `null` for an empty journal.
    pub head: Option<String>,
    /// The first problem found; `null` if none.
    pub problem: Option<TamperBody>,
}

impl From<VerifyReport> for VerifyBody {
    fn from(r: VerifyReport) -> Self {
        Self {
            valid: r.is_valid(),
            entries: r.entries,
            checkpoints: r.checkpoints,
            unsigned: r.unsigned(),
            head: r.head.map(hex::encode),
            problem: r.problem.as_ref().map(Into::into),
        }
    }
}

/// A signed checkpoint of the journal's head.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointBody {
    /// The position of the entry vouched for.
    pub seq: i64,
    /// Hex hash of that entry.
    pub head: String,
    /// Which signing key made it.
    pub key_id: String,
    /// When it was signed (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl From<Checkpoint> for CheckpointBody {
    fn from(c: Checkpoint) -> Self {
        Self {
            seq: c.seq,
            head: hex::encode(c.head),
            key_id: c.key_id,
            at: ward_core::clock::from_micros(c.at_micros),
        }
    }
}

/// Verifies the whole journal and names the first problem (admin, officer).
#[utoipa::path(get, path = "/v1/journal/verify", tag = "journal", responses((status = 200, description = "The verification report", body = VerifyBody)))]
pub(crate) async fn verify_journal(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
) -> Result<Json<VerifyBody>, ApiError> {
    let report = state.vault.journal().verify(&caller).await?;
    Ok(Json(report.into()))
}

/// Signs a checkpoint of the journal's head if it moved since the last one (admin, officer).
#[utoipa::path(
    post,
    path = "/v1/journal/checkpoints",
    tag = "journal",
    responses(
        (status = 201, description = "A new checkpoint", body = CheckpointBody),
        (status = 204, description = "Nothing new to vouch for"),
    ),
)]
pub(crate) async fn create_checkpoint(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    Ok(match state.vault.journal().checkpoint_for(&caller).await? {
        Some(cp) => (StatusCode::CREATED, Json(CheckpointBody::from(cp))).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}
