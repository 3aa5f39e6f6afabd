//! Blocks on subjects' data (`subject_blocks`, migration `0016_subject_blocks`).

use crate::rows::{exec, query, query_opt, unstorable, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection};
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_core::SubjectId;
use ward_store::write::blocks::{Inserts, Keys, Snap, Step};
use ward_store::write::join_names;
use ward_store::{decode, BlockRecord, BlockStore, StoreResult};

static BY_SUBJECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM subject_blocks WHERE subject_id = ?1 ORDER BY at, id",
        decode::BLOCK.select
    )
});

#[async_trait]
impl BlockStore for SqliteStore {
    async fn find_blocks(&self, subject: SubjectId) -> StoreResult<Vec<BlockRecord>> {
        self.readers()
            .with(|c| query(c, &BY_SUBJECT, [&subject.as_bytes()[..]], |r| decode::block(&Sql(r))))
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

pub(crate) fn snapshot(conn: &Connection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for id in keys {
        let row = query_opt(
            conn,
            &format!("SELECT {} FROM subject_blocks WHERE id = ?1", decode::BLOCK.select),
            [id.to_string()],
            |r| decode::block(&Sql(r)),
        )?;
        if let Some(b) = row {
            snap.insert(b.id, (b.subject, b.lifted_at.is_some()));
        }
    }
    Ok(())
}

pub(crate) fn insert(conn: &Connection, rows: &Inserts<'_>) -> Result<()> {
    for b in rows {
        let categories = join_names(&b.categories).ok_or_else(|| unstorable("subject_blocks", "categories"))?;
        exec(
            conn,
            "INSERT INTO subject_blocks (id, subject_id, categories, reason, at, lifted_at, erase_after) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                b.id.to_string(),
                &b.subject.as_bytes()[..],
                categories,
                b.reason,
                to_micros(b.at),
                b.lifted_at.map(to_micros),
                b.erase_after,
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn apply(conn: &Connection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Lift { id, at } => {
            exec(
                conn,
                "UPDATE subject_blocks SET lifted_at = ?2 WHERE id = ?1",
                params![id.to_string(), to_micros(**at)],
            )?;
            Ok(())
        }
    }
}
