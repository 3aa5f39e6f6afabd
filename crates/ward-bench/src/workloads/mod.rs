//! The workloads, one function each, in the order a run measures them.
//!
//! The order is part of the measurement: each workload runs on the vault the ones before it
//! left (the reads at the grown size come after the bulk import that grew it), and a
//! baseline runs where it always has, so that what it leaves in the page cache and on disk
//! lands where it always did. [`run_all`] is the order; the report lists the workloads in
//! an order of its own (bulk imports first).

mod backlog;
mod bulk;
mod destruction;
mod jobs;
mod journal;
mod mail;
mod reads;
mod reports;
mod requests;
mod rotation;
mod scrub;
mod writes;

use crate::baseline::Db;
use crate::load::{self, Limit, Outcome, Req, Target};
use crate::pg::PgAdmin;
use crate::procs::{self, Memory, Served, WardCmd};
use crate::report::Workload;
use crate::{data, say, Env, Only, Plan};
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// The workloads' rows, and PostgreSQL's settings on a PostgreSQL run.
pub(crate) type Run = (Vec<Workload>, Option<String>);

/// Everything the workloads share.
pub(crate) struct Ctx<'a> {
    pub(crate) plan: &'a Plan,
    pub(crate) env: &'a Env,
    pub(crate) work: &'a Path,
    /// Concurrent HTTP clients for the per-request workloads.
    pub(crate) clients: usize,
    pub(crate) ward: WardCmd,
    /// Ward's database, for measuring row sizes and scanning the journal.
    pub(crate) ward_db_url: Option<String>,
    /// A PostgreSQL run (no targets: they are set for SQLite).
    pub(crate) pg_backend: bool,
    /// The baselines' driver: the one Ward's backend uses.
    pub(crate) driver: &'static str,
}

impl Ctx<'_> {
    async fn ward_db(&self) -> Result<Db> {
        match &self.ward_db_url {
            Some(u) => Db::pg(u).await,
            None => Db::sqlite_read_only(&self.ward.data_dir.join("ward.db")).await,
        }
    }

    /// Reads Ward's whole database once, so that it is in the OS page cache before a read
    /// workload, and returns how many bytes that was. This machine kind's kernel runs DAMON
    /// proactive reclaim (`/sys/kernel/mm/damon/admin/kdamonds/0`: action `pageout` for
    /// unmapped file pages not accessed for 12 aggregation intervals of 5 s), so the pages the
    /// bulk import wrote a minute before are dropped, and without this the reads at the grown
    /// size measure random reads from the rotational disk instead of Ward.
    /// SQLite: the database file and its WAL, read as `cat` would; PostgreSQL: `pg_prewarm`
    /// (mode `read`) of every table and index of Ward's database.
    async fn preload(&self) -> Result<u64> {
        match &self.ward_db_url {
            Some(url) => {
                use sqlx::{Connection, Row};
                let mut c = sqlx::PgConnection::connect(url)
                    .await
                    .context("connecting to Ward's database to preload it")?;
                sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
                    .execute(&mut c)
                    .await
                    .context("CREATE EXTENSION pg_prewarm (PostgreSQL's contrib)")?;
                let row = sqlx::query(
                    "SELECT coalesce(sum(pg_prewarm(c.oid, 'read')), 0)::int8 * current_setting('block_size')::int8 \
                     FROM pg_class c WHERE c.relkind IN ('r', 'i', 't') \
                     AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)",
                )
                .fetch_one(&mut c)
                .await
                .context("pg_prewarm of Ward's tables and indexes")?;
                Ok(u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0))
            }
            None => {
                let dir = self.ward.data_dir.clone();
                tokio::task::spawn_blocking(move || {
                    let mut total = 0;
                    for name in ["ward.db", "ward.db-wal"] {
                        let path = dir.join(name);
                        match std::fs::File::open(&path) {
                            Ok(mut f) => {
                                total += std::io::copy(&mut f, &mut std::io::sink())
                                    .with_context(|| format!("reading {}", path.display()))?;
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                            Err(e) => return Err(e).with_context(|| format!("opening {}", path.display())),
                        }
                    }
                    Ok(total)
                })
                .await
                .context("the preload task")?
            }
        }
    }

    /// A fresh raw-SQL database for a baseline.
    async fn raw_db(&self, pg: Option<&mut PgAdmin>, name: &str) -> Result<Db> {
        match pg {
            Some(pg) => {
                let url = pg.create(name).await?;
                Db::fresh_pg(&url).await
            }
            None => Db::fresh_sqlite(&self.work.join(format!("raw-{name}.db"))).await,
        }
    }
}

