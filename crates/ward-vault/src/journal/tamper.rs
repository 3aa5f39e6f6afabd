//! What verification reports as wrong with the journal, named for people and by a stable kind.

use std::fmt;

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
    /// The journal ends at `last_seq`, but its head (written with every entry) records
    /// `head_seq`: the newest entries were removed.
    EndRemoved { last_seq: i64, head_seq: i64 },
    /// An entry stands at `seq`, past the head at `head_seq`: it was appended outside Ward.
    BeyondHead { seq: i64, head_seq: i64 },
    /// The entry at `seq`, where the head stands, is not the one the head records: the end
    /// of the chain was rewritten.
    HeadMismatch { seq: i64 },
    /// Entries `from_seq..=upto_seq` span `span_secs` seconds with no signed checkpoint
    /// covering them, more than the `allowed_secs` a running Ward leaves unsigned:
    /// checkpoints were removed.
    Unsigned {
        from_seq: i64,
        upto_seq: i64,
        span_secs: i64,
        allowed_secs: i64,
    },
    /// The chain up to `seq` is not the one the checkpoint kept apart vouches for.
    WitnessMismatch { seq: i64 },
    /// The checkpoint kept apart vouches for `witness_seq` entries; the journal ends at `last_seq`.
    WitnessTruncated { last_seq: i64, witness_seq: i64 },
    /// The checkpoint kept apart was signed with another key than the journal's key now.
    WitnessKey { witness_key: String, journal_key: String },
}

impl Tamper {
    /// The position of the problem (the first entry it concerns).
    pub fn seq(&self) -> i64 {
        match self {
            Tamper::Modified { seq }
            | Tamper::Removed { seq }
            | Tamper::Inserted { seq }
            | Tamper::Reordered { seq }
            | Tamper::CheckpointMismatch { seq }
            | Tamper::BadCheckpoint { seq }
            | Tamper::BeyondHead { seq, .. }
            | Tamper::HeadMismatch { seq }
            | Tamper::WitnessMismatch { seq } => *seq,
            Tamper::Truncated { last_seq, .. }
            | Tamper::EndRemoved { last_seq, .. }
            | Tamper::WitnessTruncated { last_seq, .. } => last_seq + 1,
            Tamper::Unsigned { from_seq, .. } => *from_seq,
            Tamper::WitnessKey { .. } => 0,
        }
    }

    /// A stable name for the kind of problem.
    pub fn kind(&self) -> &'static str {
        match self {
            Tamper::Modified { .. } => "modified",
            Tamper::Removed { .. } => "removed",
            Tamper::Inserted { .. } => "inserted",
            Tamper::Reordered { .. } => "reordered",
            Tamper::CheckpointMismatch { .. } => "checkpoint_mismatch",
            Tamper::BadCheckpoint { .. } => "bad_checkpoint",
            Tamper::Truncated { .. } => "truncated",
            Tamper::EndRemoved { .. } => "end_removed",
            Tamper::BeyondHead { .. } => "beyond_head",
            Tamper::HeadMismatch { .. } => "head_mismatch",
            Tamper::Unsigned { .. } => "unsigned",
            Tamper::WitnessMismatch { .. } => "witness_mismatch",
            Tamper::WitnessTruncated { .. } => "witness_truncated",
            Tamper::WitnessKey { .. } => "witness_key",
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
            } => write!(
                f,
                "entries after {last_seq} were removed: a signed checkpoint vouches for {checkpoint_seq} entries"
            ),
            Tamper::EndRemoved { last_seq, head_seq } => write!(
                f,
                "entries {}..={head_seq} were removed: the journal ends at entry {last_seq}, but its head records entry {head_seq}",
                last_seq + 1
            ),
            Tamper::BeyondHead { seq, head_seq } => write!(
                f,
                "entry {seq} was appended outside Ward: the journal head records entry {head_seq} as the last"
            ),
            Tamper::HeadMismatch { seq } => write!(
                f,
                "entry {seq} is not the entry the journal head records: the end of the chain was rewritten"
            ),
            Tamper::Unsigned {
                from_seq,
                upto_seq,
                span_secs,
                allowed_secs,
            } => write!(
                f,
                "entries {from_seq}..={upto_seq} span {span_secs} s with no signed checkpoint covering them \
                 (a running Ward leaves at most {allowed_secs} s unsigned): checkpoints were removed"
            ),
            Tamper::WitnessMismatch { seq } => write!(
                f,
                "the chain up to entry {seq} was rewritten: it does not match the checkpoint kept apart"
            ),
            Tamper::WitnessTruncated { last_seq, witness_seq } => write!(
                f,
                "entries after {last_seq} were removed: the checkpoint kept apart vouches for {witness_seq} entries"
            ),
            Tamper::WitnessKey {
                witness_key,
                journal_key,
            } => write!(
                f,
                "the checkpoint kept apart was signed with key {witness_key}, but this journal's key is \
                 {journal_key}: the signing key was replaced, or the checkpoint belongs to another vault"
            ),
        }
    }
}
