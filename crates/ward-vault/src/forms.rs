//! The form a consent must take: written where the register or the law wants it, an
//! electronic signature with its artefact and verification, a distribution consent's terms
//! (152-FZ Art. 10.1), and an heir's consent after the subject's death (Art. 9 p. 7).

use crate::error::{VaultError, VaultResult};
use crate::Vault;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use ward_core::consent::{ConsentEventKind, DistributionTerms};
use ward_core::consent::{ConsentMethod, Evidence, Role};
use ward_core::policy::{ConsentForm, ConsentKind, Policy};
use ward_core::ProblemCode;
use ward_core::SubjectId;
use ward_store::{ConsentEventRecord, SubjectRecord};

/// The largest signed artefact Ward keeps (decoded).
pub const MAX_ARTEFACT_BYTES: usize = 256 * 1024;

fn bad(code: ProblemCode, message: impl Into<String>) -> VaultError {
    VaultError::invalid(code, message)
}

fn text_ok(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Whether `purpose` is covered by a distribution consent document.
pub(crate) fn is_distribution(policy: &Policy, purpose: &str) -> bool {
    policy
        .documents_for(purpose)
        .any(|(_, d)| d.kind == ConsentKind::Distribution)
}

impl Vault {
    /// Checks that `evidence` is a consent of the form `purpose`'s documents require, and
    /// completes it (the artefact's hash). `deceased`: the subject's death is on record.
    pub(crate) fn check_consent_form(
        &self,
        policy: &Policy,
        purpose: &str,
        evidence: &mut Evidence,
        deceased: bool,
    ) -> VaultResult<()> {
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
        self.check_signature(evidence)?;
        self.check_distribution(policy, purpose, evidence)?;
        if deceased && evidence.given_by.as_ref().is_none_or(|g| g.role != Role::Heir) {
            return Err(bad(
                ProblemCode::HeirConsentRequired,
                "the subject has died; consent is given by their heirs (152-FZ Art. 9 p. 7): give evidence.given_by with role `heir`, their name, identity document and the certificate of inheritance",
            ));
        }
        Ok(())
    }

    fn check_signature(&self, evidence: &mut Evidence) -> VaultResult<()> {
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
        let verified_at = time::OffsetDateTime::parse(&v.verified_at, &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
            bad(
                ProblemCode::InvalidSignature,
                "signature.verification.verified_at must be RFC 3339",
            )
        })?;
        if verified_at > self.now() {
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
        if sig.level != ward_core::consent::SignatureLevel::Simple && v.certificate.is_none() {
            return Err(bad(
                ProblemCode::InvalidSignature,
                "an advanced or qualified signature names its certificate (subject, serial number, issuer) in signature.verification.certificate",
            ));
        }
        Ok(())
    }

    fn check_distribution(&self, policy: &Policy, purpose: &str, evidence: &Evidence) -> VaultResult<()> {
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

    /// The subject's terms for a distribution purpose: those of their latest consent to it.
    pub(crate) fn distribution_terms(
        &self,
        record: &SubjectRecord,
        events: &[ConsentEventRecord],
        purpose: &str,
    ) -> VaultResult<Option<DistributionTerms>> {
        let Some(sealed_evidence) = events
            .iter()
            .rev()
            .find(|e| e.purpose == purpose && e.kind == ConsentEventKind::Given)
            .and_then(|e| e.evidence.as_ref())
        else {
            return Ok(None);
        };
        if record.key.is_none() {
            return Ok(None);
        }
        let evidence = self.open_evidence(record.id, purpose, &self.data_key(record)?, sealed_evidence)?;
        Ok(evidence.distribution)
    }

    /// Narrows each consented distribution purpose to the categories the subject permitted.
    pub(crate) fn narrow_distribution(
        &self,
        record: &SubjectRecord,
        events: &[ConsentEventRecord],
        consents: &mut BTreeMap<String, BTreeSet<String>>,
    ) -> VaultResult<()> {
        let policy = self.policy();
        for (purpose, scope) in consents.iter_mut() {
            if !is_distribution(&policy, purpose) {
                continue;
            }
            let permitted = self.distribution_terms(record, events, purpose)?;
            scope.retain(|c| permitted.as_ref().is_some_and(|t| t.categories.contains_key(c)));
        }
        Ok(())
    }

    /// Opens a consent event's sealed evidence.
    pub(crate) fn open_evidence(
        &self,
        id: SubjectId,
        purpose: &str,
        key: &ward_crypto::DataKey,
        sealed_evidence: &[u8],
    ) -> VaultResult<Evidence> {
        let json = key.open(&crate::sealed::evidence_aad(id, purpose), sealed_evidence)?;
        serde_json::from_slice(&json).map_err(|e| VaultError::Internal(format!("consent evidence: {e}")))
    }
}
