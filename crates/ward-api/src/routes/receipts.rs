//! Consent receipts (JSON, or a page for people) and the pre-filled written consent.

use crate::error::ApiError;
use crate::extract::{subject_id, ApiPath, AuthCaller};
use crate::routes::consents::ConsentPath;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::ToSchema;
use ward_core::ProblemCode;
use ward_vault::{ConsentDocumentRecord, ConsentReceipt};

/// A receipt: the purpose must be a consent-based one the key may use, and the subject must
/// have consented to it at some time.
const RECEIPT_CODES: &[ProblemCode] = &[
    ProblemCode::InvalidSubjectId,
    ProblemCode::InvalidPath,
    ProblemCode::UnknownPurpose,
    ProblemCode::PurposeNotAllowedForKey,
    ProblemCode::ConsentNotApplicable,
    ProblemCode::ConsentNotFound,
    ProblemCode::SubjectNotFound,
    ProblemCode::SubjectErased,
];
/// The written consent is a form to fill in: it needs no consent on record.
const WRITTEN_CODES: &[ProblemCode] = &[
    ProblemCode::InvalidSubjectId,
    ProblemCode::InvalidPath,
    ProblemCode::UnknownPurpose,
    ProblemCode::PurposeNotAllowedForKey,
    ProblemCode::ConsentNotApplicable,
    ProblemCode::SubjectNotFound,
    ProblemCode::SubjectErased,
];
/// A document's purposes are consent-based (the policy parser checks it), so
/// `consent_not_applicable` cannot arise.
const DOCUMENT_CODES: &[ProblemCode] = &[
    ProblemCode::InvalidSubjectId,
    ProblemCode::InvalidPath,
    ProblemCode::UnknownConsentDocument,
    ProblemCode::UnknownPurpose,
    ProblemCode::PurposeNotAllowedForKey,
    ProblemCode::ConsentNotFound,
    ProblemCode::SubjectNotFound,
    ProblemCode::SubjectErased,
];
pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[
    ("consent_receipt", RECEIPT_CODES),
    ("consent_document_record", DOCUMENT_CODES),
    ("written_consent", WRITTEN_CODES),
];

