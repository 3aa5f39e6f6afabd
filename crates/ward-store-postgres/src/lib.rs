//! Ward's PostgreSQL backend.
//!
//! Every [`WriteStore::write`] is one transaction that first locks the journal head row
//! (`SELECT … FROM journal_head … FOR UPDATE`). Writers — of this process and of any other
//! Ward process on the same database — therefore run one after another, each linking its
//! entries after the head the previous one committed: one chain, never a fork. The rows a
//! batch's preconditions read are locked too (`FOR UPDATE`). Within one process, writers
//! also queue on a mutex before taking a connection, so waiting writers never hold the
//! connections readers need.
//!
//! Bulk inserts bind one array per column and `UNNEST` them, so a batch of hundreds of new
//! subjects is a handful of statements.
//!
//! A write runs on its own task: if the caller stops waiting, the transaction still commits
//! or rolls back as a whole.

mod lease;
mod rows;
mod subject_events;
#[cfg(feature = "testing")]
pub mod testing;
mod visitors;

use async_trait::async_trait;
use rows::{col, corrupt, hash32, parse, subject_id, unavailable, Result};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Executor};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use ward_core::access::{Role, SubjectState};
use ward_core::clock::{from_micros, to_micros};
use ward_core::SubjectId;
use ward_crypto::Checkpoint;
use ward_store::plan::{self, join_names, split_names, Inserts, Snapshot, Step, SubjectSnap, Touched};
use ward_store::{
    chain, ApiKeyRecord, ApiKeyStore, ConsentEventRecord, JournalEntry, JournalHead, JournalStore, OpOutcome,
    PolicyStore, PolicyVersionRecord, Store, StoreError, StoreResult, SubjectCounts, SubjectRecord, SubjectStore,
    WrappedKey, WrappedKeyRecord, WriteOp, WriteStore,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 10;
/// How long to wait for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Names of the embedded migrations, in order: the file names without `.sql`
/// (e.g. `0001_init`).
pub fn migration_names() -> Vec<String> {
    MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| format!("{:04}_{}", m.version, m.description.replace(' ', "_")))
        .collect()
}

