//! Website visitors' cookie consent records (`visitor_consents`, migration `0003_visitors`).

use crate::rows::{col, corrupt, hash32, subject_id, unavailable, Result};
use crate::{insert_rows, values, SqliteStore};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use ward_core::clock::{from_micros, to_micros};
use ward_core::cookies::{parse_summary, summary};
use ward_core::SubjectId;
use ward_crypto::Hash32;
use ward_store::plan::{Snapshot, Touched};
use ward_store::{StoreResult, VisitorConsent, VisitorConsentRecord, VisitorStore};

const T: &str = "visitor_consents";

fn visitor_record(row: &SqliteRow) -> Result<VisitorConsentRecord> {
    let subject = match col::<_, Option<Vec<u8>>>(row, T, "subject_id")? {
        Some(b) => Some(subject_id(&b, T, "subject_id")?),
        None => None,
    };
    let choices = parse_summary(&col::<_, String>(row, T, "choices")?)
        .ok_or_else(|| corrupt(T, "choices", "not a list of category=choice"))?;
    Ok(VisitorConsentRecord {
        consent: VisitorConsent {
            visitor: hash32(&col::<_, Vec<u8>>(row, T, "visitor")?, T, "visitor")?,
            banner_version: col(row, T, "banner_version")?,
            choices,
            gpc: col(row, T, "gpc")?,
            gpc_overrode: col(row, T, "gpc_overrode")?,
            at: from_micros(col(row, T, "at")?),
        },
        subject,
    })
}

#[async_trait]
impl VisitorStore for SqliteStore {
    async fn find_visitor_consents(&self, visitor: &Hash32) -> StoreResult<Vec<VisitorConsentRecord>> {
        let rows = sqlx::query(
            "SELECT visitor, banner_version, choices, gpc, gpc_overrode, at, subject_id \
             FROM visitor_consents WHERE visitor = ? ORDER BY id",
        )
        .bind(&visitor[..])
        .fetch_all(self.readers())
        .await
        .map_err(unavailable)?;
        rows.iter().map(visitor_record).collect()
    }
}

/// Reads which touched visitors have records, and their links, into the snapshot.
pub(crate) async fn snapshot(conn: &mut SqliteConnection, touched: &Touched, snap: &mut Snapshot) -> Result<()> {
    for chunk in touched.visitors.chunks(256) {
        let n = chunk.len().next_power_of_two();
        let sql = format!(
            "SELECT DISTINCT visitor, subject_id FROM visitor_consents WHERE visitor IN ({})",
            values("?", n)
        );
        let mut q = sqlx::query(&sql);
        for i in 0..n {
            q = q.bind(&chunk[i.min(chunk.len() - 1)][..]);
        }
        for row in q.fetch_all(&mut *conn).await.map_err(unavailable)? {
            let visitor = hash32(&col::<_, Vec<u8>>(&row, T, "visitor")?, T, "visitor")?;
            let subject = match col::<_, Option<Vec<u8>>>(&row, T, "subject_id")? {
                Some(b) => Some(subject_id(&b, T, "subject_id")?),
                None => None,
            };
            let linked = snap.visitors.entry(visitor).or_insert(None);
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

pub(crate) async fn insert(conn: &mut SqliteConnection, rows: &[(&VisitorConsent, Option<SubjectId>)]) -> Result<()> {
    insert_rows(
        conn,
        rows,
        7,
        |n| {
            format!(
                "INSERT INTO visitor_consents (visitor, banner_version, choices, gpc, gpc_overrode, at, subject_id) \
                 VALUES {}",
                values("(?, ?, ?, ?, ?, ?, ?)", n)
            )
        },
        |q, (c, subject)| {
            Ok(q.bind(&c.visitor[..])
                .bind(c.banner_version.as_str())
                .bind(summary(&c.choices))
                .bind(c.gpc)
                .bind(c.gpc_overrode)
                .bind(to_micros(c.at))
                .bind(subject.as_ref().map(|s| &s.as_bytes()[..])))
        },
    )
    .await
}

pub(crate) async fn link(conn: &mut SqliteConnection, visitor: &Hash32, subject: SubjectId) -> Result<()> {
    sqlx::query("UPDATE visitor_consents SET subject_id = ? WHERE visitor = ?")
        .bind(&subject.as_bytes()[..])
        .bind(&visitor[..])
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Part of erasure: the subject's visitors' records are its personal data.
pub(crate) async fn delete_for_subject(conn: &mut SqliteConnection, subject: SubjectId) -> Result<()> {
    sqlx::query("DELETE FROM visitor_consents WHERE subject_id = ?")
        .bind(&subject.as_bytes()[..])
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    Ok(())
}
