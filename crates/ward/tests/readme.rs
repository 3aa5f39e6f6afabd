//! The README's "A first session", run as written (with `bash` and `curl`) against a real
//! server: the commands work and every variable they use is set.

mod common;

use common::{init, Server};
use std::process::Command;

/// The README's first `sh` block after the heading "A first session".
fn first_session() -> String {
    let readme = include_str!("../../../README.md");
    let at = readme
        .find("## A first session")
        .expect("the README has a first session");
    let start = readme[at..].find("```sh\n").expect("its sh block") + at + "```sh\n".len();
    let end = readme[start..].find("```").expect("the block ends") + start;
    readme[start..end].to_owned()
}

#[test]
fn the_readmes_first_session_runs_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = init(&tmp);
    let server = Server::start(&dir);
    let script = first_session()
        .replace("ward-data/", &format!("{}/", dir.display()))
        .replace("http://127.0.0.1:8080", &server.url);
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .output()
        .expect("bash runs (and curl is installed: .ci/run installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the first session failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The last command reads Anna for marketing: its categories (identity, contact) only.
    let read: serde_json::Value = serde_json::from_str(stdout.trim()).expect("the read answers JSON");
    assert_eq!(read["purpose"], "marketing", "{read}");
    assert_eq!(read["fields"]["email"], "anna@example.org", "{read}");
    assert_eq!(read["fields"]["full_name"], "Anna Petrova", "{read}");
    assert!(read["id"].as_str().is_some_and(|id| id.len() == 36), "{read}");
}
