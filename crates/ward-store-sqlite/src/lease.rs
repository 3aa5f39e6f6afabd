//! Leases on background jobs (`job_leases`, migration `0008_job_leases`). Not journaled: see
//! `ward_store::LeaseStore`.
//!
//! Taking and releasing a lease are writes, so they run on the writer thread, each one
//! statement in its own (implicit) transaction; SQLite's file lock makes the statement atomic
//! against other processes' writers on the same file too.

use crate::rows::{col, exec, query_opt, unavailable, Result};
use crate::SqliteStore;
use async_trait::async_trait;
use rusqlite::{params, Row, TransactionBehavior};
use time::OffsetDateTime;
use ward_core::clock::{from_micros, to_micros};
use ward_store::{Lease, LeaseGrant, LeaseStore, StoreResult};

const T: &str = "job_leases";

fn lease(row: &Row<'_>) -> Result<Lease> {
    Ok(Lease {
        name: col(row, T, "name")?,
        holder: col(row, T, "holder")?,
        acquired_at: from_micros(col(row, T, "acquired_at")?),
        expires_at: from_micros(col(row, T, "expires_at")?),
    })
}

const FIND: &str = "SELECT name, holder, acquired_at, expires_at FROM job_leases WHERE name = ?1";

#[async_trait]
impl LeaseStore for SqliteStore {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<LeaseGrant> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        let (now, until) = (to_micros(now), to_micros(until));
        self.writer()
            .run(move |c| {
                // One statement: inserts a new lease, or takes over an expired one, or renews
                // the holder's own; a lease held by another, unexpired, is left as it is and
                // no row comes back. In an explicit transaction, so that a failed commit is an
                // error rather than a lease reported taken.
                let tx = c
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(unavailable)?;
                let taken = query_opt(
                    &tx,
                    "INSERT INTO job_leases (name, holder, acquired_at, expires_at) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (name) DO UPDATE SET \
                         acquired_at = CASE WHEN job_leases.holder = excluded.holder \
                                            THEN job_leases.acquired_at ELSE excluded.acquired_at END, \
                         holder = excluded.holder, \
                         expires_at = excluded.expires_at \
                     WHERE job_leases.expires_at <= excluded.acquired_at OR job_leases.holder = excluded.holder \
                     RETURNING name, holder, acquired_at, expires_at",
                    params![name, holder, now, until],
                    lease,
                )?;
                let grant = match taken {
                    Some(l) => LeaseGrant::Acquired(l),
                    None => LeaseGrant::Held(query_opt(&tx, FIND, [&name], lease)?),
                };
                tx.commit().map_err(unavailable)?;
                Ok(grant)
            })
            .await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<bool> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.writer()
            .run(move |c| {
                exec(
                    c,
                    "DELETE FROM job_leases WHERE name = ?1 AND holder = ?2",
                    params![name, holder],
                )
                .map(|n| n > 0)
            })
            .await
    }

    async fn find_lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        self.readers().with(|c| query_opt(c, FIND, [name], lease))
    }
}
