//! The authorization table: which role may call which vault operation. One table, one
//! question (`authorize`), asked once at the top of every vault entry (through the
//! operation context) and written into the OpenAPI document for every route.
//!
//! The roles:
//! - **admin**: the operator's administrator (keys, policy, configuration). It may also act
//!   on subjects for any purpose it names, and every such act is journaled under its key.
//!   The command line is the operator at the console and is an admin (`Caller::cli`).
//! - **officer**: the privacy officer: requests, registers, journal, destruction. It reads,
//!   rectifies and withdraws only through a purpose it names (any purpose of the policy,
//!   journaled with it); it does not collect data, manage keys or publish the policy.
//! - **service**: the website: subject operations for the purposes listed on its key only.
//! - **subject**: a data subject, for the portal to come. No route serves subjects yet, so
//!   the table allows them nothing, and no key can be issued with this role.
//!
//! Pure: the decision is a function of the role and the operation.

use crate::access::{Caller, Role};
use crate::action::string_enum;

string_enum! {
    /// Every vault entry that acts for a caller.
    Operation {
        SubjectCreate => "subject.create",
        SubjectRead => "subject.read",
        SubjectLookup => "subject.lookup",
        /// The register of subjects: ids and standing facts, never personal data.
        SubjectList => "subject.list",
        SubjectRectify => "subject.rectify",
        SubjectErase => "subject.erase",
        /// Destruction of named categories (or fields) of a subject that stays.
        SubjectDestroy => "subject.destroy",
        /// A basis event (contract concluded or ended, obligation triggered, objection, …).
        BasisRecord => "basis.record",
        BasisOverview => "basis.overview",
        ConsentGive => "consent.give",
        ConsentWithdraw => "consent.withdraw",
        ConsentOverview => "consent.overview",
        ConsentReceipt => "consent.receipt",
        ConsentDocumentRecord => "consent.document_record",
        WrittenConsent => "consent.written_form",
        MayContact => "contact.check",
        VisitorConsentRecord => "visitor.record_consent",
        VisitorConsentList => "visitor.list_consents",
        VisitorLink => "visitor.link",
        PolicyRead => "policy.read",
        PolicyPublish => "policy.publish",
        PolicyNoticeRecord => "policy_notice.record",
        PolicyNoticeList => "policy_notice.list",
        PolicyAcknowledgements => "policy.acknowledgements",
        DeathRecord => "death.record",
        DeathRead => "death.read",
        KeyCreate => "key.create",
        KeyList => "key.list",
        KeyRevoke => "key.revoke",
        KekRotate => "kek.rotate",
        JournalVerify => "journal.verify",
        JournalCheckpoint => "journal.checkpoint",
        /// A deadline computed on the production calendars (no personal data).
        DeadlineCompute => "deadline.compute",
        /// Listing journal entries ("who accessed my data", "what did this key do").
        JournalRead => "journal.read",
        /// Destruction acts (RKN Order No. 179): listing them and reading one.
        ActList => "destruction_act.list",
        ActRead => "destruction_act.read",
        /// The destruction job: executes the destructions that fell due, with their acts.
        DestructionRunDue => "destruction.run_due",
        /// Blocking a subject's data, lifting a block, listing them.
        BlockPlace => "block.place",
        BlockLift => "block.lift",
        BlockList => "block.list",
        /// A templated notice sent to the subject's contact on record, through the outbox.
        NoticeSend => "notice.send",
        /// The outbox's messages (ids, templates, states; never their content).
        OutboxList => "outbox.list",
        /// A dead-lettered message put back in the queue.
        OutboxRetry => "outbox.retry",
        /// Delivery of queued messages (the delivery job, as Ward itself).
        OutboxDeliver => "outbox.deliver",
        /// Starting an identity verification of a request (a service key: `vouched` only).
        VerificationStart => "verification.start",
        /// Reading a verification's state (never its code or document).
        VerificationRead => "verification.read",
        /// Checking a one-time code the requester entered (the portal's call, through the
        /// website's service key, or the officer's on the phone).
        VerificationCheckCode => "verification.check_code",
        /// Sending a new one-time code in place of the old.
        VerificationResend => "verification.resend",
        /// Uploading the scanned document with the subject's signature.
        VerificationUpload => "verification.upload_document",
        /// Reading the uploaded document: the officer, to review it.
        VerificationDocumentRead => "verification.read_document",
        /// Accepting or rejecting the document.
        VerificationDecide => "verification.decide",
        /// A data-subject request filed (intake), by the officer or the website on the
        /// subject's behalf.
        RequestFile => "request.file",
        /// A request read, with its sealed details; a service key reads only its own filings.
        RequestRead => "request.read",
        /// The register of requests (ids, kinds, states, due dates); a service key lists only
        /// its own filings.
        RequestList => "request.list",
        /// The workflow: verification, pause and resume, extension, completion, refusal.
        RequestHandle => "request.handle",
        /// The access report (152-FZ Art. 14 p. 7; GDPR Art. 15), previewed by the officer.
        AccessReport => "subject.access_report",
        /// An access report or a copy of the data sealed for a single-use download link.
        DownloadCreate => "download.create",
        /// A subject's download links: ids, formats, states; never tokens.
        DownloadList => "download.list",
        /// A download link served (as Ward itself: the link's token is the authority).
        DownloadServe => "download.serve",
    }
}

