//! What a background job is: a name, a schedule, where it runs (in every process, or in one
//! process at a time under a lease), and the work.

use crate::Schedule;
use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

/// Where a job runs when several Ward processes share one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// In every process, on its own (e.g. reloading this process's key files). No lease.
    EveryProcess,
    /// In one process at a time: before each run the runner takes (or renews) the job's
    /// lease in the store until `now + lease`, and runs the job only if it got it. The lease
    /// should outlast one period of the schedule (so that its holder keeps it from one run to
    /// the next, and the job runs once per period however the processes' slots fall) and any
    /// one run. A holder that dies without releasing it is taken over once it expires: within
    /// `lease` plus one period.
    OneProcess { lease: Duration },
}

impl Scope {
    /// One process at a time, with a lease of two periods of `schedule`.
    pub fn one_process_for(schedule: Schedule) -> Self {
        Self::OneProcess {
            lease: schedule.period().saturating_mul(2),
        }
    }
}

/// A piece of background work.
#[async_trait]
pub trait Job: Send + Sync + 'static {
    /// The job's name: unique within a runner, the key of its lease in the store, and how it
    /// is named in logs. Not empty.
    fn name(&self) -> &str;

    fn schedule(&self) -> Schedule;

    fn scope(&self) -> Scope;

    /// Does the work once. `now` is the runner's clock when the run began. Returns a short
    /// note of what it did, for logs and the runner's record (may be empty). A job that fails
    /// is run again at its next time; it never stops the runner.
    async fn run(&self, now: OffsetDateTime) -> Result<String, JobError>;
}

/// Why a run failed, as text for logs (a job's own errors convert with `?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError(String);

impl JobError {
    pub fn msg(message: impl std::fmt::Display) -> Self {
        Self(message.to_string())
    }
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Any error converts, keeping its message (`JobError` itself is not a `std::error::Error`,
/// so that this impl does not overlap the identity conversion).
impl<E: std::error::Error> From<E> for JobError {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

/// A runner or a job that cannot be set up as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupError {
    /// A schedule's period is zero or negative.
    PeriodNotPositive,
    /// A lease's time to live is zero or negative.
    LeaseNotPositive(String),
    /// A job or holder name is empty.
    EmptyName,
    /// Two jobs of one runner have the same name.
    DuplicateJob(String),
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PeriodNotPositive => f.write_str("a job's period must be positive"),
            Self::LeaseNotPositive(job) => write!(f, "the lease of job `{job}` must be positive"),
            Self::EmptyName => f.write_str("a job or lease holder needs a name"),
            Self::DuplicateJob(job) => write!(f, "two jobs are named `{job}`"),
        }
    }
}

impl std::error::Error for SetupError {}
