use crate::support::{anna_body, assert_no_secret, assert_problem_shape, both_backends, Server, SECRET, SECRET_NUMBER};
use reqwest::Method;
use serde_json::json;
use ward_api::ApiConfig;

both_backends!(malformed_json_is_400_invalid_json_with_a_position);
async fn malformed_json_is_400_invalid_json_with_a_position(s: Server) {
    let r = s
        .call_raw(
            Method::POST,
            "/v1/subjects",
            Some(&s.admin),
            Some("application/json"),
            "{\"purpose\": \"registration\",,}",
        )
        .await;
    let p = s.problem(&r, 400, "invalid_json");
    assert!(p["detail"].as_str().unwrap().contains("line 1, column"), "{p}");
    let r = s
        .call_raw(
            Method::POST,
            "/v1/subjects",
            Some(&s.admin),
            Some("application/json"),
            "",
        )
        .await;
    s.problem(&r, 400, "invalid_json");
    let r = s
        .call_raw(
            Method::POST,
            "/v1/subjects",
            Some(&s.admin),
            Some("application/json"),
            "{\"purpose\": \"regis",
        )
        .await;
    s.problem(&r, 400, "invalid_json");
    let deep = format!(
        "{{\"purpose\": \"registration\", \"fields\": {{\"email\": {}",
        "[".repeat(10_000)
    );
    let r = s
        .call_raw(
            Method::POST,
            "/v1/subjects",
            Some(&s.admin),
            Some("application/json"),
            deep,
        )
        .await;
    s.problem(&r, 400, "invalid_json");
}

both_backends!(an_unknown_field_in_a_body_is_named);
async fn an_unknown_field_in_a_body_is_named(s: Server) {
    let mut body = anna_body();
    body["colour"] = json!("red");
    let r = s.post("/v1/subjects", &s.admin, body).await;
    let p = s.problem(&r, 400, "unknown_field_in_body");
    assert!(p["detail"].as_str().unwrap().contains("`colour`"), "{p}");

    let mut body = anna_body();
    body["evidence"]["stamp"] = json!("x");
    let r = s.post("/v1/subjects", &s.admin, body).await;
    let p = s.problem(&r, 400, "unknown_field_in_body");
    assert!(p["detail"].as_str().unwrap().contains("`stamp`"), "{p}");

    let r = s
        .post(
            "/v1/subjects/lookup",
            &s.admin,
            json!({"field": "email", "value": "a@b.ru", "purpose": "registration", "limit": 5}),
        )
        .await;
    s.problem(&r, 400, "unknown_field_in_body");
    let r = s
        .post(
            "/v1/keys",
            &s.admin,
            json!({"name": "k", "role": "admin", "admin": true}),
        )
        .await;
    s.problem(&r, 400, "unknown_field_in_body");
    let id = s.anna().await;
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=registration"),
            &s.admin,
            json!({"fields": {}, "reason": "typo"}),
        )
        .await;
    s.problem(&r, 400, "unknown_field_in_body");
    let r = s
        .post(
            &format!("/v1/subjects/{id}/consents"),
            &s.admin,
            json!({"purpose": "analytics", "evidence": {"channel": "api"}, "at": "now"}),
        )
        .await;
    s.problem(&r, 400, "unknown_field_in_body");
}

both_backends!(a_body_of_the_wrong_shape_is_400_invalid_json);
async fn a_body_of_the_wrong_shape_is_400_invalid_json(s: Server) {
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "registration", "fields": ["email"], "evidence": {"channel": "api"}}),
        )
        .await;
    s.problem(&r, 400, "invalid_json");
    let r = s.post("/v1/subjects", &s.admin, json!({"fields": {}})).await;
    let p = s.problem(&r, 400, "invalid_json");
    assert!(p["detail"].as_str().unwrap().contains("`purpose`"), "{p}");
    // Consents without evidence of how they were given are refused.
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "registration", "fields": {"email": "a@example.org"}, "consents": ["marketing"]}),
        )
        .await;
    s.problem(&r, 422, "invalid_evidence");
    let r = s.post("/v1/subjects", &s.admin, json!([1, 2, 3])).await;
    s.problem(&r, 400, "invalid_json");
}

