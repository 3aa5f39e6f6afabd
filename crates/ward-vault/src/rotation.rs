//! Key-encryption key rotation: re-wrap every live subject's data key under the active KEK,
//! without decrypting any field.

use crate::error::VaultResult;
use crate::keys::Keys;
use std::collections::BTreeMap;
use ward_core::journal::AdminEvent;
use ward_core::{Caller, JournalDraft};
use ward_store::{Change, KeyChange, WrappedKey, WrappedKeyRecord};

const PAGE: u32 = 1_000;

/// What a rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RotationReport {
    pub rewrapped: u64,
    pub already_current: u64,
}

impl Keys<'_> {
    /// Re-wraps every live subject's data key under the key ring's active KEK. Safe to run
    /// again after an interruption: keys already under the active KEK are skipped.
    pub async fn rewrap_all(&self, caller: &Caller) -> VaultResult<RotationReport> {
        let v = self.0;
        let op = v.op(caller, ward_core::authz::Operation::KekRotate)?;
        let ring = self.ring();
        let active = ring.active_id().to_owned();
        let mut report = RotationReport::default();
        let mut after = None;
        loop {
            let page = v.store().find_wrapped_keys(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.subject);
            let mut by_old: BTreeMap<String, Vec<WrappedKeyRecord>> = BTreeMap::new();
            for r in page {
                if r.key.kek_id == active {
                    report.already_current += 1;
                    continue;
                }
                let (kek_id, wrapped) = ring.rewrap(r.subject.as_bytes(), &r.key.kek_id, &r.key.wrapped)?;
                by_old.entry(r.key.kek_id).or_default().push(WrappedKeyRecord {
                    subject: r.subject,
                    key: WrappedKey { kek_id, wrapped },
                });
            }
            for (old, keys) in by_old {
                let n = keys.len() as u64;
                let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::KeyRotation)
                    .detail(format!("rewrapped {n} data keys from kek:{old} to kek:{active}"));
                v.commit(Change::Key(KeyChange::Rewrap { old_kek_id: old, keys }), vec![entry])
                    .await?;
                report.rewrapped += n;
            }
        }
        Ok(report)
    }
}

impl Keys<'_> {
    /// Journals the destruction of old KEKs (`key.destroyed`), before their files are
    /// destroyed: a crash in between leaves the files, and the next run journals again.
    pub async fn journal_destroyed(&self, caller: &Caller, detail: String) -> VaultResult<()> {
        let v = self.0;
        let op = v.op(caller, ward_core::authz::Operation::KekRotate)?;
        let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::KeyDestroyed).detail(detail);
        v.commit(Change::JournalOnly, vec![entry]).await?;
        Ok(())
    }
}
