//! Every way of tampering with the journal is caught, and named.

use std::collections::BTreeMap;
use std::sync::Arc;
use time::macros::datetime;
use ward_core::consent::Evidence;
use ward_core::policy::DEFAULT_POLICY;
use ward_core::{Caller, FakeClock, Policy};
use ward_store::JournalEntry;
use ward_store::Store;
use ward_store_sqlite::SqliteStore;
use ward_vault::{KeyMaterial, NewSubjectInput, Tamper, Vault, VaultConfig, VerifyOptions, VerifyReport, Witness};

struct Fixture {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    vault: Vault,
}

/// A journal of 25 entries with signed checkpoints at entries 20 and 25 (at shutdown).
async fn fixture() -> Fixture {
    fixture_spaced(time::Duration::seconds(1)).await
}

/// [`fixture`], with `step` between registrations (the entries span 7 steps).
async fn fixture_spaced(step: time::Duration) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ward.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).await.unwrap());
    let vault = populate(store, step).await;
    Fixture { _dir: dir, db, vault }
}

/// Writes the fixture's 25 entries into `store`, and returns the (shut down) vault.
async fn populate(store: Arc<dyn Store>, step: time::Duration) -> Vault {
    let clock = Arc::new(FakeClock::new(datetime!(2026-11-21 10:00 UTC)));
    let policy = Policy::parse(DEFAULT_POLICY).unwrap();
    let vault = Vault::open(
        store,
        KeyMaterial::generate(24),
        policy,
        DEFAULT_POLICY,
        clock.clone(),
        VaultConfig::default(),
    )
    .await
    .unwrap();
    let cli = Caller::cli();
    let mut ids = Vec::new();
    for i in 0..8 {
        // Newsletter subscribers: collection under marketing with its consent, two entries
        // each (registration would add a third, the contract it establishes).
        let input = NewSubjectInput {
            bases: Vec::new(),
            age_band: None,
            purpose: "marketing".into(),
            fields: BTreeMap::from([("email".to_owned(), format!("user{i}@example.org"))]),
            consents: vec!["marketing".into()],
            evidence: Some(Evidence {
                channel: "web_form".into(),
                ..Evidence::default()
            }),
        };
        ids.push(vault.subjects().create(&cli, input).await.unwrap());
        if step >= time::Duration::minutes(1) {
            // A running Ward signs every interval.
            vault.journal().checkpoint().await.unwrap();
        }
        clock.advance(step);
    }
    // 1 policy entry + 8 × (collection + consent) = 17 entries; three reads make 20.
    for id in &ids[..3] {
        vault.subjects().read(&cli, *id, "marketing", None).await.unwrap();
    }
    let cp = vault.journal().checkpoint().await.unwrap().expect("a checkpoint");
    assert_eq!(cp.seq, 20);
    for id in &ids[3..] {
        vault.subjects().read(&cli, *id, "marketing", None).await.unwrap();
    }
    vault.shutdown().await.unwrap();
    vault
}

