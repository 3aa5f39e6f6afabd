//! Ward's SQLite backend: one database file in WAL mode with durable commits.
//!
//! Every [`WriteStore::write`] runs on ONE writer connection, on its own thread, in a
//! `BEGIN IMMEDIATE` transaction (which also serializes writers of other processes on the
//! same file). Reads use separate read-only connections, which WAL lets run alongside the
//! writer; point reads run on the caller's thread and scans on the blocking pool (see
//! [`conn`] for why).
//!
//! A write runs to its end on the writer thread: if the caller stops waiting, the transaction
//! still commits or rolls back as a whole, and the writer connection is never left inside a
//! transaction.

mod backup;
mod checkpoint;
mod conn;
mod lease;
mod rows;
mod subject_events;
mod visitors;

pub use backup::KeyImport;
pub use conn::{open_reader, open_writer, Writer};

use async_trait::async_trait;
use conn::Readers;
use rows::{at, col, collect, corrupt, hash32, parse, subject_id, unavailable, Result};
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Arc;
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

/// Names of the embedded migrations, in order: the file names without `.sql`
/// (e.g. `0001_init`).
pub fn migration_names() -> Vec<String> {
    conn::MIGRATIONS.iter().map(|(_, name, _)| (*name).to_owned()).collect()
}

/// Ward's store in one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Writer,
    readers: Arc<Readers>,
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
        let owned = path.to_owned();
        let (writer, readers) = tokio::task::spawn_blocking(move || -> Result<_> {
            let mut writer = conn::open_writer(&owned)?;
            conn::migrate(&mut writer)?;
            let readers = Readers::new(&owned)?;
            Ok((writer, readers))
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("opening the SQLite store failed: {e}")))??;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Writer::spawn(writer)?,
                readers,
            }),
        })
    }

    pub(crate) fn readers(&self) -> &Arc<Readers> {
        &self.inner.readers
    }

    pub(crate) fn writer(&self) -> &Writer {
        &self.inner.writer
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

// ---------------------------------------------------------------------------------------------
// Row decoding

fn subject_record(row: &Row<'_>) -> Result<SubjectRecord> {
    // Columns by position, in the order `select_subject!` selects them.
    const T: &str = "subjects";
    let id = subject_id(&at::<Vec<u8>>(row, 0, T, "id")?, T, "id")?;
    let state: SubjectState = parse(&at::<String>(row, 1, T, "state")?, T, "state")?;
    let kek_id: Option<String> = at(row, 6, T, "kek_id")?;
    let wrapped: Option<Vec<u8>> = at(row, 7, T, "wrapped_key")?;
    let fields: Option<Vec<u8>> = at(row, 8, T, "fields")?;
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
        revision: at(row, 2, T, "revision")?,
        created_at: from_micros(at(row, 3, T, "created_at")?),
        updated_at: from_micros(at(row, 4, T, "updated_at")?),
        erased_at: at::<Option<i64>>(row, 5, T, "erased_at")?.map(from_micros),
        key,
        fields,
    })
}

/// Columns by position: purpose, kind, at, policy_version, evidence.
fn consent_record(row: &Row<'_>) -> Result<ConsentEventRecord> {
    const T: &str = "consent_events";
    Ok(ConsentEventRecord {
        purpose: at(row, 0, T, "purpose")?,
        kind: parse(&at::<String>(row, 1, T, "kind")?, T, "kind")?,
        at: from_micros(at(row, 2, T, "at")?),
        policy_version: at(row, 3, T, "policy_version")?,
        evidence: at(row, 4, T, "evidence")?,
    })
}