/// The running `ward serve` and a service key for it.
struct Server {
    served: Served,
    /// The server with the service key's token.
    site: Target,
    /// The server with the admin key's token.
    admin: Target,
    pid: u32,
}

/// Starts `ward serve` and creates a service key over HTTP with the admin key.
async fn start(ctx: &Ctx<'_>) -> Result<Server> {
    start_with(ctx, &[], "server.log").await
}

/// [`start`], with more environment variables, logging to `log` in the work directory.
async fn start_with(ctx: &Ctx<'_>, env: &[(&str, &str)], log: &str) -> Result<Server> {
    say("starting ward serve");
    let mut cmd = ctx.ward.command();
    cmd.args(["serve", "--listen", "127.0.0.1:0"]).envs(env.iter().copied());
    let served = Served::start(cmd, "Ward listening on ", &ctx.work.join(log))?;
    let pid = served.pid();
    let admin_token = std::fs::read_to_string(ctx.ward.data_dir.join("admin-token"))
        .context("reading the admin token")?
        .trim()
        .to_owned();
    let admin = Target {
        addr: served.addr,
        token: Some(admin_token),
    };
    let (status, body) = load::once(
        &admin,
        Req::post(
            "/v1/keys",
            json!({"name": "bench", "role": "service", "purposes": ["registration", "marketing", "analytics"]})
                .to_string(),
            201,
        ),
    )
    .await?;
    if status != 201 {
        bail!("creating a service key: {status} {}", String::from_utf8_lossy(&body));
    }
    let key: serde_json::Value = serde_json::from_slice(&body).context("the key answer")?;
    let site = Target {
        addr: served.addr,
        token: key["token"].as_str().map(str::to_owned),
    };
    Ok(Server {
        served,
        site,
        admin,
        pid,
    })
}

/// Runs the workloads `only` names (every one by default), in the order of the run; returns
/// the rows in the report's order. Each group but `core` runs on a vault of its own (a data
/// directory, or a PostgreSQL database, named after it), so that it can run alone.
pub(crate) async fn run_all(
    plan: &Plan,
    clients: usize,
    env: &Env,
    work: &Path,
    mut pg: Option<&mut PgAdmin>,
    only: &Only,
) -> Result<Run> {
    let postgres = match pg.as_deref_mut() {
        Some(pg) => Some(pg.describe().await?),
        None => None,
    };
    let mut rows = Vec::new();
    if only.runs("core") {
        let ctx = Ctx::new(plan, clients, env, work, pg.as_deref_mut(), "ward").await?;
        rows.extend(core(&ctx, pg.as_deref_mut()).await?);
    }
    if only.runs("outbox_delivery") {
        let ctx = Ctx::new(plan, clients, env, work, pg.as_deref_mut(), "mail").await?;
        rows.push(mail::delivery(&ctx).await?);
    }
    if only.runs("outbox_backlog") {
        let ctx = Ctx::new(plan, clients, env, work, pg.as_deref_mut(), "backlog").await?;
        rows.push(backlog::across_kill_9(&ctx).await?);
    }
    if only.runs("destruction_job") {
        let ctx = Ctx::new(plan, clients, env, work, pg.as_deref_mut(), "destroy").await?;
        let raw = ctx.raw_db(pg, "destroy_raw").await?;
        rows.push(destruction::job(&ctx, raw).await?);
    }
    Ok((rows, postgres))
}

impl<'a> Ctx<'a> {
    /// The context of a group whose vault is named `name`: the data directory `ward-data`
    /// for `ward` (the core group's, as before), `ward-NAME` for the others; on PostgreSQL a
    /// fresh database.
    async fn new(
        plan: &'a Plan,
        clients: usize,
        env: &'a Env,
        work: &'a Path,
        pg: Option<&mut PgAdmin>,
        name: &str,
    ) -> Result<Ctx<'a>> {
        let ward_db_url = match pg {
            Some(pg) => Some(pg.create(name).await?),
            None => None,
        };
        let pg_backend = ward_db_url.is_some();
        let dir = if name == "ward" {
            "ward-data".to_owned()
        } else {
            format!("ward-{name}")
        };
        Ok(Ctx {
            plan,
            env,
            work,
            clients,
            ward: WardCmd {
                exe: env.exe.clone(),
                data_dir: work.join(dir),
                database_url: ward_db_url.clone(),
            },
            ward_db_url,
            pg_backend,
            driver: if pg_backend { "sqlx" } else { "rusqlite" },
        })
    }
}

