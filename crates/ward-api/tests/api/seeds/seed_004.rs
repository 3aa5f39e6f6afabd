//! Seed 004 (soft-ok.net): its kept promises, on `examples/policies/seed-004-soft-ok.toml`.

use super::{
    consent, needs_consent, publish, read, refuses_consent, register, register_under, sealed_at_rest, seed_cases,
    sees_exactly,
};
use crate::support::Server;
use serde_json::{json, Value};
use time::macros::datetime;

const REGISTER: &str = include_str!("../../../../../examples/policies/seed-004-soft-ok.toml");

seed_cases!(
    seed_004,
    REGISTER,
    None,
    [
        sealed_at_rest_and_journaled,
        use_opens_only_the_contract_purposes,
        cookies_identify_the_user_and_need_consent,
        the_application_is_required_of_an_application,
        age_rules_and_typed_values,
        contract_purposes_take_no_consent,
        improvement_needs_its_own_consent,
        troubleshooting_waits_for_an_assessment,
        marketing_is_consented_per_channel,
        the_application_form_records_how_consent_was_given,
        an_action_the_purpose_does_not_cover_is_refused,
        a_change_never_widens_a_consent,
        a_version_is_in_force_from_its_date,
    ]
);

fn applicant(email: &str) -> Value {
    json!({"full_name": "Sergey Orlov", "email": email, "phone": "+7 916 765-43-21", "application": "A consultation on licences"})
}

/// Row 22: sealed with the subject's key, nothing in clear in the store; the journal verifies.
async fn sealed_at_rest_and_journaled(s: &Server) {
    let id = register_under(s, "consulting", applicant("sealed.softok@example.org")).await;
    read(s, &id, "consulting").await.json_with(200);
    sealed_at_rest(
        s,
        &[
            "sealed.softok@example.org",
            "Sergey Orlov",
            "A consultation on licences",
        ],
    )
    .await;
}

/// Rows 1, 2, 3: an application opens the contract purpose it was sent for; nothing
/// consent-based, and every read names a purpose.
async fn use_opens_only_the_contract_purposes(s: &Server) {
    let id = register_under(s, "consulting", applicant("use.softok@example.org")).await;
    read(s, &id, "consulting").await.json_with(200);
    read(s, &id, "service_updates").await.json_with(200);
    for p in [
        "improvement",
        "analytics",
        "ad_targeting",
        "marketing_email",
        "public_access",
    ] {
        s.problem(&read(s, &id, p).await, 403, "consent_missing");
    }
    let r = s.get(&format!("/v1/subjects/{id}"), &s.admin).await;
    s.problem(&r, 400, "purpose_required");
}

/// Rows 4, 13, 15: cookies that identify the user are personal data: analytics and ad
/// targeting each rest on a cookie consent.
async fn cookies_identify_the_user_and_need_consent(s: &Server) {
    let id = register_under(s, "consulting", applicant("cookies.softok@example.org")).await;
    needs_consent(s, &id, "analytics").await;
    needs_consent(s, &id, "ad_targeting").await;
}

/// Row 7: the application is required of `consulting` (sending one), not of every purpose;
/// undeclared fields are refused.
async fn the_application_is_required_of_an_application(s: &Server) {
    let mut fields = applicant("required.softok@example.org");
    fields.as_object_mut().unwrap().remove("application");
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "consulting", "fields": fields}),
        )
        .await;
    let p = s.problem(&r, 422, "invalid_fields");
    assert_eq!(
        p["errors"],
        json!([{"field": "application", "message": "this field is required"}]),
        "{p}"
    );
    register_under(s, "identification", fields.clone()).await;
    fields["skype"] = json!("orlov");
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "identification", "fields": fields}),
        )
        .await;
    s.problem(&r, 422, "invalid_fields");
}

