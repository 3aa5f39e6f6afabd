//! The SQLite side of the baselines: rusqlite, Ward's own connection settings
//! (`ward_store_sqlite::open_writer`, `open_reader`) and its writer thread.
//!
//! Every row is one execution of a cached prepared single-row statement inside one
//! `BEGIN IMMEDIATE` transaction, as Ward's backend writes. Reads (measuring the shapes,
//! scanning the journal) run on tokio's blocking pool, one hand-off per query or page.

use super::shapes::{consent_shape, ActShape, ConsentShape, JournalShape, Shapes, SubjectSizes};
use super::writer::{Batch, Filler, RawWriter};
use super::RawOp;
use crate::data::mix;
use anyhow::{Context, Result};
use rusqlite::{params, Connection, TransactionBehavior};
use std::path::Path;

/// Opens a SQLite file for writing exactly as Ward's writer is opened (its settings and page
/// cache).
pub(super) fn open_writer(path: &Path) -> Result<Connection> {
    ward_store_sqlite::open_writer(path).with_context(|| format!("opening {}", path.display()))
}

/// Opens a SQLite file read-only, as Ward's readers are opened.
pub(super) fn open_reader(path: &Path) -> Result<Connection> {
    ward_store_sqlite::open_reader(path).with_context(|| format!("opening {}", path.display()))
}