/// Columns by position: seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash.
fn journal_entry(row: &Row<'_>) -> Result<JournalEntry> {
    const T: &str = "journal";
    Ok(JournalEntry {
        seq: at(row, 0, T, "seq")?,
        at: from_micros(at(row, 1, T, "at")?),
        actor: at(row, 2, T, "actor")?,
        action: at(row, 3, T, "action")?,
        subject: at::<Option<Vec<u8>>>(row, 4, T, "subject")?
            .map(|b| subject_id(&b, T, "subject"))
            .transpose()?,
        purpose: at(row, 5, T, "purpose")?,
        fields: split_names(&at::<String>(row, 6, T, "fields")?),
        detail: at(row, 7, T, "detail")?,
        prev_hash: hash32(&at::<Vec<u8>>(row, 8, T, "prev_hash")?, T, "prev_hash")?,
        hash: hash32(&at::<Vec<u8>>(row, 9, T, "hash")?, T, "hash")?,
    })
}

/// Checks the journal rows of a range as they are read: the hashed content is borrowed from
/// the row, with nothing decoded into an owned entry (verification's hot loop).
fn check_journal_rows(
    c: &Connection,
    after_seq: i64,
    upto_seq: i64,
    checkpoints: &chain::Checkpoints,
) -> Result<chain::RangeCheck> {
    use ward_crypto::journal::{entry_hash, EntryContent, Fields};
    const T: &str = "journal";
    fn text<'r>(row: &'r Row<'_>, i: usize, column: &str) -> Result<&'r str> {
        row.get_ref(i)
            .and_then(|v| v.as_str().map_err(Into::into))
            .map_err(|e| corrupt(T, column, e))
    }
    fn opt_text<'r>(row: &'r Row<'_>, i: usize, column: &str) -> Result<Option<&'r str>> {
        row.get_ref(i)
            .and_then(|v| v.as_str_or_null().map_err(Into::into))
            .map_err(|e| corrupt(T, column, e))
    }
    fn blob<'r>(row: &'r Row<'_>, i: usize, column: &str) -> Result<Option<&'r [u8]>> {
        row.get_ref(i)
            .and_then(|v| v.as_blob_or_null().map_err(Into::into))
            .map_err(|e| corrupt(T, column, e))
    }
    fn hash<'r>(row: &'r Row<'_>, i: usize, column: &str) -> Result<&'r [u8; 32]> {
        blob(row, i, column)?
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| corrupt(T, column, "expected 32 bytes"))
    }
    let mut stmt = c
        .prepare_cached(
            "SELECT seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash \
             FROM journal WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
        )
        .map_err(unavailable)?;
    let mut rows = stmt.query(params![after_seq, upto_seq]).map_err(unavailable)?;
    let mut check = chain::RangeCheck::default();
    while let Some(row) = rows.next().map_err(unavailable)? {
        let seq: i64 = at(row, 0, T, "seq")?;
        let subject: Option<&[u8; 16]> = blob(row, 4, "subject")?
            .map(|b| b.try_into().map_err(|_| corrupt(T, "subject", "expected 16 bytes")))
            .transpose()?;
        let content = EntryContent {
            at_micros: at(row, 1, T, "at")?,
            actor: text(row, 2, "actor")?,
            action: text(row, 3, "action")?,
            subject,
            purpose: opt_text(row, 5, "purpose")?,
            fields: Fields::Joined(text(row, 6, "fields")?),
            detail: opt_text(row, 7, "detail")?,
        };
        let (prev_hash, hash) = (hash(row, 8, "prev_hash")?, hash(row, 9, "hash")?);
        let ok = entry_hash(prev_hash, &content) == *hash;
        if !check.push(seq, prev_hash, hash, ok, checkpoints) {
            break;
        }
    }
    Ok(check)
}

fn api_key_record(row: &Row<'_>) -> Result<ApiKeyRecord> {
    const T: &str = "api_keys";
    let role: Role = parse(&col::<String>(row, T, "role")?, T, "role")?;
    Ok(ApiKeyRecord {
        id: col(row, T, "id")?,
        name: col(row, T, "name")?,
        role,
        purposes: split_names(&col::<String>(row, T, "purposes")?),
        token_hash: col(row, T, "token_hash")?,
        created_at: from_micros(col(row, T, "created_at")?),
        revoked_at: col::<Option<i64>>(row, T, "revoked_at")?.map(from_micros),
    })
}

