//! Data-subject requests (issue 19): intake, reads and the officer's register. The workflow's
//! steps are in `steps.rs`, what completing a request does to the subject's data in
//! `effects.rs`, and the message each step queues in `notice.rs`.
//!
//! A request is stored with ids, enums and dates in clear; every free text the subject, a
//! representative or the officer wrote is sealed under the subject's data key ([`Details`])
//! and opened only through the gate (reason `request`), journaled. Once the subject is
//! erased the details are gone with the key; the request stays, as the record that it was
//! handled.
//!
//! Intake channels and who may use them:
//! - `website`: a service key (the website) vouches that the subject is signed in: the request
//!   starts `in_progress`, verification `vouched`.
//! - `officer`: the officer (or an admin) records it: `in_progress`, verification `officer`;
//!   or `verifying` when `verify` is asked.
//! - `representative`: the officer records it with the authority document (type, number and
//!   date, sealed): `in_progress`, or `verifying` when asked.
//! - `subject`: the portal, which until the subject role gets keys is a service key: the
//!   request starts `verifying` (nobody vouched; the verification step follows).

mod effects;
mod notice;
mod steps;

pub use effects::{Completion, Decision};
pub use notice::Notice;
pub use ward_core::request::{ExtensionReason, RefusalReason};

use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::gate::Reason;
use crate::sealed;
use crate::Vault;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Date, Duration, OffsetDateTime};
use ward_core::access::Role;
use ward_core::authz::Operation;
use ward_core::deadline::Regime;
use ward_core::journal::AdminEvent;
use ward_core::request::{self, Channel, Earlier, RequestKind, RequestState};
use ward_core::{Caller, JournalDraft, ProblemCode, RequestId, SubjectId};
use ward_store::{Change, RequestChange, RequestCursor, RequestFilter, RequestRecord, SubjectRecord};

/// A refusal's reason from what the client sent: required, one of [`RefusalReason`]'s names.
pub fn refusal_reason(raw: Option<&str>) -> VaultResult<request::RefusalReason> {
    crate::error::named_reason(raw, "refusing the request")
}

/// An extension's reason from what the client sent: required, one of [`ExtensionReason`]'s
/// names.
pub fn extension_reason(raw: Option<&str>) -> VaultResult<request::ExtensionReason> {
    crate::error::named_reason(raw, "extending the term")
}

/// The requests service, reached by [`Vault::requests`].
#[derive(Clone, Copy)]
pub struct Requests<'v>(pub(crate) &'v Vault);

/// A representative's authority document (a power of attorney): sealed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityDocument {
    pub doc_type: String,
    pub number: String,
    pub date: String,
}

/// The free texts of a request, sealed under the subject's key. Its `Debug` shows nothing.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<AuthorityDocument>,
    /// Rectification: field → its new value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub new_values: BTreeMap<String, String>,
    /// Transfer: the named third party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The subject's own words: a complaint, an objection's grounds, the request's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Withdrawal: the purposes named (none: every consent that stands).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purposes: Vec<String>,
    /// Blocking: the categories named (none: the whole subject).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// What the officer asked the subject to clarify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_note: Option<String>,
    /// The reasoned notice's own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_note: Option<String>,
    /// The operator's answer: a complaint's, an objection's decision reasons, a completion note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// A refusal's citation of the restricting law.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
}

impl std::fmt::Debug for Details {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Details(..)")
    }
}

impl Details {
    fn is_empty(&self) -> bool {
        *self == Details::default()
    }
}

/// A new request.
#[derive(Debug, Clone)]
pub struct Intake {
    pub subject: SubjectId,
    pub kind: RequestKind,
    pub channel: Channel,
    /// The regimes it falls under; none: Russia's (152-FZ), the operator's own.
    pub regimes: Vec<Regime>,
    /// When the operator received it (a paper request recorded later); default: now. Not in
    /// the future.
    pub received_at: Option<OffsetDateTime>,
    /// The officer asks for the identity to be verified first.
    pub verify: bool,
    pub details: Details,
}

/// A request as the caller sees it.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub request: RequestRecord,
    /// Its details, opened (journaled); `None` in listings, without any, or once the subject
    /// is erased.
    pub details: Option<Details>,
    /// The due date that applies now (extended if it was).
    pub due: Date,
    /// Past its due date as of the operator's today, and still open.
    pub overdue: bool,
    /// What became of the message the last step sent.
    pub notice: Option<Notice>,
}

