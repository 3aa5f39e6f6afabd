//! Data-subject requests over HTTP (issue 19), on both backends: each kind from intake to its
//! end; the overdue and due-within lists on the fake clock; duplicates and repeats; the
//! extension's rules; refused steps; every step journaled with its message in the outbox;
//! and no sealed text in the database's files.

use crate::support::{both_backends, Server};
use serde_json::{json, Value};
use time::Duration;

async fn officer(s: &Server) -> String {
    s.post("/v1/keys", &s.admin, json!({"name": "dpo", "role": "officer"}))
        .await
        .json_with(201)["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

async fn file(s: &Server, token: &str, body: Value) -> Value {
    s.post("/v1/requests", token, body).await.json_with(201)
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn step(s: &Server, token: &str, req: &str, what: &str, body: Value) -> Value {
    s.post(&format!("/v1/requests/{req}/{what}"), token, body)
        .await
        .json_with(200)
}

/// The templates of the outbox's messages to `subject`, oldest first.
async fn mail(s: &Server, subject: &str) -> Vec<String> {
    let all = s.get("/v1/outbox?limit=1000", &s.admin).await.json_with(200);
    all["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["subject_id"] == subject)
        .map(|m| m["template"].as_str().expect("template").to_owned())
        .collect()
}

/// The journal's rows that name `request`.
async fn journaled(s: &Server, request: &str) -> Vec<String> {
    s.journal_rows_raw()
        .await
        .into_iter()
        .filter(|r| r.contains(request))
        .collect()
}

both_backends!(an_access_request_runs_from_intake_to_its_answer_journaled_with_its_mail);
async fn an_access_request_runs_from_intake_to_its_answer_journaled_with_its_mail(s: Server) {
    let dpo = officer(&s).await;
    let anna = s.another_anna().await;
    // Seed 003's path: a signed paper request, the officer verifies it, then answers within
    // 10 working days on the Russian calendar.
    let r = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "access", "channel": "officer", "verify": true}),
    )
    .await;
    assert_eq!(r["state"], "verifying");
    assert_eq!(r["regimes"], json!(["ru"]));
    // Received on Sunday 2026-03-01 (Moscow): 10 working days, 9 March a holiday.
    assert_eq!(r["due_on"], "2026-03-16");
    assert_eq!(r["overdue"], false);
    assert_eq!(r["notice"], "queued");
    let req = id(&r);
    let done = s.post(&format!("/v1/requests/{req}/complete"), &dpo, json!({})).await;
    s.problem(&done, 409, "request_transition_invalid");
    let v = step(&s, &dpo, &req, "verified", json!(null)).await;
    assert_eq!(
        (v["state"].as_str(), v["verification"].as_str()),
        (Some("in_progress"), Some("officer"))
    );
    let download = uuid::Uuid::new_v4().to_string();
    let v = step(&s, &dpo, &req, "complete", json!({"download": download})).await;
    assert_eq!(v["state"], "completed");
    assert_eq!(v["outcome"], format!("download:{download}"));
    assert_eq!(v["download"], download);
    // Final: no step further.
    for (what, body) in [
        ("refuse", json!({"reason": "no_match"})),
        ("pause", json!({})),
        ("extend", json!({"reason": "complexity"})),
    ] {
        let r = s.post(&format!("/v1/requests/{req}/{what}"), &dpo, body).await;
        s.problem(&r, 409, "request_transition_invalid");
    }
    assert_eq!(
        mail(&s, &anna).await,
        ["request_received", "request_verified", "request_completed"]
    );
    let rows = journaled(&s, &req).await;
    for event in [
        "subject_request.filed",
        "subject_request.verified",
        "subject_request.completed",
    ] {
        assert!(rows.iter().any(|r| r.contains(event)), "{event}: {rows:?}");
    }
    // Its messages' entries are journaled too, in the same transactions.
    let queued = s
        .journal_rows_raw()
        .await
        .into_iter()
        .filter(|r| r.contains("message.queued") && r.contains("template:request_"))
        .count();
    assert_eq!(queued, 3);
    let read = s.get(&format!("/v1/requests/{req}"), &dpo).await.json_with(200);
    assert_eq!(read["state"], "completed");
    assert_eq!(read["notice"], Value::Null);
}

both_backends!(overdue_and_due_within_lists_follow_the_operators_calendar);
async fn overdue_and_due_within_lists_follow_the_operators_calendar(s: Server) {
    let dpo = officer(&s).await;
    let anna = s.another_anna().await;
    let late = id(&file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "access", "channel": "officer"}),
    )
    .await);
    let erasure = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "rectification", "channel": "officer", "new_values": {"phone": "+79161112233"}}),
    )
    .await;
    // Rectification: 7 working days (2026-03-11), before access's 2026-03-16.
    assert_eq!(erasure["due_on"], "2026-03-11");
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_str().expect("id").to_owned())
            .collect()
    };
    assert_eq!(
        ids(&s.get("/v1/requests?overdue=true", &dpo).await.json_with(200)),
        Vec::<String>::new()
    );
    // 2026-03-14 (Moscow): the access request is due in two days, the rectification overdue.
    s.clock.set(time::macros::datetime!(2026-03-14 09:00 UTC));
    let overdue = s.get("/v1/requests?overdue=true", &dpo).await.json_with(200);
    assert_eq!(ids(&overdue), [id(&erasure)]);
    assert_eq!(overdue["items"][0]["overdue"], true);
    let soon = s.get("/v1/requests?due_within=2d", &dpo).await.json_with(200);
    assert_eq!(ids(&soon), vec![late.clone()]);
    assert_eq!(
        ids(&s.get("/v1/requests?due_within=1d", &dpo).await.json_with(200)),
        Vec::<String>::new()
    );
    // Past 2026-03-16: both overdue, in due order; completing one takes it off.
    s.clock.set(time::macros::datetime!(2026-03-17 09:00 UTC));
    let overdue = s.get("/v1/requests?overdue=true", &dpo).await.json_with(200);
    assert_eq!(ids(&overdue), [id(&erasure), late.clone()]);
    step(&s, &dpo, &id(&erasure), "complete", json!({})).await;
    let overdue = s
        .get("/v1/requests?overdue=true&kind=access&state=in_progress", &dpo)
        .await
        .json_with(200);
    assert_eq!(ids(&overdue), vec![late.clone()]);
    // Pages by cursor.
    let page = s.get("/v1/requests?limit=1", &dpo).await.json_with(200);
    let next = page["next_cursor"].as_str().expect("a next page").to_owned();
    let page2 = s
        .get(&format!("/v1/requests?limit=1&cursor={next}"), &dpo)
        .await
        .json_with(200);
    assert_eq!(ids(&page).len() + ids(&page2).len(), 2);
    assert_ne!(ids(&page), ids(&page2));
    let cases: Vec<(String, &str)> = vec![
        ("overdue=true&due_within=2d".into(), "invalid_filter"),
        ("due_within=soon".into(), "invalid_filter"),
        ("kind=gossip".into(), "unknown_request_kind"),
        ("cursor=nope".into(), "invalid_cursor"),
        (format!("overdue=true&cursor={next}"), "invalid_cursor"),
    ];
    for (q, code) in cases {
        let r = s.get(&format!("/v1/requests?{q}"), &dpo).await;
        s.problem(&r, 400, code);
    }
    // Listing is journaled, with enums only.
    assert!(s
        .journal_rows_raw()
        .await
        .iter()
        .any(|r| r.contains("subject_requests.listed") && r.contains("overdue_as_of:2026-03-17")));
}

