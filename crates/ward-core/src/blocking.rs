//! Blocking (152-FZ Art. 3 item 10, Art. 21): a temporary stop of processing, except where
//! processing is needed to rectify the data. Why a block is placed (an enum: the journal holds
//! no client text), which reads it lets through, and which categories it covers. Pure.

use crate::action::string_enum;
use std::collections::BTreeSet;
use time::{Duration, OffsetDateTime};

string_enum! {
    /// Why a subject's data is blocked. Journaled as `reason:<name>`.
    BlockReason {
        /// The subject (or the regulator) says the data is inaccurate: blocked while it is
        /// checked (Art. 21 p. 1).
        InaccuracyClaimed => "inaccuracy_claimed",
        /// Processing is said to be unlawful: blocked while it is checked (Art. 21 p. 1).
        UnlawfulProcessingClaimed => "unlawful_processing_claimed",
        /// A law requires keeping the data that would otherwise be destroyed.
        LegalHold => "legal_hold",
        /// Destruction is not possible within the term: blocked until destroyed, at most six
        /// months (Art. 21 p. 6).
        DestructionImpossible => "destruction_impossible",
    }
}

/// A block older than this is due (Art. 21 p. 6: six months): a `destruction_impossible` one
/// is executed by the destruction job, any other is reported for the officer.
pub const BLOCK_REVIEW_AFTER: Duration = Duration::days(183);

/// What a block in force placed at `placed` asks for at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockDue {
    /// Younger than six months: nothing.
    NotYet,
    /// Six months old and placed because destruction was impossible: the destruction job
    /// destroys what it covers and lifts it (Art. 21 p. 6).
    Destroy,
    /// Six months old for another reason: reported, the officer decides.
    Review,
}

/// The rule for a block in force: `reason` as stored (an unknown name is only reviewed).
pub fn block_due(reason: &str, placed: OffsetDateTime, now: OffsetDateTime) -> BlockDue {
    if now - placed < BLOCK_REVIEW_AFTER {
        BlockDue::NotYet
    } else if reason.parse::<BlockReason>().ok() == Some(BlockReason::DestructionImpossible) {
        BlockDue::Destroy
    } else {
        BlockDue::Review
    }
}

/// What the active blocks of a subject cover: every category, or these.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blocked {
    pub whole: bool,
    pub categories: BTreeSet<String>,
}

impl Blocked {
    /// From the active blocks' categories (an empty list blocks the whole subject).
    pub fn of<'a>(blocks: impl IntoIterator<Item = &'a [String]>) -> Self {
        let mut out = Blocked::default();
        for categories in blocks {
            if categories.is_empty() {
                out.whole = true;
            }
            out.categories.extend(categories.iter().cloned());
        }
        out
    }

    pub fn covers(&self, category: &str) -> bool {
        self.whole || self.categories.contains(category)
    }

    pub fn is_empty(&self) -> bool {
        !self.whole && self.categories.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_list_blocks_everything_and_lists_add_up() {
        let none = Blocked::of(std::iter::empty());
        assert!(none.is_empty() && !none.covers("contact"));
        let contact = vec!["contact".to_owned()];
        let some = Blocked::of([contact.as_slice()]);
        assert!(some.covers("contact") && !some.covers("identity"));
        let all = Blocked::of([contact.as_slice(), &[]]);
        assert!(all.covers("identity"));
        assert_eq!("legal_hold".parse::<BlockReason>().unwrap(), BlockReason::LegalHold);
    }

    #[test]
    fn only_an_impossible_destruction_falls_due_and_only_after_six_months() {
        let placed = time::macros::datetime!(2026-01-01 0:00 UTC);
        let early = placed + BLOCK_REVIEW_AFTER - Duration::seconds(1);
        let due = placed + BLOCK_REVIEW_AFTER;
        assert_eq!(block_due("destruction_impossible", placed, early), BlockDue::NotYet);
        assert_eq!(block_due("destruction_impossible", placed, due), BlockDue::Destroy);
        assert_eq!(block_due("inaccuracy_claimed", placed, due), BlockDue::Review);
        assert_eq!(block_due("legal_hold", placed, due), BlockDue::Review);
        assert_eq!(block_due("no_such_reason", placed, due), BlockDue::Review);
    }
}
