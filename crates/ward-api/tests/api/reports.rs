//! The access report (152-FZ Art. 14 p. 7; GDPR Art. 15), copies of the data (GDPR Art. 20)
//! and their single-use links, over HTTP on both backends: every legal item present with the
//! values of seed 003's register, one subject's documents holding nothing of another's, the
//! formats parsing (RFC 4180 quoting, escaped HTML), a link serving once (also to concurrent
//! requests) until it expires by the fake clock, nothing in clear in the database, and an
//! erasure taking a pending link with it.

use crate::seeds::{consent, publish, register_under};
use crate::support::{both_backends, fresh_email, Resp, Server};
use reqwest::Method;
use serde_json::{json, Value};
use time::Duration;

const SEED_003: &str = include_str!("../../../../examples/policies/seed-003-software.toml");

/// A name that needs quoting in CSV (comma, quote, newline) and escaping in HTML.
const AWKWARD: &str = "Maria \"Masha\", Ivanova\n<b>II</b>";

async fn officer(s: &Server) -> String {
    let r = s
        .post("/v1/keys", &s.admin, json!({"name": "dpo", "role": "officer"}))
        .await;
    r.json_with(201)["token"].as_str().expect("token").to_owned()
}

async fn export(s: &Server, token: &str, id: &str, body: Value) -> Value {
    s.post(&format!("/v1/subjects/{id}/exports"), token, body)
        .await
        .json_with(201)
}

/// The link, used without an API key.
async fn fetch(s: &Server, path: &str) -> Resp {
    s.call(Method::GET, path, None, None).await
}

fn section<'a>(report: &'a Value, item: &str) -> &'a Value {
    report["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|s| s["item"] == item)
        .unwrap_or_else(|| panic!("no section {item}: {report}"))
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v[key].as_str().unwrap_or_default().to_owned())
        .collect()
}

