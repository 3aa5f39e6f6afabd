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
        self.writer().run(move |conn| write(conn, ops)).await
    }
}

/// One batch in one `BEGIN IMMEDIATE` transaction; on any error it rolls back (dropping the
/// transaction), so the connection is clean for the next job.
fn write(conn: &mut Connection, ops: Vec<WriteOp>) -> Result<Vec<OpOutcome>> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(unavailable)?;
    let outcomes = apply(&tx, ops)?;
    tx.commit().map_err(unavailable)?;
    Ok(outcomes)
}

/// Everything a write does inside its transaction. Returns the outcomes.
fn apply(conn: &Connection, ops: Vec<WriteOp>) -> Result<Vec<OpOutcome>> {
    let mut snap = snapshot(conn, &write::touched(&ops))?;
    let outcomes = {
        let (outcomes, steps) = write::plan(&ops, &mut snap);
        for step in &steps {
            apply_step(conn, step)?;
        }
        outcomes
    };
    let drafts = ops
        .into_iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == OpOutcome::Done)
        .flat_map(|(op, _)| op.journal);
    append_drafts(conn, drafts)?;
    Ok(outcomes)
}
