//! How consent was obtained, checked: the evidence's own shape, and the form a consent must
//! take (written where the register or the law wants it, an electronic signature with its
//! artefact and verification, a distribution consent's terms (152-FZ Art. 10.1), an heir's
//! consent after the subject's death (Art. 9 p. 7)).
//!
//! Pure: the policy, the evidence and the time are inputs.

use crate::consent::{ConsentMethod, Evidence, Role, SignatureLevel};
use crate::policy::{ConsentForm, ConsentKind, Policy};
use crate::violation::{text_ok, Violation};
use crate::ProblemCode;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use time::OffsetDateTime;

/// The largest signed artefact Ward keeps (decoded).
pub const MAX_ARTEFACT_BYTES: usize = 256 * 1024;

type Checked = Result<(), Violation>;

fn bad(code: ProblemCode, message: impl Into<String>) -> Violation {
    Violation::new(code, message)
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Checks the evidence's fields and completes it: without a policy version of its own, it
/// names `version_in_force` (the version of the policy the consent is checked against).
pub fn check_evidence(evidence: &mut Evidence, version_in_force: &str) -> Checked {
    let ok = |s: &str, max: usize| s.chars().count() <= max && !s.chars().any(char::is_control);
    if evidence.channel.trim().is_empty() || !ok(&evidence.channel, 64) {
        return Err(bad(
            ProblemCode::InvalidEvidence,
            "evidence.channel must be 1 to 64 characters (e.g. \"web_form\")",
        ));
    }
    for (name, v, max) in [
        ("policy_version", &evidence.policy_version, 128),
        ("text_ref", &evidence.text_ref, 512),
        ("ip", &evidence.ip, 64),
        ("user_agent", &evidence.user_agent, 1024),
    ] {
        if v.as_deref().is_some_and(|s| !ok(s, max)) {
            return Err(bad(
                ProblemCode::InvalidEvidence,
                format!("evidence.{name} must be at most {max} characters, without control characters"),
            ));
        }
    }
    if let Some(ip) = &evidence.ip {
        if ip.parse::<std::net::IpAddr>().is_err() {
            return Err(bad(ProblemCode::InvalidEvidence, "evidence.ip is not an IP address"));
        }
    }
    if let Some(g) = &evidence.given_by {
        for (name, v, max) in [
            ("name", Some(&g.name), 300),
            ("identity_document", Some(&g.identity_document), 500),
            ("authority", Some(&g.authority), 500),
            ("verification", g.verification.as_ref(), 500),
        ] {
            if v.is_some_and(|s| s.trim().is_empty() || !ok(s, max)) {
                return Err(bad(
                    ProblemCode::InvalidEvidence,
                    format!("evidence.given_by.{name} must be 1 to {max} characters, without control characters"),
                ));
            }
        }
    }
    if evidence.policy_version.is_none() {
        evidence.policy_version = Some(version_in_force.to_owned());
    }
    Ok(())
}

/// Whether `purpose` is covered by a distribution consent document.
pub fn is_distribution(policy: &Policy, purpose: &str) -> bool {
    policy
        .documents_for(purpose)
        .any(|(_, d)| d.kind == ConsentKind::Distribution)
}

/// Checks that `evidence` is a consent of the form `purpose`'s documents require, and
/// completes it (the artefact's hash). `deceased`: the subject's death is on record.
pub fn check_consent_form(
    policy: &Policy,
    purpose: &str,
    evidence: &mut Evidence,
    deceased: bool,
    now: OffsetDateTime,
) -> Checked {
    let written = matches!(
        evidence.method,
        Some(ConsentMethod::Written | ConsentMethod::ESignature)
    );
    if let Some((name, _)) = policy
        .documents_for(purpose)
        .find(|(_, d)| d.form == ConsentForm::Written)
    {
        if !written {
            return Err(bad(
                ProblemCode::WrittenConsentRequired,
                format!(
                    "consent document `{name}` (purpose `{purpose}`) must be given in writing: evidence.method `written` (a signed paper document) or `e_signature` (with evidence.signature)"
                ),
            ));
        }
    }
    check_signature(evidence, now)?;
    check_distribution(policy, purpose, evidence)?;
    if deceased && evidence.given_by.as_ref().is_none_or(|g| g.role != Role::Heir) {
        return Err(bad(
            ProblemCode::HeirConsentRequired,
            "the subject has died; consent is given by their heirs (152-FZ Art. 9 p. 7): give evidence.given_by with role `heir`, their name, identity document and the certificate of inheritance",
        ));
    }
    Ok(())
}

fn check_signature(evidence: &mut Evidence, now: OffsetDateTime) -> Checked {
    let is_es = evidence.method == Some(ConsentMethod::ESignature);
    let Some(sig) = evidence.signature.as_mut() else {
        if is_es {
            return Err(bad(
                ProblemCode::SignatureRequired,
                "method `e_signature` needs evidence.signature: the signed artefact (base64) and how it was verified",
            ));
        }
        return Ok(());
    };
    if !is_es {
        return Err(bad(
            ProblemCode::InvalidEvidence,
            "evidence.signature is given but evidence.method is not `e_signature`",
        ));
    }
    if !text_ok(&sig.format, 32) {
        return Err(bad(
            ProblemCode::InvalidSignature,
            "signature.format must be 1 to 32 characters (cms, xmldsig, pades, jws, confirmation)",
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sig.artefact.as_bytes())
        .map_err(|_| bad(ProblemCode::InvalidSignature, "signature.artefact is not base64"))?;
    if bytes.is_empty() || bytes.len() > MAX_ARTEFACT_BYTES {
        return Err(bad(
            ProblemCode::InvalidSignature,
            format!("signature.artefact must be 1 to {MAX_ARTEFACT_BYTES} bytes"),
        ));
    }
    let digest = hex::encode(Sha256::digest(&bytes));
    if sig.artefact_sha256.as_ref().is_some_and(|h| *h != digest) {
        return Err(bad(
            ProblemCode::InvalidSignature,
            "signature.artefact_sha256 does not match the artefact",
        ));
    }
    sig.artefact_sha256 = Some(digest);
    if sig.document_sha256.as_deref().is_some_and(|h| !is_sha256_hex(h)) {
        return Err(bad(
            ProblemCode::InvalidSignature,
            "signature.document_sha256 must be 64 lowercase hex digits",
        ));
    }
    let v = &sig.verification;
    if !text_ok(&v.verifier, 200) || v.certificate.as_deref().is_some_and(|c| !text_ok(c, 1000)) {
        return Err(bad(
            ProblemCode::InvalidSignature,
            "signature.verification.verifier must be 1 to 200 characters and certificate 1 to 1000",
        ));
    }
    let verified_at =
        OffsetDateTime::parse(&v.verified_at, &time::format_description::well_known::Rfc3339).map_err(|_| {
            bad(
                ProblemCode::InvalidSignature,
                "signature.verification.verified_at must be RFC 3339",
            )
        })?;
    if verified_at > now {
        return Err(bad(
            ProblemCode::InvalidSignature,
            "signature.verification.verified_at is in the future",
        ));
    }
    if v.result != "valid" {
        return Err(bad(
            ProblemCode::SignatureNotValid,
            "only a signature verified as `valid` is consent; this one was not",
        ));
    }
    if sig.level != SignatureLevel::Simple && v.certificate.is_none() {
        return Err(bad(
            ProblemCode::InvalidSignature,
            "an advanced or qualified signature names its certificate (subject, serial number, issuer) in signature.verification.certificate",
        ));
    }
    Ok(())
}

fn check_distribution(policy: &Policy, purpose: &str, evidence: &Evidence) -> Checked {
    let distribution = is_distribution(policy, purpose);
    let Some(terms) = &evidence.distribution else {
        if distribution {
            return Err(bad(
                ProblemCode::DistributionTermsRequired,
                format!(
                    "purpose `{purpose}` makes data public (152-FZ Art. 10.1): give evidence.distribution.categories, each category the subject permits with their prohibitions and conditions; silence is not permission"
                ),
            ));
        }
        return Ok(());
    };
    if !distribution {
        return Err(bad(
            ProblemCode::InvalidEvidence,
            format!("evidence.distribution is only for a distribution consent; purpose `{purpose}` is not one"),
        ));
    }
    let allowed: BTreeSet<&String> = policy
        .purpose(purpose)
        .map(|p| p.categories.iter().collect())
        .unwrap_or_default();
    if terms.categories.is_empty() {
        return Err(bad(
            ProblemCode::DistributionTermsRequired,
            "evidence.distribution.categories lists no category: nothing would be permitted",
        ));
    }
    for (cat, t) in &terms.categories {
        if !allowed.contains(cat) {
            return Err(bad(
                ProblemCode::InvalidDistributionTerms,
                format!("category `{cat}` is not one purpose `{purpose}` may make public"),
            ));
        }
        if t.conditions.as_deref().is_some_and(|c| !text_ok(c, 2000)) {
            return Err(bad(
                ProblemCode::InvalidDistributionTerms,
                format!("the conditions for `{cat}` must be 1 to 2000 characters"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::{GivenBy, Signature, SignatureVerification};
    use crate::policy::DEFAULT_POLICY;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-21 10:00 UTC);

    fn web() -> Evidence {
        Evidence {
            channel: "web_form".into(),
            ..Evidence::default()
        }
    }

    fn signed(artefact: &[u8], verified_at: &str) -> Evidence {
        Evidence {
            method: Some(ConsentMethod::ESignature),
            signature: Some(Signature {
                level: SignatureLevel::Simple,
                format: "confirmation".into(),
                artefact: base64::engine::general_purpose::STANDARD.encode(artefact),
                artefact_sha256: None,
                document_sha256: None,
                verification: SignatureVerification {
                    verifier: "sms gateway".into(),
                    verified_at: verified_at.into(),
                    result: "valid".into(),
                    certificate: None,
                },
            }),
            ..web()
        }
    }

    #[test]
    fn evidence_is_checked_and_completed_with_the_version_in_force() {
        let mut e = web();
        check_evidence(&mut e, "abc").unwrap();
        assert_eq!(e.policy_version.as_deref(), Some("abc"));
        let mut e = Evidence {
            policy_version: Some("mine".into()),
            ..web()
        };
        check_evidence(&mut e, "abc").unwrap();
        assert_eq!(e.policy_version.as_deref(), Some("mine"));
        for bad in [
            Evidence::default(),
            Evidence {
                ip: Some("not an ip".into()),
                ..web()
            },
            Evidence {
                user_agent: Some("x\u{7}".into()),
                ..web()
            },
            Evidence {
                given_by: Some(GivenBy {
                    role: Role::Parent,
                    name: " ".into(),
                    identity_document: "passport".into(),
                    authority: "birth certificate".into(),
                    verification: None,
                }),
                ..web()
            },
        ] {
            let mut e = bad;
            assert_eq!(check_evidence(&mut e, "abc").unwrap_err().code, "invalid_evidence");
        }
    }

    #[test]
    fn a_signature_is_hashed_and_must_be_verified_in_the_past() {
        let policy = Policy::parse(DEFAULT_POLICY).unwrap();
        let mut e = signed(b"signed bytes", "2026-11-21T09:00:00Z");
        check_consent_form(&policy, "marketing", &mut e, false, NOW).unwrap();
        let digest = hex::encode(Sha256::digest(b"signed bytes"));
        assert_eq!(e.signature.unwrap().artefact_sha256, Some(digest));

        let mut future = signed(b"signed bytes", "2026-11-21T11:00:00Z");
        let v = check_consent_form(&policy, "marketing", &mut future, false, NOW).unwrap_err();
        assert_eq!(v.code, "invalid_signature");
        let mut empty = signed(b"", "2026-11-21T09:00:00Z");
        assert_eq!(
            check_consent_form(&policy, "marketing", &mut empty, false, NOW)
                .unwrap_err()
                .code,
            "invalid_signature"
        );
        let mut missing = Evidence {
            method: Some(ConsentMethod::ESignature),
            ..web()
        };
        assert_eq!(
            check_consent_form(&policy, "marketing", &mut missing, false, NOW)
                .unwrap_err()
                .code,
            "signature_required"
        );
    }

    #[test]
    fn forms_written_distribution_and_heirs() {
        let policy = Policy::parse(DEFAULT_POLICY).unwrap();
        assert!(!is_distribution(&policy, "marketing"));
        let mut e = web();
        check_consent_form(&policy, "marketing", &mut e, false, NOW).unwrap();
        assert_eq!(
            check_consent_form(&policy, "marketing", &mut web(), true, NOW)
                .unwrap_err()
                .code,
            "heir_consent_required"
        );
        let mut terms = Evidence {
            distribution: Some(crate::consent::DistributionTerms {
                categories: Default::default(),
            }),
            ..web()
        };
        assert_eq!(
            check_consent_form(&policy, "marketing", &mut terms, false, NOW)
                .unwrap_err()
                .code,
            "invalid_evidence"
        );
        let written = DEFAULT_POLICY.replace(
            "kind = \"marketing\"\nchannel = \"email\"",
            "kind = \"marketing\"\nchannel = \"email\"\nform = \"written\"",
        );
        let written = Policy::parse(&written).unwrap();
        assert_eq!(
            check_consent_form(&written, "marketing", &mut web(), false, NOW)
                .unwrap_err()
                .code,
            "written_consent_required"
        );
        let mut paper = Evidence {
            method: Some(ConsentMethod::Written),
            ..web()
        };
        check_consent_form(&written, "marketing", &mut paper, false, NOW).unwrap();
    }
}
