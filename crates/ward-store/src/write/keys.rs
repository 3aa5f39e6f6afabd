//! Subjects' wrapped data keys: rewrapped under a new key-encryption key by key rotation.

use super::subjects::SubjectSnap;
use super::{NoInserts, Planner, Snapshot, Touched};
use crate::{OpOutcome, WrappedKey, WrappedKeyRecord};
use ward_core::SubjectId;

/// A change to subjects' wrapped keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// For each record: if the subject is active and its key is still wrapped under
    /// `old_kek_id`, replace the wrapped key. Always `Done`.
    Rewrap {
        old_kek_id: String,
        keys: Vec<WrappedKeyRecord>,
    },
}

/// Keys are read through their subject's row (in [`Touched::subjects`]).
pub type Keys = ();
pub type Snap = ();
pub type Inserts<'a> = NoInserts;

#[derive(Debug)]
pub enum Step<'a> {
    /// Replaces wrapped keys (distinct subjects, all active and under the old KEK).
    Rewrap(Vec<(SubjectId, &'a WrappedKey)>),
}

pub(super) fn touch(change: &KeyChange, t: &mut Touched) {
    let KeyChange::Rewrap { keys, .. } = change;
    t.subjects.extend(keys.iter().map(|k| k.subject));
}

pub(super) fn plan<'a>(change: &'a KeyChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    let KeyChange::Rewrap { old_kek_id, keys } = change;
    let mut rewrap = Vec::new();
    for k in keys {
        if let Some(SubjectSnap::Active { kek_id, .. }) = snap.subjects.get_mut(&k.subject) {
            if kek_id == old_kek_id {
                kek_id.clone_from(&k.key.kek_id);
                rewrap.push((k.subject, &k.key));
            }
        }
    }
    if !rewrap.is_empty() {
        p.push(super::Step::Key(Step::Rewrap(rewrap)));
    }
    OpOutcome::Done
}
