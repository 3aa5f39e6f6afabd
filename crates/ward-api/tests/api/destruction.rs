//! Erasure with a reason, and destruction of categories of a subject who stays: who may,
//! what goes (fields and index entries together), and what the journal says.

use crate::support::{both_backends, Server};
use serde_json::{json, Value};
use ward_store::JournalEntry;

async fn journal(s: &Server) -> Vec<JournalEntry> {
    s.vault.store().find_journal_entries(0, 10_000).await.expect("journal")
}

/// A destruction's answer without its act's id (random), which it must name.
fn without_act(mut body: Value) -> Value {
    let act = body.as_object_mut().and_then(|o| o.remove("act"));
    assert!(act.as_ref().and_then(Value::as_str).is_some(), "no act in {body}");
    body
}

fn lookup(email: &str) -> Value {
    json!({"field": "email", "value": email, "purpose": "registration"})
}

both_backends!(destroying_a_category_drops_its_fields_and_index_entries_and_keeps_the_subject);
async fn destroying_a_category_drops_its_fields_and_index_entries_and_keeps_the_subject(s: Server) {
    let anna = s.anna().await;
    let r = s
        .post(
            &format!("/v1/subjects/{anna}/destruction"),
            &s.admin,
            json!({"categories": ["contact"], "reason": "consent_withdrawn"}),
        )
        .await;
    assert_eq!(
        without_act(r.json_with(200)),
        json!({"fields": ["email", "phone", "postal_address"], "categories": ["contact"]})
    );
    // The subject stays, without its contact data.
    let read = s
        .get(&format!("/v1/subjects/{anna}?purpose=registration"), &s.admin)
        .await
        .json_with(200);
    assert_eq!(read["fields"], json!({"full_name": "Анна Петрова"}));
    // Its blind-index entry went in the same write: the e-mail finds no one.
    let found = s
        .post("/v1/subjects/lookup", &s.admin, lookup("anna.petrova@example.ru"))
        .await
        .json_with(200);
    assert_eq!(found["subjects"], json!([]));
    let entry = journal(&s)
        .await
        .into_iter()
        .rev()
        .find(|e| e.action == "destruction")
        .expect("an entry");
    assert_eq!(entry.subject.map(|id| id.to_string()), Some(anna.clone()));
    assert_eq!(entry.fields, ["email", "phone", "postal_address"]);
    let detail = entry.detail.as_deref().unwrap();
    assert!(
        detail.starts_with("categories:contact reason:consent_withdrawn act:"),
        "{detail}"
    );
    // Nothing left of the category: destroying it again destroys nothing, and says so.
    let r = s
        .post(
            &format!("/v1/subjects/{anna}/destruction"),
            &s.admin,
            json!({"categories": ["contact"], "fields": ["full_name"], "reason": "subject_request"}),
        )
        .await;
    assert_eq!(
        without_act(r.json_with(200)),
        json!({"fields": ["full_name"], "categories": ["contact", "identity"]})
    );
}

both_backends!(destruction_is_allowed_to_purposes_that_cover_it_and_needs_a_reason);
async fn destruction_is_allowed_to_purposes_that_cover_it_and_needs_a_reason(s: Server) {
    let anna = s.anna().await;
    let path = format!("/v1/subjects/{anna}/destruction");
    let analytics = s.service_key(&["analytics"]).await;
    // analytics destroys technical data, not contact data.
    let r = s
        .post(
            &path,
            &analytics,
            json!({"categories": ["contact"], "reason": "subject_request"}),
        )
        .await;
    let p = s.problem(&r, 403, "forbidden");
    assert!(p["detail"].as_str().unwrap().contains("`contact`"), "{p}");
    let r = s
        .post(
            &path,
            &analytics,
            json!({"categories": ["technical"], "reason": "consent_withdrawn"}),
        )
        .await;
    assert_eq!(
        without_act(r.json_with(200)),
        json!({"fields": [], "categories": ["technical"]})
    );
    let officer = s
        .post("/v1/keys", &s.admin, json!({"name": "dpo", "role": "officer"}))
        .await
        .json_with(201)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for (body, status, code) in [
        (json!({"categories": ["contact"]}), 400, "reason_required"),
        (
            json!({"categories": ["contact"], "reason": " "}),
            400,
            "reason_required",
        ),
        (
            json!({"categories": ["contact"], "reason": "tidying up"}),
            400,
            "unknown_reason",
        ),
        (
            json!({"categories": ["shoes"], "reason": "subject_request"}),
            422,
            "unknown_category",
        ),
        (
            json!({"fields": ["shoe_size"], "reason": "subject_request"}),
            422,
            "unknown_field",
        ),
        (json!({"reason": "subject_request"}), 422, "empty_change"),
    ] {
        let r = s.post(&path, &officer, body.clone()).await;
        let p = s.problem(&r, status, code);
        assert!(!p["detail"].as_str().unwrap().contains("tidying"), "{p}");
    }
    let r = s
        .post(
            &path,
            &officer,
            json!({"categories": ["contact"], "reason": "authority_order"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .post(
            &format!("/v1/subjects/{}/destruction", uuid::Uuid::new_v4()),
            &officer,
            json!({"categories": ["contact"], "reason": "subject_request"}),
        )
        .await;
    s.problem(&r, 404, "subject_not_found");
}

both_backends!(erasure_takes_a_reason_and_purposes_covering_every_category_held);
async fn erasure_takes_a_reason_and_purposes_covering_every_category_held(s: Server) {
    let anna = s.anna().await;
    let r = s.delete(&format!("/v1/subjects/{anna}"), &s.admin).await;
    s.problem(&r, 400, "reason_required");
    let r = s.delete(&format!("/v1/subjects/{anna}?reason=because"), &s.admin).await;
    s.problem(&r, 400, "unknown_reason");
    // analytics covers destruction of technical data only: Anna holds identity and contact.
    let analytics = s.service_key(&["analytics"]).await;
    let r = s
        .delete(&format!("/v1/subjects/{anna}?reason=subject_request"), &analytics)
        .await;
    let p = s.problem(&r, 403, "forbidden");
    assert!(p["detail"].as_str().unwrap().contains("category"), "{p}");
    // accounting destroys nothing of contact; registration and marketing together cover all.
    let accounting = s.service_key(&["accounting"]).await;
    let r = s
        .delete(&format!("/v1/subjects/{anna}?reason=subject_request"), &accounting)
        .await;
    s.problem(&r, 403, "forbidden");
    let website = s.service_key(&["registration"]).await;
    let r = s
        .delete(&format!("/v1/subjects/{anna}?reason=consent_withdrawn"), &website)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let entry = journal(&s)
        .await
        .into_iter()
        .rev()
        .find(|e| e.action == "destruction")
        .expect("an entry");
    let detail = entry.detail.as_deref().unwrap();
    assert!(
        detail.starts_with("crypto-shredding: data key destroyed; reason:consent_withdrawn act:"),
        "{detail}"
    );
    let r = s
        .get(&format!("/v1/subjects/{anna}?purpose=registration"), &s.admin)
        .await;
    s.problem(&r, 410, "subject_erased");
}
