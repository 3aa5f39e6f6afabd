//! One-time codes that prove a requester holds a contact on record: six digits from the
//! operating system's CSPRNG, stored only as a keyed hash (HMAC-SHA256 under a key derived
//! from the deployment's blind-index key, bound to the verification they belong to), and
//! compared in constant time.

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The label the code key is derived under ([`crate::BlindIndex::derive_key`]).
pub const CODE_KEY_LABEL: &str = "ward.verification-code.v1";

/// A one-time code as sent to the subject: six ASCII digits. Its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct OneTimeCode(String);

impl std::fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OneTimeCode(<redacted>)")
    }
}

impl OneTimeCode {
    /// Six uniformly random digits from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let n: u32 = rand::rngs::OsRng.gen_range(0..1_000_000);
        Self(format!("{n:06}"))
    }

    /// A presented code: exactly six ASCII digits (surrounding spaces trimmed), else `None`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        (s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())).then(|| Self(s.to_owned()))
    }

    /// The digits, to put in the message to the subject.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Hashes one-time codes with a server-side key, bound to the verification (`context`) they
/// were issued for, so that a stolen database yields neither codes nor a table of them.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct CodeHasher {
    key: [u8; 32],
}

impl std::fmt::Debug for CodeHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeHasher(<redacted>)")
    }
}

impl CodeHasher {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// HMAC-SHA256 of `code` for `context` (the verification's id, and the code's serial).
    pub fn hash(&self, context: &[u8], code: &OneTimeCode) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"ward.code.v1\0");
        mac.update(context);
        mac.update(&[0]);
        mac.update(code.0.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Whether `code` is the one whose hash is `stored`, compared in constant time.
    pub fn matches(&self, context: &[u8], code: &OneTimeCode, stored: &[u8]) -> bool {
        constant_time_eq(&self.hash(context, code), stored)
    }
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths (`subtle`).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_parse_strictly() {
        for _ in 0..200 {
            let c = OneTimeCode::generate();
            assert_eq!(c.expose().len(), 6);
            assert_eq!(OneTimeCode::parse(c.expose()), Some(c));
        }
        assert_eq!(
            OneTimeCode::parse(" 012345 ").map(|c| c.expose().to_owned()),
            Some("012345".into())
        );
        for bad in ["", "12345", "1234567", "12a456", "１２３４５６", "-12345"] {
            assert_eq!(OneTimeCode::parse(bad), None, "{bad}");
        }
        assert_eq!(format!("{:?}", OneTimeCode::generate()), "OneTimeCode(<redacted>)");
    }

    #[test]
    fn hashes_are_keyed_bound_to_their_context_and_compared_in_constant_time() {
        let h = CodeHasher::new([3; 32]);
        let code = OneTimeCode::parse("123456").unwrap();
        let stored = h.hash(b"v1", &code);
        assert!(h.matches(b"v1", &code, &stored));
        assert!(!h.matches(b"v2", &code, &stored), "bound to the verification");
        assert!(!CodeHasher::new([4; 32]).matches(b"v1", &code, &stored), "keyed");
        assert!(!h.matches(b"v1", &OneTimeCode::parse("123457").unwrap(), &stored));
        assert!(!h.matches(b"v1", &code, &stored[..31]), "a short hash never matches");
        assert!(!stored.windows(6).any(|w| w == b"123456"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
