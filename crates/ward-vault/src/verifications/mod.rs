//! Identity verification of data-subject requests (issue 19; 152-FZ Art. 14 p. 3, GDPR
//! Art. 12 p. 6): a verification of its own, keyed by `VerificationId`, for one request and
//! one subject, by one method (`ward_core::verification`):
//!
//! - `vouched`: a website's service key vouches that it signed the subject in: verified at
//!   once (the only method a service key may start);
//! - `code` (`code.rs`): six digits from the CSPRNG, sent to the e-mail address on record
//!   through the outbox in the verification's own transaction, stored only as a keyed hash,
//!   compared in constant time, valid for `VaultConfig::verification_code_ttl`, three wrong
//!   answers per verification, five new codes at most;
//! - `document` (`document.rs`): a scanned document with the subject's signature (PDF, JPEG
//!   or PNG by its content, 10 MiB at most), sealed under the subject's key with its SHA-256
//!   in the journal; the officer reads it (journaled) and accepts or rejects it with a reason
//!   from a fixed list.
//!
//! Every change is made from the revision read ([`Verifications::update`]): the store applies
//! it only to that revision, so concurrent code checks are counted one after another and never
//! more than three. Success returns the [`VerificationRecord`]: its request and its state, for
//! the caller that moves the request on.

mod code;
mod document;
mod request;

pub use document::{document_type, Decide, Document};

use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::kernel::subject_outcome;
use crate::Vault;
use ward_core::access::Role;
use ward_core::authz::Operation;
use ward_core::journal::AdminEvent;
use ward_core::verification::{initial_state, state_at, VerificationMethod, VerificationState};
use ward_core::{Caller, JournalDraft, ProblemCode, RequestId, SubjectId, VerificationId};
use ward_store::{Change, OpOutcome, SubjectRecord, VerificationChange, VerificationRecord};

/// How many times a change made from a stale revision is decided again before giving up.
/// Each round commits at least one contender's change, and a code verification takes at most
/// three counted attempts, so a few rounds settle any crowd of guesses.
const MAX_ROUNDS: usize = 64;

/// The verification service, reached by [`Vault::verifications`].
#[derive(Clone, Copy)]
pub struct Verifications<'v>(pub(crate) &'v Vault);

/// A verification to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewVerification {
    pub request: RequestId,
    pub subject: SubjectId,
    pub method: VerificationMethod,
}

/// The verification method a client named: one of [`VerificationMethod`]'s names.
pub fn verification_method(raw: &str) -> VaultResult<VerificationMethod> {
    raw.trim().parse().map_err(|e: ward_core::action::UnknownName| {
        VaultError::invalid(
            ProblemCode::UnknownVerificationMethod,
            format!("the method is not one of: {}", e.expected.join(", ")),
        )
    })
}

/// The officer's reason for a decision on a document: required, one of [`DecisionReason`]'s
/// names.
pub fn decision_reason(raw: Option<&str>) -> VaultResult<ward_core::verification::DecisionReason> {
    crate::error::named_reason(raw, "the decision")
}

/// What one round of an update decided: the change to commit (none: refuse without writing),
/// and the answer once it is committed.
pub(crate) struct Decision<T> {
    pub change: Option<(Change, Vec<JournalDraft>)>,
    pub answer: VaultResult<T>,
}

impl<T> Decision<T> {
    fn refuse(e: VaultError) -> Self {
        Decision {
            change: None,
            answer: Err(e),
        }
    }
}

