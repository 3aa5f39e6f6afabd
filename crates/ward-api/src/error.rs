//! The API's one error type, rendered as RFC 9457 `application/problem+json`.
//!
//! Every failure, whether the vault's, an extractor's or the router's, becomes an [`ApiError`]
//! with a stable `code`. Details never contain submitted values: field names and purposes at
//! most, so an error body or log line cannot leak personal data.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use ward_core::{AccessRefusal, ProblemCode};
use ward_vault::{FieldProblem, VaultError};

/// The base of every problem `type` URI; the code is appended.
pub const PROBLEM_TYPE_BASE: &str = "https://ward.dev/problems/";

/// The media type of every error response.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// A problem code's catalog entry: its wire string, HTTP status and title, as
/// [`ProblemCode`] derives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemKind {
    pub code: &'static str,
    pub status: u16,
    pub title: &'static str,
}

impl From<ProblemCode> for ProblemKind {
    fn from(p: ProblemCode) -> Self {
        Self {
            code: p.as_str(),
            status: p.status(),
            title: p.title(),
        }
    }
}

/// The catalog entry for the wire code `code`, if Ward has such a code.
pub fn problem_kind(code: &str) -> Option<ProblemKind> {
    ProblemCode::parse(code).map(Into::into)
}

/// The HTTP status of `code`.
pub(crate) fn status_of(code: ProblemCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
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
    #[schema(schema_with = code_schema)]
    pub code: String,
    /// Per-field problems, for `invalid_fields`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The schema of a problem's `code`: a string, one of [`ProblemCode::ALL`].
fn code_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .description(Some("The stable, machine-readable problem code."))
        .enum_values(Some(ProblemCode::ALL.iter().map(|c| c.as_str())))
        .build()
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
        AccessRefusal::ActionNotCovered { purpose, .. } | AccessRefusal::BasisNotEstablished { purpose, .. } => {
            vec![purpose]
        }
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
    code: ProblemCode,
    detail: String,
    errors: Vec<FieldError>,
}

impl ApiError {
    /// A problem with `code`, answered with the code's status.
    pub(crate) fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub(crate) fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn status(&self) -> StatusCode {
        status_of(self.code)
    }

    pub fn code(&self) -> ProblemCode {
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
            ProblemCode::Unauthorized,
            "send a valid API key as `Authorization: Bearer <token>`",
        )
    }

    pub(crate) fn internal() -> Self {
        Self::new(
            ProblemCode::InternalError,
            "an internal error occurred; it has been logged",
        )
    }

    pub(crate) fn invalid_fields(errors: Vec<FieldError>) -> Self {
        Self::new(ProblemCode::InvalidFields, "some fields are invalid; see `errors`").with_errors(errors)
    }

    /// The problem document this error is sent as.
    pub(crate) fn body(&self) -> Problem {
        Problem {
            type_uri: format!("{PROBLEM_TYPE_BASE}{}", self.code),
            title: self.code.title().to_owned(),
            status: self.code.status(),
            detail: self.detail.clone(),
            code: self.code.as_str().to_owned(),
            errors: self.errors.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code.status(), self.code, self.detail)
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
                ApiError::new(code, "storage is unavailable; nothing was changed; try again later")
            }
            VaultError::InvalidFields(problems) => {
                ApiError::invalid_fields(problems.into_iter().map(Into::into).collect())
            }
            VaultError::Invalid { message, .. } | VaultError::NotFound(_, message) => ApiError::new(code, message),
            VaultError::SubjectNotFound
            | VaultError::Unauthorized
            | VaultError::Forbidden(_)
            | VaultError::Conflict(_) => ApiError::new(code, e.to_string()),
            VaultError::Refused(refusal) => {
                let detail = if refusal_names(&refusal).iter().all(|n| looks_like_identifier(n)) {
                    refusal.to_string()
                } else {
                    code.title().to_owned()
                };
                ApiError::new(code, detail)
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
        let status = self.status();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE));
        if status == StatusCode::UNAUTHORIZED {
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
            (VaultError::NotFound(ProblemCode::ApiKeyNotFound, "no".into()), 404),
            (VaultError::NotFound(ProblemCode::ConsentNotFound, "no".into()), 404),
            (AccessRefusal::UnknownField("f".into()).into(), 422),
            (VaultError::InvalidFields(vec![]), 422),
            (
                VaultError::Invalid {
                    code: ProblemCode::InvalidEvidence,
                    message: "m".into(),
                },
                422,
            ),
            (
                VaultError::Invalid {
                    code: ProblemCode::FieldNotSearchable,
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
    fn every_code_renders_with_its_status_and_title() {
        for &code in ProblemCode::ALL {
            let e = ApiError::new(code, "d");
            assert_eq!(e.status().as_u16(), code.status(), "{code}");
            let body = e.body();
            assert_eq!(body.code, code.as_str());
            assert_eq!(body.title, code.title());
            assert_eq!(body.type_uri, format!("{PROBLEM_TYPE_BASE}{code}"));
            let kind = problem_kind(code.as_str()).expect("catalogued");
            assert_eq!((kind.status, kind.title), (code.status(), code.title()));
        }
    }
}
