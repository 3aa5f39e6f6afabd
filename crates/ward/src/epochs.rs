//! Key epochs: the key-encryption key (KEK) is rotated on a schedule and the old one destroyed,
//! so that every copy of an erased subject's wrapped data key that Ward cannot scrub (WAL,
//! dead rows, replicas, archives, snapshots, old backups and key exports) ends up wrapped under
//! a KEK that no longer exists.
//!
//! An epoch is the time a KEK is active. It starts when the KEK is recorded in the store's key
//! binding (its `recorded_at`), and its steps are each safe to run again after a crash:
//!
//! 1. [`Epochs::begin`] (when the active KEK is `kek_rotation_interval_secs` old): a new KEK
//!    is recorded in the binding (journaled, `key.binding`), *then* its file `kek-N.key` is
//!    written (atomically), so every KEK file on disk is one the store knows; this process
//!    puts it in force and [`Epochs::rewrap`] re-wraps every live data key under it. A crash
//!    after the record and before the file leaves a recorded KEK with no file: unused, and the
//!    next epoch takes the next id.
//! 2. [`Epochs::finish`] (once the new KEK has been recorded for the grace period, two
//!    checkpoint intervals and a minute: every process sharing the key directory has reloaded
//!    it by then): re-wraps again (catching data keys other processes wrapped under the old
//!    KEK meanwhile), checks that the store holds no data key under an older KEK, journals
//!    `key.destroyed`, and destroys the older `kek-N.key` files (zeroed, synced, unlinked).
//!    If any data key is still under an older KEK nothing is destroyed and the run fails.
//!
//! [`Epochs::reload`] is how every process puts the key files in force: only when every KEK
//! file is one the store's binding records with the same fingerprint; otherwise it keeps the
//! ring it has. The scheduled job (`jobs.rs`) and `ward keys rotate` share this code.

use crate::binding::{self, NewKeks};
use crate::config::Config;
use crate::keyfiles::{self, Loaded, NewKek};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::BTreeSet;
use time::{Duration, OffsetDateTime};
use ward_core::access::Role;
use ward_core::{Actor, Caller};
use ward_store::BoundKey;
use ward_vault::{RotationReport, Vault};

/// What [`Epochs::finish`] found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// No KEK file older than the active one.
    Nothing,
    /// Older KEK files wait for the grace period to end at `due`.
    NotYet { old: Vec<u32>, due: OffsetDateTime },
    /// The older KEK files were destroyed.
    Destroyed { old: Vec<u32>, rewrapped: u64 },
}

/// The key epochs of one vault and its key directory.
#[derive(Clone)]
pub struct Epochs {
    cfg: Config,
    vault: Vault,
    /// Who the journal names for re-wraps and destructions: Ward itself, or the operator.
    caller: Caller,
}

/// Ward itself, as the actor of what the rotation job journals.
pub(crate) fn system() -> Caller {
    Caller {
        actor: Actor::System,
        role: Role::Admin,
        purposes: BTreeSet::new(),
    }
}

fn ids(list: &[u32]) -> String {
    list.iter().map(|id| format!("kek-{id}")).collect::<Vec<_>>().join(", ")
}

impl Epochs {
    pub fn new(cfg: &Config, vault: &Vault) -> Self {
        Self {
            cfg: cfg.clone(),
            vault: vault.clone(),
            caller: system(),
        }
    }

    /// The same, journaled as done by `caller` (the operator, for `ward keys rotate`).
    #[must_use]
    pub fn by(mut self, caller: Caller) -> Self {
        self.caller = caller;
        self
    }

    fn interval(&self) -> Duration {
        Duration::seconds(i64::try_from(self.cfg.kek_rotation_interval_secs).unwrap_or(i64::MAX))
    }

    fn grace(&self) -> Duration {
        Duration::seconds(i64::try_from(self.cfg.kek_grace_secs()).unwrap_or(i64::MAX))
    }

    /// The key files and the store's binding, refusing any key file the binding does not
    /// record with the same fingerprint.
    async fn checked(&self) -> Result<(Loaded, Vec<BoundKey>)> {
        let loaded = keyfiles::load_with_fingerprints(&self.cfg.keys_dir, self.cfg.blind_index_bits)?;
        let recorded = self
            .vault
            .store()
            .find_key_binding()
            .await
            .context("reading the store's key binding")?;
        binding::compare(&recorded, &loaded, &self.cfg, NewKeks::Refuse)?;
        Ok((loaded, recorded))
    }

    /// When the active KEK (the highest-numbered file) was recorded: its epoch's start.
    fn started(loaded: &Loaded, recorded: &[BoundKey]) -> Result<(u32, OffsetDateTime)> {
        let active = loaded.material.keyring.active_id().to_owned();
        let name = keyfiles::kek_binding_name(&active);
        let at = recorded
            .iter()
            .find(|b| b.name == name)
            .map(|b| b.recorded_at)
            .ok_or_else(|| anyhow!("kek-{active}.key is not recorded in the store's key binding"))?;
        let id = active
            .parse()
            .map_err(|_| anyhow!("kek-{active}.key does not have a numeric id"))?;
        Ok((id, at))
    }

    /// Puts the key files in force in this process, if every KEK file is the store's (else
    /// an error, and the ring in force stays). Copes with old KEK files having been destroyed:
    /// they leave this process's memory too. Returns whether the ring changed.
    pub async fn reload(&self) -> Result<bool> {
        let (loaded, recorded) = self.checked().await?;
        let (_, started) = Self::started(&loaded, &recorded)?;
        ward_vault::metrics::record_kek_epoch(started);
        Ok(self.vault.keys().install(loaded.material.keyring))
    }

