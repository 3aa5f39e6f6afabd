//! Consent as an append-only log of events per subject and purpose. The current state is
//! derived from the log; a withdrawal is a new event, never an edit.

use crate::action::string_enum;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

string_enum! {
    /// What happened to a consent.
    ConsentEventKind {
        Given => "given",
        Withdrawn => "withdrawn",
    }
}

/// How a consent was obtained. Sealed with the subject's key at rest, because it may hold
/// personal data (an IP address, a user agent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The channel: `web_form`, `mobile_app`, `paper`, `api`, ...
    pub channel: String,
    /// The policy version the subject was shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    /// A reference to the exact text shown (e.g. a document id or hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// One consent event, as the domain sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEvent {
    pub purpose: String,
    pub kind: ConsentEventKind,
    pub at: OffsetDateTime,
    pub policy_version: String,
}

/// The purposes a subject consents to now, derived from their events in time order.
pub fn active_purposes<'a>(events: impl IntoIterator<Item = &'a ConsentEvent>) -> BTreeSet<String> {
    let mut latest: BTreeMap<&str, ConsentEventKind> = BTreeMap::new();
    for e in events {
        latest.insert(e.purpose.as_str(), e.kind);
    }
    latest
        .into_iter()
        .filter(|(_, k)| *k == ConsentEventKind::Given)
        .map(|(p, _)| p.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(purpose: &str, kind: ConsentEventKind) -> ConsentEvent {
        ConsentEvent {
            purpose: purpose.into(),
            kind,
            at: OffsetDateTime::UNIX_EPOCH,
            policy_version: "1".into(),
        }
    }

    #[test]
    fn the_latest_event_wins() {
        use ConsentEventKind::*;
        let log = [
            ev("marketing", Given),
            ev("analytics", Given),
            ev("marketing", Withdrawn),
        ];
        assert_eq!(active_purposes(&log), BTreeSet::from(["analytics".to_owned()]));
        let log = [ev("marketing", Withdrawn), ev("marketing", Given)];
        assert_eq!(active_purposes(&log), BTreeSet::from(["marketing".to_owned()]));
    }
}
