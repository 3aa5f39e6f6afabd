//! Website visitors' cookie and tracking consent: recording a browser's choice (honouring
//! Global Privacy Control), reading it back, and linking the visitor to a subject at sign-in.
//!
//! The visitor id in the path is an online identifier, i.e. personal data: it is never
//! echoed in a response or an error, never logged (requests are logged by route template),
//! and stored only as a keyed hash.

use crate::error::ApiError;
use crate::extract::{ApiPath, AuthCaller, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use utoipa::ToSchema;
use ward_core::cookies::{CookieCategory, CookieChoice, VisitorId};
use ward_core::ProblemCode;
use ward_vault::{CookieConsentHistory, CookieConsentView};

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    (
        "record_cookie_consent",
        &[
            ProblemCode::InvalidVisitorId,
            ProblemCode::InvalidPath,
            ProblemCode::InvalidBannerVersion,
            ProblemCode::UnknownCookieCategory,
            ProblemCode::InvalidCookieChoice,
            ProblemCode::NecessaryCannotBeDenied,
        ],
    ),
    (
        "list_cookie_consents",
        &[ProblemCode::InvalidVisitorId, ProblemCode::InvalidPath],
    ),
    (
        "link_visitor",
        &[
            ProblemCode::InvalidVisitorId,
            ProblemCode::InvalidPath,
            ProblemCode::InvalidSubjectId,
            ProblemCode::Forbidden,
            ProblemCode::VisitorNotFound,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
            ProblemCode::Conflict,
        ],
    ),
];

/// The request header of Global Privacy Control.
const SEC_GPC: &str = "sec-gpc";

/// Whether the request carries `Sec-GPC: 1` (any other value, or none, is no signal).
fn gpc(headers: &HeaderMap) -> bool {
    headers
        .get(SEC_GPC)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "1")
}

fn visitor_id(raw: &str) -> Result<VisitorId, ApiError> {
    VisitorId::parse(raw).ok_or_else(|| {
        ApiError::new(
            ProblemCode::InvalidVisitorId,
            "the visitor id in the path must be 8 to 128 characters of A-Z, a-z, 0-9, `_` and `-`",
        )
    })
}

/// A visitor's answer for one cookie category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CookieChoiceBody {
    Granted,
    Denied,
}

impl From<CookieChoice> for CookieChoiceBody {
    fn from(c: CookieChoice) -> Self {
        match c {
            CookieChoice::Granted => CookieChoiceBody::Granted,
            CookieChoice::Denied => CookieChoiceBody::Denied,
        }
    }
}

/// `POST /v1/visitors/{visitor_id}/consents`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CookieConsentRequest {
    /// The version of the cookie banner the visitor answered: 1 to 64 characters of A-Z,
    /// a-z, 0-9, `.`, `_`, `:`, `+`, `-`.
    #[schema(example = "2026-11")]
    pub banner_version: String,
    /// Category (`necessary`, `functional`, `analytics`, `marketing`) → `granted` or
    /// `denied`. A category left out is denied; `necessary` is always granted and may not be
    /// denied. With `Sec-GPC: 1`, `marketing` is denied whatever is sent here.
    #[serde(default)]
    #[schema(
        value_type = BTreeMap<String, CookieChoiceBody>,
        example = json!({"analytics": "granted", "marketing": "denied", "functional": "granted"}),
    )]
    pub choices: BTreeMap<String, String>,
}

/// Every cookie category with its answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CookieChoicesBody {
    /// Strictly necessary: always granted.
    pub necessary: CookieChoiceBody,
    /// Preferences beyond what is strictly necessary.
    pub functional: CookieChoiceBody,
    /// Measurement of how the site is used.
    pub analytics: CookieChoiceBody,
    /// Advertising and marketing: sale or sharing of data, targeted advertising.
    pub marketing: CookieChoiceBody,
}

impl CookieChoicesBody {
    fn from_map(choices: &BTreeMap<CookieCategory, CookieChoice>) -> Self {
        let get = |c| choices.get(&c).copied().unwrap_or(CookieChoice::Denied).into();
        Self {
            // A record always holds `necessary`; shown granted even if an old one did not.
            necessary: CookieChoiceBody::Granted,
            functional: get(CookieCategory::Functional),
            analytics: get(CookieCategory::Analytics),
            marketing: get(CookieCategory::Marketing),
        }
    }
}

/// One recorded cookie choice: the proof of consent.
#[derive(Debug, Serialize, ToSchema)]
pub struct CookieConsentBody {
    /// The banner version answered.
    pub banner_version: String,
    pub choices: CookieChoicesBody,
    /// The browser sent `Sec-GPC: 1` (Global Privacy Control): an opt-out of sale, sharing
    /// and targeted advertising.
    pub gpc: bool,
    /// GPC turned the visitor's grant of `marketing` into a denial.
    pub gpc_overrode: bool,
    /// When it was recorded (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The visitor is linked to a subject (who signed in).
    pub linked: bool,
}

