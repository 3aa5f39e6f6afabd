//! Single-use downloads of an access report or a copy of a subject's data (issue 19) and their
//! reads. Writes go through `WriteStore` with [`DownloadChange`](crate::DownloadChange).
//!
//! The document is sealed under the subject's data key: erasing the subject deletes its
//! downloads in the erasure's transaction (and the key that sealed them is gone anyway). The
//! link's token is never stored: only its SHA-256 (`token_hash`), by which it is found.

use crate::StoreResult;
use async_trait::async_trait;
use time::OffsetDateTime;
use ward_core::{DownloadId, RequestId, SubjectId};

/// A download as stored: ids, names, instants and the sealed document.
#[derive(Clone, PartialEq, Eq)]
pub struct DownloadRecord {
    pub id: DownloadId,
    pub subject: SubjectId,
    /// The data-subject request it answers, if any (no foreign key).
    pub request: Option<RequestId>,
    /// SHA-256 of the link's token.
    pub token_hash: [u8; 32],
    /// `json`, `csv`, `html` or `report`.
    pub format: String,
    /// Sealed with the subject's data key; `None` once served (the served copy is not kept).
    pub document: Option<Vec<u8>>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// When the link was used; `None`: not yet.
    pub used_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for DownloadRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadRecord")
            .field("id", &self.id)
            .field("subject", &self.subject)
            .field("request", &self.request)
            .field("format", &self.format)
            .field("document", &self.document.as_ref().map(Vec::len))
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait DownloadStore: Send + Sync {
    /// The download whose token hashes to `token_hash`, if any.
    async fn find_download_by_token(&self, token_hash: [u8; 32]) -> StoreResult<Option<DownloadRecord>>;
    /// The subject's downloads, oldest first, without their documents (`document` is `None`).
    async fn find_downloads(&self, subject: SubjectId) -> StoreResult<Vec<DownloadRecord>>;
}
