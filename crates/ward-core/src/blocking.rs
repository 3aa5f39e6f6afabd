//! Blocking (152-FZ Art. 3 item 10, Art. 21): a temporary stop of processing, except where
//! processing is needed to rectify the data. Why a block is placed (an enum: the journal holds
//! no client text), which reads it lets through, and which categories it covers. Pure.

use crate::action::string_enum;
use std::collections::BTreeSet;
use time::Duration;

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

/// A block older than this is reported by the destruction job (Art. 21 p. 6: six months).
pub const BLOCK_REVIEW_AFTER: Duration = Duration::days(183);

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
}
