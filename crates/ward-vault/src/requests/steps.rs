//! The workflow's steps (`ward_core::request::next` says which are allowed where): start of
//! verification, verified, pause and resume, extension, refusal and completion. Each is one
//! transaction: the request's new state, its journal entry (ids, kind, state, reason names)
//! and the message to the subject (`notice.rs`). A step decided from a state another step has
//! left meanwhile is refused (`request_transition_invalid`), never applied twice.

use super::effects::{self, Completion};
use super::notice::{self, Notice};
use super::{load, today, Details, RequestView, Requests};
use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::gate::Reason;
use crate::report::ExportFormat;
use crate::Vault;
use time::Duration;
use ward_core::authz::Operation;
use ward_core::journal::AdminEvent;
use ward_core::request::{self, ExtensionReason, ExtensionRefused, RefusalReason, RequestState, Transition};
use ward_core::{Caller, JournalDraft, ProblemCode, RequestId, VerificationId};
use ward_store::{Change, RequestChange, RequestRecord, SubjectRecord};

impl Requests<'_> {
    /// Identity verification started: the request is `verifying`, with the verification's id
    /// (the `verify` service's). From `received` or `verifying` (a new attempt).
    pub async fn start_verification(
        &self,
        caller: &Caller,
        id: RequestId,
        verification: VerificationId,
    ) -> VaultResult<RequestView> {
        let op = self.0.op(caller, Operation::RequestHandle)?;
        let req = load(self.0, &op, id).await?;
        let mut to = advance(&op, &req, Transition::StartVerification)?;
        to.verification = Some(verification.to_string());
        let detail = format!("verification:{verification}");
        self.step(
            &op,
            req,
            to,
            AdminEvent::SubjectRequestVerifying,
            detail,
            notice::VERIFYING,
            &[],
        )
        .await
    }

    /// The identity is verified: the request is `in_progress`. The `verify` service calls this
    /// from its success path; the officer may too (a document checked in person).
    pub async fn verified(&self, caller: &Caller, id: RequestId) -> VaultResult<RequestView> {
        let op = self.0.op(caller, Operation::RequestHandle)?;
        let req = load(self.0, &op, id).await?;
        let mut to = advance(&op, &req, Transition::Verified)?;
        if to.verification.is_none() {
            to.verification = Some("officer".to_owned());
        }
        let detail = format!("verification:{}", to.verification.clone().unwrap_or_default());
        self.step(
            &op,
            req,
            to,
            AdminEvent::SubjectRequestVerified,
            detail,
            notice::VERIFIED,
            &[],
        )
        .await
    }

    /// Paused while waiting for the subject's clarification (`note`, sealed, says what is
    /// needed). Where every regime of the request stops the clock (not Russia's:
    /// `ward_core::request::pause_stops_clock`) it is off the overdue list until resumed.
    pub async fn pause(&self, caller: &Caller, id: RequestId, note: Option<String>) -> VaultResult<RequestView> {
        let v = self.0;
        let op = v.op(caller, Operation::RequestHandle)?;
        let req = load(v, &op, id).await?;
        let mut to = advance(&op, &req, Transition::Pause)?;
        to.paused_at = Some(op.now);
        let stops = request::pause_stops(&req.regimes);
        if stops {
            to.open_due = None;
        }
        let note_text = note.clone().unwrap_or_default();
        if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
            reseal(v, &op, &mut to, |d| d.pause_note = Some(n)).await?;
        }
        let detail = format!("clock:{}", if stops { "stopped" } else { "running" });
        self.step(
            &op,
            req,
            to,
            AdminEvent::SubjectRequestPaused,
            detail,
            notice::PAUSED,
            &[("note", note_text)],
        )
        .await
    }

    /// Resumed: where the pause stopped the clock, the due dates move by the days paused.
    pub async fn resume(&self, caller: &Caller, id: RequestId) -> VaultResult<RequestView> {
        let v = self.0;
        let op = v.op(caller, Operation::RequestHandle)?;
        let req = load(v, &op, id).await?;
        let mut to = advance(&op, &req, Transition::Resume)?;
        let paused = req.paused_at.map_or(Duration::ZERO, |at| op.now - at);
        to.paused_at = None;
        to.paused_secs = req.paused_secs + paused.whole_seconds().max(0);
        let mut moved = 0;
        if request::pause_stops(&req.regimes) {
            moved = request::pause_days(paused);
            let shift = Duration::days(moved);
            to.due_on = req.due_on + shift;
            to.extended_due_on = req.extended_due_on.map(|d| d + shift);
            to.extendable_to = req.extendable_to.map(|d| d + shift);
        }
        to.open_due = Some(to.extended_due_on.unwrap_or(to.due_on));
        let detail = format!("paused_days:{moved}");
        self.step(
            &op,
            req,
            to,
            AdminEvent::SubjectRequestResumed,
            detail,
            notice::RESUMED,
            &[],
        )
        .await
    }

    /// Extends the term once, with a reason (and a sealed note), before the due date has
    /// passed, where a regime of the request allows it; the reasoned notice goes out with it.
    pub async fn extend(
        &self,
        caller: &Caller,
        id: RequestId,
        reason: ExtensionReason,
        note: Option<String>,
    ) -> VaultResult<RequestView> {
        let v = self.0;
        let op = v.op(caller, Operation::RequestHandle)?;
        let req = load(v, &op, id).await?;
        let mut to = advance(&op, &req, Transition::Extend)?;
        let today = today(v, &op)?;
        request::check_extension(req.extension.is_some(), req.extendable_to.is_some(), req.due_on, today).map_err(
            |e| match e {
                ExtensionRefused::AlreadyExtended => VaultError::invalid(
                    ProblemCode::RequestAlreadyExtended,
                    "the term was already extended; it is extended once",
                ),
                ExtensionRefused::AfterDueDate => VaultError::invalid(
                    ProblemCode::ExtensionAfterDueDate,
                    format!(
                        "the request was due on {}: the notice had to go out by then",
                        req.due_on
                    ),
                ),
                ExtensionRefused::NotExtendable => VaultError::invalid(
                    ProblemCode::ExtensionNotAllowed,
                    format!(
                        "no regime of this request allows extending a {} request's term",
                        req.kind
                    ),
                ),
            },
        )?;
        to.extension = Some(reason);
        to.extended_due_on = req.extendable_to;
        if to.open_due.is_some() {
            to.open_due = to.extended_due_on;
        }
        let note_text = note.clone().unwrap_or_default();
        if let Some(n) = note.filter(|n| !n.trim().is_empty()) {
            reseal(v, &op, &mut to, |d| d.extension_note = Some(n)).await?;
        }
        let detail = format!(
            "reason:{reason} due:{}",
            to.extended_due_on.map(|d| d.to_string()).unwrap_or_default()
        );
        let extra = [("reason", reason.as_str().to_owned()), ("note", note_text)];
        self.step(
            &op,
            req,
            to,
            AdminEvent::SubjectRequestExtended,
            detail,
            notice::EXTENDED,
            &extra,
        )
        .await
    }

    /// Refuses the request for `reason`; a legal restriction cites its law (`citation`,
    /// sealed, sent in the answer). `repeat_request` only for a recognised repeat.
    pub async fn refuse(
        &self,
        caller: &Caller,
        id: RequestId,
        reason: RefusalReason,
        citation: Option<String>,
    ) -> VaultResult<RequestView> {
        let v = self.0;
        let op = v.op(caller, Operation::RequestHandle)?;
        let req = load(v, &op, id).await?;
        let mut to = advance(&op, &req, Transition::Refuse)?;
        let citation = citation.filter(|c| !c.trim().is_empty());
        if reason.needs_citation() && citation.is_none() {
            return Err(VaultError::invalid(
                ProblemCode::CitationRequired,
                "a refusal for a legal restriction cites the law that restricts the right",
            ));
        }
        if reason == RefusalReason::RepeatRequest && req.repeat_of.is_none() {
            return Err(VaultError::invalid(
                ProblemCode::RequestDetailsRequired,
                "this request is not a repeat of a completed one within 30 days",
            ));
        }
        to.refusal = Some(reason);
        to.open_due = None;
        to.paused_at = None;
        if let Some(c) = citation.clone() {
            reseal(v, &op, &mut to, |d| d.citation = Some(c)).await?;
        }
        let extra = [
            ("reason", reason.as_str().to_owned()),
            ("basis", reason.basis().to_owned()),
            ("citation", citation.unwrap_or_default()),
        ];
        self.step(
            &op,
            req,
            to,
            AdminEvent::SubjectRequestRefused,
            format!("reason:{reason}"),
            notice::REFUSED,
            &extra,
        )
        .await
    }

    /// Completes the request: its effect on the subject's data first (`effects.rs`, through
    /// the services that own it), then the completion with the outcome and the answer. The
    /// effect and the completion are separate transactions; each effect is idempotent, so
    /// completing again after a failure between them does no harm.
    pub async fn complete(&self, caller: &Caller, id: RequestId, c: Completion) -> VaultResult<RequestView> {
        let v = self.0;
        let op = v.op(caller, Operation::RequestHandle)?;
        let req = load(v, &op, id).await?;
        let to = advance(&op, &req, Transition::Complete)?;
        let details = effects::details(v, &op, &req).await?;
        effects::check(&req, &details, &c)?;
        let mut c = c;
        let link = self.issue_download(caller, &req, &mut c).await?;
        let done = effects::carry_out(v, &op, &req, &details, &c).await?;
        finish(v, &op, req, to, done, c, link).await
    }

    /// Access and copy: unless the officer names a download already made (or one was made by
    /// an earlier try), the report (access) or the copy of the data (copy, JSON) is sealed now
    /// behind a single-use link for the request, and the link goes out in the completion's
    /// message (sealed in the outbox; the journal names the download, never its token). The
    /// officer reviews the report beforehand with `GET /v1/subjects/{id}/access-report`.
    async fn issue_download(&self, caller: &Caller, req: &RequestRecord, c: &mut Completion) -> VaultResult<String> {
        let format = match req.kind {
            request::RequestKind::Access => ExportFormat::Report,
            request::RequestKind::Copy => ExportFormat::Json,
            _ => return Ok(String::new()),
        };
        if c.download.is_some() || req.download.is_some() || active(self.0, req.subject).await?.is_none() {
            return Ok(String::new());
        }
        let issued = self
            .0
            .reports()
            .export(caller, req.subject, format, Some(req.id), None)
            .await?;
        c.download = Some(issued.id);
        Ok(format!("{}{}", self.0.inner.config.public_url, issued.path()))
    }

    #[allow(clippy::too_many_arguments)]
    async fn step(
        &self,
        op: &Op<'_>,
        from: RequestRecord,
        mut to: RequestRecord,
        event: ward_core::journal::AdminEvent,
        detail: String,
        template: &str,
        extra: &[(&str, String)],
    ) -> VaultResult<RequestView> {
        let v = self.0;
        to.updated_at = op.now;
        let record = active(v, from.subject).await?;
        let entry = JournalDraft::new(op.now, op.actor(), event)
            .subject(from.subject)
            .detail(format!(
                "request:{} kind:{} state:{} {detail}",
                to.id, to.kind, to.state
            ));
        let change = Change::Request(RequestChange::Update {
            from: from.state,
            to: Box::new(to.clone()),
        });
        let notice = notice::commit(v, op, record.as_ref(), &to, Some(extra), change, entry, template).await?;
        Ok(self.view(op, to, None, Some(notice)))
    }
}

