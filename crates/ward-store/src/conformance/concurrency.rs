//! Conformance: Concurrency: many writers keep one chain; updates at one revision, one wins.

use super::*;

/// Many concurrent writers produce one unbroken chain: no gaps, no duplicate seqs.
pub(super) async fn concurrent_writes_keep_one_chain(store: Arc<dyn Store>) {
    concurrent_writers(vec![store.clone()], 16, 50).await;
}

/// Runs `tasks` tasks of `writes` writes each, spread over `stores` (which share one
/// database), then checks that the journal is one valid chain holding every entry once.
pub async fn concurrent_writers(stores: Vec<Arc<dyn Store>>, tasks: usize, writes: usize) {
    assert!(!stores.is_empty());
    let mut set = tokio::task::JoinSet::new();
    for t in 0..tasks {
        let store = stores[t % stores.len()].clone();
        set.spawn(async move {
            for w in 0..writes {
                let ops = vec![op(
                    Change::JournalOnly,
                    vec![draft(ProcessingAction::Access, None).detail(format!("{t}/{w}"))],
                )];
                let out = ok(store.write(ops).await, "concurrent write");
                assert_eq!(out, [OpOutcome::Done]);
            }
        });
    }
    while let Some(r) = set.join_next().await {
        if let Err(e) = r {
            panic!("writer task failed: {e}");
        }
    }
    let entries = all_entries(&stores[0]).await;
    assert_eq!(entries.len(), tasks * writes);
    assert_valid_chain(&stores[0], &entries).await;
    let details: BTreeSet<&str> = entries.iter().filter_map(|e| e.detail.as_deref()).collect();
    assert_eq!(details.len(), tasks * writes, "an entry is missing or duplicated");
    // Each task's writes are in its own order.
    for t in 0..tasks {
        let mine: Vec<&str> = entries
            .iter()
            .filter_map(|e| e.detail.as_deref())
            .filter(|d| d.split('/').next() == Some(t.to_string().as_str()))
            .collect();
        let want: Vec<String> = (0..writes).map(|w| format!("{t}/{w}")).collect();
        assert_eq!(mine, want);
    }
}

/// Of many concurrent updates at the same revision, exactly one is Done.
pub(super) async fn concurrent_updates_at_one_revision(store: Arc<dyn Store>) {
    concurrent_updates(vec![store], 12).await;
}

/// Runs `tasks` concurrent updates of one subject, all at its first revision, spread over
/// `stores` (which share one database): exactly one wins, the others conflict.
pub async fn concurrent_updates(stores: Vec<Arc<dyn Store>>, tasks: usize) {
    assert!(!stores.is_empty());
    let sid = SubjectId::random();
    create(&stores[0], new_subject(sid, &[("email", 1)])).await;
    let rev = subject(&stores[0], sid).await.revision;
    let mut set = tokio::task::JoinSet::new();
    for t in 0..tasks {
        let store = stores[t % stores.len()].clone();
        set.spawn(async move {
            let hash = i64::try_from(t).expect("small") + 100;
            let o = op(
                Change::Subject(SubjectChange::Update {
                    id: sid,
                    expected_revision: rev,
                    fields: vec![u8::try_from(t).expect("small")],
                    reindex: vec![("email".to_owned(), Some(hash))],
                    bases: Vec::new(),
                    at: at(1),
                }),
                vec![draft(ProcessingAction::Rectification, Some(sid))],
            );
            (t, ok(store.write(vec![o]).await, "concurrent update")[0])
        });
    }
    let mut winners = Vec::new();
    while let Some(r) = set.join_next().await {
        match r {
            Ok((t, OpOutcome::Done)) => winners.push(t),
            Ok((_, OpOutcome::Conflict)) => {}
            Ok((t, other)) => panic!("update {t} had outcome {other:?}"),
            Err(e) => panic!("writer task failed: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one update at revision {rev} may win");
    let won = winners[0];
    let rec = subject(&stores[0], sid).await;
    assert_eq!(rec.revision, rev + 1);
    assert_eq!(rec.fields, Some(vec![u8::try_from(won).expect("small")]));
    assert_eq!(
        by_index(&stores[0], "email", i64::try_from(won).expect("small") + 100).await,
        [sid]
    );
    let entries = all_entries(&stores[0]).await;
    assert_eq!(entries.len(), 2);
    assert_valid_chain(&stores[0], &entries).await;
}
