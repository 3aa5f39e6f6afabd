//! The write baselines: the rows Ward writes, of the sizes Ward wrote them in this run,
//! inserted by plain SQL with the same driver (sqlx), the same schema (Ward's migrations),
//! the same durability (SQLite WAL with `synchronous=FULL`; PostgreSQL's defaults) and the
//! same batching (one transaction per group of up to [`MAX_BATCH`] operations, or whatever a
//! group-committing writer gathers from the same number of concurrent clients), but no
//! HTTP, no authentication, no validation, no crypto and no hash chain: the journal rows
//! carry made-up hashes.

use crate::data::mix;
use crate::load::Outcome;
use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Row, Sqlite};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Ward's default group-commit batch (`max_batch`).
pub const MAX_BATCH: usize = 512;
/// Ward's journal verification page.
pub const VERIFY_PAGE: i64 = 20_000;
/// Largest number of bound parameters per SQLite statement, as Ward's backend uses.
const MAX_PARAMS: usize = 2048;

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

/// A database, either backend.
pub enum Db {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

impl Db {
    /// Ward's SQLite file, read-only (Ward may still be running: WAL allows it).
    pub async fn sqlite_read_only(path: &Path) -> Result<Db> {
        let opts = SqliteConnectOptions::new().filename(path).read_only(true);
        Ok(Db::Sqlite(
            SqliteConnection::connect_with(&opts)
                .await
                .with_context(|| format!("opening {}", path.display()))?,
        ))
    }

    pub async fn pg(url: &str) -> Result<Db> {
        let opts = PgConnectOptions::from_str(url).context("parsing the PostgreSQL URL")?;
        Ok(Db::Pg(
            PgConnection::connect_with(&opts)
                .await
                .context("connecting to PostgreSQL")?,
        ))
    }

