//! Keys bound to their store. The store records the keys it was made with (each key's
//! fingerprint, `keyfiles`), and Ward opens a store only with those keys: a missing, mistyped
//! or wrong key directory is refused with the mismatch named, before anything is written.
//!
//! - A new store (an empty journal) is bound to the keys it is first opened with: `ward init`
//!   (or the first `serve` of an empty data directory) made them a moment before.
//! - A store of an earlier build, with a journal but no binding, is bound on first open only if
//!   the keys prove they are its own: the newest checkpoint verifies under the signing key, a
//!   data key unwraps under the KEK ring, and the data directory's `admin-token` (if present)
//!   matches its stored hash under the token key. Otherwise it is refused.
//! - A KEK file the binding does not know is accepted only by `ward keys rotate`, which
//!   records it in the same step as it re-wraps under it.
//! - Keys are created only for a new store: [`refuse_keys_for_existing_store`].
//!
//! Each recording is journaled (`key.binding`, a journal-only write).

use crate::config::Config;
use crate::keyfiles::{self, Loaded};
use anyhow::{bail, Context, Result};
use std::sync::Arc;
use time::OffsetDateTime;
use ward_core::journal::AdminEvent;
use ward_core::{Actor, JournalDraft};
use ward_store::{BoundKey, Change, JournalStore, KeyBindingStore, Store, WriteOp};
use ward_store_postgres::PgStore;
use ward_store_sqlite::SqliteStore;
use ward_vault::KeyMaterial;

/// What to do with a KEK file the binding does not record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewKeks {
    /// Refuse to open (every command but `ward keys rotate`).
    Refuse,
    /// Record it: `ward keys rotate` made it.
    Record,
}

/// Whether an empty store may be bound to the keys found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EmptyStore {
    /// `init` has just made the keys for this store.
    Bind,
    /// Any other command. A SQLite database is in the data directory beside its keys (and
    /// `startup` refuses a missing or empty one); an empty PostgreSQL database beside existing
    /// keys is another store than theirs (a mistyped URL, or a URL given to a SQLite data
    /// directory), and is refused.
    RefusePostgres,
}

/// Loads the configured keys and opens the configured store (applying migrations), refusing
/// keys that are not the store's.
pub async fn open(cfg: &Config, new_keks: NewKeks) -> Result<(KeyMaterial, Arc<dyn Store>)> {
    open_with(cfg, new_keks, EmptyStore::RefusePostgres).await
}

/// Binds a new store to the keys `init` has just made for it.
pub async fn bind_new_store(cfg: &Config) -> Result<()> {
    open_with(cfg, NewKeks::Refuse, EmptyStore::Bind).await.map(drop)
}

async fn open_with(cfg: &Config, new_keks: NewKeks, empty: EmptyStore) -> Result<(KeyMaterial, Arc<dyn Store>)> {
    crate::startup::refuse_unusable_database(cfg)?;
    let loaded = keyfiles::load_with_fingerprints(&cfg.keys_dir, cfg.blind_index_bits)?;
    let store: Arc<dyn Store> = match &cfg.database_url {
        None => {
            let s = SqliteStore::open(&cfg.sqlite_path())
                .await
                .with_context(|| format!("opening {}", cfg.database_description()))?;
            enforce(&s, &loaded, cfg, new_keks, empty).await?;
            Arc::new(s)
        }
        Some(url) => {
            let s = PgStore::connect(url)
                .await
                .with_context(|| format!("connecting to {}", cfg.database_description()))?;
            enforce(&s, &loaded, cfg, new_keks, empty).await?;
            Arc::new(s)
        }
    };
    Ok((loaded.material, store))
}

