//! The API's one error type, rendered as RFC 9457 `application/problem+json`.
//!
//! Every failure, whether the vault's, an extractor's or the router's, becomes an [`ApiError`]
//! with a stable `code`. Details never contain submitted values: field names and purposes at
//! most, so an error body or log line cannot leak personal data.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use ward_core::AccessRefusal;
use ward_vault::{FieldProblem, VaultError};

/// The base of every problem `type` URI; the code is appended.
pub const PROBLEM_TYPE_BASE: &str = "https://ward.dev/problems/";

/// The media type of every error response.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// A problem the API can report: its stable code, HTTP status and title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemKind {
    pub code: &'static str,
    pub status: u16,
    pub title: &'static str,
}

const fn kind(code: &'static str, status: u16, title: &'static str) -> ProblemKind {
    ProblemKind { code, status, title }
}

/// Every problem code the API reports, with its status. Vault codes that are not listed here
/// still work: refusals default to 403, `Invalid` codes to 422, `NotFound` codes to 404.
pub const PROBLEMS: &[ProblemKind] = &[
    kind("invalid_json", 400, "The request body is malformed"),
    kind(
        "unknown_field_in_body",
        400,
        "The request body has a field this operation does not take",
    ),
    kind("invalid_query", 400, "The query string is not valid"),
    kind("invalid_path", 400, "The request path is not valid"),
    kind("invalid_subject_id", 400, "The subject id is not a UUID"),
    kind("invalid_visitor_id", 400, "The visitor id is not valid"),
    kind("purpose_required", 400, "A purpose is required"),
    kind("unknown_purpose", 400, "Unknown purpose"),
    kind("unauthorized", 401, "Missing or invalid API key"),
    kind("forbidden", 403, "Forbidden"),
    kind(
        "purpose_not_allowed_for_key",
        403,
        "This API key may not use the purpose",
    ),
    kind("consent_missing", 403, "The subject has not consented to the purpose"),
    kind(
        "consent_scope_exceeded",
        403,
        "The purpose was widened after the subject consented; the subject must consent again",
    ),
    kind(
        "category_not_allowed",
        403,
        "The purpose may not use this category of data",
    ),
    kind(
        "action_not_covered",
        403,
        "The purpose does not cover this processing action",
    ),
    kind("not_found", 404, "No such resource"),
    kind("subject_not_found", 404, "No such subject"),
    kind("api_key_not_found", 404, "No such API key"),
    kind("consent_not_found", 404, "No such consent"),
    kind(
        "unknown_consent_document",
        404,
        "The policy in force has no such consent document",
    ),
    kind("policy_version_not_found", 404, "No such policy version"),
    kind("death_not_recorded", 404, "No death is recorded for the subject"),
    kind(
        "visitor_not_found",
        404,
        "No cookie choice is on record for this visitor",
    ),
    kind("method_not_allowed", 405, "Method not allowed"),
    kind("conflict", 409, "Conflict"),
    kind("subject_erased", 410, "The subject's data has been erased"),
    kind("body_too_large", 413, "The request body is too large"),
    kind("unsupported_media_type", 415, "The request body must be JSON"),
    kind("unknown_field", 422, "Unknown field"),
    kind("invalid_fields", 422, "Some fields are invalid"),
    kind("invalid_evidence", 422, "The consent evidence is invalid"),
    kind("field_not_searchable", 422, "The field cannot be searched"),
    kind("consent_not_applicable", 422, "The purpose does not rest on consent"),
    kind("empty_change", 422, "Nothing to change"),
    kind("purposes_required", 422, "A service key needs purposes"),
    kind("purposes_not_applicable", 422, "An admin key takes no purposes"),
    kind("invalid_key_name", 422, "Invalid key name"),
    kind("invalid_policy", 422, "The policy has problems"),
    kind("invalid_age_band", 422, "The age band is not valid"),
    kind(
        "guardian_consent_required",
        422,
        "The subject is below the age to consent alone",
    ),
    kind(
        "ambiguous_policy_version",
        422,
        "The version prefix matches several versions",
    ),
    kind(
        "written_consent_required",
        422,
        "This consent must be given in writing (signed paper or e-signature)",
    ),
    kind(
        "signature_required",
        422,
        "An e-signature consent needs the signed artefact and its verification",
    ),
    kind("invalid_signature", 422, "The e-signature evidence is not valid"),
    kind("signature_not_valid", 422, "The signature was not verified as valid"),
    kind(
        "distribution_terms_required",
        422,
        "A distribution consent lists the categories permitted to be made public",
    ),
    kind(
        "invalid_distribution_terms",
        422,
        "The distribution terms are not valid",
    ),
    kind(
        "separate_consent_required",
        422,
        "This consent is a separate document and must be given on its own",
    ),
    kind(
        "heir_consent_required",
        422,
        "The subject has died; consent is given by their heirs",
    ),
    kind("invalid_notice", 422, "The policy notice is not valid"),
    kind("invalid_death_record", 422, "The death record is not valid"),
    kind("invalid_banner_version", 422, "The banner version is not valid"),
    kind("unknown_cookie_category", 422, "Unknown cookie category"),
    kind(
        "invalid_cookie_choice",
        422,
        "A cookie choice must be `granted` or `denied`",
    ),
    kind(
        "necessary_cannot_be_denied",
        422,
        "Strictly necessary cookies cannot be denied",
    ),
    kind("internal_error", 500, "Internal error"),
    kind("storage_unavailable", 503, "Storage is unavailable"),
];

