//! Conformance: the registers' scans: subjects with their facts (no sealed evidence; the
//! sealed field map, whose names tell what is held) in id pages,
//! and journal entries by filter in `seq` pages, neither repeating nor skipping under writes.

use super::{admin_draft, at, consent, create, draft, erase, id, new_subject, ok, op, write, write_one};
use crate::{
    BasisChange, BasisEventRecord, Change, ConsentChange, JournalEntry, JournalFilter, OpOutcome, Store,
    SubjectEventChange, SubjectEventRecord, SubjectFacts,
};
use std::sync::Arc;
use ward_core::access::SubjectState;
use ward_core::action::ProcessingAction;
use ward_core::basis::BasisEventKind;
use ward_core::consent::ConsentEventKind;
use ward_core::journal::AdminEvent;
use ward_core::lifecycle::SubjectEventKind;
use ward_core::SubjectId;

async fn facts_page(store: &Arc<dyn Store>, after: Option<SubjectId>, limit: u32) -> Vec<SubjectFacts> {
    ok(store.scan_subject_facts(after, limit).await, "scan_subject_facts")
}

/// Every subject's facts, read in pages of `limit`.
async fn all_facts(store: &Arc<dyn Store>, limit: u32) -> Vec<SubjectFacts> {
    let mut out: Vec<SubjectFacts> = Vec::new();
    loop {
        let page = facts_page(store, out.last().map(|f| f.id), limit).await;
        assert!(page.len() <= limit as usize, "more than the limit");
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// Subjects come in id order with their state and every event, oldest first, each without
/// its sealed evidence; erased subjects too; pages continue after the id given.
pub(super) async fn subject_facts_page_in_id_order_without_evidence(store: Arc<dyn Store>) {
    assert!(facts_page(&store, None, 10).await.is_empty());
    let (a, b, c) = (id(3), id(1), id(2));
    for s in [a, b, c] {
        let mut new = new_subject(s, &[]);
        new.consents = vec![consent("marketing", ConsentEventKind::Given, at(0), Some(&[7; 20]))];
        create(&store, new).await;
    }
    let withdrawn = consent("marketing", ConsentEventKind::Withdrawn, at(2), None);
    let basis = BasisEventRecord {
        purpose: "accounting".into(),
        kind: BasisEventKind::Established,
        at: at(3),
        start: at(-5),
        policy_version: "2026-01".into(),
        evidence: Some(vec![5; 12]),
    };
    let accepted = SubjectEventRecord {
        kind: SubjectEventKind::PolicyAccepted,
        at: at(4),
        policy_version: Some("v2".into()),
        evidence: Some(vec![1; 9]),
    };
    let out = write(
        &store,
        vec![
            op(
                Change::Consent(ConsentChange::Add {
                    id: b,
                    events: vec![withdrawn.clone()],
                }),
                vec![admin_draft(AdminEvent::ConsentWithdrawn).subject(b)],
            ),
            op(
                Change::Basis(BasisChange::Add {
                    id: b,
                    events: vec![basis.clone()],
                }),
                vec![admin_draft(AdminEvent::BasisEstablished).subject(b)],
            ),
            op(
                Change::SubjectEvent(SubjectEventChange::Add {
                    id: b,
                    events: vec![accepted.clone()],
                }),
                vec![admin_draft(AdminEvent::PolicyAccepted).subject(b)],
            ),
        ],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done; 3]);
    assert_eq!(erase(&store, c, at(9)).await, OpOutcome::Done);

    let all = all_facts(&store, 2).await;
    assert_eq!(all.iter().map(|f| f.id).collect::<Vec<_>>(), [b, c, a]);
    let fb = &all[0];
    assert_eq!(fb.state, SubjectState::Active);
    assert_eq!(fb.created_at, super::T0);
    assert_eq!(fb.erased_at, None);
    // The sealed field map as written, and none once erased.
    assert_eq!(fb.fields.as_deref(), Some(&[0, 1, 2, 255, b.as_bytes()[0]][..]));
    let given = consent("marketing", ConsentEventKind::Given, at(0), None);
    assert_eq!(fb.consents, [given.clone(), withdrawn]);
    assert_eq!(
        fb.bases,
        [BasisEventRecord {
            evidence: None,
            ..basis
        }]
    );
    assert_eq!(
        fb.events,
        [SubjectEventRecord {
            evidence: None,
            ..accepted
        }]
    );
    assert_eq!(all[1].state, SubjectState::Erased);
    assert_eq!(all[1].erased_at, Some(at(9)));
    assert_eq!(all[1].fields, None);
    assert_eq!(all[1].consents, std::slice::from_ref(&given));
    assert_eq!(all[2].consents, [given]);
    assert!(all[2].bases.is_empty() && all[2].events.is_empty());

    assert_eq!(facts_page(&store, Some(b), 1).await[0].id, c);
    assert_eq!(facts_page(&store, Some(id(2)), 10).await.len(), 1);
    assert!(facts_page(&store, Some(a), 10).await.is_empty());
    assert!(facts_page(&store, None, 0).await.is_empty());
}

/// Subjects registered between pages land before or after the cursor; those that were there
/// before the first page are each read exactly once.
pub(super) async fn subject_facts_pages_neither_repeat_nor_skip_under_inserts(store: Arc<dyn Store>) {
    let before: Vec<SubjectId> = (0..30).map(|_| SubjectId::random()).collect();
    for s in &before {
        create(&store, new_subject(*s, &[])).await;
    }
    let mut seen: Vec<SubjectId> = Vec::new();
    loop {
        let page = facts_page(&store, seen.last().copied(), 4).await;
        if page.is_empty() {
            break;
        }
        seen.extend(page.iter().map(|f| f.id));
        create(&store, new_subject(SubjectId::random(), &[])).await;
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "pages are in id order and never repeat");
    for s in &before {
        assert!(seen.contains(s), "a subject there before the first page was skipped");
    }
}

async fn journal_page(store: &Arc<dyn Store>, f: &JournalFilter, after: i64, limit: u32) -> Vec<JournalEntry> {
    ok(store.find_journal_page(f, after, limit).await, "find_journal_page")
}

/// Each filter keeps exactly the entries it names, the filters combine, and pages continue
/// after the position given.
pub(super) async fn journal_page_filters(store: Arc<dyn Store>) {
    let (a, b) = (id(1), id(2));
    let mut drafts = Vec::new();
    for i in 0..12 {
        let subject = if i % 2 == 0 { a } else { b };
        let mut d = draft(ProcessingAction::Retrieval, Some(subject)).purpose(if i % 3 == 0 {
            "marketing"
        } else {
            "accounting"
        });
        d.at = at(i);
        if i % 4 == 0 {
            d.actor = "cli".into();
        }
        drafts.push(d);
    }
    let mut key_event = admin_draft(AdminEvent::ApiKeyCreated);
    key_event.at = at(20);
    drafts.push(key_event);
    assert_eq!(write_one(&store, op(Change::JournalOnly, drafts)).await, OpOutcome::Done);
    let seqs = |v: Vec<JournalEntry>| v.into_iter().map(|e| e.seq).collect::<Vec<_>>();
    let all = JournalFilter::default();
    assert_eq!(seqs(journal_page(&store, &all, 0, 100).await), (1..=13).collect::<Vec<_>>());
    assert_eq!(seqs(journal_page(&store, &all, 11, 100).await), [12, 13]);
    let by_a = JournalFilter {
        subject: Some(a),
        ..JournalFilter::default()
    };
    assert_eq!(seqs(journal_page(&store, &by_a, 0, 100).await), [1, 3, 5, 7, 9, 11]);
    assert_eq!(seqs(journal_page(&store, &by_a, 3, 2).await), [5, 7]);
    let by_a_upto_6 = JournalFilter {
        upto_seq: Some(6),
        ..by_a.clone()
    };
    assert_eq!(seqs(journal_page(&store, &by_a_upto_6, 0, 100).await), [1, 3, 5]);
    assert_eq!(seqs(journal_page(&store, &by_a_upto_6, 5, 100).await), Vec::<i64>::new());
    let by_cli = JournalFilter {
        actor: Some("cli".into()),
        ..JournalFilter::default()
    };
    assert_eq!(seqs(journal_page(&store, &by_cli, 0, 100).await), [1, 5, 9]);
    let by_action = JournalFilter {
        action: Some("api_key.created".into()),
        ..JournalFilter::default()
    };
    assert_eq!(seqs(journal_page(&store, &by_action, 0, 100).await), [13]);
    let marketing_of_b_in_time = JournalFilter {
        subject: Some(b),
        purpose: Some("marketing".into()),
        from: Some(at(3)),
        to: Some(at(9)),
        ..JournalFilter::default()
    };
    // i = 3 (seq 4) is at(3), kept (from is inclusive); i = 9 (seq 10) is at(9), left out.
    assert_eq!(seqs(journal_page(&store, &marketing_of_b_in_time, 0, 100).await), [4]);
    let nobody = JournalFilter {
        subject: Some(id(9)),
        ..JournalFilter::default()
    };
    assert!(journal_page(&store, &nobody, 0, 100).await.is_empty());
    let entries = journal_page(&store, &by_a, 0, 1).await;
    assert_eq!(entries[0].purpose.as_deref(), Some("marketing"));
    assert_eq!(entries[0].actor, "cli");
    assert_eq!(entries[0].at, at(0));
}
