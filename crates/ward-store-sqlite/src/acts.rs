//! Destruction acts (`destruction_acts`, migration `0014_destruction_acts`).

use crate::rows::{exec, query, query_opt, unstorable, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection};
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_core::ActId;
use ward_store::write::acts::{Inserts, Keys, Snap, Step};
use ward_store::write::join_names;
use ward_store::{decode, ActFilter, ActStore, DestructionActRecord, StoreResult};

const T: &str = "destruction_acts";

static BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM destruction_acts WHERE id = ?1", decode::ACT.select));

/// Every filter is a parameter that may be NULL, so one statement serves them all.
static FILTERED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM destruction_acts \
         WHERE (?1 IS NULL OR subject_id = ?1) AND (?2 IS NULL OR at >= ?2) AND (?3 IS NULL OR at < ?3) \
         ORDER BY at DESC, id LIMIT ?4",
        decode::ACT.select
    )
});

#[async_trait]
impl ActStore for SqliteStore {
    async fn find_act(&self, id: ActId) -> StoreResult<Option<DestructionActRecord>> {
        let id = id.to_string();
        self.readers()
            .with(|c| query_opt(c, &BY_ID, [&id], |r| decode::act(&Sql(r))))
    }

    async fn find_acts(&self, filter: &ActFilter) -> StoreResult<Vec<DestructionActRecord>> {
        let subject = filter.subject.map(|s| s.as_bytes().to_vec());
        let from = filter.from.map(to_micros);
        let to = filter.to.map(to_micros);
        let limit = i64::from(filter.limit);
        self.readers()
            .scan(move |c| {
                query(c, &FILTERED, params![subject, from, to, limit], |r| {
                    decode::act(&Sql(r))
                })
            })
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

pub(crate) fn snapshot(conn: &Connection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for (subject, cause) in keys {
        let found = query_opt(
            conn,
            "SELECT 1 FROM destruction_acts WHERE subject_id = ?1 AND cause = ?2",
            params![&subject.as_bytes()[..], cause],
            |_| Ok(()),
        )?;
        if found.is_some() {
            snap.insert((*subject, cause.clone()));
        }
    }
    Ok(())
}

pub(crate) fn insert(conn: &Connection, rows: &Inserts<'_>) -> Result<()> {
    for a in rows {
        let names = |v: &[String], column| join_names(v).ok_or_else(|| unstorable(T, column));
        exec(
            conn,
            "INSERT INTO destruction_acts (id, subject_id, cause, at, operator, operator_address, processor, \
             destroyed_by, position, categories, fields, system, method, reason, withheld) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                a.id.to_string(),
                &a.subject.as_bytes()[..],
                a.cause,
                to_micros(a.at),
                a.operator,
                a.operator_address,
                a.processor,
                a.destroyed_by,
                a.position,
                names(&a.categories, "categories")?,
                names(&a.fields, "fields")?,
                a.system,
                a.method,
                a.reason,
                names(&a.withheld, "withheld")?,
            ],
        )?;
        // A pending download holds a copy of the data as it was: it goes with what the act
        // destroyed (the subject asks again for what is left).
        crate::downloads::delete_for_subject(conn, a.subject)?;
    }
    Ok(())
}

pub(crate) fn apply(conn: &Connection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Purge { before } => {
            exec(conn, "DELETE FROM destruction_acts WHERE at < ?1", [to_micros(**before)])?;
            Ok(())
        }
    }
}
