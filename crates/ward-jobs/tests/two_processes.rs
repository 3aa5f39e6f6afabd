//! Two Ward processes on one database, each with its runner: a job in one process at a time.
//!
//! On PostgreSQL, the two "processes" are two stores with pools of their own on one schema, as
//! two Ward processes would have; one fake clock drives both runners. The holder is "killed"
//! by dropping its runner and its store without releasing anything; the other takes the job
//! over only once the lease has expired.

mod common;

use common::{count, Behaviour, Counting, T0};
use std::sync::atomic::AtomicU32;
use std::sync::Arc;
use time::Duration;
use ward_core::FakeClock;
use ward_jobs::{Holder, Outcome, Runner, Schedule, Scope, StoreLeases};
use ward_store::Store;
use ward_store_postgres::testing;

const JOB: &str = "journal-checkpoint";
const PERIOD: i64 = 60;

/// One process: its store, its runner, and how often the job ran in it.
struct Process {
    name: &'static str,
    store: Arc<dyn Store>,
    runner: Runner,
    runs: Arc<AtomicU32>,
}

fn process(name: &'static str, store: Arc<dyn Store>, clock: &FakeClock) -> Process {
    let schedule = Schedule::every_secs(PERIOD as u64).expect("a positive period");
    let (job, runs) = Counting::new(JOB, PERIOD, Scope::one_process_for(schedule), Behaviour::Succeed);
    let mut runner = Runner::new(
        Arc::new(clock.clone()),
        StoreLeases::of(store.clone()),
        Holder::named(name).expect("a holder name"),
    );
    runner.add(job).expect("add the job");
    Process {
        name,
        store,
        runner,
        runs,
    }
}

/// Both processes take their turn at the same time; returns whether each ran the job.
async fn both_turn(a: &mut Process, b: &mut Process) -> (bool, bool) {
    let (ta, tb) = tokio::join!(a.runner.run_due(), b.runner.run_due());
    assert_eq!((ta.len(), tb.len()), (1, 1), "the job is due in both");
    for t in ta.iter().chain(&tb) {
        assert!(
            matches!(t.outcome, Outcome::Done(_) | Outcome::HeldElsewhere(_)),
            "{t:?}"
        );
    }
    (ta[0].outcome.ran(), tb[0].outcome.ran())
}

async fn one_at_a_time_and_taken_over_after_expiry(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let clock = FakeClock::new(T0);
    let mut a = process("process-a", a, &clock);
    let mut b = process("process-b", b, &clock);
    let lease = Scope::one_process_for(Schedule::every_secs(PERIOD as u64).unwrap());
    assert_eq!(
        lease,
        Scope::OneProcess {
            lease: Duration::seconds(2 * PERIOD)
        }
    );

    // Five periods: the job runs in exactly one process each time, and it stays there.
    let mut holders = Vec::new();
    for period in 1..=5u32 {
        clock.advance(Duration::seconds(PERIOD));
        let ran = both_turn(&mut a, &mut b).await;
        assert!(
            ran.0 != ran.1,
            "period {period}: exactly one process runs the job, got {ran:?}"
        );
        assert_eq!(count(&a.runs) + count(&b.runs), period);
        holders.push(if ran.0 { a.name } else { b.name });
    }
    assert!(
        holders.windows(2).all(|w| w[0] == w[1]),
        "the holder keeps the job: {holders:?}"
    );
    let last_run = T0 + Duration::seconds(5 * PERIOD);
    let lease = a.store.find_lease(JOB).await.unwrap().expect("the lease");
    assert_eq!(lease.holder, holders[0]);
    assert_eq!(lease.expires_at, last_run + Duration::seconds(2 * PERIOD));

    // The holder is killed: its runner and store are gone, its lease is left behind.
    let (dead, mut survivor) = if holders[0] == a.name { (a, b) } else { (b, a) };
    let dead_name = dead.name;
    drop(dead);
    let survived_runs = count(&survivor.runs);

    // One period later the lease has not expired: the survivor does not run the job.
    clock.advance(Duration::seconds(PERIOD));
    let turns = survivor.runner.run_due().await;
    match &turns[0].outcome {
        Outcome::HeldElsewhere(Some(l)) => assert_eq!(l.holder, dead_name),
        other => panic!("before the lease expires the job must not run: {other:?}"),
    }
    // A moment before the lease expires, still not (and nothing is due anyway).
    clock.advance(Duration::seconds(PERIOD) - Duration::microseconds(1));
    assert!(survivor.runner.run_due().await.is_empty());
    assert_eq!(count(&survivor.runs), survived_runs);

    // At its slot when the lease has expired, the survivor takes the job over, and keeps it.
    clock.advance(Duration::microseconds(1));
    assert_eq!(clock_now(&clock), last_run + Duration::seconds(2 * PERIOD));
    let turns = survivor.runner.run_due().await;
    assert!(turns[0].outcome.ran(), "after the lease expired: {:?}", turns[0]);
    let lease = survivor.store.find_lease(JOB).await.unwrap().expect("the lease");
    assert_eq!(lease.holder, survivor.name);
    assert_eq!(lease.acquired_at, clock_now(&clock));
    clock.advance(Duration::seconds(PERIOD));
    assert!(survivor.runner.run_due().await[0].outcome.ran());
    assert_eq!(count(&survivor.runs), survived_runs + 2);
}

fn clock_now(clock: &FakeClock) -> time::OffsetDateTime {
    ward_core::Clock::now(clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_job_runs_in_one_process_at_a_time_and_is_taken_over_after_its_holder_dies() {
    let Some((first, schema)) = testing::fresh_store().await else {
        return;
    };
    let second = testing::store_on(&schema).await;
    one_at_a_time_and_taken_over_after_expiry(Arc::new(first), Arc::new(second)).await;
    testing::drop_schema(&schema).await;
}

/// The same on SQLite, with both runners on one store: two stores of one file in one test
/// process would share the process's POSIX locks on it (see ARCHITECTURE.md), and the lease
/// works the same whichever connection asks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_job_runs_in_one_runner_at_a_time_and_is_taken_over_after_its_holder_dies() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store: Arc<dyn Store> = Arc::new(
        ward_store_sqlite::SqliteStore::open(&dir.path().join("ward.db"))
            .await
            .expect("open a SQLite store"),
    );
    one_at_a_time_and_taken_over_after_expiry(store.clone(), store).await;
}
