//! Blocks on subjects' data (`subject_blocks`, migration `0016_subject_blocks`).

use crate::rows::{unavailable, unstorable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_core::SubjectId;
use ward_store::write::blocks::{Inserts, Keys, Snap, Step};
use ward_store::write::join_names;
use ward_store::{decode, BlockRecord, BlockStore, StoreResult};

static BY_SUBJECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM subject_blocks WHERE subject_id = $1 ORDER BY at, id",
        decode::BLOCK.select
    )
});

static BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM subject_blocks WHERE id = $1", decode::BLOCK.select));

#[async_trait]
impl BlockStore for PgStore {
    async fn find_blocks(&self, subject: SubjectId) -> StoreResult<Vec<BlockRecord>> {
        let rows = sqlx::query(&BY_SUBJECT)
            .bind(&subject.as_bytes()[..])
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| decode::block(&Pg(r))).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

pub(crate) async fn snapshot(conn: &mut PgConnection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for id in keys {
        let row = sqlx::query(&BY_ID)
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(unavailable)?;
        if let Some(r) = row {
            let b = decode::block(&Pg(&r))?;
            snap.insert(b.id, (b.subject, b.lifted_at.is_some()));
        }
    }
    Ok(())
}

pub(crate) async fn insert(conn: &mut PgConnection, rows: &Inserts<'_>) -> Result<()> {
    for b in rows {
        let categories = join_names(&b.categories).ok_or_else(|| unstorable("subject_blocks", "categories"))?;
        sqlx::query(
            "INSERT INTO subject_blocks (id, subject_id, categories, reason, at, lifted_at, erase_after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(b.id.to_string())
        .bind(&b.subject.as_bytes()[..])
        .bind(categories)
        .bind(&b.reason)
        .bind(to_micros(b.at))
        .bind(b.lifted_at.map(to_micros))
        .bind(b.erase_after)
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}

pub(crate) async fn apply(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Lift { id, at } => {
            sqlx::query("UPDATE subject_blocks SET lifted_at = $2 WHERE id = $1")
                .bind(id.to_string())
                .bind(to_micros(**at))
                .execute(&mut *conn)
                .await
                .map_err(unavailable)?;
            Ok(())
        }
    }
}
