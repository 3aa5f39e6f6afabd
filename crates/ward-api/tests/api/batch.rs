use crate::support::{anna_body, assert_no_secret, both_backends, Server, SECRET};
use serde_json::{json, Value};

fn subject(k: usize) -> Value {
    json!({
        "purpose": "registration",
        "fields": {"email": format!("user{k}@example.org"), "full_name": format!("User {k}")},
        "consents": ["marketing"],
        "evidence": {"channel": "import"},
    })
}

both_backends!(a_batch_registers_the_valid_subjects_and_reports_the_others_in_order);
async fn a_batch_registers_the_valid_subjects_and_reports_the_others_in_order(s: Server) {
    let site = s.service_key(&["registration", "marketing"]).await;
    let mut bad_email = anna_body();
    bad_email["fields"]["email"] = json!(SECRET);
    let mut not_a_string = subject(3);
    not_a_string["fields"]["phone"] = json!(5_551_234_987_i64);
    let mut not_allowed = subject(4);
    not_allowed["purpose"] = json!("payment");
    let body = json!({"subjects": [subject(0), bad_email, subject(2), not_a_string, not_allowed]});
    let r = s.post("/v1/subjects/batch", &site, body).await;
    assert_no_secret(&r);
    let answer = r.json_with(200);
    assert_eq!(answer["created"], 2);
    assert_eq!(answer["failed"], 3);
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert!(results[0]["problem"].is_null());
    assert_eq!(results[1]["problem"]["code"], "invalid_fields");
    assert_eq!(results[1]["problem"]["status"], 422);
    assert_eq!(results[1]["problem"]["errors"][0]["field"], "email");
    assert!(results[2]["id"].is_string());
    assert_eq!(results[3]["problem"]["code"], "invalid_fields");
    assert_eq!(
        results[3]["problem"]["errors"],
        json!([{"field": "phone", "message": "expected a string"}])
    );
    assert_eq!(results[4]["problem"]["code"], "purpose_not_allowed_for_key");
    assert_eq!(
        results[4]["problem"]["type"],
        "https://ward.dev/problems/purpose_not_allowed_for_key"
    );

    // The registered ones are there, with what was sent.
    for (k, result) in [(0, &results[0]), (2, &results[2])] {
        let id = result["id"].as_str().unwrap();
        let r = s.get(&format!("/v1/subjects/{id}?purpose=marketing"), &site).await;
        assert_eq!(r.json_with(200)["fields"]["email"], format!("user{k}@example.org"));
    }
}

both_backends!(a_batch_may_be_bigger_than_the_single_body_limit_but_holds_at_most_1000);
async fn a_batch_may_be_bigger_than_the_single_body_limit_but_holds_at_most_1000(s: Server) {
    let many: Vec<Value> = (0..600).map(subject).collect();
    let body = json!({ "subjects": many });
    assert!(body.to_string().len() > ward_api::ApiConfig::DEFAULT_MAX_BODY_BYTES);
    let r = s.post("/v1/subjects/batch", &s.admin, body).await;
    let answer = r.json_with(200);
    assert_eq!(answer["created"], 600);
    let ids: std::collections::BTreeSet<&str> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 600);

    // Each one is journaled like a single registration: collection and consent.
    let r = s.get("/v1/journal/verify", &s.admin).await;
    let report = r.json_with(200);
    assert_eq!(report["valid"], true);
    assert!(report["entries"].as_i64().unwrap() >= 1200, "{report}");

    let too_many: Vec<Value> = (0..1001)
        .map(|k| json!({"purpose": "registration", "fields": {"email": format!("u{k}@example.org")}}))
        .collect();
    let r = s
        .post("/v1/subjects/batch", &s.admin, json!({ "subjects": too_many }))
        .await;
    s.problem(&r, 413, "body_too_large");
    let r = s.post("/v1/subjects/batch", &s.admin, json!({"subjects": []})).await;
    assert_eq!(r.json_with(200)["created"], 0);
}

both_backends!(a_batch_needs_a_key_and_a_well_formed_body);
async fn a_batch_needs_a_key_and_a_well_formed_body(s: Server) {
    let r = s
        .call(
            reqwest::Method::POST,
            "/v1/subjects/batch",
            None,
            Some(json!({"subjects": []})),
        )
        .await;
    s.problem(&r, 401, "unauthorized");
    let r = s.post("/v1/subjects/batch", &s.admin, json!({"subject": []})).await;
    s.problem(&r, 400, "unknown_field_in_body");
    let r = s.post("/v1/subjects/batch", &s.admin, json!([subject(1)])).await;
    s.problem(&r, 400, "invalid_json");
}
