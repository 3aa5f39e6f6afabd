//! The outbox: messages to subjects, written in the same transaction as the change that causes
//! them and delivered later by the delivery job (`delivery.rs`).
//!
//! A producer hands its own change and journal entries to [`Outbox::queue`], which renders a
//! template in the subject's language, seals the result (recipient, subject line, body) with
//! the subject's data key ([`Outbox::message`]) and wraps the change with
//! [`OutboxChange::queue`](ward_store::OutboxChange::queue): the cause and the message commit
//! together or not at all, and erasing the subject deletes what is still
//! queued (it was sealed under the destroyed key anyway). The journal records `message.queued`
//! with the message id, the template and the language: never the address or the text.
//!
//! The first producer is [`Outbox::send_notice`]: the officer sends a subject a templated
//! notice (`POST /v1/subjects/{id}/notices`).

mod delivery;
pub mod templates;

pub use delivery::{Claimed, DeliveryFailure};

use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::gate::{Gate, Reason};
use crate::sealed::{self, SealedFields};
use crate::Vault;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use ward_core::authz::Operation;
use ward_core::journal::AdminEvent;
use ward_core::outbox::MessageState;
use ward_core::{Caller, FieldType, JournalDraft, MessageId, ProblemCode, SubjectId};
use ward_store::{Change, MessageRecord, NewMessage, OpOutcome, OutboxChange, SubjectRecord};

/// What a message says and to whom: sealed in the outbox, opened only by the delivery job.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Envelope(..)")
    }
}

/// A message as the officer sees it: ids, template, language, state; never its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    pub id: MessageId,
    pub subject: SubjectId,
    pub template: String,
    pub language: String,
    pub state: MessageState,
    pub attempts: u32,
    pub next_attempt_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}

