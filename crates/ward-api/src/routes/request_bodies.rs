//! The bodies of the data-subject request routes (`routes/requests.rs`): what a client sends
//! and what it gets back, with their OpenAPI schemas, and the conversion from the vault's view.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use ward_vault::requests::{Details, RequestView};

/// A representative's authority document (sealed).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorityBody {
    /// E.g. `power_of_attorney`.
    pub doc_type: String,
    pub number: String,
    /// As written on it, e.g. `2026-01-15`.
    pub date: String,
}

/// `POST /v1/requests`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRequestBody {
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: String,
    /// `access`, `copy`, `rectification`, `blocking`, `erasure`, `stop_processing`,
    /// `withdraw_consent`, `object_marketing`, `object_legitimate`, `transfer`, `complaint`.
    #[schema(example = "access")]
    pub kind: String,
    /// `website` (a service key vouches the subject is signed in), `officer`,
    /// `representative` (with `authority`), `subject` (the portal: verification follows).
    #[schema(example = "officer")]
    pub channel: String,
    /// `ru`, `eu`, `us-ca`; default `["ru"]`. The earliest deadline applies.
    #[serde(default)]
    pub regimes: Vec<String>,
    /// When the operator received it (RFC 3339); default now.
    pub received_at: Option<String>,
    /// The officer asks for the identity to be verified first (`verifying`).
    #[serde(default)]
    pub verify: bool,
    /// A representative's authority document.
    pub authority: Option<AuthorityBody>,
    /// Rectification: field → new value.
    #[serde(default)]
    pub new_values: BTreeMap<String, String>,
    /// Transfer: the named third party.
    pub recipient: Option<String>,
    /// The request's text (a complaint's, an objection's grounds).
    pub text: Option<String>,
    /// Withdrawal: the purposes (none: every consent that stands).
    #[serde(default)]
    pub purposes: Vec<String>,
    /// Blocking: the categories (none: the whole subject).
    #[serde(default)]
    pub categories: Vec<String>,
}

/// `POST /v1/requests/{id}/pause`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    /// What the subject is asked to clarify (sealed, sent to them).
    pub note: Option<String>,
}

/// `POST /v1/requests/{id}/extend`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    /// `complexity`, `number_of_requests` or `processor_involved`.
    #[schema(example = "complexity")]
    pub reason: Option<String>,
    /// The reasoned notice's own words (sealed, sent to the subject).
    pub note: Option<String>,
}

/// `POST /v1/requests/{id}/refuse`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseBody {
    /// `no_match`, `insufficient_identification`, `insufficient_verification`,
    /// `outside_jurisdiction`, `repeat_request`, `manifestly_unfounded`, `legal_restriction`.
    #[schema(example = "repeat_request")]
    pub reason: Option<String>,
    /// For `legal_restriction`: the law that restricts the right (sealed, sent).
    pub citation: Option<String>,
}

/// `POST /v1/requests/{id}/complete`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// The answer (sealed, sent): required for `complaint` and `object_legitimate`.
    pub answer: Option<String>,
    /// `object_legitimate`: `upheld` or `rejected`.
    pub decision: Option<String>,
    /// `access`, `copy`, `transfer`: the download the report made.
    #[schema(value_type = Option<uuid::Uuid>)]
    pub download: Option<String>,
    /// `rectification`: the purpose it is made under (default: the first that may).
    pub purpose: Option<String>,
    /// `blocking`: the block's reason (default `inaccuracy_claimed`).
    pub block_reason: Option<String>,
}

/// The authority document, opened.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorityView {
    pub doc_type: String,
    pub number: String,
    pub date: String,
}

/// A request's details, opened (only on `GET /v1/requests/{id}`; journaled).
#[derive(Debug, Serialize, ToSchema)]
pub struct DetailsBody {
    pub authority: Option<AuthorityView>,
    pub new_values: BTreeMap<String, String>,
    pub recipient: Option<String>,
    pub text: Option<String>,
    pub purposes: Vec<String>,
    pub categories: Vec<String>,
    pub pause_note: Option<String>,
    pub extension_note: Option<String>,
    pub answer: Option<String>,
    pub citation: Option<String>,
}

