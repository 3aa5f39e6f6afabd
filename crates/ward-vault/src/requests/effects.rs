//! What completing a request does to the subject's data, through the services that own it
//! (nothing is reimplemented here), and the outcome it reports per category:
//!
//! - erasure: `Subjects::erase` (legal-hold aware: the held categories are kept and blocked,
//!   the rest destroyed, with the act); the outcome names the act and each withheld category
//!   with the purposes holding it. Completed again, an erased subject (or one whose held
//!   categories are already blocked for erasure) is not erased again.
//! - withdraw_consent: `Consents::withdraw` for the purposes named (none: every consent that
//!   stands); a purpose no longer consented to is skipped. The destruction job destroys what
//!   no remaining purpose needs within 30 days (Art. 21 p. 5); the outcome gives the date.
//! - stop_processing (152-FZ Art. 21 p. 5.1): every consent that stands is withdrawn (as
//!   above); processing on the bases Art. 21 p. 5.1 exempts (contract, legal obligation: Art.
//!   6 p. 1 items 2-11) continues, and the outcome names those purposes. An objection to a
//!   legitimate interest is its own kind (`object_legitimate`).
//! - object_marketing: the consents of the policy's marketing purposes (those a marketing
//!   consent document covers) are withdrawn, at intake.
//! - blocking: `Blocks::place` on the categories named (none: the whole subject), reason
//!   `inaccuracy_claimed` unless the completion names another; not placed twice.
//! - rectification: `Subjects::rectify` with the sealed new values, under the purpose the
//!   completion names or the first of the policy's that may rectify every field.
//! - object_legitimate: the officer's decision (`upheld` / `rejected`) with its reasons
//!   (sealed, sent in the answer); upheld, `Bases::record` of an `objected` event ends each
//!   legitimate-interest purpose named (none: every one established for the subject).
//! - complaint: the officer's answer (sealed, sent in the answer).
//! - access, copy, transfer: the completion takes the download the report service made
//!   (`download`); this module does not build the report.

use super::Details;
use crate::context::Op;
use crate::error::{VaultError, VaultResult};
use crate::gate::Reason;
use crate::BasisInput;
use crate::Vault;
use std::collections::BTreeMap;
use ward_core::access::Role;
use ward_core::basis::{BasisEventKind, BasisEvidence};
use ward_core::blocking::BlockReason;
use ward_core::destruction::DestructionReason;
use ward_core::policy::register::ConsentKind;
use ward_core::request::RequestKind;
use ward_core::standing::{BasisState, ConsentState};
use ward_core::{Caller, DownloadId, LegalBasis, ProblemCode, ProcessingAction};
use ward_store::{Change, RequestRecord};

/// An objection's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Upheld,
    Rejected,
}

impl std::str::FromStr for Decision {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "upheld" => Ok(Decision::Upheld),
            "rejected" => Ok(Decision::Rejected),
            _ => Err(()),
        }
    }
}

/// What the officer gives when completing.
#[derive(Debug, Clone, Default)]
pub struct Completion {
    /// The answer's text (sealed): required for a complaint and an objection's decision.
    pub answer: Option<String>,
    /// An objection to a legitimate interest: upheld or rejected.
    pub decision: Option<Decision>,
    /// Access, copy, transfer: the download the report service made.
    pub download: Option<DownloadId>,
    /// Rectification: the purpose it is made under.
    pub purpose: Option<String>,
    /// Blocking: the reason (default `inaccuracy_claimed`).
    pub block_reason: Option<BlockReason>,
}

/// What an effect did: the outcome stored and sent (names only), and its journal form.
pub(super) struct Done {
    pub outcome: String,
    pub journal: String,
}

impl Done {
    fn of(s: String) -> Self {
        Done {
            journal: s.replace(' ', "_"),
            outcome: s,
        }
    }
}

/// The request's details, opened (journaled in an entry of the gate's own); empty when it
/// has none or the subject is erased.
pub(super) async fn details(v: &Vault, op: &Op<'_>, req: &RequestRecord) -> VaultResult<Details> {
    let (Some(sealed), Some(record)) = (&req.sealed, v.store().find_subject(req.subject).await?) else {
        return Ok(Details::default());
    };
    if record.key.is_none() {
        return Ok(Details::default());
    }
    let mut gate = v.gate(op, &record, Reason::Request, None)?;
    let d = gate.request_details(req.id, sealed)?;
    v.commit(Change::JournalOnly, vec![gate.entry()]).await?;
    Ok(d)
}

