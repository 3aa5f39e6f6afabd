//! Conformance: Wrapped keys: paged for rotation, rewrapped only where still under the old KEK.

use super::*;

/// Wrapped keys are paged in id order, erased subjects left out.
pub(super) async fn wrapped_keys_page_in_id_order_without_erased(store: Arc<dyn Store>) {
    let ids: Vec<SubjectId> = (1..=9).map(|n| id(n * 20)).collect();
    // Created out of order.
    let mut ops: Vec<WriteOp> = ids.iter().rev().map(|s| create_op(new_subject(*s, &[]))).collect();
    ops.swap(1, 5);
    write(&store, ops).await;
    assert_eq!(erase(&store, ids[0], at(1)).await, OpOutcome::Done);
    assert_eq!(erase(&store, ids[4], at(1)).await, OpOutcome::Done);

    let live: Vec<SubjectId> = ids.iter().copied().filter(|s| *s != ids[0] && *s != ids[4]).collect();
    let mut got = Vec::new();
    let mut after = None;
    loop {
        let page = ok(store.find_wrapped_keys(after, 3).await, "find_wrapped_keys");
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        after = Some(last.subject);
        got.extend(page);
    }
    let want: Vec<WrappedKeyRecord> = live
        .iter()
        .map(|s| WrappedKeyRecord {
            subject: *s,
            key: key("k1", s.as_bytes()[0]),
        })
        .collect();
    assert_eq!(got, want);

    // `after` need not be a live id.
    let page = ok(store.find_wrapped_keys(Some(ids[4]), 2).await, "find_wrapped_keys");
    assert_eq!(page.iter().map(|r| r.subject).collect::<Vec<_>>(), [ids[5], ids[6]]);
    let page = ok(store.find_wrapped_keys(Some(id(1)), 1).await, "find_wrapped_keys");
    assert_eq!(page.iter().map(|r| r.subject).collect::<Vec<_>>(), [ids[1]]);
    assert!(ok(store.find_wrapped_keys(Some(ids[8]), 5).await, "find_wrapped_keys").is_empty());
}

/// Rewrapping replaces only keys of active subjects still under the old KEK.
pub(super) async fn rewrap_keys_only_touches_active_rows_under_old_kek(store: Arc<dyn Store>) {
    let (a, b, c, d) = (
        SubjectId::random(),
        SubjectId::random(),
        SubjectId::random(),
        SubjectId::random(),
    );
    let mut sc = new_subject(c, &[]);
    sc.key = key("k2", 3);
    write(
        &store,
        vec![
            create_op(new_subject(a, &[])),
            create_op(new_subject(b, &[])),
            create_op(sc),
            create_op(new_subject(d, &[])),
        ],
    )
    .await;
    assert_eq!(erase(&store, d, at(1)).await, OpOutcome::Done);
    let b_before = subject(&store, b).await;

    let new_key = |n: u8| WrappedKey {
        kek_id: "k3".to_owned(),
        wrapped: vec![n; 40],
    };
    let records = vec![
        WrappedKeyRecord {
            subject: a,
            key: new_key(1),
        },
        WrappedKeyRecord {
            subject: c,
            key: new_key(3),
        },
        WrappedKeyRecord {
            subject: d,
            key: new_key(4),
        },
        WrappedKeyRecord {
            subject: SubjectId::random(),
            key: new_key(5),
        },
    ];
    let out = write_one(
        &store,
        op(
            Change::Key(KeyChange::Rewrap {
                old_kek_id: "k1".to_owned(),
                keys: records,
            }),
            vec![admin_draft(AdminEvent::KeyRotation)],
        ),
    )
    .await;
    assert_eq!(out, OpOutcome::Done);

    assert_eq!(subject(&store, a).await.key, Some(new_key(1)));
    assert_eq!(subject(&store, b).await, b_before);
    assert_eq!(subject(&store, c).await.key, Some(key("k2", 3)));
    let dr = subject(&store, d).await;
    assert_eq!((dr.state, dr.key), (SubjectState::Erased, None));
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts { active: 3, erased: 1 }
    );

    // Rewrapping again from k1 finds `a` no longer under k1.
    let out = write_one(
        &store,
        op(
            Change::Key(KeyChange::Rewrap {
                old_kek_id: "k1".to_owned(),
                keys: vec![WrappedKeyRecord {
                    subject: a,
                    key: key("k9", 9),
                }],
            }),
            vec![admin_draft(AdminEvent::KeyRotation)],
        ),
    )
    .await;
    assert_eq!(out, OpOutcome::Done);
    assert_eq!(subject(&store, a).await.key, Some(new_key(1)));
    assert_eq!(journal_len(&store).await, 4 + 1 + 2);
}

/// Wrapped keys are counted by KEK, erased subjects' (gone) keys left out, and a rewrap moves
/// the count: what decides whether an old KEK may be destroyed.
pub(super) async fn wrapped_keys_are_counted_by_kek(store: Arc<dyn Store>) {
    assert!(ok(store.count_wrapped_keys_by_kek().await, "count_wrapped_keys_by_kek").is_empty());
    let ids: Vec<SubjectId> = (1..=5).map(|n| id(n * 10)).collect();
    let mut ops: Vec<WriteOp> = ids.iter().map(|s| create_op(new_subject(*s, &[]))).collect();
    let mut under_k2 = new_subject(id(60), &[]);
    under_k2.key = key("k2", 60);
    ops.push(create_op(under_k2));
    write(&store, ops).await;
    assert_eq!(erase(&store, ids[0], at(1)).await, OpOutcome::Done);
    let counts = |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
    };
    assert_eq!(
        ok(store.count_wrapped_keys_by_kek().await, "count_wrapped_keys_by_kek"),
        counts(&[("k1", 4), ("k2", 1)])
    );

    let rewrapped = ids[1..]
        .iter()
        .map(|s| WrappedKeyRecord {
            subject: *s,
            key: key("k2", 1),
        })
        .collect();
    let out = write_one(
        &store,
        op(
            Change::Key(KeyChange::Rewrap {
                old_kek_id: "k1".to_owned(),
                keys: rewrapped,
            }),
            vec![admin_draft(AdminEvent::KeyRotation)],
        ),
    )
    .await;
    assert_eq!(out, OpOutcome::Done);
    assert_eq!(
        ok(store.count_wrapped_keys_by_kek().await, "count_wrapped_keys_by_kek"),
        counts(&[("k2", 5)])
    );
}

/// The key binding: keys are recorded once each, in one call, and a name keeps its first
/// fingerprint and time (a rotation adds a KEK; nothing rewrites one).
pub(super) async fn key_binding_records_each_key_once(store: Arc<dyn Store>) {
    assert!(ok(store.find_key_binding().await, "find_key_binding").is_empty());
    let bound = |name: &str, fingerprint: &str, when: OffsetDateTime| BoundKey {
        name: name.to_owned(),
        fingerprint: fingerprint.to_owned(),
        recorded_at: when,
    };
    let first = vec![bound("kek:1", "aa11", at(1)), bound("token", "bb22", at(1))];
    ok(store.record_key_binding(&first).await, "record_key_binding");
    ok(
        store
            .record_key_binding(&[bound("kek:1", "ffff", at(5)), bound("kek:2", "cc33", at(5))])
            .await,
        "record_key_binding",
    );
    assert_eq!(
        ok(store.find_key_binding().await, "find_key_binding"),
        [
            bound("kek:1", "aa11", at(1)),
            bound("kek:2", "cc33", at(5)),
            bound("token", "bb22", at(1)),
        ]
    );
}
