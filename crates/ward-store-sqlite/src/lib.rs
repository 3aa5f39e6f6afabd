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
//! `subject_events`, `bases`, `keys`, `api_keys`, `policies`, `visitors`); `write` runs a batch
//! through them, and `journal` appends its entries.

mod backup;
mod binding;
mod checkpoint;
mod conn;
mod journal;
mod lease;
mod rows;
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

use conn::Readers;
use rows::Result;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use ward_store::{Store, StoreError, StoreResult};

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

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn migration_names(&self) -> Vec<String> {
        migration_names()
    }
}
