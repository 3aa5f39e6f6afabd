//! The scanned document: uploaded (its type by its content, never the client's word), sealed
//! under the subject's key with its SHA-256 journaled; read by the officer through the gate
//! (journaled); accepted or rejected with a reason from a fixed list (journaled).

use super::{entry, next, not_pending, wrong_method, Decision, Verifications};
use crate::error::{VaultError, VaultResult};
use crate::gate::Reason;
use crate::sealed;
use sha2::{Digest, Sha256};
use ward_core::authz::Operation;
use ward_core::journal::AdminEvent;
use ward_core::verification::{
    sniff, DecisionReason, DocumentType, VerificationMethod, VerificationState, MAX_DOCUMENT_BYTES,
};
use ward_core::{Caller, JournalDraft, ProblemCode, VerificationId};
use ward_store::{Change, OpOutcome, VerificationChange, VerificationRecord};

/// The officer's decision on a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decide {
    Accept,
    Reject,
}

/// A document as the officer reads it.
#[derive(Clone, PartialEq, Eq)]
pub struct Document {
    pub content_type: DocumentType,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Document({}, {} bytes)", self.content_type, self.bytes.len())
    }
}

/// The document's type by its content; `declared` (the client's `Content-Type`, if any) must
/// agree. `document_too_large` over 10 MiB, `unsupported_document_type` for anything but a
/// PDF, JPEG or PNG.
pub fn document_type(bytes: &[u8], declared: Option<&str>) -> VaultResult<DocumentType> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(VaultError::invalid(
            ProblemCode::DocumentTooLarge,
            format!("the document has more than {MAX_DOCUMENT_BYTES} bytes"),
        ));
    }
    let unsupported = |why: &str| VaultError::invalid(ProblemCode::UnsupportedDocumentType, why.to_owned());
    let sniffed = sniff(bytes).ok_or_else(|| unsupported("the content is not a PDF, JPEG or PNG"))?;
    if let Some(declared) = declared {
        let essence = declared.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case(sniffed.as_str()) {
            return Err(unsupported(
                "the content is not of the type the Content-Type header names",
            ));
        }
    }
    Ok(sniffed)
}

