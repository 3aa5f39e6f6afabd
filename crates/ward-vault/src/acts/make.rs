//! Making a destruction act for a destruction, within its operation: who, what, how and why,
//! from the operation context and the policy in force. Its digest goes into the destruction's
//! journal entry, so the hash-chained, checkpoint-signed journal vouches for the act.

use crate::context::Op;
use sha2::{Digest, Sha256};
use ward_core::clock::to_micros;
use ward_core::destruction::{DestructionMethod, DestructionReason, DEFAULT_INFORMATION_SYSTEM};
use ward_core::{ActId, Actor, SubjectId};
use ward_store::DestructionActRecord;

/// Who the act names as the destroyer when Ward's own job destroyed the data.
pub const JOB_DESTROYER: &str = "Ward destruction job";

/// What a destruction destroyed, for its act.
pub(crate) struct ActInput {
    pub subject: SubjectId,
    /// What caused it, unique per subject (`erasure`, `due:…`); `None`: a request of its own.
    pub cause: Option<String>,
    pub categories: Vec<String>,
    pub fields: Vec<String>,
    pub method: DestructionMethod,
    pub reason: DestructionReason,
    /// `category:purpose` for each category kept back.
    pub withheld: Vec<String>,
}

impl ActInput {
    /// A field deletion's act: nothing withheld, the fields filled in by the destruction.
    pub(crate) fn new(
        subject: SubjectId,
        cause: Option<String>,
        categories: Vec<String>,
        reason: DestructionReason,
    ) -> Self {
        Self {
            subject,
            cause,
            categories,
            fields: Vec::new(),
            method: DestructionMethod::FieldDeletion,
            reason,
            withheld: Vec::new(),
        }
    }
}

/// The act of a destruction made in `op`.
pub(crate) fn make(op: &Op<'_>, input: ActInput) -> DestructionActRecord {
    let operator = &op.policy().operator;
    let id = ActId::random();
    let (destroyed_by, position) = match op.actor() {
        Actor::System => (JOB_DESTROYER.to_owned(), "automated job".to_owned()),
        actor => (actor.to_string(), op.caller.role.as_str().to_owned()),
    };
    let mut categories = input.categories;
    categories.sort();
    categories.dedup();
    let mut fields = input.fields;
    fields.sort();
    DestructionActRecord {
        id,
        subject: input.subject,
        cause: input.cause.unwrap_or_else(|| format!("request:{id}")),
        at: op.now,
        operator: operator.name.clone(),
        operator_address: operator.address.clone(),
        processor: None,
        destroyed_by,
        position,
        categories,
        fields,
        system: operator
            .information_system
            .clone()
            .unwrap_or_else(|| DEFAULT_INFORMATION_SYSTEM.to_owned()),
        method: input.method.as_str().to_owned(),
        reason: input.reason.as_str().to_owned(),
        withheld: input.withheld,
    }
}

/// What the destruction's journal entry says of its act: its id and digest.
pub(crate) fn journal_note(act: &DestructionActRecord) -> String {
    format!("act:{} digest:{}", act.id, digest(act))
}

/// SHA-256 over the act's every field, each length-prefixed (absent and empty differ), hex.
pub fn digest(act: &DestructionActRecord) -> String {
    let mut h = Sha256::new();
    h.update(b"ward.destruction_act.v1\0");
    let mut part = |s: Option<&str>| match s {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
    };
    let list = |v: &[String]| v.join(",");
    part(Some(&act.id.to_string()));
    part(Some(&act.subject.to_string()));
    part(Some(&act.cause));
    part(Some(&to_micros(act.at).to_string()));
    part(Some(&act.operator));
    part(act.operator_address.as_deref());
    part(act.processor.as_deref());
    part(Some(&act.destroyed_by));
    part(Some(&act.position));
    part(Some(&list(&act.categories)));
    part(Some(&list(&act.fields)));
    part(Some(&act.system));
    part(Some(&act.method));
    part(Some(&act.reason));
    part(Some(&list(&act.withheld)));
    hex::encode(h.finalize())
}
