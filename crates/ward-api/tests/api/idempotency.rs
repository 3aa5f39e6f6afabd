//! `Idempotency-Key` on every creating `POST`: a retry gets the first answer and nothing is
//! done twice; another request with the key is refused; a concurrent duplicate does not both
//! succeed; bad keys are refused. The operations come from `/openapi.json`, so a new creating
//! route is covered (and must document the header) as soon as it is served.

use crate::journal_scan::{baseline, urlencode, Req};
use crate::support::{anna_body, another_anna, both_backends, Resp, Server};
use reqwest::Method;
use serde_json::{json, Value};
use ward_core::policy::DEFAULT_POLICY;

const KEY: &str = "Idempotency-Key";
const REPLAYED: &str = "idempotent-replayed";
/// `POST`s that ignore the header (`ward_api`'s `NOT_CREATING`).
const NOT_CREATING: &[&str] = &["/v1/subjects/lookup", "/v1/journal/checkpoints"];

fn path_of(template: &str, req: &Req) -> String {
    let mut path = Vec::new();
    for segment in template.split('/') {
        match segment.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
            Some(name) => path.push(urlencode(req.params.get(name).map_or("missing", String::as_str))),
            None => path.push(segment.to_owned()),
        }
    }
    let mut url = path.join("/");
    if !req.query.is_empty() {
        let q: Vec<String> = req.query.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect();
        url = format!("{url}?{}", q.join("&"));
    }
    url
}

async fn post_keyed(s: &Server, path: &str, token: &str, key: &str, body: Option<Value>) -> Resp {
    s.call_with(Method::POST, path, Some(token), &[(KEY, key.as_bytes())], body)
        .await
}

/// Whether the operation documents the header.
fn documents_key(op: &Value) -> bool {
    op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["in"] == "header" && p["name"] == KEY)
}

both_backends!(every_creating_post_honours_an_idempotency_key);
async fn every_creating_post_honours_an_idempotency_key(s: Server) {
    let mut covered = Vec::new();
    for (template, item) in s.spec["paths"].as_object().expect("paths").clone() {
        let Some(op) = item.get("post") else { continue };
        if !template.starts_with("/v1/") {
            continue;
        }
        if NOT_CREATING.contains(&template.as_str()) {
            assert!(
                !documents_key(op),
                "{template} ignores the header and must not document it"
            );
            continue;
        }
        assert!(documents_key(op), "POST {template} must document `{KEY}`");
        let codes: Vec<&str> = op["x-problem-codes"]
            .as_array()
            .expect("codes")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for code in [
            "invalid_idempotency_key",
            "idempotency_key_reused",
            "idempotency_in_progress",
        ] {
            assert!(codes.contains(&code), "POST {template} must list `{code}`");
        }
        let mut req = baseline(&s, &Method::POST, &template)
            .await
            .unwrap_or_else(|| panic!("POST {template}: no baseline request in journal_scan.rs"));
        if template == "/v1/policy/versions" {
            // The baseline publishes the version in force again, which changes nothing.
            req.body = Some(json!({"register": DEFAULT_POLICY.replace("version = \"1\"", "version = \"idem\"")}));
        }
        let path = path_of(&template, &req);
        let key = format!("retry-{}", uuid::Uuid::new_v4());
        let first = post_keyed(&s, &path, &s.admin, &key, req.body.clone()).await;
        assert!(
            (200..300).contains(&first.status),
            "POST {template}: {} {}",
            first.status,
            first.text
        );
        assert_eq!(
            first.header(REPLAYED),
            None,
            "POST {template}: the first answer is no replay"
        );
        let before = s.journal_rows_raw().await;
        let again = post_keyed(&s, &path, &s.admin, &key, req.body.clone()).await;
        assert_eq!(
            (again.status, &again.text, again.header(REPLAYED)),
            (first.status, &first.text, Some("true")),
            "POST {template}: the retry gets the first answer, marked as a replay"
        );
        assert_eq!(
            again.header("content-type"),
            first.header("content-type"),
            "POST {template}"
        );
        let after = s.journal_rows_raw().await;
        assert_eq!(after.len(), before.len() + 1, "POST {template}: nothing done again");
        assert!(
            after.last().is_some_and(|r| r.contains("request.replayed")),
            "POST {template}: the replay is journaled: {:?}",
            after.last()
        );
        // The key with another request: refused, and nothing done.
        let elsewhere = format!("{path}{}", if path.contains('?') { "&x=1" } else { "?x=1" });
        let other = post_keyed(&s, &elsewhere, &s.admin, &key, req.body.clone()).await;
        s.problem(&other, 422, "idempotency_key_reused");
        assert_eq!(s.journal_rows_raw().await.len(), after.len(), "POST {template}");
        covered.push(template);
    }
    assert!(covered.len() >= 10, "only {covered:?}");
}

