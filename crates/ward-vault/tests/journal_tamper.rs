//! Every way of tampering with the journal is caught, and named.

use std::collections::BTreeMap;
use std::sync::Arc;
use time::macros::datetime;
use ward_core::consent::Evidence;
use ward_core::policy::DEFAULT_POLICY;
use ward_core::{Caller, FakeClock, Policy};
use ward_store::Store;
use ward_store_sqlite::SqliteStore;
use ward_vault::{KeyMaterial, NewSubjectInput, Tamper, Vault, VaultConfig};

struct Fixture {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    vault: Vault,
}

/// A journal of about 30 entries with a signed checkpoint after entry 20.
async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).await.unwrap());
    let clock = Arc::new(FakeClock::new(datetime!(2026-11-21 10:00 UTC)));
    let policy = Policy::parse(DEFAULT_POLICY).unwrap();
    let vault = Vault::open(
        store,
        KeyMaterial::generate(24),
        policy,
        DEFAULT_POLICY,
        clock.clone(),
        VaultConfig::default(),
    )
    .await
    .unwrap();
    let cli = Caller::cli();
    let mut ids = Vec::new();
    for i in 0..8 {
        let input = NewSubjectInput {
            age_band: None,
            purpose: "registration".into(),
            fields: BTreeMap::from([("email".to_owned(), format!("user{i}@example.org"))]),
            consents: vec!["marketing".into()],
            evidence: Some(Evidence {
                channel: "web_form".into(),
                ..Evidence::default()
            }),
        };
        ids.push(vault.subjects().create(&cli, input).await.unwrap());
        clock.advance(time::Duration::seconds(1));
    }
    // 1 policy entry + 8 × (collection + consent) = 17 entries; three reads make 20.
    for id in &ids[..3] {
        vault.subjects().read(&cli, *id, "marketing", None).await.unwrap();
    }
    let cp = vault.journal().checkpoint().await.unwrap().expect("a checkpoint");
    assert_eq!(cp.seq, 20);
    for id in &ids[3..] {
        vault.subjects().read(&cli, *id, "registration", None).await.unwrap();
    }
    vault.shutdown().await.unwrap();
    Fixture { _dir: dir, db, vault }
}

