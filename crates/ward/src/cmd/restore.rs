//! `ward restore` (SQLite): a data backup and a later key export, put together in a temporary
//! directory beside the target, checked, and moved into place only when every check passes.
//! A failed restore leaves the data directory as it found it, so it can simply be run again.
//!
//! The checks: the backup passes SQLite's `quick_check`; the key export is one (and shares
//! subjects with the backup, so it is not another vault's); every restored data key unwraps
//! under the key files present; the restored journal verifies with the signing key present;
//! and the subject counts add up to what the backup and the export held.

use super::backup::sqlite_only;
use crate::config::Config;
use crate::{app, keyfiles};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use ward_core::{Actor, Clock, Policy, SystemClock};
use ward_store::{PolicyVersionRecord, Store, SubjectCounts, SubjectStore};
use ward_store_sqlite::{KeyImport, SqliteStore};

/// What a restore put together, for the operator.
struct Restored {
    import: KeyImport,
    counts: SubjectCounts,
    policy_written: Vec<PathBuf>,
}

pub async fn restore(cfg: &Config, from: &Path, keys: &Path) -> Result<ExitCode> {
    sqlite_only(cfg)?;
    let db = cfg.sqlite_path();
    for f in [db.clone(), wal_file(&db, "-wal"), wal_file(&db, "-shm")] {
        if f.exists() {
            bail!(
                "{} already exists: restore into a data directory without a database (nothing was changed)",
                f.display()
            );
        }
    }
    for (what, f) in [("data backup", from), ("key export", keys)] {
        if !f.is_file() {
            bail!("the {what} {} does not exist or is not a file", f.display());
        }
    }
    let material = keyfiles::load(&cfg.keys_dir, cfg.blind_index_bits).with_context(|| {
        format!(
            "restore needs the key files the backup was made with in {} (copy the original data \
             directory's keys/ there; new keys cannot read the backup)",
            cfg.keys_dir.display()
        )
    })?;
    fs::create_dir_all(&cfg.data_dir).with_context(|| format!("creating {}", cfg.data_dir.display()))?;
    let work = tempfile::Builder::new()
        .prefix(".ward-restore-")
        .tempdir_in(&cfg.data_dir)
        .with_context(|| format!("creating a temporary directory in {}", cfg.data_dir.display()))?;
    let restored = build(cfg, work.path(), from, keys, &material.keyring).await?;

    // Every check passed: move the result into place, the database last (its presence is what
    // says "restored"). A hard link never replaces a file that appeared meanwhile; the
    // temporary directory (and its copies) goes when `work` drops.
    let mut placed = Vec::new();
    let moved = (|| -> Result<()> {
        for p in &restored.policy_written {
            let target = beside_policy(cfg, p);
            fs::hard_link(p, &target).with_context(|| format!("writing {}", target.display()))?;
            placed.push(target);
        }
        let fin = work.path().join("final.db");
        fs::hard_link(&fin, &db).with_context(|| format!("moving the restored database to {}", db.display()))?;
        fs::File::open(&cfg.data_dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("syncing {}", cfg.data_dir.display()))
    })();
    if let Err(e) = moved {
        for p in placed {
            let _ = fs::remove_file(p);
        }
        return Err(e);
    }
    drop(work);

    let KeyImport {
        exported,
        restored: with_keys,
        erased,
    } = &restored.import;
    println!(
        "restored {with_keys} subjects with their data keys into {}",
        db.display()
    );
    println!(
        "{} subjects had no data key in the export (erased after the backup) and stay erased",
        erased.len()
    );
    if exported > with_keys {
        println!(
            "{} keys in the export belong to subjects that are not in the data backup (registered after it); \
             their data is not in this backup",
            exported - with_keys
        );
    }
    println!(
        "the restored vault holds {} live and {} erased subjects; its journal verifies",
        restored.counts.active, restored.counts.erased
    );
    for p in &restored.policy_written {
        println!(
            "wrote the policy in force in the backup to {}",
            beside_policy(cfg, p).display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Where a policy file written in the work directory goes: beside the configured policy.
fn beside_policy(cfg: &Config, written: &Path) -> PathBuf {
    cfg.policy_path
        .parent()
        .unwrap_or(Path::new("."))
        .join(written.file_name().unwrap_or_default())
}

fn wal_file(db: &Path, suffix: &str) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Restores into `work/ward.db`, checks it, and leaves a self-contained copy in
/// `work/final.db`.
async fn build(cfg: &Config, work: &Path, from: &Path, keys: &Path, ring: &ward_crypto::KeyRing) -> Result<Restored> {
    let db = work.join("ward.db");
    fs::copy(from, &db).with_context(|| format!("copying {}", from.display()))?;
    crate::startup::check_sqlite_file(&db)
        .await
        .with_context(|| format!("{} is not a usable data backup", from.display()))?;
    let store = SqliteStore::open(&db)
        .await
        .with_context(|| format!("{} is not a Ward data backup", from.display()))?;
    let before = store.count_subjects().await?;
    let now = SystemClock.now();
    let import = store
        .import_keys(keys, now, &Actor::Cli.to_string())
        .await
        .context("importing the data keys")?;
    if before.active > 0 && import.restored == 0 {
        bail!(
            "the key export {} holds no key of any subject in the data backup {} (it belongs to another \
             vault, or is empty); nothing was restored",
            keys.display(),
            from.display()
        );
    }
    check_keys_unwrap(&store, ring).await?;
    let policy_written = write_policy_if_missing(cfg, work, &store).await?;
    drop(store);

    // Open the vault once: it records the policy in force and signs a checkpoint.
    let work_cfg = Config {
        data_dir: work.to_owned(),
        policy_path: if cfg.policy_path.exists() {
            cfg.policy_path.clone()
        } else {
            work.join(cfg.policy_path.file_name().unwrap_or_default())
        },
        ..cfg.clone()
    };
    let vault = app::open_vault(&work_cfg).await?;
    let signer = keyfiles::load(&cfg.keys_dir, cfg.blind_index_bits)?.signer;
    let report = ward_vault::verify_journal_store(vault.store(), &signer).await;
    let counts = vault.store().count_subjects().await;
    vault.shutdown().await?;
    let report = report?;
    if let Some(p) = &report.problem {
        bail!(
            "the restored journal does not verify with the signing key in {}: {p}; nothing was restored",
            cfg.keys_dir.display()
        );
    }
    let counts = counts?;
    let erased_now = u64::try_from(import.erased.len()).unwrap_or(u64::MAX);
    if counts.active != import.restored || counts.erased != before.erased + erased_now {
        bail!(
            "the restored vault holds {} live and {} erased subjects, but the backup had {} live and {} erased \
             and the export restored {} keys; nothing was restored",
            counts.active,
            counts.erased,
            before.active,
            before.erased,
            import.restored
        );
    }
    compact_copy(&db, &work.join("final.db")).await?;
    Ok(Restored {
        import,
        counts,
        policy_written,
    })
}

/// Every restored data key must open under the key files present: an export from a vault
/// with other key-encryption keys would restore subjects no one can read.
async fn check_keys_unwrap(store: &SqliteStore, ring: &ward_crypto::KeyRing) -> Result<()> {
    let mut after = None;
    loop {
        let page = store.find_wrapped_keys(after, 1_000).await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some(last.subject);
        for r in &page {
            if ring
                .unwrap(r.subject.as_bytes(), &r.key.kek_id, &r.key.wrapped)
                .is_err()
            {
                bail!(
                    "subject {}'s data key (under key-encryption key {}) does not open with the key files \
                     present: the key export or the key files belong to another vault; nothing was restored",
                    r.subject,
                    r.key.kek_id
                );
            }
        }
    }
}

/// When the data directory has no policy file, writes the version in force in the backup
/// (and its text file) into `work`; returns what it wrote.
async fn write_policy_if_missing(cfg: &Config, work: &Path, store: &SqliteStore) -> Result<Vec<PathBuf>> {
    if cfg.policy_path.exists() {
        return Ok(Vec::new());
    }
    let store: Arc<dyn Store> = Arc::new(store.clone());
    let versions = store.find_policy_versions().await?;
    let now = SystemClock.now();
    let Some(v) = in_force(&versions, now) else {
        bail!(
            "{} does not exist and the data backup records no policy version: put the policy there and \
             run restore again",
            cfg.policy_path.display()
        );
    };
    let mut written = Vec::new();
    let path = work.join(cfg.policy_path.file_name().unwrap_or_default());
    write_private(&path, &v.source)?;
    written.push(path);
    let parsed = Policy::parse(&v.source).ok();
    if let (Some(name), Some(text)) = (parsed.and_then(|p| p.text_file), &v.text) {
        let file = Path::new(&name);
        if file.components().count() == 1 && !cfg.policy_path.with_file_name(file).exists() {
            let path = work.join(file);
            write_private(&path, text)?;
            written.push(path);
        }
    }
    Ok(written)
}

fn in_force(versions: &[PolicyVersionRecord], now: time::OffsetDateTime) -> Option<&PolicyVersionRecord> {
    versions
        .iter()
        .filter(|v| v.effective_at <= now)
        .max_by_key(|v| (v.effective_at, v.recorded_at))
        .or_else(|| versions.iter().min_by_key(|v| v.effective_at))
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    keyfiles::write_secret(path, text.as_bytes())
}

/// A self-contained copy of `db` (no WAL beside it, no free pages holding erased data),
/// readable only by its owner.
async fn compact_copy(db: &Path, dest: &Path) -> Result<()> {
    let (db, dest) = (db.to_owned(), dest.to_owned());
    tokio::task::spawn_blocking(move || ward_store_sqlite::vacuum_into(&db, &dest))
        .await
        .context("writing the restored database")?
        .map_err(|e| anyhow::anyhow!("writing the restored database: {e}"))
}
