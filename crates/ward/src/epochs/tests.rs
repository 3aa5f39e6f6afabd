//! Key epochs with real key files, a real store (SQLite, and PostgreSQL when reachable) and a
//! fake clock: the rotation job's schedule, the grace period, a process that has not loaded the
//! new KEK, crashes between the steps, and the checked reload.

use super::*;
use crate::config::Overrides;
use crate::{app, jobs};
use sqlx::Executor;
use std::collections::BTreeMap;
use std::sync::Arc;
use ward_core::{Clock, FakeClock, SubjectId};
use ward_jobs::{Outcome, Ran};
use ward_store_postgres::testing;
use ward_vault::{KeyMaterial, NewSubjectInput, VaultConfig};

mod scan;

/// A data directory made by `ward init`, its vault on a fake clock, and its epochs.
pub(super) struct Env {
    pub dir: tempfile::TempDir,
    pub cfg: Config,
    pub clock: FakeClock,
    pub vault: Vault,
    pub epochs: Epochs,
}

impl Env {
    pub async fn sqlite() -> Self {
        Self::new(Overrides::default()).await
    }

    /// On a fresh PostgreSQL schema; `None` when PostgreSQL is unreachable and may be skipped.
    pub async fn postgres() -> Option<Self> {
        let mut conn = testing::connect_raw().await?;
        let schema = testing::new_schema();
        conn.execute(format!("CREATE SCHEMA \"{schema}\"").as_str())
            .await
            .expect("create a schema");
        let base = testing::url();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        Some(
            Self::new(Overrides {
                database_url: Some(url),
                ..Overrides::default()
            })
            .await,
        )
    }

    async fn new(over: Overrides) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        app::init(dir.path(), &over).await.expect("ward init");
        let cfg = Config::load(dir.path(), &over).expect("the configuration");
        // Not before the binding `init` recorded (by the wall clock), in whole seconds (the
        // store keeps microseconds).
        let start = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + Duration::seconds(1);
        let clock = FakeClock::new(start);
        let vault = open(&cfg, &clock, None).await;
        let epochs = Epochs::new(&cfg, &vault);
        Self {
            dir,
            cfg,
            clock,
            vault,
            epochs,
        }
    }

    /// The KEK files present.
    pub fn kek_files(&self) -> Vec<u32> {
        keyfiles::kek_ids(&self.cfg.keys_dir).expect("the key directory")
    }

    /// The keys as they are on disk now (a process that loads them and never reloads).
    pub fn keys_now(&self) -> KeyMaterial {
        keyfiles::load(&self.cfg.keys_dir, self.cfg.blind_index_bits).expect("the keys")
    }

    pub async fn counts(&self) -> BTreeMap<String, u64> {
        self.vault
            .store()
            .count_wrapped_keys_by_kek()
            .await
            .expect("count wrapped keys")
    }

    pub async fn journal_actions(&self) -> Vec<String> {
        let entries = self
            .vault
            .store()
            .find_journal_entries(0, 10_000)
            .await
            .expect("the journal");
        entries.iter().map(|e| e.action.clone()).collect()
    }

    pub fn advance(&self, secs: i64) -> OffsetDateTime {
        self.clock.advance(Duration::seconds(secs));
        self.clock.now()
    }
}

/// Another vault on the same store (as another process), with `keys` or the key files'.
pub(super) async fn open(cfg: &Config, clock: &FakeClock, keys: Option<KeyMaterial>) -> Vault {
    let (material, store) = binding::open(cfg, NewKeks::Refuse).await.expect("the store");
    let (policy, source) = app::load_policy_source(&cfg.policy_path).expect("the policy");
    Vault::open(
        store,
        keys.unwrap_or(material),
        policy,
        source,
        Arc::new(clock.clone()),
        VaultConfig::default(),
    )
    .await
    .expect("open the vault")
}

pub(super) async fn create(v: &Vault, email: &str) -> SubjectId {
    v.subjects()
        .create(
            &Caller::cli(),
            NewSubjectInput {
                bases: Vec::new(),
                purpose: "registration".into(),
                fields: BTreeMap::from([("email".to_owned(), email.to_owned())]),
                consents: vec![],
                age_band: None,
                evidence: None,
            },
        )
        .await
        .expect("create a subject")
}

pub(super) async fn email(v: &Vault, id: SubjectId) -> String {
    let view = v
        .subjects()
        .read(&Caller::cli(), id, "registration", None)
        .await
        .expect("read a subject");
    view.fields["email"].clone()
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

fn rotation(turns: &[Ran]) -> Outcome {
    turns
        .iter()
        .find(|t| t.job == "kek-rotation")
        .map(|t| t.outcome.clone())
        .expect("the rotation job had its turn")
}

/// One `#[tokio::test]` per backend for each test body.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(super::Env::sqlite().await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(env) = super::Env::postgres().await {
                        super::$name(env).await;
                    }
                }
            }
        )*
    };
}

