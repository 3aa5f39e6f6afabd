//! Where a subject stands on a purpose that does not rest on consent, derived from their basis
//! events (`crate::basis`): established, ended, objected, or an obligation whose retention ran
//! out; what an established obligation holds back from erasure; and what an ended basis leaves
//! due for destruction (152-FZ Art. 21 p. 4).

use super::{destruction_due, orphaned, DestructionDue, PurposeConsent};
use crate::action::LegalBasis;
use crate::basis::BasisEventKind;
use crate::destruction::obligation_hold;
use crate::policy::{Policy, Retention};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// Where a subject stands on a purpose that does not rest on consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasisState {
    /// Established and not ended: the purpose holds for the subject.
    Established,
    /// Ended (a contract ended, the interest or duty no longer applies).
    Ended,
    /// The subject objected to a legitimate interest, and no overriding grounds are recorded.
    Objected,
    /// An obligation whose retention period, counted from its start, has run out.
    Expired,
    /// Nothing establishes it.
    NotEstablished,
}

impl BasisState {
    pub fn as_str(self) -> &'static str {
        match self {
            BasisState::Established => "established",
            BasisState::Ended => "ended",
            BasisState::Objected => "objected",
            BasisState::Expired => "expired",
            BasisState::NotEstablished => "not_established",
        }
    }

    /// Whether the basis held once and no longer does: its data may fall due for destruction.
    pub fn has_ended(self) -> bool {
        matches!(self, BasisState::Ended | BasisState::Objected | BasisState::Expired)
    }
}

/// One basis event, borrowed from wherever it is kept.
#[derive(Debug, Clone, Copy)]
pub struct BasisRef<'a> {
    pub purpose: &'a str,
    pub kind: BasisEventKind,
    /// When it was recorded.
    pub at: OffsetDateTime,
    /// When the basis began (for an obligation: when its retention starts to run).
    pub start: OffsetDateTime,
}

/// The standing of one non-consent purpose, derived from its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurposeBasis {
    pub state: BasisState,
    /// When the current state began (for `Expired`: when the retention period ran out).
    pub since: OffsetDateTime,
    /// For an established obligation with a retention period: when it runs out.
    pub until: Option<OffsetDateTime>,
}

/// Derives each non-consent purpose's standing from its basis events (oldest first) under
/// `policy`, at `now`: the latest event decides, except that an obligation established again
/// keeps the later of its retention ends (each transaction has its own period). An obligation
/// with a retention period expires by itself when the period, counted from its start, ends.
/// A purpose with `basis_of` stands where the purpose it names stands. Events for purposes the
/// policy does not declare, or that rest on consent, are ignored.
pub fn bases<'a>(
    events: impl IntoIterator<Item = BasisRef<'a>>,
    policy: &Policy,
    now: OffsetDateTime,
) -> BTreeMap<String, PurposeBasis> {
    let mut out: BTreeMap<String, PurposeBasis> = BTreeMap::new();
    for e in events {
        let Some(p) = policy.purpose(e.purpose).filter(|p| !p.legal_basis.needs_consent()) else {
            continue;
        };
        let prev = out.get(e.purpose).copied();
        let next = match e.kind {
            BasisEventKind::Established | BasisEventKind::Overridden => {
                let start = if e.kind == BasisEventKind::Established {
                    e.start
                } else {
                    e.at
                };
                let until = match (p.legal_basis, p.retention) {
                    (LegalBasis::LegalObligation, Some(r @ Retention::Period { .. })) => r.after(start),
                    _ => None,
                };
                let until = match prev {
                    Some(b) if b.state == BasisState::Established => until.max(b.until),
                    _ => until,
                };
                let since = match prev {
                    Some(b) if b.state == BasisState::Established => b.since.min(start),
                    _ => start,
                };
                PurposeBasis {
                    state: BasisState::Established,
                    since,
                    until,
                }
            }
            BasisEventKind::Ended => PurposeBasis {
                state: BasisState::Ended,
                since: e.at,
                until: None,
            },
            BasisEventKind::Objected => PurposeBasis {
                state: BasisState::Objected,
                since: e.at,
                until: None,
            },
        };
        out.insert(e.purpose.to_owned(), next);
    }
    // A purpose resting on another's basis stands where that one stands; its own events, if
    // any, do not count.
    for (name, p) in &policy.purposes {
        if let Some(of) = &p.basis_of {
            match out.get(of).copied() {
                Some(b) => out.insert(name.clone(), b),
                None => out.remove(name),
            };
        }
    }
    for b in out.values_mut() {
        if let (BasisState::Established, Some(end)) = (b.state, b.until) {
            if end <= now {
                *b = PurposeBasis {
                    state: BasisState::Expired,
                    since: end,
                    until: Some(end),
                };
            }
        }
    }
    out
}

