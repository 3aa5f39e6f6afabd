//! Linking drafts into the hash chain. Backends call [`link`] inside the write transaction,
//! after locking the head, so two processes can never fork the chain.

use crate::model::{JournalEntry, JournalHead};
use std::collections::HashMap;
use ward_core::clock::to_micros;
use ward_core::JournalDraft;
use ward_crypto::journal::{entry_hash, EntryContent, Fields, GENESIS};
use ward_crypto::Hash32;

/// The hash-relevant content of a stored entry.
pub fn content(e: &JournalEntry) -> EntryContentOwned<'_> {
    EntryContentOwned {
        subject: e.subject.map(|s| *s.as_bytes()),
        e,
    }
}

/// Helper that owns the subject bytes so an [`EntryContent`] can borrow them.
pub struct EntryContentOwned<'a> {
    subject: Option<[u8; 16]>,
    e: &'a JournalEntry,
}

impl EntryContentOwned<'_> {
    pub fn hash_after(&self, prev: &ward_crypto::Hash32) -> ward_crypto::Hash32 {
        entry_hash(
            prev,
            &EntryContent {
                at_micros: to_micros(self.e.at),
                actor: &self.e.actor,
                action: &self.e.action,
                subject: self.subject.as_ref(),
                purpose: self.e.purpose.as_deref(),
                fields: Fields::List(&self.e.fields),
                detail: self.e.detail.as_deref(),
            },
        )
    }
}

/// Turns drafts into entries that follow `head`, and returns them with the new head.
pub fn link(
    head: Option<JournalHead>,
    drafts: impl IntoIterator<Item = JournalDraft>,
) -> (Vec<JournalEntry>, Option<JournalHead>) {
    let (mut seq, mut prev) = head.map_or((0, GENESIS), |h| (h.seq, h.hash));
    let mut out = Vec::new();
    for d in drafts {
        seq += 1;
        let mut e = JournalEntry {
            seq,
            at: d.at,
            actor: d.actor,
            action: d.action.as_str().to_owned(),
            subject: d.subject,
            purpose: d.purpose,
            fields: d.fields,
            detail: d.detail,
            prev_hash: prev,
            hash: [0; 32],
        };
        e.hash = content(&e).hash_after(&prev);
        prev = e.hash;
        out.push(e);
    }
    (out, (seq > 0).then_some(JournalHead { seq, hash: prev }))
}

/// Entries per range when verification splits the journal to check ranges in parallel.
pub const VERIFY_RANGE: i64 = 100_000;

/// The ranges `(after, upto]` that verification checks for a journal whose head is at `head`:
/// `range_len` entries each, the last one without an end, so that entries past a (tampered)
/// head are checked too.
pub fn verify_ranges(head: i64, range_len: i64) -> Vec<(i64, i64)> {
    let range_len = range_len.max(1);
    let mut ranges = Vec::new();
    let mut after = 0i64;
    while after.saturating_add(range_len) < head {
        ranges.push((after, after + range_len));
        after += range_len;
    }
    ranges.push((after, i64::MAX));
    ranges
}

/// One entry as a [`RangeCheck`] saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub seq: i64,
    pub prev_hash: Hash32,
    pub hash: Hash32,
    /// Its hash is the hash of its content after its `prev_hash`.
    pub content_ok: bool,
    /// No checkpoint names another hash for its position.
    pub checkpoint_ok: bool,
}

/// What a [`RangeCheck`] found wrong after the first entry of its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeProblem {
    /// The entry's hash is not the hash of its content.
    Modified { seq: i64 },
    /// The entry stands at `seq` where `expected` should be.
    Gap { seq: i64, expected: i64 },
    /// The entry does not link to the one before it, whose hash is `prev`.
    BrokenLink { seq: i64, prev: Hash32 },
    /// A checkpoint names another hash for the entry.
    CheckpointMismatch { seq: i64 },
}

/// The verdict on a run of consecutive journal entries, checked on their own: each entry's hash
/// against its content and checkpoints, and each entry after the first against the one before
/// it. The first entry's own position and link are left to whoever knows the entry before the
/// range, so ranges checked in parallel combine into the verdict of one pass over the journal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeCheck {
    /// The range's first entry.
    pub first: Option<Link>,
    /// The last entry that passed every check: its position and hash.
    pub last: Option<(i64, Hash32)>,
    /// The first problem after the first entry; checking stops there.
    pub problem: Option<RangeProblem>,
}

impl RangeCheck {
    /// Takes the next entry in `seq` order. Returns false once going on cannot change the
    /// verdict (a problem was found, or the first entry is itself wrong).
    pub fn push(
        &mut self,
        seq: i64,
        prev_hash: &Hash32,
        hash: &Hash32,
        content_ok: bool,
        checkpoints: &Checkpoints,
    ) -> bool {
        let checkpoint_ok = checkpoints.get(&seq).is_none_or(|h| h == hash);
        let Some((last_seq, last_hash)) = self.last else {
            if self.first.is_some() {
                return false;
            }
            self.first = Some(Link {
                seq,
                prev_hash: *prev_hash,
                hash: *hash,
                content_ok,
                checkpoint_ok,
            });
            if !(content_ok && checkpoint_ok) {
                return false;
            }
            self.last = Some((seq, *hash));
            return true;
        };
        self.problem = if !content_ok {
            Some(RangeProblem::Modified { seq })
        } else if seq != last_seq + 1 {
            Some(RangeProblem::Gap {
                seq,
                expected: last_seq + 1,
            })
        } else if *prev_hash != last_hash {
            Some(RangeProblem::BrokenLink { seq, prev: last_hash })
        } else if !checkpoint_ok {
            Some(RangeProblem::CheckpointMismatch { seq })
        } else {
            None
        };
        if self.problem.is_some() {
            return false;
        }
        self.last = Some((seq, *hash));
        true
    }

    /// [`push`](Self::push) for a decoded entry.
    pub fn push_entry(&mut self, e: &JournalEntry, checkpoints: &Checkpoints) -> bool {
        let ok = content(e).hash_after(&e.prev_hash) == e.hash;
        self.push(e.seq, &e.prev_hash, &e.hash, ok, checkpoints)
    }
}

/// The signed checkpoints' heads, by position.
pub type Checkpoints = HashMap<i64, Hash32>;

#[cfg(test)]
mod tests {
    use super::verify_ranges;

    #[test]
    fn verify_ranges_cover_the_journal_and_what_lies_past_its_head() {
        assert_eq!(verify_ranges(0, 10), [(0, i64::MAX)]);
        assert_eq!(verify_ranges(10, 10), [(0, i64::MAX)]);
        assert_eq!(verify_ranges(11, 10), [(0, 10), (10, i64::MAX)]);
        assert_eq!(verify_ranges(25, 10), [(0, 10), (10, 20), (20, i64::MAX)]);
        assert_eq!(verify_ranges(3, 0), [(0, 1), (1, 2), (2, i64::MAX)]);
    }
}
