//! Liveness and the OpenAPI document; neither needs a key.

use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use ward_core::ProblemCode;

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[("healthz", &[]), ("openapi_json", &[])];

/// The server is up.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: String,
}

/// Liveness: answers while the process serves requests. Does not touch storage.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "The server is up", body = Health)))]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
pub(crate) async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    let spec: Bytes = state.spec.clone();
    ([(header::CONTENT_TYPE, "application/json")], spec)
}
