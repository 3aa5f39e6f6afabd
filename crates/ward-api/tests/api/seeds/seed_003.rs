//! Seed 003 (software, operator not named): its kept promises, on
//! `examples/policies/seed-003-software.toml`.

use super::{needs_consent, read, refuses_consent, register, register_under, sealed_at_rest, seed_cases, sees_exactly};
use crate::support::Server;
use serde_json::{json, Value};

const REGISTER: &str = include_str!("../../../../../examples/policies/seed-003-software.toml");

seed_cases!(
    seed_003,
    REGISTER,
    None,
    [
        sealed_at_rest_and_journaled,
        a_read_sees_only_its_purposes_categories,
        service_improvement_needs_its_own_consent,
        exactly_the_declared_fields,
        registration_needs_no_consent_and_refuses_one,
        third_party_transfer_needs_its_own_consent,
        cookie_analytics_needs_its_own_consent,
        a_user_can_correct_and_delete,
        a_cookie_choice_is_changed_by_a_new_record,
        coppa_the_eu_sixteen_and_russian_minors,
        a_scanned_signed_request_is_answered_within_ten_working_days,
    ]
);

fn user(email: &str) -> Value {
    json!({"full_name": "Maria Ivanova", "email": email, "phone": "+7 916 555-66-77", "ip_address": "198.51.100.7"})
}

/// Row 1: sealed with the subject's key, nothing in clear in the store; the journal verifies.
async fn sealed_at_rest_and_journaled(s: &Server) {
    let id = register_under(s, "software_use", user("sealed.soft@example.org")).await;
    read(s, &id, "software_use").await.json_with(200);
    sealed_at_rest(s, &["sealed.soft@example.org", "Maria Ivanova", "79165556677"]).await;
}

/// Rows 2, 8: every read names a purpose of the register and sees only its categories; data
/// leaves only through a key limited to its purposes.
async fn a_read_sees_only_its_purposes_categories(s: &Server) {
    let id = register_under(s, "software_use", user("reads.soft@example.org")).await;
    sees_exactly(s, &id, "software_use", &["email", "full_name", "ip_address", "phone"]).await;
    sees_exactly(s, &id, "notifications", &["email", "phone"]).await;
    let r = s.get(&format!("/v1/subjects/{id}"), &s.admin).await;
    s.problem(&r, 400, "purpose_required");
    let key = s.service_key(&["software_use"]).await;
    let r = s
        .get(&format!("/v1/subjects/{id}?purpose=third_party_transfer"), &key)
        .await;
    s.problem(&r, 403, "purpose_not_allowed_for_key");
    let r = s.get(&format!("/v1/subjects/{id}?purpose=software_use"), &key).await;
    r.json_with(200);
}

/// Row 3.
async fn service_improvement_needs_its_own_consent(s: &Server) {
    let id = register_under(s, "software_use", user("improve.soft@example.org")).await;
    needs_consent(s, &id, "service_improvement").await;
}

/// Row 5: the seed's fields, and the cookie data, are declared; nothing else is collected.
async fn exactly_the_declared_fields(s: &Server) {
    let policy = s.get("/v1/policy", &s.admin).await.json_with(200);
    let fields: Vec<&String> = policy["fields"].as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        ["app_activity", "cookie_id", "email", "full_name", "ip_address", "phone"]
    );
    let mut body = user("fields.soft@example.org");
    body["address"] = json!("Moscow");
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "software_use", "fields": body}),
        )
        .await;
    let p = s.problem(&r, 422, "invalid_fields");
    assert_eq!(p["errors"][0]["field"], "address", "{p}");
}

/// Row 6: registering rests on the licence (contract): no consent needed, none accepted.
async fn registration_needs_no_consent_and_refuses_one(s: &Server) {
    let id = register_under(s, "software_use", user("licence.soft@example.org")).await;
    read(s, &id, "software_use").await.json_with(200);
    refuses_consent(s, &id, "software_use").await;
    s.problem(&read(s, &id, "service_improvement").await, 403, "consent_missing");
}

/// Row 7.
async fn third_party_transfer_needs_its_own_consent(s: &Server) {
    let id = register_under(s, "software_use", user("transfer.soft@example.org")).await;
    needs_consent(s, &id, "third_party_transfer").await;
}

/// Rows 11, 21.
async fn cookie_analytics_needs_its_own_consent(s: &Server) {
    let id = register_under(s, "software_use", user("cookies.soft@example.org")).await;
    needs_consent(s, &id, "cookie_analytics").await;
}

/// Row 18: correct through the API; delete by erasure, after which every read is refused.
async fn a_user_can_correct_and_delete(s: &Server) {
    let id = register_under(s, "software_use", user("delete.soft@example.org")).await;
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=software_use"),
            &s.admin,
            json!({"fields": {"phone": "+7 916 000-11-22"}}),
        )
        .await;
    assert!(r.status < 300, "{}", r.text);
    assert_eq!(
        read(s, &id, "software_use").await.json_with(200)["fields"]["phone"],
        "+79160001122"
    );
    let r = s
        .delete(&format!("/v1/subjects/{id}?reason=subject_request"), &s.admin)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    s.problem(&read(s, &id, "software_use").await, 410, "subject_erased");
}

