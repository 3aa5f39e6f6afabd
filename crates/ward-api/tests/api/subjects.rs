use crate::support::{anna_body, both_backends, Server};
use reqwest::Method;
use serde_json::json;

both_backends!(registration_answers_201_with_location_and_the_read_returns_normalised_fields);
async fn registration_answers_201_with_location_and_the_read_returns_normalised_fields(s: Server) {
    let r = s.post("/v1/subjects", &s.admin, anna_body()).await;
    let body = r.json_with(201);
    let id = body["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_eq!(r.header("location"), Some(format!("/v1/subjects/{id}").as_str()));

    let r = s
        .get(&format!("/v1/subjects/{id}?purpose=registration"), &s.admin)
        .await;
    let body = r.json_with(200);
    assert_eq!(body["id"], id);
    assert_eq!(body["purpose"], "registration");
    assert_eq!(
        body["fields"],
        json!({
            "email": "anna.petrova@example.ru",
            "phone": "+79161234567",
            "full_name": "Анна Петрова",
            "postal_address": "Moscow, Tverskaya 1",
        })
    );
}

both_backends!(consents_are_optional_at_registration);
async fn consents_are_optional_at_registration(s: Server) {
    let mut body = anna_body();
    body.as_object_mut().unwrap().remove("consents");
    let r = s.post("/v1/subjects", &s.admin, body).await;
    let id = r.json_with(201)["id"].as_str().unwrap().to_owned();
    let r = s.get(&format!("/v1/subjects/{id}?purpose=marketing"), &s.admin).await;
    s.problem(&r, 403, "consent_missing");
}

both_backends!(a_read_can_ask_for_some_fields);
async fn a_read_can_ask_for_some_fields(s: Server) {
    let id = s.anna().await;
    let r = s
        .get(
            &format!("/v1/subjects/{id}?purpose=registration&fields=email,%20phone"),
            &s.admin,
        )
        .await;
    assert_eq!(
        r.json_with(200)["fields"],
        json!({"email": "anna.petrova@example.ru", "phone": "+79161234567"})
    );
}

both_backends!(a_purpose_sees_only_its_categories);
async fn a_purpose_sees_only_its_categories(s: Server) {
    let id = s.anna().await;
    let r = s.get(&format!("/v1/subjects/{id}?purpose=marketing"), &s.admin).await;
    let fields = r.json_with(200)["fields"].clone();
    assert!(fields.get("email").is_some());

    // `last_ip` is technical data, which marketing may not use: refused, not dropped.
    let r = s
        .get(
            &format!("/v1/subjects/{id}?purpose=marketing&fields=email,last_ip"),
            &s.admin,
        )
        .await;
    let p = s.problem(&r, 403, "category_not_allowed");
    assert!(p["detail"].as_str().unwrap().contains("last_ip"));
    let r = s
        .get(
            &format!("/v1/subjects/{id}?purpose=registration&fields=shoe_size"),
            &s.admin,
        )
        .await;
    s.problem(&r, 422, "unknown_field");
}

both_backends!(reads_need_a_known_purpose_and_a_valid_id);
async fn reads_need_a_known_purpose_and_a_valid_id(s: Server) {
    let id = s.anna().await;
    let r = s.get(&format!("/v1/subjects/{id}"), &s.admin).await;
    s.problem(&r, 400, "purpose_required");
    let r = s.get(&format!("/v1/subjects/{id}?purpose="), &s.admin).await;
    s.problem(&r, 400, "purpose_required");
    let r = s.get(&format!("/v1/subjects/{id}?purpose=selling"), &s.admin).await;
    let p = s.problem(&r, 400, "unknown_purpose");
    assert!(p["detail"].as_str().unwrap().contains("selling"));
    let r = s.get("/v1/subjects/not-a-uuid?purpose=registration", &s.admin).await;
    s.problem(&r, 400, "invalid_subject_id");
    let r = s.get("/v1/subjects/%FF%FE?purpose=registration", &s.admin).await;
    s.problem(&r, 400, "invalid_path");
    let r = s.delete("/v1/keys/%FF", &s.admin).await;
    s.problem(&r, 400, "invalid_path");
    let r = s
        .get(
            &format!("/v1/subjects/{}?purpose=registration", uuid::Uuid::new_v4()),
            &s.admin,
        )
        .await;
    s.problem(&r, 404, "subject_not_found");
    let r = s
        .get(&format!("/v1/subjects/{id}?purpose=registration&colour=red"), &s.admin)
        .await;
    let p = s.problem(&r, 400, "invalid_query");
    assert!(p["detail"].as_str().unwrap().contains("`colour`"), "{p}");
    let r = s
        .get(
            &format!("/v1/subjects/{id}?purpose=registration&purpose=marketing"),
            &s.admin,
        )
        .await;
    s.problem(&r, 400, "invalid_query");
}

both_backends!(a_purpose_must_cover_the_action);
async fn a_purpose_must_cover_the_action(s: Server) {
    // Accounting records and retrieves, but does not collect.
    let mut body = anna_body();
    body["purpose"] = json!("accounting");
    let r = s.post("/v1/subjects", &s.admin, body).await;
    s.problem(&r, 403, "action_not_covered");
}

both_backends!(collection_for_a_consent_purpose_needs_the_consent);
async fn collection_for_a_consent_purpose_needs_the_consent(s: Server) {
    let mut body = anna_body();
    body["purpose"] = json!("marketing");
    body["consents"] = json!([]);
    let r = s.post("/v1/subjects", &s.admin, body).await;
    s.problem(&r, 403, "consent_missing");
    let mut body = anna_body();
    body["consents"] = json!(["registration"]);
    let r = s.post("/v1/subjects", &s.admin, body).await;
    s.problem(&r, 422, "consent_not_applicable");
}

both_backends!(invalid_values_are_reported_per_field);
async fn invalid_values_are_reported_per_field(s: Server) {
    let mut body = anna_body();
    body["fields"]["email"] = json!("not-an-email");
    body["fields"]["birth_date"] = json!(19900228);
    body["fields"]["shoe_size"] = json!("42");
    let r = s.post("/v1/subjects", &s.admin, body).await;
    let p = s.problem(&r, 422, "invalid_fields");
    // Non-strings are caught before the values are parsed.
    assert_eq!(
        p["errors"],
        json!([{"field": "birth_date", "message": "expected a string"}])
    );

    let mut body = anna_body();
    body["fields"]["email"] = json!("not-an-email");
    body["fields"]["shoe_size"] = json!("42");
    body["fields"].as_object_mut().unwrap().remove("phone");
    let r = s.post("/v1/subjects", &s.admin, body).await;
    let p = s.problem(&r, 422, "invalid_fields");
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "shoe_size"]);
    assert!(!r.text.contains("not-an-email"));

    let mut body = anna_body();
    body["evidence"]["channel"] = json!("");
    let r = s.post("/v1/subjects", &s.admin, body).await;
    s.problem(&r, 422, "invalid_evidence");
}

