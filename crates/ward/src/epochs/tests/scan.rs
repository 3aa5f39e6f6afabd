//! The attack key epochs answer, on real files: copies the operator cannot scrub still hold an
//! erased subject's wrapped data key (PostgreSQL's heap files, with their dead rows, and its
//! WAL; a raw copy of SQLite's `ward.db` and `-wal` taken before the erasure). Each test scans
//! those bytes for the wrapped keys captured before the erasure. Before the rotation what it
//! finds unwraps with a key file on disk (the control: the scan works and the threat is real);
//! after the rotation and the end of the grace period, copies are still found, and not one of
//! them unwraps under any key file left, tried as any KEK id.

use super::*;
use sqlx::{Connection, PgConnection, Row};
use std::path::{Path, PathBuf};
use ward_crypto::{Kek, KeyRing};

/// An erased subject, with the wrapped data key it had.
struct Erased {
    id: SubjectId,
    wrapped: Vec<u8>,
}

/// Creates `n` subjects and erases the first `erase`, capturing their wrapped keys first;
/// `before_erasure` runs between (to copy files as they were).
async fn create_and_erase(env: &Env, n: usize, erase: usize, before_erasure: impl FnOnce()) -> Vec<Erased> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(create(&env.vault, &format!("scan{i}@example.org")).await);
    }
    let mut erased = Vec::new();
    for id in &ids[..erase] {
        let rec = env.vault.store().find_subject(*id).await.unwrap().unwrap();
        let key = rec.key.expect("a live subject's wrapped key");
        assert_eq!(key.kek_id, "1");
        erased.push(Erased {
            id: *id,
            wrapped: key.wrapped,
        });
    }
    before_erasure();
    for e in &erased {
        env.vault
            .subjects()
            .erase(&Caller::cli(), e.id, ward_vault::DestructionReason::SubjectRequest)
            .await
            .expect("erase");
    }
    erased
}

/// Every copy of an erased subject's wrapped key found in `files`: (subject, bytes, file).
fn scan(files: &[PathBuf], erased: &[Erased]) -> Vec<(SubjectId, Vec<u8>, PathBuf)> {
    let mut found = Vec::new();
    for f in files {
        let Ok(bytes) = std::fs::read(f) else { continue };
        for e in erased {
            for at in memchr::memmem::find_iter(&bytes, &e.wrapped) {
                found.push((e.id, bytes[at..at + e.wrapped.len()].to_vec(), f.clone()));
            }
        }
    }
    found
}

/// Whether `wrapped` unwraps for `subject` under any KEK file in `keys_dir`, tried as any of
/// the KEK ids 1 to 9 (the id is bound into the wrapping).
fn unwraps_on_disk(keys_dir: &Path, subject: SubjectId, wrapped: &[u8]) -> bool {
    keyfiles::kek_ids(keys_dir).unwrap().into_iter().any(|file| {
        let key = keyfiles::read_kek(keys_dir, file).unwrap();
        (1..10).any(|label| {
            let label = label.to_string();
            let ring = KeyRing::new([Kek::new(label.clone(), key)], &label).unwrap();
            ring.unwrap(subject.as_bytes(), &label, wrapped).is_ok()
        })
    })
}

/// Rotates with the job's steps on the fake clock, through to the end of the grace period.
async fn rotate_and_destroy(env: &Env) {
    env.advance(86_400);
    let note = env.epochs.step(env.clock.now()).await.unwrap();
    assert!(note.starts_with("kek-2 in force"), "{note}");
    env.advance(180);
    let note = env.epochs.step(env.clock.now()).await.unwrap();
    assert!(note.starts_with("destroyed kek-1"), "{note}");
    assert_eq!(env.kek_files(), [2]);
}

/// Checks the control (before the rotation: found, and it unwraps) or the promise (after:
/// found, and nothing unwraps). Returns how many copies were found in the WAL and elsewhere.
fn check(env: &Env, files: &[PathBuf], erased: &[Erased], rotated: bool) -> (usize, usize) {
    let found = scan(files, erased);
    assert!(
        !found.is_empty(),
        "the scan finds the erased subjects' wrapped keys in {files:?}"
    );
    for (subject, bytes, file) in &found {
        let opens = unwraps_on_disk(&env.cfg.keys_dir, *subject, bytes);
        assert_eq!(
            opens,
            !rotated,
            "a copy in {} {} with the key files on disk",
            file.display(),
            if rotated {
                "still unwraps"
            } else {
                "does not unwrap (the control)"
            }
        );
    }
    let in_wal = found
        .iter()
        .filter(|(_, _, f)| f.parent().is_some_and(|d| d.ends_with("pg_wal")) || f.ends_with("ward.db-wal"))
        .count();
    (in_wal, found.len() - in_wal)
}

