//! The outbox (`outbox`, migration `0012_outbox`): its reads, the delivery claim, and the
//! writes of `OutboxChange`.
//!
//! A claim is one statement that locks the due rows it takes with `FOR UPDATE SKIP LOCKED`:
//! two Ward processes claiming at once each skip the rows the other is taking, so a message
//! goes to one of them. It does not take the journal head lock (a claim is not journaled).

use crate::rows::{col, parse, unavailable, Pg, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgConnection;
use std::sync::LazyLock;
use time::OffsetDateTime;
use ward_core::clock::to_micros;
use ward_core::outbox::MessageState;
use ward_core::MessageId;
use ward_store::write::outbox::{Inserts, Keys, OutboxStep, Snap, Step};
use ward_store::{decode, MessageRecord, OutboxStore, StoreResult};

static CLAIM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1, claimed_by = $1, claimed_until = $3 \
         WHERE n IN (SELECT n FROM outbox \
                     WHERE (state = 'queued' AND next_attempt_at <= $2) \
                        OR (state = 'sending' AND claimed_until <= $2) \
                     ORDER BY next_attempt_at, n LIMIT $4 FOR UPDATE SKIP LOCKED) \
         RETURNING {}",
        decode::MESSAGE.select
    )
});

static BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {} FROM outbox WHERE id = $1", decode::MESSAGE.select));

static BY_STATE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM outbox WHERE $1::text IS NULL OR state = $1 ORDER BY n LIMIT $2",
        decode::MESSAGE.select
    )
});

#[async_trait]
impl OutboxStore for PgStore {
    async fn claim_due_messages(
        &self,
        worker: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>> {
        let rows = sqlx::query(&CLAIM)
            .bind(worker)
            .bind(to_micros(now))
            .bind(to_micros(until))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let mut claimed = rows.iter().map(|r| decode::message(&Pg(r))).collect::<Result<Vec<_>>>()?;
        // RETURNING gives no order: oldest due first.
        claimed.sort_by_key(|m| (m.next_attempt_at, m.created_at));
        Ok(claimed)
    }

    async fn find_message(&self, id: MessageId) -> StoreResult<Option<MessageRecord>> {
        let row = sqlx::query(&BY_ID)
            .bind(&id.as_bytes()[..])
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(|r| decode::message(&Pg(r))).transpose()
    }

    async fn find_messages(&self, state: Option<MessageState>, limit: u32) -> StoreResult<Vec<MessageRecord>> {
        let rows = sqlx::query(&BY_STATE)
            .bind(state.map(MessageState::as_str))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| decode::message(&Pg(r))).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Writes

/// Reads and locks the touched messages' rows.
pub(crate) async fn snapshot(conn: &mut PgConnection, keys: &Keys, snap: &mut Snap) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let ids: Vec<&[u8]> = keys.iter().map(|m| &m.as_bytes()[..]).collect();
    let rows = sqlx::query("SELECT id, state FROM outbox WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(unavailable)?;
    for row in &rows {
        const T: &str = "outbox";
        let id: [u8; 16] = col::<_, Vec<u8>>(row, T, "id")?
            .try_into()
            .map_err(|_| crate::rows::corrupt(T, "id", "expected 16 bytes"))?;
        let state: MessageState = parse(&col::<_, String>(row, T, "state")?, T, "state")?;
        snap.insert(MessageId::from_bytes(id), state);
    }
    Ok(())
}

pub(crate) async fn insert(conn: &mut PgConnection, rows: &Inserts<'_>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let id: Vec<&[u8]> = rows.iter().map(|m| &m.id.as_bytes()[..]).collect();
    let subject: Vec<&[u8]> = rows.iter().map(|m| &m.subject.as_bytes()[..]).collect();
    let template: Vec<&str> = rows.iter().map(|m| m.template.as_str()).collect();
    let language: Vec<&str> = rows.iter().map(|m| m.language.as_str()).collect();
    let payload: Vec<&[u8]> = rows.iter().map(|m| m.payload.as_slice()).collect();
    let at: Vec<i64> = rows.iter().map(|m| to_micros(m.created_at)).collect();
    sqlx::query(
        "INSERT INTO outbox (id, subject_id, template, language, payload, state, attempts, next_attempt_at, created_at) \
         SELECT id, subject_id, template, language, payload, 'queued', 0, at, at \
         FROM UNNEST($1::bytea[], $2::bytea[], $3::text[], $4::text[], $5::bytea[], $6::int8[]) \
         WITH ORDINALITY AS t (id, subject_id, template, language, payload, at, n) ORDER BY n",
    )
    .bind(&id)
    .bind(&subject)
    .bind(&template)
    .bind(&language)
    .bind(&payload)
    .bind(&at)
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(crate) async fn apply(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
    match step {
        OutboxStep::Sent { id, at } => sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = $1, claimed_by = NULL, claimed_until = NULL WHERE id = $2",
        )
        .bind(to_micros(*at))
        .bind(&id.as_bytes()[..]),
        OutboxStep::Failed { id, retry_at: Some(at) } => sqlx::query(
            "UPDATE outbox SET state = 'queued', next_attempt_at = $1, claimed_by = NULL, claimed_until = NULL \
             WHERE id = $2",
        )
        .bind(to_micros(*at))
        .bind(&id.as_bytes()[..]),
        OutboxStep::Failed { id, retry_at: None } => {
            sqlx::query("UPDATE outbox SET state = 'dead', claimed_by = NULL, claimed_until = NULL WHERE id = $1")
                .bind(&id.as_bytes()[..])
        }
        OutboxStep::Requeue { id, at } => {
            sqlx::query("UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = $1 WHERE id = $2")
                .bind(to_micros(*at))
                .bind(&id.as_bytes()[..])
        }
    }
    .execute(&mut *conn)
    .await
    .map_err(unavailable)?;
    Ok(())
}
