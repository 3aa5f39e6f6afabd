//! Blocks on subjects' data (152-FZ Art. 21) and their reads. Writes go through `WriteStore`
//! with [`BlockChange`](crate::BlockChange).

use crate::StoreResult;
use async_trait::async_trait;
use time::OffsetDateTime;
use ward_core::{BlockId, SubjectId};

/// A block as stored: names and an enum only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRecord {
    pub id: BlockId,
    pub subject: SubjectId,
    /// The categories blocked, sorted; empty: the whole subject.
    pub categories: Vec<String>,
    /// A `BlockReason` name.
    pub reason: String,
    pub at: OffsetDateTime,
    /// When it was lifted; `None`: in force.
    pub lifted_at: Option<OffsetDateTime>,
    /// The subject asked for erasure and a legal obligation kept these categories: once no
    /// obligation holds them, the destruction job erases the subject.
    pub erase_after: bool,
}

#[async_trait]
pub trait BlockStore: Send + Sync {
    /// The subject's blocks, lifted ones too, oldest first.
    async fn find_blocks(&self, subject: SubjectId) -> StoreResult<Vec<BlockRecord>>;
}
