//! Leases on background jobs (`job_leases`, migration `0008_job_leases`). Not journaled: see
//! `ward_store::LeaseStore`.
//!
//! Taking a lease is one atomic statement (`INSERT … ON CONFLICT DO UPDATE … WHERE expired OR
//! ours RETURNING`): PostgreSQL locks the conflicting row and checks the condition against its
//! latest version, so of several processes trying at once exactly one gets a free lease. It
//! does not take the journal head lock: leases are outside the journal.

use crate::rows::{col, unavailable, Result};
use crate::PgStore;
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;
use ward_core::clock::{from_micros, to_micros};
use ward_store::{Lease, LeaseGrant, LeaseStore, StoreResult};

const T: &str = "job_leases";

fn lease(row: &PgRow) -> Result<Lease> {
    Ok(Lease {
        name: col(row, T, "name")?,
        holder: col(row, T, "holder")?,
        acquired_at: from_micros(col(row, T, "acquired_at")?),
        expires_at: from_micros(col(row, T, "expires_at")?),
    })
}

#[async_trait]
impl LeaseStore for PgStore {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<LeaseGrant> {
        let taken = sqlx::query(
            "INSERT INTO job_leases AS l (name, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET \
                 acquired_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired_at ELSE EXCLUDED.acquired_at END, \
                 holder = EXCLUDED.holder, \
                 expires_at = EXCLUDED.expires_at \
             WHERE l.expires_at <= EXCLUDED.acquired_at OR l.holder = EXCLUDED.holder \
             RETURNING name, holder, acquired_at, expires_at",
        )
        .bind(name)
        .bind(holder)
        .bind(to_micros(now))
        .bind(to_micros(until))
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        match taken {
            Some(row) => Ok(LeaseGrant::Acquired(lease(&row)?)),
            None => Ok(LeaseGrant::Held(self.find_lease(name).await?)),
        }
    }

    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM job_leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn find_lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        let row = sqlx::query("SELECT name, holder, acquired_at, expires_at FROM job_leases WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(lease).transpose()
    }
}
