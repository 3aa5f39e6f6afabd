//! The storage conformance suite: the behaviour every backend must show.
//!
//! A backend runs it from its tests with
//!
//! ```text
//! async fn fresh() -> Option<std::sync::Arc<dyn ward_store::Store>> { /* a new, empty, migrated store */ }
//! ward_store::conformance_suite!(fresh);
//! ```
//!
//! which expands to one `#[tokio::test]` per behaviour (the test crate needs `tokio` with the
//! `macros` and `rt-multi-thread` features). `fresh` returns `None` when the backend is not
//! available on this machine and the test may be skipped; deciding whether skipping is
//! allowed is the backend's business.
//!
//! The bodies are the `pub async fn`s of this module, so a backend can also call one directly.
//!
//! Conventions this suite pins down (the trait leaves them open):
//! - a new subject has revision 1; an update adds 1; erasure and consent events leave it;
//! - an update sets `updated_at` to its `at`; erasure sets both `updated_at` and `erased_at`
//!   to its `at`;
//! - `AddConsentEvents` on an unknown subject is `NotFound`;
//! - `find_api_keys` is in id order, `find_policy_versions` in `recorded_at` order,
//!   `find_subjects_by_index` in id order;
//! - API key purposes are returned sorted (and deduplicated);
//! - recording a known policy hash is `AlreadyExists` (and writes no entry);
//! - checkpoints are listed by `seq` (several may share one);
//! - a visitor's cookie consent records are listed in the order recorded; linking a visitor
//!   without records is `Done` and links nothing (see `visitors`).
//!
//! Not tested here, backend-specific: journal field names and API key purposes are stored
//! comma-joined, so a name that is empty or holds a comma fails the whole write.

use crate::chain;
use crate::{
    ApiKeyChange, ApiKeyRecord, Change, ConsentChange, ConsentEventRecord, IndexEntry, JournalEntry, JournalHead,
    KeyChange, NewSubject, OpOutcome, PolicyVersionChange, PolicyVersionRecord, Store, StoreResult, SubjectChange,
    SubjectCounts, SubjectRecord, WrappedKey, WrappedKeyRecord, WriteOp,
};
use std::collections::BTreeSet;
use std::sync::Arc;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use ward_core::access::{Role, SubjectState};
use ward_core::action::ProcessingAction;
use ward_core::consent::ConsentEventKind;
use ward_core::journal::{AdminEvent, JournalAction};
use ward_core::{JournalDraft, SubjectId};
use ward_crypto::journal::GENESIS;
use ward_crypto::Checkpoint;

mod subject_events;
mod visitors;
pub use subject_events::*;
pub use visitors::*;

/// Expands to one `#[tokio::test]` per behaviour of the suite; `$fresh` is an
/// `async fn() -> Option<Arc<dyn Store>>` returning a new, empty, migrated store (or `None`
/// to skip).
#[macro_export]
macro_rules! conformance_suite {
    ($fresh:path) => {
        $crate::conformance_suite!(@tests $fresh;
            empty_store_reads_nothing,
            subject_round_trips,
            create_existing_subject_is_already_exists,
            blind_index_lookup,
            update_subject_at_revision,
            update_subject_preconditions,
            consent_events_append_in_order,
            consent_events_on_erased_or_unknown_subject,
            erase_subject_destroys_key_fields_index_and_evidence,
            wrapped_keys_page_in_id_order_without_erased,
            rewrap_keys_only_touches_active_rows_under_old_kek,
            count_subjects_by_state,
            api_keys_lifecycle,
            policy_versions_are_recorded_once,
            ops_in_one_batch_see_earlier_ops,
            empty_write_and_ops_without_entries,
            journal_links_entries_in_op_order,
            failed_ops_write_no_entries_but_others_apply,
            journal_entries_page,
            journal_entry_fields_round_trip,
            journal_ranges_check_like_one_pass,
            checkpoints_in_seq_order,
            large_batch_of_journal_only_ops,
            large_batch_of_subjects,
            concurrent_writes_keep_one_chain,
            concurrent_updates_at_one_revision,
            visitor_consents_append_in_order,
            link_visitor_links_past_and_later_records,
            link_visitor_preconditions,
            erase_subject_deletes_linked_visitor_consents,
            visitor_ops_in_one_batch_see_earlier_ops,
            subject_events_append_in_order,
            subject_events_preconditions_and_erasure,
            policy_acknowledgements_count_distinct_subjects,
        );
    };
    (@tests $fresh:path; $($name:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(store) = $fresh().await {
                    $crate::conformance::$name(store).await;
                }
            }
        )*
    };
}

// ---------------------------------------------------------------------------------------------
// Fixtures and helpers

/// An instant with microseconds, to check they survive.
pub const T0: OffsetDateTime = datetime!(2026-03-04 05:06:07.123456 UTC);

fn at(minutes: i64) -> OffsetDateTime {
    T0 + Duration::minutes(minutes) + Duration::microseconds(minutes * 7)
}

fn ok<T>(r: StoreResult<T>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what} failed: {e}"),
    }
}

/// No subjects.
const NONE: [SubjectId; 0] = [];

/// A subject id whose first byte is `n`, so ids sort by `n`.
fn id(n: u8) -> SubjectId {
    format!(
        "{n:02x}{:06x}-0000-4000-8000-{:012x}",
        u32::from(n) * 3,
        u64::from(n) * 5
    )
    .parse()
    .expect("valid uuid")
}

fn draft(action: impl Into<JournalAction>, subject: Option<SubjectId>) -> JournalDraft {
    JournalDraft {
        at: T0,
        actor: "key:test".to_owned(),
        action: action.into(),
        subject,
        purpose: None,
        fields: Vec::new(),
        detail: None,
    }
}

