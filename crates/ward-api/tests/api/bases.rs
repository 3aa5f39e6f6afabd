//! Legal bases other than consent hold for a subject only once established: a newsletter-only
//! subject is nobody's registered user, and falls due for destruction when they unsubscribe;
//! a subject who paid keeps `accounting` for its retention period, counted from the payment,
//! and then falls due.

use crate::support::{both_backends, Server};
use serde_json::{json, Value};
use time::macros::datetime;
use ward_core::Caller;

fn basis<'a>(overview: &'a Value, purpose: &str) -> &'a Value {
    overview["bases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["purpose"] == purpose)
        .unwrap_or_else(|| panic!("no {purpose} in {overview}"))
}

async fn bases(s: &Server, id: &str) -> Value {
    s.get(&format!("/v1/subjects/{id}/bases"), &s.admin)
        .await
        .json_with(200)
}

both_backends!(a_newsletter_only_subject_is_not_read_for_registration_and_falls_due);
async fn a_newsletter_only_subject_is_not_read_for_registration_and_falls_due(s: Server) {
    let website = s.service_key(&["registration", "marketing"]).await;
    let r = s
        .post(
            "/v1/subjects",
            &website,
            json!({
                "purpose": "marketing",
                "fields": {"email": "reader@example.com", "full_name": "Nina Reader"},
                "consents": ["marketing"],
                "evidence": {"channel": "newsletter_form"},
            }),
        )
        .await;
    let id = r.json_with(201)["id"].as_str().unwrap().to_owned();

    // The policy lists registration (a contract), but nothing established it for Nina.
    let r = s
        .get(&format!("/v1/subjects/{id}?purpose=registration"), &website)
        .await;
    let p = s.problem(&r, 403, "basis_not_established");
    assert!(p["detail"].as_str().unwrap().contains("`contract`"), "{p}");
    let r = s.get(&format!("/v1/subjects/{id}?purpose=marketing"), &website).await;
    assert_eq!(r.json_with(200)["fields"]["email"], "reader@example.com");
    let overview = bases(&s, &id).await;
    assert_eq!(basis(&overview, "registration")["state"], "not_established");
    assert_eq!(basis(&overview, "registration")["established_by"], "collection");
    assert_eq!(basis(&overview, "accounting")["established_by"], "event");

    // Unsubscribing leaves nothing to continue on: all of it falls due within 30 days.
    s.clock.set(datetime!(2026-04-01 10:00 UTC));
    let r = s
        .delete(&format!("/v1/subjects/{id}/consents/marketing"), &website)
        .await;
    let w = r.json_with(200);
    assert_eq!(w["continuing"], json!([]));
    assert_eq!(
        w["destruction"],
        json!({"by": "2026-05-01T10:00:00Z", "categories": ["contact", "identity"]})
    );
    let overview = s
        .get(&format!("/v1/subjects/{id}/consents"), &website)
        .await
        .json_with(200);
    let marketing = overview["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purpose"] == "marketing")
        .unwrap();
    assert_eq!(marketing["destruction"]["categories"], json!(["contact", "identity"]));

    // Nina signs up after all: setting fields under registration is collection under it, and
    // establishes it in the same transaction; her identity and contact data are needed again.
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=registration"),
            &website,
            json!({"fields": {"username": "nina"}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s
        .get(&format!("/v1/subjects/{id}?purpose=registration"), &website)
        .await;
    assert_eq!(r.json_with(200)["fields"]["username"], "nina");
    let overview = bases(&s, &id).await;
    assert_eq!(basis(&overview, "registration")["state"], "established");
    assert_eq!(basis(&overview, "registration")["since"], "2026-04-01T10:00:00Z");
    let overview = s
        .get(&format!("/v1/subjects/{id}/consents"), &website)
        .await
        .json_with(200);
    let marketing = overview["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purpose"] == "marketing")
        .unwrap();
    assert_eq!(marketing["destruction"], Value::Null);
}

