//! Seed 001 (Flatris): its kept promises, on `examples/policies/seed-001-flatris.toml`.

use super::{
    change, needs_consent, read, register, register_under, sealed_at_rest, seed_cases, seed_diff, sees_exactly,
};
use crate::support::Server;
use serde_json::{json, Value};

const REGISTER: &str = include_str!("../../../../../examples/policies/seed-001-flatris.toml");

seed_cases!(
    seed_001,
    REGISTER,
    None,
    [
        sealed_at_rest_and_journaled,
        no_consent_is_implied_by_registering,
        a_version_and_its_diff_flag_the_transfers_abroad,
        analytics_by_google_needs_consent,
        google_sign_in_is_an_account_field,
        contact_details_and_payment_details_are_mandatory,
        website_operation_collects_technical_data_once_established,
        undeclared_fields_are_refused,
        payment_holds_once_the_user_pays,
        personalisation_needs_a_functional_cookie_consent,
        marketing_needs_an_advertising_cookie_consent,
        a_read_sees_only_its_purposes_categories,
        software_registration_needs_its_own_consent,
        one_account_per_email_address,
    ]
);

fn user(email: &str) -> Value {
    json!({"email": email, "phone": "+7 916 111-22-33"})
}

/// Rows 6, 27, 29: sealed with the subject's key, nothing in clear in the store; the journal
/// verifies.
async fn sealed_at_rest_and_journaled(s: &Server) {
    let id = register_under(
        s,
        "personalised_services",
        json!({"full_name": "Olga Sealed", "email": "sealed.flatris@example.org", "phone": "+7 916 222-33-44"}),
    )
    .await;
    read(s, &id, "personalised_services").await.json_with(200);
    sealed_at_rest(s, &["sealed.flatris@example.org", "Olga Sealed", "79162223344"]).await;
}

/// Rows 1, 24: registering opens the contract purpose collected under, nothing consent-based.
async fn no_consent_is_implied_by_registering(s: &Server) {
    let id = register_under(s, "identification", user("implied.flatris@example.org")).await;
    read(s, &id, "identification").await.json_with(200);
    for p in [
        "software_registration",
        "personalisation",
        "service_improvement",
        "marketing",
    ] {
        s.problem(&read(s, &id, p).await, 403, "consent_missing");
    }
    s.problem(&read(s, &id, "payment").await, 403, "basis_not_established");
}

/// Rows 2, 9: the register is a published version whose diff says what each change needs:
/// the transfer to LiqPay (Ukraine) is cross-border.
async fn a_version_and_its_diff_flag_the_transfers_abroad(s: &Server) {
    let diff = seed_diff(s).await;
    let c = change(&diff, "recipient_added", "payment");
    assert!(
        c["requires"].as_array().unwrap().contains(&json!("cross_border")),
        "{c}"
    );
    assert!(c["description"].as_str().unwrap().contains("liqpay"), "{c}");
}

/// Rows 3, 17: Google Analytics data is personal data: `service_improvement` rests on consent.
async fn analytics_by_google_needs_consent(s: &Server) {
    let id = register_under(s, "identification", user("analytics.flatris@example.org")).await;
    needs_consent(s, &id, "service_improvement").await;
}

/// Row 5: the Google account is an account field of `identification` (contract).
async fn google_sign_in_is_an_account_field(s: &Server) {
    let mut fields = user("google.flatris@example.org");
    fields["google_account"] = json!("g-1234567890");
    let id = register_under(s, "identification", fields).await;
    sees_exactly(s, &id, "identification", &["email", "google_account", "phone"]).await;
}

/// Row 7: e-mail and phone are required wherever contact details are collected, payment
/// details under `payment`; a required field cannot be removed.
async fn contact_details_and_payment_details_are_mandatory(s: &Server) {
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "identification", "fields": {"email": "nophone.flatris@example.org"}}),
        )
        .await;
    let p = s.problem(&r, 422, "invalid_fields");
    assert_eq!(
        p["errors"],
        json!([{"field": "phone", "message": "this field is required"}]),
        "{p}"
    );
    let bases = json!([{"purpose": "payment", "kind": "established", "evidence": {"reference": "LiqPay order 7"}}]);
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "payment", "fields": user("nopay.flatris@example.org"), "bases": bases}),
        )
        .await;
    let p = s.problem(&r, 422, "invalid_fields");
    assert_eq!(p["errors"][0]["field"], "payment_details", "{p}");
    let id = register_under(s, "identification", user("keep.flatris@example.org")).await;
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=identification"),
            &s.admin,
            json!({"fields": {"email": null}}),
        )
        .await;
    s.problem(&r, 422, "invalid_fields");
}

/// Row 11 (and the defect it had): `website_operation` uses technical data only, so the
/// contact details it does not use are not required of it; it holds once its basis is
/// recorded, which the website can do in the registration itself. The cookie purposes need
/// their own consent.
async fn website_operation_collects_technical_data_once_established(s: &Server) {
    let visit = json!({"ip_address": "203.0.113.50", "browser": "Firefox 128, ru-RU"});
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "website_operation", "fields": visit}),
        )
        .await;
    s.problem(&r, 403, "basis_not_established");
    let id = register(
        s,
        json!({
            "purpose": "website_operation",
            "fields": visit,
            "bases": [{"purpose": "website_operation", "kind": "established", "evidence": {"reference": "visit log 2026-03-01"}}],
        }),
    )
    .await;
    sees_exactly(s, &id, "website_operation", &["browser", "ip_address"]).await;
    for p in ["personalisation", "marketing"] {
        s.problem(&read(s, &id, p).await, 403, "consent_missing");
    }
}

