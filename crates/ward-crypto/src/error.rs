/// A cryptographic failure. Deliberately carries no key or plaintext material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("decryption failed: wrong key or tampered ciphertext")]
    Decrypt,
    #[error("ciphertext is malformed")]
    Malformed,
    #[error("key-encryption key `{0}` is not in the key ring")]
    UnknownKek(String),
    #[error("key material is malformed: {0}")]
    BadKey(&'static str),
    #[error("signature does not verify")]
    BadSignature,
}
