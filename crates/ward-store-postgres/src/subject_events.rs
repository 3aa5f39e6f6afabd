//! Subjects' life-cycle events (`subject_events`, migration `0004_subject_events`).

use crate::rows::{col, parse, unavailable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use sqlx::Row;
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_core::lifecycle::SubjectEventKind;
use ward_core::SubjectId;
use ward_store::write::subject_events::{Inserts, Keys, Snap, Step};
use ward_store::{decode, PolicyAcknowledgements, StoreResult, SubjectEventRecord, SubjectEventStore};

const T: &str = "subject_events";

static BY_SUBJECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM subject_events WHERE subject_id = $1 ORDER BY id",
        decode::SUBJECT_EVENT.select
    )
});

#[async_trait]
impl SubjectEventStore for PgStore {
    async fn find_subject_events(&self, id: SubjectId) -> StoreResult<Vec<SubjectEventRecord>> {
        let rows = sqlx::query(&BY_SUBJECT)
            .bind(&id.as_bytes()[..])
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| decode::subject_event(&Pg(r))).collect()
    }

    async fn count_policy_acknowledgements(&self, policy_version: &str) -> StoreResult<PolicyAcknowledgements> {
        let rows = sqlx::query(
            "SELECT kind, count(DISTINCT subject_id) AS n FROM subject_events \
             WHERE policy_version = $1 GROUP BY kind",
        )
        .bind(policy_version)
        .fetch_all(&self.pool)
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

// ---------------------------------------------------------------------------------------------
// Writes

/// Nothing to read: the subjects' rows are read by [`crate::subjects::snapshot`].
pub(crate) async fn snapshot(_: &mut PgConnection, _: &Keys, _: &mut Snap) -> Result<()> {
    Ok(())
}

pub(crate) async fn insert(conn: &mut PgConnection, rows: &Inserts<'_>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let subject: Vec<&[u8]> = rows.iter().map(|(id, _)| &id.as_bytes()[..]).collect();
    let kind: Vec<&str> = rows.iter().map(|(_, e)| e.kind.as_str()).collect();
    let at: Vec<i64> = rows.iter().map(|(_, e)| to_micros(e.at)).collect();
    let version: Vec<Option<&str>> = rows.iter().map(|(_, e)| e.policy_version.as_deref()).collect();
    let evidence: Vec<Option<&[u8]>> = rows.iter().map(|(_, e)| e.evidence.as_deref()).collect();
    // Ids are assigned in array order, which is the order of recording.
    sqlx::query(
        "INSERT INTO subject_events (subject_id, kind, at, policy_version, evidence) \
         SELECT subject_id, kind, at, policy_version, evidence \
         FROM UNNEST($1::bytea[], $2::text[], $3::int8[], $4::text[], $5::bytea[]) \
         WITH ORDINALITY AS t (subject_id, kind, at, policy_version, evidence, n) ORDER BY n",
    )
    .bind(&subject)
    .bind(&kind)
    .bind(&at)
    .bind(&version)
    .bind(&evidence)
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(crate) async fn apply(_: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    step.unreachable()
}
