//! The one gate for opening sealed data. Every decryption of a subject's sealed fields,
//! consent evidence or life-cycle evidence goes through a [`Gate`], made for one operation
//! (its caller, its time, its purpose) and one [`Reason`]. The gate remembers what it opened;
//! the operation journals it, either in its own entry ([`Gate::stamp`]: the fields opened in
//! the entry's field names, the evidence opened in its detail) or in an entry of the gate's
//! own ([`Gate::entry`]). The journal names only ids, enums and policy names: `opened:` and
//! the reason, then `consent_evidence:<purpose>` or `subject_event:<kind>`.
//!
//! `sealed.rs` holds the layout and the associated data; nothing else in the vault opens
//! sealed bytes (`tests::only_the_gate_opens_sealed_data` reads the sources to keep it so).

use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::idempotency::Answer;
use crate::sealed::{self, SealedFields};
use crate::Vault;
use std::collections::BTreeSet;
use time::OffsetDateTime;
use ward_core::consent::Evidence;
use ward_core::lifecycle::SubjectEventEvidence;
use ward_core::{JournalDraft, ProcessingAction, SubjectId};
use ward_crypto::DataKey;
use ward_store::{SubjectEventRecord, SubjectRecord};

/// Why sealed data is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// A purpose-bound read of fields (a read, or a lookup's match).
    Read,
    /// A lookup compares a candidate's field with the value sought.
    LookupCompare,
    /// A unique field's new value is compared with a candidate holder's.
    UniqueCompare,
    /// A distribution consent's terms narrow what the consent covers.
    ConsentTerms,
    /// The subject's consent receipt shows its evidence.
    ConsentReceipt,
    /// The written consent is pre-filled with the subject's name and address.
    WrittenConsent,
    /// How the subject was told of policy versions and accepted them.
    PolicyStanding,
    /// The recorded death's certificate.
    DeathRecord,
    /// A notice is addressed: the subject's e-mail (and language) on record.
    Notice,
    /// The delivery job sends a queued message: its sealed recipient, subject line and body.
    Delivery,
    /// The officer reviews a verification's document.
    VerificationDocument,
    /// A data-subject request's details: shown to the officer, or used by its step.
    Request,
    /// The subject's data is put into an access report or a copy of the data (152-FZ Art. 14;
    /// GDPR Art. 15, 20).
    AccessRequest,
    /// A download link is used: its sealed document is opened to be served.
    Download,
}

impl Reason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::Read => "read",
            Reason::LookupCompare => "lookup_compare",
            Reason::UniqueCompare => "unique_compare",
            Reason::ConsentTerms => "consent_terms",
            Reason::ConsentReceipt => "consent_receipt",
            Reason::WrittenConsent => "written_consent",
            Reason::PolicyStanding => "policy_standing",
            Reason::DeathRecord => "death_record",
            Reason::Notice => "notice",
            Reason::Delivery => "delivery",
            Reason::VerificationDocument => "verification_document",
            Reason::Request => "request",
            Reason::AccessRequest => "access_request",
            Reason::Download => "download",
        }
    }
}

/// One operation's opening of one subject's sealed data.
pub(crate) struct Gate {
    subject: SubjectId,
    key: DataKey,
    reason: Reason,
    at: OffsetDateTime,
    actor: String,
    purpose: Option<String>,
    fields: BTreeSet<String>,
    /// `consent_evidence:<purpose>`, `subject_event:<kind>`, `message:<id>`.
    evidence: BTreeSet<String>,
}

impl Vault {
    /// A gate onto `record`'s sealed data for the call `op`, for `reason` (and `purpose`, if
    /// the opening serves one).
    pub(crate) fn gate(
        &self,
        op: &Op<'_>,
        record: &SubjectRecord,
        reason: Reason,
        purpose: Option<&str>,
    ) -> VaultResult<Gate> {
        Ok(Gate {
            subject: record.id,
            key: self.data_key(record)?,
            reason,
            at: op.now,
            actor: op.actor().to_string(),
            purpose: purpose.map(str::to_owned),
            fields: BTreeSet::new(),
            evidence: BTreeSet::new(),
        })
    }
}

