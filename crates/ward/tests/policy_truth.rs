//! One source of truth for the policy: the versions in the store. The data directory's
//! policy.toml seeds the first version at `init`; after that only `ward policy publish`
//! publishes, and a command that finds the file changed says so once and uses the version in
//! force. `ward policy show` prints the version in force (`--file`, the file). A running
//! server takes up a version published from the CLI (SQLite, and PostgreSQL unless it is
//! unreachable and not required).

mod common;

use common::*;
use std::path::Path;

/// The data directory's policy with one more purpose, as version 2.
fn with_profiling(dir: &Path) -> String {
    let current = std::fs::read_to_string(dir.join("policy.toml")).unwrap();
    format!(
        "{}\n[purposes.profiling]\ntitle = \"Personal recommendations\"\nlegal_basis = \"consent\"\ncategories = [\"contact\"]\nactions = [\"use\"]\n",
        current
            .replacen("version = \"1\"", "version = \"2\"", 1)
            .replacen("purposes = [\"marketing\"]", "purposes = [\"marketing\", \"profiling\"]", 1)
    )
}

#[test]
fn no_command_publishes_an_edited_policy_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    assert!(run(&dir, &["init"]).status.success());
    assert!(
        dir.join("policy.md").is_file(),
        "the default policy's text is written beside it"
    );
    let out = run(
        &dir,
        &[
            "subject",
            "create",
            "--purpose",
            "registration",
            "--field",
            "email=a@example.org",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("note:"),
        "the file was not edited: {}",
        stderr(&out)
    );
    let id = stdout(&out).trim().to_owned();

    std::fs::write(dir.join("policy.toml"), with_profiling(&dir)).unwrap();
    // A read-only command: a note, once, and the version in force is used.
    let out = run(&dir, &["subject", "consents", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.matches("note:").count(), 1, "{err}");
    assert!(
        err.contains("differs from every published version") && err.contains("ward policy publish"),
        "{err}"
    );
    let versions = stdout(&run(&dir, &["policy", "versions"]));
    assert_eq!(versions.lines().count(), 2, "nothing was published: {versions}");

    let shown = run(&dir, &["policy", "show"]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert!(
        stdout(&shown).starts_with("# the version in force"),
        "{}",
        stdout(&shown)
    );
    assert!(
        !stdout(&shown).contains("[purposes.profiling]"),
        "the file is not in force"
    );
    let file = stdout(&run(&dir, &["policy", "show", "--file"]));
    assert!(file.contains("[purposes.profiling]"), "{file}");

    let out = run(&dir, &["policy", "publish", dir.join("policy.toml").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("published version"), "{}", stdout(&out));
    let out = run(&dir, &["subject", "consents", &id]);
    assert!(
        !stderr(&out).contains("note:"),
        "the file is the version in force now: {}",
        stderr(&out)
    );
    assert!(stdout(&run(&dir, &["policy", "show"])).contains("[purposes.profiling]"));
}

#[test]
fn publishing_again_with_another_date_reschedules_or_says_why_not() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    assert!(run(&dir, &["init"]).status.success());
    let file = dir.join("v2.toml");
    std::fs::write(&file, with_profiling(&dir)).unwrap();
    let file = file.to_str().unwrap();
    let publish = |at: &str| run(&dir, &["policy", "publish", file, "--effective-at", at]);

    let out = publish("2090-01-01T00:00:00Z");
    assert!(out.status.success(), "{}", stderr(&out));
    let out = publish("2091-06-01T00:00:00Z");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("rescheduled from 2090-01-01T00:00:00Z to 2091-06-01T00:00:00Z"),
        "{}",
        stdout(&out)
    );
    let versions = stdout(&run(&dir, &["policy", "versions"]));
    assert!(
        versions.contains("2091-06-01T00:00:00Z") && !versions.contains("2090-01-01"),
        "{versions}"
    );
    let out = publish("2091-06-01T00:00:00Z");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("nothing changed"), "{}", stdout(&out));

    // The version in force never moves: a non-zero exit, the code, and its date unchanged.
    let seeded = dir.join("policy.toml");
    let out = run(
        &dir,
        &[
            "policy",
            "publish",
            seeded.to_str().unwrap(),
            "--effective-at",
            "2092-01-01T00:00:00Z",
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("policy_version_in_force") && err.contains("its date was not changed"),
        "{err}"
    );
}

#[test]
fn publishing_another_policy_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    assert!(run(&dir, &["init"]).status.success());
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies/seed-000-flex.toml");
    let out = run(&dir, &["policy", "publish", seed.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("policy_id_changed") && err.contains("`flex`") && err.contains("`website`"),
        "{err}"
    );
    assert_eq!(stdout(&run(&dir, &["policy", "versions"])).lines().count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_warns_of_fill_in_placeholders_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    assert!(run(&dir, &["init"]).status.success());
    let mut server = Server::start(&dir);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = client.get(format!("{}/healthz", server.url)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "still ready");
    let body: serde_json::Value = r.json().await.unwrap();
    // The default register has five placeholders, and its text, policy.md, more.
    let warning = body["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains("5 in its register and"), "{body}");
    let log = server.log();
    assert!(
        log.contains("WARN") && log.contains("still has `FILL IN` placeholders: 5 in its register and"),
        "{log}"
    );
    let status = server.stop();
    assert!(status.success(), "{status:?}: {}", server.log());
}

/// `ward policy publish` while a server runs on the same store: the server has the version in
/// force within its reload interval (5 s), waited for with a bounded poll of `GET /v1/policy`.
async fn a_running_server_takes_up_a_version_published_from_the_cli(dir: &Path) {
    let token = std::fs::read_to_string(dir.join("admin-token")).unwrap();
    let mut server = Server::start(dir);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let version = || {
        let req = client
            .get(format!("{}/v1/policy", server.url))
            .bearer_auth(token.trim());
        async move {
            let body: serde_json::Value = req.send().await.unwrap().json().await.unwrap();
            body["version"].as_str().unwrap_or_default().to_owned()
        }
    };
    assert_eq!(version().await, "1");
    let next = dir.join("next.toml");
    std::fs::write(&next, with_profiling(dir)).unwrap();
    let out = run(dir, &["policy", "publish", next.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while version().await != "2" {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not take up version 2 in 30 s: {}",
            server.log()
        );
        tokio::task::yield_now().await;
    }
    assert!(server.log().contains("policy version published elsewhere loaded"));
    let status = server.stop();
    assert!(status.success(), "{status:?}: {}", server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_server_takes_up_a_version_published_from_the_cli_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    assert!(run(&dir, &["init"]).status.success());
    a_running_server_takes_up_a_version_published_from_the_cli(&dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_server_takes_up_a_version_published_from_the_cli_on_postgresql() {
    use sqlx::Executor;
    use ward_store_postgres::testing;
    let Some(mut conn) = testing::connect_raw().await else {
        return;
    };
    let schema = testing::new_schema();
    conn.execute(format!("CREATE SCHEMA \"{schema}\"").as_str())
        .await
        .unwrap();
    let base = testing::url();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    // The URL is saved in ward.toml: the server and the CLI below take no flag.
    let out = ward()
        .args(["init", "--database-url", &url, "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    a_running_server_takes_up_a_version_published_from_the_cli(&dir).await;
    testing::drop_schema(&schema).await;
}
