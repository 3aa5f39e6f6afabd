use crate::data_key::{open_with, seal_with};
use crate::{CryptoError, DataKey};
use std::collections::BTreeMap;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A key-encryption key with its id.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Kek {
    #[zeroize(skip)]
    id: String,
    key: [u8; 32],
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek({}, <redacted>)", self.id)
    }
}

impl Kek {
    pub fn new(id: impl Into<String>, key: [u8; 32]) -> Self {
        Self { id: id.into(), key }
    }

    pub fn generate(id: impl Into<String>) -> Self {
        Self::new(id, crate::random_key())
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The raw key, for writing it to its key file.
    pub fn expose(&self) -> &[u8; 32] {
        &self.key
    }
}

/// All key-encryption keys Ward knows, one of them active. During a rotation old and new
/// keys both unwrap; new data keys are wrapped under the active one only.
#[derive(Debug, Clone)]
pub struct KeyRing {
    keks: BTreeMap<String, Kek>,
    active: String,
}

fn wrap_aad(subject: &[u8], kek_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + subject.len() + kek_id.len());
    aad.extend_from_slice(b"ward.dek.v1\0");
    aad.extend_from_slice(subject);
    aad.push(0);
    aad.extend_from_slice(kek_id.as_bytes());
    aad
}

impl KeyRing {
    /// A ring whose active key is `active`.
    pub fn new(keks: impl IntoIterator<Item = Kek>, active: &str) -> Result<Self, CryptoError> {
        let keks: BTreeMap<String, Kek> = keks.into_iter().map(|k| (k.id.clone(), k)).collect();
        if !keks.contains_key(active) {
            return Err(CryptoError::UnknownKek(active.to_owned()));
        }
        Ok(Self {
            keks,
            active: active.to_owned(),
        })
    }

    pub fn active_id(&self) -> &str {
        &self.active
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keks.keys().map(String::as_str)
    }

    /// Whether the ring holds the KEK `id`.
    pub fn has(&self, id: &str) -> bool {
        self.keks.contains_key(id)
    }

    /// This ring with the KEKs of `other` that it lacks, for unwrapping only: the active KEK
    /// stays this ring's.
    #[must_use]
    pub fn adding_for_unwrap(&self, other: &KeyRing) -> KeyRing {
        let mut keks = self.keks.clone();
        for (id, kek) in &other.keks {
            keks.entry(id.clone()).or_insert_with(|| kek.clone());
        }
        KeyRing {
            keks,
            active: self.active.clone(),
        }
    }

    /// Wraps a subject's data key under the active KEK, bound to the subject's id.
    /// Returns the KEK id and the wrapped key.
    pub fn wrap(&self, subject: &[u8], dek: &DataKey) -> (String, Vec<u8>) {
        let kek = &self.keks[&self.active];
        let wrapped = seal_with(&kek.key, &wrap_aad(subject, &kek.id), dek.bytes());
        (kek.id.clone(), wrapped)
    }

    pub fn unwrap(&self, subject: &[u8], kek_id: &str, wrapped: &[u8]) -> Result<DataKey, CryptoError> {
        let kek = self
            .keks
            .get(kek_id)
            .ok_or_else(|| CryptoError::UnknownKek(kek_id.to_owned()))?;
        let mut raw = open_with(&kek.key, &wrap_aad(subject, kek_id), wrapped)?;
        let bytes: [u8; 32] = raw.as_slice().try_into().map_err(|_| CryptoError::Malformed)?;
        raw.zeroize();
        Ok(DataKey::from_bytes(bytes))
    }

    /// Re-wraps a data key under the active KEK without touching any field ciphertext.
    pub fn rewrap(&self, subject: &[u8], kek_id: &str, wrapped: &[u8]) -> Result<(String, Vec<u8>), CryptoError> {
        let dek = self.unwrap(subject, kek_id, wrapped)?;
        Ok(self.wrap(subject, &dek))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_unwrap_and_rotate() {
        let ring1 = KeyRing::new([Kek::generate("1")], "1").unwrap();
        let dek = DataKey::generate();
        let ct = dek.seal(b"aad", b"value");
        let (id, wrapped) = ring1.wrap(b"subject", &dek);
        assert_eq!(id, "1");

        let old = ring1.keks["1"].clone();
        let ring2 = KeyRing::new([old, Kek::generate("2")], "2").unwrap();
        let (id2, wrapped2) = ring2.rewrap(b"subject", &id, &wrapped).unwrap();
        assert_eq!(id2, "2");
        let dek2 = ring2.unwrap(b"subject", &id2, &wrapped2).unwrap();
        assert_eq!(dek2.open(b"aad", &ct).unwrap(), b"value");
        // Old wrapping still works during rotation; a wrapped key moved to another subject doesn't.
        assert!(ring2.unwrap(b"subject", "1", &wrapped).is_ok());
        assert_eq!(
            ring2.unwrap(b"other", "2", &wrapped2).unwrap_err(),
            CryptoError::Decrypt
        );
        assert_eq!(
            ring2.unwrap(b"subject", "9", &wrapped2).unwrap_err(),
            CryptoError::UnknownKek("9".into())
        );
    }

    #[test]
    fn keys_added_for_unwrap_do_not_become_active() {
        let (k1, k2) = (Kek::generate("1"), Kek::generate("2"));
        let old = KeyRing::new([k1.clone()], "1").unwrap();
        let files = KeyRing::new([k1, k2], "2").unwrap();
        let (id, wrapped) = files.wrap(b"s", &DataKey::generate());
        assert_eq!(id, "2");
        assert!(old.unwrap(b"s", "2", &wrapped).is_err());
        let both = old.adding_for_unwrap(&files);
        assert!(both.has("2") && both.unwrap(b"s", "2", &wrapped).is_ok());
        assert_eq!(both.active_id(), "1");
        assert_eq!(both.wrap(b"s", &DataKey::generate()).0, "1");
    }

    #[test]
    fn active_must_exist() {
        assert!(KeyRing::new([Kek::generate("1")], "2").is_err());
        assert!(format!("{:?}", Kek::generate("x")).contains("redacted"));
    }
}
