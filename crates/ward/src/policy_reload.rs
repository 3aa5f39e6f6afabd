//! The job that brings policy versions published elsewhere into this process: `ward policy
//! publish` from the CLI, or another server on the same PostgreSQL database, records a version
//! in the store; every few seconds each process reads the versions table and adds the new
//! ones. The vault chooses the version in force by its `effective_at` at every operation, so a
//! version published for a later time is in force here at that time, and one published for
//! now within [`EVERY`].
//!
//! Polling, not PostgreSQL's LISTEN/NOTIFY: it is the same for both backends (SQLite has no
//! notifications between processes), the read is one small table of a handful of rows (only
//! new versions are parsed), and a missed notification could never leave a process behind.

use async_trait::async_trait;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use ward_jobs::{Job, JobError, Runner, Schedule, Scope, SetupError};
use ward_vault::Vault;

/// How often each process reads the versions table.
pub const EVERY: u64 = 5;

/// Adds the job to a process's runner.
pub fn add(runner: &mut Runner, vault: &Vault) -> Result<(), SetupError> {
    runner.add(Arc::new(ReloadPolicies {
        vault: vault.clone(),
        every: Schedule::every_secs(EVERY)?,
    }))?;
    Ok(())
}

/// Loads policy versions other processes published. In every process: each has its own list.
struct ReloadPolicies {
    vault: Vault,
    every: Schedule,
}

#[async_trait]
impl Job for ReloadPolicies {
    fn name(&self) -> &str {
        "reload-policies"
    }

    fn schedule(&self) -> Schedule {
        self.every
    }

    fn scope(&self) -> Scope {
        Scope::EveryProcess
    }

