//! The outbox with the real binary and a real SMTP server (`aiosmtpd`): `ward serve` killed
//! with SIGKILL in the middle of delivering a backlog loses nothing once restarted (at least
//! once), and sends again only what it had in flight (duplicates at most one claimed batch),
//! each duplicate with the same Message-ID. On SQLite and on PostgreSQL (a fresh schema;
//! skipped when PostgreSQL is unreachable, unless `CI` or `WARD_REQUIRE_POSTGRES=1`).

mod common;
#[path = "smtpd/mod.rs"]
mod smtpd;

use common::{init, run, stdout, ward, Server};
use serde_json::{json, Value};
use sqlx::Executor;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Duration;
use ward_store_postgres::testing;

/// Messages queued; a claimed batch (the most in flight).
const MESSAGES: usize = 400;
const BATCH: usize = 20;

fn configure(dir: &std::path::Path, port: u16) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("ward.toml"))
        .expect("ward.toml");
    write!(
        f,
        "\n[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"Example Operator <privacy@example.ru>\"\n\
         [outbox]\ninterval_secs = 1\nclaim_secs = 2\nfirst_backoff_secs = 1\nmax_backoff_secs = 1\n\
         batch = {BATCH}\nconcurrency = 4\nmax_attempts = 100\n"
    )
    .expect("write ward.toml");
}

async fn post(http: &reqwest::Client, server: &Server, token: &str, path: &str, body: Value) -> Value {
    let r = http
        .post(format!("{}{path}", server.url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("a response");
    let status = r.status();
    let v: Value = r.json().await.expect("JSON");
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

/// Distinct Message-IDs delivered, with how many times each arrived.
fn delivered(s: &smtpd::Smtpd) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for m in s.messages() {
        let id = smtpd::header(&m, "Message-ID").expect("a Message-ID");
        *out.entry(id).or_insert(0) += 1;
    }
    out
}

/// How many messages `ward outbox list` shows in `state` (the server may be down).
fn count_in_state(dir: &std::path::Path, state: &str) -> usize {
    let out = run(dir, &["outbox", "list", "--state", state, "--limit", "1000"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = stdout(&out);
    if text.trim() == "no messages" {
        0
    } else {
        text.lines().count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_mid_delivery_loses_no_message_on_sqlite() {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = init(&tmp);
    kill_9_mid_delivery(&tmp, &dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_mid_delivery_loses_no_message_on_postgres() {
    let Some(mut conn) = testing::connect_raw().await else {
        return;
    };
    let schema = testing::new_schema();
    conn.execute(format!("CREATE SCHEMA \"{schema}\"").as_str())
        .await
        .expect("create a schema");
    let base = testing::url();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dir = tmp.path().join("d");
    let out = ward()
        .args(["init", "--database-url", &url, "--data-dir"])
        .arg(&dir)
        .output()
        .expect("ward init");
    assert!(out.status.success(), "{}", common::stderr(&out));
    kill_9_mid_delivery(&tmp, &dir).await;
    testing::drop_schema(&schema).await;
}

/// Queues a backlog while the mail server is down, kills `ward serve` with SIGKILL as soon as
/// mail flows, restarts it, and checks what arrived.
async fn kill_9_mid_delivery(tmp: &tempfile::TempDir, dir: &std::path::Path) {
    let dir = dir.to_path_buf();
    // The mail server's port, named before it exists: it comes up after the backlog.
    let port = smtpd::free_port();
    configure(&dir, port);
    let mut server = Server::start(&dir);
    let token = std::fs::read_to_string(dir.join("admin-token")).expect("admin token");
    let token = token.trim();
    let http = reqwest::Client::new();

    // The backlog, queued while the mail server is down (the first attempts fail and wait).
    let subjects: Vec<Value> = (0..MESSAGES)
        .map(|i| json!({"purpose": "registration", "fields": {"email": format!("s{i}@example.org")}}))
        .collect();
    let created = post(
        &http,
        &server,
        token,
        "/v1/subjects/batch",
        json!({"subjects": subjects}),
    )
    .await;
    let ids: Vec<String> = created["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_str().expect("an id").to_owned())
        .collect();
    assert_eq!(ids.len(), MESSAGES);
    let mut expected = Vec::new();
    for id in &ids {
        let m = post(
            &http,
            &server,
            token,
            &format!("/v1/subjects/{id}/notices"),
            json!({"template": "policy_changed"}),
        )
        .await;
        expected.push(format!("<{}@example.ru>", m["id"].as_str().expect("a message id")));
    }

    // The server comes up; as soon as mail flows, Ward is killed mid-delivery.
    let mail = smtpd::Smtpd::start(port, &tmp.path().join("maildir"));
    mail.next_delivery(Duration::from_secs(60));
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .expect("kill")
        .success());
    server.child.wait().expect("killed");
    // What the killed process had marked sent; everything else (queued, or claimed and maybe
    // delivered but not marked) the restarted one delivers, each message once.
    let sent_at_kill = count_in_state(&dir, "sent");
    let at_kill = delivered(&mail).len();
    assert!(
        at_kill < MESSAGES,
        "killed before the backlog was delivered ({at_kill} of {MESSAGES})"
    );
    // The announcements of the killed process's deliveries, read before the restart.
    let before_restart = mail.announced().len();

    // Restarted: everything arrives, once its claim expired for what was in flight. The
    // restarted process sends exactly the messages not marked sent at the kill; once the mail
    // server announced that many, a graceful stop lets the job's turn in progress mark them.
    let mut server = Server::start(&dir);
    let resent = mail.deliveries(MESSAGES - sent_at_kill, Duration::from_secs(180));
    assert!(server.stop().success(), "a clean stop");
    assert_eq!(count_in_state(&dir, "sending"), 0, "a claim left behind");
    eprintln!(
        "{sent_at_kill} marked sent at the kill, {before_restart} announced before the restart, {} after",
        resent.len()
    );
    // Addresses and texts are sealed in the database, and the logs name ids only.
    common::assert_no_plaintext(
        &dir,
        &["s17@example.org", "s399@example.org", "has published version"],
        &[("the server's log", &server.log())],
    );

    let got = delivered(&mail);
    let mut want = expected.clone();
    want.sort();
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        want,
        "every message, and no other"
    );
    let duplicates: usize = got.values().map(|n| n - 1).sum();
    assert!(
        duplicates <= BATCH,
        "{duplicates} duplicates: more than one claimed batch was resent"
    );
    assert_eq!(count_in_state(&dir, "sent"), MESSAGES);
    let verify = run(&dir, &["journal", "verify"]);
    assert!(verify.status.success(), "{}", common::stderr(&verify));
    eprintln!("delivered {MESSAGES} messages across a kill -9 ({at_kill} before it), {duplicates} duplicates");
}