/// What the table says of a role and an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    /// Allowed, whatever purposes the key lists.
    Allowed,
    /// Allowed for the purposes on the caller's key only: the operation names a purpose (or
    /// acts on categories) and the vault refuses one the key does not list
    /// (`purpose_not_allowed_for_key`, or `forbidden` for destruction not covered).
    OwnPurposes,
    /// Refused (`forbidden`).
    Refused,
}

impl Allowance {
    pub fn allows(self) -> bool {
        !matches!(self, Allowance::Refused)
    }
}

/// The table. Rows are operations; columns admin, officer, service, subject.
pub fn allowance(role: Role, operation: Operation) -> Allowance {
    use Allowance::{Allowed as A, OwnPurposes as P, Refused as R};
    use Operation::*;
    let row: [Allowance; 4] = match operation {
        //                            admin officer service subject
        SubjectCreate => [A, R, P, R],
        SubjectRead => [A, A, P, R],
        SubjectLookup => [A, A, P, R],
        SubjectList => [A, A, R, R],
        SubjectRectify => [A, A, P, R],
        SubjectErase => [A, A, P, R],
        SubjectDestroy => [A, A, P, R],
        BasisRecord => [A, A, P, R],
        BasisOverview => [A, A, A, R],
        ConsentGive => [A, A, P, R],
        ConsentWithdraw => [A, A, P, R],
        ConsentOverview => [A, A, A, R],
        ConsentReceipt => [A, A, P, R],
        ConsentDocumentRecord => [A, A, P, R],
        WrittenConsent => [A, A, P, R],
        MayContact => [A, R, A, R],
        VisitorConsentRecord => [A, R, A, R],
        VisitorConsentList => [A, A, A, R],
        VisitorLink => [A, R, P, R],
        PolicyRead => [A, A, A, R],
        PolicyPublish => [A, R, R, R],
        PolicyNoticeRecord => [A, A, A, R],
        PolicyNoticeList => [A, A, A, R],
        PolicyAcknowledgements => [A, A, R, R],
        DeathRecord => [A, A, R, R],
        DeathRead => [A, A, R, R],
        KeyCreate => [A, R, R, R],
        KeyList => [A, R, R, R],
        KeyRevoke => [A, R, R, R],
        KekRotate => [A, R, R, R],
        JournalVerify => [A, A, R, R],
        JournalCheckpoint => [A, A, R, R],
        DeadlineCompute => [A, A, R, R],
        JournalRead => [A, A, R, R],
        ActList => [A, A, R, R],
        ActRead => [A, A, R, R],
        DestructionRunDue => [A, R, R, R],
        BlockPlace => [A, A, R, R],
        BlockLift => [A, A, R, R],
        BlockList => [A, A, R, R],
        NoticeSend => [A, A, R, R],
        OutboxList => [A, A, R, R],
        OutboxRetry => [A, A, R, R],
        OutboxDeliver => [A, R, R, R],
        VerificationStart => [A, A, A, R],
        VerificationRead => [A, A, A, R],
        VerificationCheckCode => [A, A, A, R],
        VerificationResend => [A, A, A, R],
        VerificationUpload => [A, A, A, R],
        VerificationDocumentRead => [A, A, R, R],
        VerificationDecide => [A, A, R, R],
        RequestFile => [A, A, A, R],
        RequestRead => [A, A, A, R],
        RequestList => [A, A, A, R],
        RequestHandle => [A, A, R, R],
        AccessReport => [A, A, R, R],
        DownloadCreate => [A, A, R, R],
        DownloadList => [A, A, R, R],
        DownloadServe => [A, R, R, R],
    };
    row[match role {
        Role::Admin => 0,
        Role::Officer => 1,
        Role::Service => 2,
        Role::Subject => 3,
    }]
}

