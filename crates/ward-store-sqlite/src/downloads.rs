//! Single-use downloads (`downloads`, migration `0019_downloads`).

use crate::rows::{at, exec, query, query_opt, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection};
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_core::SubjectId;
use ward_store::write::downloads::{Inserts, Keys, Snap, Step};
use ward_store::{decode, DownloadRecord, DownloadStore, StoreResult};

static BY_TOKEN: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM downloads WHERE token_hash = ?1", decode::DOWNLOAD.select));

/// The document is left out: the officer's listing never needs it.
static BY_SUBJECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM downloads WHERE subject_id = ?1 ORDER BY created_at, n",
        decode::DOWNLOAD.select.replace("document", "NULL")
    )
});

#[async_trait]
impl DownloadStore for SqliteStore {
    async fn find_download_by_token(&self, token_hash: [u8; 32]) -> StoreResult<Option<DownloadRecord>> {
        self.readers()
            .with(|c| query_opt(c, &BY_TOKEN, [&token_hash[..]], |r| decode::download(&Sql(r))))
    }

    async fn find_downloads(&self, subject: SubjectId) -> StoreResult<Vec<DownloadRecord>> {
        self.readers()
            .scan(move |c| query(c, &BY_SUBJECT, [&subject.as_bytes()[..]], |r| decode::download(&Sql(r))))
            .await
    }
}

/// Deletes the subject's downloads (an erasure).
pub(crate) fn delete_for_subject(conn: &Connection, subject: SubjectId) -> Result<()> {
    exec(
        conn,
        "DELETE FROM downloads WHERE subject_id = ?1",
        [&subject.as_bytes()[..]],
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Writes

pub(crate) fn snapshot(conn: &Connection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for id in keys {
        let row = query_opt(
            conn,
            "SELECT used_at, expires_at FROM downloads WHERE id = ?1",
            [&id.as_bytes()[..]],
            |r| {
                Ok((
                    at::<Option<i64>>(r, 0, "downloads", "used_at")?,
                    at::<i64>(r, 1, "downloads", "expires_at")?,
                ))
            },
        )?;
        if let Some((used, expires)) = row {
            snap.insert(*id, (used.is_some(), ward_core::clock::from_micros(expires)));
        }
    }
    Ok(())
}

pub(crate) fn insert(conn: &Connection, rows: &Inserts<'_>) -> Result<()> {
    for d in rows {
        exec(
            conn,
            "INSERT INTO downloads (id, subject_id, request, token_hash, format, document, created_at, expires_at, used_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                &d.id.as_bytes()[..],
                &d.subject.as_bytes()[..],
                d.request.as_ref().map(|r| r.as_bytes().to_vec()),
                &d.token_hash[..],
                d.format,
                d.document,
                to_micros(d.created_at),
                to_micros(d.expires_at),
                d.used_at.map(to_micros),
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn apply(conn: &Connection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Consume { id, at } => {
            exec(
                conn,
                "UPDATE downloads SET used_at = ?2, document = NULL WHERE id = ?1",
                params![&id.as_bytes()[..], to_micros(**at)],
            )?;
            Ok(())
        }
    }
}
