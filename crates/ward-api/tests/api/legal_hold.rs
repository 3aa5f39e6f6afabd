//! Retention wins over erasure: erasing a subject an accounting obligation still holds
//! destroys the rest, blocks what is kept (`legal_hold`), and says per category what was
//! withheld and why, in the answer and in the act; the destruction job erases the subject
//! once the obligation's retention has ended, with its own act.

use crate::support::{both_backends, Server};
use serde_json::{json, Value};
use time::macros::datetime;
use ward_core::{Actor, Caller};

both_backends!(an_erasure_under_a_legal_hold_destroys_the_rest_and_blocks_what_is_kept);
async fn an_erasure_under_a_legal_hold_destroys_the_rest_and_blocks_what_is_kept(s: Server) {
    let website = s.service_key(&["registration", "payment", "accounting"]).await;
    let id = s.anna().await;
    let r = s
        .patch(
            &format!("/v1/subjects/{id}?purpose=payment"),
            &website,
            json!({"fields": {"billing_address": "Moscow, Tverskaya 1"}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s
        .post(
            &format!("/v1/subjects/{id}/bases"),
            &website,
            json!({"purpose": "accounting", "kind": "established", "start": "2026-02-28T12:00:00Z",
                   "evidence": {"reference": "order 2026-000123"}}),
        )
        .await;
    r.json_with(201);

    let r = s
        .delete(&format!("/v1/subjects/{id}?reason=subject_request"), &s.admin)
        .await;
    let answer = r.json_with(200);
    assert_eq!(
        answer["withheld"],
        json!([
            {"category": "identity", "purposes": ["accounting"], "until": "2031-02-28T12:00:00Z"},
            {"category": "payment", "purposes": ["accounting"], "until": "2031-02-28T12:00:00Z"},
        ])
    );
    let act_path = r.header("location").expect("the act").to_owned();
    let act = s.get(&act_path, &s.admin).await.json_with(200);
    assert_eq!(act["method"], "field_deletion");
    assert_eq!(act["categories"], json!(["contact"]));
    assert_eq!(act["fields"], json!(["email", "phone", "postal_address"]));
    assert_eq!(act["withheld"], json!(["identity:accounting", "payment:accounting"]));
    assert_eq!(act["cause"], "erasure:withheld");
    let page = s.get(&format!("{act_path}.html"), &s.admin).await;
    assert!(page.text.contains("identity:accounting"));

    // What is kept is blocked: the accounting purpose may not read it, the officer verifies.
    let blocks = s
        .get(&format!("/v1/subjects/{id}/blocks"), &s.admin)
        .await
        .json_with(200);
    assert_eq!(blocks["blocks"][0]["reason"], "legal_hold");
    assert_eq!(blocks["blocks"][0]["categories"], json!(["identity", "payment"]));
    let read = format!("/v1/subjects/{id}?purpose=accounting");
    let r = s.get(&read, &website).await;
    s.problem(&r, 423, "subject_blocked");
    let kept = s
        .get(&format!("{read}&verification=true"), &s.admin)
        .await
        .json_with(200);
    assert_eq!(
        kept["fields"],
        json!({"billing_address": "Moscow, Tverskaya 1", "full_name": "Анна Петрова"})
    );
    // A second erasure while the hold lasts says so.
    let r = s
        .delete(&format!("/v1/subjects/{id}?reason=subject_request"), &s.admin)
        .await;
    s.problem(&r, 409, "conflict");

    // The job waits while the obligation holds; once its five years are over, it erases.
    let job = Caller {
        actor: Actor::System,
        role: ward_core::access::Role::Admin,
        purposes: Default::default(),
    };
    s.clock.set(datetime!(2031-02-28 11:59 UTC));
    let report = s.vault.due().run(&job).await.unwrap();
    assert_eq!(report.erased, 0, "{report}");
    s.clock.set(datetime!(2031-02-28 12:00 UTC));
    let report = s.vault.due().run(&job).await.unwrap();
    assert_eq!(report.erased, 1, "{report}");
    let r = s.get(&format!("{read}&verification=true"), &s.admin).await;
    s.problem(&r, 410, "subject_erased");
    let acts = s
        .get(&format!("/v1/destruction-acts?subject={id}"), &s.admin)
        .await
        .json_with(200);
    let last: &Value = &acts[0];
    assert_eq!(last["cause"], "erasure");
    assert_eq!(last["method"], "crypto_shredding");
    assert_eq!(last["reason"], "retention_expired");
    assert_eq!(last["destroyed_by"]["name"], "Ward destruction job");
    assert_eq!(last["categories"], json!(["identity", "payment"]));
}
