//! Destruction acts (`destruction_acts`, migration `0014_destruction_acts`).

use crate::rows::{unavailable, unstorable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_core::ActId;
use ward_store::write::acts::{Inserts, Keys, Snap, Step};
use ward_store::write::join_names;
use ward_store::{decode, ActFilter, ActStore, DestructionActRecord, StoreResult};

const T: &str = "destruction_acts";

static BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM destruction_acts WHERE id = $1", decode::ACT.select));

/// Every filter is a parameter that may be NULL, so one statement serves them all.
static FILTERED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM destruction_acts \
         WHERE ($1::bytea IS NULL OR subject_id = $1) AND ($2::int8 IS NULL OR at >= $2) \
         AND ($3::int8 IS NULL OR at < $3) \
         ORDER BY at DESC, id LIMIT $4",
        decode::ACT.select
    )
});

#[async_trait]
impl ActStore for PgStore {
    async fn find_act(&self, id: ActId) -> StoreResult<Option<DestructionActRecord>> {
        let row = sqlx::query(&BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(|r| decode::act(&Pg(r))).transpose()
    }

    async fn find_acts(&self, filter: &ActFilter) -> StoreResult<Vec<DestructionActRecord>> {
        let rows = sqlx::query(&FILTERED)
            .bind(filter.subject.map(|s| s.as_bytes().to_vec()))
            .bind(filter.from.map(to_micros))
            .bind(filter.to.map(to_micros))
            .bind(i64::from(filter.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| decode::act(&Pg(r))).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Reads which (subject, cause) pairs have an act. The journal head is locked already, so no
/// other writer can add one before this transaction ends.
pub(crate) async fn snapshot(conn: &mut PgConnection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for (subject, cause) in keys {
        let found = sqlx::query("SELECT 1 FROM destruction_acts WHERE subject_id = $1 AND cause = $2")
            .bind(&subject.as_bytes()[..])
            .bind(cause)
            .fetch_optional(&mut *conn)
            .await
            .map_err(unavailable)?;
        if found.is_some() {
            snap.insert((*subject, cause.clone()));
        }
    }
    Ok(())
}

pub(crate) async fn insert(conn: &mut PgConnection, rows: &Inserts<'_>) -> Result<()> {
    for a in rows {
        let names = |v: &[String], column| join_names(v).ok_or_else(|| unstorable(T, column));
        sqlx::query(
            "INSERT INTO destruction_acts (id, subject_id, cause, at, operator, operator_address, processor, \
             destroyed_by, position, categories, fields, system, method, reason, withheld) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(a.id.to_string())
        .bind(&a.subject.as_bytes()[..])
        .bind(&a.cause)
        .bind(to_micros(a.at))
        .bind(&a.operator)
        .bind(&a.operator_address)
        .bind(&a.processor)
        .bind(&a.destroyed_by)
        .bind(&a.position)
        .bind(names(&a.categories, "categories")?)
        .bind(names(&a.fields, "fields")?)
        .bind(&a.system)
        .bind(&a.method)
        .bind(&a.reason)
        .bind(names(&a.withheld, "withheld")?)
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
        // A pending download holds a copy of the data as it was: it goes with what the act
        // destroyed (the subject asks again for what is left).
        sqlx::query("DELETE FROM downloads WHERE subject_id = $1")
            .bind(&a.subject.as_bytes()[..])
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}

pub(crate) async fn apply(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Purge { before } => {
            sqlx::query("DELETE FROM destruction_acts WHERE at < $1")
                .bind(to_micros(**before))
                .execute(&mut *conn)
                .await
                .map_err(unavailable)?;
            Ok(())
        }
    }
}
