//! Reads: by id and by email (blind index), purpose-checked and journaled, at the base size
//! and at the grown size, against the bare-HTTP baseline (`ward bench-echo`); the server's
//! memory under that load; and how throughput holds as the vault grows.

use super::jobs::{lookup_body, lookups_job, reads_job};
use super::{errors_note, lock, secs, settle, timed, Ctx, Server};
use crate::echo;
use crate::load::{self, Limit, Outcome, Req, Target};
use crate::procs::{self, Memory, Served};
use crate::report::{self, Figure, Target as Goal, Workload};
use crate::say;
use anyhow::{bail, Result};
use bytes::Bytes;
use std::process::Command;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// A timed workload's outcome and the serving process's memory.
type Measured = (Outcome, Option<Memory>);

/// The reads at the base size and their baseline, which the reads at the grown size are
/// compared with.
pub(super) struct Base {
    read: Measured,
    lookup: Measured,
    echo: Echo,
    /// `read_by_id` and `lookup_email`.
    pub(super) rows: Vec<Workload>,
}

/// The bare-HTTP baseline of both reads.
struct Echo {
    read: Measured,
    lookup: Measured,
    read_what: String,
    lookup_what: String,
}

/// Ward's answers, whose sizes the bare-HTTP server answers with.
struct Samples {
    read_body: Bytes,
    lookup_req: Bytes,
    lookup_resp: Bytes,
}

async fn samples(site: &Target, ids: &[Uuid]) -> Result<Samples> {
    let read_path = |id: &Uuid| format!("/v1/subjects/{id}?purpose=marketing");
    let (_, read_body) = load::once(site, Req::get(read_path(&ids[0]), 200)).await?;
    let lookup_req = lookup_body(0);
    let (_, lookup_resp) = load::once(site, Req::post("/v1/subjects/lookup", lookup_req.clone(), 200)).await?;
    if !lookup_resp.windows(4).any(|w| w == b"\"id\"") {
        bail!("a lookup found nothing: {}", String::from_utf8_lossy(&lookup_resp));
    }
    Ok(Samples {
        read_body,
        lookup_req,
        lookup_resp,
    })
}

/// `read_by_id` and `lookup_email` at the base size, then their baseline.
pub(super) async fn at_base(ctx: &Ctx<'_>, server: &Server, ids: &Arc<Vec<Uuid>>) -> Result<Base> {
    let plan = ctx.plan;
    let samples = samples(&server.site, ids).await?;
    say(format!("read by id, {} subjects", plan.base));
    let read = timed(
        &server.site,
        ctx.clients,
        plan.secs,
        server.pid,
        reads_job(ids.clone()),
        true,
    )
    .await?;
    say(format!("lookup by email, {} subjects", plan.base));
    let lookup = timed(
        &server.site,
        ctx.clients,
        plan.secs,
        server.pid,
        lookups_job(plan.base),
        true,
    )
    .await?;
    let echo = bare_http(ctx, &server.site, &samples, ids).await?;
    let rows = vec![
        read_row(
            ctx,
            "read_by_id",
            "Read by id, purpose-checked, journaled",
            plan.base,
            &read,
            &echo.read,
            &echo.read_what,
        ),
        read_row(
            ctx,
            "lookup_email",
            "Lookup by email (blind index), purpose-checked, journaled",
            plan.base,
            &lookup,
            &echo.lookup,
            &echo.lookup_what,
        ),
    ];
    Ok(Base {
        read,
        lookup,
        echo,
        rows,
    })
}

/// The read baseline: the same HTTP stack with fixed bodies of the sizes of Ward's answers.
async fn bare_http(ctx: &Ctx<'_>, site: &Target, samples: &Samples, ids: &Arc<Vec<Uuid>>) -> Result<Echo> {
    let plan = ctx.plan;
    say("read baseline: bare HTTP with fixed bodies");
    let mut echo_cmd = Command::new(&ctx.env.exe);
    echo_cmd.env_remove("WARD_LOG").args([
        "bench-echo",
        "--listen",
        "127.0.0.1:0",
        "--read-bytes",
        &samples.read_body.len().to_string(),
        "--lookup-bytes",
        &samples.lookup_resp.len().to_string(),
    ]);
    let mut echo = Served::start(echo_cmd, echo::LISTENING, &ctx.work.join("echo.log"))?;
    let echo_target = Target {
        addr: echo.addr,
        token: site.token.clone(),
    };
    let echo_pid = echo.pid();
    let read = timed(
        &echo_target,
        ctx.clients,
        plan.secs,
        echo_pid,
        reads_job(ids.clone()),
        true,
    )
    .await?;
    let lookup = timed(
        &echo_target,
        ctx.clients,
        plan.secs,
        echo_pid,
        lookups_job(plan.base),
        true,
    )
    .await?;
    echo.stop()?;
    Ok(Echo {
        read,
        lookup,
        read_what: format!(
            "the same HTTP stack (tokio, hyper, axum, Ward's middleware and request log) answering GET with a fixed {} B JSON body: no auth, no database, no decryption, no journal",
            samples.read_body.len()
        ),
        lookup_what: format!(
            "the same HTTP stack answering the same {} B POST with a fixed {} B JSON body",
            samples.lookup_req.len(),
            samples.lookup_resp.len()
        ),
    })
}

