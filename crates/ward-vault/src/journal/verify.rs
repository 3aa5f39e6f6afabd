//! Verifying the whole journal: every entry's hash and link, every signed checkpoint, the
//! head the write path keeps, how long the newest entries have gone unsigned, and a checkpoint
//! kept apart (a witness's copy) when the operator has one.

use super::Tamper;
use crate::error::{VaultError, VaultResult};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use time::Duration;
use ward_crypto::journal::GENESIS;
use ward_crypto::{Checkpoint, CheckpointSigner, Hash32};
use ward_store::chain::{self, RangeCheck, RangeProblem};
use ward_store::{JournalEntry, Store};

const PAGE: u32 = 20_000;

/// The result of verifying the whole journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries verified, in order from the first.
    pub entries: i64,
    /// Signed checkpoints in the store.
    pub checkpoints: usize,
    /// The hash of the last verified entry.
    pub head: Option<Hash32>,
    /// The newest entry a signed checkpoint (or the witness) covers; entries after it are
    /// unsigned: only the hash chain and the head vouch for them.
    pub signed_upto: i64,
    pub problem: Option<Tamper>,
}

impl VerifyReport {
    pub fn is_valid(&self) -> bool {
        self.problem.is_none()
    }

    /// Entries after the last signed checkpoint.
    pub fn unsigned(&self) -> i64 {
        (self.entries - self.signed_upto).max(0)
    }
}

/// A checkpoint kept apart from the store, with the public key it was signed with (see
/// `ward journal checkpoint --export`). Whoever builds one has checked its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    pub checkpoint: Checkpoint,
    pub public_key: [u8; 32],
}

/// How verification judges what the store alone cannot prove.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// How often Ward signs a checkpoint (`checkpoint_interval_secs`).
    pub checkpoint_interval: Duration,
    /// A checkpoint kept apart, checked as well.
    pub witness: Option<Witness>,
    /// Entries per range checked in parallel (the verdict does not depend on it).
    pub range_len: i64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            checkpoint_interval: Duration::seconds(60),
            witness: None,
            range_len: VERIFY_RANGE,
        }
    }
}

/// The longest stretch of time, measured on the entries' own timestamps, that a running Ward
/// leaves entries without a signed checkpoint: one interval between signings, plus a grace of
/// two more intervals (a crashed process's checkpoint lease expires after two, and another
/// process then signs) and a minute for scheduling. Longer: checkpoints were removed.
pub fn unsigned_allowance(interval: Duration) -> Duration {
    interval.saturating_mul(3).saturating_add(Duration::seconds(60))
}

pub use chain::VERIFY_RANGE;

/// Verifies a journal with the trusted checkpoint key.
pub async fn verify(store: &Arc<dyn Store>, signer: &CheckpointSigner) -> VaultResult<VerifyReport> {
    verify_with(store, signer, &VerifyOptions::default()).await
}

/// [`verify`], checking ranges of `range_len` entries, as many at a time as there are cores.
pub async fn verify_in_ranges(
    store: &Arc<dyn Store>,
    signer: &CheckpointSigner,
    range_len: i64,
) -> VaultResult<VerifyReport> {
    let opts = VerifyOptions {
        range_len,
        ..VerifyOptions::default()
    };
    verify_with(store, signer, &opts).await
}

