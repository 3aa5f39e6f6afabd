//! The one-time code: made, hashed and sent with the change that issues it; checked in
//! constant time against the hash of the revision read, each wrong answer counted in the
//! store from that revision; replaced by a new one on request.

use super::{entry, next, not_pending, wrong_method, Decision, Verifications};
use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::outbox::templates::VERIFICATION_CODE;
use std::collections::BTreeMap;
use ward_core::authz::Operation;
use ward_core::journal::AdminEvent;
use ward_core::verification::{
    check_code, resend, CodeCheck, CodeStanding, ResendRefusal, VerificationMethod, VerificationState, MAX_ATTEMPTS,
};
use ward_core::{Caller, JournalDraft, ProblemCode, VerificationId};
use ward_crypto::{CodeHasher, OneTimeCode, CODE_KEY_LABEL};
use ward_store::{Change, SubjectRecord, VerificationChange, VerificationRecord};

/// What a code hash is bound to: the verification and the code's serial (0 for the first,
/// then one more per resend), so that an old code never matches a new hash.
fn context(id: VerificationId, serial: u32) -> Vec<u8> {
    let mut c = id.as_bytes().to_vec();
    c.extend_from_slice(&serial.to_be_bytes());
    c
}

impl Verifications<'_> {
    /// The code hasher, under a key derived from the deployment's blind-index key.
    fn hasher(&self) -> CodeHasher {
        CodeHasher::new(self.0.keys().material().blind_index.derive_key(CODE_KEY_LABEL))
    }

    /// A new code for `record` (its serial is `record.resends`): its hash and expiry set on
    /// the record; the code itself is returned to be sent, and is stored nowhere.
    pub(crate) fn new_code(&self, op: &Op<'_>, record: &mut VerificationRecord) -> OneTimeCode {
        let code = OneTimeCode::generate();
        record.code_hash = Some(self.hasher().hash(&context(record.id, record.resends), &code).to_vec());
        record.code_expires_at = Some(op.now + self.0.inner.config.verification_code_ttl);
        code
    }

    /// `change` with the code's message to the subject queued in the same transaction.
    pub(crate) fn send_code(
        &self,
        op: &Op<'_>,
        subject: &SubjectRecord,
        code: &OneTimeCode,
        change: VerificationChange,
        journal: JournalDraft,
    ) -> VaultResult<(Change, Vec<JournalDraft>)> {
        let mut vars: BTreeMap<String, String> = crate::outbox::policy_vars(op);
        vars.insert("code".into(), code.expose().to_owned());
        let minutes = self.0.inner.config.verification_code_ttl.whole_minutes();
        vars.insert("minutes".into(), minutes.to_string());
        let queued = self.0.outbox().queue(
            op,
            subject,
            VERIFICATION_CODE,
            &vars,
            Change::Verification(change),
            vec![journal],
        )?;
        Ok((queued.change, queued.journal))
    }

    /// Checks the code the requester entered. A match in time verifies it; a wrong code is
    /// counted (`code_mismatch`, naming the attempts left) and the third fails it
    /// (`verification_failed`); after expiry (`code_expired`) or failure a code is refused,
    /// the right one too. A code that is not six digits is refused uncounted (`invalid_code`).
    pub async fn check_code(&self, caller: &Caller, id: VerificationId, raw: &str) -> VaultResult<VerificationRecord> {
        let op = self.0.op(caller, Operation::VerificationCheckCode)?;
        let code = OneTimeCode::parse(raw)
            .ok_or_else(|| VaultError::invalid(ProblemCode::InvalidCode, "a code is six digits"))?;
        let hasher = self.hasher();
        let record = self
            .update(id, |found, _| {
                if found.method != VerificationMethod::Code {
                    return Ok(Decision::refuse(wrong_method(found, VerificationMethod::Code)));
                }
                // Compared in constant time, whatever the state: a refusal takes as long.
                let matched = found
                    .code_hash
                    .as_deref()
                    .is_some_and(|h| hasher.matches(&context(found.id, found.resends), &code, h));
                let standing = CodeStanding {
                    state: found.state,
                    attempts: found.attempts,
                    expires_at: found.code_expires_at.unwrap_or(found.created_at),
                };
                let mut after = next(found, op.now);
                let answer = match check_code(standing, op.now, matched) {
                    CodeCheck::NotPending(state) => return Ok(Decision::refuse(not_pending(state))),
                    CodeCheck::Verified => {
                        after.state = VerificationState::Verified;
                        after.code_hash = None;
                        Ok(after.clone())
                    }
                    CodeCheck::Mismatch { attempts, failed } => {
                        after.attempts = attempts;
                        if failed {
                            after.state = VerificationState::Failed;
                            after.code_hash = None;
                            Err(not_pending(VerificationState::Failed))
                        } else {
                            let left = MAX_ATTEMPTS - attempts;
                            Err(VaultError::invalid(
                                ProblemCode::CodeMismatch,
                                format!("the code does not match; attempts left: {left}"),
                            ))
                        }
                    }
                    CodeCheck::Expired => {
                        after.state = VerificationState::Expired;
                        after.code_hash = None;
                        Err(not_pending(VerificationState::Expired))
                    }
                };
                let outcome = match &answer {
                    Ok(_) => "matched",
                    Err(e) if e.code() == ProblemCode::CodeExpired => "expired",
                    Err(_) => "mismatch",
                };
                let journal = entry(
                    &op,
                    &after,
                    AdminEvent::VerificationCodeChecked,
                    &format!("outcome:{outcome} attempts:{}", after.attempts),
                );
                Ok(Decision {
                    change: Some((
                        Change::Verification(VerificationChange::Update {
                            record: after,
                            document: None,
                        }),
                        vec![journal],
                    )),
                    answer,
                })
            })
            .await?;
        self.request_verified(&record).await?;
        Ok(record)
    }

    /// Sends a new code in place of the old (which no longer matches), valid from now; an
    /// expired verification is pending again. The wrong answers already counted stay counted.
    /// At most five new codes (`resend_limit_reached`); none for a final verification.
    pub async fn resend(&self, caller: &Caller, id: VerificationId) -> VaultResult<VerificationRecord> {
        let op = self.0.op(caller, Operation::VerificationResend)?;
        self.update(id, |found, subject| {
            if found.method != VerificationMethod::Code {
                return Ok(Decision::refuse(wrong_method(found, VerificationMethod::Code)));
            }
            match resend(found.state, found.resends) {
                Err(ResendRefusal::Final(state)) => return Ok(Decision::refuse(not_pending(state))),
                Err(ResendRefusal::LimitReached) => {
                    return Ok(Decision::refuse(VaultError::invalid(
                        ProblemCode::ResendLimitReached,
                        "five new codes were sent for this verification already; start a new one",
                    )))
                }
                Ok(()) => {}
            }
            let mut after = next(found, op.now);
            after.resends += 1;
            after.state = VerificationState::Pending;
            let code = self.new_code(&op, &mut after);
            let journal = entry(
                &op,
                &after,
                AdminEvent::VerificationCodeResent,
                &format!("resends:{}", after.resends),
            );
            let change = VerificationChange::Update {
                record: after.clone(),
                document: None,
            };
            let change = self.send_code(&op, subject, &code, change, journal)?;
            Ok(Decision {
                change: Some(change),
                answer: Ok(after),
            })
        })
        .await
    }
}
