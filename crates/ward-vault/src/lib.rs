//! Ward's application layer. [`Vault`] is what the HTTP API and the CLI call: it checks every
//! operation against the policy, seals and opens personal data with per-subject keys, and
//! writes every change together with its journal entry through the group committer.
//!
//! Architecture Invariant: plaintext personal data exists only in this crate's memory and
//! the layers above; everything handed to the store is sealed, wrapped or a blind index.

mod apikeys;
mod batch;
mod committer;
mod consents;
mod contact;
mod error;
mod forms;
mod journal;
mod keys;
mod lifecycle;
mod policies;
mod receipts;
mod rotation;
mod sealed;
mod subjects;
mod visitors;

pub use apikeys::ApiKeyView;
pub use consents::{ConsentState, ConsentStatus, DestructionDue, Withdrawal, DESTRUCTION_DAYS};
pub use contact::{ContactDecision, NoticeClass};
pub use error::{FieldProblem, VaultError, VaultResult};
pub use journal::{
    verify as verify_journal_store, verify_in_ranges as verify_journal_store_in_ranges, Tamper, VerifyReport,
    VERIFY_RANGE,
};
pub use keys::KeyMaterial;
pub use lifecycle::{AcknowledgementSummary, Death, PolicyNotice, PolicyStanding};
pub use policies::{PolicySource, PolicyVersion, Published};
pub use receipts::{ConsentDocumentRecord, ConsentReceipt, ReceiptEvent};
pub use rotation::RotationReport;
pub use subjects::{NewSubjectInput, SubjectView};
pub use visitors::{CookieConsentHistory, CookieConsentView};

use committer::Committer;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use time::Duration;
use ward_core::{Actor, Clock, JournalDraft, Policy};
use ward_crypto::KeyRing;
use ward_store::{Change, OpOutcome, Store, WriteOp};

/// Tunables.
#[derive(Debug, Clone)]
pub struct VaultConfig {
    /// Most writes (and read journal entries) committed in one transaction.
    pub max_batch: usize,
    /// How long a verified API key is trusted without asking the store again. Revocation in
    /// this process takes effect at once; in another process after at most this long.
    pub api_key_cache_ttl: Duration,
}

impl Default for VaultConfig {
    fn default() -> Self {
        Self {
            max_batch: 512,
            api_key_cache_ttl: Duration::seconds(5),
        }
    }
}

/// The vault. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    keys: KeyMaterial,
    /// Published policy versions, by the time they take effect.
    versions: RwLock<Vec<Arc<PolicyVersion>>>,
    clock: Arc<dyn Clock>,
    committer: Committer,
    config: VaultConfig,
    key_cache: RwLock<HashMap<String, apikeys::CachedKey>>,
    /// The key ring in force; replaced when key files change (see [`Vault::reload_keys`]).
    keyring: RwLock<Arc<KeyRing>>,
    key_reloader: OnceLock<KeyReloader>,
}

/// Loads the current key ring (e.g. from key files), for [`Vault::reload_keys`].
pub type KeyReloader = Box<dyn Fn() -> Result<KeyRing, String> + Send + Sync>;

/// Hex SHA-256 of a policy's register alone (a version without text).
pub fn policy_hash(source: &str) -> String {
    PolicySource::from(source).hash()
}

impl Vault {
    /// Opens the vault on `store` with `policy` (parsed from `policy_source`), records the
    /// policy version if it is new, and starts the group committer. Needs a Tokio runtime.
    pub async fn open(
        store: Arc<dyn Store>,
        keys: KeyMaterial,
        policy: Policy,
        policy_source: impl Into<PolicySource>,
        clock: Arc<dyn Clock>,
        config: VaultConfig,
    ) -> VaultResult<Vault> {
        let committer = Committer::start(store.clone(), config.max_batch);
        let keyring = RwLock::new(Arc::new(keys.keyring.clone()));
        let vault = Vault {
            inner: Arc::new(Inner {
                store,
                keys,
                keyring,
                key_reloader: OnceLock::new(),
                versions: RwLock::new(Vec::new()),
                clock,
                committer,
                config,
                key_cache: RwLock::new(HashMap::new()),
            }),
        };
        // The versions published so far, then the one given (if new), in force from now.
        vault.reload_policies().await?;
        let source = policy_source.into();
        drop(policy);
        vault.record_version(&Actor::System, source, None).await?;
        Ok(vault)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The secrets the vault was opened with. The key ring in force is [`Vault::keyring`].
    pub fn keys(&self) -> &KeyMaterial {
        &self.inner.keys
    }

    /// The key ring in force.
    pub fn keyring(&self) -> Arc<KeyRing> {
        self.inner
            .keyring
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Sets how [`Vault::reload_keys`] loads the key ring. Only the first call counts.
    pub fn set_key_reloader(&self, reloader: KeyReloader) {
        let _ = self.inner.key_reloader.set(reloader);
    }

    /// Reloads the key ring, so a process that was running during `ward keys rotate` starts
    /// wrapping new data keys under the new KEK and can unwrap keys re-wrapped under it.
    /// Returns whether anything changed.
    pub fn reload_keys(&self) -> VaultResult<bool> {
        let Some(reload) = self.inner.key_reloader.get() else {
            return Ok(false);
        };
        let ring = reload().map_err(VaultError::Unavailable)?;
        let mut current = self
            .inner
            .keyring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let same = current.active_id() == ring.active_id() && current.ids().eq(ring.ids());
        if !same {
            tracing::info!(active = ring.active_id(), "key-encryption keys reloaded");
            *current = Arc::new(ring);
        }
        Ok(!same)
    }

    fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }

    /// Writes one change with its journal entries, through the group committer.
    async fn commit(&self, change: Change, journal: Vec<JournalDraft>) -> VaultResult<OpOutcome> {
        Ok(self.inner.committer.submit(WriteOp { change, journal }).await?)
    }

    /// Writes what is queued, signs a final checkpoint, and stops the writer. Operations
    /// after this fail with `storage_unavailable`.
    pub async fn shutdown(&self) -> VaultResult<()> {
        self.inner.committer.shutdown().await;
        self.checkpoint().await?;
        Ok(())
    }
}
