//! Consent events (`consent_events`), keyed by their subject's number.

use crate::rows::{exec, query, Result, Sql};
use rusqlite::{params, Connection};
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_core::SubjectId;
use ward_store::write::consents::{Inserts, Keys, Snap, Step};
use ward_store::{decode, ConsentEventRecord};

static BY_SUBJECT_ID: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM consent_events WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) ORDER BY id",
        decode::CONSENT_EVENT.select
    )
});
static BY_SUBJECT_NUMBER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM consent_events WHERE subject_n = ?1 ORDER BY id",
        decode::CONSENT_EVENT.select
    )
});

pub(crate) fn find_consent_events(c: &Connection, id: SubjectId) -> Result<Vec<ConsentEventRecord>> {
    query(c, &BY_SUBJECT_ID, [&id.as_bytes()[..]], |r| {
        decode::consent_event(&Sql(r), 0)
    })
}

/// The consent events of the subject numbered `n`, oldest first.
pub(crate) fn consent_events_of(c: &Connection, n: i64) -> Result<Vec<ConsentEventRecord>> {
    query(c, &BY_SUBJECT_NUMBER, [n], |r| decode::consent_event(&Sql(r), 0))
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
