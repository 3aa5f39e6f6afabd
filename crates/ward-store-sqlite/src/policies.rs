//! Policy versions Ward has run with (`policy_versions`).

use crate::rows::{at, exec, query, query_opt, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection};
use std::sync::LazyLock;
use ward_core::clock::{from_micros, to_micros};
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
        if let Some(at) = query_opt(
            conn,
            "SELECT COALESCE(effective_at, recorded_at) FROM policy_versions WHERE hash = ?1",
            [hash],
            |r| at::<i64>(r, 0, "policy_versions", "effective_at"),
        )? {
            snap.insert(hash.clone(), from_micros(at));
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

pub(crate) fn apply(conn: &Connection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Reschedule { hash, to } => exec(
            conn,
            "UPDATE policy_versions SET effective_at = ?2 WHERE hash = ?1",
            params![hash, to_micros(*to)],
        )
        .map(|_| ()),
    }
}