both_backends!(a_retried_registration_creates_one_subject);
async fn a_retried_registration_creates_one_subject(s: Server) {
    let first = post_keyed(&s, "/v1/subjects", &s.admin, "order-17", Some(anna_body())).await;
    let created = first.json_with(201);
    let location = first.header("location").map(str::to_owned);
    assert!(location.is_some(), "{}", first.text);

    // The client lost the answer and tries again, a while later: the same subject.
    s.clock.advance(time::Duration::hours(23));
    let again = post_keyed(&s, "/v1/subjects", &s.admin, "order-17", Some(anna_body())).await;
    assert_eq!(again.json_with(201), created);
    assert_eq!(again.header("location").map(str::to_owned), location);
    assert_eq!(again.header(REPLAYED), Some("true"));

    // Another body under the key: refused, naming neither the key nor the value.
    let mut other = anna_body();
    other["fields"]["email"] = json!("someone.else@example.org");
    let r = post_keyed(&s, "/v1/subjects", &s.admin, "order-17", Some(other)).await;
    let problem = s.problem(&r, 422, "idempotency_key_reused");
    assert!(!problem.to_string().contains("order-17") && !problem.to_string().contains("someone.else"));

    // Another caller's equal key is its own.
    let service = s.service_key(&["registration", "marketing"]).await;
    let theirs = post_keyed(&s, "/v1/subjects", &service, "order-17", Some(another_anna())).await;
    assert_ne!(theirs.json_with(201)["id"], created["id"]);

    // After 24 hours the key is free again: the same request is a new registration, refused
    // because the e-mail address is unique and Anna holds it; another is registered.
    s.clock.advance(time::Duration::hours(1) + time::Duration::seconds(1));
    let later = post_keyed(&s, "/v1/subjects", &s.admin, "order-17", Some(anna_body())).await;
    assert_eq!(later.header(REPLAYED), None);
    s.problem(&later, 409, "duplicate_value");
    let later = post_keyed(&s, "/v1/subjects", &s.admin, "order-17", Some(another_anna())).await;
    assert_eq!(later.header(REPLAYED), None);
    assert_ne!(later.json_with(201)["id"], created["id"]);

    // The key is stored only as a keyed hash, the answer sealed.
    let rows = s.journal_rows_raw().await;
    assert!(
        !rows.iter().any(|r| r.contains("order-17")),
        "the key reaches no journal entry"
    );
}

both_backends!(concurrent_duplicates_do_not_both_succeed);
async fn concurrent_duplicates_do_not_both_succeed(s: Server) {
    let s = &s;
    let tries =
        (0..8).map(|_| async move { post_keyed(s, "/v1/subjects", &s.admin, "double-click", Some(anna_body())).await });
    let answers = futures::future::join_all(tries).await;
    let mut ids = std::collections::BTreeSet::new();
    let mut fresh = 0;
    for r in &answers {
        match r.status {
            201 => {
                ids.insert(r.json()["id"].as_str().expect("id").to_owned());
                if r.header(REPLAYED).is_none() {
                    fresh += 1;
                }
            }
            409 => {
                s.problem(r, 409, "idempotency_in_progress");
            }
            other => panic!("{other}: {}", r.text),
        }
    }
    let seen: Vec<(u16, &str)> = answers.iter().map(|r| (r.status, r.text.as_str())).collect();
    assert_eq!((fresh, ids.len()), (1, 1), "one registration, answered once: {seen:?}");
    // Once answered, every retry is a replay of it.
    let r = post_keyed(s, "/v1/subjects", &s.admin, "double-click", Some(anna_body())).await;
    assert_eq!(r.header(REPLAYED), Some("true"));
    assert!(ids.contains(r.json_with(201)["id"].as_str().expect("id")));
    // A batch under a key, sent twice at once: its subjects are registered once.
    let body = json!({"subjects": [another_anna(), another_anna(), another_anna()]});
    let tries = (0..4).map(|_| {
        let body = body.clone();
        async move { post_keyed(s, "/v1/subjects/batch", &s.admin, "batch-1", Some(body)).await }
    });
    let answers = futures::future::join_all(tries).await;
    let created: std::collections::BTreeSet<String> = answers
        .iter()
        .filter(|r| r.status == 200)
        .flat_map(|r| {
            r.json()["results"]
                .as_array()
                .expect("results")
                .iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect();
    let seen: Vec<(u16, &str)> = answers.iter().map(|r| (r.status, r.text.as_str())).collect();
    assert_eq!(created.len(), 3, "{seen:?}");
}

both_backends!(bad_idempotency_keys_are_refused);
async fn bad_idempotency_keys_are_refused(s: Server) {
    let long = "k".repeat(256);
    for bad in [&b""[..], long.as_bytes(), "ключ".as_bytes(), b"tab\there"] {
        let r = s
            .call_with(
                Method::POST,
                "/v1/subjects",
                Some(&s.admin),
                &[(KEY, bad)],
                Some(anna_body()),
            )
            .await;
        s.problem(&r, 400, "invalid_idempotency_key");
    }
    let longest = "k".repeat(255);
    let r = post_keyed(&s, "/v1/subjects", &s.admin, &longest, Some(anna_body())).await;
    r.json_with(201);
    // Nothing was registered by the refused requests: only the one accepted.
    let lookup = s
        .post(
            "/v1/subjects/lookup",
            &s.admin,
            json!({"field": "email", "purpose": "registration", "value": "anna.petrova@example.ru"}),
        )
        .await
        .json_with(200);
    assert_eq!(lookup["subjects"].as_array().map(Vec::len), Some(1), "{lookup}");
    // Without a valid caller the key changes nothing: the request is refused as always.
    let r = post_keyed(&s, "/v1/subjects", "ward_nope_nope", "k-1", Some(anna_body())).await;
    s.problem(&r, 401, "unauthorized");
}
