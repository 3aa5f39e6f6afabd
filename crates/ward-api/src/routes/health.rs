//! Readiness and the OpenAPI document; neither needs a key.

use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use ward_core::ProblemCode;

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] =
    &[("healthz", &[ProblemCode::StorageUnavailable]), ("openapi_json", &[])];

/// How long readiness waits for the store's answer: a store that takes longer is not ready.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// The server is up and its store takes writes.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: String,
    /// What the operator should see to, without making the server unready: today, `FILL IN`
    /// placeholders left in the policy in force. Absent when there is nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Readiness: answers `200` while the server can do its work, which always includes writing
/// (every read is journaled), with `warnings` the operator should see to (`FILL IN`
/// placeholders left in the policy in force), which do not make it unready;
/// `503 storage_unavailable` when its store is read-only,
/// unreachable or does not answer within two seconds. The reason goes to the server log, not
/// to the unauthenticated caller.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "The server is up and its store takes writes", body = Health)))]
pub(crate) async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let reason = match state.vault.check_ready(READY_WITHIN).await {
        Ok(()) => {
            let warnings = state.vault.policies().in_force().placeholder_warning();
            return Ok(Json(Health {
                status: "ok".to_owned(),
                warnings: warnings.into_iter().collect(),
            }));
        }
        Err(e) => e.to_string(),
    };
    tracing::warn!(reason = %reason, "not ready: the store cannot take writes");
    Err(ApiError::new(
        ProblemCode::StorageUnavailable,
        "the server's store cannot take writes now; the server log says why",
    ))
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
pub(crate) async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    let spec: Bytes = state.spec.clone();
    ([(header::CONTENT_TYPE, "application/json")], spec)
}