both_backends!(duplicates_and_repeats_are_recognised_and_a_repeat_may_be_refused);
async fn duplicates_and_repeats_are_recognised_and_a_repeat_may_be_refused(s: Server) {
    let dpo = officer(&s).await;
    let anna = s.another_anna().await;
    let first = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "access", "channel": "officer"}),
    )
    .await;
    let dup = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "access", "channel": "officer"}),
    )
    .await;
    assert_eq!(dup["duplicate_of"], first["id"]);
    let r = s
        .post(
            &format!("/v1/requests/{}/refuse", id(&dup)),
            &dpo,
            json!({"reason": "repeat_request"}),
        )
        .await;
    s.problem(&r, 422, "request_details_required");
    step(&s, &dpo, &id(&dup), "refuse", json!({"reason": "manifestly_unfounded"})).await;
    step(&s, &dpo, &id(&first), "complete", json!({})).await;
    s.clock.advance(Duration::days(10));
    let repeat = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "access", "channel": "officer"}),
    )
    .await;
    assert_eq!(repeat["repeat_of"], first["id"]);
    assert_eq!(repeat["duplicate_of"], Value::Null);
    let refused = step(&s, &dpo, &id(&repeat), "refuse", json!({"reason": "repeat_request"})).await;
    assert_eq!(
        (refused["state"].as_str(), refused["refusal_reason"].as_str()),
        (Some("refused"), Some("repeat_request"))
    );
    assert_eq!(
        mail(&s, &anna).await.last().map(String::as_str),
        Some("request_refused")
    );
    // Thirty days after the first: no longer a repeat.
    s.clock.advance(Duration::days(21));
    let later = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "access", "channel": "officer"}),
    )
    .await;
    assert_eq!(later["repeat_of"], Value::Null);
}

