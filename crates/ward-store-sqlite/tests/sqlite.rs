//! SQLite-specific behaviour: the file, several stores on one file, corrupt rows, atomicity.

mod common;

use common::TempStore;
use std::sync::Arc;
use time::macros::datetime;
use ward_core::access::Role;
use ward_core::journal::AdminEvent;
use ward_core::{Actor, JournalDraft, SubjectId};
use ward_store::conformance::{all_entries, assert_valid_chain, concurrent_writers};
use ward_store::*;
use ward_store_sqlite::SqliteStore;

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

/// A plain connection to the store's file, as another program would open it.
fn raw(t: &TempStore) -> rusqlite::Connection {
    rusqlite::Connection::open(t.db_path()).expect("raw connection")
}

async fn exec(t: &TempStore, sql: &str) {
    raw(t).execute_batch(sql).expect("raw statement");
}

fn corrupt_mentions<T: std::fmt::Debug>(r: StoreResult<T>, what: &str) {
    match r {
        Err(StoreError::Corrupt(m)) => assert!(m.contains(what), "`{m}` should mention `{what}`"),
        other => panic!("expected Corrupt mentioning {what}, got {other:?}"),
    }
}

#[tokio::test]
async fn creates_the_file_in_wal_mode() {
    let t = TempStore::new().await;
    assert!(t.db_path().exists());
    let mode: String = raw(&t).query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(t.store.path(), t.db_path());
    assert_eq!(t.store.backend(), "sqlite");
}

