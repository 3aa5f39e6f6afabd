//! Legal bases other than consent, established per subject: recording a basis event (a
//! contract concluded or ended, an obligation triggered, an objection and the officer's
//! overriding grounds), where the subject stands on each such purpose, what an ended basis
//! leaves due for destruction, and the "obligation hold" erasure must respect. Events are
//! appended, never edited; their evidence is sealed with the subject's key.

use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::forms::violation;
use crate::sealed;
use crate::Vault;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;
use ward_core::access::Role;
use ward_core::authz::Operation;
use ward_core::basis::{self, BasisEventKind, BasisEvidence, EstablishedBy};
use ward_core::journal::AdminEvent;
use ward_core::standing::{self, BasisState, DestructionDue};
use ward_core::{AccessRefusal, Caller, JournalDraft, LegalBasis, ProblemCode, SubjectId};
use ward_crypto::DataKey;
use ward_store::{BasisChange, BasisEventRecord, Change};

/// A basis event to record.
#[derive(Debug, Clone)]
pub struct BasisInput {
    /// A purpose whose legal basis is not consent.
    pub purpose: String,
    pub kind: BasisEventKind,
    /// For `established`: when the basis began (an obligation's retention runs from it: the
    /// transaction's date). Defaults to now; not in the future; only for `established`.
    pub start: Option<OffsetDateTime>,
    pub evidence: BasisEvidence,
}

/// Where a subject stands on one purpose that does not rest on consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasisStatus {
    pub purpose: String,
    pub legal_basis: LegalBasis,
    pub established_by: EstablishedBy,
    pub state: BasisState,
    /// When the current state began (for an established basis: its start).
    pub since: Option<OffsetDateTime>,
    /// For an established obligation with a retention period: when it runs out.
    pub until: Option<OffsetDateTime>,
    /// After it ended: the data no purpose still holding needs, and the date by which it must
    /// be destroyed (152-FZ Art. 21 p. 4: 30 days).
    pub destruction: Option<DestructionDue>,
}

/// One recorded basis event, without its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasisEventView {
    pub purpose: String,
    pub kind: BasisEventKind,
    pub at: OffsetDateTime,
    pub start: OffsetDateTime,
}

/// The seal of a basis event's evidence is bound to the subject, the purpose and the kind.
fn evidence_aad(id: SubjectId, purpose: &str, kind: BasisEventKind) -> Vec<u8> {
    let mut aad = sealed::evidence_aad(id, purpose);
    aad.extend_from_slice(b"\0basis:");
    aad.extend_from_slice(kind.as_str().as_bytes());
    aad
}

/// A sealed basis event, with the journal entry that records it: ids, enums and policy names
/// only (the legal basis in the detail); the evidence stays sealed.
pub(crate) fn event(
    op: &Op<'_>,
    key: &DataKey,
    id: SubjectId,
    purpose: &str,
    kind: BasisEventKind,
    start: OffsetDateTime,
    evidence: &BasisEvidence,
) -> VaultResult<(BasisEventRecord, JournalDraft)> {
    let json = serde_json::to_vec(evidence).map_err(|e| VaultError::Internal(e.to_string()))?;
    let record = BasisEventRecord {
        purpose: purpose.to_owned(),
        kind,
        at: op.now,
        start,
        policy_version: op.hash().to_owned(),
        evidence: Some(key.seal(&evidence_aad(id, purpose, kind), &json)),
    };
    let action = match kind {
        BasisEventKind::Established => AdminEvent::BasisEstablished,
        BasisEventKind::Ended => AdminEvent::BasisEnded,
        BasisEventKind::Objected => AdminEvent::BasisObjected,
        BasisEventKind::Overridden => AdminEvent::BasisOverridden,
    };
    let basis = op.policy().purpose(purpose).map_or("", |p| p.legal_basis.as_str());
    let entry = JournalDraft::new(op.now, op.actor(), action)
        .subject(id)
        .purpose(purpose)
        .detail(format!("basis:{basis}"));
    Ok((record, entry))
}

/// The bases that collecting under `purpose` establishes for a subject where it does not hold
/// yet (`established_by = "collection"`), sealed with the subject's key.
pub(crate) fn by_collection(
    op: &Op<'_>,
    key: &DataKey,
    id: SubjectId,
    purpose: &str,
    established: &std::collections::BTreeSet<String>,
) -> VaultResult<Vec<(BasisEventRecord, JournalDraft)>> {
    let Some(p) = op.policy().purpose(purpose) else {
        return Ok(Vec::new());
    };
    if p.legal_basis.needs_consent() || p.established_by != EstablishedBy::Collection || established.contains(purpose) {
        return Ok(Vec::new());
    }
    let e = event(
        op,
        key,
        id,
        purpose,
        BasisEventKind::Established,
        op.now,
        &BasisEvidence::collection(),
    )?;
    Ok(vec![e])
}

/// Checks the basis events given with a registration as [`Bases::record`] checks an event for
/// a subject on whom nothing is established yet; returns the purposes they establish.
pub(crate) fn check_at_registration(
    op: &Op<'_>,
    caller: &Caller,
    inputs: &[BasisInput],
) -> VaultResult<std::collections::BTreeSet<String>> {
    let mut established = std::collections::BTreeSet::new();
    for input in inputs {
        check_input(op, caller, input)?;
        let start = input.start.unwrap_or(op.now);
        basis::check_event(op.policy(), &input.purpose, input.kind, start, op.now, false, false).map_err(violation)?;
        if !established.insert(input.purpose.clone()) {
            return Err(VaultError::invalid(
                ProblemCode::BasisEventNotApplicable,
                format!("purpose `{}` is named twice in `bases`", input.purpose),
            ));
        }
    }
    Ok(established)
}