/// Row 8: nothing undeclared can be collected.
async fn undeclared_fields_are_refused(s: &Server) {
    let mut fields = user("fields.flatris@example.org");
    fields["skype"] = json!("olga.k");
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "identification", "fields": fields}),
        )
        .await;
    let p = s.problem(&r, 422, "invalid_fields");
    assert_eq!(p["errors"][0]["field"], "skype", "{p}");
}

/// Row 9: `payment` needs no consent but holds only once the user pays: after the fact (a
/// recorded event) or at checkout (the registration carries the event).
async fn payment_holds_once_the_user_pays(s: &Server) {
    let id = register_under(
        s,
        "personalised_services",
        json!({"full_name": "Olga", "email": "olga.flatris@example.org", "phone": "+7 916 111-22-33"}),
    )
    .await;
    s.problem(&read(s, &id, "payment").await, 403, "basis_not_established");
    let r = s
        .post(
            &format!("/v1/subjects/{id}/bases"),
            &s.admin,
            json!({"purpose": "payment", "kind": "established", "evidence": {"reference": "LiqPay order 42"}}),
        )
        .await;
    assert_eq!(r.json_with(201)["state"], "established");
    assert_eq!(
        read(s, &id, "payment").await.json_with(200)["fields"]["full_name"],
        "Olga"
    );

    let mut fields = user("checkout.flatris@example.org");
    fields["payment_details"] = json!("liqpay tok_77");
    let id = register(
        s,
        json!({
            "purpose": "payment",
            "fields": fields,
            "bases": [{"purpose": "payment", "kind": "established", "evidence": {"reference": "LiqPay order 43"}}],
        }),
    )
    .await;
    sees_exactly(s, &id, "payment", &["email", "payment_details", "phone"]).await;
    let bases = s
        .get(&format!("/v1/subjects/{id}/bases"), &s.admin)
        .await
        .json_with(200);
    let events: Vec<&Value> = bases["events"].as_array().unwrap().iter().collect();
    assert_eq!(
        events.len(),
        1,
        "the event given, not a second one by collection: {bases}"
    );
}

/// Rows 12, 25.
async fn personalisation_needs_a_functional_cookie_consent(s: &Server) {
    let id = register_under(s, "identification", user("personal.flatris@example.org")).await;
    needs_consent(s, &id, "personalisation").await;
}

/// Rows 13, 20, 25.
async fn marketing_needs_an_advertising_cookie_consent(s: &Server) {
    let id = register_under(s, "identification", user("ads.flatris@example.org")).await;
    needs_consent(s, &id, "marketing").await;
    let policy = s.get("/v1/policy", &s.admin).await.json_with(200);
    assert_eq!(policy["purposes"]["marketing"]["legal_basis"], "consent");
}

/// Rows 15, 16: reads return only the purpose's categories; `legal_duties` holds only once a
/// duty arises; a field no purpose needs is a validation error.
async fn a_read_sees_only_its_purposes_categories(s: &Server) {
    let id = register_under(
        s,
        "personalised_services",
        json!({"full_name": "Olga", "organisation": "Flat LLC", "email": "reads.flatris@example.org", "phone": "+7 916 111-22-34", "google_account": "g-1"}),
    )
    .await;
    sees_exactly(
        s,
        &id,
        "personalised_services",
        &["email", "full_name", "google_account", "organisation", "phone"],
    )
    .await;
    for p in ["identification", "legal_duties", "statistics"] {
        s.problem(&read(s, &id, p).await, 403, "basis_not_established");
    }
    let unused = format!("{REGISTER}\n[categories.health]\ntitle = \"Health\"\n\n[fields.diagnosis]\ncategory = \"health\"\ntype = \"text\"\n");
    let problems = ward_core::policy::Policy::parse(&unused).unwrap_err();
    assert!(
        problems.iter().any(|p| p.message.contains("no purpose uses")),
        "{problems:?}"
    );
}

/// Row 19: registration with software vendors only on its own consent.
async fn software_registration_needs_its_own_consent(s: &Server) {
    let id = register_under(s, "identification", user("vendors.flatris@example.org")).await;
    needs_consent(s, &id, "software_registration").await;
}

/// Row 31: one account per e-mail address; once the user is erased, the address is free.
async fn one_account_per_email_address(s: &Server) {
    let first = register_under(s, "identification", user("account.flatris@example.org")).await;
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "identification", "fields": user("ACCOUNT.flatris@example.org")}),
        )
        .await;
    s.problem(&r, 409, "duplicate_value");
    let r = s
        .delete(&format!("/v1/subjects/{first}?reason=subject_request"), &s.admin)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let again = register_under(s, "identification", user("account.flatris@example.org")).await;
    assert_ne!(again, first);
}
