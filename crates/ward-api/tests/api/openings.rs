//! Every opening of sealed data is journaled (through the vault's one gate): reading how a
//! subject was told of policy versions, a recorded death, a consent receipt's evidence.

use crate::support::{both_backends, Server};
use serde_json::json;

/// The raw journal rows whose text holds `needle`.
async fn rows_with(s: &Server, needle: &str) -> usize {
    s.journal_rows_raw().await.iter().filter(|r| r.contains(needle)).count()
}

both_backends!(openings_of_sealed_evidence_are_journaled);
async fn openings_of_sealed_evidence_are_journaled(s: Server) {
    let id = s.anna().await;
    let r = s
        .post(
            &format!("/v1/subjects/{id}/policy-notices"),
            &s.admin,
            json!({"kind": "notified", "channel": "newsletter of March"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    // The notice's own entry names the channel's class, not the client's words.
    assert_eq!(rows_with(&s, "newsletter of March").await, 0);
    assert_eq!(rows_with(&s, "channel:other").await, 1);

    assert_eq!(rows_with(&s, "opened:policy_standing").await, 0);
    let r = s.get(&format!("/v1/subjects/{id}/policy-notices"), &s.admin).await;
    let body = r.json_with(200);
    assert_eq!(
        body["versions"][0]["notified"]["channel"], "newsletter of March",
        "{body}"
    );
    assert_eq!(
        rows_with(&s, "opened:policy_standing subject_event:policy_notified").await,
        1
    );

    let r = s
        .post(
            &format!("/v1/subjects/{id}/death"),
            &s.admin,
            json!({"date_of_death": "2026-02-01", "document": "Certificate 123"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(rows_with(&s, "opened:death_record").await, 0, "recording opens nothing");
    let r = s.get(&format!("/v1/subjects/{id}/death"), &s.admin).await;
    assert_eq!(r.json_with(200)["document"], "Certificate 123");
    assert_eq!(rows_with(&s, "opened:death_record subject_event:deceased").await, 1);

    let r = s
        .get(&format!("/v1/subjects/{id}/consents/marketing/receipt"), &s.admin)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        rows_with(&s, "consent receipt opened:consent_receipt consent_evidence:marketing").await,
        1
    );
}

both_backends!(a_refused_lookup_journals_the_candidate_it_opened);
async fn a_refused_lookup_journals_the_candidate_it_opened(s: Server) {
    let mut body = crate::support::anna_body();
    body["consents"] = json!([]);
    let r = s.post("/v1/subjects", &s.admin, body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let lookup = json!({"field": "email", "purpose": "marketing", "value": "anna.petrova@example.ru"});
    let r = s.post("/v1/subjects/lookup", &s.admin, lookup).await;
    // Answered as no match (the answer reveals nothing, `lookups.rs`)...
    assert_eq!(r.json_with(200), json!({"subjects": []}));
    // ...but the candidate's e-mail was decrypted to compare it: that opening is on record.
    assert_eq!(rows_with(&s, "opened:lookup_compare").await, 1);
}
