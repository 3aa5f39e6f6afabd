//! Journal verification and checkpoints.

use crate::error::{VaultError, VaultResult};
use crate::Vault;
use std::collections::HashMap;
use std::fmt;
use ward_core::clock::to_micros;
use ward_core::Caller;
use ward_crypto::journal::GENESIS;
use ward_crypto::{Checkpoint, Hash32};
use ward_store::{chain, JournalEntry};

const PAGE: u32 = 20_000;

/// The first thing found wrong with the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tamper {
    /// The entry's content no longer matches its hash.
    Modified { seq: i64 },
    /// Entries are missing from this position on.
    Removed { seq: i64 },
    /// An entry that Ward did not write stands at this position.
    Inserted { seq: i64 },
    /// The entry at this position belongs elsewhere in the chain.
    Reordered { seq: i64 },
    /// The chain up to `seq` is not the one a signed checkpoint vouches for: rewritten.
    CheckpointMismatch { seq: i64 },
    /// A checkpoint's signature does not verify with Ward's journal key.
    BadCheckpoint { seq: i64 },
    /// A checkpoint vouches for `checkpoint_seq` entries, but the journal ends at `last_seq`.
    Truncated { last_seq: i64, checkpoint_seq: i64 },
}

impl Tamper {
    pub fn seq(&self) -> i64 {
        match self {
            Tamper::Modified { seq }
            | Tamper::Removed { seq }
            | Tamper::Inserted { seq }
            | Tamper::Reordered { seq }
            | Tamper::CheckpointMismatch { seq }
            | Tamper::BadCheckpoint { seq } => *seq,
            Tamper::Truncated { last_seq, .. } => last_seq + 1,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Tamper::Modified { .. } => "modified",
            Tamper::Removed { .. } => "removed",
            Tamper::Inserted { .. } => "inserted",
            Tamper::Reordered { .. } => "reordered",
            Tamper::CheckpointMismatch { .. } => "checkpoint_mismatch",
            Tamper::BadCheckpoint { .. } => "bad_checkpoint",
            Tamper::Truncated { .. } => "truncated",
        }
    }
}

impl fmt::Display for Tamper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tamper::Modified { seq } => write!(f, "entry {seq} was modified: its content does not match its hash"),
            Tamper::Removed { seq } => write!(
                f,
                "entry {seq} was removed: the chain skips from entry {} onwards",
                seq - 1
            ),
            Tamper::Inserted { seq } => write!(f, "entry {seq} was inserted: Ward's chain does not link through it"),
            Tamper::Reordered { seq } => {
                write!(f, "entry {seq} was reordered: it links to an entry that comes after it")
            }
            Tamper::CheckpointMismatch { seq } => write!(
                f,
                "the chain up to entry {seq} was rewritten: it does not match the signed checkpoint at {seq}"
            ),
            Tamper::BadCheckpoint { seq } => {
                write!(f, "the checkpoint at entry {seq} has a signature that does not verify")
            }
            Tamper::Truncated {
                last_seq,
                checkpoint_seq,
            } => {
                write!(
                    f,
                    "entries after {last_seq} were removed: a signed checkpoint vouches for {checkpoint_seq} entries"
                )
            }
        }
    }
}

/// The result of verifying the whole journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: i64,
    pub checkpoints: usize,
    pub head: Option<Hash32>,
    pub problem: Option<Tamper>,
}

impl VerifyReport {
    pub fn is_valid(&self) -> bool {
        self.problem.is_none()
    }
}

impl Vault {
    /// Verifies every entry's hash and link and every checkpoint; names the first problem.
    pub async fn verify_journal(&self, caller: &Caller) -> VaultResult<VerifyReport> {
        if !caller.is_admin() {
            return Err(VaultError::admin_only());
        }
        verify(self.store().as_ref(), &self.keys().signer).await
    }

