//! Every problem Ward can report, as one enum: its stable wire code, its HTTP status and its
//! title, all derived from the one table below. The vault's errors carry a [`ProblemCode`],
//! the HTTP API renders it as `application/problem+json`, and the OpenAPI document lists, per
//! operation, the codes that operation can return, from this enum.
//!
//! A code's string is a public API: change a variant's name at will, never its string.

/// Declares [`ProblemCode`] from `Variant = ("wire_code", status, "Title")` rows.
macro_rules! problem_codes {
    ($($variant:ident = ($code:literal, $status:literal, $title:literal),)+) => {
        /// A problem Ward can report. See the module documentation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ProblemCode {
            $(#[doc = $title] $variant,)+
        }

        impl ProblemCode {
            /// Every code, in the table's order (grouped by status).
            pub const ALL: &'static [ProblemCode] = &[$(ProblemCode::$variant,)+];

            /// The stable, machine-readable code sent on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ProblemCode::$variant => $code,)+
                }
            }

            /// The HTTP status this problem is answered with.
            pub const fn status(self) -> u16 {
                match self {
                    $(ProblemCode::$variant => $status,)+
                }
            }

            /// A short summary of the problem type, the same for every occurrence.
            pub const fn title(self) -> &'static str {
                match self {
                    $(ProblemCode::$variant => $title,)+
                }
            }

            /// The code whose wire string is `code`, if there is one.
            pub fn parse(code: &str) -> Option<ProblemCode> {
                match code {
                    $($code => Some(ProblemCode::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

problem_codes! {
    InvalidJson = ("invalid_json", 400, "The request body is malformed"),
    UnknownFieldInBody = ("unknown_field_in_body", 400, "The request body has a field this operation does not take"),
    InvalidQuery = ("invalid_query", 400, "The query string is not valid"),
    InvalidPath = ("invalid_path", 400, "The request path is not valid"),
    InvalidIdempotencyKey = ("invalid_idempotency_key", 400, "The Idempotency-Key header is not valid: 1 to 255 visible ASCII characters"),
    InvalidSubjectId = ("invalid_subject_id", 400, "The subject id is not a UUID"),
    InvalidVisitorId = ("invalid_visitor_id", 400, "The visitor id is not valid"),
    InvalidCursor = ("invalid_cursor", 400, "The page cursor is not valid"),
    InvalidFilter = ("invalid_filter", 400, "A listing filter is not valid"),
    InvalidActId = ("invalid_act_id", 400, "The destruction act id is not a UUID"),
    InvalidBlockId = ("invalid_block_id", 400, "The block id is not a UUID"),
    InvalidVerificationId = ("invalid_verification_id", 400, "The verification id is not a UUID"),
    InvalidRequestId = ("invalid_request_id", 400, "The request id is not a UUID"),
    UnknownChannel = ("unknown_channel", 400, "Unknown request channel"),
    PurposeRequired = ("purpose_required", 400, "A purpose is required"),
    UnknownPurpose = ("unknown_purpose", 400, "Unknown purpose"),
    ReasonRequired = ("reason_required", 400, "A reason is required"),
    UnknownReason = ("unknown_reason", 400, "Unknown reason"),
    InvalidReceived = ("invalid_received", 400, "The moment of receipt is not an RFC 3339 date-time with an offset"),
    UnknownRegime = ("unknown_regime", 400, "Unknown regime"),
    UnknownRequestKind = ("unknown_request_kind", 400, "Unknown request kind"),
    UnknownExportFormat = ("unknown_export_format", 400, "Unknown export format: `json`, `csv`, `html` or `report`"),
    Unauthorized = ("unauthorized", 401, "Missing or invalid API key"),
    Forbidden = ("forbidden", 403, "Forbidden"),
    MethodNotAllowedForRole = ("verification_method_not_allowed", 403, "This key may not start a verification by this method"),
    PurposeNotAllowedForKey = ("purpose_not_allowed_for_key", 403, "This API key may not use the purpose"),
    ConsentMissing = ("consent_missing", 403, "The subject has not consented to the purpose"),
    BasisNotEstablished = ("basis_not_established", 403, "The purpose's legal basis is not established for the subject"),
    ConsentScopeExceeded = ("consent_scope_exceeded", 403, "The purpose was widened after the subject consented; the subject must consent again"),
    CategoryNotAllowed = ("category_not_allowed", 403, "The purpose may not use this category of data"),
    ActionNotCovered = ("action_not_covered", 403, "The purpose does not cover this processing action"),
    NotFound = ("not_found", 404, "No such resource"),
    SubjectNotFound = ("subject_not_found", 404, "No such subject"),
    ApiKeyNotFound = ("api_key_not_found", 404, "No such API key"),
    ConsentNotFound = ("consent_not_found", 404, "No such consent"),
    UnknownConsentDocument = ("unknown_consent_document", 404, "The policy in force has no such consent document"),
    PolicyVersionNotFound = ("policy_version_not_found", 404, "No such policy version"),
    DeathNotRecorded = ("death_not_recorded", 404, "No death is recorded for the subject"),
    VisitorNotFound = ("visitor_not_found", 404, "No cookie choice is on record for this visitor"),
    ActNotFound = ("destruction_act_not_found", 404, "No such destruction act"),
    BlockNotFound = ("block_not_found", 404, "No such block in force on the subject"),
    VerificationNotFound = ("verification_not_found", 404, "No such identity verification"),
    DocumentNotFound = ("document_not_found", 404, "No document was uploaded for this verification"),
    UnknownTemplate = ("unknown_template", 404, "No message template has this name"),
    MessageNotFound = ("message_not_found", 404, "No such message in the outbox"),
    RequestNotFound = ("request_not_found", 404, "No such data-subject request"),
    DownloadNotFound = ("download_not_found", 404, "No such download link"),
    MethodNotAllowed = ("method_not_allowed", 405, "Method not allowed"),
    Conflict = ("conflict", 409, "Conflict"),
    DuplicateValue = ("duplicate_value", 409, "Another subject already holds this value of a unique field"),
    IdempotencyInProgress = ("idempotency_in_progress", 409, "A request with this idempotency key is still in progress, or its answer was not recorded"),
    PolicyVersionInForce = ("policy_version_in_force", 409, "This content is a published version that has already taken effect"),
    WrongVerificationMethod = ("wrong_verification_method", 409, "The verification does not use this method"),
    VerificationNotPending = ("verification_not_pending", 409, "The verification is no longer pending"),
    VerificationFailed = ("verification_failed", 409, "The verification failed: too many wrong codes"),
    CodeExpired = ("code_expired", 409, "The code expired; ask for a new one"),
    ResendLimitReached = ("resend_limit_reached", 409, "No more codes may be sent for this verification"),
    MessageNotDead = ("message_not_dead", 409, "Only a dead-lettered message can be retried"),
    RequestTransitionInvalid = ("request_transition_invalid", 409, "The request's state does not allow this step"),
    RequestAlreadyExtended = ("request_already_extended", 409, "The request's term was already extended once"),
    PolicyVersionScheduled = ("policy_version_scheduled", 409, "This content is a published version that takes effect at another time"),
    SubjectErased = ("subject_erased", 410, "The subject's data has been erased"),
    DownloadUsed = ("download_used", 410, "This download link has been used: a link serves its document once"),
    DownloadExpired = ("download_expired", 410, "This download link has expired"),
    DocumentTooLarge = ("document_too_large", 413, "The document is larger than 10 MiB"),
    BodyTooLarge = ("body_too_large", 413, "The request body is too large"),
    UnsupportedDocumentType = ("unsupported_document_type", 415, "The document is not a PDF, JPEG or PNG"),
    UnsupportedMediaType = ("unsupported_media_type", 415, "The request body must be JSON"),
    UnknownField = ("unknown_field", 422, "Unknown field"),
    IdempotencyKeyReused = ("idempotency_key_reused", 422, "This idempotency key was used for another request"),
    UnknownCategory = ("unknown_category", 422, "Unknown category of data"),
    InvalidFields = ("invalid_fields", 422, "Some fields are invalid"),
    InvalidEvidence = ("invalid_evidence", 422, "The consent evidence is invalid"),
    FieldNotSearchable = ("field_not_searchable", 422, "The field cannot be searched"),
    ConsentNotApplicable = ("consent_not_applicable", 422, "The purpose does not rest on consent"),
    BasisEventNotApplicable = ("basis_event_not_applicable", 422, "The event does not apply to the purpose's legal basis or to where the subject stands on it"),
    EmptyChange = ("empty_change", 422, "Nothing to change"),
    PurposesRequired = ("purposes_required", 422, "A service key needs purposes"),
    PurposesNotApplicable = ("purposes_not_applicable", 422, "Admin and officer keys take no purposes"),
    InvalidKeyName = ("invalid_key_name", 422, "Invalid key name"),
    InvalidPolicy = ("invalid_policy", 422, "The policy has problems"),
    PolicyIdChanged = ("policy_id_changed", 422, "The policy's id is not the id of the version in force"),
    InvalidAgeBand = ("invalid_age_band", 422, "The age band is not valid"),
    GuardianConsentRequired = ("guardian_consent_required", 422, "The subject is below the age to consent alone"),
    BelowMinimumAge = ("below_minimum_age", 422, "The policy admits no one of the subject's age, whoever consents"),
    AmbiguousPolicyVersion = ("ambiguous_policy_version", 422, "The version prefix matches several versions"),
    WrittenConsentRequired = ("written_consent_required", 422, "This consent must be given in writing (signed paper or e-signature)"),
    SignatureRequired = ("signature_required", 422, "An e-signature consent needs the signed artefact and its verification"),
    InvalidSignature = ("invalid_signature", 422, "The e-signature evidence is not valid"),
    SignatureNotValid = ("signature_not_valid", 422, "The signature was not verified as valid"),
    DistributionTermsRequired = ("distribution_terms_required", 422, "A distribution consent lists the categories permitted to be made public"),
    InvalidDistributionTerms = ("invalid_distribution_terms", 422, "The distribution terms are not valid"),
    SeparateConsentRequired = ("separate_consent_required", 422, "This consent is a separate document and must be given on its own"),
    HeirConsentRequired = ("heir_consent_required", 422, "The subject has died; consent is given by their heirs"),
    InvalidNotice = ("invalid_notice", 422, "The policy notice is not valid"),
    CodeMismatch = ("code_mismatch", 422, "The code is not the one sent"),
    InvalidCode = ("invalid_code", 422, "A code is six digits"),
    UnknownVerificationMethod = ("unknown_verification_method", 422, "Unknown verification method: `vouched`, `code` or `document`"),
    NoContactOnRecord = ("no_contact_on_record", 422, "The subject has no e-mail address on record to send to"),
    InvalidDeathRecord = ("invalid_death_record", 422, "The death record is not valid"),
    InvalidBannerVersion = ("invalid_banner_version", 422, "The banner version is not valid"),
    UnknownCookieCategory = ("unknown_cookie_category", 422, "Unknown cookie category"),
    InvalidCookieChoice = ("invalid_cookie_choice", 422, "A cookie choice must be `granted` or `denied`"),
    NecessaryCannotBeDenied = ("necessary_cannot_be_denied", 422, "Strictly necessary cookies cannot be denied"),
    CalendarMissing = ("calendar_missing", 422, "No production calendar covers a day the term runs through"),
    NoDeadline = ("no_deadline", 422, "None of the regimes sets a term for this kind"),
    ExtensionAfterDueDate = ("extension_after_due_date", 422, "The term can be extended only before its due date has passed"),
    ExtensionNotAllowed = ("extension_not_allowed", 422, "None of the request's regimes allows extending this kind's term"),
    CitationRequired = ("citation_required", 422, "A refusal for a legal restriction cites the law"),
    ChannelNotAllowed = ("channel_not_allowed", 422, "This caller may not file a request by this channel"),
    RequestDetailsRequired = ("request_details_required", 422, "The request lacks details its kind needs"),
    SubjectBlocked = ("subject_blocked", 423, "The data is blocked: only verification and rectification may use it"),
    InternalError = ("internal_error", 500, "Internal error"),
    StorageUnavailable = ("storage_unavailable", 503, "Storage is unavailable"),
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ProblemCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A code compares equal to its wire string, so `assert_eq!(err.code(), "consent_missing")`
/// reads as the client sees it.
impl PartialEq<str> for ProblemCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ProblemCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<ProblemCode> for &str {
    fn eq(&self, other: &ProblemCode) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_and_round_trip() {
        let mut seen = HashSet::new();
        for &p in ProblemCode::ALL {
            let code = p.as_str();
            assert!(seen.insert(code), "duplicate {code}");
            assert!(
                !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
            assert_eq!(ProblemCode::parse(code), Some(p));
            assert_eq!(p.to_string(), code);
            assert_eq!(p, code);
        }
        assert_eq!(ProblemCode::parse("no_such_code"), None);
    }

    #[test]
    fn statuses_are_client_or_server_errors_and_titles_are_given() {
        for &p in ProblemCode::ALL {
            assert!((400..600).contains(&p.status()), "{p}");
            assert!(!p.title().is_empty(), "{p}");
        }
    }

    #[test]
    fn the_table_is_grouped_by_status() {
        let statuses: Vec<u16> = ProblemCode::ALL.iter().map(|p| p.status()).collect();
        let mut sorted = statuses.clone();
        sorted.sort_unstable();
        assert_eq!(statuses, sorted);
    }
}
