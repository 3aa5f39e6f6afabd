//! The journal, its head and its checkpoints. Entries are appended only by a write, after its
//! changes, in the same transaction (see [`crate::write`]).

use crate::rows::{col, corrupt, hash32, unavailable, unstorable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgRow};
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_crypto::Checkpoint;
use ward_store::write::join_names;
use ward_store::{chain, decode, JournalEntry, JournalHead, JournalStore, StoreResult};

static PAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2",
        decode::JOURNAL_ENTRY.select
    )
});
static CHECKPOINTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM journal_checkpoints ORDER BY seq, id",
        decode::CHECKPOINT.select
    )
});

fn head_from(row: Option<PgRow>) -> Result<Option<JournalHead>> {
    const T: &str = "journal_head";
    let row = row.ok_or_else(|| corrupt(T, "id", "the head row is missing"))?;
    let seq: i64 = col(&row, T, "seq")?;
    if seq < 0 {
        return Err(corrupt(T, "seq", "negative"));
    }
    let hash = hash32(&col::<_, Vec<u8>>(&row, T, "hash")?, T, "hash")?;
    Ok((seq > 0).then_some(JournalHead { seq, hash }))
}

/// Reads and locks the head: from then on, the caller's transaction is the only writer.
pub(crate) async fn lock_head(conn: &mut PgConnection) -> Result<Option<JournalHead>> {
    head_from(
        sqlx::query("SELECT seq, hash FROM journal_head WHERE id = 1 FOR UPDATE")
            .fetch_optional(&mut *conn)
            .await
            .map_err(unavailable)?,
    )
}

/// Links `drafts` after `head` (read by [`lock_head`]) and appends them, inside the caller's
/// transaction.
pub(crate) async fn append_drafts(
    conn: &mut PgConnection,
    head: Option<JournalHead>,
    drafts: impl IntoIterator<Item = ward_core::JournalDraft>,
) -> Result<()> {
    let (entries, new_head) = chain::link(head, drafts);
    if let Some(h) = new_head {
        append_journal(conn, &entries).await?;
        sqlx::query("UPDATE journal_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(h.seq)
            .bind(&h.hash[..])
            .execute(&mut *conn)
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}

#[async_trait]
impl JournalStore for PgStore {
    async fn find_journal_head(&self) -> StoreResult<Option<JournalHead>> {
        let row = sqlx::query("SELECT seq, hash FROM journal_head WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        head_from(row)
    }

    async fn find_journal_entries(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<JournalEntry>> {
        let rows = sqlx::query(&PAGE)
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| decode::journal_entry(&Pg(r))).collect()
    }

    async fn create_checkpoint(&self, cp: &Checkpoint) -> StoreResult<()> {
        sqlx::query("INSERT INTO journal_checkpoints (seq, head, at, key_id, signature) VALUES ($1, $2, $3, $4, $5)")
            .bind(cp.seq)
            .bind(&cp.head[..])
            .bind(cp.at_micros)
            .bind(cp.key_id.as_str())
            .bind(cp.signature.as_slice())
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn find_checkpoints(&self) -> StoreResult<Vec<Checkpoint>> {
        let rows = sqlx::query(&CHECKPOINTS)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| decode::checkpoint(&Pg(r))).collect()
    }
}

async fn append_journal(conn: &mut PgConnection, entries: &[JournalEntry]) -> Result<()> {
    let fields: Vec<String> = entries
        .iter()
        .map(|e| join_names(&e.fields).ok_or_else(|| unstorable("journal", "fields")))
        .collect::<Result<_>>()?;
    let seq: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    let at: Vec<i64> = entries.iter().map(|e| to_micros(e.at)).collect();
    let actor: Vec<&str> = entries.iter().map(|e| e.actor.as_str()).collect();
    let action: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    let subject: Vec<Option<&[u8]>> = entries
        .iter()
        .map(|e| e.subject.as_ref().map(|s| &s.as_bytes()[..]))
        .collect();
    let purpose: Vec<Option<&str>> = entries.iter().map(|e| e.purpose.as_deref()).collect();
    let detail: Vec<Option<&str>> = entries.iter().map(|e| e.detail.as_deref()).collect();
    let prev: Vec<&[u8]> = entries.iter().map(|e| &e.prev_hash[..]).collect();
    let hash: Vec<&[u8]> = entries.iter().map(|e| &e.hash[..]).collect();
    sqlx::query(
        "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
         SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::text[], \
         $8::text[], $9::bytea[], $10::bytea[])",
    )
    .bind(&seq)
    .bind(&at)
    .bind(&actor)
    .bind(&action)
    .bind(&subject)
    .bind(&purpose)
    .bind(&fields)
    .bind(&detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}