/// Before `init` creates keys: refuses when the key directory has none but the store exists,
/// since keys made now could never open it. Creates nothing.
pub async fn refuse_keys_for_existing_store(cfg: &Config) -> Result<()> {
    if keyfiles::any_present(&cfg.keys_dir)? {
        return Ok(());
    }
    let exists = match &cfg.database_url {
        None => std::fs::metadata(cfg.sqlite_path()).is_ok_and(|m| m.len() > 0),
        Some(url) => {
            let s = PgStore::connect(url)
                .await
                .with_context(|| format!("connecting to {}", cfg.database_description()))?;
            !s.find_key_binding().await?.is_empty() || s.find_journal_head().await?.is_some()
        }
    };
    if exists {
        bail!(
            "{} exists, but the key directory {} has no keys (a mistyped --keys-dir or \
             WARD_KEYS_DIR, or a deleted keys/?). Keys made now could never open that store, so \
             Ward makes none: point --keys-dir at the store's key files",
            cfg.database_description(),
            cfg.keys_dir.display()
        );
    }
    Ok(())
}

async fn enforce<S: Store>(s: &S, loaded: &Loaded, cfg: &Config, new_keks: NewKeks, empty: EmptyStore) -> Result<()> {
    let recorded = s.find_key_binding().await.context("reading the store's key binding")?;
    let (to_record, why) = if recorded.is_empty() {
        let head = s.find_journal_head().await?;
        if head.is_none() && cfg.database_url.is_some() && empty == EmptyStore::RefusePostgres {
            refuse_empty_postgres(cfg)?;
        }
        if head.is_some() {
            let proofs = prove_legacy(s, &loaded.material, cfg).await?;
            (
                loaded.fingerprints.clone(),
                format!("a store of an earlier build, bound after proof ({proofs})"),
            )
        } else {
            (loaded.fingerprints.clone(), "a new store".to_owned())
        }
    } else {
        let new = compare(&recorded, loaded, cfg, new_keks)?;
        (new, "a new key-encryption key from `ward keys rotate`".to_owned())
    };
    record(s, &to_record, OffsetDateTime::now_utc(), &why).await
}

/// Records keys (binding name, fingerprint) in the store's key binding at `now`, and journals
/// it (`key.binding`, a journal-only write). Names already recorded keep their first record.
pub async fn record<S: Store + ?Sized>(s: &S, keys: &[(String, String)], now: OffsetDateTime, why: &str) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let rows: Vec<BoundKey> = keys
        .iter()
        .map(|(name, fingerprint)| BoundKey {
            name: name.clone(),
            fingerprint: fingerprint.clone(),
            recorded_at: now,
        })
        .collect();
    s.record_key_binding(&rows).await.context("recording the key binding")?;
    let listed: Vec<String> = keys.iter().map(|(n, f)| format!("{n} {}", prefix(f))).collect();
    let entry = JournalDraft::new(now, &Actor::System, AdminEvent::KeyBinding)
        .detail(format!("key binding recorded for {why}: {}", listed.join(", ")));
    s.write(vec![WriteOp {
        change: Change::JournalOnly,
        journal: vec![entry],
    }])
    .await
    .context("journaling the key binding")?;
    tracing::info!(keys = %listed.join(", "), "key binding recorded for {why}");
    Ok(())
}

/// An empty PostgreSQL database beside keys made for another store.
fn refuse_empty_postgres(cfg: &Config) -> Result<()> {
    let sqlite = if cfg.sqlite_path().exists() {
        format!(
            " This data directory's store is the SQLite database {}: leave the database URL unset to \
             open it.",
            cfg.sqlite_path().display()
        )
    } else {
        String::new()
    };
    bail!(
        "{} holds no Ward data, but the key directory {} has keys, made for another store: Ward binds \
         keys only to the store `ward init` made them with, and does not start a second, empty vault \
         beside it.{sqlite} Check the URL (--database-url, WARD_DATABASE_URL, database_url in {}); \
         for a new vault on this database, run `ward init` with a new --data-dir",
        cfg.database_description(),
        cfg.keys_dir.display(),
        cfg.data_dir.join(crate::config::CONFIG_FILE).display()
    )
}

