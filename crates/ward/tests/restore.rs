//! `ward restore` as the README and `--help` describe it: a data backup and a later key export
//! into a new data directory that has only the key files. A restore that fails for any reason
//! leaves that directory as it was, so it can be run again.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn create(dir: &Path, email: &str) -> String {
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

fn copy_keys(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(from.join("keys"))
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Every path below `dir`, relative and sorted, with its size.
fn listing(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut v: Vec<(PathBuf, u64)> = files_below(dir)
        .into_iter()
        .map(|f| {
            let len = std::fs::metadata(&f).unwrap().len();
            (f.strip_prefix(dir).unwrap().to_owned(), len)
        })
        .collect();
    v.sort();
    v
}

fn restore(dir: &Path, from: &Path, keys: &Path) -> std::process::Output {
    run(
        dir,
        &[
            "restore",
            "--from",
            from.to_str().unwrap(),
            "--keys",
            keys.to_str().unwrap(),
        ],
    )
}

/// Runs a restore that must fail with `expected` in its message and change nothing in `dir`.
fn refused(dir: &Path, from: &Path, keys: &Path, expected: &str) {
    let before = listing(dir);
    let out = restore(dir, from, keys);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(expected),
        "expected {expected:?} in:\n{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("restored"), "{}", stdout(&out));
    assert_eq!(listing(dir), before, "a failed restore leaves the directory as it was");
}

struct Live {
    dir: PathBuf,
    data: PathBuf,
    keys: PathBuf,
    kept: String,
    erased: String,
}

/// A vault with three subjects, a data backup of all three, one erased, then a key export.
fn live_vault(root: &Path, name: &str) -> Live {
    let dir = root.join(name);
    assert!(run(&dir, &["init"]).status.success());
    let kept = create(&dir, &format!("kept@{name}.example.org"));
    create(&dir, &format!("other@{name}.example.org"));
    let erased = create(&dir, &format!("erased@{name}.example.org"));
    let data = root.join(format!("{name}-data.db"));
    let out = run(&dir, &["backup", "--out", data.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(run(&dir, &["subject", "erase", &erased, "--reason", "subject_request"])
        .status
        .success());
    let keys = root.join(format!("{name}-keys.db"));
    let out = run(&dir, &["backup", "--keys-out", keys.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    Live {
        dir,
        data,
        keys,
        kept,
        erased,
    }
}

#[test]
fn the_readme_restore_works_into_a_directory_with_only_the_key_files() {
    let tmp = tempfile::tempdir().unwrap();
    let live = live_vault(tmp.path(), "live");
    let target = tmp.path().join("restored");
    copy_keys(&live.dir, &target);

    let out = restore(&target, &live.data, &live.keys);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let said = stdout(&out);
    assert!(said.contains("restored 2 subjects"), "{said}");
    assert!(said.contains("1 subjects had no data key"), "{said}");
    assert!(said.contains("its journal verifies"), "{said}");
    assert!(said.contains("policy.toml"), "{said}");

    // The database and the policy are in place, private; nothing temporary is left.
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&target.join("ward.db")), 0o600);
    assert_eq!(mode(&target.join("policy.toml")), 0o600);
    assert_eq!(
        std::fs::read(target.join("policy.toml")).unwrap(),
        std::fs::read(live.dir.join("policy.toml")).unwrap()
    );
    let names: Vec<_> = listing(&target).into_iter().map(|(p, _)| p).collect();
    assert!(
        names.iter().all(|p| !p.to_string_lossy().contains("restore")),
        "{names:?}"
    );

    // Every command works on it; the erased subject stays erased.
    let out = run(&target, &["subject", "show", &live.kept, "--purpose", "registration"]);
    assert!(stdout(&out).contains("kept@live.example.org"), "{}", stderr(&out));
    let out = run(&target, &["subject", "show", &live.erased, "--purpose", "registration"]);
    assert!(stderr(&out).contains("subject_erased"), "{}", stderr(&out));
    let out = run(&target, &["journal", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&target, &["policy", "versions"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Restoring again over it is refused and changes nothing.
    refused(&target, &live.data, &live.keys, "already exists");
}

#[test]
fn a_failed_restore_leaves_nothing_behind_and_can_be_retried() {
    let tmp = tempfile::tempdir().unwrap();
    let live = live_vault(tmp.path(), "live");
    let other = live_vault(tmp.path(), "other");
    let target = tmp.path().join("restored");
    copy_keys(&live.dir, &target);

    // Missing files.
    let nowhere = tmp.path().join("no-such-file.db");
    refused(&target, &nowhere, &live.keys, "does not exist");
    refused(&target, &live.data, &nowhere, "does not exist");
    // A key export that is not one: garbage, or a data backup given in its place.
    let garbage = tmp.path().join("garbage.db");
    std::fs::write(&garbage, b"this is not a key export, just some bytes of nothing at all").unwrap();
    refused(&target, &live.data, &garbage, "is not a Ward key export");
    refused(&target, &live.data, &live.data, "is not a Ward key export");
    // A data backup that is not one.
    refused(&target, &garbage, &live.keys, "is not a usable data backup");
    // Another vault's key export would erase every subject: refused.
    refused(
        &target,
        &live.data,
        &other.keys,
        "holds no key of any subject in the data backup",
    );

    // Another vault's key files: the data keys do not open.
    let wrong_keys = tmp.path().join("wrong-keys");
    copy_keys(&other.dir, &wrong_keys);
    refused(
        &wrong_keys,
        &live.data,
        &live.keys,
        "does not open with the key files present",
    );
    // No key files at all.
    let bare = tmp.path().join("bare");
    std::fs::create_dir(&bare).unwrap();
    refused(&bare, &live.data, &live.keys, "restore needs the key files");

    // After all that, the same command succeeds.
    let out = restore(&target, &live.data, &live.keys);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("restored 2 subjects"), "{}", stdout(&out));
}