both_backends!(lookup_takes_the_value_in_the_body);
async fn lookup_takes_the_value_in_the_body(s: Server) {
    let id = s.anna().await;
    let r = s
        .post(
            "/v1/subjects/lookup",
            &s.admin,
            json!({"field": "email", "value": " ANNA.petrova@example.ru ", "purpose": "marketing"}),
        )
        .await;
    let body = r.json_with(200);
    let subjects = body["subjects"].as_array().unwrap();
    assert_eq!(subjects.len(), 1);
    assert_eq!(subjects[0]["id"], id.as_str());
    assert_eq!(subjects[0]["purpose"], "marketing");
    assert_eq!(subjects[0]["fields"]["email"], "anna.petrova@example.ru");

    let r = s
        .post(
            "/v1/subjects/lookup",
            &s.admin,
            json!({"field": "phone", "value": "+7 916 111-22-33", "purpose": "registration"}),
        )
        .await;
    assert_eq!(r.json_with(200), json!({"subjects": []}));

    let r = s
        .post(
            "/v1/subjects/lookup",
            &s.admin,
            json!({"field": "full_name", "value": "Анна", "purpose": "registration"}),
        )
        .await;
    s.problem(&r, 422, "field_not_searchable");
    let r = s
        .post(
            "/v1/subjects/lookup",
            &s.admin,
            json!({"field": "shoe_size", "value": "42", "purpose": "registration"}),
        )
        .await;
    s.problem(&r, 422, "unknown_field");
    let r = s
        .post(
            "/v1/subjects/lookup",
            &s.admin,
            json!({"field": "email", "value": "nope", "purpose": "registration"}),
        )
        .await;
    s.problem(&r, 422, "invalid_fields");
    let r = s
        .post(
            "/v1/subjects/lookup",
            &s.admin,
            json!({"field": "email", "value": "a@b.ru", "purpose": "selling"}),
        )
        .await;
    s.problem(&r, 400, "unknown_purpose");
}

