//! Consent events (`consent_events`), keyed by their subject's number.

use crate::rows::{at, exec, parse, query, Result};
use rusqlite::{params, Connection, Row};
use ward_core::clock::{from_micros, to_micros};
use ward_core::SubjectId;
use ward_store::write::consents::{Inserts, Keys, Snap, Step};
use ward_store::ConsentEventRecord;

/// Columns by position: purpose, kind, at, policy_version, evidence.
fn consent_record(row: &Row<'_>) -> Result<ConsentEventRecord> {
    const T: &str = "consent_events";
    Ok(ConsentEventRecord {
        purpose: at(row, 0, T, "purpose")?,
        kind: parse(&at::<String>(row, 1, T, "kind")?, T, "kind")?,
        at: from_micros(at(row, 2, T, "at")?),
        policy_version: at(row, 3, T, "policy_version")?,
        evidence: at(row, 4, T, "evidence")?,
    })
}

pub(crate) fn find_consent_events(c: &Connection, id: SubjectId) -> Result<Vec<ConsentEventRecord>> {
    query(
        c,
        "SELECT purpose, kind, at, policy_version, evidence FROM consent_events \
         WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) ORDER BY id",
        [&id.as_bytes()[..]],
        consent_record,
    )
}

/// The consent events of the subject numbered `n`, oldest first.
pub(crate) fn consent_events_of(c: &Connection, n: i64) -> Result<Vec<ConsentEventRecord>> {
    query(
        c,
        "SELECT purpose, kind, at, policy_version, evidence FROM consent_events WHERE subject_n = ?1 ORDER BY id",
        [n],
        consent_record,
    )
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Nothing to read: the subjects' rows are read by [`crate::subjects::snapshot`].
pub(crate) fn snapshot(_: &Connection, _: &Keys, _: &mut Snap) -> Result<()> {
    Ok(())
}

pub(crate) fn insert(conn: &Connection, rows: &Inserts<'_>) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO consent_events (subject_n, purpose, kind, at, policy_version, evidence) \
             VALUES ((SELECT n FROM subjects WHERE id = ?1), ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(crate::rows::unavailable)?;
    for (id, c) in rows {
        stmt.execute(params![
            &id.as_bytes()[..],
            c.purpose,
            c.kind.as_str(),
            to_micros(c.at),
            c.policy_version,
            c.evidence,
        ])
        .map_err(crate::rows::unavailable)?;
    }
    Ok(())
}

pub(crate) fn apply(_: &Connection, step: &Step<'_>) -> Result<()> {
    step.unreachable()
}

/// Part of erasure: the evidence may name people and documents; the metadata stays.
pub(crate) fn erase_evidence(conn: &Connection, subject: SubjectId) -> Result<()> {
    exec(
        conn,
        "UPDATE consent_events SET evidence = NULL \
         WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) AND evidence IS NOT NULL",
        [&subject.as_bytes()[..]],
    )?;
    Ok(())
}