/// The catalog entry for `code`, if it is listed.
pub fn problem_kind(code: &str) -> Option<&'static ProblemKind> {
    PROBLEMS.iter().find(|k| k.code == code)
}

/// An RFC 9457 problem details document, as sent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `https://ward.dev/problems/<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this case. Never contains a submitted value.
    pub detail: String,
    /// The stable, machine-readable problem code.
    pub code: String,
    /// Per-field problems, for `invalid_fields`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One problem with one input field. Names the field, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// A problem with the field `name`. A name that is not shaped like a field name (a
    /// value pasted where a name belongs) is replaced, so it is not echoed.
    pub(crate) fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        let name = name.into();
        let field = if looks_like_identifier(&name) {
            name
        } else {
            UNNAMED_FIELD.to_owned()
        };
        Self {
            field,
            message: message.into(),
        }
    }
}

impl From<FieldProblem> for FieldError {
    fn from(p: FieldProblem) -> Self {
        Self::new(p.field, p.message)
    }
}

/// Stands in for a field name that is not shaped like one.
const UNNAMED_FIELD: &str = "(not a field name)";

/// Whether a client-sent name may be quoted back: it is shaped like a policy name (1 to 64
/// characters of a-z, 0-9 and `_`, starting with a letter). Anything else is no field or
/// purpose Ward knows, and may be a value.
pub(crate) fn looks_like_identifier(s: &str) -> bool {
    s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The names a refusal quotes.
fn refusal_names(r: &AccessRefusal) -> Vec<&str> {
    match r {
        AccessRefusal::UnknownPurpose(p)
        | AccessRefusal::PurposeNotAllowedForKey(p)
        | AccessRefusal::ConsentMissing(p) => vec![p],
        AccessRefusal::ActionNotCovered { purpose, .. } => vec![purpose],
        AccessRefusal::CategoryNotAllowed {
            field,
            category,
            purpose,
        } => vec![field, category, purpose],
        AccessRefusal::UnknownField(f) => vec![f],
        AccessRefusal::ConsentScopeExceeded {
            field,
            category,
            purpose,
        } => vec![field, category, purpose],
        AccessRefusal::SubjectErased => vec![],
    }
}

/// Why a request failed. Renders as `application/problem+json`.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
}

impl ApiError {
    /// A problem from the catalog (see [`PROBLEMS`]).
    pub(crate) fn new(code: &'static str, detail: impl Into<String>) -> Self {
        let k = problem_kind(code);
        let status = k
            .and_then(|k| StatusCode::from_u16(k.status).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::with_status(status, code, detail)
    }

    fn with_status(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        let title = problem_kind(code).map_or_else(|| status.canonical_reason().unwrap_or("Error"), |k| k.title);
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub(crate) fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            "unauthorized",
            "send a valid API key as `Authorization: Bearer <token>`",
        )
    }

    pub(crate) fn internal() -> Self {
        Self::new("internal_error", "an internal error occurred; it has been logged")
    }

    pub(crate) fn invalid_fields(errors: Vec<FieldError>) -> Self {
        Self::new("invalid_fields", "some fields are invalid; see `errors`").with_errors(errors)
    }

    pub(crate) fn admin_only() -> Self {
        VaultError::Forbidden("this operation needs an admin key".into()).into()
    }