impl Fixture {
    async fn tamper(&self, sql: &[&str]) {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        for s in sql {
            conn.execute_batch(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        conn.close().map_err(|(_, e)| e).unwrap();
    }

    /// The problem verification names; checking the journal in ranges of any length, with
    /// range boundaries at every position, names the same one.
    async fn problem(&self) -> Option<Tamper> {
        let (store, signer) = (self.vault.store(), &self.vault.keys().material().signer);
        let whole = ward_vault::verify_journal_store(store, signer).await.unwrap();
        for len in 1..=9 {
            let ranged = ward_vault::verify_journal_store_in_ranges(store, signer, len)
                .await
                .unwrap();
            assert_eq!(ranged, whole, "in ranges of {len}");
        }
        whole.problem
    }
}

#[tokio::test]
async fn an_untouched_journal_verifies() {
    let f = fixture().await;
    let r = ward_vault::verify_journal_store(f.vault.store(), &f.vault.keys().material().signer)
        .await
        .unwrap();
    assert_eq!((r.entries, r.checkpoints, r.problem), (25, 2, None));
}

#[tokio::test]
async fn a_modified_entry_is_named() {
    for (column, value) in [
        ("at", "at + 1"),
        ("actor", "'key:evil'"),
        ("action", "'use'"),
        ("subject", "randomblob(16)"),
        ("purpose", "'analytics'"),
        ("fields", "'email,phone'"),
        ("detail", "'x'"),
        ("prev_hash", "randomblob(32)"),
        ("hash", "randomblob(32)"),
    ] {
        let f = fixture().await;
        f.tamper(&[&format!("UPDATE journal SET {column} = {value} WHERE seq = 7")])
            .await;
        assert_eq!(
            f.problem().await,
            Some(Tamper::Modified { seq: 7 }),
            "changing {column}"
        );
    }
}

#[tokio::test]
async fn a_removed_entry_is_named() {
    let f = fixture().await;
    f.tamper(&["DELETE FROM journal WHERE seq = 7"]).await;
    assert_eq!(f.problem().await, Some(Tamper::Removed { seq: 7 }));

    // Renumbering the rest to hide the gap does not help.
    let f = fixture().await;
    f.tamper(&[
        "DELETE FROM journal WHERE seq = 7",
        "UPDATE journal SET seq = seq + 1000 WHERE seq > 7",
        "UPDATE journal SET seq = seq - 1001 WHERE seq > 1000",
    ])
    .await;
    assert_eq!(f.problem().await, Some(Tamper::Removed { seq: 7 }));
}

#[tokio::test]
async fn an_inserted_entry_is_named() {
    // A forged row at 7 that links to entry 6 and whose own hash is right: a forger who can
    // compute SHA-256 but cannot make Ward's later entries link through it.
    let f = fixture().await;
    let store = f.vault.store();
    let six = store.find_journal_entries(5, 1).await.unwrap().remove(0);
    let mut forged = ward_store::JournalEntry {
        seq: 7,
        purpose: Some("forged".into()),
        prev_hash: six.hash,
        ..six.clone()
    };
    forged.hash = ward_store::chain::content(&forged).hash_after(&forged.prev_hash);
    let insert = format!(
        "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
         SELECT 7, at, actor, action, subject, 'forged', fields, detail, X'{}', X'{}' FROM journal WHERE seq = 1006",
        hex::encode(forged.prev_hash),
        hex::encode(forged.hash)
    );
    f.tamper(&[
        "UPDATE journal SET seq = seq + 1000 WHERE seq >= 6",
        &insert,
        "UPDATE journal SET seq = seq - 1000 WHERE seq = 1006",
        "UPDATE journal SET seq = seq - 999 WHERE seq > 1006",
    ])
    .await;
    assert_eq!(f.problem().await, Some(Tamper::Inserted { seq: 7 }));
}

#[tokio::test]
async fn a_reordered_entry_is_named() {
    let f = fixture().await;
    f.tamper(&[
        "UPDATE journal SET seq = -1 WHERE seq = 7",
        "UPDATE journal SET seq = 7 WHERE seq = 8",
        "UPDATE journal SET seq = 8 WHERE seq = -1",
    ])
    .await;
    assert_eq!(f.problem().await, Some(Tamper::Reordered { seq: 7 }));
}

#[tokio::test]
async fn a_rewritten_chain_is_caught_by_the_signed_checkpoint() {
    let f = fixture().await;
    // Change entry 7, then recompute every later hash so the chain itself is consistent.
    let store = f.vault.store().clone();
    let mut entries = store.find_journal_entries(0, 1000).await.unwrap();
    entries[6].purpose = Some("analytics".into());
    let mut prev = entries[5].hash;
    let mut sql = Vec::new();
    for e in entries.iter_mut().skip(6) {
        e.prev_hash = prev;
        e.hash = ward_store::chain::content(e).hash_after(&prev);
        prev = e.hash;
        sql.push(format!(
            "UPDATE journal SET purpose = {}, prev_hash = X'{}', hash = X'{}' WHERE seq = {}",
            e.purpose.as_ref().map_or("NULL".to_owned(), |p| format!("'{p}'")),
            hex::encode(e.prev_hash),
            hex::encode(e.hash),
            e.seq
        ));
    }
    let sql: Vec<&str> = sql.iter().map(String::as_str).collect();
    f.tamper(&sql).await;
    assert_eq!(f.problem().await, Some(Tamper::CheckpointMismatch { seq: 20 }));
}

#[tokio::test]
async fn truncation_and_forged_checkpoints_are_caught() {
    let f = fixture().await;
    f.tamper(&["DELETE FROM journal WHERE seq > 22"]).await;
    assert_eq!(
        f.problem().await,
        Some(Tamper::Truncated {
            last_seq: 22,
            checkpoint_seq: 25
        })
    );

    let f = fixture().await;
    f.tamper(&["UPDATE journal_checkpoints SET seq = 19 WHERE seq = 20"])
        .await;
    assert_eq!(f.problem().await, Some(Tamper::BadCheckpoint { seq: 19 }));
}
