//! Subjects: collection, purpose-bound reads and lookups, rectification, erasure.

mod change;
mod create;
mod destroy;
mod erase;
mod load;
pub(crate) use load::Loaded;
mod unique;

pub(crate) use destroy::field_destruction;
pub use destroy::{destruction_reason, Destroyed, DestructionRequest};
pub(crate) use erase::ERASURE_CAUSE;
pub use erase::{Erasure, Withheld};

use crate::error::{FieldProblem, VaultError, VaultResult};
use crate::gate::Reason;
use crate::Vault;
use std::collections::BTreeMap;
use ward_core::access::{AccessRequest, Role, SubjectState};
use ward_core::authz::Operation;
use ward_core::consent::Evidence;
use ward_core::ProblemCode;
use ward_core::{AccessRefusal, Caller, JournalDraft, ProcessingAction, SubjectId};
use ward_store::Change;

/// What a caller sends to register a subject.
#[derive(Debug, Clone)]
pub struct NewSubjectInput {
    /// The purpose of collection (e.g. `registration`).
    pub purpose: String,
    /// Field name → raw value, parsed by the field's type.
    pub fields: BTreeMap<String, String>,
    /// Consent-based purposes the subject consents to, given at collection.
    pub consents: Vec<String>,
    /// An age band the subject declared instead of a birth date: `"16-17"`, `"18+"`. Ward
    /// applies the age rules to its lower bound.
    pub age_band: Option<String>,
    /// How the data and consents were obtained. Required when `consents` is not empty;
    /// otherwise defaults to channel `api`.
    pub evidence: Option<Evidence>,
    /// Basis events established with the registration (a contract concluded at checkout),
    /// each with its evidence, checked as [`crate::Bases::record`] checks them and recorded in
    /// the same transaction. Collection may then be under a purpose one of them establishes.
    pub bases: Vec<crate::BasisInput>,
}

/// What a purpose-bound read returns.
#[derive(Clone, PartialEq, Eq)]
pub struct SubjectView {
    pub id: SubjectId,
    pub purpose: String,
    pub fields: BTreeMap<String, String>,
}

impl std::fmt::Debug for SubjectView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectView")
            .field("id", &self.id)
            .field("purpose", &self.purpose)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The subjects service, reached by [`Vault::subjects`].
#[derive(Clone, Copy)]
pub struct Subjects<'v>(pub(crate) &'v Vault);

