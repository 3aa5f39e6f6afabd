//! Conformance: destruction acts (RKN Order No. 179). An act is written with the destruction
//! it documents or not at all; a subject has one act per cause; acts are listed by subject and
//! time, and purged by age.

use super::*;
use crate::{ActChange, ActFilter, DestructionActRecord};
use ward_core::ActId;

fn act(sid: SubjectId, cause: &str, when: OffsetDateTime) -> DestructionActRecord {
    DestructionActRecord {
        id: ActId::random(),
        subject: sid,
        cause: cause.to_owned(),
        at: when,
        operator: "ООО «Ромашка»".to_owned(),
        operator_address: Some("Москва, ул. Ленина, 1".to_owned()),
        processor: None,
        destroyed_by: "key:test".to_owned(),
        position: "officer".to_owned(),
        categories: vec!["contact".to_owned(), "identity".to_owned()],
        fields: vec!["email".to_owned(), "name".to_owned()],
        system: "Ward".to_owned(),
        method: "crypto_shredding".to_owned(),
        reason: "subject_request".to_owned(),
        withheld: vec!["payment:accounting".to_owned()],
    }
}

fn destroy_op(a: &DestructionActRecord, destruction: SubjectChange) -> WriteOp {
    op(
        Change::Act(ActChange::Destroy {
            act: Box::new(a.clone()),
            destruction,
            block: None,
            lift: None,
        }),
        vec![draft(ProcessingAction::Destruction, Some(a.subject))],
    )
}

fn all() -> ActFilter {
    ActFilter {
        limit: 100,
        ..ActFilter::default()
    }
}

async fn acts(store: &Arc<dyn Store>, filter: &ActFilter) -> Vec<DestructionActRecord> {
    ok(store.find_acts(filter).await, "find_acts")
}

/// An erasure with its act: both are written, or neither (a refused erasure, a second act for
/// the same cause, which is what a second process executing the same deadline would write).
pub(super) async fn act_is_written_with_its_destruction_once_per_cause(store: Arc<dyn Store>) {
    let sid = id(1);
    create(&store, new_subject(sid, &[("email", 1)])).await;
    let first = act(sid, "erasure", at(10));
    let erase = SubjectChange::Erase { id: sid, at: at(10) };
    assert_eq!(write_one(&store, destroy_op(&first, erase.clone())).await, OpOutcome::Done);
    assert_eq!(ok(store.find_act(first.id).await, "find_act"), Some(first.clone()));
    assert_eq!(subject(&store, sid).await.state, SubjectState::Erased);
    let entries = journal_len(&store).await;

    // The same cause again: refused before the subject's precondition is looked at.
    let again = act(sid, "erasure", at(11));
    assert_eq!(
        write_one(&store, destroy_op(&again, erase)).await,
        OpOutcome::AlreadyExists
    );
    // Another cause, on an erased subject: the erasure's precondition refuses, no act.
    let other = act(sid, "other", at(12));
    let erase_again = SubjectChange::Erase { id: sid, at: at(12) };
    assert_eq!(
        write_one(&store, destroy_op(&other, erase_again)).await,
        OpOutcome::Erased
    );
    assert_eq!(ok(store.find_act(other.id).await, "find_act"), None);
    assert_eq!(ok(store.find_act(again.id).await, "find_act"), None);
    assert_eq!(journal_len(&store).await, entries);
    assert_eq!(acts(&store, &all()).await, [first]);

    // In one batch, the second act for one cause is refused and the first stands.
    let sid2 = id(2);
    create(&store, new_subject(sid2, &[])).await;
    let rev = subject(&store, sid2).await.revision;
    let update = |r: i64| SubjectChange::Update {
        id: sid2,
        expected_revision: r,
        fields: vec![9],
        reindex: Vec::new(),
        bases: Vec::new(),
        at: at(20),
    };
    let a = act(sid2, "due:consent_withdrawn:marketing", at(20));
    let b = act(sid2, "due:consent_withdrawn:marketing", at(20));
    let out = write(&store, vec![destroy_op(&a, update(rev)), destroy_op(&b, update(rev + 1))]).await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::AlreadyExists]);
    assert_eq!(subject(&store, sid2).await.fields, Some(vec![9]));
    assert_eq!(subject(&store, sid2).await.revision, rev + 1);
    // A stale update writes no act.
    let c = act(sid2, "request:1", at(21));
    assert_eq!(write_one(&store, destroy_op(&c, update(rev))).await, OpOutcome::Conflict);
    assert_eq!(ok(store.find_act(c.id).await, "find_act"), None);

    // A destruction that withholds categories places their block with the act.
    let d = act(sid2, "erasure:withheld", at(22));
    let block = crate::BlockRecord {
        id: ward_core::BlockId::random(),
        subject: sid2,
        categories: vec!["payment".to_owned()],
        reason: "legal_hold".to_owned(),
        at: at(22),
        lifted_at: None,
        erase_after: true,
    };
    let with_block = op(
        Change::Act(ActChange::Destroy {
            act: Box::new(d.clone()),
            destruction: update(rev + 1),
            block: Some(Box::new(block.clone())),
            lift: None,
        }),
        vec![draft(ProcessingAction::Destruction, Some(sid2))],
    );
    assert_eq!(write_one(&store, with_block).await, OpOutcome::Done);
    assert_eq!(ok(store.find_blocks(sid2).await, "find_blocks"), [block]);
    assert_eq!(ok(store.find_act(d.id).await, "find_act"), Some(d));
}

