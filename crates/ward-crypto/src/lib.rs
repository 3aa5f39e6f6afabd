//! Ward's cryptography, in one place so it can be reviewed in one place.
//!
//! - [`KeyRing`]: key-encryption keys (KEKs) with ids; wraps and unwraps per-subject [`DataKey`]s.
//! - [`DataKey`]: seals field values (AES-256-GCM) bound to subject and field by associated data.
//! - [`BlindIndex`]: keyed, truncated HMAC of a normalised value, for lookups without plaintext.
//! - [`CodeHasher`], [`OneTimeCode`]: one-time verification codes, stored only as keyed hashes
//!   and compared in constant time.
//! - [`TokenHasher`]: API tokens stored only as keyed hashes, compared in constant time.
//! - [`LinkToken`]: single-use download links, stored only as SHA-256, compared in constant time.
//! - [`journal`]: the hash chain of the processing journal and signed checkpoints.
//!
//! Architecture Invariant: key material never appears in `Debug` output or error messages.

mod blind;
mod code;
mod data_key;
mod error;
pub mod journal;
mod keyring;
mod link;
mod token;

pub use blind::BlindIndex;
pub use code::{constant_time_eq, CodeHasher, OneTimeCode, CODE_KEY_LABEL};
pub use data_key::DataKey;
pub use error::CryptoError;
pub use journal::{Checkpoint, CheckpointSigner, Hash32};
pub use keyring::{Kek, KeyRing};
pub use link::LinkToken;
pub use token::{ApiToken, TokenHasher};

/// 32 bytes from the operating system's CSPRNG.
pub fn random_key() -> [u8; 32] {
    use rand::RngCore;
    let mut k = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut k);
    k
}