fn op(change: Change, journal: Vec<JournalDraft>) -> WriteOp {
    WriteOp { change, journal }
}

fn key(kek: &str, n: u8) -> WrappedKey {
    WrappedKey {
        kek_id: kek.to_owned(),
        wrapped: vec![n, 0, 255, n, 7, 0],
    }
}

fn consent(purpose: &str, kind: ConsentEventKind, when: OffsetDateTime, evidence: Option<&[u8]>) -> ConsentEventRecord {
    ConsentEventRecord {
        purpose: purpose.to_owned(),
        kind,
        at: when,
        policy_version: "2026-01".to_owned(),
        evidence: evidence.map(<[u8]>::to_vec),
    }
}

fn new_subject(sid: SubjectId, index: &[(&str, i64)]) -> NewSubject {
    NewSubject {
        id: sid,
        created_at: T0,
        key: key("k1", sid.as_bytes()[0]),
        fields: vec![0, 1, 2, 255, sid.as_bytes()[0]],
        index: index
            .iter()
            .map(|(f, h)| IndexEntry {
                field: (*f).to_owned(),
                hash: *h,
            })
            .collect(),
        consents: Vec::new(),
    }
}

fn create_op(s: NewSubject) -> WriteOp {
    let d = draft(ProcessingAction::Collection, Some(s.id));
    op(Change::Subject(SubjectChange::Create(s)), vec![d])
}

async fn write(store: &Arc<dyn Store>, ops: Vec<WriteOp>) -> Vec<OpOutcome> {
    let n = ops.len();
    let out = ok(store.write(ops).await, "write");
    assert_eq!(out.len(), n, "write must return one outcome per op");
    out
}

async fn write_one(store: &Arc<dyn Store>, o: WriteOp) -> OpOutcome {
    write(store, vec![o]).await[0]
}

async fn create(store: &Arc<dyn Store>, s: NewSubject) {
    assert_eq!(write_one(store, create_op(s)).await, OpOutcome::Done);
}

async fn subject(store: &Arc<dyn Store>, sid: SubjectId) -> SubjectRecord {
    ok(store.find_subject(sid).await, "find_subject").expect("subject exists")
}

async fn erase(store: &Arc<dyn Store>, sid: SubjectId, when: OffsetDateTime) -> OpOutcome {
    write_one(
        store,
        op(
            Change::Subject(SubjectChange::Erase { id: sid, at: when }),
            vec![draft(ProcessingAction::Destruction, Some(sid))],
        ),
    )
    .await
}

async fn by_index(store: &Arc<dyn Store>, field: &str, hash: i64) -> Vec<SubjectId> {
    let mut v = ok(
        store.find_subjects_by_index(field, hash).await,
        "find_subjects_by_index",
    );
    v.sort();
    v
}

fn sorted(mut v: Vec<SubjectId>) -> Vec<SubjectId> {
    v.sort();
    v
}

/// Every entry of the journal, read in pages.
pub async fn all_entries(store: &Arc<dyn Store>) -> Vec<JournalEntry> {
    let mut out: Vec<JournalEntry> = Vec::new();
    loop {
        let after = out.last().map_or(0, |e| e.seq);
        let page = ok(store.find_journal_entries(after, 333).await, "find_journal_entries");
        if page.is_empty() {
            return out;
        }
        assert!(page.len() <= 333, "find_journal_entries returned more than the limit");
        out.extend(page);
    }
}

/// Checks that `entries` are the whole journal: seq 1, 2, 3…, each linked to the previous
/// and hashed as [`chain`] hashes; and that the store's head is the last entry.
pub async fn assert_valid_chain(store: &Arc<dyn Store>, entries: &[JournalEntry]) {
    let mut prev = GENESIS;
    for (i, e) in entries.iter().enumerate() {
        let want_seq = i64::try_from(i).expect("small") + 1;
        assert_eq!(
            e.seq, want_seq,
            "journal has a gap or a duplicate at position {want_seq}"
        );
        assert_eq!(e.prev_hash, prev, "entry {} does not link to its predecessor", e.seq);
        assert_eq!(
            chain::content(e).hash_after(&prev),
            e.hash,
            "entry {} has a wrong hash",
            e.seq
        );
        prev = e.hash;
    }
    let head = ok(store.find_journal_head().await, "find_journal_head");
    assert_eq!(
        head,
        entries.last().map(|e| JournalHead {
            seq: e.seq,
            hash: e.hash
        }),
        "head is not the last entry"
    );
}

async fn journal_len(store: &Arc<dyn Store>) -> usize {
    all_entries(store).await.len()
}

fn api_key(id: &str, role: Role, purposes: &[&str]) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.to_owned(),
        name: format!("key {id}"),
        role,
        purposes: purposes.iter().map(|p| (*p).to_owned()).collect(),
        token_hash: vec![9, 0, 8, id.len() as u8, 255],
        created_at: at(1),
        revoked_at: None,
    }
}

fn admin_draft(e: AdminEvent) -> JournalDraft {
    draft(e, None)
}

fn policy(hash: &str, version: &str, when: OffsetDateTime) -> PolicyVersionRecord {
    PolicyVersionRecord {
        hash: hash.to_owned(),
        policy_id: "default".to_owned(),
        version: version.to_owned(),
        source: format!("# policy {version}\n[purposes]\nname = \"данные\"\n"),
        text: (version == "2").then(|| "# Политика\n\nТекст версии 2.".to_owned()),
        effective_at: when + time::Duration::days(3),
        recorded_at: when,
    }
}

fn record_policy(p: PolicyVersionRecord) -> WriteOp {
    op(
        Change::Policy(PolicyVersionChange::Record(p)),
        vec![admin_draft(AdminEvent::PolicyActivated)],
    )
}

// ---------------------------------------------------------------------------------------------
// Subjects

