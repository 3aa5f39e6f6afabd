//! Ward's background jobs.
//!
//! A [`Job`] has a name, a [`Schedule`] (every so often, or daily at a time) and a [`Scope`]:
//! it runs in every Ward process, or in one process at a time under a lease in the store
//! ([`ward_store::LeaseStore`]). A [`Runner`] holds the jobs of one process: it reads the time
//! from a [`ward_core::Clock`] and runs what is due when asked ([`Runner::run_due`]), so a
//! `FakeClock` drives it in tests with no sleeps; in production [`Runner::spawn`] drives it
//! on a task of its own until [`Driven::stop`].
//!
//! With several processes on one database, a job in [`Scope::OneProcess`] runs where its lease
//! is: the runner takes or renews the lease before each run, and a process that does not get
//! it skips its turn. A lease left by a killed process expires, and another process then takes
//! the job over. A failing (or panicking) job is logged and run again at its next time; it
//! never stops the runner.
//!
//! Nothing in Ward needs a job to be right (see ARCHITECTURE.md): deadlines and expiry are
//! computed from the clock at each operation. Jobs do the work that must happen even when no
//! one calls: signing checkpoints, and (to come) acting on destruction deadlines, retention
//! and the outbox.
//!
//! The runner records every turn for the operator's metrics ([`metrics`]).

mod driver;
mod holder;
mod job;
mod leases;
pub mod metrics;
mod runner;
mod schedule;

pub use driver::Driven;
pub use holder::Holder;
pub use job::{Job, JobError, Scope, SetupError};
pub use leases::StoreLeases;
pub use runner::{JobStatus, Outcome, Ran, Runner};
pub use schedule::Schedule;
