//! The write baselines: the rows Ward writes, of the sizes Ward wrote them in this run,
//! inserted by plain SQL with the same driver as Ward's backend (rusqlite for SQLite, sqlx for
//! PostgreSQL), the same schema (Ward's migrations), the same durability (SQLite WAL with
//! `synchronous=FULL`; PostgreSQL's defaults) and the same batching (one transaction per group
//! of up to [`MAX_BATCH`] operations, or whatever a group-committing writer gathers from the
//! same number of concurrent clients), but no HTTP, no authentication, no validation, no
//! crypto and no hash chain: the journal rows carry made-up hashes.
//!
//! On SQLite the baseline writes as Ward's backend does: the connection lives on its own
//! thread, which gets one job per transaction over a channel, and every row is one execution
//! of a cached prepared single-row statement inside one `BEGIN IMMEDIATE` transaction. Reads
//! (measuring the shapes, scanning the journal) run on tokio's blocking pool, one hand-off per
//! query or page.

mod journal;
mod postgres;
mod shapes;
mod sqlite;
mod writer;

pub use journal::{scan_journal, JournalSource};
pub use shapes::{ActShape, ConsentShape, JournalShape, Shapes};
pub use writer::RawWriter;

use crate::data::mix;
use crate::load::Outcome;
use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use rusqlite::Connection;
use sqlx::postgres::PgConnection;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Ward's default group-commit batch (`max_batch`).
pub const MAX_BATCH: usize = 512;
/// The page of Ward's PostgreSQL journal range checks (the store's default implementation).
pub const VERIFY_PAGE: i64 = 10_000;
/// Ward's journal verification range.
pub const VERIFY_RANGE: i64 = ward_store::chain::VERIFY_RANGE;

/// A database, either backend.
pub enum Db {
    /// A rusqlite connection, used off the async threads; `None` only after a blocking job
    /// that held it panicked.
    Sqlite(Option<Connection>),
    Pg(PgConnection),
}

impl Db {
    /// Ward's SQLite file, read-only (Ward may still be running: WAL allows it).
    pub async fn sqlite_read_only(path: &Path) -> Result<Db> {
        Ok(Db::Sqlite(Some(sqlite::open_reader(path)?)))
    }

    pub async fn pg(url: &str) -> Result<Db> {
        Ok(Db::Pg(postgres::connect(url).await?))
    }

    /// A fresh baseline database: Ward's schema (its own migrations, applied by opening its
    /// store) and Ward's connection settings for writes.
    pub async fn fresh_sqlite(path: &Path) -> Result<Db> {
        drop(
            ward_store_sqlite::SqliteStore::open(path)
                .await
                .context("creating the baseline database with Ward's schema")?,
        );
        Ok(Db::Sqlite(Some(
            sqlite::open_writer(path).context("opening the baseline database")?,
        )))
    }

    /// A fresh PostgreSQL baseline database (already created, empty) with Ward's schema.
    pub async fn fresh_pg(url: &str) -> Result<Db> {
        drop(
            ward_store_postgres::PgStore::connect(url)
                .await
                .context("creating the baseline schema with Ward's migrations")?,
        );
        Db::pg(url).await
    }
}

/// One operation of the raw writer.
#[derive(Debug, Clone, Copy)]
pub enum RawOp {
    /// A subject with its index entries and consent events, and their journal rows.
    Create([u8; 16]),
    /// A consent withdrawal event and its journal row.
    Withdraw([u8; 16]),
    /// Erasure: key, fields, index and evidence gone, and its journal row.
    Erase([u8; 16]),
    /// The destruction job's: the subject's row with fewer sealed fields, its act, and its
    /// journal row.
    Destroy([u8; 16]),
}

/// A made-up subject id, well spread like Ward's random ones.
pub fn raw_id(i: u64) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&mix(i).to_le_bytes());
    id[8..].copy_from_slice(&mix(i ^ 0xA5A5_A5A5).to_le_bytes());
    id
}

fn new_hist() -> Result<Histogram<u64>> {
    Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).context("a histogram")
}

/// Inserts `n` subjects (ids `raw_id(first..first+n)`) in transactions of `batch`, one after
/// another. Latency is per transaction.
pub async fn bulk(writer: &mut RawWriter, first: u64, n: u64, batch: usize) -> Result<Outcome> {
    let mut hist = new_hist()?;
    let started = Instant::now();
    let mut i = first;
    let end = first + n;
    let mut ops = Vec::with_capacity(batch);
    while i < end {
        ops.clear();
        let stop = (i + batch as u64).min(end);
        ops.extend((i..stop).map(|k| RawOp::Create(raw_id(k))));
        let t0 = Instant::now();
        writer.write(&ops).await?;
        hist.saturating_record(u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX).max(1));
        i = stop;
    }
    Ok(Outcome {
        ok: n,
        errors: 0,
        secs: started.elapsed().as_secs_f64(),
        hist,
        statuses: BTreeMap::new(),
        first_error: None,
    })
}

struct Job {
    op: RawOp,
    done: oneshot::Sender<Result<(), String>>,
}

/// `clients` concurrent clients, each sending its job's ops one at a time to ONE writer that
/// group-commits whatever has queued (at most [`MAX_BATCH`]) per transaction, like Ward's
/// committer. Stops after `jobs` jobs or `secs`; latency is per op.
pub async fn group_commit(
    writer: RawWriter,
    clients: usize,
    jobs: u64,
    secs: Option<f64>,
    job: Arc<dyn Fn(u64) -> Vec<RawOp> + Send + Sync>,
) -> Result<Outcome> {
    let (tx, mut rx) = mpsc::channel::<Job>(MAX_BATCH * 4);
    let writer_task = tokio::spawn(async move {
        let mut writer = writer;
        let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
        let mut ops: Vec<RawOp> = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            ops.clear();
            ops.extend(batch.iter().map(|j| j.op));
            let r = writer.write(&ops).await.map_err(|e| format!("{e:#}"));
            for j in batch.drain(..) {
                let _ = j.done.send(r.clone());
            }
        }
    });
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = secs.map(|s| started + std::time::Duration::from_secs_f64(s));
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (tx, next, job) = (tx.clone(), next.clone(), job.clone());
        tasks.push(tokio::spawn(async move {
            let mut hist = new_hist()?;
            let mut ok = 0u64;
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= jobs {
                    break;
                }
                for op in job(i) {
                    let t0 = Instant::now();
                    let (done, wait) = oneshot::channel();
                    tx.send(Job { op, done })
                        .await
                        .map_err(|_| anyhow::anyhow!("the raw writer stopped"))?;
                    wait.await
                        .map_err(|_| anyhow::anyhow!("the raw writer stopped"))?
                        .map_err(|e| anyhow::anyhow!("raw write failed: {e}"))?;
                    hist.saturating_record(u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX).max(1));
                    ok += 1;
                }
            }
            anyhow::Ok((hist, ok))
        }));
    }
    drop(tx);
    let mut hist = new_hist()?;
    let mut ok = 0;
    for t in tasks {
        let (h, n) = t.await.context("a baseline client panicked")??;
        hist.add(h).context("merging histograms")?;
        ok += n;
    }
    let secs = started.elapsed().as_secs_f64();
    writer_task.await.context("the raw writer panicked")?;
    Ok(Outcome {
        ok,
        errors: 0,
        secs,
        hist,
        statuses: BTreeMap::new(),
        first_error: None,
    })
}
