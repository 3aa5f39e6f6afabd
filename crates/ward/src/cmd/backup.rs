//! `ward backup` (SQLite); `ward restore` is in [`super::restore`].

use crate::app;
use crate::config::Config;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use ward_store_sqlite::SqliteStore;

pub(super) fn sqlite_only(cfg: &Config) -> Result<()> {
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
