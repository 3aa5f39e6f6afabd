//! The access report (152-FZ Art. 14 p. 7; GDPR Art. 15), copies of the data (GDPR Art. 20)
//! and their single-use download links. The officer previews the report
//! (`GET /v1/subjects/{id}/access-report`, JSON or HTML), seals a document behind a link
//! (`POST /v1/subjects/{id}/exports`: the token is in this answer only) and lists a subject's
//! links (`GET /v1/downloads?subject=`: ids and states, never tokens). The subject uses the
//! link without an API key (`GET /v1/downloads/{token}`): the token is the authority, and it
//! serves its document once.

use crate::error::ApiError;
use crate::extract::{subject_id, ApiPath, ApiQuery, AuthCaller, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use ward_core::{ProblemCode, RequestId};
use ward_vault::{AccessReport, DownloadView, ExportFormat};

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    (
        "access_report",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::InvalidQuery,
            ProblemCode::Forbidden,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "create_export",
        &[
            ProblemCode::InvalidSubjectId,
            ProblemCode::InvalidPath,
            ProblemCode::UnknownExportFormat,
            ProblemCode::Forbidden,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "list_downloads",
        &[
            ProblemCode::InvalidQuery,
            ProblemCode::InvalidSubjectId,
            ProblemCode::Forbidden,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
        ],
    ),
    (
        "download",
        &[
            ProblemCode::InvalidPath,
            ProblemCode::DownloadNotFound,
            ProblemCode::DownloadUsed,
            ProblemCode::DownloadExpired,
            ProblemCode::StorageUnavailable,
        ],
    ),
];

/// One section of the access report.
#[derive(Debug, Serialize, ToSchema)]
pub struct SectionBody {
    /// The item of 152-FZ Art. 14 p. 7, `1` to `11`.
    #[schema(example = "6")]
    pub item: String,
    #[schema(example = "152-FZ Art. 14 p. 7 item 6")]
    pub law: String,
    #[schema(example = "GDPR Art. 15(1)(d)")]
    pub gdpr: String,
    pub title: String,
    pub title_ru: String,
    /// The section's content; its shape per item is in docs/access-report.md.
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
}

/// The policy version a document was made under.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyRefBody {
    pub id: String,
    pub version: String,
    pub hash: String,
}

/// The access report (`ward.access_report.v1`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessReportBody {
    #[schema(example = "ward.access_report.v1")]
    pub document: String,
    pub subject: String,
    pub generated_at: String,
    pub operator: String,
    pub policy: PolicyRefBody,
    pub sections: Vec<SectionBody>,
}

impl From<AccessReport> for AccessReportBody {
    fn from(r: AccessReport) -> Self {
        Self {
            document: r.document.to_owned(),
            subject: r.subject,
            generated_at: r.generated_at,
            operator: r.operator,
            policy: PolicyRefBody {
                id: r.policy.id,
                version: r.policy.version,
                hash: r.policy.hash,
            },
            sections: r
                .sections
                .into_iter()
                .map(|s| SectionBody {
                    item: s.item,
                    law: s.law,
                    gdpr: s.gdpr,
                    title: s.title,
                    title_ru: s.title_ru,
                    content: s.content,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct SubjectPath {
    id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
    format: Option<String>,
}

/// The subject's access report, for the officer to review before release: JSON, or a
/// readable page for `?format=html` or `Accept: text/html`. The subject's fields are opened
/// (reason `access_request`) and the report is journaled before it is answered.
#[utoipa::path(
    get,
    path = "/v1/subjects/{id}/access-report",
    tag = "subjects",
    params(
        ("id" = uuid::Uuid, Path, description = "The subject's id"),
        ("format" = Option<String>, Query, description = "`json` (default) or `html`"),
    ),
    responses((status = 200, description = "The report (JSON; HTML for `?format=html` or Accept: text/html)", body = AccessReportBody)),
)]
pub(crate) async fn access_report(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(path): ApiPath<SubjectPath>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let id = subject_id(&path.id)?;
    let html = match q.format.as_deref() {
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html")),
        Some("html") => true,
        Some("json") => false,
        Some(_) => {
            return Err(ApiError::new(
                ProblemCode::InvalidQuery,
                "format must be `json` or `html`",
            ))
        }
    };
    let report = state.vault.reports().access_report(&caller, id).await?;
    if html {
        return Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], report.html()).into_response());
    }
    Ok(Json(AccessReportBody::from(report)).into_response())
}

