//! Erasure: crypto-shredding the whole subject, or, when an established legal obligation
//! still requires some categories, "retention wins over erasure": the rest is destroyed, the
//! held categories are blocked (`legal_hold`) until no obligation holds them, and the answer
//! and the act say per category what was withheld and why. The destruction job erases the
//! subject once the hold has ended (`due.rs`). Each path writes its act in its transaction.

use super::destroy::{covered, field_destruction};
use super::Subjects;
use crate::acts::{self, ActInput};
use crate::error::{VaultError, VaultResult};
use crate::kernel::subject_outcome;
use crate::Vault;
use std::collections::BTreeSet;
use time::OffsetDateTime;
use ward_core::access::Role;
use ward_core::authz::Operation;
use ward_core::blocking::BlockReason;
use ward_core::destruction::{DestructionMethod, DestructionReason};
use ward_core::standing::held_categories;
use ward_core::{ActId, BlockId, Caller, JournalDraft, ProcessingAction, SubjectId};
use ward_store::{ActChange, BlockRecord, Change, OpOutcome, SubjectChange};

/// The cause of an erasure's act: a subject is erased once.
pub(crate) const ERASURE_CAUSE: &str = "erasure";
/// The cause of the act of an erasure that withheld categories under a legal hold.
pub(crate) const WITHHELD_CAUSE: &str = "erasure:withheld";

/// A category an erasure kept, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withheld {
    pub category: String,
    /// The purposes on a legal obligation that require it.
    pub purposes: Vec<String>,
    /// When the last of their retention periods ends, if they have one.
    pub until: Option<OffsetDateTime>,
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// Its destruction act.
    pub act: ActId,
    /// Categories kept under a legal hold (empty: the subject is erased).
    pub withheld: Vec<Withheld>,
    /// The block on the withheld categories.
    pub block: Option<BlockId>,
}

impl Subjects<'_> {
    /// Erases a subject by crypto-shredding: its data key, ciphertexts, index entries and
    /// consent evidence are destroyed in one transaction with the journal entry, which names
    /// the `reason` (an enum: no client text reaches the journal), and the act.
    ///
    /// Allowed to whom the authorization table allows it: admins and the officer, and service
    /// keys whose purposes together cover destruction of every category the subject's record
    /// holds. While an established legal obligation still requires some categories, those are
    /// kept and blocked (`legal_hold`) and everything else is destroyed (field deletion); the
    /// answer names them with the obligations holding them.
    pub async fn erase(&self, caller: &Caller, id: SubjectId, reason: DestructionReason) -> VaultResult<Erasure> {
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
        covered(&op, &categories)?;
        let held = held_categories(policy, &loaded.bases);
        let withheld: Vec<Withheld> = categories
            .iter()
            .filter_map(|c| {
                held.get(*c).map(|by| Withheld {
                    category: (*c).to_owned(),
                    purposes: by.iter().map(|(p, _)| p.clone()).collect(),
                    until: by.iter().filter_map(|(_, u)| *u).max(),
                })
            })
            .collect();
        if !withheld.is_empty() {
            return self
                .erase_around(&op, &loaded.record, &categories, withheld, reason)
                .await;
        }
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
            block: None,
            lift: None,
        });
        match v.commit(change, vec![loaded.stamp(entry)]).await? {
            OpOutcome::Done => Ok(Erasure {
                act: act_id,
                withheld: Vec::new(),
                block: None,
            }),
            // The subject's erasure act exists: another call erased it meanwhile.
            OpOutcome::AlreadyExists => Err(ward_core::AccessRefusal::SubjectErased.into()),
            other => Err(subject_outcome(other, "erasing a subject")),
        }
    }

    /// Retention wins over erasure: destroys every category not `withheld`, and blocks the
    /// withheld ones, with one act, in one transaction.
    async fn erase_around(
        &self,
        op: &crate::context::Op<'_>,
        record: &ward_store::SubjectRecord,
        categories: &BTreeSet<&str>,
        withheld: Vec<Withheld>,
        reason: DestructionReason,
    ) -> VaultResult<Erasure> {
        let v = self.0;
        let policy = op.policy();
        let kept: BTreeSet<&str> = withheld.iter().map(|w| w.category.as_str()).collect();
        let destroyed: Vec<String> = categories
            .iter()
            .filter(|c| !kept.contains(*c))
            .map(|c| (*c).to_owned())
            .collect();
        let targets: BTreeSet<&str> = policy
            .fields
            .iter()
            .filter(|(_, f)| destroyed.contains(&f.category))
            .map(|(n, _)| n.as_str())
            .collect();
        let mut act = ActInput::new(record.id, Some(WITHHELD_CAUSE.to_owned()), destroyed, reason);
        act.withheld = withheld
            .iter()
            .flat_map(|w| w.purposes.iter().map(move |p| format!("{}:{p}", w.category)))
            .collect();
        let mut d = field_destruction(op, record, &targets, act)?;
        let block = BlockRecord {
            id: BlockId::random(),
            subject: record.id,
            categories: kept.iter().map(|c| (*c).to_owned()).collect(),
            reason: BlockReason::LegalHold.as_str().to_owned(),
            at: op.now,
            lifted_at: None,
            erase_after: true,
        };
        let block_id = block.id;
        let block_entry = JournalDraft::new(op.now, op.actor(), ward_core::journal::AdminEvent::SubjectBlocked)
            .subject(record.id)
            .detail(format!(
                "block:{block_id} categories:{} reason:{}",
                block.categories.join(","),
                BlockReason::LegalHold
            ));
        if let Change::Act(ActChange::Destroy { block: b, .. }) = &mut d.change {
            *b = Some(Box::new(block));
        }
        match v.commit(d.change, vec![d.entry, block_entry]).await? {
            OpOutcome::Done => Ok(Erasure {
                act: d.act,
                withheld,
                block: Some(block_id),
            }),
            OpOutcome::AlreadyExists => Err(VaultError::Conflict(
                "this subject's erasure already withheld categories under a legal hold; they are erased when the hold ends"
                    .into(),
            )),
            other => Err(subject_outcome(other, "erasing a subject")),
        }
    }
}
