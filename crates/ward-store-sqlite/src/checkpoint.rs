//! Checkpoints in the background: a thread of its own copies the WAL into the database file,
//! so that no commit waits for it.
//!
//! In WAL mode a commit appends the pages it changed to the WAL and syncs the WAL; a
//! checkpoint later copies the WAL's pages into the database file and syncs the file. By
//! default SQLite runs the checkpoint inside the commit that took the WAL over 1,000 pages, and
//! everything queued behind that commit (every caller of the group commit) waits for it while
//! the checkpoint writes pages all over the file and syncs it. Measured in full benchmark runs on one machine the same afternoon
//! (BENCHMARKS.md), moving it to its own thread took single creates' p99 from 33.6 ms to
//! 16.8–21.1 ms, bulk import at a million subjects from about 7,200 to 7,500–9,000/s, and the
//! raw-insert baseline's bulk rate from 9,076 to 11,870–13,614/s.
//!
//! How it works:
//!
//! - The writer thread nudges the checkpointer after every job ([`Checkpointer::nudge`]; it
//!   never blocks, and nudges that arrive while a checkpoint runs fold into one).
//! - The checkpointer reads how many WAL frames are not yet in the database file from the
//!   WAL-index header (see [`WalIndex`]) and, at [`CHECKPOINT_PAGES`] or more, runs a
//!   `PASSIVE` checkpoint on its own connection: it copies what it can without waiting for
//!   any lock, while the writer goes on appending and readers go on reading.
//! - The writer's own connection keeps SQLite's automatic checkpoint, at
//!   [`WRITER_CHECKPOINT_PAGES`]: the bound on the WAL if the checkpointer falls behind, and
//!   the point at which a WAL that never stops growing (a writer that commits without pause
//!   never lets a concurrent checkpoint catch up, and SQLite starts the WAL again from its
//!   beginning only when it has) is caught up by the writer, so that it starts over. What the
//!   checkpointer has already copied, the writer does not copy again.
//!
//! Durability is unchanged: a commit is durable when its WAL frames are synced
//! (`synchronous = FULL`); a checkpoint only moves durable data from one file to the other,
//! and a crash in the middle of one is recovered from the WAL.

use crate::rows::{unavailable, Result};
use rusqlite::{Connection, OpenFlags};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{mpsc, Arc, Condvar, Mutex, PoisonError};
use ward_store::StoreError;

/// Frames in the WAL that are not yet in the database file at which the checkpointer copies
/// them (32 MiB of 4 KiB pages). Larger than SQLite's 1,000 because the checkpoint no longer
/// holds anything up, and a larger one writes each page that many commits changed (the
/// B-trees' inner pages, the tables' last leaves, the leaves of the random-keyed indexes) once
/// instead of once per small checkpoint.
pub const CHECKPOINT_PAGES: u32 = 8_192;

/// Frames in the WAL at which the writer's own commit checkpoints (SQLite's automatic
/// checkpoint, 128 MiB of 4 KiB pages): the bound on the WAL, see the module's documentation.
pub const WRITER_CHECKPOINT_PAGES: u32 = 4 * CHECKPOINT_PAGES;

/// The checkpointer thread's handle. Dropping it (the writer thread ends) ends the thread
/// after the checkpoint it is running, if any.
pub(crate) struct Checkpointer {
    wake: mpsc::SyncSender<()>,
}

/// How many checkpoints the thread has run; tests wait on it.
#[derive(Default)]
pub(crate) struct Progress {
    runs: Mutex<u64>,
    changed: Condvar,
}

impl Progress {
    fn ran(&self) {
        *self.runs.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.changed.notify_all();
    }

    /// Waits until more than `runs` checkpoints have run, or `timeout`; returns the count.
    #[cfg(test)]
    pub(crate) fn wait_past(&self, runs: u64, timeout: std::time::Duration) -> u64 {
        let guard = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |n| *n <= runs)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }
}

impl Checkpointer {
    /// Opens a connection of its own to the database at `db` (already in WAL mode: the writer
    /// has opened it) and starts the thread, which counts its checkpoints in `progress`.
    pub(crate) fn spawn(db: &Path, progress: Arc<Progress>) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(db, flags).map_err(unavailable)?;
        // A checkpoint syncs the database file after copying into it (and the WAL before).
        conn.execute_batch("PRAGMA synchronous = FULL").map_err(unavailable)?;
        let index = WalIndex::open(db);
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("ward-sqlite-checkpointer".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    if index.uncopied_frames() < CHECKPOINT_PAGES {
                        continue;
                    }
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        // Nothing is lost: the frames stay in the WAL, and the writer's own
                        // checkpoint copies them at its limit.
                        tracing::warn!(error = %e, "background WAL checkpoint failed");
                    }
                    progress.ran();
                }
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the SQLite checkpointer thread: {e}")))?;
        Ok(Self { wake })
    }

    /// Tells the thread that a commit may have grown the WAL. Never blocks.
    pub(crate) fn nudge(&self) {
        // Full: a nudge is already waiting, which will see this commit's frames too.
        let _ = self.wake.try_send(());
    }
}