    fn body(&self) -> Problem {
        Problem {
            type_uri: format!("{PROBLEM_TYPE_BASE}{}", self.code),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_owned(),
            errors: self.errors.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl std::error::Error for ApiError {}

impl From<VaultError> for ApiError {
    fn from(e: VaultError) -> Self {
        let code = e.code();
        match e {
            VaultError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ApiError::internal()
            }
            VaultError::Unavailable(cause) => {
                tracing::error!(%cause, "storage unavailable");
                ApiError::new(
                    "storage_unavailable",
                    "storage is unavailable; nothing was changed; try again later",
                )
            }
            VaultError::InvalidFields(problems) => {
                ApiError::invalid_fields(problems.into_iter().map(Into::into).collect())
            }
            VaultError::Invalid { message, .. } => {
                ApiError::with_status(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            VaultError::NotFound(_, message) => ApiError::with_status(StatusCode::NOT_FOUND, code, message),
            VaultError::SubjectNotFound
            | VaultError::Unauthorized
            | VaultError::Forbidden(_)
            | VaultError::Conflict(_) => {
                let detail = e.to_string();
                ApiError::new(code, detail)
            }
            VaultError::Refused(refusal) => {
                let status = problem_kind(code)
                    .and_then(|k| StatusCode::from_u16(k.status).ok())
                    .unwrap_or(StatusCode::FORBIDDEN);
                let detail = if refusal_names(&refusal).iter().all(|n| looks_like_identifier(n)) {
                    refusal.to_string()
                } else {
                    problem_kind(code).map_or("access refused", |k| k.title).to_owned()
                };
                ApiError::with_status(status, code, detail)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match serde_json::to_vec(&self.body()) {
            Ok(b) => b,
            Err(_) => br#"{"type":"https://ward.dev/problems/internal_error","title":"Internal error","status":500,"detail":"an internal error occurred","code":"internal_error"}"#.to_vec(),
        };
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ward\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_errors_map_to_the_documented_statuses() {
        let cases: Vec<(VaultError, u16)> = vec![
            (AccessRefusal::UnknownPurpose("x".into()).into(), 400),
            (AccessRefusal::PurposeNotAllowedForKey("x".into()).into(), 403),
            (VaultError::Forbidden("no".into()), 403),
            (AccessRefusal::ConsentMissing("x".into()).into(), 403),
            (
                AccessRefusal::CategoryNotAllowed {
                    field: "f".into(),
                    category: "c".into(),
                    purpose: "p".into(),
                }
                .into(),
                403,
            ),
            (
                AccessRefusal::ActionNotCovered {
                    purpose: "p".into(),
                    action: ward_core::ProcessingAction::Use,
                }
                .into(),
                403,
            ),
            (AccessRefusal::SubjectErased.into(), 410),
            (VaultError::SubjectNotFound, 404),
            (VaultError::NotFound("api_key_not_found", "no".into()), 404),
            (VaultError::NotFound("consent_not_found", "no".into()), 404),
            (VaultError::NotFound("something_new_not_found", "no".into()), 404),
            (AccessRefusal::UnknownField("f".into()).into(), 422),
            (VaultError::InvalidFields(vec![]), 422),
            (
                VaultError::Invalid {
                    code: "invalid_evidence",
                    message: "m".into(),
                },
                422,
            ),
            (
                VaultError::Invalid {
                    code: "field_not_searchable",
                    message: "m".into(),
                },
                422,
            ),
            (
                VaultError::Invalid {
                    code: "brand_new_code",
                    message: "m".into(),
                },
                422,
            ),
            (VaultError::Conflict("c".into()), 409),
            (VaultError::Unauthorized, 401),
            (VaultError::Unavailable("db down".into()), 503),
            (VaultError::Internal("secret cause".into()), 500),
        ];
        for (e, status) in cases {
            let code = e.code();
            let api = ApiError::from(e);
            assert_eq!(api.status().as_u16(), status, "{code}");
            assert_eq!(api.code(), code);
        }
    }

    #[test]
    fn internal_causes_are_not_shown() {
        let api = ApiError::from(VaultError::Internal("the secret cause".into()));
        assert!(!api.detail().contains("secret"));
        let api = ApiError::from(VaultError::Unavailable("connection to 10.0.0.1 refused".into()));
        assert!(!api.detail().contains("10.0.0.1"));
    }

    #[test]
    fn names_that_may_be_values_are_not_echoed() {
        let api = ApiError::from(VaultError::from(AccessRefusal::UnknownPurpose(
            "anna@example.com".into(),
        )));
        assert!(!api.detail().contains("anna"), "{}", api.detail());
        let api = ApiError::from(VaultError::from(AccessRefusal::UnknownPurpose("selling".into())));
        assert!(api.detail().contains("`selling`"), "{}", api.detail());
        let api = ApiError::from(VaultError::InvalidFields(vec![FieldProblem {
            field: "+7 916 123-45-67".into(),
            message: "m".into(),
        }]));
        assert_eq!(api.errors()[0].field, UNNAMED_FIELD);
    }

    #[test]
    fn the_catalog_has_unique_codes_and_error_statuses() {
        for (i, k) in PROBLEMS.iter().enumerate() {
            assert!(PROBLEMS[..i].iter().all(|o| o.code != k.code), "duplicate {}", k.code);
            assert!((400..600).contains(&k.status), "{}", k.code);
            assert!(StatusCode::from_u16(k.status).is_ok());
        }
    }
}
