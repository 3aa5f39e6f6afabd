//! Policy versions Ward has run with (`policy_versions`).

use crate::rows::{exec, query, query_opt, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection};
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_store::write::policies::{Inserts, Keys, Snap, Step};
use ward_store::{decode, PolicyStore, PolicyVersionRecord, StoreResult};

static ALL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM policy_versions ORDER BY recorded_at, hash",
        decode::POLICY_VERSION.select
    )
});

#[async_trait]
impl PolicyStore for SqliteStore {
    async fn find_policy_versions(&self) -> StoreResult<Vec<PolicyVersionRecord>> {
        self.readers()
            .scan(|c| query(c, &ALL, [], |r| decode::policy_version(&Sql(r))))
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
