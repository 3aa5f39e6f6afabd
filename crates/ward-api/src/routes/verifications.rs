//! Identity verification of data-subject requests: started for a request and a subject by one
//! method (`vouched`, `code`, `document`), a one-time code checked or sent again, a scanned
//! document uploaded (raw body), read by the officer and accepted or rejected. The portal
//! checks codes through the website's service key (no key is issued to subjects yet).

use crate::error::ApiError;
use crate::extract::{subject_id, ApiPath, AuthCaller, JsonBody};
use crate::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use ward_core::verification::{DecisionReason, MAX_ATTEMPTS, MAX_DOCUMENT_BYTES};
use ward_core::{ProblemCode, RequestId, VerificationId};
use ward_vault::{verification_method, Decide, NewVerification, VerificationRecord};

/// The problems of an operation on an existing verification, before its own.
const ON_ONE: [ProblemCode; 5] = [
    ProblemCode::InvalidPath,
    ProblemCode::InvalidVerificationId,
    ProblemCode::VerificationNotFound,
    ProblemCode::SubjectNotFound,
    ProblemCode::SubjectErased,
];

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    (
        "start_verification",
        &[
            ProblemCode::InvalidRequestId,
            ProblemCode::InvalidSubjectId,
            ProblemCode::UnknownVerificationMethod,
            ProblemCode::MethodNotAllowedForRole,
            ProblemCode::NoContactOnRecord,
            ProblemCode::SubjectNotFound,
            ProblemCode::SubjectErased,
            ProblemCode::RequestNotFound,
            ProblemCode::RequestTransitionInvalid,
        ],
    ),
    (
        "get_verification",
        &[
            ProblemCode::InvalidPath,
            ProblemCode::InvalidVerificationId,
            ProblemCode::VerificationNotFound,
        ],
    ),
    (
        "check_verification_code",
        &concat(&[
            ProblemCode::InvalidCode,
            ProblemCode::CodeMismatch,
            ProblemCode::CodeExpired,
            ProblemCode::VerificationFailed,
            ProblemCode::VerificationNotPending,
            ProblemCode::WrongVerificationMethod,
            ProblemCode::RequestTransitionInvalid,
        ]),
    ),
    (
        "resend_verification_code",
        &concat(&[
            ProblemCode::ResendLimitReached,
            ProblemCode::VerificationFailed,
            ProblemCode::VerificationNotPending,
            ProblemCode::WrongVerificationMethod,
            ProblemCode::NoContactOnRecord,
            ProblemCode::InternalError,
        ]),
    ),
    (
        "upload_verification_document",
        &concat(&[
            ProblemCode::DocumentTooLarge,
            ProblemCode::UnsupportedDocumentType,
            ProblemCode::VerificationNotPending,
            ProblemCode::VerificationFailed,
            ProblemCode::CodeExpired,
            ProblemCode::WrongVerificationMethod,
        ]),
    ),
    (
        "get_verification_document",
        &concat(&[ProblemCode::DocumentNotFound, ProblemCode::InternalError]),
    ),
    (
        "decide_verification",
        &concat(&[
            ProblemCode::ReasonRequired,
            ProblemCode::UnknownReason,
            ProblemCode::DocumentNotFound,
            ProblemCode::VerificationNotPending,
            ProblemCode::VerificationFailed,
            ProblemCode::CodeExpired,
            ProblemCode::WrongVerificationMethod,
            ProblemCode::RequestTransitionInvalid,
        ]),
    ),
];

/// [`ON_ONE`] and `more` (eight at most), padded with `InternalError`, which every operation
/// lists anyway.
const fn concat(more: &[ProblemCode]) -> [ProblemCode; 13] {
    let mut out = [ProblemCode::InternalError; 13];
    let mut i = 0;
    while i < ON_ONE.len() {
        out[i] = ON_ONE[i];
        i += 1;
    }
    let mut j = 0;
    while j < more.len() {
        out[ON_ONE.len() + j] = more[j];
        j += 1;
    }
    out
}

/// `POST /v1/verifications`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The request being verified.
    #[schema(value_type = String, format = Uuid)]
    pub request: String,
    /// The subject the requester says they are.
    #[schema(value_type = String, format = Uuid)]
    pub subject: String,
    /// `vouched` (the website signed the subject in: verified at once; the only method a
    /// service key may start), `code` (six digits sent to the e-mail address on record) or
    /// `document` (a scanned document with the subject's signature, for the officer).
    #[schema(example = "code")]
    pub method: String,
}

/// `POST /v1/verifications/{id}/code`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The six digits the requester entered.
    #[schema(example = "042817")]
    pub code: String,
}

