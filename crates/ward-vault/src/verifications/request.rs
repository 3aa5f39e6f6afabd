//! How a verification moves its data-subject request on. A verification is started only for
//! a request of the same subject that awaits one (`received` or `verifying`); once started,
//! the request is `verifying` with the verification's id; once verified (vouched at the
//! start, a code matched, a document accepted), the request is `in_progress`. A failed or
//! rejected verification leaves the request `verifying`: the officer starts another or
//! refuses the request (`insufficient_identification`, `insufficient_verification`).
//!
//! The request's step is its own transaction after the verification's (each aggregate commits
//! its own change), run as the system: a crash between the two leaves a verified verification
//! beside a request still `verifying`, which the officer moves on with `POST
//! /v1/requests/{id}/verified` (the journal shows both).

use super::Verifications;
use crate::error::{VaultError, VaultResult};
use ward_core::request::RequestState;
use ward_core::verification::VerificationState;
use ward_core::{Caller, ProblemCode, RequestId, SubjectId};
use ward_store::VerificationRecord;

impl Verifications<'_> {
    /// `request_not_found` unless `request` is a request of `subject`;
    /// `request_transition_invalid` unless it awaits a verification.
    pub(super) async fn request_awaits(&self, request: RequestId, subject: SubjectId) -> VaultResult<()> {
        let found = self
            .0
            .store()
            .find_request(request)
            .await?
            .filter(|r| r.subject == subject)
            .ok_or_else(|| {
                VaultError::NotFound(
                    ProblemCode::RequestNotFound,
                    format!("the subject has no request {request}"),
                )
            })?;
        match found.state {
            RequestState::Received | RequestState::Verifying => Ok(()),
            other => Err(VaultError::invalid(
                ProblemCode::RequestTransitionInvalid,
                format!("a request that is {other} awaits no verification"),
            )),
        }
    }

    /// After a verification started: its request is `verifying` with its id, and
    /// `in_progress` at once when the verification is already verified (vouched).
    pub(super) async fn request_started(&self, record: &VerificationRecord) -> VaultResult<()> {
        self.0
            .requests()
            .start_verification(&Caller::system(), record.request, record.id)
            .await?;
        self.request_verified(record).await
    }

    /// After a verification changed: when it is verified and its request still `verifying`,
    /// the request is `in_progress`.
    pub(super) async fn request_verified(&self, record: &VerificationRecord) -> VaultResult<()> {
        if record.state != VerificationState::Verified {
            return Ok(());
        }
        let waiting = self
            .0
            .store()
            .find_request(record.request)
            .await?
            .is_some_and(|r| r.state == RequestState::Verifying);
        if waiting {
            self.0.requests().verified(&Caller::system(), record.request).await?;
        }
        Ok(())
    }
}
