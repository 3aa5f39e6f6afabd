//! API keys (`api_keys`): their hashes, never the tokens.

use crate::rows::{col, unavailable, unstorable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_store::write::api_keys::{Inserts, Keys, Snap, Step};
use ward_store::write::join_names;
use ward_store::{decode, ApiKeyRecord, ApiKeyStore, StoreResult};

static BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM api_keys WHERE id = $1", decode::API_KEY.select));
static ALL: LazyLock<String> = LazyLock::new(|| format!("SELECT {} FROM api_keys ORDER BY id", decode::API_KEY.select));

#[async_trait]
impl ApiKeyStore for PgStore {
    async fn find_api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = sqlx::query(&BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(|r| decode::api_key(&Pg(r))).transpose()
    }

    async fn find_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(&ALL).fetch_all(&self.pool).await.map_err(unavailable)?;
        rows.iter().map(|r| decode::api_key(&Pg(r))).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Reads and locks the touched keys' rows.
pub(crate) async fn snapshot(conn: &mut PgConnection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = keys.iter().map(String::as_str).collect();
    let rows = sqlx::query("SELECT id, revoked_at FROM api_keys WHERE id = ANY($1) FOR UPDATE")
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(unavailable)?;
    for row in &rows {
        let revoked = col::<_, Option<i64>>(row, "api_keys", "revoked_at")?.is_some();
        snap.insert(col::<_, String>(row, "api_keys", "id")?, revoked);
    }
    Ok(())
}

pub(crate) async fn insert(conn: &mut PgConnection, rows: &Inserts<'_>) -> Result<()> {
    for k in rows {
        let mut purposes = k.purposes.clone();
        purposes.sort();
        purposes.dedup();
        let purposes = join_names(&purposes).ok_or_else(|| unstorable("api_keys", "purposes"))?;
        sqlx::query(
            "INSERT INTO api_keys (id, name, role, purposes, token_hash, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(k.id.as_str())
        .bind(k.name.as_str())
        .bind(k.role.as_str())
        .bind(purposes)
        .bind(k.token_hash.as_slice())
        .bind(to_micros(k.created_at))
        .bind(k.revoked_at.map(to_micros))
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}

pub(crate) async fn apply(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Revoke { id, at } => {
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
                .bind(to_micros(*at))
                .bind(*id)
                .execute(&mut *conn)
                .await
                .map_err(unavailable)?;
        }
    }
    Ok(())
}
