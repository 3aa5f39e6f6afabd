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
