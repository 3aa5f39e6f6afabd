//! Data-subject requests: filed for an active subject, then updated whole, each update
//! checked against the state it was decided from.

use super::subjects::refuse_unless_active;
use super::{Planner, Snapshot, Touched};
use crate::{OpOutcome, RequestRecord};
use std::collections::{BTreeSet, HashMap};
use ward_core::request::RequestState;
use ward_core::RequestId;

/// A change to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestChange {
    /// Precondition: the subject is active (else `NotFound` / `Erased`) and no request has
    /// this id (else `AlreadyExists`). Records the request.
    File(Box<RequestRecord>),
    /// Precondition: the request exists (else `NotFound`) and is in state `from` (else
    /// `Conflict`: another step got there first). Replaces the stored request with `to`
    /// (same id and subject). The subject may be erased by then: an erasure request completes
    /// after its erasure.
    Update { from: RequestState, to: Box<RequestRecord> },
}

/// The requests whose rows the batch reads.
pub type Keys = BTreeSet<RequestId>;
/// Request → its state, for the touched requests that exist.
pub type Snap = HashMap<RequestId, RequestState>;
pub type Inserts<'a> = Vec<&'a RequestRecord>;

#[derive(Debug)]
pub enum Step<'a> {
    Update(&'a RequestRecord),
}

pub(super) fn touch(change: &RequestChange, t: &mut Touched) {
    match change {
        RequestChange::File(r) => {
            t.subjects.insert(r.subject);
            t.requests.insert(r.id);
        }
        RequestChange::Update { to, .. } => {
            t.requests.insert(to.id);
        }
    }
}

pub(super) fn plan<'a>(change: &'a RequestChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    match change {
        RequestChange::File(r) => {
            if let Some(refused) = refuse_unless_active(snap, &r.subject) {
                return refused;
            }
            if snap.requests.contains_key(&r.id) {
                return OpOutcome::AlreadyExists;
            }
            snap.requests.insert(r.id, r.state);
            p.inserts.requests.push(r);
            OpOutcome::Done
        }
        RequestChange::Update { from, to } => match snap.requests.get_mut(&to.id) {
            None => OpOutcome::NotFound,
            Some(state) if state != from => OpOutcome::Conflict,
            Some(state) => {
                *state = to.state;
                p.push(super::Step::Request(Step::Update(to)));
                OpOutcome::Done
            }
        },
    }
}
