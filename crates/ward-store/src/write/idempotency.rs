//! Idempotency records: claimed with the change they guard ([`Claimed`]), completed with the
//! answer, pruned once expired.

use super::{Change, Planner, Snapshot, Touched};
use crate::{IdempotencyClaim, OpOutcome, SealedAnswer};
use std::collections::{BTreeSet, HashMap};
use time::OffsetDateTime;
use ward_crypto::Hash32;

/// A change made under an idempotency key: `change`, applied only if no live record holds
/// `claim.key` (else outcome `KeyInUse`, and nothing of it is written); when `change` is
/// `Done`, the claim is recorded in the same transaction (replacing an expired record of the
/// same key). The outcome is `change`'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub claim: IdempotencyClaim,
    pub change: Change,
}

/// A change to the idempotency records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyChange {
    /// Records the answer of the request that claimed `key`. Precondition: the record exists
    /// (else `NotFound`) and has no answer yet (else `AlreadyExists`).
    Complete { key: Hash32, answer: SealedAnswer },
    /// Removes every record that expired at or before `before`. Always `Done`.
    Prune { before: OffsetDateTime },
}

/// The keys a batch reads.
pub type Keys = BTreeSet<Hash32>;

/// A touched record, as far as planning needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub expires_at: OffsetDateTime,
    pub answered: bool,
}

/// The touched keys that have a record.
pub type Snap = HashMap<Hash32, Held>;
/// Claims to record (an upsert: an expired record of the same key is replaced).
pub type Inserts<'a> = Vec<&'a IdempotencyClaim>;

#[derive(Debug)]
pub enum Step<'a> {
    Complete { key: &'a Hash32, answer: &'a SealedAnswer },
    Prune { before: OffsetDateTime },
}

pub(super) fn touch(change: &IdempotencyChange, t: &mut Touched) {
    if let IdempotencyChange::Complete { key, .. } = change {
        t.idempotency.insert(*key);
    }
}

/// The claim's key, read with the rest of the batch.
pub(super) fn touch_claim(claim: &IdempotencyClaim, t: &mut Touched) {
    t.idempotency.insert(claim.key);
}

/// Whether a live record holds `claim`'s key (live at the claim's time).
pub(super) fn held(claim: &IdempotencyClaim, snap: &Snapshot) -> bool {
    snap.idempotency
        .get(&claim.key)
        .is_some_and(|h| h.expires_at > claim.created_at)
}

/// Records `claim` once its change is done.
pub(super) fn claim<'a>(claim: &'a IdempotencyClaim, snap: &mut Snapshot, p: &mut Planner<'a>) {
    snap.idempotency.insert(
        claim.key,
        Held {
            expires_at: claim.expires_at,
            answered: false,
        },
    );
    p.inserts.idempotency.push(claim);
}

pub(super) fn plan<'a>(change: &'a IdempotencyChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    match change {
        IdempotencyChange::Complete { key, answer } => match snap.idempotency.get_mut(key) {
            None => OpOutcome::NotFound,
            Some(h) if h.answered => OpOutcome::AlreadyExists,
            Some(h) => {
                h.answered = true;
                p.push(super::Step::Idempotency(Step::Complete { key, answer }));
                OpOutcome::Done
            }
        },
        IdempotencyChange::Prune { before } => {
            snap.idempotency.retain(|_, h| h.expires_at > *before);
            p.push(super::Step::Idempotency(Step::Prune { before: *before }));
            OpOutcome::Done
        }
    }
}
