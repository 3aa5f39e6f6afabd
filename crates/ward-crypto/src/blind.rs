use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Lowest and highest index widths Ward accepts.
pub const MIN_BITS: u8 = 8;
pub const MAX_BITS: u8 = 64;

/// A keyed blind index: HMAC-SHA256 of field name and normalised value, truncated to `bits`.
///
/// Truncation is deliberate (CipherSweet's rule): with R rows and L bits a lookup expects
/// R / 2^L false candidates, which Ward decrypts and discards, and the index no longer proves
/// that two subjects share a value.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct BlindIndex {
    key: [u8; 32],
    #[zeroize(skip)]
    bits: u8,
}

impl std::fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlindIndex({} bits, <redacted>)", self.bits)
    }
}

impl BlindIndex {
    /// `bits` is clamped to 8..=64.
    pub fn new(key: [u8; 32], bits: u8) -> Self {
        Self {
            key,
            bits: bits.clamp(MIN_BITS, MAX_BITS),
        }
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// The index value of `value` in `field`, as a non-negative integer below 2^bits
    /// (stored as a signed 64-bit integer by every backend).
    pub fn compute(&self, field: &str, value: &str) -> i64 {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"ward.blind.v1\0");
        mac.update(field.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let out = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&out[..8]);
        let v = u64::from_be_bytes(first) >> (64 - u32::from(self.bits));
        // Reinterpret the bits; for bits = 64 the value may be negative, which is fine.
        i64::from_ne_bytes(v.to_ne_bytes())
    }

    /// The keyed hash of a website visitor's identifier: the full 32 bytes of HMAC-SHA256
    /// under the blind-index key, with its own domain tag. Not truncated: visitors are
    /// matched by it exactly. A presented id can be matched; a stolen database cannot be
    /// reversed to the ids without the key.
    pub fn visitor_hash(&self, visitor_id: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"ward.visitor.v1\0");
        mac.update(visitor_id.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A key for another use, derived from the blind-index key under `label` (HMAC-SHA256 of
    /// the label, with its own domain tag): independent of the index and of other labels, and
    /// never stored. The one-time codes' key is derived so (`CodeHasher`).
    pub fn derive_key(&self, label: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"ward.derive.v1\0");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The keyed hash of a caller's `Idempotency-Key`: HMAC-SHA256 under the blind-index key
    /// with its own domain tag, over the caller and the key, so that two callers' equal keys
    /// are different records and a stolen database does not give the keys back.
    pub fn idempotency_key(&self, caller: &str, key: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"ward.idempotency.v1\0");
        mac.update(caller.as_bytes());
        mac.update(&[0]);
        mac.update(key.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_keyed_truncated() {
        let a = BlindIndex::new([1; 32], 20);
        let b = BlindIndex::new([2; 32], 20);
        let v = a.compute("email", "anna@example.ru");
        assert_eq!(v, a.compute("email", "anna@example.ru"));
        assert_ne!(v, b.compute("email", "anna@example.ru"));
        assert_ne!(v, a.compute("phone", "anna@example.ru"));
        for i in 0..1000 {
            let x = a.compute("email", &format!("user{i}@example.ru"));
            assert!((0..(1 << 20)).contains(&x));
        }
        assert_eq!(BlindIndex::new([1; 32], 200).bits(), 64);
    }

    #[test]
    fn visitor_hashes_are_keyed_full_width_and_apart_from_the_index() {
        let a = BlindIndex::new([1; 32], 20);
        let b = BlindIndex::new([2; 32], 20);
        let h = a.visitor_hash("visitor-0001");
        assert_eq!(h, a.visitor_hash("visitor-0001"));
        assert_ne!(h, a.visitor_hash("visitor-0002"));
        assert_ne!(h, b.visitor_hash("visitor-0001"));
        // The width does not change it: it is never truncated.
        assert_eq!(h, BlindIndex::new([1; 32], 64).visitor_hash("visitor-0001"));
        let index = a.compute("visitor", "visitor-0001").to_be_bytes();
        assert_ne!(&h[..8], &index[..]);
    }
}
