//! Erasure reaches backups: a data backup holds no data key, and a restore with a key export
//! taken after an erasure leaves the erased subject unreadable.

mod common;

use common::*;

fn sqlite(db: &std::path::Path, sql: &str) -> String {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 shell is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn create(dir: &std::path::Path, email: &str) -> String {
    let out = run(
        dir,
        &[
            "subject",
            "create",
            "--purpose",
            "registration",
            "--field",
            &format!("email={email}"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_owned()
}

#[test]
fn a_backup_taken_before_an_erasure_cannot_be_read_for_that_subject() {
    let tmp = tempfile::tempdir().unwrap();
    let live = tmp.path().join("live");
    assert!(run(&live, &["init"]).status.success());
    let erased = create(&live, "erased-later@example.org");
    let kept = create(&live, "kept@example.org");

    // The data backup, before the erasure: ciphertexts, but no data key at all.
    let data = tmp.path().join("data.db");
    let out = run(&live, &["backup", "--out", data.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("2 subjects, no data keys"), "{}", stdout(&out));
    assert_eq!(
        sqlite(
            &data,
            "SELECT count(*) FROM subjects WHERE wrapped_key IS NOT NULL OR kek_id IS NOT NULL"
        ),
        "0"
    );
    assert_eq!(
        sqlite(&data, "SELECT count(*) FROM subjects WHERE fields IS NOT NULL"),
        "2"
    );
    assert_no_plaintext(tmp.path(), &["erased-later@example.org", "kept@example.org"], &[]);

    // Erase, then export the keys of the live subjects.
    assert!(
        run(&live, &["subject", "erase", &erased, "--reason", "subject_request"])
            .status
            .success()
    );
    let keys = tmp.path().join("keys.db");
    let out = run(&live, &["backup", "--keys-out", keys.to_str().unwrap()]);
    assert!(stdout(&out).contains("1 wrapped data keys"), "{}", stdout(&out));

    // Restore into a fresh directory that has the key files but no database.
    let restored = tmp.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    for f in ["ward.toml", "policy.toml"] {
        std::fs::copy(live.join(f), restored.join(f)).unwrap();
    }
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(live.join("keys"))
        .arg(&restored)
        .status()
        .unwrap();
    assert!(status.success());
    let out = run(
        &restored,
        &[
            "restore",
            "--from",
            data.to_str().unwrap(),
            "--keys",
            keys.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("restored 1 subjects"), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 subjects had no data key"), "{}", stdout(&out));

    let out = run(&restored, &["subject", "show", &kept, "--purpose", "registration"]);
    assert!(stdout(&out).contains("kept@example.org"), "{}", stderr(&out));
    let out = run(&restored, &["subject", "show", &erased, "--purpose", "registration"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("subject_erased"), "{}", stderr(&out));
    // Its ciphertexts are gone from the restored database too.
    assert_eq!(
        sqlite(
            &restored.join("ward.db"),
            "SELECT count(*) FROM subjects WHERE fields IS NOT NULL"
        ),
        "1"
    );
    assert!(run(&restored, &["journal", "verify"]).status.success());

    // Restoring over an existing database is refused.
    let out = run(
        &restored,
        &[
            "restore",
            "--from",
            data.to_str().unwrap(),
            "--keys",
            keys.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
}
