//! Unique fields: `email` is `unique = true` in the default policy. A second live subject with
//! the same value is refused `409 duplicate_value`, naming the field and never the value, on
//! registration (single and batch) and rectification; erased subjects hold nothing.

use crate::support::{anna_body, another_anna, both_backends, fresh_email, Server};
use serde_json::{json, Value};

fn with_email(email: &str) -> Value {
    let mut body = anna_body();
    body["fields"]["email"] = json!(email);
    body
}

both_backends!(a_unique_value_is_held_by_one_live_subject);
async fn a_unique_value_is_held_by_one_live_subject(s: Server) {
    let anna = s.anna().await;
    // The same address, written otherwise: the normalised values are compared.
    let r = s
        .post("/v1/subjects", &s.admin, with_email("ANNA.PETROVA@example.ru"))
        .await;
    let problem = s.problem(&r, 409, "duplicate_value");
    let text = problem.to_string().to_lowercase();
    assert!(text.contains("`email`"), "names the field: {problem}");
    assert!(!text.contains("anna.petrova"), "never the value: {problem}");
    // The comparison opened Anna's e-mail, and the journal says so (without the value).
    let rows = s.journal_rows_raw().await;
    assert!(rows.iter().any(|r| r.contains("opened:unique_compare")), "{rows:?}");
    assert!(!rows.iter().any(|r| r.to_lowercase().contains("anna.petrova")));
    // A phone number is not unique: another subject may share Anna's.
    let boris = s.another_anna().await;

    // In a batch, each item alone.
    let r = s
        .post(
            "/v1/subjects/batch",
            &s.admin,
            json!({"subjects": [anna_body(), another_anna()]}),
        )
        .await;
    let v = r.json_with(200);
    assert_eq!((v["created"].as_u64(), v["failed"].as_u64()), (Some(1), Some(1)), "{v}");
    assert_eq!(v["results"][0]["problem"]["code"], "duplicate_value", "{v}");
    assert!(v["results"][1]["id"].is_string(), "{v}");

    // Rectification onto Anna's address is refused; keeping one's own is not.
    let path = format!("/v1/subjects/{boris}?purpose=registration");
    let r = s
        .patch(&path, &s.admin, json!({"fields": {"email": "anna.petrova@example.ru"}}))
        .await;
    s.problem(&r, 409, "duplicate_value");
    let r = s
        .patch(
            &format!("/v1/subjects/{anna}?purpose=registration"),
            &s.admin,
            json!({"fields": {"email": "Anna.Petrova@Example.RU", "full_name": "Anna P."}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let moved = fresh_email("boris");
    let r = s.patch(&path, &s.admin, json!({"fields": {"email": moved}})).await;
    assert_eq!(r.status, 204, "{}", r.text);

    // Once Anna is erased, her address is free.
    let r = s
        .delete(&format!("/v1/subjects/{anna}?reason=subject_request"), &s.admin)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let again = s.anna().await;
    assert_ne!(again, anna);
    // And Boris's old address, which he left, is free too.
    let r = s.post("/v1/subjects", &s.admin, another_anna()).await;
    r.json_with(201);
}

both_backends!(concurrent_registrations_of_one_value_make_one_subject);
async fn concurrent_registrations_of_one_value_make_one_subject(s: Server) {
    let s = &s;
    for round in 0..3 {
        let email = fresh_email(&format!("race{round}"));
        let tries = (0..6).map(|_| {
            let body = with_email(&email);
            async move { s.post("/v1/subjects", &s.admin, body).await }
        });
        let answers = futures::future::join_all(tries).await;
        let mut created = 0;
        for r in &answers {
            match r.status {
                201 => created += 1,
                _ => {
                    s.problem(r, 409, "duplicate_value");
                }
            }
        }
        assert_eq!(created, 1, "round {round}: exactly one registration");
    }
    // Within one batch (its items are registered concurrently): one of three.
    let email = fresh_email("batch");
    let r = s
        .post(
            "/v1/subjects/batch",
            &s.admin,
            json!({"subjects": [with_email(&email), with_email(&email), with_email(&email)]}),
        )
        .await;
    let v = r.json_with(200);
    assert_eq!((v["created"].as_u64(), v["failed"].as_u64()), (Some(1), Some(2)), "{v}");
    let codes: Vec<&Value> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|i| i.get("problem"))
        .map(|p| &p["code"])
        .collect();
    assert!(codes.iter().all(|c| *c == "duplicate_value"), "{v}");
}