#[tokio::test]
async fn reopening_continues_the_chain_and_keeps_the_data() {
    let t = TempStore::new().await;
    let id = SubjectId::random();
    t.store.write(vec![new_subject(id), journal_only("a")]).await.unwrap();
    let again = t.reopen().await;
    assert!(again.find_subject(id).await.unwrap().is_some());
    again.write(vec![journal_only("b")]).await.unwrap();
    t.store.write(vec![journal_only("c")]).await.unwrap();
    let s: Arc<dyn Store> = Arc::new(again);
    let entries = all_entries(&s).await;
    assert_eq!(entries.len(), 4);
    assert_valid_chain(&s, &entries).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_keep_one_chain() {
    let t = TempStore::new().await;
    let a: Arc<dyn Store> = Arc::new(t.reopen().await);
    let b: Arc<dyn Store> = Arc::new(t.reopen().await);
    concurrent_writers(vec![a, b], 8, 25).await;
}

#[tokio::test]
async fn a_failing_write_writes_nothing() {
    let t = TempStore::new().await;
    t.store.write(vec![journal_only("first")]).await.unwrap();
    let head = t.store.find_journal_head().await.unwrap();
    let id = SubjectId::random();
    let mut bad = draft();
    bad.fields = vec!["a,b".into()];
    let r = t
        .store
        .write(vec![
            new_subject(id),
            WriteOp {
                change: Change::JournalOnly,
                journal: vec![bad],
            },
        ])
        .await;
    corrupt_mentions(r, "journal.fields");
    assert_eq!(t.store.find_subject(id).await.unwrap(), None);
    assert_eq!(t.store.find_journal_head().await.unwrap(), head);
    // The writer is usable afterwards.
    assert_eq!(
        t.store.write(vec![journal_only("second")]).await.unwrap(),
        [OpOutcome::Done]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_caller_stops_waiting_still_completes() {
    let t = TempStore::new().await;
    let fut = t.store.write(vec![journal_only("abandoned")]);
    tokio::select! {
        biased;
        _ = fut => {}
        _ = std::future::ready(()) => {}
    }
    t.store.write(vec![journal_only("next")]).await.unwrap();
    let s: Arc<dyn Store> = Arc::new(t);
    let entries = all_entries(&s).await;
    assert_valid_chain(&s, &entries).await;
    let details: Vec<_> = entries.iter().filter_map(|e| e.detail.as_deref()).collect();
    assert!(details.contains(&"next"));
    assert!(details.len() <= 2);
}

#[tokio::test]
async fn corrupt_rows_are_reported_not_panicked_on() {
    let t = TempStore::new().await;
    let id = SubjectId::random();
    t.store.write(vec![new_subject(id)]).await.unwrap();
    let key = ApiKeyRecord {
        id: "k".into(),
        name: "k".into(),
        role: Role::Admin,
        purposes: vec![],
        token_hash: vec![1],
        created_at: datetime!(2026-01-01 00:00 UTC),
        revoked_at: None,
    };
    t.store
        .write(vec![WriteOp {
            change: Change::ApiKey(ApiKeyChange::Create(key)),
            journal: vec![],
        }])
        .await
        .unwrap();

    exec(&t, "UPDATE api_keys SET role = 'superuser'").await;
    corrupt_mentions(t.store.find_api_key("k").await, "api_keys.role");
    corrupt_mentions(t.store.find_api_keys().await, "api_keys.role");

    exec(&t, "UPDATE journal SET hash = x'0102'").await;
    corrupt_mentions(t.store.find_journal_entries(0, 10).await, "journal.hash");

    exec(&t, "UPDATE journal_head SET hash = x'01'").await;
    corrupt_mentions(t.store.find_journal_head().await, "journal_head.hash");
    // A write reads the head too: it fails and writes nothing.
    corrupt_mentions(t.store.write(vec![journal_only("x")]).await, "journal_head.hash");

    exec(&t, "UPDATE subjects SET wrapped_key = NULL").await;
    corrupt_mentions(t.store.find_subject(id).await, "subjects.wrapped_key");
    corrupt_mentions(t.store.find_wrapped_keys(None, 10).await, "subjects.wrapped_key");

    exec(&t, "UPDATE subjects SET state = 'zombie'").await;
    corrupt_mentions(t.store.find_subject(id).await, "subjects.state");
    corrupt_mentions(t.store.count_subjects().await, "subjects.state");
    let erase = WriteOp {
        change: Change::Subject(SubjectChange::Erase {
            id,
            at: datetime!(2026-02-01 00:00 UTC),
        }),
        journal: vec![],
    };
    corrupt_mentions(t.store.write(vec![erase]).await, "subjects.state");

    exec(
        &t,
        "INSERT INTO consent_events (subject_n, purpose, kind, at, policy_version) \
         VALUES ((SELECT n FROM subjects), 'p', 'maybe', 0, '1')",
    )
    .await;
    corrupt_mentions(t.store.find_consent_events(id).await, "consent_events.kind");

    // A lookup reads the ids of the subjects it finds from their rows.
    exec(
        &t,
        "PRAGMA foreign_keys = OFF; INSERT OR REPLACE INTO subject_index (subject_n, field, hash) \
         SELECT n, 'email', 7 FROM subjects; UPDATE subjects SET id = x'00'",
    )
    .await;
    corrupt_mentions(t.store.find_subjects_by_index("email", 7).await, "subjects.id");

    exec(
        &t,
        "INSERT INTO journal_checkpoints (seq, head, at, key_id, signature) VALUES (1, x'00', 0, 'k', x'')",
    )
    .await;
    corrupt_mentions(t.store.find_checkpoints().await, "journal_checkpoints.head");
}

#[tokio::test]
async fn unstorable_api_key_purposes_are_refused() {
    let t = TempStore::new().await;
    let key = ApiKeyRecord {
        id: "k".into(),
        name: "k".into(),
        role: Role::Service,
        purposes: vec!["a,b".into()],
        token_hash: vec![1],
        created_at: datetime!(2026-01-01 00:00 UTC),
        revoked_at: None,
    };
    let r = t
        .store
        .write(vec![WriteOp {
            change: Change::ApiKey(ApiKeyChange::Create(key)),
            journal: vec![],
        }])
        .await;
    corrupt_mentions(r, "api_keys.purposes");
    assert!(t.store.find_api_keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn api_key_purposes_are_stored_sorted() {
    let t = TempStore::new().await;
    let key = ApiKeyRecord {
        id: "k".into(),
        name: "k".into(),
        role: Role::Service,
        purposes: vec!["marketing".into(), "analytics".into(), "marketing".into()],
        token_hash: vec![1],
        created_at: datetime!(2026-01-01 00:00 UTC),
        revoked_at: None,
    };
    t.store
        .write(vec![WriteOp {
            change: Change::ApiKey(ApiKeyChange::Create(key)),
            journal: vec![],
        }])
        .await
        .unwrap();
    let got = t.store.find_api_key("k").await.unwrap().unwrap();
    assert_eq!(got.purposes, ["analytics", "marketing"]);
}

#[tokio::test]
async fn an_unopenable_path_is_unavailable() {
    let t = TempStore::new().await;
    let r = ward_store_sqlite::SqliteStore::open(&t.dir.path().join("missing-dir").join("ward.db")).await;
    assert!(matches!(r, Err(StoreError::Unavailable(_))), "{r:?}");
}

/// The migrations as files, in order, as earlier Ward builds (which ran them with sqlx)
/// applied them.
const MIGRATION_FILES: [(i64, &str, &str); 4] = [
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "policy text", include_str!("../migrations/0002_policy_text.sql")),
    (3, "visitors", include_str!("../migrations/0003_visitors.sql")),
    (
        4,
        "subject events",
        include_str!("../migrations/0004_subject_events.sql"),
    ),
];

/// A database as an earlier Ward build left it: the schema, sqlx's migration table, one
/// subject and a journal entry.
fn database_of_an_earlier_build(path: &std::path::Path, id: SubjectId) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
    c.execute_batch(
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
         installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
         checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
    )
    .unwrap();
    for (version, description, sql) in MIGRATION_FILES {
        c.execute_batch(sql).unwrap();
        c.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (?1, ?2, 1, x'00', 1)",
            rusqlite::params![version, description],
        )
        .unwrap();
    }
    c.execute(
        "INSERT INTO subjects (id, state, revision, created_at, updated_at, kek_id, wrapped_key, fields) \
         VALUES (?1, 'active', 1, 0, 0, 'k1', x'01', x'02')",
        [&id.as_bytes()[..]],
    )
    .unwrap();
    c.execute(
        "INSERT INTO subject_index (subject_id, field, hash) VALUES (?1, 'email', 7)",
        [&id.as_bytes()[..]],
    )
    .unwrap();
    c.execute(
        "INSERT INTO consent_events (subject_id, purpose, kind, at, policy_version, evidence) \
         VALUES (?1, 'marketing', 'given', 0, 'v1', x'03')",
        [&id.as_bytes()[..]],
    )
    .unwrap();
}

#[tokio::test]
async fn a_database_of_an_earlier_build_opens_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ward.db");
    let id = SubjectId::random();
    database_of_an_earlier_build(&path, id);
    let store = SqliteStore::open(&path)
        .await
        .expect("an earlier build's database opens");
    let (record, events) = store.find_subject_with_consents(id).await.unwrap();
    assert_eq!(record.map(|r| r.fields), Some(Some(vec![2])));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].evidence.as_deref(), Some(&[3u8][..]));
    assert_eq!(store.find_subjects_by_index("email", 7).await.unwrap(), [id]);
    // The subjects table rebuilt by a later migration is still the one its children refer to.
    let fk = rusqlite::Connection::open(&path).unwrap();
    fk.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let orphan = fk.execute(
        "INSERT INTO consent_events (subject_n, purpose, kind, at, policy_version) \
         VALUES (1000000, 'p', 'given', 0, 'v1')",
        [],
    );
    assert!(
        orphan.is_err(),
        "a consent event for no subject must break the foreign key"
    );
    let orphan = fk.execute(
        "INSERT INTO subject_events (subject_id, kind, at, policy_version) VALUES (zeroblob(16), 'deceased', 0, 'v1')",
        [],
    );
    assert!(
        orphan.is_err(),
        "a subject event for no subject must break the foreign key"
    );
    drop(fk);
    store.write(vec![journal_only("after the upgrade")]).await.unwrap();
    drop(store);
    let c = rusqlite::Connection::open(&path).unwrap();
    let names: Vec<String> = c
        .prepare("SELECT name FROM _ward_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(names, ward_store_sqlite::migration_names());
}

