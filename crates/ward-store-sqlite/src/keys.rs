//! Subjects' wrapped data keys (columns of `subjects`), rewrapped by key rotation.

use crate::rows::{exec, Result};
use rusqlite::{params, Connection};
use ward_store::write::keys::{Inserts, Keys, Snap, Step};

/// Nothing to read: the subjects' rows are read by [`crate::subjects::snapshot`].
pub(crate) fn snapshot(_: &Connection, _: &Keys, _: &mut Snap) -> Result<()> {
    Ok(())
}

/// Nothing to insert: keys come with their subjects.
pub(crate) fn insert(_: &Connection, _: &Inserts<'_>) -> Result<()> {
    Ok(())
}

pub(crate) fn apply(conn: &Connection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Rewrap(keys) => {
            for (id, key) in keys {
                exec(
                    conn,
                    "UPDATE subjects SET kek_id = ?1, wrapped_key = ?2 WHERE id = ?3",
                    params![key.kek_id, key.wrapped, &id.as_bytes()[..]],
                )?;
            }
        }
    }
    Ok(())
}