impl Verifications<'_> {
    /// Starts verifying `new.request`: `vouched` is verified at once, `code` sends a code to
    /// the e-mail address on record (queued in the same transaction), `document` waits for
    /// the upload. A service key may start only `vouched` (`verification_method_not_allowed`).
    pub async fn start(&self, caller: &Caller, new: NewVerification) -> VaultResult<VerificationRecord> {
        let v = self.0;
        let op = v.op(caller, Operation::VerificationStart)?;
        if caller.role == Role::Service && new.method != VerificationMethod::Vouched {
            return Err(VaultError::invalid(
                ProblemCode::MethodNotAllowedForRole,
                format!(
                    "a service key may only vouch for the subject (method `vouched`), not start `{}`",
                    new.method
                ),
            ));
        }
        let subject = v.active_subject(new.subject).await?;
        self.request_awaits(new.request, new.subject).await?;
        let id = VerificationId::random();
        let mut record = VerificationRecord {
            id,
            request: new.request,
            subject: new.subject,
            method: new.method,
            state: initial_state(new.method),
            revision: 1,
            attempts: 0,
            resends: 0,
            code_hash: None,
            code_expires_at: None,
            document_type: None,
            document_size: None,
            document_sha256: None,
            reason: None,
            created_at: op.now,
            updated_at: op.now,
        };
        let entry = entry(
            &op,
            &record,
            AdminEvent::VerificationStarted,
            &format!("method:{}", new.method),
        );
        let (change, journal) = if new.method == VerificationMethod::Code {
            let code = self.new_code(&op, &mut record);
            self.send_code(&op, &subject, &code, VerificationChange::Create(record.clone()), entry)?
        } else {
            (
                Change::Verification(VerificationChange::Create(record.clone())),
                vec![entry],
            )
        };
        v.commit_to_subject(change, journal, "starting a verification").await?;
        self.request_started(&record).await?;
        Ok(record)
    }

    /// The verification: its method, state, attempts and document's digest; never its code
    /// or its document.
    ///
    /// A pending code verification whose code has expired is answered as `expired` (as of the
    /// call's time), whether or not it was checked since.
    pub async fn get(&self, caller: &Caller, id: VerificationId) -> VaultResult<VerificationRecord> {
        let op = self.0.op(caller, Operation::VerificationRead)?;
        let mut record = self.find(id).await?;
        record.state = state_at(record.state, record.method, record.code_expires_at, op.now);
        Ok(record)
    }

    pub(crate) async fn find(&self, id: VerificationId) -> VaultResult<VerificationRecord> {
        self.0.store().find_verification(id).await?.ok_or_else(not_found)
    }

    /// Reads the verification and its (active) subject, lets `decide` make the next revision
    /// from them, and commits it from the revision read. When another change came first
    /// (`Conflict`) it reads and decides again, so every decision is made on what is stored.
    pub(crate) async fn update<T>(
        &self,
        id: VerificationId,
        mut decide: impl FnMut(&VerificationRecord, &SubjectRecord) -> VaultResult<Decision<T>>,
    ) -> VaultResult<T> {
        let v = self.0;
        for _ in 0..MAX_ROUNDS {
            let found = self.find(id).await?;
            let subject = v.active_subject(found.subject).await?;
            let Decision { change, answer } = decide(&found, &subject)?;
            let Some((change, journal)) = change else {
                return answer;
            };
            match v.commit(change, journal).await? {
                OpOutcome::Done => return answer,
                OpOutcome::Conflict => continue,
                OpOutcome::NotFound => return Err(not_found()),
                other => return Err(subject_outcome(other, "updating a verification")),
            }
        }
        Err(VaultError::Unavailable(
            "the verification kept changing under this call; try again".into(),
        ))
    }
}

/// `record`'s next revision, changed at `now`.
pub(crate) fn next(record: &VerificationRecord, now: time::OffsetDateTime) -> VerificationRecord {
    VerificationRecord {
        revision: record.revision + 1,
        updated_at: now,
        ..record.clone()
    }
}

/// A journal entry about `record`: its id, request and state, and `more` (ids, enums,
/// counts and digests only).
pub(crate) fn entry(op: &Op<'_>, record: &VerificationRecord, event: AdminEvent, more: &str) -> JournalDraft {
    JournalDraft::new(op.now, op.actor(), event)
        .subject(record.subject)
        .detail(format!(
            "verification:{} request:{} {more} state:{}",
            record.id, record.request, record.state
        ))
}

/// The refusal of a change to a verification that is not pending.
pub(crate) fn not_pending(state: VerificationState) -> VaultError {
    match state {
        VerificationState::Failed => VaultError::invalid(
            ProblemCode::VerificationFailed,
            "the verification failed after three wrong codes; start a new one",
        ),
        VerificationState::Expired => {
            VaultError::invalid(ProblemCode::CodeExpired, "the code expired; ask for a new one")
        }
        other => VaultError::invalid(
            ProblemCode::VerificationNotPending,
            format!("the verification is {other}: nothing more can change it"),
        ),
    }
}

/// The refusal of a call meant for another method.
pub(crate) fn wrong_method(record: &VerificationRecord, wanted: VerificationMethod) -> VaultError {
    VaultError::invalid(
        ProblemCode::WrongVerificationMethod,
        format!("the verification uses method `{}`, not `{wanted}`", record.method),
    )
}

pub(crate) fn not_found() -> VaultError {
    VaultError::NotFound(ProblemCode::VerificationNotFound, "no verification has this id".into())
}
