//! API keys (`api_keys`): their hashes, never the tokens.

use crate::rows::{col, exec, parse, query, query_opt, unstorable, Result};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection, Row};
use ward_core::access::Role;
use ward_core::clock::{from_micros, to_micros};
use ward_store::write::api_keys::{Inserts, Keys, Snap, Step};
use ward_store::write::{join_names, split_names};
use ward_store::{ApiKeyRecord, ApiKeyStore, StoreResult};

fn api_key_record(row: &Row<'_>) -> Result<ApiKeyRecord> {
    const T: &str = "api_keys";
    let role: Role = parse(&col::<String>(row, T, "role")?, T, "role")?;
    Ok(ApiKeyRecord {
        id: col(row, T, "id")?,
        name: col(row, T, "name")?,
        role,
        purposes: split_names(&col::<String>(row, T, "purposes")?),
        token_hash: col(row, T, "token_hash")?,
        created_at: from_micros(col(row, T, "created_at")?),
        revoked_at: col::<Option<i64>>(row, T, "revoked_at")?.map(from_micros),
    })
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn find_api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        self.readers().with(|c| {
            query_opt(
                c,
                "SELECT id, name, role, purposes, token_hash, created_at, revoked_at FROM api_keys WHERE id = ?1",
                [id],
                api_key_record,
            )
        })
    }

    async fn find_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        self.readers()
            .scan(|c| {
                query(
                    c,
                    "SELECT id, name, role, purposes, token_hash, created_at, revoked_at FROM api_keys ORDER BY id",
                    [],
                    api_key_record,
                )
            })
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
