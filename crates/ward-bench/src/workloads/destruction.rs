//! The destruction job: N website visitors registered over the API with an IP address and a
//! browser string that only their analytics consent keeps, each one's consent withdrawn over
//! the API; then `ward serve` started again with its clock 31 days ahead and the job's period
//! at a second (`WARD_BENCH_CLOCK_OFFSET_SECS`, `WARD_BENCH_DESTRUCTION_EVERY_SECS`: switches
//! only a benchmarking build has), so that the job's first run finds every visitor's technical
//! data due and destroys it, one commit per subject with its act and its journal entry (32
//! subjects in work at once), as deployed. The figure is the run's own: subjects destroyed ÷ the run's time, both from the
//! job's log line; the acts are counted in Ward's database afterwards.
//!
//! Baseline: the same rows of the sizes Ward wrote (the subject's row with fewer sealed
//! fields, the act, the journal row), by plain SQL with the same driver, schema and durability,
//! from as many submitters as the job has subjects in work at once, to one writer that commits
//! whatever is queued (as Ward's committer does); on a database seeded with as many subjects
//! (untimed).

use super::jobs::bulk_api_of;
use super::{check, lock, settle, start, Ctx};
use crate::baseline::{self, raw_id, Db, RawOp, RawWriter, MAX_BATCH};
use crate::load::{self, Limit, Req};
use crate::procs::{self, Served};
use crate::report::{Figure, Target as Goal, Workload};
use crate::{data, say};
use anyhow::{bail, Context, Result};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// The `ward` binary's switches (crates/ward/src/bench_knobs.rs).
const CLOCK_OFFSET_ENV: &str = "WARD_BENCH_CLOCK_OFFSET_SECS";
const DESTRUCTION_EVERY_ENV: &str = "WARD_BENCH_DESTRUCTION_EVERY_SECS";
/// A withdrawal's data falls due 30 days after it (152-FZ Art. 21 p. 5); a day more.
const AHEAD_SECS: u64 = 31 * 86_400;
/// Subjects the job works on at once (ward-vault's `due.rs`, `AT_ONCE`).
const JOB_AT_ONCE: usize = 32;
/// The message of the job's log line, which carries `destroyed` and `secs`.
const JOB_LINE: &str = "destruction job";

/// Each visitor's analytics consent withdrawn.
fn withdraw_job(ids: Arc<Vec<Uuid>>) -> Arc<load::JobFn> {
    Arc::new(move |i| {
        vec![Req::delete(
            format!("/v1/subjects/{}/consents/analytics", ids[i as usize]),
            200,
        )]
    })
}

/// The job's run as its log line tells it: (subjects destroyed, seconds).
fn parse_line(line: &str) -> Result<(u64, f64)> {
    let v: serde_json::Value =
        serde_json::from_str(line).with_context(|| format!("the server's log line is not JSON: {line}"))?;
    let f = &v["fields"];
    if f["message"] != JOB_LINE {
        bail!("the destruction job did not run as expected: {line}");
    }
    match (f["destroyed"].as_u64(), f["secs"].as_f64()) {
        (Some(d), Some(s)) => Ok((d, s)),
        _ => bail!("the destruction job's log line lacks `destroyed` or `secs`: {line}"),
    }
}

/// The `destruction_job` row; `raw` is the baseline's fresh database.
pub(super) async fn job(ctx: &Ctx<'_>, raw: Db) -> Result<Workload> {
    let n = ctx.plan.destroy;
    let mut server = start(ctx).await?;
    say(format!(
        "destruction job: registering {n} visitors with their analytics consent"
    ));
    let ids: Arc<Mutex<Vec<Uuid>>> = Arc::new(Mutex::new(vec![Uuid::nil(); n as usize]));
    let (o, failed) = bulk_api_of(
        &server.site,
        ctx,
        (data::DESTROY_POOL, 0, n),
        ids.clone(),
        data::visitors_batch_json,
    )
    .await?;
    check(&o, failed, "registering visitors")?;
    let ids: Arc<Vec<Uuid>> = Arc::new(lock(&ids).clone());
    let first = *ids.first().context("no visitor")?;
    let mut shapes = ctx
        .ward_db()
        .await?
        .created_shapes(first.as_bytes())
        .await
        .context("measuring the rows Ward wrote")?;
    say("withdrawing each visitor's analytics consent");
    let o = load::drive(&server.site, ctx.clients, Limit::Jobs(n), withdraw_job(ids), None).await?;
    check(&o, 0, "withdrawing consents")?;
    server.served.stop()?;

    say("the destruction job, 31 days later by the server's clock");
    settle().await;
    let mut cmd = ctx.ward.command();
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env(CLOCK_OFFSET_ENV, AHEAD_SECS.to_string())
        .env(DESTRUCTION_EVERY_ENV, "1")
        .env("WARD_LOG_FORMAT", "json");
    let (mut served, lines) = Served::start_watching(
        cmd,
        "Ward listening on ",
        &ctx.work.join("server-destroy.log"),
        JOB_LINE,
    )?;
    let pid = served.pid();
    procs::reset_peak(pid);
    let patience = Duration::from_secs(120 + n / 100);
    let line = tokio::task::spawn_blocking(move || lines.recv_timeout(patience))
        .await
        .context("the log's watcher")?
        .with_context(|| format!("the destruction job did not finish within {patience:?}"))?;
    let memory = procs::memory(pid);
    served.stop()?;
    let (destroyed, secs) = parse_line(&line)?;
    let mut db = ctx.ward_db().await?;
    let acts = db.count_acts().await?;
    if destroyed != n || acts != n {
        bail!("the destruction job destroyed {destroyed} subjects' data with {acts} acts; {n} were due");
    }
    db.add_destruction(&mut shapes, first.as_bytes())
        .await
        .context("measuring what the job wrote")?;
    drop(db);

    say("destruction job baseline: plain SQL, group-committed");
    let mut writer = RawWriter::new(raw, shapes)?;
    baseline::bulk(&mut writer, 0, n, MAX_BATCH).await?;
    settle().await;
    let job: Arc<dyn Fn(u64) -> Vec<RawOp> + Send + Sync> = Arc::new(|i| vec![RawOp::Destroy(raw_id(i))]);
    let raw = baseline::group_commit(writer, JOB_AT_ONCE, n, None, job).await?;

    let pg = ctx.pg_backend;
    Ok(Workload {
        key: "destruction_job".into(),
        title: "Destruction job: withdrawn consents' data destroyed 30 days later, each with its act".into(),
        unit: "subjects/s".into(),
        clients: JOB_AT_ONCE,
        subjects: n,
        ward: Figure {
            value: destroyed as f64 / secs.max(1e-6),
            ops: destroyed,
            errors: 0,
            secs,
            latency_ms: None,
            server_memory: memory,
        },
        baseline: Some(Figure::rate(&raw, None)),
        baseline_what: format!(
            "plain SQL of the same rows and sizes Ward wrote (the subject's row with fewer sealed fields, the act, the journal row), same driver ({}), schema and durability, {JOB_AT_ONCE} submitters (the subjects the job works on at once) to one writer that commits everything queued per transaction, like Ward's committer; no reads, policy, standing or hash chain",
            ctx.driver
        ),
        ratio: None,
        target: if pg {
            Goal::default()
        } else {
            Goal {
                min_value: Some(2_000.0),
                min_ratio: Some(0.5),
                ..Goal::default()
            }
        },
        met: None,
        notes: vec![format!(
            "the job's first run, timed by the job (its log line): {n} subjects looked at, {destroyed} destructions, {acts} acts"
        )],
    }
    .finish())
}