/// After a `CHECKPOINT`: the files of the `subjects` table (its main fork with its segments,
/// and its TOAST table's) and the WAL segments.
async fn pg_files(conn: &mut PgConnection, data_dir: &Path) -> Vec<PathBuf> {
    sqlx::query("CHECKPOINT").execute(&mut *conn).await.unwrap();
    let rels: Vec<String> = sqlx::query(
        "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.oid = 'subjects'::regclass \
         UNION ALL SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c \
         WHERE c.oid = 'subjects'::regclass AND c.reltoastrelid <> 0",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect();
    let mut files = Vec::new();
    for rel in rels {
        let main = data_dir.join(&rel);
        let dir = main.parent().unwrap().to_path_buf();
        let name = main.file_name().unwrap().to_string_lossy().into_owned();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let n = entry.unwrap().file_name().to_string_lossy().into_owned();
            if n == name
                || n.strip_prefix(&format!("{name}."))
                    .is_some_and(|s| s.parse::<u32>().is_ok())
            {
                files.push(dir.join(n));
            }
        }
    }
    let mut wal: Vec<PathBuf> = std::fs::read_dir(data_dir.join("pg_wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n.len() == 24))
        .collect();
    wal.sort();
    files.extend(wal);
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_heap_and_wal_copies_of_erased_keys_do_not_unwrap_after_rotation() {
    let Some(env) = Env::postgres().await else { return };
    let url = env.cfg.database_url.clone().unwrap();
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let data_dir: String = sqlx::query("SELECT current_setting('data_directory')")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    let data_dir = PathBuf::from(data_dir);
    if std::fs::read_dir(data_dir.join("pg_wal")).is_err() {
        // PostgreSQL on another machine, or files this user may not read: nothing to scan.
        eprintln!(
            "NOTICE: PostgreSQL's data directory {} cannot be read here; the scan-and-decrypt \
             test did not run",
            data_dir.display()
        );
        assert!(
            !testing::required(),
            "the scan-and-decrypt test must run with WARD_REQUIRE_POSTGRES=1"
        );
        return;
    }
    let erased = create_and_erase(&env, 6, 3, || {}).await;

    let before = pg_files(&mut conn, &data_dir).await;
    let (wal, heap) = check(&env, &before, &erased, false);
    eprintln!(
        "before the rotation: copies of 3 erased subjects' wrapped keys in the WAL: {wal}, in the \
         table's files: {heap}; each unwraps with the key files on disk"
    );

    rotate_and_destroy(&env).await;
    let after = pg_files(&mut conn, &data_dir).await;
    let (wal, heap) = check(&env, &after, &erased, true);
    eprintln!(
        "after the rotation: copies in the WAL: {wal}, in the table's files: {heap}; none unwraps \
         with the key files on disk"
    );
    let _ = conn.close().await;
    env.vault.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_copies_taken_before_erasure_do_not_unwrap_after_rotation() {
    let env = Env::sqlite().await;
    let stolen = env.dir.path().join("stolen");
    std::fs::create_dir(&stolen).unwrap();
    // The attacker's copy of the files as they were before the erasure, made by another
    // process (`cp`): closing a descriptor of SQLite's files in this process would drop
    // SQLite's own locks on them (ARCHITECTURE.md).
    let db = env.cfg.sqlite_path();
    let copy = || {
        for suffix in ["", "-wal"] {
            let from = PathBuf::from(format!("{}{suffix}", db.display()));
            if from.exists() {
                let status = std::process::Command::new("cp")
                    .arg(&from)
                    .arg(stolen.join(format!("ward.db{suffix}")))
                    .status()
                    .expect("cp runs");
                assert!(status.success());
            }
        }
    };
    let erased = create_and_erase(&env, 4, 2, copy).await;
    let files = vec![stolen.join("ward.db"), stolen.join("ward.db-wal")];

    check(&env, &files, &erased, false);
    rotate_and_destroy(&env).await;
    check(&env, &files, &erased, true);
    env.vault.shutdown().await.unwrap();
}
