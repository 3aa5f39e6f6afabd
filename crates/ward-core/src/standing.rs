//! Where a subject stands on each purpose: on a consent-based purpose, derived from their
//! consent events; on any other, derived from their basis events (`crate::basis`). And what
//! the end of a consent (152-FZ Art. 21 p. 5) or of another basis (p. 4: a contract ended, an
//! obligation's retention run out) leaves behind: the categories no purpose still holding for
//! the subject covers, and the date by which they must be destroyed.
//!
//! Pure: the events, the policies and the time are inputs.

use crate::action::LegalBasis;
use crate::basis::BasisEventKind;
use crate::consent::ConsentEventKind;
use crate::policy::{Policy, Retention};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// Where a subject stands on one purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentState {
    /// Consent is on record and not withdrawn.
    Given,
    Withdrawn,
    /// Given for a term that has ended.
    Expired,
    /// Never asked, or never given.
    None,
    /// The purpose does not rest on consent.
    NotRequired,
}

impl ConsentState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentState::Given => "given",
            ConsentState::Withdrawn => "withdrawn",
            ConsentState::Expired => "expired",
            ConsentState::None => "none",
            ConsentState::NotRequired => "not_required",
        }
    }
}

/// Days after a withdrawal, or after another basis ended, within which data no other basis
/// covers is destroyed.
pub const DESTRUCTION_DAYS: i64 = 30;

/// Data to destroy, and by when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestructionDue {
    pub by: OffsetDateTime,
    pub categories: Vec<String>,
}

/// One consent event, borrowed from wherever it is kept.
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    pub purpose: &'a str,
    pub kind: ConsentEventKind,
    pub at: OffsetDateTime,
    /// The content hash of the policy version the event was recorded under.
    pub policy_version: &'a str,
}

/// The standing of one consent-based purpose, derived from its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeConsent {
    pub state: ConsentState,
    /// When the current state began (for `Expired`: when the term ended).
    pub since: OffsetDateTime,
    pub version_hash: String,
    /// The categories the consent covers (for `Given`).
    pub scope: BTreeSet<String>,
    pub expires_at: Option<OffsetDateTime>,
}

/// Derives each purpose's consent standing from its events (oldest first): the latest event
/// wins; a consent whose document has a term expires by itself when the term ends. A consent's
/// scope and term are those of the version it was recorded under (`version_of` finds it by
/// hash); `current` stands in for a version that is not known.
pub fn standing<'a>(
    events: impl IntoIterator<Item = EventRef<'a>>,
    current: &Arc<Policy>,
    version_of: impl Fn(&str) -> Option<Arc<Policy>>,
    now: OffsetDateTime,
) -> BTreeMap<String, PurposeConsent> {
    let mut latest: BTreeMap<&str, EventRef<'a>> = BTreeMap::new();
    for e in events {
        latest.insert(e.purpose, e);
    }
    latest
        .into_iter()
        .map(|(p, e)| {
            let policy = version_of(e.policy_version).unwrap_or_else(|| current.clone());
            let scope = policy
                .purpose(p)
                .or_else(|| current.purpose(p))
                .map(|x| x.categories.clone())
                .unwrap_or_default();
            let expires_at = match e.kind {
                ConsentEventKind::Given => policy
                    .documents_for(p)
                    .filter_map(|(_, d)| d.term.and_then(|t| t.after(e.at)))
                    .min(),
                ConsentEventKind::Withdrawn => None,
            };
            let (state, since) = match (e.kind, expires_at) {
                (ConsentEventKind::Withdrawn, _) => (ConsentState::Withdrawn, e.at),
                (ConsentEventKind::Given, Some(end)) if end <= now => (ConsentState::Expired, end),
                (ConsentEventKind::Given, _) => (ConsentState::Given, e.at),
            };
            (
                p.to_owned(),
                PurposeConsent {
                    state,
                    since,
                    version_hash: e.policy_version.to_owned(),
                    scope,
                    expires_at,
                },
            )
        })
        .collect()
}

/// Consent-based purposes consented to now → the categories each consent covers.
pub fn given_scopes(standing: BTreeMap<String, PurposeConsent>) -> BTreeMap<String, BTreeSet<String>> {
    standing
        .into_iter()
        .filter(|(_, c)| c.state == ConsentState::Given)
        .map(|(p, c)| (p, c.scope))
        .collect()
}

