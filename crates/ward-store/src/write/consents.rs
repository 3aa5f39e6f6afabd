//! Consent events: appended to an active subject (a new subject's first ones come with
//! [`SubjectChange::Create`](crate::SubjectChange::Create)).

use super::subjects::refuse_unless_active;
use super::{NoStep, Planner, Snapshot, Touched};
use crate::{ConsentEventRecord, OpOutcome};
use ward_core::SubjectId;

/// A change to a subject's consent events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentChange {
    /// Precondition: active. Appends the events.
    Add {
        id: SubjectId,
        events: Vec<ConsentEventRecord>,
    },
}

/// Consent events are read through their subject's row (in [`Touched::subjects`]).
pub type Keys = ();
pub type Snap = ();
/// Events to append, each with its subject, in the order appended.
pub type Inserts<'a> = Vec<(SubjectId, &'a ConsentEventRecord)>;
pub type Step<'a> = NoStep;

pub(super) fn touch(change: &ConsentChange, t: &mut Touched) {
    let ConsentChange::Add { id, .. } = change;
    t.subjects.insert(*id);
}

pub(super) fn plan<'a>(change: &'a ConsentChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    let ConsentChange::Add { id, events } = change;
    if let Some(refused) = refuse_unless_active(snap, id) {
        return refused;
    }
    p.inserts.consents.extend(events.iter().map(|c| (*id, c)));
    OpOutcome::Done
}
