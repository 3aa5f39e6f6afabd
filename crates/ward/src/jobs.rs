//! The server's background jobs, on the job runner (`ward-jobs`): every checkpoint interval,
//! each process reloads its key files (checked against the store's key binding), one process
//! at a time signs a journal checkpoint, and one process at a time takes the key epochs a step
//! (`epochs`: rotates the KEK when it is due, destroys the old one after the grace period).
//! Every hour, one process at a time executes the destructions that fell due
//! (`destruction-due`).
//! With `[smtp]` configured, one process at a time delivers the outbox (`delivery`).

use crate::config::Config;
use crate::delivery::Delivery;
use crate::epochs::Epochs;
use anyhow::Result;
use async_trait::async_trait;
use std::sync::Arc;
use time::OffsetDateTime;
use ward_core::Clock;
use ward_jobs::{Holder, Job, JobError, Runner, Schedule, Scope, StoreLeases};
use ward_vault::Vault;

/// How often the driver looks at the clock at the least (it also wakes when a job is due).
pub const POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// The server's runner: its jobs, taking leases in the vault's store as this process.
pub fn runner(cfg: &Config, vault: &Vault, clock: Arc<dyn Clock>) -> Result<Runner> {
    let every = Schedule::every_secs(cfg.checkpoint_interval_secs)?;
    let epochs = Epochs::new(cfg, vault);
    let holder = Holder::for_this_process();
    let delivery = match &cfg.delivery {
        Some(d) => Some(Delivery::new(vault, d.clone(), holder.as_str().to_owned())?),
        None => None,
    };
    let mut runner = Runner::new(clock, StoreLeases::of(vault.store().clone()), holder);
    if let Some(d) = delivery {
        runner.add(Arc::new(d))?;
    }
    runner
        .add(Arc::new(ReloadKeys {
            epochs: epochs.clone(),
            every,
        }))?
        .add(Arc::new(Checkpoint {
            vault: vault.clone(),
            every,
        }))?
        .add(Arc::new(KekRotation { epochs, every }))?
        .add(Arc::new(DestructionDue {
            vault: vault.clone(),
            every: Schedule::every_secs(crate::bench_knobs::destruction_every_secs(DESTRUCTION_EVERY_SECS))?,
        }))?;
    Ok(runner)
}

/// How often the destruction job looks for what fell due: deadlines are counted in days.
pub const DESTRUCTION_EVERY_SECS: u64 = 3600;

/// Executes the destructions that fell due (`Vault::due`), each with its act, and purges acts
/// past their three years. In one process at a time; each destruction is keyed by its cause
/// in the store as well, so a second process could not write it twice anyway.
struct DestructionDue {
    vault: Vault,
    every: Schedule,
}

#[async_trait]
impl Job for DestructionDue {
    fn name(&self) -> &str {
        "destruction-due"
    }

    fn schedule(&self) -> Schedule {
        self.every
    }

    fn scope(&self) -> Scope {
        Scope::one_process_for(self.every)
    }

    async fn run(&self, _now: OffsetDateTime) -> Result<String, JobError> {
        let job = ward_core::Caller {
            actor: ward_core::Actor::System,
            role: ward_core::access::Role::Admin,
            purposes: Default::default(),
        };
        let started = std::time::Instant::now();
        match self.vault.due().run(&job).await {
            Ok(report) => {
                if report.destroyed > 0 || report.purged {
                    tracing::info!(
                        destroyed = report.destroyed,
                        purged = report.purged,
                        secs = started.elapsed().as_secs_f64(),
                        "destruction job"
                    );
                }
                Ok(report.to_string())
            }
            Err(e) => Err(JobError::msg(format!("destruction job: {e}"))),
        }
    }
}

/// Reloads this process's key files, so that a server running during a KEK rotation (by
/// another process, or `ward keys rotate`) puts the new KEK in force, and drops destroyed ones,
/// within an interval. Refuses (logs an error and keeps the ring in force) key files that are
/// not the store's. In every process: each has its own key ring.
struct ReloadKeys {
    epochs: Epochs,
    every: Schedule,
}

#[async_trait]
impl Job for ReloadKeys {
    fn name(&self) -> &str {
        "reload-keys"
    }

    fn schedule(&self) -> Schedule {
        self.every
    }

    fn scope(&self) -> Scope {
        Scope::EveryProcess
    }

    async fn run(&self, _now: OffsetDateTime) -> Result<String, JobError> {
        match self.epochs.reload().await {
            Ok(true) => Ok("key files reloaded: the key ring changed".into()),
            Ok(false) => Ok(String::new()),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "key files not reloaded; the keys in force stay");
                Err(JobError::msg(format!("could not reload the key files: {e:#}")))
            }
        }
    }
}

/// Takes the key epochs a step (`Epochs::step`): checked every checkpoint interval, it rotates
/// the KEK when `kek_rotation_interval_secs` have passed and destroys the old one after the
/// grace period. In one process at a time, under a lease that outlasts a re-wrap of a large
/// vault (an hour at least).
struct KekRotation {
    epochs: Epochs,
    every: Schedule,
}

