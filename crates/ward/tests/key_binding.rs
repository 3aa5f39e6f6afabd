//! Keys bound to their store, attacked as a careless operator would: a mistyped or deleted key
//! directory, a wrong but well-formed key, another store's keys, key files others can read,
//! a store of an earlier build. Each is refused with the mismatch named, and nothing is
//! created (the listing of everything below the test's directory is the same before and after).
//! Real binary, SQLite; the PostgreSQL run is in `key_binding_postgres`.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Every file and directory below `dir` with its mode and size, sorted. Leaves out SQLite's
/// `-wal` and `-shm` files: a refused start has opened the existing database (to read its
/// binding), and SQLite may leave them behind as after any open.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            let name = p.to_string_lossy();
            if name.ends_with("-wal") || name.ends_with("-shm") {
                continue;
            }
            let meta = std::fs::symlink_metadata(&p).expect("metadata");
            out.push(format!(
                "{} {:o} {}",
                p.strip_prefix(dir).unwrap().display(),
                meta.permissions().mode() & 0o777,
                if meta.is_dir() { 0 } else { meta.len() }
            ));
            if meta.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

fn init(dir: &Path) {
    let out = run(dir, &["init"]);
    assert!(out.status.success(), "ward init: {}", stderr(&out));
}

/// [`init`], then the WAL checkpointed into `ward.db` by the sqlite3 shell: `ward init` exits
/// with WAL frames SQLite has not yet copied into the database file, and the next process to
/// close its last connection to it (a start that is then refused, too) copies them, which may
/// grow the file by a page. A test that compares the file's size before and after a refused
/// start starts from a settled file.
fn init_settled(dir: &Path) {
    init(dir);
    sqlite(&dir.join("ward.db"), "PRAGMA wal_checkpoint(TRUNCATE)");
}

