//! Website visitors' cookie consent records (`visitor_consents`, migration `0003_visitors`).

use crate::rows::{corrupt, exec, opt_subject_id, query, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection};
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
        "SELECT {} FROM visitor_consents WHERE visitor = ?1 ORDER BY id",
        decode::VISITOR_CONSENT.select
    )
});

#[async_trait]
impl VisitorStore for SqliteStore {
    async fn find_visitor_consents(&self, visitor: &Hash32) -> StoreResult<Vec<VisitorConsentRecord>> {
        self.readers()
            .with(|c| query(c, &BY_VISITOR, [&visitor[..]], |r| decode::visitor_consent(&Sql(r))))
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Reads which touched visitors have records, and their links, into the snapshot.
pub(crate) fn snapshot(conn: &Connection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for visitor in keys {
        let subjects = query(
            conn,
            "SELECT DISTINCT subject_id FROM visitor_consents WHERE visitor = ?1",
            [&visitor[..]],
            |row| opt_subject_id(row, T, "subject_id"),
        )?;
        if subjects.is_empty() {
            continue;
        }
        let linked = snap.entry(*visitor).or_insert(None);
        for subject in subjects {
            match (*linked, subject) {
                (Some(a), Some(b)) if a != b => {
                    return Err(corrupt(T, "subject_id", "a visitor is linked to two subjects"));
                }
                (_, Some(b)) => *linked = Some(b),
                (_, None) => {}
            }
        }
    }
    Ok(())
}

pub(crate) fn insert(conn: &Connection, rows: &Inserts<'_>) -> Result<()> {
    for (c, subject) in rows {
        exec(
            conn,
            "INSERT INTO visitor_consents (visitor, banner_version, choices, gpc, gpc_overrode, at, subject_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                &c.visitor[..],
                c.banner_version,
                summary(&c.choices),
                c.gpc,
                c.gpc_overrode,
                to_micros(c.at),
                subject.as_ref().map(|s| &s.as_bytes()[..]),
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn apply(conn: &Connection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Link { visitor, subject } => link(conn, visitor, *subject),
    }
}

fn link(conn: &Connection, visitor: &Hash32, subject: SubjectId) -> Result<()> {
    exec(
        conn,
        "UPDATE visitor_consents SET subject_id = ?1 WHERE visitor = ?2",
        params![&subject.as_bytes()[..], &visitor[..]],
    )?;
    Ok(())
}

/// Part of erasure: the subject's visitors' records are its personal data.
pub(crate) fn delete_for_subject(conn: &Connection, subject: SubjectId) -> Result<()> {
    exec(
        conn,
        "DELETE FROM visitor_consents WHERE subject_id = ?1",
        [&subject.as_bytes()[..]],
    )?;
    Ok(())
}