/// A new store has nothing in it.
pub async fn empty_store_reads_nothing(store: Arc<dyn Store>) {
    let unknown = SubjectId::random();
    assert_eq!(ok(store.find_subject(unknown).await, "find_subject"), None);
    assert!(ok(store.find_consent_events(unknown).await, "find_consent_events").is_empty());
    assert!(ok(store.find_subjects_by_index("email", 1).await, "find_subjects_by_index").is_empty());
    assert!(ok(store.find_wrapped_keys(None, 10).await, "find_wrapped_keys").is_empty());
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts::default()
    );
    assert_eq!(ok(store.find_journal_head().await, "find_journal_head"), None);
    assert!(ok(store.find_journal_entries(0, 10).await, "find_journal_entries").is_empty());
    assert!(ok(store.find_checkpoints().await, "find_checkpoints").is_empty());
    assert_eq!(ok(store.find_api_key("nope").await, "find_api_key"), None);
    assert!(ok(store.find_api_keys().await, "find_api_keys").is_empty());
    assert!(ok(store.find_policy_versions().await, "find_policy_versions").is_empty());
    assert!(matches!(store.backend(), "sqlite" | "postgres"));
    assert!(!store.migration_names().is_empty());
}

/// Everything of a created subject comes back as written, timestamps to the microsecond.
pub async fn subject_round_trips(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let consents = vec![
        consent("marketing", ConsentEventKind::Given, at(-5), Some(&[1, 0, 2, 255])),
        consent("analytics", ConsentEventKind::Withdrawn, at(-5), None),
        consent("marketing", ConsentEventKind::Withdrawn, at(-9), Some(&[])),
    ];
    let new = NewSubject {
        id: sid,
        created_at: T0,
        key: WrappedKey {
            kek_id: "kek-2026".to_owned(),
            wrapped: (0..=255).collect(),
        },
        fields: vec![0, 0, 1, 2, 3, 255, 254, 0],
        index: vec![
            IndexEntry {
                field: "email".to_owned(),
                hash: -5,
            },
            IndexEntry {
                field: "phone".to_owned(),
                hash: i64::MAX,
            },
            IndexEntry {
                field: "full_name".to_owned(),
                hash: i64::MIN,
            },
        ],
        consents: consents.clone(),
    };
    create(&store, new.clone()).await;

    let got = subject(&store, sid).await;
    assert_eq!(
        got,
        SubjectRecord {
            id: sid,
            state: SubjectState::Active,
            revision: 1,
            created_at: T0,
            updated_at: T0,
            erased_at: None,
            key: Some(new.key.clone()),
            fields: Some(new.fields.clone()),
        }
    );
    assert_eq!(got.created_at.microsecond(), 123_456);
    assert_eq!(
        ok(store.find_consent_events(sid).await, "find_consent_events"),
        consents
    );
    assert_eq!(by_index(&store, "email", -5).await, [sid]);
    assert_eq!(by_index(&store, "phone", i64::MAX).await, [sid]);
    assert_eq!(by_index(&store, "full_name", i64::MIN).await, [sid]);
    assert_eq!(
        ok(store.find_wrapped_keys(None, 10).await, "find_wrapped_keys"),
        [WrappedKeyRecord {
            subject: sid,
            key: new.key.clone()
        }]
    );
    let entries = all_entries(&store).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].subject, Some(sid));
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts { active: 1, erased: 0 }
    );
}

/// Creating an id that exists changes nothing and writes no entry, also within one batch.
pub async fn create_existing_subject_is_already_exists(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let first = new_subject(sid, &[("email", 1)]);
    create(&store, first.clone()).await;
    let before = subject(&store, sid).await;

    let mut second = new_subject(sid, &[("email", 2)]);
    second.fields = vec![42];
    second.consents = vec![consent("marketing", ConsentEventKind::Given, T0, None)];
    assert_eq!(write_one(&store, create_op(second)).await, OpOutcome::AlreadyExists);
    assert_eq!(subject(&store, sid).await, before);
    assert_eq!(by_index(&store, "email", 2).await, NONE);
    assert!(ok(store.find_consent_events(sid).await, "find_consent_events").is_empty());
    assert_eq!(journal_len(&store).await, 1);

    let other = SubjectId::random();
    let out = write(
        &store,
        vec![
            create_op(new_subject(other, &[("email", 3)])),
            create_op(new_subject(other, &[("email", 4)])),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::AlreadyExists]);
    assert_eq!(by_index(&store, "email", 3).await, [other]);
    assert_eq!(by_index(&store, "email", 4).await, NONE);
    assert_eq!(journal_len(&store).await, 2);
}

/// Lookups return every subject with that hash for that field, and only for that field.
pub async fn blind_index_lookup(store: Arc<dyn Store>) {
    let (a, b, c, d) = (
        SubjectId::random(),
        SubjectId::random(),
        SubjectId::random(),
        SubjectId::random(),
    );
    write(
        &store,
        vec![
            create_op(new_subject(a, &[("email", 42), ("phone", 1)])),
            create_op(new_subject(b, &[("email", 42)])),
            create_op(new_subject(c, &[("email", 43)])),
            create_op(new_subject(d, &[("phone", 42)])),
        ],
    )
    .await;
    assert_eq!(by_index(&store, "email", 42).await, sorted(vec![a, b]));
    assert_eq!(by_index(&store, "email", 43).await, [c]);
    assert_eq!(by_index(&store, "phone", 42).await, [d]);
    assert_eq!(by_index(&store, "phone", 1).await, [a]);
    assert_eq!(by_index(&store, "email", 7).await, NONE);
    assert_eq!(by_index(&store, "full_name", 42).await, NONE);
    // In id order.
    let got = ok(
        store.find_subjects_by_index("email", 42).await,
        "find_subjects_by_index",
    );
    assert_eq!(got, sorted(vec![a, b]));
    // With their records and consent events, in id order, from one read.
    let with = ok(
        store.find_subjects_by_index_with_consents("email", 42).await,
        "find_subjects_by_index_with_consents",
    );
    let ids: Vec<SubjectId> = with.iter().map(|(r, _)| r.id).collect();
    assert_eq!(ids, sorted(vec![a, b]));
    for (record, events) in &with {
        assert_eq!(record, &subject(&store, record.id).await);
        let direct = ok(store.find_consent_events(record.id).await, "find_consent_events");
        assert_eq!(events, &direct);
    }
    assert!(ok(
        store.find_subjects_by_index_with_consents("email", 7).await,
        "find_subjects_by_index_with_consents"
    )
    .is_empty());
}

