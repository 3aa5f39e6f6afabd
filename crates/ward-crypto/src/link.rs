//! Single-use download links: a random token of 256 bits, base64url without padding, shown
//! once; Ward stores only its SHA-256 (the token's entropy makes a keyed hash unnecessary: no
//! dictionary exists to try) and compares hashes in constant time.

use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The token of a download link, as the subject holds it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct LinkToken(String);

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(<redacted>)")
    }
}

/// base64url of 32 bytes, unpadded.
const TOKEN_LEN: usize = 43;

impl LinkToken {
    pub fn generate() -> Self {
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(crate::random_key()))
    }

    /// A presented token; `None` if it is not shaped like one (the same answer as an unknown
    /// token: the caller does not learn which).
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == TOKEN_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .then(|| Self(s.to_owned()))
    }

    /// SHA-256 of the token: what is stored, and what a lookup goes by.
    pub fn hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"ward.download.v1\0");
        h.update(self.0.as_bytes());
        h.finalize().into()
    }

    /// Constant-time check of this token against a stored hash.
    pub fn matches(&self, stored: &[u8]) -> bool {
        let h = self.hash();
        stored.len() == h.len() && bool::from(h.as_slice().ct_eq(stored))
    }

    /// The token, to show once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_matched_by_hash() {
        let a = LinkToken::generate();
        let b = LinkToken::generate();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), TOKEN_LEN);
        let parsed = LinkToken::parse(a.expose()).expect("parses");
        assert!(parsed.matches(&a.hash()));
        assert!(!b.matches(&a.hash()));
        assert!(!parsed.matches(&a.hash()[..31]));
        for bad in ["", "short", &"A".repeat(44), &format!("{}!", "A".repeat(42))] {
            assert!(LinkToken::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(format!("{a:?}"), "LinkToken(<redacted>)");
    }
}