fn policy_record(row: &Row<'_>) -> Result<PolicyVersionRecord> {
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

fn checkpoint(row: &Row<'_>) -> Result<Checkpoint> {
    const T: &str = "journal_checkpoints";
    Ok(Checkpoint {
        seq: col(row, T, "seq")?,
        head: hash32(&col::<Vec<u8>>(row, T, "head")?, T, "head")?,
        at_micros: col(row, T, "at")?,
        key_id: col(row, T, "key_id")?,
        signature: col(row, T, "signature")?,
    })
}

fn read_head(conn: &Connection) -> Result<Option<JournalHead>> {
    let (seq, hash): (i64, Vec<u8>) = conn
        .prepare_cached("SELECT seq, hash FROM journal_head WHERE id = 1")
        .map_err(unavailable)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(|e| corrupt("journal_head", "seq", e))?
        .ok_or_else(|| corrupt("journal_head", "id", "the head row is missing"))?;
    if seq < 0 {
        return Err(corrupt("journal_head", "seq", "negative"));
    }
    let hash = hash32(&hash, "journal_head", "hash")?;
    Ok((seq > 0).then_some(JournalHead { seq, hash }))
}

/// Runs a prepared (cached) query with `params` and decodes every row.
pub(crate) fn query<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    decode: impl FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(unavailable)?;
    let rows = stmt.query(params).map_err(unavailable)?;
    collect(rows, decode)
}

/// Like [`query`], for at most one row.
pub(crate) fn query_opt<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    decode: impl FnOnce(&Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(unavailable)?;
    let mut rows = stmt.query(params).map_err(unavailable)?;
    match rows.next().map_err(unavailable)? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

/// Runs a prepared (cached) statement that returns no rows; returns how many rows changed.
pub(crate) fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
    conn.prepare_cached(sql)
        .map_err(unavailable)?
        .execute(params)
        .map_err(unavailable)
}

// ---------------------------------------------------------------------------------------------
// Reads

fn find_subject(c: &Connection, id: SubjectId) -> Result<Option<SubjectRecord>> {
    Ok(numbered_subject(c, SUBJECT_BY_ID, &id.as_bytes()[..])?.map(|(record, _)| record))
}

/// A subject's columns (in the order [`subject_record`] decodes them), then its internal number `n`.
macro_rules! select_subject {
    ($by:literal) => {
        concat!(
            "SELECT id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields, n \
             FROM subjects WHERE ",
            $by,
            " = ?1"
        )
    };
}
const SUBJECT_BY_ID: &str = select_subject!("id");
const SUBJECT_BY_NUMBER: &str = select_subject!("n");

/// The subject `sql` (one of [`SUBJECT_BY_ID`], [`SUBJECT_BY_NUMBER`]) finds, with its number.
fn numbered_subject(c: &Connection, sql: &str, key: impl rusqlite::ToSql) -> Result<Option<(SubjectRecord, i64)>> {
    query_opt(c, sql, [key], |row| {
        Ok((subject_record(row)?, at(row, 9, "subjects", "n")?))
    })
}

fn find_consent_events(c: &Connection, id: SubjectId) -> Result<Vec<ConsentEventRecord>> {
    query(
        c,
        "SELECT purpose, kind, at, policy_version, evidence FROM consent_events \
         WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) ORDER BY id",
        [&id.as_bytes()[..]],
        consent_record,
    )
}

/// The consent events of the subject numbered `n`, oldest first.
fn consent_events_of(c: &Connection, n: i64) -> Result<Vec<ConsentEventRecord>> {
    query(
        c,
        "SELECT purpose, kind, at, policy_version, evidence FROM consent_events WHERE subject_n = ?1 ORDER BY id",
        [n],
        consent_record,
    )
}

/// The subject `sql` finds by `key`, and its consent events.
fn subject_and_consents(
    c: &Connection,
    sql: &str,
    key: impl rusqlite::ToSql,
) -> Result<(Option<SubjectRecord>, Vec<ConsentEventRecord>)> {
    match numbered_subject(c, sql, key)? {
        Some((record, n)) => Ok((Some(record), consent_events_of(c, n)?)),
        None => Ok((None, Vec::new())),
    }
}

