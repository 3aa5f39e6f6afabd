//! API keys (`api_keys`): their hashes, never the tokens.

use crate::rows::{col, parse, unavailable, unstorable, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgRow};
use ward_core::access::Role;
use ward_core::clock::{from_micros, to_micros};
use ward_store::write::api_keys::{Inserts, Keys, Snap, Step};
use ward_store::write::{join_names, split_names};
use ward_store::{ApiKeyRecord, ApiKeyStore, StoreResult};

fn api_key_record(row: &PgRow) -> Result<ApiKeyRecord> {
    const T: &str = "api_keys";
    let role: Role = parse(&col::<_, String>(row, T, "role")?, T, "role")?;
    Ok(ApiKeyRecord {
        id: col(row, T, "id")?,
        name: col(row, T, "name")?,
        role,
        purposes: split_names(&col::<_, String>(row, T, "purposes")?),
        token_hash: col(row, T, "token_hash")?,
        created_at: from_micros(col(row, T, "created_at")?),
        revoked_at: col::<_, Option<i64>>(row, T, "revoked_at")?.map(from_micros),
    })
}

#[async_trait]
impl ApiKeyStore for PgStore {
    async fn find_api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let row = sqlx::query(
            "SELECT id, name, role, purposes, token_hash, created_at, revoked_at FROM api_keys WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.as_ref().map(api_key_record).transpose()
    }

    async fn find_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, role, purposes, token_hash, created_at, revoked_at FROM api_keys ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(api_key_record).collect()
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
