//! Destruction acts (RKN Order No. 179): an erasure and a category destruction each write
//! one with the destruction; the officer lists them and reads each as JSON or as a page; the
//! act names the subject by id only, and the destruction's journal entry carries its digest.

use crate::support::{both_backends, Server};
use serde_json::{json, Value};

async fn officer(s: &Server) -> String {
    s.post("/v1/keys", &s.admin, json!({"name": "dpo", "role": "officer"}))
        .await
        .json_with(201)["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

both_backends!(an_erasure_writes_an_act_with_items_a_to_j_and_its_journal_extract);
async fn an_erasure_writes_an_act_with_items_a_to_j_and_its_journal_extract(s: Server) {
    let anna = s.anna().await;
    let dpo = officer(&s).await;
    let r = s
        .delete(&format!("/v1/subjects/{anna}?reason=subject_request"), &dpo)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let location = r.header("location").expect("Location names the act").to_owned();
    let act = s.get(&location, &dpo).await.json_with(200);
    let id = act["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1/destruction-acts/{id}"));
    assert_eq!(act["operator"]["name"], "Example Operator LLC");
    assert_eq!(act["processor"], Value::Null);
    assert_eq!(act["subject"], anna.as_str());
    assert!(
        act["destroyed_by"]["name"].as_str().unwrap().starts_with("key:"),
        "{act}"
    );
    assert_eq!(act["destroyed_by"]["position"], "officer");
    assert_eq!(act["categories"], json!(["contact", "identity"]));
    assert_eq!(act["fields"], json!(["email", "full_name", "phone", "postal_address"]));
    assert_eq!(act["medium"], Value::Null);
    assert_eq!(act["information_system"], "Ward");
    assert_eq!(act["method"], "crypto_shredding");
    assert_eq!(act["reason"], "subject_request");
    assert_eq!(act["date"], "2026-03-01T09:00:00Z");
    assert_eq!(act["cause"], "erasure");
    let x = &act["journal_extract"];
    assert_eq!(
        (&x["subject"], &x["categories"], &x["reason"], &x["date"]),
        (&act["subject"], &act["categories"], &act["reason"], &act["date"])
    );
    // The journal entry of the erasure carries the act's id and digest: the signature.
    let digest = act["destroyed_by"]["signature"]
        .as_str()
        .unwrap()
        .strip_prefix("sha256:")
        .unwrap()
        .to_owned();
    let entries = s.vault.store().find_journal_entries(0, 10_000).await.unwrap();
    let entry = entries.iter().rev().find(|e| e.action == "destruction").unwrap();
    let detail = entry.detail.as_deref().unwrap();
    assert!(detail.ends_with(&format!("act:{id} digest:{digest}")), "{detail}");
    assert_eq!(x["detail"], format!("act:{id} digest:{digest}"));
    // No personal data in the act.
    let text = act.to_string();
    for value in ["Anna", "Анна", "Петрова", "example.ru", "79161234567", "Tverskaya"] {
        assert!(!text.contains(value), "{value} in {text}");
    }
    // The printable page, by suffix and by Accept.
    let page = s.get(&format!("{location}.html"), &dpo).await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    for label in [
        "Акт об уничтожении персональных данных",
        "Наименование и адрес оператора",
        "Способ уничтожения",
        "Выгрузка из журнала",
        "Reason for destruction",
        &anna,
    ] {
        assert!(page.text.contains(label), "{label} not on the page");
    }
    let by_accept = s.get_accepting(&location, &dpo, "text/html").await;
    assert_eq!(by_accept.text, page.text);
}

both_backends!(acts_are_listed_by_subject_and_time_and_only_to_the_officer_and_admin);
async fn acts_are_listed_by_subject_and_time_and_only_to_the_officer_and_admin(s: Server) {
    let anna = s.anna().await;
    let boris = s.another_anna().await;
    let r = s
        .post(
            &format!("/v1/subjects/{anna}/destruction"),
            &s.admin,
            json!({"categories": ["contact"], "reason": "consent_withdrawn"}),
        )
        .await;
    let destroyed = r.json_with(200);
    s.clock.advance(time::Duration::hours(1));
    let r = s
        .delete(&format!("/v1/subjects/{boris}?reason=purpose_achieved"), &s.admin)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let dpo = officer(&s).await;
    let all = s.get("/v1/destruction-acts", &dpo).await.json_with(200);
    let subjects: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, [boris.as_str(), anna.as_str()], "newest first");
    let of_anna = s
        .get(&format!("/v1/destruction-acts?subject={anna}"), &dpo)
        .await
        .json_with(200);
    assert_eq!(of_anna.as_array().unwrap().len(), 1);
    assert_eq!(of_anna[0]["id"], destroyed["act"]);
    assert_eq!(of_anna[0]["method"], "field_deletion");
    assert_eq!(of_anna[0]["fields"], json!(["email", "phone", "postal_address"]));
    let earlier = s
        .get(
            "/v1/destruction-acts?from=2026-03-01T09:00:00Z&to=2026-03-01T09:30:00Z",
            &dpo,
        )
        .await
        .json_with(200);
    assert_eq!(earlier.as_array().unwrap().len(), 1);
    assert_eq!(earlier[0]["subject"], anna.as_str());

    let r = s.get("/v1/destruction-acts?from=yesterday", &dpo).await;
    s.problem(&r, 400, "invalid_query");
    let r = s.get("/v1/destruction-acts?subject=nobody", &dpo).await;
    s.problem(&r, 400, "invalid_subject_id");
    let r = s.get("/v1/destruction-acts/not-an-act", &dpo).await;
    s.problem(&r, 400, "invalid_act_id");
    let r = s
        .get(&format!("/v1/destruction-acts/{}", uuid::Uuid::new_v4()), &dpo)
        .await;
    s.problem(&r, 404, "destruction_act_not_found");
    let website = s.service_key(&["registration"]).await;
    let r = s.get("/v1/destruction-acts", &website).await;
    s.problem(&r, 403, "forbidden");
}
