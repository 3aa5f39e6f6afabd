//! A KEK rotation done by another process is picked up by a running vault.

use std::collections::BTreeMap;
use std::sync::Arc;
use time::macros::datetime;
use ward_core::policy::DEFAULT_POLICY;
use ward_core::{Caller, FakeClock, Policy};
use ward_crypto::{BlindIndex, CheckpointSigner, Kek, KeyRing, TokenHasher};
use ward_store_sqlite::SqliteStore;
use ward_vault::{KeyMaterial, NewSubjectInput, Vault, VaultConfig};

fn keys(ring: KeyRing) -> KeyMaterial {
    KeyMaterial {
        keyring: ring,
        blind_index: BlindIndex::new([1; 32], 24),
        tokens: TokenHasher::new([2; 32]),
        signer: CheckpointSigner::from_seed([3; 32]),
    }
}

async fn open(db: &std::path::Path, ring: KeyRing) -> Vault {
    let store = Arc::new(SqliteStore::open(db).await.unwrap());
    let clock = Arc::new(FakeClock::new(datetime!(2026-11-21 10:00 UTC)));
    let policy = Policy::parse(DEFAULT_POLICY).unwrap();
    Vault::open(store, keys(ring), policy, DEFAULT_POLICY, clock, VaultConfig::default())
        .await
        .unwrap()
}

fn subject(email: &str) -> NewSubjectInput {
    NewSubjectInput {
        bases: Vec::new(),
        age_band: None,
        purpose: "registration".into(),
        fields: BTreeMap::from([("email".to_owned(), email.to_owned())]),
        consents: vec![],
        evidence: None,
    }
}

#[tokio::test]
async fn a_running_vault_loads_a_kek_rotated_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    let (k1, k2) = (Kek::generate("1"), Kek::generate("2"));
    let cli = Caller::cli();

    let running = open(&db, KeyRing::new([k1.clone()], "1").unwrap()).await;
    let (r1, r2) = (k1.clone(), k2.clone());
    let (k1_again, k2_again) = (k1.clone(), k2.clone());
    running.keys().set_reloader(Box::new(move || {
        KeyRing::new([r1.clone(), r2.clone()], "2").map_err(|e| e.to_string())
    }));
    let id = running
        .subjects()
        .create(&cli, subject("before@example.org"))
        .await
        .unwrap();

    // Another process rotates to kek 2 and re-wraps everything.
    let rotator = open(&db, KeyRing::new([k1, k2], "2").unwrap()).await;
    assert_eq!(rotator.keys().rewrap_all(&cli).await.unwrap().rewrapped, 1);
    rotator.shutdown().await.unwrap();

    // The running vault meets a key under kek 2, loads it for unwrapping, and reads on; an
    // unchecked key file never becomes the active KEK.
    let view = running.subjects().read(&cli, id, "registration", None).await.unwrap();
    assert_eq!(view.fields["email"], "before@example.org");
    assert_eq!(running.keys().ring().active_id(), "1");
    assert!(running.keys().ring().has("2"));
    assert!(!running.keys().reload().unwrap(), "nothing to add since");

    // The checked reload (the binary's key reload job) puts kek 2 in force: new subjects are
    // now wrapped under it.
    assert!(running
        .keys()
        .install(KeyRing::new([k1_again.clone(), k2_again.clone()], "2").unwrap()));
    let id2 = running
        .subjects()
        .create(&cli, subject("after@example.org"))
        .await
        .unwrap();
    let rec = running.store().find_subject(id2).await.unwrap().unwrap();
    assert_eq!(rec.key.unwrap().kek_id, "2");
    assert!(!running
        .keys()
        .install(KeyRing::new([k1_again, k2_again.clone()], "2").unwrap()));

    // Once kek 1 is destroyed, installing the ring without it drops it from memory.
    assert!(running.keys().install(KeyRing::new([k2_again], "2").unwrap()));
    assert!(!running.keys().ring().has("1"));
    let view = running.subjects().read(&cli, id, "registration", None).await.unwrap();
    assert_eq!(view.fields["email"], "before@example.org");
    running.shutdown().await.unwrap();
}
