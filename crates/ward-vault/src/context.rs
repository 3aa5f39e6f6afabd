//! The operation context: opened once at the start of every vault call, it pins who asks,
//! the time, and the policy version in force. Every check and every record of the call uses
//! it, so a version that takes effect while the call runs cannot bind part of it to one
//! version and part to another, and the clock is read once.

use crate::policies::PolicyVersion;
use std::collections::BTreeSet;
use std::sync::Arc;
use time::OffsetDateTime;
use ward_core::access::Role;
use ward_core::{Actor, Caller, Policy};

/// The caller of the read-only overviews the API serves without an access decision (they
/// hold no personal data): Ward itself, allowed no purpose.
static UNATTRIBUTED: Caller = Caller {
    actor: Actor::System,
    role: Role::Service,
    purposes: BTreeSet::new(),
};

/// One call's caller, time and policy version.
pub(crate) struct Op<'c> {
    pub caller: &'c Caller,
    pub now: OffsetDateTime,
    pub version: Arc<PolicyVersion>,
}

impl<'c> Op<'c> {
    pub(crate) fn new(caller: &'c Caller, now: OffsetDateTime, version: Arc<PolicyVersion>) -> Self {
        Self { caller, now, version }
    }

    /// A context for a call without a caller (overviews, checkpoints, start-up).
    pub(crate) fn unattributed(now: OffsetDateTime, version: Arc<PolicyVersion>) -> Op<'static> {
        Op {
            caller: &UNATTRIBUTED,
            now,
            version,
        }
    }

    /// The policy in force for this call.
    pub(crate) fn policy(&self) -> &Arc<Policy> {
        &self.version.policy
    }

    /// The content hash of the version in force for this call.
    pub(crate) fn hash(&self) -> &str {
        &self.version.hash
    }

    pub(crate) fn actor(&self) -> &'c Actor {
        &self.caller.actor
    }
}
