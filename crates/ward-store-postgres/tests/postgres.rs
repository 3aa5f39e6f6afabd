//! PostgreSQL-specific behaviour: two stores (two Ward processes) on one database, corrupt
//! rows, atomicity. Skipped like the conformance suite when PostgreSQL is not reachable.

use sqlx::{Connection, Executor, PgConnection};
use std::sync::Arc;
use time::macros::datetime;
use ward_core::access::Role;
use ward_core::journal::AdminEvent;
use ward_core::{Actor, JournalDraft, SubjectId};
use ward_store::conformance::{all_entries, assert_valid_chain, concurrent_updates, concurrent_writers};
use ward_store::*;
use ward_store_postgres::{testing, PgStore};

fn draft() -> JournalDraft {
    JournalDraft::new(
        datetime!(2026-01-02 03:04:05.678901 UTC),
        &Actor::System,
        AdminEvent::KeyRotation,
    )
}

fn journal_only(detail: &str) -> WriteOp {
    WriteOp {
        change: Change::JournalOnly,
        journal: vec![draft().detail(detail)],
    }
}

fn new_subject(id: SubjectId) -> WriteOp {
    WriteOp {
        change: Change::Subject(SubjectChange::Create(NewSubject {
            id,
            created_at: datetime!(2026-01-02 03:04:05 UTC),
            key: WrappedKey {
                kek_id: "k1".into(),
                wrapped: vec![1; 40],
            },
            fields: vec![2; 10],
            index: vec![IndexEntry {
                field: "email".into(),
                hash: 7,
            }],
            consents: vec![],
            bases: Vec::new(),
        })),
        journal: vec![draft().subject(id)],
    }
}

async fn exec(schema: &str, sql: &str) {
    let mut c = PgConnection::connect(&testing::url()).await.expect("raw connection");
    c.execute(format!("SET search_path TO \"{schema}\"").as_str())
        .await
        .expect("search_path");
    c.execute(sql).await.expect("raw statement");
}

fn corrupt_mentions<T: std::fmt::Debug>(r: StoreResult<T>, what: &str) {
    match r {
        Err(StoreError::Corrupt(m)) => assert!(m.contains(what), "`{m}` should mention `{what}`"),
        other => panic!("expected Corrupt mentioning {what}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_database_keep_one_chain() {
    let Some((first, schema)) = testing::fresh_store().await else {
        return;
    };
    let second = testing::store_on(&schema).await;
    assert_eq!(second.schema(), Some(schema.as_str()));
    let stores: Vec<Arc<dyn Store>> = vec![Arc::new(first), Arc::new(second)];
    concurrent_writers(stores, 16, 50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_database_let_one_update_win() {
    let Some((first, schema)) = testing::fresh_store().await else {
        return;
    };
    let second = testing::store_on(&schema).await;
    concurrent_updates(vec![Arc::new(first), Arc::new(second)], 16).await;
}

#[tokio::test]
async fn connect_uses_the_search_path_of_the_url() {
    let Some((store, schema)) = testing::fresh_store().await else {
        return;
    };
    store.write(vec![journal_only("via schema")]).await.unwrap();
    let url = testing::url();
    let sep = if url.contains('?') { '&' } else { '?' };
    let plain = PgStore::connect(&format!("{url}{sep}options=-c%20search_path%3D{schema}"))
        .await
        .unwrap();
    assert_eq!(plain.schema(), None);
    let entries = plain.find_journal_entries(0, 10).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(plain.backend(), "postgres");
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable() {
    // Port 1 on the loopback: nothing listens there.
    let r = PgStore::connect("postgres://postgres@127.0.0.1:1/test").await;
    assert!(matches!(r, Err(StoreError::Unavailable(_))), "{r:?}");
}

#[tokio::test]
async fn a_failing_write_writes_nothing() {
    let Some((store, _)) = testing::fresh_store().await else {
        return;
    };
    store.write(vec![journal_only("first")]).await.unwrap();
    let head = store.find_journal_head().await.unwrap();
    let id = SubjectId::random();
    let mut bad = draft();
    bad.fields = vec!["a,b".into()];
    let r = store
        .write(vec![
            new_subject(id),
            WriteOp {
                change: Change::JournalOnly,
                journal: vec![bad],
            },
        ])
        .await;
    corrupt_mentions(r, "journal.fields");
    assert_eq!(store.find_subject(id).await.unwrap(), None);
    assert_eq!(store.find_journal_head().await.unwrap(), head);
    assert_eq!(
        store.write(vec![journal_only("second")]).await.unwrap(),
        [OpOutcome::Done]
    );
    let s: Arc<dyn Store> = Arc::new(store);
    assert_valid_chain(&s, &all_entries(&s).await).await;
}

#[tokio::test]
async fn corrupt_rows_are_reported_not_panicked_on() {
    let Some((store, schema)) = testing::fresh_store().await else {
        return;
    };
    let id = SubjectId::random();
    store.write(vec![new_subject(id)]).await.unwrap();
    let key = ApiKeyRecord {
        id: "k".into(),
        name: "k".into(),
        role: Role::Admin,
        purposes: vec![],
        token_hash: vec![1],
        created_at: datetime!(2026-01-01 00:00 UTC),
        revoked_at: None,
    };
    store
        .write(vec![WriteOp {
            change: Change::ApiKey(ApiKeyChange::Create(key)),
            journal: vec![],
        }])
        .await
        .unwrap();

    exec(&schema, "UPDATE api_keys SET role = 'superuser'").await;
    corrupt_mentions(store.find_api_key("k").await, "api_keys.role");
    corrupt_mentions(store.find_api_keys().await, "api_keys.role");

    exec(&schema, "UPDATE journal SET hash = '\\x0102'").await;
    corrupt_mentions(store.find_journal_entries(0, 10).await, "journal.hash");

    exec(&schema, "UPDATE journal_head SET hash = '\\x01'").await;
    corrupt_mentions(store.find_journal_head().await, "journal_head.hash");
    corrupt_mentions(store.write(vec![journal_only("x")]).await, "journal_head.hash");

    exec(&schema, "UPDATE subjects SET wrapped_key = NULL").await;
    corrupt_mentions(store.find_subject(id).await, "subjects.wrapped_key");
    corrupt_mentions(store.find_wrapped_keys(None, 10).await, "subjects.wrapped_key");

    exec(&schema, "UPDATE subjects SET state = 'zombie'").await;
    corrupt_mentions(store.find_subject(id).await, "subjects.state");
    corrupt_mentions(store.count_subjects().await, "subjects.state");

    exec(
        &schema,
        "INSERT INTO journal_checkpoints (seq, head, at, key_id, signature) VALUES (1, '\\x00', 0, 'k', '')",
    )
    .await;
    corrupt_mentions(store.find_checkpoints().await, "journal_checkpoints.head");
}
