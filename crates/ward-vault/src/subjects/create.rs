//! Registering subjects: one, or many sharing group-commit transactions.

use super::{NewSubjectInput, Subjects};
use crate::context::Op;
use crate::error::{FieldProblem, VaultError, VaultResult};
use crate::forms::{self, violation};
use crate::sealed::{self, SealedFields};
use crate::Vault;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use ward_core::access::AccessRequest;
use ward_core::authz::Operation;
use ward_core::basis::EstablishedBy;
use ward_core::consent::{ConsentEventKind, Evidence};
use ward_core::journal::{AdminEvent, ChannelClass};
use ward_core::ProblemCode;
use ward_core::{AccessRefusal, Caller, FieldValue, JournalDraft, ProcessingAction, SubjectId};
use ward_crypto::DataKey;
use ward_store::{Change, ConsentEventRecord, IndexEntry, NewSubject, OpOutcome, SubjectChange};

/// Parses every field, reporting all problems at once.
pub(super) fn parse_fields(op: &Op<'_>, raw: &BTreeMap<String, String>) -> VaultResult<BTreeMap<String, FieldValue>> {
    let policy = op.policy();
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, value) in raw {
        match policy.field(name) {
            None => problems.push(FieldProblem {
                field: name.clone(),
                message: "this field is not declared in the policy".into(),
            }),
            Some(def) => match def.field_type.parse(value, &policy.default_region) {
                Ok(v) => {
                    out.insert(name.clone(), v);
                }
                Err(e) => problems.push(FieldProblem {
                    field: name.clone(),
                    message: e.to_string(),
                }),
            },
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(VaultError::InvalidFields(problems))
    }
}

