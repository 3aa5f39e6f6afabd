//! The journal, its head and its checkpoints. Entries are appended only by a write, after its
//! changes, in the same transaction ([`append_drafts`]).

use crate::rows::Sql;
use crate::rows::{at, corrupt, exec, hash32, query, unavailable, unstorable, Result};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::sync::LazyLock;
use ward_core::clock::to_micros;
use ward_crypto::Checkpoint;
use ward_store::write::join_names;
use ward_store::{chain, decode, JournalEntry, JournalHead, JournalStore, StoreResult};

/// Journal rows in [`decode::JOURNAL_ENTRY`]'s column order; [`check_journal_rows`] reads
/// them by those positions too.
static RANGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM journal WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
        decode::JOURNAL_ENTRY.select
    )
});
static PAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM journal WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        decode::JOURNAL_ENTRY.select
    )
});
static CHECKPOINTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM journal_checkpoints ORDER BY seq, id",
        decode::CHECKPOINT.select
    )
});

/// Checks the journal rows of a range as they are read: the hashed content is borrowed from
/// the row, with nothing decoded into an owned entry (verification's hot loop).
fn check_journal_rows(
    c: &Connection,
    after_seq: i64,
    upto_seq: i64,
    checkpoints: &chain::Checkpoints,
) -> Result<chain::RangeCheck> {
    use ward_crypto::journal::{entry_hash, EntryContent, Fields};
    const T: &str = "journal";
    fn text<'r>(row: &'r Row<'_>, i: usize, column: &str) -> Result<&'r str> {
        row.get_ref(i)
            .and_then(|v| v.as_str().map_err(Into::into))
            .map_err(|e| corrupt(T, column, e))
    }
    fn opt_text<'r>(row: &'r Row<'_>, i: usize, column: &str) -> Result<Option<&'r str>> {
        row.get_ref(i)
            .and_then(|v| v.as_str_or_null().map_err(Into::into))
            .map_err(|e| corrupt(T, column, e))
    }
    fn blob<'r>(row: &'r Row<'_>, i: usize, column: &str) -> Result<Option<&'r [u8]>> {
        row.get_ref(i)
            .and_then(|v| v.as_blob_or_null().map_err(Into::into))
            .map_err(|e| corrupt(T, column, e))
    }
    fn hash<'r>(row: &'r Row<'_>, i: usize, column: &str) -> Result<&'r [u8; 32]> {
        blob(row, i, column)?
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| corrupt(T, column, "expected 32 bytes"))
    }
    let mut stmt = c.prepare_cached(&RANGE).map_err(unavailable)?;
    let mut rows = stmt.query(params![after_seq, upto_seq]).map_err(unavailable)?;
    let mut check = chain::RangeCheck::default();
    while let Some(row) = rows.next().map_err(unavailable)? {
        let seq: i64 = at(row, 0, T, "seq")?;
        let subject: Option<&[u8; 16]> = blob(row, 4, "subject")?
            .map(|b| b.try_into().map_err(|_| corrupt(T, "subject", "expected 16 bytes")))
            .transpose()?;
        let content = EntryContent {
            at_micros: at(row, 1, T, "at")?,
            actor: text(row, 2, "actor")?,
            action: text(row, 3, "action")?,
            subject,
            purpose: opt_text(row, 5, "purpose")?,
            fields: Fields::Joined(text(row, 6, "fields")?),
            detail: opt_text(row, 7, "detail")?,
        };
        let (prev_hash, hash) = (hash(row, 8, "prev_hash")?, hash(row, 9, "hash")?);
        let ok = entry_hash(prev_hash, &content) == *hash;
        if !check.push(seq, prev_hash, hash, ok, checkpoints) {
            break;
        }
    }
    Ok(check)
}

pub(crate) fn read_head(conn: &Connection) -> Result<Option<JournalHead>> {
    let (seq, hash): (i64, Vec<u8>) = conn
        .prepare_cached("SELECT seq, hash FROM journal_head WHERE id = 1")
        .map_err(unavailable)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(|e| corrupt("journal_head", "seq", e))?
        .ok_or_else(|| corrupt("journal_head", "id", "the head row is missing"))?;
    if seq < 0 {
        return Err(corrupt("journal_head", "seq", "negative"));
    }
    let hash = hash32(&hash, "journal_head", "hash")?;
    Ok((seq > 0).then_some(JournalHead { seq, hash }))
}

#[async_trait]
impl JournalStore for SqliteStore {
    async fn find_journal_head(&self) -> StoreResult<Option<JournalHead>> {
        self.readers().with(read_head)
    }

    async fn find_journal_entries(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<JournalEntry>> {
        self.readers()
            .scan(move |c| {
                query(c, &PAGE, params![after_seq, i64::from(limit)], |r| {
                    decode::journal_entry(&Sql(r))
                })
            })
            .await
    }

    async fn check_journal_range(
        &self,
        after_seq: i64,
        upto_seq: i64,
        checkpoints: &chain::Checkpoints,
    ) -> StoreResult<chain::RangeCheck> {
        let checkpoints = checkpoints.clone(); // only those in the range
        self.readers()
            .scan(move |c| check_journal_rows(c, after_seq, upto_seq, &checkpoints))
            .await
    }

    async fn create_checkpoint(&self, cp: &Checkpoint) -> StoreResult<()> {
        let cp = cp.clone();
        self.writer()
            .run(move |c| {
                exec(
                    c,
                    "INSERT INTO journal_checkpoints (seq, head, at, key_id, signature) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![cp.seq, &cp.head[..], cp.at_micros, cp.key_id, cp.signature],
                )
                .map(|_| ())
            })
            .await
    }

    async fn find_checkpoints(&self) -> StoreResult<Vec<Checkpoint>> {
        self.readers()
            .scan(|c| query(c, &CHECKPOINTS, [], |r| decode::checkpoint(&Sql(r))))
            .await
    }
}

/// Links `drafts` after the journal head and appends them, inside the caller's transaction.
pub(crate) fn append_drafts(
    conn: &Connection,
    drafts: impl IntoIterator<Item = ward_core::JournalDraft>,
) -> Result<()> {
    let head = read_head(conn)?;
    let (entries, new_head) = chain::link(head, drafts);
    if let Some(h) = new_head {
        append_journal(conn, &entries)?;
        exec(
            conn,
            "UPDATE journal_head SET seq = ?1, hash = ?2 WHERE id = 1",
            params![h.seq, &h.hash[..]],
        )?;
    }
    Ok(())
}

fn append_journal(conn: &Connection, entries: &[JournalEntry]) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(unavailable)?;
    for e in entries {
        let fields = join_names(&e.fields).ok_or_else(|| unstorable("journal", "fields"))?;
        stmt.execute(params![
            e.seq,
            to_micros(e.at),
            e.actor,
            e.action,
            e.subject.as_ref().map(|s| &s.as_bytes()[..]),
            e.purpose,
            fields,
            e.detail,
            &e.prev_hash[..],
            &e.hash[..],
        ])
        .map_err(unavailable)?;
    }
    Ok(())
}
