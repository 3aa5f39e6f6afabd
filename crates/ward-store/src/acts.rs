//! Destruction acts (RKN Order No. 179 of 28.10.2022): the record every destruction writes in
//! its own transaction, and their reads. Writes go through `WriteStore` with
//! [`ActChange`](crate::ActChange).

use crate::StoreResult;
use async_trait::async_trait;
use time::OffsetDateTime;
use ward_core::{ActId, SubjectId};

/// A destruction act as stored. It holds no personal data: the subject is named by its
/// pseudonymous id ("other information about the individual", Order 179 p. 3 c), the
/// destroyer by its key id or as the job, and everything else by names from the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestructionActRecord {
    pub id: ActId,
    /// c) the subject whose data was destroyed.
    pub subject: SubjectId,
    /// What caused this destruction, unique per subject: a second act for the same cause is
    /// refused (`AlreadyExists`), so two processes executing one deadline write one act.
    pub cause: String,
    /// j) when the data was destroyed.
    pub at: OffsetDateTime,
    /// a) the operator's name and address, from the policy in force.
    pub operator: String,
    pub operator_address: Option<String>,
    /// b) the processor that destroyed it on the operator's instruction, if any.
    pub processor: Option<String>,
    /// d) who destroyed it (`key:<id>`, or `Ward destruction job`) and in what position (the
    /// key's role, or `job`).
    pub destroyed_by: String,
    pub position: String,
    /// e) the categories destroyed, sorted; and the field names, sorted.
    pub categories: Vec<String>,
    pub fields: Vec<String>,
    /// g) the information system.
    pub system: String,
    /// h) how (`crypto_shredding`, `field_deletion`).
    pub method: String,
    /// i) why (a `DestructionReason` name).
    pub reason: String,
    /// Categories kept back, each as `category:purpose` (the obligation that keeps it).
    pub withheld: Vec<String>,
}

/// Which acts to list: all of a subject's, or within a time range, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActFilter {
    pub subject: Option<SubjectId>,
    /// Acts at or after.
    pub from: Option<OffsetDateTime>,
    /// Acts before.
    pub to: Option<OffsetDateTime>,
    pub limit: u32,
}

#[async_trait]
pub trait ActStore: Send + Sync {
    async fn find_act(&self, id: ActId) -> StoreResult<Option<DestructionActRecord>>;
    /// The acts matching `filter`, newest first, at most `filter.limit`.
    async fn find_acts(&self, filter: &ActFilter) -> StoreResult<Vec<DestructionActRecord>>;
}
