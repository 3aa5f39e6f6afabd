//! Extractors. Each rejects with an [`ApiError`], so every failure is a problem document, and
//! none echoes what the client sent.

use crate::error::{looks_like_identifier, ApiError};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use ward_core::{Caller, ProblemCode, SubjectId};

/// The authenticated caller. Every `/v1` handler takes one, so none can forget to
/// authenticate: `Authorization: Bearer <token>`, checked by the vault.
#[derive(Debug, Clone)]
pub(crate) struct AuthCaller(pub Caller);

impl FromRequestParts<AppState> for AuthCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        match state.vault.api_keys().authenticate(token).await {
            Ok(caller) => Ok(AuthCaller(caller)),
            Err(ward_vault::VaultError::Unauthorized) => Err(ApiError::unauthorized()),
            Err(e) => Err(e.into()),
        }
    }
}

/// The caller `headers` authenticate, if they do (for layers that act before the handler; the
/// handler's [`AuthCaller`] still decides what to answer).
pub(crate) async fn caller(state: &AppState, headers: &HeaderMap) -> Option<Caller> {
    state.vault.api_keys().authenticate(bearer_token(headers)?).await.ok()
}

/// The token of the one `Authorization: Bearer` header, if there is exactly one.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.to_str().ok()?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A JSON request body. Requires a JSON content type; reports syntax errors by position and
/// shape errors by field name and expected type, never with the offending value.
#[derive(Debug, Clone)]
pub(crate) struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                ProblemCode::UnsupportedMediaType,
                "send the request body as JSON, with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| json_error(&e))
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn body_rejection(r: BytesRejection) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ProblemCode::BodyTooLarge,
            "the request body is larger than this server accepts",
        )
    } else {
        ApiError::new(ProblemCode::InvalidJson, "the request body could not be read")
    }
}

/// Turns a `serde_json` error into a problem without the input's values: `serde_json` quotes
/// scalars it did not expect (`invalid type: integer `5``), so only the parts Ward's own types
/// wrote (field names, expected types) are kept.
fn json_error(e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        Category::Eof if e.line() == 1 && e.column() == 0 => {
            ApiError::new(ProblemCode::InvalidJson, "the request body is empty")
        }
        Category::Eof => ApiError::new(
            ProblemCode::InvalidJson,
            format!("the request body ends before the JSON value does ({at})"),
        ),
        Category::Syntax | Category::Io => ApiError::new(
            ProblemCode::InvalidJson,
            format!("the request body is not valid JSON ({at})"),
        ),
        Category::Data => {
            let message = e.to_string();
            let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m);
            match describe_shape_error(message) {
                ShapeError::UnknownField(name) => ApiError::new(
                    ProblemCode::UnknownFieldInBody,
                    format!(
                        "{} is not a field of this request body ({at})",
                        quoted_name(name, "a field")
                    ),
                ),
                ShapeError::Other(what) => ApiError::new(ProblemCode::InvalidJson, format!("{what} ({at})")),
            }
        }
    }
}

enum ShapeError<'a> {
    UnknownField(Option<&'a str>),
    Other(String),
}

/// Reads a serde error message, keeping only what Ward's types put there.
fn describe_shape_error(message: &str) -> ShapeError<'_> {
    let expected = |m: &str| m.rfind(", expected ").map(|i| m[i + ", expected ".len()..].to_owned());
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let end = rest
            .rfind("`, expected")
            .or_else(|| rest.rfind("`, there are no fields"));
        return ShapeError::UnknownField(end.map(|i| &rest[..i]));
    }
    if let Some(rest) = message
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        return ShapeError::Other(format!("the field `{rest}` is missing"));
    }
    if let Some(rest) = message
        .strip_prefix("duplicate field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        return ShapeError::Other(format!("the field `{rest}` appears twice"));
    }
    let described = if message.starts_with("invalid type: ") {
        expected(message).map(|x| format!("a value has the wrong type: expected {x}"))
    } else if message.starts_with("invalid value: ") {
        expected(message).map(|x| format!("a value is not valid: expected {x}"))
    } else if message.starts_with("invalid length ") {
        expected(message).map(|x| format!("a list has the wrong length: expected {x}"))
    } else if message.starts_with("unknown variant `") {
        expected(message).map(|x| format!("a value is not one of the allowed ones: expected {x}"))
    } else {
        None
    };
    ShapeError::Other(described.unwrap_or_else(|| "the request body does not have the expected shape".to_owned()))
}

