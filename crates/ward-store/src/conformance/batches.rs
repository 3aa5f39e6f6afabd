//! Conformance: Batches: ops see earlier ops of their batch, failed ops write nothing, large batches.

use super::*;

/// Ops in a batch apply in order and see what the earlier ones did.
pub(super) async fn ops_in_one_batch_see_earlier_ops(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let d = || vec![draft(ProcessingAction::Use, Some(sid))];
    let ops = vec![
        create_op(new_subject(sid, &[("email", 1)])),
        op(
            Change::Subject(SubjectChange::Update {
                id: sid,
                expected_revision: 1,
                fields: vec![2],
                reindex: vec![("email".to_owned(), Some(2))],
                bases: Vec::new(),
                at: at(1),
            }),
            d(),
        ),
        op(
            Change::Consent(ConsentChange::Add {
                id: sid,
                events: vec![consent("m", ConsentEventKind::Given, at(2), Some(&[1]))],
            }),
            d(),
        ),
        op(
            Change::Subject(SubjectChange::Update {
                id: sid,
                expected_revision: 2,
                fields: vec![3],
                reindex: vec![],
                bases: Vec::new(),
                at: at(3),
            }),
            d(),
        ),
        op(Change::Subject(SubjectChange::Erase { id: sid, at: at(4) }), d()),
        op(
            Change::Subject(SubjectChange::Update {
                id: sid,
                expected_revision: 3,
                fields: vec![4],
                reindex: vec![],
                bases: Vec::new(),
                at: at(5),
            }),
            d(),
        ),
        op(
            Change::Consent(ConsentChange::Add {
                id: sid,
                events: vec![],
            }),
            d(),
        ),
        op(Change::Subject(SubjectChange::Erase { id: sid, at: at(6) }), d()),
        op(
            Change::ApiKey(ApiKeyChange::Create(api_key("k", Role::Admin, &[]))),
            d(),
        ),
        op(
            Change::ApiKey(ApiKeyChange::Revoke {
                id: "k".to_owned(),
                at: at(7),
            }),
            d(),
        ),
        op(
            Change::ApiKey(ApiKeyChange::Revoke {
                id: "k".to_owned(),
                at: at(8),
            }),
            d(),
        ),
        record_policy(policy("cc", "3", at(9))),
        record_policy(policy("cc", "3", at(9))),
    ];
    let out = write(&store, ops).await;
    use OpOutcome::*;
    assert_eq!(
        out,
        [
            Done,
            Done,
            Done,
            Done,
            Done,
            Erased,
            Erased,
            Erased,
            Done,
            Done,
            Revoked,
            Done,
            AlreadyExists
        ]
    );
    let rec = subject(&store, sid).await;
    assert_eq!(rec.state, SubjectState::Erased);
    assert_eq!(rec.revision, 3);
    assert_eq!(rec.erased_at, Some(at(4)));
    assert_eq!((rec.key, rec.fields), (None, None));
    assert_eq!(by_index(&store, "email", 1).await, NONE);
    assert_eq!(by_index(&store, "email", 2).await, NONE);
    assert_eq!(
        ok(store.find_consent_events(sid).await, "find_consent_events"),
        [consent("m", ConsentEventKind::Given, at(2), None)]
    );
    assert_eq!(
        ok(store.find_api_key("k").await, "find_api_key").and_then(|k| k.revoked_at),
        Some(at(7))
    );
    assert_eq!(ok(store.find_policy_versions().await, "find_policy_versions").len(), 1);
    assert_eq!(journal_len(&store).await, 8);
    assert_valid_chain(&store, &all_entries(&store).await).await;
}

/// An empty write and ops without entries change the journal not at all.
pub(super) async fn empty_write_and_ops_without_entries(store: Arc<dyn Store>) {
    assert!(write(&store, vec![]).await.is_empty());
    assert_eq!(
        write_one(&store, op(Change::JournalOnly, vec![])).await,
        OpOutcome::Done
    );
    let sid = SubjectId::random();
    assert_eq!(
        write_one(
            &store,
            op(Change::Subject(SubjectChange::Create(new_subject(sid, &[]))), vec![])
        )
        .await,
        OpOutcome::Done
    );
    assert!(ok(store.find_subject(sid).await, "find_subject").is_some());
    assert_eq!(ok(store.find_journal_head().await, "find_journal_head"), None);
    assert!(all_entries(&store).await.is_empty());
}

