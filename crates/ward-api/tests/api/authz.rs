//! The authorization test, generated from the table (`ward_core::authz`) and the OpenAPI
//! document: every route of `/openapi.json` × every role × (no token, a wrong token, a revoked
//! token of each role, the right role, a service key without the purpose) gets exactly the
//! answer the table gives: `401` for no, a wrong or a revoked token; `403` where the table
//! refuses the role (`forbidden`) or the key lacks the purpose; neither where it allows. A
//! `/v1` route without `x-ward-operation` (no row of the table) fails, and so does one this
//! test has no sample request for. Every answer also goes through `Server::checked`, so each
//! code is one the document declares for the route.

use crate::support::{anna_body, another_anna, both_backends, Server};
use reqwest::Method;
use serde_json::{json, Value};
use ward_core::access::Role;
use ward_core::authz::{allowance, roles_for, Allowance, Operation};
use ward_core::policy::DEFAULT_POLICY;

/// A caller of the test, and the role the table is asked about for it.
struct Who {
    label: &'static str,
    token: String,
    role: Role,
    /// A service key that lists none of the purposes the sample requests name.
    without_purpose: bool,
}

/// What the table says this caller must get.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Allowed,
    Forbidden,
}

fn expected(who: &Who, operation: Operation) -> Expect {
    match allowance(who.role, operation) {
        Allowance::Refused => Expect::Forbidden,
        Allowance::OwnPurposes if who.without_purpose => Expect::Forbidden,
        Allowance::Allowed | Allowance::OwnPurposes => Expect::Allowed,
    }
}

async fn key(s: &Server, body: Value) -> (String, String) {
    let r = s.post("/v1/keys", &s.admin, body).await;
    let v = r.json_with(201);
    (
        v["token"].as_str().expect("token").to_owned(),
        v["id"].as_str().expect("key id").to_owned(),
    )
}

