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
