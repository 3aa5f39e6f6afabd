//! The journal attacks of issue 18 against the real binary: the raw database edited with the
//! `sqlite3` shell while Ward is stopped, then `ward journal verify`, `ward serve` and a
//! writing command run on it.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;

fn sqlite(dir: &Path, sql: &str) -> String {
    let out = std::process::Command::new("sqlite3")
        .arg(dir.join("ward.db"))
        .arg(sql)
        .output()
        .expect("the sqlite3 shell is installed (apt-get install sqlite3)");
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn count(dir: &Path, table: &str) -> i64 {
    sqlite(dir, &format!("SELECT count(*) FROM {table};")).parse().unwrap()
}

/// `ward serve` on `dir` must exit without listening; returns what it printed on stderr.
fn serve_refuses(dir: &Path) -> String {
    let mut child = ward()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ward serve starts");
    let lines = BufReader::new(child.stdout.take().expect("stdout"));
    for line in lines.lines() {
        let line = line.expect("read stdout");
        if line.contains("Ward listening") {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ward serve started on a tampered journal: {line}");
        }
    }
    let out = child.wait_with_output().expect("ward serve exits");
    assert!(!out.status.success(), "ward serve exited with success");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Registers `n` subjects, each with an e-mail address of its own (e-mail is unique in the
/// default policy), also across calls.
fn create_subjects(dir: &Path, n: usize) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    for _ in 0..n {
        let i = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let out = run(
            dir,
            &[
                "subject",
                "create",
                "--purpose",
                "registration",
                "--field",
                &format!("email=journal{i}@example.org"),
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
}

#[test]
fn a_cut_end_of_the_journal_is_named_and_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    assert!(run(&dir, &["init"]).status.success());
    create_subjects(&dir, 3);
    let head: i64 = sqlite(&dir, "SELECT seq FROM journal_head;").parse().unwrap();
    // The newest entries, and the checkpoint that covers them, are removed.
    sqlite(
        &dir,
        &format!(
            "DELETE FROM journal_checkpoints WHERE seq > {}; DELETE FROM journal WHERE seq > {};",
            head - 2,
            head - 2
        ),
    );

    let out = run(&dir, &["journal", "verify"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let want = format!(
        "the journal ends at entry {}, but its head records entry {head}",
        head - 2
    );
    assert!(stderr(&out).contains(&want), "{}", stderr(&out));
    assert!(stderr(&out).contains("(end_removed)"), "{}", stderr(&out));

    // Neither the server nor a writing command starts, and nothing is written.
    let rows = (count(&dir, "journal"), count(&dir, "journal_checkpoints"));
    let err = serve_refuses(&dir);
    assert!(
        err.contains("refusing to open the store") && err.contains(&want),
        "{err}"
    );
    let out = run(
        &dir,
        &[
            "subject",
            "create",
            "--purpose",
            "registration",
            "--field",
            "email=x@example.org",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("refusing to open the store"), "{}", stderr(&out));
    assert_eq!((count(&dir, "journal"), count(&dir, "journal_checkpoints")), rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correctly_hashed_row_appended_past_the_head_stops_the_start_not_the_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    assert!(run(&dir, &["init"]).status.success());
    create_subjects(&dir, 2);
    let head: i64 = sqlite(&dir, "SELECT seq FROM journal_head;").parse().unwrap();
    // The forger computes the next link of the chain (the hash function is public).
    let last = {
        use ward_store::JournalStore;
        let store = ward_store_sqlite::SqliteStore::open(&dir.join("ward.db"))
            .await
            .unwrap();
        store.find_journal_entries(head - 1, 1).await.unwrap().remove(0)
    };
    let mut forged = ward_store::JournalEntry {
        seq: head + 1,
        purpose: Some("forged".into()),
        prev_hash: last.hash,
        ..last
    };
    forged.hash = ward_store::chain::content(&forged).hash_after(&forged.prev_hash);
    sqlite(
        &dir,
        &format!(
            "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
             SELECT {}, at, actor, action, subject, 'forged', fields, detail, X'{}', X'{}' FROM journal WHERE seq = {head};",
            head + 1,
            hex::encode(forged.prev_hash),
            hex::encode(forged.hash)
        ),
    );

    let want = format!(
        "entry {} was appended outside Ward: the journal head records entry {head} as the last",
        head + 1
    );
    let out = run(&dir, &["journal", "verify"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&want), "{}", stderr(&out));
    let err = serve_refuses(&dir);
    assert!(err.contains(&want) && err.contains("(beyond_head)"), "{err}");
}

#[test]
fn a_checkpoint_kept_apart_catches_what_the_store_alone_cannot() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    assert!(run(&dir, &["init"]).status.success());
    create_subjects(&dir, 2);
    let file = tmp.path().join("witness.json");
    let out = run(&dir, &["journal", "checkpoint", "--export", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let exported: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(exported["format"], "ward.checkpoint.v1");
    let seq = exported["seq"].as_i64().unwrap();
    // An export never overwrites a file.
    let again = run(&dir, &["journal", "checkpoint", "--export", file.to_str().unwrap()]);
    assert!(!again.status.success());

    create_subjects(&dir, 2);
    let out = run(&dir, &["journal", "verify", "--against", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("matches the checkpoint kept apart at entry {seq}")),
        "{}",
        stdout(&out)
    );

    // Cut back below the exported checkpoint, with the head and checkpoints to match: the
    // store alone now describes a young, consistent journal.
    let keep = seq - 1;
    sqlite(
        &dir,
        &format!(
            "DELETE FROM journal WHERE seq > {keep}; DELETE FROM journal_checkpoints; \
             UPDATE journal_head SET seq = {keep}, hash = (SELECT hash FROM journal WHERE seq = {keep});"
        ),
    );
    let out = run(&dir, &["journal", "verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("{keep} unsigned entries")),
        "{}",
        stdout(&out)
    );
    let out = run(&dir, &["journal", "verify", "--against", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!(
            "entries after {keep} were removed: the checkpoint kept apart vouches for {seq} entries"
        )),
        "{}",
        stderr(&out)
    );

    // A witness file that was edited, or is not one, is refused with a message.
    let edited = tmp.path().join("edited.json");
    let mut e = exported.clone();
    e["seq"] = serde_json::json!(seq - 1);
    std::fs::write(&edited, e.to_string()).unwrap();
    let out = run(&dir, &["journal", "verify", "--against", edited.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("does not verify"), "{}", stderr(&out));
    let out = run(
        &dir,
        &[
            "journal",
            "verify",
            "--against",
            dir.join("ward.toml").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is not a checkpoint file"), "{}", stderr(&out));
}
