//! `ward import FILE`: JSON Lines and CSV, bad lines reported by number without their values.

mod common;

use common::*;

const SECRET_EMAIL: &str = "not-an-email-secret-771";

#[test]
fn json_lines_are_imported_and_bad_lines_reported_by_number() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ward-data");
    assert!(run(&dir, &["init"]).status.success());
    let file = tmp.path().join("people.jsonl");
    let lines = [
        r#"{"fields": {"email": "ivan@example.org", "full_name": "Ivan Petrov"}}"#,
        &format!(r#"{{"purpose": "registration", "fields": {{"email": "{SECRET_EMAIL}"}}}}"#),
        "",
        r#"{"fields": {"email": "vera@example.org", "phone": "+7 916 555-00-11"}, "consents": ["marketing"], "evidence": {"channel": "paper"}}"#,
        r#"{"fields": {"email": "broken@example.org""#,
        r#"{"fields": {"email": "oleg@example.org"}, "consents": ["marketing", "analytics"]}"#,
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let ids = tmp.path().join("ids.tsv");
    let out = run(
        &dir,
        &["import", file.to_str().unwrap(), "--ids", ids.to_str().unwrap()],
    );
    let err = stderr(&out);
    assert!(!out.status.success(), "rejected lines make the import fail: {err}");
    assert!(err.contains("line 2: invalid_fields: email:"), "{err}");
    assert!(err.contains("line 5: invalid_json"), "{err}");
    assert!(err.contains("imported 3 subjects, 2 lines rejected"), "{err}");
    assert!(
        !err.contains(SECRET_EMAIL) && !err.contains("broken@"),
        "values echoed: {err}"
    );
    let ids = std::fs::read_to_string(ids).unwrap();
    let numbers: Vec<&str> = ids.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(numbers, ["1", "4", "6"]);

    // The consents of line 6 were recorded with the default channel.
    let out = run(
        &dir,
        &[
            "subject",
            "find",
            "--email",
            "oleg@example.org",
            "--purpose",
            "marketing",
        ],
    );
    assert!(stdout(&out).contains("oleg@example.org"), "{}", stderr(&out));
    let out = run(&dir, &["journal", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn csv_is_imported_with_consents_and_channel_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ward-data");
    assert!(run(&dir, &["init"]).status.success());
    let file = tmp.path().join("people.csv");
    std::fs::write(
        &file,
        "full_name,email,phone,consents,channel\n\
         Anna Petrova,anna@example.org,+79161234567,marketing;analytics,web_form\n\
         Boris Bad,boris@example.org,12,,\n\
         \"Zoya, Jr.\",zoya@example.org,,,\n",
    )
    .unwrap();
    let out = run(&dir, &["import", file.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(err.contains("line 3: invalid_fields: phone:"), "{err}");
    assert!(err.contains("imported 2 subjects, 1 lines rejected"), "{err}");
    assert!(!err.contains("Boris"), "{err}");
    let out = run(
        &dir,
        &[
            "subject",
            "find",
            "--email",
            "anna@example.org",
            "--purpose",
            "marketing",
        ],
    );
    assert!(stdout(&out).contains("+79161234567"), "{}", stderr(&out));
    let out = run(
        &dir,
        &[
            "subject",
            "find",
            "--email",
            "zoya@example.org",
            "--purpose",
            "registration",
        ],
    );
    assert!(stdout(&out).contains("Zoya, Jr."), "{}", stderr(&out));
}

#[test]
fn a_json_line_carries_the_bases_its_registration_establishes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ward-data");
    assert!(run(&dir, &["init"]).status.success());
    let file = tmp.path().join("buyers.jsonl");
    let lines = [
        r#"{"purpose": "payment", "fields": {"email": "buyer@example.org"}, "bases": [{"purpose": "accounting", "reference": "receipt 9"}]}"#,
        r#"{"purpose": "payment", "fields": {"email": "other@example.org"}, "bases": [{"purpose": "marketing", "reference": "x"}]}"#,
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let ids = tmp.path().join("ids.tsv");
    let out = run(
        &dir,
        &["import", file.to_str().unwrap(), "--ids", ids.to_str().unwrap()],
    );
    let err = stderr(&out);
    assert!(err.contains("line 2: basis_event_not_applicable"), "{err}");
    assert!(err.contains("imported 1 subjects, 1 lines rejected"), "{err}");
    let ids = std::fs::read_to_string(ids).unwrap();
    let id = ids.lines().next().unwrap().split('\t').nth(1).unwrap().to_owned();
    let out = run(&dir, &["subject", "bases", &id]);
    let text = stdout(&out);
    let accounting = text.lines().find(|l| l.starts_with("accounting ")).unwrap_or_default();
    assert!(
        accounting.contains("established") && !accounting.contains("not_established"),
        "{text}"
    );
}

/// E-mail is unique in the default policy: a second line (or a second `subject create`) with an
/// address a subject holds is refused by number, naming the field, never the value.
#[test]
fn a_unique_value_already_held_is_refused_by_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ward-data");
    assert!(run(&dir, &["init"]).status.success());
    let file = tmp.path().join("people.jsonl");
    let lines = [
        r#"{"fields": {"email": "twice-771@example.org"}}"#,
        r#"{"fields": {"email": "other@example.org"}}"#,
        r#"{"fields": {"email": "Twice-771@Example.org"}}"#,
    ];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = run(&dir, &["import", file.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    // The lines of a batch are registered concurrently: either one of the two is kept.
    assert!(
        err.contains("line 3: duplicate_value") ^ err.contains("line 1: duplicate_value"),
        "{err}"
    );
    assert!(err.contains("imported 2 subjects, 1 lines rejected"), "{err}");
    assert!(!err.to_lowercase().contains("twice-771"), "values echoed: {err}");
    let create = |email: &str| {
        run(
            &dir,
            &[
                "subject",
                "create",
                "--purpose",
                "registration",
                "--field",
                &format!("email={email}"),
            ],
        )
    };
    let out = create("other@example.org");
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("duplicate_value") && err.contains("`email`"), "{err}");
    assert!(!err.contains("other@"), "{err}");
    assert!(create("third@example.org").status.success());
}