/// A sample request for `operation_id`: method, path (with query) and body. Operations on a
/// subject get a new subject each time, so an erasure does not change the next call.
async fn sample(s: &Server, operation_id: &str, hash: &str) -> (Method, String, Option<Value>) {
    let subject = || async { s.another_anna().await };
    let visitor = "visitor-authz-0001";
    match operation_id {
        "create_subject" => (Method::POST, "/v1/subjects".into(), Some(another_anna())),
        "create_subjects_batch" => (
            Method::POST,
            "/v1/subjects/batch".into(),
            Some(json!({"subjects": [another_anna()]})),
        ),
        "lookup_subjects" => (
            Method::POST,
            "/v1/subjects/lookup".into(),
            Some(json!({"field": "email", "value": "anna.petrova@example.ru", "purpose": "registration"})),
        ),
        "read_subject" => (
            Method::GET,
            format!("/v1/subjects/{}?purpose=registration", subject().await),
            None,
        ),
        "rectify_subject" => (
            Method::PATCH,
            format!("/v1/subjects/{}?purpose=registration", subject().await),
            Some(json!({"fields": {"postal_address": "Moscow, Arbat 2"}})),
        ),
        "erase_subject" => (
            Method::DELETE,
            format!("/v1/subjects/{}?reason=subject_request", subject().await),
            None,
        ),
        "destroy_subject_data" => (
            Method::POST,
            format!("/v1/subjects/{}/destruction", subject().await),
            Some(json!({"categories": ["contact"], "reason": "subject_request"})),
        ),
        "list_consents" => (Method::GET, format!("/v1/subjects/{}/consents", subject().await), None),
        "give_consent" => (
            Method::POST,
            format!("/v1/subjects/{}/consents", subject().await),
            Some(json!({"purpose": "analytics", "evidence": {"channel": "web_form"}})),
        ),
        "withdraw_consent" => (
            Method::DELETE,
            format!("/v1/subjects/{}/consents/marketing", subject().await),
            None,
        ),
        "consent_receipt" => (
            Method::GET,
            format!("/v1/subjects/{}/consents/marketing/receipt", subject().await),
            None,
        ),
        "consent_document_record" => (
            Method::GET,
            format!("/v1/subjects/{}/consent-documents/marketing_email", subject().await),
            None,
        ),
        "written_consent" => (
            Method::GET,
            format!("/v1/subjects/{}/consents/marketing/written-consent", subject().await),
            None,
        ),
        "may_contact" => (
            Method::GET,
            format!("/v1/subjects/{}/contact?class=marketing&channel=email", subject().await),
            None,
        ),
        "list_bases" => (Method::GET, format!("/v1/subjects/{}/bases", subject().await), None),
        "record_basis" => (
            Method::POST,
            format!("/v1/subjects/{}/bases", subject().await),
            Some(json!({"purpose": "payment", "kind": "established", "evidence": {"reference": "order 1"}})),
        ),
        "record_cookie_consent" => (
            Method::POST,
            format!("/v1/visitors/{visitor}/consents"),
            Some(json!({"banner_version": "v1", "choices": {"analytics": "granted"}})),
        ),
        "list_cookie_consents" => (Method::GET, format!("/v1/visitors/{visitor}/consents"), None),
        "link_visitor" => (
            Method::POST,
            format!("/v1/visitors/{visitor}/link"),
            Some(json!({"subject_id": subject().await})),
        ),
        "get_policy" => (Method::GET, "/v1/policy".into(), None),
        "list_policy_versions" => (Method::GET, "/v1/policy/versions".into(), None),
        "get_policy_version" => (Method::GET, format!("/v1/policy/versions/{hash}"), None),
        "diff_policy_versions" => (Method::GET, format!("/v1/policy/diff?from={hash}&to={hash}"), None),
        "publish_policy_version" => (
            Method::POST,
            "/v1/policy/versions".into(),
            Some(json!({"register": DEFAULT_POLICY})),
        ),
        "policy_acknowledgements" => (
            Method::GET,
            format!("/v1/policy/versions/{hash}/acknowledgements"),
            None,
        ),
        "list_policy_notices" => (
            Method::GET,
            format!("/v1/subjects/{}/policy-notices", subject().await),
            None,
        ),
        "record_policy_notice" => (
            Method::POST,
            format!("/v1/subjects/{}/policy-notices", subject().await),
            Some(json!({"kind": "accepted", "channel": "banner"})),
        ),
        "record_death" => (
            Method::POST,
            format!("/v1/subjects/{}/death", subject().await),
            Some(json!({"date_of_death": "2026-01-01", "document": "certificate 1"})),
        ),
        "get_death" => (Method::GET, format!("/v1/subjects/{}/death", subject().await), None),
        "list_keys" => (Method::GET, "/v1/keys".into(), None),
        "create_key" => (
            Method::POST,
            "/v1/keys".into(),
            Some(json!({"name": "made by the test", "role": "service", "purposes": ["marketing"]})),
        ),
        "revoke_key" => {
            let (_, id) = key(
                s,
                json!({"name": "to revoke", "role": "service", "purposes": ["marketing"]}),
            )
            .await;
            (Method::DELETE, format!("/v1/keys/{id}"), None)
        }
        "verify_journal" => (Method::GET, "/v1/journal/verify".into(), None),
        "create_checkpoint" => (Method::POST, "/v1/journal/checkpoints".into(), None),
        "compute_deadline" => (
            Method::GET,
            "/v1/deadlines?kind=access&regime=ru&received=2026-12-28T12:00:00%2B03:00".into(),
            None,
        ),
        "list_subjects" => (
            Method::GET,
            "/v1/subjects?state=active&no_consent_to=marketing&limit=5".into(),
            None,
        ),
        "list_journal_entries" => (
            Method::GET,
            format!(
                "/v1/journal/entries?subject={}&purpose=registration&limit=5",
                subject().await
            ),
            None,
        ),
        "place_block" => (
            Method::POST,
            format!("/v1/subjects/{}/blocks", subject().await),
            Some(json!({"categories": ["contact"], "reason": "inaccuracy_claimed"})),
        ),
        "list_blocks" => (Method::GET, format!("/v1/subjects/{}/blocks", subject().await), None),
        "lift_block" => {
            let anna = subject().await;
            let r = s
                .post(
                    &format!("/v1/subjects/{anna}/blocks"),
                    &s.admin,
                    json!({"reason": "legal_hold"}),
                )
                .await;
            let id = r.json_with(201)["id"].as_str().expect("block id").to_owned();
            (Method::DELETE, format!("/v1/subjects/{anna}/blocks/{id}"), None)
        }
        "list_destruction_acts" => (Method::GET, "/v1/destruction-acts?limit=5".into(), None),
        "get_destruction_act" => {
            let anna = subject().await;
            let r = s
                .delete(&format!("/v1/subjects/{anna}?reason=subject_request"), &s.admin)
                .await;
            let act = r.header("location").expect("the erasure names its act").to_owned();
            (Method::GET, act, None)
        }
        "send_notice" => (
            Method::POST,
            format!("/v1/subjects/{}/notices", subject().await),
            Some(json!({"template": "policy_changed"})),
        ),
        "list_outbox" => (Method::GET, "/v1/outbox?state=dead".into(), None),
        "access_report" => (
            Method::GET,
            format!("/v1/subjects/{}/access-report", subject().await),
            None,
        ),
        "create_export" => (
            Method::POST,
            format!("/v1/subjects/{}/exports", subject().await),
            Some(json!({"format": "json"})),
        ),
        "list_downloads" => (Method::GET, format!("/v1/downloads?subject={}", subject().await), None),
        // No such message: an allowed caller is told so (404), a refused one `forbidden`.
        "retry_message" => (
            Method::POST,
            "/v1/outbox/9b2f9a3c-58a3-4a4e-9a8e-0c8a7d5e2b11/retry".into(),
            None,
        ),
        "start_verification" => {
            let anna = subject().await;
            let request = crate::verifications::new_request(s, &anna).await;
            (
                Method::POST,
                "/v1/verifications".into(),
                Some(json!({"request": request, "subject": anna, "method": "vouched"})),
            )
        }
        "get_verification" => (Method::GET, format!("/v1/verifications/{}", vouched(s).await), None),
        "check_verification_code" => {
            let anna = subject().await;
            let id = crate::verifications::start_code(s, &anna).await;
            (
                Method::POST,
                format!("/v1/verifications/{id}/code"),
                Some(json!({"code": "000000"})),
            )
        }
        "resend_verification_code" => {
            let id = crate::verifications::start_code(s, &subject().await).await;
            (Method::POST, format!("/v1/verifications/{id}/resend"), None)
        }
        // A JSON body where the document is expected: refused as no PDF, JPEG or PNG, past
        // the authorization the test is about.
        "upload_verification_document" => (
            Method::PUT,
            format!("/v1/verifications/{}/document", vouched(s).await),
            Some(json!({})),
        ),
        "get_verification_document" | "decide_verification" => {
            let id = crate::verifications::with_document(s, &subject().await, "authz").await;
            if operation_id == "decide_verification" {
                let body = json!({"decision": "accept", "reason": "signature_matches"});
                (Method::POST, format!("/v1/verifications/{id}/decision"), Some(body))
            } else {
                (Method::GET, format!("/v1/verifications/{id}/document"), None)
            }
        }
        "file_request" => (
            Method::POST,
            "/v1/requests".into(),
            Some(json!({"subject_id": subject().await, "kind": "access", "channel": "subject"})),
        ),
        "list_requests" => (Method::GET, "/v1/requests?overdue=true&limit=5".into(), None),
        // Filed by the admin: a service key is told there is no such request (404), the
        // officer reads it, a refused role gets `forbidden`.
        "get_request" => (
            Method::GET,
            format!("/v1/requests/{}", filed(s, "in_progress").await),
            None,
        ),
        "pause_request" => (
            Method::POST,
            format!("/v1/requests/{}/pause", filed(s, "in_progress").await),
            Some(json!({"note": "which account?"})),
        ),
        "resume_request" => {
            let id = filed(s, "in_progress").await;
            let r = s.post(&format!("/v1/requests/{id}/pause"), &s.admin, json!({})).await;
            r.json_with(200);
            (Method::POST, format!("/v1/requests/{id}/resume"), None)
        }
        "verify_request" => (
            Method::POST,
            format!("/v1/requests/{}/verified", filed(s, "verifying").await),
            None,
        ),
        "extend_request" => (
            Method::POST,
            format!("/v1/requests/{}/extend", filed(s, "in_progress").await),
            Some(json!({"reason": "complexity"})),
        ),
        "refuse_request" => (
            Method::POST,
            format!("/v1/requests/{}/refuse", filed(s, "in_progress").await),
            Some(json!({"reason": "manifestly_unfounded"})),
        ),
        "complete_request" => (
            Method::POST,
            format!("/v1/requests/{}/complete", filed(s, "in_progress").await),
            Some(json!({})),
        ),
        other => panic!("`{other}`: no sample request for this route; add one to authz.rs"),
    }
}

