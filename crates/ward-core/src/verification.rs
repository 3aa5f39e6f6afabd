//! Identity verification of a data-subject request (152-FZ Art. 14, GDPR Art. 12 p. 6): how
//! the requester proved to be the subject, and the states of that proof. Three methods: the
//! website vouches that it signed the subject in; a one-time code sent to the contact on
//! record; a scanned document with the subject's signature, which the officer accepts or
//! rejects. The rules here are pure functions of a verification's state, the time and the
//! outcome of the code comparison (done in constant time by `ward-crypto`).

use crate::action::string_enum;
use time::{Duration, OffsetDateTime};

string_enum! {
    /// How the requester proves to be the subject.
    VerificationMethod {
        /// A website's service key vouches that it signed the subject in: verified at once.
        Vouched => "vouched",
        /// A one-time code sent to a contact on record.
        Code => "code",
        /// A scanned document with the subject's signature, reviewed by the officer.
        Document => "document",
    }
}

string_enum! {
    /// Where a verification stands.
    VerificationState {
        /// Waiting for the code or for the document and the officer's decision.
        Pending => "pending",
        /// The requester is the subject.
        Verified => "verified",
        /// The code was wrong [`MAX_ATTEMPTS`] times: final.
        Failed => "failed",
        /// The code expired before it was entered; a new code ([`resend`]) makes it pending.
        Expired => "expired",
        /// The officer rejected the document: final.
        Rejected => "rejected",
    }
}

string_enum! {
    /// Why the officer accepts or rejects a document: a fixed list, so that the journal holds
    /// no client text.
    DecisionReason {
        /// Accepting: the signature matches the one on record (or the document proves identity).
        SignatureMatches => "signature_matches",
        /// Accepting: identity confirmed by the document (an identity document's details).
        IdentityConfirmed => "identity_confirmed",
        /// Rejecting: the scan cannot be read.
        Illegible => "illegible",
        /// Rejecting: the document is not signed.
        SignatureMissing => "signature_missing",
        /// Rejecting: the signature does not match.
        SignatureMismatch => "signature_mismatch",
        /// Rejecting: the document is about someone else.
        NotTheSubject => "not_the_subject",
        /// Rejecting: the request lacks what the law asks of it (Art. 14 p. 3).
        Incomplete => "incomplete",
    }
}

impl DecisionReason {
    /// Whether the reason is one for accepting.
    pub fn accepts(self) -> bool {
        matches!(
            self,
            DecisionReason::SignatureMatches | DecisionReason::IdentityConfirmed
        )
    }
}

/// The number of digits of a one-time code.
pub const CODE_DIGITS: usize = 6;
/// How long a code is valid by default.
pub const DEFAULT_CODE_TTL: Duration = Duration::minutes(15);
/// Wrong answers a verification takes: the last of them fails it.
pub const MAX_ATTEMPTS: u32 = 3;
/// New codes a verification may send after its first.
pub const MAX_RESENDS: u32 = 5;
/// The largest document accepted: 10 MiB.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

impl VerificationState {
    /// Whether nothing changes it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            VerificationState::Verified | VerificationState::Failed | VerificationState::Rejected
        )
    }
}

/// The state a verification starts in: vouched is verified at once, the others pend.
pub fn initial_state(method: VerificationMethod) -> VerificationState {
    match method {
        VerificationMethod::Vouched => VerificationState::Verified,
        VerificationMethod::Code | VerificationMethod::Document => VerificationState::Pending,
    }
}

/// The state as of `now`: a pending code verification whose code expired is `expired` whether
/// or not anyone has checked it since (nothing time-based needs a job to be right); the stored
/// state otherwise.
pub fn state_at(
    state: VerificationState,
    method: VerificationMethod,
    code_expires_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> VerificationState {
    match (state, method, code_expires_at) {
        (VerificationState::Pending, VerificationMethod::Code, Some(at)) if now >= at => VerificationState::Expired,
        _ => state,
    }
}

/// Where a code verification stands for a check, before the comparison counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeStanding {
    pub state: VerificationState,
    pub attempts: u32,
    pub expires_at: OffsetDateTime,
}

/// What a code check does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// The code matched in time: the verification is verified.
    Verified,
    /// A wrong code: `attempts` now counted; `failed` when it was the last allowed.
    Mismatch { attempts: u32, failed: bool },
    /// The code expired: the verification becomes expired (whatever was entered).
    Expired,
    /// The verification is not pending (failed, expired, verified, rejected): refused,
    /// nothing counted. A correct code is refused too.
    NotPending(VerificationState),
}

/// The check of a code at `now`, given whether it matched (compared in constant time by the
/// caller). Expiry wins over a match: a correct code after its expiry is refused.
pub fn check_code(standing: CodeStanding, now: OffsetDateTime, matched: bool) -> CodeCheck {
    if standing.state != VerificationState::Pending {
        return CodeCheck::NotPending(standing.state);
    }
    if now >= standing.expires_at {
        return CodeCheck::Expired;
    }
    if matched {
        return CodeCheck::Verified;
    }
    let attempts = standing.attempts + 1;
    CodeCheck::Mismatch {
        attempts,
        failed: attempts >= MAX_ATTEMPTS,
    }
}