both_backends!(a_paying_subject_keeps_accounting_for_its_retention_then_falls_due);
async fn a_paying_subject_keeps_accounting_for_its_retention_then_falls_due(s: Server) {
    let website = s
        .service_key(&["registration", "payment", "accounting", "marketing"])
        .await;
    // Registering establishes registration, in the same transaction as the collection.
    let id = s.anna().await;
    let overview = bases(&s, &id).await;
    assert_eq!(basis(&overview, "registration")["state"], "established");
    assert_eq!(basis(&overview, "registration")["since"], "2026-03-01T09:00:00Z");
    assert_eq!(basis(&overview, "payment")["state"], "not_established");
    let r = s.get(&format!("/v1/subjects/{id}?purpose=payment"), &website).await;
    s.problem(&r, 403, "basis_not_established");

    // Billing details collected for an order establish payment.
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=payment"),
            &website,
            json!({"fields": {"billing_address": "Moscow, Tverskaya 1"}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    s.get(&format!("/v1/subjects/{id}?purpose=payment"), &website)
        .await
        .json_with(200);
    // The payment triggers the accounting obligation: retention runs from its date.
    let r = s
        .post(
            &format!("/v1/subjects/{id}/bases"),
            &website,
            json!({"purpose": "accounting", "kind": "established", "start": "2026-02-28T12:00:00Z",
                   "evidence": {"reference": "order 2026-000123"}}),
        )
        .await;
    let a = r.json_with(201);
    assert_eq!(a["state"], "established");
    assert_eq!(a["since"], "2026-02-28T12:00:00Z");
    assert_eq!(a["until"], "2031-02-28T12:00:00Z");

    // The contracts end; the newsletter is cancelled.
    s.clock.set(datetime!(2026-06-01 09:00 UTC));
    for purpose in ["registration", "payment"] {
        let r = s
            .post(
                &format!("/v1/subjects/{id}/bases"),
                &website,
                json!({"purpose": purpose, "kind": "ended", "evidence": {"reference": "account closed"}}),
            )
            .await;
        assert_eq!(r.json_with(201)["state"], "ended");
    }
    let w = s
        .delete(&format!("/v1/subjects/{id}/consents/marketing"), &website)
        .await
        .json_with(200);
    assert_eq!(
        w["continuing"],
        json!([{"purpose": "accounting", "legal_basis": "legal_obligation"}])
    );
    assert_eq!(
        w["destruction"],
        json!({"by": "2026-07-01T09:00:00Z", "categories": ["contact"]})
    );
    let overview = bases(&s, &id).await;
    // What no remaining basis needs falls due 30 days after the contract ended (Art. 21 p. 4);
    // identity and payment data stay, held by the obligation. Account data (a username)
    // was never collected: only what the subject holds is due.
    assert_eq!(
        basis(&overview, "registration")["destruction"],
        json!({"by": "2026-07-01T09:00:00Z", "categories": ["contact"]})
    );
    assert_eq!(basis(&overview, "accounting")["destruction"], Value::Null);
    let r = s
        .get(&format!("/v1/subjects/{id}?purpose=registration"), &website)
        .await;
    s.problem(&r, 403, "basis_not_established");
    let kept = s
        .get(&format!("/v1/subjects/{id}?purpose=accounting"), &website)
        .await
        .json_with(200);
    assert_eq!(
        kept["fields"],
        json!({"billing_address": "Moscow, Tverskaya 1", "full_name": "Анна Петрова"})
    );
    let held = s
        .vault
        .bases()
        .held_categories(&Caller::cli(), id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(held.keys().collect::<Vec<_>>(), ["identity", "payment"]);
    // (Erasure under this hold: `legal_hold.rs`.)

    // A second before the retention period ends the obligation holds; then it expires.
    s.clock.set(datetime!(2031-02-28 11:59:59 UTC));
    s.get(&format!("/v1/subjects/{id}?purpose=accounting"), &website)
        .await
        .json_with(200);
    s.clock.advance(time::Duration::seconds(1));
    let r = s.get(&format!("/v1/subjects/{id}?purpose=accounting"), &website).await;
    s.problem(&r, 403, "basis_not_established");
    let accounting = basis(&bases(&s, &id).await, "accounting").clone();
    assert_eq!(accounting["state"], "expired");
    assert_eq!(
        accounting["destruction"],
        json!({"by": "2031-03-30T12:00:00Z", "categories": ["identity", "payment"]})
    );
    assert!(s
        .vault
        .bases()
        .held_categories(&Caller::cli(), id.parse().unwrap())
        .await
        .unwrap()
        .is_empty());
    let events: Vec<(String, String)> = bases(&s, &id).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["purpose"].as_str().unwrap().to_owned(),
                e["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        ("registration", "established"),
        ("payment", "established"),
        ("accounting", "established"),
        ("registration", "ended"),
        ("payment", "ended"),
    ];
    assert_eq!(events, want.map(|(p, k)| (p.to_owned(), k.to_owned())));
}

both_backends!(basis_events_are_checked_against_the_policy_and_the_standing);
async fn basis_events_are_checked_against_the_policy_and_the_standing(s: Server) {
    let id = s.anna().await;
    let website = s.service_key(&["registration"]).await;
    let path = format!("/v1/subjects/{id}/bases");
    let post = |body: Value| {
        let (s, path) = (&s, &path);
        async move { s.post(path, &s.admin, body).await }
    };
    let ev = json!({"reference": "contract 7"});
    let r = post(json!({"purpose": "selling", "kind": "established", "evidence": ev})).await;
    s.problem(&r, 400, "unknown_purpose");
    let r = post(json!({"purpose": "marketing", "kind": "established", "evidence": ev})).await;
    s.problem(&r, 422, "basis_event_not_applicable");
    let r = post(json!({"purpose": "payment", "kind": "ended", "evidence": ev})).await;
    s.problem(&r, 422, "basis_event_not_applicable");
    let r = post(json!({"purpose": "registration", "kind": "objected", "evidence": ev})).await;
    s.problem(&r, 422, "basis_event_not_applicable");
    let r =
        post(json!({"purpose": "accounting", "kind": "established", "start": "2026-03-02T00:00:00Z", "evidence": ev}))
            .await;
    s.problem(&r, 422, "basis_event_not_applicable");
    let r = post(json!({"purpose": "registration", "kind": "ended", "start": "2026-03-01T00:00:00Z", "evidence": ev}))
        .await;
    s.problem(&r, 422, "basis_event_not_applicable");
    let r = post(json!({"purpose": "accounting", "kind": "established", "evidence": {"reference": ""}})).await;
    s.problem(&r, 422, "invalid_evidence");
    let r = s
        .post(
            &path,
            &website,
            json!({"purpose": "accounting", "kind": "established", "evidence": ev}),
        )
        .await;
    s.problem(&r, 403, "purpose_not_allowed_for_key");
    let r = s
        .post(
            &path,
            &website,
            json!({"purpose": "registration", "kind": "overridden", "evidence": ev}),
        )
        .await;
    s.problem(&r, 403, "forbidden");
    let r = s
        .post(
            &format!("/v1/subjects/{}/bases", uuid::Uuid::new_v4()),
            &s.admin,
            json!({"purpose": "accounting", "kind": "established", "evidence": ev}),
        )
        .await;
    s.problem(&r, 404, "subject_not_found");
    // Nothing of the evidence reaches the journal: only the purpose, the kind and the basis.
    let r = post(json!({"purpose": "accounting", "kind": "established", "evidence": ev})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let entries = s.vault.store().find_journal_entries(0, 1000).await.unwrap();
    let last = entries.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.purpose.as_deref(), last.detail.as_deref()),
        ("basis.established", Some("accounting"), Some("basis:legal_obligation"))
    );
    assert!(!format!("{entries:?}").contains("contract 7"));
}

both_backends!(a_registration_carries_its_basis_events);
async fn a_registration_carries_its_basis_events(s: Server) {
    // Checkout: the customer registers and pays in one call; the payment triggers the
    // accounting obligation, from the payment's date, in the registration's transaction.
    let website = s.service_key(&["registration", "payment", "accounting"]).await;
    let body = |bases: Value| {
        json!({
            "purpose": "payment",
            "fields": {"email": "checkout@example.com", "full_name": "Pavel Buyer"},
            "bases": bases,
        })
    };
    let accounting = json!({
        "purpose": "accounting", "kind": "established", "start": "2026-02-20T12:00:00Z",
        "evidence": {"reference": "receipt 2026-0042"},
    });
    let r = s.post("/v1/subjects", &website, body(json!([accounting]))).await;
    let id = r.json_with(201)["id"].as_str().unwrap().to_owned();
    let overview = bases(&s, &id).await;
    assert_eq!(basis(&overview, "accounting")["state"], "established");
    assert_eq!(basis(&overview, "accounting")["since"], "2026-02-20T12:00:00Z");
    assert_eq!(basis(&overview, "payment")["state"], "established", "by collection");
    assert_eq!(overview["events"].as_array().unwrap().len(), 2, "{overview}");
    let r = s.get(&format!("/v1/subjects/{id}?purpose=accounting"), &website).await;
    assert_eq!(r.json_with(200)["fields"]["full_name"], "Pavel Buyer");

    // Errors as the bases route gives them, and nothing is registered.
    let narrow = s.service_key(&["payment"]).await;
    let before = s.get("/v1/journal/verify", &s.admin).await.json_with(200)["entries"].clone();
    let cases = [
        (
            json!([{"purpose": "nope", "kind": "established", "evidence": {"reference": "x"}}]),
            400,
            "unknown_purpose",
        ),
        (
            json!([{"purpose": "marketing", "kind": "established", "evidence": {"reference": "x"}}]),
            422,
            "basis_event_not_applicable",
        ),
        (
            json!([{"purpose": "accounting", "kind": "ended", "evidence": {"reference": "x"}}]),
            422,
            "basis_event_not_applicable",
        ),
        (
            json!([{"purpose": "accounting", "kind": "established", "start": "2027-01-01T00:00:00Z", "evidence": {"reference": "x"}}]),
            422,
            "basis_event_not_applicable",
        ),
        (
            json!([{"purpose": "accounting", "kind": "established", "evidence": {"reference": ""}}]),
            422,
            "invalid_evidence",
        ),
        (json!([accounting, accounting]), 422, "basis_event_not_applicable"),
    ];
    for (bases, status, code) in cases {
        let r = s.post("/v1/subjects", &website, body(bases.clone())).await;
        s.problem(&r, status, code);
    }
    let r = s.post("/v1/subjects", &narrow, body(json!([accounting]))).await;
    s.problem(&r, 403, "purpose_not_allowed_for_key");
    // A valid event does not save an invalid registration.
    let r = s
        .post(
            "/v1/subjects",
            &website,
            json!({"purpose": "payment", "fields": {"email": "not an address"}, "bases": [accounting]}),
        )
        .await;
    s.problem(&r, 422, "invalid_fields");
    let after = s.get("/v1/journal/verify", &s.admin).await.json_with(200)["entries"].clone();
    assert_eq!(before, after, "no refused registration left a trace");
}
