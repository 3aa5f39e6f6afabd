//! What the processing journal records. An entry names the action, the actor, the subject's
//! pseudonymous id, the purpose and the field *names*; never a value.

use crate::action::{string_enum, ProcessingAction};
use crate::ids::{ApiKeyId, SubjectId};
use std::fmt;
use time::OffsetDateTime;

/// Who did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A request authenticated by this API key.
    ApiKey(ApiKeyId),
    /// An operator at the command line.
    Cli,
    /// Ward itself (background jobs, start-up).
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::ApiKey(k) => write!(f, "key:{k}"),
            Actor::Cli => f.write_str("cli"),
            Actor::System => f.write_str("system"),
        }
    }
}

string_enum! {
    /// Events that are not processing operations on a subject's data but belong in the journal.
    AdminEvent {
        ConsentGiven => "consent.given",
        ConsentWithdrawn => "consent.withdrawn",
        /// A legal basis other than consent was established for the subject (a contract
        /// concluded, an obligation triggered, ...); the detail names the legal basis.
        BasisEstablished => "basis.established",
        /// It ended (a contract ended, ...).
        BasisEnded => "basis.ended",
        /// The subject objected to processing on a legitimate interest.
        BasisObjected => "basis.objected",
        /// The officer recorded overriding grounds after the subject's objection.
        BasisOverridden => "basis.overridden",
        KeyRotation => "key.rotation",
        /// Key-encryption keys were destroyed at the end of their epoch (nothing was still
        /// wrapped under them): every copy of a data key wrapped under them is now unreadable.
        KeyDestroyed => "key.destroyed",
        /// Ward recorded which keys the store is bound to (its key files' fingerprints).
        KeyBinding => "key.binding",
        ApiKeyCreated => "api_key.created",
        ApiKeyRevoked => "api_key.revoked",
        PolicyActivated => "policy.activated",
        /// A published version not yet in force was moved to another effective time.
        PolicyRescheduled => "policy.rescheduled",
        /// A request sent again with its idempotency key was answered with the stored answer
        /// of the first (opened from its seal); nothing was done again.
        RequestReplayed => "request.replayed",
        /// A website visitor's cookie choice was recorded (the visitor id is never journaled).
        CookieConsentRecorded => "cookie_consent.recorded",
        /// A website visitor's cookie consent records were linked to a subject.
        VisitorLinked => "visitor.linked",
        /// The subject was told of a policy version.
        PolicyNotified => "policy.notified",
        /// The subject accepted a policy version (never consent).
        PolicyAccepted => "policy.accepted",
        /// The subject's death was recorded (152-FZ Art. 9 p. 7).
        SubjectDeceased => "subject.deceased",
        /// The register of subjects was listed; the detail names the filters (enums, policy
        /// names, ids and dates only) and how many subjects the page held.
        SubjectsListed => "subjects.listed",
        /// Journal entries were listed; the subject, purpose and the other filters are named.
        JournalRead => "journal.read",
        /// Destruction acts kept for their three years (RKN Order No. 179 p. 8) were deleted.
        ActsPurged => "destruction_acts.purged",
        /// A subject's data (all of it, or categories) was blocked; the detail names the block,
        /// its categories and the reason.
        SubjectBlocked => "subject.blocked",
        /// A block was lifted.
        BlockLifted => "subject.block_lifted",
        /// A message to the subject was queued in the outbox (detail: message id, template).
        MessageQueued => "message.queued",
        /// The delivery job handed a message to the mail server.
        MessageSent => "message.sent",
        /// A delivery attempt failed; the message waits for its next attempt.
        MessageFailed => "message.failed",
        /// A message failed its last allowed attempt and is dead-lettered.
        MessageDead => "message.dead",
        /// The officer put a dead-lettered message back in the queue.
        MessageRequeued => "message.requeued",
        /// An identity verification of a request began; the detail names it, the request,
        /// the method and the state.
        VerificationStarted => "verification.started",
        /// A one-time code was sent again (the detail names the verification).
        VerificationCodeResent => "verification.code_resent",
        /// A one-time code was checked; the detail names the outcome and the attempts
        /// counted, never the code.
        VerificationCodeChecked => "verification.code_checked",
        /// A document was uploaded; the detail names its type, size and SHA-256.
        VerificationDocumentUploaded => "verification.document_uploaded",
        /// The officer read the document.
        VerificationDocumentRead => "verification.document_read",
        /// The officer accepted or rejected the document, with a reason from a fixed list.
        VerificationDecided => "verification.decided",
        /// A data-subject request was filed; the detail names its id, kind, channel and state.
        SubjectRequestFiled => "subject_request.filed",
        /// Its identity verification started (the detail names the verification's id).
        SubjectRequestVerifying => "subject_request.verifying",
        /// The identity was verified (or vouched for): the request is in progress.
        SubjectRequestVerified => "subject_request.verified",
        SubjectRequestPaused => "subject_request.paused",
        SubjectRequestResumed => "subject_request.resumed",
        /// Its term was extended, with the reason's name.
        SubjectRequestExtended => "subject_request.extended",
        SubjectRequestCompleted => "subject_request.completed",
        /// Refused, with the reason's name.
        SubjectRequestRefused => "subject_request.refused",
        /// A request was read (its sealed details opened: named in the detail).
        SubjectRequestRead => "subject_request.read",
        /// The register of requests was listed (the filters' names and values: enums only).
        SubjectRequestsListed => "subject_requests.listed",
        /// An access report or a copy of the subject's data was sealed for a single-use link
        /// (detail: download id, format, expiry; never the token).
        DownloadCreated => "download.created",
        /// A single-use link was used and its document served (detail: download id).
        DownloadServed => "download.served",
    }
}

