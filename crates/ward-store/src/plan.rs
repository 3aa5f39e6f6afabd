//! Deciding what a batch of write ops does before touching the tables.
//!
//! Inside the write transaction, with the writer lock held, the backend reads the rows the
//! batch touches ([`touched`]) into a [`Snapshot`]; [`plan`] then decides every op's outcome
//! against it, updating it as ops apply (so later ops see earlier ones), and returns the
//! changes as [`Step`]s to apply in order. Consecutive inserts are gathered into one
//! [`Inserts`] step, so a batch of new subjects becomes a few multi-row statements.
//!
//! Backend-neutral: both backends plan their batches with it.

use crate::{
    ApiKeyRecord, Change, ConsentEventRecord, NewSubject, OpOutcome, PolicyVersionRecord, SubjectEventRecord,
    VisitorConsent, WrappedKey, WriteOp,
};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};
use time::OffsetDateTime;
use ward_core::SubjectId;
use ward_crypto::Hash32;

/// The keys of the rows a batch reads.
#[derive(Debug, Default)]
pub struct Touched {
    pub subjects: Vec<SubjectId>,
    pub api_keys: Vec<String>,
    pub policies: Vec<String>,
    /// Visitor hashes whose link to a subject the batch reads.
    pub visitors: Vec<Hash32>,
}

/// The rows a batch reads, deduplicated and sorted (a stable lock order).
pub fn touched(ops: &[WriteOp]) -> Touched {
    let mut subjects = BTreeSet::new();
    let mut api_keys = BTreeSet::new();
    let mut policies = BTreeSet::new();
    let mut visitors = BTreeSet::new();
    for op in ops {
        match &op.change {
            Change::JournalOnly => {}
            Change::CreateSubject(s) => {
                subjects.insert(s.id);
            }
            Change::UpdateSubject { id, .. }
            | Change::AddConsentEvents { id, .. }
            | Change::AddSubjectEvents { id, .. }
            | Change::EraseSubject { id, .. } => {
                subjects.insert(*id);
            }
            Change::RewrapKeys { keys, .. } => subjects.extend(keys.iter().map(|k| k.subject)),
            Change::CreateApiKey(k) => {
                api_keys.insert(k.id.as_str());
            }
            Change::RevokeApiKey { id, .. } => {
                api_keys.insert(id.as_str());
            }
            Change::RecordPolicyVersion(p) => {
                policies.insert(p.hash.as_str());
            }
            Change::RecordVisitorConsent(c) => {
                visitors.insert(c.visitor);
            }
            Change::LinkVisitor { visitor, subject } => {
                visitors.insert(*visitor);
                subjects.insert(*subject);
            }
        }
    }
    Touched {
        subjects: subjects.into_iter().collect(),
        api_keys: api_keys.into_iter().map(str::to_owned).collect(),
        policies: policies.into_iter().map(str::to_owned).collect(),
        visitors: visitors.into_iter().collect(),
    }
}

/// What the planner needs to know of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectSnap {
    Active { revision: i64, kek_id: String },
    Erased,
}

/// The touched rows that exist. A key that is absent does not exist.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub subjects: HashMap<SubjectId, SubjectSnap>,
    /// API key id → revoked.
    pub api_keys: HashMap<String, bool>,
    pub policies: HashSet<String>,
    /// Visitor hash → the subject its records are linked to (`None`: not linked), for the
    /// touched visitors that have records. A visitor that is absent has none.
    pub visitors: HashMap<Hash32, Option<SubjectId>>,
}

/// One blind-index row to insert or replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexRow<'a> {
    pub subject: SubjectId,
    pub field: &'a str,
    pub hash: i64,
}

