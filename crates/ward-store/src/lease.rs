//! Leases: which Ward process runs a background job right now.
//!
//! Several Ward processes may share one database (PostgreSQL). A job that must run in one of
//! them at a time (signing a journal checkpoint, later destruction deadlines and retention)
//! takes a lease on its name before it runs: the lease is the holder's until `expires_at`, and
//! the holder renews it each time it runs. A lease left by a process that died expires, and
//! then another process takes it over.
//!
//! **A stated exception to "every change goes through `WriteStore::write`".** Leases are
//! coordination state between processes, not personal data and not a fact about anyone: they
//! are written directly, outside the group committer, and are NOT journaled. Taking a lease
//! changes nothing that the journal vouches for; what a job then does (e.g. a checkpoint, an
//! erasure) goes through the vault and is journaled as always.
//!
//! Times come from the caller's clock (`ward_core::Clock`), never from the database's, so a
//! fake clock drives expiry in tests; processes sharing a database are assumed to have clocks
//! that agree to well within a lease's time to live.

use crate::StoreResult;
use async_trait::async_trait;
use time::OffsetDateTime;

/// A lease on a job, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The job's name (the lease's key).
    pub name: String,
    /// Who holds it: a process's holder id (see `ward_jobs::Holder`).
    pub holder: String,
    /// Since when this holder has held it without a break (a renewal keeps it).
    pub acquired_at: OffsetDateTime,
    /// The lease is free from this instant on (at `expires_at` itself, it is free).
    pub expires_at: OffsetDateTime,
}

impl Lease {
    /// Whether nobody holds the lease at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at <= now
    }
}

/// What [`LeaseStore::acquire_lease`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseGrant {
    /// The lease is the caller's until its `expires_at` (newly taken, taken over after it
    /// expired, or renewed).
    Acquired(Lease),
    /// Another holder has it and it has not expired: the caller must not run the job. `None`
    /// when it was released between the attempt and the look that names its holder.
    Held(Option<Lease>),
}

impl LeaseGrant {
    pub fn is_acquired(&self) -> bool {
        matches!(self, Self::Acquired(_))
    }
}

/// Leases on background jobs. Not journaled (see the module documentation).
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes, takes over or renews the lease on `name` for `holder` until `until`, atomically:
    /// it succeeds if and only if there is no lease on `name`, or it has expired at `now`
    /// (`expires_at <= now`), or `holder` already holds it. A renewal keeps `acquired_at`;
    /// a new holder's `acquired_at` is `now`.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<LeaseGrant>;

    /// Gives up `holder`'s lease on `name`, so that another process may take it at once.
    /// Returns whether `holder` held it (a lease of another holder is left alone).
    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<bool>;

    /// The lease on `name` as stored, expired or not; `None` if there is none.
    async fn find_lease(&self, name: &str) -> StoreResult<Option<Lease>>;
}
