//! The destruction job (`Vault::due`) on a fake clock, on SQLite and on PostgreSQL: what a
//! withdrawal or an ended basis leaves falls due 30 days later (not before) and is destroyed
//! with an act naming the job, and what was destroyed already is not due again; an obligation keeps its categories until its retention ends;
//! two vaults on one PostgreSQL schema running the job at once write one act.

use std::collections::BTreeMap;
use std::sync::Arc;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use ward_core::basis::{BasisEventKind, BasisEvidence};
use ward_core::consent::Evidence;
use ward_core::destruction::DestructionReason;
use ward_core::policy::DEFAULT_POLICY;
use ward_core::{Actor, Caller, FakeClock, Policy, SubjectId};
use ward_crypto::journal::CheckpointSigner;
use ward_crypto::{BlindIndex, Kek, KeyRing, TokenHasher};
use ward_store::{ActFilter, DestructionActRecord, Store};
use ward_store_sqlite::SqliteStore;
use ward_vault::{
    ActQuery, BasisInput, DestructionRequest, KeyMaterial, NewSubjectInput, Vault, VaultConfig, JOB_DESTROYER,
};

const T0: OffsetDateTime = datetime!(2026-03-01 09:00 UTC);

/// The same keys every time: two vaults on one store must share them.
fn keys() -> KeyMaterial {
    KeyMaterial {
        keyring: KeyRing::new([Kek::new("1", [1; 32])], "1").unwrap(),
        blind_index: BlindIndex::new([2; 32], 24),
        tokens: TokenHasher::new([3; 32]),
        signer: CheckpointSigner::from_seed([4; 32]),
    }
}

async fn open(store: Arc<dyn Store>, clock: &FakeClock) -> Vault {
    Vault::open(
        store,
        keys(),
        Policy::parse(DEFAULT_POLICY).unwrap(),
        DEFAULT_POLICY,
        Arc::new(clock.clone()),
        VaultConfig::default(),
    )
    .await
    .unwrap()
}

fn job() -> Caller {
    Caller {
        actor: Actor::System,
        role: ward_core::access::Role::Admin,
        purposes: Default::default(),
    }
}

fn web() -> Evidence {
    Evidence {
        channel: "web_form".into(),
        ..Evidence::default()
    }
}

async fn acts_of(v: &Vault, id: SubjectId) -> Vec<DestructionActRecord> {
    let q = ActQuery {
        subject: Some(id),
        ..ActQuery::default()
    };
    v.acts()
        .list(&Caller::cli(), &q)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.record)
        .collect()
}

/// A visitor who consented to analytics and withdrew: the technical data no other purpose
/// holds is destroyed 30 days after the withdrawal, not a day before, with one act.
async fn a_withdrawal_is_executed_thirty_days_later_with_an_act(store: Arc<dyn Store>) {
    let clock = FakeClock::new(T0);
    let v = open(store, &clock).await;
    let cli = Caller::cli();
    let id = v
        .subjects()
        .create(
            &cli,
            NewSubjectInput {
                bases: vec![],
                age_band: None,
                purpose: "registration".into(),
                fields: BTreeMap::from([
                    ("email".to_owned(), "anna@example.org".to_owned()),
                    ("last_ip".to_owned(), "203.0.113.7".to_owned()),
                    ("user_agent".to_owned(), "Firefox".to_owned()),
                ]),
                consents: vec!["analytics".to_owned()],
                evidence: Some(web()),
            },
        )
        .await
        .unwrap();
    clock.advance(Duration::days(2));
    let withdrawn_at = ward_core::Clock::now(&clock);
    v.consents().withdraw(&cli, id, "analytics").await.unwrap();

    clock.advance(Duration::days(30) - Duration::seconds(1));
    let report = v.due().run(&job()).await.unwrap();
    assert_eq!(report.destroyed, 0, "{report}");
    assert!(acts_of(&v, id).await.is_empty());

    clock.advance(Duration::seconds(1));
    let report = v.due().run(&job()).await.unwrap();
    assert_eq!(report.destroyed, 1, "{report}");
    let acts = acts_of(&v, id).await;
    assert_eq!(acts.len(), 1);
    let act = &acts[0];
    assert_eq!(act.destroyed_by, JOB_DESTROYER);
    assert_eq!(act.categories, ["technical"]);
    assert_eq!(act.fields, ["last_ip", "user_agent"]);
    assert_eq!(act.method, "field_deletion");
    assert_eq!(act.reason, "consent_withdrawn");
    assert_eq!(
        act.cause,
        format!("due:consent:analytics:{}", ward_core::clock::to_micros(withdrawn_at))
    );
    assert_eq!(act.at, withdrawn_at + Duration::days(30));
    // The sealed record holds nothing of it any more.
    let record = v.store().find_subject(id).await.unwrap().unwrap();
    let before = record.revision;
    // Again: nothing is due, nothing is written.
    clock.advance(Duration::hours(1));
    let report = v.due().run(&job()).await.unwrap();
    assert_eq!((report.destroyed, report.already_done), (0, 0), "{report}");
    assert_eq!(acts_of(&v, id).await.len(), 1);
    assert_eq!(v.store().find_subject(id).await.unwrap().unwrap().revision, before);
    v.shutdown().await.unwrap();
}

