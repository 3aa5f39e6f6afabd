//! What has fallen due for destruction for a subject at a time: the categories a withdrawn or
//! expired consent (152-FZ Art. 21 p. 5) or an ended basis (p. 4: a contract ended, an
//! obligation's retention run out) left without any purpose still holding them, once their
//! 30 days have passed. Each comes with a cause that names the event, so that executing it
//! twice (two processes, a retry) is recognised as the same destruction.

use super::{destruction_due, orphaned, ConsentState, PurposeBasis, PurposeConsent};
use super::{ended_bases_due, BasisState};
use crate::clock::to_micros;
use crate::destruction::DestructionReason;
use crate::policy::Policy;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// One destruction due now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueNow {
    /// `due:consent:<purpose>:<micros>` or `due:basis:<purpose>:<micros>`: the purpose and
    /// when its consent or basis ended. Unique per subject and event.
    pub cause: String,
    pub reason: DestructionReason,
    /// The categories to destroy, sorted.
    pub categories: Vec<String>,
    /// When it fell due.
    pub by: OffsetDateTime,
}

/// Every destruction due for the subject at `now`, from where it stands on each purpose.
/// Categories a purpose still holding covers (an established obligation, a consent given) are
/// never due: `orphaned` leaves them out.
pub fn due_now(
    policy: &Policy,
    consents: &BTreeMap<String, PurposeConsent>,
    bases: &BTreeMap<String, PurposeBasis>,
    now: OffsetDateTime,
) -> Vec<DueNow> {
    let mut out = Vec::new();
    for (purpose, c) in consents {
        let reason = match c.state {
            ConsentState::Withdrawn => DestructionReason::ConsentWithdrawn,
            ConsentState::Expired => DestructionReason::RetentionExpired,
            _ => continue,
        };
        let (_, orphaned) = orphaned(policy, purpose, consents, bases);
        if let Some(due) = destruction_due(c.since, orphaned).filter(|d| d.by <= now) {
            out.push(DueNow {
                cause: format!("due:consent:{purpose}:{}", to_micros(c.since)),
                reason,
                categories: due.categories,
                by: due.by,
            });
        }
    }
    for (purpose, due) in ended_bases_due(policy, consents, bases) {
        if due.by > now {
            continue;
        }
        let Some(b) = bases.get(&purpose) else { continue };
        let reason = match b.state {
            BasisState::Expired => DestructionReason::RetentionExpired,
            _ => DestructionReason::PurposeAchieved,
        };
        out.push(DueNow {
            cause: format!("due:basis:{purpose}:{}", to_micros(b.since)),
            reason,
            categories: due.categories,
            by: due.by,
        });
    }
    out
}
