//! Seed 000 (FLEX): its kept promises, on `examples/policies/seed-000-flex.toml`.

use super::{
    consent, needs_consent, publish, read, refuses_consent, register, register_under, sealed_at_rest, seed_cases,
    sees_exactly, web, withdraw,
};
use crate::support::Server;
use serde_json::{json, Value};
use time::macros::datetime;

const REGISTER: &str = include_str!("../../../../../examples/policies/seed-000-flex.toml");
const TEXT: &str = include_str!("../../../../../examples/policies/seed-000-flex.md");

seed_cases!(
    seed_000,
    REGISTER,
    Some(TEXT),
    [
        sealed_at_rest_and_journaled,
        contract_purposes_need_no_consent_and_refuse_one,
        each_consent_is_its_own_document_with_a_receipt,
        a_read_sees_only_its_purposes_categories,
        marketing_needs_its_own_consent,
        service_improvement_needs_its_own_consent,
        cookie_analytics_needs_its_own_consent,
        service_notices_go_on_after_a_marketing_opt_out,
        a_withdrawal_leaves_the_rest_due_for_destruction,
        policy_compliance_holds_once_a_duty_arises,
        claims_and_rights_protection_keep_to_their_categories,
        an_action_the_purpose_does_not_cover_is_refused,
        every_purpose_declares_its_methods,
        undeclared_fields_are_refused,
        no_consent_is_implied_by_providing_data,
        a_representative_consents_in_writing,
        no_one_under_eighteen_even_with_a_parent,
        an_amendment_is_a_version_in_force_from_its_date,
        a_new_version_never_widens_a_consent,
        one_account_per_email_address,
    ]
);

fn customer(email: &str) -> Value {
    json!({"full_name": "Ivan Petrov", "company_name": "Petrov LLC", "email": email, "phone": "+7 916 123-45-67"})
}

/// Rows 1, 19, 35: sealed with the subject's key, nothing in clear in the store; reads are
/// journaled, and the journal verifies.
async fn sealed_at_rest_and_journaled(s: &Server) {
    let before = s.get("/v1/journal/verify", &s.admin).await.json_with(200)["entries"]
        .as_i64()
        .unwrap();
    let id = register_under(s, "services", customer("sealed.flex@example.org")).await;
    read(s, &id, "services").await.json_with(200);
    let after = s.get("/v1/journal/verify", &s.admin).await.json_with(200)["entries"]
        .as_i64()
        .unwrap();
    assert!(
        after >= before + 2,
        "the collection and the read are journaled: {before} → {after}"
    );
    sealed_at_rest(s, &["sealed.flex@example.org", "Petrov LLC", "79161234567"]).await;
}

/// Rows 5, 23: the service, account, payment and claims purposes rest on the contract; none
/// can be given a consent.
async fn contract_purposes_need_no_consent_and_refuse_one(s: &Server) {
    let id = register_under(s, "services", customer("contract.flex@example.org")).await;
    read(s, &id, "services").await.json_with(200);
    for p in ["services", "account", "payment", "claims", "service_announcements"] {
        refuses_consent(s, &id, p).await;
    }
}

/// Rows 6, 7: one document per consent, each its own event; the receipt names the document,
/// the version's hash and the evidence.
async fn each_consent_is_its_own_document_with_a_receipt(s: &Server) {
    let id = register(
        s,
        json!({
            "purpose": "services",
            "fields": customer("receipt.flex@example.org"),
            "consents": ["marketing_email", "service_improvement"],
            "evidence": {"channel": "web_form", "method": "checkbox", "ip": "203.0.113.9", "user_agent": "Firefox"},
        }),
    )
    .await;
    let hash = s.get("/v1/policy", &s.admin).await.json_with(200)["hash"].clone();
    for (purpose, document) in [
        ("marketing_email", "marketing_email"),
        ("service_improvement", "general"),
    ] {
        let r = s
            .get(&format!("/v1/subjects/{id}/consents/{purpose}/receipt"), &s.admin)
            .await
            .json_with(200);
        assert_eq!(r["document"]["name"], document, "{r}");
        assert_eq!(r["policy_hash"], hash, "{r}");
        assert_eq!(r["evidence"]["ip"], "203.0.113.9", "{r}");
        assert_eq!(r["evidence"]["method"], "checkbox", "{r}");
        assert_eq!(r["events"].as_array().unwrap().len(), 1, "{r}");
    }
    let r = s
        .get(
            &format!("/v1/subjects/{id}/consents/cookie_analytics/receipt"),
            &s.admin,
        )
        .await;
    assert_eq!(r.status, 404, "no consent, no receipt: {}", r.text);
}

