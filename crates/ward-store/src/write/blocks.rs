//! Blocks: placed on an active subject, lifted once.

use super::subjects::refuse_unless_active;
use super::{Planner, Snapshot, Touched};
use crate::{BlockRecord, OpOutcome};
use std::collections::{BTreeSet, HashMap};
use time::OffsetDateTime;
use ward_core::{BlockId, SubjectId};

/// A change to a subject's blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockChange {
    /// Precondition: the subject is active (else `NotFound` / `Erased`). Records the block.
    Place(BlockRecord),
    /// Precondition: the subject has this block and it is in force (else `NotFound`). Sets
    /// `lifted_at`.
    Lift {
        subject: SubjectId,
        id: BlockId,
        at: OffsetDateTime,
    },
}

/// The blocks whose rows the batch reads.
pub type Keys = BTreeSet<BlockId>;
/// Block → (its subject, whether it is lifted), for the touched blocks that exist.
pub type Snap = HashMap<BlockId, (SubjectId, bool)>;
pub type Inserts<'a> = Vec<&'a BlockRecord>;

#[derive(Debug)]
pub enum Step<'a> {
    Lift { id: &'a BlockId, at: &'a OffsetDateTime },
}

pub(super) fn touch(change: &BlockChange, t: &mut Touched) {
    match change {
        BlockChange::Place(b) => {
            t.subjects.insert(b.subject);
        }
        BlockChange::Lift { id, .. } => {
            t.blocks.insert(*id);
        }
    }
}

pub(super) fn plan<'a>(change: &'a BlockChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    match change {
        BlockChange::Place(b) => {
            if let Some(refused) = refuse_unless_active(snap, &b.subject) {
                return refused;
            }
            snap.blocks.insert(b.id, (b.subject, false));
            p.inserts.blocks.push(b);
            OpOutcome::Done
        }
        BlockChange::Lift { subject, id, at } => match snap.blocks.get_mut(id) {
            Some((of, lifted @ false)) if of == subject => {
                *lifted = true;
                p.push(super::Step::Block(Step::Lift { id, at }));
                OpOutcome::Done
            }
            _ => OpOutcome::NotFound,
        },
    }
}
