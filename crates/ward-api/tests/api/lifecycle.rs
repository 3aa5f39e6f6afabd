//! Policy notices and acceptance (never consent), written form, e-signatures, distribution
//! consent (152-FZ Art. 10.1) and heirs' consent after death (Art. 9 p. 7), over HTTP.

use crate::support::{both_backends, Server};
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use ward_core::policy::DEFAULT_POLICY;

/// Publishes `register` over HTTP; returns the new version's hash.
async fn publish(s: &Server, register: &str) -> String {
    let r = s
        .post("/v1/policy/versions", &s.admin, json!({"register": register}))
        .await;
    r.json_with(201)["version"]["hash"].as_str().expect("hash").to_owned()
}

fn bump(register: &str, version: &str) -> String {
    register.replace("version = \"1\"", &format!("version = \"{version}\""))
}

/// Version 2: adds `profiling`, a consent-based purpose, to the marketing document.
fn with_profiling() -> String {
    format!(
        "{}\n[purposes.profiling]\ntitle = \"Recommendations\"\nlegal_basis = \"consent\"\ncategories = [\"contact\"]\nactions = [\"retrieval\", \"use\"]\n",
        bump(DEFAULT_POLICY, "2").replace("purposes = [\"marketing\"]", "purposes = [\"marketing\", \"profiling\"]")
    )
}

/// Version 2: the marketing document must be given in writing.
fn written_marketing() -> String {
    bump(DEFAULT_POLICY, "2").replace(
        "kind = \"marketing\"\nchannel = \"email\"",
        "kind = \"marketing\"\nchannel = \"email\"\nform = \"written\"",
    )
}

/// Version 2: a `publication` purpose resting on a distribution consent.
fn with_publication() -> String {
    format!(
        "{}\n[purposes.publication]\ntitle = \"Publishing the author's profile\"\nlegal_basis = \"consent\"\ncategories = [\"identity\", \"contact\"]\nactions = [\"retrieval\", \"use\", \"distribution\"]\n\n[consent_documents.publication]\ntitle = \"Consent to make data public\"\nkind = \"distribution\"\npurposes = [\"publication\"]\nwithdrawal = \"Write to privacy@example.com; publication stops within three working days.\"\ntext = \"I permit the data listed below to be made public, on my conditions.\"\n",
        bump(DEFAULT_POLICY, "2")
    )
}

fn representative() -> Value {
    json!({
        "role": "representative",
        "name": "Ivan Sidorov",
        "identity_document": "passport 4510 123456, issued 2015-02-03 by OVD Tverskoy",
        "authority": "power of attorney 77 AB 1234567 of 2026-01-10, notary Petrova",
    })
}

fn signature(result: &str, level: &str, certificate: Option<&str>) -> (Value, String) {
    let artefact = b"0\x82\x01\x00 a CMS SignedData stand-in";
    let digest = hex::encode(Sha256::digest(artefact));
    let mut v = json!({
        "level": level,
        "format": "cms",
        "artefact": base64::engine::general_purpose::STANDARD.encode(artefact),
        "verification": {
            "verifier": "CryptoPro DSS 2.0 validation service",
            "verified_at": "2026-03-01T08:30:00Z",
            "result": result,
        },
    });
    if let Some(c) = certificate {
        v["verification"]["certificate"] = json!(c);
    }
    (v, digest)
}

