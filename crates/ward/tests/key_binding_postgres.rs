//! Keys bound to their store, on PostgreSQL (the real binary, a fresh schema per test): a data
//! directory without keys beside an existing database, a wrong KEK, another store's keys, and
//! a store of an earlier build. Each is refused by name and creates nothing. Skipped when
//! PostgreSQL is unreachable, unless `CI` or `WARD_REQUIRE_POSTGRES=1`.

mod common;

use common::*;
use sqlx::{Connection, Executor, PgConnection, Row};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;
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

async fn sql(schema: &str, query: &str) -> Vec<String> {
    let mut conn = PgConnection::connect(&testing::url()).await.expect("connect");
    conn.execute(format!("SET search_path TO \"{schema}\"").as_str())
        .await
        .unwrap();
    sqlx::query(query)
        .fetch_all(&mut conn)
        .await
        .expect("query")
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect()
}

fn ward_pg(dir: &Path, url: &str, args: &[&str]) -> Output {
    ward()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .arg("--database-url")
        .arg(url)
        .output()
        .expect("ward runs")
}

#[track_caller]
fn assert_refused(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert!(
        !out.status.success(),
        "it must fail; stdout: {}\nstderr: {err}",
        stdout(out)
    );
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(out.status.success(), "{}{}", stdout(out), stderr(out));
}

fn listing(dir: &Path) -> Vec<String> {
    let mut all: Vec<String> = files_below(dir)
        .iter()
        .map(|p| {
            let m = std::fs::metadata(p).unwrap();
            format!("{} {:o} {}", p.display(), m.permissions().mode() & 0o777, m.len())
        })
        .collect();
    all.sort();
    all
}

const BOUND: &str = "SELECT name FROM key_binding ORDER BY name";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_store_opens_only_with_its_own_keys() {
    let Some((url, schema)) = fresh_schema().await else {
        return;
    };
    let Some((other_url, other_schema)) = fresh_schema().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c, d) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
        tmp.path().join("d"),
    );
    assert_ok(&ward_pg(&a, &url, &["init"]));
    assert_eq!(
        sql(&schema, BOUND).await,
        ["blind-index", "journal-signing", "kek:1", "token"]
    );
    assert_ok(&ward_pg(&d, &other_url, &["init"]));

    // A second data directory without keys, for the existing database: no keys are made.
    let before = listing(tmp.path());
    for args in [&["init"][..], &["serve", "--listen", "127.0.0.1:0"]] {
        let out = ward_pg(&b, &url, args);
        assert_refused(&out, &["PostgreSQL", "has no keys", "Ward makes none"]);
    }
    assert!(!b.exists(), "the data directory is not even created");
    // A mistyped key directory.
    let out = ward_pg(&a, &url, &["keys", "list", "--keys-dir", "/nonexistent/typo"]);
    assert_refused(&out, &["key directory /nonexistent/typo does not exist"]);
    assert_eq!(listing(tmp.path()), before);

    // The store's keys with one wrong KEK.
    std::fs::create_dir_all(c.join("keys")).unwrap();
    std::fs::set_permissions(c.join("keys"), std::fs::Permissions::from_mode(0o700)).unwrap();
    for f in ["blind-index.key", "journal-signing.key", "token.key"] {
        std::fs::copy(a.join("keys").join(f), c.join("keys").join(f)).unwrap();
    }
    std::fs::write(c.join("keys/kek-1.key"), format!("{}\n", "ab".repeat(32))).unwrap();
    std::fs::set_permissions(c.join("keys/kek-1.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::copy(a.join("policy.toml"), c.join("policy.toml")).unwrap();
    let before = listing(tmp.path());
    let out = ward_pg(&c, &url, &["keys", "list"]);
    assert_refused(&out, &["kek-1.key is not the store's", "the store recorded"]);
    // Another store's keys: every key named.
    let out = ward_pg(&d, &url, &["journal", "verify"]);
    assert_refused(
        &out,
        &[
            "kek-1.key is not the store's",
            "token.key is not the store's",
            "blind-index.key is not the store's",
            "journal-signing.key is not the store's",
        ],
    );
    assert_eq!(listing(tmp.path()), before);

    // Rotation records its KEK.
    assert_ok(&ward_pg(&a, &url, &["keys", "rotate"]));
    assert_eq!(
        sql(&schema, BOUND).await,
        ["blind-index", "journal-signing", "kek:1", "kek:2", "token"]
    );

    // A store of an earlier build: bound only to keys that open it, and the binding journaled.
    sql(&schema, "DELETE FROM key_binding RETURNING name").await;
    let out = ward_pg(&d, &url, &["keys", "list"]);
    assert_refused(&out, &["do not open", "journal-signing.key did not sign"]);
    assert!(sql(&schema, BOUND).await.is_empty());
    assert_ok(&ward_pg(&a, &url, &["keys", "list"]));
    assert_eq!(
        sql(&schema, BOUND).await,
        ["blind-index", "journal-signing", "kek:1", "kek:2", "token"]
    );
    let details = sql(
        &schema,
        "SELECT detail FROM journal WHERE action = 'key.binding' ORDER BY seq",
    )
    .await;
    assert_eq!(details.len(), 3, "{details:?}");
    assert!(details[2].contains("earlier build"), "{details:?}");
    assert_ok(&ward_pg(&a, &url, &["journal", "verify"]));

    testing::drop_schema(&schema).await;
    testing::drop_schema(&other_schema).await;
}
