//! Unique fields (`unique = true` in the policy): no two live subjects hold the same value.
//!
//! The blind index is truncated, so its entry for a value is shared by other values too: each
//! live holder of the entry is opened through the gate (`opened:unique_compare`, journaled) and
//! compared. The write then carries a guard ([`Guarded`]): "no live subject but those compared
//! and found different holds this entry", checked inside the write transaction. The store
//! refuses it (`OpOutcome::Duplicate`) when a holder of the same value still lives, answered
//! `duplicate_value` (naming the field, never the value), or when a subject took the entry
//! meanwhile: then the comparisons run again ([`ATTEMPTS`] times at most).

use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::gate::Reason;
use crate::Vault;
use std::collections::{BTreeMap, BTreeSet};
use ward_core::access::SubjectState;
use ward_core::policy::Policy;
use ward_core::{FieldValue, JournalDraft, ProblemCode, SubjectId};
use ward_store::{Change, Guarded, OpOutcome, UniqueGuard};

/// How many times a write whose guard lost a race is compared and tried again.
pub(super) const ATTEMPTS: usize = 5;

/// A unique field's new value: its name, its normalised value and its blind-index entry.
pub(super) struct NewValue<'a> {
    pub field: &'a str,
    pub value: &'a str,
    pub hash: i64,
}

/// What the comparisons found. The write goes with `guards` (whose `known` leave out a
/// holder of the same value, so the store refuses it while that holder lives), and the
/// comparisons' journal entries with it.
pub(super) struct Compared {
    guards: Vec<UniqueGuard>,
    pub entries: Vec<JournalDraft>,
    /// The first field whose value a live subject holds.
    pub matched: Option<String>,
}

impl Compared {
    /// `change` with the guards (unchanged when no field is unique).
    pub(super) fn guard(&self, change: Change) -> Change {
        if self.guards.is_empty() {
            change
        } else {
            Change::Unique(Guarded {
                guards: self.guards.clone(),
                change: Box::new(change),
            })
        }
    }
}

/// The refusal: names the field, never the value.
fn duplicate(field: &str) -> VaultError {
    VaultError::invalid(
        ProblemCode::DuplicateValue,
        format!("field `{field}` is unique in the policy, and another subject already holds this value"),
    )
}

/// The refusal when the index entry kept being taken by other values.
fn kept_changing(field: &str) -> VaultError {
    VaultError::Conflict(format!(
        "other subjects kept registering values that share field `{field}`'s index entry; try again"
    ))
}

