use crate::CryptoError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use zeroize::{Zeroize, ZeroizeOnDrop};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// A subject's own data key. Field values are sealed with it; destroying it (crypto-shredding)
/// makes every ciphertext of that subject unreadable, backups included.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl DataKey {
    pub fn generate() -> Self {
        Self(crate::random_key())
    }

    pub(crate) fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Seals `plaintext`, binding it to `aad` (e.g. subject id and field name) so a ciphertext
    /// moved to another subject or field fails to open. Layout: version ‖ nonce ‖ ct ‖ tag.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        seal_with(&self.0, aad, plaintext)
    }

    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        open_with(&self.0, aad, sealed)
    }
}

pub(crate) fn seal_with(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .expect("AES-GCM encryption cannot fail for inputs under 64 GiB");
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

pub(crate) fn open_with(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
        return Err(CryptoError::Malformed);
    }
    let cipher = Aes256Gcm::new(key.into());
    let (nonce, ct) = sealed[1..].split_at(NONCE_LEN);
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .map_err(|_| CryptoError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let k = DataKey::generate();
        let ct = k.seal(b"subject-1/email", b"anna@example.ru");
        assert_eq!(k.open(b"subject-1/email", &ct).unwrap(), b"anna@example.ru");
        assert_eq!(k.open(b"subject-2/email", &ct), Err(CryptoError::Decrypt));
        assert_eq!(
            DataKey::generate().open(b"subject-1/email", &ct),
            Err(CryptoError::Decrypt)
        );
        let mut bad = ct.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(k.open(b"subject-1/email", &bad), Err(CryptoError::Decrypt));
        assert_eq!(k.open(b"x", &ct[..5]), Err(CryptoError::Malformed));
        assert!(!ct.windows(4).any(|w| w == b"anna"));
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", DataKey::generate()), "DataKey(<redacted>)");
    }
}