/// Verifies the journal: names the first problem. The chain is checked in ranges, as many at
/// a time as there are cores; a range leaves its first entry's position and link to the
/// combination here, which is the one pass over the journal, range by range, so the verdict
/// does not depend on the range length.
pub async fn verify_with(
    store: &Arc<dyn Store>,
    signer: &CheckpointSigner,
    opts: &VerifyOptions,
) -> VaultResult<VerifyReport> {
    let checkpoints = store.find_checkpoints().await?;
    let mut walk = Walk::new(checkpoints.len());
    for cp in &checkpoints {
        if signer.verify(cp).is_err() {
            return Ok(walk.fail(Tamper::BadCheckpoint { seq: cp.seq }));
        }
    }
    let mut by_seq: BTreeMap<i64, Hash32> = checkpoints.iter().map(|c| (c.seq, c.head)).collect();
    let witness = opts.witness.as_ref().map(|w| &w.checkpoint);
    if let Some(w) = &opts.witness {
        if w.public_key != signer.public_key() {
            return Ok(walk.fail(Tamper::WitnessKey {
                witness_key: w.checkpoint.key_id.clone(),
                journal_key: signer.key_id().to_owned(),
            }));
        }
        by_seq.insert(w.checkpoint.seq, w.checkpoint.head);
    }
    let within = |after: i64, upto: i64| -> chain::Checkpoints {
        by_seq
            .range(after.saturating_add(1)..=upto)
            .map(|(s, h)| (*s, *h))
            .collect()
    };

    let head = store.find_journal_head().await?.map_or(0, |h| h.seq);
    let parallel = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let mut checks = futures::stream::iter(chain::verify_ranges(head, opts.range_len))
        .map(|(after, upto)| {
            let (store, within) = (store.clone(), within(after, upto));
            tokio::spawn(async move { store.check_journal_range(after, upto, &within).await })
        })
        .buffered(parallel);
    while let Some(done) = checks.next().await {
        let check = done.map_err(|e| VaultError::Unavailable(format!("journal verification stopped: {e}")))??;
        if !walk.take(store.as_ref(), check).await? {
            return Ok(walk.into_report(witness));
        }
    }
    drop(checks);
    walk.report.head = (walk.report.entries > 0).then_some(walk.prev);

    // The head is read again: entries written meanwhile (a live server) are below it.
    let head = store.find_journal_head().await?;
    if let Some(h) = head.filter(|h| h.seq > walk.report.entries) {
        let after = walk.report.entries;
        let check = store.check_journal_range(after, h.seq, &within(after, h.seq)).await?;
        if !walk.take(store.as_ref(), check).await? {
            return Ok(walk.into_report(witness));
        }
        walk.report.head = (walk.report.entries > 0).then_some(walk.prev);
    }
    let entries = walk.report.entries;
    let signed_upto = by_seq.keys().copied().filter(|s| *s <= entries).max().unwrap_or(0);
    walk.report.signed_upto = signed_upto;
    let problem = if let Some(cp) = checkpoints.iter().map(|c| c.seq).max().filter(|s| *s > entries) {
        Some(Tamper::Truncated {
            last_seq: entries,
            checkpoint_seq: cp,
        })
    } else if let Some(w) = witness.filter(|w| w.seq > entries) {
        Some(Tamper::WitnessTruncated {
            last_seq: entries,
            witness_seq: w.seq,
        })
    } else {
        match head {
            None if entries > 0 => Some(Tamper::BeyondHead { seq: 1, head_seq: 0 }),
            None => None,
            Some(h) if entries > h.seq => Some(Tamper::BeyondHead {
                seq: h.seq + 1,
                head_seq: h.seq,
            }),
            Some(h) if entries < h.seq => Some(Tamper::EndRemoved {
                last_seq: entries,
                head_seq: h.seq,
            }),
            Some(h) if walk.prev != h.hash => Some(Tamper::HeadMismatch { seq: h.seq }),
            Some(_) => {
                let mut signed: Vec<&Checkpoint> = checkpoints.iter().chain(witness).collect();
                signed.sort_by_key(|c| (c.seq, c.at_micros));
                unsigned_stretch(store.as_ref(), &signed, entries, opts.checkpoint_interval).await?
            }
        }
    };
    walk.report.problem = problem;
    Ok(walk.into_report(witness))
}

/// The first stretch of entries that went unsigned longer than a running Ward leaves them:
/// between two consecutive checkpoints (`signed`, in `seq` order), before the first, or after
/// the last up to `last`. A stretch whose checkpoints were signed within the allowance of each
/// other needs no read (its entries were written between the two signings); any other costs
/// two point reads. This is what catches checkpoints removed and the head signed again (as
/// Ward does at start and every interval): the stretch under the new checkpoint spans the time
/// the removed ones covered.
async fn unsigned_stretch(
    store: &dyn Store,
    signed: &[&Checkpoint],
    last: i64,
    interval: Duration,
) -> VaultResult<Option<Tamper>> {
    let allowed_micros = unsigned_allowance(interval).whole_microseconds();
    let mut after: Option<&Checkpoint> = None;
    for cp in signed {
        let from = after.map_or(0, |a| a.seq);
        if cp.seq > from {
            let close = after.is_some_and(|a| i128::from(cp.at_micros) - i128::from(a.at_micros) <= allowed_micros);
            if !close {
                if let Some(t) = overdue(store, from, cp.seq, interval).await? {
                    return Ok(Some(t));
                }
            }
            after = Some(cp);
        }
    }
    overdue(store, after.map_or(0, |a| a.seq), last, interval).await
}

