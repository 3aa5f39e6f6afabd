//! The runner: decides from the clock which jobs are due, takes their leases, runs them, and
//! keeps each job's last run. It never sleeps: [`Runner::run_due`] looks once and returns,
//! so a fake clock drives it in tests; [`crate::driver`] wakes it in production.

use crate::job::{Job, Scope, SetupError};
use crate::schedule::later;
use crate::{Holder, Schedule};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use ward_core::Clock;
use ward_store::{Lease, LeaseGrant, LeaseStore};

/// What became of one due job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It ran and succeeded, with its note.
    Done(String),
    /// It ran and failed (or panicked); it runs again at its next time.
    Failed(String),
    /// Another process holds its lease: it did not run here. `None` when the lease was
    /// released just after the attempt.
    HeldElsewhere(Option<Lease>),
    /// Its lease could not be asked for (the store failed): it did not run.
    LeaseFailed(String),
}

impl Outcome {
    /// Whether the job ran in this process (successfully or not).
    pub fn ran(&self) -> bool {
        matches!(self, Self::Done(_) | Self::Failed(_))
    }
}

/// One due job's turn: when, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub job: String,
    /// The runner's clock when the turn began.
    pub at: OffsetDateTime,
    pub outcome: Outcome,
}

/// A job's state in its runner, for observability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub job: String,
    pub schedule: Schedule,
    pub scope: Scope,
    /// When it is due next.
    pub next: OffsetDateTime,
    /// Its last turn, if it has had one.
    pub last: Option<Ran>,
}

struct Slot {
    job: Arc<dyn Job>,
    name: String,
    schedule: Schedule,
    scope: Scope,
    /// When the job was added: the origin of an [`Schedule::Every`]'s slots.
    anchor: OffsetDateTime,
    next: OffsetDateTime,
    last: Option<Ran>,
}

/// Runs background jobs when they are due, each under its lease when it has one.
pub struct Runner {
    pub(crate) clock: Arc<dyn Clock>,
    leases: Arc<dyn LeaseStore>,
    holder: Holder,
    slots: Vec<Slot>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("holder", &self.holder)
            .field("jobs", &self.slots.iter().map(|s| &s.name).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner with no jobs, taking leases in `leases` as `holder`.
    pub fn new(clock: Arc<dyn Clock>, leases: Arc<dyn LeaseStore>, holder: Holder) -> Self {
        Self {
            clock,
            leases,
            holder,
            slots: Vec::new(),
        }
    }

    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// Adds a job; its first time is the first of its schedule after the clock's now.
    pub fn add(&mut self, job: Arc<dyn Job>) -> Result<&mut Self, SetupError> {
        let name = job.name().to_owned();
        if name.trim().is_empty() {
            return Err(SetupError::EmptyName);
        }
        if self.slots.iter().any(|s| s.name == name) {
            return Err(SetupError::DuplicateJob(name));
        }
        let (schedule, scope) = (job.schedule(), job.scope());
        if let Schedule::Every(period) = schedule {
            if !period.is_positive() {
                return Err(SetupError::PeriodNotPositive);
            }
        }
        if let Scope::OneProcess { lease } = scope {
            if !lease.is_positive() {
                return Err(SetupError::LeaseNotPositive(name));
            }
        }
        let now = self.clock.now();
        self.slots.push(Slot {
            next: schedule.next_after(now, now),
            job,
            name,
            schedule,
            scope,
            anchor: now,
            last: None,
        });
        Ok(self)
    }

    /// When the next job is due; `None` without jobs.
    pub fn next_due(&self) -> Option<OffsetDateTime> {
        self.slots.iter().map(|s| s.next).min()
    }

    /// Gives every job whose time has come (next ≤ the clock's now) its turn, one after
    /// another in the order they were added, and returns what became of each; jobs not due
    /// are left alone. A job in [`Scope::OneProcess`] runs only if this runner gets its
    /// lease. Whatever a job does (fail, panic), the others still have their turn and the
    /// job's next time is set.
    pub async fn run_due(&mut self) -> Vec<Ran> {
        let now = self.clock.now();
        let mut turns = Vec::new();
        for i in 0..self.slots.len() {
            if self.slots[i].next > now {
                continue;
            }
            let (outcome, took) = self.turn(i, now).await;
            let slot = &mut self.slots[i];
            slot.next = slot.schedule.next_after(slot.anchor, now);
            let ran = Ran {
                job: slot.name.clone(),
                at: now,
                outcome,
            };
            log(&ran, slot.next);
            crate::metrics::record(&ran, took);
            slot.last = Some(ran.clone());
            turns.push(ran);
        }
        turns
    }

    /// Takes the job's lease if it needs one and runs it; how long it ran, if it did.
    async fn turn(&self, i: usize, now: OffsetDateTime) -> (Outcome, Option<Duration>) {
        let slot = &self.slots[i];
        if let Scope::OneProcess { lease } = slot.scope {
            let until = later(now, lease);
            match self
                .leases
                .acquire_lease(&slot.name, self.holder.as_str(), now, until)
                .await
            {
                Ok(LeaseGrant::Acquired(_)) => {}
                Ok(LeaseGrant::Held(held)) => return (Outcome::HeldElsewhere(held), None),
                Err(e) => return (Outcome::LeaseFailed(e.to_string()), None),
            }
        }
        let started = Instant::now();
        let outcome = match AssertUnwindSafe(slot.job.run(now)).catch_unwind().await {
            Ok(Ok(note)) => Outcome::Done(note),
            Ok(Err(e)) => Outcome::Failed(e.to_string()),
            Err(panic) => Outcome::Failed(format!("the job panicked: {}", panic_message(&*panic))),
        };
        (outcome, Some(started.elapsed()))
    }

    /// Each job's schedule, next time and last turn.
    pub fn status(&self) -> Vec<JobStatus> {
        self.slots
            .iter()
            .map(|s| JobStatus {
                job: s.name.clone(),
                schedule: s.schedule,
                scope: s.scope,
                next: s.next,
                last: s.last.clone(),
            })
            .collect()
    }

    /// Gives up this runner's leases, so that another process takes its jobs at their next
    /// time instead of after the leases expire. For a clean shutdown; a failure is logged.
    pub async fn release_leases(&self) {
        for slot in &self.slots {
            if let Scope::OneProcess { .. } = slot.scope {
                if let Err(e) = self.leases.release_lease(&slot.name, self.holder.as_str()).await {
                    tracing::warn!(job = %slot.name, error = %e, "could not release a job's lease");
                }
            }
        }
    }
}

fn log(ran: &Ran, next: OffsetDateTime) {
    let job = ran.job.as_str();
    match &ran.outcome {
        Outcome::Done(note) => tracing::debug!(job, note = %note, %next, "background job done"),
        Outcome::Failed(e) => {
            tracing::warn!(job, error = %e, %next, "background job failed; it runs again at its next time");
        }
        Outcome::HeldElsewhere(lease) => {
            let holder = lease.as_ref().map_or("", |l| l.holder.as_str());
            tracing::debug!(job, holder, %next, "background job runs in another process");
        }
        Outcome::LeaseFailed(e) => {
            tracing::warn!(job, error = %e, %next, "could not take a background job's lease; it did not run");
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
