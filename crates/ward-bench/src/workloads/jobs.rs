//! The requests each workload's clients send, and registration through the batch API.

use super::{lock, Ctx};
use crate::data;
use crate::load::{self, Limit, Outcome, Req, Target};
use anyhow::Result;
use bytes::Bytes;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Reads of random subjects among `ids`, for the marketing purpose.
pub(super) fn reads_job(ids: Arc<Vec<Uuid>>) -> Arc<load::JobFn> {
    Arc::new(move |i| {
        let id = ids[(data::mix(i) % ids.len() as u64) as usize];
        vec![Req::get(format!("/v1/subjects/{id}?purpose=marketing"), 200)]
    })
}

/// The lookup of subject `k`'s email.
pub(super) fn lookup_body(k: u64) -> Bytes {
    Bytes::from(json!({"field": "email", "value": data::email(data::MAIN + k), "purpose": "marketing"}).to_string())
}

/// Lookups of random subjects among the first `n`.
pub(super) fn lookups_job(n: u64) -> Arc<load::JobFn> {
    Arc::new(move |i| {
        vec![Req::post(
            "/v1/subjects/lookup",
            lookup_body(data::mix(i ^ 0x5555) % n),
            200,
        )]
    })
}

/// Registrations of new subjects, one per request.
pub(super) fn create_job() -> Arc<load::JobFn> {
    Arc::new(|i| {
        vec![Req::post(
            "/v1/subjects",
            data::subject_json(data::SINGLE + i).to_string(),
            201,
        )]
    })
}

/// Subject `i` of `ids`: its marketing consent withdrawn, then the subject erased.
pub(super) fn erase_job(ids: Arc<Vec<Uuid>>) -> Arc<load::JobFn> {
    Arc::new(move |i| {
        let id = ids[i as usize];
        vec![
            Req::delete(format!("/v1/subjects/{id}/consents/marketing"), 200),
            Req::delete(format!("/v1/subjects/{id}?reason=subject_request"), 204),
        ]
    })
}

/// Registers subjects `first..first+n` (data indexes) through the batch API; their ids go
/// to `ids[at..]`. Returns the outcome (per request) and how many subjects were refused.
pub(super) async fn bulk_api(
    t: &Target,
    ctx: &Ctx<'_>,
    first: u64,
    at: u64,
    n: u64,
    ids: Arc<Mutex<Vec<Uuid>>>,
) -> Result<(Outcome, u64)> {
    bulk_api_of(t, ctx, (first, at, n), ids, data::batch_json).await
}

/// [`bulk_api`] of subjects `first..first+n` made by `body` (a batch request's body for a range
/// of data indexes); their ids go to `ids[at..]`.
pub(super) async fn bulk_api_of(
    t: &Target,
    ctx: &Ctx<'_>,
    (first, at, n): (u64, u64, u64),
    ids: Arc<Mutex<Vec<Uuid>>>,
    body: fn(std::ops::Range<u64>) -> serde_json::Value,
) -> Result<(Outcome, u64)> {
    let batch = ctx.plan.batch;
    let jobs = n.div_ceil(batch);
    let failed = Arc::new(AtomicU64::new(0));
    let job: Arc<load::JobFn> = Arc::new(move |j| {
        let start = first + j * batch;
        let end = (start + batch).min(first + n);
        vec![Req::post("/v1/subjects/batch", body(start..end).to_string(), 200)]
    });
    let f = failed.clone();
    let on_body: Arc<load::BodyFn> = Arc::new(move |j, body| {
        #[derive(serde::Deserialize)]
        struct Item {
            id: Option<Uuid>,
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            results: Vec<Item>,
        }
        match serde_json::from_slice::<Answer>(body) {
            Ok(a) => {
                let mut ids = lock(&ids);
                for (k, item) in a.results.into_iter().enumerate() {
                    match item.id {
                        Some(id) => {
                            if let Some(slot) = ids.get_mut((at + j * batch) as usize + k) {
                                *slot = id;
                            }
                        }
                        None => {
                            f.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            Err(_) => {
                f.fetch_add(batch, Ordering::Relaxed);
            }
        }
    });
    let o = load::drive(t, ctx.plan.batch_clients, Limit::Jobs(jobs), job, Some(on_body)).await?;
    Ok((o, failed.load(Ordering::Relaxed)))
}
