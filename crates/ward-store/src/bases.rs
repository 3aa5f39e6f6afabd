//! Reads of subjects' basis events (legal bases other than consent). Writes go through
//! `WriteStore` with `BasisChange::Add`, or with the subject's creation or rectification.

use crate::{BasisEventRecord, StoreResult};
use async_trait::async_trait;
use ward_core::SubjectId;

#[async_trait]
pub trait BasisStore: Send + Sync {
    /// The subject's basis events, oldest first (also for erased subjects, whose evidence is
    /// gone).
    async fn find_basis_events(&self, id: SubjectId) -> StoreResult<Vec<BasisEventRecord>>;
}
