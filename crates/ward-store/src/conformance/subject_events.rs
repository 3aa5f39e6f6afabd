//! Conformance: subjects' life-cycle events (policy notices and acceptances, death), their
//! preconditions, the per-version counts, and erasure of their evidence.

use super::new_subject;
use super::{admin_draft, at, create, erase, journal_len, ok, op, write, write_one};
use crate::{Change, OpOutcome, PolicyAcknowledgements, Store, SubjectEventChange, SubjectEventRecord, WriteOp};
use std::sync::Arc;
use ward_core::journal::AdminEvent;
use ward_core::lifecycle::SubjectEventKind;
use ward_core::SubjectId;

fn event(kind: SubjectEventKind, minute: i64, version: Option<&str>, evidence: Option<&[u8]>) -> SubjectEventRecord {
    SubjectEventRecord {
        kind,
        at: at(minute),
        policy_version: version.map(str::to_owned),
        evidence: evidence.map(<[u8]>::to_vec),
    }
}

fn add(id: SubjectId, events: Vec<SubjectEventRecord>) -> WriteOp {
    op(
        Change::SubjectEvent(SubjectEventChange::Add { id, events }),
        vec![admin_draft(AdminEvent::PolicyNotified).subject(id)],
    )
}

/// Events are appended in order and returned oldest first, with their evidence; they do not
/// change the subject's revision.
pub(super) async fn subject_events_append_in_order(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let other = SubjectId::random();
    create(&store, new_subject(sid, &[])).await;
    create(&store, new_subject(other, &[])).await;
    let first = vec![
        event(SubjectEventKind::PolicyNotified, 5, Some("v2"), Some(&[1, 2])),
        event(SubjectEventKind::PolicyAccepted, 5, Some("v2"), None),
    ];
    let second = vec![event(SubjectEventKind::Deceased, 1, None, Some(&[9; 40]))];
    assert_eq!(write_one(&store, add(sid, first.clone())).await, OpOutcome::Done);
    let out = write(
        &store,
        vec![
            add(
                other,
                vec![event(SubjectEventKind::PolicyNotified, 2, Some("v2"), None)],
            ),
            add(sid, second.clone()),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Done]);
    let mut want = first;
    want.extend(second);
    assert_eq!(ok(store.find_subject_events(sid).await, "find_subject_events"), want);
    assert_eq!(
        ok(store.find_subject_events(other).await, "find_subject_events").len(),
        1
    );
    assert!(ok(
        store.find_subject_events(SubjectId::random()).await,
        "find_subject_events"
    )
    .is_empty());
    let record = ok(store.find_subject(sid).await, "find_subject").expect("exists");
    assert_eq!(record.revision, 1);
    assert_eq!(journal_len(&store).await, 2 + 3);
}

/// Events on an unknown subject are `NotFound`, on an erased one `Erased`, and write no
/// entry; erasure destroys the evidence and keeps the metadata.
pub(super) async fn subject_events_preconditions_and_erasure(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(&store, new_subject(sid, &[])).await;
    let ev = event(SubjectEventKind::Deceased, 3, None, Some(&[7; 16]));
    assert_eq!(write_one(&store, add(sid, vec![ev.clone()])).await, OpOutcome::Done);
    assert_eq!(
        write_one(&store, add(SubjectId::random(), vec![ev.clone()])).await,
        OpOutcome::NotFound
    );
    assert_eq!(erase(&store, sid, at(4)).await, OpOutcome::Done);
    assert_eq!(write_one(&store, add(sid, vec![ev.clone()])).await, OpOutcome::Erased);
    let kept = ok(store.find_subject_events(sid).await, "find_subject_events");
    assert_eq!(kept, [SubjectEventRecord { evidence: None, ..ev }]);
    assert_eq!(journal_len(&store).await, 1 + 1 + 1);
}

/// Counts are of distinct subjects per version and kind.
pub(super) async fn policy_acknowledgements_count_distinct_subjects(store: Arc<dyn Store>) {
    assert_eq!(
        ok(store.count_policy_acknowledgements("v2").await, "count"),
        PolicyAcknowledgements::default()
    );
    let ids: Vec<SubjectId> = (0..3).map(|_| SubjectId::random()).collect();
    for id in &ids {
        create(&store, new_subject(*id, &[])).await;
    }
    let n = |m| event(SubjectEventKind::PolicyNotified, m, Some("v2"), None);
    let a = |m| event(SubjectEventKind::PolicyAccepted, m, Some("v2"), None);
    write(
        &store,
        vec![
            add(ids[0], vec![n(1), n(2), a(3), a(4)]),
            add(ids[1], vec![n(1)]),
            add(
                ids[2],
                vec![event(SubjectEventKind::PolicyNotified, 1, Some("v3"), None)],
            ),
        ],
    )
    .await;
    assert_eq!(
        ok(store.count_policy_acknowledgements("v2").await, "count"),
        PolicyAcknowledgements {
            notified: 2,
            accepted: 1
        }
    );
    assert_eq!(
        ok(store.count_policy_acknowledgements("v3").await, "count"),
        PolicyAcknowledgements {
            notified: 1,
            accepted: 0
        }
    );
}