/// The request as it will be after `t`, or `request_transition_invalid`.
fn advance(op: &Op<'_>, req: &RequestRecord, t: Transition) -> VaultResult<RequestRecord> {
    let state = request::next(req.state, t).ok_or_else(|| {
        VaultError::invalid(
            ProblemCode::RequestTransitionInvalid,
            format!("a request that is {} does not take the step `{t}`", req.state),
        )
    })?;
    let mut to = req.clone();
    to.state = state;
    to.updated_at = op.now;
    Ok(to)
}

/// The subject's record while active; `None` once erased.
async fn active(v: &Vault, subject: ward_core::SubjectId) -> VaultResult<Option<SubjectRecord>> {
    Ok(v.store()
        .find_subject(subject)
        .await?
        .filter(|r| r.key.is_some() && r.state == ward_core::access::SubjectState::Active))
}

/// Opens `to`'s details through the gate (reason `request`, journaled in an entry of the
/// gate's own), applies `f`, and seals them again. Nothing to do once the subject is erased.
async fn reseal(v: &Vault, op: &Op<'_>, to: &mut RequestRecord, f: impl FnOnce(&mut Details)) -> VaultResult<()> {
    let Some(record) = active(v, to.subject).await? else {
        return Ok(());
    };
    let mut details = match &to.sealed {
        Some(s) => {
            let mut gate = v.gate(op, &record, Reason::Request, None)?;
            let d = gate.request_details(to.id, s)?;
            v.commit(Change::JournalOnly, vec![gate.entry()]).await?;
            d
        }
        None => Details::default(),
    };
    f(&mut details);
    to.sealed = Some(super::seal(v, &record, to.id, &details)?);
    Ok(())
}

