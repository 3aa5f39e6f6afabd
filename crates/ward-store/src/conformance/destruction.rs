//! Conformance: destroying some fields of a subject who stays (category destruction). The
//! vault writes it as an update that drops the fields and their blind-index entries; the
//! fields, the index and the journal entry change together, or none of them does.

use super::*;

fn destroy(sid: SubjectId, revision: i64, fields: Vec<u8>, dropped: &[&str], when: OffsetDateTime) -> WriteOp {
    op(
        Change::Subject(SubjectChange::Update {
            id: sid,
            expected_revision: revision,
            fields,
            reindex: dropped.iter().map(|f| ((*f).to_owned(), None)).collect(),
            bases: Vec::new(),
            at: when,
        }),
        vec![draft(ProcessingAction::Destruction, Some(sid))],
    )
}

/// A destruction drops the named fields' index entries in the transaction that replaces the
/// sealed fields and journals the destruction; the subject and its other entries stay.
pub(super) async fn destruction_drops_fields_and_their_index_entries_together(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(&store, new_subject(sid, &[("email", 1), ("phone", 2)])).await;
    let before = subject(&store, sid).await;
    let entries = journal_len(&store).await;

    let stale = destroy(sid, before.revision - 1, vec![4], &["email", "phone"], at(30));
    assert_eq!(write_one(&store, stale).await, OpOutcome::Conflict);
    assert_eq!(subject(&store, sid).await, before);
    assert_eq!(by_index(&store, "email", 1).await, [sid]);
    assert_eq!(by_index(&store, "phone", 2).await, [sid]);
    assert_eq!(journal_len(&store).await, entries);

    let done = destroy(sid, before.revision, vec![5, 5], &["phone"], at(31));
    assert_eq!(write_one(&store, done).await, OpOutcome::Done);
    let after = subject(&store, sid).await;
    assert_eq!(after.state, SubjectState::Active);
    assert_eq!(after.fields, Some(vec![5, 5]));
    assert_eq!(after.key, before.key);
    assert_eq!(by_index(&store, "phone", 2).await, NONE);
    assert_eq!(by_index(&store, "email", 1).await, [sid]);
    let last = all_entries(&store).await.pop().expect("an entry");
    assert_eq!((last.action.as_str(), last.subject), ("destruction", Some(sid)));
    assert_eq!(journal_len(&store).await, entries + 1);
}