/// An update at the current revision replaces the fields, reindexes and bumps the revision.
pub async fn update_subject_at_revision(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(
        &store,
        new_subject(sid, &[("email", 1), ("phone", 2), ("full_name", 3)]),
    )
    .await;
    let before = subject(&store, sid).await;

    let update = |rev: i64, fields: Vec<u8>, reindex: Vec<(String, Option<i64>)>, when| {
        op(
            Change::Subject(SubjectChange::Update {
                id: sid,
                expected_revision: rev,
                fields,
                reindex,
                at: when,
            }),
            vec![draft(ProcessingAction::Rectification, Some(sid))],
        )
    };
    let reindex = vec![
        ("email".to_owned(), Some(10)),
        ("phone".to_owned(), None),
        ("city".to_owned(), Some(5)),
    ];
    assert_eq!(
        write_one(&store, update(before.revision, vec![7, 7, 0], reindex, at(60))).await,
        OpOutcome::Done
    );

    let after = subject(&store, sid).await;
    assert_eq!(
        after,
        SubjectRecord {
            revision: before.revision + 1,
            updated_at: at(60),
            fields: Some(vec![7, 7, 0]),
            ..before.clone()
        }
    );
    assert_eq!(by_index(&store, "email", 1).await, NONE);
    assert_eq!(by_index(&store, "email", 10).await, [sid]);
    assert_eq!(by_index(&store, "phone", 2).await, NONE);
    assert_eq!(by_index(&store, "full_name", 3).await, [sid]);
    assert_eq!(by_index(&store, "city", 5).await, [sid]);

    // Again, at the new revision; reindexing a field to the hash it has is harmless.
    let reindex = vec![("email".to_owned(), Some(10)), ("unknown".to_owned(), None)];
    assert_eq!(
        write_one(&store, update(after.revision, vec![], reindex, at(61))).await,
        OpOutcome::Done
    );
    let again = subject(&store, sid).await;
    assert_eq!(again.revision, before.revision + 2);
    assert_eq!(again.fields, Some(vec![]));
    assert_eq!(again.updated_at, at(61));
    assert_eq!(by_index(&store, "email", 10).await, [sid]);
    assert_eq!(journal_len(&store).await, 3);
}

/// Stale revision → Conflict, erased → Erased, unknown → NotFound; none writes anything.
pub async fn update_subject_preconditions(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(&store, new_subject(sid, &[("email", 1)])).await;
    let rec = subject(&store, sid).await;
    let update = |target: SubjectId, rev: i64| {
        op(
            Change::Subject(SubjectChange::Update {
                id: target,
                expected_revision: rev,
                fields: vec![1],
                reindex: vec![("email".to_owned(), Some(99))],
                at: at(5),
            }),
            vec![draft(ProcessingAction::Rectification, Some(target))],
        )
    };

    assert_eq!(
        write_one(&store, update(sid, rec.revision - 1)).await,
        OpOutcome::Conflict
    );
    assert_eq!(
        write_one(&store, update(sid, rec.revision + 1)).await,
        OpOutcome::Conflict
    );
    assert_eq!(subject(&store, sid).await, rec);
    assert_eq!(by_index(&store, "email", 99).await, NONE);
    assert_eq!(
        write_one(&store, update(SubjectId::random(), 1)).await,
        OpOutcome::NotFound
    );
    assert_eq!(journal_len(&store).await, 1);

    // Within one batch, the second update at the same revision conflicts.
    let out = write(
        &store,
        vec![
            update(sid, rec.revision),
            update(sid, rec.revision),
            update(sid, rec.revision + 1),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Conflict, OpOutcome::Done]);
    assert_eq!(subject(&store, sid).await.revision, rec.revision + 2);
    assert_eq!(journal_len(&store).await, 3);

    assert_eq!(erase(&store, sid, at(9)).await, OpOutcome::Done);
    let erased = subject(&store, sid).await;
    assert_eq!(write_one(&store, update(sid, erased.revision)).await, OpOutcome::Erased);
    assert_eq!(subject(&store, sid).await, erased);
    assert_eq!(journal_len(&store).await, 4);
}