/// The roles the table allows `operation` to, in [`Role::ALL`] order.
pub fn roles_for(operation: Operation) -> Vec<Role> {
    Role::ALL
        .iter()
        .copied()
        .filter(|r| allowance(*r, operation).allows())
        .collect()
}

/// A refusal by the table. Its message names the role and the operation, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role `{role}` may not call `{operation}` (allowed to: {allowed})")]
pub struct Refused {
    pub role: Role,
    pub operation: Operation,
    allowed: String,
}

/// Asks the table whether `caller` may call `operation`.
pub fn authorize(caller: &Caller, operation: Operation) -> Result<Allowance, Refused> {
    match allowance(caller.role, operation) {
        Allowance::Refused => Err(Refused {
            role: caller.role,
            operation,
            allowed: roles_for(operation)
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
        a => Ok(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Actor;
    use std::collections::BTreeSet;

    fn caller(role: Role) -> Caller {
        Caller {
            actor: Actor::Cli,
            role,
            purposes: BTreeSet::new(),
        }
    }

    #[test]
    fn the_subject_role_is_allowed_nothing_until_the_portal_serves_it() {
        for op in Operation::ALL {
            assert_eq!(allowance(Role::Subject, *op), Allowance::Refused, "{op}");
        }
    }

    #[test]
    fn keys_policy_publication_and_rotation_are_the_admins_alone() {
        for op in [
            Operation::KeyCreate,
            Operation::KeyList,
            Operation::KeyRevoke,
            Operation::KekRotate,
            Operation::PolicyPublish,
        ] {
            assert_eq!(roles_for(op), [Role::Admin], "{op}");
        }
    }

    #[test]
    fn the_officer_handles_requests_registers_journal_and_destruction_but_collects_nothing() {
        let officer = caller(Role::Officer);
        for op in [
            Operation::SubjectErase,
            Operation::SubjectDestroy,
            Operation::ConsentWithdraw,
            Operation::ConsentOverview,
            Operation::DeathRecord,
            Operation::PolicyAcknowledgements,
            Operation::JournalVerify,
            Operation::JournalRead,
            Operation::SubjectList,
            Operation::SubjectRead,
        ] {
            assert!(authorize(&officer, op).is_ok(), "{op}");
        }
        for op in [Operation::SubjectCreate, Operation::KeyCreate, Operation::MayContact] {
            let e = authorize(&officer, op).unwrap_err();
            assert_eq!(e.operation, op);
            assert!(
                e.to_string()
                    .starts_with(&format!("role `officer` may not call `{op}`")),
                "{e}"
            );
        }
    }

    #[test]
    fn service_keys_act_on_subjects_through_their_own_purposes() {
        assert_eq!(
            allowance(Role::Service, Operation::SubjectErase),
            Allowance::OwnPurposes
        );
        assert_eq!(
            allowance(Role::Service, Operation::SubjectDestroy),
            Allowance::OwnPurposes
        );
        assert_eq!(
            allowance(Role::Service, Operation::PolicyNoticeRecord),
            Allowance::Allowed
        );
        assert!(authorize(&caller(Role::Service), Operation::JournalVerify).is_err());
        // The registers are the officer's: a website's key lists no one.
        assert!(authorize(&caller(Role::Service), Operation::SubjectList).is_err());
        assert!(authorize(&caller(Role::Service), Operation::JournalRead).is_err());
    }

    #[test]
    fn the_cli_is_an_admin_and_goes_through_the_table() {
        let cli = Caller::cli();
        assert_eq!(cli.role, Role::Admin);
        for op in Operation::ALL {
            assert!(authorize(&cli, *op).is_ok(), "{op}");
        }
    }
}
