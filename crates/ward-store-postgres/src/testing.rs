//! Test databases, for this crate's tests and for other crates' tests that run on
//! PostgreSQL (enabled by the `testing` feature; not part of Ward itself).
//!
//! Every store gets its own fresh schema, `ward_test_<unix seconds>_<random>`, in the
//! database at `WARD_TEST_DATABASE_URL` (default [`DEFAULT_URL`]: a local PostgreSQL with
//! trust authentication). The first store of a test process drops test schemas older than
//! ten minutes, left behind by earlier runs; a test may also drop its own with
//! [`drop_schema`] when it is done.
//!
//! Without a reachable PostgreSQL the tests are skipped, with a notice on stderr (once per
//! test binary), unless `CI` is set or `WARD_REQUIRE_POSTGRES=1`: then they fail.

use crate::PgStore;
use sqlx::{Connection, Executor, PgConnection, Row};
use std::io::Write;
use std::sync::{Arc, Once};
use std::time::{SystemTime, UNIX_EPOCH};
use ward_store::Store;

/// The test database when `WARD_TEST_DATABASE_URL` is not set.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// The prefix of every test schema's name.
const PREFIX: &str = "ward_test_";
/// Test schemas older than this are dropped by later test runs.
const STALE_AFTER_SECS: u64 = 600;

static SKIP_NOTICE: Once = Once::new();
static SWEEP: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// The test database's URL: `WARD_TEST_DATABASE_URL`, or [`DEFAULT_URL`].
pub fn url() -> String {
    std::env::var("WARD_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// Whether PostgreSQL tests must run (and fail when it is unreachable) rather than be
/// skipped: `CI` is set, or `WARD_REQUIRE_POSTGRES=1`.
pub fn required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var("WARD_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A new schema name: `ward_test_<unix seconds>_<random>`.
pub fn new_schema() -> String {
    format!("{PREFIX}{}_{:016x}", now_secs(), uuid::Uuid::new_v4().as_u64_pair().0)
}

/// The name of the running test binary (without Cargo's `-<hash>`), for the skip notice.
fn test_binary() -> String {
    let Some(stem) = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
    else {
        return "this test binary".to_owned();
    };
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            format!("`{name}`")
        }
        _ => format!("`{stem}`"),
    }
}

/// A plain connection to the test database, or `None` (after the notice) when PostgreSQL
/// is not reachable and the tests may be skipped.
///
/// # Panics
///
/// When PostgreSQL is not reachable but [`required`].
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
                    "\nNOTICE: the PostgreSQL tests of {} were SKIPPED: cannot connect ({e}).\n\
                     Start PostgreSQL (trust auth, database `test` at 127.0.0.1:5432) or set \
                     WARD_TEST_DATABASE_URL=postgres://user@host:port/db to run them; set \
                     WARD_REQUIRE_POSTGRES=1 to make a missing database a failure.\n",
                    test_binary()
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
///
/// # Panics
///
/// When PostgreSQL is not reachable but [`required`], or the store cannot be set up.
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
///
/// # Panics
///
/// When the store cannot connect.
pub async fn store_on(schema: &str) -> PgStore {
    PgStore::connect_with_schema(&url(), schema)
        .await
        .expect("connect a second PgStore")
}

/// A store on a new schema, as the storage conformance suite wants it; `None` when the
/// tests may be skipped.
pub async fn fresh() -> Option<Arc<dyn Store>> {
    let (store, _) = fresh_store().await?;
    Some(Arc::new(store))
}

/// Drops a test schema and everything in it. Stores still connected to it see their tables
/// vanish: close them first, or drop the schema only once they are no longer used.
///
/// # Panics
///
/// When `schema` is not a test schema (does not start with `ward_test_`), or the database
/// refuses.
pub async fn drop_schema(schema: &str) {
    assert!(schema.starts_with(PREFIX), "not a test schema: {schema}");
    let mut conn = PgConnection::connect(&url())
        .await
        .expect("connect to drop a test schema");
    conn.execute(format!("DROP SCHEMA IF EXISTS {} CASCADE", crate::quote_ident(schema)).as_str())
        .await
        .expect("drop a test schema");
    let _ = conn.close().await;
}