/// Rows 8, 13, 25: every read names a purpose and sees only its categories; a key is limited
/// to its purposes.
async fn a_read_sees_only_its_purposes_categories(s: &Server) {
    let mut fields = customer("reads.flex@example.org");
    fields["card_details"] = json!("tok_4242");
    let id = register_under(s, "payment", fields).await;
    sees_exactly(
        s,
        &id,
        "payment",
        &["card_details", "company_name", "email", "full_name", "phone"],
    )
    .await;
    let r = s.get(&format!("/v1/subjects/{id}"), &s.admin).await;
    s.problem(&r, 400, "purpose_required");
    let key = s.service_key(&["services"]).await;
    let r = s.get(&format!("/v1/subjects/{id}?purpose=payment"), &key).await;
    s.problem(&r, 403, "purpose_not_allowed_for_key");
}

/// Rows 10, 20, 28: marketing by e-mail only with a consent on record; the next read after a
/// withdrawal is refused.
async fn marketing_needs_its_own_consent(s: &Server) {
    let id = register_under(s, "services", customer("marketing.flex@example.org")).await;
    needs_consent(s, &id, "marketing_email").await;
}

/// Row 11.
async fn service_improvement_needs_its_own_consent(s: &Server) {
    let id = register_under(s, "services", customer("improve.flex@example.org")).await;
    needs_consent(s, &id, "service_improvement").await;
}

/// Row 33.
async fn cookie_analytics_needs_its_own_consent(s: &Server) {
    let id = register_under(s, "services", customer("cookies.flex@example.org")).await;
    needs_consent(s, &id, "cookie_analytics").await;
}

/// Rows 9, 29: service announcements go on after a marketing opt-out; marketing does not.
async fn service_notices_go_on_after_a_marketing_opt_out(s: &Server) {
    let id = register(
        s,
        json!({
            "purpose": "services",
            "fields": customer("notices.flex@example.org"),
            "consents": ["marketing_email"],
            "evidence": web("checkbox"),
        }),
    )
    .await;
    let contact = |class: &str| format!("/v1/subjects/{id}/contact?class={class}&channel=email");
    assert_eq!(
        s.get(&contact("marketing"), &s.admin).await.json_with(200)["allowed"],
        true
    );
    withdraw(s, &id, "marketing_email").await;
    let m = s.get(&contact("marketing"), &s.admin).await.json_with(200);
    assert_eq!(m["allowed"], false, "{m}");
    let n = s.get(&contact("service"), &s.admin).await.json_with(200);
    assert_eq!(
        (&n["allowed"], &n["purpose"]),
        (&json!(true), &json!("service_announcements")),
        "{n}"
    );
}

/// Rows 20, 21 (the consent text says the data is deleted): the rights-protection, disclosure
/// and aggregate purposes hold only once an event establishes them, so a withdrawal leaves the
/// data no remaining purpose needs due for destruction within 30 days.
async fn a_withdrawal_leaves_the_rest_due_for_destruction(s: &Server) {
    let id = register(
        s,
        json!({
            "purpose": "services",
            "fields": {"full_name": "Ivan Petrov", "email": "withdraw.flex@example.org", "cookie_id": "c-000-1"},
            "consents": ["cookie_analytics"],
            "evidence": web("checkbox"),
        }),
    )
    .await;
    s.clock.set(datetime!(2026-04-01 10:00 UTC));
    let w = withdraw(s, &id, "cookie_analytics").await;
    assert_eq!(
        w["destruction"],
        json!({"by": "2026-05-01T10:00:00Z", "categories": ["technical"]}),
        "{w}"
    );
    assert_eq!(w["continuing"], json!([]), "no other purpose uses technical data: {w}");
    let bases = s
        .get(&format!("/v1/subjects/{id}/bases"), &s.admin)
        .await
        .json_with(200);
    for p in ["rights_protection", "legal_disclosure", "aggregate_data"] {
        let b = bases["bases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["purpose"] == p)
            .unwrap();
        assert_eq!(
            (&b["state"], &b["established_by"]),
            (&json!("not_established"), &json!("event")),
            "{b}"
        );
    }
}

/// Row 12: `policy_compliance` is a legal obligation that holds once a duty arises for the
/// customer (recorded with evidence), not for everyone.
async fn policy_compliance_holds_once_a_duty_arises(s: &Server) {
    let id = register_under(s, "services", customer("duty.flex@example.org")).await;
    s.problem(&read(s, &id, "policy_compliance").await, 403, "basis_not_established");
    let r = s
        .post(
            &format!("/v1/subjects/{id}/bases"),
            &s.admin,
            json!({"purpose": "policy_compliance", "kind": "established", "evidence": {"reference": "request 2026-17"}}),
        )
        .await;
    assert_eq!(r.json_with(201)["state"], "established");
    sees_exactly(
        s,
        &id,
        "policy_compliance",
        &["company_name", "email", "full_name", "phone"],
    )
    .await;
}

/// Row 13: `claims` (contract) sees identity, contact and payment; `rights_protection`
/// (legitimate interest) cannot be established while the register names no assessment.
async fn claims_and_rights_protection_keep_to_their_categories(s: &Server) {
    let id = register_under(
        s,
        "claims",
        json!({"full_name": "Ivan Petrov", "email": "claims.flex@example.org", "card_details": "tok_1"}),
    )
    .await;
    sees_exactly(s, &id, "claims", &["card_details", "email", "full_name"]).await;
    s.problem(&read(s, &id, "rights_protection").await, 403, "basis_not_established");
    let r = s
        .post(
            &format!("/v1/subjects/{id}/bases"),
            &s.admin,
            json!({"purpose": "rights_protection", "kind": "established", "evidence": {"reference": "dispute 1"}}),
        )
        .await;
    let p = s.problem(&r, 422, "basis_event_not_applicable");
    assert!(p["detail"].as_str().unwrap().contains("assessment"), "{p}");
}

/// Row 17: each purpose covers only its actions; no purpose covers `distribution`.
async fn an_action_the_purpose_does_not_cover_is_refused(s: &Server) {
    let id = register_under(s, "services", customer("actions.flex@example.org")).await;
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=service_announcements"),
            &s.admin,
            json!({"fields": {"phone": "+7 916 000-00-00"}}),
        )
        .await;
    s.problem(&r, 403, "action_not_covered");
    let policy = s.get("/v1/policy", &s.admin).await.json_with(200);
    for (name, p) in policy["purposes"].as_object().unwrap() {
        assert!(
            !p["actions"].as_array().unwrap().contains(&json!("distribution")),
            "{name}"
        );
    }
    assert!(policy["purposes"]["services"]["actions"]
        .as_array()
        .unwrap()
        .contains(&json!("provision")));
}

