//! The end-to-end scenario, against the real binary over real HTTP, on SQLite.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;

struct Api {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Api {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }
    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

const NAME: &str = "Anastasia Koroleva-Testova";
const EMAIL: &str = "anastasia.koroleva@example.org";
const PHONE: &str = "+79161234567";
const NEW_PHONE: &str = "+79031112233";
const ADDRESS: &str = "Moscow, Tverskaya 7, apt 42";
const KEEPER_NAME: &str = "Bartholomew Kept-Subject";
const KEEPER_EMAIL: &str = "bartholomew.kept@example.org";

#[tokio::test(flavor = "multi_thread")]
async fn the_vault_scenario_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ward-data");

    // First start initialises the data directory.
    let mut server = Server::start(&dir);
    for (f, mode) in [("keys/kek-1.key", 0o600), ("admin-token", 0o600), ("keys", 0o700)] {
        let m = std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(m, mode, "{f}");
    }
    assert!(dir.join("policy.toml").exists() && dir.join("ward.toml").exists());
    let admin_token = std::fs::read_to_string(dir.join("admin-token"))
        .unwrap()
        .trim()
        .to_owned();
    let http = reqwest::Client::new();
    let admin = Api {
        http: http.clone(),
        url: server.url.clone(),
        token: admin_token.clone(),
    };

    let (s, health) = admin.get("/healthz").await;
    assert_eq!((s, health["status"].as_str()), (StatusCode::OK, Some("ok")));

