//! Consent given and withdrawn after collection. Events are appended, never edited.

use crate::error::{VaultError, VaultResult};
use crate::Vault;
use std::collections::{BTreeMap, BTreeSet};
use time::{Duration, OffsetDateTime};
use ward_core::access::SubjectState;
use ward_core::consent::{ConsentEventKind, Evidence};
use ward_core::journal::AdminEvent;
use ward_core::{AccessRefusal, Caller, JournalDraft, LegalBasis, SubjectId};
use ward_store::{Change, ConsentChange, ConsentEventRecord, OpOutcome};

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
    /// After a withdrawal or expiry: the data no remaining purpose needs, and the date by
    /// which it must be destroyed (152-FZ Art. 21 p. 5: 30 days).
    pub destruction: Option<DestructionDue>,
}

/// Data to destroy, and by when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestructionDue {
    pub by: OffsetDateTime,
    pub categories: Vec<String>,
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

/// Days after a withdrawal within which data no other basis covers is destroyed.
pub const DESTRUCTION_DAYS: i64 = 30;

/// The standing of one consent-based purpose, derived from its events.
#[derive(Debug, Clone)]
pub(crate) struct PurposeConsent {
    pub state: ConsentState,
    /// When the current state began (for `Expired`: when the term ended).
    pub since: OffsetDateTime,
    pub version_hash: String,
    /// The categories the consent covers (for `Given`).
    pub scope: BTreeSet<String>,
    pub expires_at: Option<OffsetDateTime>,
}

impl Vault {
    /// Derives each purpose's consent standing from its events: the latest event wins; a
    /// consent whose document has a term expires by itself when the term ends.
    pub(crate) fn consent_standing(&self, events: &[ConsentEventRecord]) -> BTreeMap<String, PurposeConsent> {
        let now = self.now();
        let current = self.policy();
        let mut latest: BTreeMap<&str, &ConsentEventRecord> = BTreeMap::new();
        for e in events {
            latest.insert(&e.purpose, e);
        }
        latest
            .into_iter()
            .map(|(p, e)| {
                let version = self.find_policy_version(&e.policy_version).ok();
                let policy = version.as_ref().map_or_else(|| current.clone(), |v| v.policy.clone());
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
                        version_hash: e.policy_version.clone(),
                        scope,
                        expires_at,
                    },
                )
            })
            .collect()
    }

    /// The categories of `purpose` that no remaining purpose covers for this subject, given
    /// its consent standing.
    fn orphaned(
        &self,
        purpose: &str,
        standing: &BTreeMap<String, PurposeConsent>,
    ) -> (Vec<(String, LegalBasis)>, Vec<String>) {
        let policy = self.policy();
        let Some(p) = policy.purpose(purpose) else {
            return (Vec::new(), Vec::new());
        };
        let mut continuing = Vec::new();
        let mut covered: BTreeSet<&String> = BTreeSet::new();
        for (name, other) in policy.purposes.iter().filter(|(n, _)| n.as_str() != purpose) {
            let live = !other.legal_basis.needs_consent()
                || standing.get(name).is_some_and(|c| c.state == ConsentState::Given);
            if live && !other.categories.is_disjoint(&p.categories) {
                continuing.push((name.clone(), other.legal_basis));
                covered.extend(other.categories.iter());
            }
        }
        let orphaned = p.categories.iter().filter(|c| !covered.contains(c)).cloned().collect();
        (continuing, orphaned)
    }
}

impl Vault {
    /// Records one consent event after checking it against the subject's state; returns the
    /// subject's consent events as of that check, the new one last (what a withdrawal reports
    /// from, without reading them again).
    async fn consent_event(
        &self,
        caller: &Caller,
        id: SubjectId,
        purpose: &str,
        kind: ConsentEventKind,
        evidence: Option<Evidence>,
    ) -> VaultResult<Vec<ConsentEventRecord>> {
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
                let deceased = self.death(id, &loaded.record).await?.is_some();
                self.check_consent_form(&self.policy(), purpose, &mut evidence, deceased)?;
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
                Change::Consent(ConsentChange::Add {
                    id,
                    events: vec![record.clone()],
                }),
                vec![event],
            )
            .await?
        {
            OpOutcome::Done => {
                let mut events = loaded.events;
                events.push(record);
                Ok(events)
            }
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
            .map(drop)
    }

    /// Withdraws consent. Takes effect on the very next read: reads decide from the store.
    /// Purposes on other legal bases go on; data no remaining purpose needs is due for
    /// destruction within 30 days (152-FZ Art. 21 p. 5), recorded in the journal entry.
    pub async fn withdraw_consent(&self, caller: &Caller, id: SubjectId, purpose: &str) -> VaultResult<Withdrawal> {
        let events = self
            .consent_event(caller, id, purpose, ConsentEventKind::Withdrawn, None)
            .await?;
        let standing = self.consent_standing(&events);
        let (continuing, orphaned) = self.orphaned(purpose, &standing);
        let at = standing.get(purpose).map_or_else(|| self.now(), |c| c.since);
        let destruction = (!orphaned.is_empty()).then(|| DestructionDue {
            by: at + Duration::days(DESTRUCTION_DAYS),
            categories: orphaned,
        });
        Ok(Withdrawal {
            purpose: purpose.to_owned(),
            continuing,
            destruction,
        })
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
        let standing = self.consent_standing(&events);
        let out = self
            .policy()
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
                        let (_, orphaned) = self.orphaned(name, &standing);
                        let since = c.map_or_else(|| self.now(), |c| c.since);
                        (!orphaned.is_empty()).then(|| DestructionDue {
                            by: since + Duration::days(DESTRUCTION_DAYS),
                            categories: orphaned,
                        })
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
