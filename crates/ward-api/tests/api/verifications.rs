//! Identity verification over HTTP (issue 19): a one-time code read back from the outbox the
//! way the delivery job opens it; three attempts; expiry on the fake clock; a new code; many
//! concurrent wrong guesses counted exactly three times; the document path (upload, the
//! officer's read, the decision); neither the code nor the document in the clear in the
//! database; erasure shredding the document.

use crate::support::{both_backends, Resp, Server};
use reqwest::Method;
use serde_json::{json, Value};
use time::Duration;

/// A PNG signature followed by `marker`: the sniffer takes it for a PNG.
pub(crate) fn png(marker: &str) -> Vec<u8> {
    let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    b.extend_from_slice(marker.as_bytes());
    b
}

/// A request of `subject` filed for the portal (channel `subject`): `verifying`, awaiting
/// a verification; its id.
pub(crate) async fn new_request(s: &Server, subject: &str) -> String {
    let r = s
        .post(
            "/v1/requests",
            &s.admin,
            json!({"subject_id": subject, "kind": "access", "channel": "subject"}),
        )
        .await;
    let filed = r.json_with(201);
    assert_eq!(filed["state"], "verifying", "{filed}");
    filed["id"].as_str().expect("request id").to_owned()
}

/// Starts a verification of a new request of `subject` (of a random request id when no
/// request can be filed for it, e.g. an unknown subject).
pub(crate) async fn start(s: &Server, token: &str, subject: &str, method: &str) -> Resp {
    let filing = json!({"subject_id": subject, "kind": "access", "channel": "subject"});
    let filed = s.post("/v1/requests", &s.admin, filing).await;
    let request = if filed.status == 201 {
        filed.json_with(201)["id"].as_str().expect("request id").to_owned()
    } else {
        uuid::Uuid::new_v4().to_string()
    };
    s.post(
        "/v1/verifications",
        token,
        json!({"request": request, "subject": subject, "method": method}),
    )
    .await
}

/// Starts a code verification for `subject` as the admin; its id.
pub(crate) async fn start_code(s: &Server, subject: &str) -> String {
    let v = start(s, &s.admin, subject, "code").await.json_with(201);
    assert_eq!(v["state"], "pending", "{v}");
    v["id"].as_str().expect("id").to_owned()
}

/// The code in the last message queued for `subject`, opened as the delivery job opens it.
pub(crate) async fn code_sent_to(s: &Server, subject: &str) -> String {
    let claimed = s
        .vault
        .outbox()
        .claim("verification-test", Duration::minutes(1), 1000)
        .await
        .expect("claim");
    claimed
        .iter()
        .rev()
        .filter(|m| m.subject.to_string() == subject)
        .find_map(|m| {
            m.envelope
                .body
                .lines()
                .map(str::trim)
                .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_owned)
        })
        .expect("a message to the subject with a code")
}

/// A document verification with a PNG uploaded; its id.
pub(crate) async fn with_document(s: &Server, subject: &str, marker: &str) -> String {
    let v = start(s, &s.admin, subject, "document").await.json_with(201);
    let id = v["id"].as_str().expect("id").to_owned();
    let r = upload(s, &id, &s.admin, Some("image/png"), png(marker)).await;
    r.json_with(200);
    id
}

async fn upload(s: &Server, id: &str, token: &str, content_type: Option<&str>, body: Vec<u8>) -> Resp {
    s.call_raw(
        Method::PUT,
        &format!("/v1/verifications/{id}/document"),
        Some(token),
        content_type,
        body,
    )
    .await
}

async fn check(s: &Server, id: &str, token: &str, code: &str) -> Resp {
    s.post(&format!("/v1/verifications/{id}/code"), token, json!({"code": code}))
        .await
}

fn wrong(code: &str) -> String {
    let n: u32 = code.parse().expect("digits");
    format!("{:06}", (n + 1) % 1_000_000)
}

/// Whether `needle` stands in `hay` as a token of its own (not inside a run of hex digits,
/// where a random hash or a timestamp may hold it by chance).
fn holds(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_hexdigit()) && !after.is_some_and(|c| c.is_ascii_hexdigit())
    })
}

async fn officer(s: &Server) -> String {
    let r = s
        .post("/v1/keys", &s.admin, json!({"name": "dpo", "role": "officer"}))
        .await;
    r.json_with(201)["token"].as_str().expect("token").to_owned()
}

