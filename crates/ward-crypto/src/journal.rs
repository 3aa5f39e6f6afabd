//! The journal's hash chain and signed checkpoints.
//!
//! Each entry's hash is `SHA-256(tag ‖ prev_hash ‖ canonical(content))`. The position (seq)
//! is deliberately *not* hashed: order is carried by the `prev_hash` links, which lets the
//! verifier tell a reordered entry from a modified one. A [`Checkpoint`] signs (seq, head)
//! with Ed25519, so even a forger who recomputes the whole chain is caught at the next
//! checkpoint.

use crate::CryptoError;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

pub type Hash32 = [u8; 32];

/// The hash before the first entry.
pub const GENESIS: Hash32 = [0; 32];

/// The hashed content of one journal entry.
#[derive(Debug, Clone, Copy)]
pub struct EntryContent<'a> {
    pub at_micros: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: Option<&'a [u8; 16]>,
    pub purpose: Option<&'a str>,
    pub fields: Fields<'a>,
    pub detail: Option<&'a str>,
}

/// The names of the fields an entry touched: a list, or the comma-joined form the stores keep
/// (names are never empty and never contain a comma). Both hash the same.
#[derive(Debug, Clone, Copy)]
pub enum Fields<'a> {
    List(&'a [String]),
    Joined(&'a str),
}

impl Fields<'_> {
    fn hash_into(self, h: &mut Sha256) {
        match self {
            Fields::List(list) => {
                h.update(u32::try_from(list.len()).unwrap_or(u32::MAX).to_be_bytes());
                for f in list {
                    put(h, f.as_bytes());
                }
            }
            Fields::Joined("") => h.update(0u32.to_be_bytes()),
            Fields::Joined(joined) => {
                let n = joined.bytes().filter(|b| *b == b',').count() + 1;
                h.update(u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
                for f in joined.split(',') {
                    put(h, f.as_bytes());
                }
            }
        }
    }
}

fn put(h: &mut Sha256, bytes: &[u8]) {
    h.update(u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    h.update(bytes);
}

fn put_opt(h: &mut Sha256, bytes: Option<&[u8]>) {
    match bytes {
        None => h.update([0u8]),
        Some(b) => {
            h.update([1u8]);
            put(h, b);
        }
    }
}

/// The chain hash of an entry that follows `prev`.
pub fn entry_hash(prev: &Hash32, c: &EntryContent<'_>) -> Hash32 {
    let mut h = Sha256::new();
    h.update(b"ward.journal.v1\0");
    h.update(prev);
    h.update(c.at_micros.to_be_bytes());
    put(&mut h, c.actor.as_bytes());
    put(&mut h, c.action.as_bytes());
    put_opt(&mut h, c.subject.map(<[u8; 16]>::as_slice));
    put_opt(&mut h, c.purpose.map(str::as_bytes));
    c.fields.hash_into(&mut h);
    put_opt(&mut h, c.detail.map(str::as_bytes));
    h.finalize().into()
}

/// A signed statement: "the journal had `seq` entries and its head was `head` at `at`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub head: Hash32,
    pub at_micros: i64,
    /// Which signing key made it (hex of the first 8 bytes of SHA-256 of the public key).
    pub key_id: String,
    pub signature: Vec<u8>,
}

fn checkpoint_message(seq: i64, head: &Hash32, at_micros: i64) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(b"ward.checkpoint.v1\0");
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(head);
    m.extend_from_slice(&at_micros.to_be_bytes());
    m
}

/// Signs checkpoints with Ward's Ed25519 journal key.
pub struct CheckpointSigner {
    key: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckpointSigner({}, <redacted>)", self.key_id)
    }
}

/// The id of a verifying key.
pub fn key_id(public: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(public.as_bytes())[..8])
}

