//! The job that removes expired idempotency records (`ward_vault::idempotency`): a record
//! answers for its key 24 hours; after that it no longer counts, and this job deletes it, with
//! its sealed answer. In one process at a time (processes sharing a database share the
//! records); hourly.

use async_trait::async_trait;
use std::sync::Arc;
use time::OffsetDateTime;
use ward_jobs::{Job, JobError, Runner, Schedule, Scope, SetupError};
use ward_vault::Vault;

/// How often expired records are removed.
pub const EVERY: u64 = 3600;

/// Adds the job to a process's runner.
pub fn add(runner: &mut Runner, vault: &Vault) -> Result<(), SetupError> {
    let every = Schedule::every_secs(EVERY)?;
    runner.add(Arc::new(PruneIdempotency {
        vault: vault.clone(),
        every,
    }))?;
    Ok(())
}

struct PruneIdempotency {
    vault: Vault,
    every: Schedule,
}

#[async_trait]
impl Job for PruneIdempotency {
    fn name(&self) -> &str {
        "prune-idempotency-keys"
    }

    fn schedule(&self) -> Schedule {
        self.every
    }

    fn scope(&self) -> Scope {
        Scope::one_process_for(self.every)
    }

    async fn run(&self, _now: OffsetDateTime) -> Result<String, JobError> {
        self.vault
            .idempotency()
            .prune()
            .await
            .map_err(|e| JobError::msg(format!("could not remove expired idempotency records: {e}")))?;
        Ok(String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use time::macros::datetime;
    use time::Duration;
    use ward_core::policy::DEFAULT_POLICY;
    use ward_core::{Caller, FakeClock, Policy};
    use ward_jobs::{Holder, Outcome, StoreLeases};
    use ward_store::Store;
    use ward_vault::idempotency::{fingerprint, Answer, Checked};
    use ward_vault::{KeyMaterial, NewSubjectInput, VaultConfig};

    /// A record made under a key answers for 24 hours; the job removes it once it expired,
    /// not before.
    async fn the_job_removes_records_once_expired(store: Arc<dyn Store>) {
        let clock = FakeClock::new(datetime!(2026-05-04 10:00 UTC));
        let vault = Vault::open(
            store.clone(),
            KeyMaterial::generate(24),
            Policy::parse(DEFAULT_POLICY).expect("the default policy"),
            DEFAULT_POLICY,
            Arc::new(clock.clone()),
            VaultConfig::default(),
        )
        .await
        .expect("open a vault");
        let mut runner = Runner::new(
            Arc::new(clock.clone()),
            StoreLeases::of(store.clone()),
            Holder::named("a").expect("a holder"),
        );
        add(&mut runner, &vault).expect("the job");

        let caller = Caller::cli();
        let idem = vault.idempotency();
        let key = idem.key_hash(&caller, "retry-1");
        let request = fingerprint("POST", "/v1/subjects", b"{}");
        let Checked::Run(ticket) = idem.check(&caller, key, request).await.expect("check") else {
            panic!("a new key runs");
        };
        let input = NewSubjectInput {
            purpose: "registration".into(),
            fields: BTreeMap::from([("email".to_owned(), "anna@example.org".to_owned())]),
            consents: vec![],
            age_band: None,
            evidence: None,
            bases: vec![],
        };
        let (created, claimed) = idem.run(&ticket, vault.subjects().create(&caller, input)).await;
        created.expect("created");
        assert!(claimed, "the creation claimed the key");
        let answer = Answer {
            status: 201,
            body: b"{\"id\":\"x\"}".to_vec(),
        };
        idem.complete(&ticket, &answer).await.expect("complete");
        assert!(matches!(idem.check(&caller, key, request).await, Ok(Checked::Replay(a)) if a == answer));

        clock.advance(Duration::hours(23));
        let turns = runner.run_due().await;
        assert!(turns.iter().all(|t| matches!(t.outcome, Outcome::Done(_))), "{turns:?}");
        assert!(store.find_idempotency(&key).await.expect("find").is_some(), "live");

        clock.advance(Duration::hours(1) + Duration::seconds(1));
        let turns = runner.run_due().await;
        assert!(turns.iter().all(|t| matches!(t.outcome, Outcome::Done(_))), "{turns:?}");
        assert_eq!(store.find_idempotency(&key).await.expect("find"), None, "pruned");
        assert!(matches!(idem.check(&caller, key, request).await, Ok(Checked::Run(_))));
        vault.shutdown().await.expect("shut down");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_the_job_removes_records_once_expired() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = ward_store_sqlite::SqliteStore::open(&dir.path().join("ward.db"))
            .await
            .expect("open");
        the_job_removes_records_once_expired(Arc::new(store)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_the_job_removes_records_once_expired() {
        let Some((store, _schema)) = ward_store_postgres::testing::fresh_store().await else {
            return;
        };
        the_job_removes_records_once_expired(Arc::new(store.clone())).await;
        store.close().await;
    }
}