/// What a completion must carry for the request's kind.
pub(super) fn check(req: &RequestRecord, _details: &Details, c: &Completion) -> VaultResult<()> {
    let missing = |what: &str| {
        Err(VaultError::invalid(
            ProblemCode::RequestDetailsRequired,
            format!("completing a {} request needs {what}", req.kind),
        ))
    };
    let answered = c.answer.as_deref().is_some_and(|a| !a.trim().is_empty());
    match req.kind {
        RequestKind::Complaint if !answered => missing("the operator's answer"),
        RequestKind::ObjectLegitimate if c.decision.is_none() || !answered => {
            missing("the decision (`upheld` or `rejected`) and its reasons")
        }
        _ => Ok(()),
    }
}

/// The caller an effect runs as: the officer or admin completing the request; Ward itself
/// when a website's key files an objection to marketing (its key may not list the marketing
/// purposes, and the law wants the stop at once).
fn effect_caller(op: &Op<'_>) -> Caller {
    if op.caller.role == Role::Service {
        Caller::system()
    } else {
        op.caller.clone()
    }
}

pub(super) async fn carry_out(
    v: &Vault,
    op: &Op<'_>,
    req: &RequestRecord,
    details: &Details,
    c: &Completion,
) -> VaultResult<Done> {
    let caller = effect_caller(op);
    let id = req.subject;
    let subject = v.store().find_subject(id).await?;
    let erased = subject.as_ref().is_none_or(|s| s.key.is_none());
    let done = match req.kind {
        RequestKind::Erasure => {
            let blocks = v.store().find_blocks(id).await?;
            if erased {
                "erased".to_owned()
            } else if blocks.iter().any(|b| b.lifted_at.is_none() && b.erase_after) {
                "destroyed; withheld categories stay blocked until their hold ends".to_owned()
            } else {
                let e = v
                    .subjects()
                    .erase(&caller, id, DestructionReason::SubjectRequest)
                    .await?;
                if e.withheld.is_empty() {
                    format!("erased act:{}", e.act)
                } else {
                    let withheld: Vec<String> = e
                        .withheld
                        .iter()
                        .map(|w| format!("{}({})", w.category, w.purposes.join("+")))
                        .collect();
                    format!("destroyed act:{} withheld:{}", e.act, withheld.join(","))
                }
            }
        }
        RequestKind::WithdrawConsent | RequestKind::StopProcessing | RequestKind::ObjectMarketing if erased => {
            "erased".to_owned()
        }
        RequestKind::WithdrawConsent => withdraw(v, op, &caller, req, &details.purposes).await?,
        RequestKind::StopProcessing => {
            let mut out = withdraw(v, op, &caller, req, &[]).await?;
            let continuing: Vec<&str> = op
                .policy()
                .purposes
                .iter()
                .filter(|(_, p)| p.legal_basis != LegalBasis::Consent)
                .map(|(n, _)| n.as_str())
                .collect();
            if !continuing.is_empty() {
                out.push_str(&format!(" continuing_exempt:{}", continuing.join(",")));
            }
            out
        }
        RequestKind::ObjectMarketing => {
            let marketing: Vec<String> = op
                .policy()
                .consent_documents
                .values()
                .filter(|d| d.kind == ConsentKind::Marketing)
                .flat_map(|d| d.purposes.iter().cloned())
                .collect();
            withdraw(v, op, &caller, req, &marketing).await?
        }
        RequestKind::Blocking if erased => "erased".to_owned(),
        RequestKind::Blocking => {
            let reason = c.block_reason.unwrap_or(BlockReason::InaccuracyClaimed);
            let mut categories = details.categories.clone();
            categories.sort();
            let existing = v.store().find_blocks(id).await?;
            let already = existing
                .iter()
                .find(|b| b.lifted_at.is_none() && b.categories == categories && b.reason == reason.as_str());
            let block = match already {
                Some(b) => b.id,
                None => v.blocks().place(&caller, id, &categories, reason).await?.id,
            };
            let shown = if categories.is_empty() {
                "*".to_owned()
            } else {
                categories.join(",")
            };
            format!("blocked:{shown} block:{block} reason:{reason}")
        }
        RequestKind::Rectification if erased => "erased".to_owned(),
        RequestKind::Rectification => {
            let purpose = match &c.purpose {
                Some(p) => p.clone(),
                None => rectifying_purpose(op, &details.new_values)?,
            };
            let changes: BTreeMap<String, Option<String>> = details
                .new_values
                .iter()
                .map(|(k, x)| (k.clone(), Some(x.clone())))
                .collect();
            v.subjects().rectify(&caller, id, &purpose, &changes).await?;
            let fields: Vec<&str> = details.new_values.keys().map(String::as_str).collect();
            format!("rectified:{} purpose:{purpose}", fields.join(","))
        }
        RequestKind::ObjectLegitimate => match c.decision {
            Some(Decision::Upheld) if !erased => object(v, &caller, req, &details.purposes).await?,
            Some(Decision::Upheld) => "objection upheld".to_owned(),
            _ => "objection rejected".to_owned(),
        },
        RequestKind::Complaint => "answered".to_owned(),
        RequestKind::Access | RequestKind::Copy | RequestKind::Transfer => match c.download.or(req.download) {
            Some(d) => format!("download:{d}"),
            None => "answered".to_owned(),
        },
    };
    Ok(Done::of(done))
}

