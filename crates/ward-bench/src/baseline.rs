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

use crate::data::mix;
use crate::load::Outcome;
use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use rusqlite::{params, Connection, TransactionBehavior};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection as _, Row};
use std::collections::BTreeMap;
// The baseline's SQLite connection runs on the same job thread as Ward's writer: one job per
// transaction.
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use ward_store_sqlite::Writer as SqliteWriter;

/// Ward's default group-commit batch (`max_batch`).
pub const MAX_BATCH: usize = 512;
/// The page of Ward's PostgreSQL journal range checks (the store's default implementation).
pub const VERIFY_PAGE: i64 = 10_000;
/// Ward's journal verification range.
pub const VERIFY_RANGE: i64 = ward_store::chain::VERIFY_RANGE;

/// One journal row as Ward wrote it, but for its position and hashes.
#[derive(Debug, Clone)]
pub struct JournalShape {
    pub actor: String,
    pub action: String,
    pub purpose: Option<String>,
    pub fields: String,
    pub detail: Option<String>,
}

/// One consent event row as Ward wrote it, but for its evidence bytes.
#[derive(Debug, Clone)]
pub struct ConsentShape {
    pub purpose: String,
    pub kind: String,
    pub policy_version: String,
    pub evidence_len: Option<usize>,
}

fn consent_shape(purpose: String, kind: String, policy_version: String, len: Option<i64>) -> ConsentShape {
    ConsentShape {
        purpose,
        kind,
        policy_version,
        evidence_len: len.map(|n| usize::try_from(n).unwrap_or(0)),
    }
}

/// What Ward wrote, measured from its database in this run.
#[derive(Debug, Clone)]
pub struct Shapes {
    pub kek_id: String,
    pub wrapped_len: usize,
    pub fields_len: usize,
    pub index_fields: Vec<String>,
    pub create_consents: Vec<ConsentShape>,
    pub create_journal: Vec<JournalShape>,
    pub withdraw_consent: Option<ConsentShape>,
    pub withdraw_journal: Vec<JournalShape>,
    pub erase_journal: Vec<JournalShape>,
}

impl Shapes {
    /// The journal rows Ward writes for `op`.
    fn journal_of(&self, op: &RawOp) -> &[JournalShape] {
        match op {
            RawOp::Create(_) => &self.create_journal,
            RawOp::Withdraw(_) => &self.withdraw_journal,
            RawOp::Erase(_) => &self.erase_journal,
        }
    }
}

/// A database, either backend.
pub enum Db {
    /// A rusqlite connection, used off the async threads; `None` only after a blocking job
    /// that held it panicked.
    Sqlite(Option<Connection>),
    Pg(PgConnection),
}

/// Opens a SQLite file for writing exactly as Ward's writer is opened (its settings and page
/// cache).
fn open_sqlite_writer(path: &Path) -> Result<Connection> {
    ward_store_sqlite::open_writer(path).with_context(|| format!("opening {}", path.display()))
}

/// Opens a SQLite file read-only, as Ward's readers are opened.
fn open_sqlite_reader(path: &Path) -> Result<Connection> {
    ward_store_sqlite::open_reader(path).with_context(|| format!("opening {}", path.display()))
}

async fn pg_connection(url: &str) -> Result<PgConnection> {
    let opts = PgConnectOptions::from_str(url).context("parsing the PostgreSQL URL")?;
    PgConnection::connect_with(&opts)
        .await
        .context("connecting to PostgreSQL")
}

