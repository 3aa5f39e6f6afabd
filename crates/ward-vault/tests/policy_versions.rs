//! Policy versions: published, immutable, in force by the clock; consent bound to its scope.

use std::collections::BTreeMap;
use std::sync::Arc;
use time::macros::datetime;
use time::Duration;
use ward_core::consent::Evidence;
use ward_core::policy::DEFAULT_POLICY;
use ward_core::{Caller, FakeClock, Policy};
use ward_store_sqlite::SqliteStore;
use ward_vault::{KeyMaterial, NewSubjectInput, PolicySource, Vault, VaultConfig};

async fn vault(dir: &tempfile::TempDir) -> (Vault, FakeClock) {
    let store = Arc::new(SqliteStore::open(&dir.path().join("ward.db")).await.unwrap());
    let clock = FakeClock::new(datetime!(2026-11-21 10:00 UTC));
    let policy = Policy::parse(DEFAULT_POLICY).unwrap();
    let v = Vault::open(
        store,
        KeyMaterial::generate(24),
        policy,
        DEFAULT_POLICY,
        Arc::new(clock.clone()),
        VaultConfig::default(),
    )
    .await
    .unwrap();
    (v, clock)
}

fn web() -> Option<Evidence> {
    Some(Evidence {
        channel: "web_form".into(),
        ..Evidence::default()
    })
}

async fn subject(v: &Vault, consents: &[&str]) -> ward_core::SubjectId {
    let mut fields = BTreeMap::from([
        ("email".to_owned(), "anna@example.org".to_owned()),
        ("full_name".to_owned(), "Anna".to_owned()),
    ]);
    if consents.contains(&"analytics") {
        fields.insert("last_ip".to_owned(), "203.0.113.9".to_owned());
    }
    let input = NewSubjectInput {
        bases: Vec::new(),
        age_band: None,
        purpose: "registration".into(),
        fields,
        consents: consents.iter().map(|s| (*s).to_owned()).collect(),
        evidence: web(),
    };
    v.subjects().create(&Caller::cli(), input).await.unwrap()
}

fn with_profiling(src: &str) -> String {
    format!(
        "{}\n[purposes.profiling]\ntitle = \"Recommendations\"\nlegal_basis = \"consent\"\ncategories = [\"contact\"]\nactions = [\"retrieval\", \"use\"]\n",
        src.replace("version = \"1\"", "version = \"2\"").replace("purposes = [\"marketing\"]", "purposes = [\"marketing\", \"profiling\"]")
    )
}

#[tokio::test]
async fn a_new_consent_purpose_is_refused_until_the_subject_consents() {
    let dir = tempfile::tempdir().unwrap();
    let (v, _) = vault(&dir).await;
    let cli = Caller::cli();
    let id = subject(&v, &["marketing"]).await;

    let published = v
        .policies()
        .publish(&cli, PolicySource::from(with_profiling(DEFAULT_POLICY).as_str()), None)
        .await
        .unwrap();
    assert!(published.new);
    assert_eq!(published.changes[0].code, "purpose_added");
    assert_eq!(v.policies().current().version, "2");

    let refused = v.subjects().read(&cli, id, "profiling", None).await.unwrap_err();
    assert_eq!(refused.code(), "consent_missing");
    // Consent given before the change still works for marketing.
    assert!(v.subjects().read(&cli, id, "marketing", None).await.is_ok());

    v.consents()
        .give(
            &cli,
            id,
            "profiling",
            Evidence {
                channel: "web_form".into(),
                ..Evidence::default()
            },
        )
        .await
        .unwrap();
    let view = v.subjects().read(&cli, id, "profiling", None).await.unwrap();
    assert_eq!(view.fields.keys().collect::<Vec<_>>(), ["email"]);
}

