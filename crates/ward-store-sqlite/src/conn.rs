//! Connections: ONE writer connection that lives on its own thread, a pool of read-only
//! connections used on the calling thread, and the checkpointer's connection on a thread of its
//! own ([`crate::checkpoint`]).
//!
//! Why this shape. SQLite is a library, not a server: a query is a function call that reads a
//! few pages, usually from its own cache or the OS page cache, in microseconds. Handing every
//! query to another thread and back (as an async driver must) costs more than the query on a
//! small machine; Ward's reads measured that way spent most of their CPU in thread switches.
//! So:
//!
//! - **Point reads** (one B-tree probe: a subject, its consent events, an API key) run on the
//!   calling task's thread, on a pooled read-only connection ([`Readers::with`]). WAL readers
//!   never wait for the writer, so this does not block on I/O beyond a page read.
//! - **Scans** (pages of the journal, of wrapped keys, `VACUUM INTO`) run on tokio's blocking
//!   pool ([`Readers::scan`]), so a long read never holds up other requests.
//! - **Writes** are jobs for the writer thread ([`Writer::run`]): one hand-off per group-commit
//!   batch, and the whole transaction runs there without further hops. A job runs to its end
//!   (commit or rollback) even if its caller stops waiting.

use crate::checkpoint::{Checkpointer, WRITER_CHECKPOINT_PAGES};
use crate::rows::{unavailable, Result};
use crate::scrub::Scrub;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;
use ward_store::StoreError;

/// How long a connection waits for another process's write transaction (or a WAL recovery)
/// before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// The writer's page cache, in KiB (a negative `cache_size` is KiB).
const WRITER_CACHE_KIB: i64 = 32_768;
/// How long a readiness probe waits for another process's write transaction.
const PROBE_BUSY_TIMEOUT: Duration = Duration::from_secs(1);
/// Each reader's page cache, in KiB. Small on purpose: SQLite empties a reader's cache
/// whenever another connection has committed since its last read, which under load is almost
/// every read, so a large cache only holds memory.
const READER_CACHE_KIB: i64 = 512;
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;
/// Idle read-only connections kept open; more are opened when needed and closed after.
const MAX_IDLE_READERS: usize = 8;
/// Opens the database file for writing, creating it if missing, and sets it up: WAL, durable
/// commits, foreign keys, erased data overwritten on disk.
pub fn open_writer(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(unavailable)?;
    // SQLite opens a file it may not write read-only, silently: every write would then fail.
    if conn.is_readonly(rusqlite::DatabaseName::Main).map_err(unavailable)? {
        return Err(StoreError::Unavailable(format!(
            "{} cannot be written by this process (read-only file, directory or file system): \
             Ward journals every operation and needs write access",
            path.display()
        )));
    }
    conn.busy_timeout(BUSY_TIMEOUT).map_err(unavailable)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(unavailable)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Unavailable(format!(
            "{} cannot be put in WAL mode (journal_mode is {mode})",
            path.display()
        )));
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -{WRITER_CACHE_KIB};
         PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES};"
    ))
    .map_err(unavailable)?;
    Ok(conn)
}

/// On the writer's connection: the file is still writable and the write lock can be taken
/// (`BEGIN IMMEDIATE`, then rolled back: nothing is written).
pub(crate) fn check_writable(conn: &mut Connection) -> Result<()> {
    if conn.is_readonly(rusqlite::DatabaseName::Main).map_err(unavailable)? {
        return Err(StoreError::Unavailable("the SQLite database is read-only".into()));
    }
    // Wait for another process's write only briefly: the probe must not hold up the writer's
    // queue for the whole busy timeout.
    conn.busy_timeout(PROBE_BUSY_TIMEOUT).map_err(unavailable)?;
    let probe = conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;").map_err(unavailable);
    conn.busy_timeout(BUSY_TIMEOUT).map_err(unavailable)?;
    probe
}

/// Runs `PRAGMA quick_check` on the database at `path` (opened as the writer is, so a
/// read-only file is refused too) and returns what it found wrong, if anything.
pub fn quick_check(path: &Path) -> Result<()> {
    let conn = open_writer(path)?;
    let found = conn.prepare("PRAGMA quick_check(20)").and_then(|mut stmt| {
        stmt.query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<String>>>()
    });
    // A page too damaged to walk fails the pragma itself.
    let problems = found.unwrap_or_else(|e| vec![e.to_string()]);
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    Err(StoreError::Unavailable(format!(
        "{} is damaged: {}",
        path.display(),
        problems.join("; ")
    )))
}

