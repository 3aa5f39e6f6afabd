//! Reads of subjects' life-cycle events (policy notices and acceptances, death). Writes go
//! through `WriteStore` with `SubjectEventChange::Add`.

use crate::{PolicyAcknowledgements, StoreResult, SubjectEventRecord};
use async_trait::async_trait;
use ward_core::SubjectId;

#[async_trait]
pub trait SubjectEventStore: Send + Sync {
    /// The subject's life-cycle events, oldest first (also for erased subjects, whose
    /// evidence is gone).
    async fn find_subject_events(&self, id: SubjectId) -> StoreResult<Vec<SubjectEventRecord>>;

    /// How many distinct subjects were told of the policy version with this hash, and how
    /// many accepted it.
    async fn count_policy_acknowledgements(&self, policy_version: &str) -> StoreResult<PolicyAcknowledgements>;
}
