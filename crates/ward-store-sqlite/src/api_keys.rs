//! API keys (`api_keys`): their hashes, never the tokens.

use crate::rows::{col, exec, query, query_opt, unstorable, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection};
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_store::write::api_keys::{Inserts, Keys, Snap, Step};
use ward_store::write::join_names;
use ward_store::{decode, ApiKeyRecord, ApiKeyStore, StoreResult};

static BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM api_keys WHERE id = ?1", decode::API_KEY.select));
static ALL: LazyLock<String> = LazyLock::new(|| format!("SELECT {} FROM api_keys ORDER BY id", decode::API_KEY.select));

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn find_api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        self.readers()
            .with(|c| query_opt(c, &BY_ID, [id], |r| decode::api_key(&Sql(r))))
    }

    async fn find_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        self.readers()
            .scan(|c| query(c, &ALL, [], |r| decode::api_key(&Sql(r))))
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Reads whether each touched key exists and is revoked.
pub(crate) fn snapshot(conn: &Connection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for id in keys {
        let revoked = query_opt(conn, "SELECT revoked_at FROM api_keys WHERE id = ?1", [id], |row| {
            Ok(col::<Option<i64>>(row, "api_keys", "revoked_at")?.is_some())
        })?;
        if let Some(revoked) = revoked {
            snap.insert(id.clone(), revoked);
        }
    }
    Ok(())
}

pub(crate) fn insert(conn: &Connection, rows: &Inserts<'_>) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO api_keys (id, name, role, purposes, token_hash, created_at, revoked_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(crate::rows::unavailable)?;
    for k in rows {
        let mut purposes = k.purposes.clone();
        purposes.sort();
        purposes.dedup();
        let purposes = join_names(&purposes).ok_or_else(|| unstorable("api_keys", "purposes"))?;
        stmt.execute(params![
            k.id,
            k.name,
            k.role.as_str(),
            purposes,
            k.token_hash,
            to_micros(k.created_at),
            k.revoked_at.map(to_micros),
        ])
        .map_err(crate::rows::unavailable)?;
    }
    Ok(())
}

pub(crate) fn apply(conn: &Connection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Revoke { id, at } => {
            exec(
                conn,
                "UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2",
                params![to_micros(*at), id],
            )?;
        }
    }
    Ok(())
}
