//! Visitors' cookie consent records on SQLite: backups that erasure reaches reach them too.

mod common;

use common::TempStore;
use std::collections::BTreeMap;
use time::macros::datetime;
use ward_core::cookies::{CookieCategory, CookieChoice};
use ward_core::journal::AdminEvent;
use ward_core::{Actor, JournalDraft, ProcessingAction, SubjectId};
use ward_crypto::Hash32;
use ward_store::*;
use ward_store_sqlite::SqliteStore;

const AT: time::OffsetDateTime = datetime!(2026-05-06 07:08:09.101112 UTC);

fn op(change: Change) -> WriteOp {
    WriteOp {
        change,
        journal: vec![JournalDraft::new(AT, &Actor::System, AdminEvent::VisitorLinked)],
    }
}

fn subject(id: SubjectId) -> WriteOp {
    op(Change::Subject(SubjectChange::Create(NewSubject {
        id,
        created_at: AT,
        key: WrappedKey {
            kek_id: "k1".into(),
            wrapped: vec![id.as_bytes()[0]; 40],
        },
        fields: vec![1, 2, 3],
        index: vec![],
        consents: vec![],
        bases: Vec::new(),
    })))
}

fn record(visitor: Hash32) -> WriteOp {
    let choices: BTreeMap<CookieCategory, CookieChoice> = CookieCategory::ALL
        .iter()
        .map(|c| (*c, CookieChoice::Granted))
        .collect();
    op(Change::Visitor(VisitorChange::Record(VisitorConsent {
        visitor,
        banner_version: "2026-05".into(),
        choices,
        gpc: false,
        gpc_overrode: false,
        at: AT,
    })))
}

#[tokio::test]
async fn a_restore_deletes_the_visitor_records_of_subjects_erased_after_the_backup() {
    let live = TempStore::new().await;
    let (gone, kept) = (SubjectId::random(), SubjectId::random());
    let (v_gone, v_kept, v_free) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    let out = live
        .store
        .write(vec![
            subject(gone),
            subject(kept),
            record(v_gone),
            record(v_kept),
            record(v_free),
            op(Change::Visitor(VisitorChange::Link {
                visitor: v_gone,
                subject: gone,
            })),
            op(Change::Visitor(VisitorChange::Link {
                visitor: v_kept,
                subject: kept,
            })),
        ])
        .await
        .expect("write");
    assert!(out.iter().all(|o| *o == OpOutcome::Done), "{out:?}");

    let dir = tempfile::tempdir().expect("temporary directory");
    let (data, keys) = (dir.path().join("data.db"), dir.path().join("keys.db"));
    live.store.backup_without_keys(&data).await.expect("data backup");
    // Erased after the data backup, before the key export.
    let erase = WriteOp {
        change: Change::Subject(SubjectChange::Erase { id: gone, at: AT }),
        journal: vec![JournalDraft::new(AT, &Actor::System, ProcessingAction::Destruction).subject(gone)],
    };
    assert_eq!(live.store.write(vec![erase]).await.expect("erase"), [OpOutcome::Done]);
    live.store.export_keys(&keys).await.expect("key export");

    let restored = SqliteStore::open(&data).await.expect("open the data backup");
    // The backup still holds the records of the subject erased since.
    assert_eq!(restored.find_visitor_consents(&v_gone).await.expect("read").len(), 1);
    let report = restored.import_keys(&keys, AT, "cli").await.expect("import keys");
    assert_eq!(report.erased, [gone]);
    assert!(restored.find_visitor_consents(&v_gone).await.expect("read").is_empty());
    let k = restored.find_visitor_consents(&v_kept).await.expect("read");
    assert_eq!(k.iter().map(|r| r.subject).collect::<Vec<_>>(), [Some(kept)]);
    let f = restored.find_visitor_consents(&v_free).await.expect("read");
    assert_eq!(f.iter().map(|r| r.subject).collect::<Vec<_>>(), [None]);
}