/// What the register lists.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub state: Option<RequestState>,
    pub subject: Option<SubjectId>,
    pub kind: Option<RequestKind>,
    /// Open and past the due date as of the operator's today.
    pub overdue: bool,
    /// Open and due from today to today + this many days.
    pub due_within_days: Option<u32>,
    pub cursor: Option<String>,
    pub limit: u32,
}

/// A page of the register.
#[derive(Debug, Clone)]
pub struct RequestPage {
    pub requests: Vec<RequestView>,
    pub next_cursor: Option<String>,
}

impl Requests<'_> {
    /// Files a request (see the module documentation for the channels). Journaled
    /// (`subject_request.filed`) with the acknowledgement `request_received` queued in the
    /// same transaction. A duplicate (an open request of the kind) and a repeat (access within
    /// 30 days of a completed one) are recorded on it. An objection to marketing takes effect
    /// at once: the marketing consents are withdrawn and the request completed.
    pub async fn file(&self, caller: &Caller, input: Intake) -> VaultResult<RequestView> {
        let v = self.0;
        let op = v.op(caller, Operation::RequestFile)?;
        let state = intake_state(caller, input.channel, input.verify)?;
        check_details(&op, &input)?;
        let record = v.active_subject(input.subject).await?;
        let received_at = input.received_at.unwrap_or(op.now);
        if received_at > op.now {
            return Err(VaultError::invalid(
                ProblemCode::InvalidReceived,
                "the moment of receipt is in the future",
            ));
        }
        let mut regimes = input.regimes.clone();
        if regimes.is_empty() {
            regimes.push(Regime::Ru);
        }
        regimes.sort();
        regimes.dedup();
        let sched = request::schedule(
            input.kind,
            &regimes,
            received_at,
            v.deadlines().calendars(),
            v.deadlines().zone(),
        )
        .map_err(|e| VaultError::invalid(e.code(), e.to_string()))?;
        let earlier: Vec<Earlier<RequestId>> = v
            .store()
            .find_requests_of_subject(input.subject)
            .await?
            .iter()
            .map(|r| Earlier {
                id: r.id,
                kind: r.kind,
                state: r.state,
                received_at: r.received_at,
            })
            .collect();
        let id = RequestId::random();
        let sealed_details = if input.details.is_empty() {
            None
        } else {
            Some(seal(v, &record, id, &input.details)?)
        };
        let req = RequestRecord {
            id,
            subject: input.subject,
            kind: input.kind,
            state,
            channel: input.channel,
            regimes,
            received_at,
            due_on: sched.due_on,
            extended_due_on: None,
            extendable_to: sched.extended_due_on,
            extension: None,
            open_due: Some(sched.due_on),
            paused_at: None,
            paused_secs: 0,
            refusal: None,
            outcome: None,
            verification: match (input.channel, state) {
                (Channel::Website, _) => Some("vouched".to_owned()),
                (_, RequestState::InProgress) => Some("officer".to_owned()),
                _ => None,
            },
            duplicate_of: request::duplicate_of(input.kind, &earlier),
            repeat_of: request::repeat_of(input.kind, received_at, &earlier),
            download: None,
            filed_by: op.actor().to_string(),
            sealed: sealed_details,
            updated_at: op.now,
        };
        let mut detail = format!(
            "request:{id} kind:{} channel:{} state:{state} due:{}",
            req.kind, req.channel, req.due_on
        );
        if let Some(d) = req.duplicate_of {
            detail.push_str(&format!(" duplicate_of:{d}"));
        }
        if let Some(r) = req.repeat_of {
            detail.push_str(&format!(" repeat_of:{r}"));
        }
        let entry = JournalDraft::new(op.now, op.actor(), AdminEvent::SubjectRequestFiled)
            .subject(input.subject)
            .detail(detail);
        let change = Change::Request(RequestChange::File(Box::new(req.clone())));
        let notice = notice::commit(v, &op, Some(&record), &req, None, change, entry, notice::RECEIVED).await?;
        let mut view = self.view(&op, req, None, Some(notice));
        if input.kind == RequestKind::ObjectMarketing {
            view = steps::complete_at_intake(v, &op, view.request).await?;
        }
        if input.kind == RequestKind::Blocking {
            // 152-FZ Art. 21 p. 1: blocked from the moment of the appeal, for the time the
            // claim is checked (as the system: a website's key files, it does not block).
            let mut categories = input.details.categories.clone();
            categories.sort();
            categories.dedup();
            let reason = ward_core::blocking::BlockReason::InaccuracyClaimed;
            v.blocks()
                .place(&Caller::system(), input.subject, &categories, reason)
                .await?;
        }
        Ok(view)
    }

    /// A request with its details opened through the gate, journaled
    /// (`subject_request.read`). A service key reads only the requests it filed.
    pub async fn get(&self, caller: &Caller, id: RequestId) -> VaultResult<RequestView> {
        let v = self.0;
        let op = v.op(caller, Operation::RequestRead)?;
        let req = load(v, &op, id).await?;
        let mut entry = JournalDraft::new(op.now, op.actor(), AdminEvent::SubjectRequestRead)
            .subject(req.subject)
            .detail(format!("request:{id} kind:{} state:{}", req.kind, req.state));
        let mut details = None;
        if let Some(sealed) = &req.sealed {
            if let Some(record) = v.store().find_subject(req.subject).await? {
                if record.key.is_some() {
                    let mut gate = v.gate(&op, &record, Reason::Request, None)?;
                    details = Some(gate.request_details(id, sealed)?);
                    entry = gate.stamp(entry);
                }
            }
        }
        v.commit(Change::JournalOnly, vec![entry]).await?;
        Ok(self.view(&op, req, details, None))
    }

    /// A page of the register: ids, kinds, states and dates, never details. Journaled
    /// (`subject_requests.listed`, the filters as enums and ids). A service key lists only
    /// the requests it filed.
    pub async fn list(&self, caller: &Caller, q: &ListQuery) -> VaultResult<RequestPage> {
        let v = self.0;
        let op = v.op(caller, Operation::RequestList)?;
        let today = today(v, &op)?;
        let due = match (q.overdue, q.due_within_days) {
            (true, Some(_)) => {
                return Err(VaultError::invalid(
                    ProblemCode::InvalidFilter,
                    "ask for overdue requests or for those due within a time, not both",
                ))
            }
            (true, None) => Some((None, today - Duration::days(1))),
            (false, Some(n)) => Some((Some(today), today + Duration::days(i64::from(n)))),
            (false, None) => None,
        };
        let filter = RequestFilter {
            state: q.state,
            subject: q.subject,
            kind: q.kind,
            filed_by: (caller.role == Role::Service).then(|| op.actor().to_string()),
            due,
        };
        let after = q
            .cursor
            .as_deref()
            .map(|c| parse_cursor(c, due.is_some()))
            .transpose()?;
        let limit = q.limit.clamp(1, 1000);
        let found = v.store().list_requests(&filter, after, limit).await?;
        let next_cursor = (found.len() == limit as usize)
            .then(|| found.last().map(|r| cursor(r, due.is_some())))
            .flatten();
        let mut detail = String::from("register:requests");
        if let Some(s) = q.state {
            detail.push_str(&format!(" state:{s}"));
        }
        if let Some(k) = q.kind {
            detail.push_str(&format!(" kind:{k}"));
        }
        if q.overdue {
            detail.push_str(&format!(" overdue_as_of:{today}"));
        }
        if let Some(n) = q.due_within_days {
            detail.push_str(&format!(" due_within_days:{n}"));
        }
        let mut entry = JournalDraft::new(op.now, op.actor(), AdminEvent::SubjectRequestsListed).detail(detail);
        if let Some(s) = q.subject {
            entry = entry.subject(s);
        }
        v.commit(Change::JournalOnly, vec![entry]).await?;
        Ok(RequestPage {
            requests: found.into_iter().map(|r| self.view(&op, r, None, None)).collect(),
            next_cursor,
        })
    }

    pub(crate) fn view(
        &self,
        op: &Op<'_>,
        request: RequestRecord,
        details: Option<Details>,
        notice: Option<Notice>,
    ) -> RequestView {
        let due = request.extended_due_on.unwrap_or(request.due_on);
        let overdue = match (request.open_due, today(self.0, op)) {
            (Some(d), Ok(t)) => d < t,
            _ => false,
        };
        RequestView {
            request,
            details,
            due,
            overdue,
            notice,
        }
    }
}

