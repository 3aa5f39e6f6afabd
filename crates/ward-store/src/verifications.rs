//! Identity verifications of data-subject requests and their reads. Writes go through
//! `WriteStore` with [`VerificationChange`](crate::VerificationChange). A verification's
//! one-time code is stored only as a keyed hash, its document sealed under the subject's key;
//! erasing the subject deletes both (the key that sealed the document is gone anyway).

use crate::StoreResult;
use async_trait::async_trait;
use time::OffsetDateTime;
use ward_core::verification::{DocumentType, VerificationMethod, VerificationState};
use ward_core::{RequestId, SubjectId, VerificationId};

/// A verification as stored: ids, enums, counters, instants, a keyed hash and a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRecord {
    pub id: VerificationId,
    /// The request it verifies (no foreign key: requests are their own aggregate).
    pub request: RequestId,
    pub subject: SubjectId,
    pub method: VerificationMethod,
    pub state: VerificationState,
    /// Counts the changes: 1 when created, one more with each update. The store applies an
    /// update only to the revision before it (optimistic concurrency).
    pub revision: u32,
    /// Wrong codes counted.
    pub attempts: u32,
    /// Codes sent after the first.
    pub resends: u32,
    /// The keyed hash of the code in force (method `code`).
    pub code_hash: Option<Vec<u8>>,
    pub code_expires_at: Option<OffsetDateTime>,
    /// The uploaded document's type, size and SHA-256 (hex), by its content.
    pub document_type: Option<DocumentType>,
    pub document_size: Option<u64>,
    pub document_sha256: Option<String>,
    /// The officer's reason (a `DecisionReason` name).
    pub reason: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[async_trait]
pub trait VerificationStore: Send + Sync {
    /// The verification, without its document.
    async fn find_verification(&self, id: VerificationId) -> StoreResult<Option<VerificationRecord>>;

    /// The sealed document of the verification, if one is stored.
    async fn find_verification_document(&self, id: VerificationId) -> StoreResult<Option<Vec<u8>>>;
}
