//! Destroying named categories (or fields) of a subject who stays: what a withdrawal leaves
//! due for destruction can be destroyed without erasing the subject. The fields leave the
//! sealed record and their blind-index entries leave the index in one transaction with the
//! journal entry (a `SubjectChange::Update`).

use super::load::Loaded;
use super::Subjects;
use crate::acts::{self, ActInput};
use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::kernel::subject_outcome;
use crate::sealed;
use crate::Vault;
use std::collections::BTreeSet;
use ward_core::authz::Operation;
use ward_core::destruction::DestructionMethod;
use ward_core::destruction::{obligation_hold, uncovered_category, DestructionReason};
use ward_core::ActId;
use ward_core::ProblemCode;
use ward_core::{AccessRefusal, Caller, JournalDraft, ProcessingAction, SubjectId};
use ward_store::{ActChange, Change, OpOutcome, SubjectChange, SubjectRecord};

/// What to destroy of a subject, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestructionRequest {
    /// Categories of the policy: every field of each is destroyed.
    pub categories: Vec<String>,
    /// Single fields, besides the categories'.
    pub fields: Vec<String>,
    pub reason: DestructionReason,
}

/// What a destruction destroyed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destroyed {
    /// The fields the subject had that are gone now, sorted.
    pub fields: Vec<String>,
    /// The categories named, and those of the fields named, sorted.
    pub categories: Vec<String>,
    /// The destruction act written with it (RKN Order No. 179).
    pub act: ActId,
}

impl Subjects<'_> {
    /// Destroys the named categories and fields of a live subject, with a reason. Allowed
    /// to whom the authorization table allows it: admins, the officer, and service keys whose
    /// purposes cover destruction of every category concerned (`forbidden` otherwise).
    /// Refused (`conflict`) for a category an established legal obligation still requires.
    /// Required fields are destroyed too: the duty to destroy outranks the form. Retries on
    /// concurrent updates.
    pub async fn destroy(
        &self,
        caller: &Caller,
        id: SubjectId,
        request: &DestructionRequest,
    ) -> VaultResult<Destroyed> {
        let v = self.0;
        let op = v.op(caller, Operation::SubjectDestroy)?;
        let policy = op.policy();
        if request.categories.is_empty() && request.fields.is_empty() {
            return Err(VaultError::invalid(
                ProblemCode::EmptyChange,
                "name the categories (or fields) to destroy",
            ));
        }
        let mut categories = BTreeSet::new();
        let mut targets = BTreeSet::new();
        for c in &request.categories {
            if !policy.categories.contains_key(c) {
                return Err(VaultError::invalid(
                    ProblemCode::UnknownCategory,
                    format!("category `{c}` is not declared in the policy"),
                ));
            }
            categories.insert(c.as_str());
            targets.extend(
                policy
                    .fields
                    .iter()
                    .filter(|(_, f)| f.category == *c)
                    .map(|(n, _)| n.as_str()),
            );
        }
        for f in &request.fields {
            let def = policy.field(f).ok_or_else(|| AccessRefusal::UnknownField(f.clone()))?;
            categories.insert(def.category.as_str());
            targets.insert(f.as_str());
        }
        // Before the subject is looked up: a key that may not destroy learns nothing of it.
        covered(&op, &categories)?;
        for _attempt in 0..5 {
            let loaded = v.load_active(&op, id).await?;
            check_may_destroy(&op, &loaded, &categories)?;
            let names: Vec<&str> = categories.iter().copied().collect();
            let d = field_destruction(
                &op,
                &loaded.record,
                &targets,
                ActInput::new(
                    id,
                    None,
                    names.iter().map(|c| (*c).to_owned()).collect(),
                    request.reason,
                ),
            )?;
            let (change, entry, act_id, destroyed) = (d.change, d.entry, d.act, d.destroyed);
            match v.commit(change, vec![entry]).await? {
                OpOutcome::Done => {
                    return Ok(Destroyed {
                        fields: destroyed,
                        categories: names.into_iter().map(str::to_owned).collect(),
                        act: act_id,
                    })
                }
                OpOutcome::Conflict => continue,
                other => return Err(subject_outcome(other, "destroying categories of a subject")),
            }
        }
        Err(VaultError::Conflict(
            "the subject kept changing while its data was being destroyed; try again".into(),
        ))
    }
}