both_backends!(a_term_is_extended_once_before_its_due_date_where_the_law_allows);
async fn a_term_is_extended_once_before_its_due_date_where_the_law_allows(s: Server) {
    let dpo = officer(&s).await;
    let anna = s.another_anna().await;
    let r = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "access", "channel": "officer"}),
    )
    .await;
    let req = id(&r);
    let bad = s.post(&format!("/v1/requests/{req}/extend"), &dpo, json!({})).await;
    s.problem(&bad, 400, "reason_required");
    let v = step(
        &s,
        &dpo,
        &req,
        "extend",
        json!({"reason": "complexity", "note": "archives"}),
    )
    .await;
    // 10 + 5 working days.
    assert_eq!(
        (v["due_on"].as_str(), v["due"].as_str()),
        (Some("2026-03-16"), Some("2026-03-23"))
    );
    assert_eq!(v["extension_reason"], "complexity");
    let again = s
        .post(
            &format!("/v1/requests/{req}/extend"),
            &dpo,
            json!({"reason": "complexity"}),
        )
        .await;
    s.problem(&again, 409, "request_already_extended");
    assert_eq!(mail(&s, &anna).await, ["request_received", "request_extended"]);
    // Rectification has no extension under 152-FZ.
    let rect = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "rectification", "channel": "officer", "new_values": {"phone": "+79161112233"}}),
    )
    .await;
    let r = s
        .post(
            &format!("/v1/requests/{}/extend", id(&rect)),
            &dpo,
            json!({"reason": "complexity"}),
        )
        .await;
    s.problem(&r, 422, "extension_not_allowed");
    // After the due date the notice is too late.
    let late = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "copy", "channel": "officer"}),
    )
    .await;
    s.clock.set(time::macros::datetime!(2026-03-17 09:00 UTC));
    let r = s
        .post(
            &format!("/v1/requests/{}/extend", id(&late)),
            &dpo,
            json!({"reason": "complexity"}),
        )
        .await;
    s.problem(&r, 422, "extension_after_due_date");
}