both_backends!(acceptance_is_recorded_per_subject_and_is_never_consent);
async fn acceptance_is_recorded_per_subject_and_is_never_consent(s: Server) {
    let anna = s.anna().await;
    let v2 = publish(&s, &with_profiling()).await;

    // Told by email, then accepted by continuing to use the site.
    let notices = format!("/v1/subjects/{anna}/policy-notices");
    for (kind, channel) in [("notified", "email"), ("accepted", "continued_use")] {
        let r = s
            .post(
                &notices,
                &s.admin,
                json!({"kind": kind, "channel": channel, "reference": "msg-2026-03-01-0001"}),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
    }
    let list = s.get(&notices, &s.admin).await.json_with(200);
    let versions = list["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2);
    let current = versions.iter().find(|v| v["hash"] == v2).expect("v2 listed");
    assert_eq!(current["in_force"], true);
    assert_eq!(current["notified"]["channel"], "email");
    assert_eq!(current["accepted"]["channel"], "continued_use");
    assert_eq!(current["accepted"]["at"], "2026-03-01T09:00:00Z");
    let first = versions.iter().find(|v| v["hash"] != v2).expect("v1 listed");
    assert!(first["notified"].is_null() && first["accepted"].is_null());

    // Acceptance did not make the new consent-based purpose usable.
    let r = s.get(&format!("/v1/subjects/{anna}?purpose=profiling"), &s.admin).await;
    s.problem(&r, 403, "consent_missing");

    // The tally for the privacy officer.
    let tally = s
        .get(&format!("/v1/policy/versions/{}/acknowledgements", &v2[..12]), &s.admin)
        .await
        .json_with(200);
    assert_eq!(
        tally,
        json!({"hash": v2, "notified": 1, "accepted": 1, "active_subjects": 1})
    );

    // The website records notices with its own service key (issue 17); the tally sees it.
    let svc = s.service_key(&["marketing"]).await;
    let r = s
        .post(&notices, &svc, json!({"kind": "notified", "channel": "banner"}))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let tally = s
        .get(&format!("/v1/policy/versions/{}/acknowledgements", &v2[..12]), &s.admin)
        .await
        .json_with(200);
    assert_eq!(tally["notified"], 1, "the same subject, told twice: {tally}");
    // The tally is the officer's register, not the website's.
    let r = s
        .get(&format!("/v1/policy/versions/{}/acknowledgements", &v2[..12]), &svc)
        .await;
    s.problem(&r, 403, "forbidden");
    // Bad input is refused with a clear code.
    let r = s
        .post(&notices, &s.admin, json!({"kind": "accepted", "channel": ""}))
        .await;
    s.problem(&r, 422, "invalid_notice");
    let r = s
        .post(
            &notices,
            &s.admin,
            json!({"kind": "accepted", "channel": "email", "version": "0000000000"}),
        )
        .await;
    s.problem(&r, 404, "policy_version_not_found");
    let r = s
        .post(&notices, &s.admin, json!({"kind": "consented", "channel": "email"}))
        .await;
    s.problem(&r, 400, "invalid_json");
    let r = s.get("/v1/policy/versions/0000000000/acknowledgements", &s.admin).await;
    s.problem(&r, 404, "policy_version_not_found");
}

both_backends!(written_form_is_required_where_the_register_says_so);
async fn written_form_is_required_where_the_register_says_so(s: Server) {
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "registration", "fields": {"email": "olga@example.com"}}),
        )
        .await;
    let olga = r.json_with(201)["id"].as_str().expect("id").to_owned();
    publish(&s, &written_marketing()).await;
    let consents = format!("/v1/subjects/{olga}/consents");

    // A checkbox is not writing.
    let r = s
        .post(
            &consents,
            &s.admin,
            json!({"purpose": "marketing", "evidence": {"channel": "web_form", "method": "checkbox"}}),
        )
        .await;
    let p = s.problem(&r, 422, "written_consent_required");
    assert!(p["detail"].as_str().unwrap().contains("marketing_email"));
    // Registering with a checkbox consent is refused the same way.
    let r = s
        .post(
            "/v1/subjects",
            &s.admin,
            json!({"purpose": "registration", "fields": {"email": "p@example.com"}, "consents": ["marketing"], "evidence": {"channel": "web_form", "method": "checkbox"}}),
        )
        .await;
    s.problem(&r, 422, "written_consent_required");

    // A signed paper consent, given by a representative under a power of attorney.
    let r = s
        .post(
            &consents,
            &s.admin,
            json!({"purpose": "marketing", "evidence": {"channel": "paper", "method": "written", "text_ref": "scan 2026-03-01/17", "given_by": representative()}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let receipt = s
        .get(&format!("{consents}/marketing/receipt"), &s.admin)
        .await
        .json_with(200);
    assert_eq!(receipt["state"], "given");
    assert_eq!(receipt["evidence"]["method"], "written");
    assert_eq!(receipt["evidence"]["given_by"]["role"], "representative");
    assert!(receipt["evidence"]["given_by"]["authority"]
        .as_str()
        .unwrap()
        .contains("power of attorney"));
}

both_backends!(an_e_signature_is_kept_with_its_verification);
async fn an_e_signature_is_kept_with_its_verification(s: Server) {
    let anna = s.anna().await;
    publish(&s, &written_marketing()).await;
    let consents = format!("/v1/subjects/{anna}/consents");
    let give = |evidence: Value| json!({"purpose": "marketing", "evidence": evidence});

    // The document to sign, and its hash.
    let r = s.get(&format!("{consents}/marketing/written-consent"), &s.admin).await;
    assert_eq!(r.status, 200);
    let doc_hash = r
        .headers
        .get("x-ward-document-sha256")
        .and_then(|v| v.to_str().ok())
        .expect("document hash header")
        .to_owned();
    assert_eq!(doc_hash, hex::encode(Sha256::digest(r.text.as_bytes())));

    let r = s
        .post(
            &consents,
            &s.admin,
            give(json!({"channel": "gosuslugi", "method": "e_signature"})),
        )
        .await;
    s.problem(&r, 422, "signature_required");
    let (bad, _) = signature("invalid", "qualified", Some("CN=Анна Петрова, SN 01AB, CA Example"));
    let r = s
        .post(
            &consents,
            &s.admin,
            give(json!({"channel": "gosuslugi", "method": "e_signature", "signature": bad})),
        )
        .await;
    s.problem(&r, 422, "signature_not_valid");
    let (no_cert, _) = signature("valid", "qualified", None);
    let r = s
        .post(
            &consents,
            &s.admin,
            give(json!({"channel": "gosuslugi", "method": "e_signature", "signature": no_cert})),
        )
        .await;
    s.problem(&r, 422, "invalid_signature");
    let (mut not_b64, _) = signature("valid", "simple", None);
    not_b64["artefact"] = json!("%%% not base64 %%%");
    let r = s
        .post(
            &consents,
            &s.admin,
            give(json!({"channel": "sms", "method": "e_signature", "signature": not_b64})),
        )
        .await;
    s.problem(&r, 422, "invalid_signature");
    let (stray, _) = signature("valid", "simple", None);
    let r = s
        .post(
            &consents,
            &s.admin,
            give(json!({"channel": "paper", "method": "written", "signature": stray})),
        )
        .await;
    s.problem(&r, 422, "invalid_evidence");

    let (mut good, artefact_hash) = signature("valid", "qualified", Some("CN=Анна Петрова, SN 01AB, CA Example"));
    good["document_sha256"] = json!(doc_hash);
    let r = s
        .post(
            &consents,
            &s.admin,
            give(json!({"channel": "gosuslugi", "method": "e_signature", "signature": good})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let receipt = s
        .get(&format!("{consents}/marketing/receipt"), &s.admin)
        .await
        .json_with(200);
    let sig = &receipt["evidence"]["signature"];
    assert_eq!(sig["artefact_sha256"], artefact_hash);
    assert_eq!(sig["document_sha256"], doc_hash);
    assert_eq!(sig["verification"]["result"], "valid");
    assert_eq!(sig["level"], "qualified");
}

both_backends!(distribution_consent_makes_public_only_what_the_subject_permits);
async fn distribution_consent_makes_public_only_what_the_subject_permits(s: Server) {
    let anna = s.anna().await;
    publish(&s, &with_publication()).await;
    let consents = format!("/v1/subjects/{anna}/consents");
    let give = |distribution: Option<Value>| {
        let mut evidence = json!({"channel": "web_form", "method": "checkbox"});
        if let Some(d) = distribution {
            evidence["distribution"] = d;
        }
        json!({"purpose": "publication", "evidence": evidence})
    };

    // Silence is not permission.
    let r = s.post(&consents, &s.admin, give(None)).await;
    s.problem(&r, 422, "distribution_terms_required");
    let r = s.post(&consents, &s.admin, give(Some(json!({"categories": {}})))).await;
    s.problem(&r, 422, "distribution_terms_required");
    let r = s
        .post(&consents, &s.admin, give(Some(json!({"categories": {"payment": {}}}))))
        .await;
    s.problem(&r, 422, "invalid_distribution_terms");
    // Distribution terms belong to a distribution consent only.
    let r = s
        .post(
            &consents,
            &s.admin,
            json!({"purpose": "marketing", "evidence": {"channel": "web_form", "distribution": {"categories": {"identity": {}}}}}),
        )
        .await;
    s.problem(&r, 422, "invalid_evidence");
    // A separate document: not bundled into registration with other consents.
    let mut body = crate::support::anna_body();
    body["fields"]["email"] = json!("other@example.com");
    body["consents"] = json!(["marketing", "publication"]);
    let r = s.post("/v1/subjects", &s.admin, body).await;
    s.problem(&r, 422, "separate_consent_required");

    // Anna permits her name (not her contacts), and forbids onward transfer.
    let terms = json!({"categories": {"identity": {"no_transfer": true, "conditions": "only on the author's page"}}});
    let r = s.post(&consents, &s.admin, give(Some(terms))).await;
    assert_eq!(r.status, 204, "{}", r.text);

    let svc = s.service_key(&["publication"]).await;
    let read = s
        .get(&format!("/v1/subjects/{anna}?purpose=publication"), &svc)
        .await
        .json_with(200);
    let fields: Vec<&str> = read["fields"]
        .as_object()
        .expect("fields")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, ["full_name"]);
    let r = s
        .get(&format!("/v1/subjects/{anna}?purpose=publication&fields=email"), &svc)
        .await;
    s.problem(&r, 403, "consent_scope_exceeded");

    let receipt = s
        .get(&format!("{consents}/publication/receipt"), &s.admin)
        .await
        .json_with(200);
    assert_eq!(receipt["document"]["kind"], "distribution");
    assert_eq!(
        receipt["evidence"]["distribution"],
        json!({"categories": {"identity": {"no_transfer": true, "no_processing": false, "conditions": "only on the author's page"}}})
    );

    // Withdrawal stops publication at once.
    let r = s.delete(&format!("{consents}/publication"), &s.admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.get(&format!("/v1/subjects/{anna}?purpose=publication"), &svc).await;
    s.problem(&r, 403, "consent_missing");
}

both_backends!(after_death_only_heirs_consent);
async fn after_death_only_heirs_consent(s: Server) {
    let anna = s.anna().await;
    let death = format!("/v1/subjects/{anna}/death");
    let consents = format!("/v1/subjects/{anna}/consents");

    let r = s.get(&death, &s.admin).await;
    s.problem(&r, 404, "death_not_recorded");
    for bad in [
        json!({"date_of_death": "2099-01-01", "document": "certificate I-МЮ 123456"}),
        json!({"date_of_death": "01.02.2026", "document": "certificate I-МЮ 123456"}),
        json!({"date_of_death": "2026-02-01", "document": " "}),
    ] {
        let r = s.post(&death, &s.admin, bad).await;
        s.problem(&r, 422, "invalid_death_record");
    }
    let svc = s.service_key(&["marketing"]).await;
    let r = s
        .post(
            &death,
            &svc,
            json!({"date_of_death": "2026-02-01", "document": "certificate I-МЮ 123456"}),
        )
        .await;
    s.problem(&r, 403, "forbidden");

    let r = s
        .post(
            &death,
            &s.admin,
            json!({"date_of_death": "2026-02-01", "document": "certificate I-МЮ 123456 of 2026-02-03, ZAGS Moscow"}),
        )
        .await;
    let recorded = r.json_with(201);
    assert_eq!(recorded["date_of_death"], "2026-02-01");
    let r = s
        .post(
            &death,
            &s.admin,
            json!({"date_of_death": "2026-02-01", "document": "certificate I-МЮ 123456"}),
        )
        .await;
    s.problem(&r, 409, "conflict");
    assert_eq!(s.get(&death, &s.admin).await.json_with(200), recorded);
    let r = s.get(&death, &svc).await;
    s.problem(&r, 403, "forbidden");

    // Consent given in life stands.
    let r = s.get(&format!("/v1/subjects/{anna}?purpose=marketing"), &svc).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A new one comes from an heir.
    let r = s
        .post(
            &consents,
            &s.admin,
            json!({"purpose": "analytics", "evidence": {"channel": "paper", "method": "written"}}),
        )
        .await;
    s.problem(&r, 422, "heir_consent_required");
    let heir = json!({
        "role": "heir",
        "name": "Pyotr Petrov",
        "identity_document": "passport 4511 654321",
        "authority": "certificate of inheritance 77 AA 7654321 of 2026-08-05",
    });
    let r = s
        .post(
            &consents,
            &s.admin,
            json!({"purpose": "analytics", "evidence": {"channel": "paper", "method": "written", "given_by": heir}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    // Erasure destroys the death record's evidence too.
    let r = s
        .delete(&format!("/v1/subjects/{anna}?reason=subject_request"), &s.admin)
        .await;
    assert!(r.status == 200 || r.status == 204, "{}", r.text);
    let r = s.get(&death, &s.admin).await;
    s.problem(&r, 410, "subject_erased");
}