/// A data-subject request.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestBody {
    #[schema(value_type = uuid::Uuid)]
    pub id: String,
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: String,
    pub kind: String,
    /// `received`, `verifying`, `in_progress`, `paused`, `completed`, `refused`.
    pub state: String,
    pub channel: String,
    pub regimes: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The original due date (`YYYY-MM-DD`, the operator's zone).
    pub due_on: String,
    /// Once extended.
    pub extended_due_on: Option<String>,
    /// The due date that applies.
    pub due: String,
    /// Open and past `due`.
    pub overdue: bool,
    pub extension_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub paused_at: Option<OffsetDateTime>,
    pub paused_seconds: i64,
    pub refusal_reason: Option<String>,
    /// What was done, per category (names only).
    pub outcome: Option<String>,
    /// `vouched`, `officer` or a verification's id.
    pub verification: Option<String>,
    /// An open request of the same kind this one duplicates.
    pub duplicate_of: Option<String>,
    /// A completed access request this one repeats within 30 days (152-FZ Art. 14 p. 4).
    pub repeat_of: Option<String>,
    pub download: Option<String>,
    /// The message this step queued: `queued`, `no_contact`, `subject_erased`; `null` on reads.
    pub notice: Option<String>,
    /// Its id, when queued.
    pub message_id: Option<String>,
    pub details: Option<DetailsBody>,
}

impl From<RequestView> for RequestBody {
    fn from(v: RequestView) -> Self {
        let r = v.request;
        Self {
            id: r.id.to_string(),
            subject_id: r.subject.to_string(),
            kind: r.kind.to_string(),
            state: r.state.to_string(),
            channel: r.channel.to_string(),
            regimes: r.regimes.iter().map(ToString::to_string).collect(),
            received_at: r.received_at,
            due_on: r.due_on.to_string(),
            extended_due_on: r.extended_due_on.map(|d| d.to_string()),
            due: v.due.to_string(),
            overdue: v.overdue,
            extension_reason: r.extension.map(|e| e.to_string()),
            paused_at: r.paused_at,
            paused_seconds: r.paused_secs,
            refusal_reason: r.refusal.map(|e| e.to_string()),
            outcome: r.outcome,
            verification: r.verification,
            duplicate_of: r.duplicate_of.map(|i| i.to_string()),
            repeat_of: r.repeat_of.map(|i| i.to_string()),
            download: r.download.map(|i| i.to_string()),
            notice: v.notice.map(|n| n.as_str().to_owned()),
            message_id: v.notice.and_then(|n| n.message()).map(|m| m.to_string()),
            details: v.details.map(details_body),
        }
    }
}

fn details_body(d: Details) -> DetailsBody {
    DetailsBody {
        authority: d.authority.map(|a| AuthorityView {
            doc_type: a.doc_type,
            number: a.number,
            date: a.date,
        }),
        new_values: d.new_values,
        recipient: d.recipient,
        text: d.text,
        purposes: d.purposes,
        categories: d.categories,
        pause_note: d.pause_note,
        extension_note: d.extension_note,
        answer: d.answer,
        citation: d.citation,
    }
}

/// A page of the register of requests.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestPageBody {
    pub items: Vec<RequestBody>,
    /// Pass as `cursor` for the next page; `null` after the last.
    pub next_cursor: Option<String>,
}

/// Filters of the register of requests; every filter given must hold.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// `received`, `verifying`, `in_progress`, `paused`, `completed`, `refused`.
    pub state: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub subject: Option<String>,
    pub kind: Option<String>,
    /// `true`: open and past the due date as of the operator's today (in due order).
    pub overdue: Option<bool>,
    /// Open and due from today to today + this, e.g. `2d` or `1w` (in due order).
    #[param(example = "2d")]
    pub due_within: Option<String>,
    /// Where to go on: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RequestPath {
    pub(crate) id: String,
}
