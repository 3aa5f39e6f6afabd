//! Conformance: website visitors' cookie consent records, their link to a subject, and
//! their erasure with it.

use super::{
    admin_draft, all_entries, assert_valid_chain, at, create, create_op, erase, journal_len, ok, op, write, write_one,
};
use super::{new_subject, T0};
use crate::{Change, OpOutcome, Store, SubjectChange, VisitorChange, VisitorConsent, VisitorConsentRecord, WriteOp};
use std::collections::BTreeMap;
use std::sync::Arc;
use ward_core::cookies::{CookieCategory, CookieChoice};
use ward_core::journal::AdminEvent;
use ward_core::SubjectId;
use ward_crypto::Hash32;

/// A visitor hash whose bytes are all `n`.
fn visitor(n: u8) -> Hash32 {
    [n; 32]
}

/// A choice of `visitor`, recorded at `at(minute)`, granting the categories in `granted`.
fn choice(v: Hash32, minute: i64, granted: &[CookieCategory], gpc: bool) -> VisitorConsent {
    let choices: BTreeMap<CookieCategory, CookieChoice> = CookieCategory::ALL
        .iter()
        .map(|c| {
            let g = *c == CookieCategory::Necessary || granted.contains(c);
            (*c, if g { CookieChoice::Granted } else { CookieChoice::Denied })
        })
        .collect();
    VisitorConsent {
        visitor: v,
        banner_version: format!("2026-{:02}", minute.rem_euclid(12) + 1),
        choices,
        gpc,
        gpc_overrode: gpc && minute % 2 == 0,
        at: at(minute),
    }
}

fn record(c: VisitorConsent) -> WriteOp {
    op(
        Change::Visitor(VisitorChange::Record(c)),
        vec![admin_draft(AdminEvent::CookieConsentRecorded)],
    )
}

fn link(v: Hash32, subject: SubjectId) -> WriteOp {
    op(
        Change::Visitor(VisitorChange::Link { visitor: v, subject }),
        vec![admin_draft(AdminEvent::VisitorLinked).subject(subject)],
    )
}

async fn consents(store: &Arc<dyn Store>, v: Hash32) -> Vec<VisitorConsentRecord> {
    ok(store.find_visitor_consents(&v).await, "find_visitor_consents")
}

fn linked_to(records: &[VisitorConsentRecord]) -> Vec<Option<SubjectId>> {
    records.iter().map(|r| r.subject).collect()
}

fn unlinked(consents: &[VisitorConsent]) -> Vec<VisitorConsentRecord> {
    consents
        .iter()
        .map(|c| VisitorConsentRecord {
            consent: c.clone(),
            subject: None,
        })
        .collect()
}

/// Cookie choices come back as recorded, timestamps to the microsecond, oldest first (in the
/// order recorded, not by `at`), each visitor's apart from the others'.
pub(super) async fn visitor_consents_append_in_order(store: Arc<dyn Store>) {
    assert!(consents(&store, visitor(1)).await.is_empty());
    let (a, b) = (visitor(1), visitor(2));
    use CookieCategory::*;
    let first = choice(a, 5, &[Analytics, Marketing], false);
    let batch = [
        choice(b, 4, &[], true),
        // Earlier `at` than `first`, recorded later.
        choice(a, -3, &[Functional], true),
        choice(a, -3, &[Functional, Analytics, Marketing], false),
    ];
    assert_eq!(write_one(&store, record(first.clone())).await, OpOutcome::Done);
    let out = write(&store, batch.iter().cloned().map(record).collect()).await;
    assert_eq!(out, [OpOutcome::Done; 3]);

    let got = consents(&store, a).await;
    assert_eq!(got, unlinked(&[first, batch[1].clone(), batch[2].clone()]));
    assert_eq!(got[0].consent.at.microsecond(), T0.microsecond() + 35);
    assert_eq!(consents(&store, b).await, unlinked(&batch[..1]));
    assert!(consents(&store, visitor(3)).await.is_empty());
    // Every category is stored with its answer, and GPC's two flags apart.
    assert_eq!(got[1].consent.choices.len(), CookieCategory::ALL.len());
    assert!(got[1].consent.gpc && !got[1].consent.gpc_overrode);
    let b0 = &consents(&store, b).await[0].consent;
    assert!(b0.gpc && b0.gpc_overrode);
    assert_eq!(b0.choices[&Marketing], CookieChoice::Denied);

    let entries = all_entries(&store).await;
    assert_eq!(entries.len(), 4);
    assert!(entries.iter().all(|e| e.action == "cookie_consent.recorded"));
    assert_valid_chain(&store, &entries).await;
}

/// Linking links every record of the visitor, and the visitor's later records too; other
/// visitors are untouched. Linking again to the same subject is harmless.
pub(super) async fn link_visitor_links_past_and_later_records(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    create(&store, new_subject(sid, &[])).await;
    let (v, other) = (visitor(7), visitor(8));
    write(
        &store,
        vec![
            record(choice(v, 1, &[], false)),
            record(choice(other, 1, &[], false)),
            record(choice(v, 2, &[CookieCategory::Analytics], false)),
        ],
    )
    .await;

    assert_eq!(write_one(&store, link(v, sid)).await, OpOutcome::Done);
    assert_eq!(linked_to(&consents(&store, v).await), [Some(sid); 2]);
    assert_eq!(linked_to(&consents(&store, other).await), [None]);

    let later = choice(v, 3, &[CookieCategory::Functional], true);
    assert_eq!(write_one(&store, record(later.clone())).await, OpOutcome::Done);
    let got = consents(&store, v).await;
    assert_eq!(linked_to(&got), [Some(sid); 3]);
    assert_eq!(got[2].consent, later);

    assert_eq!(write_one(&store, link(v, sid)).await, OpOutcome::Done);
    assert_eq!(linked_to(&consents(&store, v).await), [Some(sid); 3]);
    // 1 subject + 3 records + 2 links + 1 record.
    assert_eq!(journal_len(&store).await, 7);
}