/// `POST /v1/verifications/{id}/decision`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `accept` or `reject`.
    #[schema(example = "accept")]
    pub decision: String,
    /// Accepting: `signature_matches` or `identity_confirmed`; rejecting: `illegible`,
    /// `signature_missing`, `signature_mismatch`, `not_the_subject` or `incomplete`.
    #[schema(example = "signature_matches")]
    pub reason: Option<String>,
}

/// A verification: ids, method, state and counts; never its code or its document.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationBody {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    #[schema(value_type = String, format = Uuid)]
    pub request_id: String,
    #[schema(value_type = String, format = Uuid)]
    pub subject_id: String,
    /// `vouched`, `code` or `document`.
    pub method: String,
    /// `pending`, `verified`, `failed`, `expired` or `rejected`.
    pub state: String,
    /// Wrong codes counted, and how many more it takes (the last fails it).
    pub attempts: u32,
    pub attempts_left: u32,
    /// New codes sent after the first (five at most).
    pub resends: u32,
    /// When the code in force expires.
    #[serde(with = "time::serde::rfc3339::option")]
    pub code_expires_at: Option<OffsetDateTime>,
    /// The uploaded document's type (by its content), size and SHA-256 (hex).
    pub document_type: Option<String>,
    pub document_size: Option<u64>,
    pub document_sha256: Option<String>,
    /// The officer's reason for accepting or rejecting the document.
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<VerificationRecord> for VerificationBody {
    fn from(v: VerificationRecord) -> Self {
        Self {
            id: v.id.to_string(),
            request_id: v.request.to_string(),
            subject_id: v.subject.to_string(),
            method: v.method.to_string(),
            state: v.state.to_string(),
            attempts: v.attempts,
            attempts_left: MAX_ATTEMPTS.saturating_sub(v.attempts),
            resends: v.resends,
            code_expires_at: v.code_expires_at,
            document_type: v.document_type.map(|t| t.to_string()),
            document_size: v.document_size,
            document_sha256: v.document_sha256,
            reason: v.reason,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// A scanned document's bytes: PDF, JPEG or PNG.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct DocumentBytes(#[allow(dead_code)] Vec<u8>);

#[derive(Debug, Deserialize)]
pub(crate) struct IdPath {
    id: String,
}

fn verification_id(raw: &str) -> Result<VerificationId, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            ProblemCode::InvalidVerificationId,
            "the verification id in the path is not a UUID",
        )
    })
}

/// Starts verifying that the requester of `request` is `subject`: `vouched` is verified at
/// once; `code` sends six digits to the e-mail address on record (queued in the same
/// transaction); `document` waits for the upload. A service key may only vouch.
#[utoipa::path(
    post,
    path = "/v1/verifications",
    tag = "verifications",
    request_body(content = StartRequest, content_type = "application/json"),
    responses((
        status = 201,
        description = "Started",
        body = VerificationBody,
        headers(("Location" = String, description = "`/v1/verifications/{id}`")),
    )),
)]
pub(crate) async fn start_verification(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<StartRequest>,
) -> Result<Response, ApiError> {
    let request: RequestId = body
        .request
        .parse()
        .map_err(|_| ApiError::new(ProblemCode::InvalidRequestId, "`request` is not a UUID"))?;
    let subject = subject_id(&body.subject)?;
    let method = verification_method(&body.method)?;
    let record = state
        .vault
        .verifications()
        .start(
            &caller,
            NewVerification {
                request,
                subject,
                method,
            },
        )
        .await?;
    let location = format!("/v1/verifications/{}", record.id);
    let mut response = (StatusCode::CREATED, Json(VerificationBody::from(record))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// The verification's state.
#[utoipa::path(
    get,
    path = "/v1/verifications/{id}",
    tag = "verifications",
    params(("id" = uuid::Uuid, Path, description = "The verification's id")),
    responses((status = 200, description = "The verification", body = VerificationBody)),
)]
pub(crate) async fn get_verification(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<IdPath>,
) -> Result<Json<VerificationBody>, ApiError> {
    let id = verification_id(&path.id)?;
    let record = state.vault.verifications().get(&caller, id).await?;
    Ok(Json(record.into()))
}

/// Checks the code the requester entered: a match in time verifies it; each wrong code is
/// counted (`code_mismatch` names the attempts left) and the third fails the verification;
/// after expiry or failure every code is refused, the right one too.
#[utoipa::path(
    post,
    path = "/v1/verifications/{id}/code",
    tag = "verifications",
    params(("id" = uuid::Uuid, Path, description = "The verification's id")),
    request_body(content = CodeRequest, content_type = "application/json"),
    responses((status = 200, description = "Verified", body = VerificationBody)),
)]
pub(crate) async fn check_verification_code(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<IdPath>,
    JsonBody(body): JsonBody<CodeRequest>,
) -> Result<Json<VerificationBody>, ApiError> {
    let id = verification_id(&path.id)?;
    let record = state.vault.verifications().check_code(&caller, id, &body.code).await?;
    Ok(Json(record.into()))
}

