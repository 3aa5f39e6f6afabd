//! Loading a subject: its record with the consents that stand, its data key, its fields;
//! and the one rule for operations on a live subject ("find it, refuse if erased").

use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::gate::{self, Gate, Reason};
use crate::sealed::{self, SealedFields};
use crate::Vault;
use std::collections::{BTreeMap, BTreeSet};
use ward_core::access::{AccessRequest, SubjectState};
use ward_core::standing::{self, PurposeBasis, PurposeConsent};
use ward_core::{AccessRefusal, JournalDraft, ProblemCode, ProcessingAction, SubjectId};
use ward_crypto::DataKey;
use ward_store::{BasisEventRecord, ConsentEventRecord, SubjectRecord};

/// A subject record loaded with its key and current consents.
pub(crate) struct Loaded {
    pub record: SubjectRecord,
    /// Consent-based purposes consented to now → the categories each consent covers.
    pub consents: BTreeMap<String, BTreeSet<String>>,
    /// The consent events those were derived from, oldest first.
    pub events: Vec<ConsentEventRecord>,
    /// The subject's basis events, oldest first.
    pub basis_events: Vec<BasisEventRecord>,
    /// Where the subject stands on each purpose not resting on consent.
    pub bases: BTreeMap<String, PurposeBasis>,
    /// The purposes on other legal bases established for the subject now.
    pub established: BTreeSet<String>,
    /// The gate that opened distribution consents' terms while loading, if any did: the
    /// operation's journal entry carries its stamp (see [`Loaded::stamp`]).
    pub terms: Option<Gate>,
}

impl Loaded {
    /// `entry` stamped with what loading opened.
    pub(crate) fn stamp(&self, entry: JournalDraft) -> JournalDraft {
        gate::stamp(self.terms.as_ref(), entry)
    }
}

/// Refuses an erased subject: the one rule every operation on a live subject applies.
pub(crate) fn refuse_erased<T>(state: SubjectState, value: T) -> VaultResult<T> {
    match state {
        SubjectState::Erased => Err(AccessRefusal::SubjectErased.into()),
        SubjectState::Active => Ok(value),
    }
}

impl Vault {
    /// The subject's record: `SubjectNotFound` if there is none, `SubjectErased` if erased.
    pub(crate) async fn active_subject(&self, id: SubjectId) -> VaultResult<SubjectRecord> {
        let record = self
            .store()
            .find_subject(id)
            .await?
            .ok_or(VaultError::SubjectNotFound)?;
        refuse_erased(record.state, record)
    }

    /// Loads a subject and its current consents; `SubjectNotFound` if there is none. An
    /// erased subject is loaded: the access decision refuses it.
    pub(crate) async fn load(&self, op: &Op<'_>, id: SubjectId) -> VaultResult<Loaded> {
        let (record, events) = self.store().find_subject_with_consents(id).await?;
        let record = record.ok_or(VaultError::SubjectNotFound)?;
        let basis_events = self.store().find_basis_events(id).await?;
        self.loaded(op, record, events, basis_events)
    }

    /// [`Vault::load`], refusing an erased subject.
    pub(crate) async fn load_active(&self, op: &Op<'_>, id: SubjectId) -> VaultResult<Loaded> {
        let loaded = self.load(op, id).await?;
        refuse_erased(loaded.record.state, loaded)
    }

    /// A subject's record with the consents and other bases that stand, from its events.
    pub(crate) fn loaded(
        &self,
        op: &Op<'_>,
        record: SubjectRecord,
        events: Vec<ConsentEventRecord>,
        basis_events: Vec<BasisEventRecord>,
    ) -> VaultResult<Loaded> {
        let mut consents = standing::given_scopes(self.consent_standing(op, &events));
        let terms = self.narrow_distribution(op, &record, &events, &mut consents)?;
        let bases = Self::basis_standing(op, &basis_events);
        Ok(Loaded {
            record,
            consents,
            events,
            established: standing::established(&bases),
            bases,
            basis_events,
            terms,
        })
    }

    /// Where the subject stands on each purpose not resting on consent, from its basis events,
    /// at the call's time and under the version in force for it (see
    /// [`ward_core::standing::bases`]).
    pub(crate) fn basis_standing(op: &Op<'_>, events: &[BasisEventRecord]) -> BTreeMap<String, PurposeBasis> {
        standing::bases(
            events.iter().map(|e| standing::BasisRef {
                purpose: &e.purpose,
                kind: e.kind,
                at: e.at,
                start: e.start,
            }),
            op.policy(),
            op.now,
        )
    }

