//! `/metrics`: the process's metrics in the Prometheus text format (see [`crate::metrics`]).
//!
//! Who may read it: anyone who reaches the listen address, like `/healthz`, with no key. It
//! holds no personal data (labels are route templates, methods, status codes and job names;
//! values are counts, times, the journal's length and key-ring numbers, never a key), and a
//! scraper holding an API key would need one with more power than scraping calls for (the
//! admin role). What it does tell, how busy the vault is, is for the same network boundary
//! as the API itself: keep the listen address off untrusted networks, as the README says.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use ward_core::ProblemCode;

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[("metrics", &[])];

/// The Prometheus text format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Metrics in the Prometheus text format: requests by route template and status with their
/// latencies, group-commit batch sizes and queue depth, the journal's length, background jobs'
/// runs by outcome, and the key-encryption keys in the ring. No personal data; needs no key.
#[utoipa::path(get, path = "/metrics", tag = "meta", responses((status = 200, description = "Metrics in the Prometheus text format", content_type = "text/plain; version=0.0.4; charset=utf-8", body = String)))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let Some(recorder) = crate::metrics::recorder() else {
        return Err(ApiError::internal());
    };
    crate::metrics::observe(&state.vault).await;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], recorder.render()))
}