/// A newsletter reader's marketing data once they unsubscribe, with nothing else holding it.
async fn reader(v: &Vault, n: u32) -> SubjectId {
    v.subjects()
        .create(
            &Caller::cli(),
            NewSubjectInput {
                bases: vec![],
                age_band: None,
                purpose: "marketing".into(),
                fields: BTreeMap::from([
                    ("email".to_owned(), format!("reader{n}@example.org")),
                    ("full_name".to_owned(), "Nina Reader".to_owned()),
                ]),
                consents: vec!["marketing".to_owned()],
                evidence: Some(web()),
            },
        )
        .await
        .unwrap()
}

async fn revision(v: &Vault, id: SubjectId) -> i64 {
    v.store().find_subject(id).await.unwrap().unwrap().revision
}

async fn destroy(v: &Vault, id: SubjectId, categories: &[&str]) {
    let request = DestructionRequest {
        categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        fields: Vec::new(),
        reason: DestructionReason::ConsentWithdrawn,
    };
    v.subjects().destroy(&Caller::cli(), id, &request).await.unwrap();
}

/// What the officer destroyed before the job ran is not due any more: the job destroys only
/// what is left, its act names only that, and a subject with nothing left gets no act.
async fn what_was_destroyed_already_is_not_destroyed_again(store: Arc<dyn Store>) {
    let clock = FakeClock::new(T0);
    let v = open(store, &clock).await;
    let cli = Caller::cli();
    let (partly, wholly) = (reader(&v, 1).await, reader(&v, 2).await);
    clock.advance(Duration::days(2));
    for id in [partly, wholly] {
        v.consents().withdraw(&cli, id, "marketing").await.unwrap();
    }
    clock.advance(Duration::days(1));
    destroy(&v, partly, &["contact"]).await;
    destroy(&v, wholly, &["contact", "identity"]).await;

    clock.advance(Duration::days(30));
    let report = v.due().run(&job()).await.unwrap();
    assert_eq!((report.destroyed, report.already_done), (1, 0), "{report}");
    let acts = acts_of(&v, partly).await;
    assert_eq!(acts.len(), 2, "the officer's and the job's");
    let by_job: Vec<_> = acts.iter().filter(|a| a.destroyed_by == JOB_DESTROYER).collect();
    assert_eq!(by_job.len(), 1);
    assert_eq!(
        (&by_job[0].categories[..], &by_job[0].fields[..]),
        (&["identity".to_owned()][..], &["full_name".to_owned()][..])
    );
    assert_eq!(acts_of(&v, wholly).await.len(), 1, "the officer's only");
    // Again: nothing is due for either, nothing is written.
    let before = (revision(&v, partly).await, revision(&v, wholly).await);
    clock.advance(Duration::hours(1));
    let report = v.due().run(&job()).await.unwrap();
    assert_eq!((report.destroyed, report.already_done), (0, 0), "{report}");
    assert_eq!(acts_of(&v, partly).await.len(), 2);
    assert_eq!((revision(&v, partly).await, revision(&v, wholly).await), before);
    v.shutdown().await.unwrap();
}

