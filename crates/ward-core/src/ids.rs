//! Identifiers. A subject id is a random UUID: pseudonymous, it says nothing about the person.

use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// Declares an id that is a random UUID: `random`, conversions to and from bytes and
/// [`Uuid`], `Display` as the hyphenated UUID and `FromStr` from it.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }
            pub fn from_uuid(u: Uuid) -> Self {
                Self(u)
            }
            pub fn from_bytes(b: [u8; 16]) -> Self {
                Self(Uuid::from_bytes(b))
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id! {
    /// The pseudonymous id of a data subject.
    SubjectId
}

uuid_id! {
    /// The id of a message in the outbox: a random UUID, also the left part of its Message-ID.
    MessageId
}

uuid_id! {
    /// The id of a destruction act (RKN Order No. 179): a random UUID.
    ActId
}

uuid_id! {
    /// The id of a block on a subject's data (152-FZ Art. 21): a random UUID.
    BlockId
}

uuid_id! {
    /// The id of a data-subject request (152-FZ Art. 14, 20, 21; GDPR Art. 12-22): a random UUID.
    RequestId
}

uuid_id! {
    /// The id of an identity verification of a data-subject request: a random UUID.
    VerificationId
}

uuid_id! {
    /// The id of a single-use download (an access report or a copy of the data): a random UUID.
    DownloadId
}

/// The public id of an API key (the part of the token before the secret).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiKeyId(String);

impl ApiKeyId {
    /// Parses a key id: 1 to 32 characters of `[a-z0-9]`.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        ok.then(|| Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
