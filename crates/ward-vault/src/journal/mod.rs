//! The journal service: verification, checkpoints, and the check of the journal's end that
//! runs before Ward writes to a store.

mod tamper;
mod verify;

pub use tamper::Tamper;
pub use verify::{
    unsigned_allowance, verify, verify_in_ranges, verify_with, VerifyOptions, VerifyReport, Witness, VERIFY_RANGE,
};

use crate::error::VaultResult;
use crate::Vault;
use std::sync::Arc;
use time::OffsetDateTime;
use ward_core::authz::Operation;
use ward_core::clock::to_micros;
use ward_core::Caller;
use ward_crypto::{Checkpoint, CheckpointSigner};
use ward_store::Store;

/// The journal service, reached by [`Vault::journal`].
#[derive(Clone, Copy)]
pub struct Journal<'v>(pub(crate) &'v Vault);

impl Journal<'_> {
    /// Verifies every entry's hash and link, every checkpoint, the head and how long entries
    /// have gone unsigned; names the first problem.
    pub async fn verify(&self, caller: &Caller) -> VaultResult<VerifyReport> {
        self.0.op(caller, Operation::JournalVerify)?;
        let opts = VerifyOptions {
            checkpoint_interval: self.0.inner.config.checkpoint_interval,
            ..VerifyOptions::default()
        };
        verify_with(self.0.store(), &self.0.inner.keys.signer, &opts).await
    }

    /// [`Journal::checkpoint`], asked for by `caller` (the API's `POST /v1/journal/checkpoints`).
    pub async fn checkpoint_for(&self, caller: &Caller) -> VaultResult<Option<Checkpoint>> {
        self.0.op(caller, Operation::JournalCheckpoint)?;
        self.checkpoint().await
    }

    /// Signs a checkpoint of the current head if it moved since the last one. Ward's own
    /// work (the checkpoint job, shutdown), for no caller.
    pub async fn checkpoint(&self) -> VaultResult<Option<Checkpoint>> {
        sign_head(self.0.store().as_ref(), &self.0.inner.keys.signer, self.0.now()).await
    }

    /// The newest signed checkpoint, after signing the head if it moved: what an operator
    /// sends to a witness.
    pub async fn latest_checkpoint(&self) -> VaultResult<Option<Checkpoint>> {
        if let Some(cp) = self.checkpoint().await? {
            return Ok(Some(cp));
        }
        Ok(latest(self.0.store().as_ref()).await?)
    }
}

/// Signs a checkpoint of `store`'s head at `now` if the head moved since the last checkpoint.
pub async fn sign_head(
    store: &dyn Store,
    signer: &CheckpointSigner,
    now: OffsetDateTime,
) -> VaultResult<Option<Checkpoint>> {
    let Some(head) = store.find_journal_head().await? else {
        return Ok(None);
    };
    let last = latest(store).await?.map_or(0, |c| c.seq);
    if head.seq <= last {
        return Ok(None);
    }
    let cp = signer.sign(head.seq, head.hash, to_micros(now));
    store.create_checkpoint(&cp).await?;
    Ok(Some(cp))
}

async fn latest(store: &dyn Store) -> ward_store::StoreResult<Option<Checkpoint>> {
    Ok(store.find_checkpoints().await?.into_iter().max_by_key(|c| c.seq))
}

/// Checks the end of the journal before Ward writes to the store, without reading the whole
/// chain: the last entry is the one the head records (nothing removed after it, nothing
/// appended past it, not rewritten), and the newest signed checkpoint verifies and vouches for
/// an entry that is still there. A journal that fails would fail every write (an entry
/// appended past the head takes the next position) or hide a removal; `ward journal verify`
/// checks the rest. Safe while other processes write: the checkpoint is read before the head
/// (it was signed on a head already committed), and an entry past the head counts only if the
/// head, read again, has not moved up to it.
pub async fn check_end(store: &Arc<dyn Store>, signer: &CheckpointSigner) -> VaultResult<Option<Tamper>> {
    let store = store.as_ref();
    let newest = latest(store).await?;
    let mut tries = 0;
    let head_seq = loop {
        let head = store.find_journal_head().await?;
        let head_seq = head.map_or(0, |h| h.seq);
        let at_end = store.find_journal_entries((head_seq - 1).max(0), 2).await?;
        let problem = match (head, at_end.as_slice()) {
            (None, [first, ..]) => Some(Tamper::BeyondHead {
                seq: first.seq,
                head_seq: 0,
            }),
            (None, []) => None,
            (Some(h), [e, ..]) if e.seq == h.seq && e.hash != h.hash => Some(Tamper::HeadMismatch { seq: h.seq }),
            (Some(h), [e, next, ..]) if e.seq == h.seq => Some(Tamper::BeyondHead {
                seq: next.seq,
                head_seq: h.seq,
            }),
            (Some(h), [e]) if e.seq == h.seq => None,
            (Some(h), [e, ..]) => Some(Tamper::BeyondHead {
                seq: e.seq,
                head_seq: h.seq,
            }),
            (Some(h), []) => Some(Tamper::EndRemoved {
                last_seq: last_seq(store, h.seq).await?,
                head_seq: h.seq,
            }),
        };
        match problem {
            None => break head_seq,
            Some(Tamper::BeyondHead { seq, .. }) if tries < 100 => {
                // Another process may have committed since the head was read.
                let now = store.find_journal_head().await?.map_or(0, |h| h.seq);
                if now < seq {
                    return Ok(problem);
                }
                tries += 1;
            }
            Some(_) => return Ok(problem),
        }
    };
    let Some(cp) = newest else {
        return Ok(None);
    };
    if signer.verify(&cp).is_err() {
        return Ok(Some(Tamper::BadCheckpoint { seq: cp.seq }));
    }
    if cp.seq > head_seq {
        return Ok(Some(Tamper::Truncated {
            last_seq: head_seq,
            checkpoint_seq: cp.seq,
        }));
    }
    let at_cp = store.find_journal_entries(cp.seq - 1, 1).await?;
    Ok(match at_cp.first() {
        Some(e) if e.seq == cp.seq && e.hash == cp.head => None,
        Some(e) if e.seq == cp.seq => Some(Tamper::CheckpointMismatch { seq: cp.seq }),
        _ => Some(Tamper::Removed { seq: cp.seq }),
    })
}

/// The position of the journal's last entry, below `below`, by bisection on point reads.
async fn last_seq(store: &dyn Store, below: i64) -> VaultResult<i64> {
    // The last entry is the smallest position after which there is no entry.
    let (mut lo, mut hi) = (0i64, below);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if store.find_journal_entries(mid, 1).await?.is_empty() {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}
