//! The key binding: which keys a store was made with (`key_binding`, migration
//! `0009_key_binding`), so that Ward refuses to open a store with keys that are not its own.
//!
//! What is recorded reveals nothing about a key: a fingerprint is a hash of the key under a
//! domain-separated label, and for the journal signing key it is the public key. Like job
//! leases, the binding is written directly, not through [`crate::WriteStore`]: it is no
//! personal data, and it is written before the vault (and its committer) can be opened. The
//! binary journals each recording with a journal-only write right after it.

use crate::StoreResult;
use async_trait::async_trait;
use time::OffsetDateTime;

/// One key the store was made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundKey {
    /// `kek:<id>`, `token`, `blind-index` or `journal-signing`.
    pub name: String,
    /// Lowercase hex: a hash of the key under a label, or a public key.
    pub fingerprint: String,
    pub recorded_at: OffsetDateTime,
}

/// Reads and records the key binding.
#[async_trait]
pub trait KeyBindingStore: Send + Sync {
    /// Every key recorded, by name.
    async fn find_key_binding(&self) -> StoreResult<Vec<BoundKey>>;

    /// Records keys whose names are not recorded yet, in one transaction. A name already
    /// recorded keeps its first fingerprint: a binding is never rewritten.
    async fn record_key_binding(&self, keys: &[BoundKey]) -> StoreResult<()>;
}
