//! Idempotency keys across two processes on one store: both find no record of the key and run
//! the same request; the record is claimed in the transaction of the first one's change, so
//! the second writes nothing and is told `idempotency_in_progress` (SQLite, and PostgreSQL
//! unless it is unreachable and not required).

use std::collections::BTreeMap;
use std::sync::Arc;
use time::macros::datetime;
use ward_core::policy::DEFAULT_POLICY;
use ward_core::{Caller, FakeClock, Policy, ProblemCode};
use ward_crypto::{BlindIndex, CheckpointSigner, Kek, KeyRing, TokenHasher};
use ward_store::Store;
use ward_vault::idempotency::{fingerprint, Answer, Checked};
use ward_vault::{KeyMaterial, NewSubjectInput, Vault, VaultConfig};

/// The same key files, as two processes load them.
fn keys(seed: u8) -> KeyMaterial {
    KeyMaterial {
        keyring: KeyRing::new([Kek::new("1", [seed; 32])], "1").expect("a key ring"),
        blind_index: BlindIndex::new([seed.wrapping_add(1); 32], 24),
        tokens: TokenHasher::new([seed.wrapping_add(2); 32]),
        signer: CheckpointSigner::from_seed([seed.wrapping_add(3); 32]),
    }
}

async fn open(store: Arc<dyn Store>, clock: &FakeClock) -> Vault {
    Vault::open(
        store,
        keys(7),
        Policy::parse(DEFAULT_POLICY).expect("the default policy"),
        DEFAULT_POLICY,
        Arc::new(clock.clone()),
        VaultConfig::default(),
    )
    .await
    .expect("open a vault")
}

fn anna() -> NewSubjectInput {
    NewSubjectInput {
        purpose: "registration".into(),
        fields: BTreeMap::from([("email".to_owned(), "anna@example.org".to_owned())]),
        consents: vec![],
        age_band: None,
        evidence: None,
        bases: vec![],
    }
}

async fn a_duplicate_in_another_process_writes_nothing(first: Arc<dyn Store>, second: Arc<dyn Store>) {
    let clock = FakeClock::new(datetime!(2026-12-06 10:00 UTC));
    let (a, b) = (open(first.clone(), &clock).await, open(second, &clock).await);
    let caller = Caller::cli();
    let request = fingerprint("POST", "/v1/subjects", b"{\"same\":true}");
    let key = a.idempotency().key_hash(&caller, "k-1");
    assert_eq!(
        key,
        b.idempotency().key_hash(&caller, "k-1"),
        "one key, whichever process"
    );

    // Both look before either writes: neither finds the key.
    let Ok(Checked::Run(in_a)) = a.idempotency().check(&caller, key, request).await else {
        panic!("a runs");
    };
    let Ok(Checked::Run(in_b)) = b.idempotency().check(&caller, key, request).await else {
        panic!("b runs");
    };
    let (made, claimed) = a.idempotency().run(&in_a, a.subjects().create(&caller, anna())).await;
    let id = made.expect("a registers");
    assert!(claimed);
    let (dup, claimed) = b.idempotency().run(&in_b, b.subjects().create(&caller, anna())).await;
    assert!(!claimed);
    assert!(
        matches!(&dup, Err(e) if e.code() == ProblemCode::IdempotencyInProgress),
        "{dup:?}"
    );
    let counts = first.count_subjects().await.expect("count");
    assert_eq!(counts.active, 1, "one registration: {counts:?}");

    // Until a records its answer, the key is in progress everywhere; then b replays it.
    let refused = b.idempotency().check(&caller, key, request).await;
    assert!(matches!(&refused, Err(e) if e.code() == ProblemCode::IdempotencyInProgress));
    let answer = Answer {
        status: 201,
        body: format!("{{\"id\":\"{id}\"}}").into_bytes(),
    };
    a.idempotency()
        .complete(&in_a, &answer)
        .await
        .expect("record the answer");
    let replayed = b.idempotency().check(&caller, key, request).await;
    assert!(
        matches!(&replayed, Ok(Checked::Replay(r)) if *r == answer),
        "{replayed:?}"
    );
    // Another request under the key is refused in either process.
    let other = fingerprint("POST", "/v1/subjects", b"{\"same\":false}");
    let reused = a.idempotency().check(&caller, key, other).await;
    assert!(matches!(&reused, Err(e) if e.code() == ProblemCode::IdempotencyKeyReused));
    a.shutdown().await.expect("shut down a");
    b.shutdown().await.expect("shut down b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_duplicate_in_another_process_writes_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("ward.db");
    let first = ward_store_sqlite::SqliteStore::open(&path).await.expect("open");
    let second = ward_store_sqlite::SqliteStore::open(&path).await.expect("open again");
    a_duplicate_in_another_process_writes_nothing(Arc::new(first), Arc::new(second)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_duplicate_in_another_process_writes_nothing() {
    let Some((first, schema)) = ward_store_postgres::testing::fresh_store().await else {
        return;
    };
    let second = ward_store_postgres::testing::store_on(&schema).await;
    a_duplicate_in_another_process_writes_nothing(Arc::new(first.clone()), Arc::new(second.clone())).await;
    first.close().await;
    second.close().await;
}