#[tokio::test]
async fn a_database_of_a_newer_build_is_refused() {
    let t = TempStore::new().await;
    exec(
        &t,
        "INSERT INTO _ward_migrations (version, name, checksum, applied_at) VALUES (99, '0099_future', x'00', 0)",
    )
    .await;
    match SqliteStore::open(&t.db_path()).await {
        Err(StoreError::Migration(m)) => assert!(m.contains("0099_future") && m.contains("newer"), "{m}"),
        other => panic!("expected a migration error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_changed_migration_is_refused() {
    let t = TempStore::new().await;
    exec(&t, "UPDATE _ward_migrations SET checksum = x'00' WHERE version = 1").await;
    match SqliteStore::open(&t.db_path()).await {
        Err(StoreError::Migration(m)) => assert!(m.contains("0001_init"), "{m}"),
        other => panic!("expected a migration error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_caller_gives_up_still_commits_whole() {
    let t = TempStore::new().await;
    let ids: Vec<SubjectId> = (0..200).map(|_| SubjectId::random()).collect();
    let write = t.store.write(ids.iter().map(|id| new_subject(*id)).collect());
    // Polled once (the batch is handed to the writer thread), then dropped.
    let mut write = Box::pin(write);
    assert!(futures::poll!(&mut write).is_pending());
    drop(write);
    // The writer runs jobs in order: this one commits after the abandoned batch.
    t.store.write(vec![journal_only("after")]).await.unwrap();
    assert_eq!(t.store.count_subjects().await.unwrap().active, 200);
    let s: Arc<dyn Store> = Arc::new(t.reopen().await);
    let entries = all_entries(&s).await;
    assert_valid_chain(&s, &entries).await;
}