/// Row 9: values are typed; with an age given, the Russian rules apply.
async fn age_rules_and_typed_values(s: &Server) {
    let mut bad = applicant("x");
    bad["email"] = json!("not an address");
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "consulting", "fields": bad}),
        )
        .await;
    let p = s.problem(&r, 422, "invalid_fields");
    assert_eq!(p["errors"][0]["field"], "email", "{p}");
    let body = |age: &str, evidence: Value| json!({"purpose": "consulting", "fields": applicant("minor.softok@example.org"), "age_band": age, "evidence": evidence});
    let r = s
        .post("/v1/subjects", &s.admin, body("13", json!({"channel": "web_form"})))
        .await;
    let p = s.problem(&r, 422, "guardian_consent_required");
    assert!(p["detail"].as_str().unwrap().contains("Civil Code Art. 28"), "{p}");
    let r = s
        .post("/v1/subjects", &s.admin, body("16-17", json!({"channel": "web_form"})))
        .await;
    s.problem(&r, 422, "guardian_consent_required");
    let parent = json!({
        "channel": "paper",
        "method": "written",
        "given_by": {"role": "parent", "name": "Irina Orlova", "identity_document": "passport 4500 000002", "authority": "birth certificate"},
    });
    register(s, body("16-17", parent)).await;
}

/// Row 10: consulting, identification and support rest on the contract.
async fn contract_purposes_take_no_consent(s: &Server) {
    let id = register_under(s, "consulting", applicant("contract.softok@example.org")).await;
    sees_exactly(s, &id, "consulting", &["application", "email", "full_name", "phone"]).await;
    for p in ["consulting", "identification", "support"] {
        refuses_consent(s, &id, p).await;
    }
}

/// Row 11.
async fn improvement_needs_its_own_consent(s: &Server) {
    let id = register_under(s, "consulting", applicant("improve.softok@example.org")).await;
    needs_consent(s, &id, "improvement").await;
}

/// Row 12: troubleshooting uses technical data only, on a legitimate interest that holds for
/// nobody until the operator names its assessment.
async fn troubleshooting_waits_for_an_assessment(s: &Server) {
    let policy = s.get("/v1/policy", &s.admin).await.json_with(200);
    assert_eq!(
        policy["purposes"]["troubleshooting"]["categories"],
        json!(["technical"])
    );
    let id = register_under(s, "consulting", applicant("trouble.softok@example.org")).await;
    s.problem(&read(s, &id, "troubleshooting").await, 403, "basis_not_established");
    let r = s
        .post(
            &format!("/v1/subjects/{id}/bases"),
            &s.admin,
            json!({"purpose": "troubleshooting", "kind": "established", "evidence": {"reference": "incident 5"}}),
        )
        .await;
    s.problem(&r, 422, "basis_event_not_applicable");
}

/// Row 16: one purpose and one consent per channel, each withdrawn on its own; the contact
/// check allows marketing only by a channel consented to.
async fn marketing_is_consented_per_channel(s: &Server) {
    let id = register(
        s,
        json!({
            "purpose": "consulting",
            "fields": applicant("channels.softok@example.org"),
            "consents": ["marketing_sms"],
            "evidence": {"channel": "application_form", "method": "form_submission"},
        }),
    )
    .await;
    let contact = |channel: &str| format!("/v1/subjects/{id}/contact?class=marketing&channel={channel}");
    assert_eq!(s.get(&contact("sms"), &s.admin).await.json_with(200)["allowed"], true);
    assert_eq!(
        s.get(&contact("email"), &s.admin).await.json_with(200)["allowed"],
        false
    );
    needs_consent(s, &id, "marketing_email").await;
    assert_eq!(
        s.get(&contact("sms"), &s.admin).await.json_with(200)["allowed"],
        true,
        "withdrawn on its own"
    );
}

