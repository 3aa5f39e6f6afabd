//! Idempotency records (`idempotency_keys`, migration `0011_idempotency_keys`).

use crate::rows::{col, hash32, unavailable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use std::sync::LazyLock;
use ward_core::clock::{from_micros, to_micros};
use ward_crypto::Hash32;
use ward_store::write::idempotency::{Held, Inserts, Keys, Snap, Step};
use ward_store::{decode, IdempotencyRecord, IdempotencyStore, StoreResult};

const T: &str = "idempotency_keys";

static BY_KEY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM idempotency_keys WHERE key = $1",
        decode::IDEMPOTENCY.select
    )
});

#[async_trait]
impl IdempotencyStore for PgStore {
    async fn find_idempotency(&self, key: &Hash32) -> StoreResult<Option<IdempotencyRecord>> {
        let row = sqlx::query(&BY_KEY)
            .bind(&key[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(|r| decode::idempotency(&Pg(r))).transpose()
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Reads the touched keys' records. (No row locks: every write transaction holds the journal
/// head lock, so writers are serialized.)
pub(crate) async fn snapshot(conn: &mut PgConnection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let list: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
    let rows = sqlx::query(
        "SELECT key, expires_at, status IS NOT NULL AS answered FROM idempotency_keys WHERE key = ANY($1)",
    )
    .bind(&list)
    .fetch_all(&mut *conn)
    .await
    .map_err(unavailable)?;
    for row in &rows {
        let key = hash32(&col::<_, Vec<u8>>(row, T, "key")?, T, "key")?;
        snap.insert(
            key,
            Held {
                expires_at: from_micros(col::<_, i64>(row, T, "expires_at")?),
                answered: col::<_, bool>(row, T, "answered")?,
            },
        );
    }
    Ok(())
}

/// Records claims, replacing an expired record of the same key.
pub(crate) async fn insert(conn: &mut PgConnection, rows: &Inserts<'_>) -> Result<()> {
    for c in rows {
        sqlx::query(
            "INSERT INTO idempotency_keys (key, fingerprint, created_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, created_at = excluded.created_at, \
             expires_at = excluded.expires_at, status = NULL, kek_id = NULL, wrapped_key = NULL, answer = NULL",
        )
        .bind(&c.key[..])
        .bind(&c.fingerprint[..])
        .bind(to_micros(c.created_at))
        .bind(to_micros(c.expires_at))
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}

pub(crate) async fn apply(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Complete { key, answer } => sqlx::query(
            "UPDATE idempotency_keys SET status = $2, kek_id = $3, wrapped_key = $4, answer = $5 WHERE key = $1",
        )
        .bind(&key[..])
        .bind(i64::from(answer.status))
        .bind(answer.kek_id.as_str())
        .bind(answer.wrapped_key.as_slice())
        .bind(answer.body.as_slice())
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?,
        Step::Prune { before } => sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(to_micros(*before))
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?,
    };
    Ok(())
}