/// A destruction that lifts a block (one whose six months ran out) writes the act, the
/// destruction and the lift together; a block not in force (lifted, another subject's,
/// unknown) refuses the whole change, and a second act for the cause writes nothing.
pub(super) async fn act_lifts_its_block_with_the_destruction_or_nothing(store: Arc<dyn Store>) {
    let sid = id(1);
    create(&store, new_subject(sid, &[("email", 1)])).await;
    let other = id(2);
    create(&store, new_subject(other, &[])).await;
    let block = crate::BlockRecord {
        id: ward_core::BlockId::random(),
        subject: sid,
        categories: Vec::new(),
        reason: "destruction_impossible".to_owned(),
        at: at(1),
        lifted_at: None,
        erase_after: false,
    };
    let place = op(
        Change::Block(crate::BlockChange::Place(block.clone())),
        vec![draft(ward_core::journal::AdminEvent::SubjectBlocked, Some(sid))],
    );
    assert_eq!(write_one(&store, place).await, OpOutcome::Done);
    let lifting = |a: &DestructionActRecord, lift: ward_core::BlockId| {
        op(
            Change::Act(ActChange::Destroy {
                act: Box::new(a.clone()),
                destruction: SubjectChange::Erase { id: a.subject, at: a.at },
                block: None,
                lift: Some(lift),
            }),
            vec![draft(ProcessingAction::Destruction, Some(a.subject))],
        )
    };
    let entries = journal_len(&store).await;
    // Another subject's block, an unknown block: nothing is written.
    let wrong = act(other, &format!("block:{}", block.id), at(30));
    assert_eq!(write_one(&store, lifting(&wrong, block.id)).await, OpOutcome::NotFound);
    let unknown = act(sid, "block:unknown", at(30));
    let nobody = ward_core::BlockId::random();
    assert_eq!(write_one(&store, lifting(&unknown, nobody)).await, OpOutcome::NotFound);
    assert_eq!(subject(&store, other).await.state, SubjectState::Active);
    assert_eq!(subject(&store, sid).await.state, SubjectState::Active);
    assert_eq!(acts(&store, &all()).await, []);
    assert_eq!(journal_len(&store).await, entries);

    let due = act(sid, &format!("block:{}", block.id), at(30));
    assert_eq!(write_one(&store, lifting(&due, block.id)).await, OpOutcome::Done);
    assert_eq!(subject(&store, sid).await.state, SubjectState::Erased);
    let lifted = crate::BlockRecord {
        lifted_at: Some(at(30)),
        ..block.clone()
    };
    assert_eq!(ok(store.find_blocks(sid).await, "find_blocks"), std::slice::from_ref(&lifted));
    assert_eq!(acts(&store, &all()).await, [due]);
    // The same cause again (a second process): refused, the block stays as it was.
    let again = act(sid, &format!("block:{}", block.id), at(31));
    assert_eq!(write_one(&store, lifting(&again, block.id)).await, OpOutcome::AlreadyExists);
    assert_eq!(ok(store.find_blocks(sid).await, "find_blocks"), [lifted]);
}