/// Row 18: the application form's consents, each its own event, with the method recorded.
async fn the_application_form_records_how_consent_was_given(s: &Server) {
    let id = register(
        s,
        json!({
            "purpose": "consulting",
            "fields": applicant("form.softok@example.org"),
            "consents": ["improvement", "marketing_sms"],
            "evidence": {"channel": "application_form", "method": "form_submission", "text_ref": "3.1"},
        }),
    )
    .await;
    for p in ["improvement", "marketing_sms"] {
        let receipt = s
            .get(&format!("/v1/subjects/{id}/consents/{p}/receipt"), &s.admin)
            .await
            .json_with(200);
        assert_eq!(receipt["evidence"]["method"], "form_submission", "{receipt}");
        assert_eq!(receipt["events"].as_array().unwrap().len(), 1, "{receipt}");
    }
}

/// Row 19: each purpose covers only its actions, and whatever may delete may also destroy.
async fn an_action_the_purpose_does_not_cover_is_refused(s: &Server) {
    let id = register_under(s, "consulting", applicant("actions.softok@example.org")).await;
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=service_updates"),
            &s.admin,
            json!({"fields": {"phone": "+7 916 000-00-01"}}),
        )
        .await;
    s.problem(&r, 403, "action_not_covered");
    let policy = s.get("/v1/policy", &s.admin).await.json_with(200);
    for (name, p) in policy["purposes"].as_object().unwrap() {
        let actions = p["actions"].as_array().unwrap();
        if actions.contains(&json!("deletion")) {
            assert!(actions.contains(&json!("destruction")), "{name}");
        }
    }
}

/// Row 23: a new version never creates or widens a consent.
async fn a_change_never_widens_a_consent(s: &Server) {
    let mut fields = applicant("widen.softok@example.org");
    fields["cookie_id"] = json!("c-004");
    let id = register(
        s,
        json!({
            "purpose": "consulting",
            "fields": fields,
            "consents": ["marketing_email", "analytics"],
            "evidence": {"channel": "application_form", "method": "form_submission"},
        }),
    )
    .await;
    let line = "[purposes.marketing_email]";
    let at = REGISTER.find(line).expect("marketing_email");
    let (head, tail) = REGISTER.split_at(at);
    let widened = format!(
        "{head}{}",
        tail.replacen(
            "categories = [\"identity\", \"contact\"]",
            "categories = [\"identity\", \"contact\", \"technical\"]",
            1
        )
    );
    let p = publish(s, &widened.replace("version = \"1\"", "version = \"2\""), None).await;
    let c = super::change(&p, "categories_widened", "marketing_email");
    assert!(c["requires"].as_array().unwrap().contains(&json!("new_consent")), "{c}");
    sees_exactly(s, &id, "marketing_email", &["email", "full_name", "phone"]).await;
    let r = s
        .get(
            &format!("/v1/subjects/{id}?purpose=marketing_email&fields=cookie_id"),
            &s.admin,
        )
        .await;
    s.problem(&r, 403, "consent_scope_exceeded");
    consent(s, &id, "marketing_email").await;
    sees_exactly(s, &id, "marketing_email", &["cookie_id", "email", "full_name", "phone"]).await;
}

/// Row 24: a version is in force from its `effective_at`, by the clock.
async fn a_version_is_in_force_from_its_date(s: &Server) {
    let before = s.get("/v1/policy", &s.admin).await.json_with(200)["version"].clone();
    let register: String = REGISTER
        .replace("version = \"1\"", "version = \"9\"")
        .lines()
        .map(|l| {
            if l.starts_with("id = ") {
                "id = \"website\"\n".to_owned()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let r = s
        .post(
            "/v1/policy/versions",
            &s.admin,
            json!({"register": register, "effective_at": "2031-06-01T00:00:00Z"}),
        )
        .await
        .json_with(201);
    assert_eq!(r["new"], true, "{r}");
    assert_eq!(s.get("/v1/policy", &s.admin).await.json_with(200)["version"], before);
    s.clock.set(datetime!(2031-06-01 00:00 UTC));
    assert_eq!(s.get("/v1/policy", &s.admin).await.json_with(200)["version"], "9");
}