    /// A fresh baseline database: Ward's schema (its own migrations, applied by opening its
    /// store) and Ward's connection settings for writes.
    pub async fn fresh_sqlite(path: &Path) -> Result<Db> {
        drop(
            ward_store_sqlite::SqliteStore::open(path)
                .await
                .context("creating the baseline database with Ward's schema")?,
        );
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .pragma("secure_delete", "ON")
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "MEMORY")
            .statement_cache_capacity(512);
        Ok(Db::Sqlite(
            SqliteConnection::connect_with(&opts)
                .await
                .context("opening the baseline database")?,
        ))
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
                sqlx::query("SELECT actor, action, purpose, fields, detail FROM journal WHERE subject = ? ORDER BY seq")
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
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
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
        let q = match self {
            Db::Sqlite(_) => "SELECT purpose, kind, policy_version, length(evidence) FROM consent_events WHERE subject_id = ? ORDER BY id",
            Db::Pg(_) => "SELECT purpose, kind, policy_version, length(evidence)::int8 FROM consent_events WHERE subject_id = $1 ORDER BY id",
        };
        let shape = |purpose: String, kind: String, policy_version: String, len: Option<i64>| ConsentShape {
            purpose,
            kind,
            policy_version,
            evidence_len: len.map(|n| usize::try_from(n).unwrap_or(0)),
        };
        let out = match self {
            Db::Sqlite(c) => {
                let rows = sqlx::query(q).bind(subject).fetch_all(c).await?;
                rows.iter()
                    .map(|r| Ok(shape(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?
            }
            Db::Pg(c) => {
                let rows = sqlx::query(q).bind(subject).fetch_all(c).await?;
                rows.iter()
                    .map(|r| Ok(shape(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
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
                let r = sqlx::query("SELECT kek_id, length(wrapped_key) FROM subjects WHERE id = ?")
                    .bind(subject)
                    .fetch_one(&mut *c)
                    .await?;
                let (kek, wrapped): (String, i64) = (r.try_get(0)?, r.try_get(1)?);
                let avg: f64 = sqlx::query("SELECT avg(length(fields)) FROM subjects WHERE state = 'active'")
                    .fetch_one(&mut *c)
                    .await?
                    .try_get(0)?;
                let idx = sqlx::query("SELECT field FROM subject_index WHERE subject_id = ? ORDER BY field")
                    .bind(subject)
                    .fetch_all(&mut *c)
                    .await?
                    .iter()
                    .map(|r| r.try_get::<String, _>(0))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((kek, usize::try_from(wrapped).unwrap_or(0), to(avg), idx))
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

    /// Measures what Ward wrote for `created` (a registered subject) and, if given, `erased`
    /// (a subject whose consent was withdrawn and who was then erased).
    pub async fn shapes(&mut self, created: &[u8; 16], erased: Option<&[u8; 16]>) -> Result<Shapes> {
        let (kek_id, wrapped_len, fields_len, index_fields) = self.subject_sizes(created).await?;
        let create_consents = self.consent_rows(created).await?;
        let create_journal = self.journal_rows(created).await?;
        let mut shapes = Shapes {
            kek_id,
            wrapped_len,
            fields_len,
            index_fields,
            create_consents,
            create_journal,
            withdraw_consent: None,
            withdraw_journal: Vec::new(),
            erase_journal: Vec::new(),
        };
        if let Some(e) = erased {
            let consents = self.consent_rows(e).await?;
            shapes.withdraw_consent = consents.into_iter().find(|c| c.kind == "withdrawn");
            for j in self.journal_rows(e).await? {
                match j.action.as_str() {
                    "consent.withdrawn" => shapes.withdraw_journal.push(j),
                    "destruction" => shapes.erase_journal.push(j),
                    _ => {}
                }
            }
        }
        Ok(shapes)
    }

    /// Reads every journal entry in pages of Ward's size, decoding each column to an owned
    /// value, and nothing else. Returns the number of entries.
    pub async fn scan_journal(&mut self) -> Result<u64> {
        let mut after = 0i64;
        let mut n = 0u64;
        let mut bytes = 0usize;
        loop {
            let rows = match self {
                Db::Sqlite(c) => sqlx::query(
                    "SELECT seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash \
                         FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
                )
                .bind(after)
                .bind(VERIFY_PAGE)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(decode_journal_sqlite)
                .collect::<Result<Vec<_>, sqlx::Error>>()?,
                Db::Pg(c) => sqlx::query(
                    "SELECT seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash \
                     FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after)
                .bind(VERIFY_PAGE)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(decode_journal_pg)
                .collect::<Result<Vec<_>, sqlx::Error>>()?,
            };
            let Some(last) = rows.last() else { break };
            after = last.0;
            n += rows.len() as u64;
            bytes += rows.iter().map(|r| r.1).sum::<usize>();
        }
        std::hint::black_box(bytes);
        Ok(n)
    }
}

type Decoded = (i64, usize);

macro_rules! decode_journal {
    ($name:ident, $row:ty) => {
        fn $name(r: &$row) -> Result<Decoded, sqlx::Error> {
            let seq: i64 = r.try_get(0)?;
            let at: i64 = r.try_get(1)?;
            let actor: String = r.try_get(2)?;
            let action: String = r.try_get(3)?;
            let subject: Option<Vec<u8>> = r.try_get(4)?;
            let purpose: Option<String> = r.try_get(5)?;
            let fields: String = r.try_get(6)?;
            let detail: Option<String> = r.try_get(7)?;
            let prev: Vec<u8> = r.try_get(8)?;
            let hash: Vec<u8> = r.try_get(9)?;
            let len = usize::try_from(at & 1).unwrap_or(0)
                + actor.len()
                + action.len()
                + subject.map_or(0, |s| s.len())
                + purpose.map_or(0, |s| s.len())
                + fields.len()
                + detail.map_or(0, |s| s.len())
                + prev.len()
                + hash.len();
            Ok((seq, len))
        }
    };
}
decode_journal!(decode_journal_sqlite, sqlx::sqlite::SqliteRow);
decode_journal!(decode_journal_pg, sqlx::postgres::PgRow);

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

/// The plain-SQL writer.
pub struct RawWriter {
    db: Db,
    shapes: Arc<Shapes>,
    seq: i64,
    wrapped: Vec<u8>,
    fields: Vec<u8>,
    evidence: Vec<Option<Vec<u8>>>,
    micros: i64,
}

impl RawWriter {
    pub fn new(db: Db, shapes: Shapes) -> Self {
        let wrapped = filler(shapes.wrapped_len, 1);
        let fields = filler(shapes.fields_len, 2);
        let evidence = shapes
            .create_consents
            .iter()
            .map(|c| c.evidence_len.map(|n| filler(n, 3)))
            .collect();
        let micros = time::OffsetDateTime::now_utc().unix_timestamp() * 1_000_000;
        Self {
            db,
            shapes: Arc::new(shapes),
            seq: 0,
            wrapped,
            fields,
            evidence,
            micros,
        }
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
        let sh = self.shapes.clone();
        let mut journal: Vec<(&[u8; 16], &JournalShape)> = Vec::new();
        let mut creates: Vec<&[u8; 16]> = Vec::new();
        let mut withdraws: Vec<&[u8; 16]> = Vec::new();
        let mut erases: Vec<&[u8; 16]> = Vec::new();
        for op in ops {
            match op {
                RawOp::Create(id) => {
                    creates.push(id);
                    journal.extend(sh.create_journal.iter().map(|j| (id, j)));
                }
                RawOp::Withdraw(id) => {
                    withdraws.push(id);
                    journal.extend(sh.withdraw_journal.iter().map(|j| (id, j)));
                }
                RawOp::Erase(id) => {
                    erases.push(id);
                    journal.extend(sh.erase_journal.iter().map(|j| (id, j)));
                }
            }
        }
        let first_seq = self.seq + 1;
        self.seq += journal.len() as i64;
        self.micros += 1;
        let now = self.micros;
        let head = Self::hash(self.seq);
        match &mut self.db {
            Db::Sqlite(c) => {
                let mut tx = c.begin_with("BEGIN IMMEDIATE").await?;
                sqlite_write(
                    &mut tx,
                    &sh,
                    &creates,
                    &withdraws,
                    &erases,
                    &journal,
                    first_seq,
                    now,
                    &self.wrapped,
                    &self.fields,
                    &self.evidence,
                )
                .await?;
                sqlx::query("UPDATE journal_head SET seq = ?, hash = ? WHERE id = 1")
                    .bind(self.seq)
                    .bind(&head[..])
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            Db::Pg(c) => {
                let mut tx = c.begin().await?;
                pg_write(
                    &mut tx,
                    &sh,
                    &creates,
                    &withdraws,
                    &erases,
                    &journal,
                    first_seq,
                    now,
                    &self.wrapped,
                    &self.fields,
                    &self.evidence,
                )
                .await?;
                sqlx::query("UPDATE journal_head SET seq = $1, hash = $2 WHERE id = 1")
                    .bind(self.seq)
                    .bind(&head[..])
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;

/// The text of a multi-row INSERT, made once per shape and kept for the whole run (there are
/// few shapes), so that bound values may borrow from the caller rather than be copied.
fn multi_row_sql(head: &str, row: &str, rows: usize) -> &'static str {
    static CACHE: OnceLock<Mutex<HashMap<(String, usize), &'static str>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache.entry((format!("{head}{row}"), rows)).or_insert_with(|| {
        let mut sql = String::with_capacity(head.len() + rows * (row.len() + 1));
        sql.push_str(head);
        for k in 0..rows {
            if k > 0 {
                sql.push(',');
            }
            sql.push_str(row);
        }
        Box::leak(sql.into_boxed_str())
    })
}

/// Multi-row INSERTs of `n` rows in chunks of at most [`MAX_PARAMS`] parameters, binding row
/// `i` with `bind(q, i)`.
async fn sqlite_insert<'a>(
    conn: &mut SqliteConnection,
    head: &str,
    row: &str,
    params_per_row: usize,
    n: usize,
    bind: impl Fn(SqliteQuery<'a>, usize) -> SqliteQuery<'a>,
) -> Result<()> {
    let max_rows = (MAX_PARAMS / params_per_row).max(1);
    let mut start = 0;
    while start < n {
        let rows = (n - start).min(max_rows);
        let mut q = sqlx::query(multi_row_sql(head, row, rows));
        for i in start..start + rows {
            q = bind(q, i);
        }
        q.execute(&mut *conn).await?;
        start += rows;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn sqlite_write(
    conn: &mut SqliteConnection,
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
    if !creates.is_empty() {
        sqlite_insert(
            conn,
            "INSERT INTO subjects (id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields) VALUES ",
            "(?, 'active', 1, ?, ?, NULL, ?, ?, ?)",
            6,
            creates.len(),
            |q, i| {
                q.bind(&creates[i][..])
                    .bind(now)
                    .bind(now)
                    .bind(sh.kek_id.as_str())
                    .bind(wrapped)
                    .bind(fields)
            },
        )
        .await?;
        let per = sh.index_fields.len();
        if per > 0 {
            sqlite_insert(
                conn,
                "INSERT INTO subject_index (subject_id, field, hash) VALUES ",
                "(?, ?, ?)",
                3,
                creates.len() * per,
                |q, i| {
                    let id = creates[i / per];
                    q.bind(&id[..]).bind(sh.index_fields[i % per].as_str()).bind(
                        (mix(u64::from_le_bytes(id[..8].try_into().unwrap_or_default()) + i as u64) & 0xFF_FFFF) as i64,
                    )
                },
            )
            .await?;
        }
        let per = sh.create_consents.len();
        if per > 0 {
            sqlite_insert(
                conn,
                "INSERT INTO consent_events (subject_id, purpose, kind, at, policy_version, evidence) VALUES ",
                "(?, ?, ?, ?, ?, ?)",
                6,
                creates.len() * per,
                |q, i| {
                    let c = &sh.create_consents[i % per];
                    q.bind(&creates[i / per][..])
                        .bind(c.purpose.as_str())
                        .bind(c.kind.as_str())
                        .bind(now)
                        .bind(c.policy_version.as_str())
                        .bind(evidence[i % per].as_deref())
                },
            )
            .await?;
        }
    }
    if let (false, Some(c)) = (withdraws.is_empty(), sh.withdraw_consent.as_ref()) {
        sqlite_insert(
            conn,
            "INSERT INTO consent_events (subject_id, purpose, kind, at, policy_version, evidence) VALUES ",
            "(?, ?, ?, ?, ?, NULL)",
            5,
            withdraws.len(),
            |q, i| {
                q.bind(&withdraws[i][..])
                    .bind(c.purpose.as_str())
                    .bind(c.kind.as_str())
                    .bind(now)
                    .bind(c.policy_version.as_str())
            },
        )
        .await?;
    }
    for id in erases {
        sqlx::query(
            "UPDATE subjects SET state = 'erased', erased_at = ?, updated_at = ?, \
             kek_id = NULL, wrapped_key = NULL, fields = NULL WHERE id = ?",
        )
        .bind(now)
        .bind(now)
        .bind(&id[..])
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM subject_index WHERE subject_id = ?")
            .bind(&id[..])
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE consent_events SET evidence = NULL WHERE subject_id = ? AND evidence IS NOT NULL")
            .bind(&id[..])
            .execute(&mut *conn)
            .await?;
    }
    let hashes: Vec<[u8; 32]> = (0..=journal.len() as i64)
        .map(|k| RawWriter::hash(first_seq - 1 + k))
        .collect();
    sqlite_insert(
        conn,
        "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) VALUES ",
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        10,
        journal.len(),
        |q, i| {
            let (id, j) = journal[i];
            q.bind(first_seq + i as i64)
                .bind(now)
                .bind(j.actor.as_str())
                .bind(j.action.as_str())
                .bind(&id[..])
                .bind(j.purpose.as_deref())
                .bind(j.fields.as_str())
                .bind(j.detail.as_deref())
                .bind(&hashes[i][..])
                .bind(&hashes[i + 1][..])
        },
    )
    .await?;
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