/// An access request the admin filed for a new subject, `in_progress` (by `officer`) or
/// `verifying` (by `subject`); its id.
async fn filed(s: &Server, state: &str) -> String {
    let channel = if state == "verifying" { "subject" } else { "officer" };
    let r = s
        .post(
            "/v1/requests",
            &s.admin,
            json!({"subject_id": s.another_anna().await, "kind": "access", "channel": channel}),
        )
        .await;
    let v = r.json_with(201);
    assert_eq!(v["state"], state, "{v}");
    v["id"].as_str().expect("request id").to_owned()
}

/// The status a call was answered with; for a batch, that of its one subject.
/// A verified (vouched) verification of a new subject; its id.
async fn vouched(s: &Server) -> String {
    let anna = s.another_anna().await;
    let r = crate::verifications::start(s, &s.admin, &anna, "vouched").await;
    r.json_with(201)["id"].as_str().expect("id").to_owned()
}

fn answer(operation_id: &str, status: u16, body: &str) -> u16 {
    if operation_id == "create_subjects_batch" && status == 200 {
        let v: Value = serde_json::from_str(body).expect("a batch answers JSON");
        return v["results"][0]["problem"]["status"]
            .as_u64()
            .map_or(200, |s| u16::try_from(s).expect("a status"));
    }
    status
}

