//! Policy versions Ward has run with (`policy_versions`).

use crate::rows::{col, unavailable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgConnection;
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
impl PolicyStore for PgStore {
    async fn find_policy_versions(&self) -> StoreResult<Vec<PolicyVersionRecord>> {
        let rows = sqlx::query(&ALL).fetch_all(&self.pool).await.map_err(unavailable)?;
        rows.iter().map(|r| decode::policy_version(&Pg(r))).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Reads which touched hashes are recorded already.
pub(crate) async fn snapshot(conn: &mut PgConnection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let hashes: Vec<&str> = keys.iter().map(String::as_str).collect();
    let rows = sqlx::query("SELECT hash, COALESCE(effective_at, recorded_at) AS effective_at FROM policy_versions WHERE hash = ANY($1) FOR UPDATE")
        .bind(&hashes)
        .fetch_all(&mut *conn)
        .await
        .map_err(unavailable)?;
    for row in &rows {
        let at = col::<_, i64>(row, "policy_versions", "effective_at")?;
        snap.insert(col::<_, String>(row, "policy_versions", "hash")?, from_micros(at));
    }
    Ok(())
}

pub(crate) async fn insert(conn: &mut PgConnection, rows: &Inserts<'_>) -> Result<()> {
    for p in rows {
        sqlx::query(
            "INSERT INTO policy_versions (hash, policy_id, version, source, text, effective_at, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(p.hash.as_str())
        .bind(p.policy_id.as_str())
        .bind(p.version.as_str())
        .bind(p.source.as_str())
        .bind(p.text.as_deref())
        .bind(to_micros(p.effective_at))
        .bind(to_micros(p.recorded_at))
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}

pub(crate) async fn apply(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Reschedule { hash, to } => {
            sqlx::query("UPDATE policy_versions SET effective_at = $2 WHERE hash = $1")
                .bind(*hash)
                .bind(to_micros(*to))
                .execute(&mut *conn)
                .await
                .map_err(unavailable)?;
            Ok(())
        }
    }
}