    // A service key for the website.
    let (s, key) = admin
        .post(
            "/v1/keys",
            json!({"name": "website", "role": "service", "purposes": ["registration", "marketing", "analytics"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{key}");
    let site = Api {
        http: http.clone(),
        url: server.url.clone(),
        token: key["token"].as_str().unwrap().to_owned(),
    };

    // Create a subject with consent to marketing.
    let (s, created) = site
        .post(
            "/v1/subjects",
            json!({
                "purpose": "registration",
                "fields": {"full_name": NAME, "email": EMAIL, "phone": "+7 (916) 123-45-67", "postal_address": ADDRESS, "username": "nastya"},
                "consents": ["marketing"],
                "evidence": {"channel": "web_form", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 scenario"}
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (s, _) = site
        .post(
            "/v1/subjects",
            json!({"purpose": "registration", "fields": {"full_name": KEEPER_NAME, "email": KEEPER_EMAIL}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);

    // Read with a consented purpose: exactly the fields marketing may use.
    let (s, read) = site.get(&format!("/v1/subjects/{id}?purpose=marketing")).await;
    assert_eq!(s, StatusCode::OK, "{read}");
    assert_eq!(
        read["fields"],
        json!({"full_name": NAME, "email": EMAIL, "phone": PHONE, "postal_address": ADDRESS}),
        "username (account) is not marketing's"
    );

    // Read with an unconsented purpose is refused with its code.
    let (s, refused) = site.get(&format!("/v1/subjects/{id}?purpose=analytics")).await;
    assert_eq!(
        (s, refused["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("consent_missing"))
    );

    // Find by email (the blind index), in any letter case.
    let (s, found) = site
        .post(
            "/v1/subjects/lookup",
            json!({"field": "email", "value": EMAIL.to_uppercase(), "purpose": "registration"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{found}");
    assert_eq!(found["subjects"].as_array().unwrap().len(), 1);
    assert_eq!(found["subjects"][0]["id"], json!(id));

    // Rectify.
    let (s, body) = site
        .patch(
            &format!("/v1/subjects/{id}?purpose=registration"),
            json!({"fields": {"phone": NEW_PHONE}}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let (_, read) = site
        .get(&format!("/v1/subjects/{id}?purpose=registration&fields=phone"))
        .await;
    assert_eq!(read["fields"], json!({"phone": NEW_PHONE}));

    // Withdraw consent: the very next read for that purpose is refused.
    let (s, withdrawal) = site.delete(&format!("/v1/subjects/{id}/consents/marketing")).await;
    assert_eq!(s, StatusCode::OK, "{withdrawal}");
    let (s, refused) = site.get(&format!("/v1/subjects/{id}?purpose=marketing")).await;
    assert_eq!(
        (s, refused["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("consent_missing"))
    );

    // Erase: reads return "erased".
    let (s, _) = site.delete(&format!("/v1/subjects/{id}?reason=subject_request")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, gone) = site.get(&format!("/v1/subjects/{id}?purpose=registration")).await;
    assert_eq!((s, gone["code"].as_str()), (StatusCode::GONE, Some("subject_erased")));

    // The journal verifies, over HTTP…
    let (s, v) = admin.get("/v1/journal/verify").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["valid"], json!(true), "{v}");
    assert!(v["entries"].as_i64().unwrap() >= 10, "{v}");

    let status = server.stop();
    assert!(status.success(), "server exit: {status:?}\n{}", server.log());
    let log = server.log();

    // …and from the CLI, with the checkpoint signed at shutdown.
    let out = run(&dir, &["journal", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("journal OK"), "{}", stdout(&out));
    assert!(!stdout(&out).contains(" 0 signed checkpoints"), "{}", stdout(&out));

    // No plaintext personal data in the database files (incl. WAL), the key files, or logs.
    assert_no_plaintext(
        &dir,
        &[
            NAME,
            EMAIL,
            PHONE,
            NEW_PHONE,
            ADDRESS,
            KEEPER_NAME,
            KEEPER_EMAIL,
            "Tverskaya",
            "203.0.113.7",
            "Mozilla/5.0 scenario",
        ],
        &[("server log", &log)],
    );
    // The admin token exists only in its own file, never in the database or the log.
    for f in files_below(&dir).iter().filter(|f| !f.ends_with("admin-token")) {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            !bytes.windows(admin_token.len()).any(|w| w == admin_token.as_bytes()),
            "token in {}",
            f.display()
        );
    }
    assert!(!log.contains(&admin_token));

    // Change one journal row directly: verify fails and names that entry.
    let tamper = std::process::Command::new("sqlite3")
        .arg(dir.join("ward.db"))
        .arg("UPDATE journal SET purpose = 'analytics' WHERE seq = 5;")
        .output()
        .expect("the sqlite3 shell is installed (apt-get install sqlite3)");
    assert!(tamper.status.success(), "{}", String::from_utf8_lossy(&tamper.stderr));
    let out = run(&dir, &["journal", "verify"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("entry 5 was modified"), "{}", stderr(&out));
}

#[test]
fn cli_subjects_survive_key_rotation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let out = run(&dir, &["init"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("admin API key"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("ward_"), "init must not print the token");

    let mut ids = Vec::new();
    for i in 0..5 {
        let email = format!("rotation{i}@example.org");
        let out = run(
            &dir,
            &[
                "subject",
                "create",
                "--purpose",
                "registration",
                "--field",
                &format!("email={email}"),
                "--field",
                "full_name=Rota Tion",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        ids.push((stdout(&out).trim().to_owned(), email));
    }
    let out = run(&dir, &["subject", "erase", &ids[4].0, "--reason", "subject_request"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = run(&dir, &["keys", "rotate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("re-wrapped 4 subject data keys under kek-2"),
        "{}",
        stdout(&out)
    );

    for (id, email) in &ids[..4] {
        let out = run(
            &dir,
            &["subject", "show", id, "--purpose", "registration", "--fields", "email"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains(email.as_str()), "{}", stdout(&out));
    }
    let out = run(
        &dir,
        &[
            "subject",
            "find",
            "--email",
            "ROTATION2@example.org",
            "--purpose",
            "registration",
        ],
    );
    assert!(stdout(&out).contains(&ids[2].0), "{}", stdout(&out));

    // Rotating again is a no-op for keys already current, then moves them all to kek-3.
    let out = run(&dir, &["keys", "rotate"]);
    assert!(
        stdout(&out).contains("re-wrapped 4 subject data keys under kek-3"),
        "{}",
        stdout(&out)
    );

    let out = run(&dir, &["journal", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn cli_errors_are_messages_with_nonzero_exit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    assert!(run(&dir, &["init"]).status.success());
    let cases: &[(&[&str], &str)] = &[
        (
            &["subject", "show", "not-a-uuid", "--purpose", "marketing"],
            "is not a subject id",
        ),
        (
            &[
                "subject",
                "show",
                "7b0e4b9e-6c59-4a87-9f0c-6d1f0d9c7e11",
                "--purpose",
                "selling",
            ],
            "unknown_purpose",
        ),
        (
            &[
                "subject",
                "show",
                "7b0e4b9e-6c59-4a87-9f0c-6d1f0d9c7e11",
                "--purpose",
                "marketing",
            ],
            "subject_not_found",
        ),
        (
            &[
                "subject",
                "create",
                "--purpose",
                "registration",
                "--field",
                "email=secret-not-an-email",
            ],
            "not a valid email address",
        ),
        (
            &[
                "subject",
                "create",
                "--purpose",
                "registration",
                "--field",
                "shoe_size=44",
                "--field",
                "email=a@b.org",
            ],
            "shoe_size: this field is not declared",
        ),
        (&["keys", "revoke", "nosuchkey"], "api_key_not_found"),
        (
            &["keys", "create", "--name", "x", "--role", "service"],
            "purposes_required",
        ),
    ];
    for (args, expect) in cases {
        let out = run(&dir, args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = stderr(&out);
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(
            !err.contains("secret-not-an-email"),
            "errors must not echo values: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn policy_validate_explains_problems() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.toml");
    std::fs::write(&good, ward_core::policy::DEFAULT_POLICY).unwrap();
    // The default policy names its text, which must be beside it.
    let text = tmp.path().join(ward_core::policy::DEFAULT_POLICY_TEXT_FILE);
    std::fs::write(&text, ward_core::policy::DEFAULT_POLICY_TEXT).unwrap();
    let out = run(tmp.path(), &["policy", "validate", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("valid"), "{}", stdout(&out));

    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        ward_core::policy::DEFAULT_POLICY.replace("categories = [\"technical\"]", "categories = [\"telemetry\"]"),
    )
    .unwrap();
    let out = run(tmp.path(), &["policy", "validate", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("purpose `analytics` uses category `telemetry`, which is not declared"),
        "{err}"
    );
    assert!(err.contains("line "), "{err}");
}

#[test]
fn cli_withdraws_consent_and_records_notices_and_death() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    assert!(run(&dir, &["init"]).status.success());
    let out = run(
        &dir,
        &[
            "subject",
            "create",
            // Technical data collected under analytics, with the registration contract:
            // what withdrawing analytics leaves to destroy is what the subject holds.
            "--purpose",
            "analytics",
            "--field",
            "last_ip=203.0.113.7",
            "--consent",
            "marketing",
            "--consent",
            "analytics",
            "--basis",
            "registration=order 1",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).trim().to_owned();

    let out = run(&dir, &["subject", "withdraw", &id, "--purpose", "analytics"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("withdrawn: analytics stops now"), "{text}");
    assert!(text.contains("destroy by 20"), "{text}");
    assert!(text.contains("technical"), "{text}");
    let out = run(&dir, &["subject", "withdraw", &id, "--purpose", "marketing"]);
    let text = stdout(&out);
    assert!(
        text.contains("continues: registration (legal basis: contract)"),
        "{text}"
    );
    // Withdrawing again is an error with a message and a non-zero exit.
    let out = run(&dir, &["subject", "withdraw", &id, "--purpose", "marketing"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no consent"), "{}", stderr(&out));

    let out = run(&dir, &["subject", "consents", &id]);
    let text = stdout(&out);
    let analytics = text
        .lines()
        .find(|l| l.starts_with("analytics"))
        .expect("analytics row");
    assert!(
        analytics.contains("withdrawn") && analytics.contains("technical"),
        "{text}"
    );

    let out = run(
        &dir,
        &[
            "subject",
            "policy-notice",
            &id,
            "--kind",
            "accepted",
            "--channel",
            "continued_use",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&dir, &["subject", "policy-notices", &id]);
    let text = stdout(&out);
    assert!(text.contains("yes") && text.contains("(continued_use)"), "{text}");

    let out = run(
        &dir,
        &[
            "subject",
            "death",
            &id,
            "--date",
            "2099-01-01",
            "--document",
            "certificate",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("future"), "{}", stderr(&out));
    let out = run(
        &dir,
        &[
            "subject",
            "death",
            &id,
            "--date",
            "2020-01-01",
            "--document",
            "certificate I-MJU 1",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("heirs"), "{}", stdout(&out));
    assert!(run(&dir, &["journal", "verify"]).status.success());
}

#[test]
fn cli_records_and_shows_legal_bases() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = init(&tmp);
    let id = register(&dir, &["email=cli.basis@example.org"]);
    let row = |text: &str, purpose: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{purpose} ")))
            .unwrap_or_else(|| panic!("no {purpose} in {text}"))
            .to_owned()
    };

    let out = run(&dir, &["subject", "bases", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(row(&text, "registration").contains("established"), "{text}");
    assert!(row(&text, "accounting").contains("not_established"), "{text}");

    let out = run(
        &dir,
        &[
            "subject",
            "basis",
            &id,
            "--purpose",
            "accounting",
            "--kind",
            "established",
            "--start",
            "2026-01-15T00:00:00Z",
            "--reference",
            "order 77",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let accounting = row(&stdout(&out), "accounting");
    assert!(
        accounting.contains("established") && accounting.contains("2031-01-15T00:00:00Z"),
        "{accounting}"
    );

    // Bad input is a message and a non-zero exit, never a panic.
    let out = run(
        &dir,
        &[
            "subject",
            "basis",
            &id,
            "--purpose",
            "accounting",
            "--kind",
            "established",
            "--start",
            "soon",
            "--reference",
            "x",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("RFC 3339"), "{}", stderr(&out));
    let out = run(
        &dir,
        &[
            "subject",
            "basis",
            &id,
            "--purpose",
            "marketing",
            "--kind",
            "established",
            "--reference",
            "x",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("rests on consent"), "{}", stderr(&out));
    // The reference is evidence: sealed, never in the database in clear.
    assert_no_plaintext(&dir, &["order 77"], &[]);

    // A registration carries its bases: the purchase and its accounting obligation at once.
    let out = run(
        &dir,
        &[
            "subject",
            "create",
            "--purpose",
            "payment",
            "--field",
            "email=cli.checkout@example.org",
            "--basis",
            "accounting=receipt 78",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let buyer = stdout(&out).trim().to_owned();
    let out = run(&dir, &["subject", "bases", &buyer]);
    let text = stdout(&out);
    for purpose in ["accounting", "payment"] {
        let r = row(&text, purpose);
        assert!(r.contains("established") && !r.contains("not_established"), "{text}");
    }
    let out = run(
        &dir,
        &[
            "subject",
            "create",
            "--purpose",
            "payment",
            "--field",
            "email=cli.refused@example.org",
            "--basis",
            "marketing=x",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("rests on consent"), "{}", stderr(&out));
}