fn sqlite(db: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 shell is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs the prepared `ward serve`; returns its output once it exits. A server that
/// starts listening instead is stopped and the test fails: it must have refused.
fn serve_refused(cmd: &mut Command) -> Output {
    let mut child = cmd
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ward serve runs");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let mut seen = String::new();
    while std::io::BufRead::read_line(&mut stdout, &mut line).expect("read stdout") > 0 {
        if line.starts_with("Ward listening") {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let _ = child.wait();
            panic!("ward serve started against keys that are not the store's:\n{seen}{line}");
        }
        seen.push_str(&line);
        line.clear();
    }
    let mut out = child.wait_with_output().expect("ward serve exits");
    out.stdout = seen.into_bytes();
    out
}

fn serve_with(data: &Path, f: impl FnOnce(&mut Command) -> &mut Command) -> Output {
    let mut c = ward();
    c.arg("--data-dir").arg(data);
    f(&mut c);
    serve_refused(&mut c)
}

#[track_caller]
fn assert_refused(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert!(
        !out.status.success(),
        "it must fail; stdout: {}\nstderr: {err}",
        stdout(out)
    );
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

fn write_key(path: &Path, hex_key: &str) {
    let _ = std::fs::remove_file(path);
    std::fs::write(path, format!("{hex_key}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

struct Vaults {
    tmp: tempfile::TempDir,
}

impl Vaults {
    fn new() -> Self {
        Vaults {
            tmp: tempfile::tempdir().expect("temporary directory"),
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
    fn all(&self) -> Vec<String> {
        listing(self.tmp.path())
    }
}

#[test]
fn a_mistyped_or_deleted_key_directory_is_refused_and_no_keys_are_made() {
    let v = Vaults::new();
    let data = v.path("data");
    init(&data);
    let typo = v.path("typo");
    let before = v.all();

    // --keys-dir /typo: serve refuses (it made a fresh key set and served the store before).
    let out = serve_with(&data, |c| c.arg("--keys-dir").arg(&typo));
    assert_refused(&out, &["has no keys", "typo", "Ward makes none"]);
    assert_eq!(v.all(), before, "nothing is created");

    // WARD_KEYS_DIR, for serve and for CLI commands that open the store.
    let out = serve_with(&data, |c| c.env("WARD_KEYS_DIR", &typo));
    assert_refused(&out, &["has no keys"]);
    for args in [
        &["keys", "list"][..],
        &["journal", "verify"],
        &["journal", "checkpoint"],
        &[
            "subject",
            "create",
            "--purpose",
            "registration",
            "--field",
            "email=a@example.org",
        ],
        &["keys", "rotate"],
        &["policy", "versions"],
    ] {
        let out = ward()
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .env("WARD_KEYS_DIR", &typo)
            .output()
            .unwrap();
        assert_refused(&out, &["key directory", "does not exist"]);
        assert_eq!(v.all(), before, "`ward {}` created something", args.join(" "));
    }

    // A backup and a key export with keys that are not the store's are not written.
    let out = ward()
        .args(["backup", "--out"])
        .arg(v.path("backup.db"))
        .arg("--keys-out")
        .arg(v.path("export.db"))
        .arg("--data-dir")
        .arg(&data)
        .env("WARD_KEYS_DIR", &typo)
        .output()
        .unwrap();
    assert_refused(&out, &["key directory", "does not exist"]);
    assert_eq!(v.all(), before);

    // `ward init` against the existing store with the wrong directory makes no keys either.
    let out = ward()
        .args(["init", "--keys-dir"])
        .arg(&typo)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert_refused(&out, &["has no keys"]);
    assert_eq!(v.all(), before);

    // A deleted keys/.
    std::fs::rename(data.join("keys"), v.path("keys.aside")).unwrap();
    let before = v.all();
    let out = serve_with(&data, |c| c);
    assert_refused(&out, &["has no keys", "Ward makes none"]);
    let out = run(&data, &["keys", "list"]);
    assert_refused(&out, &["does not exist"]);
    assert_eq!(v.all(), before, "keys/ is not recreated");

    // Put back, the store opens and its journal verifies.
    std::fs::rename(v.path("keys.aside"), data.join("keys")).unwrap();
    let out = run(&data, &["journal", "verify"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn a_wrong_well_formed_key_or_another_stores_keys_are_refused_by_name() {
    let v = Vaults::new();
    let data = v.path("data");
    let other = v.path("other");
    init_settled(&data);
    init(&other);
    let keys = data.join("keys");
    let kek = std::fs::read_to_string(keys.join("kek-1.key")).unwrap();
    let token = std::fs::read_to_string(keys.join("token.key")).unwrap();

    // A wrong KEK that is a perfectly good key.
    write_key(&keys.join("kek-1.key"), &"ab".repeat(32));
    let before = v.all();
    let out = serve_with(&data, |c| c);
    assert_refused(
        &out,
        &["kek-1.key is not the store's", "fingerprint", "the store recorded"],
    );
    let out = run(&data, &["keys", "list"]);
    assert_refused(&out, &["kek-1.key is not the store's"]);
    assert_eq!(v.all(), before);
    write_key(&keys.join("kek-1.key"), kek.trim());

    // A wrong token key (every token would answer 401) and a wrong blind-index key.
    write_key(&keys.join("token.key"), &"cd".repeat(32));
    let out = run(
        &data,
        &[
            "subject",
            "find",
            "--purpose",
            "registration",
            "--email",
            "a@example.org",
        ],
    );
    assert_refused(&out, &["token.key is not the store's"]);
    write_key(&keys.join("token.key"), token.trim());

    // Another store's whole key set: every key is named.
    let before = v.all();
    let out = serve_with(&data, |c| c.arg("--keys-dir").arg(other.join("keys")));
    assert_refused(
        &out,
        &[
            "kek-1.key is not the store's",
            "token.key is not the store's",
            "blind-index.key is not the store's",
            "journal-signing.key is not the store's",
        ],
    );
    // Rotation with the wrong keys writes no new KEK beside them.
    let out = ward()
        .args(["keys", "rotate", "--keys-dir"])
        .arg(other.join("keys"))
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert_refused(&out, &["is not the store's"]);
    assert_eq!(v.all(), before, "nothing is created");

    // With its own keys back, the store is whole: a write and a verified journal.
    let out = run(&data, &["keys", "create", "--name", "site", "--role", "admin"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&data, &["journal", "verify"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn key_files_or_a_key_directory_others_can_read_stop_the_start() {
    let v = Vaults::new();
    let data = v.path("data");
    init_settled(&data);
    let keys = data.join("keys");
    let chmod = |p: &Path, mode: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();

    chmod(&keys.join("kek-1.key"), 0o644);
    let before = v.all();
    let out = serve_with(&data, |c| c);
    assert_refused(&out, &["kek-1.key has mode 0644", "chmod 600"]);
    let out = run(&data, &["keys", "list"]);
    assert_refused(&out, &["chmod 600"]);
    assert_eq!(v.all(), before);
    chmod(&keys.join("kek-1.key"), 0o600);

    chmod(&keys.join("journal-signing.key"), 0o640);
    let out = run(&data, &["journal", "verify"]);
    assert_refused(&out, &["journal-signing.key has mode 0640", "chmod 600"]);
    chmod(&keys.join("journal-signing.key"), 0o600);

    chmod(&keys, 0o755);
    let before = v.all();
    let out = serve_with(&data, |c| c);
    assert_refused(&out, &["has mode 0755", "chmod 700"]);
    assert_eq!(v.all(), before);
    chmod(&keys, 0o700);

    let out = run(&data, &["keys", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn what_ward_writes_is_readable_by_its_owner_alone() {
    let v = Vaults::new();
    let data = v.path("data");
    init(&data);
    create_subject(&data);
    let (backup, export) = (v.path("backup.db"), v.path("keys-export.db"));
    let out = run(
        &data,
        &[
            "backup",
            "--out",
            backup.to_str().unwrap(),
            "--keys-out",
            export.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // The WAL and its index, while a server has the database open.
    let mut server = Server::start(&data);
    let mut files = vec![data.join("ward.db-wal"), data.join("ward.db-shm")];
    assert!(files.iter().all(|f| f.exists()), "{:?}", v.all());
    files.extend(
        files_below(v.tmp.path())
            .into_iter()
            .filter(|f| !f.ends_with("data.server.log")),
    );
    for f in [
        "ward.db",
        "ward.toml",
        "policy.toml",
        "admin-token",
        "keys/kek-1.key",
        "keys/token.key",
    ] {
        assert!(files.contains(&data.join(f)), "{f} was written");
    }
    assert!(files.contains(&backup) && files.contains(&export));
    let open: Vec<String> = files
        .iter()
        .filter(|f| std::fs::metadata(f).unwrap().permissions().mode() & 0o077 != 0)
        .map(|f| {
            format!(
                "{} {:o}",
                f.display(),
                std::fs::metadata(f).unwrap().permissions().mode()
            )
        })
        .collect();
    assert!(open.is_empty(), "readable by group or others: {open:?}");
    server.stop();
}

fn binding_rows(db: &Path) -> String {
    sqlite(
        db,
        "SELECT group_concat(name, ',') FROM (SELECT name FROM key_binding ORDER BY name)",
    )
}

#[test]
fn rotation_records_its_new_key_and_an_unknown_key_file_is_refused() {
    let v = Vaults::new();
    let data = v.path("data");
    init(&data);
    let db = data.join("ward.db");
    assert_eq!(binding_rows(&db), "blind-index,journal-signing,kek:1,token");

    let out = run(&data, &["keys", "rotate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(binding_rows(&db), "blind-index,journal-signing,kek:1,kek:2,token");
    let out = run(&data, &["keys", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A KEK file nobody recorded (dropped in by hand, or an interrupted rotation).
    write_key(&data.join("keys/kek-3.key"), &"ef".repeat(32));
    let before = v.all();
    let out = run(&data, &["keys", "list"]);
    assert_refused(
        &out,
        &["kek-3.key", "not one of the store's", "ward keys rotate --resume"],
    );
    let out = serve_with(&data, |c| c);
    assert_refused(&out, &["kek-3.key"]);
    assert_eq!(v.all(), before);
    // The rotation that made it records it and re-wraps under it.
    let out = run(&data, &["keys", "rotate", "--resume"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(binding_rows(&db), "blind-index,journal-signing,kek:1,kek:2,kek:3,token");
    // Old KEKs may go once everything is re-wrapped.
    std::fs::remove_file(data.join("keys/kek-1.key")).unwrap();
    let out = run(&data, &["journal", "verify"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let entries = sqlite(&db, "SELECT count(*) FROM journal WHERE action = 'key.binding'");
    assert_eq!(entries, "3", "each recording is journaled");
}

#[test]
fn a_store_of_an_earlier_build_is_bound_only_to_keys_that_open_it() {
    let v = Vaults::new();
    let data = v.path("data");
    let other = v.path("other");
    init(&data);
    init(&other);
    create_subject(&data);
    let db = data.join("ward.db");
    // An earlier build recorded no binding.
    sqlite(&db, "DELETE FROM key_binding");

    // Another store's keys do not open it: refused, and nothing recorded.
    let before = v.all();
    let out = run(
        &data,
        &["keys", "list", "--keys-dir", other.join("keys").to_str().unwrap()],
    );
    assert_refused(
        &out,
        &["do not open", "journal-signing.key did not sign the newest checkpoint"],
    );
    assert_eq!(v.all(), before);
    assert_eq!(binding_rows(&db), "");
    // A wrong KEK alone is caught by a data key that does not unwrap.
    let kek = std::fs::read_to_string(data.join("keys/kek-1.key")).unwrap();
    write_key(&data.join("keys/kek-1.key"), &"ab".repeat(32));
    let out = run(&data, &["keys", "list"]);
    assert_refused(&out, &["does not unwrap with kek-1.key"]);
    assert_eq!(binding_rows(&db), "");
    write_key(&data.join("keys/kek-1.key"), kek.trim());

    // Its own keys: bound on first open, and the binding is journaled.
    let out = run(&data, &["keys", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(binding_rows(&db), "blind-index,journal-signing,kek:1,token");
    let detail = sqlite(
        &db,
        "SELECT detail FROM journal WHERE action = 'key.binding' ORDER BY seq DESC LIMIT 1",
    );
    assert!(detail.contains("earlier build"), "{detail}");
    assert!(detail.contains("a data key unwraps"), "{detail}");
    let out = run(&data, &["journal", "verify"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}