both_backends!(
    the_job_rotates_after_the_interval_and_destroys_after_the_grace,
    a_key_wrapped_under_the_old_kek_after_the_last_rewrap_blocks_destruction,
    a_crash_between_the_steps_resumes,
    reload_refuses_unknown_key_files_and_copes_with_destroyed_ones,
);

async fn the_job_rotates_after_the_interval_and_destroys_after_the_grace(env: Env) {
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(create(&env.vault, &format!("s{n}@example.org")).await);
    }
    let before_rotation = env.keys_now();
    let mut runner = jobs::runner(&env.cfg, &env.vault, Arc::new(env.clock.clone())).expect("the runner");
    assert_eq!(env.counts().await, counts(&[("1", 3)]));

    // Not before the interval (a day by default).
    env.advance(86_400 - 60);
    assert_eq!(rotation(&runner.run_due().await), Outcome::Done(String::new()));
    assert_eq!(env.kek_files(), [1]);

    // At the interval: a new KEK recorded, in force, and everything re-wrapped under it.
    let rotated_at = env.advance(60);
    assert_eq!(
        rotation(&runner.run_due().await),
        Outcome::Done("kek-2 in force; 3 data keys re-wrapped under it".into())
    );
    assert_eq!(env.kek_files(), [1, 2]);
    assert_eq!(env.counts().await, counts(&[("2", 3)]));
    let recorded = env.vault.store().find_key_binding().await.unwrap();
    let kek2 = recorded.iter().find(|b| b.name == "kek:2").expect("kek:2 recorded");
    assert_eq!(kek2.recorded_at, rotated_at);
    assert_eq!(env.vault.keys().ring().active_id(), "2");
    let actions = env.journal_actions().await;
    assert!(
        actions.ends_with(&["key.binding".into(), "key.rotation".into()]),
        "{actions:?}"
    );

    // A process that has not loaded kek-2 yet wraps a new subject's key under kek-1.
    let stale = open(&env.cfg, &env.clock, Some(before_rotation)).await;
    // As `serve` does: a data key met under a KEK not in force is unwrapped with its file.
    let (keys_dir, bits) = (env.cfg.keys_dir.clone(), env.cfg.blind_index_bits);
    stale.keys().set_reloader(Box::new(move || {
        keyfiles::load(&keys_dir, bits)
            .map(|k| k.keyring)
            .map_err(|e| format!("{e:#}"))
    }));
    let late = create(&stale, "late@example.org").await;
    assert_eq!(env.counts().await, counts(&[("1", 1), ("2", 3)]));

    // Within the grace period: kek-1 stays, and what is under it is re-wrapped already.
    env.advance(60);
    let due = rotated_at + Duration::seconds(180);
    assert_eq!(
        rotation(&runner.run_due().await),
        Outcome::Done(format!("kek-1 to be destroyed from {due}"))
    );
    assert_eq!(env.kek_files(), [1, 2]);
    assert_eq!(env.counts().await, counts(&[("2", 4)]));
    assert_eq!(
        email(&stale, late).await,
        "late@example.org",
        "the stale process reads on"
    );
    stale.shutdown().await.unwrap();

    // At the end of the grace period (2 × 60 s + 60 s): kek-1 is destroyed.
    env.advance(120);
    assert_eq!(
        rotation(&runner.run_due().await),
        Outcome::Done("destroyed kek-1 (0 data keys re-wrapped first)".into())
    );
    assert_eq!(env.kek_files(), [2]);
    assert!(!env.cfg.keys_dir.join("kek-1.key").exists());
    assert_eq!(env.vault.keys().ring().ids().collect::<Vec<_>>(), ["2"]);
    assert_eq!(
        env.journal_actions().await.last().map(String::as_str),
        Some("key.destroyed")
    );
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(email(&env.vault, *id).await, format!("s{n}@example.org"));
    }
    assert_eq!(email(&env.vault, late).await, "late@example.org");

    // Nothing more to do until the next interval.
    env.advance(60);
    assert_eq!(rotation(&runner.run_due().await), Outcome::Done(String::new()));
    runner.release_leases().await;
    env.vault.shutdown().await.unwrap();
}

async fn a_key_wrapped_under_the_old_kek_after_the_last_rewrap_blocks_destruction(env: Env) {
    create(&env.vault, "a@example.org").await;
    let before_rotation = env.keys_now();
    assert_eq!(env.epochs.begin(env.clock.now()).await.unwrap(), 2);
    assert_eq!(env.epochs.rewrap().await.unwrap().rewrapped, 1);
    env.advance(180);

    // The last re-wrap has run; then a process still on kek-1 wraps a new key under it.
    let stale = open(&env.cfg, &env.clock, Some(before_rotation)).await;
    let late = create(&stale, "late@example.org").await;
    let e = env.epochs.destroy_old(2, &[1]).await.unwrap_err().to_string();
    assert!(
        e.contains("1 data keys are still wrapped under kek-1, so kek-1 kept") && e.contains("Nothing was destroyed"),
        "{e}"
    );
    assert_eq!(env.kek_files(), [1, 2]);
    assert!(!env.journal_actions().await.contains(&"key.destroyed".to_owned()));
    stale.shutdown().await.unwrap();

    // The next run re-wraps it first, then destroys.
    assert_eq!(
        env.epochs.step(env.clock.now()).await.unwrap(),
        "destroyed kek-1 (1 data keys re-wrapped first)"
    );
    assert_eq!(env.kek_files(), [2]);
    assert_eq!(env.counts().await, counts(&[("2", 2)]));
    assert_eq!(email(&env.vault, late).await, "late@example.org");
    env.vault.shutdown().await.unwrap();
}

