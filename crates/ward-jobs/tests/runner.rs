//! The runner on one SQLite store, driven by a fake clock.

mod common;

use common::{count, Behaviour, Counting, T0};
use std::sync::Arc;
use time::macros::time;
use time::Duration;
use ward_core::FakeClock;
use ward_jobs::{Holder, Job, JobError, Outcome, Runner, Schedule, Scope, SetupError, StoreLeases};
use ward_store::Store;
use ward_store_sqlite::SqliteStore;

struct Fixture {
    clock: FakeClock,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&dir.path().join("ward.db"))
        .await
        .expect("open a SQLite store");
    Fixture {
        clock: FakeClock::new(T0),
        store: Arc::new(store),
        _dir: dir,
    }
}

impl Fixture {
    fn runner(&self, holder: &str) -> Runner {
        Runner::new(
            Arc::new(self.clock.clone()),
            StoreLeases::of(self.store.clone()),
            Holder::named(holder).expect("a holder name"),
        )
    }
}

fn one_process(secs: i64) -> Scope {
    Scope::OneProcess {
        lease: Duration::seconds(secs),
    }
}

#[tokio::test]
async fn jobs_run_when_due_by_the_clock() {
    let f = fixture().await;
    let mut runner = f.runner("a");
    let (minute, minutes) = Counting::new("minute", 60, Scope::EveryProcess, Behaviour::Succeed);
    let (hour, hours) = Counting::new("hour", 3600, one_process(7200), Behaviour::Succeed);
    runner.add(minute).unwrap().add(hour).unwrap();
    assert_eq!(runner.next_due(), Some(T0 + Duration::seconds(60)));

    assert!(runner.run_due().await.is_empty(), "nothing is due at the start");
    f.clock.advance(Duration::seconds(59));
    assert!(runner.run_due().await.is_empty());
    f.clock.advance(Duration::seconds(1));
    let turns = runner.run_due().await;
    assert_eq!(turns.len(), 1);
    assert_eq!(turns[0].job, "minute");
    assert_eq!(turns[0].at, T0 + Duration::seconds(60));
    assert_eq!(turns[0].outcome, Outcome::Done("run 1".into()));
    assert!(runner.run_due().await.is_empty(), "once per slot");

    // Ten minutes pass in one step: missed slots are not made up.
    f.clock.advance(Duration::minutes(10));
    assert_eq!(runner.run_due().await.len(), 1);
    assert_eq!((count(&minutes), count(&hours)), (2, 0));
    assert_eq!(runner.next_due(), Some(T0 + Duration::seconds(720)));

    f.clock.set(T0 + Duration::hours(1));
    let turns = runner.run_due().await;
    let names: Vec<&str> = turns.iter().map(|t| t.job.as_str()).collect();
    assert_eq!(names, ["minute", "hour"], "in the order added");
    assert_eq!((count(&minutes), count(&hours)), (3, 1));

    let status = runner.status();
    assert_eq!(status[1].job, "hour");
    assert_eq!(status[1].next, T0 + Duration::hours(2));
    assert_eq!(
        status[1].last.as_ref().map(|r| &r.outcome),
        Some(&Outcome::Done("run 1".into()))
    );
    // The leased job left its lease; the other took none.
    let lease = f.store.find_lease("hour").await.unwrap().expect("a lease");
    assert_eq!(lease.holder, "a");
    assert_eq!(lease.expires_at, T0 + Duration::hours(3));
    assert_eq!(f.store.find_lease("minute").await.unwrap(), None);
    // Leases are not journaled.
    assert_eq!(f.store.find_journal_head().await.unwrap(), None);
}

#[tokio::test]
async fn a_failing_or_panicking_job_is_retried_and_never_stops_the_others() {
    let f = fixture().await;
    let mut runner = f.runner("a");
    let (failing, failures) = Counting::new("failing", 60, one_process(120), Behaviour::Fail);
    let (panicking, panics) = Counting::new("panicking", 60, Scope::EveryProcess, Behaviour::Panic);
    let (fine, fines) = Counting::new("fine", 60, Scope::EveryProcess, Behaviour::Succeed);
    runner.add(failing).unwrap().add(panicking).unwrap().add(fine).unwrap();
    for period in 1..=3 {
        f.clock.advance(Duration::seconds(60));
        let turns = runner.run_due().await;
        assert_eq!(turns.len(), 3);
        assert_eq!(turns[0].outcome, Outcome::Failed(format!("failure {period}")));
        assert_eq!(
            turns[1].outcome,
            Outcome::Failed(format!("the job panicked: job panicked on run {period}"))
        );
        assert_eq!(turns[2].outcome, Outcome::Done(format!("run {period}")));
        assert!(turns.iter().all(|t| t.outcome.ran()));
    }
    assert_eq!((count(&failures), count(&panics), count(&fines)), (3, 3, 3));
    assert_eq!(runner.next_due(), Some(T0 + Duration::seconds(240)));
}

