//! Writes one at a time: single creates, and consent withdrawal then erasure, against plain
//! SQL of the same rows through a group-committing writer.
//!
//! Both Ward workloads run before either baseline, as they always have: the baselines'
//! databases are written after Ward's figures are taken.

use super::jobs::{bulk_api, create_job, erase_job};
use super::{check, errors_note, lock, reset, settle, timed, Ctx, Server};
use crate::baseline::{self, RawOp, RawWriter, Shapes};
use crate::data;
use crate::load::{self, Limit, Outcome};
use crate::pg::PgAdmin;
use crate::procs::{self, Memory};
use crate::report::{Figure, Target as Goal, Workload};
use crate::say;
use anyhow::{Context, Result};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Ward's side of `single_create`: new subjects, one per request.
pub(super) async fn single_create(ctx: &Ctx<'_>, server: &Server) -> Result<(Outcome, Option<Memory>)> {
    say("single create");
    timed(
        &server.site,
        ctx.clients,
        ctx.plan.secs,
        server.pid,
        create_job(),
        false,
    )
    .await
}

/// Ward's side of `withdraw_erase`: registers the subjects to erase, withdraws each one's
/// consent and erases it; then adds to `shapes` what Ward wrote for that.
pub(super) async fn withdraw_erase(
    ctx: &Ctx<'_>,
    server: &Server,
    shapes: &mut Shapes,
) -> Result<(Outcome, Option<Memory>)> {
    let (erase, erase_mem, pool_ids) = erase_leg(ctx, server, data::ERASE_POOL, false).await?;
    // What Ward wrote for a withdrawal and an erasure, for their baseline.
    ctx.ward_db()
        .await?
        .add_erasure(shapes, pool_ids.first().context("no subject erased")?.as_bytes())
        .await
        .context("measuring the rows Ward wrote")?;
    Ok((erase, erase_mem))
}

/// Registers `erase_pool` subjects from data index `first`, then withdraws each one's consent
/// and erases it, timed (with `warm`, all but the first fifth); returns the timed part, the
/// server's peak memory in it, and the ids.
pub(super) async fn erase_leg(
    ctx: &Ctx<'_>,
    server: &Server,
    first: u64,
    warm: bool,
) -> Result<(Outcome, Option<Memory>, Arc<Vec<Uuid>>)> {
    let plan = ctx.plan;
    say(format!(
        "withdrawal then erasure: registering {} subjects to erase",
        plan.erase_pool
    ));
    let pool: Arc<Mutex<Vec<Uuid>>> = Arc::new(Mutex::new(vec![Uuid::nil(); plan.erase_pool as usize]));
    let (o, failed) = bulk_api(&server.site, ctx, first, 0, plan.erase_pool, pool.clone()).await?;
    check(&o, failed, "registering subjects to erase")?;
    let pool_ids: Arc<Vec<Uuid>> = Arc::new(lock(&pool).clone());
    say("withdrawal then erasure");
    settle().await;
    let timed_ids = if warm {
        // A fifth of the pool untimed, so that a server just started is in its steady state.
        let cut = pool_ids.len() / 5;
        let warm_ids = Arc::new(pool_ids[..cut].to_vec());
        load::drive(
            &server.site,
            ctx.clients,
            Limit::Jobs(cut as u64),
            erase_job(warm_ids),
            None,
        )
        .await?;
        Arc::new(pool_ids[cut..].to_vec())
    } else {
        pool_ids.clone()
    };
    reset(server.pid);
    let erase = load::drive(
        &server.site,
        ctx.clients,
        Limit::Jobs(timed_ids.len() as u64),
        erase_job(timed_ids),
        None,
    )
    .await?;
    let erase_mem = procs::memory(server.pid);
    Ok((erase, erase_mem, pool_ids))
}

/// What the group-committed baselines are.
fn group_what(ctx: &Ctx<'_>, ops: &str) -> String {
    format!(
        "plain SQL ({ops}) of the same rows and sizes Ward wrote, same driver ({}), schema and durability, {} concurrent submitters to one writer that commits everything queued (≤ {} ops) per transaction, like Ward's committer; no HTTP, auth, validation, crypto or hash chain",
        ctx.driver,
        ctx.clients,
        baseline::MAX_BATCH
    )
}

/// `single_create`'s baseline, and the row.
pub(super) async fn single_create_baseline(
    ctx: &Ctx<'_>,
    pg: Option<&mut PgAdmin>,
    shapes: &Shapes,
    create: (Outcome, Option<Memory>),
) -> Result<Workload> {
    say("single create baseline: plain SQL, group-committed");
    let raw_create = {
        let writer = RawWriter::new(ctx.raw_db(pg, "create").await?, shapes.clone())?;
        settle().await;
        baseline::group_commit(
            writer,
            ctx.clients,
            u64::MAX,
            Some(ctx.plan.secs),
            Arc::new(|i| vec![RawOp::Create(baseline::raw_id(data::SINGLE + i))]),
        )
        .await?
    };
    Ok(Workload {
        key: "single_create".into(),
        title: "Single create over HTTP".into(),
        unit: "subjects/s".into(),
        clients: ctx.clients,
        subjects: ctx.plan.base,
        ward: Figure::rate(&create.0, create.1),
        baseline: Some(Figure::rate(&raw_create, None)),
        baseline_what: group_what(ctx, "INSERT subject, 2 index rows, 2 consent events, 3 journal rows"),
        ratio: None,
        target: if ctx.pg_backend {
            Goal::default()
        } else {
            Goal {
                min_value: Some(5_000.0),
                max_p99_ms: Some(20.0),
                ..Goal::default()
            }
        },
        met: None,
        notes: errors_note(&create.0),
    }
    .finish())
}

/// `withdraw_erase`'s baseline, and the row.
pub(super) async fn withdraw_erase_baseline(
    ctx: &Ctx<'_>,
    pg: Option<&mut PgAdmin>,
    shapes: &Shapes,
    erase: (Outcome, Option<Memory>),
) -> Result<Workload> {
    let plan = ctx.plan;
    say("withdrawal then erasure baseline");
    let raw_erase = {
        let mut writer = RawWriter::new(ctx.raw_db(pg, "erase").await?, shapes.clone())?;
        baseline::bulk(&mut writer, data::ERASE_POOL, plan.erase_pool, baseline::MAX_BATCH).await?;
        settle().await;
        baseline::group_commit(
            writer,
            ctx.clients,
            plan.erase_pool,
            None,
            Arc::new(|i| {
                let id = baseline::raw_id(data::ERASE_POOL + i);
                vec![RawOp::Withdraw(id), RawOp::Erase(id)]
            }),
        )
        .await?
    };
    Ok(Workload {
        key: "withdraw_erase".into(),
        title: "Consent withdrawal, then erasure".into(),
        unit: "ops/s".into(),
        clients: ctx.clients,
        subjects: plan.base + plan.erase_pool,
        ward: Figure::rate(&erase.0, erase.1),
        baseline: Some(Figure::rate(&raw_erase, None)),
        baseline_what: group_what(ctx, "INSERT the withdrawal event and its journal row; UPDATE the subject, DELETE its index rows, UPDATE its consent events, INSERT the journal row"),
        ratio: None,
        target: if ctx.pg_backend {
            Goal::default()
        } else {
            Goal {
                min_value: Some(5_000.0),
                ..Goal::default()
            }
        },
        met: None,
        notes: errors_note(&erase.0),
    }
    .finish())
}