/// What an event's input must satisfy whatever the subject's standing: a purpose not resting
/// on consent that the caller may use, overriding grounds only from the officer, a `start`
/// only for `established`, and evidence.
fn check_input(op: &Op<'_>, caller: &Caller, input: &BasisInput) -> VaultResult<()> {
    let purpose = input.purpose.as_str();
    basis::basis_purpose(op.policy(), purpose).map_err(violation)?;
    if !caller.may_use(purpose) {
        return Err(AccessRefusal::PurposeNotAllowedForKey(purpose.to_owned()).into());
    }
    if input.kind == BasisEventKind::Overridden && !matches!(caller.role, Role::Admin | Role::Officer) {
        return Err(VaultError::Forbidden(
            "overriding grounds after an objection are recorded by the privacy officer (an officer or admin key)"
                .into(),
        ));
    }
    if input.start.is_some() && input.kind != BasisEventKind::Established {
        return Err(VaultError::invalid(
            ProblemCode::BasisEventNotApplicable,
            "`start` applies only to an `established` event",
        ));
    }
    input.evidence.check().map_err(violation)
}

/// The bases service, reached by [`Vault::bases`].
#[derive(Clone, Copy)]
pub struct Bases<'v>(pub(crate) &'v Vault);

impl Bases<'_> {
    /// Records a basis event for a purpose not resting on consent, after checking it against
    /// where the subject stands. A service key records it for its own purposes; only an
    /// administrator records overriding grounds after an objection. Returns the new standing.
    pub async fn record(&self, caller: &Caller, id: SubjectId, input: BasisInput) -> VaultResult<BasisStatus> {
        let v = self.0;
        let op = v.op(caller, Operation::BasisRecord)?;
        let purpose = input.purpose.as_str();
        check_input(&op, caller, &input)?;
        let start = input.start.unwrap_or(op.now);
        let loaded = v.load_active(&op, id).await?;
        let state = loaded.bases.get(purpose).map(|b| b.state);
        basis::check_event(
            op.policy(),
            purpose,
            input.kind,
            start,
            op.now,
            state == Some(BasisState::Established),
            state == Some(BasisState::Objected),
        )
        .map_err(violation)?;
        let key = v.data_key(&loaded.record)?;
        let (record, entry) = event(&op, &key, id, purpose, input.kind, start, &input.evidence)?;
        let mut events = loaded.basis_events;
        events.push(record.clone());
        let change = Change::Basis(BasisChange::Add {
            id,
            events: vec![record],
        });
        v.commit_to_subject(change, vec![entry], "recording a legal basis")
            .await?;
        let held = Vault::held_data(&op, loaded.record.fields.as_deref())?;
        let overview = Self::statuses(&op, &loaded.events, &events, &held, v);
        overview
            .into_iter()
            .find(|s| s.purpose == purpose)
            .ok_or_else(|| VaultError::Internal("a recorded basis without a standing".into()))
    }

    /// Where the subject stands on every purpose of the policy not resting on consent, and
    /// its basis events (without evidence). Contains no personal data.
    pub async fn overview(
        &self,
        caller: &Caller,
        id: SubjectId,
    ) -> VaultResult<(Vec<BasisStatus>, Vec<BasisEventView>)> {
        let v = self.0;
        let op = v.op(caller, Operation::BasisOverview)?;
        let record = v.active_subject(id).await?;
        let held = Vault::held_data(&op, record.fields.as_deref())?;
        let consents = v.store().find_consent_events(id).await?;
        let events = v.store().find_basis_events(id).await?;
        let statuses = Self::statuses(&op, &consents, &events, &held, v);
        let views = events
            .into_iter()
            .map(|e| BasisEventView {
                purpose: e.purpose,
                kind: e.kind,
                at: e.at,
                start: e.start,
            })
            .collect();
        Ok((statuses, views))
    }

    /// The categories an established legal obligation still requires of the subject, each
    /// with the purposes holding it and when their retention ends: what erasure must keep (the
    /// "obligation hold"; see [`ward_core::standing::held_categories`]).
    pub async fn held_categories(
        &self,
        caller: &Caller,
        id: SubjectId,
    ) -> VaultResult<BTreeMap<String, Vec<(String, Option<OffsetDateTime>)>>> {
        let v = self.0;
        let op = v.op(caller, Operation::BasisOverview)?;
        let events = v.store().find_basis_events(id).await?;
        let bases = Vault::basis_standing(&op, &events);
        Ok(standing::held_categories(op.policy(), &bases))
    }

    fn statuses(
        op: &Op<'_>,
        consents: &[ward_store::ConsentEventRecord],
        events: &[BasisEventRecord],
        held: &BTreeSet<String>,
        v: &Vault,
    ) -> Vec<BasisStatus> {
        let policy = op.policy();
        let consent = v.consent_standing(op, consents);
        let bases = Vault::basis_standing(op, events);
        let mut due = standing::ended_bases_due(policy, &consent, &bases, held);
        policy
            .purposes
            .iter()
            .filter(|(_, p)| !p.legal_basis.needs_consent())
            .map(|(name, p)| {
                let b = bases.get(name);
                BasisStatus {
                    purpose: name.clone(),
                    legal_basis: p.legal_basis,
                    established_by: p.established_by,
                    state: b.map_or(BasisState::NotEstablished, |b| b.state),
                    since: b.map(|b| b.since),
                    until: b.and_then(|b| b.until),
                    destruction: due.remove(name),
                }
            })
            .collect()
    }
}