/// Rows to insert, applied in this field order (subjects first, for the foreign keys).
#[derive(Debug, Default)]
pub struct Inserts<'a> {
    pub subjects: Vec<&'a NewSubject>,
    /// Insert-or-replace on (subject, field); at most one row per pair.
    pub index: Vec<IndexRow<'a>>,
    index_pos: HashMap<(SubjectId, &'a str), usize>,
    pub consents: Vec<(SubjectId, &'a ConsentEventRecord)>,
    pub subject_events: Vec<(SubjectId, &'a SubjectEventRecord)>,
    pub api_keys: Vec<&'a ApiKeyRecord>,
    pub policies: Vec<&'a PolicyVersionRecord>,
    /// Cookie choices, each with the subject it is linked to.
    pub visitor_consents: Vec<(&'a VisitorConsent, Option<SubjectId>)>,
}

impl<'a> Inserts<'a> {
    fn is_empty(&self) -> bool {
        self.subjects.is_empty()
            && self.index.is_empty()
            && self.consents.is_empty()
            && self.subject_events.is_empty()
            && self.api_keys.is_empty()
            && self.policies.is_empty()
            && self.visitor_consents.is_empty()
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

/// One step of applying a batch.
#[derive(Debug)]
pub enum Step<'a> {
    Insert(Inserts<'a>),
    /// Sets the fields, the revision (already incremented) and `updated_at`.
    UpdateSubject {
        id: SubjectId,
        fields: &'a [u8],
        revision: i64,
        at: OffsetDateTime,
    },
    DeleteIndex {
        subject: SubjectId,
        field: &'a str,
    },
    /// Destroys key, fields, index entries, consent and life-cycle evidence, deletes the visitor consent
    /// records linked to the subject; sets the tombstone.
    Erase {
        id: SubjectId,
        at: OffsetDateTime,
    },
    /// Replaces wrapped keys (distinct subjects, all active and under the old KEK).
    Rewrap(Vec<(SubjectId, &'a WrappedKey)>),
    RevokeApiKey {
        id: &'a str,
        at: OffsetDateTime,
    },
    /// Links every record of the visitor to the subject.
    LinkVisitor {
        visitor: &'a Hash32,
        subject: SubjectId,
    },
}

struct Planner<'a> {
    steps: Vec<Step<'a>>,
    inserts: Inserts<'a>,
}

impl<'a> Planner<'a> {
    fn push(&mut self, step: Step<'a>) {
        if !self.inserts.is_empty() {
            self.steps.push(Step::Insert(std::mem::take(&mut self.inserts)));
        }
        self.steps.push(step);
    }

    fn finish(mut self) -> Vec<Step<'a>> {
        if !self.inserts.is_empty() {
            self.steps.push(Step::Insert(self.inserts));
        }
        self.steps
    }
}

/// Decides each op's outcome against `snap` (updating it) and lists the steps to apply.
pub fn plan<'a>(ops: &'a [WriteOp], snap: &mut Snapshot) -> (Vec<OpOutcome>, Vec<Step<'a>>) {
    let mut p = Planner {
        steps: Vec::new(),
        inserts: Inserts::default(),
    };
    let mut outcomes = Vec::with_capacity(ops.len());
    for op in ops {
        let outcome = match &op.change {
            Change::JournalOnly => OpOutcome::Done,
            Change::CreateSubject(s) => match snap.subjects.entry(s.id) {
                Entry::Occupied(_) => OpOutcome::AlreadyExists,
                Entry::Vacant(v) => {
                    v.insert(SubjectSnap::Active {
                        revision: 1,
                        kek_id: s.key.kek_id.clone(),
                    });
                    p.inserts.subjects.push(s);
                    for e in &s.index {
                        p.inserts.upsert_index(IndexRow {
                            subject: s.id,
                            field: &e.field,
                            hash: e.hash,
                        });
                    }
                    p.inserts.consents.extend(s.consents.iter().map(|c| (s.id, c)));
                    OpOutcome::Done
                }
            },
            Change::UpdateSubject {
                id,
                expected_revision,
                fields,
                reindex,
                at,
            } => match snap.subjects.get_mut(id) {
                None => OpOutcome::NotFound,
                Some(SubjectSnap::Erased) => OpOutcome::Erased,
                Some(SubjectSnap::Active { revision, .. }) if *revision != *expected_revision => OpOutcome::Conflict,
                Some(SubjectSnap::Active { revision, .. }) => {
                    *revision += 1;
                    p.push(Step::UpdateSubject {
                        id: *id,
                        fields,
                        revision: *revision,
                        at: *at,
                    });
                    for (field, hash) in reindex {
                        match hash {
                            Some(hash) => p.inserts.upsert_index(IndexRow {
                                subject: *id,
                                field,
                                hash: *hash,
                            }),
                            None => p.push(Step::DeleteIndex { subject: *id, field }),
                        }
                    }
                    OpOutcome::Done
                }
            },
            Change::AddConsentEvents { id, events } => match snap.subjects.get(id) {
                None => OpOutcome::NotFound,
                Some(SubjectSnap::Erased) => OpOutcome::Erased,
                Some(SubjectSnap::Active { .. }) => {
                    p.inserts.consents.extend(events.iter().map(|c| (*id, c)));
                    OpOutcome::Done
                }
            },
            Change::AddSubjectEvents { id, events } => match snap.subjects.get(id) {
                None => OpOutcome::NotFound,
                Some(SubjectSnap::Erased) => OpOutcome::Erased,
                Some(SubjectSnap::Active { .. }) => {
                    p.inserts.subject_events.extend(events.iter().map(|e| (*id, e)));
                    OpOutcome::Done
                }
            },
            Change::EraseSubject { id, at } => match snap.subjects.get_mut(id) {
                None => OpOutcome::NotFound,
                Some(SubjectSnap::Erased) => OpOutcome::Erased,
                Some(s @ SubjectSnap::Active { .. }) => {
                    *s = SubjectSnap::Erased;
                    p.push(Step::Erase { id: *id, at: *at });
                    // Its visitors' records are deleted with it: those visitors are unlinked.
                    snap.visitors.retain(|_, linked| *linked != Some(*id));
                    OpOutcome::Done
                }
            },
            Change::RewrapKeys { old_kek_id, keys } => {
                let mut rewrap = Vec::new();
                for k in keys {
                    if let Some(SubjectSnap::Active { kek_id, .. }) = snap.subjects.get_mut(&k.subject) {
                        if kek_id == old_kek_id {
                            kek_id.clone_from(&k.key.kek_id);
                            rewrap.push((k.subject, &k.key));
                        }
                    }
                }
                if !rewrap.is_empty() {
                    p.push(Step::Rewrap(rewrap));
                }
                OpOutcome::Done
            }
            Change::CreateApiKey(k) => match snap.api_keys.entry(k.id.clone()) {
                Entry::Occupied(_) => OpOutcome::AlreadyExists,
                Entry::Vacant(v) => {
                    v.insert(false);
                    p.inserts.api_keys.push(k);
                    OpOutcome::Done
                }
            },
            Change::RevokeApiKey { id, at } => match snap.api_keys.get_mut(id) {
                None => OpOutcome::NotFound,
                Some(true) => OpOutcome::Revoked,
                Some(revoked) => {
                    *revoked = true;
                    p.push(Step::RevokeApiKey { id, at: *at });
                    OpOutcome::Done
                }
            },
            Change::RecordVisitorConsent(c) => {
                let linked = *snap.visitors.entry(c.visitor).or_insert(None);
                p.inserts.visitor_consents.push((c, linked));
                OpOutcome::Done
            }
            Change::LinkVisitor { visitor, subject } => match snap.subjects.get(subject) {
                None => OpOutcome::NotFound,
                Some(SubjectSnap::Erased) => OpOutcome::Erased,
                Some(SubjectSnap::Active { .. }) => match snap.visitors.get_mut(visitor) {
                    // No records: nothing to link.
                    None => OpOutcome::Done,
                    Some(Some(linked)) if linked != subject => OpOutcome::Conflict,
                    Some(linked) => {
                        *linked = Some(*subject);
                        p.push(Step::LinkVisitor {
                            visitor,
                            subject: *subject,
                        });
                        OpOutcome::Done
                    }
                },
            },
            Change::RecordPolicyVersion(v) => {
                if snap.policies.insert(v.hash.clone()) {
                    p.inserts.policies.push(v);
                    OpOutcome::Done
                } else {
                    OpOutcome::AlreadyExists
                }
            }
        };
        outcomes.push(outcome);
    }
    (outcomes, p.finish())
}

/// Joins identifiers (field names, purposes) into the stored comma-separated form.
/// `None` if one cannot be stored that way (empty, or containing a comma).
pub fn join_names(names: &[String]) -> Option<String> {
    if names.iter().any(|n| n.is_empty() || n.contains(',')) {
        return None;
    }
    Some(names.join(","))
}

/// The inverse of [`join_names`].
pub fn split_names(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(',').map(str::to_owned).collect()
    }
}

/// Row counts for multi-row statements: full chunks of `max`, then the remainder as powers
/// of two, so only a few statement shapes exist (and stay in the prepared-statement cache).
#[allow(dead_code)] // PostgreSQL binds arrays instead.
pub fn chunk_sizes(mut n: usize, max: usize) -> Vec<usize> {
    let mut out = Vec::new();
    while n >= max {
        out.push(max);
        n -= max;
    }
    let mut bit = max.next_power_of_two();
    while n > 0 {
        if n >= bit {
            out.push(bit);
            n -= bit;
        }
        bit /= 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_everything_with_few_shapes() {
        assert_eq!(chunk_sizes(0, 64), Vec::<usize>::new());
        assert_eq!(chunk_sizes(1, 64), [1]);
        assert_eq!(chunk_sizes(64, 64), [64]);
        assert_eq!(chunk_sizes(200, 64), [64, 64, 64, 8]);
        assert_eq!(chunk_sizes(63, 64), [32, 16, 8, 4, 2, 1]);
        for n in 0..1000 {
            let c = chunk_sizes(n, 64);
            assert_eq!(c.iter().sum::<usize>(), n);
            assert!(c.iter().all(|s| s.is_power_of_two() && *s <= 64));
        }
    }

    #[test]
    fn names_round_trip() {
        let names = vec!["email".to_owned(), "phone_2".to_owned()];
        assert_eq!(split_names(&join_names(&names).unwrap()), names);
        assert_eq!(join_names(&[]).unwrap(), "");
        assert!(split_names("").is_empty());
        assert_eq!(join_names(&["a,b".to_owned()]), None);
        assert_eq!(join_names(&[String::new()]), None);
    }
}
