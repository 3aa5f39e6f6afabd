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
//! The tests live in one file per aggregate (or concern) of this module, registered once in
//! [`conformance_list!`](crate::conformance_list); a backend can also call one directly
//! through [`tests`].
//!
//! Conventions this suite pins down (the trait leaves them open):
//! - a new subject has revision 1; an update adds 1; erasure and consent events leave it;
//! - an update sets `updated_at` to its `at`; erasure sets both `updated_at` and `erased_at`
//!   to its `at`;
//! - `ConsentChange::Add` on an unknown subject is `NotFound`;
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

// A test that is not in the list is dead code: an error, not a test that never runs.
#![deny(dead_code)]

use crate::chain;
use crate::{
    ApiKeyChange, ApiKeyRecord, BoundKey, Change, ConsentChange, ConsentEventRecord, IndexEntry, JournalEntry,
    JournalHead, KeyChange, NewSubject, OpOutcome, PolicyVersionChange, PolicyVersionRecord, Store, StoreResult,
    SubjectChange, SubjectCounts, SubjectRecord, WrappedKey, WrappedKeyRecord, WriteOp,
};
use std::collections::{BTreeMap, BTreeSet};
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

pub use concurrency::{concurrent_updates, concurrent_writers};

/// THE list of the suite: every file of this module (one per aggregate or concern) with its
/// tests, each a private `async fn(Arc<dyn Store>)`. It is expanded twice: here, into the
/// modules and into [`tests`], one public entry per test (so a test missing from the list is
/// dead code, which this module denies: it cannot exist without being run); and in each
/// backend's test crate, through [`conformance_suite!`](crate::conformance_suite), into one
/// `#[tokio::test]` per test. Adding a file is one line here.
#[doc(hidden)]
#[macro_export]
macro_rules! conformance_list {
    ($m:path, $($arg:tt)*) => {
        $m! { ($($arg)*)
            subjects: [
                empty_store_reads_nothing,
                subject_round_trips,
                create_existing_subject_is_already_exists,
                blind_index_lookup,
                update_subject_at_revision,
                update_subject_preconditions,
                erase_subject_destroys_key_fields_index_and_evidence,
                count_subjects_by_state,
            ],
            destruction: [destruction_drops_fields_and_their_index_entries_together],
            acts: [
                act_is_written_with_its_destruction_once_per_cause,
                acts_are_listed_by_subject_and_time_and_purged_by_age,
                act_lifts_its_block_with_the_destruction_or_nothing,
                act_deletes_the_subjects_pending_downloads,
            ],
            blocks: [blocks_are_placed_listed_and_lifted_once],
            requests: [
                requests_are_filed_for_active_subjects_and_updated_from_their_state,
                requests_list_by_filter_and_due_range_in_pages,
            ],
            downloads: [
                downloads_are_created_found_and_served_once,
                concurrent_consumers_get_a_download_once,
                erase_subject_deletes_its_downloads,
            ],
            consents: [
                consent_events_append_in_order,
                consent_events_on_erased_or_unknown_subject,
            ],
            keys: [
                wrapped_keys_page_in_id_order_without_erased,
                rewrap_keys_only_touches_active_rows_under_old_kek,
                wrapped_keys_are_counted_by_kek,
                key_binding_records_each_key_once,
            ],
            api_keys: [api_keys_lifecycle],
            policies: [policy_versions_are_recorded_once, a_policy_version_is_rescheduled_from_its_time],
            batches: [
                ops_in_one_batch_see_earlier_ops,
                empty_write_and_ops_without_entries,
                failed_ops_write_no_entries_but_others_apply,
                large_batch_of_journal_only_ops,
                large_batch_of_subjects,
            ],
            journal: [
                journal_links_entries_in_op_order,
                journal_entries_page,
                journal_ranges_check_like_one_pass,
                journal_entry_fields_round_trip,
                checkpoints_in_seq_order,
            ],
            concurrency: [
                concurrent_writes_keep_one_chain,
                concurrent_updates_at_one_revision,
            ],
            visitors: [
                visitor_consents_append_in_order,
                link_visitor_links_past_and_later_records,
                link_visitor_preconditions,
                erase_subject_deletes_linked_visitor_consents,
                visitor_ops_in_one_batch_see_earlier_ops,
            ],
            subject_events: [
                subject_events_append_in_order,
                subject_events_preconditions_and_erasure,
                policy_acknowledgements_count_distinct_subjects,
            ],
            listing: [
                subject_facts_page_in_id_order_without_evidence,
                subject_facts_pages_neither_repeat_nor_skip_under_inserts,
                journal_page_filters,
            ],
            bases: [
                basis_events_append_in_order,
                basis_events_preconditions_and_erasure,
            ],
            idempotency: [
                a_claim_commits_with_its_change_or_not_at_all,
                an_answer_is_recorded_once,
                expired_records_are_replaced_and_pruned,
            ],
            outbox: [
                messages_queue_and_claim,
                messages_are_queued_with_their_cause_or_not_at_all,
                message_delivery_states,
                erase_subject_deletes_its_messages,
                concurrent_claims_take_each_message_once,
            ],
            verifications: [
                verifications_are_created_and_updated_from_their_revision,
                concurrent_updates_of_a_verification_apply_once_per_revision,
            ],
            unique: [
                a_unique_guard_refuses_an_unknown_holder,
                a_unique_guard_follows_rectifications_in_the_batch,
                concurrent_guarded_registrations_take_an_entry_once,
            ],
            leases: [
                lease_is_exclusive_while_held,
                lease_is_renewed_by_its_holder,
                expired_lease_is_taken_over,
                released_lease_is_free,
                concurrent_acquirers_get_one_lease,
            ],
        }
    };
}

/// Declares the suite's files and one public entry per test (see [`conformance_list!`]).
macro_rules! suite_modules {
    (() $($file:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        $(mod $file;)*

        /// One entry per test of the suite, for a backend that calls one directly.
        pub mod tests {
            use super::*;
            $($(
                pub async fn $name(store: Arc<dyn Store>) {
                    super::$file::$name(store).await
                }
            )*)*
        }
    };
}

crate::conformance_list!(suite_modules,);

/// Expands to one `#[tokio::test]` per test of the suite; `$fresh` is an
/// `async fn() -> Option<Arc<dyn Store>>` returning a new, empty, migrated store (or `None`
/// to skip).
#[macro_export]
macro_rules! conformance_suite {
    ($fresh:path) => {
        $crate::conformance_list!($crate::conformance_suite, @tests $fresh);
    };
    ((@tests $fresh:path) $($file:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        $($(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(store) = $fresh().await {
                    $crate::conformance::tests::$name(store).await;
                }
            }
        )*)*
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
        bases: Vec::new(),
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
