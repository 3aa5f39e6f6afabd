//! Conformance: basis events (legal bases other than consent), appended alone or with their
//! subject's creation or update, their preconditions, and erasure of their evidence.

use super::{admin_draft, at, create, create_op, erase, journal_len, new_subject, ok, op, write, write_one};
use crate::{BasisChange, BasisEventRecord, Change, OpOutcome, Store, SubjectChange, WriteOp};
use std::sync::Arc;
use ward_core::basis::BasisEventKind;
use ward_core::journal::AdminEvent;
use ward_core::SubjectId;

fn event(purpose: &str, kind: BasisEventKind, minute: i64, start: i64, evidence: Option<&[u8]>) -> BasisEventRecord {
    BasisEventRecord {
        purpose: purpose.to_owned(),
        kind,
        at: at(minute),
        start: at(start),
        policy_version: "2026-01".to_owned(),
        evidence: evidence.map(<[u8]>::to_vec),
    }
}

fn add(id: SubjectId, events: Vec<BasisEventRecord>) -> WriteOp {
    op(
        Change::Basis(BasisChange::Add { id, events }),
        vec![admin_draft(AdminEvent::PolicyNotified).subject(id)],
    )
}

/// Events come back oldest first with their start and evidence, whether they were appended
/// alone, with the subject's creation or with an update (which still checks its revision);
/// they do not change the revision themselves.
pub(super) async fn basis_events_append_in_order(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let other = SubjectId::random();
    let collected = event("registration", BasisEventKind::Established, 0, 0, Some(&[1]));
    let mut new = new_subject(sid, &[]);
    new.bases = vec![collected.clone()];
    create(&store, new).await;
    create(&store, new_subject(other, &[])).await;
    let triggered = event("accounting", BasisEventKind::Established, 2, -600, Some(&[2; 30]));
    let ended = event("registration", BasisEventKind::Ended, 3, 3, None);
    let out = write(
        &store,
        vec![
            add(sid, vec![triggered.clone(), ended.clone()]),
            add(other, vec![event("payment", BasisEventKind::Established, 2, 2, None)]),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Done]);
    assert_eq!(ok(store.find_subject(sid).await, "find_subject").expect("exists").revision, 1);
    let again = event("registration", BasisEventKind::Established, 4, 4, None);
    let update = |rev| {
        op(
            Change::Subject(SubjectChange::Update {
                id: sid,
                expected_revision: rev,
                fields: vec![9],
                reindex: Vec::new(),
                bases: vec![again.clone()],
                at: at(4),
            }),
            vec![admin_draft(AdminEvent::PolicyNotified).subject(sid)],
        )
    };
    assert_eq!(write_one(&store, update(7)).await, OpOutcome::Conflict);
    assert_eq!(write_one(&store, update(1)).await, OpOutcome::Done);
    assert_eq!(
        ok(store.find_basis_events(sid).await, "find_basis_events"),
        [collected, triggered, ended, again]
    );
    assert_eq!(ok(store.find_basis_events(other).await, "find_basis_events").len(), 1);
    assert!(ok(store.find_basis_events(SubjectId::random()).await, "find_basis_events").is_empty());
    assert_eq!(journal_len(&store).await, 2 + 2 + 1);
}

/// Events on an unknown subject are `NotFound`, on an erased one `Erased`, and write no
/// entry; a subject created twice adds no events; erasure destroys the evidence and keeps the
/// metadata.
pub(super) async fn basis_events_preconditions_and_erasure(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(&store, new_subject(sid, &[])).await;
    let ev = event("payment", BasisEventKind::Established, 3, 1, Some(&[7; 16]));
    assert_eq!(write_one(&store, add(sid, vec![ev.clone()])).await, OpOutcome::Done);
    assert_eq!(
        write_one(&store, add(SubjectId::random(), vec![ev.clone()])).await,
        OpOutcome::NotFound
    );
    let mut twice = new_subject(sid, &[]);
    twice.bases = vec![ev.clone()];
    assert_eq!(write_one(&store, create_op(twice)).await, OpOutcome::AlreadyExists);
    assert_eq!(erase(&store, sid, at(4)).await, OpOutcome::Done);
    assert_eq!(write_one(&store, add(sid, vec![ev.clone()])).await, OpOutcome::Erased);
    let kept = ok(store.find_basis_events(sid).await, "find_basis_events");
    assert_eq!(kept, [BasisEventRecord { evidence: None, ..ev }]);
    assert_eq!(journal_len(&store).await, 1 + 1 + 1);
}
