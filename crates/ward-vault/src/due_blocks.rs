//! The destruction job's work on blocks (152-FZ Art. 21 p. 6): data blocked because it could
//! not be destroyed in time is destroyed once the block is six months old, with its act, in
//! one write with lifting the block. The act's cause is `block:<id>`, so two processes (or a
//! retry) write it once. Which blocks fall due is `ward_core::blocking::block_due`'s rule.

use crate::acts::{journal_note, make as make_act, ActInput};
use crate::context::Op;
use crate::due::{Due, DueReport};
use crate::error::VaultResult;
use crate::subjects::field_destruction;
use crate::Vault;
use std::collections::BTreeSet;
use ward_core::destruction::{DestructionMethod, DestructionReason};
use ward_core::journal::AdminEvent;
use ward_core::{JournalDraft, ProcessingAction};
use ward_store::{ActChange, BlockRecord, Change, OpOutcome, SubjectChange, SubjectRecord};

/// The reason on the acts of these destructions.
const REASON: DestructionReason = DestructionReason::DestructionDeadline;

impl Due<'_> {
    /// Destroys what the block `block` (in force, fallen due) covers and lifts it: the
    /// subject's blocked categories, or the whole subject (crypto-shredding) if it blocks
    /// every category.
    pub(crate) async fn block_ran_out(
        &self,
        op: &Op<'_>,
        record: &SubjectRecord,
        block: &BlockRecord,
        report: &mut DueReport,
    ) -> VaultResult<()> {
        let cause = format!("block:{}", block.id);
        let (mut change, entry) = if block.categories.is_empty() {
            erasure(op, record, cause, REASON)?
        } else {
            let policy = op.policy();
            let targets: BTreeSet<&str> = policy
                .fields
                .iter()
                .filter(|(_, f)| block.categories.contains(&f.category))
                .map(|(n, _)| n.as_str())
                .collect();
            let act = ActInput::new(record.id, Some(cause), block.categories.clone(), REASON);
            let d = field_destruction(op, record, &targets, act)?;
            (d.change, d.entry)
        };
        if let Change::Act(ActChange::Destroy { lift, .. }) = &mut change {
            *lift = Some(block.id);
        }
        let lifted = JournalDraft::new(op.now, op.actor(), AdminEvent::BlockLifted)
            .subject(record.id)
            .detail(format!("block:{} reason:{REASON}", block.id));
        match self.0.commit(change, vec![entry, lifted]).await? {
            OpOutcome::Done => report.blocks_destroyed += 1,
            OpOutcome::AlreadyExists => report.already_done += 1,
            // The subject changed, or the block was lifted, since they were loaded: the next
            // run looks again.
            _ => report.conflicts += 1,
        }
        Ok(())
    }
}

/// The subject's erasure (crypto-shredding) by the job, with its act, for `cause`.
pub(crate) fn erasure(
    op: &Op<'_>,
    record: &SubjectRecord,
    cause: String,
    reason: DestructionReason,
) -> VaultResult<(Change, JournalDraft)> {
    let policy = op.policy();
    let names: Vec<String> = Vault::sealed_fields(record)?.into_keys().collect();
    let categories: BTreeSet<String> = names
        .iter()
        .filter_map(|n| policy.field(n))
        .map(|f| f.category.clone())
        .collect();
    let act = make_act(
        op,
        ActInput {
            subject: record.id,
            cause: Some(cause),
            categories: categories.into_iter().collect(),
            fields: names.clone(),
            method: DestructionMethod::CryptoShredding,
            reason,
            withheld: Vec::new(),
        },
    );
    let entry = JournalDraft::new(op.now, op.actor(), ProcessingAction::Destruction)
        .subject(record.id)
        .fields(names)
        .detail(format!(
            "crypto-shredding: data key destroyed; reason:{reason} {}",
            journal_note(&act)
        ));
    let change = Change::Act(ActChange::Destroy {
        act: Box::new(act),
        destruction: SubjectChange::Erase {
            id: record.id,
            at: op.now,
        },
        block: None,
        lift: None,
    });
    Ok((change, entry))
}
