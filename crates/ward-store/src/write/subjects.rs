//! Subjects: creation (with their blind index and first consent events), updates of their
//! sealed fields and index, and erasure.

use super::{Planner, Snapshot, Touched};
use crate::{NewSubject, OpOutcome};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use time::OffsetDateTime;
use ward_core::SubjectId;

/// A change to a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectChange {
    /// Precondition: no subject with this id. Else `AlreadyExists`.
    Create(NewSubject),
    /// Precondition: active, at `expected_revision`. Replaces the sealed fields; for each
    /// `(field, hash)` in `reindex`, removes the subject's index entry for `field` and, when
    /// `hash` is `Some`, inserts the new one; appends `bases` (the bases this collection
    /// establishes). Increments the revision.
    Update {
        id: SubjectId,
        expected_revision: i64,
        fields: Vec<u8>,
        reindex: Vec<(String, Option<i64>)>,
        bases: Vec<crate::BasisEventRecord>,
        at: OffsetDateTime,
    },
    /// Precondition: exists and active (else `NotFound` / `Erased`). Destroys the data key, the
    /// sealed fields, the index entries, the consent, basis and life-cycle events' evidence, and
    /// deletes the visitor cookie consent records linked to the subject, its messages in the
    /// outbox and its downloads; keeps a tombstone
    /// with `erased_at` and the consent events' metadata.
    Erase { id: SubjectId, at: OffsetDateTime },
}

/// The subjects a batch reads (the other aggregates add theirs).
pub type Keys = BTreeSet<SubjectId>;

/// What the planner needs to know of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectSnap {
    Active { revision: i64, kek_id: String },
    Erased,
}

pub type Snap = HashMap<SubjectId, SubjectSnap>;

/// The "active subject" precondition, shared by every change to a subject's data: `None` when
/// the subject is active, else the outcome that refuses the change.
pub fn refuse_unless_active(snap: &Snapshot, id: &SubjectId) -> Option<OpOutcome> {
    match snap.subjects.get(id) {
        None => Some(OpOutcome::NotFound),
        Some(SubjectSnap::Erased) => Some(OpOutcome::Erased),
        Some(SubjectSnap::Active { .. }) => None,
    }
}

/// One blind-index row to insert or replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexRow<'a> {
    pub subject: SubjectId,
    pub field: &'a str,
    pub hash: i64,
}

/// New subjects, then their index rows (applied in this order, for the foreign keys).
#[derive(Debug, Default)]
pub struct Inserts<'a> {
    pub subjects: Vec<&'a NewSubject>,
    /// Insert-or-replace on (subject, field); at most one row per pair.
    pub index: Vec<IndexRow<'a>>,
    index_pos: HashMap<(SubjectId, &'a str), usize>,
}

impl<'a> Inserts<'a> {
    pub fn is_empty(&self) -> bool {
        self.subjects.is_empty() && self.index.is_empty()
    }

    fn upsert_index(&mut self, row: IndexRow<'a>) {
        match self.index_pos.get(&(row.subject, row.field)) {
            Some(&i) => self.index[i] = row,
            None => {
                self.index_pos.insert((row.subject, row.field), self.index.len());
                self.index.push(row);
            }
        }
    }
}

#[derive(Debug)]
pub enum Step<'a> {
    /// Sets the fields, the revision (already incremented) and `updated_at`.
    Update {
        id: SubjectId,
        fields: &'a [u8],
        revision: i64,
        at: OffsetDateTime,
    },
    DeleteIndex { subject: SubjectId, field: &'a str },
    /// Destroys key, fields, index entries, consent and life-cycle evidence, deletes the
    /// visitor consent records linked to the subject; sets the tombstone.
    Erase { id: SubjectId, at: OffsetDateTime },
}

pub(super) fn touch(change: &SubjectChange, t: &mut Touched) {
    let id = match change {
        SubjectChange::Create(s) => s.id,
        SubjectChange::Update { id, .. } | SubjectChange::Erase { id, .. } => *id,
    };
    t.subjects.insert(id);
}

pub(super) fn plan<'a>(change: &'a SubjectChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    match change {
        SubjectChange::Create(s) => match snap.subjects.entry(s.id) {
            Entry::Occupied(_) => OpOutcome::AlreadyExists,
            Entry::Vacant(v) => {
                v.insert(SubjectSnap::Active {
                    revision: 1,
                    kek_id: s.key.kek_id.clone(),
                });
                p.inserts.subjects.subjects.push(s);
                for e in &s.index {
                    super::unique::hold(&mut snap.unique, s.id, &e.field, Some(e.hash));
                    p.inserts.subjects.upsert_index(IndexRow {
                        subject: s.id,
                        field: &e.field,
                        hash: e.hash,
                    });
                }
                p.inserts.consents.extend(s.consents.iter().map(|c| (s.id, c)));
                p.inserts.bases.extend(s.bases.iter().map(|b| (s.id, b)));
                OpOutcome::Done
            }
        },
        SubjectChange::Update {
            id,
            expected_revision,
            fields,
            reindex,
            bases,
            at,
        } => match snap.subjects.get_mut(id) {
            None => OpOutcome::NotFound,
            Some(SubjectSnap::Erased) => OpOutcome::Erased,
            Some(SubjectSnap::Active { revision, .. }) if *revision != *expected_revision => OpOutcome::Conflict,
            Some(SubjectSnap::Active { revision, .. }) => {
                *revision += 1;
                p.push(super::Step::Subject(Step::Update {
                    id: *id,
                    fields,
                    revision: *revision,
                    at: *at,
                }));
                for (field, hash) in reindex {
                    super::unique::hold(&mut snap.unique, *id, field, *hash);
                    match hash {
                        Some(hash) => p.inserts.subjects.upsert_index(IndexRow {
                            subject: *id,
                            field,
                            hash: *hash,
                        }),
                        None => p.push(super::Step::Subject(Step::DeleteIndex { subject: *id, field })),
                    }
                }
                p.inserts.bases.extend(bases.iter().map(|b| (*id, b)));
                OpOutcome::Done
            }
        },
        SubjectChange::Erase { id, at } => match snap.subjects.get_mut(id) {
            None => OpOutcome::NotFound,
            Some(SubjectSnap::Erased) => OpOutcome::Erased,
            Some(s @ SubjectSnap::Active { .. }) => {
                *s = SubjectSnap::Erased;
                super::unique::release(&mut snap.unique, *id);
                p.push(super::Step::Subject(Step::Erase { id: *id, at: *at }));
                // Its visitors' records are deleted with it: those visitors are unlinked.
                snap.visitors.retain(|_, linked| *linked != Some(*id));
                OpOutcome::Done
            }
        },
    }
}
