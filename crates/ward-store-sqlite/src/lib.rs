//! Ward's SQLite backend: one database file in WAL mode with durable commits.
//!
//! Every [`WriteStore::write`] goes through ONE writer connection, serialized by a mutex, in
//! a `BEGIN IMMEDIATE` transaction (which also serializes writers of other processes on the
//! same file). Reads use a separate pool of read-only connections, which WAL lets run
//! alongside the writer.
//!
//! A write runs on its own task: if the caller stops waiting, the transaction still commits
//! or rolls back as a whole, and the writer connection is never left inside a transaction.

mod backup;
mod rows;
mod subject_events;
mod visitors;

pub use backup::KeyImport;

use async_trait::async_trait;
use rows::{col, corrupt, hash32, parse, subject_id, unavailable, Result};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use ward_core::access::{Role, SubjectState};
use ward_core::clock::{from_micros, to_micros};
use ward_core::SubjectId;
use ward_crypto::Checkpoint;
use ward_store::plan::{self, chunk_sizes, join_names, split_names, Inserts, Snapshot, Step, SubjectSnap, Touched};
use ward_store::{
    chain, ApiKeyRecord, ApiKeyStore, ConsentEventRecord, JournalEntry, JournalHead, JournalStore, OpOutcome,
    PolicyStore, PolicyVersionRecord, Store, StoreError, StoreResult, SubjectCounts, SubjectRecord, SubjectStore,
    WrappedKey, WrappedKeyRecord, WriteOp, WriteStore,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a writer waits for another process's write transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// The writer's page cache, in KiB (a negative `cache_size` is KiB).
const WRITER_CACHE: &str = "-65536";
/// Read-only connections in the read pool.
const READERS: u32 = 4;

/// Names of the embedded migrations, in order: the file names without `.sql`
/// (e.g. `0001_init`).
pub fn migration_names() -> Vec<String> {
    MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| format!("{:04}_{}", m.version, m.description.replace(' ', "_")))
        .collect()
}