/// Rows 21, 22: a change of mind about cookies is a new record; the history is kept. A
/// withdrawal is one call (`cookie_analytics_needs_its_own_consent`).
async fn a_cookie_choice_is_changed_by_a_new_record(s: &Server) {
    let path = "/v1/visitors/visitor-0003-abcdef/consents";
    for choice in ["granted", "denied"] {
        s.post(
            path,
            &s.admin,
            json!({"banner_version": "2026-11", "choices": {"analytics": choice}}),
        )
        .await
        .json_with(201);
    }
    let h = s.get(path, &s.admin).await.json_with(200);
    assert_eq!(h["history"].as_array().unwrap().len(), 2, "{h}");
    assert_eq!(h["current"]["choices"]["analytics"], "denied", "{h}");
}

/// Rows 24, 25: under 13 COPPA wants verifiable parental consent; under 16 the EU rule a
/// parent's; and since Russian law applies too, 16- and 17-year-olds need a parent's written
/// consent: the stricter rule wins.
async fn coppa_the_eu_sixteen_and_russian_minors(s: &Server) {
    let body =
        |age: &str| json!({"purpose": "software_use", "fields": {"email": "teen.soft@example.org"}, "age_band": age});
    for (age, cites) in [
        ("12", "COPPA"),
        ("15", "GDPR Art. 8(1)"),
        ("16-17", "Civil Code Art. 26"),
    ] {
        let r = s.post("/v1/subjects", &s.admin, body(age)).await;
        let p = s.problem(&r, 422, "guardian_consent_required");
        assert!(p["detail"].as_str().unwrap().contains(cites), "{age}: {p}");
    }
    register(s, body("18+")).await;
    // A parent who consents in writing, named with their identity document and authority,
    // lets a 15-year-old in under both the EU and the Russian rule.
    let mut with_parent = body("15");
    with_parent["evidence"] = json!({
        "channel": "paper",
        "method": "written",
        "given_by": {"role": "parent", "name": "Anna Ivanova", "identity_document": "passport 4500 000003", "authority": "birth certificate"},
    });
    register(s, with_parent).await;
}

/// Rights paragraph: a right is exercised by a scanned document with the user's signature,
/// answered within 10 working days of its receipt. The officer files the request, the scan is
/// uploaded and sealed, the officer reads and accepts it (the request moves on), previews the
/// access report, and completes the request: the subject's mail carries a single-use link that
/// serves the report once. The journal verifies after all of it.
async fn a_scanned_signed_request_is_answered_within_ten_working_days(s: &Server) {
    use reqwest::Method;
    let id = register_under(s, "software_use", user("scan.soft@example.org")).await;
    let filed = s
        .post(
            "/v1/requests",
            &s.admin,
            json!({"subject_id": id, "kind": "access", "channel": "officer", "verify": true}),
        )
        .await
        .json_with(201);
    // Received Sunday 2026-03-01 (Moscow): 10 working days on the production calendar, the
    // 9th of March a holiday.
    assert_eq!(
        (filed["state"].as_str(), filed["due_on"].as_str()),
        (Some("verifying"), Some("2026-03-16"))
    );
    let request = filed["id"].as_str().expect("request id").to_owned();

    let started = s
        .post(
            "/v1/verifications",
            &s.admin,
            json!({"request": request, "subject": id, "method": "document"}),
        )
        .await
        .json_with(201);
    let vid = started["id"].as_str().expect("verification id").to_owned();
    let mut scan = b"%PDF-1.7\n".to_vec();
    scan.extend_from_slice(b"signed request of Maria Ivanova");
    let path = format!("/v1/verifications/{vid}/document");
    let r = s
        .call_raw(
            Method::PUT,
            &path,
            Some(&s.admin),
            Some("application/pdf"),
            scan.clone(),
        )
        .await;
    r.json_with(200);
    let r = s.get(&path, &s.admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let decided = s
        .post(
            &format!("/v1/verifications/{vid}/decision"),
            &s.admin,
            json!({"decision": "accept", "reason": "signature_matches"}),
        )
        .await
        .json_with(200);
    assert_eq!(decided["state"], "verified");
    let req = s.get(&format!("/v1/requests/{request}"), &s.admin).await.json_with(200);
    assert_eq!(req["state"], "in_progress", "{req}");

    let preview = s
        .get(&format!("/v1/subjects/{id}/access-report"), &s.admin)
        .await
        .json_with(200);
    assert!(preview.to_string().contains("scan.soft@example.org"), "{preview}");
    let done = s
        .post(&format!("/v1/requests/{request}/complete"), &s.admin, json!({}))
        .await
        .json_with(200);
    assert_eq!(done["state"], "completed", "{done}");
    assert!(done["download"].is_string(), "{done}");

    // The link is in the mail to the subject, and only there (never in the journal).
    let claimed = s
        .vault
        .outbox()
        .claim("seed-003", time::Duration::minutes(1), 1000)
        .await
        .expect("claim");
    let link = claimed
        .iter()
        .filter(|m| m.subject.to_string() == id)
        .find_map(|m| {
            m.envelope
                .body
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("/v1/downloads/"))
                .map(str::to_owned)
        })
        .expect("the completion's mail carries the link");
    let token = link.trim_start_matches("/v1/downloads/");
    assert!(
        s.journal_rows_raw().await.iter().all(|r| !r.contains(token)),
        "the token is not journaled"
    );
    let served = s.call_raw(Method::GET, &link, None, None, Vec::new()).await;
    assert_eq!(served.status, 200, "{}", served.text);
    assert!(
        served.text.contains("scan.soft@example.org"),
        "the report holds the subject's data"
    );
    let again = s.call_raw(Method::GET, &link, None, None, Vec::new()).await;
    s.problem(&again, 410, "download_used");

    let verified = s.get("/v1/journal/verify", &s.admin).await.json_with(200);
    assert_eq!(verified["valid"], true, "{verified}");
}
