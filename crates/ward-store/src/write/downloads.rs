//! Downloads: created for an active subject, served once before they expire.

use super::subjects::refuse_unless_active;
use super::{Planner, Snapshot, Touched};
use crate::{DownloadRecord, OpOutcome};
use std::collections::{BTreeSet, HashMap};
use time::OffsetDateTime;
use ward_core::DownloadId;

/// A change to the downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadChange {
    /// Precondition: the subject is active (else `NotFound` / `Erased`). Records the
    /// download with its sealed document.
    Create(DownloadRecord),
    /// Serves the download once. Precondition: it exists (else `NotFound`), was not used
    /// (else `AlreadyExists`) and `at` is before it expires (else `Conflict`). Sets `used_at`
    /// and deletes the sealed document: the served copy is not kept.
    Consume { id: DownloadId, at: OffsetDateTime },
}

/// The downloads whose rows the batch reads.
pub type Keys = BTreeSet<DownloadId>;
/// Download → (used, expires at), for the touched downloads that exist.
pub type Snap = HashMap<DownloadId, (bool, OffsetDateTime)>;
pub type Inserts<'a> = Vec<&'a DownloadRecord>;

#[derive(Debug)]
pub enum Step<'a> {
    Consume { id: &'a DownloadId, at: &'a OffsetDateTime },
}

pub(super) fn touch(change: &DownloadChange, t: &mut Touched) {
    match change {
        DownloadChange::Create(d) => {
            t.subjects.insert(d.subject);
        }
        DownloadChange::Consume { id, .. } => {
            t.downloads.insert(*id);
        }
    }
}

pub(super) fn plan<'a>(change: &'a DownloadChange, snap: &mut Snapshot, p: &mut Planner<'a>) -> OpOutcome {
    match change {
        DownloadChange::Create(d) => {
            if let Some(refused) = refuse_unless_active(snap, &d.subject) {
                return refused;
            }
            snap.downloads.insert(d.id, (d.used_at.is_some(), d.expires_at));
            p.inserts.downloads.push(d);
            OpOutcome::Done
        }
        DownloadChange::Consume { id, at } => match snap.downloads.get_mut(id) {
            None => OpOutcome::NotFound,
            Some((true, _)) => OpOutcome::AlreadyExists,
            Some((_, expires)) if *at >= *expires => OpOutcome::Conflict,
            Some((used, _)) => {
                *used = true;
                p.push(super::Step::Download(Step::Consume { id, at }));
                OpOutcome::Done
            }
        },
    }
}
