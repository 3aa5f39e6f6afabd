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
