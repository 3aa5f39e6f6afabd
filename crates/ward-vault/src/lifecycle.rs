//! A subject's life-cycle beside consent: being told of a policy version, accepting it, and
//! death (after which only heirs consent, 152-FZ Art. 9 p. 7).
//!
//! Acceptance is recorded, never turned into consent: a version that adds a consent-based
//! purpose or widens one stays unusable for a subject until that subject consents (see
//! `consents.rs`), whatever they accepted.

use crate::error::{VaultError, VaultResult};
use crate::gate::Reason;
use crate::sealed;
use crate::Vault;
use time::OffsetDateTime;
use ward_core::authz::Operation;
use ward_core::journal::{AdminEvent, ChannelClass};
use ward_core::lifecycle::{SubjectEventEvidence, SubjectEventKind};
use ward_core::violation::text_ok;
use ward_core::ProblemCode;
use ward_core::{Caller, JournalDraft, SubjectId};
use ward_store::{Change, PolicyAcknowledgements, SubjectEventChange, SubjectEventRecord};

/// Where a subject stands on one policy version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyStanding {
    pub hash: String,
    pub version: String,
    pub effective_at: OffsetDateTime,
    /// The version is the one in force now.
    pub in_force: bool,
    /// When the subject was first told of it, and how.
    pub notified: Option<(OffsetDateTime, String)>,
    /// When the subject first accepted it, and how.
    pub accepted: Option<(OffsetDateTime, String)>,
}

/// Who was told of a version and who accepted it, against the live subjects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcknowledgementSummary {
    pub counts: PolicyAcknowledgements,
    pub active_subjects: u64,
}

/// A recorded death, as the subject's record shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Death {
    pub recorded_at: OffsetDateTime,
    pub date_of_death: Option<String>,
    pub document: Option<String>,
}

/// What a policy notice or acceptance says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyNotice {
    pub kind: SubjectEventKind,
    /// The version's hash or a unique prefix; `None`: the version in force.
    pub version: Option<String>,
    pub channel: String,
    pub reference: Option<String>,
}

/// The life-cycle service, reached by [`Vault::lifecycle`].
/// The life-cycle service, reached by [`Vault::lifecycle`].
#[derive(Clone, Copy)]
pub struct Lifecycle<'v>(pub(crate) &'v Vault);

fn seal_subject_event(
    id: SubjectId,
    key: &ward_crypto::DataKey,
    kind: SubjectEventKind,
    evidence: &SubjectEventEvidence,
) -> VaultResult<Vec<u8>> {
    let json = serde_json::to_vec(evidence).map_err(|e| VaultError::Internal(e.to_string()))?;
    Ok(key.seal(&sealed::subject_event_aad(id, kind.as_str()), &json))
}

async fn add_subject_event(
    vault: &Vault,
    id: SubjectId,
    event: SubjectEventRecord,
    entry: JournalDraft,
) -> VaultResult<()> {
    let change = Change::SubjectEvent(SubjectEventChange::Add {
        id,
        events: vec![event],
    });
    vault
        .commit_to_subject(change, vec![entry], "recording a subject event")
        .await
}

