//! Basis events (`basis_events`, migration `0010_basis_events`).

use crate::rows::{unavailable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_core::SubjectId;
use ward_store::write::bases::{Inserts, Keys, Snap, Step};
use ward_store::{decode, BasisEventRecord, BasisStore, StoreResult};

static BY_SUBJECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM basis_events WHERE subject_id = $1 ORDER BY id",
        decode::BASIS_EVENT.select
    )
});

#[async_trait]
impl BasisStore for PgStore {
    async fn find_basis_events(&self, id: SubjectId) -> StoreResult<Vec<BasisEventRecord>> {
        let rows = sqlx::query(&BY_SUBJECT)
            .bind(&id.as_bytes()[..])
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| decode::basis_event(&Pg(r))).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Nothing to read: the subjects' rows are read by [`crate::subjects::snapshot`].
pub(crate) async fn snapshot(_: &mut PgConnection, _: &Keys, _: &mut Snap) -> Result<()> {
    Ok(())
}

pub(crate) async fn insert(conn: &mut PgConnection, rows: &Inserts<'_>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let subject: Vec<&[u8]> = rows.iter().map(|(id, _)| &id.as_bytes()[..]).collect();
    let purpose: Vec<&str> = rows.iter().map(|(_, e)| e.purpose.as_str()).collect();
    let kind: Vec<&str> = rows.iter().map(|(_, e)| e.kind.as_str()).collect();
    let at: Vec<i64> = rows.iter().map(|(_, e)| to_micros(e.at)).collect();
    let start: Vec<i64> = rows.iter().map(|(_, e)| to_micros(e.start)).collect();
    let version: Vec<&str> = rows.iter().map(|(_, e)| e.policy_version.as_str()).collect();
    let evidence: Vec<Option<&[u8]>> = rows.iter().map(|(_, e)| e.evidence.as_deref()).collect();
    // Ids are assigned in array order, which is the order of recording.
    sqlx::query(
        "INSERT INTO basis_events (subject_id, purpose, kind, at, start, policy_version, evidence) \
         SELECT subject_id, purpose, kind, at, start, policy_version, evidence \
         FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[], $7::bytea[]) \
         WITH ORDINALITY AS t (subject_id, purpose, kind, at, start, policy_version, evidence, n) ORDER BY n",
    )
    .bind(&subject)
    .bind(&purpose)
    .bind(&kind)
    .bind(&at)
    .bind(&start)
    .bind(&version)
    .bind(&evidence)
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(crate) async fn apply(_: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    step.unreachable()
}
