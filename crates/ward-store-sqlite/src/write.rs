//! The write path: one batch in one `BEGIN IMMEDIATE` transaction on the writer connection.
//! The batch is planned by [`ward_store::write`]; each aggregate's rows are read and written
//! by its own module, through the dispatch generated from
//! [`ward_store::for_each_aggregate!`].

use crate::journal::append_drafts;
use crate::rows::{unavailable, Result};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{Connection, TransactionBehavior};
use ward_store::write::{self, Inserts, Snapshot, Step, Touched};
use ward_store::{OpOutcome, StoreResult, WriteOp, WriteStore};

/// Generates the dispatch to each aggregate's module (`crate::<aggregate>`), which must have
/// `snapshot`, `insert` and `apply`.
macro_rules! dispatch {
    ($($name:ident: $Variant:ident($Change:ident)),* $(,)?) => {
        /// Reads the rows the batch touches, aggregate by aggregate.
        fn snapshot(conn: &Connection, touched: &Touched) -> Result<Snapshot> {
            let mut snap = Snapshot::default();
            $(crate::$name::snapshot(conn, &touched.$name, &mut snap.$name)?;)*
            Ok(snap)
        }

        /// Inserts the rows of each aggregate, in the order of the aggregates.
        fn insert(conn: &Connection, ins: &Inserts<'_>) -> Result<()> {
            $(crate::$name::insert(conn, &ins.$name)?;)*
            Ok(())
        }

        fn apply_step(conn: &Connection, step: &Step<'_>) -> Result<()> {
            match step {
                Step::Insert(ins) => insert(conn, ins),
                $(Step::$Variant(s) => crate::$name::apply(conn, s),)*
            }
        }
    };
}

ward_store::for_each_aggregate!(dispatch);

#[async_trait]
impl WriteStore for SqliteStore {
    async fn check_writable(&self) -> StoreResult<()> {
        self.writer().run(crate::conn::check_writable).await
    }

    async fn write(&self, ops: Vec<WriteOp>) -> StoreResult<Vec<OpOutcome>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let scrub = self.writer().scrub().clone();
        self.writer()
            .run(move |conn| {
                let (outcomes, destroyed) = write(conn, ops)?;
                // Committed: the WAL now holds the destroyed bytes' older page images.
                if destroyed {
                    scrub.after_destroying_commit();
                }
                Ok(outcomes)
            })
            .await
    }

    async fn scrub(&self) -> StoreResult<()> {
        self.writer().scrub_now(SHUTDOWN_SCRUB_WAIT).await
    }
}

/// How long [`WriteStore::scrub`] waits for readers to leave the WAL.
const SHUTDOWN_SCRUB_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// One batch in one `BEGIN IMMEDIATE` transaction; on any error it rolls back (dropping the
/// transaction), so the connection is clean for the next job. Returns the outcomes, and
/// whether the batch destroyed sealed data (see [`destroys`]).
fn write(conn: &mut Connection, ops: Vec<WriteOp>) -> Result<(Vec<OpOutcome>, bool)> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(unavailable)?;
    let done = apply(&tx, ops)?;
    tx.commit().map_err(unavailable)?;
    Ok(done)
}

/// Whether a step destroys a wrapped data key or sealed fields whose older copies the WAL may
/// hold: an erasure, and an update (which replaces the sealed fields). A re-wrap replaces a
/// wrapped key with the same data key under a new KEK: the old copy is left to the old KEK's
/// destruction, and rotation does not scrub.
fn destroys(step: &Step<'_>) -> bool {
    matches!(
        step,
        Step::Subject(write::subjects::Step::Erase { .. } | write::subjects::Step::Update { .. })
    )
}

/// Everything a write does inside its transaction. Returns the outcomes and whether a step
/// [`destroys`] data.
fn apply(conn: &Connection, ops: Vec<WriteOp>) -> Result<(Vec<OpOutcome>, bool)> {
    let mut snap = snapshot(conn, &write::touched(&ops))?;
    let (outcomes, destroyed) = {
        let (outcomes, steps) = write::plan(&ops, &mut snap);
        for step in &steps {
            apply_step(conn, step)?;
        }
        (outcomes, steps.iter().any(destroys))
    };
    let drafts = ops
        .into_iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == OpOutcome::Done)
        .flat_map(|(op, _)| op.journal);
    append_drafts(conn, drafts)?;
    Ok((outcomes, destroyed))
}