/// A customer who paid and closed the account: contact and account data fall due 30 days
/// after the contract ended; identity (which accounting needs) stays until the accounting
/// obligation's five years end, and falls due 30 days after that.
async fn a_paid_subject_keeps_accounting_until_its_retention_ends(store: Arc<dyn Store>) {
    let clock = FakeClock::new(T0);
    let v = open(store, &clock).await;
    let cli = Caller::cli();
    let id = v
        .subjects()
        .create(
            &cli,
            NewSubjectInput {
                bases: vec![],
                age_band: None,
                purpose: "registration".into(),
                fields: BTreeMap::from([
                    ("email".to_owned(), "anna@example.org".to_owned()),
                    ("full_name".to_owned(), "Anna".to_owned()),
                ]),
                consents: Vec::new(),
                evidence: None,
            },
        )
        .await
        .unwrap();
    let basis = |purpose: &str, kind| BasisInput {
        purpose: purpose.into(),
        kind,
        start: None,
        evidence: BasisEvidence {
            reference: "order 1".into(),
            note: None,
        },
    };
    v.bases()
        .record(&cli, id, basis("accounting", BasisEventKind::Established))
        .await
        .unwrap();
    clock.advance(Duration::days(1));
    v.bases()
        .record(&cli, id, basis("registration", BasisEventKind::Ended))
        .await
        .unwrap();
    let ended = ward_core::Clock::now(&clock);

    clock.advance(Duration::days(30));
    let report = v.due().run(&job()).await.unwrap();
    assert_eq!(report.destroyed, 1, "{report}");
    let acts = acts_of(&v, id).await;
    assert_eq!(acts.len(), 1);
    // Account data was never collected: only what the subject holds is due, and named.
    assert_eq!(acts[0].categories, ["contact"]);
    assert_eq!(acts[0].fields, ["email"]);
    assert_eq!(acts[0].reason, "purpose_achieved");
    assert_eq!(acts[0].at, ended + Duration::days(30));
    // Identity stays while accounting holds it.
    let record = v.store().find_subject(id).await.unwrap().unwrap();
    assert!(record.fields.is_some());
    clock.set(T0 + Duration::days(5 * 365));
    let report = v.due().run(&job()).await.unwrap();
    assert_eq!(report.destroyed, 0, "{report}");
    // The first act, more than three years old by now, is purged.
    assert!(report.purged, "{report}");
    assert!(acts_of(&v, id).await.is_empty());

    // Five years (402-FZ) from the start, plus 30 days.
    clock.set(T0 + Duration::days(5 * 366 + 30));
    let report = v.due().run(&job()).await.unwrap();
    assert_eq!(report.destroyed, 1, "{report}");
    let acts = acts_of(&v, id).await;
    assert_eq!(acts.len(), 1);
    assert_eq!(acts[0].categories, ["identity"]);
    assert_eq!(acts[0].fields, ["full_name"]);
    assert_eq!(acts[0].reason, "retention_expired");
    v.shutdown().await.unwrap();
}

/// Acts are kept three years, then the job purges them (journaled).
async fn acts_are_purged_after_three_years(store: Arc<dyn Store>) {
    let clock = FakeClock::new(T0);
    let v = open(store, &clock).await;
    let cli = Caller::cli();
    let id = v
        .subjects()
        .create(
            &cli,
            NewSubjectInput {
                bases: vec![],
                age_band: None,
                purpose: "registration".into(),
                fields: BTreeMap::from([("email".to_owned(), "anna@example.org".to_owned())]),
                consents: Vec::new(),
                evidence: None,
            },
        )
        .await
        .unwrap();
    v.subjects()
        .erase(&cli, id, ward_vault::DestructionReason::SubjectRequest)
        .await
        .unwrap();
    clock.advance(Duration::days(3 * 365));
    assert!(!v.due().run(&job()).await.unwrap().purged);
    assert_eq!(acts_of(&v, id).await.len(), 1);
    clock.advance(Duration::days(2));
    assert!(v.due().run(&job()).await.unwrap().purged);
    assert!(acts_of(&v, id).await.is_empty());
    let all = v
        .store()
        .find_acts(&ActFilter {
            limit: 10,
            ..ActFilter::default()
        })
        .await
        .unwrap();
    assert!(all.is_empty());
    v.shutdown().await.unwrap();
}

async fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("ward.db")).await.unwrap();
    (Arc::new(store), dir)
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let (store, _dir) = super::sqlite().await;
                    super::$name(store).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(store) = ward_store_postgres::testing::fresh().await else { return };
                    super::$name(store).await;
                }
            )*
        }
    };
}