impl Gate {
    /// Opens field `name` of `sealed_fields`, if the subject has it.
    pub(crate) fn field(&mut self, sealed_fields: &SealedFields, name: &str) -> VaultResult<Option<String>> {
        let Some(ct) = sealed_fields.get(name) else {
            return Ok(None);
        };
        let bytes = self.key.open(&sealed::field_aad(self.subject, name), ct)?;
        self.fields.insert(name.to_owned());
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| VaultError::Internal("a sealed field is not UTF-8".into()))
    }

    /// Opens the evidence of a consent event for `purpose`.
    pub(crate) fn consent_evidence(&mut self, purpose: &str, sealed_evidence: &[u8]) -> VaultResult<Evidence> {
        let json = self
            .key
            .open(&sealed::evidence_aad(self.subject, purpose), sealed_evidence)?;
        self.evidence.insert(format!("consent_evidence:{purpose}"));
        serde_json::from_slice(&json).map_err(|e| VaultError::Internal(format!("consent evidence: {e}")))
    }

    /// Opens the evidence of a life-cycle event, if it has any.
    pub(crate) fn subject_event(&mut self, e: &SubjectEventRecord) -> VaultResult<Option<SubjectEventEvidence>> {
        let Some(ct) = &e.evidence else { return Ok(None) };
        let json = self
            .key
            .open(&sealed::subject_event_aad(self.subject, e.kind.as_str()), ct)?;
        self.evidence.insert(format!("subject_event:{}", e.kind.as_str()));
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|e| VaultError::Internal(format!("subject event evidence: {e}")))
    }

    /// Opens a queued message's sealed payload (recipient, subject line, body).
    pub(crate) fn message(
        &mut self,
        id: ward_core::MessageId,
        sealed_payload: &[u8],
    ) -> VaultResult<crate::outbox::Envelope> {
        let json = self.key.open(&sealed::message_aad(self.subject, id), sealed_payload)?;
        self.evidence.insert(format!("message:{id}"));
        serde_json::from_slice(&json).map_err(|e| VaultError::Internal(format!("outbox message: {e}")))
    }

    /// Opens a verification's sealed document.
    pub(crate) fn document(&mut self, id: ward_core::VerificationId, sealed_document: &[u8]) -> VaultResult<Vec<u8>> {
        let bytes = self
            .key
            .open(&sealed::document_aad(self.subject, id), sealed_document)?;
        self.evidence.insert(format!("verification_document:{id}"));
        Ok(bytes)
    }

    /// Opens a data-subject request's sealed details.
    pub(crate) fn request_details(
        &mut self,
        id: ward_core::RequestId,
        sealed_details: &[u8],
    ) -> VaultResult<crate::requests::Details> {
        let json = self.key.open(&sealed::request_aad(self.subject, id), sealed_details)?;
        self.evidence.insert(format!("request:{id}"));
        serde_json::from_slice(&json).map_err(|e| VaultError::Internal(format!("request details: {e}")))
    }

    /// Opens a download's sealed document.
    pub(crate) fn download(&mut self, id: ward_core::DownloadId, sealed_document: &[u8]) -> VaultResult<Vec<u8>> {
        let bytes = self
            .key
            .open(&sealed::download_aad(self.subject, id), sealed_document)?;
        self.evidence.insert(format!("download:{id}"));
        Ok(bytes)
    }

    /// Whether the gate opened anything.
    pub(crate) fn opened(&self) -> bool {
        !self.fields.is_empty() || !self.evidence.is_empty()
    }

    /// `entry` made to record this gate's openings: the fields opened join its field names,
    /// and evidence opened is named in its detail. Unchanged when the entry already names
    /// every field opened and no evidence was opened.
    pub(crate) fn stamp(&self, mut entry: JournalDraft) -> JournalDraft {
        if !self.fields.iter().all(|f| entry.fields.contains(f)) {
            let fields: Vec<String> = entry.fields.iter().chain(&self.fields).cloned().collect();
            entry = entry.fields(fields);
        }
        if !self.evidence.is_empty() {
            let note = self.note();
            entry.detail = Some(match entry.detail.take() {
                Some(d) => format!("{d} {note}"),
                None => note,
            });
        }
        entry
    }

    /// A journal entry of its own for this gate's openings: a retrieval of the subject's data.
    pub(crate) fn entry(&self) -> JournalDraft {
        let mut entry = JournalDraft {
            at: self.at,
            actor: self.actor.clone(),
            action: ProcessingAction::Retrieval.into(),
            subject: Some(self.subject),
            purpose: self.purpose.clone(),
            fields: Vec::new(),
            detail: None,
        }
        .fields(self.fields.iter().cloned());
        entry.detail = Some(self.note());
        entry
    }

    fn note(&self) -> String {
        let mut note = format!("opened:{}", self.reason.as_str());
        for e in &self.evidence {
            note.push(' ');
            note.push_str(e);
        }
        note
    }
}

/// Opens an idempotency record's stored answer (of the request whose key hashes to `key`).
/// The caller journals the replay (`request.replayed`). A KEK this process has not loaded is
/// loaded once, as for a subject's key.
pub(crate) fn open_answer(vault: &Vault, key: &[u8; 32], sealed: &ward_store::SealedAnswer) -> VaultResult<Answer> {
    let unwrap = || vault.keys().ring().unwrap(key, &sealed.kek_id, &sealed.wrapped_key);
    let dek = match unwrap() {
        Err(ward_crypto::CryptoError::UnknownKek(_)) => {
            vault.keys().reload()?;
            unwrap()?
        }
        other => other?,
    };
    let body = dek.open(&sealed::answer_aad(key, sealed.status), &sealed.body)?;
    Ok(Answer {
        status: sealed.status,
        body,
    })
}

/// Applies `gate`'s stamp, if there is a gate.
pub(crate) fn stamp(gate: Option<&Gate>, entry: JournalDraft) -> JournalDraft {
    match gate {
        Some(g) => g.stamp(entry),
        None => entry,
    }
}

#[cfg(test)]
mod tests {
    /// Sealed bytes are opened only here: no other source of the vault calls `.open(` on a
    /// key or opens a sealed value.
    #[test]
    fn only_the_gate_opens_sealed_data() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = Vec::new();
        let mut dirs = vec![src];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("src dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if name == "gate.rs" || name == "sealed.rs" || !name.ends_with(".rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("read");
                for needle in ["key.open(", ".open(&sealed", "open_value("] {
                    if text.contains(needle) {
                        offenders.push(format!("{}: {needle}", path.display()));
                    }
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "sealed data opened outside gate.rs: {offenders:?}"
        );
    }
}