    /// Signs a checkpoint of the current head if it moved since the last one.
    pub async fn checkpoint(&self) -> VaultResult<Option<Checkpoint>> {
        let store = self.store();
        let Some(head) = store.find_journal_head().await? else {
            return Ok(None);
        };
        let last = store
            .find_checkpoints()
            .await?
            .into_iter()
            .map(|c| c.seq)
            .max()
            .unwrap_or(0);
        if head.seq <= last {
            return Ok(None);
        }
        let cp = self.keys().signer.sign(head.seq, head.hash, to_micros(self.now()));
        store.create_checkpoint(&cp).await?;
        Ok(Some(cp))
    }
}

/// Verifies a journal with the trusted checkpoint key.
pub async fn verify(
    store: &dyn ward_store::Store,
    signer: &ward_crypto::CheckpointSigner,
) -> VaultResult<VerifyReport> {
    let checkpoints = store.find_checkpoints().await?;
    let mut report = VerifyReport {
        entries: 0,
        checkpoints: checkpoints.len(),
        head: None,
        problem: None,
    };
    for cp in &checkpoints {
        if signer.verify(cp).is_err() {
            report.problem = Some(Tamper::BadCheckpoint { seq: cp.seq });
            return Ok(report);
        }
    }
    let by_seq: HashMap<i64, Hash32> = checkpoints.iter().map(|c| (c.seq, c.head)).collect();

    let mut prev = GENESIS;
    let mut expected = 1i64;
    let mut page = store.find_journal_entries(0, PAGE).await?;
    while let Some(last) = page.last() {
        // The next page is read while this one is hashed: reading it is the store's work
        // (another thread, or the database server), hashing is ours.
        let (next, first_modified) = tokio::join!(store.find_journal_entries(last.seq, PAGE), async {
            page.iter()
                .position(|e| chain::content(e).hash_after(&e.prev_hash) != e.hash)
        });
        for (i, e) in page.iter().enumerate() {
            let problem = if first_modified == Some(i) {
                Some(Tamper::Modified { seq: e.seq })
            } else if e.seq != expected {
                Some(if e.seq > expected {
                    Tamper::Removed { seq: expected }
                } else {
                    Tamper::Inserted { seq: e.seq }
                })
            } else if e.prev_hash != prev {
                Some(classify_broken_link(store, e, prev).await?)
            } else if by_seq.get(&e.seq).is_some_and(|h| *h != e.hash) {
                Some(Tamper::CheckpointMismatch { seq: e.seq })
            } else {
                None
            };
            if let Some(p) = problem {
                report.problem = Some(p);
                return Ok(report);
            }
            prev = e.hash;
            expected += 1;
            report.entries = e.seq;
        }
        page = next?;
    }
    report.head = (report.entries > 0).then_some(prev);
    if let Some(cp) = checkpoints.iter().map(|c| c.seq).max().filter(|s| *s > report.entries) {
        report.problem = Some(Tamper::Truncated {
            last_seq: report.entries,
            checkpoint_seq: cp,
        });
    }
    Ok(report)
}

/// `e` is internally consistent but does not link to the entry before it (whose hash is
/// `prev`). Decide what happened, with a second look at the whole chain.
async fn classify_broken_link(store: &dyn ward_store::Store, e: &JournalEntry, prev: Hash32) -> VaultResult<Tamper> {
    let mut position: HashMap<Hash32, i64> = HashMap::new();
    let mut next: Option<JournalEntry> = None;
    let mut before_prev: Option<Hash32> = None;
    let mut after = 0i64;
    loop {
        let page = store.find_journal_entries(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for x in page {
            if x.seq == e.seq - 2 {
                before_prev = Some(x.hash);
            }
            if x.seq == e.seq + 1 {
                next = Some(x.clone());
            }
            position.insert(x.hash, x.seq);
        }
    }
    let linked_to = position.get(&e.prev_hash).copied();
    Ok(match linked_to {
        Some(s) if s > e.seq => Tamper::Reordered { seq: e.seq },
        _ if next.as_ref().is_some_and(|n| n.prev_hash == prev) => Tamper::Inserted { seq: e.seq },
        _ if e.seq >= 2 && (Some(e.prev_hash) == before_prev || (e.seq == 2 && e.prev_hash == GENESIS)) => {
            Tamper::Inserted { seq: e.seq - 1 }
        }
        None => Tamper::Removed { seq: e.seq },
        Some(_) => Tamper::Modified { seq: e.seq },
    })
}