    /// Starts a new epoch: records a new KEK in the binding at `now` (journaled), writes its
    /// file, and puts it in force here. Returns its id. Re-wrapping is [`Epochs::rewrap`].
    pub async fn begin(&self, now: OffsetDateTime) -> Result<u32> {
        let (_, recorded) = self.checked().await?;
        let on_disk = keyfiles::kek_ids(&self.cfg.keys_dir)?;
        // A KEK recorded whose file was never written (a crash in between) keeps its id.
        let recorded_ids = recorded
            .iter()
            .filter_map(|b| b.name.strip_prefix("kek:").and_then(|id| id.parse::<u32>().ok()));
        let next = on_disk.iter().copied().chain(recorded_ids).max().unwrap_or(0) + 1;
        let kek = NewKek::generate(next);
        binding::record(
            &**self.vault.store(),
            &[(kek.name.clone(), kek.fingerprint.clone())],
            now,
            "a new key-encryption key (a new key epoch)",
        )
        .await?;
        keyfiles::install_kek(&self.cfg.keys_dir, &kek)?;
        self.reload().await?;
        tracing::info!(kek = next, "key epoch started: new key-encryption key in force");
        Ok(next)
    }

    /// Re-wraps every live data key under the active KEK (journaled, `key.rotation`).
    pub async fn rewrap(&self) -> Result<RotationReport> {
        Ok(self.vault.keys().rewrap_all(&self.caller).await?)
    }

    /// Ends the previous epoch if its grace period is over at `now`: re-wraps, checks that no
    /// data key is left under an older KEK, journals and destroys the older KEK files.
    pub async fn finish(&self, now: OffsetDateTime) -> Result<Finish> {
        let (loaded, recorded) = self.checked().await?;
        let (active, started) = Self::started(&loaded, &recorded)?;
        let old: Vec<u32> = keyfiles::kek_ids(&self.cfg.keys_dir)?
            .into_iter()
            .filter(|id| *id < active)
            .collect();
        if old.is_empty() {
            return Ok(Finish::Nothing);
        }
        let due = started + self.grace();
        if now < due {
            // Keys left under an old KEK (a crash before the re-wrap, or another process not
            // yet on the new KEK): re-wrap them now rather than at the end of the grace.
            if self.held_by(&old).await?.is_some() {
                self.vault.keys().install(loaded.material.keyring);
                self.rewrap().await?;
            }
            return Ok(Finish::NotYet { old, due });
        }
        self.vault.keys().install(loaded.material.keyring);
        let report = self.rewrap().await?;
        self.destroy_old(active, &old).await?;
        Ok(Finish::Destroyed {
            old,
            rewrapped: report.rewrapped,
        })
    }

    /// The end of an epoch after its last re-wrap: refuses (destroying nothing) while the store
    /// holds any data key under a KEK in `old`; else journals `key.destroyed`, destroys their
    /// files and drops them from this process's ring.
    pub(crate) async fn destroy_old(&self, active: u32, old: &[u32]) -> Result<()> {
        if let Some(held) = self.held_by(old).await? {
            bail!(
                "{held}, so {} kept; a Ward process that has not loaded kek-{active}.key (its \
                 key reload failing?) may still be wrapping new data keys under the old one. \
                 Nothing was destroyed; the next run tries again",
                ids(old)
            );
        }
        self.vault
            .keys()
            .journal_destroyed(
                &self.caller,
                format!(
                    "destroying {} at the end of its key epoch: no data key is wrapped under it; \
                     kek-{active} is in force",
                    ids(old)
                ),
            )
            .await?;
        for id in old {
            keyfiles::destroy_kek(&self.cfg.keys_dir, *id)?;
        }
        ward_vault::metrics::record_keks_destroyed(old.len() as u64);
        self.reload().await?;
        tracing::info!(destroyed = %ids(old), active, "key epoch ended: old key-encryption keys destroyed");
        Ok(())
    }

    /// How many data keys the store holds under the KEKs `old`, said in words; `None` if none.
    async fn held_by(&self, old: &[u32]) -> Result<Option<String>> {
        let counts = self.vault.store().count_wrapped_keys_by_kek().await?;
        let held: Vec<String> = old
            .iter()
            .filter_map(|id| {
                counts
                    .get(&id.to_string())
                    .filter(|n| **n > 0)
                    .map(|n| format!("{n} data keys are still wrapped under kek-{id}"))
            })
            .collect();
        Ok((!held.is_empty()).then(|| held.join(", ")))
    }

    /// One turn of the rotation job at `now`: ends the previous epoch if its grace is over,
    /// then starts a new one if the active KEK is `kek_rotation_interval_secs` old. Returns
    /// what it did, for the job's note.
    pub async fn step(&self, now: OffsetDateTime) -> Result<String> {
        let mut notes = Vec::new();
        match self.finish(now).await? {
            Finish::Nothing => {}
            Finish::NotYet { old, due } => {
                return Ok(format!("{} to be destroyed from {due}", ids(&old)));
            }
            Finish::Destroyed { old, rewrapped } => {
                notes.push(format!(
                    "destroyed {} ({rewrapped} data keys re-wrapped first)",
                    ids(&old)
                ));
            }
        }
        let (loaded, recorded) = self.checked().await?;
        let (_, started) = Self::started(&loaded, &recorded)?;
        if now >= started + self.interval() {
            let id = self.begin(now).await?;
            let report = self.rewrap().await?;
            notes.push(format!(
                "kek-{id} in force; {} data keys re-wrapped under it",
                report.rewrapped
            ));
        }
        Ok(notes.join("; "))
    }
}

#[cfg(test)]
mod tests;
