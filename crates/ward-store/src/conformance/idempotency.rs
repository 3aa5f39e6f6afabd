//! Conformance: idempotency records, claimed with the change they guard.

use super::*;
use crate::{Claimed, IdempotencyChange, IdempotencyClaim, IdempotencyRecord, SealedAnswer};

fn claim(n: u8, at_minute: i64) -> IdempotencyClaim {
    IdempotencyClaim {
        key: [n; 32],
        fingerprint: [n.wrapping_add(100); 32],
        created_at: at(at_minute),
        expires_at: at(at_minute + 24 * 60),
    }
}

fn claimed(c: &IdempotencyClaim, inner: WriteOp) -> WriteOp {
    op(
        Change::Claimed(Box::new(Claimed {
            claim: c.clone(),
            change: inner.change,
        })),
        inner.journal,
    )
}

fn answer(status: u16) -> SealedAnswer {
    SealedAnswer {
        status,
        kek_id: "k1".to_owned(),
        wrapped_key: vec![7; 40],
        body: vec![1, 2, 3, status.to_be_bytes()[1]],
    }
}

fn complete(key: [u8; 32], status: u16) -> WriteOp {
    op(
        Change::Idempotency(IdempotencyChange::Complete {
            key,
            answer: answer(status),
        }),
        Vec::new(),
    )
}

/// A claim commits with its change: a duplicate claimed in the same batch (or later, while the
/// record lives) is `KeyInUse` and writes nothing, neither its change nor its entry; a change
/// whose own precondition fails records no claim.
pub(super) async fn a_claim_commits_with_its_change_or_not_at_all(store: Arc<dyn Store>) {
    let c = claim(1, 0);
    let (a, b) = (id(1), id(2));
    let out = write(
        &store,
        vec![
            claimed(&c, create_op(new_subject(a, &[]))),
            claimed(&c, create_op(new_subject(b, &[]))),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::KeyInUse]);
    assert!(ok(store.find_subject(a).await, "find").is_some());
    assert_eq!(ok(store.find_subject(b).await, "find"), None, "the duplicate did nothing");
    assert_eq!(journal_len(&store).await, 1);
    let record = ok(store.find_idempotency(&c.key).await, "find_idempotency");
    assert_eq!(
        record,
        Some(IdempotencyRecord {
            claim: c.clone(),
            answer: None
        })
    );
    // Later, while it lives: still held.
    let later = IdempotencyClaim {
        created_at: at(60),
        ..c.clone()
    };
    assert_eq!(
        write_one(&store, claimed(&later, create_op(new_subject(b, &[])))).await,
        OpOutcome::KeyInUse
    );
    // A change that fails its own precondition claims nothing.
    let d = claim(2, 0);
    assert_eq!(
        write_one(&store, claimed(&d, create_op(new_subject(a, &[])))).await,
        OpOutcome::AlreadyExists
    );
    assert_eq!(ok(store.find_idempotency(&d.key).await, "find_idempotency"), None);
    assert_eq!(journal_len(&store).await, 1);
}

/// The answer is recorded once; an unknown key has none to record.
pub(super) async fn an_answer_is_recorded_once(store: Arc<dyn Store>) {
    let c = claim(3, 0);
    assert_eq!(
        write_one(&store, claimed(&c, create_op(new_subject(id(3), &[])))).await,
        OpOutcome::Done
    );
    assert_eq!(write_one(&store, complete(c.key, 201)).await, OpOutcome::Done);
    assert_eq!(write_one(&store, complete(c.key, 200)).await, OpOutcome::AlreadyExists);
    assert_eq!(write_one(&store, complete([9; 32], 201)).await, OpOutcome::NotFound);
    let record = ok(store.find_idempotency(&c.key).await, "find_idempotency").expect("recorded");
    assert_eq!(record.answer, Some(answer(201)));
    assert!(record.live(at(24 * 60 - 1)) && !record.live(at(24 * 60)));
}

/// An expired record does not hold its key: a new claim replaces it (without its answer), and
/// pruning removes only expired records.
pub(super) async fn expired_records_are_replaced_and_pruned(store: Arc<dyn Store>) {
    let old = claim(4, 0);
    let other = claim(5, 600);
    write_one(&store, claimed(&old, create_op(new_subject(id(4), &[])))).await;
    write_one(&store, claimed(&other, create_op(new_subject(id(5), &[])))).await;
    assert_eq!(write_one(&store, complete(old.key, 201)).await, OpOutcome::Done);
    let fresh = IdempotencyClaim {
        fingerprint: [42; 32],
        ..claim(4, 24 * 60)
    };
    assert_eq!(
        write_one(&store, claimed(&fresh, create_op(new_subject(id(6), &[])))).await,
        OpOutcome::Done
    );
    assert_eq!(
        ok(store.find_idempotency(&old.key).await, "find_idempotency"),
        Some(IdempotencyRecord {
            claim: fresh.clone(),
            answer: None
        })
    );
    let prune = |before| op(Change::Idempotency(IdempotencyChange::Prune { before }), Vec::new());
    assert_eq!(write_one(&store, prune(at(24 * 60 + 600))).await, OpOutcome::Done);
    assert_eq!(ok(store.find_idempotency(&other.key).await, "find_idempotency"), None);
    assert!(ok(store.find_idempotency(&fresh.key).await, "find_idempotency").is_some());
    assert_eq!(write_one(&store, prune(at(48 * 60))).await, OpOutcome::Done);
    assert_eq!(ok(store.find_idempotency(&fresh.key).await, "find_idempotency"), None);
}
