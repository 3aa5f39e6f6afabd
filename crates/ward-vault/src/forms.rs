//! Consent evidence in the vault: the purposes consent may be recorded for, the rules of
//! `ward_core::evidence` applied with the call's policy and time, and evidence sealed with
//! the subject's key (a distribution consent's terms narrow what it covers).

use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::gate::{Gate, Reason};
use crate::sealed;
use crate::Vault;
use std::collections::{BTreeMap, BTreeSet};
use ward_core::consent::{ConsentEventKind, DistributionTerms, Evidence};
use ward_core::evidence::{self, is_distribution};
use ward_core::policy::{Policy, Purpose};
use ward_core::ProblemCode;
use ward_core::{AccessRefusal, Caller, SubjectId, Violation};
use ward_crypto::DataKey;
use ward_store::{ConsentEventRecord, SubjectRecord};

/// A broken rule of the domain, as the vault reports it.
pub(crate) fn violation(v: Violation) -> VaultError {
    VaultError::invalid(v.code, v.message)
}

/// A consent-based purpose the caller may record consent for.
pub(crate) fn consent_purpose<'p>(policy: &'p Policy, caller: &Caller, purpose: &str) -> VaultResult<&'p Purpose> {
    let p = policy
        .purpose(purpose)
        .ok_or_else(|| AccessRefusal::UnknownPurpose(purpose.to_owned()))?;
    if !caller.may_use(purpose) {
        return Err(AccessRefusal::PurposeNotAllowedForKey(purpose.to_owned()).into());
    }
    if !p.legal_basis.needs_consent() {
        return Err(VaultError::invalid(
            ProblemCode::ConsentNotApplicable,
            format!(
                "purpose `{purpose}` rests on `{}`, not on consent; there is no consent to record or withdraw",
                p.legal_basis
            ),
        ));
    }
    Ok(p)
}

/// Checks the evidence and completes it with the version in force for the call.
pub(crate) fn check_evidence(op: &Op<'_>, evidence: &mut Evidence) -> VaultResult<()> {
    evidence::check_evidence(evidence, &op.policy().version).map_err(violation)
}

/// Checks the form of a consent to `purpose` under the call's policy, at the call's time.
pub(crate) fn check_consent_form(
    op: &Op<'_>,
    purpose: &str,
    evidence: &mut Evidence,
    deceased: bool,
) -> VaultResult<()> {
    evidence::check_consent_form(op.policy(), purpose, evidence, deceased, op.now).map_err(violation)
}

pub(crate) fn seal_evidence(key: &DataKey, id: SubjectId, purpose: &str, evidence: &Evidence) -> VaultResult<Vec<u8>> {
    let json = serde_json::to_vec(evidence).map_err(|e| VaultError::Internal(e.to_string()))?;
    Ok(key.seal(&sealed::evidence_aad(id, purpose), &json))
}

impl Vault {
    /// The subject's terms for a distribution purpose: those of their latest consent to it,
    /// opened through the operation's terms gate (made on first use).
    fn distribution_terms(
        &self,
        op: &Op<'_>,
        gate: &mut Option<Gate>,
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
        if gate.is_none() {
            *gate = Some(self.gate(op, record, Reason::ConsentTerms, None)?);
        }
        let Some(gate) = gate.as_mut() else { return Ok(None) };
        Ok(gate.consent_evidence(purpose, sealed_evidence)?.distribution)
    }

    /// Narrows each consented distribution purpose to the categories the subject permitted.
    /// Returns the gate that opened the terms, if any were opened.
    pub(crate) fn narrow_distribution(
        &self,
        op: &Op<'_>,
        record: &SubjectRecord,
        events: &[ConsentEventRecord],
        consents: &mut BTreeMap<String, BTreeSet<String>>,
    ) -> VaultResult<Option<Gate>> {
        let mut gate = None;
        for (purpose, scope) in consents.iter_mut() {
            if !is_distribution(op.policy(), purpose) {
                continue;
            }
            let permitted = self.distribution_terms(op, &mut gate, record, events, purpose)?;
            scope.retain(|c| permitted.as_ref().is_some_and(|t| t.categories.contains_key(c)));
        }
        Ok(gate)
    }
}
