use crate::support::{both_backends, Server};
use reqwest::Method;
use serde_json::Value;

both_backends!(the_journal_verifies_and_checkpoints_only_when_it_moved);
async fn the_journal_verifies_and_checkpoints_only_when_it_moved(s: Server) {
    let id = s.anna().await;
    let r = s
        .get(&format!("/v1/subjects/{id}?purpose=registration"), &s.admin)
        .await;
    assert_eq!(r.status, 200);

    let r = s.get("/v1/journal/verify", &s.admin).await;
    let report = r.json_with(200);
    assert_eq!(report["valid"], true);
    assert_eq!(report["problem"], Value::Null);
    assert_eq!(report["checkpoints"], 0);
    let entries = report["entries"].as_i64().unwrap();
    // Policy activation, the bootstrap key, the collection, the consent at collection, the read.
    assert!(entries >= 5, "{report}");
    assert_eq!(report["unsigned"], entries, "no checkpoint yet: {report}");
    let head = report["head"].as_str().unwrap().to_owned();
    assert_eq!(head.len(), 64);
    assert!(head.bytes().all(|b| b.is_ascii_hexdigit()));

    let r = s
        .call(Method::POST, "/v1/journal/checkpoints", Some(&s.admin), None)
        .await;
    let cp = r.json_with(201);
    assert_eq!(cp["seq"], entries);
    assert_eq!(cp["head"], head.as_str());
    assert!(cp["key_id"].as_str().is_some_and(|k| !k.is_empty()));
    assert_eq!(cp["at"], "2026-03-01T09:00:00Z");

    let r = s
        .call(Method::POST, "/v1/journal/checkpoints", Some(&s.admin), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());

    let r = s.get("/v1/journal/verify", &s.admin).await;
    let report = r.json_with(200);
    assert_eq!(report["valid"], true);
    assert_eq!(report["checkpoints"], 1);
    assert_eq!(report["unsigned"], 0);
}
