//! The destruction job's work: executes every destruction that has fallen due (a withdrawn or
//! expired consent's, an ended basis's, an obligation's whose retention ran out: 152-FZ
//! Art. 21 p. 4–5, 30 days), each with its act, and purges acts kept their three years (RKN
//! Order No. 179 p. 8). What is due is `ward_core::standing::due_now`'s rule; each destruction
//! is keyed by its cause, so two processes (or a retry) never write one twice: the store
//! refuses a second act for a subject and cause, and the destruction with it.

use crate::acts::{ActInput, ACT_RETENTION};
use crate::context::Op;
use crate::due_blocks::erasure;
use crate::error::VaultResult;
use crate::subjects::field_destruction;
use crate::subjects::ERASURE_CAUSE;
use crate::Vault;
use futures::StreamExt;
use std::collections::BTreeSet;
use ward_core::access::SubjectState;
use ward_core::authz::Operation;
use ward_core::blocking::{block_due, BlockDue};
use ward_core::destruction::DestructionReason;
use ward_core::journal::AdminEvent;
use ward_core::standing::due_now;
use ward_core::standing::held_categories;
use ward_core::{Caller, JournalDraft, SubjectId};
use ward_store::{ActChange, ActFilter, Change, OpOutcome};
use ward_store::{BlockRecord, SubjectRecord};

/// Subjects read per page.
const PAGE: u32 = 500;
/// Subjects of a page worked on at once: each destruction is its own commit, and commits that
/// wait together share the committer's group commit (one sync for many) instead of one sync
/// each, one after another.
const AT_ONCE: usize = 32;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueReport {
    /// Live subjects looked at.
    pub subjects: u64,
    /// Destructions executed (each with its act).
    pub destroyed: u64,
    /// Destructions another process (or an earlier run) had executed already.
    pub already_done: u64,
    /// Subjects that changed while being destroyed: left to the next run.
    pub conflicts: u64,
    /// Subjects erased now that the legal hold their erasure waited for has ended.
    pub erased: u64,
    /// Blocks placed because destruction was impossible, six months old: what they covered
    /// destroyed (each with its act) and the blocks lifted (152-FZ Art. 21 p. 6).
    pub blocks_destroyed: u64,
    /// Blocks for another reason in force for six months or more (Art. 21 p. 6), for the
    /// officer to decide on.
    pub stale_blocks: u64,
    /// Whether acts past their three years were purged.
    pub purged: bool,
}

impl DueReport {
    /// Adds another report's counts to this one's (`purged` is the run's own).
    fn add(&mut self, o: &DueReport) {
        self.destroyed += o.destroyed;
        self.already_done += o.already_done;
        self.conflicts += o.conflicts;
        self.erased += o.erased;
        self.blocks_destroyed += o.blocks_destroyed;
        self.stale_blocks += o.stale_blocks;
    }
}

impl std::fmt::Display for DueReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} subjects checked, {} destructions executed, {} erased after a legal hold, \
             {} destroyed when their block ran six months, {} done already, \
             {} left for the next run, {} other blocks older than six months{}",
            self.subjects,
            self.destroyed,
            self.erased,
            self.blocks_destroyed,
            self.already_done,
            self.conflicts,
            self.stale_blocks,
            if self.purged { ", expired acts purged" } else { "" }
        )
    }
}

/// The destruction job's work.
pub struct Due<'v>(pub(crate) &'v Vault);

