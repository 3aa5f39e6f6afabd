//! Website visitors' cookie consent records: recorded, and linked to a subject.

use super::subjects::refuse_unless_active;
use super::{Planner, Snapshot, Touched};
use crate::{OpOutcome, VisitorConsent};
use std::collections::{BTreeSet, HashMap};
use ward_core::SubjectId;
use ward_crypto::Hash32;

/// A change to visitors' cookie consent records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitorChange {
    /// Appends a visitor's cookie choice. The record is linked to the subject the visitor is
    /// linked to already, if any (see `Link`). Always `Done`.
    Record(VisitorConsent),
    /// Precondition: the subject exists and is active (else `NotFound` / `Erased`), and the
    /// visitor is not linked to another subject (else `Conflict`). Links every record of the
    /// visitor, and those recorded later, to the subject; erasing the subject deletes them.
    /// `Done` also when the visitor has no records (then nothing changes but the journal).
    Link { visitor: Hash32, subject: SubjectId },
}

/// Visitor hashes whose link to a subject the batch reads.
pub type Keys = BTreeSet<Hash32>;
/// Visitor hash → the subject its records are linked to (`None`: not linked), for the
/// touched visitors that have records. A visitor that is absent has none.
pub type Snap = HashMap<Hash32, Option<SubjectId>>;
/// Cookie choices, each with the subject it is linked to.
pub type Inserts<'a> = Vec<(&'a VisitorConsent, Option<SubjectId>)>;

#[derive(Debug)]
pub enum Step<'a> {
    /// Links every record of the visitor to the subject.
    Link { visitor: &'a Hash32, subject: SubjectId },
}

pub(super) fn touch(change: &VisitorChange, t: &mut Touched) {
    match change {
        VisitorChange::Record(c) => {
            t.visitors.insert(c.visitor);
        }
        VisitorChange::Link { visitor, subject } => {
            t.visitors.insert(*visitor);
            t.subjects.insert(*subject);
        }
    }
}

pub(super) fn plan<'a>(change: &'a VisitorChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    match change {
        VisitorChange::Record(c) => {
            let linked = *snap.visitors.entry(c.visitor).or_insert(None);
            p.inserts.visitors.push((c, linked));
            OpOutcome::Done
        }
        VisitorChange::Link { visitor, subject } => {
            if let Some(refused) = refuse_unless_active(snap, subject) {
                return refused;
            }
            match snap.visitors.get_mut(visitor) {
                // No records: nothing to link.
                None => OpOutcome::Done,
                Some(Some(linked)) if linked != subject => OpOutcome::Conflict,
                Some(linked) => {
                    *linked = Some(*subject);
                    p.push(super::Step::Visitor(Step::Link {
                        visitor,
                        subject: *subject,
                    }));
                    OpOutcome::Done
                }
            }
        }
    }
}