/// The state a request starts in, by channel and caller.
fn intake_state(caller: &Caller, channel: Channel, verify: bool) -> VaultResult<RequestState> {
    let refused = |why: &str| Err(VaultError::invalid(ProblemCode::ChannelNotAllowed, why.to_owned()));
    let officer = matches!(caller.role, Role::Admin | Role::Officer);
    let service = caller.role == Role::Service || caller.role == Role::Admin;
    match channel {
        Channel::Website if !service => refused("only the website's service key files a request by `website`"),
        Channel::Website => Ok(RequestState::InProgress),
        Channel::Officer | Channel::Representative if !officer => {
            refused("only the officer files a request by `officer` or `representative`")
        }
        Channel::Officer | Channel::Representative if verify => Ok(RequestState::Verifying),
        Channel::Officer | Channel::Representative => Ok(RequestState::InProgress),
        Channel::Subject => Ok(RequestState::Verifying),
    }
}

/// What each kind and channel must say: `request_details_required` (naming what) otherwise.
fn check_details(op: &Op<'_>, input: &Intake) -> VaultResult<()> {
    let d = &input.details;
    let missing = |what: &str| {
        Err(VaultError::invalid(
            ProblemCode::RequestDetailsRequired,
            format!("a {} request needs {what}", input.kind),
        ))
    };
    if input.channel == Channel::Representative {
        let complete = d
            .authority
            .as_ref()
            .is_some_and(|a| !a.doc_type.trim().is_empty() && !a.number.trim().is_empty() && !a.date.trim().is_empty());
        if !complete {
            return Err(VaultError::invalid(
                ProblemCode::RequestDetailsRequired,
                "a representative's request needs the authority document's type, number and date",
            ));
        }
    }
    let policy = op.policy();
    match input.kind {
        RequestKind::Rectification if d.new_values.is_empty() => missing("the new values of the fields to rectify"),
        RequestKind::Transfer if d.recipient.as_deref().is_none_or(|r| r.trim().is_empty()) => {
            missing("the named recipient")
        }
        RequestKind::Complaint if d.text.as_deref().is_none_or(|t| t.trim().is_empty()) => missing("its text"),
        _ => {
            if let Some(f) = d.new_values.keys().find(|f| policy.field(f).is_none()) {
                return Err(VaultError::invalid(
                    ProblemCode::UnknownField,
                    format!("field `{f}` is not declared in the policy"),
                ));
            }
            if let Some(p) = d.purposes.iter().find(|p| policy.purpose(p).is_none()) {
                return Err(VaultError::invalid(
                    ProblemCode::UnknownPurpose,
                    format!("purpose `{p}` is not declared in the policy"),
                ));
            }
            if let Some(c) = d.categories.iter().find(|c| !policy.categories.contains_key(*c)) {
                return Err(VaultError::invalid(
                    ProblemCode::UnknownCategory,
                    format!("category `{c}` is not declared in the policy"),
                ));
            }
            Ok(())
        }
    }
}

