//! Subjects: collection, purpose-bound reads and lookups, rectification, erasure.

mod change;
mod create;
mod load;

use crate::error::{FieldProblem, VaultError, VaultResult};
use crate::gate::Reason;
use crate::Vault;
use std::collections::BTreeMap;
use ward_core::access::{AccessRequest, SubjectState};
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
        let v = self.0;
        let op = v.op(caller);
        AccessRequest::check_purpose(op.policy(), caller, purpose, ProcessingAction::Retrieval)?;
        let loaded = v.load(&op, id).await?;
        let (fields, gate) = v.open_allowed(&op, &loaded, purpose, ProcessingAction::Retrieval, requested)?;
        let entry = JournalDraft::new(op.now, op.actor(), ProcessingAction::Retrieval)
            .subject(id)
            .purpose(purpose)
            .fields(fields.keys().cloned());
        v.commit(Change::JournalOnly, vec![loaded.stamp(gate.stamp(entry))])
            .await?;
        Ok(SubjectView {
            id,
            purpose: purpose.to_owned(),
            fields,
        })
    }

    /// Finds subjects by a lookup field's value through the blind index, for `purpose`.
    /// Returns the matches the caller may see for that purpose; if there are matches but
    /// every one is refused, returns the first refusal.
    pub async fn find(
        &self,
        caller: &Caller,
        field: &str,
        value: &str,
        purpose: &str,
    ) -> VaultResult<Vec<SubjectView>> {
        let v = self.0;
        let op = v.op(caller);
        let policy = op.policy();
        AccessRequest::check_purpose(policy, caller, purpose, ProcessingAction::Retrieval)?;
        let def = policy
            .field(field)
            .ok_or_else(|| AccessRefusal::UnknownField(field.to_owned()))?;
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
        let mut refusal = None;
        // Every candidate whose field was opened is journaled: a match with what it returned,
        // a false candidate of the truncated index or a refused match as the comparison.
        let mut entries = Vec::new();
        for (record, events) in candidates {
            if record.state != SubjectState::Active {
                continue;
            }
            let id = record.id;
            let loaded = v.loaded(&op, record, events)?;
            let sealed_fields = Vault::sealed_fields(&loaded.record)?;
            let mut compare = v.gate(&op, &loaded.record, Reason::LookupCompare, Some(purpose))?;
            let Some(held) = compare.field(&sealed_fields, field)? else {
                continue;
            };
            if held != wanted.as_str() {
                entries.push(loaded.stamp(compare.entry()));
                continue;
            }
            match v.open_allowed(&op, &loaded, purpose, ProcessingAction::Retrieval, None) {
                Ok((fields, gate)) => {
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
                Err(VaultError::Refused(r)) => {
                    entries.push(loaded.stamp(compare.entry()));
                    refusal.get_or_insert(r);
                }
                Err(e) => return Err(e),
            }
        }
        if !entries.is_empty() {
            v.commit(Change::JournalOnly, entries).await?;
        }
        if let (true, Some(r)) = (found.is_empty(), refusal) {
            return Err(r.into());
        }
        Ok(found)
    }
}