impl Fixture {
    async fn tamper(&self, sql: &[&str]) {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        for s in sql {
            conn.execute_batch(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        conn.close().map_err(|(_, e)| e).unwrap();
    }

    /// The problem verification names; checking the journal in ranges of any length, with
    /// range boundaries at every position, names the same one.
    async fn problem(&self) -> Option<Tamper> {
        self.report(VerifyOptions::default()).await.problem
    }

    /// The report of verification with `opts`, the same in ranges of any length.
    async fn report(&self, opts: VerifyOptions) -> VerifyReport {
        let (store, signer) = (self.vault.store(), &self.vault.keys().material().signer);
        let whole = ward_vault::verify_journal_store_with(store, signer, &opts)
            .await
            .unwrap();
        for range_len in 1..=9 {
            let opts = VerifyOptions {
                range_len,
                ..opts.clone()
            };
            let ranged = ward_vault::verify_journal_store_with(store, signer, &opts)
                .await
                .unwrap();
            assert_eq!(ranged, whole, "in ranges of {range_len}");
        }
        whole
    }

    /// What the start-up check of the journal's end finds.
    async fn end(&self) -> Option<Tamper> {
        ward_vault::check_journal_end(self.vault.store(), &self.vault.keys().material().signer)
            .await
            .unwrap()
    }

    fn signer(&self) -> &ward_crypto::CheckpointSigner {
        &self.vault.keys().material().signer
    }

    /// The checkpoint at `seq`, as a witness would keep it.
    async fn witness(&self, seq: i64) -> Witness {
        let cps = self.vault.store().find_checkpoints().await.unwrap();
        Witness {
            checkpoint: cps.into_iter().find(|c| c.seq == seq).expect("the checkpoint"),
            public_key: self.signer().public_key(),
        }
    }

    /// Rewrites entries from `from` on (with `change`), recomputing every later hash, so the
    /// chain itself is consistent; returns SQL for the rows, ending with the head.
    async fn rewrite(&self, from: i64, change: impl Fn(&mut JournalEntry)) -> Vec<String> {
        self.rewrite_hashes(from, change).await.0
    }

    /// [`Fixture::rewrite`], with the new hashes by position.
    async fn rewrite_hashes(
        &self,
        from: i64,
        change: impl Fn(&mut JournalEntry),
    ) -> (Vec<String>, std::collections::HashMap<i64, [u8; 32]>) {
        let mut entries = self.vault.store().find_journal_entries(0, 1000).await.unwrap();
        let i = usize::try_from(from - 1).unwrap();
        change(&mut entries[i]);
        let mut prev = if i == 0 { [0; 32] } else { entries[i - 1].hash };
        let (mut sql, mut hashes) = (Vec::new(), std::collections::HashMap::new());
        for e in entries.iter_mut().skip(i) {
            e.prev_hash = prev;
            e.hash = ward_store::chain::content(e).hash_after(&prev);
            prev = e.hash;
            hashes.insert(e.seq, e.hash);
            sql.push(format!(
                "UPDATE journal SET purpose = {}, prev_hash = X'{}', hash = X'{}' WHERE seq = {}",
                e.purpose.as_ref().map_or("NULL".to_owned(), |p| format!("'{p}'")),
                hex::encode(e.prev_hash),
                hex::encode(e.hash),
                e.seq
            ));
        }
        sql.push(format!("UPDATE journal_head SET hash = X'{}'", hex::encode(prev)));
        (sql, hashes)
    }
}

#[tokio::test]
async fn an_untouched_journal_verifies() {
    let f = fixture().await;
    let r = ward_vault::verify_journal_store(f.vault.store(), &f.vault.keys().material().signer)
        .await
        .unwrap();
    assert_eq!((r.entries, r.checkpoints, r.signed_upto, r.problem), (25, 2, 25, None));
    assert_eq!(f.end().await, None);
}

#[tokio::test]
async fn a_modified_entry_is_named() {
    for (column, value) in [
        ("at", "at + 1"),
        ("actor", "'key:evil'"),
        ("action", "'use'"),
        ("subject", "randomblob(16)"),
        ("purpose", "'analytics'"),
        ("fields", "'email,phone'"),
        ("detail", "'x'"),
        ("prev_hash", "randomblob(32)"),
        ("hash", "randomblob(32)"),
    ] {
        let f = fixture().await;
        f.tamper(&[&format!("UPDATE journal SET {column} = {value} WHERE seq = 7")])
            .await;
        assert_eq!(
            f.problem().await,
            Some(Tamper::Modified { seq: 7 }),
            "changing {column}"
        );
    }
}

#[tokio::test]
async fn a_removed_entry_is_named() {
    let f = fixture().await;
    f.tamper(&["DELETE FROM journal WHERE seq = 7"]).await;
    assert_eq!(f.problem().await, Some(Tamper::Removed { seq: 7 }));

    // Renumbering the rest to hide the gap does not help.
    let f = fixture().await;
    f.tamper(&[
        "DELETE FROM journal WHERE seq = 7",
        "UPDATE journal SET seq = seq + 1000 WHERE seq > 7",
        "UPDATE journal SET seq = seq - 1001 WHERE seq > 1000",
    ])
    .await;
    assert_eq!(f.problem().await, Some(Tamper::Removed { seq: 7 }));
}

#[tokio::test]
async fn an_inserted_entry_is_named() {
    // A forged row at 7 that links to entry 6 and whose own hash is right: a forger who can
    // compute SHA-256 but cannot make Ward's later entries link through it.
    let f = fixture().await;
    let store = f.vault.store();
    let six = store.find_journal_entries(5, 1).await.unwrap().remove(0);
    let mut forged = ward_store::JournalEntry {
        seq: 7,
        purpose: Some("forged".into()),
        prev_hash: six.hash,
        ..six.clone()
    };
    forged.hash = ward_store::chain::content(&forged).hash_after(&forged.prev_hash);
    let insert = format!(
        "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
         SELECT 7, at, actor, action, subject, 'forged', fields, detail, X'{}', X'{}' FROM journal WHERE seq = 1006",
        hex::encode(forged.prev_hash),
        hex::encode(forged.hash)
    );
    f.tamper(&[
        "UPDATE journal SET seq = seq + 1000 WHERE seq >= 6",
        &insert,
        "UPDATE journal SET seq = seq - 1000 WHERE seq = 1006",
        "UPDATE journal SET seq = seq - 999 WHERE seq > 1006",
    ])
    .await;
    assert_eq!(f.problem().await, Some(Tamper::Inserted { seq: 7 }));
}

#[tokio::test]
async fn a_reordered_entry_is_named() {
    let f = fixture().await;
    f.tamper(&[
        "UPDATE journal SET seq = -1 WHERE seq = 7",
        "UPDATE journal SET seq = 7 WHERE seq = 8",
        "UPDATE journal SET seq = 8 WHERE seq = -1",
    ])
    .await;
    assert_eq!(f.problem().await, Some(Tamper::Reordered { seq: 7 }));
}

#[tokio::test]
async fn a_rewritten_chain_is_caught_by_the_signed_checkpoint() {
    let f = fixture().await;
    // Change entry 7, then recompute every later hash so the chain itself is consistent.
    let store = f.vault.store().clone();
    let mut entries = store.find_journal_entries(0, 1000).await.unwrap();
    entries[6].purpose = Some("analytics".into());
    let mut prev = entries[5].hash;
    let mut sql = Vec::new();
    for e in entries.iter_mut().skip(6) {
        e.prev_hash = prev;
        e.hash = ward_store::chain::content(e).hash_after(&prev);
        prev = e.hash;
        sql.push(format!(
            "UPDATE journal SET purpose = {}, prev_hash = X'{}', hash = X'{}' WHERE seq = {}",
            e.purpose.as_ref().map_or("NULL".to_owned(), |p| format!("'{p}'")),
            hex::encode(e.prev_hash),
            hex::encode(e.hash),
            e.seq
        ));
    }
    let sql: Vec<&str> = sql.iter().map(String::as_str).collect();
    f.tamper(&sql).await;
    assert_eq!(f.problem().await, Some(Tamper::CheckpointMismatch { seq: 20 }));
}

#[tokio::test]
async fn truncation_and_forged_checkpoints_are_caught() {
    let f = fixture().await;
    f.tamper(&["DELETE FROM journal WHERE seq > 22"]).await;
    assert_eq!(
        f.problem().await,
        Some(Tamper::Truncated {
            last_seq: 22,
            checkpoint_seq: 25
        })
    );

    let f = fixture().await;
    f.tamper(&["UPDATE journal_checkpoints SET seq = 19 WHERE seq = 20"])
        .await;
    assert_eq!(f.problem().await, Some(Tamper::BadCheckpoint { seq: 19 }));
}

fn refs(sql: &[String]) -> Vec<&str> {
    sql.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn deleting_the_newest_unsigned_entries_is_caught_by_the_head() {
    // The newest entries are not under a checkpoint yet (its row is removed too): before
    // the head was checked, the shortened chain verified.
    let f = fixture().await;
    f.tamper(&[
        "DELETE FROM journal_checkpoints WHERE seq = 25",
        "DELETE FROM journal WHERE seq > 22",
    ])
    .await;
    let want = Tamper::EndRemoved {
        last_seq: 22,
        head_seq: 25,
    };
    assert_eq!(f.problem().await, Some(want.clone()));
    assert_eq!(f.end().await, Some(want));

    // Every entry removed.
    let f = fixture().await;
    f.tamper(&["DELETE FROM journal_checkpoints", "DELETE FROM journal"])
        .await;
    let want = Tamper::EndRemoved {
        last_seq: 0,
        head_seq: 25,
    };
    assert_eq!(f.problem().await, Some(want.clone()));
    assert_eq!(f.end().await, Some(want));
}

#[tokio::test]
async fn a_correctly_hashed_row_appended_past_the_head_is_caught() {
    let f = fixture().await;
    let store = f.vault.store();
    let last = store.find_journal_entries(24, 1).await.unwrap().remove(0);
    let mut forged = JournalEntry {
        seq: 26,
        purpose: Some("forged".into()),
        prev_hash: last.hash,
        ..last.clone()
    };
    forged.hash = ward_store::chain::content(&forged).hash_after(&forged.prev_hash);
    f.tamper(&[&format!(
        "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
         SELECT 26, at, actor, action, subject, 'forged', fields, detail, X'{}', X'{}' FROM journal WHERE seq = 25",
        hex::encode(forged.prev_hash),
        hex::encode(forged.hash)
    )])
    .await;
    let want = Tamper::BeyondHead { seq: 26, head_seq: 25 };
    assert_eq!(f.problem().await, Some(want.clone()));
    // The start-up check sees it from the head and the two entries at the end.
    assert_eq!(f.end().await, Some(want));
}

#[tokio::test]
async fn a_rewritten_end_of_the_chain_is_caught_by_the_head() {
    // The entries after the last checkpoint are rewritten with consistent hashes; the head
    // row is left as the write path wrote it.
    let f = fixture().await;
    let mut sql = f.rewrite(23, |e| e.purpose = Some("analytics".into())).await;
    sql.pop();
    sql.push("DELETE FROM journal_checkpoints WHERE seq = 25".into());
    f.tamper(&refs(&sql)).await;
    assert_eq!(f.problem().await, Some(Tamper::HeadMismatch { seq: 25 }));
    assert_eq!(f.end().await, Some(Tamper::HeadMismatch { seq: 25 }));
}

#[tokio::test]
async fn entries_after_the_last_checkpoint_are_reported_unsigned() {
    let f = fixture().await;
    f.tamper(&["DELETE FROM journal_checkpoints WHERE seq = 25"]).await;
    let r = f.report(VerifyOptions::default()).await;
    assert_eq!((r.entries, r.signed_upto, r.unsigned(), r.problem), (25, 20, 5, None));
}

#[tokio::test]
async fn a_journal_without_its_checkpoints_is_tampered_once_it_spans_the_allowance() {
    // Entries 1..=25 span 8 minutes; with a 60 s interval a running Ward leaves at most
    // 3 × 60 s + 60 s = 240 s unsigned.
    let f = fixture_spaced(time::Duration::minutes(1)).await;
    assert_eq!(
        f.problem().await,
        None,
        "the entries after the last checkpoint are young"
    );
    f.tamper(&["DELETE FROM journal_checkpoints"]).await;
    assert_eq!(
        f.problem().await,
        Some(Tamper::Unsigned {
            from_seq: 1,
            upto_seq: 25,
            span_secs: 480,
            allowed_secs: 240
        })
    );
    // The rule follows the configured interval: signing every 5 minutes allows 960 s.
    let r = f
        .report(VerifyOptions {
            checkpoint_interval: time::Duration::minutes(5),
            ..VerifyOptions::default()
        })
        .await;
    assert_eq!((r.signed_upto, r.unsigned(), r.problem), (0, 25, None));

    // A young journal (8 s of entries) without checkpoints is not tampering: only unsigned.
    let f = fixture().await;
    f.tamper(&["DELETE FROM journal_checkpoints"]).await;
    let r = f.report(VerifyOptions::default()).await;
    assert_eq!((r.checkpoints, r.unsigned(), r.problem), (0, 25, None));
}

#[tokio::test]
async fn a_checkpoint_kept_apart_catches_a_rewrite_re_signed_with_the_stolen_key() {
    let f = fixture().await;
    let witness = f.witness(20).await;
    // The forger holds the signing key (it sits beside the data): rewrites from entry 7,
    // fixes the head and re-signs the checkpoints. The store alone then verifies.
    let (mut sql, hashes) = f.rewrite_hashes(7, |e| e.purpose = Some("analytics".into())).await;
    for seq in [20, 25] {
        let cp = f.signer().sign(seq, hashes[&seq], 1);
        sql.push(format!(
            "UPDATE journal_checkpoints SET head = X'{}', at = 1, signature = X'{}' WHERE seq = {seq}",
            hex::encode(cp.head),
            hex::encode(&cp.signature)
        ));
    }
    f.tamper(&refs(&sql)).await;
    assert_eq!(f.problem().await, None, "the store alone cannot tell");
    let against = |w: Witness| VerifyOptions {
        witness: Some(w),
        ..VerifyOptions::default()
    };
    let r = f.report(against(witness.clone())).await;
    assert_eq!(r.problem, Some(Tamper::WitnessMismatch { seq: 20 }));

    // A checkpoint of another key (a replaced key, or another vault) is named as such.
    let other = ward_crypto::CheckpointSigner::from_seed([9; 32]);
    let foreign = Witness {
        checkpoint: other.sign(20, witness.checkpoint.head, 1),
        public_key: other.public_key(),
    };
    let r = f.report(against(foreign)).await;
    assert!(matches!(r.problem, Some(Tamper::WitnessKey { .. })), "{r:?}");
}

#[tokio::test]
async fn a_checkpoint_kept_apart_catches_truncation_below_it() {
    let f = fixture().await;
    let witness = f.witness(20).await;
    // Cut back to entry 15, with the head and checkpoints to match: a young, consistent journal.
    let fifteen = f.vault.store().find_journal_entries(14, 1).await.unwrap().remove(0);
    f.tamper(&[
        "DELETE FROM journal WHERE seq > 15",
        "DELETE FROM journal_checkpoints",
        &format!(
            "UPDATE journal_head SET seq = 15, hash = X'{}'",
            hex::encode(fifteen.hash)
        ),
    ])
    .await;
    assert_eq!(f.problem().await, None, "the store alone cannot tell");
    assert_eq!(f.end().await, None);
    let r = f
        .report(VerifyOptions {
            witness: Some(witness),
            ..VerifyOptions::default()
        })
        .await;
    assert_eq!(
        r.problem,
        Some(Tamper::WitnessTruncated {
            last_seq: 15,
            witness_seq: 20
        })
    );
}

#[tokio::test]
async fn the_start_up_check_names_a_checkpoint_the_end_no_longer_matches() {
    let f = fixture().await;
    f.tamper(&["UPDATE journal_checkpoints SET signature = zeroblob(64) WHERE seq = 25"])
        .await;
    assert_eq!(f.end().await, Some(Tamper::BadCheckpoint { seq: 25 }));

    // The chain and head rewritten from entry 23, the newest checkpoint left: it no longer
    // matches the entry it vouches for.
    let f = fixture().await;
    let sql = f.rewrite(23, |e| e.purpose = Some("analytics".into())).await;
    f.tamper(&refs(&sql)).await;
    assert_eq!(f.end().await, Some(Tamper::CheckpointMismatch { seq: 25 }));
    assert_eq!(f.problem().await, Some(Tamper::CheckpointMismatch { seq: 25 }));
}

#[tokio::test]
async fn a_crash_s_unsigned_tail_is_signed_and_ward_writes_on() {
    // The server was killed after entry 25 was written but before it was signed.
    let f = fixture().await;
    f.tamper(&["DELETE FROM journal_checkpoints WHERE seq = 25"]).await;
    assert_eq!(f.end().await, None);
    let at = time::macros::datetime!(2026-11-21 11:00 UTC);
    let cp = ward_vault::sign_journal_head(f.vault.store().as_ref(), f.signer(), at)
        .await
        .unwrap()
        .expect("the head moved since the last checkpoint");
    assert_eq!(cp.seq, 25);
    let r = f.report(VerifyOptions::default()).await;
    assert_eq!((r.signed_upto, r.problem), (25, None));
}

/// A statement on the test's PostgreSQL schema, as an attacker with database access runs it.
async fn pg_exec(schema: &str, sql: &str) {
    use sqlx::{Connection, Executor};
    let mut c = sqlx::PgConnection::connect(&ward_store_postgres::testing::url())
        .await
        .expect("raw connection");
    c.execute(format!("SET search_path TO \"{schema}\"").as_str())
        .await
        .expect("search_path");
    c.execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[tokio::test]
async fn postgres_the_head_catches_an_appended_row_and_a_cut_end() {
    let Some((store, schema)) = ward_store_postgres::testing::fresh_store().await else {
        return;
    };
    let vault = populate(Arc::new(store), time::Duration::seconds(1)).await;
    let (store, signer) = (vault.store(), &vault.keys().material().signer);
    let problem = || async {
        let whole = ward_vault::verify_journal_store(store, signer).await.unwrap();
        let ranged = ward_vault::verify_journal_store_in_ranges(store, signer, 4)
            .await
            .unwrap();
        assert_eq!(ranged, whole);
        let end = ward_vault::check_journal_end(store, signer).await.unwrap();
        (whole.problem, end)
    };
    assert_eq!(problem().await, (None, None));

    let last = store.find_journal_entries(24, 1).await.unwrap().remove(0);
    let mut forged = JournalEntry {
        seq: 26,
        purpose: Some("forged".into()),
        prev_hash: last.hash,
        ..last
    };
    forged.hash = ward_store::chain::content(&forged).hash_after(&forged.prev_hash);
    pg_exec(
        &schema,
        &format!(
            "INSERT INTO journal (seq, at, actor, action, subject, purpose, fields, detail, prev_hash, hash) \
             SELECT 26, at, actor, action, subject, 'forged', fields, detail, '\\x{}', '\\x{}' FROM journal WHERE seq = 25",
            hex::encode(forged.prev_hash),
            hex::encode(forged.hash)
        ),
    )
    .await;
    let beyond = Tamper::BeyondHead { seq: 26, head_seq: 25 };
    assert_eq!(problem().await, (Some(beyond.clone()), Some(beyond)));

    pg_exec(&schema, "DELETE FROM journal WHERE seq = 26").await;
    assert_eq!(problem().await, (None, None));
    pg_exec(&schema, "DELETE FROM journal_checkpoints WHERE seq = 25").await;
    pg_exec(&schema, "DELETE FROM journal WHERE seq > 22").await;
    let cut = Tamper::EndRemoved {
        last_seq: 22,
        head_seq: 25,
    };
    assert_eq!(problem().await, (Some(cut.clone()), Some(cut)));
    ward_store_postgres::testing::drop_schema(&schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_up_check_is_not_fooled_by_writes_of_another_process() {
    // Another Ward on the same store commits while this one starts: an entry that appears
    // past the head read a moment ago is a write, not a forgery.
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("ward.db")).await.unwrap());
    let clock = Arc::new(FakeClock::new(datetime!(2026-11-21 10:00 UTC)));
    let policy = Policy::parse(DEFAULT_POLICY).unwrap();
    let keys = KeyMaterial::generate(24);
    let signer = ward_crypto::CheckpointSigner::from_seed([5; 32]);
    let vault = Vault::open(
        store.clone(),
        keys,
        policy,
        DEFAULT_POLICY,
        clock,
        VaultConfig::default(),
    )
    .await
    .unwrap();
    let writing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let writer = {
        let (vault, writing) = (vault.clone(), writing.clone());
        tokio::spawn(async move {
            let mut n = 0u32;
            while writing.load(std::sync::atomic::Ordering::Relaxed) {
                let input = NewSubjectInput {
                    bases: Vec::new(),
                    age_band: None,
                    purpose: "registration".into(),
                    fields: BTreeMap::from([("email".to_owned(), format!("race{n}@example.org"))]),
                    consents: vec![],
                    evidence: None,
                };
                vault.subjects().create(&Caller::cli(), input).await.unwrap();
                n += 1;
            }
            n
        })
    };
    for _ in 0..5000 {
        assert_eq!(ward_vault::check_journal_end(&store, &signer).await.unwrap(), None);
    }
    writing.store(false, std::sync::atomic::Ordering::Relaxed);
    assert!(writer.await.unwrap() > 0);
    vault.shutdown().await.unwrap();
}

#[tokio::test]
async fn checkpoints_removed_and_the_head_signed_again_are_caught() {
    // Signed every minute. The forger rewrites from entry 7, fixes the head, removes the
    // checkpoints that no longer match (7 onwards), and lets Ward sign the head again (as it
    // does at start and every interval): the new checkpoint covers entries 6..=25, which
    // span 6 minutes.
    let f = fixture_spaced(time::Duration::minutes(1)).await;
    let seqs: Vec<i64> = f
        .vault
        .store()
        .find_checkpoints()
        .await
        .unwrap()
        .iter()
        .map(|c| c.seq)
        .collect();
    assert_eq!(seqs, [3, 5, 7, 9, 11, 13, 15, 17, 20, 25]);
    let mut sql = f.rewrite(7, |e| e.purpose = Some("analytics".into())).await;
    sql.push("DELETE FROM journal_checkpoints WHERE seq >= 7".into());
    f.tamper(&refs(&sql)).await;
    let at = datetime!(2026-11-21 10:09 UTC);
    let cp = ward_vault::sign_journal_head(f.vault.store().as_ref(), f.signer(), at)
        .await
        .unwrap()
        .expect("signed");
    assert_eq!(cp.seq, 25);
    assert_eq!(f.end().await, None, "the end is consistent");
    assert_eq!(
        f.problem().await,
        Some(Tamper::Unsigned {
            from_seq: 6,
            upto_seq: 25,
            span_secs: 360,
            allowed_secs: 240
        })
    );
}
