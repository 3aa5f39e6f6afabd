//! What an operator's supervisor and metrics stack see of the real binary: JSON log lines,
//! no colour codes where no one reads a terminal, and `/metrics`.

mod common;

use common::{run, stderr, ward, Server};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const ESC: u8 = 0x1b;
const SECRET: &str = "secret-path-value-42";

/// A data directory whose jobs run every second (the checkpoint interval).
fn init_fast(dir: &Path) {
    assert!(run(dir, &["init"]).status.success());
    let cfg = dir.join("ward.toml");
    let text = std::fs::read_to_string(&cfg).expect("ward.toml");
    let text = text.replace("checkpoint_interval_secs = 60", "checkpoint_interval_secs = 1");
    assert!(text.contains("checkpoint_interval_secs = 1"), "{text}");
    std::fs::write(&cfg, text).expect("write ward.toml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_and_metrics_show_the_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    init_fast(&dir);
    let token = std::fs::read_to_string(dir.join("admin-token")).expect("admin token");
    let mut server = Server::start_with_env(&dir, &[("WARD_LOG_FORMAT", "json"), ("WARD_LOG", "debug")]);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |path: String| {
        let req = client.get(format!("{}{path}", server.url)).bearer_auth(token.trim());
        async move {
            let r = req.send().await.expect("send");
            (r.status().as_u16(), r.text().await.expect("body"))
        }
    };
    assert_eq!(get("/healthz".into()).await.0, 200);
    assert_eq!(get(format!("/v1/{SECRET}?q={SECRET}")).await.0, 404);
    assert_eq!(get("/v1/keys".into()).await.0, 200);

    // The jobs run every second: wait (bounded) until /metrics has counted their turns.
    let deadline = Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let (status, text) = get("/metrics".into()).await;
        assert_eq!(status, 200, "{text}");
        let ran = |job: &str| text.contains(&format!("ward_job_runs_total{{job=\"{job}\",outcome=\"done\"}}"));
        if ran("reload-keys") && ran("journal-checkpoint") {
            break text;
        }
        assert!(Instant::now() < deadline, "no job turns counted after 30 s:\n{text}");
        tokio::task::yield_now().await;
    };
    assert!(
        metrics.contains("ward_http_requests_total{method=\"GET\",route=\"/v1/keys\",status=\"200\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("ward_key_epoch_active 1"), "{metrics}");
    // Series an alert compares over time are there from the start, at zero.
    assert!(metrics.contains("\nward_commit_batch_failures_total 0\n"), "{metrics}");
    assert!(metrics.contains("\nward_commit_queue_depth "), "{metrics}");
    assert!(!metrics.contains(SECRET), "{metrics}");
    assert!(server.stop().success());

    let log = server.log();
    let mut messages = Vec::new();
    for line in log.lines() {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line:?}"));
        for key in ["timestamp", "level", "target"] {
            assert!(entry[key].is_string(), "{key} missing: {line}");
        }
        messages.push((
            entry["fields"]["message"].as_str().unwrap_or_default().to_owned(),
            entry,
        ));
    }
    let find = |m: &str| messages.iter().find(|(msg, _)| msg == m).map(|(_, e)| e.clone());
    assert!(find("Ward is listening").is_some(), "{log}");
    assert!(find("shutting down").is_some(), "{log}");
    let (_, answered) = messages
        .iter()
        .find(|(m, e)| m == "finished processing request" && e["span"]["route"] == "<unmatched>")
        .unwrap_or_else(|| panic!("no request line for the unmatched route: {log}"));
    assert_eq!(answered["fields"]["status"], 404, "{answered}");
    assert!(!log.as_bytes().contains(&ESC), "an escape code in JSON logs: {log}");
    assert!(!log.contains(SECRET), "a raw path was logged: {log}");
}

/// A subject whose wrapped data key was overwritten: reading it is an internal error, which
/// the CLI reports on stderr and logs (at `error`) with its cause.
fn broken_subject(dir: &Path) -> String {
    assert!(run(dir, &["init"]).status.success());
    let out = run(
        dir,
        &[
            "subject",
            "create",
            "--purpose",
            "registration",
            "--field",
            "email=anna@example.org",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let tamper = Command::new("sqlite3")
        .arg(dir.join("ward.db"))
        .arg("UPDATE subjects SET wrapped_key = zeroblob(length(wrapped_key));")
        .output()
        .expect("the sqlite3 shell is installed (apt-get install sqlite3)");
    assert!(tamper.status.success(), "{}", String::from_utf8_lossy(&tamper.stderr));
    id
}

#[test]
fn a_failing_command_writes_no_colour_into_a_pipe() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let id = broken_subject(&dir);
    let show = ["subject", "show", id.as_str(), "--purpose", "registration"];

    let out = ward()
        .env_remove("NO_COLOR")
        .args(show)
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .expect("ward runs");
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("error [internal_error]"), "{err}");
    assert!(err.contains("operation failed"), "the failure is logged too: {err}");
    assert!(!out.stderr.contains(&ESC), "colour codes in a pipe: {err:?}");

    // A clap usage error, through the same pipe.
    let out = ward().args(["subject", "show"]).output().expect("ward runs");
    assert!(!out.status.success());
    assert!(!out.stderr.is_empty());
    assert!(!out.stderr.contains(&ESC), "colour codes in a pipe: {:?}", stderr(&out));
}

/// Runs `ward ARGS` on a pseudo-terminal (util-linux's `script`) and returns what it wrote.
fn on_a_terminal(args: &[&str], no_color: Option<&str>) -> Vec<u8> {
    let exe = env!("CARGO_BIN_EXE_ward");
    let line = std::iter::once(exe)
        .chain(args.iter().copied())
        .map(|a| {
            assert!(!a.contains('\''), "{a}");
            format!("'{a}'")
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut script = Command::new("script");
    script
        .args(["-qec", &line, "/dev/null"])
        .env("WARD_LOG", "info")
        .env_remove("WARD_LOG_FORMAT")
        .env_remove("NO_COLOR");
    if let Some(v) = no_color {
        script.env("NO_COLOR", v);
    }
    let out = script.output().expect("util-linux's `script` is installed");
    out.stdout
}

/// The pipe test above means something only if Ward does colour a terminal; and `NO_COLOR`
/// turns that off.
#[test]
fn a_terminal_gets_colour_unless_no_color_is_set() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let id = broken_subject(&dir);
    let data_dir = dir.to_str().expect("a UTF-8 path");
    let show = [
        "subject",
        "show",
        id.as_str(),
        "--purpose",
        "registration",
        "--data-dir",
        data_dir,
    ];

    let coloured = on_a_terminal(&show, None);
    let text = String::from_utf8_lossy(&coloured);
    assert!(text.contains("operation failed"), "{text}");
    assert!(coloured.contains(&ESC), "no colour on a terminal: {text:?}");

    let plain = on_a_terminal(&show, Some("1"));
    let text = String::from_utf8_lossy(&plain);
    assert!(text.contains("operation failed"), "{text}");
    assert!(!plain.contains(&ESC), "colour despite NO_COLOR: {text:?}");
}

#[test]
fn an_unknown_log_format_is_refused() {
    let out = ward()
        .env("WARD_LOG_FORMAT", "xml")
        .args(["keys", "list", "--data-dir", "/nonexistent/ward-data"])
        .output()
        .expect("ward runs");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("WARD_LOG_FORMAT must be `text` or `json`"), "{err}");
    assert!(!Path::new("/nonexistent/ward-data").exists());
}
