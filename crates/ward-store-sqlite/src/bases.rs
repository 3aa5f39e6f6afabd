//! Basis events (`basis_events`, migration `0010_basis_events`), keyed by their subject's
//! number.

use crate::rows::{exec, query, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection};
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_core::SubjectId;
use ward_store::write::bases::{Inserts, Keys, Snap, Step};
use ward_store::{decode, BasisEventRecord, BasisStore, StoreResult};

static BY_SUBJECT_ID: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM basis_events WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) ORDER BY id",
        decode::BASIS_EVENT.select
    )
});

#[async_trait]
impl BasisStore for SqliteStore {
    async fn find_basis_events(&self, id: SubjectId) -> StoreResult<Vec<BasisEventRecord>> {
        self.readers()
            .with(|c| query(c, &BY_SUBJECT_ID, [&id.as_bytes()[..]], |r| decode::basis_event(&Sql(r))))
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Nothing to read: the subjects' rows are read by [`crate::subjects::snapshot`].
pub(crate) fn snapshot(_: &Connection, _: &Keys, _: &mut Snap) -> Result<()> {
    Ok(())
}

pub(crate) fn insert(conn: &Connection, rows: &Inserts<'_>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO basis_events (subject_n, purpose, kind, at, start, policy_version, evidence) \
             VALUES ((SELECT n FROM subjects WHERE id = ?1), ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(crate::rows::unavailable)?;
    for (id, e) in rows {
        stmt.execute(params![
            &id.as_bytes()[..],
            e.purpose,
            e.kind.as_str(),
            to_micros(e.at),
            to_micros(e.start),
            e.policy_version,
            e.evidence,
        ])
        .map_err(crate::rows::unavailable)?;
    }
    Ok(())
}

pub(crate) fn apply(_: &Connection, step: &Step<'_>) -> Result<()> {
    step.unreachable()
}

/// Part of erasure: the evidence may name people and documents.
pub(crate) fn erase_evidence(conn: &Connection, subject: SubjectId) -> Result<()> {
    exec(
        conn,
        "UPDATE basis_events SET evidence = NULL \
         WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) AND evidence IS NOT NULL",
        [&subject.as_bytes()[..]],
    )?;
    Ok(())
}
