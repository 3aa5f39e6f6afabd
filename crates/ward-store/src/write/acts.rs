//! Destruction acts: written with the destruction they document, in its operation, and purged
//! once kept for three years (Order 179 p. 8).

use super::{Planner, Snapshot, Touched};
use crate::{BlockRecord, DestructionActRecord, OpOutcome, SubjectChange};
use std::collections::{BTreeSet, HashSet};
use time::OffsetDateTime;
use ward_core::{BlockId, SubjectId};

/// A change to destruction acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActChange {
    /// Precondition: no act of the subject for `act.cause` (else `AlreadyExists`), and the
    /// precondition of `destruction` (a subject's erasure or update). Applies the destruction
    /// and records the act; neither without the other. The subject's pending downloads are
    /// deleted with it: each holds a copy of the data as it was before the destruction.
    Destroy {
        act: Box<DestructionActRecord>,
        destruction: SubjectChange,
        /// A block placed with it (what an erasure withholds under a legal hold).
        block: Option<Box<BlockRecord>>,
        /// A block of the subject lifted with it, at `act.at` (a block whose six months ran
        /// out, destroyed: Art. 21 p. 6). Precondition: in force (else `NotFound`, nothing
        /// written).
        lift: Option<BlockId>,
    },
    /// Deletes every act dated before `before`. Always `Done`.
    Purge { before: OffsetDateTime },
}

/// The (subject, cause) pairs whose acts the batch reads.
pub type Keys = BTreeSet<(SubjectId, String)>;
/// Those of them that have an act.
pub type Snap = HashSet<(SubjectId, String)>;
pub type Inserts<'a> = Vec<&'a DestructionActRecord>;

#[derive(Debug)]
pub enum Step<'a> {
    Purge { before: &'a OffsetDateTime },
}

pub(super) fn touch(change: &ActChange, t: &mut Touched) {
    if let ActChange::Destroy {
        act, destruction, lift, ..
    } = change
    {
        t.acts.insert((act.subject, act.cause.clone()));
        t.blocks.extend(lift.iter().copied());
        super::subjects::touch(destruction, t);
    }
}

pub(super) fn plan<'a>(change: &'a ActChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    match change {
        ActChange::Destroy {
            act,
            destruction,
            block,
            lift,
        } => {
            let key = (act.subject, act.cause.clone());
            if snap.acts.contains(&key) {
                return OpOutcome::AlreadyExists;
            }
            if let Some(id) = lift {
                if snap.blocks.get(id) != Some(&(act.subject, false)) {
                    return OpOutcome::NotFound;
                }
            }
            let subject_of = match destruction {
                SubjectChange::Create(s) => s.id,
                SubjectChange::Update { id, .. } | SubjectChange::Erase { id, .. } => *id,
            };
            if subject_of != act.subject || matches!(destruction, SubjectChange::Create(_)) {
                // Not a destruction of the act's subject: nothing is written.
                return OpOutcome::NotFound;
            }
            let outcome = super::subjects::plan(destruction, snap, p);
            if outcome == OpOutcome::Done {
                snap.acts.insert(key);
                p.inserts.acts.push(act);
                if let Some(b) = block {
                    snap.blocks.insert(b.id, (b.subject, false));
                    p.inserts.blocks.push(b);
                }
                if let Some(id) = lift {
                    snap.blocks.insert(*id, (act.subject, true));
                    p.push(super::Step::Block(super::blocks::Step::Lift { id, at: &act.at }));
                }
            }
            outcome
        }
        ActChange::Purge { before } => {
            p.push(super::Step::Act(Step::Purge { before }));
            OpOutcome::Done
        }
    }
}