/// Runs `f` on the SQLite connection on tokio's blocking pool: the connection is moved there
/// and back, one hand-off per call.
async fn blocking<T, F>(slot: &mut Option<Connection>, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
{
    let conn = slot
        .take()
        .context("the SQLite connection was lost to an earlier failure")?;
    let (conn, out) = tokio::task::spawn_blocking(move || {
        let out = f(&conn);
        (conn, out)
    })
    .await
    .context("a SQLite read failed unexpectedly")?;
    *slot = Some(conn);
    out
}

impl Db {
    /// Ward's SQLite file, read-only (Ward may still be running: WAL allows it).
    pub async fn sqlite_read_only(path: &Path) -> Result<Db> {
        Ok(Db::Sqlite(Some(open_sqlite_reader(path)?)))
    }

    pub async fn pg(url: &str) -> Result<Db> {
        Ok(Db::Pg(pg_connection(url).await?))
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
            open_sqlite_writer(path).context("opening the baseline database")?,
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

    async fn journal_rows(&mut self, subject: &[u8]) -> Result<Vec<JournalShape>> {
        let rows = match self {
            Db::Sqlite(c) => {
                let subject = subject.to_vec();
                blocking(c, move |c| {
                    let mut stmt = c.prepare_cached(
                        "SELECT actor, action, purpose, fields, detail FROM journal WHERE subject = ?1 ORDER BY seq",
                    )?;
                    let rows = stmt.query_map(params![&subject[..]], |r| {
                        Ok(JournalShape {
                            actor: r.get(0)?,
                            action: r.get(1)?,
                            purpose: r.get(2)?,
                            fields: r.get(3)?,
                            detail: r.get(4)?,
                        })
                    })?;
                    rows.collect::<rusqlite::Result<Vec<_>>>()
                        .context("reading journal rows")
                })
                .await?
            }
            Db::Pg(c) => sqlx::query(
                "SELECT actor, action, purpose, fields, detail FROM journal WHERE subject = $1 ORDER BY seq",
            )
            .bind(subject)
            .fetch_all(c)
            .await?
            .into_iter()
            .map(|r| {
                Ok(JournalShape {
                    actor: r.try_get(0)?,
                    action: r.try_get(1)?,
                    purpose: r.try_get(2)?,
                    fields: r.try_get(3)?,
                    detail: r.try_get(4)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?,
        };
        Ok(rows)
    }

    async fn consent_rows(&mut self, subject: &[u8]) -> Result<Vec<ConsentShape>> {
        let out = match self {
            Db::Sqlite(c) => {
                let subject = subject.to_vec();
                blocking(c, move |c| {
                    let mut stmt = c.prepare_cached(
                        "SELECT purpose, kind, policy_version, length(evidence) FROM consent_events \
                         WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) ORDER BY id",
                    )?;
                    let rows = stmt.query_map(params![&subject[..]], |r| {
                        Ok(consent_shape(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })?;
                    rows.collect::<rusqlite::Result<Vec<_>>>()
                        .context("reading consent events")
                })
                .await?
            }
            Db::Pg(c) => {
                let rows = sqlx::query("SELECT purpose, kind, policy_version, length(evidence)::int8 FROM consent_events WHERE subject_id = $1 ORDER BY id").bind(subject).fetch_all(c).await?;
                rows.iter()
                    .map(|r| {
                        Ok(consent_shape(
                            r.try_get(0)?,
                            r.try_get(1)?,
                            r.try_get(2)?,
                            r.try_get(3)?,
                        ))
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            }
        };
        Ok(out)
    }

    /// (kek id, wrapped key length, average sealed-fields length, index field names).
    async fn subject_sizes(&mut self, subject: &[u8]) -> Result<(String, usize, usize, Vec<String>)> {
        let to = |n: f64| n.round().max(0.0) as usize;
        match self {
            Db::Sqlite(c) => {
                let subject = subject.to_vec();
                blocking(c, move |c| {
                    let (kek, wrapped): (String, i64) = c
                        .prepare_cached("SELECT kek_id, length(wrapped_key) FROM subjects WHERE id = ?1")?
                        .query_row(params![&subject[..]], |r| Ok((r.get(0)?, r.get(1)?)))
                        .context("reading the subject's key")?;
                    let avg: f64 = c
                        .prepare_cached("SELECT avg(length(fields)) FROM subjects WHERE state = 'active'")?
                        .query_row([], |r| r.get(0))
                        .context("measuring the sealed fields")?;
                    let mut stmt = c.prepare_cached(
                        "SELECT field FROM subject_index WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) \
                         ORDER BY field",
                    )?;
                    let idx = stmt
                        .query_map(params![&subject[..]], |r| r.get::<_, String>(0))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .context("reading the subject's index entries")?;
                    Ok((kek, usize::try_from(wrapped).unwrap_or(0), to(avg), idx))
                })
                .await
            }
            Db::Pg(c) => {
                let r = sqlx::query("SELECT kek_id, length(wrapped_key)::int8 FROM subjects WHERE id = $1")
                    .bind(subject)
                    .fetch_one(&mut *c)
                    .await?;
                let (kek, wrapped): (String, i64) = (r.try_get(0)?, r.try_get(1)?);
                let avg: f64 = sqlx::query("SELECT avg(length(fields))::float8 FROM subjects WHERE state = 'active'")
                    .fetch_one(&mut *c)
                    .await?
                    .try_get(0)?;
                let idx = sqlx::query("SELECT field FROM subject_index WHERE subject_id = $1 ORDER BY field")
                    .bind(subject)
                    .fetch_all(&mut *c)
                    .await?
                    .iter()
                    .map(|r| r.try_get::<String, _>(0))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((kek, usize::try_from(wrapped).unwrap_or(0), to(avg), idx))
            }
        }
    }
    /// Measures what Ward wrote for `created`, a subject just registered: call it before the
    /// subject is read, or its journal rows would include the reads.
    pub async fn created_shapes(&mut self, created: &[u8; 16]) -> Result<Shapes> {
        let (kek_id, wrapped_len, fields_len, index_fields) = self.subject_sizes(created).await?;
        let create_consents = self.consent_rows(created).await?;
        let create_journal = self.journal_rows(created).await?;
        if let Some(j) = create_journal
            .iter()
            .find(|j| !CREATION_ACTIONS.contains(&j.action.as_str()))
        {
            bail!(
                "the subject measured for the write baselines has a journal row of action {:?}: \
                 it was measured after something other than its registration",
                j.action
            );
        }
        Ok(Shapes {
            kek_id,
            wrapped_len,
            fields_len,
            index_fields,
            create_consents,
            create_journal,
            withdraw_consent: None,
            withdraw_journal: Vec::new(),
            erase_journal: Vec::new(),
        })
    }

    /// Adds to `shapes` what Ward wrote for `erased`, a subject whose consent was withdrawn and
    /// who was then erased.
    pub async fn add_erasure(&mut self, shapes: &mut Shapes, erased: &[u8; 16]) -> Result<()> {
        let consents = self.consent_rows(erased).await?;
        shapes.withdraw_consent = consents.into_iter().find(|c| c.kind == "withdrawn");
        for j in self.journal_rows(erased).await? {
            match j.action.as_str() {
                "consent.withdrawn" => shapes.withdraw_journal.push(j),
                "destruction" => shapes.erase_journal.push(j),
                _ => {}
            }
        }
        Ok(())
    }
}

/// The journal actions of a registration: the subject's data collected, its consents given.
const CREATION_ACTIONS: [&str; 2] = ["collection", "consent.given"];

/// Where the journal scan baseline reads.
pub enum JournalSource {
    Sqlite(std::path::PathBuf),
    Pg(String),
}

/// Reads every journal entry as `ward journal verify` does, but for the checks: in ranges of
/// Ward's size ([`VERIFY_RANGE`]), as many ranges at a time as there are cores, each range on
/// a connection of its own (SQLite: one statement per range, each column read in place, on the
/// blocking pool; PostgreSQL: pages of [`VERIFY_PAGE`] decoded to owned values, as Ward's
/// PostgreSQL backend reads them). No hashing, no checks. Returns the number of entries.
pub async fn scan_journal(source: &JournalSource) -> Result<u64> {
    let parallel = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let head = match source {
        JournalSource::Sqlite(path) => {
            let c = open_sqlite_reader(path)?;
            c.query_row("SELECT seq FROM journal_head WHERE id = 1", [], |r| r.get::<_, i64>(0))?
        }
        JournalSource::Pg(url) => {
            let mut c = pg_connection(url).await?;
            sqlx::query_scalar::<_, i64>("SELECT seq FROM journal_head WHERE id = 1")
                .fetch_one(&mut c)
                .await?
        }
    };
    let ranges = ward_store::chain::verify_ranges(head, VERIFY_RANGE);
    let mut lanes: tokio::task::JoinSet<Result<(u64, usize)>> = tokio::task::JoinSet::new();
    for lane in 0..parallel {
        // Range r goes to lane r mod parallel.
        let mine: Vec<(i64, i64)> = ranges.iter().skip(lane).step_by(parallel).copied().collect();
        match source {
            JournalSource::Sqlite(path) => {
                let c = open_sqlite_reader(path)?;
                lanes.spawn_blocking(move || {
                    mine.into_iter().try_fold((0u64, 0usize), |(n, b), (after, upto)| {
                        let (rn, rb) = scan_sqlite_range(&c, after, upto)?;
                        Ok((n + rn, b + rb))
                    })
                });
            }
            JournalSource::Pg(url) => {
                let url = url.clone();
                lanes.spawn(async move {
                    let mut c = pg_connection(&url).await?;
                    let mut total = (0u64, 0usize);
                    for (after, upto) in mine {
                        let (n, b) = scan_pg_range(&mut c, after, upto).await?;
                        total = (total.0 + n, total.1 + b);
                    }
                    Ok(total)
                });
            }
        }
    }
    let (mut n, mut bytes) = (0u64, 0usize);
    while let Some(lane) = lanes.join_next().await {
        let (ln, lb) = lane.context("a journal scan lane failed")??;
        (n, bytes) = (n + ln, bytes + lb);
    }
    std::hint::black_box(bytes);
    Ok(n)
}

/// One range of the SQLite journal, each column read in place (the sum of their sizes keeps
/// the reads from being optimised away).
fn scan_sqlite_range(c: &Connection, after: i64, upto: i64) -> Result<(u64, usize)> {
    let mut stmt = c.prepare_cached(
        "SELECT seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash \
         FROM journal WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![after, upto])?;
    let (mut n, mut bytes) = (0u64, 0usize);
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let at: i64 = r.get(1)?;
        let mut len = usize::from(seq & 1 == 1) + usize::from(at & 1 == 1);
        for i in [2, 3, 6] {
            len += r.get_ref(i)?.as_str()?.len();
        }
        for i in [5, 7] {
            len += r.get_ref(i)?.as_str_or_null()?.map_or(0, str::len);
        }
        for i in [4, 8, 9] {
            len += r.get_ref(i)?.as_blob_or_null()?.map_or(0, <[u8]>::len);
        }
        n += 1;
        bytes += len;
    }
    Ok((n, bytes))
}

/// One range of the PostgreSQL journal, in pages, every column decoded to an owned value.
async fn scan_pg_range(c: &mut PgConnection, mut after: i64, upto: i64) -> Result<(u64, usize)> {
    let (mut n, mut bytes) = (0u64, 0usize);
    loop {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash \
             FROM journal WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
        )
        .bind(after)
        .bind(upto)
        .bind(VERIFY_PAGE)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(decode_journal_pg)
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        n += rows.len() as u64;
        bytes += rows.iter().map(|r| r.1).sum::<usize>();
    }
    Ok((n, bytes))
}

/// A journal entry's position and a sum of its decoded sizes (so that decoding is not
/// optimised away).
type Decoded = (i64, usize);

/// One journal row, every column decoded to an owned value.
struct JournalRow {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    subject: Option<Vec<u8>>,
    purpose: Option<String>,
    fields: String,
    detail: Option<String>,
    prev: Vec<u8>,
    hash: Vec<u8>,
}

impl JournalRow {
    fn decoded(&self) -> Decoded {
        let len = usize::try_from(self.at & 1).unwrap_or(0)
            + self.actor.len()
            + self.action.len()
            + self.subject.as_ref().map_or(0, Vec::len)
            + self.purpose.as_ref().map_or(0, String::len)
            + self.fields.len()
            + self.detail.as_ref().map_or(0, String::len)
            + self.prev.len()
            + self.hash.len();
        (self.seq, len)
    }
}

fn decode_journal_pg(r: &sqlx::postgres::PgRow) -> Result<Decoded, sqlx::Error> {
    let row = JournalRow {
        seq: r.try_get(0)?,
        at: r.try_get(1)?,
        actor: r.try_get(2)?,
        action: r.try_get(3)?,
        subject: r.try_get(4)?,
        purpose: r.try_get(5)?,
        fields: r.try_get(6)?,
        detail: r.try_get(7)?,
        prev: r.try_get(8)?,
        hash: r.try_get(9)?,
    };
    Ok(row.decoded())
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
}

/// A made-up subject id, well spread like Ward's random ones.
pub fn raw_id(i: u64) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&mix(i).to_le_bytes());
    id[8..].copy_from_slice(&mix(i ^ 0xA5A5_A5A5).to_le_bytes());
    id
}

fn filler(len: usize, seed: u64) -> Vec<u8> {
    (0..len).map(|i| mix(seed + i as u64) as u8).collect()
}

/// The made-up bytes the rows carry, of the sizes Ward wrote.
struct Filler {
    wrapped: Vec<u8>,
    fields: Vec<u8>,
    evidence: Vec<Option<Vec<u8>>>,
}

/// Where the raw writer writes.
enum Sink {
    Sqlite(SqliteWriter),
    Pg(PgConnection),
}

/// The plain-SQL writer.
pub struct RawWriter {
    sink: Sink,
    shapes: Arc<Shapes>,
    filler: Arc<Filler>,
    seq: i64,
    micros: i64,
}

/// A batch's operations by kind, and its journal rows in order.
struct Batch<'a> {
    creates: Vec<&'a [u8; 16]>,
    withdraws: Vec<&'a [u8; 16]>,
    erases: Vec<&'a [u8; 16]>,
    journal: Vec<(&'a [u8; 16], &'a JournalShape)>,
}

impl<'a> Batch<'a> {
    fn of(ops: &'a [RawOp], sh: &'a Shapes) -> Self {
        let mut b = Batch {
            creates: Vec::new(),
            withdraws: Vec::new(),
            erases: Vec::new(),
            journal: Vec::new(),
        };
        for op in ops {
            let (list, id) = match op {
                RawOp::Create(id) => (&mut b.creates, id),
                RawOp::Withdraw(id) => (&mut b.withdraws, id),
                RawOp::Erase(id) => (&mut b.erases, id),
            };
            list.push(id);
            b.journal.extend(sh.journal_of(op).iter().map(|j| (id, j)));
        }
        b
    }
}

impl RawWriter {
    /// A writer on `db`; a SQLite connection moves to a writer thread of its own.
    pub fn new(db: Db, shapes: Shapes) -> Result<Self> {
        let sink = match db {
            Db::Sqlite(Some(c)) => Sink::Sqlite(SqliteWriter::spawn(c)?),
            Db::Sqlite(None) => bail!("the baseline's SQLite connection was lost to an earlier failure"),
            Db::Pg(c) => Sink::Pg(c),
        };
        let bytes = Filler {
            wrapped: filler(shapes.wrapped_len, 1),
            fields: filler(shapes.fields_len, 2),
            evidence: shapes
                .create_consents
                .iter()
                .map(|c| c.evidence_len.map(|n| filler(n, 3)))
                .collect(),
        };
        let micros = time::OffsetDateTime::now_utc().unix_timestamp() * 1_000_000;
        Ok(Self {
            sink,
            shapes: Arc::new(shapes),
            filler: Arc::new(bytes),
            seq: 0,
            micros,
        })
    }

    fn hash(seq: i64) -> [u8; 32] {
        let mut h = [0u8; 32];
        for (k, chunk) in h.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(&mix((seq as u64) << 2 | k as u64).to_le_bytes());
        }
        h
    }

    /// Writes `ops` in ONE transaction.
    pub async fn write(&mut self, ops: &[RawOp]) -> Result<()> {
        let entries: usize = ops.iter().map(|op| self.shapes.journal_of(op).len()).sum();
        let first_seq = self.seq + 1;
        self.seq += entries as i64;
        self.micros += 1;
        let now = self.micros;
        let head_seq = self.seq;
        match &mut self.sink {
            Sink::Sqlite(w) => {
                // One hand-off per batch; the whole transaction runs on the writer thread.
                let (sh, filler, ops) = (self.shapes.clone(), self.filler.clone(), ops.to_vec());
                w.run(move |conn| sqlite_batch(conn, &sh, &filler, &ops, first_seq, now, head_seq))
                    .await?;
            }
            Sink::Pg(c) => {
                let sh = &*self.shapes;
                let b = Batch::of(ops, sh);
                let head = Self::hash(head_seq);
                let mut tx = c.begin().await?;
                pg_write(
                    &mut tx,
                    sh,
                    &b.creates,
                    &b.withdraws,
                    &b.erases,
                    &b.journal,
                    first_seq,
                    now,
                    &self.filler.wrapped,
                    &self.filler.fields,
                    &self.filler.evidence,
                )
                .await?;
                sqlx::query("UPDATE journal_head SET seq = $1, hash = $2 WHERE id = 1")
                    .bind(head_seq)
                    .bind(&head[..])
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }
}

/// One batch in ONE `BEGIN IMMEDIATE` transaction, on the writer thread. On any error the
/// transaction is dropped, which rolls it back, so the connection is clean for the next batch.
fn sqlite_batch(
    conn: &mut Connection,
    sh: &Shapes,
    filler: &Filler,
    ops: &[RawOp],
    first_seq: i64,
    now: i64,
    head_seq: i64,
) -> Result<()> {
    let b = Batch::of(ops, sh);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .context("BEGIN IMMEDIATE")?;
    sqlite_write(&tx, sh, &b, first_seq, now, filler)?;
    let head = RawWriter::hash(head_seq);
    tx.prepare_cached("UPDATE journal_head SET seq = ?1, hash = ?2 WHERE id = 1")?
        .execute(params![head_seq, &head[..]])
        .context("updating the journal head")?;
    tx.commit().context("committing the batch")?;
    Ok(())
}

/// The consent event insert, for both the events of a registration and a withdrawal.
const SQLITE_CONSENT_INSERT: &str =
    "INSERT INTO consent_events (subject_n, purpose, kind, at, policy_version, evidence) \
     VALUES ((SELECT n FROM subjects WHERE id = ?1), ?2, ?3, ?4, ?5, ?6)";

/// The batch's rows, as Ward's backend writes them: per table ONE cached prepared single-row
/// statement, executed once per row.
fn sqlite_write(
    conn: &Connection,
    sh: &Shapes,
    b: &Batch<'_>,
    first_seq: i64,
    now: i64,
    filler: &Filler,
) -> Result<()> {
    if !b.creates.is_empty() {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO subjects (id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields) \
             VALUES (?1, 'active', 1, ?2, ?2, NULL, ?3, ?4, ?5)",
        )?;
        for id in &b.creates {
            stmt.execute(params![&id[..], now, sh.kek_id, filler.wrapped, filler.fields])
                .context("inserting a subject")?;
        }
        let per = sh.index_fields.len();
        if per > 0 {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO subject_index (subject_n, field, hash) \
                 VALUES ((SELECT n FROM subjects WHERE id = ?1), ?2, ?3)",
            )?;
            for i in 0..b.creates.len() * per {
                let id = b.creates[i / per];
                let lo = u64::from_le_bytes(id[..8].try_into().unwrap_or_default());
                let hash = (mix(lo.wrapping_add(i as u64)) & 0xFF_FFFF) as i64;
                stmt.execute(params![&id[..], sh.index_fields[i % per], hash])
                    .context("inserting an index entry")?;
            }
        }
        let per = sh.create_consents.len();
        if per > 0 {
            let mut stmt = conn.prepare_cached(SQLITE_CONSENT_INSERT)?;
            for i in 0..b.creates.len() * per {
                let c = &sh.create_consents[i % per];
                stmt.execute(params![
                    &b.creates[i / per][..],
                    c.purpose,
                    c.kind,
                    now,
                    c.policy_version,
                    filler.evidence[i % per].as_deref(),
                ])
                .context("inserting a consent event")?;
            }
        }
    }
    if let (false, Some(c)) = (b.withdraws.is_empty(), sh.withdraw_consent.as_ref()) {
        let mut stmt = conn.prepare_cached(SQLITE_CONSENT_INSERT)?;
        for id in &b.withdraws {
            stmt.execute(params![
                &id[..],
                c.purpose,
                c.kind,
                now,
                c.policy_version,
                None::<&[u8]>
            ])
            .context("inserting a withdrawal")?;
        }
    }
    for id in &b.erases {
        conn.prepare_cached(
            "UPDATE subjects SET state = 'erased', erased_at = ?1, updated_at = ?1, \
             kek_id = NULL, wrapped_key = NULL, fields = NULL WHERE id = ?2",
        )?
        .execute(params![now, &id[..]])
        .context("erasing a subject")?;
        conn.prepare_cached("DELETE FROM subject_index WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1)")?
            .execute(params![&id[..]])
            .context("deleting an erased subject's index entries")?;
        conn.prepare_cached(
            "UPDATE consent_events SET evidence = NULL \
             WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) AND evidence IS NOT NULL",
        )?
        .execute(params![&id[..]])
        .context("erasing consent evidence")?;
    }
    if !b.journal.is_empty() {
        let hashes: Vec<[u8; 32]> = (0..=b.journal.len() as i64)
            .map(|k| RawWriter::hash(first_seq - 1 + k))
            .collect();
        let mut stmt = conn.prepare_cached(
            "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for (i, (id, j)) in b.journal.iter().enumerate() {
            stmt.execute(params![
                first_seq + i as i64,
                now,
                j.actor,
                j.action,
                &id[..],
                j.purpose,
                j.fields,
                j.detail,
                &hashes[i][..],
                &hashes[i + 1][..],
            ])
            .context("inserting a journal row")?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn pg_write(
    conn: &mut PgConnection,
    sh: &Shapes,
    creates: &[&[u8; 16]],
    withdraws: &[&[u8; 16]],
    erases: &[&[u8; 16]],
    journal: &[(&[u8; 16], &JournalShape)],
    first_seq: i64,
    now: i64,
    wrapped: &[u8],
    fields: &[u8],
    evidence: &[Option<Vec<u8>>],
) -> Result<()> {
    // The head first, as Ward does: this transaction is the only writer from here on.
    sqlx::query("SELECT seq, hash FROM journal_head WHERE id = 1 FOR UPDATE")
        .fetch_optional(&mut *conn)
        .await?;
    if !creates.is_empty() {
        let n = creates.len();
        let id: Vec<&[u8]> = creates.iter().map(|i| &i[..]).collect();
        sqlx::query(
            "INSERT INTO subjects (id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields) \
             SELECT id, 'active', 1, created_at, created_at, NULL, kek_id, wrapped_key, fields \
             FROM UNNEST($1::bytea[], $2::int8[], $3::text[], $4::bytea[], $5::bytea[]) \
             AS t (id, created_at, kek_id, wrapped_key, fields)",
        )
        .bind(&id)
        .bind(vec![now; n])
        .bind(vec![sh.kek_id.as_str(); n])
        .bind(vec![wrapped; n])
        .bind(vec![fields; n])
        .execute(&mut *conn)
        .await?;
        let per = sh.index_fields.len();
        if per > 0 {
            let ids: Vec<&[u8]> = (0..n * per).map(|i| &creates[i / per][..]).collect();
            let names: Vec<&str> = (0..n * per).map(|i| sh.index_fields[i % per].as_str()).collect();
            let hashes: Vec<i64> = (0..n * per)
                .map(|i| (mix(i as u64 + now as u64) & 0xFF_FFFF) as i64)
                .collect();
            sqlx::query(
                "INSERT INTO subject_index (subject_id, field, hash) \
                 SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::int8[]) \
                 ON CONFLICT (subject_id, field) DO UPDATE SET hash = EXCLUDED.hash",
            )
            .bind(&ids)
            .bind(&names)
            .bind(&hashes)
            .execute(&mut *conn)
            .await?;
        }
        let per = sh.create_consents.len();
        if per > 0 {
            let m = n * per;
            let ids: Vec<&[u8]> = (0..m).map(|i| &creates[i / per][..]).collect();
            let c = |i: usize| &sh.create_consents[i % per];
            let purpose: Vec<&str> = (0..m).map(|i| c(i).purpose.as_str()).collect();
            let kind: Vec<&str> = (0..m).map(|i| c(i).kind.as_str()).collect();
            let version: Vec<&str> = (0..m).map(|i| c(i).policy_version.as_str()).collect();
            let ev: Vec<Option<&[u8]>> = (0..m).map(|i| evidence[i % per].as_deref()).collect();
            sqlx::query(
                "INSERT INTO consent_events (subject_id, purpose, kind, at, policy_version, evidence) \
                 SELECT subject_id, purpose, kind, at, policy_version, evidence \
                 FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::bytea[]) \
                 WITH ORDINALITY AS t (subject_id, purpose, kind, at, policy_version, evidence, n) ORDER BY n",
            )
            .bind(&ids)
            .bind(&purpose)
            .bind(&kind)
            .bind(vec![now; m])
            .bind(&version)
            .bind(&ev)
            .execute(&mut *conn)
            .await?;
        }
    }
    if let (false, Some(c)) = (withdraws.is_empty(), sh.withdraw_consent.as_ref()) {
        let m = withdraws.len();
        let ids: Vec<&[u8]> = withdraws.iter().map(|i| &i[..]).collect();
        sqlx::query(
            "INSERT INTO consent_events (subject_id, purpose, kind, at, policy_version, evidence) \
             SELECT subject_id, purpose, kind, at, policy_version, NULL \
             FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::int8[], $5::text[]) \
             WITH ORDINALITY AS t (subject_id, purpose, kind, at, policy_version, n) ORDER BY n",
        )
        .bind(&ids)
        .bind(vec![c.purpose.as_str(); m])
        .bind(vec![c.kind.as_str(); m])
        .bind(vec![now; m])
        .bind(vec![c.policy_version.as_str(); m])
        .execute(&mut *conn)
        .await?;
    }
    for id in erases {
        sqlx::query(
            "UPDATE subjects SET state = 'erased', erased_at = $1, updated_at = $1, \
             kek_id = NULL, wrapped_key = NULL, fields = NULL WHERE id = $2",
        )
        .bind(now)
        .bind(&id[..])
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM subject_index WHERE subject_id = $1")
            .bind(&id[..])
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE consent_events SET evidence = NULL WHERE subject_id = $1 AND evidence IS NOT NULL")
            .bind(&id[..])
            .execute(&mut *conn)
            .await?;
    }
    if !journal.is_empty() {
        let m = journal.len();
        let hashes: Vec<[u8; 32]> = (0..=m as i64).map(|k| RawWriter::hash(first_seq - 1 + k)).collect();
        let seq: Vec<i64> = (0..m as i64).map(|k| first_seq + k).collect();
        let actor: Vec<&str> = journal.iter().map(|(_, j)| j.actor.as_str()).collect();
        let action: Vec<&str> = journal.iter().map(|(_, j)| j.action.as_str()).collect();
        let subject: Vec<Option<&[u8]>> = journal.iter().map(|(id, _)| Some(&id[..])).collect();
        let purpose: Vec<Option<&str>> = journal.iter().map(|(_, j)| j.purpose.as_deref()).collect();
        let fields_col: Vec<&str> = journal.iter().map(|(_, j)| j.fields.as_str()).collect();
        let detail: Vec<Option<&str>> = journal.iter().map(|(_, j)| j.detail.as_deref()).collect();
        let prev: Vec<&[u8]> = hashes[..m].iter().map(|h| &h[..]).collect();
        let hash: Vec<&[u8]> = hashes[1..].iter().map(|h| &h[..]).collect();
        sqlx::query(
            "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
             SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::text[], \
             $8::text[], $9::bytea[], $10::bytea[])",
        )
        .bind(&seq)
        .bind(vec![now; m])
        .bind(&actor)
        .bind(&action)
        .bind(&subject)
        .bind(&purpose)
        .bind(&fields_col)
        .bind(&detail)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
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
