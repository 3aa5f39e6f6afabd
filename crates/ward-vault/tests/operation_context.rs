//! One call, one policy version: a version that takes effect while a call runs does not
//! reach into it. The consent a call checked against version 1 is recorded as bound to
//! version 1, even when version 2 is in force by the time the call commits.
//!
//! Deterministic, without hooks in the vault: the clock answers the call's first reading
//! with the time it was set to, and every later reading with a time past version 2's
//! effective time, as if the call had run long enough for version 2 to take effect. A call
//! that read the clock (or the version in force) again after its checks would bind the
//! consent to version 2. Runs on SQLite and on PostgreSQL.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use ward_core::consent::Evidence;
use ward_core::policy::DEFAULT_POLICY;
use ward_core::{Caller, Clock, FakeClock, Policy, SubjectId};
use ward_store::Store;
use ward_store_sqlite::SqliteStore;
use ward_vault::{ConsentState, KeyMaterial, NewSubjectInput, PolicySource, Vault, VaultConfig};

const START: OffsetDateTime = datetime!(2026-11-21 10:00 UTC);

/// A fake clock that, once armed, lets one reading through and then jumps to a later time.
#[derive(Clone)]
struct JumpingClock {
    clock: FakeClock,
    jump_to: Arc<Mutex<Option<OffsetDateTime>>>,
}

impl JumpingClock {
    fn new() -> Self {
        Self {
            clock: FakeClock::new(START),
            jump_to: Arc::new(Mutex::new(None)),
        }
    }

    /// The next reading is the current time; every reading after it is `to`.
    fn jump_after_next_reading(&self, to: OffsetDateTime) {
        *self.jump_to.lock().unwrap() = Some(to);
    }
}

impl Clock for JumpingClock {
    fn now(&self) -> OffsetDateTime {
        let now = self.clock.now();
        if let Some(to) = self.jump_to.lock().unwrap().take() {
            self.clock.set(to);
        }
        now
    }
}

async fn open(store: Arc<dyn Store>, clock: &JumpingClock) -> Vault {
    Vault::open(
        store,
        KeyMaterial::generate(24),
        Policy::parse(DEFAULT_POLICY).unwrap(),
        DEFAULT_POLICY,
        Arc::new(clock.clone()),
        VaultConfig::default(),
    )
    .await
    .unwrap()
}

fn web() -> Evidence {
    Evidence {
        channel: "web_form".into(),
        ..Evidence::default()
    }
}

fn registration(consents: &[&str]) -> NewSubjectInput {
    NewSubjectInput {
        bases: Vec::new(),
        age_band: None,
        purpose: "registration".into(),
        fields: BTreeMap::from([("email".to_owned(), "anna@example.org".to_owned())]),
        consents: consents.iter().map(|c| (*c).to_owned()).collect(),
        evidence: Some(web()),
    }
}

/// Publishes version 2 (marketing reworded), in force an hour from now; returns the hashes
/// of versions 1 and 2 and version 2's effective time.
async fn publish_version_two(v: &Vault) -> (String, String, OffsetDateTime) {
    let v1 = v.policies().current_hash();
    let effective = START + Duration::hours(1);
    let source = DEFAULT_POLICY
        .replace("version = \"1\"", "version = \"2\"")
        .replace("Sending news and offers", "Sending news, offers and invitations");
    let published = v
        .policies()
        .publish(&Caller::cli(), PolicySource::from(source.as_str()), Some(effective))
        .await
        .unwrap();
    assert!(published.new);
    assert_eq!(v.policies().current_hash(), v1, "version 2 is not in force yet");
    (v1, published.version.hash.clone(), effective)
}

async fn marketing_version(v: &Vault, id: SubjectId) -> String {
    let overview = v.consents().overview(&Caller::cli(), id).await.unwrap();
    let marketing = overview.iter().find(|s| s.purpose == "marketing").unwrap();
    assert_eq!(marketing.state, ConsentState::Given);
    marketing.policy_version.clone().unwrap()
}

/// At registration: consents given with the subject are bound to the version checked.
async fn registration_binds_the_version_checked(store: Arc<dyn Store>) {
    let clock = JumpingClock::new();
    let v = open(store, &clock).await;
    let (v1, v2, effective) = publish_version_two(&v).await;

    clock.jump_after_next_reading(effective + Duration::minutes(1));
    let id = v
        .subjects()
        .create(&Caller::cli(), registration(&["marketing"]))
        .await
        .unwrap();
    assert_eq!(v.policies().current_hash(), v2, "version 2 took effect during the call");
    assert_eq!(marketing_version(&v, id).await, v1);
    v.shutdown().await.unwrap();
}

/// A consent given later, with the subject loaded from the store between check and record.
async fn a_consent_binds_the_version_checked(store: Arc<dyn Store>) {
    let clock = JumpingClock::new();
    let v = open(store, &clock).await;
    let cli = Caller::cli();
    let id = v.subjects().create(&cli, registration(&[])).await.unwrap();
    let (v1, v2, effective) = publish_version_two(&v).await;

    clock.jump_after_next_reading(effective + Duration::minutes(1));
    v.consents().give(&cli, id, "marketing", web()).await.unwrap();
    assert_eq!(v.policies().current_hash(), v2, "version 2 took effect during the call");
    assert_eq!(marketing_version(&v, id).await, v1);
    v.shutdown().await.unwrap();
}

async fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("ward.db")).await.unwrap();
    (Arc::new(store), dir)
}

#[tokio::test]
async fn sqlite_registration_binds_the_version_checked() {
    let (store, _dir) = sqlite().await;
    registration_binds_the_version_checked(store).await;
}

#[tokio::test]
async fn sqlite_a_consent_binds_the_version_checked() {
    let (store, _dir) = sqlite().await;
    a_consent_binds_the_version_checked(store).await;
}

#[tokio::test]
async fn postgres_registration_binds_the_version_checked() {
    let Some(store) = ward_store_postgres::testing::fresh().await else {
        return;
    };
    registration_binds_the_version_checked(store).await;
}

#[tokio::test]
async fn postgres_a_consent_binds_the_version_checked() {
    let Some(store) = ward_store_postgres::testing::fresh().await else {
        return;
    };
    a_consent_binds_the_version_checked(store).await;
}
