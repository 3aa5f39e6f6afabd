//! The register of data-subject requests (issue 19): up to 100,000 requests filed over the API
//! for as many subjects, received long enough ago that every one is overdue, then the officer's
//! `GET /v1/requests?overdue=true` (a page of 100, journaled) one request at a time (target p99
//! ≤ 200 ms), against the bare journaled read of one request in the same run.

use super::reports::{admin, expect, officer, one_at_a_time};
use super::{errors_note, Ctx, Server};
use crate::load::{self, Limit, Req};
use crate::report::{Figure, Target as Goal, Workload};
use crate::say;
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// The most requests filed: the figure.
const MOST: u64 = 100_000;

/// `requests_overdue`: the overdue list's latency over the filed requests.
pub(super) async fn overdue(ctx: &Ctx<'_>, server: &Server, ids: &Arc<Mutex<Vec<Uuid>>>) -> Result<Workload> {
    let admin = admin(ctx, server)?;
    // Subjects the bulk import registered (after the first ones, which the erasure workloads
    // may have used): one request each.
    let subjects: Arc<Vec<Uuid>> = {
        let all = ids
            .lock()
            .map_err(|_| anyhow::anyhow!("the subject ids' lock is poisoned"))?;
        let from = (ctx.plan.base as usize).min(all.len());
        Arc::new(all[from..].iter().copied().filter(|u| !u.is_nil()).collect())
    };
    let n = (subjects.len() as u64).min(MOST);
    if n == 0 {
        bail!("no subjects to file requests for");
    }
    say(format!("requests: filing {n} access requests received 60 days ago"));
    let received = (time::OffsetDateTime::now_utc() - time::Duration::days(60))
        .format(&time::format_description::well_known::Rfc3339)
        .context("formatting the day of receipt")?;
    let list = subjects.clone();
    let file: Arc<load::JobFn> = Arc::new(move |k| {
        let body = json!({
            "subject_id": list[k as usize % list.len()].to_string(),
            "kind": "access",
            "channel": "officer",
            "received_at": received,
        });
        vec![Req::post("/v1/requests", body.to_string(), 201)]
    });
    let filed = load::drive(&admin, ctx.clients, Limit::Jobs(n), file, None).await?;
    if filed.errors > 0 {
        bail!("filing requests: {:?}", filed.first_error);
    }
    let one = expect(
        &admin,
        Req::get("/v1/requests?overdue=true&limit=1", 200),
        "the first overdue request",
    )
    .await?;
    let first = one["items"][0]["id"]
        .as_str()
        .context("no overdue request was listed")?
        .to_owned();
    let officer = officer(&admin, server, "bench officer (requests)").await?;
    say("requests: one request read (baseline)");
    let bare = one_at_a_time(&officer, server.pid, format!("/v1/requests/{first}")).await?;
    say("requests: the overdue list");
    let listed = one_at_a_time(&officer, server.pid, "/v1/requests?overdue=true&limit=100".to_owned()).await?;
    Ok(Workload {
        key: "requests_overdue".into(),
        title: format!("Overdue requests, a page of 100, over {n} open requests"),
        unit: "lists/s".into(),
        clients: 1,
        subjects: n,
        ward: Figure::rate(&listed, None),
        baseline: Some(Figure::rate(&bare, None)),
        baseline_what: "the journaled read of one request by the same officer, one at a time".into(),
        ratio: None,
        target: Goal {
            max_p99_ms: Some(200.0),
            ..Goal::default()
        },
        met: None,
        notes: {
            let mut notes = vec![format!(
                "{n} access requests filed over the API at {:.0}/s, every one overdue; each listing is journaled",
                filed.rate()
            )];
            notes.extend(errors_note(&listed));
            notes
        },
    }
    .finish())
}