    async fn run(&self, _now: OffsetDateTime) -> Result<String, JobError> {
        let added = self
            .vault
            .policies()
            .reload()
            .await
            .map_err(|e| JobError::msg(format!("could not read the policy versions: {e}")))?;
        let notes: Vec<String> = added
            .iter()
            .map(|v| {
                let when = v.effective_at.format(&Rfc3339).unwrap_or_default();
                tracing::info!(
                    hash = %v.hash,
                    policy = %v.policy.id,
                    version = %v.policy.version,
                    effective_at = %when,
                    "policy version published elsewhere loaded"
                );
                format!("{} ({}@{}) from {when}", v.hash, v.policy.id, v.policy.version)
            })
            .collect();
        Ok(notes.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::Duration;
    use ward_core::policy::DEFAULT_POLICY;
    use ward_core::{Caller, Clock, FakeClock, Policy};
    use ward_jobs::{Holder, Outcome, StoreLeases};
    use ward_store::Store;
    use ward_vault::{KeyMaterial, PolicySource, VaultConfig};

    async fn open(store: Arc<dyn Store>, clock: &FakeClock) -> Vault {
        Vault::open(
            store,
            KeyMaterial::generate(24),
            Policy::parse(DEFAULT_POLICY).expect("the default policy"),
            DEFAULT_POLICY,
            Arc::new(clock.clone()),
            VaultConfig::default(),
        )
        .await
        .expect("open a vault")
    }

    /// A running vault (`a`, with its runner) and another process's vault (`b`) on the same
    /// store: a version `b` publishes for a later time is in force in `a` at that time.
    async fn a_version_published_elsewhere_is_in_force_by_its_time(first: Arc<dyn Store>, second: Arc<dyn Store>) {
        let clock = FakeClock::new(datetime!(2026-05-04 10:00 UTC));
        let a = open(first.clone(), &clock).await;
        let mut runner = Runner::new(
            Arc::new(clock.clone()),
            StoreLeases::of(first),
            Holder::named("a").expect("a holder"),
        );
        add(&mut runner, &a).expect("the job");
        let b = open(second, &clock).await;
        let seeded = a.policies().current_hash();
        assert_eq!(b.policies().current_hash(), seeded, "the second vault seeds nothing");

        let next = format!(
            "{}\n[purposes.profiling]\ntitle = \"Personal recommendations\"\nlegal_basis = \"consent\"\ncategories = [\"contact\"]\nactions = [\"use\"]\n",
            DEFAULT_POLICY
                .replace("version = \"1\"", "version = \"2\"")
                .replace("purposes = [\"marketing\"]", "purposes = [\"marketing\", \"profiling\"]")
        );
        let at = clock.now() + Duration::hours(1);
        let published = b
            .policies()
            .publish(&Caller::cli(), PolicySource::from(next.as_str()), Some(at))
            .await
            .expect("publish from the other process");
        assert!(published.new);
        assert_eq!(a.policies().versions().len(), 1, "not seen before the job runs");

        clock.advance(Duration::seconds(EVERY as i64 - 1));
        assert!(runner.run_due().await.is_empty(), "not due yet");
        clock.advance(Duration::seconds(1));
        let turns = runner.run_due().await;
        assert_eq!(turns.len(), 1, "{turns:?}");
        assert!(
            matches!(&turns[0].outcome, Outcome::Done(note) if note.contains(&published.version.hash)),
            "{turns:?}"
        );
        assert_eq!(a.policies().versions().len(), 2);
        assert_eq!(a.policies().current_hash(), seeded, "not in force before its time");

        clock.set(at);
        assert_eq!(a.policies().current_hash(), published.version.hash);
        assert!(a.policies().current().purposes.contains_key("profiling"));

        // Nothing new: the job says nothing.
        clock.advance(Duration::seconds(EVERY as i64));
        let turns = runner.run_due().await;
        assert_eq!(turns[0].outcome, Outcome::Done(String::new()));

        // Publishing sees what other processes published, job or no job: the same content as
        // a version `b` scheduled is that version, not a new one at another time; asked for
        // another time it reschedules that version, and `b` takes the new time up on reload.
        let third = next.replace("version = \"2\"", "version = \"3\"");
        let later = clock.now() + Duration::days(1);
        assert!(
            b.policies()
                .publish(&Caller::cli(), PolicySource::from(third.as_str()), Some(later))
                .await
                .expect("publish version 3 elsewhere")
                .new
        );
        let moved_to = later + Duration::hours(1);
        let moved = a
            .policies()
            .publish(&Caller::cli(), PolicySource::from(third.as_str()), Some(moved_to))
            .await
            .expect("rescheduled");
        assert!(!moved.new && moved.rescheduled_from == Some(later) && moved.version.effective_at == moved_to);
        let same = a
            .policies()
            .publish(&Caller::cli(), PolicySource::from(third.as_str()), Some(moved_to))
            .await
            .expect("the same request");
        assert!(!same.new && same.rescheduled_from.is_none() && same.version.effective_at == moved_to);
        b.policies().reload().await.expect("reload b");
        clock.set(later);
        assert_ne!(
            b.policies().current_hash(),
            moved.version.hash,
            "not at its old time in b"
        );
        clock.set(moved_to);
        assert_eq!(b.policies().current_hash(), moved.version.hash, "at its new time in b");
        b.shutdown().await.expect("shut down b");
        a.shutdown().await.expect("shut down a");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_a_version_published_elsewhere_is_in_force_by_its_time() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("ward.db");
        let first = ward_store_sqlite::SqliteStore::open(&path).await.expect("open");
        let second = ward_store_sqlite::SqliteStore::open(&path).await.expect("open again");
        a_version_published_elsewhere_is_in_force_by_its_time(Arc::new(first), Arc::new(second)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_a_version_published_elsewhere_is_in_force_by_its_time() {
        let Some((first, schema)) = ward_store_postgres::testing::fresh_store().await else {
            return;
        };
        let second = ward_store_postgres::testing::store_on(&schema).await;
        a_version_published_elsewhere_is_in_force_by_its_time(Arc::new(first.clone()), Arc::new(second.clone())).await;
        first.close().await;
        second.close().await;
        ward_store_postgres::testing::drop_schema(&schema).await;
    }
}
