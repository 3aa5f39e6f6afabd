//! Test databases: every store gets its own fresh schema in the database at
//! `WARD_TEST_DATABASE_URL` (default: a local PostgreSQL with trust authentication).
//!
//! Without a reachable PostgreSQL the tests are skipped with a notice, unless `CI` is set or
//! `WARD_REQUIRE_POSTGRES=1`: then they fail.

#![allow(dead_code)]

use sqlx::{Connection, Executor, PgConnection, Row};
use std::io::Write;
use std::sync::{Arc, Once};
use std::time::{SystemTime, UNIX_EPOCH};
use ward_store::Store;
use ward_store_postgres::PgStore;

pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const PREFIX: &str = "ward_test_";
/// Test schemas older than this are dropped by later test runs.
const STALE_AFTER_SECS: u64 = 600;

static SKIP_NOTICE: Once = Once::new();
static SWEEP: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

pub fn url() -> String {
    std::env::var("WARD_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

fn required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var("WARD_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A new schema name: `ward_test_<unix seconds>_<random>`.
pub fn new_schema() -> String {
    format!("{PREFIX}{}_{:016x}", now_secs(), rand::random::<u64>())
}

/// A plain connection to the test database, or `None` (after the notice) when PostgreSQL
/// is not reachable and the tests may be skipped.
pub async fn connect_raw() -> Option<PgConnection> {
    let url = url();
    match PgConnection::connect(&url).await {
        Ok(c) => Some(c),
        Err(e) if required() => panic!(
            "PostgreSQL is required (CI or WARD_REQUIRE_POSTGRES=1) but cannot be reached at \
             WARD_TEST_DATABASE_URL (default {DEFAULT_URL}): {e}"
        ),
        Err(e) => {
            SKIP_NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "\nNOTICE: the PostgreSQL conformance suite was SKIPPED: cannot connect ({e}).\n\
                     Start PostgreSQL (trust auth, database `test` at 127.0.0.1:5432) or set \
                     WARD_TEST_DATABASE_URL=postgres://user@host:port/db to run it; set \
                     WARD_REQUIRE_POSTGRES=1 to make a missing database a failure.\n"
                );
            });
            None
        }
    }
}

/// Drops test schemas left behind by earlier runs (once per test process).
async fn sweep(conn: &mut PgConnection) {
    SWEEP
        .get_or_init(|| async {
            let Ok(rows) = sqlx::query("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)")
                .bind(PREFIX)
                .fetch_all(&mut *conn)
                .await
            else {
                return;
            };
            let now = now_secs();
            for row in rows {
                let name: String = row.get(0);
                let created = name[PREFIX.len()..]
                    .split('_')
                    .next()
                    .and_then(|s| s.parse::<u64>().ok());
                if created.is_some_and(|c| c + STALE_AFTER_SECS < now) {
                    let _ = conn
                        .execute(format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE").as_str())
                        .await;
                }
            }
        })
        .await;
}

/// A new schema and a store on it, or `None` when the tests may be skipped.
pub async fn fresh_store() -> Option<(PgStore, String)> {
    let mut conn = connect_raw().await?;
    sweep(&mut conn).await;
    let _ = conn.close().await;
    let schema = new_schema();
    let store = PgStore::connect_with_schema(&url(), &schema)
        .await
        .expect("connect a PgStore on a new schema");
    Some((store, schema))
}

/// Another store on an existing schema (as another Ward process would connect).
pub async fn store_on(schema: &str) -> PgStore {
    PgStore::connect_with_schema(&url(), schema)
        .await
        .expect("connect a second PgStore")
}

pub async fn fresh() -> Option<Arc<dyn Store>> {
    let (store, _) = fresh_store().await?;
    Some(Arc::new(store))
}
