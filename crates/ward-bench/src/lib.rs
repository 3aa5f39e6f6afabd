//! Ward's benchmarks: `ward bench`.
//!
//! The harness starts the real server (`ward serve`, as a child process, on SQLite or on a
//! fresh PostgreSQL database), drives it over real HTTP with its own load generator
//! ([`load`]: N clients, one keep-alive connection each, request → response in a loop), and
//! measures in the same run what the same work costs without Ward:
//!
//! - writes against plain SQL inserts of the same rows, of the same sizes, with the same
//!   driver, schema, durability and batching ([`baseline`]);
//! - reads against the same HTTP stack answering a fixed JSON body of the same size
//!   (`ward bench-echo`, [`echo`]).
//!
//! Every workload reports throughput, latency percentiles (p50, p99, p99.9), the server's
//! peak RSS, its baseline and the ratio. The results go to a JSON file ([`report::Report`])
//! and a Markdown table (printed), which BENCHMARKS.md quotes.

pub mod baseline;
pub mod data;
pub mod echo;
pub mod load;
pub mod procs;
pub mod report;

use anyhow::{bail, Context, Result};
use baseline::{Db, RawOp, RawWriter};
use bytes::Bytes;
use load::{Limit, Outcome, Req, Target};
use procs::{Memory, Served, WardCmd};
use report::{Figure, Machine, Report, Target as Goal, Workload};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How big a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// A few hundred subjects, about a second per workload: CI's smoke run.
    Tiny,
    /// 10,000 then 100,000 subjects, 5 s per timed workload.
    Small,
    /// 10,000 then 1,000,000 subjects, 15 s per timed workload: BENCHMARKS.md.
    Full,
}

impl Scale {
    fn name(self) -> &'static str {
        match self {
            Scale::Tiny => "tiny",
            Scale::Small => "small",
            Scale::Full => "full",
        }
    }
}

/// `ward bench`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// tiny (CI), small, or full (the figures in BENCHMARKS.md).
    #[arg(long, value_enum, default_value = "small")]
    pub scale: Scale,
    /// Where to write the results as JSON [default: bench/results-<backend>.json].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Concurrent HTTP clients for the per-request workloads.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Seconds per timed workload [default: tiny 1, small 5, full 15].
    #[arg(long)]
    pub duration_secs: Option<f64>,
    /// Where the temporary data directories go [default: the system's temporary directory].
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Keep the data directories (and PostgreSQL databases) afterwards.
    #[arg(long)]
    pub keep: bool,
}

/// What the `ward` binary hands over.
#[derive(Debug, Clone)]
pub struct Env {
    /// The `ward` executable to start servers and commands from.
    pub exe: PathBuf,
    /// PostgreSQL server URL (a database on it is used as the admin connection); `None`:
    /// SQLite.
    pub database_url: Option<String>,
    /// The command line, as recorded in the results (without credentials).
    pub command: String,
}

struct Plan {
    /// Subjects before the first read workloads.
    base: u64,
    /// Subjects after the bulk import.
    grown: u64,
    /// Subjects consumed by withdrawal and erasure.
    erase_pool: u64,
    /// Subjects in the `ward import` file.
    import: u64,
    secs: f64,
    /// Subjects per `POST /v1/subjects/batch`.
    batch: u64,
    /// Concurrent batch requests.
    batch_clients: usize,
}

impl Plan {
    fn of(scale: Scale, secs: Option<f64>) -> Plan {
        let (base, grown, erase_pool, import, default_secs) = match scale {
            Scale::Tiny => (200, 400, 100, 200, 1.0),
            Scale::Small => (10_000, 100_000, 5_000, 20_000, 5.0),
            Scale::Full => (10_000, 1_000_000, 25_000, 100_000, 15.0),
        };
        Plan {
            base,
            grown,
            erase_pool,
            import,
            secs: secs.unwrap_or(default_secs).max(0.1),
            batch: 500,
            batch_clients: 4,
        }
    }
}