impl CheckpointSigner {
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&seed);
        let key_id = key_id(&key.verifying_key());
        Self { key, key_id }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    pub fn sign(&self, seq: i64, head: Hash32, at_micros: i64) -> Checkpoint {
        let signature = self
            .key
            .sign(&checkpoint_message(seq, &head, at_micros))
            .to_bytes()
            .to_vec();
        Checkpoint {
            seq,
            head,
            at_micros,
            key_id: self.key_id.clone(),
            signature,
        }
    }

    /// Verifies a checkpoint against this signer's public key.
    pub fn verify(&self, cp: &Checkpoint) -> Result<(), CryptoError> {
        verify_checkpoint(&self.key.verifying_key(), cp)
    }
}

/// Verifies a checkpoint's signature with a trusted public key.
pub fn verify_checkpoint(public: &VerifyingKey, cp: &Checkpoint) -> Result<(), CryptoError> {
    if cp.key_id != key_id(public) {
        return Err(CryptoError::BadSignature);
    }
    let sig: [u8; 64] = cp
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| CryptoError::BadSignature)?;
    public
        .verify(
            &checkpoint_message(cp.seq, &cp.head, cp.at_micros),
            &ed25519_dalek::Signature::from_bytes(&sig),
        )
        .map_err(|_| CryptoError::BadSignature)
}

/// Verifies a checkpoint's signature with a public key given as bytes (a checkpoint kept apart
/// names the key it was signed with).
pub fn verify_checkpoint_with_key(public: &[u8; 32], cp: &Checkpoint) -> Result<(), CryptoError> {
    let key = VerifyingKey::from_bytes(public).map_err(|_| CryptoError::BadSignature)?;
    verify_checkpoint(&key, cp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content<'a>(fields: &'a [String], purpose: Option<&'a str>) -> EntryContent<'a> {
        EntryContent {
            at_micros: 1,
            actor: "key:abc",
            action: "retrieval",
            subject: Some(&[7; 16]),
            purpose,
            fields: Fields::List(fields),
            detail: None,
        }
    }

    #[test]
    fn every_part_of_the_content_is_hashed() {
        let f = vec!["email".to_owned()];
        let base = entry_hash(&GENESIS, &content(&f, Some("marketing")));
        assert_ne!(base, entry_hash(&[1; 32], &content(&f, Some("marketing"))));
        assert_ne!(base, entry_hash(&GENESIS, &content(&f, Some("analytics"))));
        assert_ne!(base, entry_hash(&GENESIS, &content(&f, None)));
        assert_ne!(base, entry_hash(&GENESIS, &content(&[], Some("marketing"))));
        // Length prefixes keep field boundaries: ["ab"] differs from ["a","b"].
        let one = vec!["ab".to_owned()];
        let two = vec!["a".to_owned(), "b".to_owned()];
        assert_ne!(
            entry_hash(&GENESIS, &content(&one, None)),
            entry_hash(&GENESIS, &content(&two, None))
        );
    }

    #[test]
    fn the_joined_form_of_the_fields_hashes_as_the_list() {
        for list in [
            vec![],
            vec!["email".to_owned()],
            vec!["a".to_owned(), "bc".to_owned(), "d".to_owned()],
        ] {
            let joined = list.join(",");
            let a = content(&list, Some("marketing"));
            let b = EntryContent {
                fields: Fields::Joined(&joined),
                ..a
            };
            assert_eq!(entry_hash(&GENESIS, &a), entry_hash(&GENESIS, &b), "{list:?}");
        }
    }

    #[test]
    fn checkpoints_sign_and_verify() {
        let s = CheckpointSigner::from_seed([3; 32]);
        let cp = s.sign(10, [9; 32], 42);
        s.verify(&cp).unwrap();
        let mut forged = cp.clone();
        forged.seq = 11;
        assert_eq!(s.verify(&forged), Err(CryptoError::BadSignature));
        let other = CheckpointSigner::from_seed([4; 32]);
        assert_eq!(other.verify(&cp), Err(CryptoError::BadSignature));
    }
}