/// Sends a new code in place of the old, valid from now (an expired verification is pending
/// again); the wrong codes already counted stay counted. Five new codes at most.
#[utoipa::path(
    post,
    path = "/v1/verifications/{id}/resend",
    tag = "verifications",
    params(("id" = uuid::Uuid, Path, description = "The verification's id")),
    responses((status = 202, description = "A new code is queued", body = VerificationBody)),
)]
pub(crate) async fn resend_verification_code(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<IdPath>,
) -> Result<(StatusCode, Json<VerificationBody>), ApiError> {
    let id = verification_id(&path.id)?;
    let record = state.vault.verifications().resend(&caller, id).await?;
    Ok((StatusCode::ACCEPTED, Json(record.into())))
}

/// Uploads the scanned document with the subject's signature, as the raw body (PDF, JPEG or
/// PNG, by its content; 10 MiB at most). It is sealed under the subject's key (erasing the
/// subject destroys it); the journal records its type, size and SHA-256. A new upload
/// replaces the last while the verification is pending.
#[utoipa::path(
    put,
    path = "/v1/verifications/{id}/document",
    tag = "verifications",
    params(("id" = uuid::Uuid, Path, description = "The verification's id")),
    request_body(
        content(
            (DocumentBytes = "application/pdf"),
            (DocumentBytes = "image/jpeg"),
            (DocumentBytes = "image/png"),
        ),
        description = "The scanned document",
    ),
    responses((status = 200, description = "Stored", body = VerificationBody)),
)]
pub(crate) async fn upload_verification_document(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<IdPath>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<VerificationBody>, ApiError> {
    let id = verification_id(&path.id)?;
    let bytes = to_bytes(body, MAX_DOCUMENT_BYTES + 1).await.map_err(|_| {
        ApiError::new(
            ProblemCode::DocumentTooLarge,
            format!("the document must be {MAX_DOCUMENT_BYTES} bytes at most"),
        )
    })?;
    let declared = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let record = state
        .vault
        .verifications()
        .upload(&caller, id, &bytes, declared)
        .await?;
    Ok(Json(record.into()))
}

/// The uploaded document, for the officer's review; the reading is journaled (with the
/// document's SHA-256) before it is answered.
#[utoipa::path(
    get,
    path = "/v1/verifications/{id}/document",
    tag = "verifications",
    params(("id" = uuid::Uuid, Path, description = "The verification's id")),
    responses((
        status = 200,
        description = "The document, in its type",
        content(
            (DocumentBytes = "application/pdf"),
            (DocumentBytes = "image/jpeg"),
            (DocumentBytes = "image/png"),
        ),
    )),
)]
pub(crate) async fn get_verification_document(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<IdPath>,
) -> Result<Response, ApiError> {
    let id = verification_id(&path.id)?;
    let document = state.vault.verifications().document(&caller, id).await?;
    let mut response = (StatusCode::OK, document.bytes).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(document.content_type.as_str()),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment"));
    Ok(response)
}

/// Accepts (verified) or rejects (rejected) the uploaded document, with a reason from a fixed
/// list that fits the decision; journaled with the document's SHA-256.
#[utoipa::path(
    post,
    path = "/v1/verifications/{id}/decision",
    tag = "verifications",
    params(("id" = uuid::Uuid, Path, description = "The verification's id")),
    request_body(content = DecisionRequest, content_type = "application/json"),
    responses((status = 200, description = "Decided", body = VerificationBody)),
)]
pub(crate) async fn decide_verification(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<IdPath>,
    JsonBody(body): JsonBody<DecisionRequest>,
) -> Result<Json<VerificationBody>, ApiError> {
    let id = verification_id(&path.id)?;
    let decision = match body.decision.trim() {
        "accept" => Decide::Accept,
        "reject" => Decide::Reject,
        _ => {
            return Err(ApiError::new(
                ProblemCode::UnknownReason,
                "`decision` is `accept` or `reject`",
            ))
        }
    };
    let reason = decision_reason(body.reason.as_deref())?;
    let record = state
        .vault
        .verifications()
        .decide(&caller, id, decision, reason)
        .await?;
    Ok(Json(record.into()))
}

fn decision_reason(raw: Option<&str>) -> Result<DecisionReason, ApiError> {
    ward_vault::decision_reason(raw).map_err(Into::into)
}
