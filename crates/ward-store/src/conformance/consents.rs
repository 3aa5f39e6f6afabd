//! Conformance: Consent events: appended in order, refused for erased or unknown subjects.

use super::*;

/// Consent events are appended in order and returned oldest first, with their evidence.
pub(super) async fn consent_events_append_in_order(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let other = SubjectId::random();
    let mut s = new_subject(sid, &[]);
    let first = consent("registration", ConsentEventKind::Given, at(0), Some(&[1]));
    s.consents = vec![first.clone()];
    create(&store, s).await;
    create(&store, new_subject(other, &[])).await;

    // Same instant and an earlier one: order is the order of appending, not of `at`.
    let batch1 = vec![
        consent("marketing", ConsentEventKind::Given, at(10), Some(&[2, 0, 2])),
        consent("marketing", ConsentEventKind::Withdrawn, at(10), None),
    ];
    let batch2 = vec![consent("analytics", ConsentEventKind::Given, at(3), Some(&[3]))];
    let add = |target: SubjectId, events: Vec<ConsentEventRecord>| {
        op(
            Change::Consent(ConsentChange::Add { id: target, events }),
            vec![admin_draft(AdminEvent::ConsentGiven)],
        )
    };
    assert_eq!(write_one(&store, add(sid, batch1.clone())).await, OpOutcome::Done);
    let out = write(
        &store,
        vec![
            add(other, vec![consent("x", ConsentEventKind::Given, at(1), None)]),
            add(sid, batch2.clone()),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Done]);
    assert_eq!(write_one(&store, add(sid, vec![])).await, OpOutcome::Done);

    let mut want = vec![first];
    want.extend(batch1);
    want.extend(batch2);
    assert_eq!(ok(store.find_consent_events(sid).await, "find_consent_events"), want);
    assert_eq!(
        ok(store.find_consent_events(other).await, "find_consent_events").len(),
        1
    );
    let (record, events) = ok(
        store.find_subject_with_consents(sid).await,
        "find_subject_with_consents",
    );
    assert_eq!(record.map(|r| r.id), Some(sid));
    assert_eq!(events, want);
    let (none, no_events) = ok(
        store.find_subject_with_consents(SubjectId::random()).await,
        "find_subject_with_consents",
    );
    assert!(none.is_none() && no_events.is_empty());
    // Consent events do not change the subject's revision.
    assert_eq!(subject(&store, sid).await.revision, 1);
    assert_eq!(journal_len(&store).await, 2 + 4);
}

/// Consent events cannot be added to an erased or unknown subject.
pub(super) async fn consent_events_on_erased_or_unknown_subject(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(&store, new_subject(sid, &[])).await;
    assert_eq!(erase(&store, sid, at(1)).await, OpOutcome::Done);
    let add = |target: SubjectId| {
        op(
            Change::Consent(ConsentChange::Add {
                id: target,
                events: vec![consent("marketing", ConsentEventKind::Given, at(2), Some(&[1]))],
            }),
            vec![admin_draft(AdminEvent::ConsentGiven)],
        )
    };
    assert_eq!(write_one(&store, add(sid)).await, OpOutcome::Erased);
    assert_eq!(write_one(&store, add(SubjectId::random())).await, OpOutcome::NotFound);
    assert!(ok(store.find_consent_events(sid).await, "find_consent_events").is_empty());
    assert_eq!(journal_len(&store).await, 2);
}
