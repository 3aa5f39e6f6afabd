//! Website visitors' cookie consent records (`visitor_consents`, migration `0003_visitors`).

use crate::rows::{col, corrupt, hash32, subject_id, unavailable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_core::cookies::summary;
use ward_core::SubjectId;
use ward_crypto::Hash32;
use ward_store::write::visitors::{Inserts, Keys, Snap, Step};
use ward_store::{decode, StoreResult, VisitorConsentRecord, VisitorStore};

const T: &str = "visitor_consents";

static BY_VISITOR: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM visitor_consents WHERE visitor = $1 ORDER BY id",
        decode::VISITOR_CONSENT.select
    )
});

#[async_trait]
impl VisitorStore for PgStore {
    async fn find_visitor_consents(&self, visitor: &Hash32) -> StoreResult<Vec<VisitorConsentRecord>> {
        let rows = sqlx::query(&BY_VISITOR)
            .bind(&visitor[..])
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| decode::visitor_consent(&Pg(r))).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Reads which touched visitors have records, and their links, into the snapshot. (No row
/// locks: every write transaction holds the journal head lock, so writers are serialized.)
pub(crate) async fn snapshot(conn: &mut PgConnection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let visitors: Vec<&[u8]> = keys.iter().map(|v| &v[..]).collect();
    let rows = sqlx::query("SELECT DISTINCT visitor, subject_id FROM visitor_consents WHERE visitor = ANY($1)")
        .bind(&visitors)
        .fetch_all(&mut *conn)
        .await
        .map_err(unavailable)?;
    for row in &rows {
        let visitor = hash32(&col::<_, Vec<u8>>(row, T, "visitor")?, T, "visitor")?;
        let subject = match col::<_, Option<Vec<u8>>>(row, T, "subject_id")? {
            Some(b) => Some(subject_id(&b, T, "subject_id")?),
            None => None,
        };
        let linked = snap.entry(visitor).or_insert(None);
        match (*linked, subject) {
            (Some(a), Some(b)) if a != b => {
                return Err(corrupt(T, "subject_id", "a visitor is linked to two subjects"));
            }
            (_, Some(b)) => *linked = Some(b),
            (_, None) => {}
        }
    }
    Ok(())
}

pub(crate) async fn insert(conn: &mut PgConnection, rows: &Inserts<'_>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let visitor: Vec<&[u8]> = rows.iter().map(|(c, _)| &c.visitor[..]).collect();
    let version: Vec<&str> = rows.iter().map(|(c, _)| c.banner_version.as_str()).collect();
    let choices: Vec<String> = rows.iter().map(|(c, _)| summary(&c.choices)).collect();
    let gpc: Vec<bool> = rows.iter().map(|(c, _)| c.gpc).collect();
    let overrode: Vec<bool> = rows.iter().map(|(c, _)| c.gpc_overrode).collect();
    let at: Vec<i64> = rows.iter().map(|(c, _)| to_micros(c.at)).collect();
    let subject: Vec<Option<&[u8]>> = rows
        .iter()
        .map(|(_, s)| s.as_ref().map(|s| &s.as_bytes()[..]))
        .collect();
    // Ids are assigned in array order, which is the order of recording.
    sqlx::query(
        "INSERT INTO visitor_consents (visitor, banner_version, choices, gpc, gpc_overrode, at, subject_id) \
         SELECT visitor, banner_version, choices, gpc, gpc_overrode, at, subject_id \
         FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::bool[], $5::bool[], $6::int8[], $7::bytea[]) \
         WITH ORDINALITY AS t (visitor, banner_version, choices, gpc, gpc_overrode, at, subject_id, n) ORDER BY n",
    )
    .bind(&visitor)
    .bind(&version)
    .bind(&choices)
    .bind(&gpc)
    .bind(&overrode)
    .bind(&at)
    .bind(&subject)
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(crate) async fn apply(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Link { visitor, subject } => link(conn, visitor, *subject).await,
    }
}

async fn link(conn: &mut PgConnection, visitor: &Hash32, subject: SubjectId) -> Result<()> {
    sqlx::query("UPDATE visitor_consents SET subject_id = $1 WHERE visitor = $2")
        .bind(&subject.as_bytes()[..])
        .bind(&visitor[..])
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    Ok(())
}