/// Consent events are appended in order and returned oldest first, with their evidence.
pub async fn consent_events_append_in_order(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let other = SubjectId::random();
    let mut s = new_subject(sid, &[]);
    let first = consent("registration", ConsentEventKind::Given, at(0), Some(&[1]));
    s.consents = vec![first.clone()];
    create(&store, s).await;
    create(&store, new_subject(other, &[])).await;

    // Same instant and an earlier one: order is the order of appending, not of `at`.
    let batch1 = vec![
        consent("marketing", ConsentEventKind::Given, at(10), Some(&[2, 0, 2])),
        consent("marketing", ConsentEventKind::Withdrawn, at(10), None),
    ];
    let batch2 = vec![consent("analytics", ConsentEventKind::Given, at(3), Some(&[3]))];
    let add = |target: SubjectId, events: Vec<ConsentEventRecord>| {
        op(
            Change::Consent(ConsentChange::Add { id: target, events }),
            vec![admin_draft(AdminEvent::ConsentGiven)],
        )
    };
    assert_eq!(write_one(&store, add(sid, batch1.clone())).await, OpOutcome::Done);
    let out = write(
        &store,
        vec![
            add(other, vec![consent("x", ConsentEventKind::Given, at(1), None)]),
            add(sid, batch2.clone()),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Done]);
    assert_eq!(write_one(&store, add(sid, vec![])).await, OpOutcome::Done);

    let mut want = vec![first];
    want.extend(batch1);
    want.extend(batch2);
    assert_eq!(ok(store.find_consent_events(sid).await, "find_consent_events"), want);
    assert_eq!(
        ok(store.find_consent_events(other).await, "find_consent_events").len(),
        1
    );
    let (record, events) = ok(
        store.find_subject_with_consents(sid).await,
        "find_subject_with_consents",
    );
    assert_eq!(record.map(|r| r.id), Some(sid));
    assert_eq!(events, want);
    let (none, no_events) = ok(
        store.find_subject_with_consents(SubjectId::random()).await,
        "find_subject_with_consents",
    );
    assert!(none.is_none() && no_events.is_empty());
    // Consent events do not change the subject's revision.
    assert_eq!(subject(&store, sid).await.revision, 1);
    assert_eq!(journal_len(&store).await, 2 + 4);
}

/// Consent events cannot be added to an erased or unknown subject.
pub async fn consent_events_on_erased_or_unknown_subject(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(&store, new_subject(sid, &[])).await;
    assert_eq!(erase(&store, sid, at(1)).await, OpOutcome::Done);
    let add = |target: SubjectId| {
        op(
            Change::Consent(ConsentChange::Add {
                id: target,
                events: vec![consent("marketing", ConsentEventKind::Given, at(2), Some(&[1]))],
            }),
            vec![admin_draft(AdminEvent::ConsentGiven)],
        )
    };
    assert_eq!(write_one(&store, add(sid)).await, OpOutcome::Erased);
    assert_eq!(write_one(&store, add(SubjectId::random())).await, OpOutcome::NotFound);
    assert!(ok(store.find_consent_events(sid).await, "find_consent_events").is_empty());
    assert_eq!(journal_len(&store).await, 2);
}

/// Erasure destroys the key, the fields, the index entries and the evidence, keeps a
/// tombstone and the consent metadata, and happens once.
pub async fn erase_subject_destroys_key_fields_index_and_evidence(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let other = SubjectId::random();
    let mut s = new_subject(sid, &[("email", 5), ("phone", 6)]);
    s.consents = vec![consent("marketing", ConsentEventKind::Given, at(0), Some(&[1, 2]))];
    let mut o = new_subject(other, &[("email", 5)]);
    o.consents = vec![consent("marketing", ConsentEventKind::Given, at(0), Some(&[3]))];
    write(&store, vec![create_op(s), create_op(o.clone())]).await;
    let added = consent("analytics", ConsentEventKind::Given, at(1), Some(&[4]));
    let out = write_one(
        &store,
        op(
            Change::Consent(ConsentChange::Add {
                id: sid,
                events: vec![added],
            }),
            vec![admin_draft(AdminEvent::ConsentGiven)],
        ),
    )
    .await;
    assert_eq!(out, OpOutcome::Done);
    let before = subject(&store, sid).await;

    assert_eq!(erase(&store, sid, at(30)).await, OpOutcome::Done);

    let rec = subject(&store, sid).await;
    assert_eq!(
        rec,
        SubjectRecord {
            id: sid,
            state: SubjectState::Erased,
            revision: before.revision,
            created_at: before.created_at,
            updated_at: at(30),
            erased_at: Some(at(30)),
            key: None,
            fields: None,
        }
    );
    assert_eq!(by_index(&store, "email", 5).await, [other]);
    assert_eq!(by_index(&store, "phone", 6).await, NONE);
    let events = ok(store.find_consent_events(sid).await, "find_consent_events");
    assert_eq!(
        events,
        [
            consent("marketing", ConsentEventKind::Given, at(0), None),
            consent("analytics", ConsentEventKind::Given, at(1), None),
        ]
    );
    // The other subject is untouched.
    assert_eq!(
        ok(store.find_consent_events(other).await, "find_consent_events"),
        o.consents
    );
    assert_eq!(subject(&store, other).await.key, Some(o.key.clone()));
    assert_eq!(
        ok(store.find_wrapped_keys(None, 10).await, "find_wrapped_keys"),
        [WrappedKeyRecord {
            subject: other,
            key: o.key
        }]
    );

    assert_eq!(erase(&store, sid, at(40)).await, OpOutcome::Erased);
    assert_eq!(subject(&store, sid).await, rec);
    assert_eq!(erase(&store, SubjectId::random(), at(40)).await, OpOutcome::NotFound);
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts { active: 1, erased: 1 }
    );
    assert_eq!(journal_len(&store).await, 4);
}