impl Subjects<'_> {
    /// A purpose-bound read. Answers only after the read's journal entry is durable.
    pub async fn read(
        &self,
        caller: &Caller,
        id: SubjectId,
        purpose: &str,
        requested: Option<&[String]>,
    ) -> VaultResult<SubjectView> {
        self.read_as(caller, id, purpose, requested, false).await
    }

    /// [`Subjects::read`] for verification (152-FZ Art. 21 p. 1: checking a claim while the
    /// data is blocked): the officer's and admin's read, which blocks do not refuse. Journaled
    /// with `verification` in its detail. Refused (`forbidden`) to other roles.
    pub async fn read_for_verification(
        &self,
        caller: &Caller,
        id: SubjectId,
        purpose: &str,
        requested: Option<&[String]>,
    ) -> VaultResult<SubjectView> {
        if !matches!(caller.role, Role::Admin | Role::Officer) {
            return Err(VaultError::Forbidden(
                "only the officer and admins read blocked data, for verification".into(),
            ));
        }
        self.read_as(caller, id, purpose, requested, true).await
    }

    async fn read_as(
        &self,
        caller: &Caller,
        id: SubjectId,
        purpose: &str,
        requested: Option<&[String]>,
        verification: bool,
    ) -> VaultResult<SubjectView> {
        let v = self.0;
        let op = v.op(caller, Operation::SubjectRead)?;
        AccessRequest::check_purpose(op.policy(), caller, purpose, ProcessingAction::Retrieval)?;
        let loaded = v.load(&op, id).await?;
        if !verification {
            let allowed = Vault::allowed(&op, &loaded, purpose, ProcessingAction::Retrieval, requested)?;
            v.refuse_blocked(&op, id, &allowed).await?;
        }
        let (fields, gate) = v.open_allowed(&op, &loaded, purpose, ProcessingAction::Retrieval, requested)?;
        let mut entry = JournalDraft::new(op.now, op.actor(), ProcessingAction::Retrieval)
            .subject(id)
            .purpose(purpose)
            .fields(fields.keys().cloned());
        if verification {
            entry = entry.detail("verification");
        }
        v.commit(Change::JournalOnly, vec![loaded.stamp(gate.stamp(entry))])
            .await?;
        Ok(SubjectView {
            id,
            purpose: purpose.to_owned(),
            fields,
        })
    }

    /// Finds subjects by a lookup field's value through the blind index, for `purpose`.
    ///
    /// A lookup by a field whose category `purpose` may not use is refused
    /// (`category_not_allowed`) before anything is read, whatever the data holds. The answer
    /// holds the matches the caller may see for that purpose, each with only the fields the
    /// purpose may see; a match the purpose may not see (no consent, a consent that does not
    /// cover the field looked up by, a subject not active) is left out exactly as a value no
    /// one has, and nothing is journaled for it: a lookup never tells whether a value is
    /// registered beyond what the purpose may see.
    pub async fn find(
        &self,
        caller: &Caller,
        field: &str,
        value: &str,
        purpose: &str,
    ) -> VaultResult<Vec<SubjectView>> {
        let v = self.0;
        let op = v.op(caller, Operation::SubjectLookup)?;
        let policy = op.policy();
        let purpose_def = AccessRequest::check_purpose(policy, caller, purpose, ProcessingAction::Retrieval)?;
        let def = policy
            .field(field)
            .ok_or_else(|| AccessRefusal::UnknownField(field.to_owned()))?;
        if !purpose_def.categories.contains(&def.category) {
            return Err(AccessRefusal::CategoryNotAllowed {
                field: field.to_owned(),
                category: def.category.clone(),
                purpose: purpose.to_owned(),
            }
            .into());
        }
        if !def.lookup {
            return Err(VaultError::invalid(
                ProblemCode::FieldNotSearchable,
                format!("field `{field}` has no blind index (set lookup = true in the policy)"),
            ));
        }
        let wanted = def.field_type.parse(value, &policy.default_region).map_err(|e| {
            VaultError::InvalidFields(vec![FieldProblem {
                field: field.to_owned(),
                message: e.to_string(),
            }])
        })?;
        let hash = v.inner.keys.blind_index.compute(field, wanted.as_str());
        let candidates = v.store().find_subjects_by_index_with_consents(field, hash).await?;
        let mut found = Vec::new();
        // Every candidate whose field was opened is journaled: a match with what it returned,
        // a false candidate of the truncated index or a refused match as the comparison. A
        // refused match is answered as no match: the answer never reveals that the value is
        // registered to someone the purpose may not see.
        let mut entries = Vec::new();
        for (record, events) in candidates {
            if record.state != SubjectState::Active {
                continue;
            }
            let id = record.id;
            let basis_events = v.store().find_basis_events(id).await?;
            let loaded = v.loaded(&op, record, events, basis_events)?;
            let sealed_fields = Vault::sealed_fields(&loaded.record)?;
            let mut compare = v.gate(&op, &loaded.record, Reason::LookupCompare, Some(purpose))?;
            let Some(held) = compare.field(&sealed_fields, field)? else {
                continue;
            };
            if held != wanted.as_str() {
                entries.push(loaded.stamp(compare.entry()));
                continue;
            }
            // A match whose data the purpose would see is blocked: answered as no match.
            let blocked = match Vault::allowed(&op, &loaded, purpose, ProcessingAction::Retrieval, None) {
                Ok(allowed) => v.refuse_blocked(&op, id, &allowed).await.is_err(),
                Err(_) => false,
            };
            if blocked {
                entries.push(loaded.stamp(compare.entry()));
                continue;
            }
            match v.open_allowed(&op, &loaded, purpose, ProcessingAction::Retrieval, None) {
                Ok((fields, gate)) if fields.contains_key(field) => {
                    let entry = JournalDraft::new(op.now, op.actor(), ProcessingAction::Retrieval)
                        .subject(id)
                        .purpose(purpose)
                        .fields(fields.keys().cloned())
                        .detail(format!("lookup:{field}"));
                    entries.push(loaded.stamp(compare.stamp(gate.stamp(entry))));
                    found.push(SubjectView {
                        id,
                        purpose: purpose.to_owned(),
                        fields,
                    });
                }
                // Not for this purpose: answered as no match; the comparison is on record.
                Ok(_) | Err(VaultError::Refused(_)) => entries.push(loaded.stamp(compare.entry())),
                Err(e) => return Err(e),
            }
        }
        if !entries.is_empty() {
            v.commit(Change::JournalOnly, entries).await?;
        }
        Ok(found)
    }
}