both_backends!(every_route_answers_every_role_as_the_table_says);
async fn every_route_answers_every_role_as_the_table_says(s: Server) {
    let hash = s.get("/v1/policy", &s.admin).await.json_with(200)["hash"]
        .as_str()
        .expect("hash")
        .to_owned();
    let (officer, _) = key(&s, json!({"name": "officer", "role": "officer"})).await;
    let all = ["registration", "payment", "marketing", "analytics"];
    let (service, _) = key(&s, json!({"name": "website", "role": "service", "purposes": all})).await;
    let (without, _) = key(
        &s,
        json!({"name": "books", "role": "service", "purposes": ["accounting"]}),
    )
    .await;
    let mut revoked = Vec::new();
    for body in [
        json!({"name": "old admin", "role": "admin"}),
        json!({"name": "old officer", "role": "officer"}),
        json!({"name": "old website", "role": "service", "purposes": all}),
    ] {
        let (token, id) = key(&s, body).await;
        assert_eq!(s.delete(&format!("/v1/keys/{id}"), &s.admin).await.status, 204);
        revoked.push(token);
    }
    let callers = [
        Who {
            label: "admin",
            token: s.admin.clone(),
            role: Role::Admin,
            without_purpose: false,
        },
        Who {
            label: "officer",
            token: officer,
            role: Role::Officer,
            without_purpose: false,
        },
        Who {
            label: "service with the purposes",
            token: service,
            role: Role::Service,
            without_purpose: false,
        },
        Who {
            label: "service without the purpose",
            token: without,
            role: Role::Service,
            without_purpose: true,
        },
    ];
    let wrong = format!("ward_nosuchkey_{}", "A".repeat(43));
    let mut checked = 0;
    for (template, item) in s.spec["paths"].as_object().expect("paths").clone() {
        for (method, op) in item.as_object().expect("path item") {
            let id = op["operationId"].as_str().expect("operation id");
            if !template.starts_with("/v1/") || ward_api::PUBLIC_PATHS.contains(&template.as_str()) {
                assert!(op.get("x-ward-roles").is_none() && op.get("security").is_none(), "{id}");
                continue;
            }
            let name = op["x-ward-operation"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {template} ({id}): no row of the authorization table"));
            let operation: Operation = name
                .parse()
                .unwrap_or_else(|_| panic!("{id}: `{name}` is no operation"));
            let roles: Vec<&str> = roles_for(operation).iter().map(|r| r.as_str()).collect();
            assert_eq!(
                op["x-ward-roles"],
                json!(roles),
                "{id}: the document's roles are the table's"
            );
            let bound: Vec<&str> = Role::ALL
                .iter()
                .filter(|r| allowance(**r, operation) == Allowance::OwnPurposes)
                .map(|r| r.as_str())
                .collect();
            assert_eq!(op["x-ward-purpose-bound"], json!(bound), "{id}");
            let description = op["description"].as_str().unwrap_or_default();
            assert!(description.contains("Roles allowed: "), "{id}: {description}");

            let unauthenticated = [None, Some(wrong.as_str())]
                .into_iter()
                .chain(revoked.iter().map(|t| Some(t.as_str())));
            for token in unauthenticated {
                let (m, path, body) = sample(&s, id, &hash).await;
                let r = s.call(m, &path, token, body).await;
                s.problem(&r, 401, "unauthorized");
            }
            for who in &callers {
                let (m, path, body) = sample(&s, id, &hash).await;
                let r = s.call(m.clone(), &path, Some(&who.token), body).await;
                let got = answer(id, r.status, &r.text);
                match expected(who, operation) {
                    Expect::Forbidden => assert_eq!(
                        got, 403,
                        "{m} {path} as {}: the table refuses it: {}",
                        who.label, r.text
                    ),
                    Expect::Allowed => assert!(
                        got != 401 && got != 403,
                        "{m} {path} as {}: the table allows it, answered {got}: {}",
                        who.label,
                        r.text
                    ),
                }
                if allowance(who.role, operation) == Allowance::Refused {
                    s.problem(&r, 403, "forbidden");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 4 * 32, "{checked} calls");
}

both_backends!(no_key_is_issued_for_a_data_subject_and_the_table_allows_them_nothing);
async fn no_key_is_issued_for_a_data_subject_and_the_table_allows_them_nothing(s: Server) {
    let r = s
        .post("/v1/keys", &s.admin, json!({"name": "a subject", "role": "subject"}))
        .await;
    s.problem(&r, 400, "invalid_json");
    for op in Operation::ALL {
        assert_eq!(allowance(Role::Subject, *op), Allowance::Refused, "{op}");
    }
}

both_backends!(an_officer_key_is_created_without_purposes_and_listed_as_officer);
async fn an_officer_key_is_created_without_purposes_and_listed_as_officer(s: Server) {
    let r = s
        .post(
            "/v1/keys",
            &s.admin,
            json!({"name": "dpo", "role": "officer", "purposes": ["marketing"]}),
        )
        .await;
    s.problem(&r, 422, "purposes_not_applicable");
    let (officer, _) = key(&s, json!({"name": "dpo", "role": "officer"})).await;
    let keys = s.get("/v1/keys", &s.admin).await.json_with(200);
    assert!(
        keys["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k["name"] == "dpo" && k["role"] == "officer"),
        "{keys}"
    );
    // The officer reads through a named purpose, and collects nothing.
    let anna = s.anna().await;
    let r = s
        .get(&format!("/v1/subjects/{anna}?purpose=registration"), &officer)
        .await;
    assert_eq!(r.json_with(200)["fields"]["email"], "anna.petrova@example.ru");
    let r = s.post("/v1/subjects", &officer, anna_body()).await;
    s.problem(&r, 403, "forbidden");
    let r = s.get("/v1/keys", &officer).await;
    s.problem(&r, 403, "forbidden");
}

/// docs/api.md's table of who may call what is the core's, row for row.
#[test]
fn the_documented_authorization_table_is_the_cores() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cell = |a: Allowance| match a {
        Allowance::Allowed => "yes",
        Allowance::OwnPurposes => "own purposes",
        Allowance::Refused => "—",
    };
    let expected: Vec<String> = Operation::ALL
        .iter()
        .map(|op| {
            let cells: Vec<&str> = Role::ALL.iter().map(|r| cell(allowance(*r, *op))).collect();
            format!("| `{op}` | {} |", cells.join(" | "))
        })
        .collect();
    let header: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let header = format!("| operation | {} |", header.join(" | "));
    let documented: Vec<String> = doc
        .lines()
        .skip_while(|l| *l != header)
        .skip(2)
        .take_while(|l| l.starts_with("| `"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        documented, expected,
        "regenerate the table in docs/api.md from ward_core::authz"
    );
}