/// Runs `f` on the SQLite connection on tokio's blocking pool: the connection is moved there
/// and back, one hand-off per call.
async fn blocking<T, F>(slot: &mut Option<Connection>, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
{
    let conn = slot
        .take()
        .context("the SQLite connection was lost to an earlier failure")?;
    let (conn, out) = tokio::task::spawn_blocking(move || {
        let out = f(&conn);
        (conn, out)
    })
    .await
    .context("a SQLite read failed unexpectedly")?;
    *slot = Some(conn);
    out
}

/// The journal rows Ward wrote for `subject`, in order.
pub(super) async fn journal_rows(c: &mut Option<Connection>, subject: &[u8]) -> Result<Vec<JournalShape>> {
    let subject = subject.to_vec();
    blocking(c, move |c| {
        let mut stmt = c.prepare_cached(
            "SELECT actor, action, purpose, fields, detail FROM journal WHERE subject = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![&subject[..]], |r| {
            Ok(JournalShape {
                actor: r.get(0)?,
                action: r.get(1)?,
                purpose: r.get(2)?,
                fields: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .context("reading journal rows")
    })
    .await
}

/// The consent events Ward wrote for `subject`, in order.
pub(super) async fn consent_rows(c: &mut Option<Connection>, subject: &[u8]) -> Result<Vec<ConsentShape>> {
    let subject = subject.to_vec();
    blocking(c, move |c| {
        let mut stmt = c.prepare_cached(
            "SELECT purpose, kind, policy_version, length(evidence) FROM consent_events \
             WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) ORDER BY id",
        )?;
        let rows = stmt.query_map(params![&subject[..]], |r| {
            Ok(consent_shape(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .context("reading consent events")
    })
    .await
}

/// The sizes of `subject`'s row and the names of its index entries.
pub(super) async fn subject_sizes(c: &mut Option<Connection>, subject: &[u8]) -> Result<SubjectSizes> {
    let subject = subject.to_vec();
    blocking(c, move |c| {
        let (kek, wrapped): (String, i64) = c
            .prepare_cached("SELECT kek_id, length(wrapped_key) FROM subjects WHERE id = ?1")?
            .query_row(params![&subject[..]], |r| Ok((r.get(0)?, r.get(1)?)))
            .context("reading the subject's key")?;
        let avg: f64 = c
            .prepare_cached("SELECT avg(length(fields)) FROM subjects WHERE state = 'active'")?
            .query_row([], |r| r.get(0))
            .context("measuring the sealed fields")?;
        let mut stmt = c.prepare_cached(
            "SELECT field FROM subject_index WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) \
             ORDER BY field",
        )?;
        let idx = stmt
            .query_map(params![&subject[..]], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .context("reading the subject's index entries")?;
        Ok(SubjectSizes::new(kek, wrapped, avg, idx))
    })
    .await
}

/// The destruction act Ward wrote for `subject`, if any.
pub(super) async fn act_row(c: &mut Option<Connection>, subject: &[u8]) -> Result<Option<ActShape>> {
    let subject = subject.to_vec();
    blocking(c, move |c| {
        let mut stmt = c.prepare_cached(&format!("{ACT_SELECT} WHERE subject_id = ?1 LIMIT 1"))?;
        let mut rows = stmt.query_map(params![&subject[..]], |r| {
            Ok(ActShape {
                cause: r.get(0)?,
                operator: r.get(1)?,
                operator_address: r.get(2)?,
                processor: r.get(3)?,
                destroyed_by: r.get(4)?,
                position: r.get(5)?,
                categories: r.get(6)?,
                fields: r.get(7)?,
                system: r.get(8)?,
                method: r.get(9)?,
                reason: r.get(10)?,
                withheld: r.get(11)?,
            })
        })?;
        rows.next().transpose().context("reading the act")
    })
    .await
}

/// The columns of an act the baseline copies.
pub(super) const ACT_SELECT: &str = "SELECT cause, operator, operator_address, processor, destroyed_by, position, \
     categories, fields, system, method, reason, withheld FROM destruction_acts";

/// How many acts there are.
pub(super) async fn count_acts(c: &mut Option<Connection>) -> Result<u64> {
    blocking(c, |c| {
        let n: i64 = c.query_row("SELECT count(*) FROM destruction_acts", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    })
    .await
}

/// The journal's head position.
pub(super) fn journal_head(path: &Path) -> Result<i64> {
    let c = open_reader(path)?;
    Ok(c.query_row("SELECT seq FROM journal_head WHERE id = 1", [], |r| r.get::<_, i64>(0))?)
}

/// One range of the SQLite journal, each column read in place (the sum of their sizes keeps
/// the reads from being optimised away).
pub(super) fn scan_range(c: &Connection, after: i64, upto: i64) -> Result<(u64, usize)> {
    let mut stmt = c.prepare_cached(
        "SELECT seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash \
         FROM journal WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![after, upto])?;
    let (mut n, mut bytes) = (0u64, 0usize);
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let at: i64 = r.get(1)?;
        let mut len = usize::from(seq & 1 == 1) + usize::from(at & 1 == 1);
        for i in [2, 3, 6] {
            len += r.get_ref(i)?.as_str()?.len();
        }
        for i in [5, 7] {
            len += r.get_ref(i)?.as_str_or_null()?.map_or(0, str::len);
        }
        for i in [4, 8, 9] {
            len += r.get_ref(i)?.as_blob_or_null()?.map_or(0, <[u8]>::len);
        }
        n += 1;
        bytes += len;
    }
    Ok((n, bytes))
}

/// One batch in ONE `BEGIN IMMEDIATE` transaction, on the writer thread. On any error the
/// transaction is dropped, which rolls it back, so the connection is clean for the next batch.
pub(super) fn batch(
    conn: &mut Connection,
    sh: &Shapes,
    filler: &Filler,
    ops: &[RawOp],
    first_seq: i64,
    now: i64,
    head_seq: i64,
) -> Result<()> {
    let b = Batch::of(ops, sh);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .context("BEGIN IMMEDIATE")?;
    write(&tx, sh, &b, first_seq, now, filler)?;
    let head = RawWriter::hash(head_seq);
    tx.prepare_cached("UPDATE journal_head SET seq = ?1, hash = ?2 WHERE id = 1")?
        .execute(params![head_seq, &head[..]])
        .context("updating the journal head")?;
    tx.commit().context("committing the batch")?;
    Ok(())
}

/// The consent event insert, for both the events of a registration and a withdrawal.
const CONSENT_INSERT: &str = "INSERT INTO consent_events (subject_n, purpose, kind, at, policy_version, evidence) \
     VALUES ((SELECT n FROM subjects WHERE id = ?1), ?2, ?3, ?4, ?5, ?6)";

/// The batch's rows, as Ward's backend writes them: per table ONE cached prepared single-row
/// statement, executed once per row.
fn write(conn: &Connection, sh: &Shapes, b: &Batch<'_>, first_seq: i64, now: i64, filler: &Filler) -> Result<()> {
    if !b.creates.is_empty() {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO subjects (id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields) \
             VALUES (?1, 'active', 1, ?2, ?2, NULL, ?3, ?4, ?5)",
        )?;
        for id in &b.creates {
            stmt.execute(params![&id[..], now, sh.kek_id, filler.wrapped, filler.fields])
                .context("inserting a subject")?;
        }
        let per = sh.index_fields.len();
        if per > 0 {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO subject_index (subject_n, field, hash) \
                 VALUES ((SELECT n FROM subjects WHERE id = ?1), ?2, ?3)",
            )?;
            for i in 0..b.creates.len() * per {
                let id = b.creates[i / per];
                let lo = u64::from_le_bytes(id[..8].try_into().unwrap_or_default());
                let hash = (mix(lo.wrapping_add(i as u64)) & 0xFF_FFFF) as i64;
                stmt.execute(params![&id[..], sh.index_fields[i % per], hash])
                    .context("inserting an index entry")?;
            }
        }
        let per = sh.create_consents.len();
        if per > 0 {
            let mut stmt = conn.prepare_cached(CONSENT_INSERT)?;
            for i in 0..b.creates.len() * per {
                let c = &sh.create_consents[i % per];
                stmt.execute(params![
                    &b.creates[i / per][..],
                    c.purpose,
                    c.kind,
                    now,
                    c.policy_version,
                    filler.evidence[i % per].as_deref(),
                ])
                .context("inserting a consent event")?;
            }
        }
    }
    if let (false, Some(c)) = (b.withdraws.is_empty(), sh.withdraw_consent.as_ref()) {
        let mut stmt = conn.prepare_cached(CONSENT_INSERT)?;
        for id in &b.withdraws {
            stmt.execute(params![
                &id[..],
                c.purpose,
                c.kind,
                now,
                c.policy_version,
                None::<&[u8]>
            ])
            .context("inserting a withdrawal")?;
        }
    }
    for id in &b.erases {
        conn.prepare_cached(
            "UPDATE subjects SET state = 'erased', erased_at = ?1, updated_at = ?1, \
             kek_id = NULL, wrapped_key = NULL, fields = NULL WHERE id = ?2",
        )?
        .execute(params![now, &id[..]])
        .context("erasing a subject")?;
        conn.prepare_cached("DELETE FROM subject_index WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1)")?
            .execute(params![&id[..]])
            .context("deleting an erased subject's index entries")?;
        conn.prepare_cached(
            "UPDATE consent_events SET evidence = NULL \
             WHERE subject_n = (SELECT n FROM subjects WHERE id = ?1) AND evidence IS NOT NULL",
        )?
        .execute(params![&id[..]])
        .context("erasing consent evidence")?;
    }
    if let (false, Some(a)) = (b.destroys.is_empty(), sh.destroy_act.as_ref()) {
        for id in &b.destroys {
            conn.prepare_cached(
                "UPDATE subjects SET revision = revision + 1, updated_at = ?1, fields = ?2 WHERE id = ?3",
            )?
            .execute(params![now, filler.fields_after, &id[..]])
            .context("destroying a subject's fields")?;
            conn.prepare_cached(
                "INSERT INTO destruction_acts (id, subject_id, cause, at, operator, operator_address, processor, \
                 destroyed_by, position, categories, fields, system, method, reason, withheld) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                RawWriter::act_id(id),
                &id[..],
                a.cause,
                now,
                a.operator,
                a.operator_address,
                a.processor,
                a.destroyed_by,
                a.position,
                a.categories,
                a.fields,
                a.system,
                a.method,
                a.reason,
                a.withheld,
            ])
            .context("inserting an act")?;
        }
    }
    if !b.journal.is_empty() {
        let hashes: Vec<[u8; 32]> = (0..=b.journal.len() as i64)
            .map(|k| RawWriter::hash(first_seq - 1 + k))
            .collect();
        let mut stmt = conn.prepare_cached(
            "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for (i, (id, j)) in b.journal.iter().enumerate() {
            stmt.execute(params![
                first_seq + i as i64,
                now,
                j.actor,
                j.action,
                &id[..],
                j.purpose,
                j.fields,
                j.detail,
                &hashes[i][..],
                &hashes[i + 1][..],
            ])
            .context("inserting a journal row")?;
        }
    }
    Ok(())
}
