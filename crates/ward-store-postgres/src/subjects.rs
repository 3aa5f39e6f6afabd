//! Subjects: their records, their blind index, their erasure.

use crate::rows::{col, corrupt, parse, subject_id, unavailable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgRow};
use std::sync::LazyLock;
use ward_core::access::SubjectState;
use ward_core::clock::to_micros;
use ward_core::SubjectId;
use ward_store::write::subjects::{Inserts, Keys, Snap, Step, SubjectSnap};
use ward_store::{
    decode, ConsentEventRecord, StoreResult, SubjectCounts, SubjectRecord, SubjectStore, WrappedKeyRecord,
};

static BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM subjects WHERE id = $1", decode::SUBJECT.select));
static CONSENTS_BY_SUBJECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM consent_events WHERE subject_id = $1 ORDER BY id",
        decode::CONSENT_EVENT.select
    )
});
static WRAPPED_KEYS_AFTER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM subjects WHERE id > $1 AND state = 'active' ORDER BY id LIMIT $2",
        decode::WRAPPED_KEY.select
    )
});

/// Subject columns, then the consent event columns of a `LEFT JOIN consent_events e` (NULL
/// where the subject has no events), for reading subjects with their consents in one query.
static SUBJECT_WITH_CONSENTS_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{}, {}",
        decode::SUBJECT.qualified("s"),
        decode::CONSENT_EVENT.qualified("e")
    )
});

/// Groups the rows of a subjects-with-consents query (ordered by subject, then event) into
/// each subject with its events.
fn subjects_with_consents(rows: &[PgRow]) -> Result<Vec<(SubjectRecord, Vec<ConsentEventRecord>)>> {
    let mut out: Vec<(SubjectRecord, Vec<ConsentEventRecord>)> = Vec::new();
    for row in rows {
        let id = subject_id(&col::<_, Vec<u8>>(row, "subjects", "id")?, "subjects", "id")?;
        if out.last().is_none_or(|(s, _)| s.id != id) {
            out.push((decode::subject(&Pg(row), 0)?, Vec::new()));
        }
        let events_at = decode::SUBJECT.len();
        if decode::has_consent_event(&Pg(row), events_at)? {
            if let Some((_, events)) = out.last_mut() {
                events.push(decode::consent_event(&Pg(row), events_at)?);
            }
        }
    }
    Ok(out)
}

