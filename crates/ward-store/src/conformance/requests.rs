//! Conformance: data-subject requests are filed for an active subject, updated whole from the
//! state they were decided from (a stale step is `Conflict`), read by id and by subject, and
//! listed by filter: "overdue as of D" and "due within" are ranges of `open_due`, paged in
//! due order without repeats or gaps.

use super::*;
use crate::{RequestChange, RequestCursor, RequestFilter, RequestRecord};
use time::macros::date;
use time::Date;
use ward_core::deadline::Regime;
use ward_core::request::{Channel, RequestKind, RequestState};
use ward_core::RequestId;

fn request(sid: SubjectId, kind: RequestKind, due: Date, when: OffsetDateTime) -> RequestRecord {
    RequestRecord {
        id: RequestId::random(),
        subject: sid,
        kind,
        state: RequestState::Received,
        channel: Channel::Officer,
        regimes: vec![Regime::Ru, Regime::Eu],
        received_at: when,
        due_on: due,
        extended_due_on: None,
        extendable_to: Some(due + Duration::days(7)),
        extension: None,
        open_due: Some(due),
        paused_at: None,
        paused_secs: 0,
        refusal: None,
        outcome: None,
        verification: None,
        duplicate_of: None,
        repeat_of: None,
        download: None,
        filed_by: "cli".to_owned(),
        sealed: Some(vec![1, 2, 3]),
        updated_at: when,
    }
}

fn change(c: RequestChange) -> WriteOp {
    op(Change::Request(c), vec![draft(AdminEvent::SubjectRequestFiled, None)])
}

fn file(r: &RequestRecord) -> WriteOp {
    change(RequestChange::File(Box::new(r.clone())))
}

fn update(from: RequestState, to: &RequestRecord) -> WriteOp {
    change(RequestChange::Update {
        from,
        to: Box::new(to.clone()),
    })
}

pub(super) async fn requests_are_filed_for_active_subjects_and_updated_from_their_state(store: Arc<dyn Store>) {
    let sid = id(1);
    let r = request(sid, RequestKind::Access, date!(2026 - 03 - 13), at(1));
    assert_eq!(write_one(&store, file(&r)).await, OpOutcome::NotFound);
    create(&store, new_subject(sid, &[])).await;
    assert_eq!(write(&store, vec![file(&r), file(&r)]).await, [OpOutcome::Done, OpOutcome::AlreadyExists]);
    assert_eq!(ok(store.find_request(r.id).await, "find_request"), Some(r.clone()));
    assert_eq!(ok(store.find_request(RequestId::random()).await, "find_request"), None);

    // Two steps decided from `received`: the first wins, the second is stale.
    let mut verifying = r.clone();
    verifying.state = RequestState::Verifying;
    verifying.verification = Some("b0b0".to_owned());
    let mut refused = r.clone();
    refused.state = RequestState::Refused;
    refused.refusal = Some(ward_core::request::RefusalReason::NoMatch);
    refused.open_due = None;
    let out = write(
        &store,
        vec![update(RequestState::Received, &verifying), update(RequestState::Received, &refused)],
    )
    .await;
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Conflict]);
    assert_eq!(ok(store.find_request(r.id).await, "find_request"), Some(verifying.clone()));
    let mut unknown = r.clone();
    unknown.id = RequestId::random();
    assert_eq!(write_one(&store, update(RequestState::Received, &unknown)).await, OpOutcome::NotFound);

    // Every column round-trips, NULLs too.
    let mut done = verifying.clone();
    done.state = RequestState::Completed;
    done.open_due = None;
    done.extended_due_on = Some(date!(2026 - 03 - 20));
    done.extension = Some(ward_core::request::ExtensionReason::Complexity);
    done.paused_secs = 3600;
    done.outcome = Some("erased".to_owned());
    done.download = Some(ward_core::DownloadId::random());
    done.repeat_of = Some(RequestId::random());
    done.duplicate_of = Some(RequestId::random());
    done.sealed = None;
    done.updated_at = at(5);
    assert_eq!(write_one(&store, update(RequestState::Verifying, &done)).await, OpOutcome::Done);
    assert_eq!(ok(store.find_request(r.id).await, "find_request"), Some(done.clone()));

    // An erased subject's requests stay (ids and enums) and take updates; no new one is filed.
    let second = request(sid, RequestKind::Erasure, date!(2026 - 03 - 10), at(2));
    assert_eq!(write_one(&store, file(&second)).await, OpOutcome::Done);
    assert_eq!(erase(&store, sid, at(6)).await, OpOutcome::Done);
    let mut completed = second.clone();
    completed.state = RequestState::Completed;
    completed.open_due = None;
    assert_eq!(write_one(&store, update(RequestState::Received, &completed)).await, OpOutcome::Done);
    let of = ok(store.find_requests_of_subject(sid).await, "find_requests_of_subject");
    assert_eq!(of, [done, completed]);
    let third = request(sid, RequestKind::Access, date!(2026 - 03 - 10), at(7));
    assert_eq!(write_one(&store, file(&third)).await, OpOutcome::Erased);
}

