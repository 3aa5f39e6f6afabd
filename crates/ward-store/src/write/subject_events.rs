//! Subjects' life-cycle events (policy notices and acceptances, death): appended to an active
//! subject.

use super::subjects::refuse_unless_active;
use super::{NoStep, Planner, Snapshot, Touched};
use crate::{OpOutcome, SubjectEventRecord};
use ward_core::SubjectId;

/// A change to a subject's life-cycle events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectEventChange {
    /// Precondition: active. Appends the life-cycle events.
    Add {
        id: SubjectId,
        events: Vec<SubjectEventRecord>,
    },
}

/// Life-cycle events are read through their subject's row (in [`Touched::subjects`]).
pub type Keys = ();
pub type Snap = ();
/// Events to append, each with its subject, in the order appended.
pub type Inserts<'a> = Vec<(SubjectId, &'a SubjectEventRecord)>;
pub type Step<'a> = NoStep;

pub(super) fn touch(change: &SubjectEventChange, t: &mut Touched) {
    let SubjectEventChange::Add { id, .. } = change;
    t.subjects.insert(*id);
}

pub(super) fn plan<'a>(change: &'a SubjectEventChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    let SubjectEventChange::Add { id, events } = change;
    if let Some(refused) = refuse_unless_active(snap, id) {
        return refused;
    }
    p.inserts.subject_events.extend(events.iter().map(|e| (*id, e)));
    OpOutcome::Done
}