/// Wrapped keys are paged in id order, erased subjects left out.
pub async fn wrapped_keys_page_in_id_order_without_erased(store: Arc<dyn Store>) {
    let ids: Vec<SubjectId> = (1..=9).map(|n| id(n * 20)).collect();
    // Created out of order.
    let mut ops: Vec<WriteOp> = ids.iter().rev().map(|s| create_op(new_subject(*s, &[]))).collect();
    ops.swap(1, 5);
    write(&store, ops).await;
    assert_eq!(erase(&store, ids[0], at(1)).await, OpOutcome::Done);
    assert_eq!(erase(&store, ids[4], at(1)).await, OpOutcome::Done);

    let live: Vec<SubjectId> = ids.iter().copied().filter(|s| *s != ids[0] && *s != ids[4]).collect();
    let mut got = Vec::new();
    let mut after = None;
    loop {
        let page = ok(store.find_wrapped_keys(after, 3).await, "find_wrapped_keys");
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        after = Some(last.subject);
        got.extend(page);
    }
    let want: Vec<WrappedKeyRecord> = live
        .iter()
        .map(|s| WrappedKeyRecord {
            subject: *s,
            key: key("k1", s.as_bytes()[0]),
        })
        .collect();
    assert_eq!(got, want);

    // `after` need not be a live id.
    let page = ok(store.find_wrapped_keys(Some(ids[4]), 2).await, "find_wrapped_keys");
    assert_eq!(page.iter().map(|r| r.subject).collect::<Vec<_>>(), [ids[5], ids[6]]);
    let page = ok(store.find_wrapped_keys(Some(id(1)), 1).await, "find_wrapped_keys");
    assert_eq!(page.iter().map(|r| r.subject).collect::<Vec<_>>(), [ids[1]]);
    assert!(ok(store.find_wrapped_keys(Some(ids[8]), 5).await, "find_wrapped_keys").is_empty());
}

/// Rewrapping replaces only keys of active subjects still under the old KEK.
pub async fn rewrap_keys_only_touches_active_rows_under_old_kek(store: Arc<dyn Store>) {
    let (a, b, c, d) = (
        SubjectId::random(),
        SubjectId::random(),
        SubjectId::random(),
        SubjectId::random(),
    );
    let mut sc = new_subject(c, &[]);
    sc.key = key("k2", 3);
    write(
        &store,
        vec![
            create_op(new_subject(a, &[])),
            create_op(new_subject(b, &[])),
            create_op(sc),
            create_op(new_subject(d, &[])),
        ],
    )
    .await;
    assert_eq!(erase(&store, d, at(1)).await, OpOutcome::Done);
    let b_before = subject(&store, b).await;

    let new_key = |n: u8| WrappedKey {
        kek_id: "k3".to_owned(),
        wrapped: vec![n; 40],
    };
    let records = vec![
        WrappedKeyRecord {
            subject: a,
            key: new_key(1),
        },
        WrappedKeyRecord {
            subject: c,
            key: new_key(3),
        },
        WrappedKeyRecord {
            subject: d,
            key: new_key(4),
        },
        WrappedKeyRecord {
            subject: SubjectId::random(),
            key: new_key(5),
        },
    ];
    let out = write_one(
        &store,
        op(
            Change::Key(KeyChange::Rewrap {
                old_kek_id: "k1".to_owned(),
                keys: records,
            }),
            vec![admin_draft(AdminEvent::KeyRotation)],
        ),
    )
    .await;
    assert_eq!(out, OpOutcome::Done);

    assert_eq!(subject(&store, a).await.key, Some(new_key(1)));
    assert_eq!(subject(&store, b).await, b_before);
    assert_eq!(subject(&store, c).await.key, Some(key("k2", 3)));
    let dr = subject(&store, d).await;
    assert_eq!((dr.state, dr.key), (SubjectState::Erased, None));
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts { active: 3, erased: 1 }
    );

    // Rewrapping again from k1 finds `a` no longer under k1.
    let out = write_one(
        &store,
        op(
            Change::Key(KeyChange::Rewrap {
                old_kek_id: "k1".to_owned(),
                keys: vec![WrappedKeyRecord {
                    subject: a,
                    key: key("k9", 9),
                }],
            }),
            vec![admin_draft(AdminEvent::KeyRotation)],
        ),
    )
    .await;
    assert_eq!(out, OpOutcome::Done);
    assert_eq!(subject(&store, a).await.key, Some(new_key(1)));
    assert_eq!(journal_len(&store).await, 4 + 1 + 2);
}

/// Subjects are counted by state.
pub async fn count_subjects_by_state(store: Arc<dyn Store>) {
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts::default()
    );
    let ids: Vec<SubjectId> = (0..5).map(|_| SubjectId::random()).collect();
    write(&store, ids.iter().map(|s| create_op(new_subject(*s, &[]))).collect()).await;
    assert_eq!(erase(&store, ids[1], at(1)).await, OpOutcome::Done);
    assert_eq!(erase(&store, ids[3], at(1)).await, OpOutcome::Done);
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts { active: 3, erased: 2 }
    );
}

// ---------------------------------------------------------------------------------------------
// API keys and policy versions

/// API keys are created once, listed in id order, and revoked once.
pub async fn api_keys_lifecycle(store: Arc<dyn Store>) {
    let zed = api_key("zed", Role::Admin, &[]);
    let abc = api_key("abc", Role::Service, &["analytics", "marketing"]);
    let create_key = |k: ApiKeyRecord| {
        op(
            Change::ApiKey(ApiKeyChange::Create(k)),
            vec![admin_draft(AdminEvent::ApiKeyCreated)],
        )
    };
    let revoke = |k: &str, when| {
        op(
            Change::ApiKey(ApiKeyChange::Revoke {
                id: k.to_owned(),
                at: when,
            }),
            vec![admin_draft(AdminEvent::ApiKeyRevoked)],
        )
    };
    assert_eq!(
        write(&store, vec![create_key(zed.clone()), create_key(abc.clone())]).await,
        [OpOutcome::Done; 2]
    );

    assert_eq!(ok(store.find_api_key("zed").await, "find_api_key"), Some(zed.clone()));
    assert_eq!(ok(store.find_api_key("abc").await, "find_api_key"), Some(abc.clone()));
    assert_eq!(ok(store.find_api_key("abd").await, "find_api_key"), None);
    assert_eq!(
        ok(store.find_api_keys().await, "find_api_keys"),
        [abc.clone(), zed.clone()]
    );

    let mut dup = api_key("zed", Role::Service, &["x"]);
    dup.name = "impostor".to_owned();
    assert_eq!(write_one(&store, create_key(dup)).await, OpOutcome::AlreadyExists);
    assert_eq!(ok(store.find_api_key("zed").await, "find_api_key"), Some(zed.clone()));

    assert_eq!(write_one(&store, revoke("zed", at(90))).await, OpOutcome::Done);
    let revoked = ApiKeyRecord {
        revoked_at: Some(at(90)),
        ..zed
    };
    assert_eq!(
        ok(store.find_api_key("zed").await, "find_api_key"),
        Some(revoked.clone())
    );
    assert_eq!(write_one(&store, revoke("zed", at(91))).await, OpOutcome::Revoked);
    assert_eq!(
        ok(store.find_api_key("zed").await, "find_api_key"),
        Some(revoked.clone())
    );
    assert_eq!(write_one(&store, revoke("nope", at(91))).await, OpOutcome::NotFound);
    assert_eq!(ok(store.find_api_keys().await, "find_api_keys"), [abc, revoked]);
    assert_eq!(journal_len(&store).await, 3);
}

