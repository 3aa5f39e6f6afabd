//! `ward backup` and `ward restore` (SQLite).

use crate::app;
use crate::config::Config;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use ward_core::Actor;
use ward_store_sqlite::SqliteStore;

fn sqlite_only(cfg: &Config) -> Result<()> {
    if cfg.database_url.is_some() {
        bail!(
            "`ward backup` and `ward restore` handle the embedded SQLite database; for PostgreSQL, \
             back up with pg_dump and keep `subjects.wrapped_key` out of long-lived copies"
        );
    }
    Ok(())
}

pub async fn backup(cfg: &Config, out: Option<PathBuf>, keys_out: Option<PathBuf>) -> Result<ExitCode> {
    sqlite_only(cfg)?;
    // A key export is readable only with the store's own KEKs: refuse other keys (`binding`).
    drop(app::open_store(cfg).await?);
    let store = SqliteStore::open(&cfg.sqlite_path())
        .await
        .with_context(|| format!("opening {}", cfg.database_description()))?;
    if let Some(out) = out {
        let n = store
            .backup_without_keys(&out)
            .await
            .context("writing the data backup")?;
        println!("data backup {}: {n} subjects, no data keys", out.display());
    }
    if let Some(keys_out) = keys_out {
        let n = store.export_keys(&keys_out).await.context("exporting the data keys")?;
        println!(
            "key export {}: {n} wrapped data keys (readable only with the key-encryption keys in {})",
            keys_out.display(),
            cfg.keys_dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(cfg: &Config, from: &Path, keys: &Path) -> Result<ExitCode> {
    sqlite_only(cfg)?;
    let db = cfg.sqlite_path();
    if db.exists() {
        bail!(
            "{} already exists: restore into a data directory without a database",
            db.display()
        );
    }
    if !from.exists() {
        bail!("data backup {} does not exist", from.display());
    }
    std::fs::copy(from, &db).with_context(|| format!("copying {} to {}", from.display(), db.display()))?;
    let store = SqliteStore::open(&db)
        .await
        .with_context(|| format!("opening the restored {}", db.display()))?;
    let now = ward_core::Clock::now(&ward_core::SystemClock);
    let import = store
        .import_keys(keys, now, &Actor::Cli.to_string())
        .await
        .context("importing the data keys")?;
    drop(store);
    println!("restored {} subjects with their data keys", import.restored);
    println!(
        "{} subjects had no data key in the export (erased after the backup) and stay erased",
        import.erased.len()
    );
    // Open the vault once: it records the policy in force and signs a checkpoint.
    app::open_vault(cfg).await?.shutdown().await?;
    Ok(ExitCode::SUCCESS)
}
