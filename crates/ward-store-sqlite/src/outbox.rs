//! The outbox (`outbox`, migration `0012_outbox`): its reads, the delivery claim, and the
//! writes of `OutboxChange`.
//!
//! A claim is one `UPDATE … RETURNING` on the writer thread, in its own transaction: SQLite
//! has one writer at a time (also across processes, by its file lock), so a message goes to one
//! claimant.

use crate::rows::{exec, query, query_opt, unavailable, Result, Sql};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Connection, TransactionBehavior};
use std::sync::LazyLock;
use time::OffsetDateTime;
use ward_core::clock::to_micros;
use ward_core::outbox::MessageState;
use ward_core::{MessageId, SubjectId};
use ward_store::write::outbox::{Inserts, Keys, OutboxStep, Snap, Step};
use ward_store::{decode, MessageRecord, OutboxStore, StoreResult};

static CLAIM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1, claimed_by = ?1, claimed_until = ?3 \
         WHERE n IN (SELECT n FROM outbox \
                     WHERE (state = 'queued' AND next_attempt_at <= ?2) \
                        OR (state = 'sending' AND claimed_until <= ?2) \
                     ORDER BY next_attempt_at, n LIMIT ?4) \
         RETURNING {}",
        decode::MESSAGE.select
    )
});

static BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM outbox WHERE id = ?1", decode::MESSAGE.select));

static BY_STATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM outbox WHERE ?1 IS NULL OR state = ?1 ORDER BY n LIMIT ?2",
        decode::MESSAGE.select
    )
});

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn claim_due_messages(
        &self,
        worker: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>> {
        let worker = worker.to_owned();
        let (now, until) = (to_micros(now), to_micros(until));
        self.writer()
            .run(move |c| {
                let tx = c
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(unavailable)?;
                let mut claimed = query(&tx, &CLAIM, params![worker, now, until, limit], |r| {
                    decode::message(&Sql(r))
                })?;
                tx.commit().map_err(unavailable)?;
                // RETURNING gives no order: oldest due first.
                claimed.sort_by_key(|m| (m.next_attempt_at, m.created_at));
                Ok(claimed)
            })
            .await
    }

    async fn find_message(&self, id: MessageId) -> StoreResult<Option<MessageRecord>> {
        self.readers()
            .with(|c| query_opt(c, &BY_ID, [&id.as_bytes()[..]], |r| decode::message(&Sql(r))))
    }

    async fn find_messages(&self, state: Option<MessageState>, limit: u32) -> StoreResult<Vec<MessageRecord>> {
        let state = state.map(MessageState::as_str);
        self.readers()
            .scan(move |c| query(c, &BY_STATE, params![state, limit], |r| decode::message(&Sql(r))))
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

pub(crate) fn snapshot(conn: &Connection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    for id in keys {
        let state = query_opt(conn, "SELECT state FROM outbox WHERE id = ?1", [&id.as_bytes()[..]], |r| {
            let s: String = crate::rows::col(r, "outbox", "state")?;
            crate::rows::parse::<MessageState>(&s, "outbox", "state")
        })?;
        if let Some(state) = state {
            snap.insert(*id, state);
        }
    }
    Ok(())
}

pub(crate) fn insert(conn: &Connection, rows: &Inserts<'_>) -> Result<()> {
    for m in rows {
        let at = to_micros(m.created_at);
        exec(
            conn,
            "INSERT INTO outbox (id, subject_id, template, language, payload, state, attempts, \
             next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'queued', 0, ?6, ?6)",
            params![
                &m.id.as_bytes()[..],
                &m.subject.as_bytes()[..],
                m.template,
                m.language,
                m.payload,
                at
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn apply(conn: &Connection, step: &Step<'_>) -> Result<()> {
    match step {
        OutboxStep::Sent { id, at } => exec(
            conn,
            "UPDATE outbox SET state = 'sent', sent_at = ?1, claimed_by = NULL, claimed_until = NULL WHERE id = ?2",
            params![to_micros(*at), &id.as_bytes()[..]],
        ),
        OutboxStep::Failed { id, retry_at: Some(at) } => exec(
            conn,
            "UPDATE outbox SET state = 'queued', next_attempt_at = ?1, claimed_by = NULL, claimed_until = NULL \
             WHERE id = ?2",
            params![to_micros(*at), &id.as_bytes()[..]],
        ),
        OutboxStep::Failed { id, retry_at: None } => exec(
            conn,
            "UPDATE outbox SET state = 'dead', claimed_by = NULL, claimed_until = NULL WHERE id = ?1",
            [&id.as_bytes()[..]],
        ),
        OutboxStep::Requeue { id, at } => exec(
            conn,
            "UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = ?1 WHERE id = ?2",
            params![to_micros(*at), &id.as_bytes()[..]],
        ),
    }?;
    Ok(())
}

/// Part of erasure: the subject's messages go with it (their payload was sealed under the key
/// erasure destroys).
pub(crate) fn delete_for_subject(conn: &Connection, subject: SubjectId) -> Result<()> {
    exec(
        conn,
        "DELETE FROM outbox WHERE subject_id = ?1",
        [&subject.as_bytes()[..]],
    )?;
    Ok(())
}