#[tokio::test]
async fn rewording_keeps_consents_and_widening_needs_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let (v, _) = vault(&dir).await;
    let cli = Caller::cli();
    let id = subject(&v, &["marketing", "analytics"]).await;

    let reworded = DEFAULT_POLICY.replace("Sending news and offers", "Sending our newsletter");
    let p = v
        .policies()
        .publish(
            &cli,
            PolicySource {
                register: reworded.clone(),
                text: Some("# Policy\n".into()),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(p.changes.iter().map(|c| c.code).collect::<Vec<_>>(), ["text_only"]);
    assert_eq!(
        v.subjects()
            .read(&cli, id, "analytics", None)
            .await
            .unwrap()
            .fields
            .keys()
            .collect::<Vec<_>>(),
        ["last_ip"]
    );

    // Analytics widened to contact data: the old consent covers technical data only.
    let widened = reworded.replace(
        "categories = [\"technical\"]\nactions",
        "categories = [\"technical\", \"contact\"]\nactions",
    );
    let p = v
        .policies()
        .publish(&cli, PolicySource::from(widened.as_str()), None)
        .await
        .unwrap();
    assert_eq!(p.changes[0].code, "categories_widened");
    let view = v.subjects().read(&cli, id, "analytics", None).await.unwrap();
    assert_eq!(
        view.fields.keys().collect::<Vec<_>>(),
        ["last_ip"],
        "the new scope is not used"
    );
    let email = ["email".to_owned()];
    assert_eq!(
        v.subjects()
            .read(&cli, id, "analytics", Some(&email))
            .await
            .unwrap_err()
            .code(),
        "consent_scope_exceeded"
    );

    // Consenting again under the new version covers the new scope.
    v.consents()
        .give(
            &cli,
            id,
            "analytics",
            Evidence {
                channel: "web_form".into(),
                ..Evidence::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        v.subjects()
            .read(&cli, id, "analytics", Some(&email))
            .await
            .unwrap()
            .fields["email"],
        "anna@example.org"
    );
}

#[tokio::test]
async fn a_version_takes_effect_when_its_time_comes_and_is_immutable() {
    let dir = tempfile::tempdir().unwrap();
    let (v, clock) = vault(&dir).await;
    let cli = Caller::cli();
    let first = v.policies().current_hash();
    let next = DEFAULT_POLICY.replace("version = \"1\"", "version = \"2\"");
    let at = datetime!(2026-12-01 00:00 UTC);
    let p = v
        .policies()
        .publish(&cli, PolicySource::from(next.as_str()), Some(at))
        .await
        .unwrap();
    assert_eq!(v.policies().current().version, "1", "not yet in force");
    clock.advance(Duration::days(10));
    assert_eq!(v.policies().current().version, "2");
    assert_eq!(v.policies().current_hash(), p.version.hash);

    // Publishing the same content again changes nothing; versions survive a restart.
    assert!(
        !v.policies()
            .publish(&cli, PolicySource::from(next.as_str()), None)
            .await
            .unwrap()
            .new
    );
    assert_eq!(v.policies().versions().len(), 2);
    assert_eq!(
        v.policies().diff(&first[..8], &p.version.hash).unwrap()[0].code,
        "text_only"
    );
    assert_eq!(
        v.policies().find("00000000").unwrap_err().code(),
        "policy_version_not_found"
    );
    v.shutdown().await.unwrap();

    let (again, _) = vault(&dir).await;
    assert_eq!(again.policies().versions().len(), 2);

    // A broken register is refused with its problems.
    let err = again
        .policies()
        .publish(
            &cli,
            PolicySource::from("[policy]\nid = \"x\"\nversion = \"1\"\n"),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_policy");
}

#[tokio::test]
async fn withdrawal_sets_a_destruction_deadline_and_terms_expire_by_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let (v, clock) = vault(&dir).await;
    let cli = Caller::cli();
    let id = subject(&v, &["marketing", "analytics"]).await;

    // Analytics consent (the `analytics_cookies` document) has a term of one year.
    let overview = v.consents().overview(&Caller::cli(), id).await.unwrap();
    let analytics = overview.iter().find(|c| c.purpose == "analytics").unwrap();
    assert_eq!(analytics.expires_at, Some(datetime!(2027-11-21 10:00 UTC)));
    clock.advance(Duration::days(366));
    assert_eq!(
        v.subjects().read(&cli, id, "analytics", None).await.unwrap_err().code(),
        "consent_missing"
    );
    let overview = v.consents().overview(&Caller::cli(), id).await.unwrap();
    let analytics = overview.iter().find(|c| c.purpose == "analytics").unwrap();
    assert_eq!(analytics.state, ward_vault::ConsentState::Expired);
    let due = analytics.destruction.clone().unwrap();
    assert_eq!(
        (due.by, due.categories),
        (datetime!(2027-12-21 10:00 UTC), vec!["technical".to_owned()])
    );

    // Withdrawing marketing: registration, the contract her registration established, goes on
    // with the same data; payment and accounting were never established for her.
    let w = v.consents().withdraw(&cli, id, "marketing").await.unwrap();
    let continuing: Vec<_> = w.continuing.iter().map(|(p, b)| (p.as_str(), b.as_str())).collect();
    assert_eq!(continuing, [("registration", "contract")]);
    assert_eq!(w.destruction, None);
    assert_eq!(
        v.subjects().read(&cli, id, "marketing", None).await.unwrap_err().code(),
        "consent_missing"
    );
    assert!(v.subjects().read(&cli, id, "registration", None).await.is_ok());
}