#[async_trait]
impl Job for KekRotation {
    fn name(&self) -> &str {
        "kek-rotation"
    }

    fn schedule(&self) -> Schedule {
        self.every
    }

    fn scope(&self) -> Scope {
        Scope::OneProcess {
            lease: self.every.period().saturating_mul(2).max(time::Duration::hours(1)),
        }
    }

    async fn run(&self, now: OffsetDateTime) -> Result<String, JobError> {
        // An epoch's start and end are logged where they happen (`epochs`); the runner logs
        // the note and any failure.
        self.epochs
            .step(now)
            .await
            .map_err(|e| JobError::msg(format!("key rotation: {e:#}")))
    }
}

/// Signs a checkpoint of the journal head if it moved. In one process at a time: processes
/// sharing a database share one journal, and one signature per interval is enough.
struct Checkpoint {
    vault: Vault,
    every: Schedule,
}

#[async_trait]
impl Job for Checkpoint {
    fn name(&self) -> &str {
        "journal-checkpoint"
    }

    fn schedule(&self) -> Schedule {
        self.every
    }

    fn scope(&self) -> Scope {
        Scope::one_process_for(self.every)
    }

    async fn run(&self, _now: OffsetDateTime) -> Result<String, JobError> {
        match self.vault.journal().checkpoint().await {
            Ok(Some(cp)) => {
                tracing::info!(seq = cp.seq, "journal checkpoint signed");
                Ok(format!("signed at entry {}", cp.seq))
            }
            Ok(None) => Ok(String::new()),
            Err(e) => Err(JobError::msg(format!("could not sign a journal checkpoint: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{app, config, keyfiles};
    use time::macros::datetime;
    use time::Duration;
    use ward_core::access::Role;
    use ward_core::{Caller, FakeClock};
    use ward_jobs::Outcome;
    use ward_vault::VaultConfig;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_checkpoint_job_signs_a_moved_head_under_its_lease() {
        let dir = tempfile::tempdir().expect("temporary directory");
        app::init(dir.path(), &config::Overrides::default())
            .await
            .expect("ward init");
        let cfg = Config::load(dir.path(), &config::Overrides::default()).expect("the configuration");
        let clock = FakeClock::new(datetime!(2026-03-04 05:06:07 UTC));
        let keys = keyfiles::load(&cfg.keys_dir, cfg.blind_index_bits).expect("the keys");
        let (policy, source) = app::load_policy_source(&cfg.policy_path).expect("the policy");
        let store = app::open_store(&cfg).await.expect("the store");
        let vault = Vault::open(
            store.clone(),
            keys,
            policy,
            source,
            Arc::new(clock.clone()),
            VaultConfig::default(),
        )
        .await
        .expect("open the vault");
        let mut runner = runner(&cfg, &vault, Arc::new(clock.clone())).expect("the runner");
        let checkpoints = || async { store.find_checkpoints().await.expect("checkpoints").len() };
        let before = checkpoints().await;

        vault
            .api_keys()
            .create(&Caller::cli(), "another admin", Role::Admin, &[])
            .await
            .expect("a journaled write");
        clock.advance(Duration::seconds(59));
        assert!(runner.run_due().await.is_empty(), "not due before the interval");
        clock.advance(Duration::seconds(1));
        let turns = runner.run_due().await;
        let names: Vec<&str> = turns.iter().map(|t| t.job.as_str()).collect();
        assert_eq!(names, ["reload-keys", "journal-checkpoint", "kek-rotation"]);
        assert_eq!(turns[0].outcome, Outcome::Done(String::new()));
        assert!(
            matches!(&turns[1].outcome, Outcome::Done(note) if note.starts_with("signed at entry")),
            "{turns:?}"
        );
        assert_eq!(checkpoints().await, before + 1);
        let lease = store
            .find_lease("journal-checkpoint")
            .await
            .unwrap()
            .expect("its lease");
        assert_eq!(lease.holder, runner.holder().as_str());
        assert_eq!(lease.expires_at, clock.now() + Duration::seconds(120));

        // Nothing new: nothing signed.
        clock.advance(Duration::seconds(60));
        let turns = runner.run_due().await;
        assert_eq!(turns[1].outcome, Outcome::Done(String::new()));
        assert_eq!(checkpoints().await, before + 1);

        // The destruction job runs hourly, in one process under its lease.
        clock.set(datetime!(2026-03-04 06:06:07 UTC));
        let turns = runner.run_due().await;
        let due = turns
            .iter()
            .find(|t| t.job == "destruction-due")
            .expect("the destruction job ran");
        assert!(
            matches!(&due.outcome, Outcome::Done(note) if note.starts_with("0 subjects checked")),
            "{turns:?}"
        );
        assert!(store.find_lease("destruction-due").await.unwrap().is_some());
        runner.release_leases().await;
        vault.shutdown().await.expect("shut down");
    }
}
