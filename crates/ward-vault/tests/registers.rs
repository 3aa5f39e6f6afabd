//! The registers' bounded pages: a page examines at most `register_subjects_per_page`
//! subjects and reads at most `register_journal_positions_per_page` journal positions, so a
//! filter few match answers short pages with cursors, and following them still finds every
//! match exactly once. Runs on SQLite and on PostgreSQL.

use std::collections::BTreeMap;
use std::sync::Arc;
use time::macros::datetime;
use ward_core::consent::Evidence;
use ward_core::policy::DEFAULT_POLICY;
use ward_core::{Caller, FakeClock, Policy, SubjectId};
use ward_store::Store;
use ward_store_sqlite::SqliteStore;
use ward_vault::{JournalQuery, KeyMaterial, NewSubjectInput, SubjectQuery, Vault, VaultConfig};

async fn open(store: Arc<dyn Store>) -> Vault {
    Vault::open(
        store,
        KeyMaterial::generate(24),
        Policy::parse(DEFAULT_POLICY).unwrap(),
        DEFAULT_POLICY,
        Arc::new(FakeClock::new(datetime!(2026-11-21 10:00 UTC))),
        VaultConfig {
            register_subjects_per_page: 3,
            register_journal_positions_per_page: 5,
            ..VaultConfig::default()
        },
    )
    .await
    .unwrap()
}

fn subject(n: usize, consents: &[&str]) -> NewSubjectInput {
    NewSubjectInput {
        age_band: None,
        bases: vec![],
        purpose: "registration".into(),
        fields: BTreeMap::from([("email".to_owned(), format!("p{n}@example.org"))]),
        consents: consents.iter().map(|c| (*c).to_owned()).collect(),
        evidence: Some(Evidence {
            channel: "web_form".into(),
            ..Evidence::default()
        }),
    }
}

async fn bounded_pages_find_every_match_once(store: Arc<dyn Store>) {
    let v = open(store).await;
    let cli = Caller::cli();
    let mut marketing = Vec::new();
    for n in 0..10 {
        let consents: &[&str] = if n % 4 == 0 { &["marketing"] } else { &[] };
        let id = v.subjects().create(&cli, subject(n, consents)).await.unwrap();
        if n % 4 == 0 {
            marketing.push(id);
        }
    }

    let (mut found, mut pages, mut cursor): (Vec<SubjectId>, usize, Option<String>) = (Vec::new(), 0, None);
    loop {
        let q = SubjectQuery {
            consent_to: Some("marketing".into()),
            cursor: cursor.clone(),
            limit: Some(100),
            ..SubjectQuery::default()
        };
        let page = v.registers().subjects(&cli, &q).await.unwrap();
        assert!(page.items.len() <= 3, "a page examined more than its budget");
        found.extend(page.items.iter().map(|s| s.id));
        pages += 1;
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert!(pages >= 4, "10 subjects at 3 a page take 4 pages, not {pages}");
    marketing.sort();
    assert_eq!(found, marketing);

    // The journal: 3 retrievals of one subject among many entries.
    let target = marketing[1];
    for _ in 0..3 {
        v.subjects().read(&cli, target, "registration", None).await.unwrap();
    }
    let (mut seqs, mut pages, mut cursor) = (Vec::new(), 0, None);
    loop {
        let q = JournalQuery {
            subject: Some(target),
            action: Some("retrieval".into()),
            cursor: cursor.clone(),
            ..JournalQuery::default()
        };
        let page = v.registers().journal(&cli, &q).await.unwrap();
        seqs.extend(page.items.iter().map(|e| e.seq));
        pages += 1;
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 1000, "the journal pages never end");
    }
    assert_eq!(seqs.len(), 3, "{seqs:?}");
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert!(pages > 3, "a page read more than 5 positions: {pages} pages");
    v.shutdown().await.unwrap();
}

#[tokio::test]
async fn sqlite_bounded_pages_find_every_match_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("ward.db")).await.unwrap();
    bounded_pages_find_every_match_once(Arc::new(store)).await;
}

#[tokio::test]
async fn postgres_bounded_pages_find_every_match_once() {
    let Some(store) = ward_store_postgres::testing::fresh().await else {
        return;
    };
    bounded_pages_find_every_match_once(store).await;
}