fn prefix(fingerprint: &str) -> &str {
    fingerprint.get(..12).unwrap_or(fingerprint)
}

/// Compares the keys found with the binding; returns the KEKs to record (only with
/// [`NewKeks::Record`]). Every mismatch is named.
pub fn compare(
    recorded: &[BoundKey],
    loaded: &Loaded,
    cfg: &Config,
    new_keks: NewKeks,
) -> Result<Vec<(String, String)>> {
    let mut problems = Vec::new();
    let mut new = Vec::new();
    for (name, found) in &loaded.fingerprints {
        match recorded.iter().find(|r| &r.name == name) {
            Some(r) if &r.fingerprint == found => {}
            Some(r) => problems.push(format!(
                "{} is not the store's: fingerprint {}…, the store recorded {}…",
                file_of(name),
                prefix(found),
                prefix(&r.fingerprint)
            )),
            None if name.starts_with("kek:") && new_keks == NewKeks::Record => new.push((name.clone(), found.clone())),
            None if name.starts_with("kek:") => problems.push(format!(
                "{} (fingerprint {}…) is not one of the store's key-encryption keys (if an interrupted \
                 `ward keys rotate` wrote it, run `ward keys rotate --resume`)",
                file_of(name),
                prefix(found)
            )),
            // A key this build has that the binding predates: nothing to compare.
            None => {}
        }
    }
    for r in recorded {
        let found = loaded.fingerprints.iter().any(|(n, _)| n == &r.name);
        // Old KEKs may be removed once rotation re-wrapped everything under a newer one.
        if !found && !r.name.starts_with("kek:") {
            problems.push(format!(
                "{} is missing (the store recorded {}…)",
                file_of(&r.name),
                prefix(&r.fingerprint)
            ));
        }
    }
    if !problems.is_empty() {
        bail!(
            "the keys in {} are not the keys of {}:\n  {}\nCheck --keys-dir, WARD_KEYS_DIR and keys_dir in ward.toml; \
             Ward never opens a store with other keys",
            cfg.keys_dir.display(),
            cfg.database_description(),
            problems.join("\n  ")
        );
    }
    Ok(new)
}

fn file_of(name: &str) -> String {
    match name.strip_prefix("kek:") {
        Some(id) => format!("kek-{id}.key"),
        None if name == keyfiles::SIGNING_BINDING => "journal-signing.key".into(),
        None if name == keyfiles::TOKEN_BINDING => "token.key".into(),
        None if name == keyfiles::BLIND_BINDING => "blind-index.key".into(),
        None => name.to_owned(),
    }
}

