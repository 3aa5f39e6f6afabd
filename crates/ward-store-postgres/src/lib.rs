//! Ward's PostgreSQL backend.
//!
//! Every [`WriteStore::write`](ward_store::WriteStore::write) is one transaction that first locks the journal head row
//! (`SELECT … FROM journal_head … FOR UPDATE`). Writers — of this process and of any other
//! Ward process on the same database — therefore run one after another, each linking its
//! entries after the head the previous one committed: one chain, never a fork. The rows a
//! batch's preconditions read are locked too (`FOR UPDATE`). Within one process, writers
//! also queue on a mutex before taking a connection, so waiting writers never hold the
//! connections readers need.
//!
//! Bulk inserts bind one array per column and `UNNEST` them, so a batch of hundreds of new
//! subjects is a handful of statements.
//!
//! A write runs on its own task: if the caller stops waiting, the transaction still commits
//! or rolls back as a whole.

//!
//! Each aggregate's reads and writes live in a module of their own (`subjects`, `consents`,
//! `subject_events`, `bases`, `keys`, `api_keys`, `policies`, `visitors`); `write` runs a batch
//! through them, and `journal` appends its entries.

mod binding;
mod journal;
mod lease;
mod listing;
mod migrate;
mod rows;
#[cfg(feature = "testing")]
pub mod testing;
mod write;

/// One module per aggregate of the write path (`src/<aggregate>.rs`), declared from the list
/// in [`ward_store::for_each_aggregate!`]; `write` dispatches to them.
macro_rules! aggregate_modules {
    ($($name:ident: $Variant:ident($Change:ident)),* $(,)?) => {
        $(mod $name;)*
    };
}
ward_store::for_each_aggregate!(aggregate_modules);

use rows::unavailable;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use ward_store::{Store, StoreResult};

/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 10;
/// How long to wait for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

pub use migrate::migration_names;

/// Ward's store in a PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    schema: Option<String>,
    /// Serializes this process's writers before they take a connection: they would only
    /// queue on the head lock, holding connections that readers need.
    write_lock: Arc<Mutex<()>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("PgStore")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// A pooled connection idle for longer than this is pinged before it is handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// The pool: a connection that has been idle for a while is checked with a ping before use
/// (one that died with a database restart or a network timeout is replaced, not failed on),
/// and a connection that was in use within the last [`PING_IF_IDLE_FOR`] is handed out as it
/// is. Pinging every connection on every acquire, sqlx's default, is one extra round trip per
/// query, which under load costs write throughput. The price: after a database
/// restart, a connection that was busy the moment before fails its next query (the request
/// gets a 503; nothing acknowledged is lost) and is then replaced.
fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                // A connection that fails its ping is closed and another one taken.
                Ok(meta.idle_for < PING_IF_IDLE_FOR || conn.ping().await.is_ok())
            })
        })
}

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl PgStore {
    /// Connects to the database at `url` (a `postgres://` URL) and runs the migrations.
    /// Fails at once (without waiting for the pool) if the database cannot be reached.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(unavailable)?;
        // One plain connection first: a clear, immediate error when the database is down.
        PgConnection::connect_with(&options)
            .await
            .map_err(unavailable)?
            .close()
            .await
            .map_err(unavailable)?;
        let pool = pool_options().connect_with(options).await.map_err(unavailable)?;
        Self::migrate(pool, None).await
    }

    /// Like [`PgStore::connect`], but keeps Ward's tables in `schema`, creating it if
    /// missing: every pooled connection has it as its `search_path`.
    pub async fn connect_with_schema(url: &str, schema: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(unavailable)?;
        let quoted = quote_ident(schema);
        let mut conn = PgConnection::connect_with(&options).await.map_err(unavailable)?;
        conn.execute(format!("CREATE SCHEMA IF NOT EXISTS {quoted}").as_str())
            .await
            .map_err(unavailable)?;
        conn.close().await.map_err(unavailable)?;
        let set_path = format!("SET search_path TO {quoted}");
        let pool = pool_options()
            .after_connect(move |conn, _| {
                let set_path = set_path.clone();
                Box::pin(async move {
                    conn.execute(set_path.as_str()).await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        Self::migrate(pool, Some(schema.to_owned())).await
    }

    async fn migrate(pool: PgPool, schema: Option<String>) -> StoreResult<Self> {
        migrate::run(&pool).await?;
        Ok(Self {
            pool,
            schema,
            write_lock: Arc::new(Mutex::new(())),
        })
    }

    /// The schema given to [`PgStore::connect_with_schema`], if any.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Closes the pool (after in-flight operations finish).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn migration_names(&self) -> Vec<String> {
        migration_names()
    }
}
