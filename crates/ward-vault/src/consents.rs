//! Consent given and withdrawn after collection. Events are appended, never edited.

use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::forms;
use crate::Vault;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;
use ward_core::authz::Operation;
use ward_core::consent::{ConsentEventKind, Evidence};
use ward_core::journal::{AdminEvent, ChannelClass};
use ward_core::standing::{destruction_due, orphaned, ConsentState, DestructionDue, PurposeBasis};
use ward_core::ProblemCode;
use ward_core::{Caller, JournalDraft, LegalBasis, SubjectId};
use ward_store::{Change, ConsentChange, ConsentEventRecord};

/// One row of a subject's consent overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentStatus {
    pub purpose: String,
    pub legal_basis: LegalBasis,
    pub state: ConsentState,
    /// When the current state began.
    pub since: Option<OffsetDateTime>,
    pub policy_version: Option<String>,
    /// For a given consent with a term: when it ends.
    pub expires_at: Option<OffsetDateTime>,
    /// After a withdrawal or expiry: the data no remaining purpose needs that the subject
    /// still holds, and the date by which it must be destroyed (152-FZ Art. 21 p. 5: 30 days).
    pub destruction: Option<DestructionDue>,
}

/// What a withdrawal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub purpose: String,
    /// Purposes that go on using some of the same categories, with their legal basis.
    pub continuing: Vec<(String, LegalBasis)>,
    /// The data no remaining purpose needs, and when it must be destroyed.
    pub destruction: Option<DestructionDue>,
}

/// The consents service, reached by [`Vault::consents`].
#[derive(Clone, Copy)]
pub struct Consents<'v>(pub(crate) &'v Vault);

impl Consents<'_> {
    /// Records one consent event after checking it against the subject's state; returns the
    /// subject's consent events as of that check, the new one last, its bases and the
    /// categories it holds data in (what a withdrawal reports from, without reading again).
    async fn event(
        &self,
        op: &Op<'_>,
        id: SubjectId,
        purpose: &str,
        kind: ConsentEventKind,
        evidence: Option<Evidence>,
    ) -> VaultResult<(
        Vec<ConsentEventRecord>,
        BTreeMap<String, PurposeBasis>,
        BTreeSet<String>,
    )> {
        let v = self.0;
        forms::consent_purpose(op.policy(), op.caller, purpose)?;
        let loaded = v.load_active(op, id).await?;
        let active = loaded.consents.contains_key(purpose);
        let (entry, evidence) = match kind {
            ConsentEventKind::Given => {
                let mut evidence = evidence.unwrap_or_default();
                forms::check_evidence(op, &mut evidence)?;
                let deceased = v.is_deceased(id).await?;
                forms::check_consent_form(op, purpose, &mut evidence, deceased)?;
                let key = v.data_key(&loaded.record)?;
                let sealed = forms::seal_evidence(&key, id, purpose, &evidence)?;
                let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::ConsentGiven)
                    .subject(id)
                    .purpose(purpose)
                    .detail(format!("channel:{}", ChannelClass::of(&evidence.channel)));
                (entry, Some(sealed))
            }
            ConsentEventKind::Withdrawn => {
                if !active {
                    return Err(VaultError::NotFound(
                        ProblemCode::ConsentNotFound,
                        format!("the subject has no consent to purpose `{purpose}` to withdraw"),
                    ));
                }
                let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::ConsentWithdrawn)
                    .subject(id)
                    .purpose(purpose);
                (entry, None)
            }
        };
        // Bound to the version the consent was checked against.
        let record = ConsentEventRecord {
            purpose: purpose.to_owned(),
            kind,
            at: op.now,
            policy_version: op.hash().to_owned(),
            evidence,
        };
        let change = Change::Consent(ConsentChange::Add {
            id,
            events: vec![record.clone()],
        });
        v.commit_to_subject(change, vec![loaded.stamp(entry)], "recording consent")
            .await?;
        let held = Vault::held_data(op, loaded.record.fields.as_deref())?;
        let mut events = loaded.events;
        events.push(record);
        Ok((events, loaded.bases, held))
    }

    /// Records the subject's consent to a consent-based purpose.
    pub async fn give(&self, caller: &Caller, id: SubjectId, purpose: &str, evidence: Evidence) -> VaultResult<()> {
        let op = self.0.op(caller, Operation::ConsentGive)?;
        self.event(&op, id, purpose, ConsentEventKind::Given, Some(evidence))
            .await
            .map(drop)
    }

    /// Withdraws consent. Takes effect on the very next read: reads decide from the store.
    /// Purposes on other legal bases established for the subject go on; data no remaining purpose needs is due for
    /// destruction within 30 days (152-FZ Art. 21 p. 5), recorded in the journal entry.
    pub async fn withdraw(&self, caller: &Caller, id: SubjectId, purpose: &str) -> VaultResult<Withdrawal> {
        let v = self.0;
        let op = v.op(caller, Operation::ConsentWithdraw)?;
        let (events, bases, held) = self.event(&op, id, purpose, ConsentEventKind::Withdrawn, None).await?;
        let standing = v.consent_standing(&op, &events);
        let (continuing, orphaned) = orphaned(op.policy(), purpose, &standing, &bases);
        let at = standing.get(purpose).map_or(op.now, |c| c.since);
        Ok(Withdrawal {
            purpose: purpose.to_owned(),
            continuing,
            destruction: destruction_due(at, orphaned, &held),
        })
    }

    /// The subject's standing on every purpose of the policy. Contains no personal data.
    pub async fn overview(&self, caller: &Caller, id: SubjectId) -> VaultResult<Vec<ConsentStatus>> {
        let v = self.0;
        let op = v.op(caller, Operation::ConsentOverview)?;
        let record = v.active_subject(id).await?;
        let held = Vault::held_data(&op, record.fields.as_deref())?;
        let events = v.store().find_consent_events(id).await?;
        let standing = v.consent_standing(&op, &events);
        let bases = Vault::basis_standing(&op, &v.store().find_basis_events(id).await?);
        let policy = op.policy();
        let out = policy
            .purposes
            .iter()
            .map(|(name, p)| {
                let c = standing.get(name);
                let state = match (p.legal_basis.needs_consent(), c) {
                    (false, _) => ConsentState::NotRequired,
                    (true, Some(c)) => c.state,
                    (true, None) => ConsentState::None,
                };
                let destruction = match state {
                    ConsentState::Withdrawn | ConsentState::Expired => {
                        let (_, orphaned) = orphaned(policy, name, &standing, &bases);
                        destruction_due(c.map_or(op.now, |c| c.since), orphaned, &held)
                    }
                    _ => None,
                };
                ConsentStatus {
                    purpose: name.clone(),
                    legal_basis: p.legal_basis,
                    state,
                    since: c.map(|c| c.since),
                    policy_version: c.map(|c| c.version_hash.clone()),
                    expires_at: c.and_then(|c| c.expires_at),
                    destruction,
                }
            })
            .collect();
        Ok(out)
    }
}