/// Row 18: mixed processing, declared per purpose (the register in force is the seed's).
async fn every_purpose_declares_its_methods(s: &Server) {
    let policy = ward_core::policy::Policy::parse(REGISTER).expect("the seed's register");
    let hash = s.get("/v1/policy", &s.admin).await.json_with(200)["hash"].clone();
    let version = s
        .get(
            &format!("/v1/policy/versions/{}", &hash.as_str().unwrap()[..12]),
            &s.admin,
        )
        .await
        .json_with(200);
    assert!(version["register"]
        .as_str()
        .unwrap()
        .contains("[purposes.aggregate_data]"));
    for (name, p) in &policy.purposes {
        let methods: Vec<&str> = p.methods.iter().map(|m| m.as_str()).collect();
        // Cookies and aggregates are processed by machine alone.
        let expected: &[&str] = if name == "aggregate_data" || name == "cookie_analytics" {
            &["automated"]
        } else {
            &["automated", "manual"]
        };
        assert_eq!(methods, expected, "{name}");
    }
}

/// Row 25: the register declares the seed's fields; anything else is refused at collection.
async fn undeclared_fields_are_refused(s: &Server) {
    let mut fields = customer("fields.flex@example.org");
    fields["passport"] = json!("4511 222333");
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "services", "fields": fields}),
        )
        .await;
    let p = s.problem(&r, 422, "invalid_fields");
    assert_eq!(p["errors"][0]["field"], "passport", "{p}");
}

/// Row 26: providing data opens only the contract purpose it was collected under.
async fn no_consent_is_implied_by_providing_data(s: &Server) {
    let id = register_under(s, "services", customer("implied.flex@example.org")).await;
    for p in ["marketing_email", "service_improvement", "cookie_analytics"] {
        s.problem(&read(s, &id, p).await, 403, "consent_missing");
    }
    s.problem(&read(s, &id, "account").await, 403, "basis_not_established");
    read(s, &id, "services").await.json_with(200);
}

/// Row 24: a representative consents for the subject, in writing, named with their identity
/// document and authority.
async fn a_representative_consents_in_writing(s: &Server) {
    let id = register_under(s, "services", customer("represented.flex@example.org")).await;
    let body = json!({
        "purpose": "service_improvement",
        "evidence": {
            "channel": "paper",
            "method": "written",
            "given_by": {
                "role": "representative",
                "name": "Pyotr Sidorov",
                "identity_document": "passport 4511 222333",
                "authority": "power of attorney 77 AA 1234567",
            }
        }
    });
    let r = s.post(&format!("/v1/subjects/{id}/consents"), &s.admin, body).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let receipt = s
        .get(
            &format!("/v1/subjects/{id}/consents/service_improvement/receipt"),
            &s.admin,
        )
        .await
        .json_with(200);
    assert_eq!(receipt["evidence"]["method"], "written", "{receipt}");
    assert_eq!(receipt["evidence"]["given_by"]["role"], "representative", "{receipt}");
}

