//! `ward requests list|show|file|pause|resume|extend|complete|refuse` through the real binary:
//! a request received in January is overdue by the real clock and listed by `--overdue`; bad
//! input exits non-zero naming the problem; the steps print the request; and the texts filed
//! are sealed in the data directory's files.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

fn requests(dir: &Path, args: &[&str]) -> std::process::Output {
    run(dir, &[&["requests"], args].concat())
}

fn ok(out: std::process::Output) -> Value {
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(stdout(&out).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

fn fails(out: std::process::Output, code: &str) {
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(stderr(&out).contains(code), "{code}: {}", stderr(&out));
}

#[test]
fn the_cli_files_lists_overdue_and_steps_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = init(&tmp);
    let id = register(&dir, &["email=req@example.org", "full_name=Req Uester"]);
    let marker = "complaint-text-0b5e7f";

    // Received in January 2026: ten working days are long past.
    let late = ok(requests(
        &dir,
        &[
            "file",
            "--subject",
            &id,
            "--kind",
            "complaint",
            "--text",
            marker,
            "--received",
            "2026-01-12T10:00:00+03:00",
        ],
    ));
    assert_eq!(late["state"], "in_progress");
    assert_eq!(late["due_on"], "2026-01-26");
    assert_eq!(late["overdue"], true);
    let late_id = late["id"].as_str().unwrap().to_owned();

    let out = requests(&dir, &["list", "--overdue"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: Vec<Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], late_id.as_str());
    let out = requests(&dir, &["list", "--overdue", "--kind", "access"]);
    assert_eq!(stdout(&out).trim(), "");

    fails(requests(&dir, &["list", "--due-within", "soon"]), "invalid_filter");
    fails(
        requests(&dir, &["list", "--overdue", "--due-within", "2d"]),
        "invalid_filter",
    );
    fails(
        requests(&dir, &["file", "--subject", &id, "--kind", "gossip"]),
        "unknown_request_kind",
    );
    fails(
        requests(&dir, &["file", "--subject", &id, "--kind", "complaint"]),
        "request_details_required",
    );
    fails(requests(&dir, &["show", "nope"]), "invalid_request_id");
    fails(
        requests(&dir, &["extend", &late_id, "--reason", "complexity"]),
        "extension_after_due_date",
    );
    fails(
        requests(&dir, &["refuse", &late_id, "--reason", "legal_restriction"]),
        "citation_required",
    );
    fails(requests(&dir, &["complete", &late_id]), "request_details_required");

    let paused = ok(requests(&dir, &["pause", &late_id, "--note", "which order?"]));
    assert_eq!(paused["state"], "paused");
    // 152-FZ does not stop the clock: still overdue.
    assert_eq!(paused["overdue"], true);
    fails(
        requests(&dir, &["complete", &late_id, "--answer", "sorry"]),
        "request_transition_invalid",
    );
    assert_eq!(ok(requests(&dir, &["resume", &late_id]))["state"], "in_progress");
    let done = ok(requests(&dir, &["complete", &late_id, "--answer", "we apologise"]));
    assert_eq!(
        (done["state"].as_str(), done["outcome"].as_str()),
        (Some("completed"), Some("answered"))
    );
    assert_eq!(done["notice"], "queued");
    let shown = ok(requests(&dir, &["show", &late_id]));
    assert_eq!(shown["details"]["text"], marker);
    assert_eq!(shown["details"]["answer"], "we apologise");
    let out = requests(&dir, &["list", "--overdue"]);
    assert_eq!(stdout(&out).trim(), "", "a completed request is not overdue");
    // The deadline calculator is still there.
    let out = requests(
        &dir,
        &[
            "deadline",
            "--kind",
            "access",
            "--regime",
            "ru",
            "--received",
            "2026-01-12T10:00:00+03:00",
        ],
    );
    assert!(stdout(&out).starts_with("2026-01-26"), "{}", stdout(&out));

    assert_no_plaintext(&dir, &[marker, "we apologise", "which order?"], &[]);
}
