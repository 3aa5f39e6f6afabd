//! Unique fields across two processes on one store (SQLite, and PostgreSQL unless it is
//! unreachable and not required): registrations of one e-mail address, at the same time in
//! both, make exactly one subject; with an 8-bit blind index, whose entries many addresses
//! share, distinct addresses are all registered and the same ones again all refused.

use std::collections::BTreeMap;
use std::sync::Arc;
use time::macros::datetime;
use ward_core::policy::DEFAULT_POLICY;
use ward_core::{Caller, FakeClock, Policy, ProblemCode};
use ward_crypto::{BlindIndex, CheckpointSigner, Kek, KeyRing, TokenHasher};
use ward_store::Store;
use ward_vault::{KeyMaterial, NewSubjectInput, Vault, VaultConfig, VaultError};

/// The same key files, as two processes load them, with a blind index of `bits`.
fn keys(bits: u8) -> KeyMaterial {
    KeyMaterial {
        keyring: KeyRing::new([Kek::new("1", [7; 32])], "1").expect("a key ring"),
        blind_index: BlindIndex::new([8; 32], bits),
        tokens: TokenHasher::new([9; 32]),
        signer: CheckpointSigner::from_seed([10; 32]),
    }
}

async fn open(store: Arc<dyn Store>, clock: &FakeClock, bits: u8) -> Vault {
    Vault::open(
        store,
        keys(bits),
        Policy::parse(DEFAULT_POLICY).expect("the default policy"),
        DEFAULT_POLICY,
        Arc::new(clock.clone()),
        VaultConfig::default(),
    )
    .await
    .expect("open a vault")
}

fn subject(email: &str) -> NewSubjectInput {
    NewSubjectInput {
        purpose: "registration".into(),
        fields: BTreeMap::from([("email".to_owned(), email.to_owned())]),
        consents: vec![],
        age_band: None,
        evidence: None,
        bases: vec![],
    }
}

fn is_duplicate<T: std::fmt::Debug>(r: &Result<T, VaultError>) -> bool {
    matches!(r, Err(e) if e.code() == ProblemCode::DuplicateValue)
}

async fn one_value_one_subject(first: Arc<dyn Store>, second: Arc<dyn Store>) {
    let clock = FakeClock::new(datetime!(2026-12-06 10:00 UTC));
    let (a, b) = (open(first.clone(), &clock, 24).await, open(second, &clock, 24).await);
    let caller = Caller::cli();
    let (sa, sb) = (a.subjects(), b.subjects());
    for round in 0..10 {
        let email = format!("race{round}@example.org");
        let (x, y) = tokio::join!(sa.create(&caller, subject(&email)), sb.create(&caller, subject(&email)),);
        assert!(
            (x.is_ok() && is_duplicate(&y)) || (is_duplicate(&x) && y.is_ok()),
            "round {round}: exactly one registers: {x:?} {y:?}"
        );
    }
    assert_eq!(first.count_subjects().await.expect("count").active, 10);
    a.shutdown().await.expect("shut down a");
    b.shutdown().await.expect("shut down b");
}

async fn collisions_refuse_no_one(first: Arc<dyn Store>, second: Arc<dyn Store>) {
    let clock = FakeClock::new(datetime!(2026-12-06 10:00 UTC));
    let (a, b) = (open(first.clone(), &clock, 8).await, open(second, &clock, 8).await);
    let caller = Caller::cli();
    let (sa, sb) = (a.subjects(), b.subjects());
    // 100 addresses in 256 index entries: many share one (P(none) < 1e-8).
    let inputs = |range: std::ops::Range<usize>| range.map(|n| subject(&format!("user{n}@example.org"))).collect();
    let (x, y) = tokio::join!(
        sa.create_many(&caller, inputs(0..50)),
        sb.create_many(&caller, inputs(50..100)),
    );
    for r in x.expect("batch a").into_iter().chain(y.expect("batch b")) {
        r.expect("a distinct address is registered");
    }
    assert!(
        compared(&first).await > 0,
        "addresses sharing an entry were compared, through the gate"
    );
    // The same addresses again, crosswise: every one refused.
    let (x, y) = tokio::join!(
        sa.create_many(&caller, inputs(50..100)),
        sb.create_many(&caller, inputs(0..50)),
    );
    for r in x.expect("batch a").into_iter().chain(y.expect("batch b")) {
        assert!(is_duplicate(&r), "{r:?}");
    }
    assert_eq!(first.count_subjects().await.expect("count").active, 100);
    a.shutdown().await.expect("shut down a");
    b.shutdown().await.expect("shut down b");
}

/// How many journal entries record a unique field's comparison.
async fn compared(store: &Arc<dyn Store>) -> usize {
    let (mut n, mut after) = (0, 0);
    loop {
        let page = store.find_journal_entries(after, 500).await.expect("journal");
        let Some(last) = page.last() else { return n };
        after = last.seq;
        n += page
            .iter()
            .filter(|e| e.detail.as_deref() == Some("opened:unique_compare"))
            .count();
    }
}

async fn sqlite_pair() -> (tempfile::TempDir, Arc<dyn Store>, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("ward.db");
    let first = ward_store_sqlite::SqliteStore::open(&path).await.expect("open");
    let second = ward_store_sqlite::SqliteStore::open(&path).await.expect("open again");
    (dir, Arc::new(first), Arc::new(second))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_one_value_one_subject_across_processes() {
    let (_dir, first, second) = sqlite_pair().await;
    one_value_one_subject(first, second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_index_collisions_refuse_no_one() {
    let (_dir, first, second) = sqlite_pair().await;
    collisions_refuse_no_one(first, second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_one_value_one_subject_across_processes() {
    let Some((first, schema)) = ward_store_postgres::testing::fresh_store().await else {
        return;
    };
    let second = ward_store_postgres::testing::store_on(&schema).await;
    one_value_one_subject(Arc::new(first.clone()), Arc::new(second.clone())).await;
    first.close().await;
    second.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_index_collisions_refuse_no_one() {
    let Some((first, schema)) = ward_store_postgres::testing::fresh_store().await else {
        return;
    };
    let second = ward_store_postgres::testing::store_on(&schema).await;
    collisions_refuse_no_one(Arc::new(first.clone()), Arc::new(second.clone())).await;
    first.close().await;
    second.close().await;
}