pub(super) async fn requests_list_by_filter_and_due_range_in_pages(store: Arc<dyn Store>) {
    let (a, b) = (id(1), id(2));
    create(&store, new_subject(a, &[])).await;
    create(&store, new_subject(b, &[])).await;
    let mut all = Vec::new();
    for k in 0..12u8 {
        let sid = if k % 2 == 0 { a } else { b };
        let kind = if k % 3 == 0 { RequestKind::Erasure } else { RequestKind::Access };
        let mut r = request(sid, kind, date!(2026 - 03 - 01) + Duration::days(i64::from(k)), at(i64::from(k)));
        if k == 11 {
            // Closed: no open due date, never overdue.
            r.state = RequestState::Completed;
            r.open_due = None;
        }
        assert_eq!(write_one(&store, file(&r)).await, OpOutcome::Done);
        all.push(r);
    }
    let ids = |v: &[RequestRecord]| v.iter().map(|r| r.id).collect::<Vec<_>>();
    let list = |f: RequestFilter, after, limit| {
        let store = store.clone();
        async move { ok(store.list_requests(&f, after, limit).await, "list_requests") }
    };
    // Everything, in receipt order.
    assert_eq!(ids(&list(RequestFilter::default(), None, 100).await), ids(&all));
    // Overdue as of 2026-03-06: due on the 1st to the 5th, open.
    let overdue = RequestFilter {
        due: Some((None, date!(2026 - 03 - 05))),
        ..Default::default()
    };
    assert_eq!(ids(&list(overdue.clone(), None, 100).await), ids(&all[..5]));
    // Due within two days of the 10th: the 10th to the 12th, the 12th's (k = 11) closed.
    let within = RequestFilter {
        due: Some((Some(date!(2026 - 03 - 10)), date!(2026 - 03 - 12))),
        ..Default::default()
    };
    assert_eq!(ids(&list(within, None, 100).await), ids(&all[9..11]));
    // Filters combine.
    let f = RequestFilter {
        subject: Some(a),
        kind: Some(RequestKind::Erasure),
        ..Default::default()
    };
    let expected: Vec<_> = all.iter().filter(|r| r.subject == a && r.kind == RequestKind::Erasure).cloned().collect();
    assert_eq!(ids(&list(f, None, 100).await), ids(&expected));
    let f = RequestFilter {
        state: Some(RequestState::Completed),
        filed_by: Some("cli".to_owned()),
        ..Default::default()
    };
    assert_eq!(ids(&list(f, None, 100).await), ids(&all[11..]));
    // Pages in due order and in receipt order: neither repeat nor skip.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = list(overdue.clone(), after, 2).await;
        let Some(last) = page.last() else { break };
        after = Some(RequestCursor::Due(last.open_due.expect("open"), last.id));
        seen.extend(ids(&page));
    }
    assert_eq!(seen, ids(&all[..5]));
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = list(RequestFilter::default(), after, 5).await;
        let Some(last) = page.last() else { break };
        after = Some(RequestCursor::Received(last.received_at, last.id));
        seen.extend(ids(&page));
    }
    assert_eq!(seen, ids(&all));
}
