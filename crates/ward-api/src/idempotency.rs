//! The `Idempotency-Key` header on every creating `POST` (every `POST` under `/v1/` but the
//! ones in [`NOT_CREATING`]). The same caller sending the same request (method, path and
//! body) with the same key within 24 hours gets the first answer again, with
//! `Idempotent-Replayed: true`, and nothing is done twice; the same key with another request
//! is `422 idempotency_key_reused`; a key whose first request is not answered yet is
//! `409 idempotency_in_progress`; a key that is empty, longer than 255 characters or not
//! visible ASCII is `400 invalid_idempotency_key`. The rules and the store are the vault's
//! (`ward_vault::idempotency`); this layer reads the header and the body, and keeps the
//! answer's status, content type, `Location` and body.

use crate::error::ApiError;
use crate::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ward_core::ProblemCode;
use ward_vault::idempotency::{fingerprint, valid_key, Answer, Checked};

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// The answer's header on a replay.
pub const REPLAYED: &str = "Idempotent-Replayed";

/// `POST` routes under `/v1/` that ignore the header: a lookup creates nothing (it is a
/// journaled read, which a replay would skip), and a journal checkpoint is idempotent by
/// itself (the head is signed only if it moved since the last checkpoint).
pub const NOT_CREATING: &[&str] = &["/v1/subjects/lookup", "/v1/journal/checkpoints"];

/// Whether the route `template` takes the header with `method`.
pub(crate) fn takes_key(method: &Method, template: &str) -> bool {
    method == Method::POST && template.starts_with("/v1/") && !NOT_CREATING.contains(&template)
}

/// The layer: see the module's documentation.
pub(crate) async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let template = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let Some(template) = template.filter(|t| takes_key(req.method(), t)) else {
        return next.run(req).await;
    };
    let Some(value) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let Some(key) = value.to_str().ok().filter(|k| valid_key(k)).map(str::to_owned) else {
        return ApiError::new(
            ProblemCode::InvalidIdempotencyKey,
            "the Idempotency-Key header must be 1 to 255 visible ASCII characters (a UUID, say)",
        )
        .into_response();
    };
    // The key is the caller's own: without a valid caller the handler refuses the request.
    let Some(caller) = crate::extract::caller(&state, req.headers()).await else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, state.max_key_body_bytes).await else {
        return ApiError::new(ProblemCode::BodyTooLarge, "the request body is too large").into_response();
    };
    let path = parts.uri.path_and_query().map_or(template.as_str(), |p| p.as_str());
    let idem = state.vault.idempotency();
    let key = idem.key_hash(&caller, &key);
    let ticket = match idem
        .check(&caller, key, fingerprint(parts.method.as_str(), path, &bytes))
        .await
    {
        Ok(Checked::Run(ticket)) => ticket,
        Ok(Checked::Replay(answer)) => return replay(&answer),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let req = Request::from_parts(parts, Body::from(bytes));
    let (resp, claimed) = idem.run(&ticket, next.run(req)).await;
    if !claimed {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        tracing::error!("reading an answer to record it under its idempotency key");
        return ApiError::internal().into_response();
    };
    let answer = Answer {
        status: parts.status.as_u16(),
        body: envelope(&parts.headers, &bytes),
    };
    if let Err(e) = idem.complete(&ticket, &answer).await {
        // The change is done; a retry is told the answer was not recorded, never done again.
        tracing::error!(error = %e, "recording an answer under its idempotency key");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The headers kept with an answer.
const KEPT: [header::HeaderName; 2] = [header::CONTENT_TYPE, header::LOCATION];

/// The answer's kept headers and body, as stored: per kept header, its length (`u16`, big
/// endian; `0xFFFF` when absent) and value; then the body.
fn envelope(headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 64);
    for name in &KEPT {
        match headers.get(name) {
            Some(v) if v.len() < 0xFFFF => {
                out.extend_from_slice(&u16::try_from(v.len()).unwrap_or(0).to_be_bytes());
                out.extend_from_slice(v.as_bytes());
            }
            _ => out.extend_from_slice(&0xFFFF_u16.to_be_bytes()),
        }
    }
    out.extend_from_slice(body);
    out
}

/// The stored answer, sent again.
fn replay(answer: &Answer) -> Response {
    let mut rest = answer.body.as_slice();
    let mut headers = HeaderMap::new();
    for name in &KEPT {
        let Some((len, tail)) = rest.split_first_chunk::<2>() else {
            return ApiError::internal().into_response();
        };
        rest = tail;
        let len = usize::from(u16::from_be_bytes(*len));
        if len == 0xFFFF {
            continue;
        }
        let Some((value, tail)) = rest.split_at_checked(len) else {
            return ApiError::internal().into_response();
        };
        rest = tail;
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.insert(name.clone(), v);
        }
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, headers, Body::from(rest.to_vec())).into_response()
}
