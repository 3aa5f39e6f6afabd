//! Unique fields: a change made on the condition that no other live subject holds a blind-index
//! entry ([`Guarded`]). The vault has already compared the entry's holders' values with the
//! new one (the index is truncated, so holders may hold other values); the guard names the
//! holders it found different, and the write is refused if anyone else holds the entry by
//! the time it commits. Erased subjects hold no index entries.

use super::{Change, Planner, Snapshot, Touched};
use crate::OpOutcome;
use std::collections::{BTreeMap, BTreeSet};
use ward_core::SubjectId;

/// `change`, applied only if, for every guard, no live subject outside `guard.known` holds the
/// guard's index entry (else outcome `Duplicate`, and nothing of it is written). The outcome is
/// otherwise `change`'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guarded {
    pub guards: Vec<UniqueGuard>,
    pub change: Box<Change>,
}

/// "No live subject but those in `known` holds index entry `hash` of `field`."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueGuard {
    pub field: String,
    pub hash: i64,
    /// The subject being written, and the holders whose values were compared and found
    /// different.
    pub known: BTreeSet<SubjectId>,
}

/// The index entries a batch's guards read: `(field, hash)`.
pub type Keys = BTreeSet<(String, i64)>;

/// The live holders of index entries, by field and hash: every touched entry (read inside the
/// transaction), kept up to date as the batch's subject changes are planned.
pub type Snap = BTreeMap<String, BTreeMap<i64, BTreeSet<SubjectId>>>;

pub type Inserts<'a> = super::NoInserts;
pub type Step<'a> = super::NoStep;

pub(super) fn touch(g: &Guarded, t: &mut Touched) {
    for guard in &g.guards {
        t.unique.insert((guard.field.clone(), guard.hash));
    }
    super::touch_one(&g.change, t);
}

pub(super) fn plan<'a>(g: &'a Guarded, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    let taken = g.guards.iter().any(|guard| {
        snap.unique
            .get(&guard.field)
            .and_then(|by_hash| by_hash.get(&guard.hash))
            .is_some_and(|holders| holders.iter().any(|h| !guard.known.contains(h)))
    });
    if taken {
        return OpOutcome::Duplicate;
    }
    super::plan_one(&g.change, snap, p)
}

/// `id` now holds `hash` of `field` (or, with `None`, nothing for `field`).
pub(super) fn hold(snap: &mut Snap, id: SubjectId, field: &str, hash: Option<i64>) {
    let by_hash = snap.entry(field.to_owned()).or_default();
    for holders in by_hash.values_mut() {
        holders.remove(&id);
    }
    if let Some(hash) = hash {
        by_hash.entry(hash).or_default().insert(id);
    }
}

/// `id` holds no index entry any more (erased).
pub(super) fn release(snap: &mut Snap, id: SubjectId) {
    for holders in snap.values_mut().flat_map(BTreeMap::values_mut) {
        holders.remove(&id);
    }
}
