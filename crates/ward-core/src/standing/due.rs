//! What has fallen due for destruction for a subject at a time: the categories a withdrawn or
//! expired consent (152-FZ Art. 21 p. 5) or an ended basis (p. 4: a contract ended, an
//! obligation's retention run out) left without any purpose still holding them, once their
//! 30 days have passed, of the categories the subject still holds data in (what was
//! destroyed already is not due again). Each comes with a cause that names the event, so that
//! executing it twice (two processes, a retry) is recognised as the same destruction.

use super::{destruction_due, orphaned, ConsentState, PurposeBasis, PurposeConsent};
use super::{ended_bases_due, BasisState};
use crate::clock::to_micros;
use crate::destruction::DestructionReason;
use crate::policy::Policy;
use std::collections::{BTreeMap, BTreeSet};
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

/// Every destruction due for the subject at `now`, from where it stands on each purpose and
/// the categories it still holds data in (`held`, see `categories_held`). Categories a
/// purpose still holding covers (an established obligation, a consent given) are never due:
/// `orphaned` leaves them out; categories no longer held are never due: `destruction_due`
/// leaves them out.
pub fn due_now(
    policy: &Policy,
    consents: &BTreeMap<String, PurposeConsent>,
    bases: &BTreeMap<String, PurposeBasis>,
    held: &BTreeSet<String>,
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
        if let Some(due) = destruction_due(c.since, orphaned, held).filter(|d| d.by <= now) {
            out.push(DueNow {
                cause: format!("due:consent:{purpose}:{}", to_micros(c.since)),
                reason,
                categories: due.categories,
                by: due.by,
            });
        }
    }
    for (purpose, due) in ended_bases_due(policy, consents, bases, held) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::ConsentEventKind;
    use crate::policy::DEFAULT_POLICY;
    use crate::standing::{categories_held, standing, EventRef};
    use std::sync::Arc;
    use time::macros::datetime;

    #[test]
    fn what_was_destroyed_already_is_not_due_again() {
        let p = Arc::new(Policy::parse(DEFAULT_POLICY).unwrap());
        let (t0, t1) = (datetime!(2026-01-01 00:00 UTC), datetime!(2026-02-01 00:00 UTC));
        let now = datetime!(2026-03-15 00:00 UTC);
        let ev = |kind, at| EventRef {
            purpose: "marketing",
            kind,
            at,
            policy_version: "v1",
        };
        let events = [ev(ConsentEventKind::Given, t0), ev(ConsentEventKind::Withdrawn, t1)];
        let consents = standing(events, &p, |_| None, now);
        let none = BTreeMap::new();
        let all = categories_held(&p, ["full_name", "email"]);
        let due = due_now(&p, &consents, &none, &all, now);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].categories, ["contact", "identity"]);
        assert_eq!(due[0].reason, DestructionReason::ConsentWithdrawn);
        // Identity destroyed: the same cause, with what is left.
        let due = due_now(&p, &consents, &none, &categories_held(&p, ["email"]), now);
        assert_eq!(due[0].categories, ["contact"]);
        // Both destroyed: nothing due.
        assert!(due_now(&p, &consents, &none, &categories_held(&p, ["username"]), now).is_empty());
    }
}