both_backends!(a_pause_moves_the_due_date_only_where_the_regime_stops_the_clock);
async fn a_pause_moves_the_due_date_only_where_the_regime_stops_the_clock(s: Server) {
    let dpo = officer(&s).await;
    let anna = s.another_anna().await;
    let eu = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "erasure", "channel": "officer", "regimes": ["eu"]}),
    )
    .await;
    assert_eq!(eu["due_on"], "2026-04-01");
    let ru = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "copy", "channel": "officer"}),
    )
    .await;
    let p = step(&s, &dpo, &id(&eu), "pause", json!({"note": "which account?"})).await;
    assert_eq!(p["state"], "paused");
    step(&s, &dpo, &id(&ru), "pause", json!({})).await;
    let resume = s
        .post(&format!("/v1/requests/{}/resume", id(&eu)), &dpo, json!(null))
        .await;
    assert_eq!(resume.status, 200, "{}", resume.text);
    step(&s, &dpo, &id(&eu), "pause", json!({})).await;
    s.clock.advance(Duration::days(3) + Duration::hours(2));
    let eu = step(&s, &dpo, &id(&eu), "resume", json!(null)).await;
    // Paused 3 days and 2 hours: four days later (the first pause took no time).
    assert_eq!(eu["due_on"], "2026-04-05");
    let ru = step(&s, &dpo, &id(&ru), "resume", json!(null)).await;
    assert_eq!(ru["due_on"], "2026-03-16");
    let r = s
        .post(&format!("/v1/requests/{}/resume", id(&ru)), &dpo, json!(null))
        .await;
    s.problem(&r, 409, "request_transition_invalid");
    assert!(mail(&s, &anna).await.contains(&"request_paused".to_owned()));
    assert!(mail(&s, &anna).await.contains(&"request_resumed".to_owned()));
}