/// The WAL-index (the `-shm` file beside the database), read for one figure: how many WAL
/// frames are not yet copied into the database file.
///
/// SQLite offers no call for it (`sqlite3_wal_hook` passes the WAL's size to a callback, but
/// reaching it from Rust takes `unsafe`, which this workspace forbids, or a newer rusqlite
/// than sqlx's SQLite driver allows beside it). The WAL-index's header is a documented part
/// of SQLite's file format (<https://sqlite.org/walformat.html>, "The WAL-Index Header"), the
/// same for every SQLite since 3.7.0 because processes of different versions share it: two
/// copies of a 48-byte header, `mxFrame` (the last valid frame) at byte 16 of each, then the
/// checkpoint information, whose first field `nBackfill` (frames already copied) is at byte 96;
/// integers in the machine's byte order, `iVersion` 3007000 at byte 0. The read is not
/// synchronised with SQLite's, so a torn one (the two copies differ) or any surprise reads as
/// "unknown", and the checkpointer then simply runs the checkpoint: the figure only decides
/// when to run one, never what it copies.
pub(crate) struct WalIndex {
    shm: Option<File>,
}

const WAL_INDEX_VERSION: u32 = 3_007_000;

impl WalIndex {
    pub(crate) fn open(db: &Path) -> Self {
        let mut path = db.as_os_str().to_owned();
        path.push("-shm");
        Self {
            shm: File::open(path).ok(),
        }
    }

    /// Frames in the WAL not yet in the database file; `u32::MAX` if that cannot be read.
    pub(crate) fn uncopied_frames(&self) -> u32 {
        const UNKNOWN: u32 = u32::MAX;
        let Some(shm) = &self.shm else { return UNKNOWN };
        let mut b = [0u8; 100];
        if shm.read_exact_at(&mut b, 0).is_err() || b[..48] != b[48..96] {
            return UNKNOWN;
        }
        let word = |at: usize| u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        if word(0) != WAL_INDEX_VERSION {
            return UNKNOWN;
        }
        word(16).saturating_sub(word(96))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::{open_writer, Writer};
    use std::path::PathBuf;
    use std::time::Duration;

    /// Commits `rows` rows of about a page each, and returns the WAL frames not yet in the
    /// database file right after the commit, read on the writer's thread: before the
    /// checkpointer has been nudged.
    async fn commit_pages(writer: &Writer, db: PathBuf, rows: u32) -> u32 {
        writer
            .run(move |c| -> Result<u32> {
                let tx = c.transaction().map_err(unavailable)?;
                tx.execute_batch("CREATE TABLE IF NOT EXISTS t (b BLOB NOT NULL)")
                    .map_err(unavailable)?;
                {
                    let mut insert = tx
                        .prepare("INSERT INTO t (b) VALUES (randomblob(4000))")
                        .map_err(unavailable)?;
                    for _ in 0..rows {
                        insert.execute([]).map_err(unavailable)?;
                    }
                }
                tx.commit().map_err(unavailable)?;
                Ok(WalIndex::open(&db).uncopied_frames())
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_commit_leaves_its_checkpoint_to_the_checkpointer() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let writer = Writer::spawn(open_writer(&db).unwrap()).unwrap();
        let progress = writer.checkpoints.clone();

        let small = commit_pages(&writer, db.clone(), 10).await;
        assert!(
            (10..100).contains(&small),
            "a small commit's frames wait in the WAL: {small}"
        );

        let left = commit_pages(&writer, db.clone(), CHECKPOINT_PAGES + 100).await;
        assert!(
            left > CHECKPOINT_PAGES,
            "the commit returned without checkpointing: {left} frames uncopied"
        );
        assert!(
            progress.wait_past(0, Duration::from_secs(120)) >= 1,
            "the checkpointer ran"
        );
        assert_eq!(WalIndex::open(&db).uncopied_frames(), 0, "and copied every frame");
        let file = std::fs::metadata(&db).unwrap().len();
        assert!(
            file > u64::from(CHECKPOINT_PAGES) * 4096,
            "into the database file: {file} bytes"
        );
    }

    #[test]
    fn an_unreadable_wal_index_reads_as_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("none.db");
        assert_eq!(WalIndex::open(&db).uncopied_frames(), u32::MAX, "no -shm file");
        std::fs::write(dir.path().join("none.db-shm"), [7u8; 200]).unwrap();
        assert_eq!(WalIndex::open(&db).uncopied_frames(), u32::MAX, "not a WAL-index");
    }
}