/// Withdraws the consents among `purposes` (none: all) that stand; the outcome names them and
/// the date by which what no purpose needs is destroyed.
async fn withdraw(
    v: &Vault,
    _op: &Op<'_>,
    caller: &Caller,
    req: &RequestRecord,
    purposes: &[String],
) -> VaultResult<String> {
    let standing: Vec<String> = v
        .consents()
        .overview(&Caller::system(), req.subject)
        .await?
        .into_iter()
        .filter(|c| c.state == ConsentState::Given)
        .map(|c| c.purpose)
        .filter(|p| purposes.is_empty() || purposes.contains(p))
        .collect();
    let mut by = None;
    for p in &standing {
        match v.consents().withdraw(caller, req.subject, p).await {
            Ok(w) => {
                if let Some(d) = w.destruction {
                    by = Some(d.by.date());
                }
            }
            Err(e) if e.code() == ProblemCode::ConsentNotFound => {}
            Err(e) => return Err(e),
        }
    }
    let mut out = if standing.is_empty() {
        "withdrawn:none".to_owned()
    } else {
        format!("withdrawn:{}", standing.join(","))
    };
    if let Some(by) = by {
        out.push_str(&format!(" destroy_by:{by}"));
    }
    Ok(out)
}

/// An upheld objection: `Bases::record` of an `objected` event on each legitimate-interest
/// purpose named (none: every one established for the subject), which ends it; one already
/// objected to is skipped, so completing again records nothing twice.
async fn object(v: &Vault, caller: &Caller, req: &RequestRecord, purposes: &[String]) -> VaultResult<String> {
    let (statuses, _) = v.bases().overview(&Caller::system(), req.subject).await?;
    let established: Vec<String> = statuses
        .into_iter()
        .filter(|s| s.legal_basis == LegalBasis::LegitimateInterests && s.state == BasisState::Established)
        .map(|s| s.purpose)
        .filter(|p| purposes.is_empty() || purposes.contains(p))
        .collect();
    for p in &established {
        let input = BasisInput {
            purpose: p.clone(),
            kind: BasisEventKind::Objected,
            start: None,
            evidence: BasisEvidence {
                reference: format!("request:{}", req.id),
                note: None,
            },
        };
        v.bases().record(caller, req.subject, input).await?;
    }
    Ok(if established.is_empty() {
        "objection upheld".to_owned()
    } else {
        format!("objection upheld ended:{}", established.join(","))
    })
}

/// The first purpose of the policy that may rectify every field named.
fn rectifying_purpose(op: &Op<'_>, fields: &BTreeMap<String, String>) -> VaultResult<String> {
    let policy = op.policy();
    policy
        .purposes
        .iter()
        .find(|(_, p)| {
            p.covers(ProcessingAction::Rectification)
                && fields
                    .keys()
                    .all(|f| policy.field(f).is_some_and(|d| p.categories.contains(&d.category)))
        })
        .map(|(n, _)| n.clone())
        .ok_or_else(|| {
            VaultError::invalid(
                ProblemCode::RequestDetailsRequired,
                "no purpose of the policy may rectify all these fields: name the purpose",
            )
        })
}
