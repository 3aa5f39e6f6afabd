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
//!
//! The workloads have one function each, called in the run's fixed order (`workloads/`); the
//! raw baselines' SQL is per backend (`baseline/sqlite.rs`, `baseline/postgres.rs`). The
//! `ward` binary links this crate only when built with its `bench` feature.

pub mod baseline;
pub mod data;
pub mod echo;
pub mod load;
mod machine;
mod pg;
pub mod procs;
pub mod report;
pub mod smtp_sink;
mod workloads;

pub use machine::machine;
pub use pg::url_with_database;

use anyhow::{Context, Result};
use pg::PgAdmin;
use report::Report;
use std::path::{Path, PathBuf};
use std::time::Instant;

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
    /// Run only these workload groups, comma-separated: `core` (the HTTP, import, rotation
    /// and journal workloads), `outbox_delivery`, `outbox_backlog`, `destruction_job`
    /// [default: all of them].
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(GROUPS))]
    pub only: Vec<String>,
}

/// The workload groups `--only` can name, in the order a run measures them.
pub const GROUPS: [&str; 4] = ["core", "outbox_delivery", "outbox_backlog", "destruction_job"];

/// Which groups a run measures.
#[derive(Debug, Clone)]
pub(crate) struct Only(Vec<String>);

impl Only {
    fn of(names: &[String]) -> Only {
        Only(names.to_vec())
    }

    /// Whether `group` runs: every group when none was named.
    pub(crate) fn runs(&self, group: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|g| g == group)
    }
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
    /// Messages the outbox delivery workload queues and delivers.
    mail: u64,
    /// Messages in the backlog drained across a kill -9.
    backlog: u64,
    /// Subjects the destruction job destroys.
    destroy: u64,
}

impl Plan {
    fn of(scale: Scale, secs: Option<f64>) -> Plan {
        let (base, grown, erase_pool, import, default_secs) = match scale {
            Scale::Tiny => (200, 400, 100, 200, 1.0),
            Scale::Small => (10_000, 100_000, 5_000, 20_000, 5.0),
            Scale::Full => (10_000, 1_000_000, 25_000, 100_000, 15.0),
        };
        let (mail, backlog, destroy) = match scale {
            Scale::Tiny => (200, 300, 200),
            Scale::Small => (10_000, 20_000, 10_000),
            Scale::Full => (20_000, 100_000, 50_000),
        };
        Plan {
            base,
            grown,
            erase_pool,
            import,
            secs: secs.unwrap_or(default_secs).max(0.1),
            batch: 500,
            batch_clients: 4,
            mail,
            backlog,
            destroy,
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
    let only = Only::of(&args.only);
    let result = workloads::run_all(&plan, clients, &env, &work_path, pg.as_mut(), &only).await;
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
        git_commit: machine::git_commit(),
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
