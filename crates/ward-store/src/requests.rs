//! Data-subject requests (issue 19) and their reads. Writes go through `WriteStore` with
//! [`RequestChange`](crate::RequestChange).
//!
//! A request is stored with ids, enums, dates and the name of whoever filed it in clear; every
//! free text (the representative's authority document, rectification's new values, a
//! transfer's recipient, a complaint, the officer's answer, a citation, notes) is in `sealed`,
//! sealed by the vault under the subject's data key. `open_due` is the due date that counts
//! while the request is open and its clock runs (else `NULL`): the one indexed column that
//! makes "overdue as of D" and "due within N days" a range scan.

use crate::{Bind, StoreResult};
use async_trait::async_trait;
use time::{Date, OffsetDateTime};
use ward_core::clock::to_micros;
use ward_core::deadline::Regime;
use ward_core::request::{Channel, ExtensionReason, RefusalReason, RequestKind, RequestState};
use ward_core::{DownloadId, RequestId, SubjectId};

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub id: RequestId,
    pub subject: SubjectId,
    pub kind: RequestKind,
    pub state: RequestState,
    pub channel: Channel,
    /// The regimes it falls under, at least one.
    pub regimes: Vec<Regime>,
    pub received_at: OffsetDateTime,
    /// The due date (moved by a pause that stops the clock).
    pub due_on: Date,
    /// The due date once extended: set by the extension.
    pub extended_due_on: Option<Date>,
    /// Whether a regime allows an extension of this kind's term (the date it would move to).
    pub extendable_to: Option<Date>,
    pub extension: Option<ExtensionReason>,
    /// The due date that counts while open with the clock running; `None` otherwise.
    pub open_due: Option<Date>,
    /// Paused since; `None` unless paused.
    pub paused_at: Option<OffsetDateTime>,
    /// Seconds paused in all, over every pause that ended.
    pub paused_secs: i64,
    pub refusal: Option<RefusalReason>,
    /// What was done, per category: names and enums only (`erased`, `withheld:payment`, ...).
    pub outcome: Option<String>,
    /// `vouched` (the website), `officer`, or the id of a verification.
    pub verification: Option<String>,
    pub duplicate_of: Option<RequestId>,
    pub repeat_of: Option<RequestId>,
    /// The data copy's download (access, copy, transfer), once made.
    pub download: Option<DownloadId>,
    /// Who filed it: `key:<id>`, `cli` or `system`.
    pub filed_by: String,
    /// The free texts, sealed under the subject's key; `None` when there are none.
    pub sealed: Option<Vec<u8>>,
    pub updated_at: OffsetDateTime,
}

/// Which requests to list: every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFilter {
    pub state: Option<RequestState>,
    pub subject: Option<SubjectId>,
    pub kind: Option<RequestKind>,
    pub filed_by: Option<String>,
    /// Open with a running clock and `open_due` in this range (inclusive; `None`: unbounded
    /// below). Lists in due order.
    pub due: Option<(Option<Date>, Date)>,
}

/// Where a page starts: after this request in the listing's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestCursor {
    /// In due order: (open_due, id).
    Due(Date, RequestId),
    /// In receipt order: (received_at, id).
    Received(OffsetDateTime, RequestId),
}

impl RequestFilter {
    /// The `WHERE` clause (without the keyword; `TRUE`-free: at least one condition is made by
    /// the caller's order) and the `ORDER BY` of a page, with its values in placeholder order.
    pub fn query(
        &self,
        after: Option<RequestCursor>,
        first: usize,
        placeholder: impl Fn(usize) -> String,
    ) -> (String, &'static str, Vec<Bind>) {
        let mut parts: Vec<String> = Vec::new();
        let mut binds = Vec::new();
        let mut add = |cond: &str, b: Bind, parts: &mut Vec<String>| {
            parts.push(cond.replace('?', &placeholder(first + binds.len())));
            binds.push(b);
        };
        if let Some(s) = self.state {
            add("state = ?", Bind::Text(s.as_str().to_owned()), &mut parts);
        }
        if let Some(s) = self.subject {
            add("subject_id = ?", Bind::Bytes(s.as_bytes().to_vec()), &mut parts);
        }
        if let Some(k) = self.kind {
            add("kind = ?", Bind::Text(k.as_str().to_owned()), &mut parts);
        }
        if let Some(f) = &self.filed_by {
            add("filed_by = ?", Bind::Text(f.clone()), &mut parts);
        }
        let order = if let Some((from, to)) = self.due {
            match from {
                Some(from) => add("open_due >= ?", Bind::Int(day(from)), &mut parts),
                None => parts.push("open_due IS NOT NULL".to_owned()),
            }
            add("open_due <= ?", Bind::Int(day(to)), &mut parts);
            "open_due, id"
        } else {
            "received_at, id"
        };
        match after {
            Some(RequestCursor::Due(d, id)) => {
                let a = placeholder(first + binds.len());
                let b = placeholder(first + binds.len() + 1);
                let c = placeholder(first + binds.len() + 2);
                parts.push(format!("(open_due > {a} OR (open_due = {b} AND id > {c}))"));
                binds.extend([Bind::Int(day(d)), Bind::Int(day(d)), Bind::Text(id.to_string())]);
            }
            Some(RequestCursor::Received(at, id)) => {
                let a = placeholder(first + binds.len());
                let b = placeholder(first + binds.len() + 1);
                let c = placeholder(first + binds.len() + 2);
                parts.push(format!("(received_at > {a} OR (received_at = {b} AND id > {c}))"));
                binds.extend([
                    Bind::Int(to_micros(at)),
                    Bind::Int(to_micros(at)),
                    Bind::Text(id.to_string()),
                ]);
            }
            None => {}
        }
        let clause = if parts.is_empty() {
            "1 = 1".to_owned()
        } else {
            parts.join(" AND ")
        };
        (clause, order, binds)
    }
}

/// A date as stored: its Julian day number.
pub fn day(d: Date) -> i64 {
    i64::from(d.to_julian_day())
}

#[async_trait]
pub trait RequestStore: Send + Sync {
    /// The request with this id.
    async fn find_request(&self, id: RequestId) -> StoreResult<Option<RequestRecord>>;
    /// The subject's requests, oldest first.
    async fn find_requests_of_subject(&self, subject: SubjectId) -> StoreResult<Vec<RequestRecord>>;
    /// A page of requests matching `filter`, after `after`, at most `limit`.
    async fn list_requests(
        &self,
        filter: &RequestFilter,
        after: Option<RequestCursor>,
        limit: u32,
    ) -> StoreResult<Vec<RequestRecord>>;
}
