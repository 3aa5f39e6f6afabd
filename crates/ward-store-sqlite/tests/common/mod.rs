//! A SQLite store in a temporary directory that is removed when the store is dropped.

#![allow(dead_code)]

use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;
use ward_core::SubjectId;
use ward_crypto::Checkpoint;
use ward_store::*;
use ward_store_sqlite::SqliteStore;

pub struct TempStore {
    pub store: SqliteStore,
    // Dropped after `store` (fields drop in order).
    pub dir: tempfile::TempDir,
}

impl TempStore {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = SqliteStore::open(&dir.path().join("ward.db"))
            .await
            .expect("open a new SQLite store");
        Self { store, dir }
    }

    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("ward.db")
    }

    /// Another store on the same file (as another process would open it).
    pub async fn reopen(&self) -> SqliteStore {
        SqliteStore::open(Path::new(&self.db_path())).await.expect("reopen")
    }
}

pub async fn fresh() -> Option<Arc<dyn Store>> {
    Some(Arc::new(TempStore::new().await))
}

#[async_trait]
impl SubjectStore for TempStore {
    async fn find_subject(&self, id: SubjectId) -> StoreResult<Option<SubjectRecord>> {
        self.store.find_subject(id).await
    }
    async fn find_consent_events(&self, id: SubjectId) -> StoreResult<Vec<ConsentEventRecord>> {
        self.store.find_consent_events(id).await
    }
    async fn find_subject_with_consents(
        &self,
        id: SubjectId,
    ) -> StoreResult<(Option<SubjectRecord>, Vec<ConsentEventRecord>)> {
        self.store.find_subject_with_consents(id).await
    }
    async fn find_subjects_by_index(&self, field: &str, hash: i64) -> StoreResult<Vec<SubjectId>> {
        self.store.find_subjects_by_index(field, hash).await
    }
    async fn find_subjects_by_index_with_consents(
        &self,
        field: &str,
        hash: i64,
    ) -> StoreResult<Vec<(ward_store::SubjectRecord, Vec<ward_store::ConsentEventRecord>)>> {
        self.store.find_subjects_by_index_with_consents(field, hash).await
    }
    async fn find_wrapped_keys(&self, after: Option<SubjectId>, limit: u32) -> StoreResult<Vec<WrappedKeyRecord>> {
        self.store.find_wrapped_keys(after, limit).await
    }
    async fn count_wrapped_keys_by_kek(&self) -> StoreResult<std::collections::BTreeMap<String, u64>> {
        self.store.count_wrapped_keys_by_kek().await
    }
    async fn count_subjects(&self) -> StoreResult<SubjectCounts> {
        self.store.count_subjects().await
    }
}

#[async_trait]
impl KeyBindingStore for TempStore {
    async fn find_key_binding(&self) -> StoreResult<Vec<BoundKey>> {
        self.store.find_key_binding().await
    }
    async fn record_key_binding(&self, keys: &[BoundKey]) -> StoreResult<()> {
        self.store.record_key_binding(keys).await
    }
}

#[async_trait]
impl JournalStore for TempStore {
    async fn find_journal_head(&self) -> StoreResult<Option<JournalHead>> {
        self.store.find_journal_head().await
    }
    async fn find_journal_entries(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<JournalEntry>> {
        self.store.find_journal_entries(after_seq, limit).await
    }
    async fn check_journal_range(
        &self,
        after_seq: i64,
        upto_seq: i64,
        checkpoints: &ward_store::chain::Checkpoints,
    ) -> StoreResult<ward_store::chain::RangeCheck> {
        self.store.check_journal_range(after_seq, upto_seq, checkpoints).await
    }
    async fn create_checkpoint(&self, cp: &Checkpoint) -> StoreResult<()> {
        self.store.create_checkpoint(cp).await
    }
    async fn find_checkpoints(&self) -> StoreResult<Vec<Checkpoint>> {
        self.store.find_checkpoints().await
    }
}

#[async_trait]
impl ApiKeyStore for TempStore {
    async fn find_api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        self.store.find_api_key(id).await
    }
    async fn find_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        self.store.find_api_keys().await
    }
}

#[async_trait]
impl PolicyStore for TempStore {
    async fn find_policy_versions(&self) -> StoreResult<Vec<PolicyVersionRecord>> {
        self.store.find_policy_versions().await
    }
}

#[async_trait]
impl IdempotencyStore for TempStore {
    async fn find_idempotency(&self, key: &ward_crypto::Hash32) -> StoreResult<Option<IdempotencyRecord>> {
        self.store.find_idempotency(key).await
    }
}

#[async_trait]
impl WriteStore for TempStore {
    async fn write(&self, ops: Vec<WriteOp>) -> StoreResult<Vec<OpOutcome>> {
        self.store.write(ops).await
    }
    async fn check_writable(&self) -> StoreResult<()> {
        self.store.check_writable().await
    }
}

