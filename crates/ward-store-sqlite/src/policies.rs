//! Policy versions Ward has run with (`policy_versions`).

use crate::rows::{col, exec, query, query_opt, Result};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection, Row};
use ward_core::clock::{from_micros, to_micros};
use ward_store::write::policies::{Inserts, Keys, Snap, Step};
use ward_store::{PolicyStore, PolicyVersionRecord, StoreResult};

fn policy_record(row: &Row<'_>) -> Result<PolicyVersionRecord> {
    const T: &str = "policy_versions";
    Ok(PolicyVersionRecord {
        hash: col(row, T, "hash")?,
        policy_id: col(row, T, "policy_id")?,
        version: col(row, T, "version")?,
        source: col(row, T, "source")?,
        text: col(row, T, "text")?,
        effective_at: from_micros(col(row, T, "effective_at")?),
        recorded_at: from_micros(col(row, T, "recorded_at")?),
    })
}

#[async_trait]
impl PolicyStore for SqliteStore {
    async fn find_policy_versions(&self) -> StoreResult<Vec<PolicyVersionRecord>> {
        self.readers()
            .scan(|c| {
                query(
                    c,
                    "SELECT hash, policy_id, version, source, text, COALESCE(effective_at, recorded_at) AS effective_at, \
                     recorded_at FROM policy_versions ORDER BY recorded_at, hash",
                    [],
                    policy_record,
                )
            })
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Reads which touched hashes are recorded already.
pub(crate) fn snapshot(conn: &Connection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for hash in keys {
        if query_opt(
            conn,
            "SELECT 1 FROM policy_versions WHERE hash = ?1",
            [hash],
            |_| Ok(()),
        )?
        .is_some()
        {
            snap.insert(hash.clone());
        }
    }
    Ok(())
}

pub(crate) fn insert(conn: &Connection, rows: &Inserts<'_>) -> Result<()> {
    for p in rows {
        exec(
            conn,
            "INSERT INTO policy_versions (hash, policy_id, version, source, text, effective_at, recorded_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                p.hash,
                p.policy_id,
                p.version,
                p.source,
                p.text,
                to_micros(p.effective_at),
                to_micros(p.recorded_at),
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn apply(_: &Connection, step: &Step<'_>) -> Result<()> {
    step.unreachable()
}