/// Opens a read-only connection to the database file, as Ward's readers are opened.
pub fn open_reader(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(unavailable)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(unavailable)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch(&format!("PRAGMA cache_size = -{READER_CACHE_KIB}"))
        .map_err(unavailable)?;
    Ok(conn)
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// A connection on its own thread: Ward's writer (and the benchmark's raw baseline, so that
/// both write the same way). Jobs run one at a time, in the order sent. Dropping the last
/// handle ends the thread after the jobs already sent, and closes the connection.
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// The checkpointer, for nudges from outside the writer thread (a scrub asked for now).
    checkpointer: Option<Checkpointer>,
    /// The WAL scrubs asked for and done.
    scrub: Arc<Scrub>,
    /// The checkpointer's count of checkpoints, for tests to wait on.
    #[cfg(test)]
    pub(crate) checkpoints: Arc<crate::checkpoint::Progress>,
}

impl Writer {
    /// Moves `conn` to a new thread that runs jobs one at a time, in the order they are sent.
    /// A database in a file gets a checkpointer thread too (see [`crate::checkpoint`]),
    /// nudged after every job.
    pub fn spawn(mut conn: Connection) -> Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let progress = Arc::new(crate::checkpoint::Progress::default());
        let scrub = Arc::new(Scrub::default());
        let checkpointer = match conn.path().filter(|p| !p.is_empty()) {
            Some(p) => Some(Checkpointer::spawn(Path::new(p), progress.clone(), scrub.clone())?),
            None => None,
        };
        let nudged = checkpointer.clone();
        std::thread::Builder::new()
            .name("ward-sqlite-writer".into())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    // A job that panics has dropped its reply (its caller sees an error) and
                    // its transaction (rolled back); the thread goes on with the next job.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
                    if let Some(c) = &nudged {
                        c.nudge();
                    }
                }
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the SQLite writer thread: {e}")))?;
        Ok(Self {
            jobs,
            checkpointer,
            scrub,
            #[cfg(test)]
            checkpoints: progress,
        })
    }

    /// The WAL scrubs of this writer's database ([`crate::scrub`]).
    pub(crate) fn scrub(&self) -> &Arc<Scrub> {
        &self.scrub
    }

    /// Asks for a WAL scrub now and waits for it (or one that began after this call), at most
    /// `timeout`. Without a file (an in-memory database) there is nothing to scrub.
    pub(crate) async fn scrub_now(&self, timeout: Duration) -> Result<()> {
        let Some(c) = &self.checkpointer else {
            return Ok(());
        };
        let n = self.scrub.request();
        c.nudge();
        self.scrub.wait(n, timeout).await
    }

    /// Waits until every WAL scrub asked for so far is done, at most `timeout`.
    pub(crate) async fn scrubbed(&self, timeout: Duration) -> Result<()> {
        if self.checkpointer.is_none() {
            return Ok(());
        }
        self.scrub.wait(self.scrub.latest(), timeout).await
    }

    /// Runs `f` on the thread's connection and returns its result. `f` runs to its end even if
    /// the caller stops waiting.
    pub async fn run<T, E, F>(&self, f: F) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> std::result::Result<T, E> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(move |conn| {
                let _ = reply.send(f(conn));
            }))
            .map_err(|_| StoreError::Unavailable("the SQLite writer thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite write failed unexpectedly and was rolled back".into()))?
    }
}

/// Read-only connections, opened on demand and kept for reuse.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(crate) fn new(path: &Path) -> Result<Arc<Self>> {
        let readers = Arc::new(Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        });
        // Fail at open, not at the first read, if the file cannot be read.
        let first = open_reader(path)?;
        readers.put(first);
        Ok(readers)
    }

    fn take(&self) -> Result<Connection> {
        let pooled = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        match pooled {
            Some(c) => Ok(c),
            None => open_reader(&self.path),
        }
    }

    fn put(&self, conn: Connection) {
        if !conn.is_autocommit() {
            // Left inside a transaction by a failed read: close it rather than reuse it.
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
    }

    /// Runs a point read on this thread. Each call is its own read transaction.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.take()?;
        let out = f(&conn);
        self.put(conn);
        out
    }

    /// Runs a longer read on the blocking pool.
    pub(crate) async fn scan<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let readers = self.clone();
        tokio::task::spawn_blocking(move || readers.with(f))
            .await
            .map_err(|e| StoreError::Unavailable(format!("a SQLite read failed unexpectedly: {e}")))?
    }
}