/// For a store without a binding that has a journal: checks that the keys open it. Returns what
/// was proven; refuses when anything fails or nothing could be checked.
async fn prove_legacy<S: Store>(s: &S, keys: &KeyMaterial, cfg: &Config) -> Result<String> {
    let refuse = |what: String| -> anyhow::Error {
        anyhow::anyhow!(
            "the keys in {} do not open {}: {what}. This store has no key binding yet (an earlier \
             build made it); Ward binds it only to keys that open it. Check --keys-dir, \
             WARD_KEYS_DIR and keys_dir in ward.toml",
            cfg.keys_dir.display(),
            cfg.database_description()
        )
    };
    let mut proofs = Vec::new();
    if let Some(cp) = s.find_checkpoints().await?.last() {
        if keys.signer.verify(cp).is_err() {
            return Err(refuse(format!(
                "journal-signing.key did not sign the newest checkpoint (entry {})",
                cp.seq
            )));
        }
        proofs.push("the newest checkpoint verifies");
    }
    if let Some(r) = s.find_wrapped_keys(None, 1).await?.first() {
        if keys
            .keyring
            .unwrap(r.subject.as_bytes(), &r.key.kek_id, &r.key.wrapped)
            .is_err()
        {
            return Err(refuse(format!(
                "a data key wrapped under kek:{} does not unwrap with kek-{}.key",
                r.key.kek_id, r.key.kek_id
            )));
        }
        proofs.push("a data key unwraps");
    }
    let token_path = cfg.data_dir.join(crate::app::ADMIN_TOKEN_FILE);
    if let Some(token) = std::fs::read_to_string(&token_path)
        .ok()
        .and_then(|t| ward_crypto::ApiToken::parse(t.trim()))
    {
        if let Some(rec) = s.find_api_key(token.id()).await? {
            if !keys.tokens.verify(&token, &rec.token_hash) {
                return Err(refuse(format!(
                    "token.key does not hash {} to its stored hash",
                    token_path.display()
                )));
            }
            proofs.push("the admin token matches");
        }
    }
    if proofs.is_empty() {
        return Err(refuse(
            "nothing in it (no checkpoint, data key or admin token) shows that they do".into(),
        ));
    }
    Ok(proofs.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn bound(name: &str, fingerprint: &str) -> BoundKey {
        BoundKey {
            name: name.into(),
            fingerprint: fingerprint.into(),
            recorded_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn found(keys: &[(&str, &str)]) -> Loaded {
        Loaded {
            material: KeyMaterial::generate(24),
            fingerprints: keys.iter().map(|(n, f)| ((*n).into(), (*f).into())).collect(),
        }
    }

    fn recorded() -> Vec<BoundKey> {
        vec![
            bound("kek:1", "11aa11aa11aa11aa"),
            bound("kek:2", "22bb22bb22bb22bb"),
            bound("token", "33cc33cc33cc33cc"),
            bound("journal-signing", "44dd44dd44dd44dd"),
        ]
    }

    #[test]
    fn old_keks_may_go_but_nothing_else_may_differ_or_be_missing() {
        let cfg = Config::load(Path::new("/nonexistent"), &Default::default()).unwrap();
        let r = recorded();
        // kek-1 removed after a rotation: fine.
        let ok = found(&[
            ("kek:2", "22bb22bb22bb22bb"),
            ("token", "33cc33cc33cc33cc"),
            ("journal-signing", "44dd44dd44dd44dd"),
        ]);
        assert!(compare(&r, &ok, &cfg, NewKeks::Refuse).unwrap().is_empty());

        // A wrong token key and a missing signing key are both named.
        let bad = found(&[("kek:2", "22bb22bb22bb22bb"), ("token", "99ee99ee99ee99ee")]);
        let e = compare(&r, &bad, &cfg, NewKeks::Refuse).unwrap_err().to_string();
        assert!(
            e.contains("token.key is not the store's: fingerprint 99ee99ee99ee…, the store recorded 33cc33cc33cc…"),
            "{e}"
        );
        assert!(e.contains("journal-signing.key is missing"), "{e}");

        // An unknown KEK: refused, or recorded by rotation.
        let new = found(&[
            ("kek:2", "22bb22bb22bb22bb"),
            ("kek:3", "55ff55ff55ff55ff"),
            ("token", "33cc33cc33cc33cc"),
            ("journal-signing", "44dd44dd44dd44dd"),
        ]);
        let e = compare(&r, &new, &cfg, NewKeks::Refuse).unwrap_err().to_string();
        assert!(
            e.contains("kek-3.key (fingerprint 55ff55ff55ff…) is not one of the store's"),
            "{e}"
        );
        assert_eq!(
            compare(&r, &new, &cfg, NewKeks::Record).unwrap(),
            [("kek:3".to_owned(), "55ff55ff55ff55ff".to_owned())]
        );
        // Rotation does not turn a changed KEK into a new one.
        let changed = found(&[
            ("kek:2", "00000000deadbeef"),
            ("token", "33cc33cc33cc33cc"),
            ("journal-signing", "44dd44dd44dd44dd"),
        ]);
        let e = compare(&r, &changed, &cfg, NewKeks::Record).unwrap_err().to_string();
        assert!(e.contains("kek-2.key is not the store's"), "{e}");
    }
}