both_backends!(the_access_report_holds_every_item_of_article_14_on_seed_003);
async fn the_access_report_holds_every_item_of_article_14_on_seed_003(s: Server) {
    publish(&s, SEED_003, None).await;
    let email = fresh_email("maria");
    let id = register_under(
        &s,
        "software_use",
        json!({"full_name": "Maria Ivanova", "email": email, "phone": "+7 916 555-66-77"}),
    )
    .await;
    consent(&s, &id, "third_party_transfer").await;
    let dpo = officer(&s).await;
    let report = s
        .get(&format!("/v1/subjects/{id}/access-report"), &dpo)
        .await
        .json_with(200);
    assert_eq!(report["document"], "ward.access_report.v1");
    let items: Vec<String> = names(&report["sections"], "item");
    let expected: Vec<String> = (1..=11).map(|i| i.to_string()).collect();
    assert_eq!(items, expected, "items 1-11 of Art. 14 p. 7, in order");
    for s in report["sections"].as_array().expect("sections") {
        let law = format!("152-FZ Art. 14 p. 7 item {}", s["item"].as_str().expect("item"));
        assert_eq!(s["law"], law.as_str());
        assert!(s["gdpr"].as_str().expect("gdpr").starts_with("GDPR Art."), "{s}");
    }
    // 1: processing confirmed.
    assert_eq!(section(&report, "1")["content"]["processes"], true);
    // 2: the contract established by registration, the consent given.
    let grounds = &section(&report, "2")["content"]["purposes"];
    let by_purpose = |p: &str| {
        grounds
            .as_array()
            .expect("purposes")
            .iter()
            .find(|g| g["purpose"] == p)
            .unwrap_or_else(|| panic!("{p} not in {grounds}"))
            .clone()
    };
    assert_eq!(by_purpose("software_use")["legal_basis"], "contract");
    assert_eq!(by_purpose("software_use")["standing"], "established");
    assert_eq!(by_purpose("third_party_transfer")["legal_basis"], "consent");
    assert_eq!(by_purpose("third_party_transfer")["standing"], "given");
    // 3: methods.
    let purposes = &section(&report, "3")["content"]["purposes"];
    assert!(purposes
        .as_array()
        .expect("purposes")
        .iter()
        .all(|p| p["methods"] == json!(["automated"])));
    // 4: the recipients of the purposes in force, from the register.
    let recipients = names(&section(&report, "4")["content"]["recipients"], "id");
    assert_eq!(recipients, ["service_providers", "third_parties"]);
    // 5: the subject's own data.
    let data = &section(&report, "5")["content"]["data"];
    assert!(data
        .as_array()
        .expect("data")
        .iter()
        .any(|d| d["field"] == "email" && d["value"] == email.as_str() && d["category"] == "contact"));
    // 6: retention per purpose, as the register says.
    let periods = &section(&report, "6")["content"]["purposes"];
    let software = periods
        .as_array()
        .expect("periods")
        .iter()
        .find(|p| p["purpose"] == "software_use")
        .expect("software_use");
    assert_eq!(software["retention"], "until_achieved");
    assert_eq!(software["counted_from"], "contract_end");
    // 7: rights, with the complaint to the authority.
    let rights = names(&section(&report, "7")["content"]["rights"], "right");
    assert!(rights.iter().any(|r| r.contains("supervisory authority")), "{rights:?}");
    // 8: recipients abroad (the seed leaves their country unknown: ZZ).
    let transfers = &section(&report, "8")["content"]["transfers"];
    assert!(transfers
        .as_array()
        .expect("transfers")
        .iter()
        .all(|t| t["country"] == "ZZ"));
    assert_eq!(transfers.as_array().expect("transfers").len(), 2);
    // 9: processors only.
    assert_eq!(
        names(&section(&report, "9")["content"]["processors"], "id"),
        ["service_providers"]
    );
    // 10: the published policy.
    assert_eq!(section(&report, "10")["content"]["published_policy"]["id"], "website");
    // 11: the consent's history and the record of processing, by role.
    let eleven = &section(&report, "11")["content"];
    assert!(eleven["consent_history"]
        .as_array()
        .expect("history")
        .iter()
        .any(|e| e["purpose"] == "third_party_transfer" && e["event"] == "given"));
    let record = eleven["processing_record"].as_array().expect("record");
    assert!(record.iter().any(|e| e["action"] == "collection" && e["by"] == "admin"));

    // The preview is journaled as a retrieval that opened the fields for the access request.
    let entries = s
        .get(&format!("/v1/journal/entries?subject={id}&action=retrieval"), &s.admin)
        .await
        .json_with(200);
    let items = entries["items"].as_array().expect("items");
    assert!(
        items.iter().any(|e| e["detail"]
            .as_str()
            .is_some_and(|d| d.contains("opened:access_request"))
            && e["fields"].as_array().is_some_and(|f| f.len() >= 3)),
        "{entries}"
    );

    // The readable page, by query or Accept.
    let page = s
        .get(&format!("/v1/subjects/{id}/access-report?format=html"), &dpo)
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("152-FZ Art. 14 p. 7 item 11"), "{}", page.text);
    let page = s
        .get_accepting(&format!("/v1/subjects/{id}/access-report"), &dpo, "text/html")
        .await;
    assert!(page.text.starts_with("<!DOCTYPE html>"));
    let r = s
        .get(&format!("/v1/subjects/{id}/access-report?format=pdf"), &dpo)
        .await;
    s.problem(&r, 400, "invalid_query");
    // A service key may not.
    let key = s.service_key(&["software_use"]).await;
    let r = s.get(&format!("/v1/subjects/{id}/access-report"), &key).await;
    s.problem(&r, 403, "forbidden");
}

