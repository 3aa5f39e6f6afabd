//! The raw writer: Ward's rows, of the sizes Ward wrote, by plain SQL, one transaction per
//! call; each backend's statements are in its own file.

use super::shapes::{JournalShape, Shapes};
use super::{postgres, sqlite, Db, RawOp};
use crate::data::mix;
use anyhow::{bail, Result};
use sqlx::postgres::PgConnection;
use std::sync::Arc;
use ward_store_sqlite::Writer as SqliteWriter;

fn filler(len: usize, seed: u64) -> Vec<u8> {
    (0..len).map(|i| mix(seed + i as u64) as u8).collect()
}

/// The made-up bytes the rows carry, of the sizes Ward wrote.
pub(super) struct Filler {
    pub(super) wrapped: Vec<u8>,
    pub(super) fields: Vec<u8>,
    /// The sealed fields after the destruction job's.
    pub(super) fields_after: Vec<u8>,
    pub(super) evidence: Vec<Option<Vec<u8>>>,
}

/// Where the raw writer writes.
enum Sink {
    Sqlite(SqliteWriter),
    Pg(PgConnection),
}

/// The plain-SQL writer.
pub struct RawWriter {
    sink: Sink,
    shapes: Arc<Shapes>,
    filler: Arc<Filler>,
    seq: i64,
    micros: i64,
}

/// A batch's operations by kind, and its journal rows in order.
pub(super) struct Batch<'a> {
    pub(super) creates: Vec<&'a [u8; 16]>,
    pub(super) withdraws: Vec<&'a [u8; 16]>,
    pub(super) erases: Vec<&'a [u8; 16]>,
    pub(super) destroys: Vec<&'a [u8; 16]>,
    pub(super) journal: Vec<(&'a [u8; 16], &'a JournalShape)>,
}

impl<'a> Batch<'a> {
    pub(super) fn of(ops: &'a [RawOp], sh: &'a Shapes) -> Self {
        let mut b = Batch {
            creates: Vec::new(),
            withdraws: Vec::new(),
            erases: Vec::new(),
            destroys: Vec::new(),
            journal: Vec::new(),
        };
        for op in ops {
            let (list, id) = match op {
                RawOp::Create(id) => (&mut b.creates, id),
                RawOp::Withdraw(id) => (&mut b.withdraws, id),
                RawOp::Erase(id) => (&mut b.erases, id),
                RawOp::Destroy(id) => (&mut b.destroys, id),
            };
            list.push(id);
            b.journal.extend(sh.journal_of(op).iter().map(|j| (id, j)));
        }
        b
    }
}

impl RawWriter {
    /// A writer on `db`; a SQLite connection moves to a writer thread of its own.
    pub fn new(db: Db, shapes: Shapes) -> Result<Self> {
        let sink = match db {
            Db::Sqlite(Some(c)) => Sink::Sqlite(SqliteWriter::spawn(c)?),
            Db::Sqlite(None) => bail!("the baseline's SQLite connection was lost to an earlier failure"),
            Db::Pg(c) => Sink::Pg(c),
        };
        let bytes = Filler {
            wrapped: filler(shapes.wrapped_len, 1),
            fields: filler(shapes.fields_len, 2),
            fields_after: filler(shapes.destroyed_fields_len, 4),
            evidence: shapes
                .create_consents
                .iter()
                .map(|c| c.evidence_len.map(|n| filler(n, 3)))
                .collect(),
        };
        let micros = time::OffsetDateTime::now_utc().unix_timestamp() * 1_000_000;
        Ok(Self {
            sink,
            shapes: Arc::new(shapes),
            filler: Arc::new(bytes),
            seq: 0,
            micros,
        })
    }

    /// A destruction act's id for subject `id`, a UUID as Ward writes them.
    pub(super) fn act_id(id: &[u8; 16]) -> String {
        let mut b = *id;
        b[0] ^= 0x5A;
        uuid::Uuid::from_bytes(b).to_string()
    }

    pub(super) fn hash(seq: i64) -> [u8; 32] {
        let mut h = [0u8; 32];
        for (k, chunk) in h.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(&mix((seq as u64) << 2 | k as u64).to_le_bytes());
        }
        h
    }

    /// Writes `ops` in ONE transaction.
    pub async fn write(&mut self, ops: &[RawOp]) -> Result<()> {
        let entries: usize = ops.iter().map(|op| self.shapes.journal_of(op).len()).sum();
        let first_seq = self.seq + 1;
        self.seq += entries as i64;
        self.micros += 1;
        let now = self.micros;
        let head_seq = self.seq;
        match &mut self.sink {
            Sink::Sqlite(w) => {
                // One hand-off per batch; the whole transaction runs on the writer thread.
                let (sh, filler, ops) = (self.shapes.clone(), self.filler.clone(), ops.to_vec());
                w.run(move |conn| sqlite::batch(conn, &sh, &filler, &ops, first_seq, now, head_seq))
                    .await?;
            }
            Sink::Pg(c) => {
                postgres::batch(c, &self.shapes, &self.filler, ops, first_seq, now, head_seq).await?;
            }
        }
        Ok(())
    }
}
