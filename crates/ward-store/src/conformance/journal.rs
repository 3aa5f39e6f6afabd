//! Conformance: The journal: entries linked in op order, paged, checked in ranges, round-tripped; checkpoints.

use super::*;

/// Entries of Done ops are linked in op order, exactly as [`chain::link`] links them.
pub(super) async fn journal_links_entries_in_op_order(store: Arc<dyn Store>) {
    let (a, b) = (SubjectId::random(), SubjectId::random());
    let da = vec![
        draft(ProcessingAction::Collection, Some(a)),
        draft(ProcessingAction::Recording, Some(a)),
    ];
    let dj = vec![draft(ProcessingAction::Retrieval, Some(b)).purpose("analytics")];
    let db = vec![draft(ProcessingAction::Collection, Some(b))];
    let ops = vec![
        op(Change::Subject(SubjectChange::Create(new_subject(a, &[]))), da.clone()),
        op(Change::JournalOnly, dj.clone()),
        op(Change::Subject(SubjectChange::Create(new_subject(b, &[]))), db.clone()),
    ];
    assert_eq!(write(&store, ops).await, [OpOutcome::Done; 3]);
    let (want, head) = chain::link(None, da.into_iter().chain(dj).chain(db));
    let got = all_entries(&store).await;
    assert_eq!(got, want);
    assert_eq!(got[0].prev_hash, GENESIS);
    assert_eq!(got.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(ok(store.find_journal_head().await, "find_journal_head"), head);

    // The next write continues the chain.
    let more = vec![
        admin_draft(AdminEvent::KeyRotation),
        admin_draft(AdminEvent::PolicyActivated),
    ];
    assert_eq!(
        write_one(&store, op(Change::JournalOnly, more.clone())).await,
        OpOutcome::Done
    );
    let (want_more, head2) = chain::link(head, more);
    let got = all_entries(&store).await;
    assert_eq!(got[4..], want_more[..]);
    assert_eq!(got[4].prev_hash, got[3].hash);
    assert_eq!(ok(store.find_journal_head().await, "find_journal_head"), head2);
    assert_valid_chain(&store, &got).await;
}

/// `find_journal_entries` pages by `seq`.
pub(super) async fn journal_entries_page(store: Arc<dyn Store>) {
    for i in 0..5 {
        let drafts = (0..5)
            .map(|j| admin_draft(AdminEvent::KeyRotation).detail(format!("{i}.{j}")))
            .collect();
        assert_eq!(
            write_one(&store, op(Change::JournalOnly, drafts)).await,
            OpOutcome::Done
        );
    }
    let seqs = |v: Vec<JournalEntry>| v.into_iter().map(|e| e.seq).collect::<Vec<_>>();
    let page = |after, limit| {
        let store = store.clone();
        async move {
            seqs(ok(
                store.find_journal_entries(after, limit).await,
                "find_journal_entries",
            ))
        }
    };
    assert_eq!(page(0, 10).await, (1..=10).collect::<Vec<_>>());
    assert_eq!(page(10, 10).await, (11..=20).collect::<Vec<_>>());
    assert_eq!(page(20, 10).await, (21..=25).collect::<Vec<_>>());
    assert_eq!(page(25, 10).await, Vec::<i64>::new());
    assert_eq!(page(100, 10).await, Vec::<i64>::new());
    assert_eq!(page(3, 0).await, Vec::<i64>::new());
    assert_eq!(page(-5, 2).await, [1, 2]);
    assert_eq!(page(7, 1).await, [8]);
    let entries = all_entries(&store).await;
    assert_eq!(entries[7].detail.as_deref(), Some("1.2"));
    assert_valid_chain(&store, &entries).await;
}

/// A range check sees each entry of its range once, in order, and judges it as one pass
/// over the journal would; the backend's check agrees with checking decoded entries.
pub(super) async fn journal_ranges_check_like_one_pass(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    for i in 0..4 {
        let drafts = (0..5)
            .map(|j| JournalDraft {
                subject: (j % 2 == 0).then_some(sid),
                purpose: (j % 3 == 0).then(|| "marketing".to_owned()),
                fields: (0..j).map(|k| format!("f{k}")).collect(),
                ..admin_draft(AdminEvent::KeyRotation).detail(format!("{i}.{j}"))
            })
            .collect();
        assert_eq!(
            write_one(&store, op(Change::JournalOnly, drafts)).await,
            OpOutcome::Done
        );
    }
    let entries = all_entries(&store).await;
    assert_eq!(entries.len(), 20);
    let hash_of = |seq: i64| entries[usize::try_from(seq - 1).unwrap()].hash;
    let none = chain::Checkpoints::new();
    let check = |after, upto, cps: chain::Checkpoints| {
        let store = store.clone();
        async move {
            ok(
                store.check_journal_range(after, upto, &cps).await,
                "check_journal_range",
            )
        }
    };
    let whole = check(0, i64::MAX, none.clone()).await;
    let first = whole.first.expect("a first entry");
    assert_eq!((first.seq, first.prev_hash, first.hash), (1, GENESIS, hash_of(1)));
    assert!(first.content_ok && first.checkpoint_ok);
    assert_eq!((whole.last, whole.problem), (Some((20, hash_of(20))), None));

    let middle = check(6, 13, none.clone()).await;
    let first = middle.first.expect("a first entry");
    assert_eq!((first.seq, first.prev_hash), (7, hash_of(6)));
    assert_eq!((middle.last, middle.problem), (Some((13, hash_of(13))), None));

    assert_eq!(check(20, 30, none.clone()).await, chain::RangeCheck::default());
    assert_eq!(check(5, 5, none.clone()).await, chain::RangeCheck::default());

    // A checkpoint that names another hash is a problem at its position, and checking stops.
    let wrong = chain::Checkpoints::from([(9, [7; 32]), (15, [7; 32])]);
    let r = check(0, 20, wrong.clone()).await;
    assert_eq!(r.problem, Some(chain::RangeProblem::CheckpointMismatch { seq: 9 }));
    assert_eq!(r.last, Some((8, hash_of(8))));
    // At the range's first entry it is left to the caller, with the link.
    let r = check(8, 20, wrong).await;
    assert!(!r.first.expect("a first entry").checkpoint_ok);
    assert_eq!((r.last, r.problem), (None, None));
    let right = chain::Checkpoints::from([(9, hash_of(9))]);
    assert_eq!(check(0, 20, right).await.problem, None);

    // The backend's check is the check of the decoded entries.
    let mut decoded = chain::RangeCheck::default();
    for e in &entries[3..17] {
        assert!(decoded.push_entry(e, &none));
    }
    assert_eq!(check(3, 17, none).await, decoded);
}

/// Every part of an entry survives storage.
pub(super) async fn journal_entry_fields_round_trip(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let drafts = vec![
        JournalDraft {
            at: datetime!(2026-11-21 10:11:12.654321 UTC),
            actor: "key:abc123".to_owned(),
            action: ProcessingAction::Retrieval.into(),
            subject: Some(sid),
            purpose: Some("marketing".to_owned()),
            fields: vec!["email".to_owned(), "full_name".to_owned(), "phone_2".to_owned()],
            detail: Some("kek:k2".to_owned()),
        },
        JournalDraft {
            at: datetime!(1999-12-31 23:59:59.999999 UTC),
            actor: "system".to_owned(),
            action: AdminEvent::KeyRotation.into(),
            subject: None,
            purpose: None,
            fields: vec![],
            detail: None,
        },
        JournalDraft {
            at: T0,
            actor: "cli".to_owned(),
            action: ProcessingAction::Provision.into(),
            subject: Some(sid),
            purpose: Some(String::new()),
            fields: vec!["email".to_owned()],
            detail: Some("основание: договор, п. 5; \"quoted\" ,commas,".to_owned()),
        },
        JournalDraft {
            at: OffsetDateTime::UNIX_EPOCH,
            actor: String::new(),
            action: AdminEvent::ApiKeyRevoked.into(),
            subject: None,
            purpose: None,
            fields: vec!["a".to_owned(), "b".to_owned()],
            detail: Some(String::new()),
        },
    ];
    assert_eq!(
        write_one(&store, op(Change::JournalOnly, drafts.clone())).await,
        OpOutcome::Done
    );
    let (want, _) = chain::link(None, drafts);
    let got = all_entries(&store).await;
    assert_eq!(got, want);
    assert_eq!(got[0].action, "retrieval");
    assert_eq!(got[1].action, "key.rotation");
    assert!(got[1].fields.is_empty());
    assert_valid_chain(&store, &got).await;
}

/// Checkpoints are stored as given and listed in seq order.
pub(super) async fn checkpoints_in_seq_order(store: Arc<dyn Store>) {
    let cp = |seq: i64, fill: u8| Checkpoint {
        seq,
        head: [fill; 32],
        at_micros: ward_core::clock::to_micros(at(seq)),
        key_id: format!("key{fill}"),
        signature: (0..64).map(|i| i ^ fill).collect(),
    };
    ok(store.create_checkpoint(&cp(7, 1)).await, "create_checkpoint");
    ok(store.create_checkpoint(&cp(3, 2)).await, "create_checkpoint");
    ok(store.create_checkpoint(&cp(12, 3)).await, "create_checkpoint");
    assert_eq!(
        ok(store.find_checkpoints().await, "find_checkpoints"),
        [cp(3, 2), cp(7, 1), cp(12, 3)]
    );
    // Checkpoints are not journal entries.
    assert_eq!(ok(store.find_journal_head().await, "find_journal_head"), None);
}