/// Linking needs an active subject, and a visitor not linked to another one; a failed link
/// changes nothing and writes no entry. A visitor without records links nothing.
pub(super) async fn link_visitor_preconditions(store: Arc<dyn Store>) {
    let (sid, other, gone) = (SubjectId::random(), SubjectId::random(), SubjectId::random());
    for s in [sid, other, gone] {
        create(&store, new_subject(s, &[])).await;
    }
    assert_eq!(erase(&store, gone, at(1)).await, OpOutcome::Done);
    let v = visitor(9);
    assert_eq!(
        write_one(&store, record(choice(v, 2, &[], false))).await,
        OpOutcome::Done
    );
    let before = journal_len(&store).await;

    assert_eq!(
        write_one(&store, link(v, SubjectId::random())).await,
        OpOutcome::NotFound
    );
    assert_eq!(write_one(&store, link(v, gone)).await, OpOutcome::Erased);
    assert_eq!(linked_to(&consents(&store, v).await), [None]);
    assert_eq!(journal_len(&store).await, before);

    assert_eq!(write_one(&store, link(v, sid)).await, OpOutcome::Done);
    assert_eq!(write_one(&store, link(v, other)).await, OpOutcome::Conflict);
    assert_eq!(linked_to(&consents(&store, v).await), [Some(sid)]);
    assert_eq!(journal_len(&store).await, before + 1);

    // No records: Done, nothing to link, and a later record is not linked.
    let fresh = visitor(10);
    assert_eq!(write_one(&store, link(fresh, sid)).await, OpOutcome::Done);
    assert!(consents(&store, fresh).await.is_empty());
    assert_eq!(
        write_one(&store, record(choice(fresh, 3, &[], false))).await,
        OpOutcome::Done
    );
    assert_eq!(linked_to(&consents(&store, fresh).await), [None]);
    assert_valid_chain(&store, &all_entries(&store).await).await;
}

/// Erasing a subject deletes the records of every visitor linked to it, and only those. The
/// visitor's later records are not linked, and the visitor cannot be linked to the erased
/// subject again.
pub(super) async fn erase_subject_deletes_linked_visitor_consents(store: Arc<dyn Store>) {
    let (sid, kept) = (SubjectId::random(), SubjectId::random());
    write(
        &store,
        vec![create_op(new_subject(sid, &[])), create_op(new_subject(kept, &[]))],
    )
    .await;
    let (v1, v2, v3, v4) = (visitor(21), visitor(22), visitor(23), visitor(24));
    let recorded = [
        choice(v1, 1, &[CookieCategory::Marketing], false),
        choice(v2, 2, &[], true),
        choice(v1, 3, &[], false),
        choice(v3, 4, &[], false),
        choice(v4, 5, &[], false),
    ];
    write(&store, recorded.iter().cloned().map(record).collect()).await;
    let out = write(&store, vec![link(v1, sid), link(v2, sid), link(v4, kept)]).await;
    assert_eq!(out, [OpOutcome::Done; 3]);

    assert_eq!(erase(&store, sid, at(10)).await, OpOutcome::Done);
    assert!(consents(&store, v1).await.is_empty());
    assert!(consents(&store, v2).await.is_empty());
    assert_eq!(consents(&store, v3).await, unlinked(&recorded[3..4]));
    assert_eq!(linked_to(&consents(&store, v4).await), [Some(kept)]);

    let after = choice(v1, 11, &[], false);
    assert_eq!(write_one(&store, record(after.clone())).await, OpOutcome::Done);
    assert_eq!(consents(&store, v1).await, unlinked(&[after]));
    assert_eq!(write_one(&store, link(v1, sid)).await, OpOutcome::Erased);
    assert_eq!(linked_to(&consents(&store, v1).await), [None]);
    assert_valid_chain(&store, &all_entries(&store).await).await;
}

/// Within one batch, records, links and erasure see the earlier ops.
pub(super) async fn visitor_ops_in_one_batch_see_earlier_ops(store: Arc<dyn Store>) {
    let sid = SubjectId::random();
    let (v, w) = (visitor(31), visitor(32));
    let last = choice(v, 7, &[CookieCategory::Analytics], false);
    let w_first = choice(w, 2, &[], false);
    let ops = vec![
        record(choice(v, 1, &[], false)),
        create_op(new_subject(sid, &[])),
        link(v, sid),
        // `w` has no records yet: nothing to link, and its first record is not linked.
        link(w, sid),
        record(w_first.clone()),
        record(choice(v, 2, &[], false)),
        link(v, SubjectId::random()),
        op(
            Change::Subject(SubjectChange::Erase { id: sid, at: at(3) }),
            vec![admin_draft(AdminEvent::KeyRotation)],
        ),
        record(last.clone()),
        link(v, sid),
    ];
    use OpOutcome::*;
    assert_eq!(
        write(&store, ops).await,
        [Done, Done, Done, Done, Done, Done, NotFound, Done, Done, Erased]
    );
    assert_eq!(consents(&store, v).await, unlinked(&[last]));
    assert_eq!(consents(&store, w).await, unlinked(&[w_first]));
    assert_eq!(journal_len(&store).await, 8);
    assert_valid_chain(&store, &all_entries(&store).await).await;
}
