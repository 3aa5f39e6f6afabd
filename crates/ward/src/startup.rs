//! Start-up checks of the database: Ward refuses to start, with the reason, rather than
//! serve a store it cannot trust or write.
//!
//! - Key files and their database are made together, by `ward init`. A data directory with
//!   keys but a missing or empty `ward.db` lost its database (or `--data-dir` points at the
//!   wrong place): Ward does not start a new empty vault there.
//! - A `ward.db`, or a data directory, that cannot be written is refused at start: every read
//!   is journaled, so a read-only store would answer every request with 503.
//! - `serve` and `restore` run SQLite's `PRAGMA quick_check` and refuse a damaged file.

use crate::config::Config;
use anyhow::{bail, Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The key file every initialised key directory has.
const SIGNING_KEY: &str = "journal-signing.key";

/// Refuses a SQLite database that is missing or empty beside existing keys, or not writable.
/// Nothing to check for PostgreSQL here.
pub fn refuse_unusable_database(cfg: &Config) -> Result<()> {
    if cfg.database_url.is_some() {
        return Ok(());
    }
    let db = cfg.sqlite_path();
    let keys_exist = cfg.keys_dir.join(SIGNING_KEY).exists();
    let restore_hint =
        "restore it with `ward restore --from DATA_BACKUP --keys KEY_EXPORT` (see `ward restore --help`), \
                        or point --data-dir at the directory that holds the database";
    match std::fs::metadata(&db) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if keys_exist {
                bail!(
                    "the database {} is missing, but key files exist in {}: keys are made together with their \
                     database, so this data directory has lost its database; {restore_hint}. If its store is \
                     PostgreSQL, give the URL (--database-url, WARD_DATABASE_URL, or database_url in ward.toml, \
                     where `ward init --database-url` saves it). Ward does not start a new empty vault beside \
                     existing keys",
                    db.display(),
                    cfg.keys_dir.display()
                );
            }
            return Ok(());
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", db.display())),
        Ok(meta) if meta.len() == 0 => bail!(
            "the database {} is empty (0 bytes): it is not a Ward database; {restore_hint}. Ward does not start \
             a new empty vault in its place",
            db.display()
        ),
        Ok(meta) => refuse_read_only(&db, meta.permissions().mode(), "file")?,
    }
    let dir_mode = std::fs::metadata(&cfg.data_dir)
        .with_context(|| format!("reading {}", cfg.data_dir.display()))?
        .permissions()
        .mode();
    refuse_read_only(&cfg.data_dir, dir_mode, "directory")
}

fn refuse_read_only(path: &Path, mode: u32, what: &str) -> Result<()> {
    if mode & 0o200 == 0 {
        bail!(
            "the database {what} {} is read-only (mode {:o}): Ward writes every operation, reads included, \
             into its journal, so it needs to write there (SQLite also keeps ward.db-wal and ward.db-shm \
             beside the database); give its owner write permission (chmod u+w)",
            path.display(),
            mode & 0o7777
        );
    }
    Ok(())
}

/// Runs SQLite's `quick_check` on the database and refuses a damaged one (SQLite only).
pub async fn check_integrity(cfg: &Config) -> Result<()> {
    if cfg.database_url.is_some() {
        return Ok(());
    }
    // Before SQLite opens (and would create) the file.
    refuse_unusable_database(cfg)?;
    check_sqlite_file(&cfg.sqlite_path()).await
}

/// [`check_integrity`] of one SQLite file.
pub async fn check_sqlite_file(db: &Path) -> Result<()> {
    let path = db.to_owned();
    tokio::task::spawn_blocking(move || ward_store_sqlite::quick_check(&path))
        .await
        .context("checking the database")?
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| {
            format!(
                "the database {} failed SQLite's integrity check; restore it from a backup (`ward restore`)",
                db.display()
            )
        })
}

/// Creates the (SQLite) database that goes with key files `init` has just made, if there is
/// none yet. The checks above then find a database beside the keys.
pub async fn create_database(cfg: &Config) -> Result<()> {
    if cfg.database_url.is_some() || cfg.sqlite_path().exists() {
        return Ok(());
    }
    let db = cfg.sqlite_path();
    let path = db.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = ward_store_sqlite::open_writer(&path)?;
        ward_store_sqlite::migrate(&mut conn)
    })
    .await
    .context("creating the database")?
    .map_err(|e| anyhow::anyhow!("{e}"))
    .with_context(|| format!("creating {}", db.display()))
}
