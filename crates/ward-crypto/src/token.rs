use base64::Engine;
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

const PREFIX: &str = "ward_";
const ID_LEN: usize = 12;
const ID_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// An API token as the client holds it: `ward_<id>_<secret>`. The id is public (it names the
/// key in lists and in the journal); the secret is shown once and stored only as a keyed hash.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ApiToken {
    id: String,
    secret: String,
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiToken({}, <redacted>)", self.id)
    }
}

impl ApiToken {
    pub fn generate() -> Self {
        let mut rng = rand::rngs::OsRng;
        let id: String = (0..ID_LEN)
            .map(|_| char::from(ID_ALPHABET[rng.gen_range(0..ID_ALPHABET.len())]))
            .collect();
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(crate::random_key());
        Self { id, secret }
    }

    /// Parses a presented token; `None` if it is not shaped like one.
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix(PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        let id_ok =
            !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let secret_ok = (20..=128).contains(&secret.len())
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (id_ok && secret_ok).then(|| Self {
            id: id.to_owned(),
            secret: secret.to_owned(),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The full token, to show to the operator once.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}_{}", self.id, self.secret)
    }
}

/// Hashes API tokens with a server-side key, so a stolen database does not yield tokens and
/// a fast hash suffices (tokens have 256 bits of entropy; Argon2 is for human passwords).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TokenHasher {
    key: [u8; 32],
}

impl std::fmt::Debug for TokenHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHasher(<redacted>)")
    }
}

impl TokenHasher {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    pub fn hash(&self, token: &ApiToken) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"ward.token.v1\0");
        mac.update(token.id.as_bytes());
        mac.update(&[0]);
        mac.update(token.secret.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Constant-time check of a presented token against a stored hash.
    pub fn verify(&self, token: &ApiToken, stored: &[u8]) -> bool {
        let h = self.hash(token);
        stored.len() == h.len() && bool::from(h.as_slice().ct_eq(stored))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_verify() {
        let t = ApiToken::generate();
        let s = t.expose();
        assert!(s.starts_with("ward_"));
        let parsed = ApiToken::parse(&s).unwrap();
        assert_eq!(parsed.id(), t.id());
        let h = TokenHasher::new([7; 32]);
        let stored = h.hash(&t);
        assert!(h.verify(&parsed, &stored));
        assert!(!TokenHasher::new([8; 32]).verify(&parsed, &stored));
        let other = ApiToken::parse(&format!("ward_{}_{}", t.id(), "A".repeat(43))).unwrap();
        assert!(!h.verify(&other, &stored));
        assert!(!h.verify(&parsed, &stored[..31]));
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        for s in [
            "",
            "ward_",
            "ward_abc",
            "bearer_abc_def",
            "ward_ABC_aaaaaaaaaaaaaaaaaaaaaaaa",
            "ward_abc_short",
        ] {
            assert!(ApiToken::parse(s).is_none(), "{s}");
        }
        assert!(format!("{:?}", ApiToken::generate()).ends_with("<redacted>)"));
    }
}