/// Why a new code cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendRefusal {
    /// The verification is verified, failed or rejected.
    Final(VerificationState),
    /// [`MAX_RESENDS`] new codes were sent already.
    LimitReached,
}

/// Whether a new code may replace the old: a pending or expired code verification with
/// resends left. The attempts already counted stay counted (three per verification, not per
/// code), so resending does not buy guesses.
pub fn resend(state: VerificationState, resends: u32) -> Result<(), ResendRefusal> {
    if state.is_final() {
        return Err(ResendRefusal::Final(state));
    }
    if resends >= MAX_RESENDS {
        return Err(ResendRefusal::LimitReached);
    }
    Ok(())
}

string_enum! {
    /// The kinds of document accepted, by their content (sniffed, never the client's word).
    DocumentType {
        Pdf => "application/pdf",
        Jpeg => "image/jpeg",
        Png => "image/png",
    }
}

/// The type of a document by its first bytes: PDF (`%PDF-`), JPEG (`FF D8 FF`), PNG (its
/// eight-byte signature); `None` for anything else.
pub fn sniff(bytes: &[u8]) -> Option<DocumentType> {
    if bytes.starts_with(b"%PDF-") {
        Some(DocumentType::Pdf)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(DocumentType::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(DocumentType::Png)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(state: VerificationState, attempts: u32) -> CodeStanding {
        CodeStanding {
            state,
            attempts,
            expires_at: OffsetDateTime::UNIX_EPOCH + Duration::minutes(15),
        }
    }

    #[test]
    fn the_third_wrong_code_fails_and_nothing_after_counts() {
        let t = OffsetDateTime::UNIX_EPOCH;
        let pending = VerificationState::Pending;
        assert_eq!(
            check_code(standing(pending, 0), t, false),
            CodeCheck::Mismatch {
                attempts: 1,
                failed: false
            }
        );
        assert_eq!(
            check_code(standing(pending, 2), t, false),
            CodeCheck::Mismatch {
                attempts: 3,
                failed: true
            }
        );
        assert_eq!(check_code(standing(pending, 2), t, true), CodeCheck::Verified);
        let failed = VerificationState::Failed;
        assert_eq!(
            check_code(standing(failed, 3), t, true),
            CodeCheck::NotPending(failed),
            "a correct code after failure is refused"
        );
    }

    #[test]
    fn a_correct_code_after_expiry_is_refused() {
        let s = standing(VerificationState::Pending, 0);
        assert_eq!(
            check_code(s, s.expires_at - Duration::seconds(1), true),
            CodeCheck::Verified
        );
        assert_eq!(check_code(s, s.expires_at, true), CodeCheck::Expired);
        let expired = standing(VerificationState::Expired, 0);
        assert_eq!(
            check_code(expired, OffsetDateTime::UNIX_EPOCH, true),
            CodeCheck::NotPending(VerificationState::Expired)
        );
    }

    #[test]
    fn a_pending_code_is_expired_by_the_clock_alone() {
        let at = OffsetDateTime::UNIX_EPOCH + Duration::minutes(15);
        let (p, code) = (VerificationState::Pending, VerificationMethod::Code);
        assert_eq!(state_at(p, code, Some(at), at - Duration::seconds(1)), p);
        assert_eq!(state_at(p, code, Some(at), at), VerificationState::Expired);
        let verified = VerificationState::Verified;
        assert_eq!(state_at(verified, code, Some(at), at), verified);
        assert_eq!(state_at(p, VerificationMethod::Document, None, at), p);
    }

    #[test]
    fn resends_are_limited_and_revive_only_what_is_not_final() {
        assert_eq!(resend(VerificationState::Pending, 0), Ok(()));
        assert_eq!(resend(VerificationState::Expired, 4), Ok(()));
        assert_eq!(
            resend(VerificationState::Pending, MAX_RESENDS),
            Err(ResendRefusal::LimitReached)
        );
        for s in [
            VerificationState::Verified,
            VerificationState::Failed,
            VerificationState::Rejected,
        ] {
            assert_eq!(resend(s, 0), Err(ResendRefusal::Final(s)));
        }
    }

    #[test]
    fn vouched_is_verified_at_once() {
        assert_eq!(initial_state(VerificationMethod::Vouched), VerificationState::Verified);
        assert_eq!(initial_state(VerificationMethod::Code), VerificationState::Pending);
        assert_eq!(initial_state(VerificationMethod::Document), VerificationState::Pending);
    }

    #[test]
    fn documents_are_known_by_their_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(DocumentType::Pdf));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0]), Some(DocumentType::Jpeg));
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Some(DocumentType::Png)
        );
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"<html>%PDF-"), None);
        assert!(DecisionReason::SignatureMatches.accepts() && !DecisionReason::Illegible.accepts());
    }
}
