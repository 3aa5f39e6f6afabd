//! Delivery's side of the outbox, for the delivery job: claim due messages and open them
//! through the gate (journaled, reason `delivery`), then record each one sent or failed.
//!
//! At least once: a message is marked sent only after the mail server accepted it; a process
//! killed in between leaves it `sending` under a claim that expires, and it is sent again. So
//! the duplicates are bounded by the messages in flight when the process died.

use super::{Envelope, Outbox};
use crate::error::VaultResult;
use crate::gate::Reason;
use time::Duration;
use ward_core::authz::Operation;
use ward_core::journal::AdminEvent;
use ward_core::outbox::RetryRule;
use ward_core::{Caller, JournalDraft, MessageId, SubjectId};
use ward_store::{Change, OpOutcome, OutboxChange};

/// A claimed message, opened for sending.
#[derive(Debug)]
pub struct Claimed {
    pub id: MessageId,
    pub subject: SubjectId,
    /// This attempt's number, from 1.
    pub attempt: u32,
    pub envelope: Envelope,
}

/// Why an attempt failed, as far as retrying cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFailure {
    /// Worth trying again later (connection refused, a 4xx reply, a timeout).
    Transient,
    /// The server refused the message for good (a 5xx reply): dead at once.
    Permanent,
}

impl Outbox<'_> {
    /// Claims up to `limit` due messages for `worker` for `claim_for`, and opens each one
    /// through the gate; the openings are journaled (one retrieval entry per message,
    /// `opened:delivery message:<id>`) before they are returned. A message whose subject is
    /// gone meanwhile is skipped (its erasure deleted it).
    pub async fn claim(&self, worker: &str, claim_for: Duration, limit: u32) -> VaultResult<Vec<Claimed>> {
        let v = self.0;
        let system = Caller::system();
        let op = v.op(&system, Operation::OutboxDeliver)?;
        let records = v
            .store()
            .claim_due_messages(worker, op.now, op.now + claim_for, limit)
            .await?;
        let mut claimed = Vec::with_capacity(records.len());
        let mut entries = Vec::with_capacity(records.len());
        for m in records {
            let subject = match v.store().find_subject(m.subject).await? {
                Some(s) if s.key.is_some() => s,
                _ => continue,
            };
            let mut gate = v.gate(&op, &subject, Reason::Delivery, None)?;
            let envelope = match gate.message(m.id, &m.payload) {
                Ok(e) => e,
                Err(e) => {
                    // Unreadable (tampered, or a lost key): dead at once, not claimed forever.
                    tracing::error!(message = %m.id, error = %e, "a queued message cannot be opened: dead");
                    let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::MessageDead)
                        .subject(m.subject)
                        .detail(format!("message:{} attempt:{} unreadable", m.id, m.attempts));
                    let dead = Change::Outbox(OutboxChange::Failed {
                        id: m.id,
                        retry_at: None,
                    });
                    v.commit(dead, vec![entry]).await?;
                    continue;
                }
            };
            entries.push(gate.entry());
            claimed.push(Claimed {
                id: m.id,
                subject: m.subject,
                attempt: m.attempts,
                envelope,
            });
        }
        if !entries.is_empty() {
            v.commit(Change::JournalOnly, entries).await?;
        }
        Ok(claimed)
    }

    /// Records that the mail server accepted `message`. `false` when it was no longer there
    /// to mark (erased meanwhile) or already marked (a duplicate after an expired claim).
    pub async fn sent(&self, message: &Claimed) -> VaultResult<bool> {
        let v = self.0;
        let now = v.now();
        let entry = entry(now, AdminEvent::MessageSent, message);
        let change = Change::Outbox(OutboxChange::Sent {
            id: message.id,
            at: now,
        });
        Ok(v.commit(change, vec![entry]).await? == OpOutcome::Done)
    }

    /// Records a failed attempt: queued again after the rule's backoff, or dead after its last
    /// allowed attempt or a permanent refusal. Returns whether it is dead.
    pub async fn failed(&self, message: &Claimed, failure: DeliveryFailure, rule: &RetryRule) -> VaultResult<bool> {
        let v = self.0;
        let now = v.now();
        let retry_at = match failure {
            DeliveryFailure::Transient => rule.next_attempt(message.attempt, now),
            DeliveryFailure::Permanent => None,
        };
        let event = if retry_at.is_some() {
            AdminEvent::MessageFailed
        } else {
            AdminEvent::MessageDead
        };
        let change = Change::Outbox(OutboxChange::Failed {
            id: message.id,
            retry_at,
        });
        v.commit(change, vec![entry(now, event, message)]).await?;
        Ok(retry_at.is_none())
    }
}

fn entry(at: time::OffsetDateTime, event: AdminEvent, m: &Claimed) -> JournalDraft {
    JournalDraft::new(at, &ward_core::Actor::System, event)
        .subject(m.subject)
        .detail(format!("message:{} attempt:{}", m.id, m.attempt))
}
