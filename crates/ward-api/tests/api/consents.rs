use crate::support::Server;
use serde_json::{json, Value};

fn state_of<'a>(overview: &'a Value, purpose: &str) -> &'a Value {
    overview["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purpose"] == purpose)
        .unwrap_or_else(|| panic!("no {purpose} in {overview}"))
}

#[tokio::test]
async fn the_overview_covers_every_purpose() {
    let s = Server::start().await;
    let id = s.anna().await;
    let r = s.get(&format!("/v1/subjects/{id}/consents"), &s.admin).await;
    let overview = r.json_with(200);
    let purposes: Vec<&str> = overview["consents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purpose"].as_str().unwrap())
        .collect();
    assert_eq!(
        purposes,
        ["accounting", "analytics", "marketing", "payment", "registration"]
    );

    let marketing = state_of(&overview, "marketing");
    assert_eq!(marketing["legal_basis"], "consent");
    assert_eq!(marketing["state"], "given");
    assert_eq!(marketing["since"], "2026-03-01T09:00:00Z");
    // A consent is bound to the content hash of the policy version it was given under.
    assert_eq!(marketing["policy_version"], s.vault.policy_hash());
    let analytics = state_of(&overview, "analytics");
    assert_eq!(analytics["state"], "none");
    assert_eq!(analytics["since"], Value::Null);
    assert_eq!(state_of(&overview, "registration")["state"], "not_required");
    assert_eq!(state_of(&overview, "registration")["legal_basis"], "contract");
}

#[tokio::test]
async fn consent_can_be_given_after_collection() {
    let s = Server::start().await;
    let id = s.anna().await;
    let r = s.get(&format!("/v1/subjects/{id}?purpose=analytics"), &s.admin).await;
    s.problem(&r, 403, "consent_missing");

    let evidence = json!({"channel": "cookie_banner", "policy_version": "1", "text_ref": "banner-v3", "ip": "2001:db8::1", "user_agent": "Safari"});
    let r = s
        .post(
            &format!("/v1/subjects/{id}/consents"),
            &s.admin,
            json!({"purpose": "analytics", "evidence": evidence}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s.get(&format!("/v1/subjects/{id}/consents"), &s.admin).await;
    assert_eq!(state_of(&r.json_with(200), "analytics")["state"], "given");
    let r = s.get(&format!("/v1/subjects/{id}?purpose=analytics"), &s.admin).await;
    assert_eq!(r.json_with(200)["fields"], json!({}));

    let r = s
        .post(
            &format!("/v1/subjects/{id}/consents"),
            &s.admin,
            json!({"purpose": "analytics", "evidence": {"channel": "web_form", "ip": "not an ip"}}),
        )
        .await;
    s.problem(&r, 422, "invalid_evidence");
    let r = s
        .post(
            &format!("/v1/subjects/{id}/consents"),
            &s.admin,
            json!({"purpose": "payment", "evidence": {"channel": "web_form"}}),
        )
        .await;
    s.problem(&r, 422, "consent_not_applicable");
    let r = s
        .post(
            &format!("/v1/subjects/{id}/consents"),
            &s.admin,
            json!({"purpose": "selling", "evidence": {"channel": "web_form"}}),
        )
        .await;
    s.problem(&r, 400, "unknown_purpose");
    let r = s
        .post(
            &format!("/v1/subjects/{}/consents", uuid::Uuid::new_v4()),
            &s.admin,
            json!({"purpose": "analytics", "evidence": {"channel": "web_form"}}),
        )
        .await;
    s.problem(&r, 404, "subject_not_found");
    let r = s.get("/v1/subjects/12345/consents", &s.admin).await;
    s.problem(&r, 400, "invalid_subject_id");
}

#[tokio::test]
async fn withdrawal_takes_effect_on_the_very_next_read() {
    let s = Server::start().await;
    let id = s.anna().await;
    let marketer = s.service_key(&["marketing"]).await;
    let read = format!("/v1/subjects/{id}?purpose=marketing");
    let r = s.get(&read, &marketer).await;
    assert_eq!(r.json_with(200)["fields"]["email"], "anna.petrova@example.ru");

    let r = s
        .delete(&format!("/v1/subjects/{id}/consents/marketing"), &marketer)
        .await;
    let w = r.json_with(200);
    // Marketing's data goes on being used by purposes on other legal bases; nothing is orphaned.
    let continuing: Vec<_> = w["continuing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["purpose"].as_str().unwrap(), c["legal_basis"].as_str().unwrap()))
        .collect();
    assert_eq!(
        continuing,
        [
            ("accounting", "legal_obligation"),
            ("payment", "contract"),
            ("registration", "contract")
        ]
    );
    assert_eq!(w["destruction"], serde_json::Value::Null);
    let r = s.get(&read, &marketer).await;
    s.problem(&r, 403, "consent_missing");
    let r = s
        .post(
            "/v1/subjects/lookup",
            &marketer,
            json!({"field": "email", "value": "anna.petrova@example.ru", "purpose": "marketing"}),
        )
        .await;
    s.problem(&r, 403, "consent_missing");

    let r = s.get(&format!("/v1/subjects/{id}/consents"), &marketer).await;
    let overview = r.json_with(200);
    assert_eq!(state_of(&overview, "marketing")["state"], "withdrawn");

    let r = s
        .delete(&format!("/v1/subjects/{id}/consents/marketing"), &marketer)
        .await;
    s.problem(&r, 404, "consent_not_found");
    let r = s
        .delete(&format!("/v1/subjects/{id}/consents/analytics"), &marketer)
        .await;
    s.problem(&r, 403, "purpose_not_allowed_for_key");
    let r = s
        .delete(&format!("/v1/subjects/{id}/consents/registration"), &s.admin)
        .await;
    s.problem(&r, 422, "consent_not_applicable");
    let r = s.delete(&format!("/v1/subjects/{id}/consents/selling"), &s.admin).await;
    s.problem(&r, 400, "unknown_purpose");
}
