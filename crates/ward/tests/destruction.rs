//! The command line's erasure and category destruction (each with a reason), and officer keys.

mod common;

use common::{init, register, run, stderr, stdout};

#[test]
fn the_cli_destroys_a_category_erases_with_a_reason_and_makes_officer_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = init(&tmp);
    let id = register(&dir, &["email=gone@example.org", "full_name=Stays Here"]);

    let out = run(
        &dir,
        &[
            "subject",
            "destroy",
            &id,
            "--categories",
            "contact",
            "--reason",
            "consent_withdrawn",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("categories contact; fields email"),
        "{}",
        stdout(&out)
    );
    let out = run(
        &dir,
        &[
            "subject",
            "find",
            "--email",
            "gone@example.org",
            "--purpose",
            "registration",
        ],
    );
    assert!(
        !stdout(&out).contains(&id),
        "the index entry went with the field: {}",
        stdout(&out)
    );
    let out = run(&dir, &["subject", "show", &id, "--purpose", "registration"]);
    assert!(stdout(&out).contains("Stays Here"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("gone@example.org"), "{}", stdout(&out));

    let out = run(
        &dir,
        &[
            "subject",
            "destroy",
            &id,
            "--categories",
            "shoes",
            "--reason",
            "subject_request",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown_category"), "{}", stderr(&out));

    // Erasure needs a reason, from the list.
    let out = run(&dir, &["subject", "erase", &id]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--reason"), "{}", stderr(&out));
    let out = run(&dir, &["subject", "erase", &id, "--reason", "why not"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown_reason"), "{}", stderr(&out));
    let out = run(&dir, &["subject", "erase", &id, "--reason", "subject_request"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = run(&dir, &["keys", "create", "--name", "dpo", "--role", "officer"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("created officer key"), "{}", stderr(&out));
    let out = run(
        &dir,
        &[
            "keys",
            "create",
            "--name",
            "dpo2",
            "--role",
            "officer",
            "--purpose",
            "marketing",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("purposes_not_applicable"), "{}", stderr(&out));
    let out = run(&dir, &["journal", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `ward acts list` shows the erasure's act, `ward acts show` its items a)–j), `--html` the
/// printable page; a bad id is a message and a non-zero exit.
#[test]
fn the_cli_lists_and_shows_destruction_acts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = init(&tmp);
    let id = register(&dir, &["email=gone@example.org", "full_name=Gone Soon"]);
    let out = run(&dir, &["subject", "erase", &id, "--reason", "subject_request"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    let act = said
        .split("destruction act ")
        .nth(1)
        .map(str::trim)
        .expect("the erasure names its act")
        .to_owned();

    let out = run(&dir, &["acts", "list", "--subject", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&out);
    assert!(listed.contains(&act) && listed.contains("subject_request"), "{listed}");

    let out = run(&dir, &["acts", "show", &act]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    for item in [
        "a) operator",
        "c) subject",
        "h) method",
        "crypto_shredding",
        "journal extract",
    ] {
        assert!(shown.contains(item), "{item}: {shown}");
    }
    assert!(
        !shown.contains("gone@example.org") && !shown.contains("Gone Soon"),
        "{shown}"
    );

    let out = run(&dir, &["acts", "show", &act, "--html"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Акт об уничтожении персональных данных"));

    let out = run(&dir, &["acts", "show", "nope"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not a destruction act id"), "{}", stderr(&out));
    let out = run(&dir, &["acts", "show", "00000000-0000-4000-8000-000000000000"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("destruction_act_not_found"), "{}", stderr(&out));
}

/// The officer's blocks from the command line: `subject block` (a reason from the list,
/// categories of the policy), `subject blocks` (JSON lines), `subject unblock`; bad input is
/// a message and a non-zero exit.
#[test]
fn the_cli_blocks_lists_and_lifts_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = init(&tmp);
    let id = register(&dir, &["email=held@example.org", "full_name=Held Here"]);
    let block = |args: &[&str]| run(&dir, &[&["subject", "block", id.as_str()], args].concat());

    let out = block(&["--category", "contact"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--reason"), "{}", stderr(&out));
    let out = block(&["--reason", "because"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown_reason"), "{}", stderr(&out));
    let out = block(&["--reason", "inaccuracy_claimed", "--category", "shoes"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unknown_category"), "{}", stderr(&out));
    let out = run(&dir, &["subject", "block", "nobody", "--reason", "legal_hold"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not a subject id"), "{}", stderr(&out));

    let out = block(&["--reason", "inaccuracy_claimed", "--category", "contact"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let placed: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(placed["categories"], serde_json::json!(["contact"]), "{placed}");
    assert_eq!(placed["reason"], "inaccuracy_claimed", "{placed}");
    let block_id = placed["id"].as_str().unwrap().to_owned();
    let out = run(
        &dir,
        &["subject", "show", &id, "--purpose", "registration", "--fields", "email"],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("subject_blocked"), "{}", stderr(&out));

    let out = run(&dir, &["subject", "blocks", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(listed["id"], block_id.as_str(), "{listed}");
    assert!(listed["lifted_at"].is_null(), "{listed}");

    let out = run(&dir, &["subject", "unblock", &id, "not-a-block"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not a block id"), "{}", stderr(&out));
    let other = "00000000-0000-4000-8000-000000000000";
    let out = run(&dir, &["subject", "unblock", &id, other]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("block_not_found"), "{}", stderr(&out));
    let out = run(&dir, &["subject", "unblock", &id, &block_id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&dir, &["subject", "unblock", &id, &block_id]);
    assert!(!out.status.success(), "a block is lifted once");
    assert!(stderr(&out).contains("block_not_found"), "{}", stderr(&out));
    let out = run(&dir, &["subject", "blocks", &id]);
    let listed: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert!(listed["lifted_at"].is_string(), "{listed}");
    let out = run(
        &dir,
        &["subject", "show", &id, "--purpose", "registration", "--fields", "email"],
    );
    assert!(stdout(&out).contains("held@example.org"), "{}", stderr(&out));
}
