//! The WAL scrub: after a commit that destroyed data (an erasure destroys a subject's wrapped
//! data key and sealed fields; an update replaces sealed fields), a `TRUNCATE` checkpoint soon
//! after, so that the destroyed bytes do not outlive the commit in the WAL.
//!
//! Why. `secure_delete` (set on every writing connection, [`crate::open_writer`]) overwrites
//! deleted content with zeros, but only in the page images a commit writes: the WAL still holds
//! the images of the same pages from earlier commits, with the data in them, until SQLite starts
//! the WAL over from its beginning and overwrites them, which a quiet vault may never do (and a
//! reader that stays open stops it from doing). A copy of the files cut back to the commit before
//! the erasure then reads the erased subject back. A `TRUNCATE` checkpoint copies every frame
//! into the database file (the erasure's zeroed pages over the old ones) and then truncates the
//! WAL to zero bytes; it needs no reader to be using the WAL, and waits for that (and for the
//! writer) at most [`SCRUB_BUSY_WAIT`].
//!
//! How. The writer thread, after a commit that destroyed data, asks for a scrub
//! ([`Scrub::request`]) and nudges the checkpointer as after every job. The checkpointer
//! ([`crate::checkpoint`]) runs a `TRUNCATE` instead of its `PASSIVE` checkpoint while a scrub is
//! pending, at most once per checkpoint interval: a burst of erasures is scrubbed by one
//! checkpoint. A scrub that readers (or the writer) kept from finishing stays pending and is
//! tried again at the next nudge or interval, whichever comes first; it is never dropped.
//! [`Scrub::wait`] waits for the scrubs asked for so far (tests, and shutdown through
//! `WriteStore::scrub`).
//!
//! What it does not cover (ARCHITECTURE.md, "Erasure and copies"): blocks the file system
//! freed (truncating a file returns its blocks to the file system without overwriting them, and
//! a copy-on-write file system or SSD keeps old blocks), and copies taken before the scrub
//! (backups, snapshots, an attacker's copy): those are covered by the rotation of
//! key-encryption keys.

use crate::rows::Result;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use ward_store::StoreError;

/// How long a scrub waits for the writer's transaction and for readers still using the WAL
/// before giving up until the next try. Point reads take microseconds; a long scan (a backup)
/// makes the scrub give up and try again, holding up the writer this long each time.
pub const SCRUB_BUSY_WAIT: Duration = Duration::from_millis(50);

/// The scrubs asked for and done. Shared by the writer thread, the checkpointer and the store.
#[derive(Debug)]
pub(crate) struct Scrub {
    /// Scrubs asked for so far.
    requested: AtomicU64,
    /// The number of the last scrub asked for that a finished `TRUNCATE` covered.
    done: watch::Sender<u64>,
    /// Whether commits that destroyed data ask for a scrub (off only in the benchmark's
    /// comparison, see `SqliteStore::open`).
    after_writes: AtomicBool,
}

impl Default for Scrub {
    fn default() -> Self {
        Self {
            requested: AtomicU64::new(0),
            done: watch::Sender::new(0),
            after_writes: AtomicBool::new(true),
        }
    }
}

impl Scrub {
    /// Turns the scrub after destroying commits on or off (only the `bench` feature's switch
    /// turns it off).
    #[cfg_attr(not(feature = "bench"), allow(dead_code))]
    pub(crate) fn set_after_writes(&self, on: bool) {
        self.after_writes.store(on, Ordering::Relaxed);
    }

    /// After a commit that destroyed data, on the writer thread (before the checkpointer's
    /// nudge): asks for a scrub, unless that is turned off.
    pub(crate) fn after_destroying_commit(&self) {
        if self.after_writes.load(Ordering::Relaxed) {
            self.request();
        }
    }

    /// Asks for a scrub; returns its number, for [`Scrub::wait`].
    pub(crate) fn request(&self) -> u64 {
        self.requested.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The number of the latest scrub asked for, if one is not done yet.
    pub(crate) fn pending(&self) -> Option<u64> {
        let asked = self.requested.load(Ordering::SeqCst);
        (asked > *self.done.borrow()).then_some(asked)
    }

    /// A `TRUNCATE` checkpoint that began when scrub `upto` was the latest has finished.
    pub(crate) fn completed(&self, upto: u64) {
        self.done.send_modify(|d| *d = (*d).max(upto));
    }

    /// The number of the latest scrub asked for.
    pub(crate) fn latest(&self) -> u64 {
        self.requested.load(Ordering::SeqCst)
    }

    /// Waits until scrub `n` is done, at most `timeout`.
    pub(crate) async fn wait(&self, n: u64, timeout: Duration) -> Result<()> {
        let mut done = self.done.subscribe();
        let waited = tokio::time::timeout(timeout, done.wait_for(|d| *d >= n))
            .await
            .map(|r| r.map(|_| ()));
        match waited {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(StoreError::Unavailable("the SQLite checkpointer has stopped".into())),
            Err(_) => Err(StoreError::Unavailable(format!(
                "the WAL scrub did not finish within {timeout:?}: readers kept using the WAL; \
                 it stays pending and runs when they finish"
            ))),
        }
    }
}

/// Runs one `TRUNCATE` checkpoint on the checkpointer's connection; whether it finished (copied
/// every frame and truncated the WAL). On `false` the WAL is as a `PASSIVE` checkpoint leaves it.
pub(crate) fn truncate(conn: &rusqlite::Connection) -> bool {
    // The pragma answers (busy, frames in the WAL, frames checkpointed); busy = 1: a reader or
    // the writer kept it from finishing within the busy wait.
    match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)) {
        Ok(0) => true,
        Ok(_) => {
            tracing::debug!("the WAL scrub waits for readers; it runs again at the next interval");
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, "the WAL scrub (TRUNCATE checkpoint) failed; it runs again at the next interval");
            false
        }
    }
}
