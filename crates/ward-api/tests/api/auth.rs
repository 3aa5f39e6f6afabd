use crate::support::{anna_body, both_backends, Server};
use reqwest::Method;

both_backends!(health_needs_no_key);
async fn health_needs_no_key(s: Server) {
    let r = s.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.json_with(200)["status"], "ok");
}

both_backends!(every_v1_route_needs_a_valid_bearer_token);
async fn every_v1_route_needs_a_valid_bearer_token(s: Server) {
    let id = s.anna().await;
    let routes = [
        (Method::POST, "/v1/subjects".to_owned()),
        (Method::GET, format!("/v1/subjects/{id}?purpose=registration")),
        (Method::POST, "/v1/subjects/lookup".to_owned()),
        (Method::PATCH, format!("/v1/subjects/{id}?purpose=registration")),
        (Method::DELETE, format!("/v1/subjects/{id}")),
        (Method::GET, format!("/v1/subjects/{id}/consents")),
        (Method::POST, format!("/v1/subjects/{id}/consents")),
        (Method::DELETE, format!("/v1/subjects/{id}/consents/marketing")),
        (Method::GET, "/v1/policy".to_owned()),
        (Method::GET, "/v1/keys".to_owned()),
        (Method::POST, "/v1/keys".to_owned()),
        (Method::DELETE, "/v1/keys/abc".to_owned()),
        (Method::GET, "/v1/journal/verify".to_owned()),
        (Method::POST, "/v1/journal/checkpoints".to_owned()),
    ];
    let well_formed_but_unknown = format!("ward_nosuchkey_{}", "A".repeat(43));
    let admin_with_wrong_secret = {
        let (prefix, _) = s.admin.rsplit_once('_').unwrap();
        format!("{prefix}_{}", "B".repeat(43))
    };
    for (method, path) in &routes {
        // Authentication comes before the body is read: a valid body changes nothing.
        let body = Some(anna_body());
        let r = s.call(method.clone(), path, None, body.clone()).await;
        s.problem(&r, 401, "unauthorized");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"ward\""),
            "{method} {path}"
        );
        for token in [
            "",
            "not-a-token",
            well_formed_but_unknown.as_str(),
            admin_with_wrong_secret.as_str(),
        ] {
            let r = s.call(method.clone(), path, Some(token), body.clone()).await;
            s.problem(&r, 401, "unauthorized");
            assert!(r.header("www-authenticate").is_some());
        }
        let r = s
            .call_raw(method.clone(), path, None, Some("application/json"), "{}")
            .await;
        s.problem(&r, 401, "unauthorized");
    }
    // Other schemes are not bearer tokens, even with a valid token.
    let r = s
        .client
        .get(format!("{}/v1/policy", s.base))
        .header("authorization", format!("Basic {}", s.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Nothing was erased by the unauthenticated DELETE.
    let r = s
        .get(&format!("/v1/subjects/{id}?purpose=registration"), &s.admin)
        .await;
    assert_eq!(r.status, 200);
}
