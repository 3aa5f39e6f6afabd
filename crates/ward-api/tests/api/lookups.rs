//! Lookups see only what their purpose may: the field looked up by must be in one of the
//! purpose's categories, a match carries only the purpose's fields, and a subject the
//! purpose may not see is answered exactly as a value no one has, with nothing journaled.

use crate::support::{both_backends, Server};
use serde_json::{json, Value};

fn lookup(field: &str, value: &str, purpose: &str) -> Value {
    json!({"field": field, "value": value, "purpose": purpose})
}

async fn journal_seq(s: &Server) -> i64 {
    s.vault
        .store()
        .find_journal_head()
        .await
        .expect("the journal head")
        .map_or(0, |h| h.seq)
}

both_backends!(a_lookup_by_a_field_outside_the_purpose_is_refused_whatever_the_data);
async fn a_lookup_by_a_field_outside_the_purpose_is_refused_whatever_the_data(s: Server) {
    s.anna().await;
    // `accounting` uses identity and payment; e-mail and phone are contact details.
    let accountant = s.service_key(&["accounting"]).await;
    // `analytics` uses technical data only.
    let analyst = s.service_key(&["analytics"]).await;
    let before = journal_seq(&s).await;
    for (token, purpose) in [
        (&accountant, "accounting"),
        (&analyst, "analytics"),
        (&s.admin, "analytics"),
    ] {
        for (field, value) in [
            ("email", "anna.petrova@example.ru"),
            ("email", "nobody@example.org"),
            ("phone", "+7 916 123-45-67"),
        ] {
            let r = s
                .post("/v1/subjects/lookup", token, lookup(field, value, purpose))
                .await;
            let body = s.problem(&r, 403, "category_not_allowed");
            assert!(
                body["detail"].as_str().unwrap_or_default().contains("contact"),
                "{body}"
            );
        }
    }
    assert_eq!(journal_seq(&s).await, before, "a refused lookup reads nothing");
}

both_backends!(a_lookup_answers_only_the_fields_its_purpose_may_see);
async fn a_lookup_answers_only_the_fields_its_purpose_may_see(s: Server) {
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({
                "purpose": "payment",
                "fields": {
                    "email": "buyer@example.org",
                    "full_name": "Boris Buyer",
                    "billing_address": "Moscow, Arbat 2",
                },
            }),
        )
        .await;
    let id = r.json_with(201)["id"].as_str().expect("id").to_owned();
    // Boris then opens an account: registration is established for him too.
    let r = s
        .post(
            &format!("/v1/subjects/{id}/bases"),
            &s.admin,
            json!({"purpose": "registration", "kind": "established", "evidence": {"reference": "account 1"}}),
        )
        .await;
    r.json_with(201);
    let registrar = s.service_key(&["registration"]).await;
    let r = s
        .post(
            "/v1/subjects/lookup",
            &registrar,
            lookup("email", "buyer@example.org", "registration"),
        )
        .await;
    let body = r.json_with(200);
    assert_eq!(
        body,
        json!({"subjects": [{
            "id": id,
            "purpose": "registration",
            "fields": {"email": "buyer@example.org", "full_name": "Boris Buyer"},
        }]}),
        "payment's billing address is not registration's to see"
    );
}

both_backends!(a_lookup_whose_only_match_has_not_consented_reveals_nothing);
async fn a_lookup_whose_only_match_has_not_consented_reveals_nothing(s: Server) {
    // Registered for her account, with no consent to marketing.
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "registration", "fields": {"email": "vera@example.org"}}),
        )
        .await;
    r.json_with(201);
    let marketer = s.service_key(&["marketing"]).await;
    let before = journal_seq(&s).await;
    let registered = s
        .post(
            "/v1/subjects/lookup",
            &marketer,
            lookup("email", "vera@example.org", "marketing"),
        )
        .await;
    let unknown = s
        .post(
            "/v1/subjects/lookup",
            &marketer,
            lookup("email", "nobody@example.org", "marketing"),
        )
        .await;
    assert_eq!(registered.status, 200, "{}", registered.text);
    assert_eq!(registered.json(), json!({"subjects": []}));
    assert_eq!(
        (registered.status, registered.text.as_str()),
        (unknown.status, unknown.text.as_str()),
        "a registered value without consent is answered as a value no one has"
    );
    // The answer says nothing; the journal (the officer's, never the caller's) records that
    // Vera's e-mail was opened to compare it, and nothing for the value no one has.
    assert_eq!(
        journal_seq(&s).await,
        before + 1,
        "only the comparison that opened a value is journaled"
    );

    // With the purpose's basis in place, the same lookup finds her (and is journaled).
    let r = s
        .post(
            "/v1/subjects/lookup",
            &s.admin,
            lookup("email", "vera@example.org", "registration"),
        )
        .await;
    assert_eq!(r.json_with(200)["subjects"].as_array().map(Vec::len), Some(1));
    assert_eq!(journal_seq(&s).await, before + 2);
}