/// Ward's store in a PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    schema: Option<String>,
    /// Serializes this process's writers before they take a connection: they would only
    /// queue on the head lock, holding connections that readers need.
    write_lock: Arc<Mutex<()>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("PgStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// A pooled connection idle for longer than this is pinged before it is handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// The pool: a connection that has been idle for a while is checked with a ping before use
/// (one that died with a database restart or a network timeout is replaced, not failed on),
/// and a connection that was in use within the last [`PING_IF_IDLE_FOR`] is handed out as it
/// is. Pinging every connection on every acquire, sqlx's default, was one extra round trip per
/// query: under load that cost a quarter of the write throughput. The price: after a database
/// restart, a connection that was busy the moment before fails its next query (the request
/// gets a 503; nothing acknowledged is lost) and is then replaced.
fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                // A connection that fails its ping is closed and another one taken.
                Ok(meta.idle_for < PING_IF_IDLE_FOR || conn.ping().await.is_ok())
            })
        })
}

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl PgStore {
    /// Connects to the database at `url` (a `postgres://` URL) and runs the migrations.
    /// Fails at once (without waiting for the pool) if the database cannot be reached.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(unavailable)?;
        // One plain connection first: a clear, immediate error when the database is down.
        PgConnection::connect_with(&options)
            .await
            .map_err(unavailable)?
            .close()
            .await
            .map_err(unavailable)?;
        let pool = pool_options().connect_with(options).await.map_err(unavailable)?;
        Self::migrate(pool, None).await
    }

    /// Like [`PgStore::connect`], but keeps Ward's tables in `schema`, creating it if
    /// missing: every pooled connection has it as its `search_path`.
    pub async fn connect_with_schema(url: &str, schema: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(unavailable)?;
        let quoted = quote_ident(schema);
        let mut conn = PgConnection::connect_with(&options).await.map_err(unavailable)?;
        conn.execute(format!("CREATE SCHEMA IF NOT EXISTS {quoted}").as_str())
            .await
            .map_err(unavailable)?;
        conn.close().await.map_err(unavailable)?;
        let set_path = format!("SET search_path TO {quoted}");
        let pool = pool_options()
            .after_connect(move |conn, _| {
                let set_path = set_path.clone();
                Box::pin(async move {
                    conn.execute(set_path.as_str()).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        Self::migrate(pool, Some(schema.to_owned())).await
    }

    async fn migrate(pool: PgPool, schema: Option<String>) -> StoreResult<Self> {
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(Self {
            pool,
            schema,
            write_lock: Arc::new(Mutex::new(())),
        })
    }

    /// The schema given to [`PgStore::connect_with_schema`], if any.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Closes the pool (after in-flight operations finish).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Row decoding

const SUBJECT_COLUMNS: &str = "id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields";

fn subject_record(row: &PgRow) -> Result<SubjectRecord> {
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

fn consent_record(row: &PgRow) -> Result<ConsentEventRecord> {
    const T: &str = "consent_events";
    Ok(ConsentEventRecord {
        purpose: col(row, T, "purpose")?,
        kind: parse(&col::<_, String>(row, T, "kind")?, T, "kind")?,
        at: from_micros(col(row, T, "at")?),
        policy_version: col(row, T, "policy_version")?,
        evidence: col(row, T, "evidence")?,
    })
}

/// Subject columns, then the consent event columns of a `LEFT JOIN consent_events e` (NULL
/// where the subject has no events), for reading subjects with their consents in one query.
const SUBJECT_WITH_CONSENTS_COLUMNS: &str = "s.id, s.state, s.revision, s.created_at, s.updated_at, s.erased_at, \
     s.kek_id, s.wrapped_key, s.fields, e.purpose, e.kind, e.at, e.policy_version, e.evidence";

/// Groups the rows of a subjects-with-consents query (ordered by subject, then event) into
/// each subject with its events.
fn subjects_with_consents(rows: &[PgRow]) -> Result<Vec<(SubjectRecord, Vec<ConsentEventRecord>)>> {
    let mut out: Vec<(SubjectRecord, Vec<ConsentEventRecord>)> = Vec::new();
    for row in rows {
        let id = subject_id(&col::<_, Vec<u8>>(row, "subjects", "id")?, "subjects", "id")?;
        if out.last().is_none_or(|(s, _)| s.id != id) {
            out.push((subject_record(row)?, Vec::new()));
        }
        if col::<_, Option<String>>(row, "consent_events", "purpose")?.is_some() {
            if let Some((_, events)) = out.last_mut() {
                events.push(consent_record(row)?);
            }
        }
    }
    Ok(out)
}

fn journal_entry(row: &PgRow) -> Result<JournalEntry> {
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

fn api_key_record(row: &PgRow) -> Result<ApiKeyRecord> {
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

fn policy_record(row: &PgRow) -> Result<PolicyVersionRecord> {
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

fn checkpoint(row: &PgRow) -> Result<Checkpoint> {
    const T: &str = "journal_checkpoints";
    Ok(Checkpoint {
        seq: col(row, T, "seq")?,
        head: hash32(&col::<_, Vec<u8>>(row, T, "head")?, T, "head")?,
        at_micros: col(row, T, "at")?,
        key_id: col(row, T, "key_id")?,
        signature: col(row, T, "signature")?,
    })
}

fn head_from(row: Option<PgRow>) -> Result<Option<JournalHead>> {
    const T: &str = "journal_head";
    let row = row.ok_or_else(|| corrupt(T, "id", "the head row is missing"))?;
    let seq: i64 = col(&row, T, "seq")?;
    if seq < 0 {
        return Err(corrupt(T, "seq", "negative"));
    }
    let hash = hash32(&col::<_, Vec<u8>>(&row, T, "hash")?, T, "hash")?;
    Ok((seq > 0).then_some(JournalHead { seq, hash }))
}

// ---------------------------------------------------------------------------------------------
// Reads

#[async_trait]
impl SubjectStore for PgStore {
    async fn find_subject(&self, id: SubjectId) -> StoreResult<Option<SubjectRecord>> {
        let sql = format!("SELECT {SUBJECT_COLUMNS} FROM subjects WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(&id.as_bytes()[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(subject_record).transpose()
    }

    async fn find_consent_events(&self, id: SubjectId) -> StoreResult<Vec<ConsentEventRecord>> {
        let rows = sqlx::query(
            "SELECT purpose, kind, at, policy_version, evidence FROM consent_events WHERE subject_id = $1 ORDER BY id",
        )
        .bind(&id.as_bytes()[..])
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(consent_record).collect()
    }

    async fn find_subject_with_consents(
        &self,
        id: SubjectId,
    ) -> StoreResult<(Option<SubjectRecord>, Vec<ConsentEventRecord>)> {
        // One query, one round trip, one snapshot.
        let sql = format!(
            "SELECT {SUBJECT_WITH_CONSENTS_COLUMNS} FROM subjects s \
             LEFT JOIN consent_events e ON e.subject_id = s.id WHERE s.id = $1 ORDER BY e.id"
        );
        let rows = sqlx::query(&sql)
            .bind(&id.as_bytes()[..])
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(subjects_with_consents(&rows)?
            .pop()
            .map_or((None, Vec::new()), |(s, e)| (Some(s), e)))
    }

    async fn find_subjects_by_index_with_consents(
        &self,
        field: &str,
        hash: i64,
    ) -> StoreResult<Vec<(SubjectRecord, Vec<ConsentEventRecord>)>> {
        let sql = format!(
            "SELECT {SUBJECT_WITH_CONSENTS_COLUMNS} FROM subject_index i \
             JOIN subjects s ON s.id = i.subject_id \
             LEFT JOIN consent_events e ON e.subject_id = s.id \
             WHERE i.field = $1 AND i.hash = $2 ORDER BY s.id, e.id"
        );
        let rows = sqlx::query(&sql)
            .bind(field)
            .bind(hash)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        subjects_with_consents(&rows)
    }

    async fn find_subjects_by_index(&self, field: &str, hash: i64) -> StoreResult<Vec<SubjectId>> {
        let rows =
            sqlx::query("SELECT subject_id FROM subject_index WHERE field = $1 AND hash = $2 ORDER BY subject_id")
                .bind(field)
                .bind(hash)
                .fetch_all(&self.pool)
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
        // The empty byte string sorts before every id.
        let after: &[u8] = after.as_ref().map_or(&[], |a| &a.as_bytes()[..]);
        let rows = sqlx::query(
            "SELECT id, kek_id, wrapped_key FROM subjects WHERE id > $1 AND state = 'active' ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
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
            .fetch_all(&self.pool)
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
impl JournalStore for PgStore {
    async fn find_journal_head(&self) -> StoreResult<Option<JournalHead>> {
        let row = sqlx::query("SELECT seq, hash FROM journal_head WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        head_from(row)
    }

    async fn find_journal_entries(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<JournalEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash \
             FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(journal_entry).collect()
    }

    async fn create_checkpoint(&self, cp: &Checkpoint) -> StoreResult<()> {
        sqlx::query("INSERT INTO journal_checkpoints (seq, head, at, key_id, signature) VALUES ($1, $2, $3, $4, $5)")
            .bind(cp.seq)
            .bind(&cp.head[..])
            .bind(cp.at_micros)
            .bind(cp.key_id.as_str())
            .bind(cp.signature.as_slice())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn find_checkpoints(&self) -> StoreResult<Vec<Checkpoint>> {
        let rows = sqlx::query("SELECT seq, head, at, key_id, signature FROM journal_checkpoints ORDER BY seq, id")
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(checkpoint).collect()
    }
}

#[async_trait]
impl ApiKeyStore for PgStore {
    async fn find_api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = sqlx::query(
            "SELECT id, name, role, purposes, token_hash, created_at, revoked_at FROM api_keys WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.as_ref().map(api_key_record).transpose()
    }

    async fn find_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, role, purposes, token_hash, created_at, revoked_at FROM api_keys ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(api_key_record).collect()
    }
}

#[async_trait]
impl PolicyStore for PgStore {
    async fn find_policy_versions(&self) -> StoreResult<Vec<PolicyVersionRecord>> {
        let rows = sqlx::query(
            "SELECT hash, policy_id, version, source, text, COALESCE(effective_at, recorded_at) AS effective_at, recorded_at \
             FROM policy_versions ORDER BY recorded_at, hash",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(policy_record).collect()
    }
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn migration_names(&self) -> Vec<String> {
        migration_names()
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

#[async_trait]
impl WriteStore for PgStore {
    async fn write(&self, ops: Vec<WriteOp>) -> StoreResult<Vec<OpOutcome>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let pool = self.pool.clone();
        let lock = self.write_lock.clone();
        tokio::spawn(async move {
            let _serialized = lock.lock().await;
            write(pool, ops).await
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("write task failed: {e}")))?
    }
}

async fn write(pool: PgPool, ops: Vec<WriteOp>) -> StoreResult<Vec<OpOutcome>> {
    let mut tx = pool.begin().await.map_err(unavailable)?;
    match apply(&mut tx, ops).await {
        Ok(outcomes) => {
            tx.commit().await.map_err(unavailable)?;
            Ok(outcomes)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// Everything a write does inside its transaction. Returns the outcomes.
async fn apply(conn: &mut PgConnection, ops: Vec<WriteOp>) -> Result<Vec<OpOutcome>> {
    // First the head: from here on, this transaction is the only writer.
    let head = head_from(
        sqlx::query("SELECT seq, hash FROM journal_head WHERE id = 1 FOR UPDATE")
            .fetch_optional(&mut *conn)
            .await
            .map_err(unavailable)?,
    )?;
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
    let (entries, new_head) = chain::link(head, drafts);
    if let Some(h) = new_head {
        append_journal(conn, &entries).await?;
        sqlx::query("UPDATE journal_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(h.seq)
            .bind(&h.hash[..])
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
    }
    Ok(outcomes)
}

/// Reads (and locks) the rows the batch touches.
async fn snapshot(conn: &mut PgConnection, touched: &Touched) -> Result<Snapshot> {
    let mut snap = Snapshot::default();
    if !touched.subjects.is_empty() {
        let ids: Vec<&[u8]> = touched.subjects.iter().map(|s| &s.as_bytes()[..]).collect();
        let rows = sqlx::query("SELECT id, state, revision, kek_id FROM subjects WHERE id = ANY($1) FOR UPDATE")
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await
            .map_err(unavailable)?;
        for row in &rows {
            const T: &str = "subjects";
            let id = subject_id(&col::<_, Vec<u8>>(row, T, "id")?, T, "id")?;
            let s = match parse(&col::<_, String>(row, T, "state")?, T, "state")? {
                SubjectState::Active => SubjectSnap::Active {
                    revision: col(row, T, "revision")?,
                    kek_id: col::<_, Option<String>>(row, T, "kek_id")?
                        .ok_or_else(|| corrupt(T, "kek_id", "missing for an active subject"))?,
                },
                SubjectState::Erased => SubjectSnap::Erased,
            };
            snap.subjects.insert(id, s);
        }
    }
    if !touched.api_keys.is_empty() {
        let rows = sqlx::query("SELECT id, revoked_at FROM api_keys WHERE id = ANY($1) FOR UPDATE")
            .bind(&touched.api_keys)
            .fetch_all(&mut *conn)
            .await
            .map_err(unavailable)?;
        for row in &rows {
            let revoked = col::<_, Option<i64>>(row, "api_keys", "revoked_at")?.is_some();
            snap.api_keys.insert(col(row, "api_keys", "id")?, revoked);
        }
    }
    if !touched.policies.is_empty() {
        let rows = sqlx::query("SELECT hash FROM policy_versions WHERE hash = ANY($1)")
            .bind(&touched.policies)
            .fetch_all(&mut *conn)
            .await
            .map_err(unavailable)?;
        for row in &rows {
            snap.policies.insert(col(row, "policy_versions", "hash")?);
        }
    }
    visitors::snapshot(conn, touched, &mut snap).await?;
    Ok(snap)
}

fn unstorable(table: &str, column: &str) -> StoreError {
    corrupt(
        table,
        column,
        "a name is empty or contains a comma and cannot be stored",
    )
}

async fn append_journal(conn: &mut PgConnection, entries: &[JournalEntry]) -> Result<()> {
    let fields: Vec<String> = entries
        .iter()
        .map(|e| join_names(&e.fields).ok_or_else(|| unstorable("journal", "fields")))
        .collect::<Result<_>>()?;
    let seq: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    let at: Vec<i64> = entries.iter().map(|e| to_micros(e.at)).collect();
    let actor: Vec<&str> = entries.iter().map(|e| e.actor.as_str()).collect();
    let action: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    let subject: Vec<Option<&[u8]>> = entries
        .iter()
        .map(|e| e.subject.as_ref().map(|s| &s.as_bytes()[..]))
        .collect();
    let purpose: Vec<Option<&str>> = entries.iter().map(|e| e.purpose.as_deref()).collect();
    let detail: Vec<Option<&str>> = entries.iter().map(|e| e.detail.as_deref()).collect();
    let prev: Vec<&[u8]> = entries.iter().map(|e| &e.prev_hash[..]).collect();
    let hash: Vec<&[u8]> = entries.iter().map(|e| &e.hash[..]).collect();
    sqlx::query(
        "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
         SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::text[], \
         $8::text[], $9::bytea[], $10::bytea[])",
    )
    .bind(&seq)
    .bind(&at)
    .bind(&actor)
    .bind(&action)
    .bind(&subject)
    .bind(&purpose)
    .bind(&fields)
    .bind(&detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}

async fn apply_inserts(conn: &mut PgConnection, ins: &Inserts<'_>) -> Result<()> {
    if !ins.subjects.is_empty() {
        let s = &ins.subjects;
        let id: Vec<&[u8]> = s.iter().map(|s| &s.id.as_bytes()[..]).collect();
        let created: Vec<i64> = s.iter().map(|s| to_micros(s.created_at)).collect();
        let kek: Vec<&str> = s.iter().map(|s| s.key.kek_id.as_str()).collect();
        let wrapped: Vec<&[u8]> = s.iter().map(|s| s.key.wrapped.as_slice()).collect();
        let fields: Vec<&[u8]> = s.iter().map(|s| s.fields.as_slice()).collect();
        sqlx::query(
            "INSERT INTO subjects (id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields) \
             SELECT id, 'active', 1, created_at, created_at, NULL, kek_id, wrapped_key, fields \
             FROM UNNEST($1::bytea[], $2::int8[], $3::text[], $4::bytea[], $5::bytea[]) \
             AS t (id, created_at, kek_id, wrapped_key, fields)",
        )
        .bind(&id)
        .bind(&created)
        .bind(&kek)
        .bind(&wrapped)
        .bind(&fields)
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    if !ins.index.is_empty() {
        let id: Vec<&[u8]> = ins.index.iter().map(|r| &r.subject.as_bytes()[..]).collect();
        let field: Vec<&str> = ins.index.iter().map(|r| r.field).collect();
        let hash: Vec<i64> = ins.index.iter().map(|r| r.hash).collect();
        sqlx::query(
            "INSERT INTO subject_index (subject_id, field, hash) \
             SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::int8[]) \
             ON CONFLICT (subject_id, field) DO UPDATE SET hash = EXCLUDED.hash",
        )
        .bind(&id)
        .bind(&field)
        .bind(&hash)
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    if !ins.consents.is_empty() {
        let c = &ins.consents;
        let id: Vec<&[u8]> = c.iter().map(|(s, _)| &s.as_bytes()[..]).collect();
        let purpose: Vec<&str> = c.iter().map(|(_, e)| e.purpose.as_str()).collect();
        let kind: Vec<&str> = c.iter().map(|(_, e)| e.kind.as_str()).collect();
        let at: Vec<i64> = c.iter().map(|(_, e)| to_micros(e.at)).collect();
        let version: Vec<&str> = c.iter().map(|(_, e)| e.policy_version.as_str()).collect();
        let evidence: Vec<Option<&[u8]>> = c.iter().map(|(_, e)| e.evidence.as_deref()).collect();
        // Ids are assigned in array order, which is the order of appending.
        sqlx::query(
            "INSERT INTO consent_events (subject_id, purpose, kind, at, policy_version, evidence) \
             SELECT subject_id, purpose, kind, at, policy_version, evidence \
             FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::bytea[]) \
             WITH ORDINALITY AS t (subject_id, purpose, kind, at, policy_version, evidence, n) ORDER BY n",
        )
        .bind(&id)
        .bind(&purpose)
        .bind(&kind)
        .bind(&at)
        .bind(&version)
        .bind(&evidence)
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    for k in &ins.api_keys {
        let mut purposes = k.purposes.clone();
        purposes.sort();
        purposes.dedup();
        let purposes = join_names(&purposes).ok_or_else(|| unstorable("api_keys", "purposes"))?;
        sqlx::query(
            "INSERT INTO api_keys (id, name, role, purposes, token_hash, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(k.id.as_str())
        .bind(k.name.as_str())
        .bind(k.role.as_str())
        .bind(purposes)
        .bind(k.token_hash.as_slice())
        .bind(to_micros(k.created_at))
        .bind(k.revoked_at.map(to_micros))
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    for p in &ins.policies {
        sqlx::query(
            "INSERT INTO policy_versions (hash, policy_id, version, source, text, effective_at, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(p.hash.as_str())
        .bind(p.policy_id.as_str())
        .bind(p.version.as_str())
        .bind(p.source.as_str())
        .bind(p.text.as_deref())
        .bind(to_micros(p.effective_at))
        .bind(to_micros(p.recorded_at))
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    subject_events::insert(conn, &ins.subject_events).await?;
    visitors::insert(conn, &ins.visitor_consents).await
}

async fn apply_step(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Insert(ins) => return apply_inserts(conn, ins).await,
        Step::UpdateSubject {
            id,
            fields,
            revision,
            at,
        } => {
            sqlx::query("UPDATE subjects SET fields = $1, revision = $2, updated_at = $3 WHERE id = $4")
                .bind(*fields)
                .bind(*revision)
                .bind(to_micros(*at))
                .bind(&id.as_bytes()[..])
                .execute(&mut *conn)
                .await
        }
        Step::DeleteIndex { subject, field } => {
            sqlx::query("DELETE FROM subject_index WHERE subject_id = $1 AND field = $2")
                .bind(&subject.as_bytes()[..])
                .bind(*field)
                .execute(&mut *conn)
                .await
        }
        Step::Erase { id, at } => {
            // One statement, one round trip: each part changes another table, so none needs
            // to see another's changes.
            sqlx::query(
                "WITH tombstone AS (\
                     UPDATE subjects SET state = 'erased', erased_at = $1, updated_at = $1, \
                     kek_id = NULL, wrapped_key = NULL, fields = NULL WHERE id = $2), \
                 blind_index AS (DELETE FROM subject_index WHERE subject_id = $2), \
                 visitor_records AS (DELETE FROM visitor_consents WHERE subject_id = $2), \
                 life_cycle_evidence AS (\
                     UPDATE subject_events SET evidence = NULL WHERE subject_id = $2 AND evidence IS NOT NULL) \
                 UPDATE consent_events SET evidence = NULL WHERE subject_id = $2 AND evidence IS NOT NULL",
            )
            .bind(to_micros(*at))
            .bind(&id.as_bytes()[..])
            .execute(&mut *conn)
            .await
        }
        Step::Rewrap(keys) => {
            let id: Vec<&[u8]> = keys.iter().map(|(s, _)| &s.as_bytes()[..]).collect();
            let kek: Vec<&str> = keys.iter().map(|(_, k)| k.kek_id.as_str()).collect();
            let wrapped: Vec<&[u8]> = keys.iter().map(|(_, k)| k.wrapped.as_slice()).collect();
            sqlx::query(
                "UPDATE subjects AS s SET kek_id = u.kek_id, wrapped_key = u.wrapped_key \
                 FROM UNNEST($1::bytea[], $2::text[], $3::bytea[]) AS u (id, kek_id, wrapped_key) \
                 WHERE s.id = u.id",
            )
            .bind(&id)
            .bind(&kek)
            .bind(&wrapped)
            .execute(&mut *conn)
            .await
        }
        Step::RevokeApiKey { id, at } => {
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
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
