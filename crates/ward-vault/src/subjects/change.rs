//! Changing a subject: rectification and erasure.

use super::create::parse_fields;
use super::Subjects;
use crate::acts::{self, ActInput};
use crate::error::{FieldProblem, VaultError, VaultResult};
use crate::kernel::subject_outcome;
use crate::sealed;
use crate::Vault;
use std::collections::{BTreeMap, BTreeSet};
use ward_core::access::{AccessRequest, Role};
use ward_core::authz::Operation;
use ward_core::basis::EstablishedBy;
use ward_core::destruction::DestructionMethod;
use ward_core::destruction::DestructionReason;
use ward_core::ActId;
use ward_core::ProblemCode;
use ward_core::{Caller, FieldValue, JournalDraft, ProcessingAction, SubjectId};
use ward_store::{ActChange, Change, OpOutcome, SubjectChange};

/// The cause of an erasure's act: a subject is erased once.
pub(crate) const ERASURE_CAUSE: &str = "erasure";

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
        for _attempt in 0..5 {
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
            match v.commit(change, entries).await? {
                OpOutcome::Done => return Ok(()),
                OpOutcome::Conflict => continue,
                other => return Err(subject_outcome(other, "updating a subject")),
            }
        }
        Err(VaultError::Conflict(
            "the subject kept changing while it was being updated; try again".into(),
        ))
    }

    /// Erases a subject by crypto-shredding: its data key, ciphertexts, index entries and
    /// consent evidence are destroyed in one transaction with the journal entry, which names
    /// the `reason` (an enum: no client text reaches the journal).
    ///
    /// Allowed to whom the authorization table allows it: admins and the officer, and service
    /// keys whose purposes together cover destruction of every category the subject's record
    /// holds. Refused (`conflict`) while an established legal obligation still requires some
    /// of the data: the hold names its purposes and categories.
    ///
    /// Writes the erasure's destruction act (RKN Order No. 179) in the same transaction, and
    /// returns its id.
    pub async fn erase(&self, caller: &Caller, id: SubjectId, reason: DestructionReason) -> VaultResult<ActId> {
        let v = self.0;
        let op = v.op(caller, Operation::SubjectErase)?;
        let policy = op.policy();
        let destroys = |p: &String| {
            policy
                .purpose(p)
                .is_some_and(|p| p.covers(ProcessingAction::Destruction))
        };
        if caller.role == Role::Service && !caller.purposes.iter().any(destroys) {
            // Before the subject is looked up: such a key learns nothing of it.
            return Err(VaultError::Forbidden(
                "none of this key's purposes covers destruction of personal data".into(),
            ));
        }
        let loaded = v.load_active(&op, id).await?;
        let names: Vec<String> = Vault::sealed_fields(&loaded.record)?.into_keys().collect();
        let categories: BTreeSet<&str> = names
            .iter()
            .filter_map(|n| policy.field(n))
            .map(|f| f.category.as_str())
            .collect();
        super::destroy::check_may_destroy(&op, &loaded, &categories)?;
        let act = acts::make(
            &op,
            ActInput {
                subject: id,
                cause: Some(ERASURE_CAUSE.to_owned()),
                categories: categories.iter().map(|c| (*c).to_owned()).collect(),
                fields: names.clone(),
                method: DestructionMethod::CryptoShredding,
                reason,
                withheld: Vec::new(),
            },
        );
        let entry = JournalDraft::new(op.now, op.actor(), ProcessingAction::Destruction)
            .subject(id)
            .fields(names)
            .detail(format!(
                "crypto-shredding: data key destroyed; reason:{reason} {}",
                acts::journal_note(&act)
            ));
        let act_id = act.id;
        let change = Change::Act(ActChange::Destroy {
            act: Box::new(act),
            destruction: SubjectChange::Erase { id, at: op.now },
        });
        match v.commit(change, vec![loaded.stamp(entry)]).await? {
            OpOutcome::Done => Ok(act_id),
            // The subject's erasure act exists: another call erased it meanwhile.
            OpOutcome::AlreadyExists => Err(ward_core::AccessRefusal::SubjectErased.into()),
            other => Err(subject_outcome(other, "erasing a subject")),
        }
    }
}