/// Row 30: no one under 18 is admitted, not even with a parent's written consent, which the
/// law would accept: the seed promises to collect nothing from them (`minimum_age`).
async fn no_one_under_eighteen_even_with_a_parent(s: &Server) {
    let body = |age: &str, evidence: Value| json!({"purpose": "services", "fields": customer("minor.flex@example.org"), "age_band": age, "evidence": evidence});
    let parent = json!({
        "channel": "paper",
        "method": "written",
        "given_by": {"role": "parent", "name": "Olga Petrova", "identity_document": "passport 4500 000001", "authority": "birth certificate"},
    });
    for age in ["16-17", "12"] {
        let r = s.post("/v1/subjects", &s.admin, body(age, web("checkbox"))).await;
        s.problem(&r, 422, "below_minimum_age");
        let r = s.post("/v1/subjects", &s.admin, body(age, parent.clone())).await;
        s.problem(&r, 422, "below_minimum_age");
    }
    register(s, body("18+", web("checkbox"))).await;
}

/// Row 2: an amendment is published as a version, in force from its `effective_at`.
async fn an_amendment_is_a_version_in_force_from_its_date(s: &Server) {
    let now = s.get("/v1/policy", &s.admin).await.json_with(200)["hash"].clone();
    let amended = REGISTER.replace("version = \"1\"", "version = \"2\"");
    let register: String = amended
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
            json!({"register": register, "text": TEXT, "effective_at": "2030-01-01T00:00:00Z"}),
        )
        .await
        .json_with(201);
    assert_eq!(r["new"], true, "{r}");
    assert_eq!(
        s.get("/v1/policy", &s.admin).await.json_with(200)["hash"],
        now,
        "not yet in force"
    );
    s.clock.set(datetime!(2030-01-01 00:00:01 UTC));
    assert_eq!(s.get("/v1/policy", &s.admin).await.json_with(200)["version"], "2");
}

/// Rows 3, 27: a version that widens a consent purpose does not widen the consents given:
/// the new scope is not used, and asking for it is refused until the subject consents again.
async fn a_new_version_never_widens_a_consent(s: &Server) {
    let mut fields = customer("widen.flex@example.org");
    fields["cookie_id"] = json!("c-000-widen");
    let id = register(
        s,
        json!({
            "purpose": "services",
            "fields": fields,
            "consents": ["marketing_email", "cookie_analytics"],
            "evidence": web("checkbox"),
        }),
    )
    .await;
    let widened = REGISTER.replace(
        "categories = [\"identity\", \"contact\"]\nactions = [\"collection\", \"recording\", \"storage\", \"retrieval\", \"use\", \"deletion\", \"destruction\"]",
        "categories = [\"identity\", \"contact\", \"technical\"]\nactions = [\"collection\", \"recording\", \"storage\", \"retrieval\", \"use\", \"deletion\", \"destruction\"]",
    );
    assert_ne!(widened, REGISTER, "marketing_email's categories line");
    let p = publish(s, &widened.replace("version = \"1\"", "version = \"3\""), Some(TEXT)).await;
    let c = super::change(&p, "categories_widened", "marketing_email");
    assert!(c["requires"].as_array().unwrap().contains(&json!("new_consent")), "{c}");
    let before = ["company_name", "email", "full_name", "phone"];
    sees_exactly(s, &id, "marketing_email", &before).await;
    let r = s
        .get(
            &format!("/v1/subjects/{id}?purpose=marketing_email&fields=cookie_id"),
            &s.admin,
        )
        .await;
    s.problem(&r, 403, "consent_scope_exceeded");
    consent(s, &id, "marketing_email").await;
    sees_exactly(
        s,
        &id,
        "marketing_email",
        &["company_name", "cookie_id", "email", "full_name", "phone"],
    )
    .await;
}

/// Row 37: one Account per e-mail address: a second registration with it, however written,
/// and a rectification onto it are refused, naming the field, never the address.
async fn one_account_per_email_address(s: &Server) {
    let first = register_under(s, "account", customer("account.flex@example.org")).await;
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "account", "fields": customer("Account.Flex@Example.org")}),
        )
        .await;
    let problem = s.problem(&r, 409, "duplicate_value");
    assert!(
        !problem.to_string().to_lowercase().contains("account.flex"),
        "{problem}"
    );
    let other = register_under(s, "account", customer("other.flex@example.org")).await;
    let r = s
        .patch(
            &format!("/v1/subjects/{other}?purpose=account"),
            &s.admin,
            json!({"fields": {"email": "account.flex@example.org"}}),
        )
        .await;
    s.problem(&r, 409, "duplicate_value");
    read(s, &first, "account").await.json_with(200);
}