both_backends!(a_body_must_be_json);
async fn a_body_must_be_json(s: Server) {
    let body = anna_body().to_string();
    let r = s
        .call_raw(
            Method::POST,
            "/v1/subjects",
            Some(&s.admin),
            Some("text/plain"),
            body.clone(),
        )
        .await;
    s.problem(&r, 415, "unsupported_media_type");
    let r = s
        .call_raw(Method::POST, "/v1/subjects", Some(&s.admin), None, body.clone())
        .await;
    s.problem(&r, 415, "unsupported_media_type");
    let r = s
        .call_raw(
            Method::POST,
            "/v1/subjects",
            Some(&s.admin),
            Some("application/x-www-form-urlencoded"),
            "purpose=registration",
        )
        .await;
    s.problem(&r, 415, "unsupported_media_type");
    let r = s
        .call_raw(
            Method::POST,
            "/v1/subjects",
            Some(&s.admin),
            Some("application/json; charset=utf-8"),
            body,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

both_backends!(a_body_over_the_limit_is_413, ApiConfig { max_body_bytes: 2048 });
async fn a_body_over_the_limit_is_413(s: Server) {
    let mut body = anna_body();
    body["fields"]["postal_address"] = json!("x".repeat(4096));
    let r = s.post("/v1/subjects", &s.admin, body).await;
    s.problem(&r, 413, "body_too_large");
    // Under the limit is fine.
    let r = s.post("/v1/subjects", &s.admin, anna_body()).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

both_backends!(the_default_limit_is_64_kib);
async fn the_default_limit_is_64_kib(s: Server) {
    let mut body = anna_body();
    body["fields"]["postal_address"] = json!("x".repeat(70 * 1024));
    let r = s.post("/v1/subjects", &s.admin, body).await;
    s.problem(&r, 413, "body_too_large");
    let mut body = anna_body();
    body["fields"]["postal_address"] = json!("x".repeat(60 * 1024));
    let r = s.post("/v1/subjects", &s.admin, body).await;
    let p = s.problem(&r, 422, "invalid_fields");
    assert_eq!(p["errors"][0]["field"], "postal_address");
}

both_backends!(unknown_routes_and_methods_are_problems_too);
async fn unknown_routes_and_methods_are_problems_too(s: Server) {
    for path in ["/", "/v1", "/v1/nothing", "/v2/subjects", "/v1/subjects/x/y/z"] {
        let r = s.call(Method::GET, path, Some(&s.admin), None).await;
        s.problem(&r, 404, "not_found");
    }
    let r = s.call(Method::GET, "/v1/nothing", None, None).await;
    s.problem(&r, 404, "not_found");

    for (method, path, allow) in [
        (Method::PUT, "/v1/subjects", "POST"),
        (Method::DELETE, "/v1/subjects", "GET"),
        (Method::GET, "/v1/subjects/lookup", "POST"),
        (Method::POST, "/v1/policy", "GET"),
        (Method::DELETE, "/healthz", "GET"),
        (Method::PUT, "/v1/keys", "GET"),
    ] {
        let r = s.call(method, path, Some(&s.admin), None).await;
        s.problem(&r, 405, "method_not_allowed");
        assert!(
            r.header("allow").is_some_and(|a| a.contains(allow)),
            "{path}: {:?}",
            r.header("allow")
        );
    }
    let r = s
        .call(
            Method::POST,
            &format!("/v1/subjects/{}", uuid::Uuid::new_v4()),
            Some(&s.admin),
            Some(anna_body()),
        )
        .await;
    s.problem(&r, 405, "method_not_allowed");
}

both_backends!(no_error_echoes_a_submitted_value);
/// Values submitted where they are invalid must not come back in an error.
async fn no_error_echoes_a_submitted_value(s: Server) {
    let id = s.anna().await;
    let email = format!("{SECRET}@");
    let mut responses = Vec::new();

    let mut body = anna_body();
    body["fields"]["email"] = json!(email);
    body["fields"]["phone"] = json!(SECRET);
    body["fields"]["birth_date"] = json!(SECRET);
    body["fields"]["last_ip"] = json!(SECRET);
    responses.push((s.post("/v1/subjects", &s.admin, body).await, 422, "invalid_fields"));
    let mut body = anna_body();
    body["fields"]["phone"] = json!(SECRET_NUMBER);
    body["fields"]["full_name"] = json!([SECRET]);
    body["fields"]["username"] = json!({"nested": SECRET});
    responses.push((s.post("/v1/subjects", &s.admin, body).await, 422, "invalid_fields"));
    let mut body = anna_body();
    body["fields"][SECRET] = json!(SECRET);
    body["fields"][format!("{SECRET}@example.com")] = json!("x");
    responses.push((s.post("/v1/subjects", &s.admin, body).await, 422, "invalid_fields"));
    let mut body = anna_body();
    body["purpose"] = json!(SECRET_NUMBER);
    responses.push((s.post("/v1/subjects", &s.admin, body).await, 400, "invalid_json"));
    let mut body = anna_body();
    body["purpose"] = json!(format!("{SECRET}@example.com"));
    responses.push((s.post("/v1/subjects", &s.admin, body).await, 400, "unknown_purpose"));
    let mut body = anna_body();
    body["evidence"]["ip"] = json!(SECRET);
    responses.push((s.post("/v1/subjects", &s.admin, body).await, 422, "invalid_evidence"));
    let mut body = anna_body();
    body["evidence"]["ip"] = json!(SECRET_NUMBER);
    responses.push((s.post("/v1/subjects", &s.admin, body).await, 400, "invalid_json"));
    let mut body = anna_body();
    body[format!("{SECRET}@example.com")] = json!(1);
    responses.push((
        s.post("/v1/subjects", &s.admin, body).await,
        400,
        "unknown_field_in_body",
    ));
    let raw = format!("{{\"purpose\": \"registration\", \"fields\": {{\"email\": \"{SECRET}\" {SECRET_NUMBER}}}}}");
    responses.push((
        s.call_raw(
            Method::POST,
            "/v1/subjects",
            Some(&s.admin),
            Some("application/json"),
            raw,
        )
        .await,
        400,
        "invalid_json",
    ));
    let raw = format!("{{\"purpose\": {SECRET_NUMBER}");
    responses.push((
        s.call_raw(
            Method::POST,
            "/v1/subjects",
            Some(&s.admin),
            Some("application/json"),
            raw,
        )
        .await,
        400,
        "invalid_json",
    ));
    let raw = format!("{{\"purpose\": \"{SECRET}");
    responses.push((
        s.call_raw(
            Method::POST,
            "/v1/subjects",
            Some(&s.admin),
            Some("application/json"),
            raw,
        )
        .await,
        400,
        "invalid_json",
    ));

    responses.push((
        s.post(
            "/v1/subjects/lookup",
            &s.admin,
            json!({"field": "email", "value": SECRET, "purpose": "registration"}),
        )
        .await,
        422,
        "invalid_fields",
    ));
    responses.push((
        s.post(
            "/v1/subjects/lookup",
            &s.admin,
            json!({"field": "phone", "value": SECRET_NUMBER, "purpose": "registration"}),
        )
        .await,
        400,
        "invalid_json",
    ));
    responses.push((
        s.post(
            "/v1/subjects/lookup",
            &s.admin,
            json!({"field": SECRET, "value": "x", "purpose": "registration"}),
        )
        .await,
        422,
        "unknown_field",
    ));
    responses.push((
        s.patch(
            &format!("/v1/subjects/{id}?purpose=registration"),
            &s.admin,
            json!({"fields": {"phone": SECRET, "email": SECRET_NUMBER}}),
        )
        .await,
        422,
        "invalid_fields",
    ));
    responses.push((
        s.patch(
            &format!("/v1/subjects/{id}?purpose=registration"),
            &s.admin,
            json!({"fields": {"phone": SECRET}}),
        )
        .await,
        422,
        "invalid_fields",
    ));
    responses.push((
        s.get(&format!("/v1/subjects/{id}?purpose={SECRET}%40example.com"), &s.admin)
            .await,
        400,
        "unknown_purpose",
    ));
    responses.push((
        s.get(
            &format!("/v1/subjects/{id}?purpose=registration&fields={SECRET}%40example.com"),
            &s.admin,
        )
        .await,
        422,
        "unknown_field",
    ));
    responses.push((
        s.get(&format!("/v1/subjects/{id}?purpose=registration&{SECRET}=1"), &s.admin)
            .await,
        400,
        "invalid_query",
    ));
    responses.push((
        s.get(&format!("/v1/subjects/{SECRET}?purpose=registration"), &s.admin)
            .await,
        400,
        "invalid_subject_id",
    ));
    responses.push((
        s.post("/v1/keys", &s.admin, json!({"name": "k", "role": SECRET})).await,
        400,
        "invalid_json",
    ));
    responses.push((
        s.post("/v1/keys", &s.admin, json!({"name": SECRET_NUMBER, "role": "admin"}))
            .await,
        400,
        "invalid_json",
    ));
    responses.push((
        s.delete(&format!("/v1/keys/{SECRET}"), &s.admin).await,
        404,
        "api_key_not_found",
    ));
    responses.push((
        s.delete(&format!("/v1/subjects/{id}/consents/{SECRET}"), &s.admin)
            .await,
        400,
        "unknown_purpose",
    ));
    responses.push((
        s.call(Method::GET, &format!("/v1/{SECRET}"), Some(&s.admin), None)
            .await,
        404,
        "not_found",
    ));
    responses.push((
        s.call(Method::GET, "/v1/policy", Some(SECRET), None).await,
        401,
        "unauthorized",
    ));

    for (r, status, code) in &responses {
        assert_eq!(r.status, *status, "{} {}: {}", r.method, r.path, r.text);
        assert_problem_shape(r, code);
        assert_no_secret(r);
    }
}

both_backends!(a_stopped_writer_is_503_storage_unavailable);
async fn a_stopped_writer_is_503_storage_unavailable(s: Server) {
    let id = s.anna().await;
    s.vault.shutdown().await.expect("shutdown");
    let r = s.post("/v1/subjects", &s.admin, anna_body()).await;
    let p = s.problem(&r, 503, "storage_unavailable");
    assert!(p["detail"].as_str().unwrap().contains("nothing was changed"), "{p}");
    let r = s
        .delete(&format!("/v1/subjects/{id}?reason=subject_request"), &s.admin)
        .await;
    s.problem(&r, 503, "storage_unavailable");
}
