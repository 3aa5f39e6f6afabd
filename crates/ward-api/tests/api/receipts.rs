use crate::support::{both_backends, Server};

both_backends!(a_receipt_shows_the_consent_record_and_its_history);
async fn a_receipt_shows_the_consent_record_and_its_history(s: Server) {
    let id = s.anna().await;
    let path = format!("/v1/subjects/{id}/consents/marketing/receipt");
    let r = s.get(&path, &s.admin).await.json_with(200);
    assert_eq!(r["state"], "given");
    assert_eq!(r["document"]["name"], "marketing_email");
    assert_eq!(r["document"]["kind"], "marketing");
    assert_eq!(r["document"]["channel"], "email");
    assert_eq!(r["data_categories"], serde_json::json!(["contact", "identity"]));
    assert_eq!(r["policy_hash"], s.vault.policies().current_hash());
    assert_eq!(r["evidence"]["channel"], "web_form");
    assert_eq!(
        r["evidence"]["ip"], "203.0.113.7",
        "the subject's own evidence, decrypted for the receipt"
    );
    assert_eq!(r["events"].as_array().unwrap().len(), 1);

    s.delete(&format!("/v1/subjects/{id}/consents/marketing"), &s.admin)
        .await
        .json_with(200);
    let r = s.get(&path, &s.admin).await.json_with(200);
    assert_eq!(r["state"], "withdrawn");
    let kinds: Vec<_> = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["given", "withdrawn"]);

    // The page for people, escaped.
    let resp = s.get_accepting(&path, &s.admin, "text/html").await;
    assert_eq!(resp.status, 200);
    assert!(resp.header("content-type").unwrap().starts_with("text/html"));
    assert!(
        resp.text.contains("<h1>Consent receipt</h1>") && resp.text.contains("withdrawn"),
        "{}",
        resp.text
    );

    // No consent ever given to analytics.
    let r = s
        .get(&format!("/v1/subjects/{id}/consents/analytics/receipt"), &s.admin)
        .await;
    s.problem(&r, 404, "consent_not_found");
}

both_backends!(the_written_consent_is_prefilled_with_the_nine_items);
async fn the_written_consent_is_prefilled_with_the_nine_items(s: Server) {
    let id = s.anna().await;
    let r = s
        .get(
            &format!("/v1/subjects/{id}/consents/marketing/written-consent"),
            &s.admin,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("content-type").unwrap().starts_with("text/markdown"));
    let doc = &r.text;
    assert!(
        doc.contains("Анна Петрова") && doc.contains("Moscow, Tverskaya 1"),
        "{doc}"
    );
    for item in 1..=9 {
        assert!(doc.contains(&format!("\n{item}. **")), "item {item} missing:\n{doc}");
    }
    assert!(doc.contains("Example Operator LLC"), "{doc}");
    assert!(
        doc.contains("Use the unsubscribe link"),
        "the document's withdrawal method: {doc}"
    );
}

both_backends!(a_consent_document_has_one_record_with_each_purpose);
async fn a_consent_document_has_one_record_with_each_purpose(s: Server) {
    let id = s.anna().await;
    let path = format!("/v1/subjects/{id}/consent-documents/marketing_email");
    let r = s.get(&path, &s.admin).await.json_with(200);
    assert_eq!(r["subject"], id.to_string());
    assert_eq!(r["document"]["name"], "marketing_email");
    assert_eq!(r["document"]["channel"], "email");
    assert_eq!(r["covers"], serde_json::json!(["marketing"]));
    let purposes = r["purposes"].as_array().unwrap();
    assert_eq!(purposes.len(), 1);
    assert_eq!(purposes[0]["purpose"], "marketing");
    assert_eq!(purposes[0]["state"], "given");
    assert_eq!(purposes[0]["evidence"]["channel"], "web_form");

    // Withdrawal is an event in the same record.
    s.delete(&format!("/v1/subjects/{id}/consents/marketing"), &s.admin)
        .await
        .json_with(200);
    let r = s.get(&path, &s.admin).await.json_with(200);
    assert_eq!(r["purposes"][0]["state"], "withdrawn");
    assert_eq!(r["purposes"][0]["events"].as_array().unwrap().len(), 2);

    // Never consented; not a document of the policy; a key without the document's purpose.
    let r = s
        .get(
            &format!("/v1/subjects/{id}/consent-documents/analytics_cookies"),
            &s.admin,
        )
        .await;
    s.problem(&r, 404, "consent_not_found");
    let r = s
        .get(
            &format!("/v1/subjects/{id}/consent-documents/no_such_document"),
            &s.admin,
        )
        .await;
    s.problem(&r, 404, "unknown_consent_document");
    let analytics_only = s.service_key(&["analytics"]).await;
    let r = s.get(&path, &analytics_only).await;
    s.problem(&r, 403, "purpose_not_allowed_for_key");
}
