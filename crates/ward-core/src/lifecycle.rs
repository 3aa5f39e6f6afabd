//! What happens to a subject besides consent: being told of a policy version, accepting it,
//! and dying. Each is an append-only event, like consent events.
//!
//! Acceptance of a policy version is not consent. A subject who accepts (or keeps using the
//! service after being told of) a version that adds a consent-based purpose or widens one has
//! not consented to the new scope: that takes a consent event (152-FZ Art. 9 p. 1 since
//! 01.09.2025, a separate document; GDPR Art. 7, an affirmative act).

use crate::action::string_enum;
use crate::consent::Role;
use serde::{Deserialize, Serialize};

string_enum! {
    /// A subject's life-cycle event.
    SubjectEventKind {
        /// The subject was told of a policy version (how: the evidence's channel).
        PolicyNotified => "policy_notified",
        /// The subject accepted a policy version (an affirmative act, or continued use where
        /// the policy says so; either way, never consent).
        PolicyAccepted => "policy_accepted",
        /// The subject died (152-FZ Art. 9 p. 7: from then on, consent is given by heirs).
        Deceased => "deceased",
    }
}

/// The sealed part of a life-cycle event: how it happened, which may name people and documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SubjectEventEvidence {
    /// How: `email`, `sms`, `banner`, `continued_use`, `letter`, `registry`, ...
    pub channel: String,
    /// A reference to what was sent or shown (a message id, a document number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// For a death: the date of death (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_death: Option<String>,
    /// For a death: the document that shows it (a death certificate: number, date, issuer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// Who reported or acted, if not the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Role>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in [
            SubjectEventKind::PolicyNotified,
            SubjectEventKind::PolicyAccepted,
            SubjectEventKind::Deceased,
        ] {
            assert_eq!(k.as_str().parse::<SubjectEventKind>().ok(), Some(k));
        }
        assert!("consent".parse::<SubjectEventKind>().is_err());
    }
}