both_backends!(each_kind_runs_to_its_effect);
async fn each_kind_runs_to_its_effect(s: Server) {
    let dpo = officer(&s).await;
    let website = s.service_key(&["registration"]).await;

    // Withdrawal: the marketing consent goes.
    let anna = s.another_anna().await;
    let r = file(
        &s,
        &website,
        json!({"subject_id": anna, "kind": "withdraw_consent", "channel": "website"}),
    )
    .await;
    assert_eq!(
        (r["state"].as_str(), r["verification"].as_str()),
        (Some("in_progress"), Some("vouched"))
    );
    let v = step(&s, &dpo, &id(&r), "complete", json!({})).await;
    assert!(v["outcome"].as_str().unwrap().starts_with("withdrawn:marketing"), "{v}");
    let consents = s
        .get(&format!("/v1/subjects/{anna}/consents"), &s.admin)
        .await
        .json_with(200);
    assert!(consents.to_string().contains("withdrawn"), "{consents}");

    // An objection to marketing takes effect at intake, even from the website's key.
    let anna = s.another_anna().await;
    let r = file(
        &s,
        &website,
        json!({"subject_id": anna, "kind": "object_marketing", "channel": "website"}),
    )
    .await;
    assert_eq!(r["state"], "completed");
    assert!(r["outcome"].as_str().unwrap().contains("withdrawn:marketing"), "{r}");
    assert_eq!(mail(&s, &anna).await, ["request_received", "request_completed"]);

    // Blocking: a block on the categories named.
    let anna = s.another_anna().await;
    let r = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "blocking", "channel": "officer", "categories": ["contact"]}),
    )
    .await;
    // Blocked from the appeal (152-FZ Art. 21 p. 1), before anyone completes the request.
    let blocks = s.get(&format!("/v1/subjects/{anna}/blocks"), &dpo).await.json_with(200);
    assert_eq!(blocks["blocks"][0]["categories"], json!(["contact"]), "{blocks}");
    let v = step(&s, &dpo, &id(&r), "complete", json!({})).await;
    assert!(v["outcome"].as_str().unwrap().starts_with("blocked:contact"), "{v}");
    let blocks = s.get(&format!("/v1/subjects/{anna}/blocks"), &dpo).await.json_with(200);
    assert_eq!(
        blocks["blocks"].as_array().map(Vec::len),
        Some(1),
        "not placed twice: {blocks}"
    );

    // Rectification: the sealed new value is written.
    let anna = s.another_anna().await;
    let r = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "rectification", "channel": "officer", "new_values": {"postal_address": "Moscow, Arbat 5"}}),
    )
    .await;
    step(&s, &dpo, &id(&r), "complete", json!({})).await;
    let read = s
        .get(
            &format!("/v1/subjects/{anna}?purpose=registration&fields=postal_address"),
            &dpo,
        )
        .await
        .json_with(200);
    assert_eq!(read["fields"]["postal_address"], "Moscow, Arbat 5");

    // Stop processing: consents withdrawn, the exempt bases named.
    let anna = s.another_anna().await;
    let r = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "stop_processing", "channel": "officer"}),
    )
    .await;
    let v = step(&s, &dpo, &id(&r), "complete", json!({})).await;
    assert!(v["outcome"].as_str().unwrap().contains("continuing_exempt:"), "{v}");

    // An objection to a legitimate interest: decided with reasons.
    let anna = s.another_anna().await;
    let r = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "object_legitimate", "channel": "officer", "text": "stop it"}),
    )
    .await;
    let bad = s
        .post(
            &format!("/v1/requests/{}/complete", id(&r)),
            &dpo,
            json!({"decision": "upheld"}),
        )
        .await;
    s.problem(&bad, 422, "request_details_required");
    let v = step(
        &s,
        &dpo,
        &id(&r),
        "complete",
        json!({"decision": "rejected", "answer": "overriding grounds"}),
    )
    .await;
    assert_eq!(v["outcome"], "objection rejected");

    // A complaint needs its text, and its answer.
    let anna = s.another_anna().await;
    let r = s
        .post(
            "/v1/requests",
            &dpo,
            json!({"subject_id": anna, "kind": "complaint", "channel": "officer"}),
        )
        .await;
    s.problem(&r, 422, "request_details_required");
    let r = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "complaint", "channel": "officer", "text": "rude mail"}),
    )
    .await;
    let v = step(&s, &dpo, &id(&r), "complete", json!({"answer": "we apologise"})).await;
    assert_eq!(v["outcome"], "answered");
    let read = s.get(&format!("/v1/requests/{}", id(&r)), &dpo).await.json_with(200);
    assert_eq!(read["details"]["text"], "rude mail");
    assert_eq!(read["details"]["answer"], "we apologise");

    // A transfer names its recipient; a representative shows the authority document.
    let anna = s.another_anna().await;
    let r = s
        .post(
            "/v1/requests",
            &dpo,
            json!({"subject_id": anna, "kind": "transfer", "channel": "representative", "recipient": "Bank"}),
        )
        .await;
    s.problem(&r, 422, "request_details_required");
    let r = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "transfer", "channel": "representative", "recipient": "Bank",
               "authority": {"doc_type": "power_of_attorney", "number": "77 AA 1", "date": "2026-01-15"}}),
    )
    .await;
    let v = step(&s, &dpo, &id(&r), "complete", json!({})).await;
    assert_eq!(v["outcome"], "answered");

    // Erasure: the subject is erased with its act; nothing can be mailed after.
    let anna = s.another_anna().await;
    let r = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "erasure", "channel": "officer"}),
    )
    .await;
    let v = step(&s, &dpo, &id(&r), "complete", json!({})).await;
    assert!(v["outcome"].as_str().unwrap().starts_with("erased act:"), "{v}");
    assert_eq!(v["notice"], "subject_erased");
    let gone = s.get(&format!("/v1/subjects/{anna}?purpose=registration"), &dpo).await;
    s.problem(&gone, 410, "subject_erased");

    // Channels: the website may not file as the officer, the officer not as the website.
    let anna = s.another_anna().await;
    let r = s
        .post(
            "/v1/requests",
            &website,
            json!({"subject_id": anna, "kind": "access", "channel": "officer"}),
        )
        .await;
    s.problem(&r, 422, "channel_not_allowed");
    let r = s
        .post(
            "/v1/requests",
            &dpo,
            json!({"subject_id": anna, "kind": "access", "channel": "website"}),
        )
        .await;
    s.problem(&r, 422, "channel_not_allowed");
    // The portal's channel starts verifying; the website reads only its own filings.
    let mine = file(
        &s,
        &website,
        json!({"subject_id": anna, "kind": "access", "channel": "subject"}),
    )
    .await;
    assert_eq!(mine["state"], "verifying");
    assert_eq!(
        s.get(&format!("/v1/requests/{}", id(&mine)), &website).await.status,
        200
    );
    let theirs = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "copy", "channel": "officer"}),
    )
    .await;
    let r = s.get(&format!("/v1/requests/{}", id(&theirs)), &website).await;
    s.problem(&r, 404, "request_not_found");
    let listed = s.get("/v1/requests?limit=1000", &website).await.json_with(200);
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["channel"] != "officer"),
        "{listed}"
    );
    let r = s
        .post(
            &format!("/v1/requests/{}/refuse", id(&mine)),
            &website,
            json!({"reason": "no_match"}),
        )
        .await;
    s.problem(&r, 403, "forbidden");
    // A legal restriction cites its law.
    let r = s
        .post(
            &format!("/v1/requests/{}/refuse", id(&mine)),
            &dpo,
            json!({"reason": "legal_restriction"}),
        )
        .await;
    s.problem(&r, 422, "citation_required");
    let v = step(
        &s,
        &dpo,
        &id(&mine),
        "refuse",
        json!({"reason": "legal_restriction", "citation": "Art. 14 p. 8"}),
    )
    .await;
    assert_eq!(v["refusal_reason"], "legal_restriction");
}

