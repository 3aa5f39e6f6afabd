//! Bulk registration: `POST /v1/subjects/batch`.

use super::subjects::{string_fields, CreateSubjectRequest};
use crate::error::{ApiError, Problem};
use crate::extract::{AuthCaller, JsonBody};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use ward_core::ProblemCode;
use ward_vault::NewSubjectInput;

/// The most subjects one batch may hold.
pub const MAX_BATCH_SUBJECTS: usize = 1000;

/// The body limit of this route (the API's default limit is for single subjects).
pub const MAX_BATCH_BODY_BYTES: usize = 2 * 1024 * 1024;

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[("create_subjects_batch", &[])];

/// `POST /v1/subjects/batch`: registers up to 1,000 subjects in one request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubjectsBatchRequest {
    /// Each one as the body of `POST /v1/subjects`.
    pub subjects: Vec<CreateSubjectRequest>,
}

/// What became of one subject of a batch: its id, or the problem that `POST /v1/subjects`
/// would have answered for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemResult {
    /// The new subject's id, when it was registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// Why it was not registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

/// One result per subject sent, in the order sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    pub results: Vec<BatchItemResult>,
    /// How many were registered.
    pub created: usize,
    /// How many were not.
    pub failed: usize,
}

fn problem(e: &ApiError) -> Problem {
    e.body()
}

/// Registers up to 1,000 subjects at once. Each is checked like `POST /v1/subjects` and
/// fails alone; the valid ones are committed together, in a few durable transactions.
/// The answer is `200` with one result per subject, in order: `{"id": ...}` when registered
/// (durably), `{"problem": {...}}` with the problem `POST /v1/subjects` would have answered
/// (same codes) when not.
#[utoipa::path(
    post,
    path = "/v1/subjects/batch",
    tag = "subjects",
    request_body(content = CreateSubjectsBatchRequest, content_type = "application/json"),
    responses((status = 200, description = "One result per subject, in order", body = BatchResult)),
)]
pub(crate) async fn create_subjects_batch(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<CreateSubjectsBatchRequest>,
) -> Result<Json<BatchResult>, ApiError> {
    if body.subjects.len() > MAX_BATCH_SUBJECTS {
        return Err(ApiError::new(
            ProblemCode::BodyTooLarge,
            format!("a batch holds at most {MAX_BATCH_SUBJECTS} subjects; split it"),
        ));
    }
    let mut results: Vec<Option<BatchItemResult>> = Vec::with_capacity(body.subjects.len());
    let mut inputs = Vec::with_capacity(body.subjects.len());
    for s in body.subjects {
        match string_fields(s.fields) {
            Ok(fields) => {
                results.push(None);
                inputs.push(NewSubjectInput {
                    age_band: s.age_band,
                    purpose: s.purpose,
                    fields,
                    consents: s.consents,
                    evidence: s.evidence.map(Into::into),
                    bases: s.bases.into_iter().map(Into::into).collect(),
                });
            }
            Err(e) => results.push(Some(BatchItemResult {
                id: None,
                problem: Some(problem(&e)),
            })),
        }
    }
    let mut done = state.vault.subjects().create_many(&caller, inputs).await?.into_iter();
    let results: Vec<BatchItemResult> = results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| match done.next() {
                Some(Ok(id)) => BatchItemResult {
                    id: Some(id.as_uuid()),
                    problem: None,
                },
                Some(Err(e)) => BatchItemResult {
                    id: None,
                    problem: Some(problem(&ApiError::from(e))),
                },
                None => BatchItemResult {
                    id: None,
                    problem: Some(problem(&ApiError::internal())),
                },
            })
        })
        .collect();
    let created = results.iter().filter(|r| r.id.is_some()).count();
    Ok(Json(BatchResult {
        failed: results.len() - created,
        created,
        results,
    }))
}