/// Ward's store in one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<SqliteConnection>,
    readers: SqlitePool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path` and runs the migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let base = SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .statement_cache_capacity(512);
        let writer_options = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            // Erased keys and fields are overwritten on disk, not just unlinked.
            .pragma("secure_delete", "ON")
            // Bulk inserts touch pages all over the id index (ids are random): keep them cached.
            .pragma("cache_size", WRITER_CACHE)
            .pragma("temp_store", "MEMORY");
        let mut writer = SqliteConnection::connect_with(&writer_options)
            .await
            .map_err(unavailable)?;
        MIGRATOR
            .run(&mut writer)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .min_connections(0)
            // sqlx pings a pooled connection before handing it out; for a file opened in this
            // process that check is only a round trip to the connection's thread, and it was
            // a third of a read's cost (ward bench: reads 6,703/s with it, 9,542/s without).
            .test_before_acquire(false)
            .connect_with(base.read_only(true))
            .await
            .map_err(unavailable)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers,
            }),
        })
    }

    /// The database file.
    pub(crate) fn readers(&self) -> &SqlitePool {
        &self.inner.readers
    }

    pub(crate) fn writer(&self) -> &Mutex<SqliteConnection> {
        &self.inner.writer
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

// ---------------------------------------------------------------------------------------------
// Row decoding

const SUBJECT_COLUMNS: &str = "id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields";

fn subject_record(row: &SqliteRow) -> Result<SubjectRecord> {
    const T: &str = "subjects";
    let id = subject_id(&col::<_, Vec<u8>>(row, T, "id")?, T, "id")?;
    let state: SubjectState = parse(&col::<_, String>(row, T, "state")?, T, "state")?;
    let kek_id: Option<String> = col(row, T, "kek_id")?;
    let wrapped: Option<Vec<u8>> = col(row, T, "wrapped_key")?;
    let fields: Option<Vec<u8>> = col(row, T, "fields")?;
    let (key, fields) = match state {
        SubjectState::Active => {
            let kek_id = kek_id.ok_or_else(|| corrupt(T, "kek_id", "missing for an active subject"))?;
            let wrapped = wrapped.ok_or_else(|| corrupt(T, "wrapped_key", "missing for an active subject"))?;
            let fields = fields.ok_or_else(|| corrupt(T, "fields", "missing for an active subject"))?;
            (Some(WrappedKey { kek_id, wrapped }), Some(fields))
        }
        SubjectState::Erased => (None, None),
    };
    Ok(SubjectRecord {
        id,
        state,
        revision: col(row, T, "revision")?,
        created_at: from_micros(col(row, T, "created_at")?),
        updated_at: from_micros(col(row, T, "updated_at")?),
        erased_at: col::<_, Option<i64>>(row, T, "erased_at")?.map(from_micros),
        key,
        fields,
    })
}

fn consent_record(row: &SqliteRow) -> Result<ConsentEventRecord> {
    const T: &str = "consent_events";
    Ok(ConsentEventRecord {
        purpose: col(row, T, "purpose")?,
        kind: parse(&col::<_, String>(row, T, "kind")?, T, "kind")?,
        at: from_micros(col(row, T, "at")?),
        policy_version: col(row, T, "policy_version")?,
        evidence: col(row, T, "evidence")?,
    })
}

fn journal_entry(row: &SqliteRow) -> Result<JournalEntry> {
    const T: &str = "journal";
    let subject = match col::<_, Option<Vec<u8>>>(row, T, "subject")? {
        Some(b) => Some(subject_id(&b, T, "subject")?),
        None => None,
    };
    Ok(JournalEntry {
        seq: col(row, T, "seq")?,
        at: from_micros(col(row, T, "at")?),
        actor: col(row, T, "actor")?,
        action: col(row, T, "action")?,
        subject,
        purpose: col(row, T, "purpose")?,
        fields: split_names(&col::<_, String>(row, T, "fields")?),
        detail: col(row, T, "detail")?,
        prev_hash: hash32(&col::<_, Vec<u8>>(row, T, "prev_hash")?, T, "prev_hash")?,
        hash: hash32(&col::<_, Vec<u8>>(row, T, "hash")?, T, "hash")?,
    })
}

fn api_key_record(row: &SqliteRow) -> Result<ApiKeyRecord> {
    const T: &str = "api_keys";
    let role: Role = parse(&col::<_, String>(row, T, "role")?, T, "role")?;
    Ok(ApiKeyRecord {
        id: col(row, T, "id")?,
        name: col(row, T, "name")?,
        role,
        purposes: split_names(&col::<_, String>(row, T, "purposes")?),
        token_hash: col(row, T, "token_hash")?,
        created_at: from_micros(col(row, T, "created_at")?),
        revoked_at: col::<_, Option<i64>>(row, T, "revoked_at")?.map(from_micros),
    })
}

fn policy_record(row: &SqliteRow) -> Result<PolicyVersionRecord> {
    const T: &str = "policy_versions";
    Ok(PolicyVersionRecord {
        hash: col(row, T, "hash")?,
        policy_id: col(row, T, "policy_id")?,
        version: col(row, T, "version")?,
        source: col(row, T, "source")?,
        text: col(row, T, "text")?,
        effective_at: from_micros(col(row, T, "effective_at")?),
        recorded_at: from_micros(col(row, T, "recorded_at")?),
    })
}

fn checkpoint(row: &SqliteRow) -> Result<Checkpoint> {
    const T: &str = "journal_checkpoints";
    Ok(Checkpoint {
        seq: col(row, T, "seq")?,
        head: hash32(&col::<_, Vec<u8>>(row, T, "head")?, T, "head")?,
        at_micros: col(row, T, "at")?,
        key_id: col(row, T, "key_id")?,
        signature: col(row, T, "signature")?,
    })
}

fn head_from(seq: i64, hash: &[u8]) -> Result<Option<JournalHead>> {
    if seq < 0 {
        return Err(corrupt("journal_head", "seq", "negative"));
    }
    let hash = hash32(hash, "journal_head", "hash")?;
    Ok((seq > 0).then_some(JournalHead { seq, hash }))
}

async fn read_head(conn: &mut SqliteConnection) -> Result<Option<JournalHead>> {
    let row = sqlx::query("SELECT seq, hash FROM journal_head WHERE id = 1")
        .fetch_optional(conn)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| corrupt("journal_head", "id", "the head row is missing"))?;
    head_from(
        col(&row, "journal_head", "seq")?,
        &col::<_, Vec<u8>>(&row, "journal_head", "hash")?,
    )
}

// ---------------------------------------------------------------------------------------------
// Reads

#[async_trait]
impl SubjectStore for SqliteStore {
    async fn find_subject(&self, id: SubjectId) -> StoreResult<Option<SubjectRecord>> {
        let sql = format!("SELECT {SUBJECT_COLUMNS} FROM subjects WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(&id.as_bytes()[..])
            .fetch_optional(&self.inner.readers)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(subject_record).transpose()
    }

    async fn find_consent_events(&self, id: SubjectId) -> StoreResult<Vec<ConsentEventRecord>> {
        let rows = sqlx::query(
            "SELECT purpose, kind, at, policy_version, evidence FROM consent_events WHERE subject_id = ? ORDER BY id",
        )
        .bind(&id.as_bytes()[..])
        .fetch_all(&self.inner.readers)
        .await
        .map_err(unavailable)?;
        rows.iter().map(consent_record).collect()
    }

    async fn find_subjects_by_index(&self, field: &str, hash: i64) -> StoreResult<Vec<SubjectId>> {
        let rows = sqlx::query("SELECT subject_id FROM subject_index WHERE field = ? AND hash = ? ORDER BY subject_id")
            .bind(field)
            .bind(hash)
            .fetch_all(&self.inner.readers)
            .await
            .map_err(unavailable)?;
        rows.iter()
            .map(|r| {
                subject_id(
                    &col::<_, Vec<u8>>(r, "subject_index", "subject_id")?,
                    "subject_index",
                    "subject_id",
                )
            })
            .collect()
    }

    async fn find_wrapped_keys(&self, after: Option<SubjectId>, limit: u32) -> StoreResult<Vec<WrappedKeyRecord>> {
        // The empty blob sorts before every id.
        let after: &[u8] = after.as_ref().map_or(&[], |a| &a.as_bytes()[..]);
        let rows = sqlx::query(
            "SELECT id, kek_id, wrapped_key FROM subjects WHERE id > ? AND state = 'active' ORDER BY id LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.inner.readers)
        .await
        .map_err(unavailable)?;
        rows.iter()
            .map(|r| {
                const T: &str = "subjects";
                let kek_id: Option<String> = col(r, T, "kek_id")?;
                let wrapped: Option<Vec<u8>> = col(r, T, "wrapped_key")?;
                Ok(WrappedKeyRecord {
                    subject: subject_id(&col::<_, Vec<u8>>(r, T, "id")?, T, "id")?,
                    key: WrappedKey {
                        kek_id: kek_id.ok_or_else(|| corrupt(T, "kek_id", "missing for an active subject"))?,
                        wrapped: wrapped.ok_or_else(|| corrupt(T, "wrapped_key", "missing for an active subject"))?,
                    },
                })
            })
            .collect()
    }

    async fn count_subjects(&self) -> StoreResult<SubjectCounts> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM subjects GROUP BY state")
            .fetch_all(&self.inner.readers)
            .await
            .map_err(unavailable)?;
        let mut counts = SubjectCounts::default();
        for r in &rows {
            let n = u64::try_from(col::<_, i64>(r, "subjects", "n")?).unwrap_or(0);
            match parse(&col::<_, String>(r, "subjects", "state")?, "subjects", "state")? {
                SubjectState::Active => counts.active = n,
                SubjectState::Erased => counts.erased = n,
            }
        }
        Ok(counts)
    }
}

#[async_trait]
impl JournalStore for SqliteStore {
    async fn find_journal_head(&self) -> StoreResult<Option<JournalHead>> {
        let mut conn = self.inner.readers.acquire().await.map_err(unavailable)?;
        read_head(&mut conn).await
    }

    async fn find_journal_entries(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<JournalEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash \
             FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.inner.readers)
        .await
        .map_err(unavailable)?;
        rows.iter().map(journal_entry).collect()
    }

    async fn create_checkpoint(&self, cp: &Checkpoint) -> StoreResult<()> {
        let mut conn = self.inner.writer.lock().await;
        sqlx::query("INSERT INTO journal_checkpoints (seq, head, at, key_id, signature) VALUES (?, ?, ?, ?, ?)")
            .bind(cp.seq)
            .bind(&cp.head[..])
            .bind(cp.at_micros)
            .bind(cp.key_id.as_str())
            .bind(cp.signature.as_slice())
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn find_checkpoints(&self) -> StoreResult<Vec<Checkpoint>> {
        let rows = sqlx::query("SELECT seq, head, at, key_id, signature FROM journal_checkpoints ORDER BY seq, id")
            .fetch_all(&self.inner.readers)
            .await
            .map_err(unavailable)?;
        rows.iter().map(checkpoint).collect()
    }
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn find_api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = sqlx::query(
            "SELECT id, name, role, purposes, token_hash, created_at, revoked_at FROM api_keys WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.inner.readers)
        .await
        .map_err(unavailable)?;
        row.as_ref().map(api_key_record).transpose()
    }

    async fn find_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, role, purposes, token_hash, created_at, revoked_at FROM api_keys ORDER BY id",
        )
        .fetch_all(&self.inner.readers)
        .await
        .map_err(unavailable)?;
        rows.iter().map(api_key_record).collect()
    }
}

#[async_trait]
impl PolicyStore for SqliteStore {
    async fn find_policy_versions(&self) -> StoreResult<Vec<PolicyVersionRecord>> {
        let rows = sqlx::query(
            "SELECT hash, policy_id, version, source, text, COALESCE(effective_at, recorded_at) AS effective_at, recorded_at \
             FROM policy_versions ORDER BY recorded_at, hash",
        )
        .fetch_all(&self.inner.readers)
        .await
        .map_err(unavailable)?;
        rows.iter().map(policy_record).collect()
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn migration_names(&self) -> Vec<String> {
        migration_names()
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

#[async_trait]
impl WriteStore for SqliteStore {
    async fn write(&self, ops: Vec<WriteOp>) -> StoreResult<Vec<OpOutcome>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let inner = self.inner.clone();
        tokio::spawn(async move { inner.write(ops).await })
            .await
            .map_err(|e| StoreError::Unavailable(format!("write task failed: {e}")))?
    }
}

impl Inner {
    async fn write(&self, ops: Vec<WriteOp>) -> StoreResult<Vec<OpOutcome>> {
        let mut conn = self.writer.lock().await;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(unavailable)?;
        match apply(&mut tx, ops).await {
            Ok(outcomes) => {
                tx.commit().await.map_err(unavailable)?;
                Ok(outcomes)
            }
            Err(e) => {
                // Dropping the transaction would roll back too; doing it here reports nothing
                // more but leaves the connection clean before the lock is released.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }
}

type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;

/// Largest number of bound parameters per statement (SQLite allows 32766).
const MAX_PARAMS: usize = 2048;

/// `(?, ?, …)` repeated `rows` times, comma-separated; `row` is one row's template.
fn values(row: &str, rows: usize) -> String {
    let mut s = String::with_capacity((row.len() + 1) * rows);
    for i in 0..rows {
        if i > 0 {
            s.push(',');
        }
        s.push_str(row);
    }
    s
}

/// Runs `insert` for `items` in multi-row chunks of few shapes. `sql(n)` gives the statement
/// for `n` rows; `bind` binds one item.
async fn insert_rows<T>(
    conn: &mut SqliteConnection,
    items: &[T],
    params_per_row: usize,
    sql: impl Fn(usize) -> String,
    bind: impl for<'q> Fn(Query<'q>, &'q T) -> Result<Query<'q>>,
) -> Result<()> {
    let max_rows = (MAX_PARAMS / params_per_row).max(1);
    let mut rest = items;
    for n in chunk_sizes(items.len(), max_rows) {
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        let text = sql(n);
        let mut q = sqlx::query(&text);
        for item in chunk {
            q = bind(q, item)?;
        }
        q.execute(&mut *conn).await.map_err(unavailable)?;
    }
    Ok(())
}

/// Reads the rows the batch touches. Ids are looked up in chunks padded (by repeating an id)
/// to a power of two, so few statement shapes exist.
async fn snapshot(conn: &mut SqliteConnection, touched: &Touched) -> Result<Snapshot> {
    let mut snap = Snapshot::default();
    for chunk in touched.subjects.chunks(256) {
        let n = chunk.len().next_power_of_two();
        let sql = format!(
            "SELECT id, state, revision, kek_id FROM subjects WHERE id IN ({})",
            values("?", n)
        );
        let mut q = sqlx::query(&sql);
        for i in 0..n {
            q = q.bind(&chunk[i.min(chunk.len() - 1)].as_bytes()[..]);
        }
        for row in q.fetch_all(&mut *conn).await.map_err(unavailable)? {
            const T: &str = "subjects";
            let id = subject_id(&col::<_, Vec<u8>>(&row, T, "id")?, T, "id")?;
            let s = match parse(&col::<_, String>(&row, T, "state")?, T, "state")? {
                SubjectState::Active => SubjectSnap::Active {
                    revision: col(&row, T, "revision")?,
                    kek_id: col::<_, Option<String>>(&row, T, "kek_id")?
                        .ok_or_else(|| corrupt(T, "kek_id", "missing for an active subject"))?,
                },
                SubjectState::Erased => SubjectSnap::Erased,
            };
            snap.subjects.insert(id, s);
        }
    }
    for chunk in touched.api_keys.chunks(256) {
        let n = chunk.len().next_power_of_two();
        let sql = format!("SELECT id, revoked_at FROM api_keys WHERE id IN ({})", values("?", n));
        let mut q = sqlx::query(&sql);
        for i in 0..n {
            q = q.bind(chunk[i.min(chunk.len() - 1)].as_str());
        }
        for row in q.fetch_all(&mut *conn).await.map_err(unavailable)? {
            let revoked = col::<_, Option<i64>>(&row, "api_keys", "revoked_at")?.is_some();
            snap.api_keys.insert(col(&row, "api_keys", "id")?, revoked);
        }
    }
    for chunk in touched.policies.chunks(256) {
        let n = chunk.len().next_power_of_two();
        let sql = format!("SELECT hash FROM policy_versions WHERE hash IN ({})", values("?", n));
        let mut q = sqlx::query(&sql);
        for i in 0..n {
            q = q.bind(chunk[i.min(chunk.len() - 1)].as_str());
        }
        for row in q.fetch_all(&mut *conn).await.map_err(unavailable)? {
            snap.policies.insert(col(&row, "policy_versions", "hash")?);
        }
    }
    visitors::snapshot(conn, touched, &mut snap).await?;
    Ok(snap)
}

/// Everything a write does inside its transaction. Returns the outcomes.
async fn apply(conn: &mut SqliteConnection, ops: Vec<WriteOp>) -> Result<Vec<OpOutcome>> {
    let mut snap = snapshot(conn, &plan::touched(&ops)).await?;
    let outcomes = {
        let (outcomes, steps) = plan::plan(&ops, &mut snap);
        for step in &steps {
            apply_step(conn, step).await?;
        }
        outcomes
    };
    let drafts = ops
        .into_iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == OpOutcome::Done)
        .flat_map(|(op, _)| op.journal);
    append_drafts(conn, drafts).await?;
    Ok(outcomes)
}

/// Links `drafts` after the journal head and appends them, inside the caller's transaction.
pub(crate) async fn append_drafts(
    conn: &mut SqliteConnection,
    drafts: impl IntoIterator<Item = ward_core::JournalDraft>,
) -> Result<()> {
    let head = read_head(conn).await?;
    let (entries, new_head) = chain::link(head, drafts);
    if let Some(h) = new_head {
        append_journal(conn, &entries).await?;
        sqlx::query("UPDATE journal_head SET seq = ?, hash = ? WHERE id = 1")
            .bind(h.seq)
            .bind(&h.hash[..])
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}

fn unstorable(table: &str, column: &str) -> StoreError {
    corrupt(
        table,
        column,
        "a name is empty or contains a comma and cannot be stored",
    )
}

async fn append_journal(conn: &mut SqliteConnection, entries: &[JournalEntry]) -> Result<()> {
    let fields: Vec<String> = entries
        .iter()
        .map(|e| join_names(&e.fields).ok_or_else(|| unstorable("journal", "fields")))
        .collect::<Result<_>>()?;
    let rows: Vec<(&JournalEntry, &String)> = entries.iter().zip(&fields).collect();
    insert_rows(
        conn,
        &rows,
        10,
        |n| {
            format!(
                "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) VALUES {}",
                values("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", n)
            )
        },
        |q, (e, fields)| {
            Ok(q.bind(e.seq)
                .bind(to_micros(e.at))
                .bind(e.actor.as_str())
                .bind(e.action.as_str())
                .bind(e.subject.as_ref().map(|s| &s.as_bytes()[..]))
                .bind(e.purpose.as_deref())
                .bind(fields.as_str())
                .bind(e.detail.as_deref())
                .bind(&e.prev_hash[..])
                .bind(&e.hash[..]))
        },
    )
    .await
}

async fn apply_inserts(conn: &mut SqliteConnection, ins: &Inserts<'_>) -> Result<()> {
    insert_rows(
        conn,
        &ins.subjects,
        6,
        |n| {
            format!(
                "INSERT INTO subjects (id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields) \
                 VALUES {}",
                values("(?, 'active', 1, ?, ?, NULL, ?, ?, ?)", n)
            )
        },
        |q, s| {
            let created = to_micros(s.created_at);
            Ok(q.bind(&s.id.as_bytes()[..])
                .bind(created)
                .bind(created)
                .bind(s.key.kek_id.as_str())
                .bind(s.key.wrapped.as_slice())
                .bind(s.fields.as_slice()))
        },
    )
    .await?;
    insert_rows(
        conn,
        &ins.index,
        3,
        |n| {
            format!(
                "INSERT INTO subject_index (subject_id, field, hash) VALUES {} \
                 ON CONFLICT (subject_id, field) DO UPDATE SET hash = excluded.hash",
                values("(?, ?, ?)", n)
            )
        },
        |q, r| Ok(q.bind(&r.subject.as_bytes()[..]).bind(r.field).bind(r.hash)),
    )
    .await?;
    insert_rows(
        conn,
        &ins.consents,
        6,
        |n| {
            format!(
                "INSERT INTO consent_events (subject_id, purpose, kind, at, policy_version, evidence) VALUES {}",
                values("(?, ?, ?, ?, ?, ?)", n)
            )
        },
        |q, (id, c)| {
            Ok(q.bind(&id.as_bytes()[..])
                .bind(c.purpose.as_str())
                .bind(c.kind.as_str())
                .bind(to_micros(c.at))
                .bind(c.policy_version.as_str())
                .bind(c.evidence.as_deref()))
        },
    )
    .await?;
    insert_rows(
        conn,
        &ins.api_keys,
        7,
        |n| {
            format!(
                "INSERT INTO api_keys (id, name, role, purposes, token_hash, created_at, revoked_at) VALUES {}",
                values("(?, ?, ?, ?, ?, ?, ?)", n)
            )
        },
        |q, k| {
            let mut purposes = k.purposes.clone();
            purposes.sort();
            purposes.dedup();
            let purposes = join_names(&purposes).ok_or_else(|| unstorable("api_keys", "purposes"))?;
            Ok(q.bind(k.id.as_str())
                .bind(k.name.as_str())
                .bind(k.role.as_str())
                .bind(purposes)
                .bind(k.token_hash.as_slice())
                .bind(to_micros(k.created_at))
                .bind(k.revoked_at.map(to_micros)))
        },
    )
    .await?;
    insert_rows(
        conn,
        &ins.policies,
        7,
        |n| {
            format!(
                "INSERT INTO policy_versions (hash, policy_id, version, source, text, effective_at, recorded_at) VALUES {}",
                values("(?, ?, ?, ?, ?, ?, ?)", n)
            )
        },
        |q, p| {
            Ok(q.bind(p.hash.as_str())
                .bind(p.policy_id.as_str())
                .bind(p.version.as_str())
                .bind(p.source.as_str())
                .bind(p.text.as_deref())
                .bind(to_micros(p.effective_at))
                .bind(to_micros(p.recorded_at)))
        },
    )
    .await?;
    subject_events::insert(conn, &ins.subject_events).await?;
    visitors::insert(conn, &ins.visitor_consents).await
}

pub(crate) async fn apply_step(conn: &mut SqliteConnection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Insert(ins) => return apply_inserts(conn, ins).await,
        Step::UpdateSubject {
            id,
            fields,
            revision,
            at,
        } => {
            sqlx::query("UPDATE subjects SET fields = ?, revision = ?, updated_at = ? WHERE id = ?")
                .bind(*fields)
                .bind(*revision)
                .bind(to_micros(*at))
                .bind(&id.as_bytes()[..])
                .execute(&mut *conn)
                .await
        }
        Step::DeleteIndex { subject, field } => {
            sqlx::query("DELETE FROM subject_index WHERE subject_id = ? AND field = ?")
                .bind(&subject.as_bytes()[..])
                .bind(*field)
                .execute(&mut *conn)
                .await
        }
        Step::Erase { id, at } => {
            let at = to_micros(*at);
            sqlx::query(
                "UPDATE subjects SET state = 'erased', erased_at = ?, updated_at = ?, \
                 kek_id = NULL, wrapped_key = NULL, fields = NULL WHERE id = ?",
            )
            .bind(at)
            .bind(at)
            .bind(&id.as_bytes()[..])
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
            sqlx::query("DELETE FROM subject_index WHERE subject_id = ?")
                .bind(&id.as_bytes()[..])
                .execute(&mut *conn)
                .await
                .map_err(unavailable)?;
            visitors::delete_for_subject(conn, *id).await?;
            subject_events::erase_evidence(conn, *id).await?;
            sqlx::query("UPDATE consent_events SET evidence = NULL WHERE subject_id = ? AND evidence IS NOT NULL")
                .bind(&id.as_bytes()[..])
                .execute(&mut *conn)
                .await
        }
        Step::Rewrap(keys) => {
            for (id, key) in keys {
                sqlx::query("UPDATE subjects SET kek_id = ?, wrapped_key = ? WHERE id = ?")
                    .bind(key.kek_id.as_str())
                    .bind(key.wrapped.as_slice())
                    .bind(&id.as_bytes()[..])
                    .execute(&mut *conn)
                    .await
                    .map_err(unavailable)?;
            }
            return Ok(());
        }
        Step::RevokeApiKey { id, at } => {
            sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ?")
                .bind(to_micros(*at))
                .bind(*id)
                .execute(&mut *conn)
                .await
        }
        Step::LinkVisitor { visitor, subject } => return visitors::link(conn, visitor, *subject).await,
    }
    .map(|_| ())
    .map_err(unavailable)
}