fn say(msg: impl AsRef<str>) {
    eprintln!("[bench] {}", msg.as_ref());
}

/// Runs every workload and writes the results; returns them.
pub async fn run(args: BenchArgs, env: Env) -> Result<Report> {
    let started = Instant::now();
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let plan = Plan::of(args.scale, args.duration_secs);
    let clients = args.clients.max(1);
    let backend = if env.database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("bench/results-{backend}.json")));
    let work = match &args.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            tempfile::Builder::new().prefix("ward-bench-").tempdir_in(d)
        }
        None => tempfile::Builder::new().prefix("ward-bench-").tempdir(),
    }
    .context("creating the work directory")?;
    let work_path = work.path().to_owned();
    say(format!(
        "{backend}, scale {}, {clients} clients, {} s per timed workload, work directory {}",
        args.scale.name(),
        plan.secs,
        work_path.display()
    ));

    let mut pg = match &env.database_url {
        Some(url) => Some(PgAdmin::new(url).await?),
        None => None,
    };
    let result = run_all(&plan, clients, &env, &work_path, pg.as_mut()).await;
    if let Some(pg) = &pg {
        if args.keep {
            say(format!("kept PostgreSQL databases {}", pg.created.join(", ")));
        } else {
            pg.drop_all().await;
        }
    }
    if args.keep {
        let kept = work.keep();
        say(format!("kept {}", kept.display()));
    } else if result.is_err() {
        // What failed is in the servers' logs there: keep them.
        let _ = work.keep();
    }
    let (workloads, postgres) = result.map_err(|e| {
        anyhow::anyhow!(
            "{e:#}\nThe work directory {} is kept; Ward's log there (server.log) ends:\n{}",
            work_path.display(),
            procs::tail(&work_path.join("server.log"))
        )
    })?;
    let mut machine = machine(&work_path_or_tmp(args.work_dir.as_deref()));
    machine.postgres = postgres;
    let report = Report {
        format: 1,
        ward_version: env!("CARGO_PKG_VERSION").to_owned(),
        git_commit: git_commit(),
        started_at,
        command: env.command.clone(),
        backend: backend.to_owned(),
        scale: args.scale.name().to_owned(),
        clients,
        duration_secs: plan.secs,
        machine,
        total_secs: started.elapsed().as_secs_f64(),
        workloads,
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(&report).context("serialising the results")?;
    std::fs::write(&out, json + "\n").with_context(|| format!("writing {}", out.display()))?;
    say(format!(
        "results written to {} ({:.0} s)",
        out.display(),
        report.total_secs
    ));
    Ok(report)
}

fn work_path_or_tmp(d: Option<&Path>) -> PathBuf {
    d.map_or_else(std::env::temp_dir, Path::to_path_buf)
}

/// Everything the server workloads share.
struct Ctx<'a> {
    plan: &'a Plan,
    work: &'a Path,
    ward: WardCmd,
    /// Ward's database, for measuring row sizes and scanning the journal.
    ward_db_url: Option<String>,
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

type Run = (Vec<Workload>, Option<String>);

