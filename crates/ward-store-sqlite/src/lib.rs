//! Ward's SQLite backend: one database file in WAL mode with durable commits.
//!
//! Every [`WriteStore::write`](ward_store::WriteStore::write) runs on ONE writer connection, on its own thread, in a
//! `BEGIN IMMEDIATE` transaction (which also serializes writers of other processes on the
//! same file). Reads use separate read-only connections, which WAL lets run alongside the
//! writer; point reads run on the caller's thread and scans on the blocking pool (see
//! [`conn`] for why).
//!
//! A write runs to its end on the writer thread: if the caller stops waiting, the transaction
//! still commits or rolls back as a whole, and the writer connection is never left inside a
//! transaction.

//!
//! Each aggregate's reads and writes live in a module of their own (`subjects`, `consents`,
//! `subject_events`, `bases`, `keys`, `api_keys`, `policies`, `visitors`, `outbox`); `write` runs a batch
//! through them, and `journal` appends its entries.

mod backup;
mod binding;
mod checkpoint;
mod conn;
mod journal;
mod lease;
mod listing;
mod rows;
mod scrub;
mod write;

/// One module per aggregate of the write path (`src/<aggregate>.rs`), declared from the list
/// in [`ward_store::for_each_aggregate!`]; `write` dispatches to them.
macro_rules! aggregate_modules {
    ($($name:ident: $Variant:ident($Change:ident)),* $(,)?) => {
        $(mod $name;)*
    };
}
ward_store::for_each_aggregate!(aggregate_modules);

pub use backup::{vacuum_into, KeyImport};
pub use conn::{migrate, open_reader, open_writer, quick_check, Writer};
pub use scrub::SCRUB_BUSY_WAIT;

use conn::Readers;
use rows::Result;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use ward_store::{Store, StoreError, StoreResult};

/// In a build with the `bench` feature only: set to `1`, stores opened by the process do not
/// scrub the WAL after commits that destroyed data (see [`scrub`]), for the benchmark's
/// comparison of erasure with and without the scrub. A deployed build cannot turn it off.
#[cfg(feature = "bench")]
pub const NO_WAL_SCRUB_ENV: &str = "WARD_BENCH_NO_WAL_SCRUB";

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
        let writer = Writer::spawn(writer)?;
        #[cfg(feature = "bench")]
        if std::env::var_os(NO_WAL_SCRUB_ENV).is_some_and(|v| v == "1") {
            tracing::warn!("{NO_WAL_SCRUB_ENV}=1: the WAL is not scrubbed after erasures (benchmark only)");
            writer.scrub().set_after_writes(false);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer,
                readers,
            }),
        })
    }

    /// Waits until every WAL scrub asked for so far (by commits that destroyed data, or by
    /// [`WriteStore::scrub`](ward_store::WriteStore::scrub)) has finished, at most `timeout`:
    /// from then on, the WAL holds no older copy of what those commits destroyed (it is empty
    /// or holds only later commits). The signal tests wait on instead of sleeping.
    pub async fn wal_scrubbed(&self, timeout: Duration) -> StoreResult<()> {
        self.inner.writer.scrubbed(timeout).await
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

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn migration_names(&self) -> Vec<String> {
        migration_names()
    }
}
