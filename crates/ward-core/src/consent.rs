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
    /// How the consent was expressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<ConsentMethod>,
    /// When someone else consents on the subject's behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_by: Option<GivenBy>,
    /// For method `e_signature`: the signed artefact and how it was verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signature>,
    /// For a distribution consent (152-FZ Art. 10.1): what the subject permits to be made
    /// public, with their conditions and prohibitions per category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<DistributionTerms>,
}

string_enum! {
    /// The kind of electronic signature (63-FZ Art. 5).
    SignatureLevel {
        /// Простая: a code, password or other means confirming who acted.
        Simple => "simple",
        /// Неквалифицированная усиленная.
        Advanced => "advanced",
        /// Квалифицированная усиленная: a qualified certificate from an accredited centre.
        Qualified => "qualified",
    }
}

/// An electronic signature over a consent document: the signed artefact itself, and how the
/// operator verified it. Ward keeps the artefact sealed with the subject's key and records
/// its SHA-256; it does not verify GOST or CAdES signatures cryptographically itself (that
/// is the verifier's job, named here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    pub level: SignatureLevel,
    /// The artefact's format: `cms` (CAdES / PKCS#7), `xmldsig`, `pades`, `jws`, or
    /// `confirmation` (a simple signature's confirmation record: code sent, code entered).
    pub format: String,
    /// The artefact, base64 (standard alphabet, padded).
    pub artefact: String,
    /// SHA-256 of the artefact's bytes, hex; computed by Ward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artefact_sha256: Option<String>,
    /// SHA-256 of the document that was signed, hex (e.g. Ward's written-consent document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_sha256: Option<String>,
    pub verification: SignatureVerification,
}

/// How a signature was verified, and with what result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureVerification {
    /// Who or what verified it (a validation service, the operator's signing software).
    pub verifier: String,
    /// When, RFC 3339.
    pub verified_at: String,
    /// Only `valid` is accepted: an unverified or failed signature is not consent.
    pub result: String,
    /// For advanced and qualified signatures: the certificate's subject, serial number and
    /// issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
}

/// What a subject permits to be made public (152-FZ Art. 10.1): only the categories listed,
/// each with the subject's prohibitions and conditions (p. 9). Silence is not permission
/// (p. 8): a category left out stays unpublished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributionTerms {
    pub categories: BTreeMap<String, CategoryTerms>,
}

/// A subject's terms for one published category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CategoryTerms {
    /// The operator may not transfer it to an unlimited circle (other than giving access).
    #[serde(default)]
    pub no_transfer: bool,
    /// An unlimited circle may not process it (other than getting access).
    #[serde(default)]
    pub no_processing: bool,
    /// Conditions on its processing by an unlimited circle, in the subject's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<String>,
}

string_enum! {
    /// How a consent was expressed.
    ConsentMethod {
        /// A web-form checkbox the subject ticked (never pre-ticked).
        Checkbox => "checkbox",
        /// Submitting a form whose text says that submitting it is consent (seed 004).
        FormSubmission => "form_submission",
        /// A signed paper document (152-FZ Art. 9 p. 4).
        Written => "written",
        /// An electronic signature (63-FZ), counted as written.
        ESignature => "e_signature",
    }
}

string_enum! {
    /// Who consents for the subject.
    Role {
        Parent => "parent",
        Guardian => "guardian",
        /// A representative under a power of attorney (152-FZ Art. 9 p. 4 item 2).
        Representative => "representative",
        /// An heir, after the subject's death (152-FZ Art. 9 p. 7).
        Heir => "heir",
    }
}

/// Someone consenting on the subject's behalf, with what shows their authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GivenBy {
    pub role: Role,
    pub name: String,
    /// Their identity document: kind, number, date and issuer.
    pub identity_document: String,
    /// What shows their authority: a birth certificate, a guardianship order, a power of
    /// attorney (number and date), a certificate of inheritance.
    pub authority: String,
    /// How the operator verified it (e.g. COPPA's signed form, payment card, video call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
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
