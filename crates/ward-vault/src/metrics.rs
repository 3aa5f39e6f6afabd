//! What the vault tells an operator's metrics stack: the group committer's batches and queue,
//! and key epochs (when the current one started, KEKs destroyed).
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

/// Gauge: when the active KEK was recorded (Unix seconds): the start of the current key epoch.
/// (The key ring itself, `ward_key_epoch_*`, is read at each scrape: `ward-api`.)
pub const KEK_EPOCH_STARTED: &str = "ward_kek_epoch_started_timestamp_seconds";
/// Counter: key-encryption keys destroyed at the end of their epoch by this process.
pub const KEKS_DESTROYED: &str = "ward_keks_destroyed_total";

/// Records the start of the current key epoch (the active KEK's recording time).
pub fn record_kek_epoch(started: time::OffsetDateTime) {
    #[allow(clippy::cast_precision_loss)] // Unix seconds fit an f64's mantissa for ages
    metrics::gauge!(KEK_EPOCH_STARTED).set(started.unix_timestamp() as f64);
}

/// Counts KEKs destroyed.
pub fn record_keks_destroyed(n: u64) {
    metrics::counter!(KEKS_DESTROYED).increment(n);
}

/// Gives the recorder installed now the help text and unit of each of these metrics, and
/// shows its series (at zero) before the first batch (a counter that
/// appears only on its first failure defeats `increase()` in an alert).
pub fn describe() {
    metrics::counter!(COMMIT_BATCH_FAILURES).increment(0);
    metrics::gauge!(COMMIT_QUEUE_DEPTH).increment(0.0);
    metrics::counter!(KEKS_DESTROYED).increment(0);
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
    describe_gauge!(
        KEK_EPOCH_STARTED,
        Unit::Seconds,
        "When the active key-encryption key was recorded (Unix time): the start of the key epoch"
    );
    describe_counter!(
        KEKS_DESTROYED,
        Unit::Count,
        "Key-encryption keys destroyed at the end of their epoch by this process"
    );
}