impl Vault {
    /// The values of unique fields among `values`, with their index entries.
    pub(super) fn unique_values<'a>(
        &self,
        policy: &Policy,
        values: &'a BTreeMap<String, FieldValue>,
    ) -> Vec<NewValue<'a>> {
        values
            .iter()
            .filter(|(name, _)| policy.field(name).is_some_and(|f| f.unique))
            .map(|(name, value)| NewValue {
                field: name,
                value: value.as_str(),
                hash: self.inner.keys.blind_index.compute(name, value.as_str()),
            })
            .collect()
    }

    /// Compares each of `values` (of unique fields) with the live holders of its index entry,
    /// other than `subject` itself, for `purpose`.
    ///
    /// A holder of the same value is not refused here but by the store, when the guarded write
    /// finds it still live: under an idempotency key the store first answers for the key, so a
    /// retry of a registration that was done is answered as a retry, not as a duplicate.
    pub(super) async fn compare_unique(
        &self,
        op: &Op<'_>,
        subject: SubjectId,
        purpose: &str,
        values: &[NewValue<'_>],
    ) -> VaultResult<Compared> {
        let mut compared = Compared {
            guards: Vec::new(),
            entries: Vec::new(),
            matched: None,
        };
        for new in values {
            let mut known = BTreeSet::from([subject]);
            for id in self.store().find_subjects_by_index(new.field, new.hash).await? {
                if id == subject {
                    continue;
                }
                let Some(record) = self.store().find_subject(id).await? else {
                    continue;
                };
                if record.state == SubjectState::Erased {
                    continue;
                }
                let sealed_fields = Vault::sealed_fields(&record)?;
                let mut gate = self.gate(op, &record, Reason::UniqueCompare, Some(purpose))?;
                let held = gate.field(&sealed_fields, new.field)?;
                if gate.opened() {
                    compared.entries.push(gate.entry());
                }
                if held.as_deref() == Some(new.value) {
                    compared.matched.get_or_insert_with(|| new.field.to_owned());
                } else {
                    known.insert(id);
                }
            }
            compared.guards.push(UniqueGuard {
                field: new.field.to_owned(),
                hash: new.hash,
                known,
            });
        }
        Ok(compared)
    }

    /// Writes `change` with `journal`, guarded so that no other live subject holds any of
    /// `values` (of unique fields of `subject`): `duplicate_value` if one does; compares again
    /// after a lost race with another value sharing the index entry.
    pub(super) async fn commit_unique(
        &self,
        op: &Op<'_>,
        subject: SubjectId,
        purpose: &str,
        values: &[NewValue<'_>],
        change: Change,
        journal: Vec<JournalDraft>,
    ) -> VaultResult<OpOutcome> {
        let Some(first) = values.first() else {
            return self.commit(change, journal).await;
        };
        for _attempt in 0..ATTEMPTS {
            let compared = self.compare_unique(op, subject, purpose, values).await?;
            let mut entries = journal.clone();
            entries.extend(compared.entries.iter().cloned());
            match self.commit(compared.guard(change.clone()), entries).await {
                Ok(OpOutcome::Done) => return Ok(OpOutcome::Done),
                Ok(OpOutcome::Duplicate) => self.refused(compared).await?,
                // Not written (refused, or a retry under an idempotency key): the comparisons
                // opened data all the same.
                other => {
                    self.journal_comparisons(compared.entries).await?;
                    return other;
                }
            }
        }
        Err(kept_changing(first.field))
    }

    /// After the store refused a guarded write (`Duplicate`): journals the comparisons, and
    /// answers `duplicate_value` when they found a holder of the same value (else the caller
    /// compares again: another value took the entry meanwhile).
    pub(super) async fn refused(&self, compared: Compared) -> VaultResult<()> {
        self.journal_comparisons(compared.entries).await?;
        match compared.matched {
            Some(field) => Err(duplicate(&field)),
            None => Ok(()),
        }
    }

    /// Journals comparisons whose write did not happen.
    pub(super) async fn journal_comparisons(&self, entries: Vec<JournalDraft>) -> VaultResult<()> {
        if !entries.is_empty() {
            self.commit(Change::JournalOnly, entries).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyMaterial, NewSubjectInput, VaultConfig};
    use std::sync::Arc;
    use time::macros::datetime;
    use ward_core::authz::Operation;
    use ward_core::policy::DEFAULT_POLICY;
    use ward_core::{Caller, FakeClock};

    fn input(email: &str) -> NewSubjectInput {
        NewSubjectInput {
            purpose: "registration".into(),
            fields: BTreeMap::from([("email".to_owned(), email.to_owned())]),
            consents: vec![],
            age_band: None,
            evidence: None,
            bases: vec![],
        }
    }

    /// The race, step by step: a subject registers the value after another write's comparisons
    /// found no holder. The store refuses the guarded write, and comparing again finds the
    /// new holder: `duplicate_value`.
    #[tokio::test]
    async fn a_holder_that_came_after_the_comparisons_refuses_the_write() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = ward_store_sqlite::SqliteStore::open(&dir.path().join("ward.db"))
            .await
            .expect("open");
        let v = Vault::open(
            Arc::new(store),
            KeyMaterial::generate(24),
            Policy::parse(DEFAULT_POLICY).expect("the default policy"),
            DEFAULT_POLICY,
            Arc::new(FakeClock::new(datetime!(2026-12-06 10:00 UTC))),
            VaultConfig::default(),
        )
        .await
        .expect("open a vault");
        let caller = Caller::cli();
        let op = v.op(&caller, Operation::SubjectCreate).expect("an operation");
        let policy = op.policy();
        let email = policy
            .field("email")
            .expect("email")
            .field_type
            .parse("late@example.org", "RU");
        let values = BTreeMap::from([("email".to_owned(), email.expect("an e-mail address"))]);
        let new = v.unique_values(policy, &values);
        assert_eq!(new.len(), 1, "email is unique in the default policy");
        let later = SubjectId::random();

        let compared = v
            .compare_unique(&op, later, "registration", &new)
            .await
            .expect("compare");
        assert_eq!(compared.matched, None);
        v.subjects()
            .create(&caller, input("Late@Example.org"))
            .await
            .expect("another registers the value meanwhile");
        let outcome = v
            .commit(compared.guard(Change::JournalOnly), vec![])
            .await
            .expect("write");
        assert_eq!(outcome, OpOutcome::Duplicate, "the store refuses the guarded write");
        v.refused(compared).await.expect("no match was known: compare again");
        let again = v
            .compare_unique(&op, later, "registration", &new)
            .await
            .expect("compare");
        assert_eq!(again.matched.as_deref(), Some("email"));
        let refused = v.refused(again).await;
        assert!(
            matches!(&refused, Err(e) if e.code() == ProblemCode::DuplicateValue),
            "{refused:?}"
        );
        v.shutdown().await.expect("shut down");
    }
}