#[async_trait]
impl SubjectStore for PgStore {
    async fn find_subject(&self, id: SubjectId) -> StoreResult<Option<SubjectRecord>> {
        let row = sqlx::query(&BY_ID)
            .bind(&id.as_bytes()[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(|r| decode::subject(&Pg(r), 0)).transpose()
    }

    async fn find_consent_events(&self, id: SubjectId) -> StoreResult<Vec<ConsentEventRecord>> {
        let rows = sqlx::query(&CONSENTS_BY_SUBJECT)
            .bind(&id.as_bytes()[..])
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| decode::consent_event(&Pg(r), 0)).collect()
    }

    async fn find_subject_with_consents(
        &self,
        id: SubjectId,
    ) -> StoreResult<(Option<SubjectRecord>, Vec<ConsentEventRecord>)> {
        // One query, one round trip, one snapshot.
        let sql = format!(
            "SELECT {} FROM subjects s \
             LEFT JOIN consent_events e ON e.subject_id = s.id WHERE s.id = $1 ORDER BY e.id",
            *SUBJECT_WITH_CONSENTS_COLUMNS
        );
        let rows = sqlx::query(&sql)
            .bind(&id.as_bytes()[..])
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(subjects_with_consents(&rows)?
            .pop()
            .map_or((None, Vec::new()), |(s, e)| (Some(s), e)))
    }

    async fn find_subjects_by_index_with_consents(
        &self,
        field: &str,
        hash: i64,
    ) -> StoreResult<Vec<(SubjectRecord, Vec<ConsentEventRecord>)>> {
        let sql = format!(
            "SELECT {} FROM subject_index i \
             JOIN subjects s ON s.id = i.subject_id \
             LEFT JOIN consent_events e ON e.subject_id = s.id \
             WHERE i.field = $1 AND i.hash = $2 ORDER BY s.id, e.id",
            *SUBJECT_WITH_CONSENTS_COLUMNS
        );
        let rows = sqlx::query(&sql)
            .bind(field)
            .bind(hash)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        subjects_with_consents(&rows)
    }

    async fn find_subjects_by_index(&self, field: &str, hash: i64) -> StoreResult<Vec<SubjectId>> {
        let rows =
            sqlx::query("SELECT subject_id FROM subject_index WHERE field = $1 AND hash = $2 ORDER BY subject_id")
                .bind(field)
                .bind(hash)
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?;
        rows.iter()
            .map(|r| {
                subject_id(
                    &col::<_, Vec<u8>>(r, "subject_index", "subject_id")?,
                    "subject_index",
                    "subject_id",
                )
            })
            .collect()
    }

    async fn find_wrapped_keys(&self, after: Option<SubjectId>, limit: u32) -> StoreResult<Vec<WrappedKeyRecord>> {
        // The empty byte string sorts before every id.
        let after: &[u8] = after.as_ref().map_or(&[], |a| &a.as_bytes()[..]);
        let rows = sqlx::query(&WRAPPED_KEYS_AFTER)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| decode::wrapped_key(&Pg(r))).collect()
    }