impl From<MessageRecord> for MessageView {
    fn from(m: MessageRecord) -> Self {
        Self {
            id: m.id,
            subject: m.subject,
            template: m.template,
            language: m.language,
            state: m.state,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

/// A cause with its message queued: the op to commit ([`Outbox::queue`]).
pub(crate) struct Queued {
    pub change: Change,
    pub journal: Vec<JournalDraft>,
    /// What was queued (also inside `change`).
    pub messages: Vec<NewMessage>,
}

/// The outbox service, reached by [`Vault::outbox`].
#[derive(Clone, Copy)]
pub struct Outbox<'v>(pub(crate) &'v Vault);

/// The name of the field a subject's preferred language is kept in, when the policy has it.
pub const LANGUAGE_FIELD: &str = "language";

/// A subject's address and language, opened through a gate.
pub(crate) struct Recipient {
    pub to: String,
    pub language: &'static str,
}

impl Outbox<'_> {
    /// A message to `record`'s subject: template `template` rendered in `recipient`'s language
    /// with `vars`, sealed with the subject's data key. Queue it with the write that causes it
    /// ([`OutboxChange::queue`]).
    pub(crate) fn message(
        &self,
        record: &SubjectRecord,
        recipient: &Recipient,
        template: &str,
        vars: &BTreeMap<String, String>,
        at: OffsetDateTime,
    ) -> VaultResult<NewMessage> {
        let rendered = templates::render(template, recipient.language, vars)?;
        let envelope = Envelope {
            to: recipient.to.clone(),
            subject: rendered.subject,
            body: rendered.body,
        };
        let id = MessageId::random();
        let json = serde_json::to_vec(&envelope).map_err(|e| VaultError::Internal(e.to_string()))?;
        let key = self.0.data_key(record)?;
        Ok(NewMessage {
            id,
            subject: record.id,
            template: template.to_owned(),
            language: recipient.language.to_owned(),
            payload: key.seal(&sealed::message_aad(record.id, id), &json),
            created_at: at,
        })
    }

    /// The subject's e-mail address on record (the first field of type e-mail the policy
    /// defines that the subject has) and language (its `language` field, else the policy's),
    /// opened through `gate`. `no_contact_on_record` without an address.
    pub(crate) fn recipient(&self, op: &Op<'_>, record: &SubjectRecord, gate: &mut Gate) -> VaultResult<Recipient> {
        let fields: SealedFields = match &record.fields {
            Some(bytes) => sealed::decode(bytes)?,
            None => SealedFields::new(),
        };
        let policy = op.policy();
        let mut to = None;
        for (name, def) in &policy.fields {
            if def.field_type == FieldType::Email && fields.contains_key(name) {
                to = gate.field(&fields, name)?;
                break;
            }
        }
        let to = to.ok_or_else(|| {
            VaultError::invalid(
                ProblemCode::NoContactOnRecord,
                "the subject has no e-mail address on record: no field of type `email` is stored for them",
            )
        })?;
        let own = if policy.fields.contains_key(LANGUAGE_FIELD) {
            gate.field(&fields, LANGUAGE_FIELD)?
        } else {
            None
        };
        let language = templates::language(own.as_deref().into_iter().chain([policy.language.as_str()]));
        Ok(Recipient { to, language })
    }

    /// The one call a producer makes: `cause` (any change, with its `journal` entries) with a
    /// message to `record`'s subject queued in the same transaction, rendered from `template`
    /// with `vars` in the subject's language and addressed to the contact on record (opened
    /// through the gate, reason `notice`, named in the `message.queued` entry). Commit the
    /// result as one op; a refused cause queues nothing. `no_contact_on_record` without an
    /// address, `unknown_template` for a name no template has.
    pub(crate) fn queue(
        &self,
        op: &Op<'_>,
        record: &SubjectRecord,
        template: &str,
        vars: &BTreeMap<String, String>,
        cause: Change,
        mut journal: Vec<JournalDraft>,
    ) -> VaultResult<Queued> {
        templates::check(template)?;
        let mut gate = self.0.gate(op, record, Reason::Notice, None)?;
        let recipient = self.recipient(op, record, &mut gate)?;
        let message = self.message(record, &recipient, template, vars, op.now)?;
        journal.push(gate.stamp(queued_entry(op, &message)));
        let messages = vec![message];
        Ok(Queued {
            change: OutboxChange::queue(cause, messages.clone()),
            journal,
            messages,
        })
    }

    /// Sends the subject a templated notice to the contact on record: the officer's (or an
    /// admin's) call. Only the template's name comes from the caller; its variables come from
    /// the policy in force (`policy_changed`: the version, the day it took effect, the
    /// operator and its contact). Journaled as `message.queued` (ids, template, language, and
    /// the names of the fields opened to address it).
    pub async fn send_notice(&self, caller: &Caller, id: SubjectId, template: &str) -> VaultResult<MessageView> {
        let v = self.0;
        let op = v.op(caller, Operation::NoticeSend)?;
        templates::check_notice(template)?;
        let record = v.active_subject(id).await?;
        let vars = policy_vars(&op);
        let queued = self.queue(&op, &record, template, &vars, Change::JournalOnly, Vec::new())?;
        let message = queued.messages[0].clone();
        let view = MessageView {
            id: message.id,
            subject: id,
            template: message.template,
            language: message.language,
            state: MessageState::Queued,
            attempts: 0,
            next_attempt_at: op.now,
            created_at: op.now,
            sent_at: None,
        };
        v.commit_to_subject(queued.change, queued.journal, "queueing a notice")
            .await?;
        Ok(view)
    }

    /// The outbox's messages in `state` (all when `None`), oldest first, at most `limit`.
    pub async fn list(
        &self,
        caller: &Caller,
        state: Option<MessageState>,
        limit: u32,
    ) -> VaultResult<Vec<MessageView>> {
        self.0.op(caller, Operation::OutboxList)?;
        let found = self.0.store().find_messages(state, limit).await?;
        Ok(found.into_iter().map(MessageView::from).collect())
    }

    /// Puts a dead-lettered message back in the queue, due now, its attempts counted afresh.
    pub async fn retry(&self, caller: &Caller, id: MessageId) -> VaultResult<()> {
        let v = self.0;
        let op = v.op(caller, Operation::OutboxRetry)?;
        let found = v.store().find_message(id).await?.ok_or_else(not_found)?;
        let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::MessageRequeued)
            .subject(found.subject)
            .detail(format!("message:{id}"));
        match v
            .commit(Change::Outbox(OutboxChange::Requeue { id, at: op.now }), vec![entry])
            .await?
        {
            OpOutcome::Done => Ok(()),
            OpOutcome::NotFound => Err(not_found()),
            _ => Err(VaultError::invalid(
                ProblemCode::MessageNotDead,
                format!(
                    "message {id} is {}: only a dead-lettered message can be retried",
                    found.state
                ),
            )),
        }
    }
}

fn not_found() -> VaultError {
    VaultError::NotFound(
        ProblemCode::MessageNotFound,
        "no message in the outbox has this id".into(),
    )
}

/// The journal entry of a queued message: ids, template and language only.
pub(crate) fn queued_entry(op: &Op<'_>, m: &NewMessage) -> JournalDraft {
    JournalDraft::new(op.now, op.actor(), AdminEvent::MessageQueued)
        .subject(m.subject)
        .detail(format!(
            "message:{} template:{} language:{}",
            m.id, m.template, m.language
        ))
}

/// The variables of the notices about the policy in force.
fn policy_vars(op: &Op<'_>) -> BTreeMap<String, String> {
    let policy = op.policy();
    let date = op.version.effective_at.date();
    let contact = policy
        .operator
        .dpo_email
        .clone()
        .or_else(|| policy.operator.contact_email.clone())
        .unwrap_or_default();
    [
        ("version", policy.version.clone()),
        (
            "effective_date",
            format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day()),
        ),
        ("operator", policy.operator.name.clone()),
        ("contact", contact),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}
