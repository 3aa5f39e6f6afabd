//! Subjects: their records, their blind index, their erasure.

use crate::consents::consent_events_of;
use crate::rows::{
    at, col, corrupt, exec, in_read_transaction, parse, query, query_opt, subject_id, unavailable, Result, Sql,
};
use crate::{consents, SqliteStore};
use async_trait::async_trait;
use rusqlite::{params, Connection};
use std::sync::LazyLock;
use ward_core::access::SubjectState;
use ward_core::clock::to_micros;
use ward_core::SubjectId;
use ward_store::decode;
use ward_store::write::subjects::{Inserts, Keys, Snap, Step, SubjectSnap};
use ward_store::{ConsentEventRecord, StoreResult, SubjectCounts, SubjectRecord, SubjectStore, WrappedKeyRecord};

fn find_subject(c: &Connection, id: SubjectId) -> Result<Option<SubjectRecord>> {
    Ok(numbered_subject(c, &SUBJECT_BY_ID, &id.as_bytes()[..])?.map(|(record, _)| record))
}

/// A subject's columns ([`decode::SUBJECT`]), then its internal number `n`, by id or by number.
static SUBJECT_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {}, n FROM subjects WHERE id = ?1", decode::SUBJECT.select));
static SUBJECT_BY_NUMBER: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {}, n FROM subjects WHERE n = ?1", decode::SUBJECT.select));
static WRAPPED_KEYS_AFTER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM subjects WHERE id > ?1 AND state = 'active' ORDER BY id LIMIT ?2",
        decode::WRAPPED_KEY.select
    )
});

/// The subject `sql` (one of [`SUBJECT_BY_ID`], [`SUBJECT_BY_NUMBER`]) finds, with its number.
fn numbered_subject(c: &Connection, sql: &str, key: impl rusqlite::ToSql) -> Result<Option<(SubjectRecord, i64)>> {
    query_opt(c, sql, [key], |row| {
        Ok((
            decode::subject(&Sql(row), 0)?,
            at(row, decode::SUBJECT.len(), "subjects", "n")?,
        ))
    })
}

/// The subject `sql` finds by `key`, and its consent events.
fn subject_and_consents(
    c: &Connection,
    sql: &str,
    key: impl rusqlite::ToSql,
) -> Result<(Option<SubjectRecord>, Vec<ConsentEventRecord>)> {
    match numbered_subject(c, sql, key)? {
        Some((record, n)) => Ok((Some(record), consent_events_of(c, n)?)),
        None => Ok((None, Vec::new())),
    }
}

fn subjects_by_index(c: &Connection, field: &str, hash: i64) -> Result<Vec<SubjectId>> {
    query(
        c,
        "SELECT s.id FROM subject_index i JOIN subjects s ON s.n = i.subject_n \
         WHERE i.field = ?1 AND i.hash = ?2 ORDER BY s.id",
        params![field, hash],
        |r| subject_id(&at::<Vec<u8>>(r, 0, "subjects", "id")?, "subjects", "id"),
    )
}

#[async_trait]
impl SubjectStore for SqliteStore {
    async fn find_subject(&self, id: SubjectId) -> StoreResult<Option<SubjectRecord>> {
        self.readers().with(|c| find_subject(c, id))
    }

    async fn find_consent_events(&self, id: SubjectId) -> StoreResult<Vec<ConsentEventRecord>> {
        self.readers().with(|c| consents::find_consent_events(c, id))
    }

    async fn find_subject_with_consents(
        &self,
        id: SubjectId,
    ) -> StoreResult<(Option<SubjectRecord>, Vec<ConsentEventRecord>)> {
        // One read transaction: one snapshot, and one page-cache check instead of two.
        self.readers()
            .with(|c| in_read_transaction(c, |c| subject_and_consents(c, &SUBJECT_BY_ID, &id.as_bytes()[..])))
    }

    async fn find_subjects_by_index(&self, field: &str, hash: i64) -> StoreResult<Vec<SubjectId>> {
        self.readers().with(|c| subjects_by_index(c, field, hash))
    }

    async fn find_subjects_by_index_with_consents(
        &self,
        field: &str,
        hash: i64,
    ) -> StoreResult<Vec<(SubjectRecord, Vec<ConsentEventRecord>)>> {
        // One read transaction: the index and the records from one snapshot, and one
        // page-cache check instead of one per query.
        self.readers().with(|c| {
            in_read_transaction(c, |c| {
                // By number: the index entry names it, so the id index is not searched.
                let numbers = query(
                    c,
                    "SELECT subject_n FROM subject_index WHERE field = ?1 AND hash = ?2",
                    params![field, hash],
                    |r| at::<i64>(r, 0, "subject_index", "subject_n"),
                )?;
                let mut out = Vec::with_capacity(numbers.len());
                for n in numbers {
                    if let (Some(record), events) = subject_and_consents(c, &SUBJECT_BY_NUMBER, n)? {
                        out.push((record, events));
                    }
                }
                out.sort_by_key(|(record, _)| record.id);
                Ok(out)
            })
        })
    }

    async fn find_wrapped_keys(&self, after: Option<SubjectId>, limit: u32) -> StoreResult<Vec<WrappedKeyRecord>> {
        // The empty blob sorts before every id.
        let after: Vec<u8> = after.map_or_else(Vec::new, |a| a.as_bytes().to_vec());
        self.readers()
            .scan(move |c| {
                query(c, &WRAPPED_KEYS_AFTER, params![after, i64::from(limit)], |r| {
                    decode::wrapped_key(&Sql(r))
                })
            })
            .await
    }