impl Store for TempStore {
    fn backend(&self) -> &'static str {
        self.store.backend()
    }
    fn migration_names(&self) -> Vec<String> {
        self.store.migration_names()
    }
}

#[async_trait]
impl VisitorStore for TempStore {
    async fn find_visitor_consents(&self, visitor: &ward_crypto::Hash32) -> StoreResult<Vec<VisitorConsentRecord>> {
        self.store.find_visitor_consents(visitor).await
    }
}

#[async_trait]
impl SubjectEventStore for TempStore {
    async fn find_subject_events(&self, id: SubjectId) -> StoreResult<Vec<SubjectEventRecord>> {
        self.store.find_subject_events(id).await
    }
    async fn count_policy_acknowledgements(&self, policy_version: &str) -> StoreResult<PolicyAcknowledgements> {
        self.store.count_policy_acknowledgements(policy_version).await
    }
}

#[async_trait]
impl BasisStore for TempStore {
    async fn find_basis_events(&self, id: SubjectId) -> StoreResult<Vec<BasisEventRecord>> {
        self.store.find_basis_events(id).await
    }
}

#[async_trait]
impl ActStore for TempStore {
    async fn find_act(&self, id: ward_core::ActId) -> StoreResult<Option<DestructionActRecord>> {
        self.store.find_act(id).await
    }
    async fn find_acts(&self, filter: &ActFilter) -> StoreResult<Vec<DestructionActRecord>> {
        self.store.find_acts(filter).await
    }
}

#[async_trait]
impl BlockStore for TempStore {
    async fn find_blocks(&self, subject: SubjectId) -> StoreResult<Vec<BlockRecord>> {
        self.store.find_blocks(subject).await
    }
}

#[async_trait]
impl VerificationStore for TempStore {
    async fn find_verification(&self, id: ward_core::VerificationId) -> StoreResult<Option<VerificationRecord>> {
        self.store.find_verification(id).await
    }

    async fn find_verification_document(&self, id: ward_core::VerificationId) -> StoreResult<Option<Vec<u8>>> {
        self.store.find_verification_document(id).await
    }
}

#[async_trait]
impl ward_store::RequestStore for TempStore {
    async fn find_request(&self, id: ward_core::RequestId) -> StoreResult<Option<ward_store::RequestRecord>> {
        self.store.find_request(id).await
    }
    async fn find_requests_of_subject(&self, subject: SubjectId) -> StoreResult<Vec<ward_store::RequestRecord>> {
        self.store.find_requests_of_subject(subject).await
    }
    async fn list_requests(
        &self,
        filter: &ward_store::RequestFilter,
        after: Option<ward_store::RequestCursor>,
        limit: u32,
    ) -> StoreResult<Vec<ward_store::RequestRecord>> {
        self.store.list_requests(filter, after, limit).await
    }
}

#[async_trait]
impl DownloadStore for TempStore {
    async fn find_download_by_token(&self, token_hash: [u8; 32]) -> StoreResult<Option<DownloadRecord>> {
        self.store.find_download_by_token(token_hash).await
    }
    async fn find_downloads(&self, subject: SubjectId) -> StoreResult<Vec<DownloadRecord>> {
        self.store.find_downloads(subject).await
    }
}

#[async_trait]
impl LeaseStore for TempStore {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: time::OffsetDateTime,
        until: time::OffsetDateTime,
    ) -> StoreResult<LeaseGrant> {
        self.store.acquire_lease(name, holder, now, until).await
    }
    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<bool> {
        self.store.release_lease(name, holder).await
    }
    async fn find_lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        self.store.find_lease(name).await
    }
}

#[async_trait]
impl ListingStore for TempStore {
    async fn scan_subject_facts(&self, after: Option<SubjectId>, limit: u32) -> StoreResult<Vec<SubjectFacts>> {
        self.store.scan_subject_facts(after, limit).await
    }
    async fn find_journal_page(
        &self,
        filter: &JournalFilter,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<JournalEntry>> {
        self.store.find_journal_page(filter, after_seq, limit).await
    }
}

#[async_trait]
impl OutboxStore for TempStore {
    async fn claim_due_messages(
        &self,
        worker: &str,
        now: time::OffsetDateTime,
        until: time::OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>> {
        self.store.claim_due_messages(worker, now, until, limit).await
    }
    async fn find_message(&self, id: ward_core::MessageId) -> StoreResult<Option<MessageRecord>> {
        self.store.find_message(id).await
    }
    async fn find_messages(
        &self,
        state: Option<ward_core::outbox::MessageState>,
        limit: u32,
    ) -> StoreResult<Vec<MessageRecord>> {
        self.store.find_messages(state, limit).await
    }
}
