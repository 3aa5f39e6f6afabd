//! Single-use downloads (`downloads`, migration `0019_downloads`).

use crate::rows::{unavailable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use sqlx::Row as _;
use std::sync::LazyLock;
use ward_core::clock::{from_micros, to_micros};
use ward_core::SubjectId;
use ward_store::write::downloads::{Inserts, Keys, Snap, Step};
use ward_store::{decode, DownloadRecord, DownloadStore, StoreResult};

static BY_TOKEN: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM downloads WHERE token_hash = $1", decode::DOWNLOAD.select));

/// The document is left out: the officer's listing never needs it.
static BY_SUBJECT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM downloads WHERE subject_id = $1 ORDER BY created_at, n",
        decode::DOWNLOAD.select.replace("document", "NULL::bytea")
    )
});

#[async_trait]
impl DownloadStore for PgStore {
    async fn find_download_by_token(&self, token_hash: [u8; 32]) -> StoreResult<Option<DownloadRecord>> {
        let row = sqlx::query(&BY_TOKEN)
            .bind(&token_hash[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(|r| decode::download(&Pg(&r))).transpose()
    }

    async fn find_downloads(&self, subject: SubjectId) -> StoreResult<Vec<DownloadRecord>> {
        let rows = sqlx::query(&BY_SUBJECT)
            .bind(&subject.as_bytes()[..])
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| decode::download(&Pg(r))).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

pub(crate) async fn snapshot(conn: &mut PgConnection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for id in keys {
        let row = sqlx::query("SELECT used_at, expires_at FROM downloads WHERE id = $1")
            .bind(&id.as_bytes()[..])
            .fetch_optional(&mut *conn)
            .await
            .map_err(unavailable)?;
        if let Some(r) = row {
            let used: Option<i64> = r.try_get(0).map_err(unavailable)?;
            let expires: i64 = r.try_get(1).map_err(unavailable)?;
            snap.insert(*id, (used.is_some(), from_micros(expires)));
        }
    }
    Ok(())
}

pub(crate) async fn insert(conn: &mut PgConnection, rows: &Inserts<'_>) -> Result<()> {
    for d in rows {
        sqlx::query(
            "INSERT INTO downloads (id, subject_id, request, token_hash, format, document, created_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&d.id.as_bytes()[..])
        .bind(&d.subject.as_bytes()[..])
        .bind(d.request.as_ref().map(|r| r.as_bytes().to_vec()))
        .bind(&d.token_hash[..])
        .bind(&d.format)
        .bind(d.document.as_deref())
        .bind(to_micros(d.created_at))
        .bind(to_micros(d.expires_at))
        .bind(d.used_at.map(to_micros))
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}

pub(crate) async fn apply(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Consume { id, at } => {
            sqlx::query("UPDATE downloads SET used_at = $2, document = NULL WHERE id = $1")
                .bind(&id.as_bytes()[..])
                .bind(to_micros(**at))
                .execute(&mut *conn)
                .await
                .map_err(unavailable)?;
            Ok(())
        }
    }
}