both_backends!(a_requests_texts_are_sealed_in_the_database);
async fn a_requests_texts_are_sealed_in_the_database(s: Server) {
    let dpo = officer(&s).await;
    let anna = s.another_anna().await;
    let marks: Vec<String> = (0..6)
        .map(|k| format!("sealed-marker-{k}-{}", uuid::Uuid::new_v4().simple()))
        .collect();
    let r = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "complaint", "channel": "representative", "text": marks[0],
               "authority": {"doc_type": "poa", "number": marks[1], "date": "2026-01-15"}}),
    )
    .await;
    let req = id(&r);
    step(&s, &dpo, &req, "pause", json!({"note": marks[2]})).await;
    step(&s, &dpo, &req, "resume", json!(null)).await;
    step(
        &s,
        &dpo,
        &req,
        "extend",
        json!({"reason": "complexity", "note": marks[3]}),
    )
    .await;
    step(&s, &dpo, &req, "complete", json!({"answer": marks[4]})).await;
    let read = s.get(&format!("/v1/requests/{req}"), &dpo).await.json_with(200);
    assert_eq!(read["details"]["authority"]["number"], marks[1].as_str());
    assert_eq!(read["details"]["pause_note"], marks[2].as_str());
    // The read opened the details: journaled, naming the request, not the text.
    assert!(s
        .journal_rows_raw()
        .await
        .iter()
        .any(|r| r.contains("subject_request.read") && r.contains(&format!("request:{req}"))));
    let rows = s.all_rows_raw().await;
    for m in &marks {
        assert!(!rows.iter().any(|r| r.contains(m.as_str())), "{m} stored in clear");
    }
    assert!(rows.iter().any(|r| r.starts_with("subject_requests|")));
}

both_backends!(a_subject_without_an_address_still_has_the_request_handled);
async fn a_subject_without_an_address_still_has_the_request_handled(s: Server) {
    let dpo = officer(&s).await;
    let anna = s.another_anna().await;
    let r = s
        .post(
            &format!("/v1/subjects/{anna}/destruction"),
            &s.admin,
            json!({"categories": ["contact"], "reason": "subject_request"}),
        )
        .await;
    assert!(r.status < 300, "{}", r.text);
    let r = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "access", "channel": "officer"}),
    )
    .await;
    assert_eq!(
        (r["state"].as_str(), r["notice"].as_str()),
        (Some("in_progress"), Some("no_contact"))
    );
    assert_eq!(r["message_id"], Value::Null);
    let v = step(&s, &dpo, &id(&r), "complete", json!({})).await;
    assert_eq!(
        (v["state"].as_str(), v["notice"].as_str()),
        (Some("completed"), Some("no_contact"))
    );
    assert!(mail(&s, &anna).await.is_empty());
    let rows = journaled(&s, &id(&r)).await;
    assert_eq!(
        rows.iter().filter(|r| r.contains("notice:no_contact")).count(),
        2,
        "{rows:?}"
    );
}

