//! Consent given and withdrawn after collection. Events are appended, never edited.

use crate::error::{VaultError, VaultResult};
use crate::Vault;
use time::OffsetDateTime;
use ward_core::access::SubjectState;
use ward_core::consent::{ConsentEventKind, Evidence};
use ward_core::journal::AdminEvent;
use ward_core::{AccessRefusal, Caller, JournalDraft, LegalBasis, SubjectId};
use ward_store::{Change, ConsentEventRecord, OpOutcome};

/// Where a subject stands on one purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentState {
    /// Consent is on record and not withdrawn.
    Given,
    Withdrawn,
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
            ConsentState::None => "none",
            ConsentState::NotRequired => "not_required",
        }
    }
}

/// One row of a subject's consent overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentStatus {
    pub purpose: String,
    pub legal_basis: LegalBasis,
    pub state: ConsentState,
    /// When the current state began.
    pub since: Option<OffsetDateTime>,
    pub policy_version: Option<String>,
}

impl Vault {
    async fn consent_event(
        &self,
        caller: &Caller,
        id: SubjectId,
        purpose: &str,
        kind: ConsentEventKind,
        evidence: Option<Evidence>,
    ) -> VaultResult<()> {
        Self::consent_purpose(&self.policy(), caller, purpose)?;
        let loaded = self.load(id).await?;
        if loaded.record.state == SubjectState::Erased {
            return Err(AccessRefusal::SubjectErased.into());
        }
        let active = loaded.consents.contains_key(purpose);
        let now = self.now();
        let (event, sealed) = match kind {
            ConsentEventKind::Given => {
                let mut evidence = evidence.unwrap_or_default();
                self.check_evidence(&mut evidence)?;
                let key = self.data_key(&loaded.record)?;
                let sealed = self.seal_evidence(&key, id, purpose, &evidence)?;
                let entry = JournalDraft::new(now, &caller.actor, AdminEvent::ConsentGiven)
                    .subject(id)
                    .purpose(purpose)
                    .detail(format!("channel:{}", evidence.channel));
                (entry, Some((sealed, self.policy_hash())))
            }
            ConsentEventKind::Withdrawn => {
                if !active {
                    return Err(VaultError::NotFound(
                        "consent_not_found",
                        format!("the subject has no consent to purpose `{purpose}` to withdraw"),
                    ));
                }
                let entry = JournalDraft::new(now, &caller.actor, AdminEvent::ConsentWithdrawn)
                    .subject(id)
                    .purpose(purpose);
                (entry, None)
            }
        };
        let (evidence, policy_version) = match sealed {
            Some((e, v)) => (Some(e), v),
            None => (None, self.policy_hash()),
        };
        let record = ConsentEventRecord {
            purpose: purpose.to_owned(),
            kind,
            at: now,
            policy_version,
            evidence,
        };
        match self
            .commit(
                Change::AddConsentEvents {
                    id,
                    events: vec![record],
                },
                vec![event],
            )
            .await?
        {
            OpOutcome::Done => Ok(()),
            OpOutcome::Erased => Err(AccessRefusal::SubjectErased.into()),
            OpOutcome::NotFound => Err(VaultError::SubjectNotFound),
            other => Err(VaultError::Internal(format!("recording consent: {other:?}"))),
        }
    }

    /// Records the subject's consent to a consent-based purpose.
    pub async fn give_consent(
        &self,
        caller: &Caller,
        id: SubjectId,
        purpose: &str,
        evidence: Evidence,
    ) -> VaultResult<()> {
        self.consent_event(caller, id, purpose, ConsentEventKind::Given, Some(evidence))
            .await
    }

    /// Withdraws consent. Takes effect on the very next read: reads decide from the store.
    pub async fn withdraw_consent(&self, caller: &Caller, id: SubjectId, purpose: &str) -> VaultResult<()> {
        self.consent_event(caller, id, purpose, ConsentEventKind::Withdrawn, None)
            .await
    }

    /// The subject's standing on every purpose of the policy. Contains no personal data.
    pub async fn consent_overview(&self, id: SubjectId) -> VaultResult<Vec<ConsentStatus>> {
        let record = self
            .store()
            .find_subject(id)
            .await?
            .ok_or(VaultError::SubjectNotFound)?;
        if record.state == SubjectState::Erased {
            return Err(AccessRefusal::SubjectErased.into());
        }
        let events = self.store().find_consent_events(id).await?;
        let out = self
            .policy()
            .purposes
            .iter()
            .map(|(name, p)| {
                let last = events.iter().rev().find(|e| &e.purpose == name);
                let state = match (p.legal_basis.needs_consent(), last.map(|e| e.kind)) {
                    (false, _) => ConsentState::NotRequired,
                    (true, Some(ConsentEventKind::Given)) => ConsentState::Given,
                    (true, Some(ConsentEventKind::Withdrawn)) => ConsentState::Withdrawn,
                    (true, None) => ConsentState::None,
                };
                ConsentStatus {
                    purpose: name.clone(),
                    legal_basis: p.legal_basis,
                    state,
                    since: last.map(|e| e.at),
                    policy_version: last.map(|e| e.policy_version.clone()),
                }
            })
            .collect();
        Ok(out)
    }
}