both_backends!(a_code_sent_through_the_outbox_verifies_the_request);
async fn a_code_sent_through_the_outbox_verifies_the_request(s: Server) {
    let anna = s.anna().await;
    let r = start(&s, &s.admin, &anna, "code").await;
    let started = r.json_with(201);
    let id = started["id"].as_str().expect("id").to_owned();
    assert_eq!(r.header("location"), Some(format!("/v1/verifications/{id}").as_str()));
    assert_eq!(
        (started["method"].as_str(), started["attempts_left"].as_u64()),
        (Some("code"), Some(3))
    );
    let code = code_sent_to(&s, &anna).await;

    // Neither the code nor anything of the message is stored or journaled in the clear.
    let rows = s.all_rows_raw().await;
    let hex_code = hex::encode(code.as_bytes());
    assert!(
        !rows.iter().any(|r| holds(r, &code) || r.contains(&hex_code)),
        "the code is in the database in the clear"
    );
    assert!(!rows.iter().any(|r| r.contains("anna.petrova")));
    let journal = s.journal_rows_raw().await;
    let queued = journal
        .iter()
        .find(|r| r.contains("message.queued") && r.contains("template:verification_code"))
        .expect("the code's message is journaled");
    assert!(
        queued.contains("email"),
        "the address opened to send it is named: {queued}"
    );
    assert!(journal
        .iter()
        .any(|r| r.contains("verification.started") && r.contains(&format!("verification:{id}"))));

    let r = check(&s, &id, &s.admin, &wrong(&code)).await;
    let p = s.problem(&r, 422, "code_mismatch");
    assert!(
        p["detail"].as_str().unwrap_or_default().contains("attempts left: 2"),
        "{p}"
    );
    let r = check(&s, &id, &s.admin, "12 34").await;
    s.problem(&r, 422, "invalid_code");
    let v = s.get(&format!("/v1/verifications/{id}"), &s.admin).await.json_with(200);
    assert_eq!(
        (v["attempts"].as_u64(), v["attempts_left"].as_u64()),
        (Some(1), Some(2)),
        "the malformed code is not counted"
    );

    let r = check(&s, &id, &s.admin, &code).await;
    let v = r.json_with(200);
    assert_eq!(v["state"], "verified", "{v}");
    assert_eq!(v["request_id"], started["request_id"]);
    let r = check(&s, &id, &s.admin, &code).await;
    s.problem(&r, 409, "verification_not_pending");
    let journal = s.journal_rows_raw().await;
    assert!(journal
        .iter()
        .any(|r| r.contains("verification.code_checked") && r.contains("outcome:matched")));
    assert!(!journal.iter().any(|r| holds(r, &code)), "the code is never journaled");

    // A website's key vouches, and may not start the other methods; unknown ids and methods.
    let site = s.service_key(&["registration"]).await;
    let r = start(&s, &site, &anna, "vouched").await;
    assert_eq!(r.json_with(201)["state"], "verified");
    for method in ["code", "document"] {
        let r = start(&s, &site, &anna, method).await;
        s.problem(&r, 403, "verification_method_not_allowed");
    }
    let r = start(&s, &s.admin, &anna, "telepathy").await;
    s.problem(&r, 422, "unknown_verification_method");
    let r = start(&s, &s.admin, &uuid::Uuid::new_v4().to_string(), "vouched").await;
    s.problem(&r, 404, "subject_not_found");
    let r = s
        .get(&format!("/v1/verifications/{}", uuid::Uuid::new_v4()), &s.admin)
        .await;
    s.problem(&r, 404, "verification_not_found");
    let r = s.get("/v1/verifications/nope", &s.admin).await;
    s.problem(&r, 400, "invalid_verification_id");
}

