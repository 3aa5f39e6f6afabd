//! Ward's storage interface. Backends (SQLite, PostgreSQL) implement [`Store`]; the domain
//! and the vault never see SQL types, and no driver error crosses this boundary.
//!
//! Architecture Invariant: every change is written by [`WriteStore::write`] together with its
//! journal entries, in one database transaction. There is no other way to change data, so
//! there is no change without its entry and no entry without its change.
//!
//! Architecture Invariant: nothing below this crate sees plaintext personal data: field values,
//! consent evidence and data keys arrive sealed or wrapped.

mod acts;
mod bases;
mod binding;
mod blocks;
pub mod chain;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod decode;
mod downloads;
mod error;
mod idempotency;
mod lease;
mod listing;
mod model;
mod outbox;
mod requests;
mod subject_events;
mod verifications;
mod visitor;
pub mod write;

pub use acts::{ActFilter, ActStore, DestructionActRecord};
pub use bases::BasisStore;
pub use binding::{BoundKey, KeyBindingStore};
pub use blocks::{BlockRecord, BlockStore};
pub use downloads::{DownloadRecord, DownloadStore};
pub use error::StoreError;
pub use idempotency::{IdempotencyClaim, IdempotencyRecord, IdempotencyStore, SealedAnswer};
pub use lease::{Lease, LeaseGrant, LeaseStore};
pub use listing::{Bind, JournalFilter, ListingStore, SubjectFacts};
pub use model::*;
pub use outbox::OutboxStore;
pub use requests::{day, RequestCursor, RequestFilter, RequestRecord, RequestStore};
pub use subject_events::SubjectEventStore;
pub use verifications::{VerificationRecord, VerificationStore};
pub use visitor::{VisitorConsent, VisitorConsentRecord, VisitorStore};
pub use write::changes::*;

use async_trait::async_trait;
use ward_core::SubjectId;

pub type StoreResult<T> = Result<T, StoreError>;

/// Reads of subjects and their consent events.
#[async_trait]
pub trait SubjectStore: Send + Sync {
    /// The subject's record (also for erased subjects, whose key and fields are gone).
    async fn find_subject(&self, id: SubjectId) -> StoreResult<Option<SubjectRecord>>;

    /// The subject's consent events, oldest first.
    async fn find_consent_events(&self, id: SubjectId) -> StoreResult<Vec<ConsentEventRecord>>;

    /// The subject's record and its consent events together, from one snapshot (SQLite: one
    /// read transaction; PostgreSQL: one query). No events for a subject that does not exist.
    async fn find_subject_with_consents(
        &self,
        id: SubjectId,
    ) -> StoreResult<(Option<SubjectRecord>, Vec<ConsentEventRecord>)>;

    /// Subjects whose blind index for `field` equals `hash` (candidates: the index is lossy).
    async fn find_subjects_by_index(&self, field: &str, hash: i64) -> StoreResult<Vec<SubjectId>>;

    /// The candidates of [`find_subjects_by_index`](Self::find_subjects_by_index), in id
    /// order, each with its consent events, from one snapshot (SQLite: one read transaction;
    /// PostgreSQL: one query).
    async fn find_subjects_by_index_with_consents(
        &self,
        field: &str,
        hash: i64,
    ) -> StoreResult<Vec<(SubjectRecord, Vec<ConsentEventRecord>)>>;

    /// Wrapped data keys of live subjects with ids greater than `after`, in id order, for
    /// key rotation.
    async fn find_wrapped_keys(&self, after: Option<SubjectId>, limit: u32) -> StoreResult<Vec<WrappedKeyRecord>>;

    /// How many stored data keys are wrapped under each KEK id (ids with none are left out):
    /// before an old KEK is destroyed, nothing may still be wrapped under it.
    async fn count_wrapped_keys_by_kek(&self) -> StoreResult<std::collections::BTreeMap<String, u64>>;

    /// How many subjects there are, by state.
    async fn count_subjects(&self) -> StoreResult<SubjectCounts>;
}

