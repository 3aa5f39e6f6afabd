//! Jobs for tests: they count their runs and do what they are told.

#![allow(dead_code)]

use async_trait::async_trait;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use ward_jobs::{Job, JobError, Schedule, Scope};

pub const T0: OffsetDateTime = datetime!(2026-03-04 05:06:07.123456 UTC);

/// What a test job does when it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Succeed,
    Fail,
    Panic,
}

pub struct Counting {
    pub name: String,
    pub schedule: Schedule,
    pub scope: Scope,
    pub behaviour: Behaviour,
    pub runs: Arc<AtomicU32>,
}

impl Counting {
    pub fn new(name: &str, period_secs: i64, scope: Scope, behaviour: Behaviour) -> (Arc<Self>, Arc<AtomicU32>) {
        let runs = Arc::new(AtomicU32::new(0));
        let job = Arc::new(Self {
            name: name.to_owned(),
            schedule: Schedule::every(Duration::seconds(period_secs)).expect("a positive period"),
            scope,
            behaviour,
            runs: runs.clone(),
        });
        (job, runs)
    }
}

#[async_trait]
impl Job for Counting {
    fn name(&self) -> &str {
        &self.name
    }
    fn schedule(&self) -> Schedule {
        self.schedule
    }
    fn scope(&self) -> Scope {
        self.scope
    }
    async fn run(&self, _now: OffsetDateTime) -> Result<String, JobError> {
        let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        match self.behaviour {
            Behaviour::Succeed => Ok(format!("run {n}")),
            Behaviour::Fail => Err(JobError::msg(format!("failure {n}"))),
            Behaviour::Panic => panic!("job panicked on run {n}"),
        }
    }
}

pub fn count(c: &AtomicU32) -> u32 {
    c.load(Ordering::SeqCst)
}
