//! The registers' scans: subjects with their standing facts (four queries in one read-only
//! snapshot), journal entries by filter.

use crate::rows::{col, parse, subject_id, unavailable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgRow};
use std::collections::HashMap;
use std::sync::LazyLock;
use ward_core::clock::from_micros;
use ward_core::SubjectId;
use ward_store::{decode, JournalEntry, JournalFilter, ListingStore, StoreResult, SubjectFacts};

const T: &str = "subjects";

/// The events of the subjects in `$1`, each row led by its subject's id (`sid`), in subject
/// then recording order.
fn events_of(table: &str, select: &str) -> String {
    format!("SELECT subject_id AS sid, {select} FROM {table} WHERE subject_id = ANY($1) ORDER BY subject_id, id")
}
static CONSENTS: LazyLock<String> = LazyLock::new(|| events_of("consent_events", decode::CONSENT_EVENT.select));
static BASES: LazyLock<String> = LazyLock::new(|| events_of("basis_events", decode::BASIS_EVENT.select));
static EVENTS: LazyLock<String> = LazyLock::new(|| events_of("subject_events", decode::SUBJECT_EVENT.select));

async fn events_for(conn: &mut PgConnection, sql: &str, ids: &[&[u8]]) -> Result<Vec<PgRow>> {
    sqlx::query(sql).bind(ids).fetch_all(conn).await.map_err(unavailable)
}

fn sid(row: &PgRow) -> Result<SubjectId> {
    subject_id(&col::<_, Vec<u8>>(row, "events", "sid")?, "events", "subject_id")
}

/// The rows of [`events_of`] grouped by subject, each decoded (past the leading id column).
fn grouped<E>(rows: &[PgRow], decode: impl Fn(&Offset<'_>) -> Result<E>) -> Result<HashMap<SubjectId, Vec<E>>> {
    let mut out: HashMap<SubjectId, Vec<E>> = HashMap::new();
    for row in rows {
        out.entry(sid(row)?).or_default().push(decode(&Offset(row))?);
    }
    Ok(out)
}

/// A row read from its second column on, for the shared decoders that read from column 0.
struct Offset<'a>(&'a PgRow);

impl decode::Row for Offset<'_> {
    fn int(&self, i: usize) -> std::result::Result<Option<i64>, String> {
        decode::Row::int(&Pg(self.0), i + 1)
    }
    fn text(&self, i: usize) -> std::result::Result<Option<String>, String> {
        decode::Row::text(&Pg(self.0), i + 1)
    }
    fn bytes(&self, i: usize) -> std::result::Result<Option<Vec<u8>>, String> {
        decode::Row::bytes(&Pg(self.0), i + 1)
    }
    fn boolean(&self, i: usize) -> std::result::Result<Option<bool>, String> {
        decode::Row::boolean(&Pg(self.0), i + 1)
    }
}

#[async_trait]
impl ListingStore for PgStore {
    async fn scan_subject_facts(&self, after: Option<SubjectId>, limit: u32) -> StoreResult<Vec<SubjectFacts>> {
        let after: Vec<u8> = after.map_or_else(Vec::new, |a| a.as_bytes().to_vec());
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        let rows = sqlx::query(
            "SELECT id, state, created_at, erased_at, fields FROM subjects WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(&after)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(unavailable)?;
        let mut subjects = Vec::with_capacity(rows.len());
        for r in &rows {
            subjects.push((
                subject_id(&col::<_, Vec<u8>>(r, T, "id")?, T, "id")?,
                parse(&col::<_, String>(r, T, "state")?, T, "state")?,
                from_micros(col(r, T, "created_at")?),
                col::<_, Option<i64>>(r, T, "erased_at")?.map(from_micros),
                col::<_, Option<Vec<u8>>>(r, T, "fields")?,
            ));
        }
        let ids: Vec<&[u8]> = subjects.iter().map(|(id, ..)| &id.as_bytes()[..]).collect();
        let mut consents = grouped(&events_for(&mut tx, &CONSENTS, &ids).await?, |r| {
            decode::consent_event(r, 0)
        })?;
        let mut bases = grouped(&events_for(&mut tx, &BASES, &ids).await?, |r| decode::basis_event(r))?;
        let mut events = grouped(&events_for(&mut tx, &EVENTS, &ids).await?, |r| decode::subject_event(r))?;
        tx.commit().await.map_err(unavailable)?;
        Ok(subjects
            .into_iter()
            .map(|(id, state, created_at, erased_at, fields)| {
                SubjectFacts {
                    id,
                    state,
                    created_at,
                    erased_at,
                    fields,
                    consents: consents.remove(&id).unwrap_or_default(),
                    bases: bases.remove(&id).unwrap_or_default(),
                    events: events.remove(&id).unwrap_or_default(),
                }
                .without_evidence()
            })
            .collect())
    }

    async fn find_journal_page(
        &self,
        filter: &JournalFilter,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<JournalEntry>> {
        let (conditions, binds) = filter.conditions(3, |k| format!("${k}"));
        let sql = format!(
            "SELECT {} FROM journal WHERE seq > $1{}{} ORDER BY seq LIMIT $2",
            decode::JOURNAL_ENTRY.select,
            if conditions.is_empty() { "" } else { " AND " },
            conditions
        );
        let mut q = sqlx::query(&sql).bind(after_seq).bind(i64::from(limit));
        for b in binds {
            q = crate::rows::bind(q, b);
        }
        let rows = q.fetch_all(&self.pool).await.map_err(unavailable)?;
        rows.iter().map(|r| decode::journal_entry(&Pg(r))).collect()
    }
}
