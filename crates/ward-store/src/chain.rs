//! Linking drafts into the hash chain. Backends call [`link`] inside the write transaction,
//! after locking the head, so two processes can never fork the chain.

use crate::model::{JournalEntry, JournalHead};
use ward_core::clock::to_micros;
use ward_core::JournalDraft;
use ward_crypto::journal::{entry_hash, EntryContent, GENESIS};

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
                fields: &self.e.fields,
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