/// A block placed because destruction was impossible runs six months (Art. 21 p. 6): not a
/// second before, then the job destroys what it covers (the blocked category, or the whole
/// subject) with an act whose cause names the block, and lifts it; a second run writes
/// nothing; a block for another reason is only reported.
async fn a_block_of_an_impossible_destruction_is_executed_after_six_months(store: Arc<dyn Store>) {
    use ward_core::blocking::{BlockReason, BLOCK_REVIEW_AFTER};
    let clock = FakeClock::new(T0);
    let v = open(store, &clock).await;
    let cli = Caller::cli();
    let (partly, wholly, claimed) = (reader(&v, 1).await, reader(&v, 2).await, reader(&v, 3).await);
    let contact = ["contact".to_owned()];
    let impossible = BlockReason::DestructionImpossible;
    let b1 = v.blocks().place(&cli, partly, &contact, impossible).await.unwrap();
    let b2 = v.blocks().place(&cli, wholly, &[], impossible).await.unwrap();
    let b3 = v
        .blocks()
        .place(&cli, claimed, &[], BlockReason::InaccuracyClaimed)
        .await
        .unwrap();

    clock.advance(BLOCK_REVIEW_AFTER - Duration::seconds(1));
    let report = v.due().run(&job()).await.unwrap();
    assert_eq!((report.blocks_destroyed, report.stale_blocks), (0, 0), "{report}");
    for id in [partly, wholly, claimed] {
        assert!(acts_of(&v, id).await.is_empty());
    }

    clock.advance(Duration::seconds(1));
    let report = v.due().run(&job()).await.unwrap();
    assert_eq!((report.blocks_destroyed, report.stale_blocks), (2, 1), "{report}");
    assert_eq!((report.destroyed, report.conflicts), (0, 0), "{report}");
    let acts = acts_of(&v, partly).await;
    assert_eq!(acts.len(), 1);
    assert_eq!(acts[0].cause, format!("block:{}", b1.id));
    assert_eq!(acts[0].reason, "destruction_deadline");
    assert_eq!(
        (acts[0].categories.as_slice(), acts[0].fields.as_slice()),
        (&contact[..], &["email".to_owned()][..])
    );
    assert_eq!(acts[0].method, "field_deletion");
    assert_eq!(acts[0].destroyed_by, JOB_DESTROYER);
    let rest = v.subjects().read(&cli, partly, "marketing", None).await.unwrap();
    assert!(!rest.fields.contains_key("email") && rest.fields.contains_key("full_name"));
    let lifted = v.blocks().list(&cli, partly).await.unwrap();
    assert_eq!(lifted[0].lifted_at, Some(ward_core::Clock::now(&clock)));
    // The whole subject was blocked: it is erased, its act names the block.
    let acts = acts_of(&v, wholly).await;
    assert_eq!(acts.len(), 1);
    assert_eq!(acts[0].cause, format!("block:{}", b2.id));
    assert_eq!(acts[0].method, "crypto_shredding");
    let erased = v.store().find_subject(wholly).await.unwrap().unwrap();
    assert_eq!(erased.state, ward_core::access::SubjectState::Erased);
    assert_eq!(
        v.store().find_blocks(wholly).await.unwrap()[0].lifted_at,
        lifted[0].lifted_at
    );
    // An inaccuracy claim waits for the officer.
    assert!(acts_of(&v, claimed).await.is_empty());
    assert_eq!(v.blocks().list(&cli, claimed).await.unwrap(), [b3]);

    let revisions = (revision(&v, partly).await, revision(&v, claimed).await);
    let report = v.due().run(&job()).await.unwrap();
    assert_eq!((report.blocks_destroyed, report.already_done), (0, 0), "{report}");
    assert_eq!(report.stale_blocks, 1, "{report}");
    assert_eq!(acts_of(&v, partly).await.len() + acts_of(&v, wholly).await.len(), 2);
    assert_eq!((revision(&v, partly).await, revision(&v, claimed).await), revisions);
}

both!(
    a_withdrawal_is_executed_thirty_days_later_with_an_act,
    a_block_of_an_impossible_destruction_is_executed_after_six_months,
    what_was_destroyed_already_is_not_destroyed_again,
    a_paid_subject_keeps_accounting_until_its_retention_ends,
    acts_are_purged_after_three_years,
);

/// Two Ward processes on one PostgreSQL, each with its own store and committer, run the job
/// at the same moment: the subject's data is destroyed once, with one act.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_vaults_on_one_postgres_write_one_act() {
    let Some((first, schema)) = ward_store_postgres::testing::fresh_store().await else {
        return;
    };
    let clock = FakeClock::new(T0);
    let a = open(Arc::new(first), &clock).await;
    let b = open(Arc::new(ward_store_postgres::testing::store_on(&schema).await), &clock).await;
    let cli = Caller::cli();
    let mut ids = Vec::new();
    for n in 0..20 {
        let id = a
            .subjects()
            .create(
                &cli,
                NewSubjectInput {
                    bases: vec![],
                    age_band: None,
                    purpose: "registration".into(),
                    fields: BTreeMap::from([
                        ("email".to_owned(), format!("p{n}@example.org")),
                        ("last_ip".to_owned(), format!("203.0.113.{n}")),
                    ]),
                    consents: vec!["analytics".to_owned()],
                    evidence: Some(web()),
                },
            )
            .await
            .unwrap();
        a.consents().withdraw(&cli, id, "analytics").await.unwrap();
        ids.push(id);
    }
    clock.advance(Duration::days(31));
    let (ja, jb) = (job(), job());
    let (da, db) = (a.due(), b.due());
    let (ra, rb) = tokio::join!(da.run(&ja), db.run(&jb));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.destroyed + rb.destroyed, 20, "{ra} / {rb}");
    for id in ids {
        assert_eq!(acts_of(&a, id).await.len(), 1, "one act for {id}");
    }
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
    ward_store_postgres::testing::drop_schema(&schema).await;
}