/// The entries after `signed_upto` (up to `last`), if they span more time than a running
/// Ward leaves unsigned ([`unsigned_allowance`]).
pub(super) async fn overdue(
    store: &dyn Store,
    signed_upto: i64,
    last: i64,
    interval: Duration,
) -> VaultResult<Option<Tamper>> {
    if last <= signed_upto {
        return Ok(None);
    }
    let first = store.find_journal_entries(signed_upto, 1).await?;
    let newest = store.find_journal_entries(last - 1, 1).await?;
    let (Some(first), Some(newest)) = (first.first(), newest.first()) else {
        return Ok(None);
    };
    let (span, allowed) = (newest.at - first.at, unsigned_allowance(interval));
    Ok((span > allowed).then(|| Tamper::Unsigned {
        from_seq: first.seq,
        upto_seq: newest.seq,
        span_secs: span.whole_seconds(),
        allowed_secs: allowed.whole_seconds(),
    }))
}

/// The one pass over the journal, fed range by range in order.
struct Walk {
    expected: i64,
    prev: Hash32,
    report: VerifyReport,
}

impl Walk {
    fn new(checkpoints: usize) -> Self {
        Self {
            expected: 1,
            prev: GENESIS,
            report: VerifyReport {
                entries: 0,
                checkpoints,
                head: None,
                signed_upto: 0,
                problem: None,
            },
        }
    }

    fn fail(mut self, problem: Tamper) -> VerifyReport {
        self.report.problem = Some(problem);
        self.report
    }

    /// Takes the next range's verdict; false once a problem is found.
    async fn take(&mut self, store: &dyn Store, check: RangeCheck) -> VaultResult<bool> {
        let Some(first) = check.first else { return Ok(true) };
        let problem = if !first.content_ok {
            Some(Tamper::Modified { seq: first.seq })
        } else if first.seq != self.expected {
            Some(gap(first.seq, self.expected))
        } else if first.prev_hash != self.prev {
            Some(classify_at(store, first.seq, self.prev).await?)
        } else if !first.checkpoint_ok {
            Some(Tamper::CheckpointMismatch { seq: first.seq })
        } else {
            None
        };
        if problem.is_some() {
            self.report.problem = problem;
            return Ok(false);
        }
        let (last_seq, last_hash) = check.last.unwrap_or((first.seq, first.hash));
        self.report.entries = last_seq;
        if let Some(p) = check.problem {
            self.report.problem = Some(match p {
                RangeProblem::Modified { seq } => Tamper::Modified { seq },
                RangeProblem::Gap { seq, expected } => gap(seq, expected),
                RangeProblem::BrokenLink { seq, prev } => classify_at(store, seq, prev).await?,
                RangeProblem::CheckpointMismatch { seq } => Tamper::CheckpointMismatch { seq },
            });
            return Ok(false);
        }
        (self.expected, self.prev) = (last_seq + 1, last_hash);
        Ok(true)
    }

    /// The report; a mismatch at the witness's position is named as the witness's.
    fn into_report(mut self, witness: Option<&Checkpoint>) -> VerifyReport {
        if let (Some(Tamper::CheckpointMismatch { seq }), Some(w)) = (&self.report.problem, witness) {
            if *seq == w.seq {
                self.report.problem = Some(Tamper::WitnessMismatch { seq: *seq });
            }
        }
        self.report
    }
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
async fn classify_at(store: &dyn Store, seq: i64, prev: Hash32) -> VaultResult<Tamper> {
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
async fn classify_broken_link(store: &dyn Store, e: &JournalEntry, prev: Hash32) -> VaultResult<Tamper> {
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