    async fn count_wrapped_keys_by_kek(&self) -> StoreResult<std::collections::BTreeMap<String, u64>> {
        let rows = sqlx::query(
            "SELECT kek_id, COUNT(*) AS n FROM subjects WHERE wrapped_key IS NOT NULL GROUP BY kek_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut counts = std::collections::BTreeMap::new();
        for r in &rows {
            let kek: Option<String> = col(r, "subjects", "kek_id")?;
            let n = u64::try_from(col::<_, i64>(r, "subjects", "n")?).unwrap_or(0);
            counts.insert(kek.unwrap_or_default(), n);
        }
        Ok(counts)
    }

    async fn count_subjects(&self) -> StoreResult<SubjectCounts> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM subjects GROUP BY state")
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let mut counts = SubjectCounts::default();
        for r in &rows {
            let n = u64::try_from(col::<_, i64>(r, "subjects", "n")?).unwrap_or(0);
            match parse(&col::<_, String>(r, "subjects", "state")?, "subjects", "state")? {
                SubjectState::Active => counts.active = n,
                SubjectState::Erased => counts.erased = n,
            }
        }
        Ok(counts)
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Reads and locks the touched subjects' rows.
pub(crate) async fn snapshot(conn: &mut PgConnection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let ids: Vec<&[u8]> = keys.iter().map(|s| &s.as_bytes()[..]).collect();
    let rows = sqlx::query("SELECT id, state, revision, kek_id FROM subjects WHERE id = ANY($1) FOR UPDATE")
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(unavailable)?;
    for row in &rows {
        const T: &str = "subjects";
        let id = subject_id(&col::<_, Vec<u8>>(row, T, "id")?, T, "id")?;
        let s = match parse(&col::<_, String>(row, T, "state")?, T, "state")? {
            SubjectState::Active => SubjectSnap::Active {
                revision: col(row, T, "revision")?,
                kek_id: col::<_, Option<String>>(row, T, "kek_id")?
                    .ok_or_else(|| corrupt(T, "kek_id", "missing for an active subject"))?,
            },
            SubjectState::Erased => SubjectSnap::Erased,
        };
        snap.insert(id, s);
    }
    Ok(())
}

pub(crate) async fn insert(conn: &mut PgConnection, ins: &Inserts<'_>) -> Result<()> {
    if !ins.subjects.is_empty() {
        let s = &ins.subjects;
        let id: Vec<&[u8]> = s.iter().map(|s| &s.id.as_bytes()[..]).collect();
        let created: Vec<i64> = s.iter().map(|s| to_micros(s.created_at)).collect();
        let kek: Vec<&str> = s.iter().map(|s| s.key.kek_id.as_str()).collect();
        let wrapped: Vec<&[u8]> = s.iter().map(|s| s.key.wrapped.as_slice()).collect();
        let fields: Vec<&[u8]> = s.iter().map(|s| s.fields.as_slice()).collect();
        sqlx::query(
            "INSERT INTO subjects (id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields) \
             SELECT id, 'active', 1, created_at, created_at, NULL, kek_id, wrapped_key, fields \
             FROM UNNEST($1::bytea[], $2::int8[], $3::text[], $4::bytea[], $5::bytea[]) \
             AS t (id, created_at, kek_id, wrapped_key, fields)",
        )
        .bind(&id)
        .bind(&created)
        .bind(&kek)
        .bind(&wrapped)
        .bind(&fields)
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    if !ins.index.is_empty() {
        let id: Vec<&[u8]> = ins.index.iter().map(|r| &r.subject.as_bytes()[..]).collect();
        let field: Vec<&str> = ins.index.iter().map(|r| r.field).collect();
        let hash: Vec<i64> = ins.index.iter().map(|r| r.hash).collect();
        sqlx::query(
            "INSERT INTO subject_index (subject_id, field, hash) \
             SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::int8[]) \
             ON CONFLICT (subject_id, field) DO UPDATE SET hash = EXCLUDED.hash",
        )
        .bind(&id)
        .bind(&field)
        .bind(&hash)
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}

pub(crate) async fn apply(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Update {
            id,
            fields,
            revision,
            at,
        } => {
            sqlx::query("UPDATE subjects SET fields = $1, revision = $2, updated_at = $3 WHERE id = $4")
                .bind(*fields)
                .bind(*revision)
                .bind(to_micros(*at))
                .bind(&id.as_bytes()[..])
                .execute(&mut *conn)
                .await
        }
        Step::DeleteIndex { subject, field } => {
            sqlx::query("DELETE FROM subject_index WHERE subject_id = $1 AND field = $2")
                .bind(&subject.as_bytes()[..])
                .bind(*field)
                .execute(&mut *conn)
                .await
        }
        Step::Erase { id, at } => {
            // One statement, one round trip: each part changes another table, so none needs
            // to see another's changes.
            sqlx::query(
                "WITH tombstone AS (\
                     UPDATE subjects SET state = 'erased', erased_at = $1, updated_at = $1, \
                     kek_id = NULL, wrapped_key = NULL, fields = NULL WHERE id = $2), \
                 blind_index AS (DELETE FROM subject_index WHERE subject_id = $2), \
                 visitor_records AS (DELETE FROM visitor_consents WHERE subject_id = $2), \
                 outbox_messages AS (DELETE FROM outbox WHERE subject_id = $2), \
                 verification_documents AS (\
                     UPDATE verifications SET document = NULL, code_hash = NULL WHERE subject_id = $2), \
                 downloads AS (DELETE FROM downloads WHERE subject_id = $2), \
                 life_cycle_evidence AS (\
                     UPDATE subject_events SET evidence = NULL WHERE subject_id = $2 AND evidence IS NOT NULL), \
                 basis_evidence AS (\
                     UPDATE basis_events SET evidence = NULL WHERE subject_id = $2 AND evidence IS NOT NULL) \
                 UPDATE consent_events SET evidence = NULL WHERE subject_id = $2 AND evidence IS NOT NULL",
            )
            .bind(to_micros(*at))
            .bind(&id.as_bytes()[..])
            .execute(&mut *conn)
            .await
        }
    }
    .map(|_| ())
    .map_err(unavailable)
}
