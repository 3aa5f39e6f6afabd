//! Subjects' life-cycle events (`subject_events`, migration `0004_subject_events`).

use crate::rows::{col, parse, unavailable, Result};
use crate::{insert_rows, values, SqliteStore};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::Row;
use ward_core::clock::{from_micros, to_micros};
use ward_core::lifecycle::SubjectEventKind;
use ward_core::SubjectId;
use ward_store::{PolicyAcknowledgements, StoreResult, SubjectEventRecord, SubjectEventStore};

const T: &str = "subject_events";

fn event(row: &SqliteRow) -> Result<SubjectEventRecord> {
    Ok(SubjectEventRecord {
        kind: parse(&col::<_, String>(row, T, "kind")?, T, "kind")?,
        at: from_micros(col(row, T, "at")?),
        policy_version: col(row, T, "policy_version")?,
        evidence: col(row, T, "evidence")?,
    })
}

#[async_trait]
impl SubjectEventStore for SqliteStore {
    async fn find_subject_events(&self, id: SubjectId) -> StoreResult<Vec<SubjectEventRecord>> {
        let rows = sqlx::query(
            "SELECT kind, at, policy_version, evidence FROM subject_events WHERE subject_id = ? ORDER BY id",
        )
        .bind(&id.as_bytes()[..])
        .fetch_all(self.readers())
        .await
        .map_err(unavailable)?;
        rows.iter().map(event).collect()
    }

    async fn count_policy_acknowledgements(&self, policy_version: &str) -> StoreResult<PolicyAcknowledgements> {
        let rows = sqlx::query(
            "SELECT kind, count(DISTINCT subject_id) AS n FROM subject_events \
             WHERE policy_version = ? GROUP BY kind",
        )
        .bind(policy_version)
        .fetch_all(self.readers())
        .await
        .map_err(unavailable)?;
        let mut out = PolicyAcknowledgements::default();
        for row in rows {
            let kind: SubjectEventKind = parse(&col::<_, String>(&row, T, "kind")?, T, "kind")?;
            let n = u64::try_from(row.try_get::<i64, _>("n").map_err(unavailable)?).unwrap_or(0);
            match kind {
                SubjectEventKind::PolicyNotified => out.notified = n,
                SubjectEventKind::PolicyAccepted => out.accepted = n,
                SubjectEventKind::Deceased => {}
            }
        }
        Ok(out)
    }
}

pub(crate) async fn insert(conn: &mut SqliteConnection, rows: &[(SubjectId, &SubjectEventRecord)]) -> Result<()> {
    insert_rows(
        conn,
        rows,
        5,
        |n| {
            format!(
                "INSERT INTO subject_events (subject_id, kind, at, policy_version, evidence) VALUES {}",
                values("(?, ?, ?, ?, ?)", n)
            )
        },
        |q, (id, e)| {
            Ok(q.bind(&id.as_bytes()[..])
                .bind(e.kind.as_str())
                .bind(to_micros(e.at))
                .bind(e.policy_version.as_deref())
                .bind(e.evidence.as_deref()))
        },
    )
    .await
}

/// Part of erasure: the evidence may name people and documents.
pub(crate) async fn erase_evidence(conn: &mut SqliteConnection, subject: SubjectId) -> Result<()> {
    sqlx::query("UPDATE subject_events SET evidence = NULL WHERE subject_id = ? AND evidence IS NOT NULL")
        .bind(&subject.as_bytes()[..])
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    Ok(())
}