/// What ending `purpose` (a consent withdrawn or expired, another basis ended) leaves: the
/// purposes that go on using some of the same categories (with their legal basis), and the
/// categories of `purpose` that no remaining purpose covers for this subject. A purpose
/// remains when it holds for the subject: its consent is given, or its basis is established.
pub fn orphaned(
    policy: &Policy,
    purpose: &str,
    standing: &BTreeMap<String, PurposeConsent>,
    bases: &BTreeMap<String, PurposeBasis>,
) -> (Vec<(String, LegalBasis)>, Vec<String>) {
    let Some(p) = policy.purpose(purpose) else {
        return (Vec::new(), Vec::new());
    };
    let mut continuing = Vec::new();
    let mut covered: BTreeSet<&String> = BTreeSet::new();
    for (name, other) in policy.purposes.iter().filter(|(n, _)| n.as_str() != purpose) {
        let live = if other.legal_basis.needs_consent() {
            standing.get(name).is_some_and(|c| c.state == ConsentState::Given)
        } else {
            bases.get(name).is_some_and(|b| b.state == BasisState::Established)
        };
        if live && !other.categories.is_disjoint(&p.categories) {
            continuing.push((name.clone(), other.legal_basis));
            covered.extend(other.categories.iter());
        }
    }
    let orphaned = p.categories.iter().filter(|c| !covered.contains(c)).cloned().collect();
    (continuing, orphaned)
}

/// The destruction due for `orphaned` categories after a consent ended at `since`; `None`
/// when nothing is orphaned.
pub fn destruction_due(since: OffsetDateTime, orphaned: Vec<String>) -> Option<DestructionDue> {
    (!orphaned.is_empty()).then(|| DestructionDue {
        by: since + Duration::days(DESTRUCTION_DAYS),
        categories: orphaned,
    })
}

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
    let mut out: BTreeMap<String, Vec<(String, Option<OffsetDateTime>)>> = BTreeMap::new();
    for (name, b) in bases.iter().filter(|(_, b)| b.state == BasisState::Established) {
        let Some(p) = policy
            .purpose(name)
            .filter(|p| p.legal_basis == LegalBasis::LegalObligation)
        else {
            continue;
        };
        for c in &p.categories {
            out.entry(c.clone()).or_default().push((name.clone(), b.until));
        }
    }
    out
}

