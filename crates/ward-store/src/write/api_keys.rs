//! API keys (their hashes; never the tokens): created and revoked.

use super::{Planner, Snapshot, Touched};
use crate::{ApiKeyRecord, OpOutcome};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use time::OffsetDateTime;

/// A change to an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKeyChange {
    /// Precondition: no key with this id. Else `AlreadyExists`.
    Create(ApiKeyRecord),
    /// Precondition: exists and not revoked (else `NotFound` / `Revoked`).
    Revoke { id: String, at: OffsetDateTime },
}

/// The ids of the keys a batch reads.
pub type Keys = BTreeSet<String>;
/// API key id → revoked.
pub type Snap = HashMap<String, bool>;
pub type Inserts<'a> = Vec<&'a ApiKeyRecord>;

#[derive(Debug)]
pub enum Step<'a> {
    Revoke { id: &'a str, at: OffsetDateTime },
}

pub(super) fn touch(change: &ApiKeyChange, t: &mut Touched) {
    let id = match change {
        ApiKeyChange::Create(k) => &k.id,
        ApiKeyChange::Revoke { id, .. } => id,
    };
    if !t.api_keys.contains(id) {
        t.api_keys.insert(id.clone());
    }
}

pub(super) fn plan<'a>(change: &'a ApiKeyChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    match change {
        ApiKeyChange::Create(k) => match snap.api_keys.entry(k.id.clone()) {
            Entry::Occupied(_) => OpOutcome::AlreadyExists,
            Entry::Vacant(v) => {
                v.insert(false);
                p.inserts.api_keys.push(k);
                OpOutcome::Done
            }
        },
        ApiKeyChange::Revoke { id, at } => match snap.api_keys.get_mut(id) {
            None => OpOutcome::NotFound,
            Some(true) => OpOutcome::Revoked,
            Some(revoked) => {
                *revoked = true;
                p.push(super::Step::ApiKey(Step::Revoke { id, at: *at }));
                OpOutcome::Done
            }
        },
    }
}
