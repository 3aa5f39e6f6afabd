//! Backups that erasure reaches. A data backup holds no data key; the wrapped keys of live
//! subjects are exported separately. A restore takes a data backup and a key export made
//! later: every subject whose key is no longer in the export was erased in the meantime, and
//! stays unreadable — the erasure is re-applied, even to data taken before it.

use crate::rows::{col, subject_id, unavailable, Result};
use crate::rows::{exec, query};
use crate::SqliteStore;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use ward_core::{Actor, JournalDraft, ProcessingAction, SubjectId};

use ward_store::StoreError;

fn path_str(p: &Path) -> Result<&str> {
    p.to_str()
        .ok_or_else(|| StoreError::Unavailable(format!("path {} is not UTF-8", p.display())))
}

fn refuse_existing(p: &Path) -> Result<()> {
    if p.exists() {
        return Err(StoreError::Unavailable(format!(
            "{} already exists; choose a new file",
            p.display()
        )));
    }
    Ok(())
}

/// A new database file outside WAL mode (a backup is one self-contained file).
fn connect_new(p: &Path) -> Result<Connection> {
    let conn = Connection::open(p).map_err(unavailable)?;
    conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA secure_delete = ON;")
        .map_err(unavailable)?;
    Ok(conn)
}

fn count(conn: &Connection, table: &str) -> Result<u64> {
    let n: i64 = conn
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .map_err(unavailable)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Unavailable(format!("a backup step failed unexpectedly: {e}")))?
}

/// Writes a compact, self-contained copy of the database at `src` to `dest` (a new file, mode
/// 0600): no WAL beside it and no free pages, so nothing erased lingers in it.
pub fn vacuum_into(src: &Path, dest: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    // VACUUM INTO fills an empty file as it finds it, so the mode is set before any data.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .map_err(|e| StoreError::Unavailable(format!("creating {}: {e}", dest.display())))?;
    let conn = crate::conn::open_reader(src)?;
    conn.execute("VACUUM INTO ?1", [path_str(dest)?]).map_err(unavailable)?;
    drop(conn);
    std::fs::File::open(dest)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::Unavailable(format!("syncing {}: {e}", dest.display())))
}

/// What [`SqliteStore::import_keys`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyImport {
    /// Wrapped keys in the export.
    pub exported: u64,
    /// Subjects whose data key was put back.
    pub restored: u64,
    /// Subjects live in the data backup whose key is not in the export (erased since): erased
    /// again here, each with its journal entry.
    pub erased: Vec<SubjectId>,
}

impl SqliteStore {
    /// Writes a consistent snapshot of the database to `dest` (a new file) with every data key
    /// removed and the freed pages zeroed. Returns how many subjects it holds.
    pub async fn backup_without_keys(&self, dest: &Path) -> Result<u64> {
        refuse_existing(dest)?;
        let target = path_str(dest)?.to_owned();
        self.readers()
            .scan(move |c| {
                c.execute("VACUUM INTO ?1", [&target]).map_err(unavailable)?;
                Ok(())
            })
            .await?;
        let dest: PathBuf = dest.to_owned();
        blocking(move || {
            let conn = connect_new(&dest)?;
            conn.execute_batch("UPDATE subjects SET kek_id = NULL, wrapped_key = NULL; VACUUM;")
                .map_err(unavailable)?;
            let n = count(&conn, "subjects")?;
            conn.close().map_err(|(_, e)| unavailable(e))?;
            Ok(n)
        })
        .await
    }

