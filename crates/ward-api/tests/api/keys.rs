use crate::support::{both_backends, Server};
use reqwest::Method;
use serde_json::json;

both_backends!(an_admin_creates_lists_and_revokes_keys);
async fn an_admin_creates_lists_and_revokes_keys(s: Server) {
    let r = s
        .post(
            "/v1/keys",
            &s.admin,
            json!({"name": "shop backend", "role": "service", "purposes": ["registration", "marketing"]}),
        )
        .await;
    let created = r.json_with(201);
    let id = created["id"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with(&format!("ward_{id}_")));
    assert_eq!(created["name"], "shop backend");
    assert_eq!(created["role"], "service");
    assert_eq!(created["purposes"], json!(["marketing", "registration"]));
    assert_eq!(created["created_at"], "2026-03-01T09:00:00Z");

    let r = s.get("/v1/keys", &s.admin).await;
    let list = r.json_with(200);
    let keys = list["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let listed = keys.iter().find(|k| k["id"] == id.as_str()).unwrap();
    assert_eq!(listed["revoked_at"], serde_json::Value::Null);
    assert!(listed.get("token").is_none());
    assert!(!r.text.contains(&token));

    // The new key works for its purposes.
    let r = s.get("/v1/policy", &token).await;
    assert_eq!(r.status, 200);

    let r = s.delete(&format!("/v1/keys/{id}"), &s.admin).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s.get("/v1/keys", &s.admin).await;
    let list = r.json_with(200);
    let listed = list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(listed["revoked_at"].is_string());

    // Revocation takes effect at once.
    let r = s.get("/v1/policy", &token).await;
    s.problem(&r, 401, "unauthorized");
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));

    let r = s.delete(&format!("/v1/keys/{id}"), &s.admin).await;
    s.problem(&r, 409, "conflict");
    let r = s.delete("/v1/keys/nosuchkey", &s.admin).await;
    s.problem(&r, 404, "api_key_not_found");
    let r = s.delete("/v1/keys/NOT%20A%20KEY", &s.admin).await;
    s.problem(&r, 404, "api_key_not_found");
}

both_backends!(an_admin_key_can_make_another_admin_key);
async fn an_admin_key_can_make_another_admin_key(s: Server) {
    let r = s
        .post("/v1/keys", &s.admin, json!({"name": "second admin", "role": "admin"}))
        .await;
    let token = r.json_with(201)["token"].as_str().unwrap().to_owned();
    let r = s.get("/v1/keys", &token).await;
    assert_eq!(r.json_with(200)["keys"].as_array().unwrap().len(), 2);
}

both_backends!(key_requests_are_checked);
async fn key_requests_are_checked(s: Server) {
    let r = s
        .post(
            "/v1/keys",
            &s.admin,
            json!({"name": "svc", "role": "service", "purposes": []}),
        )
        .await;
    s.problem(&r, 422, "purposes_required");
    let r = s
        .post(
            "/v1/keys",
            &s.admin,
            json!({"name": "adm", "role": "admin", "purposes": ["marketing"]}),
        )
        .await;
    s.problem(&r, 422, "purposes_not_applicable");
    let r = s
        .post(
            "/v1/keys",
            &s.admin,
            json!({"name": "svc", "role": "service", "purposes": ["selling"]}),
        )
        .await;
    s.problem(&r, 400, "unknown_purpose");
    let r = s
        .post(
            "/v1/keys",
            &s.admin,
            json!({"name": "  ", "role": "service", "purposes": ["marketing"]}),
        )
        .await;
    s.problem(&r, 422, "invalid_key_name");
    let r = s
        .post("/v1/keys", &s.admin, json!({"name": "svc", "role": "root"}))
        .await;
    let p = s.problem(&r, 400, "invalid_json");
    assert!(p["detail"].as_str().unwrap().contains("`admin`"), "{p}");
    let r = s.post("/v1/keys", &s.admin, json!({"name": "svc"})).await;
    let p = s.problem(&r, 400, "invalid_json");
    assert!(p["detail"].as_str().unwrap().contains("`role`"), "{p}");
}

both_backends!(a_service_key_stays_within_its_purposes);
async fn a_service_key_stays_within_its_purposes(s: Server) {
    let id = s.anna().await;
    let registrar = s.service_key(&["registration"]).await;
    let r = s
        .get(&format!("/v1/subjects/{id}?purpose=registration"), &registrar)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let r = s.get(&format!("/v1/subjects/{id}?purpose=marketing"), &registrar).await;
    s.problem(&r, 403, "purpose_not_allowed_for_key");
    let r = s
        .post(
            "/v1/subjects/lookup",
            &registrar,
            json!({"field": "email", "value": "anna.petrova@example.ru", "purpose": "payment"}),
        )
        .await;
    s.problem(&r, 403, "purpose_not_allowed_for_key");
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=payment"),
            &registrar,
            json!({"fields": {"billing_address": "Moscow"}}),
        )
        .await;
    s.problem(&r, 403, "purpose_not_allowed_for_key");
    let r = s
        .post(
            &format!("/v1/subjects/{id}/consents"),
            &registrar,
            json!({"purpose": "analytics", "evidence": {"channel": "api"}}),
        )
        .await;
    s.problem(&r, 403, "purpose_not_allowed_for_key");
    // Consents given at collection are purposes the key uses too.
    let r = s.post("/v1/subjects", &registrar, crate::support::anna_body()).await;
    s.problem(&r, 403, "purpose_not_allowed_for_key");
}

both_backends!(a_service_key_cannot_use_admin_routes);
async fn a_service_key_cannot_use_admin_routes(s: Server) {
    let svc = s.service_key(&["registration"]).await;
    let calls = [
        (Method::GET, "/v1/keys", None),
        (Method::POST, "/v1/keys", Some(json!({"name": "mine", "role": "admin"}))),
        (Method::DELETE, "/v1/keys/abc", None),
        (Method::GET, "/v1/journal/verify", None),
        (Method::POST, "/v1/journal/checkpoints", None),
    ];
    for (method, path, body) in calls {
        let r = s.call(method, path, Some(&svc), body).await;
        s.problem(&r, 403, "forbidden");
    }
}
