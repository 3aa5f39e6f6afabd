//! Identity verifications (`verifications`, migration `0018_verifications`).

use crate::rows::{at, corrupt, exec, query_opt, subject_id, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection};
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_core::{SubjectId, VerificationId};
use ward_store::write::verifications::{Inserts, Keys, Snap, Step};
use ward_store::{decode, StoreResult, VerificationRecord, VerificationStore};

static BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM verifications WHERE id = ?1", decode::VERIFICATION.select));

#[async_trait]
impl VerificationStore for SqliteStore {
    async fn find_verification(&self, id: VerificationId) -> StoreResult<Option<VerificationRecord>> {
        self.readers()
            .with(|c| query_opt(c, &BY_ID, [id.to_string()], |r| decode::verification(&Sql(r))))
    }

    async fn find_verification_document(&self, id: VerificationId) -> StoreResult<Option<Vec<u8>>> {
        // Up to 10 MiB: not a point read, so on the blocking pool.
        let found = self
            .readers()
            .scan(move |c| {
                query_opt(
                    c,
                    "SELECT document FROM verifications WHERE id = ?1",
                    [id.to_string()],
                    |r| at::<Option<Vec<u8>>>(r, 0, "verifications", "document"),
                )
            })
            .await?;
        Ok(found.flatten())
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

pub(crate) fn snapshot(conn: &Connection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for id in keys {
        let row = query_opt(
            conn,
            "SELECT subject_id, revision FROM verifications WHERE id = ?1",
            [id.to_string()],
            |r| {
                let subject: Vec<u8> = at(r, 0, "verifications", "subject_id")?;
                let revision: i64 = at(r, 1, "verifications", "revision")?;
                Ok((subject, revision))
            },
        )?;
        if let Some((subject, revision)) = row {
            let subject = subject_id(&subject, "verifications", "subject_id")?;
            let revision = u32::try_from(revision).map_err(|_| corrupt("verifications", "revision", "out of range"))?;
            snap.insert(*id, (subject, revision));
        }
    }
    Ok(())
}

pub(crate) fn insert(conn: &Connection, rows: &Inserts<'_>) -> Result<()> {
    for v in rows {
        exec(
            conn,
            "INSERT INTO verifications (id, request_id, subject_id, method, state, revision, attempts, resends, \
             code_hash, code_expires_at, document_type, document_size, document_sha256, reason, created_at, \
             updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                v.id.to_string(),
                v.request.to_string(),
                &v.subject.as_bytes()[..],
                v.method.as_str(),
                v.state.as_str(),
                v.revision,
                v.attempts,
                v.resends,
                v.code_hash,
                v.code_expires_at.map(to_micros),
                v.document_type.map(|t| t.as_str()),
                v.document_size.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
                v.document_sha256,
                v.reason,
                to_micros(v.created_at),
                to_micros(v.updated_at),
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn apply(conn: &Connection, step: &Step<'_>) -> Result<()> {
    match step {
        Step::Update { record: v, document } => {
            exec(
                conn,
                "UPDATE verifications SET state = ?2, revision = ?3, attempts = ?4, resends = ?5, code_hash = ?6, \
                 code_expires_at = ?7, document_type = ?8, document_size = ?9, document_sha256 = ?10, \
                 reason = ?11, updated_at = ?12, document = COALESCE(?13, document) WHERE id = ?1",
                params![
                    v.id.to_string(),
                    v.state.as_str(),
                    v.revision,
                    v.attempts,
                    v.resends,
                    v.code_hash,
                    v.code_expires_at.map(to_micros),
                    v.document_type.map(|t| t.as_str()),
                    v.document_size.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
                    v.document_sha256,
                    v.reason,
                    to_micros(v.updated_at),
                    document,
                ],
            )?;
            Ok(())
        }
    }
}

/// Erasure: the subject's documents and code hashes go with its key.
pub(crate) fn erase_for_subject(conn: &Connection, subject: SubjectId) -> Result<()> {
    exec(
        conn,
        "UPDATE verifications SET document = NULL, code_hash = NULL WHERE subject_id = ?1",
        [&subject.as_bytes()[..]],
    )?;
    Ok(())
}