both_backends!(rectification_sets_and_removes_fields);
async fn rectification_sets_and_removes_fields(s: Server) {
    let id = s.anna().await;
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=registration"),
            &s.admin,
            json!({"fields": {"phone": "+7 916 765-43-21", "postal_address": null}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    let r = s
        .get(&format!("/v1/subjects/{id}?purpose=registration"), &s.admin)
        .await;
    let fields = r.json_with(200)["fields"].clone();
    assert_eq!(fields["phone"], "+79167654321");
    assert!(fields.get("postal_address").is_none());

    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=registration"),
            &s.admin,
            json!({"fields": {}}),
        )
        .await;
    s.problem(&r, 422, "empty_change");
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=registration"),
            &s.admin,
            json!({"fields": {"email": null}}),
        )
        .await;
    s.problem(&r, 422, "invalid_fields");
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=registration"),
            &s.admin,
            json!({"fields": {"phone": 79161234567_i64}}),
        )
        .await;
    let p = s.problem(&r, 422, "invalid_fields");
    assert_eq!(p["errors"][0]["field"], "phone");
    let r = s
        .patch(
            &format!("/v1/subjects/{id}"),
            &s.admin,
            json!({"fields": {"phone": "+7 916 765-43-21"}}),
        )
        .await;
    s.problem(&r, 400, "purpose_required");
    // Billing data is not the account's to change.
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=registration"),
            &s.admin,
            json!({"fields": {"billing_address": "Moscow"}}),
        )
        .await;
    s.problem(&r, 403, "category_not_allowed");
}

both_backends!(erasure_answers_204_and_then_410_everywhere);
async fn erasure_answers_204_and_then_410_everywhere(s: Server) {
    let id = s.anna().await;
    let r = s
        .delete(&format!("/v1/subjects/{id}?reason=subject_request"), &s.admin)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    let path = format!("/v1/subjects/{id}");
    let r = s.get(&format!("{path}?purpose=registration"), &s.admin).await;
    s.problem(&r, 410, "subject_erased");
    let r = s.delete(&format!("{path}?reason=subject_request"), &s.admin).await;
    s.problem(&r, 410, "subject_erased");
    let r = s
        .patch(
            &format!("{path}?purpose=registration"),
            &s.admin,
            json!({"fields": {"phone": "+7 916 765-43-21"}}),
        )
        .await;
    s.problem(&r, 410, "subject_erased");
    let r = s.get(&format!("{path}/consents"), &s.admin).await;
    s.problem(&r, 410, "subject_erased");
    let r = s
        .post(
            &format!("{path}/consents"),
            &s.admin,
            json!({"purpose": "analytics", "evidence": {"channel": "web_form"}}),
        )
        .await;
    s.problem(&r, 410, "subject_erased");
    let r = s.delete(&format!("{path}/consents/marketing"), &s.admin).await;
    s.problem(&r, 410, "subject_erased");
    // Erased subjects are not found by lookup any more.
    let r = s
        .post(
            "/v1/subjects/lookup",
            &s.admin,
            json!({"field": "email", "value": "anna.petrova@example.ru", "purpose": "registration"}),
        )
        .await;
    assert_eq!(r.json_with(200), json!({"subjects": []}));

    let r = s
        .call(
            Method::DELETE,
            &format!("/v1/subjects/{}?reason=subject_request", uuid::Uuid::new_v4()),
            Some(&s.admin),
            None,
        )
        .await;
    s.problem(&r, 404, "subject_not_found");
}