both_backends!(one_subjects_report_and_copy_hold_nothing_of_another);
async fn one_subjects_report_and_copy_hold_nothing_of_another(s: Server) {
    let (anna_email, boris_email) = (fresh_email("anna"), fresh_email("boris"));
    let body = |email: &str, name: &str| {
        json!({"purpose": "registration", "fields": {"email": email, "full_name": name},
               "consents": ["marketing"], "evidence": {"channel": "web_form"}})
    };
    let anna = s
        .post("/v1/subjects", &s.admin, body(&anna_email, "Anna Petrova"))
        .await
        .json_with(201)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let boris = s
        .post("/v1/subjects", &s.admin, body(&boris_email, "Boris Sidorov"))
        .await
        .json_with(201)["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Both are read and rectified, so the journal holds entries about each.
    for id in [&anna, &boris] {
        s.get(&format!("/v1/subjects/{id}?purpose=registration"), &s.admin)
            .await
            .json_with(200);
    }
    let dpo = officer(&s).await;
    let report = s.get(&format!("/v1/subjects/{anna}/access-report"), &dpo).await;
    assert_eq!(report.status, 200);
    let page = s
        .get(&format!("/v1/subjects/{anna}/access-report?format=html"), &dpo)
        .await;
    let mut documents = vec![report.text.clone(), page.text];
    for format in ["json", "csv", "html", "report"] {
        let link = export(&s, &dpo, &anna, json!({"format": format})).await;
        let served = fetch(&s, link["path"].as_str().expect("path")).await;
        assert_eq!(served.status, 200, "{format}: {}", served.text);
        documents.push(served.text);
    }
    for doc in &documents {
        assert!(
            doc.contains(&anna_email) || doc.contains("Anna"),
            "Anna's own data is there"
        );
        for other in [boris.as_str(), boris_email.as_str(), "Boris", "Sidorov"] {
            assert!(!doc.contains(other), "`{other}` of another subject in: {doc}");
        }
    }
}

/// A minimal RFC 4180 reader: quoted fields with doubled quotes, commas and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

both_backends!(each_format_parses_and_a_link_serves_once);
async fn each_format_parses_and_a_link_serves_once(s: Server) {
    let email = fresh_email("maria");
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "registration", "fields": {"email": email, "full_name": AWKWARD},
                   "consents": ["marketing"], "evidence": {"channel": "web_form"}}),
        )
        .await;
    let id = r.json_with(201)["id"].as_str().expect("id").to_owned();
    let dpo = officer(&s).await;
    let request = uuid::Uuid::new_v4().to_string();

    let link = export(&s, &dpo, &id, json!({"format": "json", "request": request})).await;
    let token = link["token"].as_str().expect("token");
    assert!(token.len() >= 43, "≥ 256 bits");
    assert_eq!(link["path"], format!("/v1/downloads/{token}"));
    let served = fetch(&s, link["path"].as_str().expect("path")).await;
    assert_eq!(served.status, 200, "{}", served.text);
    assert_eq!(served.header("content-type"), Some("application/json"));
    assert_eq!(served.header("cache-control"), Some("no-store"));
    let copy: Value = serde_json::from_str(&served.text).expect("the copy is JSON");
    assert_eq!(copy["document"], "ward.data_copy.v1");
    let fields = copy["fields"].as_array().expect("fields");
    assert!(fields
        .iter()
        .any(|f| f["field"] == "full_name" && f["value"] == AWKWARD));
    // Used once: then gone, and an unknown or malformed token is not found.
    let again = fetch(&s, link["path"].as_str().expect("path")).await;
    s.problem(&again, 410, "download_used");
    s.problem(
        &fetch(&s, &format!("/v1/downloads/{}", "A".repeat(43))).await,
        404,
        "download_not_found",
    );
    s.problem(&fetch(&s, "/v1/downloads/short").await, 404, "download_not_found");

    let link = export(&s, &dpo, &id, json!({"format": "csv"})).await;
    let served = fetch(&s, link["path"].as_str().expect("path")).await;
    assert_eq!(served.header("content-type"), Some("text/csv; charset=utf-8"));
    let rows = parse_csv(&served.text);
    assert_eq!(rows[0], ["category", "field", "value"]);
    assert!(rows.iter().all(|r| r.len() == 3), "{rows:?}");
    assert!(
        rows.contains(&vec!["identity".to_owned(), "full_name".to_owned(), AWKWARD.to_owned()]),
        "{rows:?}"
    );

    for format in ["html", "report"] {
        let link = export(&s, &dpo, &id, json!({"format": format})).await;
        let served = fetch(&s, link["path"].as_str().expect("path")).await;
        assert_eq!(served.header("content-type"), Some("text/html; charset=utf-8"));
        assert!(!served.text.contains("<b>II</b>"), "{format}: not escaped");
        assert!(served.text.contains("&lt;b&gt;II&lt;/b&gt;"), "{format}");
        assert!(
            !served.text.contains("src=") && !served.text.contains("href="),
            "no external assets"
        );
    }

    let r = s
        .post(&format!("/v1/subjects/{id}/exports"), &dpo, json!({"format": "pdf"}))
        .await;
    s.problem(&r, 400, "unknown_export_format");
    let r = s
        .post(
            &format!("/v1/subjects/{id}/exports"),
            &dpo,
            json!({"format": "json", "expires_in_days": 31}),
        )
        .await;
    s.problem(&r, 400, "invalid_json");

    // The officer's list: ids and states, never a token; the request is attached.
    let list = s.get(&format!("/v1/downloads?subject={id}"), &dpo).await;
    let body = list.json_with(200);
    let downloads = body["downloads"].as_array().expect("downloads");
    assert_eq!(downloads.len(), 4);
    assert_eq!(downloads[0]["request"], request.as_str());
    assert!(downloads.iter().all(|d| d["state"] == "used"));
    assert!(!list.text.contains(token));
    s.problem(&s.get("/v1/downloads", &dpo).await, 400, "invalid_query");

    // Served is journaled with the download's id, never its token.
    let rows = s.journal_rows_raw().await;
    assert!(rows.iter().any(|r| r.contains("download.served")));
    assert!(!rows.iter().any(|r| r.contains(token)), "a token in the journal");
}