string_enum! {
    /// How something reached Ward, as the journal may name it. The client's own word for the
    /// channel is free text: it stays in the sealed evidence, and the journal names only its
    /// class, one of these (`other` for any word not listed), so no client text reaches the
    /// append-only journal, which erasure never reaches.
    ChannelClass {
        Web => "web",
        WebForm => "web_form",
        MobileApp => "mobile_app",
        Email => "email",
        Sms => "sms",
        Phone => "phone",
        Paper => "paper",
        InPerson => "in_person",
        Api => "api",
        Import => "import",
        Banner => "banner",
        ContinuedUse => "continued_use",
        Registry => "registry",
        Other => "other",
    }
}

impl ChannelClass {
    /// The class of a client's channel word: the word itself when it is one of the listed
    /// classes, `other` otherwise.
    pub fn of(channel: &str) -> Self {
        channel.parse().unwrap_or(ChannelClass::Other)
    }
}

/// A journal entry's action: a 152-FZ processing operation, or an administrative event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalAction {
    Processing(ProcessingAction),
    Admin(AdminEvent),
}

impl JournalAction {
    pub fn as_str(self) -> &'static str {
        match self {
            JournalAction::Processing(a) => a.as_str(),
            JournalAction::Admin(e) => e.as_str(),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        s.parse()
            .map(JournalAction::Processing)
            .or_else(|_| s.parse().map(JournalAction::Admin))
            .ok()
    }
}

impl fmt::Display for JournalAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ProcessingAction> for JournalAction {
    fn from(a: ProcessingAction) -> Self {
        JournalAction::Processing(a)
    }
}

impl From<AdminEvent> for JournalAction {
    fn from(e: AdminEvent) -> Self {
        JournalAction::Admin(e)
    }
}

/// An entry before the journal has given it a place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalDraft {
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: JournalAction,
    pub subject: Option<SubjectId>,
    pub purpose: Option<String>,
    /// Names of the fields involved, sorted.
    pub fields: Vec<String>,
    /// Extra non-personal context (e.g. `"kek:k2"`, a legal basis, a key id).
    pub detail: Option<String>,
}

impl JournalDraft {
    pub fn new(at: OffsetDateTime, actor: &Actor, action: impl Into<JournalAction>) -> Self {
        Self {
            at,
            actor: actor.to_string(),
            action: action.into(),
            subject: None,
            purpose: None,
            fields: Vec::new(),
            detail: None,
        }
    }

    pub fn subject(mut self, s: SubjectId) -> Self {
        self.subject = Some(s);
        self
    }

    pub fn purpose(mut self, p: impl Into<String>) -> Self {
        self.purpose = Some(p.into());
        self
    }

    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = fields.into_iter().map(Into::into).collect();
        self.fields.sort();
        self.fields.dedup();
        self
    }

    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_both_vocabularies() {
        assert_eq!(
            JournalAction::parse("retrieval"),
            Some(ProcessingAction::Retrieval.into())
        );
        assert_eq!(
            JournalAction::parse("consent.withdrawn"),
            Some(AdminEvent::ConsentWithdrawn.into())
        );
        assert_eq!(JournalAction::parse("steal"), None);
    }

    #[test]
    fn channels_journal_only_their_class() {
        assert_eq!(ChannelClass::of("web_form"), ChannelClass::WebForm);
        assert_eq!(ChannelClass::of("in_person"), ChannelClass::InPerson);
        for free in ["Web_Form", "anna@example.org", "", "gosuslugi", "web form"] {
            assert_eq!(ChannelClass::of(free), ChannelClass::Other, "{free}");
        }
    }

    #[test]
    fn drafts_sort_their_fields() {
        let d = JournalDraft::new(OffsetDateTime::UNIX_EPOCH, &Actor::Cli, ProcessingAction::Use)
            .fields(["phone", "email", "phone"]);
        assert_eq!(d.fields, ["email", "phone"]);
        assert_eq!(d.actor, "cli");
    }
}
