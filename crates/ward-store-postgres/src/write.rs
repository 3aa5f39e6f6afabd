//! The write path: one batch in one transaction that first locks the journal head. The batch
//! is planned by [`ward_store::write`]; each aggregate's rows are read and written by its own
//! module, through the dispatch generated from [`ward_store::for_each_aggregate!`].

use crate::journal::{append_drafts, lock_head};
use crate::rows::{unavailable, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgPool};
use ward_store::write::{self, Inserts, Snapshot, Step, Touched};
use ward_store::{OpOutcome, StoreError, StoreResult, WriteOp, WriteStore};

/// Generates the dispatch to each aggregate's module (`crate::<aggregate>`), which must have
/// `snapshot`, `insert` and `apply`.
macro_rules! dispatch {
    ($($name:ident: $Variant:ident($Change:ident)),* $(,)?) => {
        /// Reads (and locks) the rows the batch touches, aggregate by aggregate.
        async fn snapshot(conn: &mut PgConnection, touched: &Touched) -> Result<Snapshot> {
            let mut snap = Snapshot::default();
            $(crate::$name::snapshot(&mut *conn, &touched.$name, &mut snap.$name).await?;)*
            Ok(snap)
        }

        /// Inserts the rows of each aggregate, in the order of the aggregates.
        async fn insert(conn: &mut PgConnection, ins: &Inserts<'_>) -> Result<()> {
            $(crate::$name::insert(&mut *conn, &ins.$name).await?;)*
            Ok(())
        }

        async fn apply_step(conn: &mut PgConnection, step: &Step<'_>) -> Result<()> {
            match step {
                Step::Insert(ins) => insert(conn, ins).await,
                $(Step::$Variant(s) => crate::$name::apply(conn, s).await,)*
            }
        }
    };
}

ward_store::for_each_aggregate!(dispatch);

#[async_trait]
impl WriteStore for PgStore {
    async fn check_writable(&self) -> StoreResult<()> {
        let (standby, read_only): (bool, String) =
            sqlx::query_as("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')")
                .fetch_one(&self.pool)
                .await
                .map_err(crate::rows::unavailable)?;
        if standby || read_only == "on" {
            return Err(StoreError::Unavailable(
                "the PostgreSQL server takes no writes (a standby, or transactions are read-only)".into(),
            ));
        }
        Ok(())
    }

    async fn write(&self, ops: Vec<WriteOp>) -> StoreResult<Vec<OpOutcome>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let pool = self.pool.clone();
        let lock = self.write_lock.clone();
        tokio::spawn(async move {
            let _serialized = lock.lock().await;
            write(pool, ops).await
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("write task failed: {e}")))?
    }
}

async fn write(pool: PgPool, ops: Vec<WriteOp>) -> StoreResult<Vec<OpOutcome>> {
    let mut tx = pool.begin().await.map_err(unavailable)?;
    match apply(&mut tx, ops).await {
        Ok(outcomes) => {
            tx.commit().await.map_err(unavailable)?;
            Ok(outcomes)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

/// Everything a write does inside its transaction. Returns the outcomes.
async fn apply(conn: &mut PgConnection, ops: Vec<WriteOp>) -> Result<Vec<OpOutcome>> {
    // First the head: from here on, this transaction is the only writer.
    let head = lock_head(conn).await?;
    let mut snap = snapshot(conn, &write::touched(&ops)).await?;
    let outcomes = {
        let (outcomes, steps) = write::plan(&ops, &mut snap);
        for step in &steps {
            apply_step(conn, step).await?;
        }
        outcomes
    };
    let drafts = ops
        .into_iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == OpOutcome::Done)
        .flat_map(|(op, _)| op.journal);
    append_drafts(conn, head, drafts).await?;
    Ok(outcomes)
}