/// For each non-consent purpose whose basis has ended: the categories no purpose still
/// holding covers, due for destruction 30 days after the end (152-FZ Art. 21 p. 4).
pub fn ended_bases_due(
    policy: &Policy,
    standing: &BTreeMap<String, PurposeConsent>,
    bases: &BTreeMap<String, PurposeBasis>,
) -> BTreeMap<String, DestructionDue> {
    bases
        .iter()
        .filter(|(_, b)| b.state.has_ended())
        .filter_map(|(p, b)| {
            let (_, orphaned) = orphaned(policy, p, standing, bases);
            destruction_due(b.since, orphaned).map(|d| (p.clone(), d))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::DEFAULT_POLICY;
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

    fn ev(purpose: &str, kind: ConsentEventKind, at: OffsetDateTime) -> EventRef<'_> {
        EventRef {
            purpose,
            kind,
            at,
            policy_version: "v1",
        }
    }

    #[test]
    fn the_latest_event_wins_and_a_withdrawal_dates_the_standing() {
        let p = policy(DEFAULT_POLICY);
        let t0 = datetime!(2026-01-01 00:00 UTC);
        let t1 = datetime!(2026-02-01 00:00 UTC);
        let events = [
            ev("marketing", ConsentEventKind::Given, t0),
            ev("marketing", ConsentEventKind::Withdrawn, t1),
        ];
        let s = standing(events, &p, |_| None, t1);
        let m = &s["marketing"];
        assert_eq!(
            (m.state, m.since, m.version_hash.as_str()),
            (ConsentState::Withdrawn, t1, "v1")
        );
        assert_eq!(m.expires_at, None);
        assert!(given_scopes(s).is_empty());

        let s = standing([ev("marketing", ConsentEventKind::Given, t0)], &p, |_| None, t1);
        assert_eq!(s["marketing"].state, ConsentState::Given);
        let scopes = given_scopes(s);
        assert_eq!(scopes["marketing"], p.purpose("marketing").unwrap().categories);
    }

    #[test]
    fn a_consent_with_a_term_expires_when_the_term_ends() {
        let p = policy(DEFAULT_POLICY); // analytics_cookies: a term of one year
        let given = datetime!(2026-01-01 00:00 UTC);
        let events = [ev("analytics", ConsentEventKind::Given, given)];
        let before = standing(events, &p, |_| None, datetime!(2026-06-01 00:00 UTC));
        assert_eq!(before["analytics"].state, ConsentState::Given);
        let end = before["analytics"].expires_at.unwrap();
        assert_eq!(end, datetime!(2027-01-01 00:00 UTC));
        let after = standing(events, &p, |_| None, end);
        assert_eq!(
            (after["analytics"].state, after["analytics"].since),
            (ConsentState::Expired, end)
        );
    }

    #[test]
    fn the_scope_is_that_of_the_version_the_consent_was_given_under() {
        let now = datetime!(2026-01-01 00:00 UTC);
        let current = policy(DEFAULT_POLICY);
        let older = policy(&DEFAULT_POLICY.replace("version = \"1\"", "version = \"0\""));
        let e = [EventRef {
            policy_version: "old",
            ..ev("marketing", ConsentEventKind::Given, now)
        }];
        let seen = std::cell::Cell::new(false);
        let s = standing(
            e,
            &current,
            |h| {
                seen.set(h == "old");
                Some(older.clone())
            },
            now,
        );
        assert!(seen.get());
        assert_eq!(s["marketing"].scope, older.purpose("marketing").unwrap().categories);
    }

    #[test]
    fn orphaned_categories_are_those_no_live_purpose_covers() {
        let p = policy(DEFAULT_POLICY);
        let none = BTreeMap::new();
        let registered = bases([basis("registration", BasisEventKind::Established, T0)], &p, T0);
        // Marketing's identity and contact go on under registration, a contract established.
        let (continuing, orphaned_) = orphaned(&p, "marketing", &none, &registered);
        assert!(orphaned_.is_empty());
        assert!(continuing.contains(&("registration".to_owned(), LegalBasis::Contract)));
        // Nothing else uses analytics' technical data.
        let (continuing, orphaned_) = orphaned(&p, "analytics", &none, &registered);
        assert!(continuing.is_empty());
        assert_eq!(orphaned_, ["technical"]);
        assert_eq!(
            orphaned(&p, "no_such_purpose", &none, &registered),
            (Vec::new(), Vec::new())
        );
        // A contract the policy lists but nothing established keeps nothing.
        let (continuing, orphaned_) = orphaned(&p, "marketing", &none, &BTreeMap::new());
        assert!(continuing.is_empty());
        assert_eq!(orphaned_, ["contact", "identity"]);
    }

    #[test]
    fn destruction_is_due_thirty_days_after_the_consent_ended() {
        let since = datetime!(2026-01-01 00:00 UTC);
        assert_eq!(destruction_due(since, Vec::new()), None);
        let due = destruction_due(since, vec!["contact".into()]).unwrap();
        assert_eq!(due.by, datetime!(2026-01-31 00:00 UTC));
        assert_eq!(due.categories, ["contact"]);
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
        let due = ended_bases_due(&p, &BTreeMap::new(), &b);
        // Accounting (an obligation) keeps identity and payment; contact and account go.
        assert_eq!(due["registration"].categories, ["account", "contact"]);
        assert_eq!(due["registration"].by, datetime!(2026-05-31 00:00 UTC));
        assert_eq!(due["payment"].categories, ["contact"]);
        // When the obligation's retention runs out, its own data falls due 30 days later.
        let end = datetime!(2031-01-01 00:00 UTC);
        let due = ended_bases_due(&p, &BTreeMap::new(), &bases(events, &p, end));
        assert_eq!(due["accounting"].categories, ["identity", "payment"]);
        assert_eq!(due["accounting"].by, datetime!(2031-01-31 00:00 UTC));
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
