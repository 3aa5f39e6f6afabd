//! The PostgreSQL side of the baselines: sqlx, as Ward's PostgreSQL backend uses it.
//!
//! A batch is one transaction of multi-row statements; the journal is read in pages of
//! [`VERIFY_PAGE`], every column decoded to an owned value.

use super::shapes::{consent_shape, ActShape, ConsentShape, JournalShape, Shapes, SubjectSizes};
use super::writer::{Batch, Filler, RawWriter};
use super::{RawOp, VERIFY_PAGE};
use crate::data::mix;
use anyhow::{Context, Result};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection as _, Row};
use std::str::FromStr;

pub(super) async fn connect(url: &str) -> Result<PgConnection> {
    let opts = PgConnectOptions::from_str(url).context("parsing the PostgreSQL URL")?;
    PgConnection::connect_with(&opts)
        .await
        .context("connecting to PostgreSQL")
}

/// The journal rows Ward wrote for `subject`, in order.
pub(super) async fn journal_rows(c: &mut PgConnection, subject: &[u8]) -> Result<Vec<JournalShape>> {
    let rows =
        sqlx::query("SELECT actor, action, purpose, fields, detail FROM journal WHERE subject = $1 ORDER BY seq")
            .bind(subject)
            .fetch_all(c)
            .await?
            .into_iter()
            .map(|r| {
                Ok(JournalShape {
                    actor: r.try_get(0)?,
                    action: r.try_get(1)?,
                    purpose: r.try_get(2)?,
                    fields: r.try_get(3)?,
                    detail: r.try_get(4)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(rows)
}

/// The consent events Ward wrote for `subject`, in order.
pub(super) async fn consent_rows(c: &mut PgConnection, subject: &[u8]) -> Result<Vec<ConsentShape>> {
    let rows = sqlx::query(
        "SELECT purpose, kind, policy_version, length(evidence)::int8 FROM consent_events WHERE subject_id = $1 ORDER BY id",
    )
    .bind(subject)
    .fetch_all(c)
    .await?;
    let out = rows
        .iter()
        .map(|r| {
            Ok(consent_shape(
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
            ))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(out)
}

/// The sizes of `subject`'s row and the names of its index entries.
pub(super) async fn subject_sizes(c: &mut PgConnection, subject: &[u8]) -> Result<SubjectSizes> {
    let r = sqlx::query("SELECT kek_id, length(wrapped_key)::int8 FROM subjects WHERE id = $1")
        .bind(subject)
        .fetch_one(&mut *c)
        .await?;
    let (kek, wrapped): (String, i64) = (r.try_get(0)?, r.try_get(1)?);
    let avg: f64 = sqlx::query("SELECT avg(length(fields))::float8 FROM subjects WHERE state = 'active'")
        .fetch_one(&mut *c)
        .await?
        .try_get(0)?;
    let idx = sqlx::query("SELECT field FROM subject_index WHERE subject_id = $1 ORDER BY field")
        .bind(subject)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SubjectSizes::new(kek, wrapped, avg, idx))
}

/// The journal's head position.
pub(super) async fn journal_head(url: &str) -> Result<i64> {
    let mut c = connect(url).await?;
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT seq FROM journal_head WHERE id = 1")
            .fetch_one(&mut c)
            .await?,
    )
}

/// One range of the PostgreSQL journal, in pages, every column decoded to an owned value.
pub(super) async fn scan_range(c: &mut PgConnection, mut after: i64, upto: i64) -> Result<(u64, usize)> {
    let (mut n, mut bytes) = (0u64, 0usize);
    loop {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash \
             FROM journal WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
        )
        .bind(after)
        .bind(upto)
        .bind(VERIFY_PAGE)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(decode_journal_pg)
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        n += rows.len() as u64;
        bytes += rows.iter().map(|r| r.1).sum::<usize>();
    }
    Ok((n, bytes))
}

/// A journal entry's position and a sum of its decoded sizes (so that decoding is not
/// optimised away).
type Decoded = (i64, usize);

/// One journal row, every column decoded to an owned value.
struct JournalRow {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    subject: Option<Vec<u8>>,
    purpose: Option<String>,
    fields: String,
    detail: Option<String>,
    prev: Vec<u8>,
    hash: Vec<u8>,
}

impl JournalRow {
    fn decoded(&self) -> Decoded {
        let len = usize::try_from(self.at & 1).unwrap_or(0)
            + self.actor.len()
            + self.action.len()
            + self.subject.as_ref().map_or(0, Vec::len)
            + self.purpose.as_ref().map_or(0, String::len)
            + self.fields.len()
            + self.detail.as_ref().map_or(0, String::len)
            + self.prev.len()
            + self.hash.len();
        (self.seq, len)
    }
}

fn decode_journal_pg(r: &sqlx::postgres::PgRow) -> Result<Decoded, sqlx::Error> {
    let row = JournalRow {
        seq: r.try_get(0)?,
        at: r.try_get(1)?,
        actor: r.try_get(2)?,
        action: r.try_get(3)?,
        subject: r.try_get(4)?,
        purpose: r.try_get(5)?,
        fields: r.try_get(6)?,
        detail: r.try_get(7)?,
        prev: r.try_get(8)?,
        hash: r.try_get(9)?,
    };
    Ok(row.decoded())
}

/// The destruction act Ward wrote for `subject`, if any.
pub(super) async fn act_row(c: &mut PgConnection, subject: &[u8]) -> Result<Option<ActShape>> {
    let row = sqlx::query(&format!("{} WHERE subject_id = $1 LIMIT 1", super::sqlite::ACT_SELECT))
        .bind(subject)
        .fetch_optional(&mut *c)
        .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(ActShape {
        cause: r.try_get(0)?,
        operator: r.try_get(1)?,
        operator_address: r.try_get(2)?,
        processor: r.try_get(3)?,
        destroyed_by: r.try_get(4)?,
        position: r.try_get(5)?,
        categories: r.try_get(6)?,
        fields: r.try_get(7)?,
        system: r.try_get(8)?,
        method: r.try_get(9)?,
        reason: r.try_get(10)?,
        withheld: r.try_get(11)?,
    }))
}

/// How many acts there are.
pub(super) async fn count_acts(c: &mut PgConnection) -> Result<u64> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM destruction_acts")
        .fetch_one(&mut *c)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// One batch in ONE transaction: the rows, then the journal head.
pub(super) async fn batch(
    c: &mut PgConnection,
    sh: &Shapes,
    filler: &Filler,
    ops: &[RawOp],
    first_seq: i64,
    now: i64,
    head_seq: i64,
) -> Result<()> {
    let b = Batch::of(ops, sh);
    let head = RawWriter::hash(head_seq);
    let mut tx = c.begin().await?;
    write(&mut tx, sh, &b, first_seq, now, filler).await?;
    sqlx::query("UPDATE journal_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(head_seq)
        .bind(&head[..])
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The batch's rows, as Ward's PostgreSQL backend writes them: one multi-row statement per
/// table (UNNEST of arrays), the journal head locked first.
async fn write(
    conn: &mut PgConnection,
    sh: &Shapes,
    b: &Batch<'_>,
    first_seq: i64,
    now: i64,
    filler: &Filler,
) -> Result<()> {
    let (creates, withdraws, erases, journal) = (&b.creates, &b.withdraws, &b.erases, &b.journal);
    let (wrapped, fields, evidence) = (&filler.wrapped[..], &filler.fields[..], &filler.evidence[..]);
    // The head first, as Ward does: this transaction is the only writer from here on.
    sqlx::query("SELECT seq, hash FROM journal_head WHERE id = 1 FOR UPDATE")
        .fetch_optional(&mut *conn)
        .await?;
    if !creates.is_empty() {
        let n = creates.len();
        let id: Vec<&[u8]> = creates.iter().map(|i| &i[..]).collect();
        sqlx::query(
            "INSERT INTO subjects (id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields) \
             SELECT id, 'active', 1, created_at, created_at, NULL, kek_id, wrapped_key, fields \
             FROM UNNEST($1::bytea[], $2::int8[], $3::text[], $4::bytea[], $5::bytea[]) \
             AS t (id, created_at, kek_id, wrapped_key, fields)",
        )
        .bind(&id)
        .bind(vec![now; n])
        .bind(vec![sh.kek_id.as_str(); n])
        .bind(vec![wrapped; n])
        .bind(vec![fields; n])
        .execute(&mut *conn)
        .await?;
        let per = sh.index_fields.len();
        if per > 0 {
            let ids: Vec<&[u8]> = (0..n * per).map(|i| &creates[i / per][..]).collect();
            let names: Vec<&str> = (0..n * per).map(|i| sh.index_fields[i % per].as_str()).collect();
            let hashes: Vec<i64> = (0..n * per)
                .map(|i| (mix(i as u64 + now as u64) & 0xFF_FFFF) as i64)
                .collect();
            sqlx::query(
                "INSERT INTO subject_index (subject_id, field, hash) \
                 SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::int8[]) \
                 ON CONFLICT (subject_id, field) DO UPDATE SET hash = EXCLUDED.hash",
            )
            .bind(&ids)
            .bind(&names)
            .bind(&hashes)
            .execute(&mut *conn)
            .await?;
        }
        let per = sh.create_consents.len();
        if per > 0 {
            let m = n * per;
            let ids: Vec<&[u8]> = (0..m).map(|i| &creates[i / per][..]).collect();
            let c = |i: usize| &sh.create_consents[i % per];
            let purpose: Vec<&str> = (0..m).map(|i| c(i).purpose.as_str()).collect();
            let kind: Vec<&str> = (0..m).map(|i| c(i).kind.as_str()).collect();
            let version: Vec<&str> = (0..m).map(|i| c(i).policy_version.as_str()).collect();
            let ev: Vec<Option<&[u8]>> = (0..m).map(|i| evidence[i % per].as_deref()).collect();
            sqlx::query(
                "INSERT INTO consent_events (subject_id, purpose, kind, at, policy_version, evidence) \
                 SELECT subject_id, purpose, kind, at, policy_version, evidence \
                 FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::bytea[]) \
                 WITH ORDINALITY AS t (subject_id, purpose, kind, at, policy_version, evidence, n) ORDER BY n",
            )
            .bind(&ids)
            .bind(&purpose)
            .bind(&kind)
            .bind(vec![now; m])
            .bind(&version)
            .bind(&ev)
            .execute(&mut *conn)
            .await?;
        }
    }
    if let (false, Some(c)) = (withdraws.is_empty(), sh.withdraw_consent.as_ref()) {
        let m = withdraws.len();
        let ids: Vec<&[u8]> = withdraws.iter().map(|i| &i[..]).collect();
        sqlx::query(
            "INSERT INTO consent_events (subject_id, purpose, kind, at, policy_version, evidence) \
             SELECT subject_id, purpose, kind, at, policy_version, NULL \
             FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::int8[], $5::text[]) \
             WITH ORDINALITY AS t (subject_id, purpose, kind, at, policy_version, n) ORDER BY n",
        )
        .bind(&ids)
        .bind(vec![c.purpose.as_str(); m])
        .bind(vec![c.kind.as_str(); m])
        .bind(vec![now; m])
        .bind(vec![c.policy_version.as_str(); m])
        .execute(&mut *conn)
        .await?;
    }
    for id in erases {
        sqlx::query(
            "UPDATE subjects SET state = 'erased', erased_at = $1, updated_at = $1, \
             kek_id = NULL, wrapped_key = NULL, fields = NULL WHERE id = $2",
        )
        .bind(now)
        .bind(&id[..])
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM subject_index WHERE subject_id = $1")
            .bind(&id[..])
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE consent_events SET evidence = NULL WHERE subject_id = $1 AND evidence IS NOT NULL")
            .bind(&id[..])
            .execute(&mut *conn)
            .await?;
    }
    if let (false, Some(a)) = (b.destroys.is_empty(), sh.destroy_act.as_ref()) {
        for id in &b.destroys {
            sqlx::query("UPDATE subjects SET revision = revision + 1, updated_at = $1, fields = $2 WHERE id = $3")
                .bind(now)
                .bind(&filler.fields_after[..])
                .bind(&id[..])
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO destruction_acts (id, subject_id, cause, at, operator, operator_address, processor, \
                 destroyed_by, position, categories, fields, system, method, reason, withheld) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(RawWriter::act_id(id))
            .bind(&id[..])
            .bind(&a.cause)
            .bind(now)
            .bind(&a.operator)
            .bind(&a.operator_address)
            .bind(&a.processor)
            .bind(&a.destroyed_by)
            .bind(&a.position)
            .bind(&a.categories)
            .bind(&a.fields)
            .bind(&a.system)
            .bind(&a.method)
            .bind(&a.reason)
            .bind(&a.withheld)
            .execute(&mut *conn)
            .await?;
        }
    }
    if !journal.is_empty() {
        let m = journal.len();
        let hashes: Vec<[u8; 32]> = (0..=m as i64).map(|k| RawWriter::hash(first_seq - 1 + k)).collect();
        let seq: Vec<i64> = (0..m as i64).map(|k| first_seq + k).collect();
        let actor: Vec<&str> = journal.iter().map(|(_, j)| j.actor.as_str()).collect();
        let action: Vec<&str> = journal.iter().map(|(_, j)| j.action.as_str()).collect();
        let subject: Vec<Option<&[u8]>> = journal.iter().map(|(id, _)| Some(&id[..])).collect();
        let purpose: Vec<Option<&str>> = journal.iter().map(|(_, j)| j.purpose.as_deref()).collect();
        let fields_col: Vec<&str> = journal.iter().map(|(_, j)| j.fields.as_str()).collect();
        let detail: Vec<Option<&str>> = journal.iter().map(|(_, j)| j.detail.as_deref()).collect();
        let prev: Vec<&[u8]> = hashes[..m].iter().map(|h| &h[..]).collect();
        let hash: Vec<&[u8]> = hashes[1..].iter().map(|h| &h[..]).collect();
        sqlx::query(
            "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
             SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::text[], \
             $8::text[], $9::bytea[], $10::bytea[])",
        )
        .bind(&seq)
        .bind(vec![now; m])
        .bind(&actor)
        .bind(&action)
        .bind(&subject)
        .bind(&purpose)
        .bind(&fields_col)
        .bind(&detail)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