/// `POST /v1/subjects/{id}/exports`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// `json`, `csv` or `html` (the copy of the data), or `report` (the access report, HTML).
    #[schema(example = "json")]
    pub format: String,
    /// The data-subject request this answers, if any.
    pub request: Option<uuid::Uuid>,
    /// How many days the link lives: 1 to 30, 7 if not given.
    #[schema(example = 7)]
    pub expires_in_days: Option<u32>,
}

/// A link made: its token is in this answer and nowhere else.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportBody {
    pub id: String,
    pub format: String,
    /// The link's path: `GET` it without an API key, once.
    #[schema(example = "/v1/downloads/q3Yb7n2pS0kLmX0f9tZrVwQeHjUa1cBdEoFgIh4sR5w")]
    pub path: String,
    /// The link's token (≥ 256 bits, base64url): shown once.
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Seals the access report or a copy of the subject's data under the subject's key and makes
/// a single-use link to it; journaled as `download.created`. The token is shown once.
#[utoipa::path(
    post,
    path = "/v1/subjects/{id}/exports",
    tag = "subjects",
    params(("id" = uuid::Uuid, Path, description = "The subject's id")),
    request_body(content = ExportRequest, content_type = "application/json"),
    responses((status = 201, description = "The link", body = ExportBody)),
)]
pub(crate) async fn create_export(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<SubjectPath>,
    JsonBody(body): JsonBody<ExportRequest>,
) -> Result<(StatusCode, Json<ExportBody>), ApiError> {
    let id = subject_id(&path.id)?;
    let format = ExportFormat::parse(&body.format)?;
    let issued = state
        .vault
        .reports()
        .export(
            &caller,
            id,
            format,
            body.request.map(RequestId::from_uuid),
            body.expires_in_days,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ExportBody {
            id: issued.id.to_string(),
            format: issued.format.as_str().to_owned(),
            path: issued.path(),
            token: issued.token.expose().to_owned(),
            created_at: issued.created_at,
            expires_at: issued.expires_at,
        }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    subject: Option<String>,
}

/// A download link as the officer sees it: never its token.
#[derive(Debug, Serialize, ToSchema)]
pub struct DownloadBody {
    pub id: String,
    pub subject: String,
    pub request: Option<String>,
    pub format: String,
    /// `pending`, `used` or `expired`.
    pub state: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub used_at: Option<OffsetDateTime>,
}

impl From<DownloadView> for DownloadBody {
    fn from(d: DownloadView) -> Self {
        Self {
            id: d.id.to_string(),
            subject: d.subject.to_string(),
            request: d.request.map(|r| r.to_string()),
            format: d.format,
            state: d.state.as_str().to_owned(),
            created_at: d.created_at,
            expires_at: d.expires_at,
            used_at: d.used_at,
        }
    }
}

/// A subject's download links.
#[derive(Debug, Serialize, ToSchema)]
pub struct DownloadsBody {
    pub downloads: Vec<DownloadBody>,
}

/// The subject's download links, oldest first: ids, formats, states; never tokens.
#[utoipa::path(
    get,
    path = "/v1/downloads",
    tag = "subjects",
    params(("subject" = uuid::Uuid, Query, description = "The subject's id (required)")),
    responses((status = 200, description = "The links", body = DownloadsBody)),
)]
pub(crate) async fn list_downloads(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<DownloadsBody>, ApiError> {
    let raw = q
        .subject
        .ok_or_else(|| ApiError::new(ProblemCode::InvalidQuery, "`subject` is required"))?;
    let id = subject_id(&raw)?;
    let downloads = state.vault.reports().downloads(&caller, id).await?;
    Ok(Json(DownloadsBody {
        downloads: downloads.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenPath {
    token: String,
}

/// Serves a download link's document, once, without an API key: the token is the authority.
/// A token no link has answers `404 download_not_found`, a used link `410 download_used`, an
/// expired one `410 download_expired`. Journaled as `download.served` (the download's id,
/// never the token) before the document is answered.
#[utoipa::path(
    get,
    path = "/v1/downloads/{token}",
    tag = "subjects",
    params(("token" = String, Path, description = "The link's token")),
    responses((status = 200, description = "The document: JSON, CSV or HTML, as an attachment")),
)]
pub(crate) async fn download(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<TokenPath>,
) -> Result<Response, ApiError> {
    let served = state.vault.reports().serve(&path.token).await?;
    let disposition = format!("attachment; filename=\"{}\"", served.format.file_name());
    Ok((
        [
            (header::CONTENT_TYPE, served.format.media_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        served.body,
    )
        .into_response())
}