/// Acts are listed newest first, by subject and by a time range, and purged by age.
pub(super) async fn acts_are_listed_by_subject_and_time_and_purged_by_age(store: Arc<dyn Store>) {
    let mut made = Vec::new();
    for (n, minutes) in [(1u8, 10i64), (2, 20), (3, 30)] {
        let sid = id(n);
        create(&store, new_subject(sid, &[])).await;
        let a = act(sid, "erasure", at(minutes));
        let erase = SubjectChange::Erase { id: sid, at: at(minutes) };
        assert_eq!(write_one(&store, destroy_op(&a, erase)).await, OpOutcome::Done);
        made.push(a);
    }
    let newest_first: Vec<_> = made.iter().rev().cloned().collect();
    assert_eq!(acts(&store, &all()).await, newest_first);
    let of_two = ActFilter {
        subject: Some(id(2)),
        ..all()
    };
    assert_eq!(acts(&store, &of_two).await, [made[1].clone()]);
    let range = ActFilter {
        from: Some(at(20)),
        to: Some(at(30)),
        ..all()
    };
    assert_eq!(acts(&store, &range).await, [made[1].clone()]);
    let one = ActFilter { limit: 1, ..all() };
    assert_eq!(acts(&store, &one).await, [made[2].clone()]);

    let purge = op(
        Change::Act(ActChange::Purge { before: at(20) }),
        vec![draft(AdminEvent::ActsPurged, None)],
    );
    assert_eq!(write_one(&store, purge).await, OpOutcome::Done);
    assert_eq!(acts(&store, &all()).await, newest_first[..2]);
    assert_eq!(ok(store.find_act(made[0].id).await, "find_act"), None);
}

/// A destruction act deletes the subject's pending downloads with it (each holds a copy of
/// the data as it was); another subject's stay.
pub(super) async fn act_deletes_the_subjects_pending_downloads(store: Arc<dyn Store>) {
    let (a, b) = (id(1), id(2));
    create(&store, new_subject(a, &[("email", 1)])).await;
    create(&store, new_subject(b, &[])).await;
    let download = |sid: SubjectId, token: u8| crate::DownloadRecord {
        id: ward_core::DownloadId::random(),
        subject: sid,
        request: None,
        token_hash: [token; 32],
        format: "report".to_owned(),
        document: Some(vec![7; 40]),
        created_at: at(1),
        expires_at: at(100),
        used_at: None,
    };
    for d in [download(a, 1), download(b, 2)] {
        let create = op(
            Change::Download(crate::DownloadChange::Create(d)),
            vec![draft(AdminEvent::DownloadCreated, None)],
        );
        assert_eq!(write_one(&store, create).await, OpOutcome::Done);
    }
    let rev = subject(&store, a).await.revision;
    let destruction = SubjectChange::Update {
        id: a,
        expected_revision: rev,
        fields: vec![9],
        reindex: Vec::new(),
        bases: Vec::new(),
        at: at(20),
    };
    let partial = act(a, "due:consent_withdrawn:marketing", at(20));
    assert_eq!(write_one(&store, destroy_op(&partial, destruction)).await, OpOutcome::Done);
    assert_eq!(ok(store.find_download_by_token([1; 32]).await, "by token"), None);
    assert!(ok(store.find_downloads(a).await, "list").is_empty());
    assert_eq!(ok(store.find_downloads(b).await, "list").len(), 1);
}