/// Commits the completion with its outcome and the answer.
async fn finish(
    v: &Vault,
    op: &Op<'_>,
    req: RequestRecord,
    mut to: RequestRecord,
    done: effects::Done,
    c: Completion,
    link: String,
) -> VaultResult<RequestView> {
    to.outcome = Some(done.outcome.clone());
    to.open_due = None;
    to.download = c.download.or(req.download);
    if let Some(answer) = c.answer.clone().filter(|a| !a.trim().is_empty()) {
        reseal(v, op, &mut to, |d| d.answer = Some(answer)).await?;
    }
    let extra = [
        ("outcome", done.outcome.clone()),
        ("answer", c.answer.unwrap_or_default()),
        ("download", to.download.map(|d| d.to_string()).unwrap_or_default()),
        ("link", link),
    ];
    let detail = format!("outcome:{}", done.journal);
    Requests(v)
        .step(
            op,
            req,
            to,
            AdminEvent::SubjectRequestCompleted,
            detail,
            notice::COMPLETED,
            &extra,
        )
        .await
}

/// An objection to marketing completes at intake: the consents are withdrawn at once.
pub(super) async fn complete_at_intake(v: &Vault, op: &Op<'_>, req: RequestRecord) -> VaultResult<RequestView> {
    let mut to = req.clone();
    to.state = RequestState::Completed;
    let done = effects::carry_out(v, op, &req, &Details::default(), &Completion::default()).await?;
    finish(v, op, req, to, done, Completion::default(), String::new()).await
}

impl Notice {
    /// The message's id, if one was queued.
    pub fn message(self) -> Option<ward_core::MessageId> {
        match self {
            Notice::Queued(id) => Some(id),
            _ => None,
        }
    }
}