impl Verifications<'_> {
    /// Stores the scanned document of a pending `document` verification, sealed under the
    /// subject's key, replacing an earlier upload; the journal records its type, size and
    /// SHA-256.
    pub async fn upload(
        &self,
        caller: &Caller,
        id: VerificationId,
        bytes: &[u8],
        declared: Option<&str>,
    ) -> VaultResult<VerificationRecord> {
        let v = self.0;
        let op = v.op(caller, Operation::VerificationUpload)?;
        let kind = document_type(bytes, declared)?;
        let sha256 = hex::encode(Sha256::digest(bytes));
        let found = self.find(id).await?;
        let subject = v.active_subject(found.subject).await?;
        // Sealed once: the key and the associated data do not change between rounds.
        let sealed_document = v
            .data_key(&subject)?
            .seal(&sealed::document_aad(found.subject, id), bytes);
        self.update(id, |found, _| {
            if found.method != VerificationMethod::Document {
                return Ok(Decision::refuse(wrong_method(found, VerificationMethod::Document)));
            }
            if found.state != VerificationState::Pending {
                return Ok(Decision::refuse(not_pending(found.state)));
            }
            let mut after = next(found, op.now);
            after.document_type = Some(kind);
            after.document_size = Some(bytes.len() as u64);
            after.document_sha256 = Some(sha256.clone());
            let journal = entry(
                &op,
                &after,
                AdminEvent::VerificationDocumentUploaded,
                &format!("type:{kind} size:{} sha256:{sha256}", bytes.len()),
            );
            Ok(Decision {
                change: Some((
                    Change::Verification(VerificationChange::Update {
                        record: after.clone(),
                        document: Some(sealed_document.clone()),
                    }),
                    vec![journal],
                )),
                answer: Ok(after),
            })
        })
        .await
    }

    /// The uploaded document, opened through the gate for the officer's review; the opening
    /// is journaled (with the document's SHA-256) before it is returned. An erased subject's
    /// document is gone with its key (`subject_erased`).
    pub async fn document(&self, caller: &Caller, id: VerificationId) -> VaultResult<Document> {
        let v = self.0;
        let op = v.op(caller, Operation::VerificationDocumentRead)?;
        let found = self.find(id).await?;
        let subject = v.active_subject(found.subject).await?;
        let (Some(content_type), Some(sha256)) = (found.document_type, found.document_sha256.clone()) else {
            return Err(no_document());
        };
        let sealed_document = v
            .store()
            .find_verification_document(id)
            .await?
            .ok_or_else(no_document)?;
        let mut gate = v.gate(&op, &subject, Reason::VerificationDocument, None)?;
        let bytes = gate.document(id, &sealed_document)?;
        let journal = gate.stamp(entry(
            &op,
            &found,
            AdminEvent::VerificationDocumentRead,
            &format!("sha256:{sha256}"),
        ));
        match v.commit(Change::JournalOnly, vec![journal]).await? {
            OpOutcome::Done => Ok(Document {
                content_type,
                sha256,
                bytes,
            }),
            other => Err(VaultError::Internal(format!("journaling a document read: {other:?}"))),
        }
    }

    /// Accepts (verified) or rejects (rejected) the document of a pending verification, for a
    /// reason that fits the decision.
    pub async fn decide(
        &self,
        caller: &Caller,
        id: VerificationId,
        decision: Decide,
        reason: DecisionReason,
    ) -> VaultResult<VerificationRecord> {
        let op = self.0.op(caller, Operation::VerificationDecide)?;
        if reason.accepts() != (decision == Decide::Accept) {
            let fitting: Vec<&str> = DecisionReason::ALL
                .iter()
                .filter(|r| r.accepts() == (decision == Decide::Accept))
                .map(|r| r.as_str())
                .collect();
            return Err(VaultError::invalid(
                ProblemCode::UnknownReason,
                format!("the reason does not fit the decision; one of: {}", fitting.join(", ")),
            ));
        }
        let record = self
            .update(id, |found, _| {
                if found.method != VerificationMethod::Document {
                    return Ok(Decision::refuse(wrong_method(found, VerificationMethod::Document)));
                }
                if found.state != VerificationState::Pending {
                    return Ok(Decision::refuse(not_pending(found.state)));
                }
                let Some(sha256) = found.document_sha256.clone() else {
                    return Ok(Decision::refuse(no_document()));
                };
                let mut after = next(found, op.now);
                after.state = match decision {
                    Decide::Accept => VerificationState::Verified,
                    Decide::Reject => VerificationState::Rejected,
                };
                after.reason = Some(reason.as_str().to_owned());
                let word = match decision {
                    Decide::Accept => "accepted",
                    Decide::Reject => "rejected",
                };
                let journal: JournalDraft = entry(
                    &op,
                    &after,
                    AdminEvent::VerificationDecided,
                    &format!("decision:{word} reason:{reason} sha256:{sha256}"),
                );
                Ok(Decision {
                    change: Some((
                        Change::Verification(VerificationChange::Update {
                            record: after.clone(),
                            document: None,
                        }),
                        vec![journal],
                    )),
                    answer: Ok(after),
                })
            })
            .await?;
        self.request_verified(&record).await?;
        Ok(record)
    }
}

fn no_document() -> VaultError {
    VaultError::NotFound(
        ProblemCode::DocumentNotFound,
        "no document was uploaded for this verification".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_comes_from_the_content_and_the_header_must_agree() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2];
        assert_eq!(document_type(&png, None).unwrap(), DocumentType::Png);
        assert_eq!(document_type(&png, Some("image/png")).unwrap(), DocumentType::Png);
        assert_eq!(
            document_type(&png, Some("application/pdf")).unwrap_err().code(),
            ProblemCode::UnsupportedDocumentType
        );
        assert_eq!(
            document_type(b"MZ\x90\x00", Some("application/pdf"))
                .unwrap_err()
                .code(),
            ProblemCode::UnsupportedDocumentType
        );
        let mut big = b"%PDF-1.4\n".to_vec();
        big.resize(MAX_DOCUMENT_BYTES + 1, b' ');
        assert_eq!(
            document_type(&big, Some("application/pdf")).unwrap_err().code(),
            ProblemCode::DocumentTooLarge
        );
        big.truncate(MAX_DOCUMENT_BYTES);
        assert_eq!(
            document_type(&big, Some("application/pdf; x=1")).unwrap(),
            DocumentType::Pdf
        );
    }
}