/// A consent record, shaped after ISO/IEC TS 27560.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptBody {
    pub subject: String,
    pub purpose: String,
    pub purpose_title: String,
    /// `given`, `withdrawn`, `expired`, `none`.
    pub state: String,
    /// The consent document: name, kind, version, the text shown, how to withdraw.
    pub document: Option<DocumentBody>,
    pub controller: ControllerBody,
    /// The categories of data the consent covers.
    pub data_categories: Vec<String>,
    /// Processing actions (152-FZ Art. 3 item 3) and methods.
    pub processing: Vec<String>,
    pub methods: Vec<String>,
    pub recipients: Vec<RecipientBody>,
    /// Content hash and label of the policy version the consent was given under.
    pub policy_hash: String,
    pub policy_version: String,
    pub language: String,
    /// How it was given (channel, method, who gave it); the subject's own data.
    #[schema(value_type = Option<Object>)]
    pub evidence: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub valid_until: Option<OffsetDateTime>,
    /// given, renewed, withdrawn, expired: oldest first.
    pub events: Vec<EventBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentBody {
    pub name: String,
    pub title: String,
    pub kind: String,
    pub version: String,
    pub text: String,
    pub withdrawal: String,
    pub channel: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ControllerBody {
    pub name: String,
    pub address: Option<String>,
    pub contact_email: Option<String>,
    pub country: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientBody {
    pub name: String,
    pub role: String,
    pub country: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventBody {
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub policy_hash: String,
}

/// The consent record of one consent document: the document, and a receipt for each of its
/// purposes the subject has a consent history for.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentRecordBody {
    pub subject: String,
    pub document: DocumentBody,
    /// The purposes the document covers (all of them, consented to or not).
    pub covers: Vec<String>,
    /// One receipt per purpose with a consent history, in the order of their names.
    pub purposes: Vec<ReceiptBody>,
}

fn document_body(name: String, d: ward_core::policy::ConsentDocument) -> DocumentBody {
    DocumentBody {
        name,
        title: d.title,
        kind: d.kind.as_str().to_owned(),
        version: d.version,
        text: d.text,
        withdrawal: d.withdrawal,
        channel: d.channel.map(|c| c.as_str().to_owned()),
    }
}

impl From<ConsentDocumentRecord> for DocumentRecordBody {
    fn from(r: ConsentDocumentRecord) -> Self {
        let covers = r.document.purposes.iter().cloned().collect();
        Self {
            subject: r.subject.to_string(),
            document: document_body(r.name, r.document),
            covers,
            purposes: r.purposes.into_iter().map(ReceiptBody::from).collect(),
        }
    }
}

impl From<ConsentReceipt> for ReceiptBody {
    fn from(r: ConsentReceipt) -> Self {
        Self {
            subject: r.subject.to_string(),
            purpose: r.purpose,
            purpose_title: r.purpose_title,
            state: r.state.as_str().to_owned(),
            document: r.document.map(|(name, d)| document_body(name, d)),
            controller: ControllerBody {
                name: r.operator.name,
                address: r.operator.address,
                contact_email: r.operator.contact_email,
                country: r.operator.country,
            },
            data_categories: r.categories,
            processing: r.actions,
            methods: r.methods,
            recipients: r
                .recipients
                .into_iter()
                .map(|(name, role, country)| RecipientBody { name, role, country })
                .collect(),
            policy_hash: r.policy_hash,
            policy_version: r.policy_version,
            language: r.language,
            evidence: r.evidence.and_then(|e| serde_json::to_value(e).ok()),
            valid_until: r.expires_at,
            events: r
                .events
                .into_iter()
                .map(|e| EventBody {
                    kind: e.kind.to_owned(),
                    at: e.at,
                    policy_hash: e.policy_hash,
                })
                .collect(),
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(r: &ReceiptBody) -> String {
    let row = |k: &str, v: &str| format!("<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    let mut rows = vec![
        row("Purpose", &r.purpose_title),
        row("State", &r.state),
        row(
            "Controller",
            &format!(
                "{} ({})",
                r.controller.name,
                r.controller.address.as_deref().unwrap_or("address not given")
            ),
        ),
        row("Data", &r.data_categories.join(", ")),
        row("Processing", &r.processing.join(", ")),
        row(
            "Recipients",
            &r.recipients
                .iter()
                .map(|x| format!("{} ({}, {})", x.name, x.role, x.country))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        row(
            "Valid until",
            &r.valid_until
                .map_or_else(|| "until withdrawn".to_owned(), |t| t.date().to_string()),
        ),
        row(
            "Policy version",
            &format!(
                "{} ({})",
                r.policy_version,
                &r.policy_hash[..r.policy_hash.len().min(16)]
            ),
        ),
    ];
    if let Some(d) = &r.document {
        rows.push(row("Consent text", &d.text));
        rows.push(row("How to withdraw", &d.withdrawal));
    }
    let events: String = r
        .events
        .iter()
        .map(|e| format!("<li>{} — {}</li>", esc(&e.kind), esc(&e.at.to_string())))
        .collect();
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>Consent receipt</title>\
         <style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto}}th{{text-align:left;vertical-align:top;padding-right:1rem}}</style></head>\
         <body><h1>Consent receipt</h1><table>{}</table><h2>History</h2><ul>{events}</ul></body></html>",
        esc(&r.language),
        rows.concat()
    )
}

/// The receipt of a consent: JSON, or a page with `Accept: text/html`.
#[utoipa::path(
    get,
    path = "/v1/subjects/{id}/consents/{purpose}/receipt",
    tag = "consents",
    params(("id" = uuid::Uuid, Path, description = "The subject's id"), ("purpose" = String, Path, description = "A consent-based purpose")),
    responses((status = 200, description = "The receipt (JSON; HTML with Accept: text/html)", body = ReceiptBody)),
)]
pub(crate) async fn consent_receipt(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(path): ApiPath<ConsentPath>,
) -> Result<Response, ApiError> {
    let id = subject_id(&path.id)?;
    let body: ReceiptBody = state.vault.receipts().receipt(&caller, id, &path.purpose).await?.into();
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html {
        return Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page(&body)).into_response());
    }
    Ok(Json(body).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct DocumentPath {
    id: String,
    document: String,
}

/// The consent record of one consent document for the subject (one record per subject and
/// document, after ISO/IEC TS 27560): the document and a receipt per purpose it covers.
#[utoipa::path(
    get,
    path = "/v1/subjects/{id}/consent-documents/{document}",
    tag = "consents",
    params(("id" = uuid::Uuid, Path, description = "The subject's id"), ("document" = String, Path, description = "A consent document of the policy in force")),
    responses((status = 200, description = "The record", body = DocumentRecordBody)),
)]
pub(crate) async fn consent_document_record(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<DocumentPath>,
) -> Result<Json<DocumentRecordBody>, ApiError> {
    let id = subject_id(&path.id)?;
    let record = state
        .vault
        .receipts()
        .document_record(&caller, id, &path.document)
        .await?;
    Ok(Json(record.into()))
}

/// A written consent for the purpose (152-FZ Art. 9 p. 4), pre-filled, as Markdown to print
/// and sign.
#[utoipa::path(
    get,
    path = "/v1/subjects/{id}/consents/{purpose}/written-consent",
    tag = "consents",
    params(("id" = uuid::Uuid, Path, description = "The subject's id"), ("purpose" = String, Path, description = "A consent-based purpose")),
    responses((status = 200, description = "The document (text/markdown); header `X-Ward-Document-Sha256` is its SHA-256, for a signature's `document_sha256`", body = String, content_type = "text/markdown")),
)]
pub(crate) async fn written_consent(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<ConsentPath>,
) -> Result<Response, ApiError> {
    let id = subject_id(&path.id)?;
    let doc = state
        .vault
        .receipts()
        .written_consent(&caller, id, &path.purpose)
        .await?;
    // What a signature over this document signs: the operator passes it back as the
    // signature's `document_sha256`, and the receipt shows it.
    let digest = hex::encode(Sha256::digest(doc.as_bytes()));
    Ok((
        [
            (header::CONTENT_TYPE, "text/markdown; charset=utf-8".to_owned()),
            (HeaderName::from_static("x-ward-document-sha256"), digest),
        ],
        doc,
    )
        .into_response())
}
