//! Idempotency keys: what a creating request with an `Idempotency-Key` did, so that the same
//! request again is answered from the record instead of being done twice.
//!
//! A record is claimed in the write transaction of the change it guards (a
//! [`Claimed`](crate::Claimed) change: the claim and the change commit together or not at all),
//! and completed afterwards with the answer, sealed by the vault. The key is stored only as a
//! keyed hash of the caller and the key; the request only as a hash of its method, path and
//! body. Writes go through `WriteStore` (`Change::Claimed`, `IdempotencyChange`).

use crate::StoreResult;
use async_trait::async_trait;
use time::OffsetDateTime;
use ward_crypto::Hash32;

/// What a change claims: the key, the request it is for, and how long the claim holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// The keyed hash of the caller and the `Idempotency-Key`.
    pub key: Hash32,
    /// The hash of the request's method, path and body.
    pub fingerprint: Hash32,
    pub created_at: OffsetDateTime,
    /// After this the record no longer counts, and the prune job removes it.
    pub expires_at: OffsetDateTime,
}

/// A request's answer as the vault sealed it: its status, and its body under a data key of
/// its own, wrapped under a KEK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedAnswer {
    pub status: u16,
    pub kek_id: String,
    pub wrapped_key: Vec<u8>,
    pub body: Vec<u8>,
}

/// A stored idempotency record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub claim: IdempotencyClaim,
    /// `None` while the request that claimed it has not recorded its answer.
    pub answer: Option<SealedAnswer>,
}

impl IdempotencyRecord {
    /// Whether the record still counts at `now`.
    pub fn live(&self, now: OffsetDateTime) -> bool {
        self.claim.expires_at > now
    }
}

/// Reads of idempotency records.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// The record of `key` (expired or not).
    async fn find_idempotency(&self, key: &Hash32) -> StoreResult<Option<IdempotencyRecord>>;
}
