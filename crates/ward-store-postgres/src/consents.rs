//! Consent events (`consent_events`).

use crate::rows::{unavailable, Result};
use sqlx::postgres::PgConnection;
use ward_core::clock::to_micros;
use ward_store::write::consents::{Inserts, Keys, Snap, Step};

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
    let id: Vec<&[u8]> = rows.iter().map(|(s, _)| &s.as_bytes()[..]).collect();
    let purpose: Vec<&str> = rows.iter().map(|(_, e)| e.purpose.as_str()).collect();
    let kind: Vec<&str> = rows.iter().map(|(_, e)| e.kind.as_str()).collect();
    let at: Vec<i64> = rows.iter().map(|(_, e)| to_micros(e.at)).collect();
    let version: Vec<&str> = rows.iter().map(|(_, e)| e.policy_version.as_str()).collect();
    let evidence: Vec<Option<&[u8]>> = rows.iter().map(|(_, e)| e.evidence.as_deref()).collect();
    // Ids are assigned in array order, which is the order of appending.
    sqlx::query(
        "INSERT INTO consent_events (subject_id, purpose, kind, at, policy_version, evidence) \
         SELECT subject_id, purpose, kind, at, policy_version, evidence \
         FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::bytea[]) \
         WITH ORDINALITY AS t (subject_id, purpose, kind, at, policy_version, evidence, n) ORDER BY n",
    )
    .bind(&id)
    .bind(&purpose)
    .bind(&kind)
    .bind(&at)
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
