//! The records a store keeps. Field values, evidence and data keys are opaque sealed bytes.

use time::OffsetDateTime;
use ward_core::access::{Role, SubjectState};
use ward_core::consent::ConsentEventKind;
use ward_core::{JournalDraft, SubjectId};
use ward_crypto::Hash32;

/// A subject's data key, wrapped by a key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub kek_id: String,
    pub wrapped: Vec<u8>,
}

/// A subject as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRecord {
    pub id: SubjectId,
    pub state: SubjectState,
    /// Incremented by every update; updates name the revision they read (optimistic locking).
    pub revision: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub erased_at: Option<OffsetDateTime>,
    /// `None` once erased: the key is destroyed.
    pub key: Option<WrappedKey>,
    /// The sealed field map; `None` once erased.
    pub fields: Option<Vec<u8>>,
}

/// A new subject with everything collected at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubject {
    pub id: SubjectId,
    pub created_at: OffsetDateTime,
    pub key: WrappedKey,
    pub fields: Vec<u8>,
    pub index: Vec<IndexEntry>,
    pub consents: Vec<ConsentEventRecord>,
    /// Bases its collection established (see `ward_core::basis`).
    pub bases: Vec<BasisEventRecord>,
}

/// One blind-index entry of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub field: String,
    pub hash: i64,
}

/// One consent event. `evidence` is sealed with the subject's data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEventRecord {
    pub purpose: String,
    pub kind: ConsentEventKind,
    pub at: OffsetDateTime,
    pub policy_version: String,
    pub evidence: Option<Vec<u8>>,
}

/// One basis event (a legal basis other than consent established, ended, objected to or
/// upheld). `evidence` is sealed with the subject's data key and destroyed by erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasisEventRecord {
    pub purpose: String,
    pub kind: ward_core::basis::BasisEventKind,
    /// When it was recorded.
    pub at: OffsetDateTime,
    /// When the basis began (an obligation's retention runs from it); `at` for other kinds.
    pub start: OffsetDateTime,
    /// The content hash of the policy version it was recorded under.
    pub policy_version: String,
    pub evidence: Option<Vec<u8>>,
}

/// One life-cycle event of a subject (told of a policy version, accepted it, died).
/// `evidence` is sealed with the subject's data key and destroyed by erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectEventRecord {
    pub kind: ward_core::lifecycle::SubjectEventKind,
    pub at: OffsetDateTime,
    /// The policy version's hash, for policy events.
    pub policy_version: Option<String>,
    pub evidence: Option<Vec<u8>>,
}

/// How many distinct subjects were told of a policy version, and how many accepted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PolicyAcknowledgements {
    pub notified: u64,
    pub accepted: u64,
}

/// A live subject's wrapped key, for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKeyRecord {
    pub subject: SubjectId,
    pub key: WrappedKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubjectCounts {
    pub active: u64,
    pub erased: u64,
}

/// The journal's current end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalHead {
    pub seq: i64,
    pub hash: Hash32,
}

/// A journal entry as stored: its content, its place, and its links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// 1-based position.
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    /// The action's name as written (see `ward_core::journal::JournalAction`).
    pub action: String,
    pub subject: Option<SubjectId>,
    pub purpose: Option<String>,
    pub fields: Vec<String>,
    pub detail: Option<String>,
    pub prev_hash: Hash32,
    pub hash: Hash32,
}

/// An API key as stored: a keyed hash of the token, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Purposes a service key may use, sorted.
    pub purposes: Vec<String>,
    pub token_hash: Vec<u8>,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A policy version Ward has run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersionRecord {
    /// Hex SHA-256 of the source text.
    pub hash: String,
    pub policy_id: String,
    pub version: String,
    /// The register (TOML).
    pub source: String,
    /// The human-readable text (Markdown), if published with one.
    pub text: Option<String>,
    /// From when this version is in force.
    pub effective_at: OffsetDateTime,
    pub recorded_at: OffsetDateTime,
}

/// A change and the journal entries that record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOp {
    pub change: crate::Change,
    pub journal: Vec<JournalDraft>,
}

/// What happened to one [`WriteOp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpOutcome {
    Done,
    NotFound,
    Erased,
    /// The revision changed since it was read.
    Conflict,
    AlreadyExists,
    Revoked,
    /// A live idempotency record holds the key the change was claimed under: another request
    /// with the same key did (or is doing) it; nothing of this op was written.
    KeyInUse,
    /// A unique field's index entry is held by a live subject the change's guard did not
    /// know of (see [`crate::write::unique::Guarded`]); nothing of this op was written.
    Duplicate,
}

/// A message to write to the outbox. `payload` (recipient, subject line and body) is sealed
/// with the subject's data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub id: ward_core::MessageId,
    pub subject: SubjectId,
    /// The template's name (e.g. `policy_changed`): not personal data.
    pub template: String,
    /// The language it was rendered in (`ru`, `en`).
    pub language: String,
    pub payload: Vec<u8>,
    pub created_at: OffsetDateTime,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub id: ward_core::MessageId,
    pub subject: SubjectId,
    pub template: String,
    pub language: String,
    pub payload: Vec<u8>,
    pub state: ward_core::outbox::MessageState,
    /// Delivery attempts begun (a claim is an attempt).
    pub attempts: u32,
    /// When it is due (queued messages).
    pub next_attempt_at: OffsetDateTime,
    /// The delivery process that holds it while `sending`, and until when.
    pub claimed_by: Option<String>,
    pub claimed_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
}