both_backends!(the_third_wrong_code_fails_it_and_then_the_right_one_is_refused);
async fn the_third_wrong_code_fails_it_and_then_the_right_one_is_refused(s: Server) {
    let anna = s.anna().await;
    let id = start_code(&s, &anna).await;
    let code = code_sent_to(&s, &anna).await;
    for left in [2, 1] {
        let r = check(&s, &id, &s.admin, &wrong(&code)).await;
        let p = s.problem(&r, 422, "code_mismatch");
        assert!(p["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("attempts left: {left}")));
    }
    let r = check(&s, &id, &s.admin, &wrong(&code)).await;
    s.problem(&r, 409, "verification_failed");
    let r = check(&s, &id, &s.admin, &code).await;
    s.problem(&r, 409, "verification_failed");
    let v = s.get(&format!("/v1/verifications/{id}"), &s.admin).await.json_with(200);
    assert_eq!((v["state"].as_str(), v["attempts"].as_u64()), (Some("failed"), Some(3)));
    let r = s
        .call(
            Method::POST,
            &format!("/v1/verifications/{id}/resend"),
            Some(&s.admin),
            None,
        )
        .await;
    s.problem(&r, 409, "verification_failed");
}

both_backends!(an_expired_code_is_refused_and_a_new_one_replaces_it);
async fn an_expired_code_is_refused_and_a_new_one_replaces_it(s: Server) {
    let anna = s.anna().await;
    let id = start_code(&s, &anna).await;
    let first = code_sent_to(&s, &anna).await;
    s.clock.advance(Duration::minutes(15));
    let v = s.get(&format!("/v1/verifications/{id}"), &s.admin).await.json_with(200);
    assert_eq!(v["state"], "expired", "expired by the clock, before anyone checks");
    let r = check(&s, &id, &s.admin, &first).await;
    s.problem(&r, 409, "code_expired");
    let v = s.get(&format!("/v1/verifications/{id}"), &s.admin).await.json_with(200);
    assert_eq!(v["state"], "expired");

    // A new code: the verification pends again; the old code no longer matches (counted).
    let r = s
        .call(
            Method::POST,
            &format!("/v1/verifications/{id}/resend"),
            Some(&s.admin),
            None,
        )
        .await;
    let v = r.json_with(202);
    assert_eq!((v["state"].as_str(), v["resends"].as_u64()), (Some("pending"), Some(1)));
    let second = code_sent_to(&s, &anna).await;
    if second != first {
        let r = check(&s, &id, &s.admin, &first).await;
        s.problem(&r, 422, "code_mismatch");
    }
    s.clock.advance(Duration::minutes(14));
    let r = check(&s, &id, &s.admin, &second).await;
    assert_eq!(r.json_with(200)["state"], "verified");

    // Five new codes at most.
    let other = s.another_anna().await;
    let id = start_code(&s, &other).await;
    for _ in 0..5 {
        let r = s
            .call(
                Method::POST,
                &format!("/v1/verifications/{id}/resend"),
                Some(&s.admin),
                None,
            )
            .await;
        r.json_with(202);
    }
    let r = s
        .call(
            Method::POST,
            &format!("/v1/verifications/{id}/resend"),
            Some(&s.admin),
            None,
        )
        .await;
    s.problem(&r, 409, "resend_limit_reached");
}

both_backends!(concurrent_wrong_guesses_are_counted_three_times_at_most);
async fn concurrent_wrong_guesses_are_counted_three_times_at_most(s: Server) {
    let anna = s.anna().await;
    let id = start_code(&s, &anna).await;
    let code = code_sent_to(&s, &anna).await;
    let guess = wrong(&code);
    let s = &s;
    let guesses = (0..24).map(|_| {
        let (id, guess) = (id.clone(), guess.clone());
        async move { check(s, &id, &s.admin, &guess).await }
    });
    let answers = futures::future::join_all(guesses).await;
    let mut codes: Vec<String> = answers
        .iter()
        .map(|r| r.json()["code"].as_str().unwrap_or("?").to_owned())
        .collect();
    codes.sort();
    let mismatches = codes.iter().filter(|c| *c == "code_mismatch").count();
    let failed = codes.iter().filter(|c| *c == "verification_failed").count();
    assert_eq!((mismatches, failed), (2, 22), "{codes:?}");
    let v = s.get(&format!("/v1/verifications/{id}"), &s.admin).await.json_with(200);
    assert_eq!((v["state"].as_str(), v["attempts"].as_u64()), (Some("failed"), Some(3)));
    let counted = s
        .journal_rows_raw()
        .await
        .iter()
        .filter(|r| r.contains("verification.code_checked") && r.contains(&format!("verification:{id}")))
        .count();
    assert_eq!(counted, 3, "three attempts journaled");
    let r = check(s, &id, &s.admin, &code).await;
    s.problem(&r, 409, "verification_failed");
}

both_backends!(a_document_is_sealed_read_by_the_officer_and_accepted);
async fn a_document_is_sealed_read_by_the_officer_and_accepted(s: Server) {
    let anna = s.anna().await;
    let dpo = officer(&s).await;
    let marker = format!("signed-request-{}", uuid::Uuid::new_v4().simple());
    let v = start(&s, &dpo, &anna, "document").await.json_with(201);
    let id = v["id"].as_str().expect("id").to_owned();
    assert_eq!(v["state"], "pending");

    // Sniffed, not trusted; limited in size; only for a document verification.
    let r = upload(&s, &id, &dpo, Some("image/gif"), b"GIF89a....".to_vec()).await;
    s.problem(&r, 415, "unsupported_document_type");
    let r = upload(&s, &id, &dpo, Some("application/pdf"), png(&marker)).await;
    s.problem(&r, 415, "unsupported_document_type");
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(10 * 1024 * 1024 + 1, b'0');
    let r = upload(&s, &id, &dpo, Some("application/pdf"), big).await;
    s.problem(&r, 413, "document_too_large");
    let r = s
        .post(
            &format!("/v1/verifications/{id}/decision"),
            &dpo,
            json!({"decision": "accept", "reason": "signature_matches"}),
        )
        .await;
    s.problem(&r, 404, "document_not_found");
    let r = s.get(&format!("/v1/verifications/{id}/document"), &dpo).await;
    s.problem(&r, 404, "document_not_found");

    let bytes = png(&marker);
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let v = upload(&s, &id, &dpo, Some("image/png"), bytes.clone())
        .await
        .json_with(200);
    assert_eq!(
        (
            v["document_type"].as_str(),
            v["document_sha256"].as_str(),
            v["document_size"].as_u64()
        ),
        (Some("image/png"), Some(sha.as_str()), Some(bytes.len() as u64))
    );
    let rows = s.all_rows_raw().await;
    let hex_marker = hex::encode(marker.as_bytes());
    assert!(
        !rows.iter().any(|r| r.contains(&marker) || r.contains(&hex_marker)),
        "the document is sealed"
    );
    let journal = s.journal_rows_raw().await;
    assert!(journal
        .iter()
        .any(|r| r.contains("verification.document_uploaded") && r.contains(&format!("sha256:{sha}"))));

    // The officer reads it, journaled; a website's key may not.
    let site = s.service_key(&["registration"]).await;
    let r = s.get(&format!("/v1/verifications/{id}/document"), &site).await;
    s.problem(&r, 403, "forbidden");
    let r = s.get(&format!("/v1/verifications/{id}/document"), &dpo).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let url = format!("{}/v1/verifications/{id}/document", s.base);
    let got = s
        .client
        .get(url)
        .bearer_auth(&dpo)
        .send()
        .await
        .expect("send")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(got.as_ref(), bytes.as_slice());
    let journal = s.journal_rows_raw().await;
    let read = journal
        .iter()
        .filter(|r| r.contains("verification.document_read"))
        .collect::<Vec<_>>();
    assert_eq!(read.len(), 2, "each reading is journaled");
    assert!(read[0].contains("opened:verification_document") && read[0].contains(&sha));

    // Decided with a reason that fits; once.
    let decide = |d: &str, reason: &str| json!({"decision": d, "reason": reason});
    let path = format!("/v1/verifications/{id}/decision");
    let r = s.post(&path, &site, decide("accept", "signature_matches")).await;
    s.problem(&r, 403, "forbidden");
    let r = s.post(&path, &dpo, decide("accept", "illegible")).await;
    s.problem(&r, 400, "unknown_reason");
    let r = s.post(&path, &dpo, json!({"decision": "accept"})).await;
    s.problem(&r, 400, "reason_required");
    let v = s
        .post(&path, &dpo, decide("accept", "signature_matches"))
        .await
        .json_with(200);
    assert_eq!(
        (v["state"].as_str(), v["reason"].as_str()),
        (Some("verified"), Some("signature_matches"))
    );
    let r = s.post(&path, &dpo, decide("reject", "illegible")).await;
    s.problem(&r, 409, "verification_not_pending");
    let journal = s.journal_rows_raw().await;
    assert!(journal
        .iter()
        .any(|r| r.contains("verification.decided") && r.contains("decision:accepted reason:signature_matches")));
    let r = upload(&s, &id, &dpo, Some("image/png"), png("again")).await;
    s.problem(&r, 409, "verification_not_pending");
    let r = check(&s, &id, &dpo, "123456").await;
    s.problem(&r, 409, "wrong_verification_method");

    // A rejection.
    let other = s.another_anna().await;
    let id = with_document(&s, &other, "blurred").await;
    let v = s
        .post(
            &format!("/v1/verifications/{id}/decision"),
            &dpo,
            decide("reject", "illegible"),
        )
        .await
        .json_with(200);
    assert_eq!(v["state"], "rejected");
}

both_backends!(erasing_the_subject_shreds_the_document);
async fn erasing_the_subject_shreds_the_document(s: Server) {
    let anna = s.anna().await;
    let marker = format!("to-be-shredded-{}", uuid::Uuid::new_v4().simple());
    let id = with_document(&s, &anna, &marker).await;
    let r = s.get(&format!("/v1/verifications/{id}/document"), &s.admin).await;
    assert_eq!(r.status, 200);
    let r = s
        .delete(&format!("/v1/subjects/{anna}?reason=subject_request"), &s.admin)
        .await;
    assert!(r.status < 300, "{}", r.text);
    let r = s.get(&format!("/v1/verifications/{id}/document"), &s.admin).await;
    s.problem(&r, 410, "subject_erased");
    let vid: ward_core::VerificationId = id.parse().expect("uuid");
    assert_eq!(
        s.vault.store().find_verification_document(vid).await.expect("read"),
        None,
        "the sealed document is deleted with the key"
    );
    let v = s.get(&format!("/v1/verifications/{id}"), &s.admin).await.json_with(200);
    assert_eq!(
        v["document_type"], "image/png",
        "the record of it stays: ids and a digest"
    );
    let rows = s.all_rows_raw().await;
    assert!(!rows
        .iter()
        .any(|r| r.contains(&marker) || r.contains(&hex::encode(marker.as_bytes()))));
    let _: Value = v;
}

both_backends!(a_verification_moves_its_request_on);
async fn a_verification_moves_its_request_on(s: Server) {
    let anna = s.another_anna().await;
    let bob = s.another_anna().await;
    let request = new_request(&s, &anna).await;

    // Only a request of the same subject that awaits a verification takes one.
    let wrong_subject = json!({"request": request, "subject": bob, "method": "code"});
    let r = s.post("/v1/verifications", &s.admin, wrong_subject).await;
    s.problem(&r, 404, "request_not_found");
    let unknown = json!({"request": uuid::Uuid::new_v4().to_string(), "subject": anna, "method": "code"});
    let r = s.post("/v1/verifications", &s.admin, unknown).await;
    s.problem(&r, 404, "request_not_found");

    let body = json!({"request": request, "subject": anna, "method": "code"});
    let started = s.post("/v1/verifications", &s.admin, body).await.json_with(201);
    let vid = started["id"].as_str().expect("id").to_owned();
    let req = s.get(&format!("/v1/requests/{request}"), &s.admin).await.json_with(200);
    assert_eq!(
        (req["state"].as_str(), req["verification"].as_str()),
        (Some("verifying"), Some(vid.as_str())),
        "{req}"
    );

    let code = code_sent_to(&s, &anna).await;
    let r = s
        .post(
            &format!("/v1/verifications/{vid}/code"),
            &s.admin,
            json!({"code": code}),
        )
        .await;
    assert_eq!(r.json_with(200)["state"], "verified");
    let req = s.get(&format!("/v1/requests/{request}"), &s.admin).await.json_with(200);
    assert_eq!(req["state"], "in_progress", "{req}");

    // An in-progress request awaits no verification.
    let again = json!({"request": request, "subject": anna, "method": "vouched"});
    let r = s.post("/v1/verifications", &s.admin, again).await;
    s.problem(&r, 409, "request_transition_invalid");

    // A website's vouching moves a portal request to in progress at once.
    let site = s.service_key(&["registration"]).await;
    let other = new_request(&s, &bob).await;
    let vouched = json!({"request": other, "subject": bob, "method": "vouched"});
    let r = s.post("/v1/verifications", &site, vouched).await;
    assert_eq!(r.json_with(201)["state"], "verified");
    let req = s.get(&format!("/v1/requests/{other}"), &s.admin).await.json_with(200);
    assert_eq!(req["state"], "in_progress", "{req}");
}
