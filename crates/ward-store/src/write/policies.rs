//! Policy versions Ward has run with: recorded once each; a version not yet in force can be
//! rescheduled.

use super::{Planner, Snapshot, Touched};
use crate::{OpOutcome, PolicyVersionRecord};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use time::OffsetDateTime;

/// A change to the recorded policy versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyVersionChange {
    /// Records a policy version if its hash is new; the journal entries are written only
    /// when it was new (else outcome `AlreadyExists`).
    Record(PolicyVersionRecord),
    /// Moves a version's `effective_at` from `from` to `to`. Precondition: the version exists
    /// (else `NotFound`) and takes effect at `from` (else `Conflict`: it was rescheduled
    /// meanwhile). The vault checks that `from` has not come yet.
    Reschedule {
        hash: String,
        from: OffsetDateTime,
        to: OffsetDateTime,
    },
}

/// The hashes of the versions a batch reads.
pub type Keys = BTreeSet<String>;
/// The touched hashes already recorded → their `effective_at`.
pub type Snap = HashMap<String, OffsetDateTime>;
pub type Inserts<'a> = Vec<&'a PolicyVersionRecord>;

#[derive(Debug)]
pub enum Step<'a> {
    Reschedule { hash: &'a str, to: OffsetDateTime },
}

pub(super) fn touch(change: &PolicyVersionChange, t: &mut Touched) {
    let hash = match change {
        PolicyVersionChange::Record(v) => &v.hash,
        PolicyVersionChange::Reschedule { hash, .. } => hash,
    };
    if !t.policies.contains(hash) {
        t.policies.insert(hash.clone());
    }
}

pub(super) fn plan<'a>(change: &'a PolicyVersionChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    match change {
        PolicyVersionChange::Record(v) => match snap.policies.entry(v.hash.clone()) {
            Entry::Occupied(_) => OpOutcome::AlreadyExists,
            Entry::Vacant(e) => {
                e.insert(v.effective_at);
                p.inserts.policies.push(v);
                OpOutcome::Done
            }
        },
        PolicyVersionChange::Reschedule { hash, from, to } => match snap.policies.get_mut(hash) {
            None => OpOutcome::NotFound,
            Some(at) if at != from => OpOutcome::Conflict,
            Some(at) => {
                *at = *to;
                p.push(super::Step::Policy(Step::Reschedule { hash, to: *to }));
                OpOutcome::Done
            }
        },
    }
}
