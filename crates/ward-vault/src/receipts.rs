//! Consent receipts (shaped after ISO/IEC TS 27560) and the pre-filled written consent
//! (152-FZ Art. 9 p. 4), both for one subject and one consent-based purpose.

use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::forms::consent_purpose;
use crate::gate::Reason;
use crate::Vault;
use std::fmt::Write as _;
use time::OffsetDateTime;
use ward_core::authz::Operation;
use ward_core::consent::{ConsentEventKind, Evidence};
use ward_core::policy::{ConsentDocument, Policy};
use ward_core::standing::ConsentState;
use ward_core::ProblemCode;
use ward_core::{Caller, JournalDraft, ProcessingAction, SubjectId};
use ward_store::Change;

/// One event in a consent's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptEvent {
    /// `given`, `renewed`, `withdrawn` or `expired`.
    pub kind: &'static str,
    pub at: OffsetDateTime,
    pub policy_hash: String,
}

/// A consent record as the subject may see it.
#[derive(Debug, Clone)]
pub struct ConsentReceipt {
    pub subject: SubjectId,
    pub purpose: String,
    pub purpose_title: String,
    pub state: ConsentState,
    pub document: Option<(String, ConsentDocument)>,
    pub operator: ward_core::policy::Operator,
    pub categories: Vec<String>,
    pub actions: Vec<String>,
    pub methods: Vec<String>,
    /// Recipient name, role, country.
    pub recipients: Vec<(String, String, String)>,
    pub policy_hash: String,
    pub policy_version: String,
    pub language: String,
    pub evidence: Option<Evidence>,
    pub expires_at: Option<OffsetDateTime>,
    pub events: Vec<ReceiptEvent>,
}

/// The consent record of one consent document (ISO/IEC TS 27560 keeps one record per
/// subject and consent notice): the document as the policy in force states it, and the
/// receipt of each of its purposes the subject has a consent history for.
#[derive(Debug, Clone)]
pub struct ConsentDocumentRecord {
    pub subject: SubjectId,
    /// The document's name in the policy (`[consent_documents.<name>]`).
    pub name: String,
    pub document: ConsentDocument,
    /// One receipt per purpose of the document that the subject ever consented to, in the
    /// order of the purposes' names.
    pub purposes: Vec<ConsentReceipt>,
}

/// The receipts service, reached by [`Vault::receipts`].
#[derive(Clone, Copy)]
pub struct Receipts<'v>(pub(crate) &'v Vault);