// ---------------------------------------------------------------------------------------------
// Migrations

/// The embedded migrations, in order: (version, name, SQL). Their file names are
/// `migrations/<name>.sql`; PostgreSQL's folder has the same names (a test keeps them so).
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "0001_init", include_str!("../migrations/0001_init.sql")),
    (
        2,
        "0002_policy_text",
        include_str!("../migrations/0002_policy_text.sql"),
    ),
    (3, "0003_visitors", include_str!("../migrations/0003_visitors.sql")),
    (
        4,
        "0004_subject_events",
        include_str!("../migrations/0004_subject_events.sql"),
    ),
    (
        5,
        "0005_reads_in_one_descent",
        include_str!("../migrations/0005_reads_in_one_descent.sql"),
    ),
    (
        6,
        "0006_shallow_subject_trees",
        include_str!("../migrations/0006_shallow_subject_trees.sql"),
    ),
    (
        7,
        "0007_subject_numbers",
        include_str!("../migrations/0007_subject_numbers.sql"),
    ),
    (8, "0008_job_leases", include_str!("../migrations/0008_job_leases.sql")),
    (
        9,
        "0009_key_binding",
        include_str!("../migrations/0009_key_binding.sql"),
    ),
    (
        10,
        "0010_basis_events",
        include_str!("../migrations/0010_basis_events.sql"),
    ),
    (
        11,
        "0011_idempotency_keys",
        include_str!("../migrations/0011_idempotency_keys.sql"),
    ),
    (12, "0012_outbox", include_str!("../migrations/0012_outbox.sql")),
    (
        14,
        "0014_destruction_acts",
        include_str!("../migrations/0014_destruction_acts.sql"),
    ),
    (
        16,
        "0016_subject_blocks",
        include_str!("../migrations/0016_subject_blocks.sql"),
    ),
    (
        17,
        "0017_subject_requests",
        include_str!("../migrations/0017_subject_requests.sql"),
    ),
    (
        18,
        "0018_verifications",
        include_str!("../migrations/0018_verifications.sql"),
    ),
    (19, "0019_downloads", include_str!("../migrations/0019_downloads.sql")),
];

fn checksum(sql: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(sql.as_bytes()).to_vec()
}

fn migration_error(e: rusqlite::Error) -> StoreError {
    StoreError::Migration(e.to_string())
}

/// Brings the schema up to date, each migration in its own transaction. Refuses a database
/// that has a migration this binary does not know (written by a newer Ward) or whose applied
/// migration differs from the embedded one.
///
/// Databases made by earlier Ward builds recorded their migrations in sqlx's
/// `_sqlx_migrations` table; those are taken over as applied.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS _ward_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT    NOT NULL,
             checksum   BLOB    NOT NULL,
             applied_at INTEGER NOT NULL
         ) STRICT",
    )
    .map_err(migration_error)?;
    adopt_sqlx_history(conn)?;
    let applied: Vec<(i64, String, Vec<u8>)> = {
        let mut stmt = conn
            .prepare("SELECT version, name, checksum FROM _ward_migrations ORDER BY version")
            .map_err(migration_error)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(migration_error)?;
        rows.collect::<rusqlite::Result<_>>().map_err(migration_error)?
    };
    for (version, name, sum) in &applied {
        match MIGRATIONS.iter().find(|(v, ..)| v == version) {
            None => {
                return Err(StoreError::Migration(format!(
                    "the database has migration {name} (version {version}), which this Ward does not know: \
                     it was written by a newer Ward"
                )))
            }
            Some((_, _, sql)) if checksum(sql) != *sum => {
                return Err(StoreError::Migration(format!(
                    "migration {name} differs from the one applied to this database"
                )))
            }
            Some(_) => {}
        }
    }
    // Migrations may rebuild a table that others refer to: foreign keys are off while they
    // run (the pragma cannot change inside a transaction) and checked before each commits.
    conn.execute_batch("PRAGMA foreign_keys = OFF")
        .map_err(migration_error)?;
    let result = apply_pending(conn, &applied);
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .map_err(migration_error)?;
    result
}

