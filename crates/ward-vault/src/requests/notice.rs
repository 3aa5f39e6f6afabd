//! The message each step of a request sends the subject, queued in the step's transaction
//! (`Outbox::queue`), from templates in Russian and English.
//!
//! Without an e-mail address on record the step still happens (the law's clock does not wait
//! for an address): it commits without a message, its journal entry says `notice:no_contact`,
//! and the answer says so, so the officer replies through the channel the request came by
//! (152-FZ Art. 14 p. 3: the answer goes in the form of the request). Once the subject is
//! erased nothing can be sent: an erasure's completion is journaled with
//! `notice:subject_erased`.

use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::Vault;
use std::collections::BTreeMap;
use ward_core::{JournalDraft, MessageId, ProblemCode};
use ward_store::{Change, OpOutcome, RequestRecord, SubjectRecord};

pub(crate) const RECEIVED: &str = "request_received";
pub(crate) const VERIFYING: &str = "request_verifying";
pub(crate) const VERIFIED: &str = "request_verified";
pub(crate) const PAUSED: &str = "request_paused";
pub(crate) const RESUMED: &str = "request_resumed";
pub(crate) const EXTENDED: &str = "request_extended";
pub(crate) const COMPLETED: &str = "request_completed";
pub(crate) const REFUSED: &str = "request_refused";

/// What became of a step's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Queued in the outbox with the step.
    Queued(MessageId),
    /// The subject has no e-mail address on record: nothing was queued.
    NoContact,
    /// The subject is erased: nothing can be sent.
    SubjectErased,
}

impl Notice {
    pub fn as_str(self) -> &'static str {
        match self {
            Notice::Queued(_) => "queued",
            Notice::NoContact => "no_contact",
            Notice::SubjectErased => "subject_erased",
        }
    }
}

/// The variables every request template gets; `extra` adds or overrides.
fn vars(v: &Vault, op: &Op<'_>, req: &RequestRecord, extra: &[(&str, String)]) -> BTreeMap<String, String> {
    let policy = op.policy();
    let contact = policy
        .operator
        .dpo_email
        .clone()
        .or_else(|| policy.operator.contact_email.clone())
        .unwrap_or_default();
    // The day of receipt as the operator counts it (its time zone).
    let received = v
        .deadlines()
        .zone()
        .local_date(req.received_at)
        .unwrap_or(req.received_at.date());
    let mut vars: BTreeMap<String, String> = [
        ("request", req.id.to_string()),
        ("kind", req.kind.as_str().to_owned()),
        ("received_date", received.to_string()),
        ("due_date", req.extended_due_on.unwrap_or(req.due_on).to_string()),
        ("operator", policy.operator.name.clone()),
        ("contact", contact),
        ("note", String::new()),
        ("reason", String::new()),
        ("basis", String::new()),
        ("citation", String::new()),
        ("outcome", String::new()),
        ("answer", String::new()),
        ("download", String::new()),
        ("link", String::new()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, x) in extra {
        vars.insert((*k).to_owned(), x.clone());
    }
    vars
}

/// Commits `change` (a step of `req`) with `entry`, and the message `template` to the
/// subject queued in the same transaction when they have an address. `subject` is the
/// subject's record if active. `Conflict` (another step was first) is
/// `request_transition_invalid`; a subject gone meanwhile is refused as subject writes are.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn commit(
    v: &Vault,
    op: &Op<'_>,
    subject: Option<&SubjectRecord>,
    req: &RequestRecord,
    extra: Option<&[(&str, String)]>,
    change: Change,
    entry: JournalDraft,
    template: &str,
) -> VaultResult<Notice> {
    let vars = vars(v, op, req, extra.unwrap_or_default());
    let (change, journal, notice) = match subject {
        None => (change, vec![note(entry, Notice::SubjectErased)], Notice::SubjectErased),
        Some(record) => match v
            .outbox()
            .queue(op, record, template, &vars, change.clone(), vec![entry.clone()])
        {
            Ok(q) => {
                let id = q.messages[0].id;
                (q.change, q.journal, Notice::Queued(id))
            }
            Err(e) if e.code() == ProblemCode::NoContactOnRecord => {
                (change, vec![note(entry, Notice::NoContact)], Notice::NoContact)
            }
            Err(e) => return Err(e),
        },
    };
    match v.commit(change, journal).await? {
        OpOutcome::Done => Ok(notice),
        OpOutcome::Conflict => Err(VaultError::invalid(
            ProblemCode::RequestTransitionInvalid,
            "another step changed the request's state first; read it again",
        )),
        OpOutcome::NotFound if subject.is_none() => Err(super::not_found()),
        other => Err(crate::kernel::subject_outcome(other, "a request's step")),
    }
}

fn note(entry: JournalDraft, notice: Notice) -> JournalDraft {
    let d = entry.detail.clone().unwrap_or_default();
    let mut entry = entry;
    entry.detail = Some(format!("{d} notice:{}", notice.as_str()).trim().to_owned());
    entry
}