#[allow(clippy::too_many_lines)]
async fn run_all(plan: &Plan, clients: usize, env: &Env, work: &Path, mut pg: Option<&mut PgAdmin>) -> Result<Run> {
    let data_dir = work.join("ward-data");
    let ward_db_url = match pg.as_deref_mut() {
        Some(pg) => Some(pg.create("ward").await?),
        None => None,
    };
    let postgres = match pg.as_deref_mut() {
        Some(pg) => Some(pg.describe().await?),
        None => None,
    };
    let ctx = Ctx {
        plan,
        work,
        ward: WardCmd {
            exe: env.exe.clone(),
            data_dir: data_dir.clone(),
            database_url: ward_db_url.clone(),
        },
        ward_db_url,
    };
    let mut rows = Vec::new();
    let pg_backend = pg.is_some();
    // The baselines' driver: the one Ward's backend uses.
    let driver = if pg_backend { "sqlx" } else { "rusqlite" };
    let inserts = if pg_backend {
        "multi-row INSERTs"
    } else {
        "prepared single-row INSERTs (one cached statement per table, run once per row, as Ward's backend does)"
    };

    // The server, a service key.
    say("starting ward serve");
    let mut cmd = ctx.ward.command();
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    let mut server = Served::start(cmd, "Ward listening on ", &work.join("server.log"))?;
    let pid = server.pid();
    let admin_token = std::fs::read_to_string(data_dir.join("admin-token"))
        .context("reading the admin token")?
        .trim()
        .to_owned();
    let admin = Target {
        addr: server.addr,
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
        addr: server.addr,
        token: key["token"].as_str().map(str::to_owned),
    };

    // The first subjects.
    let ids: Arc<Mutex<Vec<Uuid>>> = Arc::new(Mutex::new(vec![Uuid::nil(); plan.grown as usize]));
    say(format!("registering {} subjects", plan.base));
    let (o, failed) = bulk_api(&site, &ctx, data::MAIN, 0, plan.base, ids.clone()).await?;
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

    // Sizes of Ward's answers, for the read baseline.
    let read_path = |id: &Uuid| format!("/v1/subjects/{id}?purpose=marketing");
    let (_, read_body) = load::once(&site, Req::get(read_path(&base_ids[0]), 200)).await?;
    let lookup_req = lookup_body(0);
    let (_, lookup_resp) = load::once(&site, Req::post("/v1/subjects/lookup", lookup_req.clone(), 200)).await?;
    if !lookup_resp.windows(4).any(|w| w == b"\"id\"") {
        bail!("a lookup found nothing: {}", String::from_utf8_lossy(&lookup_resp));
    }

    // Reads at the base size.
    say(format!("read by id, {} subjects", plan.base));
    let read_base = timed(&site, clients, plan.secs, pid, reads_job(base_ids.clone()), true).await?;
    say(format!("lookup by email, {} subjects", plan.base));
    let lookup_base = timed(&site, clients, plan.secs, pid, lookups_job(plan.base), true).await?;

    // The read baseline: bare HTTP, same body sizes.
    say("read baseline: bare HTTP with fixed bodies");
    let mut echo_cmd = Command::new(&env.exe);
    echo_cmd.env_remove("WARD_LOG").args([
        "bench-echo",
        "--listen",
        "127.0.0.1:0",
        "--read-bytes",
        &read_body.len().to_string(),
        "--lookup-bytes",
        &lookup_resp.len().to_string(),
    ]);
    let mut echo = Served::start(echo_cmd, echo::LISTENING, &work.join("echo.log"))?;
    let echo_target = Target {
        addr: echo.addr,
        token: site.token.clone(),
    };
    let echo_pid = echo.pid();
    let read_echo = timed(
        &echo_target,
        clients,
        plan.secs,
        echo_pid,
        reads_job(base_ids.clone()),
        true,
    )
    .await?;
    let lookup_echo = timed(&echo_target, clients, plan.secs, echo_pid, lookups_job(plan.base), true).await?;
    echo.stop()?;
    let read_what = format!(
        "the same HTTP stack (tokio, hyper, axum, Ward's middleware and request log) answering GET with a fixed {} B JSON body: no auth, no database, no decryption, no journal",
        read_body.len()
    );
    let lookup_what = format!(
        "the same HTTP stack answering the same {} B POST with a fixed {} B JSON body",
        lookup_req.len(),
        lookup_resp.len()
    );
    rows.push(read_row(
        "read_by_id",
        "Read by id, purpose-checked, journaled",
        plan.base,
        clients,
        &read_base,
        &read_echo,
        &read_what,
        pg_backend,
    ));
    rows.push(read_row(
        "lookup_email",
        "Lookup by email (blind index), purpose-checked, journaled",
        plan.base,
        clients,
        &lookup_base,
        &lookup_echo,
        &lookup_what,
        pg_backend,
    ));

    // Single creates.
    say("single create");
    let create = timed(&site, clients, plan.secs, pid, create_job(), false).await?;

    // Withdrawal then erasure.
    say(format!(
        "withdrawal then erasure: registering {} subjects to erase",
        plan.erase_pool
    ));
    let pool: Arc<Mutex<Vec<Uuid>>> = Arc::new(Mutex::new(vec![Uuid::nil(); plan.erase_pool as usize]));
    let (o, failed) = bulk_api(&site, &ctx, data::ERASE_POOL, 0, plan.erase_pool, pool.clone()).await?;
    check(&o, failed, "registering subjects to erase")?;
    let pool_ids: Arc<Vec<Uuid>> = Arc::new(lock(&pool).clone());
    say("withdrawal then erasure");
    settle().await;
    reset(pid);
    let erase = load::drive(
        &site,
        clients,
        Limit::Jobs(plan.erase_pool),
        erase_job(pool_ids.clone()),
        None,
    )
    .await?;
    let erase_mem = procs::memory(pid);

    // What Ward wrote for a withdrawal and an erasure, for their baseline.
    ctx.ward_db()
        .await?
        .add_erasure(&mut shapes, pool_ids.first().context("no subject erased")?.as_bytes())
        .await
        .context("measuring the rows Ward wrote")?;

    say("single create baseline: plain SQL, group-committed");
    let raw_create = {
        let writer = RawWriter::new(ctx.raw_db(pg.as_deref_mut(), "create").await?, shapes.clone())?;
        settle().await;
        baseline::group_commit(
            writer,
            clients,
            u64::MAX,
            Some(plan.secs),
            Arc::new(|i| vec![RawOp::Create(baseline::raw_id(data::SINGLE + i))]),
        )
        .await?
    };
    let group_what = |ops: &str| {
        format!(
            "plain SQL ({ops}) of the same rows and sizes Ward wrote, same driver ({driver}), schema and durability, {clients} concurrent submitters to one writer that commits everything queued (≤ {} ops) per transaction, like Ward's committer; no HTTP, auth, validation, crypto or hash chain",
            baseline::MAX_BATCH
        )
    };
    rows.push(
        Workload {
            key: "single_create".into(),
            title: "Single create over HTTP".into(),
            unit: "subjects/s".into(),
            clients,
            subjects: plan.base,
            ward: Figure::rate(&create.0, create.1),
            baseline: Some(Figure::rate(&raw_create, None)),
            baseline_what: group_what("INSERT subject, 2 index rows, 2 consent events, 3 journal rows"),
            ratio: None,
            target: if pg_backend {
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
        .finish(),
    );

    say("withdrawal then erasure baseline");
    let raw_erase = {
        let mut writer = RawWriter::new(ctx.raw_db(pg.as_deref_mut(), "erase").await?, shapes.clone())?;
        baseline::bulk(&mut writer, data::ERASE_POOL, plan.erase_pool, baseline::MAX_BATCH).await?;
        settle().await;
        baseline::group_commit(
            writer,
            clients,
            plan.erase_pool,
            None,
            Arc::new(|i| {
                let id = baseline::raw_id(data::ERASE_POOL + i);
                vec![RawOp::Withdraw(id), RawOp::Erase(id)]
            }),
        )
        .await?
    };
    rows.push(
        Workload {
            key: "withdraw_erase".into(),
            title: "Consent withdrawal, then erasure".into(),
            unit: "ops/s".into(),
            clients,
            subjects: plan.base + plan.erase_pool,
            ward: Figure::rate(&erase, erase_mem),
            baseline: Some(Figure::rate(&raw_erase, None)),
            baseline_what: group_what("INSERT the withdrawal event and its journal row; UPDATE the subject, DELETE its index rows, UPDATE its consent events, INSERT the journal row"),
            ratio: None,
            target: if pg_backend {
                Goal::default()
            } else {
                Goal {
                    min_value: Some(5_000.0),
                    ..Goal::default()
                }
            },
            met: None,
            notes: errors_note(&erase),
        }
        .finish(),
    );

    // Bulk import over the API, to the grown size.
    let n = plan.grown - plan.base;
    say(format!("bulk import over the API: {n} subjects"));
    settle().await;
    reset(pid);
    let (bulk, failed) = bulk_api(&site, &ctx, data::MAIN + plan.base, plan.base, n, ids.clone()).await?;
    let bulk_mem = procs::memory(pid);
    check(&bulk, failed, "the bulk import")?;
    let grown_ids: Arc<Vec<Uuid>> = Arc::new(lock(&ids).clone());
    say(format!("bulk import baseline: {n} subjects of plain SQL"));
    let raw_bulk = {
        settle().await;
        let mut writer = RawWriter::new(ctx.raw_db(pg.as_deref_mut(), "bulk").await?, shapes.clone())?;
        baseline::bulk(&mut writer, data::MAIN, n, baseline::MAX_BATCH).await?
    };
    let bulk_what = format!(
        "plain SQL {inserts} of the same rows and sizes (subject, 2 index rows, 2 consent events, 3 journal rows each), same driver ({driver}), schema and durability, {} subjects per transaction (Ward's max_batch), one transaction after another",
        baseline::MAX_BATCH
    );
    let bulk_fig = Figure {
        value: (n - failed) as f64 / bulk.secs,
        ops: n - failed,
        errors: failed + bulk.errors,
        secs: bulk.secs,
        latency_ms: report::Latency::of(&bulk),
        server_memory: bulk_mem,
    };
    let bulk_goal = Goal {
        min_value: (!pg_backend).then_some(10_000.0),
        min_ratio: Some(0.5),
        ..Goal::default()
    };
    rows.insert(
        0,
        Workload {
            key: "bulk_import_api".into(),
            title: format!(
                "Bulk import, API (`POST /v1/subjects/batch`, {} per request)",
                plan.batch
            ),
            unit: "subjects/s".into(),
            clients: plan.batch_clients,
            subjects: plan.grown,
            ward: bulk_fig,
            baseline: Some(Figure::rate(&raw_bulk, None)),
            baseline_what: bulk_what.clone(),
            ratio: None,
            target: bulk_goal.clone(),
            met: None,
            notes: vec!["latency is per request of 500 subjects; the baseline's, per transaction of 512".into()],
        }
        .finish(),
    );

    // Reads at the grown size, and memory under that load. Each comes right after the whole
    // database has been read into the OS page cache (`Ctx::preload`: this machine's kernel
    // drops file pages a minute after their last access) and runs untimed for a fifth of its
    // duration first.
    say(format!("read by id, {} subjects", plan.grown));
    let bytes = ctx.preload().await?;
    say(format!("  preloaded {} MiB of Ward's database", bytes >> 20));
    let read_grown = timed(&site, clients, plan.secs, pid, reads_job(grown_ids.clone()), true).await?;
    say(format!("lookup by email, {} subjects", plan.grown));
    ctx.preload().await?;
    settle().await;
    load::drive(
        &site,
        clients,
        Limit::Time(secs(plan.secs / 5.0)),
        lookups_job(plan.grown),
        None,
    )
    .await?;
    let lookup_grown = load::drive(
        &site,
        clients,
        Limit::Time(secs(plan.secs)),
        lookups_job(plan.grown),
        None,
    )
    .await?;
    let grown_mem = procs::memory(pid);
    let lookup_grown = (lookup_grown, grown_mem);
    rows.push(read_row(
        "read_by_id_grown",
        "Read by id, purpose-checked, journaled",
        plan.grown,
        clients,
        &read_grown,
        &read_echo,
        &read_what,
        pg_backend,
    ));
    rows.push(read_row(
        "lookup_email_grown",
        "Lookup by email (blind index), purpose-checked, journaled",
        plan.grown,
        clients,
        &lookup_grown,
        &lookup_echo,
        &lookup_what,
        pg_backend,
    ));
    let peak = |m: Option<Memory>| m.map_or(0.0, |m| m.peak_rss_mib * 1.048_576);
    rows.push(
        Workload {
            key: "memory_under_read_load".into(),
            title: "Server memory under read and lookup load".into(),
            unit: "MB".into(),
            clients,
            subjects: plan.grown,
            ward: Figure {
                server_memory: grown_mem,
                ..Figure::scalar(peak(grown_mem))
            },
            baseline: Some(Figure {
                server_memory: read_echo.1,
                ..Figure::scalar(peak(read_echo.1).max(peak(lookup_echo.1)))
            }),
            baseline_what: "peak RSS of the bare-HTTP server under the same read load".into(),
            ratio: None,
            target: if pg_backend {
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
        .finish(),
    );
    for (key, title, small, big) in [
        ("growth_read", "Growth: read throughput", &read_base.0, &read_grown.0),
        (
            "growth_lookup",
            "Growth: lookup throughput",
            &lookup_base.0,
            &lookup_grown.0,
        ),
    ] {
        rows.push(
            Workload {
                key: key.into(),
                title: format!(
                    "{title} at {} vs {} subjects",
                    report::group(plan.grown as f64),
                    report::group(plan.base as f64)
                ),
                unit: "ops/s".into(),
                clients,
                subjects: plan.grown,
                ward: Figure::rate(big, None),
                baseline: Some(Figure::rate(small, None)),
                baseline_what: format!("the same workload at {} subjects", plan.base),
                ratio: None,
                target: if pg_backend {
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
            .finish(),
        );
    }

    say("stopping the server (final checkpoint)");
    server.stop()?;

    // `ward import FILE`, into a fresh vault.
    say(format!("ward import: {} subjects from a JSON Lines file", plan.import));
    let file = work.join("import.jsonl");
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
        exe: env.exe.clone(),
        data_dir: work.join("import-data"),
        database_url: match pg.as_mut() {
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
    rows.insert(
        1,
        Workload {
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
            baseline: Some(Figure::rate(&raw_bulk, None)),
            baseline_what: bulk_what,
            ratio: None,
            target: bulk_goal,
            met: None,
            notes: vec!["wall time of the whole command (start, key load, migrations, import, final checkpoint); memory is the command's peak RSS".into()],
        }
        .finish(),
    );

    // `ward journal verify` on everything the run journaled.
    say("ward journal verify");
    let mut verify = ctx.ward.command();
    verify.args(["journal", "verify"]);
    let (stdout, _, wall, verify_peak) = measured(verify).await.context("ward journal verify")?;
    let (entries, verify_secs) =
        parse_verify(&stdout).with_context(|| format!("reading `ward journal verify`'s answer: {stdout}"))?;
    let secs_used = if verify_secs >= 0.05 { verify_secs } else { wall };
    say("journal scan baseline");
    let t0 = Instant::now();
    let source = match &ctx.ward_db_url {
        Some(u) => baseline::JournalSource::Pg(u.clone()),
        None => baseline::JournalSource::Sqlite(ctx.ward.data_dir.join("ward.db")),
    };
    let scanned = baseline::scan_journal(&source).await?;
    let scan_secs = t0.elapsed().as_secs_f64();
    rows.push(
        Workload {
            key: "journal_verify".into(),
            title: "`ward journal verify`".into(),
            unit: "entries/s".into(),
            clients: 1,
            subjects: plan.grown + plan.erase_pool,
            ward: Figure {
                value: entries as f64 / secs_used,
                ops: entries,
                errors: 0,
                secs: secs_used,
                latency_ms: None,
                server_memory: verify_peak.map(|p| Memory {
                    peak_rss_mib: p,
                    rss_mib: 0.0,
                }),
            },
            baseline: Some(Figure {
                value: scanned as f64 / scan_secs,
                ops: scanned,
                errors: 0,
                secs: scan_secs,
                latency_ms: None,
                server_memory: None,
            }),
            baseline_what: format!(
                "reading the same journal with {driver} as verification reads it (ranges of {} entries, one per core at a time), decoding every column, no hashing or checks",
                baseline::VERIFY_RANGE
            ),
            ratio: None,
            target: if pg_backend {
                Goal::default()
            } else {
                Goal {
                    min_value: Some(1_000_000.0),
                    ..Goal::default()
                }
            },
            met: None,
            notes: vec![format!(
                "the verification's own time as the command prints it ({verify_secs:.2} s; {wall:.2} s with process start); memory is the command's peak RSS"
            )],
        }
        .finish(),
    );
    Ok((rows, postgres))
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

#[allow(clippy::too_many_arguments)]
fn read_row(
    key: &str,
    title: &str,
    subjects: u64,
    clients: usize,
    ward: &(Outcome, Option<Memory>),
    echo: &(Outcome, Option<Memory>),
    what: &str,
    pg: bool,
) -> Workload {
    Workload {
        key: key.into(),
        title: title.into(),
        unit: "reads/s".into(),
        clients,
        subjects,
        ward: Figure::rate(&ward.0, ward.1),
        baseline: Some(Figure::rate(&echo.0, echo.1)),
        baseline_what: what.into(),
        ratio: None,
        target: if pg {
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

fn reads_job(ids: Arc<Vec<Uuid>>) -> Arc<load::JobFn> {
    Arc::new(move |i| {
        let id = ids[(data::mix(i) % ids.len() as u64) as usize];
        vec![Req::get(format!("/v1/subjects/{id}?purpose=marketing"), 200)]
    })
}

fn lookup_body(k: u64) -> Bytes {
    Bytes::from(json!({"field": "email", "value": data::email(data::MAIN + k), "purpose": "marketing"}).to_string())
}

fn lookups_job(n: u64) -> Arc<load::JobFn> {
    Arc::new(move |i| {
        vec![Req::post(
            "/v1/subjects/lookup",
            lookup_body(data::mix(i ^ 0x5555) % n),
            200,
        )]
    })
}

fn create_job() -> Arc<load::JobFn> {
    Arc::new(|i| {
        vec![Req::post(
            "/v1/subjects",
            data::subject_json(data::SINGLE + i).to_string(),
            201,
        )]
    })
}

fn erase_job(ids: Arc<Vec<Uuid>>) -> Arc<load::JobFn> {
    Arc::new(move |i| {
        let id = ids[i as usize];
        vec![
            Req::delete(format!("/v1/subjects/{id}/consents/marketing"), 200),
            Req::delete(format!("/v1/subjects/{id}"), 204),
        ]
    })
}

/// Registers subjects `first..first+n` (data indexes) through the batch API; their ids go
/// to `ids[at..]`. Returns the outcome (per request) and how many subjects were refused.
async fn bulk_api(
    t: &Target,
    ctx: &Ctx<'_>,
    first: u64,
    at: u64,
    n: u64,
    ids: Arc<Mutex<Vec<Uuid>>>,
) -> Result<(Outcome, u64)> {
    let batch = ctx.plan.batch;
    let jobs = n.div_ceil(batch);
    let failed = Arc::new(AtomicU64::new(0));
    let job: Arc<load::JobFn> = Arc::new(move |j| {
        let start = first + j * batch;
        let end = (start + batch).min(first + n);
        vec![Req::post(
            "/v1/subjects/batch",
            data::batch_json(start..end).to_string(),
            200,
        )]
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

fn parse_verify(stdout: &str) -> Option<(u64, f64)> {
    // "journal OK: N entries, M signed checkpoints, head H (X.XXs)"
    let line = stdout.lines().find(|l| l.starts_with("journal OK:"))?;
    let entries = line
        .strip_prefix("journal OK:")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let secs = line
        .rsplit_once('(')?
        .1
        .trim_end_matches(')')
        .trim_end_matches('s')
        .parse()
        .ok()?;
    Some((entries, secs))
}

/// The PostgreSQL server: fresh databases for Ward and for each baseline.
struct PgAdmin {
    url: String,
    prefix: String,
    created: Vec<String>,
}

impl PgAdmin {
    async fn new(url: &str) -> Result<PgAdmin> {
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let admin = PgAdmin {
            url: url.to_owned(),
            prefix: format!("ward_bench_{stamp}_{}", std::process::id()),
            created: Vec::new(),
        };
        admin.conn().await?;
        Ok(admin)
    }

    async fn conn(&self) -> Result<sqlx::PgConnection> {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&self.url)
            .await
            .context("connecting to PostgreSQL at the given URL")
    }

    /// Creates database `<prefix>_<name>`; returns its URL.
    async fn create(&mut self, name: &str) -> Result<String> {
        let db = format!("{}_{name}", self.prefix);
        let mut c = self.conn().await?;
        sqlx::query(&format!("CREATE DATABASE \"{db}\""))
            .execute(&mut c)
            .await
            .with_context(|| format!("creating database {db}"))?;
        self.created.push(db.clone());
        Ok(url_with_database(&self.url, &db))
    }

    async fn describe(&self) -> Result<String> {
        use sqlx::Row;
        let mut c = self.conn().await?;
        let mut parts = Vec::new();
        for setting in [
            "server_version",
            "synchronous_commit",
            "fsync",
            "wal_sync_method",
            "shared_buffers",
        ] {
            let v: String = sqlx::query(&format!("SHOW {setting}"))
                .fetch_one(&mut c)
                .await
                .with_context(|| format!("SHOW {setting}"))?
                .try_get(0)?;
            parts.push(format!("{setting}={v}"));
        }
        Ok(format!("PostgreSQL {}", parts.join(", ")))
    }

    async fn drop_all(&self) {
        let Ok(mut c) = self.conn().await else { return };
        for db in &self.created {
            if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"))
                .execute(&mut c)
                .await
            {
                say(format!("could not drop database {db}: {e}"));
            }
        }
    }
}

/// `postgres://u@h:5432/test?x=y` with database `db` instead of `test`.
pub fn url_with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..].find('/').map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn git_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// This machine: cores, CPU model, memory, kernel, and the disk under `dir`.
pub fn machine(dir: &Path) -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let disk = Command::new("df")
        .args(["-P", "-T", "-h"])
        .arg(dir)
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.lines().nth(1).map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let dev = f.first().copied().unwrap_or("?");
                let name = dev.rsplit('/').next().unwrap_or(dev);
                let rotational = std::fs::read_to_string(format!("/sys/block/{name}/queue/rotational"))
                    .ok()
                    .map(|r| {
                        if r.trim() == "1" {
                            ", rotational"
                        } else {
                            ", non-rotational"
                        }
                    })
                    .unwrap_or_default();
                format!(
                    "{dev} ({}, {} total{rotational})",
                    f.get(1).copied().unwrap_or("?"),
                    f.get(2).copied().unwrap_or("?")
                )
            })
        })
        .unwrap_or_else(|| "unknown".into());
    Machine {
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        cpu_model,
        memory_gib,
        kernel,
        disk,
        postgres: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_rewritten() {
        assert_eq!(
            url_with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(url_with_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(
            url_with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
    }

    #[test]
    fn the_verify_line_is_read() {
        assert_eq!(
            parse_verify("journal OK: 1234 entries, 2 signed checkpoints, head ab (1.50s)\n"),
            Some((1234, 1.5))
        );
    }
}