/// The HTTP, import, rotation and journal workloads, on the vault `ctx` names.
async fn core(ctx: &Ctx<'_>, mut pg: Option<&mut PgAdmin>) -> Result<Vec<Workload>> {
    let plan = ctx.plan;
    let mut server = start(ctx).await?;
    let site = &server.site;

    // The first subjects.
    let ids: Arc<Mutex<Vec<Uuid>>> = Arc::new(Mutex::new(vec![Uuid::nil(); plan.grown as usize]));
    say(format!("registering {} subjects", plan.base));
    let (o, failed) = jobs::bulk_api(site, ctx, data::MAIN, 0, plan.base, ids.clone()).await?;
    check(&o, failed, "registering the first subjects")?;
    let base_ids: Arc<Vec<Uuid>> = Arc::new(lock(&ids)[..plan.base as usize].to_vec());

    // What Ward wrote for one of them, for the write baselines: measured before any read, so
    // that its journal rows are those of its registration only.
    let mut shapes = ctx
        .ward_db()
        .await?
        .created_shapes(base_ids.first().context("no subject")?.as_bytes())
        .await
        .context("measuring the rows Ward wrote")?;

    let base = reads::at_base(ctx, &server, &base_ids).await?;
    let create = writes::single_create(ctx, &server).await?;
    let erase = writes::withdraw_erase(ctx, &server, &mut shapes).await?;
    let erase_scrub = scrub::erase_with_and_without(ctx, &mut server).await?;
    let single_create = writes::single_create_baseline(ctx, pg.as_deref_mut(), &shapes, create).await?;
    let withdraw_erase = writes::withdraw_erase_baseline(ctx, pg.as_deref_mut(), &shapes, erase).await?;
    let bulk = bulk::over_api(ctx, &server, pg.as_deref_mut(), &shapes, &ids).await?;
    let grown = reads::at_grown(ctx, &server, &base, &ids).await?;
    let rotation = rotation::beside_reads(ctx, &server, &ids).await?;
    let access_report = reports::access_report(ctx, &server).await?;
    let requests_overdue = requests::overdue(ctx, &server, &ids).await?;
    say("stopping the server (final checkpoint)");
    server.served.stop()?;
    let bulk_import_cli = bulk::with_ward_import(ctx, pg, &bulk).await?;
    let journal_verify = journal::verify(ctx).await?;

    let mut rows = vec![bulk.row, bulk_import_cli];
    rows.extend(base.rows);
    rows.extend([single_create, withdraw_erase]);
    rows.extend(erase_scrub);
    rows.extend(grown);
    rows.extend(rotation);
    rows.push(access_report);
    rows.push(requests_overdue);
    rows.push(journal_verify);
    Ok(rows)
}

/// [`procs::run_measured`] off the async threads.
async fn measured(cmd: Command) -> Result<(String, String, f64, Option<f64>)> {
    tokio::task::spawn_blocking(move || procs::run_measured(cmd))
        .await
        .context("a ward command's watcher failed")?
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn reset(pid: u32) {
    procs::reset_peak(pid);
}

fn check(o: &Outcome, failed_items: u64, what: &str) -> Result<()> {
    if o.errors > 0 || failed_items > 0 {
        bail!(
            "{what}: {} requests failed, {failed_items} subjects refused; first error: {}",
            o.errors,
            o.first_error.as_deref().unwrap_or("(none)")
        );
    }
    Ok(())
}

fn errors_note(o: &Outcome) -> Vec<String> {
    match &o.first_error {
        Some(e) => vec![format!("{} failed requests; first: {e}", o.errors)],
        None => vec![],
    }
}

/// Flushes dirty pages left by the previous workload (a baseline's database, say), so that
/// their write-back does not land in the next workload's figures.
async fn settle() {
    let _ = tokio::task::spawn_blocking(|| Command::new("sync").status()).await;
}

/// Runs a timed workload against `pid`, with its peak memory. With `warm`, first runs it
/// untimed for a fifth of the time, so that caches are in their steady state.
async fn timed(
    t: &Target,
    clients: usize,
    s: f64,
    pid: u32,
    job: Arc<load::JobFn>,
    warm: bool,
) -> Result<(Outcome, Option<Memory>)> {
    settle().await;
    if warm {
        load::drive(t, clients, Limit::Time(secs(s / 5.0)), job.clone(), None).await?;
    }
    reset(pid);
    let o = load::drive(t, clients, Limit::Time(secs(s)), job, None).await?;
    Ok((o, procs::memory(pid)))
}