/// Ops whose precondition fails write no entries; the others in the batch still apply.
pub(super) async fn failed_ops_write_no_entries_but_others_apply(store: Arc<dyn Store>) {
    let (a, b) = (SubjectId::random(), SubjectId::random());
    let da = vec![draft(ProcessingAction::Collection, Some(a))];
    let dj = vec![
        admin_draft(AdminEvent::PolicyActivated),
        draft(ProcessingAction::Use, Some(a)),
    ];
    let db = vec![
        draft(ProcessingAction::Collection, Some(b)),
        draft(ProcessingAction::Storage, Some(b)),
    ];
    let lost = || vec![draft(ProcessingAction::Destruction, None)];
    let ops = vec![
        op(
            Change::Subject(SubjectChange::Create(new_subject(a, &[("email", 1)]))),
            da.clone(),
        ),
        op(
            Change::Subject(SubjectChange::Update {
                id: SubjectId::random(),
                expected_revision: 1,
                fields: vec![],
                reindex: vec![],
                bases: Vec::new(),
                at: T0,
            }),
            lost(),
        ),
        op(Change::JournalOnly, dj.clone()),
        op(
            Change::Subject(SubjectChange::Create(new_subject(a, &[("email", 2)]))),
            lost(),
        ),
        op(
            Change::ApiKey(ApiKeyChange::Revoke {
                id: "none".to_owned(),
                at: T0,
            }),
            lost(),
        ),
        op(
            Change::Subject(SubjectChange::Erase {
                id: SubjectId::random(),
                at: T0,
            }),
            lost(),
        ),
        op(
            Change::Subject(SubjectChange::Create(new_subject(b, &[("email", 1)]))),
            db.clone(),
        ),
    ];
    use OpOutcome::*;
    assert_eq!(
        write(&store, ops).await,
        [Done, NotFound, Done, AlreadyExists, NotFound, NotFound, Done]
    );
    let (want, _) = chain::link(None, da.into_iter().chain(dj).chain(db));
    let got = all_entries(&store).await;
    assert_eq!(got, want);
    assert_valid_chain(&store, &got).await;
    assert_eq!(by_index(&store, "email", 1).await, sorted(vec![a, b]));
    assert_eq!(by_index(&store, "email", 2).await, NONE);
}

/// A batch of 1000 journal-only ops is one write.
pub(super) async fn large_batch_of_journal_only_ops(store: Arc<dyn Store>) {
    let ops: Vec<WriteOp> = (0..1000)
        .map(|i| {
            op(
                Change::JournalOnly,
                vec![draft(ProcessingAction::Use, None).detail(i.to_string())],
            )
        })
        .collect();
    assert_eq!(write(&store, ops).await, vec![OpOutcome::Done; 1000]);
    let entries = all_entries(&store).await;
    assert_eq!(entries.len(), 1000);
    assert_eq!(entries[999].detail.as_deref(), Some("999"));
    assert_valid_chain(&store, &entries).await;
}

/// A batch of 500 new subjects with index entries and consents is one write.
pub(super) async fn large_batch_of_subjects(store: Arc<dyn Store>) {
    let ids: Vec<SubjectId> = (0..500).map(|_| SubjectId::random()).collect();
    let ops: Vec<WriteOp> = ids
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let i = i64::try_from(i).expect("small");
            let mut n = new_subject(*s, &[("email", i), ("phone", i % 7)]);
            n.consents = vec![consent("marketing", ConsentEventKind::Given, at(i), Some(&[1, 2, 3]))];
            create_op(n)
        })
        .collect();
    assert_eq!(write(&store, ops).await, vec![OpOutcome::Done; 500]);
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts { active: 500, erased: 0 }
    );
    assert_eq!(by_index(&store, "email", 321).await, [ids[321]]);
    assert_eq!(
        by_index(&store, "phone", 3).await.len(),
        (0..500).filter(|i| i % 7 == 3).count()
    );
    assert_eq!(
        ok(store.find_consent_events(ids[499]).await, "find_consent_events"),
        [consent("marketing", ConsentEventKind::Given, at(499), Some(&[1, 2, 3]))]
    );
    let mut keys = Vec::new();
    let mut after = None;
    loop {
        let page = ok(store.find_wrapped_keys(after, 128).await, "find_wrapped_keys");
        let Some(last) = page.last() else { break };
        after = Some(last.subject);
        keys.extend(page.into_iter().map(|r| r.subject));
    }
    assert_eq!(keys, sorted(ids));
    let entries = all_entries(&store).await;
    assert_eq!(entries.len(), 500);
    assert_valid_chain(&store, &entries).await;
}
