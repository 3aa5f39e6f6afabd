//! The store a data directory was made for stays its store: `ward init --database-url` saves
//! the URL in ward.toml, and an empty PostgreSQL database is never taken for a data
//! directory's store beside existing keys. Skipped when PostgreSQL is unreachable, unless `CI`
//! or `WARD_REQUIRE_POSTGRES=1`.

mod common;

use common::*;
use sqlx::Executor;
use ward_store_postgres::testing;

/// A fresh schema, and a URL whose connections use it.
async fn fresh_schema() -> Option<(String, String)> {
    let mut conn = testing::connect_raw().await?;
    let schema = testing::new_schema();
    conn.execute(format!("CREATE SCHEMA \"{schema}\"").as_str())
        .await
        .expect("create a schema");
    let base = testing::url();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some((format!("{base}{sep}options=-c%20search_path%3D{schema}"), schema))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_saves_the_database_url_and_later_commands_open_that_store() {
    let Some((url, schema)) = fresh_schema().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let out = ward()
        .args(["init", "--database-url", &url, "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let config = std::fs::read_to_string(dir.join("ward.toml")).unwrap();
    let saved: toml::Table = toml::from_str(&config).unwrap();
    assert_eq!(saved["database_url"].as_str(), Some(url.as_str()), "{config}");

    // No flag: the saved store, not an empty SQLite database.
    let id = register(&dir, &["email=a@example.org"]);
    let out = run(&dir, &["subject", "consents", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!dir.join("ward.db").exists(), "no SQLite database was made");
    testing::drop_schema(&schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_postgresql_database_beside_existing_keys_is_refused() {
    let Some((url, schema)) = fresh_schema().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    assert!(run(&dir, &["init"]).status.success());
    create_subject(&dir);
    for _ in 0..2 {
        let out = ward()
            .args(["policy", "versions", "--database-url", &url, "--data-dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("holds no Ward data")
                && err.contains("does not start a second, empty vault")
                && err.contains("store is the SQLite database"),
            "{err}"
        );
    }
    // The SQLite store is untouched and still opens.
    let out = run(&dir, &["policy", "versions"]);
    assert!(out.status.success(), "{}", stderr(&out));
    testing::drop_schema(&schema).await;
}
