//! The secrets the vault uses, and the keys service: the key ring in force, reloading it,
//! and rotation (`rotation.rs`).

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

    /// Sets how [`Keys::reload`] loads the key ring. Only the first call counts.
    pub fn set_reloader(&self, reloader: KeyReloader) {
        let _ = self.0.inner.key_reloader.set(reloader);
    }

    /// Reloads the key ring, so a process that was running during `ward keys rotate` starts
    /// wrapping new data keys under the new KEK and can unwrap keys re-wrapped under it.
    /// Returns whether anything changed.
    pub fn reload(&self) -> VaultResult<bool> {
        let Some(reload) = self.0.inner.key_reloader.get() else {
            return Ok(false);
        };
        let ring = reload().map_err(VaultError::Unavailable)?;
        let mut current = self
            .0
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
}