impl Receipts<'_> {
    /// The record of consent document `name` for the subject: every purpose it covers, each
    /// with its state, evidence and history. The caller must be allowed every purpose of the
    /// document; each purpose's receipt is journaled as its own retrieval.
    pub async fn document_record(
        &self,
        caller: &Caller,
        id: SubjectId,
        name: &str,
    ) -> VaultResult<ConsentDocumentRecord> {
        let op = self.0.op(caller, Operation::ConsentDocumentRecord)?;
        let policy = op.policy();
        let document = policy.consent_documents.get(name).cloned().ok_or_else(|| {
            VaultError::NotFound(
                ProblemCode::UnknownConsentDocument,
                format!("the policy in force has no consent document `{name}`"),
            )
        })?;
        for purpose in &document.purposes {
            consent_purpose(policy, caller, purpose)?;
        }
        let mut purposes = Vec::with_capacity(document.purposes.len());
        for purpose in &document.purposes {
            match self.receipt_in(&op, id, purpose).await {
                Ok(r) => purposes.push(r),
                Err(VaultError::NotFound(ProblemCode::ConsentNotFound, _)) => {}
                Err(e) => return Err(e),
            }
        }
        if purposes.is_empty() {
            return Err(VaultError::NotFound(
                ProblemCode::ConsentNotFound,
                format!("the subject has never given the consent of document `{name}`"),
            ));
        }
        Ok(ConsentDocumentRecord {
            subject: id,
            name: name.to_owned(),
            document,
            purposes,
        })
    }

    /// The receipt of `purpose`'s consent, with its evidence (decrypted: it is the subject's
    /// own). Reading it is journaled.
    pub async fn receipt(&self, caller: &Caller, id: SubjectId, purpose: &str) -> VaultResult<ConsentReceipt> {
        self.receipt_in(&self.0.op(caller, Operation::ConsentReceipt)?, id, purpose)
            .await
    }

    /// [`Receipts::receipt`] within the call `op`.
    async fn receipt_in(&self, op: &Op<'_>, id: SubjectId, purpose: &str) -> VaultResult<ConsentReceipt> {
        let v = self.0;
        let current = op.policy();
        let p = consent_purpose(current, op.caller, purpose)?;
        let loaded = v.load_active(op, id).await?;
        let events = &loaded.events;
        let mine: Vec<_> = events.iter().filter(|e| e.purpose == purpose).collect();
        let Some(last) = mine.last() else {
            return Err(VaultError::NotFound(
                ProblemCode::ConsentNotFound,
                format!("the subject has never consented to purpose `{purpose}`"),
            ));
        };
        let last_given = mine.iter().rev().find(|e| e.kind == ConsentEventKind::Given);
        let version = v
            .policies()
            .find(last_given.map_or(&last.policy_version, |e| &e.policy_version))
            .ok();
        let policy: std::sync::Arc<Policy> = version.as_ref().map_or_else(|| current.clone(), |v| v.policy.clone());
        let vp = policy.purpose(purpose).unwrap_or(p);
        let standing = v.consent_standing(op, events);
        let st = standing.get(purpose);
        let mut gate = v.gate(op, &loaded.record, Reason::ConsentReceipt, Some(purpose))?;
        let evidence = match last_given.and_then(|e| e.evidence.as_ref()) {
            Some(sealed_evidence) => Some(gate.consent_evidence(purpose, sealed_evidence)?),
            None => None,
        };
        let mut history = Vec::new();
        let mut given_before = false;
        for e in &mine {
            let kind = match (e.kind, given_before) {
                (ConsentEventKind::Given, false) => "given",
                (ConsentEventKind::Given, true) => "renewed",
                (ConsentEventKind::Withdrawn, _) => "withdrawn",
            };
            given_before |= e.kind == ConsentEventKind::Given;
            history.push(ReceiptEvent {
                kind,
                at: e.at,
                policy_hash: e.policy_version.clone(),
            });
        }
        if let Some(c) = st.filter(|c| c.state == ConsentState::Expired) {
            history.push(ReceiptEvent {
                kind: "expired",
                at: c.since,
                policy_hash: c.version_hash.clone(),
            });
        }
        let entry = JournalDraft::new(op.now, op.actor(), ProcessingAction::Retrieval)
            .subject(id)
            .purpose(purpose)
            .detail("consent receipt");
        v.commit(Change::JournalOnly, vec![loaded.stamp(gate.stamp(entry))])
            .await?;
        let document = policy
            .documents_for(purpose)
            .next()
            .map(|(n, d)| (n.to_owned(), d.clone()));
        Ok(ConsentReceipt {
            subject: id,
            purpose: purpose.to_owned(),
            purpose_title: vp.title.clone(),
            state: st.map_or(ConsentState::None, |c| c.state),
            document,
            operator: policy.operator.clone(),
            categories: st.map_or_else(
                || vp.categories.iter().cloned().collect(),
                |c| c.scope.iter().cloned().collect(),
            ),
            actions: vp.actions.iter().map(|a| a.as_str().to_owned()).collect(),
            methods: vp.methods.iter().map(|m| m.as_str().to_owned()).collect(),
            recipients: vp
                .recipients
                .iter()
                .filter_map(|r| {
                    policy
                        .recipients
                        .get(r)
                        .map(|x| (x.title.clone(), x.role.as_str().to_owned(), x.country.clone()))
                })
                .collect(),
            policy_hash: version
                .as_ref()
                .map_or_else(|| op.hash().to_owned(), |v| v.hash.clone()),
            policy_version: policy.version.clone(),
            language: policy.language.clone(),
            evidence,
            expires_at: st.and_then(|c| c.expires_at),
            events: history,
        })
    }

    /// A written consent for `purpose` (152-FZ Art. 9 p. 4), pre-filled with what the vault
    /// holds, as Markdown for printing and signing. Filling it in reads the subject's name and
    /// address, so it is journaled as a retrieval for that purpose.
    pub async fn written_consent(&self, caller: &Caller, id: SubjectId, purpose: &str) -> VaultResult<String> {
        let v = self.0;
        let op = v.op(caller, Operation::WrittenConsent)?;
        let policy = op.policy();
        let p = consent_purpose(policy, caller, purpose)?.clone();
        let loaded = v.load_active(&op, id).await?;
        let mut gate = v.gate(&op, &loaded.record, Reason::WrittenConsent, Some(purpose))?;
        let fields = Vault::open_fields(&mut gate, &loaded.record, &["full_name", "postal_address"])?;
        let entry = JournalDraft::new(op.now, op.actor(), ProcessingAction::Retrieval)
            .subject(id)
            .purpose(purpose)
            .fields(fields.keys().cloned())
            .detail("written consent form");
        v.commit(Change::JournalOnly, vec![loaded.stamp(gate.stamp(entry))])
            .await?;
        let blank = "____________________";
        let get = |k: &str| fields.get(k).cloned().unwrap_or_else(|| blank.to_owned());
        let operator = &policy.operator;
        let doc = policy.documents_for(purpose).next().map(|(_, d)| d.clone());
        let data: Vec<String> = policy
            .fields
            .iter()
            .filter(|(_, f)| p.categories.contains(&f.category))
            .map(|(_, f)| f.title.clone())
            .collect();
        let actions: Vec<&str> = p.actions.iter().map(|a| a.as_str()).collect();
        let methods: Vec<&str> = p.methods.iter().map(|m| m.as_str()).collect();
        let mut out = String::new();
        let _ = writeln!(out, "# Consent to the processing of personal data\n");
        let _ = writeln!(
            out,
            "*{}*\n",
            doc.as_ref().map_or(p.title.as_str(), |d| d.title.as_str())
        );
        let _ = writeln!(out, "1. **I, the data subject:** {}, address: {}, identity document (kind, number, date of issue, issuer): {blank}.", get("full_name"), get("postal_address"));
        let _ = writeln!(out, "2. **Representative** (if a representative signs): name, address, identity document: {blank}; power of attorney or other document confirming the authority: {blank}.");
        let _ = writeln!(
            out,
            "3. **Operator receiving the consent:** {}, address: {}{}{}.",
            operator.name,
            operator.address.as_deref().unwrap_or(blank),
            operator
                .inn
                .as_deref()
                .map(|v| format!(", ИНН {v}"))
                .unwrap_or_default(),
            operator
                .ogrn
                .as_deref()
                .map(|v| format!(", ОГРН {v}"))
                .unwrap_or_default()
        );
        let _ = writeln!(out, "4. **Purpose of processing:** {}.", p.title);
        let _ = writeln!(out, "5. **Personal data:** {}.", data.join(", "));
        let _ = writeln!(
            out,
            "6. **Actions with the data:** {}; **methods of processing:** {}.",
            actions.join(", "),
            methods.join(", ")
        );
        let recipients: Vec<String> = p
            .recipients
            .iter()
            .filter_map(|r| policy.recipients.get(r))
            .map(|r| format!("{} ({}, {})", r.title, r.country, r.address.as_deref().unwrap_or(blank)))
            .collect();
        let _ = writeln!(
            out,
            "7. **Processing on the operator's instruction by:** {}.",
            if recipients.is_empty() {
                "nobody".to_owned()
            } else {
                recipients.join("; ")
            }
        );
        let term = doc
            .as_ref()
            .and_then(|d| d.term)
            .map_or_else(|| "until withdrawn".to_owned(), |t| t.to_string());
        let withdrawal = doc
            .as_ref()
            .map_or("in writing to the operator", |d| d.withdrawal.as_str());
        let _ = writeln!(
            out,
            "8. **Term of this consent:** {term}. **It may be withdrawn:** {withdrawal}"
        );
        let _ = writeln!(
            out,
            "9. **Signature of the data subject (or representative):** {blank}   **Date:** {blank}\n"
        );
        if let Some(d) = &doc {
            let _ = writeln!(out, "---\n\n{}\n", d.text);
        }
        let _ = writeln!(out, "<!-- Ward: policy version {} -->", op.hash());
        Ok(out)
    }
}
