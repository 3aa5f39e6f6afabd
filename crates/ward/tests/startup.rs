//! Start-up fails loudly: a data directory whose database is missing, empty, damaged or
//! read-only is refused with the reason, and nothing is created in its place.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;

/// Starts `ward serve` and waits until it either reports its address (then it is stopped and
/// `Err` says so: it should have refused) or exits; returns its exit status and stderr.
fn serve_refused(dir: &Path) -> Result<String, String> {
    let err_path = dir.with_extension("refused.log");
    let mut child = ward()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&err_path).unwrap()))
        .spawn()
        .expect("ward serve runs");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut started = false;
    while out.read_line(&mut line).unwrap() > 0 {
        if line.contains("Ward listening on") {
            started = true;
            break;
        }
        line.clear();
    }
    if started {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
    }
    let status = child.wait().unwrap();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    std::fs::remove_file(&err_path).unwrap();
    if started {
        return Err(format!("the server started; its log:\n{err}"));
    }
    assert!(!status.success(), "refused with a failing exit status: {err}");
    Ok(err)
}

/// A data directory with a subject in it and no server running.
fn vault_with_a_subject(dir: &Path) {
    assert!(run(dir, &["init"]).status.success());
    create_subject(dir);
}

fn sqlite_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ward.db"))
        .collect();
    v.sort();
    v
}

#[test]
fn a_missing_database_beside_keys_is_refused_and_not_recreated() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    vault_with_a_subject(&dir);
    for f in sqlite_files(&dir) {
        std::fs::remove_file(dir.join(f)).unwrap();
    }

    let err = serve_refused(&dir).unwrap();
    assert!(err.contains("ward.db is missing, but key files exist"), "{err}");
    assert!(err.contains("ward restore"), "{err}");
    // The CLI refuses too, and neither made a new database.
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
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is missing, but key files exist"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sqlite_files(&dir), Vec::<String>::new());
}

#[test]
fn an_empty_database_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    vault_with_a_subject(&dir);
    std::fs::File::create(dir.join("ward.db")).unwrap();

    let err = serve_refused(&dir).unwrap();
    assert!(err.contains("is empty (0 bytes)"), "{err}");
    assert_eq!(std::fs::metadata(dir.join("ward.db")).unwrap().len(), 0);
}

#[test]
fn a_damaged_database_is_refused_with_sqlites_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    vault_with_a_subject(&dir);
    // Everything into ward.db, then overwrite the root page of the subjects table.
    let db = dir.join("ward.db");
    sqlite(&db, "PRAGMA wal_checkpoint(TRUNCATE)");
    let page: u64 = sqlite(&db, "SELECT rootpage FROM sqlite_master WHERE name = 'subjects'")
        .parse()
        .unwrap();
    let mut f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    f.seek(SeekFrom::Start((page - 1) * 4096)).unwrap();
    f.write_all(&[0xA5; 4096]).unwrap();
    f.sync_all().unwrap();
    drop(f);

    let err = serve_refused(&dir).unwrap();
    assert!(err.contains("failed SQLite's integrity check"), "{err}");
    assert!(err.contains("is damaged"), "{err}");
}

#[test]
fn a_read_only_database_or_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    vault_with_a_subject(&dir);
    let db = dir.join("ward.db");

    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o400)).unwrap();
    let err = serve_refused(&dir).unwrap();
    assert!(err.contains("is read-only (mode 400)"), "{err}");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();

    // (`serve` first restricts the data directory to 0700, which makes it writable again.)
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
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
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("database directory"), "{err}");
    assert!(err.contains("is read-only (mode 500)"), "{err}");
}

fn sqlite(db: &Path, sql: &str) -> String {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 shell is installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn healthz_reports_a_store_that_cannot_take_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    vault_with_a_subject(&dir);
    let server = Server::start(&dir);
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(server.url.trim_start_matches("http://")).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: ward\r\nConnection: close\r\n\r\n").as_bytes())
            .unwrap();
        let mut got = String::new();
        std::io::Read::read_to_string(&mut s, &mut got).unwrap();
        got
    };
    assert!(get("/healthz").starts_with("HTTP/1.1 200"));

    // Another process holds the write lock: no write could commit now.
    let mut holder = std::process::Command::new("sqlite3")
        .arg(dir.join("ward.db"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the sqlite3 shell is installed");
    let mut stdin = holder.stdin.take().unwrap();
    stdin.write_all(b"BEGIN IMMEDIATE;\nSELECT 'locked';\n").unwrap();
    stdin.flush().unwrap();
    let mut out = BufReader::new(holder.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "locked");

    let answer = get("/healthz");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("\"code\":\"storage_unavailable\""), "{answer}");

    // The lock is released: ready again.
    stdin.write_all(b"ROLLBACK;\n.quit\n").unwrap();
    drop(stdin);
    assert!(holder.wait().unwrap().success());
    assert!(get("/healthz").starts_with("HTTP/1.1 200"));
}
