//! Changing a subject: rectification.

use super::create::parse_fields;
use super::unique;
use super::Subjects;
use crate::error::{FieldProblem, VaultError, VaultResult};
use crate::kernel::subject_outcome;
use crate::sealed;
use crate::Vault;
use std::collections::BTreeMap;
use ward_core::access::AccessRequest;
use ward_core::authz::Operation;
use ward_core::basis::EstablishedBy;
use ward_core::ProblemCode;
use ward_core::{Caller, FieldValue, JournalDraft, ProcessingAction, SubjectId};
use ward_store::{Change, OpOutcome, SubjectChange};

impl Subjects<'_> {
    /// Rectifies fields for `purpose`: `Some(v)` sets, `None` removes. Retries on concurrent
    /// updates. Setting fields under a purpose that collection establishes
    /// (`established_by = "collection"`) establishes it, in the same transaction.
    pub async fn rectify(
        &self,
        caller: &Caller,
        id: SubjectId,
        purpose: &str,
        changes: &BTreeMap<String, Option<String>>,
    ) -> VaultResult<()> {
        if changes.is_empty() {
            return Err(VaultError::invalid(ProblemCode::EmptyChange, "no fields to change"));
        }
        let v = self.0;
        let op = v.op(caller, Operation::SubjectRectify)?;
        let policy = op.policy();
        AccessRequest::check_purpose(policy, caller, purpose, ProcessingAction::Rectification)?;
        let sets: BTreeMap<String, String> = changes
            .iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
            .collect();
        let values = parse_fields(&op, &sets)?;
        let mut problems = Vec::new();
        for (name, value) in changes {
            match policy.field(name) {
                None => problems.push(FieldProblem {
                    field: name.clone(),
                    message: "this field is not declared in the policy".into(),
                }),
                Some(def) if value.is_none() && def.required => problems.push(FieldProblem {
                    field: name.clone(),
                    message: "this field is required and cannot be removed".into(),
                }),
                Some(_) => {}
            }
        }
        if !problems.is_empty() {
            return Err(VaultError::InvalidFields(problems));
        }
        let names: Vec<String> = changes.keys().cloned().collect();
        // Setting fields under a purpose that collection establishes establishes it.
        let collects = !sets.is_empty()
            && policy
                .purpose(purpose)
                .is_some_and(|p| !p.legal_basis.needs_consent() && p.established_by == EstablishedBy::Collection);
        let unique = v.unique_values(policy, &values);
        for _attempt in 0..unique::ATTEMPTS {
            let loaded = v.load(&op, id).await?;
            let mut established = loaded.established.clone();
            if collects {
                established.insert(purpose.to_owned());
            }
            AccessRequest {
                policy,
                caller,
                purpose,
                action: ProcessingAction::Rectification,
                state: loaded.record.state,
                consents: &loaded.consents,
                established: &established,
                requested: Some(&names),
            }
            .decide()?;
            let key = v.data_key(&loaded.record)?;
            let (bases, basis_entries): (Vec<_>, Vec<_>) = if collects {
                crate::bases::by_collection(&op, &key, id, purpose, &loaded.established)?
                    .into_iter()
                    .unzip()
            } else {
                (Vec::new(), Vec::new())
            };
            let mut sealed_fields = Vault::sealed_fields(&loaded.record)?;
            let mut reindex = Vec::new();
            for (name, change) in changes {
                let lookup = policy.fields[name].lookup;
                match change {
                    Some(_) => {
                        let value = values.get(name).map(FieldValue::as_str).unwrap_or_default();
                        sealed_fields.insert(name.clone(), sealed::seal_value(&key, id, name, value));
                        if lookup {
                            reindex.push((name.clone(), Some(v.inner.keys.blind_index.compute(name, value))));
                        }
                    }
                    None => {
                        sealed_fields.remove(name);
                        if lookup {
                            reindex.push((name.clone(), None));
                        }
                    }
                }
            }
            let change = Change::Subject(SubjectChange::Update {
                id,
                expected_revision: loaded.record.revision,
                fields: sealed::encode(&sealed_fields),
                reindex,
                bases,
                at: op.now,
            });
            let entry = JournalDraft::new(op.now, op.actor(), ProcessingAction::Rectification)
                .subject(id)
                .purpose(purpose)
                .fields(names.clone());
            let mut entries = vec![loaded.stamp(entry)];
            entries.extend(basis_entries);
            let compared = v.compare_unique(&op, id, purpose, &unique).await?;
            entries.extend(compared.entries.iter().cloned());
            let outcome = v.commit(compared.guard(change), entries).await;
            if let Ok(OpOutcome::Duplicate) = outcome {
                // Another subject holds a unique value's index entry: `duplicate_value` if it
                // holds the value, else compare again.
                v.refused(compared).await?;
                continue;
            }
            if !matches!(outcome, Ok(OpOutcome::Done)) {
                // Not written: the comparisons opened data all the same.
                v.journal_comparisons(compared.entries).await?;
            }
            match outcome? {
                OpOutcome::Done => return Ok(()),
                OpOutcome::Conflict => continue,
                other => return Err(subject_outcome(other, "updating a subject")),
            }
        }
        Err(VaultError::Conflict(
            "the subject kept changing while it was being updated; try again".into(),
        ))
    }
}
