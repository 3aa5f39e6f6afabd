//! Conformance: Subjects: records, the blind index, updates at a revision, erasure, counts.

use super::*;

/// A new store has nothing in it.
pub(super) async fn empty_store_reads_nothing(store: Arc<dyn Store>) {
    let unknown = SubjectId::random();
    assert_eq!(ok(store.find_subject(unknown).await, "find_subject"), None);
    assert!(ok(store.find_consent_events(unknown).await, "find_consent_events").is_empty());
    assert!(ok(store.find_subjects_by_index("email", 1).await, "find_subjects_by_index").is_empty());
    assert!(ok(store.find_wrapped_keys(None, 10).await, "find_wrapped_keys").is_empty());
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts::default()
    );
    assert_eq!(ok(store.find_journal_head().await, "find_journal_head"), None);
    assert!(ok(store.find_journal_entries(0, 10).await, "find_journal_entries").is_empty());
    assert!(ok(store.find_checkpoints().await, "find_checkpoints").is_empty());
    assert_eq!(ok(store.find_api_key("nope").await, "find_api_key"), None);
    assert!(ok(store.find_api_keys().await, "find_api_keys").is_empty());
    assert!(ok(store.find_policy_versions().await, "find_policy_versions").is_empty());
    assert!(matches!(store.backend(), "sqlite" | "postgres"));
    assert!(!store.migration_names().is_empty());
}

/// Everything of a created subject comes back as written, timestamps to the microsecond.
pub(super) async fn subject_round_trips(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let consents = vec![
        consent("marketing", ConsentEventKind::Given, at(-5), Some(&[1, 0, 2, 255])),
        consent("analytics", ConsentEventKind::Withdrawn, at(-5), None),
        consent("marketing", ConsentEventKind::Withdrawn, at(-9), Some(&[])),
    ];
    let new = NewSubject {
        id: sid,
        created_at: T0,
        key: WrappedKey {
            kek_id: "kek-2026".to_owned(),
            wrapped: (0..=255).collect(),
        },
        fields: vec![0, 0, 1, 2, 3, 255, 254, 0],
        index: vec![
            IndexEntry {
                field: "email".to_owned(),
                hash: -5,
            },
            IndexEntry {
                field: "phone".to_owned(),
                hash: i64::MAX,
            },
            IndexEntry {
                field: "full_name".to_owned(),
                hash: i64::MIN,
            },
        ],
        consents: consents.clone(),
        bases: Vec::new(),
    };
    create(&store, new.clone()).await;

    let got = subject(&store, sid).await;
    assert_eq!(
        got,
        SubjectRecord {
            id: sid,
            state: SubjectState::Active,
            revision: 1,
            created_at: T0,
            updated_at: T0,
            erased_at: None,
            key: Some(new.key.clone()),
            fields: Some(new.fields.clone()),
        }
    );
    assert_eq!(got.created_at.microsecond(), 123_456);
    assert_eq!(
        ok(store.find_consent_events(sid).await, "find_consent_events"),
        consents
    );
    assert_eq!(by_index(&store, "email", -5).await, [sid]);
    assert_eq!(by_index(&store, "phone", i64::MAX).await, [sid]);
    assert_eq!(by_index(&store, "full_name", i64::MIN).await, [sid]);
    assert_eq!(
        ok(store.find_wrapped_keys(None, 10).await, "find_wrapped_keys"),
        [WrappedKeyRecord {
            subject: sid,
            key: new.key.clone()
        }]
    );
    let entries = all_entries(&store).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].subject, Some(sid));
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts { active: 1, erased: 0 }
    );
}

/// Creating an id that exists changes nothing and writes no entry, also within one batch.
pub(super) async fn create_existing_subject_is_already_exists(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let first = new_subject(sid, &[("email", 1)]);
    create(&store, first.clone()).await;
    let before = subject(&store, sid).await;

    let mut second = new_subject(sid, &[("email", 2)]);
    second.fields = vec![42];
    second.consents = vec![consent("marketing", ConsentEventKind::Given, T0, None)];
    assert_eq!(write_one(&store, create_op(second)).await, OpOutcome::AlreadyExists);
    assert_eq!(subject(&store, sid).await, before);
    assert_eq!(by_index(&store, "email", 2).await, NONE);
    assert!(ok(store.find_consent_events(sid).await, "find_consent_events").is_empty());
    assert_eq!(journal_len(&store).await, 1);

    let other = SubjectId::random();
    let out = write(
        &store,
        vec![
            create_op(new_subject(other, &[("email", 3)])),
            create_op(new_subject(other, &[("email", 4)])),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::AlreadyExists]);
    assert_eq!(by_index(&store, "email", 3).await, [other]);
    assert_eq!(by_index(&store, "email", 4).await, NONE);
    assert_eq!(journal_len(&store).await, 2);
}