both_backends!(a_link_expires_by_the_clock);
async fn a_link_expires_by_the_clock(s: Server) {
    let id = s.another_anna().await;
    let week = export(&s, &s.admin, &id, json!({"format": "json"})).await;
    let day = export(&s, &s.admin, &id, json!({"format": "json", "expires_in_days": 1})).await;
    let created = time::OffsetDateTime::parse(
        week["created_at"].as_str().expect("created_at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("a time");
    let expires = time::OffsetDateTime::parse(
        week["expires_at"].as_str().expect("expires_at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("a time");
    assert_eq!(expires - created, Duration::days(7), "seven days by default");
    s.clock.advance(Duration::days(1));
    s.problem(
        &fetch(&s, day["path"].as_str().expect("path")).await,
        410,
        "download_expired",
    );
    s.clock.advance(Duration::days(6) - Duration::seconds(1));
    assert_eq!(fetch(&s, week["path"].as_str().expect("path")).await.status, 200);
    let list = s
        .get(&format!("/v1/downloads?subject={id}"), &s.admin)
        .await
        .json_with(200);
    let states = names(&list["downloads"], "state");
    assert_eq!(states, ["used", "expired"]);
}

both_backends!(concurrent_requests_for_one_link_get_it_once);
async fn concurrent_requests_for_one_link_get_it_once(s: Server) {
    let id = s.another_anna().await;
    let link = export(&s, &s.admin, &id, json!({"format": "csv"})).await;
    let path = link["path"].as_str().expect("path").to_owned();
    let answers = futures::future::join_all((0..8).map(|_| fetch(&s, &path))).await;
    let served = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(served, 1, "exactly one request gets the document");
    for r in answers.iter().filter(|r| r.status != 200) {
        s.problem(r, 410, "download_used");
    }
}

both_backends!(nothing_in_clear_at_rest_and_erasure_takes_a_pending_link);
async fn nothing_in_clear_at_rest_and_erasure_takes_a_pending_link(s: Server) {
    let email = fresh_email("sealed");
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "registration", "fields": {"email": email, "full_name": "Sealed Person"},
                   "consents": ["marketing"], "evidence": {"channel": "web_form"}}),
        )
        .await;
    let id = r.json_with(201)["id"].as_str().expect("id").to_owned();
    let mut tokens = Vec::new();
    for format in ["json", "csv", "html", "report"] {
        tokens.push(export(&s, &s.admin, &id, json!({"format": format})).await);
    }
    let rows = s.all_rows_raw().await;
    assert!(
        rows.iter().any(|r| r.starts_with("downloads|")),
        "the downloads are stored"
    );
    for needle in [email.as_str(), "Sealed Person"] {
        assert!(
            !rows.iter().any(|r| r.contains(needle)),
            "`{needle}` in clear in the database"
        );
    }
    for t in &tokens {
        let token = t["token"].as_str().expect("token");
        assert!(!rows.iter().any(|r| r.contains(token)), "a token in the database");
    }
    let r = s
        .delete(&format!("/v1/subjects/{id}?reason=subject_request"), &s.admin)
        .await;
    assert!(r.status < 300, "{}", r.text);
    for t in &tokens {
        let r = fetch(&s, t["path"].as_str().expect("path")).await;
        s.problem(&r, 404, "download_not_found");
    }
    let rows = s.all_rows_raw().await;
    assert!(
        !rows.iter().any(|r| r.starts_with("downloads|")),
        "erasure deletes the downloads"
    );
}
