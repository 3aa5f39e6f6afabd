//! Ward's HTTP API: the [`ward_vault::Vault`] over JSON.
//!
//! [`router`] builds the service; [`openapi`] returns its OpenAPI document, generated from the
//! same route definitions, so the two cannot disagree. Every error is an RFC 9457 problem
//! document ([`ApiError`]) with a stable `code`; no error echoes a submitted value.
//!
//! Architecture Invariant: wire types (this crate) and domain types (`ward-core`,
//! `ward-vault`) are separate and joined by explicit conversions; the JSON shape of the API
//! changes only here.
//!
//! Architecture Invariant: every `/v1` handler takes an `AuthCaller` extractor, so no route can
//! skip authentication.

pub mod docs;
mod error;
mod extract;
mod idempotency;
mod metrics;
mod routes;
mod spec;

pub use error::{problem_kind, ApiError, FieldError, Problem, ProblemKind, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE};
pub use spec::{PUBLIC_PATHS, ROUTER_CODES};
pub use ward_core::ProblemCode;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;
use ward_vault::Vault;

/// Tunables of the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// The largest request body accepted, in bytes; larger ones get `413 body_too_large`.
    pub max_body_bytes: usize,
}

impl ApiConfig {
    /// The default body limit: 64 KiB.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    pub vault: Vault,
    /// The OpenAPI document, serialised once.
    pub spec: Bytes,
    /// The largest body a request with an `Idempotency-Key` may have (the batch's limit):
    /// the key's layer reads it before the route's own limit applies.
    pub max_key_body_bytes: usize,
}

/// The API's router: every route, the problem+json fallbacks for unknown routes and methods,
/// the body limit, panic catching, request metrics and request tracing. The first router of
/// the process installs its metrics recorder (see `/metrics`).
pub fn router(vault: Vault, config: ApiConfig) -> Router {
    metrics::recorder();
    let (router, spec) = routes::api().split_for_parts();
    let spec = spec::finish(spec, routes::problem_codes(), routes::VAULT_OPERATIONS.iter().copied());
    let spec = match serde_json::to_vec(&spec) {
        Ok(json) => Bytes::from(json),
        Err(e) => {
            tracing::error!(error = %e, "serialising the OpenAPI document");
            Bytes::from_static(b"{}")
        }
    };
    let state = AppState {
        vault,
        spec,
        max_key_body_bytes: config.max_body_bytes.max(routes::batch::MAX_BATCH_BODY_BYTES),
    };
    router
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::layer))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Millis),
                )
                .on_failure(
                    DefaultOnFailure::new()
                        .level(Level::ERROR)
                        .latency_unit(LatencyUnit::Millis),
                ),
        )
        .with_state(state)
}

/// The OpenAPI 3.1 document of [`router`]: every route, schema, problem code and the bearer
/// security scheme.
pub fn openapi() -> utoipa::openapi::OpenApi {
    spec::finish(
        routes::api().into_openapi(),
        routes::problem_codes(),
        routes::VAULT_OPERATIONS.iter().copied(),
    )
}

/// The span of one request: its method and route template. Not the raw path or query
/// string, which a client may have filled with personal data.
fn request_span(req: &Request<Body>) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(metrics::UNMATCHED, MatchedPath::as_str);
    tracing::info_span!("request", method = %req.method(), route = %route)
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::internal().into_response()
}
