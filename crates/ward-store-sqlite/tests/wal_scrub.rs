//! The WAL scrub on real files: the WAL-resurrection attack of issue 18, before and after.
//!
//! An attacker with the disk copies `ward.db` and `ward.db-wal` and cuts the WAL back to a
//! commit before an erasure (or drops it): SQLite then reads the erased subject's wrapped data
//! key and sealed fields back. The copies are taken by `cp`, another process, as the attacker
//! would: this process must not open the live store's files itself (closing a descriptor of
//! them would drop SQLite's locks, see `checkpoint.rs`). A reader that keeps a snapshot from
//! before the erasure holds the scrub off (and the pre-erasure bytes on disk), so that the copy
//! "before the scrub" is deterministic; the test then waits for the scrub's completion signal.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use time::macros::datetime;
use ward_core::journal::AdminEvent;
use ward_core::{Actor, JournalDraft, SubjectId};
use ward_store::*;
use ward_store_sqlite::{open_reader, open_writer, SqliteStore};

const WAIT: Duration = Duration::from_secs(60);

fn draft(id: SubjectId) -> JournalDraft {
    JournalDraft::new(
        datetime!(2026-01-02 03:04:05 UTC),
        &Actor::System,
        AdminEvent::KeyRotation,
    )
    .subject(id)
}

/// Random bytes, as a wrapped key or a ciphertext looks.
fn random(n: usize) -> Vec<u8> {
    std::iter::repeat_with(|| *uuid::Uuid::new_v4().as_bytes())
        .flatten()
        .take(n)
        .collect()
}

struct Sealed {
    id: SubjectId,
    key: Vec<u8>,
    fields: Vec<u8>,
}

fn create(s: &Sealed) -> WriteOp {
    WriteOp {
        change: Change::Subject(SubjectChange::Create(NewSubject {
            id: s.id,
            created_at: datetime!(2026-01-02 03:04:05 UTC),
            key: WrappedKey {
                kek_id: "1".into(),
                wrapped: s.key.clone(),
            },
            fields: s.fields.clone(),
            index: vec![IndexEntry {
                field: "email".into(),
                hash: i64::from_le_bytes(s.key[..8].try_into().unwrap()),
            }],
            consents: vec![],
            bases: vec![],
        })),
        journal: vec![draft(s.id)],
    }
}

/// `ward.db` and `ward.db-wal` of `from`, copied by `cp` into a new directory `to`.
fn copy_files(from: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for name in ["ward.db", "ward.db-wal"] {
        if from.join(name).exists() {
            let status = Command::new("cp")
                .arg(from.join(name))
                .arg(to.join(name))
                .status()
                .unwrap();
            assert!(status.success(), "cp {name}");
        }
    }
    to.to_path_buf()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Which of the copy's files hold `needle`.
fn holders(copy: &Path, needle: &[u8]) -> Vec<&'static str> {
    ["ward.db", "ward.db-wal"]
        .into_iter()
        .filter(|n| contains(&read(&copy.join(n)), needle))
        .collect()
}

/// The lengths the WAL can be cut to, keeping whole commits: none at all (the database file
/// alone), then after each commit frame of the WAL's current generation.
fn commit_cuts(wal: &[u8]) -> Vec<Option<usize>> {
    let mut cuts = vec![None];
    if wal.len() < 32 {
        return cuts;
    }
    let page = u32::from_be_bytes(wal[8..12].try_into().unwrap()) as usize;
    let salts = &wal[16..24];
    let mut at = 32;
    while at + 24 + page <= wal.len() {
        let header = &wal[at..at + 24];
        if &header[8..16] != salts {
            break;
        }
        at += 24 + page;
        if header[4..8] != [0; 4] {
            cuts.push(Some(at));
        }
    }
    cuts
}