#[tokio::test]
async fn a_job_whose_lease_is_held_elsewhere_does_not_run_here() {
    let f = fixture().await;
    f.store
        .acquire_lease("leased", "someone-else", T0, T0 + Duration::seconds(90))
        .await
        .unwrap();
    let mut runner = f.runner("a");
    let (job, runs) = Counting::new("leased", 60, one_process(120), Behaviour::Succeed);
    runner.add(job).unwrap();
    f.clock.advance(Duration::seconds(60));
    let turns = runner.run_due().await;
    match &turns[0].outcome {
        Outcome::HeldElsewhere(Some(l)) => assert_eq!(l.holder, "someone-else"),
        other => panic!("expected HeldElsewhere, got {other:?}"),
    }
    assert!(!turns[0].outcome.ran());
    assert_eq!(count(&runs), 0);
    // Its next time comes after the other's lease expired: now it runs here.
    f.clock.advance(Duration::seconds(60));
    assert_eq!(runner.run_due().await[0].outcome, Outcome::Done("run 1".into()));
    // Released on a clean stop, so another process need not wait for it to expire.
    runner.release_leases().await;
    assert_eq!(f.store.find_lease("leased").await.unwrap(), None);
}

#[tokio::test]
async fn setup_mistakes_are_errors() {
    let f = fixture().await;
    let mut runner = f.runner("a");
    let (job, _) = Counting::new("x", 60, Scope::EveryProcess, Behaviour::Succeed);
    runner.add(job.clone()).unwrap();
    assert_eq!(runner.add(job).err(), Some(SetupError::DuplicateJob("x".into())));
    let (unnamed, _) = Counting::new(" ", 60, Scope::EveryProcess, Behaviour::Succeed);
    assert_eq!(runner.add(unnamed).err(), Some(SetupError::EmptyName));
    let (no_lease, _) = Counting::new("y", 60, one_process(0), Behaviour::Succeed);
    assert_eq!(
        runner.add(no_lease).err(),
        Some(SetupError::LeaseNotPositive("y".into()))
    );
    assert_eq!(Holder::named("").err(), Some(SetupError::EmptyName));
    assert_eq!(
        Scope::one_process_for(Schedule::every_secs(60).unwrap()),
        one_process(120)
    );
}

/// A job on a daily schedule.
struct Nightly;

#[async_trait::async_trait]
impl Job for Nightly {
    fn name(&self) -> &str {
        "nightly"
    }
    fn schedule(&self) -> Schedule {
        Schedule::daily_at(time!(03:00))
    }
    fn scope(&self) -> Scope {
        Scope::one_process_for(self.schedule())
    }
    async fn run(&self, now: time::OffsetDateTime) -> Result<String, JobError> {
        Ok(format!("ran at {}", now.time()))
    }
}

#[tokio::test]
async fn daily_jobs_run_at_their_time() {
    let f = fixture().await;
    let mut runner = f.runner("a");
    runner.add(Arc::new(Nightly)).unwrap();
    // T0 is 05:06 on March 4th: the first run is on the 5th at 03:00.
    f.clock.set(time::macros::datetime!(2026-03-05 02:59:59 UTC));
    assert!(runner.run_due().await.is_empty());
    f.clock.advance(Duration::seconds(1));
    assert_eq!(
        runner.run_due().await[0].outcome,
        Outcome::Done("ran at 3:00:00.0".into())
    );
    assert_eq!(runner.next_due(), Some(time::macros::datetime!(2026-03-06 03:00 UTC)));
}

/// A job that tells the test each time it has run.
struct Signalling(tokio::sync::mpsc::UnboundedSender<time::OffsetDateTime>);

#[async_trait::async_trait]
impl Job for Signalling {
    fn name(&self) -> &str {
        "signalling"
    }
    fn schedule(&self) -> Schedule {
        Schedule::every_secs(60).unwrap()
    }
    fn scope(&self) -> Scope {
        one_process(120)
    }
    async fn run(&self, now: time::OffsetDateTime) -> Result<String, JobError> {
        self.0.send(now).map_err(JobError::msg)?;
        Ok(String::new())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_driver_runs_due_jobs_and_releases_its_leases_when_stopped() {
    let f = fixture().await;
    let mut runner = f.runner("a");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    runner.add(Arc::new(Signalling(tx))).unwrap();
    // The driver looks at least every 5 ms, so it sees the fake clock jump.
    let driven = runner.spawn(std::time::Duration::from_millis(5));
    for period in 1..=3 {
        f.clock.advance(Duration::seconds(60));
        assert_eq!(rx.recv().await, Some(T0 + Duration::seconds(60 * period)));
    }
    assert_eq!(
        f.store.find_lease("signalling").await.unwrap().map(|l| l.holder),
        Some("a".into())
    );
    let runner = driven.stop().await.expect("the driver's task ends cleanly");
    assert_eq!(runner.status()[0].last.as_ref().map(|r| r.outcome.ran()), Some(true));
    assert_eq!(f.store.find_lease("signalling").await.unwrap(), None);
}