/// `read_by_id_grown`, `lookup_email_grown`, `memory_under_read_load`, `growth_read` and
/// `growth_lookup`, at the size the bulk import grew the vault to.
///
/// Each read workload comes right after the whole database has been read into the OS page
/// cache (`Ctx::preload`: this machine's kernel drops file pages a minute after their last
/// access) and runs untimed for a fifth of its duration first.
pub(super) async fn at_grown(
    ctx: &Ctx<'_>,
    server: &Server,
    base: &Base,
    ids: &Arc<Mutex<Vec<Uuid>>>,
) -> Result<Vec<Workload>> {
    let (plan, clients, site, pid) = (ctx.plan, ctx.clients, &server.site, server.pid);
    let grown_ids: Arc<Vec<Uuid>> = Arc::new(lock(ids).clone());
    say(format!("read by id, {} subjects", plan.grown));
    let bytes = ctx.preload().await?;
    say(format!("  preloaded {} MiB of Ward's database", bytes >> 20));
    let read_grown = timed(site, clients, plan.secs, pid, reads_job(grown_ids), true).await?;
    say(format!("lookup by email, {} subjects", plan.grown));
    ctx.preload().await?;
    settle().await;
    load::drive(
        site,
        clients,
        Limit::Time(secs(plan.secs / 5.0)),
        lookups_job(plan.grown),
        None,
    )
    .await?;
    let lookup_grown = load::drive(
        site,
        clients,
        Limit::Time(secs(plan.secs)),
        lookups_job(plan.grown),
        None,
    )
    .await?;
    let grown_mem = procs::memory(pid);
    let lookup_grown = (lookup_grown, grown_mem);
    let mut rows = vec![
        read_row(
            ctx,
            "read_by_id_grown",
            "Read by id, purpose-checked, journaled",
            plan.grown,
            &read_grown,
            &base.echo.read,
            &base.echo.read_what,
        ),
        read_row(
            ctx,
            "lookup_email_grown",
            "Lookup by email (blind index), purpose-checked, journaled",
            plan.grown,
            &lookup_grown,
            &base.echo.lookup,
            &base.echo.lookup_what,
        ),
        memory_row(ctx, grown_mem, &base.echo),
    ];
    rows.extend(growth_rows(ctx, base, &read_grown.0, &lookup_grown.0));
    Ok(rows)
}

fn read_row(
    ctx: &Ctx<'_>,
    key: &str,
    title: &str,
    subjects: u64,
    ward: &Measured,
    echo: &Measured,
    what: &str,
) -> Workload {
    Workload {
        key: key.into(),
        title: title.into(),
        unit: "reads/s".into(),
        clients: ctx.clients,
        subjects,
        ward: Figure::rate(&ward.0, ward.1),
        baseline: Some(Figure::rate(&echo.0, echo.1)),
        baseline_what: what.into(),
        ratio: None,
        target: if ctx.pg_backend {
            Goal::default()
        } else {
            Goal {
                min_value: Some(20_000.0),
                max_p99_ms: Some(10.0),
                ..Goal::default()
            }
        },
        met: None,
        notes: errors_note(&ward.0),
    }
    .finish()
}

/// The server's peak RSS under the grown lookups, against the bare-HTTP server's.
fn memory_row(ctx: &Ctx<'_>, grown_mem: Option<Memory>, echo: &Echo) -> Workload {
    let peak = |m: Option<Memory>| m.map_or(0.0, |m| m.peak_rss_mib * 1.048_576);
    Workload {
        key: "memory_under_read_load".into(),
        title: "Server memory under read and lookup load".into(),
        unit: "MB".into(),
        clients: ctx.clients,
        subjects: ctx.plan.grown,
        ward: Figure {
            server_memory: grown_mem,
            ..Figure::scalar(peak(grown_mem))
        },
        baseline: Some(Figure {
            server_memory: echo.read.1,
            ..Figure::scalar(peak(echo.read.1).max(peak(echo.lookup.1)))
        }),
        baseline_what: "peak RSS of the bare-HTTP server under the same read load".into(),
        ratio: None,
        target: if ctx.pg_backend {
            Goal::default()
        } else {
            Goal {
                max_value: Some(150.0),
                ..Goal::default()
            }
        },
        met: None,
        notes: vec!["peak RSS (VmHWM, reset before the read workloads) of the ward serve process".into()],
    }
    .finish()
}

/// Throughput at the grown size against the same workload at the base size.
fn growth_rows(ctx: &Ctx<'_>, base: &Base, read_grown: &Outcome, lookup_grown: &Outcome) -> Vec<Workload> {
    let plan = ctx.plan;
    [
        ("growth_read", "Growth: read throughput", &base.read.0, read_grown),
        (
            "growth_lookup",
            "Growth: lookup throughput",
            &base.lookup.0,
            lookup_grown,
        ),
    ]
    .into_iter()
    .map(|(key, title, small, big)| {
        Workload {
            key: key.into(),
            title: format!(
                "{title} at {} vs {} subjects",
                report::group(plan.grown as f64),
                report::group(plan.base as f64)
            ),
            unit: "ops/s".into(),
            clients: ctx.clients,
            subjects: plan.grown,
            ward: Figure::rate(big, None),
            baseline: Some(Figure::rate(small, None)),
            baseline_what: format!("the same workload at {} subjects", plan.base),
            ratio: None,
            target: if ctx.pg_backend {
                Goal::default()
            } else {
                Goal {
                    min_ratio: Some(0.8),
                    ..Goal::default()
                }
            },
            met: None,
            notes: vec![],
        }
        .finish()
    })
    .collect()
}
