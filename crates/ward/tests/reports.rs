//! The officer's access report and exports from the command line: `subject report` prints
//! the report (JSON, or the page with `--html`), `subject export` prints a link's path and
//! token once; bad input is a message and a non-zero exit.

mod common;

use common::{init, register, run, stderr, stdout};

#[test]
fn the_cli_previews_the_access_report_and_exports_a_link() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = init(&tmp);
    let id = register(&dir, &["email=report@example.org", "full_name=Report Reader"]);

    let out = run(&dir, &["subject", "report", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let items: Vec<&str> = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["item"].as_str().unwrap())
        .collect();
    assert_eq!(items, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]);
    assert!(stdout(&out).contains("report@example.org"));
    let out = run(&dir, &["subject", "report", &id, "--html"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("<!DOCTYPE html>"));

    let out = run(&dir, &["subject", "export", &id, "--format", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let link: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let token = link["token"].as_str().unwrap();
    assert_eq!(link["path"], format!("/v1/downloads/{token}"));
    assert_eq!(link["format"], "csv");

    let out = run(&dir, &["subject", "export", &id, "--format", "pdf"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown_export_format"), "{}", stderr(&out));
    let out = run(
        &dir,
        &["subject", "export", &id, "--format", "json", "--expires-in-days", "99"],
    );
    assert!(!out.status.success());
    let out = run(&dir, &["subject", "report", "nobody"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not a subject id"), "{}", stderr(&out));
    let other = "00000000-0000-4000-8000-000000000000";
    let out = run(&dir, &["subject", "report", other]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("subject_not_found"), "{}", stderr(&out));
}