/// A policy version is recorded once; recording it again writes no entry.
pub async fn policy_versions_are_recorded_once(store: Arc<dyn Store>) {
    let v1 = policy("aa11", "1", at(0));
    let v2 = policy("bb22", "2", at(10));
    assert_eq!(write_one(&store, record_policy(v2.clone())).await, OpOutcome::Done);
    assert_eq!(write_one(&store, record_policy(v1.clone())).await, OpOutcome::Done);
    let again = PolicyVersionRecord {
        recorded_at: at(20),
        ..v1.clone()
    };
    assert_eq!(write_one(&store, record_policy(again)).await, OpOutcome::AlreadyExists);
    assert_eq!(ok(store.find_policy_versions().await, "find_policy_versions"), [v1, v2]);
    assert_eq!(journal_len(&store).await, 2);
}

/// Ops in a batch apply in order and see what the earlier ones did.
pub async fn ops_in_one_batch_see_earlier_ops(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let d = || vec![draft(ProcessingAction::Use, Some(sid))];
    let ops = vec![
        create_op(new_subject(sid, &[("email", 1)])),
        op(
            Change::Subject(SubjectChange::Update {
                id: sid,
                expected_revision: 1,
                fields: vec![2],
                reindex: vec![("email".to_owned(), Some(2))],
                at: at(1),
            }),
            d(),
        ),
        op(
            Change::Consent(ConsentChange::Add {
                id: sid,
                events: vec![consent("m", ConsentEventKind::Given, at(2), Some(&[1]))],
            }),
            d(),
        ),
        op(
            Change::Subject(SubjectChange::Update {
                id: sid,
                expected_revision: 2,
                fields: vec![3],
                reindex: vec![],
                at: at(3),
            }),
            d(),
        ),
        op(Change::Subject(SubjectChange::Erase { id: sid, at: at(4) }), d()),
        op(
            Change::Subject(SubjectChange::Update {
                id: sid,
                expected_revision: 3,
                fields: vec![4],
                reindex: vec![],
                at: at(5),
            }),
            d(),
        ),
        op(
            Change::Consent(ConsentChange::Add {
                id: sid,
                events: vec![],
            }),
            d(),
        ),
        op(Change::Subject(SubjectChange::Erase { id: sid, at: at(6) }), d()),
        op(
            Change::ApiKey(ApiKeyChange::Create(api_key("k", Role::Admin, &[]))),
            d(),
        ),
        op(
            Change::ApiKey(ApiKeyChange::Revoke {
                id: "k".to_owned(),
                at: at(7),
            }),
            d(),
        ),
        op(
            Change::ApiKey(ApiKeyChange::Revoke {
                id: "k".to_owned(),
                at: at(8),
            }),
            d(),
        ),
        record_policy(policy("cc", "3", at(9))),
        record_policy(policy("cc", "3", at(9))),
    ];
    let out = write(&store, ops).await;
    use OpOutcome::*;
    assert_eq!(
        out,
        [
            Done,
            Done,
            Done,
            Done,
            Done,
            Erased,
            Erased,
            Erased,
            Done,
            Done,
            Revoked,
            Done,
            AlreadyExists
        ]
    );
    let rec = subject(&store, sid).await;
    assert_eq!(rec.state, SubjectState::Erased);
    assert_eq!(rec.revision, 3);
    assert_eq!(rec.erased_at, Some(at(4)));
    assert_eq!((rec.key, rec.fields), (None, None));
    assert_eq!(by_index(&store, "email", 1).await, NONE);
    assert_eq!(by_index(&store, "email", 2).await, NONE);
    assert_eq!(
        ok(store.find_consent_events(sid).await, "find_consent_events"),
        [consent("m", ConsentEventKind::Given, at(2), None)]
    );
    assert_eq!(
        ok(store.find_api_key("k").await, "find_api_key").and_then(|k| k.revoked_at),
        Some(at(7))
    );
    assert_eq!(ok(store.find_policy_versions().await, "find_policy_versions").len(), 1);
    assert_eq!(journal_len(&store).await, 8);
    assert_valid_chain(&store, &all_entries(&store).await).await;
}

