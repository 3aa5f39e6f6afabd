//! The operation context: opened once at the start of every vault call, once the
//! authorization table allows the caller the operation (`Vault::op`), it pins who asks,
//! the time, and the policy version in force. Every check and every record of the call uses
//! it, so a version that takes effect while the call runs cannot bind part of it to one
//! version and part to another, and the clock is read once.

use crate::policies::PolicyVersion;
use std::sync::Arc;
use time::OffsetDateTime;
use ward_core::{Actor, Caller, Policy};

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
