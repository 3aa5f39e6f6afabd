//! Conformance: the outbox. Messages are queued with their cause or not at all; claims hand
//! each due message to one claimant, and an expired claim makes it due again; delivery states
//! follow their preconditions; erasing a subject deletes its messages.

use super::{admin_draft, at, create, erase, journal_len, new_subject, ok, op, write, write_one, T0};
use crate::{Change, MessageRecord, NewMessage, OpOutcome, OutboxChange, Store, SubjectChange, WriteOp};
use std::collections::BTreeSet;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use ward_core::journal::AdminEvent;
use ward_core::outbox::MessageState;
use ward_core::{MessageId, SubjectId};

fn message(subject: SubjectId, minute: i64) -> NewMessage {
    NewMessage {
        id: MessageId::random(),
        subject,
        template: "policy_changed".to_owned(),
        language: "ru".to_owned(),
        payload: vec![9, 8, 7, subject.as_bytes()[0]],
        created_at: at(minute),
    }
}

fn queue(cause: Change, messages: Vec<NewMessage>) -> WriteOp {
    op(
        OutboxChange::queue(cause, messages),
        vec![admin_draft(AdminEvent::MessageQueued)],
    )
}

fn outbox(change: OutboxChange, event: AdminEvent) -> WriteOp {
    op(Change::Outbox(change), vec![admin_draft(event)])
}

async fn claim(store: &Arc<dyn Store>, worker: &str, now: OffsetDateTime, limit: u32) -> Vec<MessageRecord> {
    ok(
        store
            .claim_due_messages(worker, now, now + Duration::minutes(5), limit)
            .await,
        "claim_due_messages",
    )
}

async fn find(store: &Arc<dyn Store>, id: MessageId) -> MessageRecord {
    ok(store.find_message(id).await, "find_message").expect("message exists")
}

/// A queued message round-trips; it is due at once, claimed once (attempt 1), and not claimed
/// again while the claim holds; an expired claim is taken over (attempt 2).
pub(super) async fn messages_queue_and_claim(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(&store, new_subject(sid, &[])).await;
    let m = message(sid, 1);
    assert_eq!(
        write_one(&store, queue(Change::JournalOnly, vec![m.clone()])).await,
        OpOutcome::Done
    );
    let stored = find(&store, m.id).await;
    assert_eq!(
        stored,
        MessageRecord {
            id: m.id,
            subject: sid,
            template: m.template.clone(),
            language: m.language.clone(),
            payload: m.payload.clone(),
            state: MessageState::Queued,
            attempts: 0,
            next_attempt_at: m.created_at,
            claimed_by: None,
            claimed_until: None,
            created_at: m.created_at,
            sent_at: None,
        }
    );
    assert!(claim(&store, "a", at(0), 10).await.is_empty(), "not due before it was queued");
    let got = claim(&store, "a", at(2), 10).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].state, MessageState::Sending);
    assert_eq!(got[0].attempts, 1);
    assert_eq!(got[0].claimed_by.as_deref(), Some("a"));
    assert_eq!(got[0].claimed_until, Some(at(2) + Duration::minutes(5)));
    assert!(claim(&store, "b", at(3), 10).await.is_empty(), "held by a");
    let taken = claim(&store, "b", at(2) + Duration::minutes(5), 10).await;
    assert_eq!(taken.len(), 1, "a's claim expired");
    assert_eq!((taken[0].claimed_by.as_deref(), taken[0].attempts), (Some("b"), 2));
    // Claims are not journaled: one collection, one queueing.
    assert_eq!(journal_len(&store).await, 2);
}

/// Messages are written only with their cause: a refused cause (or an unknown or erased
/// subject) writes neither the messages nor the entries.
pub(super) async fn messages_are_queued_with_their_cause_or_not_at_all(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(&store, new_subject(sid, &[])).await;
    let refused_cause = Change::Subject(SubjectChange::Update {
        id: sid,
        expected_revision: 7,
        fields: vec![1],
        reindex: Vec::new(),
        bases: Vec::new(),
        at: at(1),
    });
    let lost = message(sid, 1);
    let unknown = message(SubjectId::random(), 1);
    let good = message(sid, 1);
    let good_cause = Change::Subject(SubjectChange::Update {
        id: sid,
        expected_revision: 1,
        fields: vec![2],
        reindex: Vec::new(),
        bases: Vec::new(),
        at: at(1),
    });
    let out = write(
        &store,
        vec![
            queue(refused_cause, vec![lost.clone()]),
            queue(Change::JournalOnly, vec![unknown.clone()]),
            queue(good_cause, vec![good.clone()]),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Conflict, OpOutcome::NotFound, OpOutcome::Done]);
    assert_eq!(ok(store.find_message(lost.id).await, "find_message"), None);
    assert_eq!(ok(store.find_message(unknown.id).await, "find_message"), None);
    assert_eq!(find(&store, good.id).await.state, MessageState::Queued);
    assert_eq!(super::subject(&store, sid).await.revision, 2, "the cause applied");
    assert_eq!(journal_len(&store).await, 2);
    assert_eq!(erase(&store, sid, at(2)).await, OpOutcome::Done);
    assert_eq!(
        write_one(&store, queue(Change::JournalOnly, vec![message(sid, 3)])).await,
        OpOutcome::Erased
    );
}

