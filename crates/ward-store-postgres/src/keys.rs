//! Subjects' wrapped data keys (columns of `subjects`), rewrapped by key rotation.

use crate::rows::{unavailable, Result};
use sqlx::postgres::PgConnection;
use ward_store::write::keys::{Inserts, Keys, Snap, Step};

/// Nothing to read: the subjects' rows are read by [`crate::subjects::snapshot`].
pub(crate) async fn snapshot(_: &mut PgConnection, _: &Keys, _: &mut Snap) -> Result<()> {
    Ok(())
}

/// Nothing to insert: keys come with their subjects.
pub(crate) async fn insert(_: &mut PgConnection, _: &Inserts<'_>) -> Result<()> {
    Ok(())
}

pub(crate) async fn apply(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Rewrap(keys) => {
            let id: Vec<&[u8]> = keys.iter().map(|(s, _)| &s.as_bytes()[..]).collect();
            let kek: Vec<&str> = keys.iter().map(|(_, k)| k.kek_id.as_str()).collect();
            let wrapped: Vec<&[u8]> = keys.iter().map(|(_, k)| k.wrapped.as_slice()).collect();
            sqlx::query(
                "UPDATE subjects AS s SET kek_id = u.kek_id, wrapped_key = u.wrapped_key \
                 FROM UNNEST($1::bytea[], $2::text[], $3::bytea[]) AS u (id, kek_id, wrapped_key) \
                 WHERE s.id = u.id",
            )
            .bind(&id)
            .bind(&kek)
            .bind(&wrapped)
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
        }
    }
    Ok(())
}
