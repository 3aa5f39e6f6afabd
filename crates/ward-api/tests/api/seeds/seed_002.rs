//! Seed 002 (Flex SMT): its kept promises, on `examples/policies/seed-002-flex-smt.toml`.

use super::{needs_consent, read, register, register_under, sealed_at_rest, seed_cases, sees_exactly, web};
use crate::support::Server;
use serde_json::{json, Value};

const REGISTER: &str = include_str!("../../../../../examples/policies/seed-002-flex-smt.toml");

seed_cases!(
    seed_002,
    REGISTER,
    None,
    [
        sealed_at_rest_and_journaled,
        an_action_the_purpose_does_not_cover_is_refused,
        a_read_sees_only_its_purposes_categories,
        legitimate_interests_wait_for_an_assessment,
        undeclared_fields_are_refused,
        marketing_needs_prior_consent,
        background_check_needs_its_own_consent,
        cookies_need_their_own_consent,
        the_contact_form_is_a_consent_with_its_compulsory_fields,
        each_key_reads_only_for_its_purposes,
    ]
);

fn customer(email: &str) -> Value {
    json!({"first_name": "Hans", "last_name": "Keller", "email": email, "customer_number": "C-1001", "bank_details": "DE89 3704 0044 0532 0130 00"})
}

/// Rows 1, 30: sealed with the subject's key, nothing in clear in the store; the journal
/// verifies.
async fn sealed_at_rest_and_journaled(s: &Server) {
    let id = register_under(s, "contracts", customer("sealed.smt@example.org")).await;
    read(s, &id, "contracts").await.json_with(200);
    sealed_at_rest(s, &["sealed.smt@example.org", "Keller", "DE89 3704 0044 0532 0130 00"]).await;
}

/// Row 3: each purpose covers only its actions.
async fn an_action_the_purpose_does_not_cover_is_refused(s: &Server) {
    let id = register_under(
        s,
        "support",
        json!({"first_name": "Hans", "email": "actions.smt@example.org"}),
    )
    .await;
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=support"),
            &s.admin,
            json!({"fields": {"email": "other.smt@example.org"}}),
        )
        .await;
    s.problem(&r, 403, "action_not_covered");
}

/// Rows 5, 6: every read names a purpose and sees its categories; each contract purpose holds
/// once its own collection establishes it; data no purpose needs fails validation.
async fn a_read_sees_only_its_purposes_categories(s: &Server) {
    let id = register_under(s, "contracts", customer("reads.smt@example.org")).await;
    sees_exactly(
        s,
        &id,
        "contracts",
        &["bank_details", "customer_number", "email", "first_name", "last_name"],
    )
    .await;
    for p in ["customer_relations", "support", "legal_obligations"] {
        s.problem(&read(s, &id, p).await, 403, "basis_not_established");
    }
    let unused = format!(
        "{REGISTER}\n[categories.health]\ntitle = \"Health\"\n\n[fields.diagnosis]\ncategory = \"health\"\ntype = \"text\"\n"
    );
    let problems = ward_core::policy::Policy::parse(&unused).unwrap_err();
    assert!(
        problems.iter().any(|p| p.message.contains("no purpose uses")),
        "{problems:?}"
    );
}

/// Rows 7, 16: product development and the website log rest on a legitimate interest (item
/// 7): they hold for nobody until the operator names its assessment, which the seed lost.
async fn legitimate_interests_wait_for_an_assessment(s: &Server) {
    let id = register_under(s, "contracts", customer("interest.smt@example.org")).await;
    for p in ["product_development", "website_operation"] {
        s.problem(&read(s, &id, p).await, 403, "basis_not_established");
        let r = s
            .post(
                &format!("/v1/subjects/{id}/bases"),
                &s.admin,
                json!({"purpose": p, "kind": "established", "evidence": {"reference": "log 1"}}),
            )
            .await;
        let problem = s.problem(&r, 422, "basis_event_not_applicable");
        assert!(problem["detail"].as_str().unwrap().contains("assessment"), "{problem}");
    }
}

/// Row 8: only declared fields.
async fn undeclared_fields_are_refused(s: &Server) {
    let mut fields = customer("fields.smt@example.org");
    fields["vat_id"] = json!("DE123456789");
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "contracts", "fields": fields}),
        )
        .await;
    let p = s.problem(&r, 422, "invalid_fields");
    assert_eq!(p["errors"][0]["field"], "vat_id", "{p}");
}

/// Rows 10, 11, 13: marketing (with the preference analysis) only on a prior consent; the next
/// read after a withdrawal is refused.
async fn marketing_needs_prior_consent(s: &Server) {
    let id = register_under(s, "contracts", customer("marketing.smt@example.org")).await;
    needs_consent(s, &id, "marketing_email").await;
}

/// Rows 10, 12.
async fn background_check_needs_its_own_consent(s: &Server) {
    let id = register_under(s, "contracts", customer("check.smt@example.org")).await;
    needs_consent(s, &id, "background_check").await;
}

/// Row 18: cookies rest on their own consent, not on the newsletter's.
async fn cookies_need_their_own_consent(s: &Server) {
    let id = register(
        s,
        json!({
            "purpose": "contracts",
            "fields": customer("cookies.smt@example.org"),
            "consents": ["marketing_email"],
            "evidence": web("checkbox"),
        }),
    )
    .await;
    needs_consent(s, &id, "cookie_settings").await;
}

/// Rows 22, 23: the contact form is a consent of its own (`enquiries`), its compulsory fields
/// (first and last name, e-mail) are required of it and of no other purpose, and it sees
/// only identity, contact and correspondence.
async fn the_contact_form_is_a_consent_with_its_compulsory_fields(s: &Server) {
    let form = |fields: Value| json!({"purpose": "enquiries", "fields": fields, "consents": ["enquiries"], "evidence": web("form_submission")});
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "enquiries", "fields": {"first_name": "Hans", "last_name": "Keller", "email": "form.smt@example.org"}}),
        )
        .await;
    s.problem(&r, 403, "consent_missing");
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            form(json!({"first_name": "Hans", "enquiry": "Price of the X200?"})),
        )
        .await;
    let p = s.problem(&r, 422, "invalid_fields");
    let missing: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["email", "last_name"], "{p}");
    let id = register(
        s,
        form(json!({"first_name": "Hans", "last_name": "Keller", "email": "form.smt@example.org", "phone": "+49 30 123456", "enquiry": "Price of the X200?"})),
    )
    .await;
    sees_exactly(
        s,
        &id,
        "enquiries",
        &["email", "enquiry", "first_name", "last_name", "phone"],
    )
    .await;
    // A support request needs none of them.
    register_under(s, "support", json!({"phone": "+49 30 654321"})).await;
}

/// Row 31: each caller has its own key, limited to its purposes; reads are journaled.
async fn each_key_reads_only_for_its_purposes(s: &Server) {
    let id = register_under(s, "contracts", customer("keys.smt@example.org")).await;
    let key = s.service_key(&["contracts"]).await;
    read(s, &id, "contracts").await.json_with(200);
    let r = s.get(&format!("/v1/subjects/{id}?purpose=contracts"), &key).await;
    r.json_with(200);
    for p in ["marketing_email", "legal_claims"] {
        let r = s.get(&format!("/v1/subjects/{id}?purpose={p}"), &key).await;
        s.problem(&r, 403, "purpose_not_allowed_for_key");
    }
    let report = s.get("/v1/journal/verify", &s.admin).await.json_with(200);
    assert_eq!(report["valid"], true, "{report}");
}
