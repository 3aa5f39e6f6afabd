//! The HTTP listener: axum's router served by hyper with limits a slow or idle client cannot
//! get around. `axum::serve` sets no timer, so a client that sent half a request header kept
//! its connection (and a task) forever; enough of them exhaust the server.
//!
//! - **Header read timeout**: a connection that has not sent a complete request head within
//!   `header_read_timeout` is closed; it covers the wait for the next request on a kept-alive
//!   connection too (hyper starts the timer whenever it waits for a head).
//! - **Body read timeout**: reading a request body fails after `body_read_timeout` (the
//!   request is answered `400 invalid_json`, "could not be read", and the connection closed).
//! - **Connection limit**: at most `max_connections` are served at once; the next one is
//!   accepted when one closes, and waits in the kernel's listen queue meanwhile.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// The limits of [`serve`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_connections: usize,
}

/// How long connections in progress get to finish after `shutdown` resolves.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` resolves, then lets the requests in
/// progress finish (for up to [`DRAIN`]).
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, shutdown: impl Future<Output = ()>) {
    let router = router.layer(RequestBodyTimeoutLayer::new(limits.body_read_timeout));
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors and the like: keep serving the connections we have.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // A closed, timed-out or reset connection is the client's business, not an error.
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open {DRAIN:?} after shutdown began; closing them");
    }
}
