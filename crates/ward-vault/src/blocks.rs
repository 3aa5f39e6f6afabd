//! Blocking a subject's data (152-FZ Art. 3 item 10, Art. 21): the officer blocks a whole
//! subject or categories for a reason from a fixed list, lists the blocks and lifts them, each
//! journaled. While a category is blocked, reads of it are refused (`subject_blocked`) except
//! the officer's and admin's reads for verification (`Subjects::read_for_verification`);
//! rectification, destruction and erasure go on.

use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::Vault;
use std::collections::BTreeSet;
use ward_core::authz::Operation;
use ward_core::blocking::{BlockReason, Blocked};
use ward_core::journal::AdminEvent;
use ward_core::{BlockId, Caller, JournalDraft, ProblemCode, SubjectId};
use ward_store::{BlockChange, BlockRecord, Change, OpOutcome};

/// The blocking service, reached by [`Vault::blocks`].
pub struct Blocks<'v>(pub(crate) &'v Vault);

/// The reason of a block, from what the client sent: required, and one of [`BlockReason`]'s
/// names.
pub fn block_reason(raw: Option<&str>) -> VaultResult<BlockReason> {
    crate::error::named_reason(raw, "blocking")
}

impl Blocks<'_> {
    /// Blocks the subject's `categories` (none: the whole subject) for `reason`.
    pub async fn place(
        &self,
        caller: &Caller,
        id: SubjectId,
        categories: &[String],
        reason: BlockReason,
    ) -> VaultResult<BlockRecord> {
        let v = self.0;
        let op = v.op(caller, Operation::BlockPlace)?;
        let mut names = BTreeSet::new();
        for c in categories {
            if !op.policy().categories.contains_key(c) {
                return Err(VaultError::invalid(
                    ProblemCode::UnknownCategory,
                    format!("category `{c}` is not declared in the policy"),
                ));
            }
            names.insert(c.clone());
        }
        let block = BlockRecord {
            id: BlockId::random(),
            subject: id,
            categories: names.into_iter().collect(),
            reason: reason.as_str().to_owned(),
            at: op.now,
            lifted_at: None,
            erase_after: false,
        };
        let shown = if block.categories.is_empty() {
            "*".to_owned()
        } else {
            block.categories.join(",")
        };
        let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::SubjectBlocked)
            .subject(id)
            .detail(format!("block:{} categories:{shown} reason:{reason}", block.id));
        v.commit_to_subject(
            Change::Block(BlockChange::Place(block.clone())),
            vec![entry],
            "blocking",
        )
        .await?;
        Ok(block)
    }

    /// Lifts a block in force (`block_not_found` otherwise).
    pub async fn lift(&self, caller: &Caller, id: SubjectId, block: BlockId) -> VaultResult<()> {
        let v = self.0;
        let op = v.op(caller, Operation::BlockLift)?;
        v.active_subject(id).await?;
        let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::BlockLifted)
            .subject(id)
            .detail(format!("block:{block}"));
        let change = Change::Block(BlockChange::Lift {
            subject: id,
            id: block,
            at: op.now,
        });
        match v.commit(change, vec![entry]).await? {
            OpOutcome::Done => Ok(()),
            _ => Err(VaultError::NotFound(
                ProblemCode::BlockNotFound,
                "the subject has no such block in force".into(),
            )),
        }
    }

    /// The subject's blocks, lifted ones too, oldest first.
    pub async fn list(&self, caller: &Caller, id: SubjectId) -> VaultResult<Vec<BlockRecord>> {
        let v = self.0;
        v.op(caller, Operation::BlockList)?;
        v.active_subject(id).await?;
        Ok(v.store().find_blocks(id).await?)
    }
}

impl Vault {
    /// What the subject's blocks in force cover.
    pub(crate) async fn blocked(&self, _op: &Op<'_>, id: SubjectId) -> VaultResult<Blocked> {
        let blocks = self.store().find_blocks(id).await?;
        Ok(Blocked::of(
            blocks
                .iter()
                .filter(|b| b.lifted_at.is_none())
                .map(|b| b.categories.as_slice()),
        ))
    }
}