/// Reads of the journal and its checkpoints. Appends happen only through [`WriteStore`].
#[async_trait]
pub trait JournalStore: Send + Sync {
    /// The last entry's position and hash; `None` for an empty journal.
    async fn find_journal_head(&self) -> StoreResult<Option<JournalHead>>;

    /// Entries with `seq > after_seq`, in `seq` order, at most `limit`.
    async fn find_journal_entries(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<JournalEntry>>;

    /// Checks the entries with `after_seq < seq <= upto_seq` (see [`chain::RangeCheck`]).
    /// Backends override it to check rows as they are read, without decoding them into entries.
    async fn check_journal_range(
        &self,
        after_seq: i64,
        upto_seq: i64,
        checkpoints: &chain::Checkpoints,
    ) -> StoreResult<chain::RangeCheck> {
        const PAGE: u32 = 10_000;
        let mut check = chain::RangeCheck::default();
        let mut page = self.find_journal_entries(after_seq, PAGE).await?;
        while let Some(last) = page.last() {
            let more = last.seq < upto_seq;
            // The next page is read while this one is checked.
            let (next, going) = futures::join!(
                async {
                    if more {
                        self.find_journal_entries(last.seq, PAGE).await
                    } else {
                        Ok(Vec::new())
                    }
                },
                async {
                    page.iter()
                        .take_while(|e| e.seq <= upto_seq)
                        .all(|e| check.push_entry(e, checkpoints))
                }
            );
            if !going || !more {
                break;
            }
            page = next?;
        }
        Ok(check)
    }

    async fn create_checkpoint(&self, cp: &ward_crypto::Checkpoint) -> StoreResult<()>;

    /// All checkpoints, in `seq` order.
    async fn find_checkpoints(&self) -> StoreResult<Vec<ward_crypto::Checkpoint>>;
}

/// API keys (their hashes; never the tokens).
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn find_api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>>;
    async fn find_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;
}

/// Policy versions Ward has run with.
#[async_trait]
pub trait PolicyStore: Send + Sync {
    async fn find_policy_versions(&self) -> StoreResult<Vec<PolicyVersionRecord>>;
}

/// The one way to change anything.
#[async_trait]
pub trait WriteStore: Send + Sync {
    /// Applies `ops` in order in ONE transaction and appends the journal entries of every op
    /// whose outcome is [`OpOutcome::Done`], hash-chained after the current head, in the same
    /// transaction. An op whose precondition fails changes nothing and writes no entry; the
    /// others still apply. Returns one outcome per op, in order. On `Err`, nothing was written.
    async fn write(&self, ops: Vec<WriteOp>) -> StoreResult<Vec<OpOutcome>>;

    /// Whether a write could commit now: the store is reachable and accepts writes (not a
    /// read-only file or a standby server). Changes nothing. Readiness checks call it.
    async fn check_writable(&self) -> StoreResult<()>;

    /// Overwrites, now, the copies of destroyed data that the store itself keeps and can
    /// overwrite, and waits for it: on SQLite, a `TRUNCATE` checkpoint of the WAL (which also
    /// runs on its own soon after every commit that destroyed data). The default does nothing:
    /// PostgreSQL's WAL, dead rows and replicas are left to the rotation of key-encryption keys.
    /// Called at shutdown.
    async fn scrub(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// A complete backend.
pub trait Store:
    SubjectStore
    + SubjectEventStore
    + ActStore
    + BlockStore
    + DownloadStore
    + BasisStore
    + JournalStore
    + ApiKeyStore
    + PolicyStore
    + VisitorStore
    + IdempotencyStore
    + LeaseStore
    + KeyBindingStore
    + ListingStore
    + OutboxStore
    + VerificationStore
    + RequestStore
    + WriteStore
    + Send
    + Sync
    + 'static
{
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Names of the migrations embedded in this backend, in order.
    fn migration_names(&self) -> Vec<String>;
}