/// Runs `f` in one read transaction, which ends whether or not `f` succeeded.
fn in_read_transaction<T>(c: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    exec(c, "BEGIN", [])?;
    let out = f(c);
    let end = exec(c, "COMMIT", []);
    let out = out?;
    end.map(|_| out)
}

fn subjects_by_index(c: &Connection, field: &str, hash: i64) -> Result<Vec<SubjectId>> {
    query(
        c,
        "SELECT s.id FROM subject_index i JOIN subjects s ON s.n = i.subject_n \
         WHERE i.field = ?1 AND i.hash = ?2 ORDER BY s.id",
        params![field, hash],
        |r| subject_id(&at::<Vec<u8>>(r, 0, "subjects", "id")?, "subjects", "id"),
    )
}

#[async_trait]
impl SubjectStore for SqliteStore {
    async fn find_subject(&self, id: SubjectId) -> StoreResult<Option<SubjectRecord>> {
        self.readers().with(|c| find_subject(c, id))
    }

    async fn find_consent_events(&self, id: SubjectId) -> StoreResult<Vec<ConsentEventRecord>> {
        self.readers().with(|c| find_consent_events(c, id))
    }

    async fn find_subject_with_consents(
        &self,
        id: SubjectId,
    ) -> StoreResult<(Option<SubjectRecord>, Vec<ConsentEventRecord>)> {
        // One read transaction: one snapshot, and one page-cache check instead of two.
        self.readers()
            .with(|c| in_read_transaction(c, |c| subject_and_consents(c, SUBJECT_BY_ID, &id.as_bytes()[..])))
    }

    async fn find_subjects_by_index(&self, field: &str, hash: i64) -> StoreResult<Vec<SubjectId>> {
        self.readers().with(|c| subjects_by_index(c, field, hash))
    }

    async fn find_subjects_by_index_with_consents(
        &self,
        field: &str,
        hash: i64,
    ) -> StoreResult<Vec<(SubjectRecord, Vec<ConsentEventRecord>)>> {
        // One read transaction: the index and the records from one snapshot, and one
        // page-cache check instead of one per query.
        self.readers().with(|c| {
            in_read_transaction(c, |c| {
                // By number: the index entry names it, so the id index is not searched.
                let numbers = query(
                    c,
                    "SELECT subject_n FROM subject_index WHERE field = ?1 AND hash = ?2",
                    params![field, hash],
                    |r| at::<i64>(r, 0, "subject_index", "subject_n"),
                )?;
                let mut out = Vec::with_capacity(numbers.len());
                for n in numbers {
                    if let (Some(record), events) = subject_and_consents(c, SUBJECT_BY_NUMBER, n)? {
                        out.push((record, events));
                    }
                }
                out.sort_by_key(|(record, _)| record.id);
                Ok(out)
            })
        })
    }

    async fn find_wrapped_keys(&self, after: Option<SubjectId>, limit: u32) -> StoreResult<Vec<WrappedKeyRecord>> {
        // The empty blob sorts before every id.
        let after: Vec<u8> = after.map_or_else(Vec::new, |a| a.as_bytes().to_vec());
        self.readers()
            .scan(move |c| {
                query(
                    c,
                    "SELECT id, kek_id, wrapped_key FROM subjects WHERE id > ?1 AND state = 'active' ORDER BY id LIMIT ?2",
                    params![after, i64::from(limit)],
                    |r| {
                        const T: &str = "subjects";
                        let kek_id: Option<String> = col(r, T, "kek_id")?;
                        let wrapped: Option<Vec<u8>> = col(r, T, "wrapped_key")?;
                        Ok(WrappedKeyRecord {
                            subject: subject_id(&col::<Vec<u8>>(r, T, "id")?, T, "id")?,
                            key: WrappedKey {
                                kek_id: kek_id.ok_or_else(|| corrupt(T, "kek_id", "missing for an active subject"))?,
                                wrapped: wrapped
                                    .ok_or_else(|| corrupt(T, "wrapped_key", "missing for an active subject"))?,
                            },
                        })
                    },
                )
            })
            .await
    }

