//! Conformance: Policy versions: recorded once each.

use super::*;

/// A policy version is recorded once; recording it again writes no entry.
pub(super) async fn policy_versions_are_recorded_once(store: Arc<dyn Store>) {
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

/// A version moves to another effective time only from the time the vault read (a
/// compare-and-set): a stale `from` is a `Conflict` and changes nothing, an unknown hash is
/// `NotFound`; the move is journaled with it.
pub(super) async fn a_policy_version_is_rescheduled_from_its_time(store: Arc<dyn Store>) {
    let v = policy("cc33", "1", at(0));
    assert_eq!(write_one(&store, record_policy(v.clone())).await, OpOutcome::Done);
    let reschedule = |hash: &str, from, to| {
        op(
            Change::Policy(PolicyVersionChange::Reschedule {
                hash: hash.to_owned(),
                from,
                to,
            }),
            vec![admin_draft(AdminEvent::PolicyRescheduled)],
        )
    };
    let to = v.effective_at + time::Duration::days(30);
    assert_eq!(write_one(&store, reschedule("cc33", v.effective_at, to)).await, OpOutcome::Done);
    let stale = reschedule("cc33", v.effective_at, to + time::Duration::days(1));
    assert_eq!(write_one(&store, stale).await, OpOutcome::Conflict);
    let unknown = reschedule("dd44", v.effective_at, to);
    assert_eq!(write_one(&store, unknown).await, OpOutcome::NotFound);
    let moved = PolicyVersionRecord {
        effective_at: to,
        ..v
    };
    assert_eq!(ok(store.find_policy_versions().await, "find_policy_versions"), [moved]);
    assert_eq!(journal_len(&store).await, 2, "the record and the one move");
}
