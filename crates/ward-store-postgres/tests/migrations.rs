//! Each backend's migrations: embedded as they are in its folder, applied and recorded; and a
//! PostgreSQL database migrated by an earlier Ward build, which recorded the placeholder
//! migrations 0005–0007, still opens. The two backends' histories differ on purpose (parity
//! between them is what the conformance suite proves).

use sqlx::migrate::Migrator;
use sqlx::{Connection, Executor, PgConnection, Row};
use std::path::{Path, PathBuf};
use ward_store::{ApiKeyStore, StoreError};
use ward_store_postgres::{testing, PgStore};

fn crate_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

fn sql_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .into_string()
                .expect("UTF-8 file name")
        })
        .collect();
    names.sort();
    names
}

#[test]
fn each_backend_embeds_its_migrations_folder() {
    let stems = |crate_name: &str| -> Vec<String> {
        let names = sql_files(&crate_dir(crate_name).join("migrations"));
        assert!(names.iter().all(|n| n.ends_with(".sql")), "{names:?}");
        names.iter().map(|n| n.trim_end_matches(".sql").to_owned()).collect()
    };
    assert!(!stems("ward-store-sqlite").is_empty());
    assert_eq!(ward_store_sqlite::migration_names(), stems("ward-store-sqlite"));
    assert_eq!(ward_store_postgres::migration_names(), stems("ward-store-postgres"));
}

/// The versions recorded in the schema's `_sqlx_migrations`, with whether they succeeded.
async fn recorded(schema: &str) -> Vec<(i64, bool)> {
    let mut conn = PgConnection::connect(&testing::url()).await.expect("connect");
    let rows = sqlx::query(&format!(
        "SELECT version, success FROM \"{schema}\"._sqlx_migrations ORDER BY version"
    ))
    .fetch_all(&mut conn)
    .await
    .expect("read _sqlx_migrations");
    let _ = conn.close().await;
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

fn versions(names: &[String]) -> Vec<(i64, bool)> {
    names
        .iter()
        .map(|n| (n[..4].parse().expect("a numbered migration"), true))
        .collect()
}

#[tokio::test]
async fn postgres_migrations_apply_and_are_recorded() {
    let Some((store, schema)) = testing::fresh_store().await else {
        return;
    };
    assert_eq!(
        recorded(&schema).await,
        versions(&ward_store_postgres::migration_names())
    );
    store.close().await;
    testing::drop_schema(&schema).await;
}

/// Migrates `schema` as an earlier Ward build did: this build's migrations up to 0004, then
/// the placeholders 0005–0007 as they were shipped (kept byte for byte in
/// `tests/fixtures/retired_migrations/`), and records an API key in it.
async fn migrate_like_an_earlier_build(schema: &str, placeholders: &Path) {
    let dir = tempfile::tempdir().expect("temp dir");
    let current = crate_dir("ward-store-postgres").join("migrations");
    for name in sql_files(&current).iter().filter(|n| n.as_str() < "0005") {
        std::fs::copy(current.join(name), dir.path().join(name)).expect("copy a migration");
    }
    for name in sql_files(placeholders) {
        std::fs::copy(placeholders.join(&name), dir.path().join(&name)).expect("copy a placeholder");
    }
    let old = Migrator::new(dir.path())
        .await
        .expect("read the earlier build's migrations");
    let mut conn = PgConnection::connect(&testing::url()).await.expect("connect");
    conn.execute(format!("CREATE SCHEMA \"{schema}\"").as_str())
        .await
        .expect("create the schema");
    conn.execute(format!("SET search_path TO \"{schema}\"").as_str())
        .await
        .expect("set the search path");
    old.run(&mut conn).await.expect("migrate like an earlier build");
    conn.execute(
        "INSERT INTO api_keys (id, name, role, purposes, token_hash, created_at, revoked_at) \
         VALUES ('old', 'from before', 'admin', '', '\\x0102', 0, NULL)",
    )
    .await
    .expect("record an API key");
    let _ = conn.close().await;
}

fn retired() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/retired_migrations")
}

#[tokio::test]
async fn a_database_with_the_retired_placeholders_opens() {
    let Some(probe) = testing::connect_raw().await else {
        return;
    };
    let _ = probe.close().await;
    let schema = testing::new_schema();
    migrate_like_an_earlier_build(&schema, &retired()).await;
    assert_eq!(
        recorded(&schema).await,
        versions(&[
            "0001".into(),
            "0002".into(),
            "0003".into(),
            "0004".into(),
            "0005".into(),
            "0006".into(),
            "0007".into()
        ]),
        "the earlier build's history, placeholders included"
    );

    let store = PgStore::connect_with_schema(&testing::url(), &schema)
        .await
        .expect("an earlier build's database opens");
    assert_eq!(
        recorded(&schema).await,
        versions(&ward_store_postgres::migration_names())
    );
    let key = store
        .find_api_key("old")
        .await
        .expect("read")
        .expect("the key from before");
    assert_eq!(key.name, "from before");
    store.close().await;

    // Opening it again changes nothing.
    let again = testing::store_on(&schema).await;
    assert_eq!(
        recorded(&schema).await,
        versions(&ward_store_postgres::migration_names())
    );
    again.close().await;
    testing::drop_schema(&schema).await;
}

#[tokio::test]
async fn a_recorded_migration_that_is_not_a_known_placeholder_is_refused() {
    let Some(probe) = testing::connect_raw().await else {
        return;
    };
    let _ = probe.close().await;
    // A version 5 with other text than the placeholder's: not ours to delete.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("0005_something_else.sql"), "SELECT 2;").expect("write");
    let schema = testing::new_schema();
    migrate_like_an_earlier_build(&schema, dir.path()).await;
    let err = PgStore::connect_with_schema(&testing::url(), &schema)
        .await
        .expect_err("an unknown applied migration is refused");
    assert!(matches!(err, StoreError::Migration(_)), "{err:?}");
    assert!(
        recorded(&schema).await.contains(&(5, true)),
        "the unknown record is left alone"
    );
    testing::drop_schema(&schema).await;
}
