//! Conformance: a change guarded by "no other live subject holds this index entry", checked
//! inside the write transaction.

use super::*;
use crate::{Guarded, UniqueGuard};
use std::collections::BTreeSet;

fn guard(field: &str, hash: i64, known: &[SubjectId]) -> UniqueGuard {
    UniqueGuard {
        field: field.to_owned(),
        hash,
        known: known.iter().copied().collect::<BTreeSet<_>>(),
    }
}

fn guarded(guards: Vec<UniqueGuard>, inner: WriteOp) -> WriteOp {
    op(
        Change::Unique(Guarded {
            guards,
            change: Box::new(inner.change),
        }),
        inner.journal,
    )
}

fn rectify(sid: SubjectId, rev: i64, field: &str, hash: Option<i64>) -> WriteOp {
    op(
        Change::Subject(SubjectChange::Update {
            id: sid,
            expected_revision: rev,
            fields: vec![9, rev as u8],
            reindex: vec![(field.to_owned(), hash)],
            bases: Vec::new(),
            at: at(1),
        }),
        vec![draft(ProcessingAction::Rectification, Some(sid))],
    )
}

/// A guarded registration is `Duplicate`, writing nothing (neither its change nor its entry),
/// when a live subject the guard does not know holds the entry, whether committed before or
/// planned earlier in the same batch; a holder the guard knows (compared and found different)
/// does not stop it, and neither does an erased one.
pub(super) async fn a_unique_guard_refuses_an_unknown_holder(store: Arc<dyn Store>) {
    let (a, b, c, d) = (id(1), id(2), id(3), id(4));
    create(&store, new_subject(a, &[("email", 7)])).await;
    let before = journal_len(&store).await;
    // a holds 7 and the guard does not know it.
    let out = write_one(
        &store,
        guarded(vec![guard("email", 7, &[b])], create_op(new_subject(b, &[("email", 7)]))),
    )
    .await;
    assert_eq!(out, OpOutcome::Duplicate);
    assert_eq!(ok(store.find_subject(b).await, "find"), None, "nothing was written");
    assert_eq!(journal_len(&store).await, before, "nor its entry");
    // Known to differ: written.
    let out = write_one(
        &store,
        guarded(vec![guard("email", 7, &[a, b])], create_op(new_subject(b, &[("email", 7)]))),
    )
    .await;
    assert_eq!(out, OpOutcome::Done);
    assert_eq!(by_index(&store, "email", 7).await, sorted(vec![a, b]));
    // Another field's entry with the same hash is no holder.
    assert_eq!(
        write_one(
            &store,
            guarded(vec![guard("phone", 7, &[c])], create_op(new_subject(c, &[("phone", 7)]))),
        )
        .await,
        OpOutcome::Done
    );
    // In one batch: the first takes 8, the second (not knowing it) is refused.
    let (e, f) = (id(5), id(6));
    let out = write(
        &store,
        vec![
            guarded(vec![guard("email", 8, &[e])], create_op(new_subject(e, &[("email", 8)]))),
            guarded(vec![guard("email", 8, &[f])], create_op(new_subject(f, &[("email", 8)]))),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Duplicate]);
    assert_eq!(ok(store.find_subject(f).await, "find"), None);
    // Once the holders are erased, the entry is free: also within one batch.
    assert_eq!(erase(&store, a, at(2)).await, OpOutcome::Done);
    let out = write(
        &store,
        vec![
            op(
                Change::Subject(SubjectChange::Erase { id: b, at: at(2) }),
                vec![draft(ProcessingAction::Destruction, Some(b))],
            ),
            guarded(vec![guard("email", 7, &[d])], create_op(new_subject(d, &[("email", 7)]))),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Done]);
    assert_eq!(by_index(&store, "email", 7).await, [d]);
}

/// A guarded rectification: the subject itself (in `known`) may already hold the entry; one
/// that moves off an entry earlier in the batch frees it for the next, and one that moves onto
/// it takes it.
pub(super) async fn a_unique_guard_follows_rectifications_in_the_batch(store: Arc<dyn Store>) {
    let (a, b, c) = (id(1), id(2), id(3));
    create(&store, new_subject(a, &[("email", 1)])).await;
    create(&store, new_subject(b, &[("email", 2)])).await;
    create(&store, new_subject(c, &[("email", 3)])).await;
    // a keeps its own entry.
    assert_eq!(
        write_one(&store, guarded(vec![guard("email", 1, &[a])], rectify(a, 1, "email", Some(1)))).await,
        OpOutcome::Done
    );
    // b onto a's entry: refused.
    assert_eq!(
        write_one(&store, guarded(vec![guard("email", 1, &[b])], rectify(b, 1, "email", Some(1)))).await,
        OpOutcome::Duplicate
    );
    assert_eq!(subject(&store, b).await.revision, 1, "nothing was written");
    // a moves to 4 and b takes 1 in the same batch; c, not knowing b, cannot then take 1 too.
    let out = write(
        &store,
        vec![
            rectify(a, 2, "email", Some(4)),
            guarded(vec![guard("email", 1, &[b])], rectify(b, 1, "email", Some(1))),
            guarded(vec![guard("email", 1, &[c])], rectify(c, 1, "email", Some(1))),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Done, OpOutcome::Duplicate]);
    assert_eq!(by_index(&store, "email", 1).await, [b]);
    assert_eq!(by_index(&store, "email", 4).await, [a]);
    // b removes its e-mail: 1 is free again.
    let out = write(
        &store,
        vec![
            rectify(b, 2, "email", None),
            guarded(vec![guard("email", 1, &[c])], rectify(c, 1, "email", Some(1))),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Done]);
    assert_eq!(by_index(&store, "email", 1).await, [c]);
}

/// Concurrent guarded registrations of one entry, each knowing only itself: exactly one is
/// written, the others are `Duplicate`.
pub(super) async fn concurrent_guarded_registrations_take_an_entry_once(store: Arc<dyn Store>) {
    let mut set = tokio::task::JoinSet::new();
    for n in 1..=8 {
        let store = store.clone();
        set.spawn(async move {
            let sid = id(n);
            let o = guarded(vec![guard("email", 42, &[sid])], create_op(new_subject(sid, &[("email", 42)])));
            ok(store.write(vec![o]).await, "write")[0]
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.expect("writer task"));
    }
    assert_eq!(out.iter().filter(|o| **o == OpOutcome::Done).count(), 1, "{out:?}");
    assert!(out.iter().all(|o| matches!(o, OpOutcome::Done | OpOutcome::Duplicate)), "{out:?}");
    assert_eq!(by_index(&store, "email", 42).await.len(), 1);
}
