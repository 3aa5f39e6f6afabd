//! Key epochs from the command line (the real binary): `ward keys rotate` starts an epoch,
//! `--destroy-old` refuses within the grace period and destroys nothing, and a rotation
//! interval shorter than the grace period is refused by name. The job's schedule, the grace
//! period's end and the scan of the database files are `crates/ward/src/epochs/tests`.

mod common;

use common::*;

#[test]
fn the_old_kek_is_kept_within_the_grace_period() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let out = run(&dir, &["init"]);
    assert!(out.status.success(), "{}", stderr(&out));
    create_subject(&dir);

    let out = run(&dir, &["keys", "rotate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("re-wrapped 1 subject data keys under kek-2"),
        "{}",
        stdout(&out)
    );
    assert!(dir.join("keys/kek-2.key").exists());

    let out = run(&dir, &["keys", "rotate", "--destroy-old"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("kek-1.key may be destroyed from")
            && stderr(&out).contains("every running Ward has loaded it"),
        "{}",
        stderr(&out)
    );
    assert!(dir.join("keys/kek-1.key").exists(), "nothing destroyed");

    let out = run(&dir, &["keys", "rotate", "--resume", "--destroy-old"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cannot be used with"), "{}", stderr(&out));

    // Rotating again within the grace keeps kek-1 and starts kek-3.
    let out = run(&dir, &["keys", "rotate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("kek-1.key kept until"), "{}", stdout(&out));
    assert!(dir.join("keys/kek-1.key").exists() && dir.join("keys/kek-3.key").exists());
    let out = run(
        &dir,
        &[
            "subject",
            "find",
            "--email",
            "a@example.org",
            "--purpose",
            "registration",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&dir, &["journal", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_rotation_interval_shorter_than_the_grace_period_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let out = run(&dir, &["init"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cfg = dir.join("ward.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text.replace("kek_rotation_interval_secs = 86400", "kek_rotation_interval_secs = 100");
    assert!(text.contains("kek_rotation_interval_secs = 100"), "{text}");
    std::fs::write(&cfg, text).unwrap();
    let out = run(&dir, &["keys", "list"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("kek_rotation_interval_secs = 100 is too short: it must be at least 2 × checkpoint_interval_secs + 60 = 180 seconds"),
        "{}",
        stderr(&out)
    );
}
