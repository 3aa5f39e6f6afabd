//! Scans for the officer's registers: subjects with the stored facts their standing is derived
//! from (their sealed field map only for its names: nothing sealed is opened), and journal
//! entries by filter. Both page by a key that only grows (a subject's id, an entry's
//! position), so a page read after another never repeats what that one held nor skips what
//! was there before it.

use crate::{BasisEventRecord, ConsentEventRecord, JournalEntry, StoreResult, SubjectEventRecord};
use async_trait::async_trait;
use time::OffsetDateTime;
use ward_core::access::SubjectState;
use ward_core::clock::to_micros;
use ward_core::SubjectId;

/// A subject's standing facts: its state and its events, each event's sealed evidence left
/// out (`evidence` is `None`). No field, no key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectFacts {
    pub id: SubjectId,
    pub state: SubjectState,
    pub created_at: OffsetDateTime,
    pub erased_at: Option<OffsetDateTime>,
    /// The sealed field map as stored (`SubjectRecord::fields`; `None` once erased): its
    /// field names are in clear, its values stay sealed. What the subject still holds data in.
    pub fields: Option<Vec<u8>>,
    /// Consent events, oldest first.
    pub consents: Vec<ConsentEventRecord>,
    /// Basis events, oldest first.
    pub bases: Vec<BasisEventRecord>,
    /// Life-cycle events (policy notices and acceptances, death), oldest first.
    pub events: Vec<SubjectEventRecord>,
}

impl SubjectFacts {
    /// Drops the sealed evidence of every event (backends read the shared decoders' columns).
    pub fn without_evidence(mut self) -> Self {
        self.consents.iter_mut().for_each(|e| e.evidence = None);
        self.bases.iter_mut().for_each(|e| e.evidence = None);
        self.events.iter_mut().for_each(|e| e.evidence = None);
        self
    }
}

/// Which journal entries to list: every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalFilter {
    pub subject: Option<SubjectId>,
    /// As written: `key:<id>`, `cli` or `system`.
    pub actor: Option<String>,
    /// The action's name as written (`retrieval`, `consent.given`, ...).
    pub action: Option<String>,
    pub purpose: Option<String>,
    /// At or after.
    pub from: Option<OffsetDateTime>,
    /// Before.
    pub to: Option<OffsetDateTime>,
    /// At or before this position: bounds how much of the journal one page reads.
    pub upto_seq: Option<i64>,
}

/// A value bound to a placeholder of [`JournalFilter::conditions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    Bytes(Vec<u8>),
    Text(String),
    Int(i64),
    /// NULL, typed as each column is (PostgreSQL binds a typed NULL).
    NullBytes,
    NullText,
    NullInt,
}

impl JournalFilter {
    /// The filter's conditions on the `journal` table, `AND`-joined (empty when none is set),
    /// with their values in placeholder order; `placeholder(k)` names the k-th (1-based,
    /// counted from `first`). Built per query so that each backend's planner sees only the
    /// conditions set, and can use an index on them.
    pub fn conditions(&self, first: usize, placeholder: impl Fn(usize) -> String) -> (String, Vec<Bind>) {
        let mut parts = Vec::new();
        let mut binds = Vec::new();
        let mut add = |cond: &str, b: Bind| {
            parts.push(format!("{cond} {}", placeholder(first + binds.len())));
            binds.push(b);
        };
        if let Some(s) = self.subject {
            add("subject =", Bind::Bytes(s.as_bytes().to_vec()));
        }
        if let Some(a) = &self.actor {
            add("actor =", Bind::Text(a.clone()));
        }
        if let Some(a) = &self.action {
            add("action =", Bind::Text(a.clone()));
        }
        if let Some(p) = &self.purpose {
            add("purpose =", Bind::Text(p.clone()));
        }
        if let Some(t) = self.from {
            add("at >=", Bind::Int(to_micros(t)));
        }
        if let Some(t) = self.to {
            add("at <", Bind::Int(to_micros(t)));
        }
        if let Some(s) = self.upto_seq {
            add("seq <=", Bind::Int(s));
        }
        (parts.join(" AND "), binds)
    }
}

/// The registers' scans.
#[async_trait]
pub trait ListingStore: Send + Sync {
    /// Subjects (live and erased) with ids greater than `after`, in id order, at most
    /// `limit`, each with its facts, from one snapshot.
    async fn scan_subject_facts(&self, after: Option<SubjectId>, limit: u32) -> StoreResult<Vec<SubjectFacts>>;

    /// Entries with `seq > after_seq` that match `filter`, in `seq` order, at most `limit`.
    async fn find_journal_page(
        &self,
        filter: &JournalFilter,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<JournalEntry>>;
}
