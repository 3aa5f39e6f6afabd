//! The WAL-resurrection attack of issue 18 against the real server (SQLite): subjects
//! registered over HTTP, one erased, the server stopped; then the files it leaves are what an
//! attacker with the disk copies. They must hold neither the erased subject's wrapped data key
//! nor its sealed fields, in the database file or a WAL, and `ward subject show` on a copy of
//! them (with the key files) must not decrypt the subject.
//!
//! The live scrub (soon after an erasure, while the server runs, held off by readers and
//! retried) and the attack before the scrub are in crates/ward-store-sqlite/tests/wal_scrub.rs;
//! this test covers the server's path end to end, ending with the scrub at shutdown.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The wrapped key and sealed fields of subject `id`, read from the live database by another
/// process's SQLite (this test's; the server's locks are its own).
fn sealed(db: &Path, id: &str) -> (Vec<u8>, Vec<u8>) {
    let conn = ward_store_sqlite::open_reader(db).unwrap();
    let id: ward_core::SubjectId = id.parse().unwrap();
    conn.query_row(
        "SELECT wrapped_key, fields FROM subjects WHERE id = ?1",
        [&id.as_bytes()[..]],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[tokio::test]
async fn a_stopped_servers_files_hold_nothing_of_an_erased_subject() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ward-data");
    let mut server = Server::start(&dir);
    let admin = std::fs::read_to_string(dir.join("admin-token")).unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let send = |method: reqwest::Method, path: &str, token: &str, body: Option<Value>| {
        let mut req = http
            .request(method, format!("{}{path}", server.url))
            .bearer_auth(token.trim());
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };
    let key: Value = send(
        reqwest::Method::POST,
        "/v1/keys",
        &admin,
        Some(json!({"name": "site", "role": "service", "purposes": ["registration", "marketing"]})),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let site = key["token"].as_str().unwrap().to_owned();

    let mut ids = Vec::new();
    for i in 0..20 {
        let r = send(
            reqwest::Method::POST,
            "/v1/subjects",
            &site,
            Some(json!({
                "purpose": "registration",
                "fields": {"full_name": format!("Person {i}"), "email": format!("p{i}@example.org")},
                "consents": ["marketing"],
                "evidence": {"channel": "web_form", "ip": "203.0.113.7", "user_agent": "test"},
            })),
        )
        .await
        .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let (gone, kept) = (&ids[7], &ids[8]);
    let db = dir.join("ward.db");
    let (gone_key, gone_fields) = sealed(&db, gone);
    let (kept_key, _) = sealed(&db, kept);

    let r = send(
        reqwest::Method::DELETE,
        &format!("/v1/subjects/{gone}?reason=subject_request"),
        &site,
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204, "erased");
    assert!(server.stop().success(), "{}", server.log());

    // The attacker's copy of what the stopped server left, by another process.
    let copy = tmp.path().join("copy");
    let status = Command::new("cp").arg("-a").arg(&dir).arg(&copy).status().unwrap();
    assert!(status.success());
    let wal = std::fs::read(copy.join("ward.db-wal")).unwrap_or_default();
    assert!(wal.is_empty(), "no WAL to cut back: {} bytes", wal.len());
    for f in files_below(&copy) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !contains(&bytes, &gone_key),
            "the erased subject's wrapped key is in {}",
            f.display()
        );
        assert!(
            !contains(&bytes, &gone_fields),
            "its sealed fields are in {}",
            f.display()
        );
    }
    let file = std::fs::read(copy.join("ward.db")).unwrap();
    assert!(
        contains(&file, &kept_key),
        "control: the scan finds a live subject's wrapped key"
    );

    // `ward subject show` on the copy, with the key files beside it.
    let show = |id: &str| run(&copy, &["subject", "show", id, "--purpose", "registration"]);
    let o = show(gone);
    assert!(!o.status.success(), "the erased subject is not shown: {}", stdout(&o));
    assert!(stderr(&o).contains("erased"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("Person 7"), "{}", stdout(&o));
    let o = show(kept);
    assert!(o.status.success(), "control: the copy opens: {}", stderr(&o));
    assert!(stdout(&o).contains("p8@example.org"), "{}", stdout(&o));
}
