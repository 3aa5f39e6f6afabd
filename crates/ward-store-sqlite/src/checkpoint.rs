//! Checkpoints in the background: a thread of its own copies the WAL into the database file,
//! so that no commit waits for it.
//!
//! In WAL mode a commit appends the pages it changed to the WAL and syncs the WAL; a
//! checkpoint later copies the WAL's pages into the database file and syncs the file. By
//! default SQLite runs the checkpoint inside the commit that took the WAL over 1,000 pages, and
//! everything queued behind that commit (every caller of the group commit) waits for it while
//! the checkpoint writes pages all over the file and syncs it. Moving it to a thread of its own
//! takes that wait out of the commits' tail latency (bench/HISTORY.md has the measurements,
//! in the rounds of `f6b700a` and `2b615fc`).
//!
//! How it works:
//!
//! - The writer thread nudges the checkpointer after every job ([`Checkpointer::nudge`]; it
//!   never blocks, and nudges that arrive while a checkpoint runs or waits fold into one).
//! - A nudged checkpointer runs a `PASSIVE` checkpoint on its own connection, at most once
//!   per [`CHECKPOINT_INTERVAL`] (nudges in between fold into the next one): it copies what it
//!   can without waiting for any lock, while the writer goes on appending and readers go on
//!   reading. How many WAL frames that lets one checkpoint cover, and why that is harmless, is
//!   in bench/HISTORY.md (the round of `2b615fc`).
//! - The writer's own connection keeps SQLite's automatic checkpoint, at
//!   [`WRITER_CHECKPOINT_PAGES`]: the bound on the WAL if the checkpointer falls behind, and
//!   the point at which a WAL that never stops growing (a writer that commits without pause
//!   never lets a concurrent checkpoint catch up, and SQLite starts the WAL again from its
//!   beginning only when it has) is caught up by the writer, so that it starts over. What the
//!   checkpointer has already copied, the writer does not copy again.
//!
//! Why by time and not by the WAL's size: the size is in the WAL-index (the `-shm` file), and
//! SQLite offers no call for it that this workspace can use (`sqlite3_wal_hook` needs `unsafe`
//! (forbidden here) or a newer rusqlite than this workspace links). Reading the `-shm` file
//! through a descriptor of our own is not safe: SQLite's locks on it are POSIX advisory locks,
//! which belong to the process, and closing any descriptor of the file drops all of them,
//! SQLite's too. The first version did that, and when its descriptor closed while another
//! connection of the process had the database open, the next process to open it found the
//! file unlocked, took it for a stale one and truncated it under the server (a SIGBUS in a
//! benchmark run; the test `a_checkpointer_that_ends_leaves_sqlites_locks_alone`). So nothing
//! but SQLite opens SQLite's files.
//!
//! The same thread runs the WAL scrub after commits that destroyed data: a `TRUNCATE`
//! checkpoint in place of the `PASSIVE` one ([`crate::scrub`]).
//!
//! Durability is unchanged: a commit is durable when its WAL frames are synced
//! (`synchronous = FULL`); a checkpoint only moves durable data from one file to the other,
//! and a crash in the middle of one is recovered from the WAL.

use crate::rows::{unavailable, Result};
use crate::scrub::{truncate, Scrub, SCRUB_BUSY_WAIT};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::{mpsc, Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};
use ward_store::StoreError;

/// The least time between two of the checkpointer's checkpoints.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(250);

/// Frames in the WAL at which the writer's own commit checkpoints (SQLite's automatic
/// checkpoint, 128 MiB of 4 KiB pages): the bound on the WAL, see the module's documentation.
pub const WRITER_CHECKPOINT_PAGES: u32 = 32_768;

/// A handle to the checkpointer thread. Dropping every handle (the writer thread ends, the
/// store is dropped) ends the thread after the checkpoint it is running or waiting to run, if
/// any, and a last try of a pending scrub.
#[derive(Clone)]
pub(crate) struct Checkpointer {
    wake: mpsc::SyncSender<()>,
}