    /// Each purpose's consent standing, from the subject's events, at the call's time and
    /// under the version in force for it (see [`ward_core::standing::standing`]).
    pub(crate) fn consent_standing(
        &self,
        op: &Op<'_>,
        events: &[ConsentEventRecord],
    ) -> BTreeMap<String, PurposeConsent> {
        let policies = self.policies();
        standing::standing(
            events.iter().map(|e| standing::EventRef {
                purpose: &e.purpose,
                kind: e.kind,
                at: e.at,
                policy_version: &e.policy_version,
            }),
            op.policy(),
            |hash| policies.find(hash).ok().map(|v| v.policy.clone()),
            op.now,
        )
    }

    pub(crate) fn data_key(&self, record: &SubjectRecord) -> VaultResult<DataKey> {
        let key = record
            .key
            .as_ref()
            .ok_or_else(|| VaultError::Internal("active subject without a data key".into()))?;
        let unwrap = || {
            self.keys()
                .ring()
                .unwrap(record.id.as_bytes(), &key.kek_id, &key.wrapped)
        };
        match unwrap() {
            // Re-wrapped under a KEK this process has not loaded yet: reload once and retry.
            // Retry whatever the reload reports: a concurrent read may have loaded the key
            // between this unwrap and this reload (then the reload adds nothing, and the ring
            // has it). Failing here answered one read in a bench run with a 500.
            Err(ward_crypto::CryptoError::UnknownKek(_)) => {
                self.keys().reload()?;
                Ok(unwrap()?)
            }
            other => Ok(other?),
        }
    }

    pub(crate) fn sealed_fields(record: &SubjectRecord) -> VaultResult<SealedFields> {
        let bytes = record
            .fields
            .as_deref()
            .ok_or_else(|| VaultError::Internal("active subject without fields".into()))?;
        Ok(sealed::decode(bytes)?)
    }

    /// The categories the subject still holds data in, from the names in its sealed field
    /// map (`fields`; nothing opened): what destruction can still be due for. None once
    /// erased.
    pub(crate) fn held_data(op: &Op<'_>, fields: Option<&[u8]>) -> VaultResult<BTreeSet<String>> {
        let Some(bytes) = fields else {
            return Ok(BTreeSet::new());
        };
        let names = sealed::decode(bytes)?;
        Ok(standing::categories_held(op.policy(), names.keys().map(String::as_str)))
    }

    /// Decides access and decrypts, through a gate for `purpose`, the allowed fields the
    /// subject has; the gate is returned for the operation's journal entry.
    pub(crate) fn open_allowed(
        &self,
        op: &Op<'_>,
        loaded: &Loaded,
        purpose: &str,
        action: ProcessingAction,
        requested: Option<&[String]>,
    ) -> VaultResult<(BTreeMap<String, String>, Gate)> {
        let allowed = Self::allowed(op, loaded, purpose, action, requested)?;
        let mut gate = self.gate(op, &loaded.record, Reason::Read, Some(purpose))?;
        let fields = Self::open_fields(&mut gate, &loaded.record, &allowed)?;
        Ok((fields, gate))
    }

    /// The fields `purpose` may use for `action` (the access decision), nothing opened.
    pub(crate) fn allowed(
        op: &Op<'_>,
        loaded: &Loaded,
        purpose: &str,
        action: ProcessingAction,
        requested: Option<&[String]>,
    ) -> VaultResult<Vec<String>> {
        Ok(AccessRequest {
            policy: op.policy(),
            caller: op.caller,
            purpose,
            action,
            state: loaded.record.state,
            consents: &loaded.consents,
            established: &loaded.established,
            requested,
        }
        .decide()?)
    }

    /// Refuses (`subject_blocked`) when one of `fields` is in a category the subject's
    /// blocks in force cover. Checked before anything is opened.
    pub(crate) async fn refuse_blocked(&self, op: &Op<'_>, id: SubjectId, fields: &[String]) -> VaultResult<()> {
        let blocked = self.blocked(op, id).await?;
        if blocked.is_empty() {
            return Ok(());
        }
        let policy = op.policy();
        let hit: BTreeSet<&str> = fields
            .iter()
            .filter_map(|f| policy.field(f))
            .map(|f| f.category.as_str())
            .filter(|c| blocked.covers(c))
            .collect();
        if hit.is_empty() {
            return Ok(());
        }
        Err(VaultError::invalid(
            ProblemCode::SubjectBlocked,
            format!(
                "the categories {} of this subject are blocked: only reads for verification (officer) and rectification may use them",
                hit.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ))
    }

    /// Decrypts through `gate` the named fields the subject has. The caller has decided
    /// access.
    pub(crate) fn open_fields(
        gate: &mut Gate,
        record: &SubjectRecord,
        names: &[impl AsRef<str>],
    ) -> VaultResult<BTreeMap<String, String>> {
        let sealed_fields = Self::sealed_fields(record)?;
        let mut out = BTreeMap::new();
        for name in names {
            if let Some(v) = gate.field(&sealed_fields, name.as_ref())? {
                out.insert(name.as_ref().to_owned(), v);
            }
        }
        Ok(out)
    }
}