/// The attack: every cut of the copy's WAL, opened by SQLite in a directory of its own; the
/// wrapped key of subject `id` from the first cut that still has it.
fn resurrect(copy: &Path, id: SubjectId) -> Option<Vec<u8>> {
    let wal = read(&copy.join("ward.db-wal"));
    for (i, cut) in commit_cuts(&wal).into_iter().enumerate() {
        let dir = copy.join(format!("cut-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(copy.join("ward.db"), dir.join("ward.db")).unwrap();
        if let Some(len) = cut {
            std::fs::write(dir.join("ward.db-wal"), &wal[..len]).unwrap();
        }
        let conn = open_writer(&dir.join("ward.db")).unwrap();
        let key: Option<Vec<u8>> = conn
            .query_row(
                "SELECT wrapped_key FROM subjects WHERE id = ?1 AND wrapped_key IS NOT NULL",
                [&id.as_bytes()[..]],
                |r| r.get(0),
            )
            .ok();
        if key.is_some() {
            return key;
        }
    }
    None
}

#[tokio::test]
async fn an_erased_subject_cannot_be_read_back_from_the_files_once_the_wal_is_scrubbed() {
    let tmp = tempfile::tempdir().unwrap();
    let live = tmp.path().join("live");
    std::fs::create_dir_all(&live).unwrap();
    let store = SqliteStore::open(&live.join("ward.db")).await.unwrap();
    assert_eq!(
        open_writer(&live.join("ward.db"))
            .unwrap()
            .query_row("PRAGMA secure_delete", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        1,
        "the writer overwrites deleted content in the database file"
    );

    // Enough subjects for several pages, in a few commits.
    let subjects: Vec<Sealed> = (0..300)
        .map(|_| Sealed {
            id: SubjectId::random(),
            key: random(60),
            fields: random(400),
        })
        .collect();
    for chunk in subjects.chunks(100) {
        let out = store.write(chunk.iter().map(create).collect()).await.unwrap();
        assert!(out.iter().all(|o| *o == OpOutcome::Done));
    }
    let (gone, updated, kept) = (&subjects[150], &subjects[151], &subjects[152]);

    // A reader with a snapshot from before the erasure: SQLite keeps what it reads on disk,
    // and no scrub can finish while it reads.
    let reader = open_reader(&live.join("ward.db")).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let n: i64 = reader
        .query_row("SELECT count(*) FROM subjects", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 300);

    let new_fields = random(400);
    let out = store
        .write(vec![
            WriteOp {
                change: Change::Subject(SubjectChange::Erase {
                    id: gone.id,
                    at: datetime!(2026-01-03 00:00 UTC),
                }),
                journal: vec![draft(gone.id)],
            },
            WriteOp {
                change: Change::Subject(SubjectChange::Update {
                    id: updated.id,
                    expected_revision: 1,
                    fields: new_fields.clone(),
                    reindex: vec![],
                    bases: vec![],
                    at: datetime!(2026-01-03 00:00 UTC),
                }),
                journal: vec![draft(updated.id)],
            },
        ])
        .await
        .unwrap();
    assert_eq!(out, [OpOutcome::Done, OpOutcome::Done]);
    let erased = store.find_subject(gone.id).await.unwrap().unwrap();
    assert_eq!((erased.key, erased.fields), (None, None), "erased in the live store");

    // What the attacker copies right after the erasure is acknowledged, before the scrub.
    let before = copy_files(&live, &tmp.path().join("before"));
    assert!(
        !holders(&before, &gone.key).is_empty(),
        "control: before the scrub, the erased subject's wrapped key is on disk"
    );
    assert!(
        !holders(&before, &updated.fields).is_empty(),
        "control: so are replaced fields"
    );
    assert_eq!(
        resurrect(&before, gone.id).as_deref(),
        Some(&gone.key[..]),
        "control: a cut copy taken before the scrub reads the erased subject's key back"
    );

    // The reader leaves; the scrub, held off until now, runs at its next try.
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    store
        .wal_scrubbed(WAIT)
        .await
        .expect("the pending scrub runs once the reader has left");

    let after = copy_files(&live, &tmp.path().join("after"));
    assert_eq!(read(&after.join("ward.db-wal")).len(), 0, "the scrub truncated the WAL");
    assert_eq!(
        holders(&after, &gone.key),
        Vec::<&str>::new(),
        "the erased subject's wrapped key"
    );
    assert_eq!(
        holders(&after, &gone.fields),
        Vec::<&str>::new(),
        "the erased subject's sealed fields"
    );
    assert_eq!(
        holders(&after, &updated.fields),
        Vec::<&str>::new(),
        "the fields an update replaced"
    );
    assert_eq!(
        resurrect(&after, gone.id),
        None,
        "no cut of the scrubbed copy has the key"
    );
    // The scan and the attack do find what is still live: they would see the erased bytes.
    assert_eq!(holders(&after, &kept.key), ["ward.db"]);
    assert_eq!(holders(&after, &new_fields), ["ward.db"]);
    assert_eq!(resurrect(&after, kept.id).as_deref(), Some(&kept.key[..]));
}

/// `WriteStore::scrub` (run at shutdown) scrubs now, even with no erasure pending, and a
/// store that never erased has nothing pending to wait for.
#[tokio::test]
async fn a_scrub_asked_for_runs_now_and_empties_the_wal() {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&tmp.path().join("ward.db")).await.unwrap();
    let s = Sealed {
        id: SubjectId::random(),
        key: random(60),
        fields: random(400),
    };
    store.write(vec![create(&s)]).await.unwrap();
    store
        .wal_scrubbed(WAIT)
        .await
        .expect("nothing was asked for: nothing to wait for");
    store.scrub().await.expect("the scrub runs");
    let copy = copy_files(tmp.path(), &tmp.path().join("copy"));
    assert_eq!(read(&copy.join("ward.db-wal")).len(), 0);
    assert_eq!(
        holders(&copy, &s.key),
        ["ward.db"],
        "everything is in the database file"
    );
}