fn apply_pending(conn: &mut Connection, applied: &[(i64, String, Vec<u8>)]) -> Result<()> {
    for (version, name, sql) in MIGRATIONS {
        if applied.iter().any(|(v, ..)| v == version) {
            continue;
        }
        let tx = conn.transaction().map_err(migration_error)?;
        tx.execute_batch(sql)
            .map_err(|e| StoreError::Migration(format!("{name}: {e}")))?;
        let violations: i64 = tx
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))
            .map_err(migration_error)?;
        if violations > 0 {
            return Err(StoreError::Migration(format!(
                "{name}: {violations} rows would break a foreign key; nothing was changed"
            )));
        }
        tx.execute(
            "INSERT INTO _ward_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                version,
                name,
                checksum(sql),
                ward_core::clock::to_micros(time::OffsetDateTime::now_utc())
            ],
        )
        .map_err(migration_error)?;
        tx.commit().map_err(migration_error)?;
    }
    Ok(())
}

/// Takes over the applied migrations recorded by sqlx in databases of earlier Ward builds.
fn adopt_sqlx_history(conn: &mut Connection) -> Result<()> {
    let ours: i64 = conn
        .query_row("SELECT count(*) FROM _ward_migrations", [], |r| r.get(0))
        .map_err(migration_error)?;
    let has_sqlx = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            [],
            |_| Ok(()),
        )
        .optional()
        .map_err(migration_error)?
        .is_some();
    if ours > 0 || !has_sqlx {
        return Ok(());
    }
    let versions: Vec<i64> = {
        let mut stmt = conn
            .prepare("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .map_err(migration_error)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(migration_error)?;
        rows.collect::<rusqlite::Result<_>>().map_err(migration_error)?
    };
    let tx = conn.transaction().map_err(migration_error)?;
    for v in versions {
        let Some((_, name, sql)) = MIGRATIONS.iter().find(|(known, ..)| *known == v) else {
            return Err(StoreError::Migration(format!(
                "the database has migration version {v}, which this Ward does not know: it was written by a newer Ward"
            )));
        };
        tx.execute(
            "INSERT INTO _ward_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                v,
                name,
                checksum(sql),
                ward_core::clock::to_micros(time::OffsetDateTime::now_utc())
            ],
        )
        .map_err(migration_error)?;
    }
    tx.commit().map_err(migration_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Migration 0010 records, for each live subject of an older database, the basis that its
    /// collection established, from the journal's `collection` entries; an erased subject and
    /// other entries add nothing.
    #[test]
    fn basis_events_are_backfilled_from_the_journals_collections() {
        let mut conn = Connection::open_in_memory().unwrap();
        // As the migrator runs them (migration 0007 rebuilds referenced tables).
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        conn.execute_batch(
            "CREATE TABLE _ward_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
             checksum BLOB NOT NULL, applied_at INTEGER NOT NULL) STRICT",
        )
        .unwrap();
        for (version, name, sql) in MIGRATIONS.iter().filter(|(v, ..)| *v < 10) {
            conn.execute_batch(sql).unwrap();
            conn.execute(
                "INSERT INTO _ward_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, 0)",
                rusqlite::params![version, name, checksum(sql)],
            )
            .unwrap();
        }
        let (live, erased) = ([1u8; 16], [2u8; 16]);
        for (n, id, state) in [(1, live, "active"), (2, erased, "erased")] {
            conn.execute(
                "INSERT INTO subjects (n, id, state, revision, created_at, updated_at) VALUES (?1, ?2, ?3, 1, 5, 5)",
                rusqlite::params![n, &id[..], state],
            )
            .unwrap();
        }
        let entries = [
            (1, live, "collection", "registration"),
            (2, live, "consent.given", "marketing"),
            (3, live, "retrieval", "registration"),
            (4, erased, "collection", "registration"),
        ];
        for (seq, id, action, purpose) in entries {
            conn.execute(
                "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
                 VALUES (?1, ?2, 'cli', ?3, ?4, ?5, '', NULL, x'00', x'00')",
                rusqlite::params![seq, seq * 1000, action, &id[..], purpose],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        type Row = (i64, String, String, i64, i64, String, Option<Vec<u8>>);
        let rows: Vec<Row> = conn
            .prepare("SELECT subject_n, purpose, kind, at, start, policy_version, evidence FROM basis_events")
            .unwrap()
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            [(
                1,
                "registration".to_owned(),
                "established".to_owned(),
                1000,
                1000,
                "migration:0010".to_owned(),
                None
            )]
        );
    }
}
