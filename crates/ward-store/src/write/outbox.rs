//! The outbox: messages to subjects, queued together with the change that causes them, and
//! their delivery states. Erasing a subject deletes its messages (see
//! [`SubjectChange::Erase`](crate::SubjectChange::Erase)).

use super::subjects::refuse_unless_active;
use super::{Planner, Snapshot, Touched};
use crate::{Change, NewMessage, OpOutcome};
use std::collections::{BTreeSet, HashMap};
use time::OffsetDateTime;
use ward_core::outbox::MessageState;
use ward_core::MessageId;

/// A change to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxChange {
    /// Queues `messages` together with `cause`, all or nothing: precondition: every message's
    /// subject is active, and `cause` (any change; `JournalOnly` for a message that is its own
    /// cause) is `Done`. The outcome is the first refusal, else the cause's.
    Queue {
        cause: Box<Change>,
        messages: Vec<NewMessage>,
    },
    /// Precondition: the message exists (`NotFound`) and is neither sent nor dead
    /// (`AlreadyExists`). Marks it sent at `at`.
    Sent { id: MessageId, at: OffsetDateTime },
    /// Precondition: exists and is `sending` (else `NotFound` / `Conflict`). A delivery
    /// attempt failed: queued again for `retry_at`, or dead when `None`. Clears the claim.
    Failed {
        id: MessageId,
        retry_at: Option<OffsetDateTime>,
    },
    /// Precondition: exists and is dead (else `NotFound` / `Conflict`). Queues it again, due
    /// at `at`, with its attempts counted from zero.
    Requeue { id: MessageId, at: OffsetDateTime },
}

impl OutboxChange {
    /// `cause` with `messages` queued in the same transaction.
    pub fn queue(cause: Change, messages: Vec<NewMessage>) -> Change {
        Change::Outbox(OutboxChange::Queue {
            cause: Box::new(cause),
            messages,
        })
    }
}

/// The messages a batch reads.
pub type Keys = BTreeSet<MessageId>;
/// The touched messages that exist, with their state.
pub type Snap = HashMap<MessageId, MessageState>;
/// Messages to insert, in order.
pub type Inserts<'a> = Vec<&'a NewMessage>;

pub type Step<'a> = OutboxStep;

/// A change to a message's delivery state.
#[derive(Debug)]
pub enum OutboxStep {
    Sent { id: MessageId, at: OffsetDateTime },
    /// Queued again for `retry_at`, or dead when `None`; the claim cleared.
    Failed { id: MessageId, retry_at: Option<OffsetDateTime> },
    /// Queued again, due at `at`, attempts from zero.
    Requeue { id: MessageId, at: OffsetDateTime },
}

pub(super) fn touch(change: &OutboxChange, t: &mut Touched) {
    match change {
        OutboxChange::Queue { cause, messages } => {
            super::touch_one(cause, t);
            t.subjects.extend(messages.iter().map(|m| m.subject));
        }
        OutboxChange::Sent { id, .. } | OutboxChange::Failed { id, .. } | OutboxChange::Requeue { id, .. } => {
            t.outbox.insert(*id);
        }
    }
}

pub(super) fn plan<'a>(change: &'a OutboxChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    match change {
        OutboxChange::Queue { cause, messages } => {
            if let Some(refused) = messages.iter().find_map(|m| refuse_unless_active(snap, &m.subject)) {
                return refused;
            }
            let outcome = super::plan_one(cause, snap, p);
            if outcome != OpOutcome::Done {
                return outcome;
            }
            // A cause that erased a message's subject: its messages go with the subject (the
            // erasure step ran before these inserts would; they are not written).
            if messages.iter().all(|m| refuse_unless_active(snap, &m.subject).is_none()) {
                for m in messages {
                    snap.outbox.insert(m.id, MessageState::Queued);
                    p.inserts.outbox.push(m);
                }
            }
            OpOutcome::Done
        }
        OutboxChange::Sent { id, at } => match snap.outbox.get_mut(id) {
            None => OpOutcome::NotFound,
            Some(MessageState::Sent | MessageState::Dead) => OpOutcome::AlreadyExists,
            Some(state) => {
                *state = MessageState::Sent;
                p.push(super::Step::Outbox(OutboxStep::Sent { id: *id, at: *at }));
                OpOutcome::Done
            }
        },
        OutboxChange::Failed { id, retry_at } => match snap.outbox.get_mut(id) {
            None => OpOutcome::NotFound,
            Some(state) if *state != MessageState::Sending => OpOutcome::Conflict,
            Some(state) => {
                *state = if retry_at.is_some() {
                    MessageState::Queued
                } else {
                    MessageState::Dead
                };
                p.push(super::Step::Outbox(OutboxStep::Failed {
                    id: *id,
                    retry_at: *retry_at,
                }));
                OpOutcome::Done
            }
        },
        OutboxChange::Requeue { id, at } => match snap.outbox.get_mut(id) {
            None => OpOutcome::NotFound,
            Some(state) if *state != MessageState::Dead => OpOutcome::Conflict,
            Some(state) => {
                *state = MessageState::Queued;
                p.push(super::Step::Outbox(OutboxStep::Requeue { id: *id, at: *at }));
                OpOutcome::Done
            }
        },
    }
}
