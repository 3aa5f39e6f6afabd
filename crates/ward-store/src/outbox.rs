//! Reads of the outbox, and the claim a delivery process takes on due messages. Queueing,
//! marking sent, failed or dead and requeueing go through `WriteStore` with `OutboxChange`
//! (journaled); erasing a subject deletes its messages in the same transaction.

use crate::{MessageRecord, StoreResult};
use async_trait::async_trait;
use time::OffsetDateTime;
use ward_core::outbox::MessageState;
use ward_core::MessageId;

#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` due messages for `worker` until `until`, oldest due first, and
    /// returns them as claimed (`sending`, attempts counted). Due: `queued` with
    /// `next_attempt_at <= now`, or `sending` with a claim expired at `now` (its process
    /// died). Of several processes claiming at once, each message goes to one of them.
    ///
    /// Like a job lease, a claim is coordination state, not journaled (no personal data).
    async fn claim_due_messages(
        &self,
        worker: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>>;

    async fn find_message(&self, id: MessageId) -> StoreResult<Option<MessageRecord>>;

    /// Messages in `state` (all when `None`), oldest first, at most `limit`.
    async fn find_messages(&self, state: Option<MessageState>, limit: u32) -> StoreResult<Vec<MessageRecord>>;
}
