//! `ward subject list` and `ward journal list`: the officer's registers from the command line,
//! paged, ids only, each listing journaled; bad filters are a message and a failing exit.

mod common;

use common::{init, register, run, stderr, stdout};
use serde_json::Value;

fn lines(out: &std::process::Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", stderr(out));
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn the_cli_lists_subjects_and_the_journal_in_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = init(&tmp);
    let a = register(&dir, &["email=list-a@example.org", "full_name=Alice Listed"]);
    let b = register(&dir, &["email=list-b@example.org"]);

    // Two pages of one: the cursor goes to stderr.
    let out = run(&dir, &["subject", "list", "--limit", "1"]);
    let first = lines(&out);
    assert_eq!(first.len(), 1);
    let err = stderr(&out);
    let cursor = err
        .split("--cursor ")
        .nth(1)
        .unwrap_or_else(|| panic!("no cursor in {err}"))
        .trim()
        .to_owned();
    let out = run(&dir, &["subject", "list", "--limit", "1", "--cursor", &cursor]);
    let second = lines(&out);
    assert!(stderr(&out).contains("1 listed; no more"), "{}", stderr(&out));
    let mut ids: Vec<&str> = [&first[0], &second[0]]
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want = vec![a.as_str(), b.as_str()];
    want.sort();
    assert_eq!(ids, want);
    let text = stdout(&out) + &stdout(&run(&dir, &["subject", "list"]));
    assert!(!text.contains("example.org") && !text.contains("Alice"), "{text}");
    assert_eq!(first[0]["state"], "active");
    assert_eq!(first[0]["bases_established"], serde_json::json!(["registration"]));

    let out = run(
        &dir,
        &["subject", "list", "--no-consent-to", "marketing", "--state", "active"],
    );
    assert_eq!(lines(&out).len(), 2);

    // Who accessed A: her collection; and the listings above, journaled as the CLI's.
    let out = run(&dir, &["journal", "list", "--subject", &a]);
    let about_a = lines(&out);
    assert!(!about_a.is_empty());
    assert!(about_a.iter().all(|e| e["subject"] == a.as_str()), "{about_a:?}");
    assert!(about_a.iter().any(|e| e["action"] == "collection"));
    let out = run(
        &dir,
        &["journal", "list", "--action", "subjects.listed", "--actor", "cli"],
    );
    let listed = lines(&out);
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert_eq!(listed[3]["detail"], "state:active no_consent_to:marketing count:2");
    let out = run(&dir, &["journal", "list", "--action", "journal.read"]);
    assert_eq!(lines(&out)[0]["subject"], a.as_str());
}

#[test]
fn bad_filters_are_refused_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = init(&tmp);
    for (args, says) in [
        (&["subject", "list", "--limit", "0"][..], "invalid_filter"),
        (&["subject", "list", "--consent-to", "nothing"][..], "unknown_purpose"),
        (&["subject", "list", "--cursor", "nope"][..], "invalid_cursor"),
        (
            &["journal", "list", "--actor", "someone@example.org"][..],
            "invalid_filter",
        ),
        (&["journal", "list", "--subject", "nobody"][..], "not a subject id"),
    ] {
        let out = run(&dir, args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}