impl Lifecycle<'_> {
    /// Records that the subject was told of a policy version, or accepted it: the website
    /// (its service key), the officer or an admin report what was sent and what the subject
    /// did (see the authorization table).
    pub async fn record_policy_notice(&self, caller: &Caller, id: SubjectId, notice: PolicyNotice) -> VaultResult<()> {
        let v = self.0;
        let op = v.op(caller, Operation::PolicyNoticeRecord)?;
        let (event, kind) = match notice.kind {
            SubjectEventKind::PolicyNotified => (AdminEvent::PolicyNotified, notice.kind),
            SubjectEventKind::PolicyAccepted => (AdminEvent::PolicyAccepted, notice.kind),
            SubjectEventKind::Deceased => {
                return Err(VaultError::invalid(
                    ProblemCode::InvalidNotice,
                    "a policy notice is `policy_notified` or `policy_accepted`",
                ))
            }
        };
        if !text_ok(&notice.channel, 64) {
            return Err(VaultError::invalid(
                ProblemCode::InvalidNotice,
                "channel must be 1 to 64 characters (e.g. \"email\", \"banner\", \"continued_use\")",
            ));
        }
        if notice.reference.as_deref().is_some_and(|r| !text_ok(r, 512)) {
            return Err(VaultError::invalid(
                ProblemCode::InvalidNotice,
                "reference must be 1 to 512 characters, without control characters",
            ));
        }
        let version = match &notice.version {
            Some(h) => v.policies().find(h)?,
            None => op.version.clone(),
        };
        let record = v.active_subject(id).await?;
        let key = v.data_key(&record)?;
        let evidence = SubjectEventEvidence {
            channel: notice.channel.clone(),
            reference: notice.reference,
            ..SubjectEventEvidence::default()
        };
        let sealed = seal_subject_event(id, &key, kind, &evidence)?;
        let entry = JournalDraft::new(op.now, op.actor(), event).subject(id).detail(format!(
            "policy:{} channel:{}",
            version.hash,
            ChannelClass::of(&notice.channel)
        ));
        let ev = SubjectEventRecord {
            kind,
            at: op.now,
            policy_version: Some(version.hash.clone()),
            evidence: Some(sealed),
        };
        add_subject_event(v, id, ev, entry).await
    }

    /// The subject's standing on every published version: told when, accepted when. The
    /// channels are opened from the sealed evidence through the gate, and the opening is
    /// journaled (a retrieval by `caller`, `opened:policy_standing`).
    pub async fn policy_standing(&self, caller: &Caller, id: SubjectId) -> VaultResult<Vec<PolicyStanding>> {
        let v = self.0;
        let op = v.op(caller, Operation::PolicyNoticeList)?;
        let record = v.active_subject(id).await?;
        let mut gate = v.gate(&op, &record, Reason::PolicyStanding, None)?;
        let events = v.store().find_subject_events(id).await?;
        let mut out = Vec::new();
        for version in v.policies().versions() {
            let mut standing = PolicyStanding {
                hash: version.hash.clone(),
                version: version.policy.version.clone(),
                effective_at: version.effective_at,
                in_force: version.hash == op.hash(),
                notified: None,
                accepted: None,
            };
            for e in events
                .iter()
                .filter(|e| e.policy_version.as_deref() == Some(version.hash.as_str()))
            {
                let slot = match e.kind {
                    SubjectEventKind::PolicyNotified => &mut standing.notified,
                    SubjectEventKind::PolicyAccepted => &mut standing.accepted,
                    SubjectEventKind::Deceased => continue,
                };
                if slot.is_none() {
                    let channel = gate.subject_event(e)?.map_or_else(String::new, |ev| ev.channel);
                    *slot = Some((e.at, channel));
                }
            }
            out.push(standing);
        }
        if gate.opened() {
            v.commit(Change::JournalOnly, vec![gate.entry()]).await?;
        }
        Ok(out)
    }

    /// How many subjects were told of a version and accepted it (admin, officer).
    pub async fn policy_acknowledgements(&self, caller: &Caller, hash: &str) -> VaultResult<AcknowledgementSummary> {
        let v = self.0;
        v.op(caller, Operation::PolicyAcknowledgements)?;
        let version = v.policies().find(hash)?;
        let counts = v.store().count_policy_acknowledgements(&version.hash).await?;
        let active_subjects = v.store().count_subjects().await?.active;
        Ok(AcknowledgementSummary {
            counts,
            active_subjects,
        })
    }

    /// Records the subject's death, with the document that shows it (admin, officer). From then
    /// on, a new consent must be given by an heir (152-FZ Art. 9 p. 7); consents the subject
    /// gave in life stand.
    pub async fn record_death(
        &self,
        caller: &Caller,
        id: SubjectId,
        date_of_death: &str,
        document: &str,
    ) -> VaultResult<Death> {
        let v = self.0;
        let op = v.op(caller, Operation::DeathRecord)?;
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let date = time::Date::parse(date_of_death, &format).map_err(|_| {
            VaultError::invalid(
                ProblemCode::InvalidDeathRecord,
                "date_of_death must be a date, YYYY-MM-DD",
            )
        })?;
        if date > op.now.date() {
            return Err(VaultError::invalid(
                ProblemCode::InvalidDeathRecord,
                "date_of_death is in the future",
            ));
        }
        if !text_ok(document, 500) {
            return Err(VaultError::invalid(
                ProblemCode::InvalidDeathRecord,
                "document must name the death certificate (number, date, issuer): 1 to 500 characters",
            ));
        }
        let record = v.active_subject(id).await?;
        if v.is_deceased(id).await? {
            return Err(VaultError::Conflict("the subject's death is already recorded".into()));
        }
        let key = v.data_key(&record)?;
        let evidence = SubjectEventEvidence {
            channel: "registry".into(),
            date_of_death: Some(date_of_death.to_owned()),
            document: Some(document.to_owned()),
            ..SubjectEventEvidence::default()
        };
        let sealed = seal_subject_event(id, &key, SubjectEventKind::Deceased, &evidence)?;
        let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::SubjectDeceased).subject(id);
        let ev = SubjectEventRecord {
            kind: SubjectEventKind::Deceased,
            at: op.now,
            policy_version: None,
            evidence: Some(sealed),
        };
        add_subject_event(v, id, ev, entry).await?;
        Ok(Death {
            recorded_at: op.now,
            date_of_death: evidence.date_of_death,
            document: evidence.document,
        })
    }

    /// The subject's recorded death, if any, with its certificate opened through the gate;
    /// the opening is journaled (a retrieval by `caller`, `opened:death_record`).
    pub async fn death(&self, caller: &Caller, id: SubjectId) -> VaultResult<Option<Death>> {
        let v = self.0;
        let op = v.op(caller, Operation::DeathRead)?;
        let record = v.active_subject(id).await?;
        let events = v.store().find_subject_events(id).await?;
        let Some(e) = events.iter().find(|e| e.kind == SubjectEventKind::Deceased) else {
            return Ok(None);
        };
        let mut gate = v.gate(&op, &record, Reason::DeathRecord, None)?;
        let opened = gate.subject_event(e)?;
        if gate.opened() {
            v.commit(Change::JournalOnly, vec![gate.entry()]).await?;
        }
        Ok(Some(Death {
            recorded_at: e.at,
            date_of_death: opened.as_ref().and_then(|o| o.date_of_death.clone()),
            document: opened.and_then(|o| o.document),
        }))
    }
}

impl Vault {
    /// Whether the subject's death is recorded (read from the events' kinds: nothing is
    /// opened).
    pub(crate) async fn is_deceased(&self, id: SubjectId) -> VaultResult<bool> {
        let events = self.store().find_subject_events(id).await?;
        Ok(events.iter().any(|e| e.kind == SubjectEventKind::Deceased))
    }
}
