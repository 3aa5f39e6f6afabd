//! Website visitors' cookie consent over HTTP: Global Privacy Control, defaults, history,
//! linking to a subject and erasure with it, problems, and the visitor id kept out of every
//! response, the database files and the logs.

use crate::support::{both_backends, captured_logs, Resp, Server, SECRET};
use reqwest::Method;
use serde_json::{json, Value};
use ward_store::JournalEntry;

/// A visitor id as a website would set it in a first-party cookie.
const VISITOR: &str = "vis_3f9a7c21e5b84d06a1c2";

fn consents(visitor: &str) -> String {
    format!("/v1/visitors/{visitor}/consents")
}

fn link(visitor: &str) -> String {
    format!("/v1/visitors/{visitor}/link")
}

/// Sends a request with an optional `Sec-GPC` header.
async fn send(s: &Server, method: Method, path: &str, token: &str, gpc: Option<&str>, body: Option<Value>) -> Resp {
    let mut req = s
        .client
        .request(method.clone(), format!("{}{path}", s.base))
        .bearer_auth(token);
    if let Some(g) = gpc {
        req = req.header("Sec-GPC", g);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("send");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body");
    Resp {
        method,
        path: path.to_owned(),
        status,
        headers,
        text,
    }
}

async fn record(s: &Server, token: &str, visitor: &str, gpc: Option<&str>, body: Value) -> Resp {
    send(s, Method::POST, &consents(visitor), token, gpc, Some(body)).await
}

async fn journal(s: &Server) -> Vec<JournalEntry> {
    s.vault
        .store()
        .find_journal_entries(0, 100_000)
        .await
        .expect("read the journal")
}

fn choices(necessary: &str, functional: &str, analytics: &str, marketing: &str) -> Value {
    json!({"necessary": necessary, "functional": functional, "analytics": analytics, "marketing": marketing})
}

both_backends!(gpc_forces_marketing_to_denied_and_is_recorded);
async fn gpc_forces_marketing_to_denied_and_is_recorded(s: Server) {
    // Any service key may record: the choice comes from the website.
    let site = s.service_key(&["accounting"]).await;
    let body = json!({"banner_version": "2026-11", "choices": {"analytics": "granted", "marketing": "granted", "functional": "granted"}});
    let r = record(&s, &site, VISITOR, Some("1"), body.clone()).await;
    let got = r.json_with(201);
    assert_eq!(got["banner_version"], "2026-11");
    assert_eq!(got["choices"], choices("granted", "granted", "granted", "denied"));
    assert_eq!(got["gpc"], true);
    assert_eq!(got["gpc_overrode"], true);
    assert_eq!(got["at"], "2026-03-01T09:00:00Z");
    assert_eq!(got["linked"], false);

    let r = send(&s, Method::GET, &consents(VISITOR), &site, None, None).await;
    let list = r.json_with(200);
    assert_eq!(list["current"], got);
    assert_eq!(list["history"], json!([got]));

    // GPC with marketing already denied: recorded as GPC, nothing overridden.
    let other = "visitor-without-marketing";
    let r = record(
        &s,
        &site,
        other,
        Some("1"),
        json!({"banner_version": "2026-11", "choices": {"marketing": "denied"}}),
    )
    .await;
    let got = r.json_with(201);
    assert_eq!(
        (got["gpc"].clone(), got["gpc_overrode"].clone()),
        (json!(true), json!(false))
    );

    // Without the header, or with any other value, there is no signal.
    for gpc in [None, Some("0"), Some("true")] {
        let r = record(&s, &site, "visitor-no-gpc-0001", gpc, body.clone()).await;
        let got = r.json_with(201);
        assert_eq!(got["choices"]["marketing"], "granted", "{gpc:?}");
        assert_eq!(got["gpc"], false, "{gpc:?}");
        assert_eq!(got["gpc_overrode"], false, "{gpc:?}");
    }

    // The journal records the choice, the banner version and GPC; never the visitor.
    let entries = journal(&s).await;
    let recorded: Vec<&JournalEntry> = entries
        .iter()
        .filter(|e| e.action == "cookie_consent.recorded")
        .collect();
    assert_eq!(recorded.len(), 5);
    assert_eq!(
        recorded[0].detail.as_deref(),
        Some(
            "banner:2026-11 necessary=granted,functional=granted,analytics=granted,marketing=denied \
             gpc:on gpc_overrode:marketing"
        )
    );
    assert!(recorded[0].actor.starts_with("key:"));
    assert_eq!(recorded[0].subject, None);
    assert!(recorded[1].detail.as_deref().is_some_and(|d| d.ends_with("gpc:on")));
    assert!(recorded[2].detail.as_deref().is_some_and(|d| d.ends_with("gpc:off")));
}

both_backends!(categories_not_mentioned_are_denied_and_necessary_is_always_granted);
async fn categories_not_mentioned_are_denied_and_necessary_is_always_granted(s: Server) {
    let r = record(&s, &s.admin, VISITOR, None, json!({"banner_version": "v1"})).await;
    assert_eq!(
        r.json_with(201)["choices"],
        choices("granted", "denied", "denied", "denied")
    );
    let r = record(
        &s,
        &s.admin,
        VISITOR,
        None,
        json!({"banner_version": "v1", "choices": {"functional": "granted"}}),
    )
    .await;
    assert_eq!(
        r.json_with(201)["choices"],
        choices("granted", "granted", "denied", "denied")
    );
    let r = record(
        &s,
        &s.admin,
        VISITOR,
        None,
        json!({"banner_version": "v1", "choices": {"necessary": "granted"}}),
    )
    .await;
    assert_eq!(r.json_with(201)["choices"]["necessary"], "granted");

    let r = record(
        &s,
        &s.admin,
        VISITOR,
        None,
        json!({"banner_version": "v1", "choices": {"necessary": "denied", "analytics": "granted"}}),
    )
    .await;
    s.problem(&r, 422, "necessary_cannot_be_denied");
    // Nothing was recorded by the refused request.
    let r = send(&s, Method::GET, &consents(VISITOR), &s.admin, None, None).await;
    assert_eq!(r.json_with(200)["history"].as_array().unwrap().len(), 3);
}

both_backends!(a_change_of_mind_is_a_new_record_and_the_history_is_kept);
async fn a_change_of_mind_is_a_new_record_and_the_history_is_kept(s: Server) {
    let r = send(&s, Method::GET, &consents(VISITOR), &s.admin, None, None).await;
    assert_eq!(r.json_with(200), json!({"current": null, "history": []}));

    let first = record(
        &s,
        &s.admin,
        VISITOR,
        None,
        json!({"banner_version": "2026-10", "choices": {"analytics": "granted", "marketing": "granted"}}),
    )
    .await
    .json_with(201);
    // The visitor reopens the banner and withdraws marketing.
    let second = record(
        &s,
        &s.admin,
        VISITOR,
        None,
        json!({"banner_version": "2026-11", "choices": {"analytics": "granted", "marketing": "denied"}}),
    )
    .await
    .json_with(201);
    assert_eq!(first["choices"]["marketing"], "granted");
    assert_eq!(second["choices"]["marketing"], "denied");

    let list = send(&s, Method::GET, &consents(VISITOR), &s.admin, None, None)
        .await
        .json_with(200);
    assert_eq!(list["current"], second);
    assert_eq!(list["history"], json!([first, second]));
    // Another visitor sees none of it.
    let r = send(&s, Method::GET, &consents("another-visitor"), &s.admin, None, None).await;
    assert_eq!(r.json_with(200)["history"], json!([]));
}

both_backends!(a_linked_visitors_records_are_erased_with_the_subject);
async fn a_linked_visitors_records_are_erased_with_the_subject(s: Server) {
    let anna = s.anna().await;
    let boris = s.another_anna().await;
    let site = s.service_key(&["registration"]).await;
    let body = json!({"banner_version": "2026-11", "choices": {"analytics": "granted"}});
    record(&s, &site, VISITOR, None, body.clone()).await.json_with(201);
    record(&s, &site, "visitor-of-boris", None, body.clone())
        .await
        .json_with(201);

    // Linking needs a purpose that covers collection.
    let books = s.service_key(&["accounting"]).await;
    let r = send(
        &s,
        Method::POST,
        &link(VISITOR),
        &books,
        None,
        Some(json!({"subject_id": anna})),
    )
    .await;
    s.problem(&r, 403, "forbidden");

    let r = send(
        &s,
        Method::POST,
        &link(VISITOR),
        &site,
        None,
        Some(json!({"subject_id": anna})),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = send(
        &s,
        Method::POST,
        &link(VISITOR),
        &site,
        None,
        Some(json!({"subject_id": anna})),
    )
    .await;
    assert_eq!(r.status, 204, "linking again is harmless: {}", r.text);
    let r = send(
        &s,
        Method::POST,
        &link(VISITOR),
        &site,
        None,
        Some(json!({"subject_id": boris})),
    )
    .await;
    s.problem(&r, 409, "conflict");
    let r = send(
        &s,
        Method::POST,
        &link(VISITOR),
        &site,
        None,
        Some(json!({"subject_id": uuid::Uuid::new_v4()})),
    )
    .await;
    s.problem(&r, 404, "subject_not_found");
    let r = send(
        &s,
        Method::POST,
        &link(VISITOR),
        &site,
        None,
        Some(json!({"subject_id": SECRET})),
    )
    .await;
    s.problem(&r, 400, "invalid_subject_id");
    let r = send(
        &s,
        Method::POST,
        &link("visitor-never-seen"),
        &site,
        None,
        Some(json!({"subject_id": anna})),
    )
    .await;
    s.problem(&r, 404, "visitor_not_found");

    // Linked: the earlier record, and a later one.
    let later = record(
        &s,
        &site,
        VISITOR,
        None,
        json!({"banner_version": "2026-12", "choices": {"analytics": "denied"}}),
    )
    .await
    .json_with(201);
    assert_eq!(later["linked"], true);
    let list = send(&s, Method::GET, &consents(VISITOR), &site, None, None)
        .await
        .json_with(200);
    let linked: Vec<&Value> = list["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| &h["linked"])
        .collect();
    assert_eq!(linked, [&json!(true), &json!(true)]);
    let entries = journal(&s).await;
    let link_entry = entries.iter().find(|e| e.action == "visitor.linked").unwrap();
    assert_eq!(link_entry.subject.map(|x| x.to_string()), Some(anna.clone()));
    let last = entries
        .iter()
        .rev()
        .find(|e| e.action == "cookie_consent.recorded")
        .unwrap();
    assert_eq!(last.subject.map(|x| x.to_string()), Some(anna.clone()));

    let r = s
        .delete(&format!("/v1/subjects/{anna}?reason=subject_request"), &s.admin)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = send(&s, Method::GET, &consents(VISITOR), &site, None, None).await;
    assert_eq!(r.json_with(200), json!({"current": null, "history": []}));
    // Boris's visitor is untouched, and cannot be linked to the erased subject.
    let r = send(&s, Method::GET, &consents("visitor-of-boris"), &site, None, None).await;
    assert_eq!(r.json_with(200)["history"].as_array().unwrap().len(), 1);
    let r = send(
        &s,
        Method::POST,
        &link("visitor-of-boris"),
        &site,
        None,
        Some(json!({"subject_id": anna})),
    )
    .await;
    s.problem(&r, 410, "subject_erased");
    // The visitor starts afresh, unlinked.
    let again = record(&s, &site, VISITOR, None, body).await.json_with(201);
    assert_eq!(again["linked"], false);
}

both_backends!(bad_ids_categories_and_choices_are_problems_that_echo_nothing);
async fn bad_ids_categories_and_choices_are_problems_that_echo_nothing(s: Server) {
    let ok_body = json!({"banner_version": "v1", "choices": {}});
    for bad in [
        "short",
        "has.dot.in-it",
        "anna%40example.org",
        &format!("{SECRET}~x"),
        &"a".repeat(129),
    ] {
        let r = record(&s, &s.admin, bad, None, ok_body.clone()).await;
        s.problem(&r, 400, "invalid_visitor_id");
        let r = send(&s, Method::GET, &consents(bad), &s.admin, None, None).await;
        s.problem(&r, 400, "invalid_visitor_id");
        let r = send(
            &s,
            Method::POST,
            &link(bad),
            &s.admin,
            None,
            Some(json!({"subject_id": uuid::Uuid::new_v4()})),
        )
        .await;
        s.problem(&r, 400, "invalid_visitor_id");
    }
    let cases = [
        (
            json!({"banner_version": "v1", "choices": {SECRET: "granted"}}),
            "unknown_cookie_category",
        ),
        (
            json!({"banner_version": "v1", "choices": {"advertising": "granted"}}),
            "unknown_cookie_category",
        ),
        (
            json!({"banner_version": "v1", "choices": {"analytics": SECRET}}),
            "invalid_cookie_choice",
        ),
        (
            json!({"banner_version": format!("{SECRET} x"), "choices": {}}),
            "invalid_banner_version",
        ),
        (json!({"banner_version": "", "choices": {}}), "invalid_banner_version"),
    ];
    for (body, code) in cases {
        let r = record(&s, &s.admin, VISITOR, None, body).await;
        s.problem(&r, 422, code);
    }
    let r = record(
        &s,
        &s.admin,
        VISITOR,
        None,
        json!({"banner_version": "v1", "colour": SECRET}),
    )
    .await;
    s.problem(&r, 400, "unknown_field_in_body");
    let r = record(&s, &s.admin, VISITOR, None, json!({"choices": {}})).await;
    s.problem(&r, 400, "invalid_json");
    let r = s
        .call(Method::POST, &consents(VISITOR), None, Some(ok_body.clone()))
        .await;
    s.problem(&r, 401, "unauthorized");
    // None of the refused requests recorded anything.
    let r = send(&s, Method::GET, &consents(VISITOR), &s.admin, None, None).await;
    assert_eq!(r.json_with(200)["history"], json!([]));
}

/// The visitor id is an online identifier: it appears in no response body, nowhere in the
/// database files (only its keyed hash does), in no journal entry and in no log line.
///
/// SQLite only: the test reads the raw database files, which a SQLite server keeps in its
/// own directory; PostgreSQL's files belong to the database server, out of the test's reach.
#[tokio::test]
async fn the_visitor_id_is_never_echoed_stored_or_logged() {
    let s = Server::start().await;
    let visitor = "vis-0d1e2a7b9c4f5e6a8b3c7d1e";
    let anna = s.anna().await;
    let mut bodies = Vec::new();
    for (gpc, body) in [
        (
            Some("1"),
            json!({"banner_version": "2026-11", "choices": {"marketing": "granted"}}),
        ),
        (
            None,
            json!({"banner_version": "2026-12", "choices": {"analytics": "granted"}}),
        ),
    ] {
        bodies.push(record(&s, &s.admin, visitor, gpc, body).await);
    }
    bodies.push(
        send(
            &s,
            Method::POST,
            &link(visitor),
            &s.admin,
            None,
            Some(json!({"subject_id": anna})),
        )
        .await,
    );
    bodies.push(send(&s, Method::GET, &consents(visitor), &s.admin, None, None).await);
    bodies.push(
        record(
            &s,
            &s.admin,
            visitor,
            None,
            json!({"banner_version": "v1", "choices": {"necessary": "denied"}}),
        )
        .await,
    );
    for r in &bodies {
        assert!(r.status < 500, "{} {}: {}", r.method, r.path, r.text);
        assert!(
            !r.text.contains(visitor),
            "{} {} echoes the visitor id: {}",
            r.method,
            r.path,
            r.text
        );
    }

    let mut raw = Vec::new();
    for entry in std::fs::read_dir(s.data_dir()).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            raw.extend(std::fs::read(&path).expect("read a database file"));
        }
    }
    let contains = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(visitor.as_bytes()), "the visitor id is in a database file");
    let hash = s.vault.keys().material().blind_index.visitor_hash(visitor);
    assert!(
        !contains(hex_lower(&hash).as_bytes()),
        "the visitor hash is stored as hex"
    );
    assert!(contains(&hash), "the records are stored under the keyed hash");

    for e in journal(&s).await {
        let text = format!("{e:?}");
        assert!(!text.contains(visitor), "a journal entry names the visitor: {text}");
        assert!(
            !text.contains(&hex_lower(&hash)),
            "a journal entry names the hash: {text}"
        );
    }
    assert!(!captured_logs().contains(visitor), "the visitor id was logged");
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
