//! Idempotency records (`idempotency_keys`, migration `0011_idempotency_keys`).

use crate::rows::{at, exec, query_opt, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection};
use std::sync::LazyLock;
use ward_core::clock::{from_micros, to_micros};
use ward_crypto::Hash32;
use ward_store::write::idempotency::{Held, Inserts, Keys, Snap, Step};
use ward_store::{decode, IdempotencyRecord, IdempotencyStore, StoreResult};

const T: &str = "idempotency_keys";

static BY_KEY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM idempotency_keys WHERE key = ?1",
        decode::IDEMPOTENCY.select
    )
});

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn find_idempotency(&self, key: &Hash32) -> StoreResult<Option<IdempotencyRecord>> {
        self.readers()
            .with(|c| query_opt(c, &BY_KEY, [&key[..]], |r| decode::idempotency(&Sql(r))))
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Reads the touched keys' records.
pub(crate) fn snapshot(conn: &Connection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for key in keys {
        if let Some((expires_at, answered)) = query_opt(
            conn,
            "SELECT expires_at, status IS NOT NULL FROM idempotency_keys WHERE key = ?1",
            [&key[..]],
            |r| Ok((at::<i64>(r, 0, T, "expires_at")?, at::<bool>(r, 1, T, "status")?)),
        )? {
            snap.insert(
                *key,
                Held {
                    expires_at: from_micros(expires_at),
                    answered,
                },
            );
        }
    }
    Ok(())
}

/// Records claims, replacing an expired record of the same key.
pub(crate) fn insert(conn: &Connection, rows: &Inserts<'_>) -> Result<()> {
    for c in rows {
        exec(
            conn,
            "INSERT INTO idempotency_keys (key, fingerprint, created_at, expires_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, created_at = excluded.created_at, \
             expires_at = excluded.expires_at, status = NULL, kek_id = NULL, wrapped_key = NULL, answer = NULL",
            params![
                &c.key[..],
                &c.fingerprint[..],
                to_micros(c.created_at),
                to_micros(c.expires_at)
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn apply(conn: &Connection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Complete { key, answer } => exec(
            conn,
            "UPDATE idempotency_keys SET status = ?2, kek_id = ?3, wrapped_key = ?4, answer = ?5 WHERE key = ?1",
            params![
                &key[..],
                i64::from(answer.status),
                answer.kek_id,
                answer.wrapped_key,
                answer.body
            ],
        ),
        Step::Prune { before } => exec(
            conn,
            "DELETE FROM idempotency_keys WHERE expires_at <= ?1",
            [to_micros(*before)],
        ),
    }
    .map(|_| ())
}
