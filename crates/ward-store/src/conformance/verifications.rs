//! Conformance: verifications are created for an active subject and updated only from the
//! revision before (so concurrent updates from one read apply once); the sealed document is
//! read apart from the record; erasing the subject deletes the document and the code hash.

use super::*;
use crate::{VerificationChange, VerificationRecord};
use ward_core::verification::{DocumentType, VerificationMethod, VerificationState};
use ward_core::{RequestId, VerificationId};

fn verification(sid: SubjectId) -> VerificationRecord {
    VerificationRecord {
        id: VerificationId::random(),
        request: RequestId::random(),
        subject: sid,
        method: VerificationMethod::Code,
        state: VerificationState::Pending,
        revision: 1,
        attempts: 0,
        resends: 0,
        code_hash: Some(vec![7; 32]),
        code_expires_at: Some(at(15)),
        document_type: None,
        document_size: None,
        document_sha256: None,
        reason: None,
        created_at: at(0),
        updated_at: at(0),
    }
}

fn change(c: VerificationChange) -> WriteOp {
    op(
        Change::Verification(c),
        vec![draft(AdminEvent::VerificationStarted, None)],
    )
}

/// `v` one revision on, with a wrong code counted.
fn counted(v: &VerificationRecord) -> VerificationRecord {
    VerificationRecord {
        revision: v.revision + 1,
        attempts: v.attempts + 1,
        updated_at: at(1),
        ..v.clone()
    }
}

fn update(record: VerificationRecord, document: Option<Vec<u8>>) -> WriteOp {
    change(VerificationChange::Update { record, document })
}

pub(super) async fn verifications_are_created_and_updated_from_their_revision(store: Arc<dyn Store>) {
    let sid = id(1);
    let v = verification(sid);
    assert_eq!(
        write_one(&store, change(VerificationChange::Create(v.clone()))).await,
        OpOutcome::NotFound,
        "no subject"
    );
    create(&store, new_subject(sid, &[])).await;
    assert_eq!(
        write_one(&store, change(VerificationChange::Create(v.clone()))).await,
        OpOutcome::Done
    );
    assert_eq!(
        write_one(&store, change(VerificationChange::Create(v.clone()))).await,
        OpOutcome::AlreadyExists
    );
    assert_eq!(ok(store.find_verification(v.id).await, "find"), Some(v.clone()));
    assert_eq!(ok(store.find_verification(VerificationId::random()).await, "find"), None);

    // Two updates made from one read, in one batch: the first applies, the second conflicts.
    let once = counted(&v);
    let out = write(&store, vec![update(once.clone(), None), update(once.clone(), None)]).await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Conflict]);
    assert_eq!(ok(store.find_verification(v.id).await, "find"), Some(once.clone()));
    // A stale revision, a revision skipped, another subject, an unknown id.
    assert_eq!(write_one(&store, update(once.clone(), None)).await, OpOutcome::Conflict);
    let skipped = VerificationRecord {
        revision: once.revision + 2,
        ..once.clone()
    };
    assert_eq!(write_one(&store, update(skipped, None)).await, OpOutcome::Conflict);
    let elsewhere = VerificationRecord {
        subject: id(2),
        ..counted(&once)
    };
    assert_eq!(write_one(&store, update(elsewhere, None)).await, OpOutcome::NotFound);
    let unknown = counted(&verification(sid));
    assert_eq!(write_one(&store, update(unknown, None)).await, OpOutcome::NotFound);

    // A document: stored sealed beside the record, read apart from it; a later update
    // without one keeps it.
    assert_eq!(ok(store.find_verification_document(v.id).await, "document"), None);
    // (The method never changes; the store keeps what it was created with.)
    let with_document = VerificationRecord {
        document_type: Some(DocumentType::Png),
        document_size: Some(3),
        document_sha256: Some("ab".repeat(32)),
        ..counted(&once)
    };
    assert_eq!(
        write_one(&store, update(with_document.clone(), Some(vec![1, 2, 3]))).await,
        OpOutcome::Done
    );
    let decided = VerificationRecord {
        state: VerificationState::Verified,
        reason: Some("signature_matches".into()),
        ..counted(&with_document)
    };
    assert_eq!(write_one(&store, update(decided.clone(), None)).await, OpOutcome::Done);
    assert_eq!(ok(store.find_verification(v.id).await, "find"), Some(decided.clone()));
    assert_eq!(
        ok(store.find_verification_document(v.id).await, "document"),
        Some(vec![1, 2, 3])
    );

    // Erasure deletes the document and the code hash; the record stays, and takes no update.
    assert_eq!(erase(&store, sid, at(5)).await, OpOutcome::Done);
    assert_eq!(ok(store.find_verification_document(v.id).await, "document"), None);
    let after = ok(store.find_verification(v.id).await, "find").expect("kept");
    assert_eq!((after.code_hash, after.state), (None, VerificationState::Verified));
    assert_eq!(write_one(&store, update(counted(&decided), None)).await, OpOutcome::Erased);
}

pub(super) async fn concurrent_updates_of_a_verification_apply_once_per_revision(store: Arc<dyn Store>) {
    let sid = id(3);
    create(&store, new_subject(sid, &[])).await;
    let v = verification(sid);
    assert_eq!(
        write_one(&store, change(VerificationChange::Create(v.clone()))).await,
        OpOutcome::Done
    );
    // Twenty writers, each from the revision it read: exactly one update per revision.
    let tasks = (0..20).map(|_| {
        let store = store.clone();
        let v = v.clone();
        tokio::spawn(async move { write_one(&store, update(counted(&v), None)).await })
    });
    let outcomes: Vec<OpOutcome> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == OpOutcome::Done).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, OpOutcome::Done | OpOutcome::Conflict)));
    let stored = ok(store.find_verification(v.id).await, "find").expect("stored");
    assert_eq!((stored.revision, stored.attempts), (2, 1));
}
