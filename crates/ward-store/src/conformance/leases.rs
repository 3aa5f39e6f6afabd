//! Conformance: leases on background jobs (`LeaseStore`). Times are the caller's; a lease is
//! free at its `expires_at` and after.

use super::{ok, T0};
use crate::{Lease, LeaseGrant, Store};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

const JOB: &str = "journal-checkpoint";
const A: &str = "host-a/101/7f1c";
const B: &str = "host-b/202/9e2d";

fn secs(s: i64) -> OffsetDateTime {
    T0 + Duration::seconds(s)
}

async fn acquire(store: &Arc<dyn Store>, name: &str, holder: &str, now: i64, until: i64) -> LeaseGrant {
    ok(
        store.acquire_lease(name, holder, secs(now), secs(until)).await,
        "acquire_lease",
    )
}

async fn find(store: &Arc<dyn Store>, name: &str) -> Option<Lease> {
    ok(store.find_lease(name).await, "find_lease")
}

fn lease(holder: &str, acquired: i64, expires: i64) -> Lease {
    Lease {
        name: JOB.to_owned(),
        holder: holder.to_owned(),
        acquired_at: secs(acquired),
        expires_at: secs(expires),
    }
}

/// A free lease is taken; while it is held, another holder is refused and told who holds it.
/// Leases are not journaled.
pub(super) async fn lease_is_exclusive_while_held(store: Arc<dyn Store>) {
    assert_eq!(find(&store, JOB).await, None);
    assert_eq!(
        acquire(&store, JOB, A, 0, 60).await,
        LeaseGrant::Acquired(lease(A, 0, 60))
    );
    assert_eq!(find(&store, JOB).await, Some(lease(A, 0, 60)));
    for now in [0, 1, 59] {
        assert_eq!(
            acquire(&store, JOB, B, now, now + 60).await,
            LeaseGrant::Held(Some(lease(A, 0, 60))),
            "B at {now}s"
        );
    }
    assert_eq!(find(&store, JOB).await, Some(lease(A, 0, 60)));
    // Another job's lease is another lease.
    assert!(acquire(&store, "other-job", B, 10, 70).await.is_acquired());
    assert_eq!(find(&store, JOB).await, Some(lease(A, 0, 60)));
    assert_eq!(ok(store.find_journal_head().await, "find_journal_head"), None);
}

/// The holder renews its lease (before or after it expired, if nobody took it meanwhile);
/// a renewal keeps `acquired_at`.
pub(super) async fn lease_is_renewed_by_its_holder(store: Arc<dyn Store>) {
    assert!(acquire(&store, JOB, A, 0, 60).await.is_acquired());
    assert_eq!(
        acquire(&store, JOB, A, 30, 90).await,
        LeaseGrant::Acquired(lease(A, 0, 90))
    );
    assert_eq!(
        acquire(&store, JOB, B, 89, 149).await,
        LeaseGrant::Held(Some(lease(A, 0, 90)))
    );
    // Expired but not taken over: still the holder's to renew.
    assert_eq!(
        acquire(&store, JOB, A, 100, 160).await,
        LeaseGrant::Acquired(lease(A, 0, 160))
    );
    assert_eq!(find(&store, JOB).await, Some(lease(A, 0, 160)));
}

/// An expired lease is taken over by another holder at its `expires_at`, not a microsecond
/// before; the old holder is then refused.
pub(super) async fn expired_lease_is_taken_over(store: Arc<dyn Store>) {
    assert!(acquire(&store, JOB, A, 0, 60).await.is_acquired());
    let just_before = secs(60) - Duration::microseconds(1);
    assert_eq!(
        ok(
            store.acquire_lease(JOB, B, just_before, secs(120)).await,
            "acquire_lease"
        ),
        LeaseGrant::Held(Some(lease(A, 0, 60)))
    );
    assert_eq!(
        acquire(&store, JOB, B, 60, 120).await,
        LeaseGrant::Acquired(lease(B, 60, 120))
    );
    assert_eq!(
        acquire(&store, JOB, A, 61, 121).await,
        LeaseGrant::Held(Some(lease(B, 60, 120)))
    );
    assert_eq!(find(&store, JOB).await, Some(lease(B, 60, 120)));
}

/// Releasing frees the lease at once; only its holder can release it.
pub(super) async fn released_lease_is_free(store: Arc<dyn Store>) {
    assert!(!ok(store.release_lease(JOB, A).await, "release_lease"));
    assert!(acquire(&store, JOB, A, 0, 60).await.is_acquired());
    assert!(!ok(store.release_lease(JOB, B).await, "release_lease"));
    assert_eq!(find(&store, JOB).await, Some(lease(A, 0, 60)));
    assert!(ok(store.release_lease(JOB, A).await, "release_lease"));
    assert_eq!(find(&store, JOB).await, None);
    assert_eq!(
        acquire(&store, JOB, B, 1, 61).await,
        LeaseGrant::Acquired(lease(B, 1, 61))
    );
    assert!(!ok(store.release_lease(JOB, A).await, "release_lease"));
    assert_eq!(find(&store, JOB).await, Some(lease(B, 1, 61)));
}

/// Of many holders trying at once for a free lease, exactly one gets it.
pub(super) async fn concurrent_acquirers_get_one_lease(store: Arc<dyn Store>) {
    let holders: Vec<String> = (0..8).map(|i| format!("host/{i}/x")).collect();
    let tries = holders.iter().map(|h| {
        let store = store.clone();
        let h = h.clone();
        async move { store.acquire_lease(JOB, &h, secs(0), secs(60)).await }
    });
    let grants: Vec<LeaseGrant> = futures::future::join_all(tries)
        .await
        .into_iter()
        .map(|g| ok(g, "acquire_lease"))
        .collect();
    let winners: Vec<&Lease> = grants
        .iter()
        .filter_map(|g| match g {
            LeaseGrant::Acquired(l) => Some(l),
            LeaseGrant::Held(_) => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "{grants:?}");
    let winner = winners[0].clone();
    for g in &grants {
        if let LeaseGrant::Held(held) = g {
            assert_eq!(held.as_ref(), Some(&winner));
        }
    }
    assert_eq!(find(&store, JOB).await, Some(winner));
}