/// An empty write and ops without entries change the journal not at all.
pub async fn empty_write_and_ops_without_entries(store: Arc<dyn Store>) {
    assert!(write(&store, vec![]).await.is_empty());
    assert_eq!(
        write_one(&store, op(Change::JournalOnly, vec![])).await,
        OpOutcome::Done
    );
    let sid = SubjectId::random();
    assert_eq!(
        write_one(
            &store,
            op(Change::Subject(SubjectChange::Create(new_subject(sid, &[]))), vec![])
        )
        .await,
        OpOutcome::Done
    );
    assert!(ok(store.find_subject(sid).await, "find_subject").is_some());
    assert_eq!(ok(store.find_journal_head().await, "find_journal_head"), None);
    assert!(all_entries(&store).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// The journal

/// Entries of Done ops are linked in op order, exactly as [`chain::link`] links them.
pub async fn journal_links_entries_in_op_order(store: Arc<dyn Store>) {
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

/// Ops whose precondition fails write no entries; the others in the batch still apply.
pub async fn failed_ops_write_no_entries_but_others_apply(store: Arc<dyn Store>) {
    let (a, b) = (SubjectId::random(), SubjectId::random());
    let da = vec![draft(ProcessingAction::Collection, Some(a))];
    let dj = vec![
        admin_draft(AdminEvent::PolicyActivated),
        draft(ProcessingAction::Use, Some(a)),
    ];
    let db = vec![
        draft(ProcessingAction::Collection, Some(b)),
        draft(ProcessingAction::Storage, Some(b)),
    ];
    let lost = || vec![draft(ProcessingAction::Destruction, None)];
    let ops = vec![
        op(
            Change::Subject(SubjectChange::Create(new_subject(a, &[("email", 1)]))),
            da.clone(),
        ),
        op(
            Change::Subject(SubjectChange::Update {
                id: SubjectId::random(),
                expected_revision: 1,
                fields: vec![],
                reindex: vec![],
                at: T0,
            }),
            lost(),
        ),
        op(Change::JournalOnly, dj.clone()),
        op(
            Change::Subject(SubjectChange::Create(new_subject(a, &[("email", 2)]))),
            lost(),
        ),
        op(
            Change::ApiKey(ApiKeyChange::Revoke {
                id: "none".to_owned(),
                at: T0,
            }),
            lost(),
        ),
        op(
            Change::Subject(SubjectChange::Erase {
                id: SubjectId::random(),
                at: T0,
            }),
            lost(),
        ),
        op(
            Change::Subject(SubjectChange::Create(new_subject(b, &[("email", 1)]))),
            db.clone(),
        ),
    ];
    use OpOutcome::*;
    assert_eq!(
        write(&store, ops).await,
        [Done, NotFound, Done, AlreadyExists, NotFound, NotFound, Done]
    );
    let (want, _) = chain::link(None, da.into_iter().chain(dj).chain(db));
    let got = all_entries(&store).await;
    assert_eq!(got, want);
    assert_valid_chain(&store, &got).await;
    assert_eq!(by_index(&store, "email", 1).await, sorted(vec![a, b]));
    assert_eq!(by_index(&store, "email", 2).await, NONE);
}

/// `find_journal_entries` pages by `seq`.
pub async fn journal_entries_page(store: Arc<dyn Store>) {
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
pub async fn journal_ranges_check_like_one_pass(store: Arc<dyn Store>) {
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
pub async fn journal_entry_fields_round_trip(store: Arc<dyn Store>) {
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
pub async fn checkpoints_in_seq_order(store: Arc<dyn Store>) {
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

/// A batch of 1000 journal-only ops is one write.
pub async fn large_batch_of_journal_only_ops(store: Arc<dyn Store>) {
    let ops: Vec<WriteOp> = (0..1000)
        .map(|i| {
            op(
                Change::JournalOnly,
                vec![draft(ProcessingAction::Use, None).detail(i.to_string())],
            )
        })
        .collect();
    assert_eq!(write(&store, ops).await, vec![OpOutcome::Done; 1000]);
    let entries = all_entries(&store).await;
    assert_eq!(entries.len(), 1000);
    assert_eq!(entries[999].detail.as_deref(), Some("999"));
    assert_valid_chain(&store, &entries).await;
}

/// A batch of 500 new subjects with index entries and consents is one write.
pub async fn large_batch_of_subjects(store: Arc<dyn Store>) {
    let ids: Vec<SubjectId> = (0..500).map(|_| SubjectId::random()).collect();
    let ops: Vec<WriteOp> = ids
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let i = i64::try_from(i).expect("small");
            let mut n = new_subject(*s, &[("email", i), ("phone", i % 7)]);
            n.consents = vec![consent("marketing", ConsentEventKind::Given, at(i), Some(&[1, 2, 3]))];
            create_op(n)
        })
        .collect();
    assert_eq!(write(&store, ops).await, vec![OpOutcome::Done; 500]);
    assert_eq!(
        ok(store.count_subjects().await, "count_subjects"),
        SubjectCounts { active: 500, erased: 0 }
    );
    assert_eq!(by_index(&store, "email", 321).await, [ids[321]]);
    assert_eq!(
        by_index(&store, "phone", 3).await.len(),
        (0..500).filter(|i| i % 7 == 3).count()
    );
    assert_eq!(
        ok(store.find_consent_events(ids[499]).await, "find_consent_events"),
        [consent("marketing", ConsentEventKind::Given, at(499), Some(&[1, 2, 3]))]
    );
    let mut keys = Vec::new();
    let mut after = None;
    loop {
        let page = ok(store.find_wrapped_keys(after, 128).await, "find_wrapped_keys");
        let Some(last) = page.last() else { break };
        after = Some(last.subject);
        keys.extend(page.into_iter().map(|r| r.subject));
    }
    assert_eq!(keys, sorted(ids));
    let entries = all_entries(&store).await;
    assert_eq!(entries.len(), 500);
    assert_valid_chain(&store, &entries).await;
}

/// Many concurrent writers produce one unbroken chain: no gaps, no duplicate seqs.
pub async fn concurrent_writes_keep_one_chain(store: Arc<dyn Store>) {
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
pub async fn concurrent_updates_at_one_revision(store: Arc<dyn Store>) {
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
