//! Destruction acts (RKN Order No. 179; officer and admin): the list, and one act as JSON or
//! as a printable page (`{id}.html`, or `Accept: text/html`).

use crate::error::ApiError;
use crate::extract::{subject_id, ApiPath, ApiQuery, AuthCaller};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use ward_core::{ActId, ProblemCode};
use ward_vault::{ActQuery, DestructionAct};

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    (
        "list_destruction_acts",
        &[
            ProblemCode::Forbidden,
            ProblemCode::InvalidQuery,
            ProblemCode::InvalidSubjectId,
        ],
    ),
    (
        "get_destruction_act",
        &[
            ProblemCode::Forbidden,
            ProblemCode::InvalidPath,
            ProblemCode::InvalidActId,
            ProblemCode::ActNotFound,
        ],
    ),
];

/// `GET /v1/destruction-acts` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActsQuery {
    /// Only this subject's acts (its id).
    pub subject: Option<String>,
    /// Acts at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Acts before this time (RFC 3339).
    pub to: Option<String>,
    /// At most this many (default and maximum 1000), newest first.
    pub limit: Option<u32>,
}

/// Who operates the information system (act item a).
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorBody {
    pub name: String,
    pub address: Option<String>,
}

/// Who destroyed the data (act item d): a key and its role, or Ward's destruction job.
#[derive(Debug, Serialize, ToSchema)]
pub struct DestroyerBody {
    /// `key:<id>`, `cli`, or `Ward destruction job`.
    pub name: String,
    /// The key's role (`admin`, `officer`, `service`), or `automated job`.
    pub position: String,
    /// The act's SHA-256 digest, which the destruction's journal entry records
    /// (`act:<id> digest:<hex>`): the hash-chained, checkpoint-signed journal vouches for it.
    pub signature: String,
}

/// The journal extract (Order 179 p. 5 a–e).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtractBody {
    /// a) the individual, by pseudonymous id.
    pub subject: String,
    /// b) categories destroyed.
    pub categories: Vec<String>,
    /// c) the information system.
    pub information_system: String,
    /// d) the reason.
    pub reason: String,
    /// e) the date (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub date: OffsetDateTime,
    /// The journal entry's action (`destruction`) and the detail tying it to the act.
    pub action: String,
    pub detail: String,
}

/// A destruction act (RKN Order No. 179 p. 3, items a–j). No personal data: the subject is
/// named by its pseudonymous id.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActBody {
    pub id: String,
    /// a)
    pub operator: OperatorBody,
    /// b) the processor that destroyed it on the operator's instruction; `null`: none.
    pub processor: Option<String>,
    /// c) the subject's id ("other information about the individual").
    pub subject: String,
    /// d)
    pub destroyed_by: DestroyerBody,
    /// e) categories destroyed, and the fields.
    pub categories: Vec<String>,
    pub fields: Vec<String>,
    /// f) physical medium and sheets: `null`, the processing is automated.
    pub medium: Option<String>,
    /// g)
    pub information_system: String,
    /// h) `crypto_shredding` or `field_deletion`.
    pub method: String,
    /// i) a destruction reason (`subject_request`, `consent_withdrawn`, …).
    pub reason: String,
    /// j) when (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub date: OffsetDateTime,
    /// What caused it (`erasure`, `request:<id>`, `due:…`): one act per subject and cause.
    pub cause: String,
    /// Categories kept back, as `category:purpose` (the legal obligation that keeps them).
    pub withheld: Vec<String>,
    pub journal_extract: ExtractBody,
}

impl From<DestructionAct> for ActBody {
    fn from(a: DestructionAct) -> Self {
        let x = a.extract();
        let r = a.record;
        Self {
            id: r.id.to_string(),
            operator: OperatorBody {
                name: r.operator,
                address: r.operator_address,
            },
            processor: r.processor,
            subject: r.subject.to_string(),
            destroyed_by: DestroyerBody {
                name: r.destroyed_by,
                position: r.position,
                signature: format!("sha256:{}", a.digest),
            },
            categories: r.categories,
            fields: r.fields,
            medium: None,
            information_system: r.system,
            method: r.method,
            reason: r.reason,
            date: r.at,
            cause: r.cause,
            withheld: r.withheld,
            journal_extract: ExtractBody {
                subject: x.subject.to_string(),
                categories: x.categories,
                information_system: x.system,
                reason: x.reason,
                date: x.at,
                action: x.action.to_owned(),
                detail: x.detail,
            },
        }
    }
}

fn time_param(raw: Option<&str>, name: &str) -> Result<Option<OffsetDateTime>, ApiError> {
    raw.map(|s| {
        OffsetDateTime::parse(s, &Rfc3339)
            .map_err(|_| ApiError::new(ProblemCode::InvalidQuery, format!("`{name}` is not an RFC 3339 time")))
    })
    .transpose()
}

/// Lists destruction acts, newest first, by subject and time.
#[utoipa::path(
    get,
    path = "/v1/destruction-acts",
    tag = "destruction",
    params(ActsQuery),
    responses((status = 200, description = "The acts, newest first", body = Vec<ActBody>)),
)]
pub(crate) async fn list_destruction_acts(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ActsQuery>,
) -> Result<Json<Vec<ActBody>>, ApiError> {
    let query = ActQuery {
        subject: q.subject.as_deref().map(subject_id).transpose()?,
        from: time_param(q.from.as_deref(), "from")?,
        to: time_param(q.to.as_deref(), "to")?,
        limit: q.limit,
    };
    let acts = state.vault.acts().list(&caller, &query).await?;
    Ok(Json(acts.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ActPath {
    id: String,
}

/// One destruction act with its journal extract: JSON, or the printable page (Russian field
/// names as the order has them, English alongside) for `{id}.html` or `Accept: text/html`.
#[utoipa::path(
    get,
    path = "/v1/destruction-acts/{id}",
    tag = "destruction",
    params(("id" = String, Path, description = "The act's id; with `.html` appended, the printable page")),
    responses((status = 200, description = "The act (JSON; HTML for `{id}.html` or Accept: text/html)", body = ActBody)),
)]
pub(crate) async fn get_destruction_act(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(path): ApiPath<ActPath>,
) -> Result<Response, ApiError> {
    let (raw, html_suffix) = match path.id.strip_suffix(".html") {
        Some(id) => (id, true),
        None => (path.id.as_str(), false),
    };
    let id: ActId = raw
        .parse()
        .map_err(|_| ApiError::new(ProblemCode::InvalidActId, "the act id in the path is not a UUID"))?;
    let act = state.vault.acts().get(&caller, id).await?;
    let wants_html = html_suffix
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    if wants_html {
        return Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], act.html()).into_response());
    }
    Ok(Json(ActBody::from(act)).into_response())
}