/// How many checkpoints the thread has run, and whether it has ended; tests wait on it.
#[derive(Default)]
pub(crate) struct Progress {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    runs: u64,
    ended: bool,
}

impl Progress {
    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner));
        self.changed.notify_all();
    }

    /// Waits until `done` holds, or `timeout`; returns the state's `(runs, ended)`.
    #[cfg(test)]
    fn wait(&self, timeout: Duration, done: impl Fn(&State) -> bool) -> (u64, bool) {
        let guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |s| !done(s))
            .unwrap_or_else(PoisonError::into_inner);
        (guard.runs, guard.ended)
    }

    /// Waits until more than `runs` checkpoints have run, or `timeout`; returns the count.
    #[cfg(test)]
    pub(crate) fn wait_past(&self, runs: u64, timeout: Duration) -> u64 {
        self.wait(timeout, |s| s.runs > runs).0
    }

    /// Waits until the thread has ended (its connection closed), or `timeout`; returns
    /// whether it has.
    #[cfg(test)]
    pub(crate) fn wait_ended(&self, timeout: Duration) -> bool {
        self.wait(timeout, |s| s.ended).1
    }
}

impl Checkpointer {
    /// Opens a connection of its own to the database at `db` (already in WAL mode: the writer
    /// has opened it) and starts the thread, which counts its checkpoints in `progress` and
    /// runs the scrubs asked for in `scrub`.
    pub(crate) fn spawn(db: &Path, progress: Arc<Progress>, scrub: Arc<Scrub>) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(db, flags).map_err(unavailable)?;
        // A checkpoint syncs the database file after copying into it (and the WAL before).
        conn.execute_batch("PRAGMA synchronous = FULL").map_err(unavailable)?;
        // Only a scrub's TRUNCATE waits on it: a PASSIVE checkpoint never waits.
        conn.busy_timeout(SCRUB_BUSY_WAIT).map_err(unavailable)?;
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("ward-sqlite-checkpointer".into())
            .spawn(move || {
                let mut last: Option<Instant> = None;
                while wait_for_nudge(&woken, scrub.pending().is_some()) {
                    // Not before the interval is up. Sleeping, not waiting on the channel:
                    // nudges meanwhile fold into its one slot without waking this thread once
                    // per commit.
                    if let Some(left) =
                        last.and_then(|t| (t + CHECKPOINT_INTERVAL).checked_duration_since(Instant::now()))
                    {
                        std::thread::sleep(left);
                    }
                    // A nudge that came while it slept is for commits this checkpoint copies.
                    if let Err(mpsc::TryRecvError::Disconnected) = woken.try_recv() {
                        break;
                    }
                    checkpoint(&conn, &scrub);
                    last = Some(Instant::now());
                    progress.update(|s| s.runs += 1);
                }
                // The store is closing: a scrub still pending gets its last try.
                if scrub.pending().is_some() {
                    checkpoint(&conn, &scrub);
                }
                drop(conn);
                progress.update(|s| s.ended = true);
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the SQLite checkpointer thread: {e}")))?;
        Ok(Self { wake })
    }

    /// Tells the thread that a commit may have grown the WAL (or that a scrub is asked for).
    /// Never blocks.
    pub(crate) fn nudge(&self) {
        // Full: a nudge is already waiting, which will see this commit's frames too.
        let _ = self.wake.try_send(());
    }
}

/// Waits for the next nudge; with a scrub pending, at most an interval (a scrub that readers
/// held up is tried again even if nothing more is committed). Whether to go on: `false` once
/// every handle is gone.
fn wait_for_nudge(woken: &mpsc::Receiver<()>, scrub_pending: bool) -> bool {
    if scrub_pending {
        !matches!(
            woken.recv_timeout(CHECKPOINT_INTERVAL),
            Err(mpsc::RecvTimeoutError::Disconnected)
        )
    } else {
        woken.recv().is_ok()
    }
}

/// One checkpoint: the scrub's `TRUNCATE` if one is pending, else a `PASSIVE` one.
fn checkpoint(conn: &Connection, scrub: &Scrub) {
    if let Some(upto) = scrub.pending() {
        // Every scrub asked for before it started is covered by a TRUNCATE that finishes.
        if truncate(conn) {
            scrub.completed(upto);
        }
        return;
    }
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        // Nothing is lost: the frames stay in the WAL, and the writer's own checkpoint copies
        // them at its limit.
        tracing::warn!(error = %e, "background WAL checkpoint failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::{open_writer, Writer};
    use std::os::unix::fs::MetadataExt;
    use std::path::PathBuf;

    /// Pages the big commit of the tests writes: more than SQLite's default checkpoint limit
    /// (1,000), which a commit would have checkpointed itself.
    const BIG: u32 = 2_000;

    /// Commits `rows` rows of about a page each, and returns the size of the database file
    /// right after the commit, read on the writer's thread: before the checkpointer has been
    /// nudged.
    async fn commit_pages(writer: &Writer, db: PathBuf, rows: u32) -> u64 {
        writer
            .run(move |c| -> Result<u64> {
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
                Ok(std::fs::metadata(&db)
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?
                    .len())
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

        commit_pages(&writer, db.clone(), 10).await;
        let runs = progress.wait_past(0, Duration::from_secs(120));
        assert!(runs >= 1, "a commit is followed by a checkpoint");

        let size = commit_pages(&writer, db.clone(), BIG).await;
        assert!(
            size < u64::from(BIG) * 4096,
            "the commit returned with its pages still in the WAL: the file has {size} bytes"
        );
        assert!(
            progress.wait_past(runs, Duration::from_secs(120)) > runs,
            "the checkpointer ran again"
        );
        let size = std::fs::metadata(&db).unwrap().len();
        assert!(
            size > u64::from(BIG) * 4096,
            "and copied the pages into the database file: {size} bytes"
        );
    }

    /// SQLite's locks on a database's files are POSIX advisory locks, which belong to the
    /// process: closing ANY descriptor of a file drops all of the process's locks on it, even
    /// those SQLite holds through its own descriptors for other connections. If the
    /// checkpointer's end did that to the `-shm` file, the next process to open the database
    /// (`ward journal verify` beside a live server, say) would find nobody holding it, take it
    /// for a stale file and truncate it under the server, whose next access to a mapped page
    /// past the new end is a SIGBUS (seen in a benchmark run).
    #[tokio::test]
    async fn a_checkpointer_that_ends_leaves_sqlites_locks_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let other = open_writer(&db).unwrap();
        other
            .execute_batch("CREATE TABLE t (b BLOB NOT NULL); INSERT INTO t VALUES (x'00')")
            .unwrap();
        let shm = std::fs::metadata(dir.path().join("t.db-shm")).unwrap().ino();
        assert!(
            holds_dms_lock(shm),
            "SQLite holds the -shm's lock for the open connection"
        );

        let writer = Writer::spawn(open_writer(&db).unwrap()).unwrap();
        let progress = writer.checkpoints.clone();
        commit_pages(&writer, db.clone(), BIG).await;
        assert!(
            progress.wait_past(0, Duration::from_secs(120)) >= 1,
            "the checkpointer ran"
        );
        drop(writer);
        assert!(progress.wait_ended(Duration::from_secs(120)), "the checkpointer ended");

        assert!(
            holds_dms_lock(shm),
            "the other connection's lock on the -shm outlives the checkpointer"
        );
        other
            .query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
            .unwrap();
    }

    /// Whether this process holds a lock on the byte of the `-shm` file (inode `shm`) that
    /// SQLite's connections hold while they use it (`UNIX_SHM_DMS`, byte 128), from
    /// `/proc/locks`.
    fn holds_dms_lock(shm: u64) -> bool {
        let me = std::process::id().to_string();
        let inode = format!(":{shm}");
        std::fs::read_to_string("/proc/locks").unwrap().lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() >= 8 && f[1] == "POSIX" && f[4] == me && f[5].ends_with(&inode) && f[6] == "128"
        })
    }
}
