//! Identity verifications (`verifications`, migration `0018_verifications`).

use crate::rows::{col, corrupt, subject_id, unavailable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_core::VerificationId;
use ward_store::write::verifications::{Inserts, Keys, Snap, Step};
use ward_store::{decode, StoreResult, VerificationRecord, VerificationStore};

static BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM verifications WHERE id = $1", decode::VERIFICATION.select));

fn count(n: u32) -> i64 {
    i64::from(n)
}

fn size(n: Option<u64>) -> Option<i64> {
    n.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

#[async_trait]
impl VerificationStore for PgStore {
    async fn find_verification(&self, id: VerificationId) -> StoreResult<Option<VerificationRecord>> {
        let row = sqlx::query(&BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(|r| decode::verification(&Pg(r))).transpose()
    }

    async fn find_verification_document(&self, id: VerificationId) -> StoreResult<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT document FROM verifications WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        match row {
            Some(r) => col::<_, Option<Vec<u8>>>(&r, "verifications", "document"),
            None => Ok(None),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

pub(crate) async fn snapshot(conn: &mut PgConnection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for id in keys {
        let row = sqlx::query("SELECT subject_id, revision FROM verifications WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(unavailable)?;
        if let Some(r) = row {
            let subject: Vec<u8> = col(&r, "verifications", "subject_id")?;
            let revision: i64 = col(&r, "verifications", "revision")?;
            let subject = subject_id(&subject, "verifications", "subject_id")?;
            let revision = u32::try_from(revision).map_err(|_| corrupt("verifications", "revision", "out of range"))?;
            snap.insert(*id, (subject, revision));
        }
    }
    Ok(())
}

pub(crate) async fn insert(conn: &mut PgConnection, rows: &Inserts<'_>) -> Result<()> {
    for v in rows {
        sqlx::query(
            "INSERT INTO verifications (id, request_id, subject_id, method, state, revision, attempts, resends, \
             code_hash, code_expires_at, document_type, document_size, document_sha256, reason, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(v.id.to_string())
        .bind(v.request.to_string())
        .bind(&v.subject.as_bytes()[..])
        .bind(v.method.as_str())
        .bind(v.state.as_str())
        .bind(count(v.revision))
        .bind(count(v.attempts))
        .bind(count(v.resends))
        .bind(v.code_hash.as_deref())
        .bind(v.code_expires_at.map(to_micros))
        .bind(v.document_type.map(|t| t.as_str()))
        .bind(size(v.document_size))
        .bind(v.document_sha256.as_deref())
        .bind(v.reason.as_deref())
        .bind(to_micros(v.created_at))
        .bind(to_micros(v.updated_at))
        .execute(&mut *conn)
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}

pub(crate) async fn apply(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Update { record: v, document } => {
            sqlx::query(
                "UPDATE verifications SET state = $2, revision = $3, attempts = $4, resends = $5, code_hash = $6, \
                 code_expires_at = $7, document_type = $8, document_size = $9, document_sha256 = $10, \
                 reason = $11, updated_at = $12, document = COALESCE($13, document) WHERE id = $1",
            )
            .bind(v.id.to_string())
            .bind(v.state.as_str())
            .bind(count(v.revision))
            .bind(count(v.attempts))
            .bind(count(v.resends))
            .bind(v.code_hash.as_deref())
            .bind(v.code_expires_at.map(to_micros))
            .bind(v.document_type.map(|t| t.as_str()))
            .bind(size(v.document_size))
            .bind(v.document_sha256.as_deref())
            .bind(v.reason.as_deref())
            .bind(to_micros(v.updated_at))
            .bind(*document)
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
            Ok(())
        }
    }
}