    async fn count_subjects(&self) -> StoreResult<SubjectCounts> {
        let rows = self
            .readers()
            .scan(|c| {
                query(c, "SELECT state, COUNT(*) AS n FROM subjects GROUP BY state", [], |r| {
                    let n = u64::try_from(col::<i64>(r, "subjects", "n")?).unwrap_or(0);
                    let state: SubjectState = parse(&col::<String>(r, "subjects", "state")?, "subjects", "state")?;
                    Ok((state, n))
                })
            })
            .await?;
        let mut counts = SubjectCounts::default();
        for (state, n) in rows {
            match state {
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
        self.readers().with(read_head)
    }

    async fn find_journal_entries(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<JournalEntry>> {
        self.readers()
            .scan(move |c| {
                query(
                    c,
                    "SELECT seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash \
                     FROM journal WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                    params![after_seq, i64::from(limit)],
                    journal_entry,
                )
            })
            .await
    }

    async fn check_journal_range(
        &self,
        after_seq: i64,
        upto_seq: i64,
        checkpoints: &chain::Checkpoints,
    ) -> StoreResult<chain::RangeCheck> {
        let checkpoints = checkpoints.clone(); // only those in the range
        self.readers()
            .scan(move |c| check_journal_rows(c, after_seq, upto_seq, &checkpoints))
            .await
    }

    async fn create_checkpoint(&self, cp: &Checkpoint) -> StoreResult<()> {
        let cp = cp.clone();
        self.writer()
            .run(move |c| {
                exec(
                    c,
                    "INSERT INTO journal_checkpoints (seq, head, at, key_id, signature) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![cp.seq, &cp.head[..], cp.at_micros, cp.key_id, cp.signature],
                )
                .map(|_| ())
            })
            .await
    }

    async fn find_checkpoints(&self) -> StoreResult<Vec<Checkpoint>> {
        self.readers()
            .scan(|c| {
                query(
                    c,
                    "SELECT seq, head, at, key_id, signature FROM journal_checkpoints ORDER BY seq, id",
                    [],
                    checkpoint,
                )
            })
            .await
    }
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn find_api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        self.readers().with(|c| {
            query_opt(
                c,
                "SELECT id, name, role, purposes, token_hash, created_at, revoked_at FROM api_keys WHERE id = ?1",
                [id],
                api_key_record,
            )
        })
    }

    async fn find_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        self.readers()
            .scan(|c| {
                query(
                    c,
                    "SELECT id, name, role, purposes, token_hash, created_at, revoked_at FROM api_keys ORDER BY id",
                    [],
                    api_key_record,
                )
            })
            .await
    }
}

#[async_trait]
impl PolicyStore for SqliteStore {
    async fn find_policy_versions(&self) -> StoreResult<Vec<PolicyVersionRecord>> {
        self.readers()
            .scan(|c| {
                query(
                    c,
                    "SELECT hash, policy_id, version, source, text, COALESCE(effective_at, recorded_at) AS effective_at, \
                     recorded_at FROM policy_versions ORDER BY recorded_at, hash",
                    [],
                    policy_record,
                )
            })
            .await
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
        self.writer().run(move |conn| write(conn, ops)).await
    }
}

/// One batch in one `BEGIN IMMEDIATE` transaction; on any error it rolls back (dropping the
/// transaction), so the connection is clean for the next job.
fn write(conn: &mut Connection, ops: Vec<WriteOp>) -> Result<Vec<OpOutcome>> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(unavailable)?;
    let outcomes = apply(&tx, ops)?;
    tx.commit().map_err(unavailable)?;
    Ok(outcomes)
}

