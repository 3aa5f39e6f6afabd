//! The officer's registers over HTTP: subjects listed by state, consent standing, destruction
//! due and policy acceptance, with ids and standing facts only; journal entries by subject,
//! actor, action, purpose and time; pages that neither repeat nor skip while others write;
//! refused to a website's key; and every listing journaled.

use crate::support::{anna_body, both_backends, Server};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use time::macros::datetime;
use ward_core::policy::DEFAULT_POLICY;

async fn officer(s: &Server) -> (String, String) {
    let v = s
        .post("/v1/keys", &s.admin, json!({"name": "dpo", "role": "officer"}))
        .await
        .json_with(201);
    (
        v["token"].as_str().unwrap().to_owned(),
        v["id"].as_str().unwrap().to_owned(),
    )
}

/// Every item of every page of `path` (which has a query), following the cursors.
async fn all(s: &Server, token: &str, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let page = s.get(&url, token).await.json_with(200);
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

async fn ids(s: &Server, token: &str, query: &str) -> BTreeSet<String> {
    all(s, token, &format!("/v1/subjects?{query}"))
        .await
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).clone()).collect()
}

async fn subject(s: &Server, body: Value) -> String {
    s.post("/v1/subjects", &s.admin, body).await.json_with(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn person(n: usize, consents: &[&str]) -> Value {
    let mut b = anna_body();
    b["fields"]["email"] = json!(format!("person{n}@example.com"));
    b["fields"]["phone"] = json!(format!("+7916{n:07}"));
    b["consents"] = json!(consents);
    b
}

both_backends!(the_register_lists_subjects_by_standing_without_personal_data);
async fn the_register_lists_subjects_by_standing_without_personal_data(s: Server) {
    let (dpo, dpo_id) = officer(&s).await;
    let anna = s.anna().await;
    let bob = subject(&s, person(1, &[])).await;
    let dead = subject(&s, person(2, &["marketing"])).await;
    let gone = subject(&s, person(3, &["marketing"])).await;
    // A newsletter-only reader, who unsubscribes: nothing else holds their data.
    let reader = subject(
        &s,
        json!({
            "purpose": "marketing",
            "fields": {"email": "reader@example.com", "full_name": "Nina Reader"},
            "consents": ["marketing"],
            "evidence": {"channel": "newsletter_form"},
        }),
    )
    .await;
    s.clock.set(datetime!(2026-04-01 10:00 UTC));
    let r = s
        .delete(&format!("/v1/subjects/{reader}/consents/marketing"), &s.admin)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .post(
            &format!("/v1/subjects/{dead}/death"),
            &s.admin,
            json!({"date_of_death": "2026-03-20", "document": "Certificate 77"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = s
        .delete(&format!("/v1/subjects/{gone}?reason=subject_request"), &s.admin)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    let everyone = all(&s, &dpo, "/v1/subjects?limit=2").await;
    assert_eq!(everyone.len(), 5);
    let a = everyone.iter().find(|i| i["id"] == anna).unwrap();
    assert_eq!(
        *a,
        json!({
            "id": anna,
            "state": "active",
            "created_at": "2026-03-01T09:00:00Z",
            "consents_given": ["marketing"],
            "must_consent_again": [],
            "bases_established": ["registration"],
            "destruction_due": null,
            "accepted_policy_in_force": false,
        }),
        "ids and standing facts only"
    );
    let text = serde_json::to_string(&everyone).unwrap();
    for personal in ["example", "Петрова", "Tverskaya", "Nina"] {
        assert!(!text.contains(personal), "{personal} listed: {text}");
    }
    let n = everyone.iter().find(|i| i["id"] == reader).unwrap();
    assert_eq!(
        n["destruction_due"],
        json!({"by": "2026-05-01T10:00:00Z", "categories": ["contact", "identity"]})
    );
    let g = everyone.iter().find(|i| i["id"] == gone).unwrap();
    assert_eq!((&g["state"], &g["consents_given"]), (&json!("erased"), &json!([])));

    // Version 2 widens marketing to technical data: those who consented to version 1 must
    // consent again; Anna accepts version 2.
    let at = DEFAULT_POLICY.find("[purposes.marketing]").unwrap();
    let (head, tail) = DEFAULT_POLICY.split_at(at);
    let register = format!(
        "{}{}",
        head.replace("version = \"1\"", "version = \"2\""),
        tail.replacen(
            "categories = [\"identity\", \"contact\"]",
            "categories = [\"identity\", \"contact\", \"technical\"]",
            1
        )
    );
    let r = s
        .post("/v1/policy/versions", &s.admin, json!({"register": register}))
        .await;
    let v2 = r.json_with(201)["version"]["hash"].as_str().unwrap().to_owned();
    let r = s
        .post(
            &format!("/v1/subjects/{anna}/policy-notices"),
            &s.admin,
            json!({"kind": "accepted", "channel": "continued_use"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    assert_eq!(ids(&s, &dpo, "state=active").await, set(&[&anna, &bob, &reader]));
    assert_eq!(ids(&s, &dpo, "state=deceased").await, set(&[&dead]));
    assert_eq!(ids(&s, &dpo, "state=erased").await, set(&[&gone]));
    assert_eq!(ids(&s, &dpo, "consent_to=marketing").await, set(&[&anna, &dead]));
    assert_eq!(
        ids(&s, &dpo, "no_consent_to=marketing&state=active").await,
        set(&[&bob, &reader])
    );
    assert_eq!(ids(&s, &dpo, "must_consent_again=true").await, set(&[&anna, &dead]));
    let a = all(&s, &dpo, "/v1/subjects?consent_to=marketing&state=active").await;
    assert_eq!(
        (&a[0]["must_consent_again"], &a[0]["accepted_policy_in_force"]),
        (&json!(["marketing"]), &json!(true))
    );
    assert_eq!(
        ids(&s, &dpo, "destruction_due_before=2026-05-02").await,
        set(&[&reader])
    );
    assert!(ids(&s, &dpo, "destruction_due_before=2026-05-01").await.is_empty());
    assert_eq!(
        ids(&s, &dpo, &format!("accepted_version={}", &v2[..12])).await,
        set(&[&anna])
    );
    assert_eq!(
        ids(&s, &dpo, "not_accepted_in_force=true&state=active").await,
        set(&[&bob, &reader])
    );

    // The listing is journaled, with its filters as enums and policy names.
    let listed = all(
        &s,
        &dpo,
        &format!("/v1/journal/entries?action=subjects.listed&actor=key:{dpo_id}"),
    )
    .await;
    assert!(listed.len() >= 11, "{listed:?}");
    let last = listed.last().unwrap();
    assert_eq!(last["detail"], "state:active not_accepted_in_force count:2");
    let with_purpose = listed
        .iter()
        .find(|e| e["detail"].as_str().unwrap().starts_with("consent_to:marketing"))
        .unwrap();
    assert_eq!(with_purpose["purpose"], "marketing");
}

both_backends!(the_journal_answers_who_accessed_a_subject_and_what_a_key_did);
async fn the_journal_answers_who_accessed_a_subject_and_what_a_key_did(s: Server) {
    let (dpo, dpo_id) = officer(&s).await;
    let website = s.service_key(&["registration"]).await;
    let anna = s.anna().await;
    let bob = subject(&s, person(1, &[])).await;
    s.clock.set(datetime!(2026-03-02 12:00 UTC));
    for id in [&anna, &bob, &anna] {
        let r = s
            .get(&format!("/v1/subjects/{id}?purpose=registration"), &website)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let key_id = s.get("/v1/keys", &s.admin).await.json_with(200)["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "service")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Who accessed Anna's data, and when.
    let about_anna = all(
        &s,
        &dpo,
        &format!("/v1/journal/entries?subject={anna}&action=retrieval"),
    )
    .await;
    assert_eq!(about_anna.len(), 2);
    for e in &about_anna {
        assert_eq!(e["actor"], format!("key:{key_id}"));
        assert_eq!(e["purpose"], "registration");
        assert_eq!(e["at"], "2026-03-02T12:00:00Z");
        assert_eq!(e["subject"], anna);
    }
    // What the website's key did.
    let by_key = all(&s, &dpo, &format!("/v1/journal/entries?actor=key:{key_id}")).await;
    let subjects: Vec<&str> = by_key.iter().map(|e| e["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, [anna.as_str(), bob.as_str(), anna.as_str()]);
    // By time: nothing before the reads on the 2nd but the registrations.
    let before = all(&s, &dpo, "/v1/journal/entries?to=2026-03-02&purpose=registration").await;
    assert!(before.iter().all(|e| e["at"] == "2026-03-01T09:00:00Z"), "{before:?}");
    assert!(!before.is_empty());
    let since = all(
        &s,
        &dpo,
        "/v1/journal/entries?from=2026-03-02T12:00:00Z&action=retrieval",
    )
    .await;
    assert_eq!(since.len(), 3);

    // Each of those reads is in the journal itself, naming the subject and the filters.
    let reads = all(
        &s,
        &dpo,
        &format!("/v1/journal/entries?action=journal.read&actor=key:{dpo_id}"),
    )
    .await;
    assert_eq!(reads.len(), 4, "{reads:?}");
    assert_eq!(reads[0]["subject"], anna);
    assert_eq!(reads[0]["detail"], "action:retrieval count:2");
    assert_eq!(reads[1]["detail"], format!("actor:key:{key_id} count:3"));
    assert_eq!(reads[2]["purpose"], "registration");
}

both_backends!(pages_neither_repeat_nor_skip_while_others_write);
async fn pages_neither_repeat_nor_skip_while_others_write(s: Server) {
    let (dpo, _) = officer(&s).await;
    let mut before = BTreeSet::new();
    for n in 0..23 {
        before.insert(subject(&s, person(n, &["marketing"])).await);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut seqs: Vec<i64> = Vec::new();
    let (mut subjects_cursor, mut journal_cursor): (Option<String>, Option<String>) = (None, None);
    let (mut n, mut round) = (100, 0);
    let (mut subjects_done, mut journal_done) = (false, false);
    loop {
        // Others register subjects (and so append to the journal) while the first pages are
        // read; then the pages catch up with the end.
        round += 1;
        let writers: Vec<_> = (0..if round <= 6 { 3 } else { 0 })
            .map(|_| {
                n += 1;
                let (base, token, body) = (s.base.clone(), s.admin.clone(), person(n, &[]));
                let client = s.client.clone();
                tokio::spawn(async move {
                    let r = client
                        .post(format!("{base}/v1/subjects"))
                        .bearer_auth(token)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 201);
                })
            })
            .collect();
        let page = |path: String, c: &Option<String>| {
            let url = match c {
                Some(c) => format!("{path}&cursor={c}"),
                None => path,
            };
            let (s, dpo) = (&s, &dpo);
            async move { s.get(&url, dpo).await.json_with(200) }
        };
        let sp = match subjects_done {
            false => page("/v1/subjects?limit=4".into(), &subjects_cursor).await,
            true => json!({"items": [], "next_cursor": null}),
        };
        let jp = match journal_done {
            false => page("/v1/journal/entries?limit=7".into(), &journal_cursor).await,
            true => json!({"items": [], "next_cursor": null}),
        };
        for w in writers {
            w.await.unwrap();
        }
        seen.extend(
            sp["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        seqs.extend(
            jp["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_i64().unwrap()),
        );
        subjects_cursor = sp["next_cursor"].as_str().map(str::to_owned);
        journal_cursor = jp["next_cursor"].as_str().map(str::to_owned);
        subjects_done = subjects_cursor.is_none();
        journal_done = journal_cursor.is_none();
        if subjects_done && journal_done {
            break;
        }
        assert!(round < 200, "the pages never end");
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "subject pages in id order, none repeated");
    for id in &before {
        assert!(
            seen.contains(id),
            "{id} was there before the first page and was skipped"
        );
    }
    let last = *seqs.last().unwrap();
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "journal pages with a gap or a repeat"
    );
}

/// The destruction the consent overview names for marketing.
async fn marketing_due(s: &Server, id: &str) -> Value {
    let v = s
        .get(&format!("/v1/subjects/{id}/consents"), &s.admin)
        .await
        .json_with(200);
    let consents = v["consents"].as_array().unwrap();
    consents.iter().find(|c| c["purpose"] == "marketing").unwrap()["destruction"].clone()
}

async fn destroy(s: &Server, id: &str, category: &str) {
    let body = json!({"categories": [category], "reason": "consent_withdrawn"});
    let r = s.post(&format!("/v1/subjects/{id}/destruction"), &s.admin, body).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

both_backends!(what_was_destroyed_is_no_longer_due);
async fn what_was_destroyed_is_no_longer_due(s: Server) {
    let (dpo, _) = officer(&s).await;
    // A newsletter-only reader unsubscribes: their contact and identity fall due.
    let reader = subject(
        &s,
        json!({
            "purpose": "marketing",
            "fields": {"email": "reader@example.com", "full_name": "Nina Reader"},
            "consents": ["marketing"],
            "evidence": {"channel": "newsletter_form"},
        }),
    )
    .await;
    s.clock.set(datetime!(2026-04-01 10:00 UTC));
    let r = s
        .delete(&format!("/v1/subjects/{reader}/consents/marketing"), &s.admin)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let due = "destruction_due_before=2026-05-02";
    assert_eq!(ids(&s, &dpo, due).await, set(&[&reader]));
    assert_eq!(
        marketing_due(&s, &reader).await,
        json!({"by": "2026-05-01T10:00:00Z", "categories": ["contact", "identity"]})
    );
    // Contact destroyed: identity alone is still due, by the same date.
    destroy(&s, &reader, "contact").await;
    assert_eq!(ids(&s, &dpo, due).await, set(&[&reader]));
    let listed = all(&s, &dpo, &format!("/v1/subjects?{due}")).await;
    assert_eq!(
        listed[0]["destruction_due"],
        json!({"by": "2026-05-01T10:00:00Z", "categories": ["identity"]})
    );
    assert_eq!(
        marketing_due(&s, &reader).await,
        json!({"by": "2026-05-01T10:00:00Z", "categories": ["identity"]})
    );
    // Identity destroyed too: nothing is due, and no deadline is named.
    destroy(&s, &reader, "identity").await;
    assert!(ids(&s, &dpo, due).await.is_empty());
    assert_eq!(marketing_due(&s, &reader).await, Value::Null);
}

both_backends!(registers_are_the_officers_and_refuse_bad_filters);
async fn registers_are_the_officers_and_refuse_bad_filters(s: Server) {
    let (dpo, _) = officer(&s).await;
    let website = s.service_key(&["registration", "marketing"]).await;
    for path in ["/v1/subjects", "/v1/journal/entries"] {
        s.problem(&s.get(path, &website).await, 403, "forbidden");
        assert_eq!(s.get(path, &s.admin).await.status, 200);
    }
    for (query, status, code) in [
        ("cursor=not-a-cursor", 400, "invalid_cursor"),
        ("limit=0", 400, "invalid_filter"),
        ("limit=1001", 400, "invalid_filter"),
        ("state=asleep", 400, "invalid_filter"),
        ("destruction_due_before=soon", 400, "invalid_filter"),
        ("consent_to=nothing", 400, "unknown_purpose"),
        ("no_consent_to=registration", 422, "consent_not_applicable"),
        ("accepted_version=deadbeefdeadbeef", 404, "policy_version_not_found"),
        ("colour=blue", 400, "invalid_query"),
    ] {
        let r = s.get(&format!("/v1/subjects?{query}"), &dpo).await;
        s.problem(&r, status, code);
    }
    for (query, status, code) in [
        ("subject=anna", 400, "invalid_subject_id"),
        ("actor=anna@example.com", 400, "invalid_filter"),
        ("action=peeking", 400, "invalid_filter"),
        ("purpose=anna@example.com", 400, "invalid_filter"),
        ("from=yesterday", 400, "invalid_filter"),
        ("cursor=AAAA", 400, "invalid_cursor"),
    ] {
        let r = s.get(&format!("/v1/journal/entries?{query}"), &dpo).await;
        s.problem(&r, status, code);
    }
    // A subjects' cursor does not page the journal.
    let a = s.anna().await;
    let _ = subject(&s, person(1, &[])).await;
    let page = s.get("/v1/subjects?limit=1", &dpo).await.json_with(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(page["items"][0]["id"].is_string() && !a.is_empty());
    let c = page["next_cursor"].as_str().unwrap();
    let r = s.get(&format!("/v1/journal/entries?cursor={c}"), &dpo).await;
    s.problem(&r, 400, "invalid_cursor");
}