impl From<CookieConsentView> for CookieConsentBody {
    fn from(v: CookieConsentView) -> Self {
        Self {
            choices: CookieChoicesBody::from_map(&v.choices),
            banner_version: v.banner_version,
            gpc: v.gpc,
            gpc_overrode: v.gpc_overrode,
            at: v.at,
            linked: v.linked,
        }
    }
}

/// A visitor's cookie choices.
#[derive(Debug, Serialize, ToSchema)]
pub struct CookieConsentList {
    /// The choice in force; `null` if the visitor has made none yet.
    pub current: Option<CookieConsentBody>,
    /// Every choice recorded, oldest first.
    pub history: Vec<CookieConsentBody>,
}

impl From<CookieConsentHistory> for CookieConsentList {
    fn from(h: CookieConsentHistory) -> Self {
        Self {
            current: h.current.map(Into::into),
            history: h.history.into_iter().map(Into::into).collect(),
        }
    }
}

/// `POST /v1/visitors/{visitor_id}/link`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkVisitorRequest {
    /// The subject who signed in on this browser.
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct VisitorPath {
    visitor_id: String,
}

/// Records a browser's cookie choice against the banner version, honouring Global Privacy
/// Control. Any API key may record (the choice comes from the website).
#[utoipa::path(
    post,
    path = "/v1/visitors/{visitor_id}/consents",
    tag = "visitors",
    params(
        ("visitor_id" = String, Path, description = "The id the website keeps in the browser's first-party cookie: 8 to 128 characters of A-Z, a-z, 0-9, `_`, `-`. Personal data: stored only as a keyed hash."),
        ("Sec-GPC" = Option<String>, Header, description = "`1`: Global Privacy Control is on; `marketing` is then denied, and the record says so. Forward the browser's header."),
    ),
    request_body(content = CookieConsentRequest, content_type = "application/json"),
    responses((status = 201, description = "The choice as recorded, after the rules", body = CookieConsentBody)),
)]
pub(crate) async fn record_cookie_consent(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<VisitorPath>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CookieConsentRequest>,
) -> Result<(StatusCode, Json<CookieConsentBody>), ApiError> {
    let visitor = visitor_id(&path.visitor_id)?;
    let view = state
        .vault
        .visitors()
        .record_consent(&caller, &visitor, &body.banner_version, &body.choices, gpc(&headers))
        .await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// The visitor's cookie choice in force and every earlier one (a change of mind, such as a
/// withdrawal, is a new record).
#[utoipa::path(
    get,
    path = "/v1/visitors/{visitor_id}/consents",
    tag = "visitors",
    params(("visitor_id" = String, Path, description = "The visitor id (see `POST`)")),
    responses((status = 200, description = "The choices, possibly none", body = CookieConsentList)),
)]
pub(crate) async fn list_cookie_consents(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<VisitorPath>,
) -> Result<Json<CookieConsentList>, ApiError> {
    let visitor = visitor_id(&path.visitor_id)?;
    Ok(Json(state.vault.visitors().consents(&caller, &visitor).await?.into()))
}

/// Links the visitor's cookie choices, past and later ones, to the subject who signed in.
/// They are then the subject's data: erasing the subject deletes them. A visitor links to one
/// subject only; give the browser a new visitor id when a user signs out. Needs an admin key
/// or a key with a purpose that covers collection.
#[utoipa::path(
    post,
    path = "/v1/visitors/{visitor_id}/link",
    tag = "visitors",
    params(("visitor_id" = String, Path, description = "The visitor id (see `POST …/consents`)")),
    request_body(content = LinkVisitorRequest, content_type = "application/json"),
    responses((status = 204, description = "The visitor is linked")),
)]
pub(crate) async fn link_visitor(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<VisitorPath>,
    JsonBody(body): JsonBody<LinkVisitorRequest>,
) -> Result<StatusCode, ApiError> {
    let visitor = visitor_id(&path.visitor_id)?;
    let subject = body
        .subject_id
        .parse()
        .map_err(|_| ApiError::new(ProblemCode::InvalidSubjectId, "`subject_id` is not a UUID"))?;
    state.vault.visitors().link(&caller, &visitor, subject).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn only_sec_gpc_1_is_a_signal() {
        let mut h = HeaderMap::new();
        assert!(!gpc(&h));
        for (v, on) in [
            ("1", true),
            (" 1 ", true),
            ("0", false),
            ("true", false),
            ("", false),
            ("11", false),
        ] {
            h.insert(SEC_GPC, HeaderValue::from_static(v));
            assert_eq!(gpc(&h), on, "{v:?}");
        }
    }

    #[test]
    fn bad_visitor_ids_are_not_echoed() {
        let e = visitor_id("anna@example.org").unwrap_err();
        assert_eq!(e.code(), "invalid_visitor_id");
        assert!(!e.detail().contains("anna"));
    }
}