/// Reads the rows the batch touches, one prepared point query per key.
fn snapshot(conn: &Connection, touched: &Touched) -> Result<Snapshot> {
    let mut snap = Snapshot::default();
    for id in &touched.subjects {
        const T: &str = "subjects";
        let found = query_opt(
            conn,
            "SELECT state, revision, kek_id FROM subjects WHERE id = ?1",
            [&id.as_bytes()[..]],
            |row| {
                Ok(match parse(&col::<String>(row, T, "state")?, T, "state")? {
                    SubjectState::Active => SubjectSnap::Active {
                        revision: col(row, T, "revision")?,
                        kek_id: col::<Option<String>>(row, T, "kek_id")?
                            .ok_or_else(|| corrupt(T, "kek_id", "missing for an active subject"))?,
                    },
                    SubjectState::Erased => SubjectSnap::Erased,
                })
            },
        )?;
        if let Some(s) = found {
            snap.subjects.insert(*id, s);
        }
    }
    for id in &touched.api_keys {
        let revoked = query_opt(conn, "SELECT revoked_at FROM api_keys WHERE id = ?1", [id], |row| {
            Ok(col::<Option<i64>>(row, "api_keys", "revoked_at")?.is_some())
        })?;
        if let Some(revoked) = revoked {
            snap.api_keys.insert(id.clone(), revoked);
        }
    }
    for hash in &touched.policies {
        if query_opt(
            conn,
            "SELECT 1 FROM policy_versions WHERE hash = ?1",
            [hash],
            |_| Ok(()),
        )?
        .is_some()
        {
            snap.policies.insert(hash.clone());
        }
    }
    visitors::snapshot(conn, touched, &mut snap)?;
    Ok(snap)
}

/// Everything a write does inside its transaction. Returns the outcomes.
fn apply(conn: &Connection, ops: Vec<WriteOp>) -> Result<Vec<OpOutcome>> {
    let mut snap = snapshot(conn, &plan::touched(&ops))?;
    let outcomes = {
        let (outcomes, steps) = plan::plan(&ops, &mut snap);
        for step in &steps {
            apply_step(conn, step)?;
        }
        outcomes
    };
    let drafts = ops
        .into_iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == OpOutcome::Done)
        .flat_map(|(op, _)| op.journal);
    append_drafts(conn, drafts)?;
    Ok(outcomes)
}

