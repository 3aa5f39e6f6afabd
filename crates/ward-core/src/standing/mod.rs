//! Where a subject stands on each purpose: on a consent-based purpose, derived from their
//! consent events; on any other, derived from their basis events (`crate::basis`). And what
//! the end of a consent (152-FZ Art. 21 p. 5) or of another basis (p. 4: a contract ended, an
//! obligation's retention run out) leaves behind: the categories no purpose still holding for
//! the subject covers and that the subject still holds data in, and the date by which they
//! must be destroyed.
//!
//! Pure: the events, the policies, the categories held and the time are inputs.

use crate::action::LegalBasis;
use crate::consent::ConsentEventKind;
use crate::policy::Policy;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

mod bases;
mod due;

pub use bases::{bases, ended_bases_due, established, held_categories, BasisRef, BasisState, PurposeBasis};
pub use due::{due_now, DueNow};

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

/// The categories the subject still holds data in: those of the fields it holds (by name,
/// from the sealed field map, nothing opened). A field the policy does not declare counts
/// for no category.
pub fn categories_held<'a>(policy: &Policy, fields: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    fields
        .into_iter()
        .filter_map(|n| policy.field(n))
        .map(|f| f.category.clone())
        .collect()
}

/// The destruction due after a consent or another basis ended at `since`: the `orphaned`
/// categories the subject still holds data in (`held`, see [`categories_held`]); `None` when
/// none is left (nothing orphaned, or all of it destroyed already).
pub fn destruction_due(
    since: OffsetDateTime,
    orphaned: Vec<String>,
    held: &BTreeSet<String>,
) -> Option<DestructionDue> {
    let categories: Vec<String> = orphaned.into_iter().filter(|c| held.contains(c)).collect();
    (!categories.is_empty()).then(|| DestructionDue {
        by: since + Duration::days(DESTRUCTION_DAYS),
        categories,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::basis::BasisEventKind;
    use crate::policy::DEFAULT_POLICY;
    use time::macros::datetime;

    fn policy(src: &str) -> Arc<Policy> {
        Arc::new(Policy::parse(src).unwrap())
    }

    fn basis(purpose: &str, kind: BasisEventKind, at: OffsetDateTime) -> BasisRef<'_> {
        BasisRef {
            purpose,
            kind,
            at,
            start: at,
        }
    }

    const T0: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

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
        let held = BTreeSet::from(["contact".to_owned()]);
        assert_eq!(destruction_due(since, Vec::new(), &held), None);
        let due = destruction_due(since, vec!["contact".into()], &held).unwrap();
        assert_eq!(due.by, datetime!(2026-01-31 00:00 UTC));
        assert_eq!(due.categories, ["contact"]);
    }

    #[test]
    fn only_categories_still_held_are_due() {
        let p = policy(DEFAULT_POLICY);
        let since = datetime!(2026-01-01 00:00 UTC);
        let held = categories_held(&p, ["email", "no_such_field"]);
        assert_eq!(held, BTreeSet::from(["contact".to_owned()]));
        // Identity was destroyed already: only contact is left to destroy.
        let orphaned = vec!["contact".to_owned(), "identity".to_owned()];
        let due = destruction_due(since, orphaned.clone(), &held).unwrap();
        assert_eq!(due.categories, ["contact"]);
        // Nothing of it is held any more: nothing is due, and no deadline stands.
        assert_eq!(destruction_due(since, orphaned, &BTreeSet::new()), None);
    }
}
