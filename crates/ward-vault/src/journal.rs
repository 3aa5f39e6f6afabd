//! Journal verification and checkpoints.

use crate::error::{VaultError, VaultResult};
use crate::Vault;
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use ward_core::clock::to_micros;
use ward_core::Caller;
use ward_crypto::journal::GENESIS;
use ward_crypto::{Checkpoint, Hash32};
use ward_store::chain::{self, RangeProblem};
use ward_store::{JournalEntry, Store};

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

/// The journal service, reached by [`Vault::journal`].
#[derive(Clone, Copy)]
pub struct Journal<'v>(pub(crate) &'v Vault);

impl Journal<'_> {
    /// Verifies every entry's hash and link and every checkpoint; names the first problem.
    pub async fn verify(&self, caller: &Caller) -> VaultResult<VerifyReport> {
        if !caller.is_admin() {
            return Err(VaultError::admin_only());
        }
        verify(self.0.store(), &self.0.inner.keys.signer).await
    }

    /// Signs a checkpoint of the current head if it moved since the last one.
    pub async fn checkpoint(&self) -> VaultResult<Option<Checkpoint>> {
        let store = self.0.store();
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
        let cp = self
            .0
            .inner
            .keys
            .signer
            .sign(head.seq, head.hash, to_micros(self.0.now()));
        store.create_checkpoint(&cp).await?;
        Ok(Some(cp))
    }
}

pub use chain::VERIFY_RANGE;

/// Verifies a journal with the trusted checkpoint key.
pub async fn verify(store: &Arc<dyn Store>, signer: &ward_crypto::CheckpointSigner) -> VaultResult<VerifyReport> {
    verify_in_ranges(store, signer, VERIFY_RANGE).await
}

/// [`verify`], checking ranges of `range_len` entries, as many at a time as there are cores.
/// The verdict does not depend on `range_len`: a range leaves its first entry's position and
/// link to the combination here, which is the one pass over the journal, range by range.
pub async fn verify_in_ranges(
    store: &Arc<dyn Store>,
    signer: &ward_crypto::CheckpointSigner,
    range_len: i64,
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
    let by_seq: BTreeMap<i64, Hash32> = checkpoints.iter().map(|c| (c.seq, c.head)).collect();

    let head = store.find_journal_head().await?.map_or(0, |h| h.seq);
    let parallel = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let mut checks = futures::stream::iter(chain::verify_ranges(head, range_len))
        .map(|(after, upto)| {
            // Each range gets the checkpoints that fall in it.
            let within: chain::Checkpoints = by_seq
                .range(after.saturating_add(1)..=upto)
                .map(|(s, h)| (*s, *h))
                .collect();
            let store = store.clone();
            tokio::spawn(async move { store.check_journal_range(after, upto, &within).await })
        })
        .buffered(parallel);

    let mut expected = 1i64;
    let mut prev = GENESIS;
    while let Some(done) = checks.next().await {
        let check = done.map_err(|e| VaultError::Unavailable(format!("journal verification stopped: {e}")))??;
        let Some(first) = check.first else { continue };
        let problem = if !first.content_ok {
            Some(Tamper::Modified { seq: first.seq })
        } else if first.seq != expected {
            Some(gap(first.seq, expected))
        } else if first.prev_hash != prev {
            Some(classify_at(store.as_ref(), first.seq, prev).await?)
        } else if !first.checkpoint_ok {
            Some(Tamper::CheckpointMismatch { seq: first.seq })
        } else {
            None
        };
        if problem.is_some() {
            report.problem = problem;
            return Ok(report);
        }
        let (last_seq, last_hash) = check.last.unwrap_or((first.seq, first.hash));
        report.entries = last_seq;
        if let Some(p) = check.problem {
            report.problem = Some(match p {
                RangeProblem::Modified { seq } => Tamper::Modified { seq },
                RangeProblem::Gap { seq, expected } => gap(seq, expected),
                RangeProblem::BrokenLink { seq, prev } => classify_at(store.as_ref(), seq, prev).await?,
                RangeProblem::CheckpointMismatch { seq } => Tamper::CheckpointMismatch { seq },
            });
            return Ok(report);
        }
        (expected, prev) = (last_seq + 1, last_hash);
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

/// An entry at `seq` where `expected` should be.
fn gap(seq: i64, expected: i64) -> Tamper {
    if seq > expected {
        Tamper::Removed { seq: expected }
    } else {
        Tamper::Inserted { seq }
    }
}

/// [`classify_broken_link`] for the entry at `seq`.
async fn classify_at(store: &dyn ward_store::Store, seq: i64, prev: Hash32) -> VaultResult<Tamper> {
    let e = store
        .find_journal_entries(seq - 1, 1)
        .await?
        .into_iter()
        .find(|e| e.seq == seq)
        .ok_or_else(|| VaultError::Unavailable(format!("journal entry {seq} changed during verification")))?;
    classify_broken_link(store, &e, prev).await
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
