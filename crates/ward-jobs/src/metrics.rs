//! What the runner tells an operator's metrics stack: each job's turns by outcome, how long
//! its runs take, and when it last succeeded (to alert on a job that stopped succeeding, such
//! as a key rotation that must run daily).
//!
//! Recorded through the `metrics` facade (`ward-api` renders it at `/metrics`); with no
//! recorder installed a recording is a no-op. The one label besides the outcome is the job's
//! name, which Ward's code chooses: no personal data.

use crate::runner::{Outcome, Ran};
use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use std::time::Duration;

/// Counter, by `job` and `outcome` (`done`, `failed`, `held_elsewhere`, `lease_failed`): each
/// turn a due job had. Failures are the `failed` and `lease_failed` ones.
pub const JOB_RUNS: &str = "ward_job_runs_total";
/// Histogram, by `job`: how long a run in this process took (successful or not).
pub const JOB_SECONDS: &str = "ward_job_duration_seconds";
/// Gauge, by `job`: the runner's clock (Unix seconds) when the job last succeeded here.
pub const JOB_LAST_SUCCESS: &str = "ward_job_last_success_timestamp_seconds";

/// Gives the recorder installed now the help text and unit of each of these metrics.
pub fn describe() {
    describe_counter!(
        JOB_RUNS,
        Unit::Count,
        "Turns of each background job by outcome: done, failed, held_elsewhere (another process holds its lease), lease_failed"
    );
    describe_histogram!(
        JOB_SECONDS,
        Unit::Seconds,
        "Time each background job's run took in this process"
    );
    describe_gauge!(
        JOB_LAST_SUCCESS,
        Unit::Seconds,
        "When each background job last succeeded in this process (Unix time, by the runner's clock)"
    );
}

/// The label of an outcome.
pub(crate) fn outcome_label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Done(_) => "done",
        Outcome::Failed(_) => "failed",
        Outcome::HeldElsewhere(_) => "held_elsewhere",
        Outcome::LeaseFailed(_) => "lease_failed",
    }
}

/// Records one turn; `took` is how long the job ran, when it ran here.
pub(crate) fn record(ran: &Ran, took: Option<Duration>) {
    let job = ran.job.clone();
    metrics::counter!(JOB_RUNS, "job" => job.clone(), "outcome" => outcome_label(&ran.outcome)).increment(1);
    if let Some(took) = took {
        metrics::histogram!(JOB_SECONDS, "job" => job.clone()).record(took.as_secs_f64());
    }
    if let Outcome::Done(_) = ran.outcome {
        #[allow(clippy::cast_precision_loss)] // Unix seconds fit an f64's mantissa for ages
        let at = ran.at.unix_timestamp() as f64;
        metrics::gauge!(JOB_LAST_SUCCESS, "job" => job).set(at);
    }
}
