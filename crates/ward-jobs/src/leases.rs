//! A whole store seen as its leases: `Arc<dyn Store>` to the `Arc<dyn LeaseStore>` a
//! [`crate::Runner`] takes (without relying on trait upcasting, newer than Ward's MSRV).

use async_trait::async_trait;
use std::sync::Arc;
use time::OffsetDateTime;
use ward_store::{Lease, LeaseGrant, LeaseStore, Store, StoreResult};

/// The leases of a [`Store`].
#[derive(Clone)]
pub struct StoreLeases(pub Arc<dyn Store>);

impl StoreLeases {
    /// `store`'s leases, as a runner takes them.
    pub fn of(store: Arc<dyn Store>) -> Arc<dyn LeaseStore> {
        Arc::new(Self(store))
    }
}

#[async_trait]
impl LeaseStore for StoreLeases {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<LeaseGrant> {
        self.0.acquire_lease(name, holder, now, until).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<bool> {
        self.0.release_lease(name, holder).await
    }

    async fn find_lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        self.0.find_lease(name).await
    }
}
