//! Subjects' life-cycle events (`subject_events`, migration `0004_subject_events`).

use crate::rows::{col, exec, parse, query, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection};
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_core::lifecycle::SubjectEventKind;
use ward_core::SubjectId;
use ward_store::write::subject_events::{Inserts, Keys, Snap, Step};
use ward_store::{decode, PolicyAcknowledgements, StoreResult, SubjectEventRecord, SubjectEventStore};

const T: &str = "subject_events";

static BY_SUBJECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM subject_events WHERE subject_id = ?1 ORDER BY id",
        decode::SUBJECT_EVENT.select
    )
});

#[async_trait]
impl SubjectEventStore for SqliteStore {
    async fn find_subject_events(&self, id: SubjectId) -> StoreResult<Vec<SubjectEventRecord>> {
        self.readers()
            .with(|c| query(c, &BY_SUBJECT, [&id.as_bytes()[..]], |r| decode::subject_event(&Sql(r))))
    }

    async fn count_policy_acknowledgements(&self, policy_version: &str) -> StoreResult<PolicyAcknowledgements> {
        let policy_version = policy_version.to_owned();
        let rows = self
            .readers()
            .scan(move |c| {
                query(
                    c,
                    "SELECT kind, count(DISTINCT subject_id) AS n FROM subject_events \
                     WHERE policy_version = ?1 GROUP BY kind",
                    [&policy_version],
                    |row| {
                        let kind: SubjectEventKind = parse(&col::<String>(row, T, "kind")?, T, "kind")?;
                        Ok((kind, u64::try_from(col::<i64>(row, T, "n")?).unwrap_or(0)))
                    },
                )
            })
            .await?;
        let mut out = PolicyAcknowledgements::default();
        for (kind, n) in rows {
            match kind {
                SubjectEventKind::PolicyNotified => out.notified = n,
                SubjectEventKind::PolicyAccepted => out.accepted = n,
                SubjectEventKind::Deceased => {}
            }
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Nothing to read: the subjects' rows are read by [`crate::subjects::snapshot`].
pub(crate) fn snapshot(_: &Connection, _: &Keys, _: &mut Snap) -> Result<()> {
    Ok(())
}

pub(crate) fn insert(conn: &Connection, rows: &Inserts<'_>) -> Result<()> {
    for (id, e) in rows {
        exec(
            conn,
            "INSERT INTO subject_events (subject_id, kind, at, policy_version, evidence) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                &id.as_bytes()[..],
                e.kind.as_str(),
                to_micros(e.at),
                e.policy_version,
                e.evidence
            ],
        )?;
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
        "UPDATE subject_events SET evidence = NULL WHERE subject_id = ?1 AND evidence IS NOT NULL",
        [&subject.as_bytes()[..]],
    )?;
    Ok(())
}