/// A destruction of fields of a loaded subject with its act: the change and the journal
/// entry to commit together.
pub(crate) struct FieldDestruction {
    pub change: Change,
    pub entry: JournalDraft,
    pub act: ActId,
    /// The fields the subject had that the change destroys, sorted.
    pub destroyed: Vec<String>,
}

/// Destroys `targets` (field names) of the subject `record` (whose sealed fields are only
/// decoded, never opened), with the act `act` describes (its `fields` are the ones
/// destroyed; its method is field deletion).
pub(crate) fn field_destruction(
    op: &Op<'_>,
    record: &SubjectRecord,
    targets: &BTreeSet<&str>,
    act: ActInput,
) -> VaultResult<FieldDestruction> {
    let policy = op.policy();
    let id = record.id;
    let mut sealed_fields = Vault::sealed_fields(record)?;
    let mut destroyed = Vec::new();
    let mut reindex = Vec::new();
    for name in targets {
        if sealed_fields.remove(*name).is_some() {
            destroyed.push((*name).to_owned());
            if policy.field(name).is_some_and(|f| f.lookup) {
                reindex.push(((*name).to_owned(), None));
            }
        }
    }
    let update = SubjectChange::Update {
        id,
        expected_revision: record.revision,
        fields: sealed::encode(&sealed_fields),
        reindex,
        bases: Vec::new(),
        at: op.now,
    };
    let categories = act.categories.join(",");
    let reason = act.reason;
    let act = acts::make(
        op,
        ActInput {
            subject: id,
            fields: destroyed.clone(),
            method: DestructionMethod::FieldDeletion,
            ..act
        },
    );
    let entry = JournalDraft::new(op.now, op.actor(), ProcessingAction::Destruction)
        .subject(id)
        .fields(destroyed.iter().cloned())
        .detail(format!(
            "categories:{categories} reason:{reason} {}",
            acts::journal_note(&act)
        ));
    let act_id = act.id;
    Ok(FieldDestruction {
        change: Change::Act(ActChange::Destroy {
            act: Box::new(act),
            destruction: update,
            block: None,
            lift: None,
        }),
        entry,
        act: act_id,
        destroyed,
    })
}

/// Refuses a caller whose purposes do not cover destruction of every one of `categories`.
pub(super) fn covered(op: &Op<'_>, categories: &BTreeSet<&str>) -> VaultResult<()> {
    match uncovered_category(op.policy(), op.caller, categories.iter().copied()) {
        None => Ok(()),
        Some(c) => Err(VaultError::Forbidden(format!(
            "no purpose of this key covers destruction of category `{c}`"
        ))),
    }
}

/// The checks of every destruction of a loaded subject's `categories`: the caller's purposes
/// cover them, and no established legal obligation still requires one of them.
pub(super) fn check_may_destroy(op: &Op<'_>, loaded: &Loaded, categories: &BTreeSet<&str>) -> VaultResult<()> {
    covered(op, categories)?;
    let hold = obligation_hold(op.policy(), established_purposes(op, loaded));
    let held: Vec<&str> = categories
        .iter()
        .copied()
        .filter(|c| hold.categories.contains(*c))
        .collect();
    if held.is_empty() {
        return Ok(());
    }
    let purposes: Vec<&str> = hold.purposes.iter().map(String::as_str).collect();
    Err(VaultError::Conflict(format!(
        "an established legal obligation ({}) still requires the categories {}; destroy the others until it ends",
        purposes.join(", "),
        held.join(", ")
    )))
}

/// The purposes on other legal bases established for the subject now (a concluded contract,
/// a payment that starts an accounting obligation…; `ward_core::standing::bases`, expired
/// obligations excluded): those resting on a legal obligation hold their categories back.
fn established_purposes<'l>(_op: &Op<'_>, loaded: &'l Loaded) -> Vec<&'l str> {
    loaded.established.iter().map(String::as_str).collect()
}

/// The reason of an erasure or a destruction, from what the client sent: required
/// (`reason_required`), and one of [`DestructionReason`]'s names (`unknown_reason`).
pub fn destruction_reason(raw: Option<&str>) -> VaultResult<DestructionReason> {
    crate::error::named_reason(raw, "destroying the data")
}
