//! Policy versions Ward has run with: recorded once each.

use super::{NoStep, Planner, Snapshot, Touched};
use crate::{OpOutcome, PolicyVersionRecord};
use std::collections::{BTreeSet, HashSet};

/// A change to the recorded policy versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyVersionChange {
    /// Records a policy version if its hash is new; the journal entries are written only
    /// when it was new (else outcome `AlreadyExists`).
    Record(PolicyVersionRecord),
}

/// The hashes of the versions a batch reads.
pub type Keys = BTreeSet<String>;
/// The touched hashes already recorded.
pub type Snap = HashSet<String>;
pub type Inserts<'a> = Vec<&'a PolicyVersionRecord>;
pub type Step<'a> = NoStep;

pub(super) fn touch(change: &PolicyVersionChange, t: &mut Touched) {
    let PolicyVersionChange::Record(v) = change;
    if !t.policies.contains(&v.hash) {
        t.policies.insert(v.hash.clone());
    }
}

pub(super) fn plan<'a>(change: &'a PolicyVersionChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    let PolicyVersionChange::Record(v) = change;
    if snap.policies.insert(v.hash.clone()) {
        p.inserts.policies.push(v);
        OpOutcome::Done
    } else {
        OpOutcome::AlreadyExists
    }
}
