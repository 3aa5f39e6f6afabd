//! The secrets the vault uses, and the keys service: the key ring in force, putting a new
//! one in force or loading a KEK another process rotated to, and rotation (`rotation.rs`).

use crate::error::{VaultError, VaultResult};
use crate::kernel::KeyReloader;
use crate::Vault;
use std::sync::Arc;
use ward_crypto::{BlindIndex, CheckpointSigner, KeyRing, TokenHasher};

/// Every secret the vault uses. Loaded from key files by the binary; generated in tests.
#[derive(Debug)]
pub struct KeyMaterial {
    pub keyring: KeyRing,
    pub blind_index: BlindIndex,
    pub tokens: TokenHasher,
    pub signer: CheckpointSigner,
}

impl KeyMaterial {
    /// Fresh random keys (for tests and benchmarks).
    pub fn generate(blind_index_bits: u8) -> Self {
        Self {
            keyring: KeyRing::new([ward_crypto::Kek::generate("1")], "1").expect("active key exists"),
            blind_index: BlindIndex::new(ward_crypto::random_key(), blind_index_bits),
            tokens: TokenHasher::new(ward_crypto::random_key()),
            signer: CheckpointSigner::from_seed(ward_crypto::random_key()),
        }
    }
}

/// The keys service, reached by [`Vault::keys`].
#[derive(Clone, Copy)]
pub struct Keys<'v>(pub(crate) &'v Vault);

impl<'v> Keys<'v> {
    /// The secrets the vault was opened with. The key ring in force is [`Keys::ring`].
    pub fn material(&self) -> &'v KeyMaterial {
        &self.0.inner.keys
    }

    /// The key ring in force.
    pub fn ring(&self) -> Arc<KeyRing> {
        self.0
            .inner
            .keyring
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Sets how [`Keys::reload`] loads the key files. Only the first call counts.
    pub fn set_reloader(&self, reloader: KeyReloader) {
        let _ = self.0.inner.key_reloader.set(reloader);
    }

    /// Puts `ring` in force in place of the current ring: its active KEK wraps every new data
    /// key from now on, and KEKs it lacks (destroyed at the end of their epoch) are dropped
    /// from this process's memory. The caller has checked every KEK in it against the store's
    /// key binding (the binary's `epochs::reload`). Returns whether anything changed.
    pub fn install(&self, ring: KeyRing) -> bool {
        let mut current = self
            .0
            .inner
            .keyring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let same = current.active_id() == ring.active_id() && current.ids().eq(ring.ids());
        if !same {
            tracing::info!(
                active = ring.active_id(),
                keks = %ring.ids().collect::<Vec<_>>().join(","),
                "key-encryption keys in force changed"
            );
            *current = Arc::new(ring);
        }
        !same
    }

    /// Meets a data key wrapped under a KEK this process has not loaded (another process
    /// rotated): loads the key files and adds the KEKs the ring lacks, **for unwrapping
    /// only**. The active KEK does not change here, since these files have not been checked
    /// against the store's key binding (a stray or planted `kek-N.key` must never wrap data
    /// keys): [`Keys::install`] does that, from the binary's key reload job, within a
    /// checkpoint interval. A wrong file unwraps nothing (the wrapping is authenticated).
    /// Returns whether a KEK was added.
    pub fn reload(&self) -> VaultResult<bool> {
        let Some(reload) = self.0.inner.key_reloader.get() else {
            return Ok(false);
        };
        let files = reload().map_err(VaultError::Unavailable)?;
        let mut current = self
            .0
            .inner
            .keyring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let more = current.adding_for_unwrap(&files);
        let added = !current.ids().eq(more.ids());
        if added {
            tracing::info!(
                keks = %more.ids().collect::<Vec<_>>().join(","),
                "key-encryption keys loaded for unwrapping; the active key changes at the next checked reload"
            );
            *current = Arc::new(more);
        }
        Ok(added)
    }
}
