//! Unique fields: the live holders of the blind-index entries a batch's guards name, read
//! inside the write transaction, after the journal head is locked, so no other writer commits
//! between this read and the batch's commit (`ward_store::write::unique`). No tables of
//! their own.

use crate::rows::{col, subject_id, unavailable, Result};
use sqlx::postgres::PgConnection;
use ward_store::write::unique::{Inserts, Keys, Snap, Step};

pub(crate) async fn snapshot(conn: &mut PgConnection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for (field, hash) in keys {
        let rows = sqlx::query(
            "SELECT i.subject_id FROM subject_index i JOIN subjects s ON s.id = i.subject_id \
             WHERE i.field = $1 AND i.hash = $2 AND s.state <> 'erased'",
        )
        .bind(field)
        .bind(hash)
        .fetch_all(&mut *conn)
        .await
        .map_err(unavailable)?;
        let holders = rows
            .iter()
            .map(|r| {
                subject_id(
                    &col::<_, Vec<u8>>(r, "subject_index", "subject_id")?,
                    "subject_index",
                    "subject_id",
                )
            })
            .collect::<Result<_>>()?;
        snap.entry(field.clone()).or_default().insert(*hash, holders);
    }
    Ok(())
}

pub(crate) async fn insert(_: &mut PgConnection, _: &Inserts<'_>) -> Result<()> {
    Ok(())
}

pub(crate) async fn apply(_: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    step.unreachable()
}