    async fn count_wrapped_keys_by_kek(&self) -> StoreResult<std::collections::BTreeMap<String, u64>> {
        let rows = self
            .readers()
            .scan(|c| {
                query(
                    c,
                    "SELECT kek_id, COUNT(*) AS n FROM subjects WHERE wrapped_key IS NOT NULL GROUP BY kek_id",
                    [],
                    |r| {
                        let kek: Option<String> = col(r, "subjects", "kek_id")?;
                        let n = u64::try_from(col::<i64>(r, "subjects", "n")?).unwrap_or(0);
                        Ok((kek.unwrap_or_default(), n))
                    },
                )
            })
            .await?;
        Ok(rows.into_iter().collect())
    }

    async fn count_subjects(&self) -> StoreResult<SubjectCounts> {
        let rows = self
            .readers()
            .scan(|c| {
                query(c, "SELECT state, COUNT(*) AS n FROM subjects GROUP BY state", [], |r| {
                    let n = u64::try_from(col::<i64>(r, "subjects", "n")?).unwrap_or(0);
                    let state: SubjectState = parse(&col::<String>(r, "subjects", "state")?, "subjects", "state")?;
                    Ok((state, n))
                })
            })
            .await?;
        let mut counts = SubjectCounts::default();
        for (state, n) in rows {
            match state {
                SubjectState::Active => counts.active = n,
                SubjectState::Erased => counts.erased = n,
            }
        }
        Ok(counts)
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Reads the touched subjects' states, one prepared point query per id.
pub(crate) fn snapshot(conn: &Connection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    const T: &str = "subjects";
    for id in keys {
        let found = query_opt(
            conn,
            "SELECT state, revision, kek_id FROM subjects WHERE id = ?1",
            [&id.as_bytes()[..]],
            |row| {
                Ok(match parse(&col::<String>(row, T, "state")?, T, "state")? {
                    SubjectState::Active => SubjectSnap::Active {
                        revision: col(row, T, "revision")?,
                        kek_id: col::<Option<String>>(row, T, "kek_id")?
                            .ok_or_else(|| corrupt(T, "kek_id", "missing for an active subject"))?,
                    },
                    SubjectState::Erased => SubjectSnap::Erased,
                })
            },
        )?;
        if let Some(s) = found {
            snap.insert(*id, s);
        }
    }
    Ok(())
}

pub(crate) fn insert(conn: &Connection, ins: &Inserts<'_>) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO subjects (id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields) \
             VALUES (?1, 'active', 1, ?2, ?2, NULL, ?3, ?4, ?5)",
        )
        .map_err(unavailable)?;
    for s in &ins.subjects {
        stmt.execute(params![
            &s.id.as_bytes()[..],
            to_micros(s.created_at),
            s.key.kek_id,
            s.key.wrapped,
            s.fields,
        ])
        .map_err(unavailable)?;
    }
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO subject_index (subject_n, field, hash) \
             VALUES ((SELECT n FROM subjects WHERE id = ?1), ?2, ?3) \
             ON CONFLICT (subject_n, field) DO UPDATE SET hash = excluded.hash",
        )
        .map_err(unavailable)?;
    for r in &ins.index {
        stmt.execute(params![&r.subject.as_bytes()[..], r.field, r.hash])
            .map_err(unavailable)?;
    }
    Ok(())
}

pub(crate) fn apply(conn: &Connection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Update {
            id,
            fields,
            revision,
            at,
        } => {
            exec(
                conn,
                "UPDATE subjects SET fields = ?1, revision = ?2, updated_at = ?3 WHERE id = ?4",
                params![fields, revision, to_micros(*at), &id.as_bytes()[..]],
            )?;
        }
        Step::DeleteIndex { subject, field } => {
            exec(
                conn,
                "DELETE FROM subject_index WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) AND field = ?2",
                params![&subject.as_bytes()[..], field],
            )?;
        }
        Step::Erase { id, at } => erase(conn, *id, *at)?,
    }
    Ok(())
}

/// Destroys the subject's key, fields, index entries, consent and life-cycle evidence, deletes
/// its visitors' records, its messages in the outbox, its verifications' documents and code
/// hashes and its downloads, and sets the tombstone.
pub(crate) fn erase(conn: &Connection, id: SubjectId, at: time::OffsetDateTime) -> Result<()> {
    let id_bytes = &id.as_bytes()[..];
    exec(
        conn,
        "UPDATE subjects SET state = 'erased', erased_at = ?1, updated_at = ?1, \
         kek_id = NULL, wrapped_key = NULL, fields = NULL WHERE id = ?2",
        params![to_micros(at), id_bytes],
    )?;
    exec(
        conn,
        "DELETE FROM subject_index WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1)",
        [id_bytes],
    )?;
    crate::visitors::delete_for_subject(conn, id)?;
    crate::outbox::delete_for_subject(conn, id)?;
    crate::verifications::erase_for_subject(conn, id)?;
    crate::downloads::delete_for_subject(conn, id)?;
    crate::subject_events::erase_evidence(conn, id)?;
    crate::bases::erase_evidence(conn, id)?;
    consents::erase_evidence(conn, id)
}