/// Lookups return every subject with that hash for that field, and only for that field.
pub(super) async fn blind_index_lookup(store: Arc<dyn Store>) {
    let (a, b, c, d) = (
        SubjectId::random(),
        SubjectId::random(),
        SubjectId::random(),
        SubjectId::random(),
    );
    write(
        &store,
        vec![
            create_op(new_subject(a, &[("email", 42), ("phone", 1)])),
            create_op(new_subject(b, &[("email", 42)])),
            create_op(new_subject(c, &[("email", 43)])),
            create_op(new_subject(d, &[("phone", 42)])),
        ],
    )
    .await;
    assert_eq!(by_index(&store, "email", 42).await, sorted(vec![a, b]));
    assert_eq!(by_index(&store, "email", 43).await, [c]);
    assert_eq!(by_index(&store, "phone", 42).await, [d]);
    assert_eq!(by_index(&store, "phone", 1).await, [a]);
    assert_eq!(by_index(&store, "email", 7).await, NONE);
    assert_eq!(by_index(&store, "full_name", 42).await, NONE);
    // In id order.
    let got = ok(
        store.find_subjects_by_index("email", 42).await,
        "find_subjects_by_index",
    );
    assert_eq!(got, sorted(vec![a, b]));
    // With their records and consent events, in id order, from one read.
    let with = ok(
        store.find_subjects_by_index_with_consents("email", 42).await,
        "find_subjects_by_index_with_consents",
    );
    let ids: Vec<SubjectId> = with.iter().map(|(r, _)| r.id).collect();
    assert_eq!(ids, sorted(vec![a, b]));
    for (record, events) in &with {
        assert_eq!(record, &subject(&store, record.id).await);
        let direct = ok(store.find_consent_events(record.id).await, "find_consent_events");
        assert_eq!(events, &direct);
    }
    assert!(ok(
        store.find_subjects_by_index_with_consents("email", 7).await,
        "find_subjects_by_index_with_consents"
    )
    .is_empty());
}

/// An update at the current revision replaces the fields, reindexes and bumps the revision.
pub(super) async fn update_subject_at_revision(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(
        &store,
        new_subject(sid, &[("email", 1), ("phone", 2), ("full_name", 3)]),
    )
    .await;
    let before = subject(&store, sid).await;

    let update = |rev: i64, fields: Vec<u8>, reindex: Vec<(String, Option<i64>)>, when| {
        op(
            Change::Subject(SubjectChange::Update {
                id: sid,
                expected_revision: rev,
                fields,
                reindex,
                bases: Vec::new(),
                at: when,
            }),
            vec![draft(ProcessingAction::Rectification, Some(sid))],
        )
    };
    let reindex = vec![
        ("email".to_owned(), Some(10)),
        ("phone".to_owned(), None),
        ("city".to_owned(), Some(5)),
    ];
    assert_eq!(
        write_one(&store, update(before.revision, vec![7, 7, 0], reindex, at(60))).await,
        OpOutcome::Done
    );

    let after = subject(&store, sid).await;
    assert_eq!(
        after,
        SubjectRecord {
            revision: before.revision + 1,
            updated_at: at(60),
            fields: Some(vec![7, 7, 0]),
            ..before.clone()
        }
    );
    assert_eq!(by_index(&store, "email", 1).await, NONE);
    assert_eq!(by_index(&store, "email", 10).await, [sid]);
    assert_eq!(by_index(&store, "phone", 2).await, NONE);
    assert_eq!(by_index(&store, "full_name", 3).await, [sid]);
    assert_eq!(by_index(&store, "city", 5).await, [sid]);

    // Again, at the new revision; reindexing a field to the hash it has is harmless.
    let reindex = vec![("email".to_owned(), Some(10)), ("unknown".to_owned(), None)];
    assert_eq!(
        write_one(&store, update(after.revision, vec![], reindex, at(61))).await,
        OpOutcome::Done
    );
    let again = subject(&store, sid).await;
    assert_eq!(again.revision, before.revision + 2);
    assert_eq!(again.fields, Some(vec![]));
    assert_eq!(again.updated_at, at(61));
    assert_eq!(by_index(&store, "email", 10).await, [sid]);
    assert_eq!(journal_len(&store).await, 3);
}

