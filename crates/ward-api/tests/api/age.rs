//! Age and capacity: who may consent alone, per jurisdiction, and consent given by others.

use crate::support::{both_backends, fresh_email, Server};
use serde_json::{json, Value};
use ward_core::policy::DEFAULT_POLICY;

fn minor(birth_date: &str, evidence: Value) -> Value {
    json!({
        "purpose": "registration",
        "fields": {"email": fresh_email("kid"), "full_name": "Kid", "birth_date": birth_date},
        "consents": ["marketing"],
        "evidence": evidence,
    })
}

fn parent(method: &str, verification: Option<&str>) -> Value {
    let mut given_by = json!({
        "role": "parent",
        "name": "Maria Ivanova",
        "identity_document": "passport 4510 123456, issued 2015-03-01 by OVD Tverskoy",
        "authority": "birth certificate IV-MJU 654321",
    });
    if let Some(v) = verification {
        given_by["verification"] = json!(v);
    }
    let mut evidence = json!({"channel": "web_form", "method": method, "given_by": given_by});
    if method == "e_signature" {
        // A simple e-signature: the confirmation code the parent entered.
        evidence["signature"] = json!({
            "level": "simple",
            "format": "confirmation",
            "artefact": "Y29kZSA0NzExIHNlbnQgYW5kIGVudGVyZWQ=",
            "verification": {"verifier": "operator's SMS gateway", "verified_at": "2026-03-01T08:00:00Z", "result": "valid"},
        });
    }
    evidence
}

both_backends!(russian_minors_need_a_parent_and_fourteen_to_seventeen_a_written_consent);
async fn russian_minors_need_a_parent_and_fourteen_to_seventeen_a_written_consent(s: Server) {
    // The test clock stands at 2026-03-01.
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            minor("2011-06-01", json!({"channel": "web_form", "method": "checkbox"})),
        )
        .await;
    let p = s.problem(&r, 422, "guardian_consent_required");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("under 18 (RU, Civil Code Art. 26)"), "{detail}");
    assert!(!detail.contains("kid@example.org"), "{detail}");

    // A parent's consent by checkbox is not written consent.
    let r = s
        .post("/v1/subjects", &s.admin, minor("2011-06-01", parent("checkbox", None)))
        .await;
    s.problem(&r, 422, "guardian_consent_required");
    let r = s
        .post("/v1/subjects", &s.admin, minor("2011-06-01", parent("written", None)))
        .await;
    r.json_with(201);
    // Under 14 the parent acts; an e-signed consent counts as written.
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            minor("2015-06-01", parent("e_signature", None)),
        )
        .await;
    r.json_with(201);
    // Adults consent alone.
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            minor("1990-06-01", json!({"channel": "web_form", "method": "checkbox"})),
        )
        .await;
    r.json_with(201);
}

both_backends!(coppa_needs_verified_parental_consent_and_the_eu_sixteen);
async fn coppa_needs_verified_parental_consent_and_the_eu_sixteen(s: Server) {
    let register = DEFAULT_POLICY
        .replace("jurisdictions = [\"RU\"]", "jurisdictions = [\"US\", \"EU\"]")
        .replace("version = \"1\"", "version = \"us-eu\"");
    s.post("/v1/policy/versions", &s.admin, json!({"register": register}))
        .await
        .json_with(201);

    // 12 in the US: COPPA wants the verification recorded.
    let r = s
        .post("/v1/subjects", &s.admin, minor("2013-06-01", parent("checkbox", None)))
        .await;
    let p = s.problem(&r, 422, "guardian_consent_required");
    assert!(p["detail"].as_str().unwrap().contains("COPPA"), "{p}");
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            minor(
                "2013-06-01",
                parent("checkbox", Some("signed consent form returned by post")),
            ),
        )
        .await;
    r.json_with(201);
    // 15: the EU's 16 applies, COPPA does not.
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            minor("2010-06-01", json!({"channel": "web_form"})),
        )
        .await;
    let p = s.problem(&r, 422, "guardian_consent_required");
    assert!(p["detail"].as_str().unwrap().contains("GDPR Art. 8(1)"), "{p}");
}

both_backends!(a_representative_consents_with_a_power_of_attorney);
async fn a_representative_consents_with_a_power_of_attorney(s: Server) {
    let id = s.anna().await;
    let body = json!({
        "purpose": "analytics",
        "evidence": {
            "channel": "paper",
            "method": "written",
            "text_ref": "consent-form-2026-03 v1",
            "given_by": {
                "role": "representative",
                "name": "Pyotr Sidorov",
                "identity_document": "passport 4511 222333",
                "authority": "power of attorney 77 AA 1234567 of 2026-02-10",
            }
        }
    });
    let r = s.post(&format!("/v1/subjects/{id}/consents"), &s.admin, body).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let overview = s
        .get(&format!("/v1/subjects/{id}/consents"), &s.admin)
        .await
        .json_with(200);
    let analytics = overview["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purpose"] == "analytics")
        .unwrap()
        .clone();
    assert_eq!(analytics["state"], "given");
    assert_eq!(
        analytics["expires_at"], "2027-03-01T09:00:00Z",
        "the analytics document's one-year term"
    );

    // A role Ward does not know is refused.
    let bad = json!({"purpose": "analytics", "evidence": {"channel": "paper", "given_by": {"role": "friend", "name": "x", "identity_document": "y", "authority": "z"}}});
    let r = s.post(&format!("/v1/subjects/{id}/consents"), &s.admin, bad).await;
    s.problem(&r, 400, "invalid_json");
}