    /// Writes the wrapped data keys of live subjects to `dest` (a new file). Keys stay wrapped
    /// under the key-encryption keys, which are not in it. Returns how many.
    pub async fn export_keys(&self, dest: &Path) -> Result<u64> {
        refuse_existing(dest)?;
        let live = format!("file:{}?mode=ro", path_str(self.path())?);
        let dest: PathBuf = dest.to_owned();
        blocking(move || {
            let conn = connect_new(&dest)?;
            conn.execute_batch(
                "CREATE TABLE subject_keys (subject_id BLOB PRIMARY KEY, kek_id TEXT NOT NULL, \
                 wrapped_key BLOB NOT NULL) STRICT",
            )
            .map_err(unavailable)?;
            conn.execute("ATTACH DATABASE ?1 AS live", [&live])
                .map_err(unavailable)?;
            conn.execute_batch(
                "INSERT INTO subject_keys SELECT id, kek_id, wrapped_key FROM live.subjects \
                 WHERE state = 'active' AND wrapped_key IS NOT NULL AND kek_id IS NOT NULL; \
                 DETACH DATABASE live;",
            )
            .map_err(unavailable)?;
            let n = count(&conn, "subject_keys")?;
            conn.close().map_err(|(_, e)| unavailable(e))?;
            Ok(n)
        })
        .await
    }

    /// Puts keys from a key export back on this database's subjects (a restored data backup)
    /// and, in the same transaction, erases every live subject left without a key, writing a
    /// `destruction` journal entry for each (actor `actor`, time `at`).
    pub async fn import_keys(&self, src: &Path, at: OffsetDateTime, actor: &str) -> Result<KeyImport> {
        if !src.exists() {
            return Err(StoreError::Unavailable(format!(
                "key export {} does not exist",
                src.display()
            )));
        }
        let export = format!("file:{}?mode=ro", path_str(src)?);
        let actor = actor.to_owned();
        let src = src.to_owned();
        self.writer()
            .run(move |conn| {
                conn.execute("ATTACH DATABASE ?1 AS k", [&export])
                    .map_err(|e| not_an_export(&src, &e))?;
                // The export's one table, read before anything changes: a file that is not an
                // export (another database, a data backup, garbage) is named as such.
                let result = conn
                    .query_row("SELECT count(*) FROM k.subject_keys", [], |r| r.get::<_, i64>(0))
                    .map_err(|e| not_an_export(&src, &e))
                    .and_then(|exported| import_in_tx(conn, exported, at, &actor));
                conn.execute_batch("DETACH DATABASE k").map_err(unavailable)?;
                result
            })
            .await
    }
}

fn not_an_export(src: &Path, e: &rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!(
        "{} is not a Ward key export (`ward backup --keys-out`): {e}",
        src.display()
    ))
}

fn import_in_tx(conn: &mut Connection, exported: i64, at: OffsetDateTime, actor: &str) -> Result<KeyImport> {
    let tx = conn.transaction().map_err(unavailable)?;
    let restored = exec(
        &tx,
        "UPDATE subjects SET kek_id = k.subject_keys.kek_id, wrapped_key = k.subject_keys.wrapped_key \
         FROM k.subject_keys WHERE k.subject_keys.subject_id = subjects.id AND subjects.state = 'active'",
        [],
    )?;
    let erased: Vec<SubjectId> = query(
        &tx,
        "SELECT id FROM subjects WHERE state = 'active' AND wrapped_key IS NULL ORDER BY id",
        [],
        |r| subject_id(&col::<Vec<u8>>(r, "subjects", "id")?, "subjects", "id"),
    )?;
    let mut drafts = Vec::with_capacity(erased.len());
    for id in &erased {
        crate::subjects::erase(&tx, *id, at)?;
        let mut d = JournalDraft::new(at, &Actor::System, ProcessingAction::Destruction)
            .subject(*id)
            .detail("restore: data key absent from the key export (erased after the backup)");
        d.actor = actor.to_owned();
        drafts.push(d);
    }
    crate::journal::append_drafts(&tx, drafts)?;
    tx.commit().map_err(unavailable)?;
    Ok(KeyImport {
        exported: u64::try_from(exported).unwrap_or(0),
        restored: u64::try_from(restored).unwrap_or(0),
        erased,
    })
}