impl Subjects<'_> {
    /// Registers a subject: collection for `input.purpose`, plus the consents given. Checked
    /// and recorded under the policy version in force when the call began: its consents are
    /// bound to that version. A purpose not resting on consent must be one that collection
    /// establishes (`established_by = "collection"`); its basis is recorded in the same
    /// transaction.
    pub async fn create(&self, caller: &Caller, input: NewSubjectInput) -> VaultResult<SubjectId> {
        let v = self.0;
        let op = v.op(caller, Operation::SubjectCreate)?;
        let policy = op.policy();
        let purpose = AccessRequest::check_purpose(policy, caller, &input.purpose, ProcessingAction::Collection)?;
        let mut evidence = match input.evidence {
            Some(e) => e,
            None if input.consents.is_empty() => Evidence {
                channel: "api".into(),
                ..Evidence::default()
            },
            None => {
                return Err(VaultError::invalid(
                    ProblemCode::InvalidEvidence,
                    "evidence is required when consents are given",
                ))
            }
        };
        forms::check_evidence(&op, &mut evidence)?;
        let consents: BTreeSet<String> = input.consents.iter().cloned().collect();
        let mut allowed: BTreeSet<&String> = purpose.categories.iter().collect();
        for c in &consents {
            let p = forms::consent_purpose(policy, caller, c)?;
            allowed.extend(p.categories.iter());
            if consents.len() > 1 && ward_core::evidence::is_distribution(policy, c) {
                return Err(VaultError::invalid(
                    ProblemCode::SeparateConsentRequired,
                    format!("consent to purpose `{c}` makes data public and is a separate document (152-FZ Art. 10.1 p. 1): give it on its own, through the subject's consents"),
                ));
            }
            forms::check_consent_form(&op, c, &mut evidence, false)?;
        }
        if purpose.legal_basis.needs_consent() && !consents.contains(&input.purpose) {
            return Err(AccessRefusal::ConsentMissing(input.purpose.clone()).into());
        }
        let established = crate::bases::check_at_registration(&op, caller, &input.bases)?;
        // A new subject has no basis yet but what this collection, or an event given with it,
        // establishes.
        if !purpose.legal_basis.needs_consent()
            && purpose.established_by != EstablishedBy::Collection
            && !established.contains(purpose.basis_of.as_deref().unwrap_or(&input.purpose))
        {
            return Err(AccessRefusal::BasisNotEstablished {
                purpose: input.purpose.clone(),
                basis: purpose.legal_basis,
            }
            .into());
        }
        let values = parse_fields(&op, &input.fields)?;
        let birth_date = values.get("birth_date").map(FieldValue::as_str);
        ward_core::age::check_minimum_age(policy.minimum_age, birth_date, input.age_band.as_deref(), op.now.date())
            .map_err(violation)?;
        let rules = ward_core::age::rules(&policy.jurisdictions, policy.majority_age);
        ward_core::age::check_consent_age(&rules, birth_date, input.age_band.as_deref(), &evidence, op.now.date())
            .map_err(violation)?;
        let mut problems: Vec<FieldProblem> = policy
            .fields
            .iter()
            .filter(|(n, f)| f.required_under(&input.purpose, purpose) && !values.contains_key(*n))
            .map(|(n, _)| FieldProblem {
                field: n.clone(),
                message: "this field is required".into(),
            })
            .collect();
        for name in values.keys() {
            let cat = &policy.fields[name].category;
            if !allowed.contains(cat) {
                problems.push(FieldProblem {
                    field: name.clone(),
                    message: format!("category `{cat}` is not used by purpose `{}` or by a purpose consented to; it may not be collected", input.purpose),
                });
            }
        }
        if !problems.is_empty() {
            return Err(VaultError::InvalidFields(problems));
        }

        let id = SubjectId::random();
        let now = op.now;
        let dek = DataKey::generate();
        let mut sealed_fields = SealedFields::new();
        let mut index = Vec::new();
        for (name, value) in &values {
            sealed_fields.insert(name.clone(), sealed::seal_value(&dek, id, name, value.as_str()));
            if policy.fields[name].lookup {
                index.push(IndexEntry {
                    field: name.clone(),
                    hash: v.inner.keys.blind_index.compute(name, value.as_str()),
                });
            }
        }
        // Consent is bound to the version it was checked against: its scope is that version's.
        let mut consent_events = Vec::new();
        let mut journal = vec![JournalDraft::new(now, op.actor(), ProcessingAction::Collection)
            .subject(id)
            .purpose(input.purpose.clone())
            .fields(values.keys().cloned())
            .detail(format!("channel:{}", ChannelClass::of(&evidence.channel)))];
        for c in &consents {
            consent_events.push(ConsentEventRecord {
                purpose: c.clone(),
                kind: ConsentEventKind::Given,
                at: now,
                policy_version: op.hash().to_owned(),
                evidence: Some(forms::seal_evidence(&dek, id, c, &evidence)?),
            });
            journal.push(
                JournalDraft::new(now, op.actor(), AdminEvent::ConsentGiven)
                    .subject(id)
                    .purpose(c.clone())
                    .detail(format!("channel:{}", ChannelClass::of(&evidence.channel))),
            );
        }
        let mut bases = Vec::new();
        for b in &input.bases {
            let start = b.start.unwrap_or(now);
            let (record, entry) = crate::bases::event(&op, &dek, id, &b.purpose, b.kind, start, &b.evidence)?;
            bases.push(record);
            journal.push(entry);
        }
        for (record, entry) in crate::bases::by_collection(&op, &dek, id, &input.purpose, &established)? {
            bases.push(record);
            journal.push(entry);
        }
        let (kek_id, wrapped) = v.keys().ring().wrap(id.as_bytes(), &dek);
        let new = NewSubject {
            id,
            created_at: now,
            key: ward_store::WrappedKey { kek_id, wrapped },
            fields: sealed::encode(&sealed_fields),
            index,
            consents: consent_events,
            bases,
        };
        let unique = v.unique_values(policy, &values);
        let change = Change::Subject(SubjectChange::Create(new));
        match v
            .commit_unique(&op, id, &input.purpose, &unique, change, journal)
            .await?
        {
            OpOutcome::Done => Ok(id),
            other => Err(VaultError::Internal(format!("creating a subject: {other:?}"))),
        }
    }

    /// Registers many subjects. Each input is checked, sealed and journaled exactly as
    /// [`Subjects::create`] does it; all of them are prepared concurrently (on every core)
    /// and handed to the group committer together, so they share a few transactions instead
    /// of paying one commit each.
    ///
    /// Returns one result per input, in input order: an input that is invalid or refused fails
    /// alone, and every `Ok` is durable. The outer error is for a failure of the whole call.
    /// Callers bound the batch (the API takes at most 1,000; `ward import` sends 512 at a
    /// time): every input is in memory, sealed, until its transaction commits.
    pub async fn create_many(
        &self,
        caller: &Caller,
        inputs: Vec<NewSubjectInput>,
    ) -> VaultResult<Vec<VaultResult<SubjectId>>> {
        // A caller the table refuses is refused once, for the whole batch.
        self.0.authorize(caller, Operation::SubjectCreate)?;
        let caller = Arc::new(caller.clone());
        let handles: Vec<_> = inputs
            .into_iter()
            .map(|input| {
                let (vault, caller): (Vault, _) = (self.0.clone(), caller.clone());
                // Under an idempotency key, the batch's subjects share the request's claim.
                let scope = crate::idempotency::current();
                tokio::spawn(crate::idempotency::within(scope, async move {
                    vault.subjects().create(&caller, input).await
                }))
            })
            .collect();
        let mut results = Vec::with_capacity(handles.len());
        for h in handles {
            results.push(
                h.await
                    .unwrap_or_else(|e| Err(VaultError::Internal(format!("registering a subject of a batch: {e}")))),
            );
        }
        Ok(results)
    }
}