impl Due<'_> {
    /// Executes what has fallen due by the clock, and purges expired acts. `caller` is Ward
    /// itself (`Caller` with `Actor::System`): the acts name the destruction job.
    pub async fn run(&self, caller: &Caller) -> VaultResult<DueReport> {
        let v = self.0;
        let op = v.op(caller, Operation::DestructionRunDue)?;
        let mut report = DueReport::default();
        let mut after: Option<SubjectId> = None;
        loop {
            let page = v.store().find_wrapped_keys(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.subject);
            let op = &op;
            let ids: Vec<SubjectId> = page.iter().map(|k| k.subject).collect();
            let mut each = futures::stream::iter(ids)
                .map(|id| async move {
                    let mut one = DueReport::default();
                    self.subject(op, id, &mut one).await.map(|()| one)
                })
                .buffer_unordered(AT_ONCE);
            while let Some(one) = each.next().await {
                report.subjects += 1;
                report.add(&one?);
            }
        }
        report.purged = self.purge(&op).await?;
        Ok(report)
    }

    /// Executes what is due for one subject.
    async fn subject(&self, op: &Op<'_>, id: SubjectId, report: &mut DueReport) -> VaultResult<()> {
        let v = self.0;
        // The record and events only: nothing sealed is opened, so nothing is journaled
        // unless something is destroyed.
        let (record, events) = v.store().find_subject_with_consents(id).await?;
        let Some(record) = record.filter(|r| r.state == SubjectState::Active) else {
            // Erased or gone since the page was read: nothing to do.
            return Ok(());
        };
        let consents = v.consent_standing(op, &events);
        let bases = Vault::basis_standing(op, &v.store().find_basis_events(id).await?);
        let policy = op.policy();
        let blocks = v.store().find_blocks(id).await?;
        let in_force: Vec<&BlockRecord> = blocks.iter().filter(|b| b.lifted_at.is_none()).collect();
        let mut ran_out = None;
        for b in &in_force {
            match block_due(&b.reason, b.at, op.now) {
                BlockDue::Destroy => ran_out = ran_out.or(Some(*b)),
                BlockDue::Review => report.stale_blocks += 1,
                BlockDue::NotYet => {}
            }
        }
        if let Some(block) = ran_out {
            // The record changes: what else is due waits for the next run.
            return self.block_ran_out(op, &record, block, report).await;
        }
        let waiting: Vec<&&BlockRecord> = in_force.iter().filter(|b| b.erase_after).collect();
        if !waiting.is_empty() {
            let held = held_categories(policy, &bases);
            if waiting
                .iter()
                .all(|b| b.categories.iter().all(|c| !held.contains_key(c)))
            {
                return self.erase_after_hold(op, &record, report).await;
            }
        }
        // What is due is what the subject still holds: a category destroyed already (by
        // an earlier run, an officer's destruction) is not due again, and writes no act.
        let held = Vault::held_data(op, record.fields.as_deref())?;
        for due in due_now(policy, &consents, &bases, &held, op.now) {
            let categories: Vec<&str> = due.categories.iter().map(String::as_str).collect();
            let targets: BTreeSet<&str> = policy
                .fields
                .iter()
                .filter(|(_, f)| categories.contains(&f.category.as_str()))
                .map(|(n, _)| n.as_str())
                .collect();
            let act = ActInput::new(
                id,
                Some(due.cause),
                categories.iter().map(|c| (*c).to_owned()).collect(),
                due.reason,
            );
            let d = field_destruction(op, &record, &targets, act)?;
            match v.commit(d.change, vec![d.entry]).await? {
                // Nothing was written: the record is as loaded, try the next item.
                OpOutcome::AlreadyExists => {
                    report.already_done += 1;
                    continue;
                }
                OpOutcome::Done => report.destroyed += 1,
                // The subject changed (or was erased) since it was loaded: the next run
                // looks again.
                _ => report.conflicts += 1,
            }
            // The record changed: what else is due waits for the next run, which loads it
            // as it is now.
            break;
        }
        Ok(())
    }

    /// The hold an erasure waited for has ended: the subject is erased (crypto-shredding),
    /// with its act.
    async fn erase_after_hold(&self, op: &Op<'_>, record: &SubjectRecord, report: &mut DueReport) -> VaultResult<()> {
        let (change, entry) = erasure(
            op,
            record,
            ERASURE_CAUSE.to_owned(),
            DestructionReason::RetentionExpired,
        )?;
        match self.0.commit(change, vec![entry]).await? {
            OpOutcome::Done => report.erased += 1,
            OpOutcome::AlreadyExists => report.already_done += 1,
            _ => report.conflicts += 1,
        }
        Ok(())
    }

    /// Deletes acts kept past [`ACT_RETENTION`], journaled, if there are any.
    async fn purge(&self, op: &Op<'_>) -> VaultResult<bool> {
        let v = self.0;
        let before = op.now - ACT_RETENTION;
        let old = ActFilter {
            to: Some(before),
            limit: 1,
            ..ActFilter::default()
        };
        if v.store().find_acts(&old).await?.is_empty() {
            return Ok(false);
        }
        let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::ActsPurged).detail("retention:3y".to_owned());
        v.commit(Change::Act(ActChange::Purge { before }), vec![entry]).await?;
        Ok(true)
    }
}