async fn a_crash_between_the_steps_resumes(env: Env) {
    create(&env.vault, "a@example.org").await;
    create(&env.vault, "b@example.org").await;

    // A crash after a new KEK was recorded, before its file was written: that id stays unused.
    let lost = keyfiles::NewKek::generate(2);
    binding::record(
        &**env.vault.store(),
        &[(lost.name.clone(), lost.fingerprint.clone())],
        env.clock.now(),
        "a test",
    )
    .await
    .unwrap();
    env.epochs
        .reload()
        .await
        .expect("a recorded KEK without a file is no problem");
    env.advance(86_400);
    assert_eq!(
        env.epochs.step(env.clock.now()).await.unwrap(),
        "kek-3 in force; 2 data keys re-wrapped under it"
    );
    assert_eq!(env.kek_files(), [1, 3]);

    // A crash after the file was written, before the re-wrap: the next run re-wraps.
    env.advance(180);
    env.epochs.step(env.clock.now()).await.unwrap();
    assert_eq!(env.kek_files(), [3]);
    env.advance(86_400);
    assert_eq!(env.epochs.begin(env.clock.now()).await.unwrap(), 4);
    assert_eq!(env.counts().await, counts(&[("3", 2)]));
    let now = env.advance(60);
    assert_eq!(
        env.epochs.step(now).await.unwrap(),
        format!("kek-3 to be destroyed from {}", now + Duration::seconds(120))
    );
    assert_eq!(env.counts().await, counts(&[("4", 2)]));

    // A crash after `key.destroyed` was journaled, before the file went: the next run
    // journals and destroys it.
    env.advance(120);
    env.vault
        .keys()
        .journal_destroyed(&system(), "destroying kek-3 (then a crash)".into())
        .await
        .unwrap();
    assert_eq!(env.kek_files(), [3, 4]);
    assert_eq!(
        env.epochs.step(env.clock.now()).await.unwrap(),
        "destroyed kek-3 (0 data keys re-wrapped first)"
    );
    assert_eq!(env.kek_files(), [4]);
    let destroyed = env
        .journal_actions()
        .await
        .iter()
        .filter(|a| *a == "key.destroyed")
        .count();
    assert_eq!(destroyed, 3);
    env.vault.shutdown().await.unwrap();
}

async fn reload_refuses_unknown_key_files_and_copes_with_destroyed_ones(env: Env) {
    let id = create(&env.vault, "a@example.org").await;
    let mut runner = jobs::runner(&env.cfg, &env.vault, Arc::new(env.clock.clone())).expect("the runner");

    // A KEK file the store never recorded (planted, or copied from another store).
    let planted = keyfiles::NewKek::generate(2);
    keyfiles::install_kek(&env.cfg.keys_dir, &planted).unwrap();
    let e = format!("{:#}", env.epochs.reload().await.unwrap_err());
    assert!(e.contains("kek-2.key") && e.contains("not one of the store's"), "{e}");
    env.advance(60);
    let turns = runner.run_due().await;
    assert!(
        matches!(&turns[0].outcome, Outcome::Failed(e) if e.contains("could not reload the key files")),
        "{turns:?}"
    );
    assert!(matches!(rotation(&turns), Outcome::Failed(_)), "{turns:?}");
    assert_eq!(
        env.vault.keys().ring().ids().collect::<Vec<_>>(),
        ["1"],
        "the ring in force stays"
    );
    let created = create(&env.vault, "b@example.org").await;
    let rec = env.vault.store().find_subject(created).await.unwrap().unwrap();
    assert_eq!(rec.key.unwrap().kek_id, "1", "never wraps under a planted key");
    keyfiles::destroy_kek(&env.cfg.keys_dir, 2).unwrap();

    // A real rotation, then kek-1's file removed by hand: the ring drops it.
    assert_eq!(env.epochs.begin(env.clock.now()).await.unwrap(), 2);
    env.epochs.rewrap().await.unwrap();
    assert_eq!(env.vault.keys().ring().ids().collect::<Vec<_>>(), ["1", "2"]);
    std::fs::remove_file(env.cfg.keys_dir.join("kek-1.key")).unwrap();
    assert!(env.epochs.reload().await.unwrap());
    assert_eq!(env.vault.keys().ring().ids().collect::<Vec<_>>(), ["2"]);
    assert_eq!(email(&env.vault, id).await, "a@example.org");
    runner.release_leases().await;
    env.vault.shutdown().await.unwrap();
}
