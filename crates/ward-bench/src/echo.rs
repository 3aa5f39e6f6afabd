//! The read baseline: Ward's HTTP stack (tokio, hyper, axum, the same middleware and the same
//! per-request log line) answering with a fixed JSON body of the size Ward's answer has, and
//! nothing else: no authentication, no database, no decryption, no journal.
//!
//! It runs as its own process (`ward bench-echo`), started like `ward serve`, so that it
//! competes with the load generator for the two cores exactly as Ward does.

use anyhow::{Context, Result};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, MatchedPath, State};
use axum::http::{header, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;

/// What `ward bench-echo` prints first.
pub const LISTENING: &str = "Ward bench echo listening on ";

/// A JSON object of exactly `size` bytes (at least 40).
pub fn fixed_json(size: usize) -> Bytes {
    let head = r#"{"id":"00000000-0000-0000-0000-000000000000","pad":""#;
    let tail = r#""}"#;
    let pad = size.saturating_sub(head.len() + tail.len());
    let mut s = String::with_capacity(size);
    s.push_str(head);
    s.extend(std::iter::repeat_n('x', pad));
    s.push_str(tail);
    Bytes::from(s)
}

#[derive(Clone)]
struct Bodies {
    read: Bytes,
    lookup: Bytes,
}

async fn read(State(b): State<Bodies>) -> Response {
    json(b.read)
}

async fn lookup(State(b): State<Bodies>, body: Bytes) -> Response {
    // Read the request body like Ward's JSON extractor does, then answer.
    let _ = body.len();
    json(b.lookup)
}

fn json(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn request_span(req: &Request<Body>) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("<unmatched>", MatchedPath::as_str);
    tracing::info_span!("request", method = %req.method(), route = %route)
}

/// Serves until SIGTERM or Ctrl-C.
pub async fn serve(listen: SocketAddr, read_bytes: usize, lookup_bytes: usize) -> Result<()> {
    let bodies = Bodies {
        read: fixed_json(read_bytes),
        lookup: fixed_json(lookup_bytes),
    };
    let app = Router::new()
        .route("/v1/subjects/{id}", get(read))
        .route("/v1/subjects/lookup", post(lookup))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(CatchPanicLayer::new())
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
        .with_state(bodies);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr().context("the bound address")?;
    println!("{LISTENING}http://{addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let term = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                () = term => {},
            }
        })
        .await
        .context("serving HTTP")
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_bodies_have_the_size_asked_for_and_are_json() {
        for n in [60, 200, 1000] {
            let b = super::fixed_json(n);
            assert_eq!(b.len(), n);
            assert!(serde_json::from_slice::<serde_json::Value>(&b).is_ok());
        }
    }
}
