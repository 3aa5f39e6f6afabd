//! Backups that erasure reaches. A data backup holds no data key; the wrapped keys of live
//! subjects are exported separately. A restore takes a data backup and a key export made
//! later: every subject whose key is no longer in the export was erased in the meantime, and
//! stays unreadable — the erasure is re-applied, even to data taken before it.

use crate::rows::{subject_id, unavailable, Result};
use crate::SqliteStore;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Connection, Row, SqliteConnection};
use std::path::Path;
use time::OffsetDateTime;
use ward_core::{Actor, JournalDraft, ProcessingAction, SubjectId};
use ward_store::plan::Step;
use ward_store::StoreError;

fn path_str(p: &Path) -> Result<&str> {
    p.to_str()
        .ok_or_else(|| StoreError::Unavailable(format!("path {} is not UTF-8", p.display())))
}

fn refuse_existing(p: &Path) -> Result<()> {
    if p.exists() {
        return Err(StoreError::Unavailable(format!(
            "{} already exists; choose a new file",
            p.display()
        )));
    }
    Ok(())
}

async fn connect_new(p: &Path) -> Result<SqliteConnection> {
    let opts = SqliteConnectOptions::new()
        .filename(p)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Delete);
    SqliteConnection::connect_with(&opts).await.map_err(unavailable)
}

/// What [`SqliteStore::import_keys`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyImport {
    /// Subjects whose data key was put back.
    pub restored: u64,
    /// Subjects live in the data backup whose key is not in the export (erased since): erased
    /// again here, each with its journal entry.
    pub erased: Vec<SubjectId>,
}

impl SqliteStore {
    /// Writes a consistent snapshot of the database to `dest` (a new file) with every data key
    /// removed and the freed pages zeroed. Returns how many subjects it holds.
    pub async fn backup_without_keys(&self, dest: &Path) -> Result<u64> {
        refuse_existing(dest)?;
        let mut reader = self.readers().acquire().await.map_err(unavailable)?;
        sqlx::query("VACUUM INTO ?")
            .bind(path_str(dest)?)
            .execute(&mut *reader)
            .await
            .map_err(unavailable)?;
        drop(reader);
        let mut conn = connect_new(dest).await?;
        for sql in [
            "PRAGMA journal_mode = DELETE",
            "PRAGMA secure_delete = ON",
            "UPDATE subjects SET kek_id = NULL, wrapped_key = NULL",
            "VACUUM",
        ] {
            sqlx::query(sql).execute(&mut conn).await.map_err(unavailable)?;
        }
        let n: i64 = sqlx::query("SELECT count(*) AS n FROM subjects")
            .fetch_one(&mut conn)
            .await
            .map_err(unavailable)?
            .get("n");
        conn.close().await.map_err(unavailable)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Writes the wrapped data keys of live subjects to `dest` (a new file). Keys stay wrapped
    /// under the key-encryption keys, which are not in it. Returns how many.
    pub async fn export_keys(&self, dest: &Path) -> Result<u64> {
        refuse_existing(dest)?;
        let mut conn = connect_new(dest).await?;
        let live = format!("file:{}?mode=ro", path_str(self.path())?);
        for (sql, bind) in [
            ("CREATE TABLE subject_keys (subject_id BLOB PRIMARY KEY, kek_id TEXT NOT NULL, wrapped_key BLOB NOT NULL) STRICT", None),
            ("ATTACH DATABASE ? AS live", Some(live.as_str())),
            (
                "INSERT INTO subject_keys SELECT id, kek_id, wrapped_key FROM live.subjects \
                 WHERE state = 'active' AND wrapped_key IS NOT NULL AND kek_id IS NOT NULL",
                None,
            ),
            ("DETACH DATABASE live", None),
        ] {
            let mut q = sqlx::query(sql);
            if let Some(b) = bind {
                q = q.bind(b);
            }
            q.execute(&mut conn).await.map_err(unavailable)?;
        }
        let n: i64 = sqlx::query("SELECT count(*) AS n FROM subject_keys")
            .fetch_one(&mut conn)
            .await
            .map_err(unavailable)?
            .get("n");
        conn.close().await.map_err(unavailable)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Puts keys from a key export back on this database's subjects (a restored data backup)
    /// and, in the same transaction, erases every live subject left without a key, writing a
    /// `destruction` journal entry for each (actor `actor`, time `at`).
    pub async fn import_keys(&self, src: &Path, at: OffsetDateTime, actor: &str) -> Result<KeyImport> {
        if !src.exists() {
            return Err(StoreError::Unavailable(format!(
                "key export {} does not exist",
                src.display()
            )));
        }
        let mut w = self.writer().lock().await;
        sqlx::query("ATTACH DATABASE ? AS k")
            .bind(format!("file:{}?mode=ro", path_str(src)?))
            .execute(&mut *w)
            .await
            .map_err(unavailable)?;
        let result = import_in_tx(&mut w, at, actor).await;
        sqlx::query("DETACH DATABASE k")
            .execute(&mut *w)
            .await
            .map_err(unavailable)?;
        result
    }
}

async fn import_in_tx(conn: &mut SqliteConnection, at: OffsetDateTime, actor: &str) -> Result<KeyImport> {
    let mut tx = conn.begin().await.map_err(unavailable)?;
    let restored = sqlx::query(
        "UPDATE subjects SET kek_id = k.subject_keys.kek_id, wrapped_key = k.subject_keys.wrapped_key \
         FROM k.subject_keys WHERE k.subject_keys.subject_id = subjects.id AND subjects.state = 'active'",
    )
    .execute(&mut *tx)
    .await
    .map_err(unavailable)?
    .rows_affected();
    let rows = sqlx::query("SELECT id FROM subjects WHERE state = 'active' AND wrapped_key IS NULL ORDER BY id")
        .fetch_all(&mut *tx)
        .await
        .map_err(unavailable)?;
    let erased: Vec<SubjectId> = rows
        .iter()
        .map(|r| subject_id(&r.get::<Vec<u8>, _>("id"), "subjects", "id"))
        .collect::<Result<_>>()?;
    let mut drafts = Vec::with_capacity(erased.len());
    for id in &erased {
        crate::apply_step(&mut tx, &Step::Erase { id: *id, at }).await?;
        let mut d = JournalDraft::new(at, &Actor::System, ProcessingAction::Destruction)
            .subject(*id)
            .detail("restore: data key absent from the key export (erased after the backup)");
        d.actor = actor.to_owned();
        drafts.push(d);
    }
    crate::append_drafts(&mut tx, drafts).await?;
    tx.commit().await.map_err(unavailable)?;
    Ok(KeyImport { restored, erased })
}