/// Seals `details` under the subject's key, bound to the request.
pub(crate) fn seal(v: &Vault, record: &SubjectRecord, id: RequestId, details: &Details) -> VaultResult<Vec<u8>> {
    let json = serde_json::to_vec(details).map_err(|e| VaultError::Internal(e.to_string()))?;
    let key = v.data_key(record)?;
    Ok(key.seal(&sealed::request_aad(record.id, id), &json))
}

/// The request, if the caller may see it: a service key only its own filings.
pub(crate) async fn load(v: &Vault, op: &Op<'_>, id: RequestId) -> VaultResult<RequestRecord> {
    let req = v.store().find_request(id).await?.ok_or_else(not_found)?;
    if op.caller.role == Role::Service && req.filed_by != op.actor().to_string() {
        return Err(not_found());
    }
    Ok(req)
}

pub(crate) fn not_found() -> VaultError {
    VaultError::NotFound(
        ProblemCode::RequestNotFound,
        "no data-subject request has this id".into(),
    )
}

/// The operator's today: the date in its time zone.
pub(crate) fn today(v: &Vault, op: &Op<'_>) -> VaultResult<Date> {
    v.deadlines()
        .zone()
        .local_date(op.now)
        .ok_or_else(|| VaultError::Internal("the clock is out of range".into()))
}

fn cursor(r: &RequestRecord, due: bool) -> String {
    match (due, r.open_due) {
        (true, Some(d)) => format!("d.{}.{}", d.to_julian_day(), r.id),
        _ => format!("r.{}.{}", ward_core::clock::to_micros(r.received_at), r.id),
    }
}

fn parse_cursor(c: &str, due: bool) -> VaultResult<RequestCursor> {
    let bad = || VaultError::invalid(ProblemCode::InvalidCursor, "the cursor is not one this listing gave");
    let mut parts = c.splitn(3, '.');
    let (tag, n, id) = (parts.next(), parts.next(), parts.next());
    let n: i64 = n.and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    let id: RequestId = id.and_then(|i| i.parse().ok()).ok_or_else(bad)?;
    match (tag, due) {
        (Some("d"), true) => {
            let d = i32::try_from(n)
                .ok()
                .and_then(|n| Date::from_julian_day(n).ok())
                .ok_or_else(bad)?;
            Ok(RequestCursor::Due(d, id))
        }
        (Some("r"), false) => Ok(RequestCursor::Received(ward_core::clock::from_micros(n), id)),
        _ => Err(bad()),
    }
}
