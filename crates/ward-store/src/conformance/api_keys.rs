//! Conformance: API keys: created once, listed in id order, revoked once.

use super::*;

/// API keys are created once, listed in id order, and revoked once.
pub(super) async fn api_keys_lifecycle(store: Arc<dyn Store>) {
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
