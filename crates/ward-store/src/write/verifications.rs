//! Identity verifications: created for an active subject, then updated only from the revision
//! the caller read, so that concurrent code checks are counted one after another and never
//! more than the rules allow.

use super::subjects::refuse_unless_active;
use super::{Planner, Snapshot, Touched};
use crate::{OpOutcome, VerificationRecord};
use std::collections::{BTreeSet, HashMap};
use ward_core::{SubjectId, VerificationId};

/// A change to a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerificationChange {
    /// Precondition: the subject is active (else `NotFound` / `Erased`) and no verification
    /// has the id (else `AlreadyExists`). Records it.
    Create(VerificationRecord),
    /// Precondition: the verification exists for this subject (else `NotFound`), the subject
    /// is active (else `Erased`), and its stored revision is `record.revision - 1` (else
    /// `Conflict`: another change came first; read it again and decide again). Stores
    /// `record`, and `document` (sealed) when given.
    Update {
        record: VerificationRecord,
        document: Option<Vec<u8>>,
    },
}

/// The verifications whose rows the batch reads.
pub type Keys = BTreeSet<VerificationId>;
/// Verification → (its subject, its revision), for the touched ones that exist.
pub type Snap = HashMap<VerificationId, (SubjectId, u32)>;
pub type Inserts<'a> = Vec<&'a VerificationRecord>;

#[derive(Debug)]
pub enum Step<'a> {
    Update {
        record: &'a VerificationRecord,
        document: Option<&'a [u8]>,
    },
}

pub(super) fn touch(change: &VerificationChange, t: &mut Touched) {
    let r = match change {
        VerificationChange::Create(r) | VerificationChange::Update { record: r, .. } => r,
    };
    t.subjects.insert(r.subject);
    t.verifications.insert(r.id);
}

pub(super) fn plan<'a>(change: &'a VerificationChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    match change {
        VerificationChange::Create(r) => {
            if let Some(refused) = refuse_unless_active(snap, &r.subject) {
                return refused;
            }
            if snap.verifications.contains_key(&r.id) {
                return OpOutcome::AlreadyExists;
            }
            snap.verifications.insert(r.id, (r.subject, r.revision));
            p.inserts.verifications.push(r);
            OpOutcome::Done
        }
        VerificationChange::Update { record, document } => {
            let Some((subject, revision)) = snap.verifications.get(&record.id).copied() else {
                return OpOutcome::NotFound;
            };
            if subject != record.subject {
                return OpOutcome::NotFound;
            }
            if let Some(refused) = refuse_unless_active(snap, &subject) {
                return refused;
            }
            if revision.checked_add(1) != Some(record.revision) {
                return OpOutcome::Conflict;
            }
            snap.verifications.insert(record.id, (subject, record.revision));
            p.push(super::Step::Verification(Step::Update {
                record,
                document: document.as_deref(),
            }));
            OpOutcome::Done
        }
    }
}