/// Stale revision → Conflict, erased → Erased, unknown → NotFound; none writes anything.
pub(super) async fn update_subject_preconditions(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(&store, new_subject(sid, &[("email", 1)])).await;
    let rec = subject(&store, sid).await;
    let update = |target: SubjectId, rev: i64| {
        op(
            Change::Subject(SubjectChange::Update {
                id: target,
                expected_revision: rev,
                fields: vec![1],
                reindex: vec![("email".to_owned(), Some(99))],
                bases: Vec::new(),
                at: at(5),
            }),
            vec![draft(ProcessingAction::Rectification, Some(target))],
        )
    };

    assert_eq!(
        write_one(&store, update(sid, rec.revision - 1)).await,
        OpOutcome::Conflict
    );
    assert_eq!(
        write_one(&store, update(sid, rec.revision + 1)).await,
        OpOutcome::Conflict
    );
    assert_eq!(subject(&store, sid).await, rec);
    assert_eq!(by_index(&store, "email", 99).await, NONE);
    assert_eq!(
        write_one(&store, update(SubjectId::random(), 1)).await,
        OpOutcome::NotFound
    );
    assert_eq!(journal_len(&store).await, 1);

    // Within one batch, the second update at the same revision conflicts.
    let out = write(
        &store,
        vec![
            update(sid, rec.revision),
            update(sid, rec.revision),
            update(sid, rec.revision + 1),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Conflict, OpOutcome::Done]);
    assert_eq!(subject(&store, sid).await.revision, rec.revision + 2);
    assert_eq!(journal_len(&store).await, 3);

    assert_eq!(erase(&store, sid, at(9)).await, OpOutcome::Done);
    let erased = subject(&store, sid).await;
    assert_eq!(write_one(&store, update(sid, erased.revision)).await, OpOutcome::Erased);
    assert_eq!(subject(&store, sid).await, erased);
    assert_eq!(journal_len(&store).await, 4);
}

/// Erasure destroys the key, the fields, the index entries and the evidence, keeps a
/// tombstone and the consent metadata, and happens once.
pub(super) async fn erase_subject_destroys_key_fields_index_and_evidence(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let other = SubjectId::random();
    let mut s = new_subject(sid, &[("email", 5), ("phone", 6)]);
    s.consents = vec![consent("marketing", ConsentEventKind::Given, at(0), Some(&[1, 2]))];
    let mut o = new_subject(other, &[("email", 5)]);
    o.consents = vec![consent("marketing", ConsentEventKind::Given, at(0), Some(&[3]))];
    write(&store, vec![create_op(s), create_op(o.clone())]).await;
    let added = consent("analytics", ConsentEventKind::Given, at(1), Some(&[4]));
    let out = write_one(
        &store,
        op(
            Change::Consent(ConsentChange::Add {
                id: sid,
                events: vec![added],
            }),
            vec![admin_draft(AdminEvent::ConsentGiven)],
        ),
    )
    .await;
    assert_eq!(out, OpOutcome::Done);
    let before = subject(&store, sid).await;

    assert_eq!(erase(&store, sid, at(30)).await, OpOutcome::Done);

    let rec = subject(&store, sid).await;
    assert_eq!(
        rec,
        SubjectRecord {
            id: sid,
            state: SubjectState::Erased,
            revision: before.revision,
            created_at: before.created_at,
            updated_at: at(30),
            erased_at: Some(at(30)),
            key: None,
            fields: None,
        }
    );
    assert_eq!(by_index(&store, "email", 5).await, [other]);
    assert_eq!(by_index(&store, "phone", 6).await, NONE);
    let events = ok(store.find_consent_events(sid).await, "find_consent_events");
    assert_eq!(
        events,
        [
            consent("marketing", ConsentEventKind::Given, at(0), None),
            consent("analytics", ConsentEventKind::Given, at(1), None),
        ]
    );
    // The other subject is untouched.
    assert_eq!(
        ok(store.find_consent_events(other).await, "find_consent_events"),
        o.consents
    );
    assert_eq!(subject(&store, other).await.key, Some(o.key.clone()));
    assert_eq!(
        ok(store.find_wrapped_keys(None, 10).await, "find_wrapped_keys"),
        [WrappedKeyRecord {
            subject: other,
            key: o.key
        }]
    );

    assert_eq!(erase(&store, sid, at(40)).await, OpOutcome::Erased);
    assert_eq!(subject(&store, sid).await, rec);
    assert_eq!(erase(&store, SubjectId::random(), at(40)).await, OpOutcome::NotFound);
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts { active: 1, erased: 1 }
    );
    assert_eq!(journal_len(&store).await, 4);
}

/// Subjects are counted by state.
pub(super) async fn count_subjects_by_state(store: Arc<dyn Store>) {
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts::default()
    );
    let ids: Vec<SubjectId> = (0..5).map(|_| SubjectId::random()).collect();
    write(&store, ids.iter().map(|s| create_op(new_subject(*s, &[]))).collect()).await;
    assert_eq!(erase(&store, ids[1], at(1)).await, OpOutcome::Done);
    assert_eq!(erase(&store, ids[3], at(1)).await, OpOutcome::Done);
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts { active: 3, erased: 2 }
    );
}
