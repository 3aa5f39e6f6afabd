//! The access report (issue 19): one subject with about 1,000 journal entries and 100
//! consent events, its report built by the officer's `GET /v1/subjects/{id}/access-report`
//! one request at a time (the report's latency is the figure: target p99 ≤ 50 ms), against
//! the bare journaled read of the same subject in the same run.

use super::{errors_note, reset, settle, Ctx, Server};
use crate::load::{self, Limit, Req, Target};
use crate::report::{Figure, Target as Goal, Workload};
use crate::say;
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::sync::Arc;

/// Consent events the subject has (its registration's consent, then withdrawals and
/// consents in turn).
const CONSENT_EVENTS: u64 = 100;
/// Reads that bring the subject's journal entries to about 1,000.
const READS: u64 = 1_000 - CONSENT_EVENTS;
/// Timed requests of each kind; one client, one request at a time.
const TIMED: u64 = 200;

pub(super) async fn expect(target: &Target, req: Req, what: &str) -> Result<serde_json::Value> {
    let want = req.expect;
    let (status, body) = load::once(target, req).await?;
    if status != want {
        bail!("{what}: {status} {}", String::from_utf8_lossy(&body));
    }
    Ok(serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
}

/// The admin's target on `server` (the token `ward init` wrote).
pub(super) fn admin(ctx: &Ctx<'_>, server: &Server) -> Result<Target> {
    let token = std::fs::read_to_string(ctx.ward.data_dir.join("admin-token")).context("reading the admin token")?;
    Ok(Target {
        addr: server.site.addr,
        token: Some(token.trim().to_owned()),
    })
}

/// A new officer key named `name`, as a target on `server`.
pub(super) async fn officer(admin: &Target, server: &Server, name: &str) -> Result<Target> {
    let key = Req::post("/v1/keys", json!({"name": name, "role": "officer"}).to_string(), 201);
    let created = expect(admin, key, "an officer key").await?;
    Ok(Target {
        addr: server.site.addr,
        token: created["token"].as_str().map(str::to_owned),
    })
}

/// `access_report`: the report's latency, and the bare read's as its baseline.
pub(super) async fn access_report(ctx: &Ctx<'_>, server: &Server) -> Result<Workload> {
    let admin = admin(ctx, server)?;
    say("access report: preparing a subject with ~1,000 journal entries and 100 consent events");
    let body = json!({
        "purpose": "registration",
        "fields": {"email": "access.report.bench@example.org", "full_name": "Report Bench",
                   "phone": "+7 916 000-00-01", "postal_address": "Moscow, Tverskaya 1"},
        "consents": ["marketing"],
        "evidence": {"channel": "web_form"},
    });
    let created = expect(&admin, Req::post("/v1/subjects", body.to_string(), 201), "registering").await?;
    let id = created["id"].as_str().context("the subject's id")?.to_owned();
    let consent = json!({"purpose": "marketing", "evidence": {"channel": "web_form"}}).to_string();
    for k in 1..CONSENT_EVENTS {
        let req = if k % 2 == 1 {
            Req::delete(format!("/v1/subjects/{id}/consents/marketing"), 200)
        } else {
            Req::post(format!("/v1/subjects/{id}/consents"), consent.clone(), 204)
        };
        expect(&admin, req, "a consent event").await?;
    }
    let read_path = format!("/v1/subjects/{id}?purpose=registration");
    let path = read_path.clone();
    let reads: Arc<load::JobFn> = Arc::new(move |_| vec![Req::get(path.clone(), 200)]);
    let o = load::drive(&admin, ctx.clients, Limit::Jobs(READS), reads, None).await?;
    if o.errors > 0 {
        bail!("reading the subject: {:?}", o.first_error);
    }
    let officer = officer(&admin, server, "bench officer").await?;

    let report_path = format!("/v1/subjects/{id}/access-report");
    say("access report: the bare read of the subject (baseline)");
    let bare = one_at_a_time(&officer, server.pid, read_path).await?;
    say("access report: the report");
    let report = one_at_a_time(&officer, server.pid, report_path).await?;
    Ok(Workload {
        key: "access_report".into(),
        title: "Access report of a subject with ~1,000 journal entries and 100 consent events".into(),
        unit: "reports/s".into(),
        clients: 1,
        subjects: ctx.plan.grown,
        ward: Figure::rate(&report, None),
        baseline: Some(Figure::rate(&bare, None)),
        baseline_what: "the purpose-bound, journaled read of the same subject by the same officer, one at a time".into(),
        ratio: None,
        target: Goal {
            max_p99_ms: Some(50.0),
            ..Goal::default()
        },
        met: None,
        notes: {
            let mut n = vec![format!(
                "one client, {TIMED} requests after {} untimed; each report is journaled, so the subject's entries grow from ~1,000 to ~{}",
                TIMED / 10,
                1_000 + 2 * (TIMED + TIMED / 10)
            )];
            n.extend(errors_note(&report));
            n
        },
    }
    .finish())
}

/// `TIMED` GETs of `path`, one at a time, after a tenth as many untimed.
pub(super) async fn one_at_a_time(target: &Target, pid: u32, path: String) -> Result<load::Outcome> {
    let job: Arc<load::JobFn> = Arc::new(move |_| vec![Req::get(path.clone(), 200)]);
    settle().await;
    load::drive(target, 1, Limit::Jobs(TIMED / 10), job.clone(), None).await?;
    reset(pid);
    load::drive(target, 1, Limit::Jobs(TIMED), job, None).await
}
