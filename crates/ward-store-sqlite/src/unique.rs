//! Unique fields: the live holders of the blind-index entries a batch's guards name, read
//! inside the write transaction (`ward_store::write::unique`). No tables of their own.

use crate::rows::{at, query, subject_id, Result};
use rusqlite::{params, Connection};
use ward_store::write::unique::{Inserts, Keys, Snap, Step};

pub(crate) fn snapshot(conn: &Connection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for (field, hash) in keys {
        let holders = query(
            conn,
            "SELECT s.id FROM subject_index i JOIN subjects s ON s.n = i.subject_n \
             WHERE i.field = ?1 AND i.hash = ?2 AND s.state <> 'erased'",
            params![field, hash],
            |r| subject_id(&at::<Vec<u8>>(r, 0, "subjects", "id")?, "subjects", "id"),
        )?;
        snap.entry(field.clone())
            .or_default()
            .insert(*hash, holders.into_iter().collect());
    }
    Ok(())
}

pub(crate) fn insert(_: &Connection, _: &Inserts<'_>) -> Result<()> {
    Ok(())
}

pub(crate) fn apply(_: &Connection, step: &Step<'_>) -> Result<()> {
    step.unreachable()
}
