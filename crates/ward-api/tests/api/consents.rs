use crate::support::{both_backends, Server};
use serde_json::{json, Value};

fn state_of<'a>(overview: &'a Value, purpose: &str) -> &'a Value {
    overview["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purpose"] == purpose)
        .unwrap_or_else(|| panic!("no {purpose} in {overview}"))
}

both_backends!(the_overview_covers_every_purpose);
async fn the_overview_covers_every_purpose(s: Server) {
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
    assert_eq!(marketing["policy_version"], s.vault.policies().current_hash());
    let analytics = state_of(&overview, "analytics");
    assert_eq!(analytics["state"], "none");
    assert_eq!(analytics["since"], Value::Null);
    assert_eq!(state_of(&overview, "registration")["state"], "not_required");
    assert_eq!(state_of(&overview, "registration")["legal_basis"], "contract");
}

both_backends!(consent_can_be_given_after_collection);
async fn consent_can_be_given_after_collection(s: Server) {
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

both_backends!(withdrawal_takes_effect_on_the_very_next_read);
async fn withdrawal_takes_effect_on_the_very_next_read(s: Server) {
    let id = s.anna().await;
    let marketer = s.service_key(&["marketing"]).await;
    let read = format!("/v1/subjects/{id}?purpose=marketing");
    let r = s.get(&read, &marketer).await;
    assert_eq!(r.json_with(200)["fields"]["email"], "anna.petrova@example.ru");

    let r = s
        .delete(&format!("/v1/subjects/{id}/consents/marketing"), &marketer)
        .await;
    let w = r.json_with(200);
    // Marketing's data goes on being used by registration, the contract her registration
    // established; payment and accounting hold for nobody who has not paid. Nothing is orphaned.
    let continuing: Vec<_> = w["continuing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["purpose"].as_str().unwrap(), c["legal_basis"].as_str().unwrap()))
        .collect();
    assert_eq!(continuing, [("registration", "contract")]);
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
    // A lookup does not tell a withdrawn subject from a value no one has.
    assert_eq!(r.json_with(200), json!({"subjects": []}));

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

both_backends!(a_consent_with_a_term_expires_by_itself);
/// Analytics consent (the `analytics_cookies` document) has a term of one year: when the
/// clock reaches its end, the next read is refused and the overview and receipt say expired.
async fn a_consent_with_a_term_expires_by_itself(s: Server) {
    let id = s.anna().await;
    let r = s
        .post(
            &format!("/v1/subjects/{id}/consents"),
            &s.admin,
            json!({"purpose": "analytics", "evidence": {"channel": "cookie_banner"}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let read = format!("/v1/subjects/{id}?purpose=analytics");
    // A visitor whose technical data was collected under the same consent.
    let visitor = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "analytics", "fields": {"last_ip": "203.0.113.7"},
                   "consents": ["analytics"], "evidence": {"channel": "cookie_banner"}}),
        )
        .await
        .json_with(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A second before the end of the term the consent stands.
    s.clock.set(time::macros::datetime!(2027-03-01 08:59:59 UTC));
    s.get(&read, &s.admin).await.json_with(200);
    let overview = s
        .get(&format!("/v1/subjects/{id}/consents"), &s.admin)
        .await
        .json_with(200);
    assert_eq!(state_of(&overview, "analytics")["state"], "given");

    s.clock.advance(time::Duration::seconds(1));
    let r = s.get(&read, &s.admin).await;
    s.problem(&r, 403, "consent_missing");
    let overview = s
        .get(&format!("/v1/subjects/{id}/consents"), &s.admin)
        .await
        .json_with(200);
    let analytics = state_of(&overview, "analytics");
    assert_eq!(analytics["state"], "expired");
    assert_eq!(analytics["since"], "2027-03-01T09:00:00Z");
    assert_eq!(analytics["expires_at"], "2027-03-01T09:00:00Z");
    // Technical data serves analytics alone: due for destruction within 30 days, where it
    // is held; Anna holds none, so nothing is due for her.
    assert_eq!(analytics["destruction"], Value::Null);
    let theirs = s
        .get(&format!("/v1/subjects/{visitor}/consents"), &s.admin)
        .await
        .json_with(200);
    assert_eq!(
        state_of(&theirs, "analytics")["destruction"],
        json!({"by": "2027-03-31T09:00:00Z", "categories": ["technical"]})
    );
    // Marketing has no term and stands.
    assert_eq!(state_of(&overview, "marketing")["state"], "given");

    let receipt = s
        .get(&format!("/v1/subjects/{id}/consents/analytics/receipt"), &s.admin)
        .await
        .json_with(200);
    assert_eq!(receipt["state"], "expired");
    let kinds: Vec<&str> = receipt["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["given", "expired"]);

    // A new consent starts a new term.
    let r = s
        .post(
            &format!("/v1/subjects/{id}/consents"),
            &s.admin,
            json!({"purpose": "analytics", "evidence": {"channel": "cookie_banner"}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    s.get(&read, &s.admin).await.json_with(200);
    let overview = s
        .get(&format!("/v1/subjects/{id}/consents"), &s.admin)
        .await
        .json_with(200);
    assert_eq!(state_of(&overview, "analytics")["expires_at"], "2028-03-01T09:00:00Z");
}
