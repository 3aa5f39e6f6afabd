//! Conformance: a download is created for an active subject, found by its token's hash,
//! served once (concurrent consumers too) before it expires, and deleted by erasure.

use super::*;
use crate::{DownloadChange, DownloadRecord};
use ward_core::{DownloadId, RequestId};

fn download(sid: SubjectId, token: u8, expires: OffsetDateTime) -> DownloadRecord {
    DownloadRecord {
        id: DownloadId::random(),
        subject: sid,
        request: Some(RequestId::random()),
        token_hash: [token; 32],
        format: "json".to_owned(),
        document: Some(vec![7; 40]),
        created_at: at(1),
        expires_at: expires,
        used_at: None,
    }
}

fn change(c: DownloadChange) -> WriteOp {
    op(Change::Download(c), vec![draft(AdminEvent::DownloadCreated, None)])
}

fn consume(id: DownloadId, when: OffsetDateTime) -> WriteOp {
    op(
        Change::Download(DownloadChange::Consume { id, at: when }),
        vec![draft(AdminEvent::DownloadServed, None)],
    )
}

pub(super) async fn downloads_are_created_found_and_served_once(store: Arc<dyn Store>) {
    let sid = id(1);
    let d = download(sid, 1, at(100));
    assert_eq!(
        write_one(&store, change(DownloadChange::Create(d.clone()))).await,
        OpOutcome::NotFound
    );
    create(&store, new_subject(sid, &[])).await;
    let before = journal_len(&store).await;
    assert_eq!(
        write_one(&store, change(DownloadChange::Create(d.clone()))).await,
        OpOutcome::Done
    );
    assert_eq!(journal_len(&store).await, before + 1);
    let found = ok(store.find_download_by_token([1; 32]).await, "find_download_by_token");
    assert_eq!(found.as_ref(), Some(&d));
    assert_eq!(ok(store.find_download_by_token([2; 32]).await, "by token"), None);
    let listed = ok(store.find_downloads(sid).await, "find_downloads");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].document, None, "the listing leaves the document out");
    assert_eq!(listed[0].id, d.id);
    assert_eq!(listed[0].request, d.request);

    // Expired: refused, nothing written.
    assert_eq!(write_one(&store, consume(d.id, at(100))).await, OpOutcome::Conflict);
    // Served once: the second consumer in the same batch and a later one are refused.
    let out = write(&store, vec![consume(d.id, at(5)), consume(d.id, at(5))]).await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::AlreadyExists]);
    assert_eq!(write_one(&store, consume(d.id, at(6))).await, OpOutcome::AlreadyExists);
    assert_eq!(
        write_one(&store, consume(DownloadId::random(), at(6))).await,
        OpOutcome::NotFound
    );
    let served = ok(store.find_download_by_token([1; 32]).await, "by token").expect("kept");
    assert_eq!(served.used_at, Some(at(5)));
    assert_eq!(served.document, None, "the served document is not kept");
}

pub(super) async fn concurrent_consumers_get_a_download_once(store: Arc<dyn Store>) {
    let sid = id(1);
    create(&store, new_subject(sid, &[])).await;
    let d = download(sid, 3, at(100));
    assert_eq!(
        write_one(&store, change(DownloadChange::Create(d.clone()))).await,
        OpOutcome::Done
    );
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { write_one(&store, consume(d.id, at(2))).await }));
    }
    let mut done = 0;
    for t in tasks {
        match t.await.expect("task") {
            OpOutcome::Done => done += 1,
            other => assert_eq!(other, OpOutcome::AlreadyExists),
        }
    }
    assert_eq!(done, 1, "exactly one consumer is served");
}

pub(super) async fn erase_subject_deletes_its_downloads(store: Arc<dyn Store>) {
    let (a, b) = (id(1), id(2));
    create(&store, new_subject(a, &[])).await;
    create(&store, new_subject(b, &[])).await;
    let da = download(a, 4, at(100));
    let db = download(b, 5, at(100));
    let out = write(
        &store,
        vec![
            change(DownloadChange::Create(da.clone())),
            change(DownloadChange::Create(db.clone())),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Done]);
    assert_eq!(erase(&store, a, at(3)).await, OpOutcome::Done);
    assert_eq!(ok(store.find_download_by_token([4; 32]).await, "by token"), None);
    assert!(ok(store.find_downloads(a).await, "list").is_empty());
    assert_eq!(ok(store.find_downloads(b).await, "list").len(), 1);
    assert_eq!(write_one(&store, consume(da.id, at(4))).await, OpOutcome::NotFound);
    assert_eq!(
        write_one(&store, change(DownloadChange::Create(download(a, 6, at(100))))).await,
        OpOutcome::Erased
    );
}
