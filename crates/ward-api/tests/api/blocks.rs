//! Blocking (152-FZ Art. 21): the officer blocks categories of a subject (or all of it) for a
//! reason; reads and lookups of them are refused while blocked, except the officer's reads
//! for verification; rectification goes on; lifting is journaled.

use crate::support::{both_backends, Server};
use serde_json::json;

both_backends!(a_block_refuses_reads_but_verification_and_rectification_until_lifted);
async fn a_block_refuses_reads_but_verification_and_rectification_until_lifted(s: Server) {
    let anna = s.anna().await;
    let dpo = s
        .post("/v1/keys", &s.admin, json!({"name": "dpo", "role": "officer"}))
        .await
        .json_with(201)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let website = s.service_key(&["registration"]).await;
    let blocks = format!("/v1/subjects/{anna}/blocks");
    let r = s
        .post(
            &blocks,
            &website,
            json!({"categories": ["contact"], "reason": "inaccuracy_claimed"}),
        )
        .await;
    s.problem(&r, 403, "forbidden");
    for (body, status, code) in [
        (json!({"categories": ["contact"]}), 400, "reason_required"),
        (json!({"reason": "because"}), 400, "unknown_reason"),
        (
            json!({"categories": ["shoes"], "reason": "legal_hold"}),
            422,
            "unknown_category",
        ),
    ] {
        let r = s.post(&blocks, &dpo, body).await;
        s.problem(&r, status, code);
    }
    let block = s
        .post(
            &blocks,
            &dpo,
            json!({"categories": ["contact"], "reason": "inaccuracy_claimed"}),
        )
        .await
        .json_with(201);
    assert_eq!(block["categories"], json!(["contact"]));
    assert_eq!(block["lifted_at"], serde_json::Value::Null);

    // Reads of the blocked category are refused, to every role.
    let read = format!("/v1/subjects/{anna}?purpose=registration");
    for token in [&website, &dpo, &s.admin] {
        let r = s.get(&read, token).await;
        s.problem(&r, 423, "subject_blocked");
    }
    // Other categories can still be read.
    let r = s.get(&format!("{read}&fields=full_name"), &website).await;
    assert_eq!(r.json_with(200)["fields"], json!({"full_name": "Анна Петрова"}));
    // A lookup by the blocked e-mail finds no one.
    let found = s
        .post(
            "/v1/subjects/lookup",
            &website,
            json!({"field": "email", "value": "anna.petrova@example.ru", "purpose": "registration"}),
        )
        .await
        .json_with(200);
    assert_eq!(found["subjects"], json!([]));
    // The officer verifies; a service key may not.
    let r = s.get(&format!("{read}&verification=true"), &dpo).await;
    assert_eq!(r.json_with(200)["fields"]["email"], "anna.petrova@example.ru");
    let r = s.get(&format!("{read}&verification=true"), &website).await;
    s.problem(&r, 403, "forbidden");
    // Rectification goes on.
    let r = s
        .patch(&read, &website, json!({"fields": {"email": "anna@example.ru"}}))
        .await;
    assert!(r.status < 300, "{}", r.text);

    let listed = s.get(&blocks, &dpo).await.json_with(200);
    assert_eq!(listed["blocks"].as_array().unwrap().len(), 1);
    let id = block["id"].as_str().unwrap();
    let lift = format!("{blocks}/{id}");
    let r = s.delete(&lift, &website).await;
    s.problem(&r, 403, "forbidden");
    let r = s.delete(&lift, &dpo).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s.delete(&lift, &dpo).await;
    s.problem(&r, 404, "block_not_found");
    let r = s.delete(&format!("{blocks}/not-a-block"), &dpo).await;
    s.problem(&r, 400, "invalid_block_id");
    assert_eq!(
        s.get(&read, &website).await.json_with(200)["fields"]["email"],
        "anna@example.ru"
    );
    let listed = s.get(&blocks, &dpo).await.json_with(200);
    assert!(listed["blocks"][0]["lifted_at"].is_string(), "{listed}");

    let entries = s.vault.store().find_journal_entries(0, 10_000).await.unwrap();
    let placed = entries
        .iter()
        .find(|e| e.action == "subject.blocked")
        .expect("journaled");
    assert_eq!(
        placed.detail.as_deref(),
        Some(format!("block:{id} categories:contact reason:inaccuracy_claimed").as_str())
    );
    assert!(entries.iter().any(|e| e.action == "subject.block_lifted"));
    assert!(entries
        .iter()
        .any(|e| e.action == "retrieval" && e.detail.as_deref().is_some_and(|d| d.contains("verification"))));

    // A whole-subject block refuses every read.
    let r = s
        .post(&blocks, &dpo, json!({"reason": "unlawful_processing_claimed"}))
        .await;
    assert_eq!(r.json_with(201)["categories"], json!([]));
    let r = s.get(&format!("{read}&fields=full_name"), &website).await;
    s.problem(&r, 423, "subject_blocked");
}
