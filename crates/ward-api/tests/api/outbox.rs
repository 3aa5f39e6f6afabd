//! The outbox over HTTP: a templated notice queued in the subject's language with ids only in
//! the journal and the content sealed in the store; its problems; the officer's listing and
//! retry; erasure deleting what is queued. Delivery over SMTP is tested with the real binary
//! (`crates/ward/tests/outbox.rs`).

use crate::support::{both_backends, Server};
use serde_json::json;
use ward_core::policy::DEFAULT_POLICY;
use ward_core::MessageId;

/// Version 2: written in Russian, and the e-mail address is no longer required.
fn russian_without_required_email() -> String {
    let policy = DEFAULT_POLICY
        .replace("version = \"1\"", "version = \"2\"")
        .replace("language = \"en\"", "language = \"ru\"");
    // The `required = true` line of the e-mail field's own table, whatever keys stand before it.
    let field = policy
        .find("[fields.email]")
        .expect("the default policy has an e-mail field");
    let required = "required = true\n";
    let at = field + policy[field..].find(required).expect("the e-mail is required");
    format!("{}{}", &policy[..at], &policy[at + required.len()..])
}

both_backends!(a_notice_is_queued_sealed_in_the_subjects_language);
async fn a_notice_is_queued_sealed_in_the_subjects_language(s: Server) {
    let anna = s.anna().await;
    let r = s
        .post(
            &format!("/v1/subjects/{anna}/notices"),
            &s.admin,
            json!({"template": "policy_changed"}),
        )
        .await;
    let v = r.json_with(202);
    assert_eq!(
        (v["language"].as_str(), v["state"].as_str()),
        (Some("en"), Some("queued"))
    );
    let id: MessageId = v["id"].as_str().expect("id").parse().expect("a uuid");
    let stored = s.vault.store().find_message(id).await.unwrap().expect("stored");
    assert_eq!(stored.subject.to_string(), anna);
    let needle = b"anna.petrova";
    assert!(
        !stored
            .payload
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle)),
        "the payload is sealed"
    );
    let entries = s.vault.store().find_journal_entries(0, 10_000).await.unwrap();
    let queued = entries
        .iter()
        .find(|e| e.action == "message.queued")
        .expect("journaled");
    assert_eq!(queued.subject.map(|x| x.to_string()).as_deref(), Some(anna.as_str()));
    assert_eq!(
        queued.detail.as_deref(),
        Some(format!("message:{id} template:policy_changed language:en").as_str())
    );
    assert_eq!(queued.fields, ["email"], "the field opened to address it is named");

    let r = s
        .post(
            "/v1/policy/versions",
            &s.admin,
            json!({"register": russian_without_required_email()}),
        )
        .await;
    r.json_with(201);
    let r = s
        .post(
            &format!("/v1/subjects/{anna}/notices"),
            &s.admin,
            json!({"template": "policy_changed"}),
        )
        .await;
    assert_eq!(r.json_with(202)["language"], "ru", "the policy's language now");

    let listed = s.get("/v1/outbox?state=queued", &s.admin).await.json_with(200);
    let messages = listed["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["id"], id.to_string());
    assert!(messages[0].get("body").is_none() && messages[0].get("to").is_none());
    let none = s.get("/v1/outbox?state=dead", &s.admin).await.json_with(200);
    assert!(none["messages"].as_array().expect("messages").is_empty());
}

both_backends!(notice_problems);
async fn notice_problems(s: Server) {
    let anna = s.anna().await;
    let path = format!("/v1/subjects/{anna}/notices");
    let r = s.post(&path, &s.admin, json!({"template": "birthday"})).await;
    s.problem(&r, 404, "unknown_template");
    let officer = s
        .post("/v1/keys", &s.admin, json!({"name": "officer", "role": "officer"}))
        .await
        .json_with(201)["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let service = s.service_key(&["registration"]).await;
    let r = s.post(&path, &service, json!({"template": "policy_changed"})).await;
    s.problem(&r, 403, "forbidden");
    let r = s.post(&path, &officer, json!({"template": "policy_changed"})).await;
    r.json_with(202);

    s.post(
        "/v1/policy/versions",
        &s.admin,
        json!({"register": russian_without_required_email()}),
    )
    .await
    .json_with(201);
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "registration", "fields": {"full_name": "Ivan Petrov", "phone": "+7 916 000 00 01"}}),
        )
        .await;
    let ivan = r.json_with(201)["id"].as_str().expect("id").to_owned();
    let r = s
        .post(
            &format!("/v1/subjects/{ivan}/notices"),
            &officer,
            json!({"template": "policy_changed"}),
        )
        .await;
    s.problem(&r, 422, "no_contact_on_record");

    let r = s.get("/v1/outbox?limit=0", &officer).await;
    s.problem(&r, 400, "invalid_query");
    let r = s.get("/v1/outbox?state=lost", &officer).await;
    s.problem(&r, 400, "invalid_query");
    let r = s
        .post(
            &format!("/v1/outbox/{}/retry", MessageId::random()),
            &officer,
            json!(null),
        )
        .await;
    s.problem(&r, 404, "message_not_found");
    let queued = s.get("/v1/outbox", &officer).await.json_with(200)["messages"][0]["id"]
        .as_str()
        .expect("a message")
        .to_owned();
    let r = s
        .post(&format!("/v1/outbox/{queued}/retry"), &officer, json!(null))
        .await;
    s.problem(&r, 409, "message_not_dead");
    let r = s.post("/v1/outbox/not-a-uuid/retry", &officer, json!(null)).await;
    s.problem(&r, 400, "invalid_path");
}

both_backends!(erasing_the_subject_deletes_its_queued_mail);
async fn erasing_the_subject_deletes_its_queued_mail(s: Server) {
    let anna = s.anna().await;
    let v = s
        .post(
            &format!("/v1/subjects/{anna}/notices"),
            &s.admin,
            json!({"template": "policy_changed"}),
        )
        .await
        .json_with(202);
    let id: MessageId = v["id"].as_str().expect("id").parse().expect("a uuid");
    let r = s
        .delete(&format!("/v1/subjects/{anna}?reason=subject_request"), &s.admin)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(s.vault.store().find_message(id).await.unwrap(), None);
    let r = s
        .post(
            &format!("/v1/subjects/{anna}/notices"),
            &s.admin,
            json!({"template": "policy_changed"}),
        )
        .await;
    s.problem(&r, 410, "subject_erased");
}