/// Sent, failed (retry or dead) and requeued follow their preconditions.
pub(super) async fn message_delivery_states(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(&store, new_subject(sid, &[])).await;
    let (a, b) = (message(sid, 0), message(sid, 0));
    write_one(&store, queue(Change::JournalOnly, vec![a.clone(), b.clone()])).await;
    let failed = |id, retry_at| outbox(OutboxChange::Failed { id, retry_at }, AdminEvent::MessageFailed);
    // Failing a message nobody claimed is a conflict.
    assert_eq!(write_one(&store, failed(a.id, Some(at(5)))).await, OpOutcome::Conflict);
    assert_eq!(claim(&store, "w", at(1), 10).await.len(), 2);
    let out = write(
        &store,
        vec![
            outbox(OutboxChange::Sent { id: a.id, at: at(1) }, AdminEvent::MessageSent),
            outbox(OutboxChange::Sent { id: a.id, at: at(1) }, AdminEvent::MessageSent),
            failed(b.id, Some(at(5))),
            failed(MessageId::random(), None),
        ],
    )
    .await;
    assert_eq!(
        out,
        [OpOutcome::Done, OpOutcome::AlreadyExists, OpOutcome::Done, OpOutcome::NotFound]
    );
    let sent = find(&store, a.id).await;
    assert_eq!((sent.state, sent.sent_at, sent.claimed_by), (MessageState::Sent, Some(at(1)), None));
    let retry = find(&store, b.id).await;
    assert_eq!(
        (retry.state, retry.next_attempt_at, retry.attempts, retry.claimed_by),
        (MessageState::Queued, at(5), 1, None)
    );
    assert!(claim(&store, "w", at(4), 10).await.is_empty(), "not due before its retry");
    assert_eq!(claim(&store, "w", at(5), 10).await.len(), 1);
    assert_eq!(write_one(&store, failed(b.id, None)).await, OpOutcome::Done);
    assert_eq!(find(&store, b.id).await.state, MessageState::Dead);
    assert!(claim(&store, "w", at(60), 10).await.is_empty(), "dead is never due");
    let requeue = |id| outbox(OutboxChange::Requeue { id, at: at(61) }, AdminEvent::MessageRequeued);
    assert_eq!(write_one(&store, requeue(a.id)).await, OpOutcome::Conflict);
    assert_eq!(write_one(&store, requeue(b.id)).await, OpOutcome::Done);
    let back = find(&store, b.id).await;
    assert_eq!((back.state, back.attempts, back.next_attempt_at), (MessageState::Queued, 0, at(61)));
    let dead = ok(store.find_messages(Some(MessageState::Dead), 10).await, "find_messages");
    assert!(dead.is_empty());
    let all = ok(store.find_messages(None, 10).await, "find_messages");
    assert_eq!(all.iter().map(|m| m.id).collect::<Vec<_>>(), [a.id, b.id]);
    // 1 collection, 1 queueing, sent, failed, dead (failed), requeued.
    assert_eq!(journal_len(&store).await, 6);
}

/// Erasing a subject deletes its messages, whatever their state; others' stay.
pub(super) async fn erase_subject_deletes_its_messages(store: Arc<dyn Store>) {
    let (sid, other) = (SubjectId::random(), SubjectId::random());
    create(&store, new_subject(sid, &[])).await;
    create(&store, new_subject(other, &[])).await;
    let mine: Vec<_> = (0..3).map(|_| message(sid, 0)).collect();
    let theirs = message(other, 0);
    write_one(&store, queue(Change::JournalOnly, mine.clone())).await;
    write_one(&store, queue(Change::JournalOnly, vec![theirs.clone()])).await;
    claim(&store, "w", at(1), 1).await;
    assert_eq!(erase(&store, sid, at(2)).await, OpOutcome::Done);
    for m in &mine {
        assert_eq!(ok(store.find_message(m.id).await, "find_message"), None);
    }
    assert_eq!(find(&store, theirs.id).await.subject, other);
    let left = ok(store.find_messages(None, 100).await, "find_messages");
    assert_eq!(left.len(), 1);
}

/// Two claimants at once: every message goes to exactly one of them.
pub(super) async fn concurrent_claims_take_each_message_once(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(&store, new_subject(sid, &[])).await;
    let messages: Vec<_> = (0..200).map(|_| message(sid, 0)).collect();
    write_one(&store, queue(Change::JournalOnly, messages.clone())).await;
    let now = T0 + Duration::hours(1);
    let mut tasks = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = claim(&store, &format!("w{w}"), now, 7).await;
                if batch.is_empty() {
                    return got;
                }
                got.extend(batch.into_iter().map(|m| m.id));
            }
        }));
    }
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for t in tasks {
        let got = t.await.expect("claimant");
        total += got.len();
        seen.extend(got);
    }
    assert_eq!(total, messages.len(), "no message claimed twice");
    assert_eq!(seen, messages.iter().map(|m| m.id).collect::<BTreeSet<_>>());
}
