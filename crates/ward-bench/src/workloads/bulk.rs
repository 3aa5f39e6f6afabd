//! Bulk registration: over the API (`POST /v1/subjects/batch`) to the grown size, and by
//! `ward import FILE` into a fresh vault; both against plain SQL inserts of the same rows,
//! one transaction after another.

use super::jobs::bulk_api;
use super::{check, measured, reset, settle, Ctx, Server};
use crate::baseline::{self, RawWriter, Shapes};
use crate::data;
use crate::load::Outcome;
use crate::pg::PgAdmin;
use crate::procs::{self, Memory, WardCmd};
use crate::report::{self, Figure, Target as Goal, Workload};
use crate::say;
use anyhow::{bail, Context, Result};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// `bulk_import_api`, and its baseline, which `bulk_import_cli` shares.
pub(super) struct Bulk {
    pub(super) row: Workload,
    raw: Outcome,
    what: String,
    goal: Goal,
}

/// `bulk_import_api`: registers the subjects from the base size to the grown size, their ids
/// to `ids`; then the baseline.
pub(super) async fn over_api(
    ctx: &Ctx<'_>,
    server: &Server,
    pg: Option<&mut PgAdmin>,
    shapes: &Shapes,
    ids: &Arc<Mutex<Vec<Uuid>>>,
) -> Result<Bulk> {
    let plan = ctx.plan;
    let n = plan.grown - plan.base;
    say(format!("bulk import over the API: {n} subjects"));
    settle().await;
    reset(server.pid);
    let (bulk, failed) = bulk_api(&server.site, ctx, data::MAIN + plan.base, plan.base, n, ids.clone()).await?;
    let bulk_mem = procs::memory(server.pid);
    check(&bulk, failed, "the bulk import")?;
    say(format!("bulk import baseline: {n} subjects of plain SQL"));
    let raw = {
        settle().await;
        let mut writer = RawWriter::new(ctx.raw_db(pg, "bulk").await?, shapes.clone())?;
        baseline::bulk(&mut writer, data::MAIN, n, baseline::MAX_BATCH).await?
    };
    let inserts = if ctx.pg_backend {
        "multi-row INSERTs"
    } else {
        "prepared single-row INSERTs (one cached statement per table, run once per row, as Ward's backend does)"
    };
    let what = format!(
        "plain SQL {inserts} of the same rows and sizes (subject, 2 index rows, 2 consent events, 3 journal rows each), same driver ({}), schema and durability, {} subjects per transaction (Ward's max_batch), one transaction after another",
        ctx.driver,
        baseline::MAX_BATCH
    );
    let ward = Figure {
        value: (n - failed) as f64 / bulk.secs,
        ops: n - failed,
        errors: failed + bulk.errors,
        secs: bulk.secs,
        latency_ms: report::Latency::of(&bulk),
        server_memory: bulk_mem,
    };
    let goal = Goal {
        min_value: (!ctx.pg_backend).then_some(10_000.0),
        min_ratio: Some(0.5),
        ..Goal::default()
    };
    let row = Workload {
        key: "bulk_import_api".into(),
        title: format!(
            "Bulk import, API (`POST /v1/subjects/batch`, {} per request)",
            plan.batch
        ),
        unit: "subjects/s".into(),
        clients: plan.batch_clients,
        subjects: plan.grown,
        ward,
        baseline: Some(Figure::rate(&raw, None)),
        baseline_what: what.clone(),
        ratio: None,
        target: goal.clone(),
        met: None,
        notes: vec!["latency is per request of 500 subjects; the baseline's, per transaction of 512".into()],
    }
    .finish();
    Ok(Bulk { row, raw, what, goal })
}

/// `bulk_import_cli`: `ward import FILE` (JSON Lines) into a fresh vault, the whole command
/// timed; against the bulk baseline of `bulk_import_api`.
pub(super) async fn with_ward_import(ctx: &Ctx<'_>, pg: Option<&mut PgAdmin>, bulk: &Bulk) -> Result<Workload> {
    let plan = ctx.plan;
    say(format!("ward import: {} subjects from a JSON Lines file", plan.import));
    let file = ctx.work.join("import.jsonl");
    {
        use std::io::Write;
        let f = std::fs::File::create(&file).with_context(|| format!("creating {}", file.display()))?;
        let mut w = std::io::BufWriter::new(f);
        for k in 0..plan.import {
            writeln!(w, "{}", data::subject_json(data::IMPORT + k)).context("writing the import file")?;
        }
        w.flush().context("writing the import file")?;
    }
    let import_ward = WardCmd {
        exe: ctx.env.exe.clone(),
        data_dir: ctx.work.join("import-data"),
        database_url: match pg {
            Some(pg) => Some(pg.create("import").await?),
            None => None,
        },
    };
    let mut init = import_ward.command();
    init.arg("init");
    measured(init).await.context("ward init for the import")?;
    let mut import = import_ward.command();
    import.arg("import").arg(&file).args(["--format", "jsonl"]);
    let (_, stderr, import_secs, import_peak) = measured(import).await.context("ward import")?;
    if !stderr.contains(&format!("imported {}", plan.import)) {
        bail!("ward import did not import every line:\n{stderr}");
    }
    Ok(Workload {
        key: "bulk_import_cli".into(),
        title: "Bulk import, `ward import FILE` (JSON Lines)".into(),
        unit: "subjects/s".into(),
        clients: 1,
        subjects: plan.import,
        ward: Figure {
            value: plan.import as f64 / import_secs,
            ops: plan.import,
            errors: 0,
            secs: import_secs,
            latency_ms: None,
            server_memory: import_peak.map(|p| Memory {
                peak_rss_mib: p,
                rss_mib: 0.0,
            }),
        },
        baseline: Some(Figure::rate(&bulk.raw, None)),
        baseline_what: bulk.what.clone(),
        ratio: None,
        target: bulk.goal.clone(),
        met: None,
        notes: vec!["wall time of the whole command (start, key load, migrations, import, final checkpoint); memory is the command's peak RSS".into()],
    }
    .finish())
}