both_backends!(an_erasure_request_under_a_legal_hold_reports_what_was_withheld_and_why);
async fn an_erasure_request_under_a_legal_hold_reports_what_was_withheld_and_why(s: Server) {
    let dpo = officer(&s).await;
    let website = s.service_key(&["registration", "payment", "accounting"]).await;
    let anna = s.another_anna().await;
    let r = s
        .patch(
            &format!("/v1/subjects/{anna}?purpose=payment"),
            &website,
            json!({"fields": {"billing_address": "Moscow, Tverskaya 1"}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = s
        .post(
            &format!("/v1/subjects/{anna}/bases"),
            &website,
            json!({"purpose": "accounting", "kind": "established", "evidence": {"reference": "order 1"}}),
        )
        .await;
    r.json_with(201);
    let r = file(
        &s,
        &website,
        json!({"subject_id": anna, "kind": "erasure", "channel": "website"}),
    )
    .await;
    let v = step(&s, &dpo, &id(&r), "complete", json!({})).await;
    let outcome = v["outcome"].as_str().unwrap();
    assert!(outcome.starts_with("destroyed act:"), "{outcome}");
    assert!(
        outcome.ends_with("withheld:identity(accounting),payment(accounting)"),
        "{outcome}"
    );
    // The address went with the contact category: the answer goes by the request's channel.
    assert_eq!(v["notice"], "no_contact");
    let blocks = s.get(&format!("/v1/subjects/{anna}/blocks"), &dpo).await.json_with(200);
    assert_eq!(blocks["blocks"][0]["reason"], "legal_hold");
}

both_backends!(an_upheld_objection_ends_the_legitimate_interest);
async fn an_upheld_objection_ends_the_legitimate_interest(s: Server) {
    let register = ward_core::policy::DEFAULT_POLICY.replace("version = \"1\"", "version = \"2\"").replace(
        "[purposes.analytics]",
        "[purposes.fraud_checks]\ntitle = \"Preventing fraud\"\nlegal_basis = \"legitimate_interests\"\nfz152_item = \"7\"\n\
         categories = [\"technical\"]\nactions = [\"collection\", \"storage\", \"use\", \"destruction\"]\n\
         retention = \"1 year\"\nassessment = \"LIA-2026-01\"\nestablished_by = \"event\"\n\n[purposes.analytics]",
    );
    let r = s
        .post("/v1/policy/versions", &s.admin, json!({"register": register}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let dpo = officer(&s).await;
    let anna = s.another_anna().await;
    let r = s
        .post(
            &format!("/v1/subjects/{anna}/bases"),
            &s.admin,
            json!({"purpose": "fraud_checks", "kind": "established", "evidence": {"reference": "LIA-2026-01"}}),
        )
        .await;
    r.json_with(201);
    let r = file(
        &s,
        &dpo,
        json!({"subject_id": anna, "kind": "object_legitimate", "channel": "officer", "text": "stop profiling me"}),
    )
    .await;
    let v = step(
        &s,
        &dpo,
        &id(&r),
        "complete",
        json!({"decision": "upheld", "answer": "we stop"}),
    )
    .await;
    assert_eq!(v["outcome"], "objection upheld ended:fraud_checks");
    let bases = s.get(&format!("/v1/subjects/{anna}/bases"), &dpo).await.json_with(200);
    assert!(bases.to_string().contains("objected"), "{bases}");
}
