//! The registers' scans: subjects with their standing facts, journal entries by filter. Both
//! run on the blocking pool (`Readers::scan`), the subjects' in one read transaction.

use crate::consents::consent_events_of;
use crate::rows::{at, in_read_transaction, parse, query, subject_id, unavailable, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection};
use std::sync::LazyLock;
use ward_core::clock::from_micros;
use ward_core::SubjectId;
use ward_store::{
    decode, BasisEventRecord, JournalEntry, JournalFilter, ListingStore, StoreResult, SubjectEventRecord, SubjectFacts,
};

const T: &str = "subjects";

static SUBJECTS_AFTER: &str =
    "SELECT id, state, created_at, erased_at, n, fields FROM subjects WHERE id > ?1 ORDER BY id LIMIT ?2";
static BASES_OF: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM basis_events WHERE subject_n = ?1 ORDER BY id",
        decode::BASIS_EVENT.select
    )
});
static EVENTS_OF: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM subject_events WHERE subject_id = ?1 ORDER BY id",
        decode::SUBJECT_EVENT.select
    )
});

fn subject_facts(c: &Connection, after: Option<SubjectId>, limit: u32) -> Result<Vec<SubjectFacts>> {
    // The empty blob sorts before every id.
    let after: Vec<u8> = after.map_or_else(Vec::new, |a| a.as_bytes().to_vec());
    let rows = query(c, SUBJECTS_AFTER, params![after, i64::from(limit)], |r| {
        let id = subject_id(&at::<Vec<u8>>(r, 0, T, "id")?, T, "id")?;
        let state = parse(&at::<String>(r, 1, T, "state")?, T, "state")?;
        let created_at = from_micros(at(r, 2, T, "created_at")?);
        let erased_at = at::<Option<i64>>(r, 3, T, "erased_at")?.map(from_micros);
        let fields = at::<Option<Vec<u8>>>(r, 5, T, "fields")?;
        Ok((id, state, created_at, erased_at, at::<i64>(r, 4, T, "n")?, fields))
    })?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, state, created_at, erased_at, n, fields) in rows {
        let bases: Vec<BasisEventRecord> = query(c, &BASES_OF, [n], |r| decode::basis_event(&Sql(r)))?;
        let events: Vec<SubjectEventRecord> =
            query(c, &EVENTS_OF, [&id.as_bytes()[..]], |r| decode::subject_event(&Sql(r)))?;
        let facts = SubjectFacts {
            id,
            state,
            created_at,
            erased_at,
            fields,
            consents: consent_events_of(c, n)?,
            bases,
            events,
        };
        out.push(facts.without_evidence());
    }
    Ok(out)
}

fn journal_page(c: &Connection, filter: &JournalFilter, after_seq: i64, limit: u32) -> Result<Vec<JournalEntry>> {
    let (conditions, binds) = filter.conditions(3, |k| format!("?{k}"));
    let sql = format!(
        "SELECT {} FROM journal WHERE seq > ?1{}{} ORDER BY seq LIMIT ?2",
        decode::JOURNAL_ENTRY.select,
        if conditions.is_empty() { "" } else { " AND " },
        conditions
    );
    let values = [Value::Integer(after_seq), Value::Integer(i64::from(limit))]
        .into_iter()
        .chain(binds.into_iter().map(crate::rows::value));
    let mut stmt = c.prepare_cached(&sql).map_err(unavailable)?;
    let rows = stmt.query(params_from_iter(values)).map_err(unavailable)?;
    crate::rows::collect(rows, |r| decode::journal_entry(&Sql(r)))
}

#[async_trait]
impl ListingStore for SqliteStore {
    async fn scan_subject_facts(&self, after: Option<SubjectId>, limit: u32) -> StoreResult<Vec<SubjectFacts>> {
        self.readers()
            .scan(move |c| in_read_transaction(c, |c| subject_facts(c, after, limit)))
            .await
    }

    async fn find_journal_page(
        &self,
        filter: &JournalFilter,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<JournalEntry>> {
        let filter = filter.clone();
        self.readers()
            .scan(move |c| journal_page(c, &filter, after_seq, limit))
            .await
    }
}