/// A name the client sent, quoted if it looks like an identifier; otherwise `placeholder`, so
/// a value pasted where a name belongs is not echoed.
fn quoted_name(name: Option<&str>, placeholder: &str) -> String {
    match name {
        Some(n) if looks_like_identifier(n) => format!("`{n}`"),
        _ => placeholder.to_owned(),
    }
}

/// Path parameters; a rejection is `invalid_path`.
#[derive(Debug, Clone)]
pub(crate) struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(t)) => Ok(ApiPath(t)),
            Err(r) => Err(path_rejection(&r)),
        }
    }
}

fn path_rejection(r: &PathRejection) -> ApiError {
    if r.status().is_server_error() {
        tracing::error!(rejection = %r.body_text(), "path extraction misconfigured");
        return ApiError::internal();
    }
    ApiError::new(ProblemCode::InvalidPath, "a path parameter is not valid")
}

/// Query parameters; a rejection is `invalid_query`, naming an unknown parameter if the
/// name looks like one.
#[derive(Debug, Clone)]
pub(crate) struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(t)) => Ok(ApiQuery(t)),
            Err(r) => Err(query_rejection(&r)),
        }
    }
}

fn query_rejection(r: &QueryRejection) -> ApiError {
    // `Failed to deserialize query string: <path>: <serde message>`.
    let text = r.body_text();
    let detail = if let Some(i) = text.find("unknown field `") {
        match describe_shape_error(&text[i..]) {
            ShapeError::UnknownField(name) => format!(
                "{} is not a query parameter of this operation",
                quoted_name(name, "a parameter")
            ),
            ShapeError::Other(_) => "a query parameter is not one of this operation's".to_owned(),
        }
    } else if text.contains("duplicate field `") {
        "a query parameter appears twice".to_owned()
    } else {
        "the query string is not valid".to_owned()
    };
    ApiError::new(ProblemCode::InvalidQuery, detail)
}

/// Parses a subject id from a path segment.
pub(crate) fn subject_id(raw: &str) -> Result<SubjectId, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            ProblemCode::InvalidSubjectId,
            "the subject id in the path is not a UUID",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: Option<u32>,
        role: Option<ward_core::access::Role>,
    }

    fn problem(json: &str) -> ApiError {
        json_error(&serde_json::from_str::<Body>(json).unwrap_err())
    }

    #[test]
    fn shape_errors_never_echo_values() {
        for json in [
            r#"{"name": 5123}"#,
            r#"{"name": "x", "count": "5123"}"#,
            r#"{"name": "x", "count": -5123}"#,
            r#"{"name": "x", "role": "5123"}"#,
            r#"{"name": [5123]}"#,
            r#"{"name": "x", "anna5123@example.com": 1}"#,
            r#"{"name": "5123"#,
            r#"{"name": 5123 "#,
            r#"{"name": tru5123}"#,
        ] {
            let p = problem(json);
            assert!(!p.detail().contains("5123"), "{json}: {}", p.detail());
            assert_eq!(p.status(), StatusCode::BAD_REQUEST, "{json}");
        }
    }

    #[test]
    fn shape_errors_say_what_was_expected() {
        let p = problem(r#"{"name": 5}"#);
        assert_eq!(p.code(), "invalid_json");
        assert!(p.detail().contains("expected a string"), "{}", p.detail());
        let p = problem(r#"{"count": 5}"#);
        assert!(p.detail().contains("`name` is missing"), "{}", p.detail());
        let p = problem(r#"{"name": "x", "colour": 1}"#);
        assert_eq!(p.code(), "unknown_field_in_body");
        assert!(p.detail().contains("`colour`"), "{}", p.detail());
        let p = problem(r#"{"name": "x", "role": "root"}"#);
        assert!(p.detail().contains("`admin`"), "{}", p.detail());
        assert_eq!(problem("").detail(), "the request body is empty");
        assert_eq!(problem("{").code(), "invalid_json");
        assert_eq!(problem("{]").code(), "invalid_json");
    }

    #[test]
    fn bearer_tokens_are_read_strictly() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer ward_abc_def"));
        assert_eq!(bearer_token(&h), Some("ward_abc_def"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer  ward_abc_def "));
        assert_eq!(bearer_token(&h), Some("ward_abc_def"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic dXNlcjpwYXNz"));
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer"));
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer a"));
        h.append(header::AUTHORIZATION, HeaderValue::from_static("Bearer b"));
        assert_eq!(bearer_token(&h), None);
    }

    #[test]
    fn json_content_types() {
        let mut h = HeaderMap::new();
        assert!(!is_json(&h));
        for (ct, ok) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/merge-patch+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            assert_eq!(is_json(&h), ok, "{ct}");
        }
    }
}
