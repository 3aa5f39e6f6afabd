//! What the vault tells an operator's metrics stack: the group committer's batches and queue.
//!
//! Recorded through the `metrics` facade, so the vault names what it measures and the binary
//! chooses where it goes (`ward-api` renders it at `/metrics`); with no recorder installed a
//! recording is a no-op. Labels carry no personal data: there are none here.

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};

/// Histogram: how many operations (changes and reads' journal entries) one transaction wrote.
pub const COMMIT_BATCH_SIZE: &str = "ward_commit_batch_size";
/// Histogram: how long one batch's transaction took, durable or failed.
pub const COMMIT_BATCH_SECONDS: &str = "ward_commit_batch_duration_seconds";
/// Counter: batches whose transaction failed (nothing in them was written).
pub const COMMIT_BATCH_FAILURES: &str = "ward_commit_batch_failures_total";
/// Gauge: operations queued for the committer and not yet taken into a batch.
pub const COMMIT_QUEUE_DEPTH: &str = "ward_commit_queue_depth";

/// Gives the recorder installed now the help text and unit of each of these metrics, and
/// shows its series (at zero) before the first batch (a counter that
/// appears only on its first failure defeats `increase()` in an alert).
pub fn describe() {
    metrics::counter!(COMMIT_BATCH_FAILURES).increment(0);
    metrics::gauge!(COMMIT_QUEUE_DEPTH).increment(0.0);
    let _ = metrics::histogram!(COMMIT_BATCH_SIZE);
    let _ = metrics::histogram!(COMMIT_BATCH_SECONDS);
    describe_histogram!(
        COMMIT_BATCH_SIZE,
        Unit::Count,
        "Operations written per group-commit transaction"
    );
    describe_histogram!(
        COMMIT_BATCH_SECONDS,
        Unit::Seconds,
        "Time one group-commit transaction took, durable or failed"
    );
    describe_counter!(
        COMMIT_BATCH_FAILURES,
        Unit::Count,
        "Group-commit transactions that failed; nothing in them was written"
    );
    describe_gauge!(
        COMMIT_QUEUE_DEPTH,
        Unit::Count,
        "Operations waiting for the group committer, not yet in a batch"
    );
}