/// The non-consent purposes established for the subject now.
pub fn established(bases: &BTreeMap<String, PurposeBasis>) -> BTreeSet<String> {
    bases
        .iter()
        .filter(|(_, b)| b.state == BasisState::Established)
        .map(|(p, _)| p.clone())
        .collect()
}

/// The categories an established legal obligation still requires: erasure must not destroy
/// them (the "obligation hold"), with the purpose holding each and when its retention ends.
pub fn held_categories(
    policy: &Policy,
    bases: &BTreeMap<String, PurposeBasis>,
) -> BTreeMap<String, Vec<(String, Option<OffsetDateTime>)>> {
    // Which purposes hold data back is `destruction::obligation_hold`'s rule; this adds, per
    // category, the purposes holding it and when each one's retention ends.
    let hold = obligation_hold(policy, established(bases).iter().map(String::as_str));
    let mut out: BTreeMap<String, Vec<(String, Option<OffsetDateTime>)>> = BTreeMap::new();
    for name in &hold.purposes {
        let Some(p) = policy.purpose(name) else { continue };
        let until = bases.get(name).and_then(|b| b.until);
        for c in &p.categories {
            out.entry(c.clone()).or_default().push((name.clone(), until));
        }
    }
    out
}

/// For each non-consent purpose whose basis has ended: the categories no purpose still
/// holding covers and the subject still holds data in (`held`), due for destruction 30 days
/// after the end (152-FZ Art. 21 p. 4).
pub fn ended_bases_due(
    policy: &Policy,
    standing: &BTreeMap<String, PurposeConsent>,
    bases: &BTreeMap<String, PurposeBasis>,
    held: &BTreeSet<String>,
) -> BTreeMap<String, DestructionDue> {
    bases
        .iter()
        .filter(|(_, b)| b.state.has_ended())
        .filter_map(|(p, b)| {
            let (_, orphaned) = orphaned(policy, p, standing, bases);
            destruction_due(b.since, orphaned, held).map(|d| (p.clone(), d))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::DEFAULT_POLICY;
    use std::sync::Arc;
    use time::macros::datetime;

    fn policy(src: &str) -> Arc<Policy> {
        Arc::new(Policy::parse(src).unwrap())
    }

    const T0: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

    fn basis(purpose: &str, kind: BasisEventKind, at: OffsetDateTime) -> BasisRef<'_> {
        BasisRef {
            purpose,
            kind,
            at,
            start: at,
        }
    }

    #[test]
    fn a_basis_holds_once_established_until_it_ends() {
        let p = policy(DEFAULT_POLICY);
        let t1 = datetime!(2026-03-01 00:00 UTC);
        assert!(bases([], &p, t1).is_empty());
        let events = [
            basis("registration", BasisEventKind::Established, T0),
            basis("registration", BasisEventKind::Ended, t1),
            // Consent purposes and undeclared ones are not bases.
            basis("marketing", BasisEventKind::Established, T0),
            basis("nope", BasisEventKind::Established, T0),
        ];
        let before = bases(events[..1].iter().copied(), &p, t1);
        assert_eq!(before["registration"].state, BasisState::Established);
        assert_eq!(established(&before), BTreeSet::from(["registration".to_owned()]));
        let after = bases(events, &p, t1);
        assert_eq!(after.len(), 1);
        assert_eq!(
            after["registration"],
            PurposeBasis {
                state: BasisState::Ended,
                since: t1,
                until: None
            }
        );
        assert!(established(&after).is_empty());
    }

    #[test]
    fn an_obligation_expires_when_its_retention_from_its_start_runs_out() {
        let p = policy(DEFAULT_POLICY); // accounting: 5 years
        let paid = datetime!(2025-07-01 00:00 UTC);
        let e = [BasisRef {
            purpose: "accounting",
            kind: BasisEventKind::Established,
            at: T0,
            start: paid,
        }];
        let end = datetime!(2030-07-01 00:00 UTC);
        let now = bases(e, &p, T0);
        assert_eq!(
            (now["accounting"].state, now["accounting"].until),
            (BasisState::Established, Some(end))
        );
        let held = held_categories(&p, &now);
        assert_eq!(held.keys().collect::<Vec<_>>(), ["identity", "payment"]);
        assert_eq!(held["payment"], [("accounting".to_owned(), Some(end))]);
        let later = bases(e, &p, end);
        assert_eq!(
            (later["accounting"].state, later["accounting"].since),
            (BasisState::Expired, end)
        );
        assert!(held_categories(&p, &later).is_empty());
        // A second transaction keeps the later end; one dated earlier does not shorten it.
        let again = [
            e[0],
            BasisRef {
                start: datetime!(2026-02-01 00:00 UTC),
                ..e[0]
            },
            BasisRef {
                start: datetime!(2024-01-01 00:00 UTC),
                ..e[0]
            },
        ];
        assert_eq!(
            bases(again, &p, end)["accounting"].until,
            Some(datetime!(2031-02-01 00:00 UTC))
        );
    }

    #[test]
    fn an_objection_ends_an_interest_unless_overridden() {
        let src = DEFAULT_POLICY.to_owned()
            + "\n[purposes.security]\ntitle = \"Security\"\nlegal_basis = \"legitimate_interests\"\nassessment = \"LIA-1\"\ncategories = [\"technical\"]\nactions = [\"use\"]\n";
        let p = policy(&src);
        let t1 = datetime!(2026-02-01 00:00 UTC);
        let t2 = datetime!(2026-03-01 00:00 UTC);
        let objected = [
            basis("security", BasisEventKind::Established, T0),
            basis("security", BasisEventKind::Objected, t1),
        ];
        assert_eq!(bases(objected, &p, t2)["security"].state, BasisState::Objected);
        let overridden = [
            objected[0],
            objected[1],
            basis("security", BasisEventKind::Overridden, t2),
        ];
        let b = bases(overridden, &p, t2);
        assert_eq!(
            (b["security"].state, b["security"].since),
            (BasisState::Established, t2)
        );
    }

    #[test]
    fn an_ended_basis_leaves_what_nothing_else_covers_due_in_thirty_days() {
        let p = policy(DEFAULT_POLICY);
        let ended = datetime!(2026-05-01 00:00 UTC);
        let events = [
            basis("registration", BasisEventKind::Established, T0),
            basis("payment", BasisEventKind::Established, T0),
            basis("accounting", BasisEventKind::Established, T0),
            basis("registration", BasisEventKind::Ended, ended),
            basis("payment", BasisEventKind::Ended, ended),
        ];
        let b = bases(events, &p, ended);
        let all: BTreeSet<String> = p.categories.keys().cloned().collect();
        let due = ended_bases_due(&p, &BTreeMap::new(), &b, &all);
        // Accounting (an obligation) keeps identity and payment; contact and account go.
        assert_eq!(due["registration"].categories, ["account", "contact"]);
        assert_eq!(due["registration"].by, datetime!(2026-05-31 00:00 UTC));
        assert_eq!(due["payment"].categories, ["contact"]);
        // When the obligation's retention runs out, its own data falls due 30 days later.
        let end = datetime!(2031-01-01 00:00 UTC);
        let due = ended_bases_due(&p, &BTreeMap::new(), &bases(events, &p, end), &all);
        assert_eq!(due["accounting"].categories, ["identity", "payment"]);
        assert_eq!(due["accounting"].by, datetime!(2031-01-31 00:00 UTC));
        // Contact and account destroyed already: registration leaves nothing due, and
        // payment's share shrinks to what is still held.
        let held = BTreeSet::from(["identity".to_owned(), "payment".to_owned()]);
        let due = ended_bases_due(&p, &BTreeMap::new(), &b, &held);
        assert!(due.is_empty(), "{due:?}");
    }

    #[test]
    fn a_purpose_on_another_purposes_basis_stands_where_that_one_stands() {
        let src = DEFAULT_POLICY.to_owned()
            + "\n[purposes.notices]\ntitle = \"Account notices\"\nlegal_basis = \"contract\"\nbasis_of = \"registration\"\ncategories = [\"contact\"]\nactions = [\"use\"]\n";
        let p = policy(&src);
        assert!(bases([basis("notices", BasisEventKind::Established, T0)], &p, T0).is_empty());
        let b = bases([basis("registration", BasisEventKind::Established, T0)], &p, T0);
        assert_eq!(
            established(&b),
            BTreeSet::from(["notices".to_owned(), "registration".to_owned()])
        );
    }
}
