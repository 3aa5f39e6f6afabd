//! Basis events (legal bases other than consent, established per subject): appended to an
//! active subject. A new subject's first ones come with
//! [`SubjectChange::Create`](crate::SubjectChange::Create), and a rectification's with
//! [`SubjectChange::Update`](crate::SubjectChange::Update), where collection establishes them.

use super::subjects::refuse_unless_active;
use super::{NoStep, Planner, Snapshot, Touched};
use crate::{BasisEventRecord, OpOutcome};
use ward_core::SubjectId;

/// A change to a subject's basis events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BasisChange {
    /// Precondition: active. Appends the events.
    Add {
        id: SubjectId,
        events: Vec<BasisEventRecord>,
    },
}

/// Basis events are read through their subject's row (in [`Touched::subjects`]).
pub type Keys = ();
pub type Snap = ();
/// Events to append, each with its subject, in the order appended.
pub type Inserts<'a> = Vec<(SubjectId, &'a BasisEventRecord)>;
pub type Step<'a> = NoStep;

pub(super) fn touch(change: &BasisChange, t: &mut Touched) {
    let BasisChange::Add { id, .. } = change;
    t.subjects.insert(*id);
}

pub(super) fn plan<'a>(change: &'a BasisChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    let BasisChange::Add { id, events } = change;
    if let Some(refused) = refuse_unless_active(snap, id) {
        return refused;
    }
    p.inserts.bases.extend(events.iter().map(|e| (*id, e)));
    OpOutcome::Done
}