/// Links `drafts` after the journal head and appends them, inside the caller's transaction.
pub(crate) fn append_drafts(
    conn: &Connection,
    drafts: impl IntoIterator<Item = ward_core::JournalDraft>,
) -> Result<()> {
    let head = read_head(conn)?;
    let (entries, new_head) = chain::link(head, drafts);
    if let Some(h) = new_head {
        append_journal(conn, &entries)?;
        exec(
            conn,
            "UPDATE journal_head SET seq = ?1, hash = ?2 WHERE id = 1",
            params![h.seq, &h.hash[..]],
        )?;
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

fn append_journal(conn: &Connection, entries: &[JournalEntry]) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(unavailable)?;
    for e in entries {
        let fields = join_names(&e.fields).ok_or_else(|| unstorable("journal", "fields"))?;
        stmt.execute(params![
            e.seq,
            to_micros(e.at),
            e.actor,
            e.action,
            e.subject.as_ref().map(|s| &s.as_bytes()[..]),
            e.purpose,
            fields,
            e.detail,
            &e.prev_hash[..],
            &e.hash[..],
        ])
        .map_err(unavailable)?;
    }
    Ok(())
}

fn apply_inserts(conn: &Connection, ins: &Inserts<'_>) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO subjects (id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields) \
             VALUES (?1, 'active', 1, ?2, ?2, NULL, ?3, ?4, ?5)",
        )
        .map_err(unavailable)?;
    for s in &ins.subjects {
        stmt.execute(params![
            &s.id.as_bytes()[..],
            to_micros(s.created_at),
            s.key.kek_id,
            s.key.wrapped,
            s.fields,
        ])
        .map_err(unavailable)?;
    }
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO subject_index (subject_n, field, hash) \
             VALUES ((SELECT n FROM subjects WHERE id = ?1), ?2, ?3) \
             ON CONFLICT (subject_n, field) DO UPDATE SET hash = excluded.hash",
        )
        .map_err(unavailable)?;
    for r in &ins.index {
        stmt.execute(params![&r.subject.as_bytes()[..], r.field, r.hash])
            .map_err(unavailable)?;
    }
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO consent_events (subject_n, purpose, kind, at, policy_version, evidence) \
             VALUES ((SELECT n FROM subjects WHERE id = ?1), ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(unavailable)?;
    for (id, c) in &ins.consents {
        stmt.execute(params![
            &id.as_bytes()[..],
            c.purpose,
            c.kind.as_str(),
            to_micros(c.at),
            c.policy_version,
            c.evidence,
        ])
        .map_err(unavailable)?;
    }
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO api_keys (id, name, role, purposes, token_hash, created_at, revoked_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(unavailable)?;
    for k in &ins.api_keys {
        let mut purposes = k.purposes.clone();
        purposes.sort();
        purposes.dedup();
        let purposes = join_names(&purposes).ok_or_else(|| unstorable("api_keys", "purposes"))?;
        stmt.execute(params![
            k.id,
            k.name,
            k.role.as_str(),
            purposes,
            k.token_hash,
            to_micros(k.created_at),
            k.revoked_at.map(to_micros),
        ])
        .map_err(unavailable)?;
    }
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO policy_versions (hash, policy_id, version, source, text, effective_at, recorded_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(unavailable)?;
    for p in &ins.policies {
        stmt.execute(params![
            p.hash,
            p.policy_id,
            p.version,
            p.source,
            p.text,
            to_micros(p.effective_at),
            to_micros(p.recorded_at),
        ])
        .map_err(unavailable)?;
    }
    subject_events::insert(conn, &ins.subject_events)?;
    visitors::insert(conn, &ins.visitor_consents)
}

pub(crate) fn apply_step(conn: &Connection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Insert(ins) => apply_inserts(conn, ins)?,
        Step::UpdateSubject {
            id,
            fields,
            revision,
            at,
        } => {
            exec(
                conn,
                "UPDATE subjects SET fields = ?1, revision = ?2, updated_at = ?3 WHERE id = ?4",
                params![fields, revision, to_micros(*at), &id.as_bytes()[..]],
            )?;
        }
        Step::DeleteIndex { subject, field } => {
            exec(
                conn,
                "DELETE FROM subject_index WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) AND field = ?2",
                params![&subject.as_bytes()[..], field],
            )?;
        }
        Step::Erase { id, at } => {
            let id_bytes = &id.as_bytes()[..];
            exec(
                conn,
                "UPDATE subjects SET state = 'erased', erased_at = ?1, updated_at = ?1, \
                 kek_id = NULL, wrapped_key = NULL, fields = NULL WHERE id = ?2",
                params![to_micros(*at), id_bytes],
            )?;
            exec(
                conn,
                "DELETE FROM subject_index WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1)",
                [id_bytes],
            )?;
            visitors::delete_for_subject(conn, *id)?;
            subject_events::erase_evidence(conn, *id)?;
            exec(
                conn,
                "UPDATE consent_events SET evidence = NULL \
                 WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) AND evidence IS NOT NULL",
                [id_bytes],
            )?;
        }
        Step::Rewrap(keys) => {
            for (id, key) in keys {
                exec(
                    conn,
                    "UPDATE subjects SET kek_id = ?1, wrapped_key = ?2 WHERE id = ?3",
                    params![key.kek_id, key.wrapped, &id.as_bytes()[..]],
                )?;
            }
        }
        Step::RevokeApiKey { id, at } => {
            exec(
                conn,
                "UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2",
                params![to_micros(*at), id],
            )?;
        }
        Step::LinkVisitor { visitor, subject } => visitors::link(conn, visitor, *subject)?,
    }
    Ok(())
}
