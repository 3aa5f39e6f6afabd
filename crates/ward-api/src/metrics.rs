//! Metrics for an operator's monitoring: the process-wide Prometheus recorder, the middleware
//! that measures every request, and the gauges read when `/metrics` is scraped (its route is
//! `routes::metrics`).
//!
//! The vault, the job runner and this crate record through the `metrics` facade; the recorder
//! installed here (once per process, by the first [`crate::router`]) collects all of it and
//! renders it in the Prometheus text format. What each crate measures is named in its own
//! `metrics` module (`ward_vault::metrics`, `ward_jobs::metrics`) and described here, with
//! this crate's own, when the recorder is installed.
//!
//! Architecture Invariant: no label carries personal data. Requests are labelled by their
//! method (the eight standard ones, or `other`), the matched route *template* (`/v1/subjects/{id}`,
//! never the raw path or the query string, which carry ids and values) or `<unmatched>`, and the
//! status code; jobs by the names Ward's code gives them. The set of series is bounded by
//! Ward's code, whatever clients send.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use ward_vault::Vault;

/// Counter, by `method`, `route` and `status`: requests answered.
pub const HTTP_REQUESTS: &str = "ward_http_requests_total";
/// Histogram, by `method`, `route` and `status`: time to answer a request (to its headers).
pub const HTTP_SECONDS: &str = "ward_http_request_duration_seconds";
/// Gauge: the journal's length, the sequence number of its newest entry (0 when empty).
pub const JOURNAL_HEAD: &str = "ward_journal_head_seq";
/// Gauge: key-encryption keys in this process's key ring.
pub const KEY_EPOCHS: &str = "ward_key_epochs";
/// Gauge: the number (epoch) of the active key-encryption key, which wraps new data keys.
pub const KEY_EPOCH_ACTIVE: &str = "ward_key_epoch_active";
/// Gauge: the oldest key-encryption key still in the ring; erased subjects' stale copies
/// stay decryptable until the keys up to theirs are destroyed.
pub const KEY_EPOCH_OLDEST: &str = "ward_key_epoch_oldest";

/// The route label (and the log span's route) of a request that matched no route.
pub(crate) const UNMATCHED: &str = "<unmatched>";

/// Buckets of every `*_seconds` histogram: 0.5 ms to 10 s.
const SECONDS_BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets of the group-commit batch size: powers of two up to past the largest `max_batch`.
const BATCH_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0,
];
/// How long a scrape waits for the store.
const STORE_WAIT: Duration = Duration::from_secs(1);
/// How often histogram samples are folded into their buckets when no one scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on the first call. `None` if another recorder was
/// installed first (Ward installs none elsewhere; an embedding program might): then
/// `/metrics` answers `internal_error`, and the reason is logged once.
pub(crate) fn recorder() -> Option<&'static PrometheusHandle> {
    RECORDER.get_or_init(install).as_ref()
}

fn install() -> Option<PrometheusHandle> {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full(ward_vault::metrics::COMMIT_BATCH_SIZE.into()),
                BATCH_BUCKETS,
            )
        });
    let recorder = match builder {
        Ok(b) => b.build_recorder(),
        Err(e) => {
            tracing::error!(error = %e, "setting up the metrics recorder; /metrics is unavailable");
            return None;
        }
    };
    let handle = recorder.handle();
    if let Err(e) = metrics::set_global_recorder(recorder) {
        tracing::error!(error = %e, "another metrics recorder is installed; /metrics is unavailable");
        return None;
    }
    describe();
    ward_vault::metrics::describe();
    ward_jobs::metrics::describe();
    // Histogram samples wait in a buffer until they are folded into buckets, which a scrape
    // also does; without scrapes the buffer would grow with every request.
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("ward-metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP);
            upkeep.run_upkeep();
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no metrics upkeep thread; histograms are folded only when scraped");
    }
    Some(handle)
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        Unit::Count,
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        HTTP_SECONDS,
        Unit::Seconds,
        "Time to answer an HTTP request, by method, route template and status"
    );
    describe_gauge!(
        JOURNAL_HEAD,
        Unit::Count,
        "The journal's length: the sequence number of its newest entry"
    );
    describe_gauge!(
        KEY_EPOCHS,
        Unit::Count,
        "Key-encryption keys in this process's key ring"
    );
    describe_gauge!(KEY_EPOCH_ACTIVE, "The number of the active key-encryption key");
    describe_gauge!(
        KEY_EPOCH_OLDEST,
        "The number of the oldest key-encryption key still in the key ring"
    );
}

/// Middleware: counts and times every request by its method, route template and status.
pub(crate) async fn track(req: Request, next: Next) -> Response {
    let method = method_label(req.method().as_str());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let started = Instant::now();
    let response = next.run(req).await;
    let took = started.elapsed().as_secs_f64();
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_SECONDS, &labels).record(took);
    response
}

/// A method as a label: one of the standard methods, or `other` (a client may send any token
/// as a method, and each would be a new series).
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        _ => "other",
    }
}

/// Sets the gauges read at scrape time: the journal head (from the store, so that with
/// several processes on one PostgreSQL each reports the shared journal) and the key ring in
/// force. A store that cannot answer within [`STORE_WAIT`] leaves the journal gauge as it
/// was, and is logged: a scrape must not hang on a store that is down.
pub(crate) async fn observe(vault: &Vault) {
    match tokio::time::timeout(STORE_WAIT, vault.store().find_journal_head()).await {
        #[allow(clippy::cast_precision_loss)] // exact below 2^53 entries
        Ok(Ok(head)) => metrics::gauge!(JOURNAL_HEAD).set(head.map_or(0, |h| h.seq) as f64),
        Ok(Err(e)) => tracing::warn!(error = %e, "reading the journal head for /metrics"),
        Err(_) => tracing::warn!("the store did not give the journal head for /metrics within a second"),
    }
    let ring = vault.keys().ring();
    let epochs: Vec<u64> = ring.ids().filter_map(|id| id.parse().ok()).collect();
    #[allow(clippy::cast_precision_loss)]
    {
        metrics::gauge!(KEY_EPOCHS).set(ring.ids().count() as f64);
        if let Ok(active) = ring.active_id().parse::<u64>() {
            metrics::gauge!(KEY_EPOCH_ACTIVE).set(active as f64);
        }
        if let Some(oldest) = epochs.iter().min() {
            metrics::gauge!(KEY_EPOCH_OLDEST).set(*oldest as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_label_is_one_of_a_fixed_few() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("DELETE"), "DELETE");
        assert_eq!(method_label("anna@example.org"), "other");
        assert_eq!(method_label("get"), "other");
    }
}
