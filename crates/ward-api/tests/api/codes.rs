//! The problem codes of the extractors, provoked on every operation that takes the input
//! they check. Each answer is also checked by the support's `Server::checked`: its code must
//! be one the spec declares for that operation, so an operation whose list forgets a code its
//! extractors can return fails here.

use crate::support::{both_backends, Resp, Server};
use reqwest::Method;
use serde_json::{json, Value};

/// One operation of the document: its method, path template and operation object.
struct Op {
    method: Method,
    template: String,
    op: Value,
}

impl Op {
    fn takes_body(&self) -> bool {
        self.op.get("requestBody").is_some()
    }

    /// Whether the body is JSON (a document upload takes raw bytes and checks them itself).
    fn takes_json(&self) -> bool {
        self.op["requestBody"]["content"].get("application/json").is_some()
    }

    fn takes_query(&self) -> bool {
        self.op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"))
    }

    /// The path with every parameter filled with a well-formed value, and `param`, if
    /// given, with `raw` instead.
    fn path_with(&self, param: Option<(&str, &str)>) -> String {
        let mut out = Vec::new();
        for segment in self.template.split('/') {
            let value = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if param.is_some_and(|(p, _)| p == name) => param.map(|(_, raw)| raw.to_owned()),
                Some("id") if self.template.starts_with("/v1/keys/") => Some("nosuchkey".to_owned()),
                Some("id") => Some(uuid::Uuid::new_v4().to_string()),
                Some("purpose") => Some("marketing".to_owned()),
                Some("visitor_id") => Some("visitor-0001".to_owned()),
                Some("document") => Some("marketing".to_owned()),
                Some("hash") => Some("0000000000".to_owned()),
                Some("block_id") => Some(uuid::Uuid::new_v4().to_string()),
                Some("token") => Some("A".repeat(43)),
                Some(other) => panic!("{}: no value for the parameter `{other}`", self.template),
                None => None,
            };
            out.push(value.unwrap_or_else(|| segment.to_owned()));
        }
        out.join("/")
    }

    fn params(&self) -> Vec<String> {
        self.template
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect()
    }
}

fn operations(s: &Server) -> Vec<Op> {
    let mut out = Vec::new();
    for (template, item) in s.spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                continue;
            };
            out.push(Op {
                method,
                template: template.clone(),
                op: op.clone(),
            });
        }
    }
    assert!(out.len() > 30, "{} operations", out.len());
    out
}

fn assert_code(op: &Op, r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "{} {}: {}", op.method, op.template, r.text);
    assert_eq!(r.json()["code"], code, "{} {}: {}", op.method, op.template, r.text);
}

both_backends!(every_v1_operation_refuses_a_missing_or_wrong_token);
async fn every_v1_operation_refuses_a_missing_or_wrong_token(s: Server) {
    let public = |op: &&Op| ward_api::PUBLIC_PATHS.contains(&op.template.as_str());
    for op in operations(&s)
        .iter()
        .filter(|op| op.template.starts_with("/v1/") && !public(op))
    {
        let path = op.path_with(None);
        let body = op.takes_body().then(|| json!({}));
        let r = s.call(op.method.clone(), &path, None, body.clone()).await;
        assert_code(op, &r, 401, "unauthorized");
        let r = s.call(op.method.clone(), &path, Some("ward_nope_nope"), body).await;
        assert_code(op, &r, 401, "unauthorized");
    }
}

both_backends!(every_operation_with_a_body_refuses_a_bad_one);
async fn every_operation_with_a_body_refuses_a_bad_one(s: Server) {
    for op in operations(&s).iter().filter(|op| op.takes_json()) {
        let path = op.path_with(None);
        let m = || op.method.clone();
        let r = s.call_raw(m(), &path, Some(&s.admin), Some("text/plain"), "{}").await;
        assert_code(op, &r, 415, "unsupported_media_type");
        let r = s
            .call_raw(m(), &path, Some(&s.admin), Some("application/json"), "{,")
            .await;
        assert_code(op, &r, 400, "invalid_json");
        let r = s
            .call_raw(m(), &path, Some(&s.admin), Some("application/json"), "")
            .await;
        assert_code(op, &r, 400, "invalid_json");
        let r = s
            .call_raw(
                m(),
                &path,
                Some(&s.admin),
                Some("application/json"),
                r#"{"no_such_field": 1}"#,
            )
            .await;
        assert_code(op, &r, 400, "unknown_field_in_body");
        // Larger than any route's limit (the batch route's is 2 MiB).
        let huge = format!("{{\"x\": \"{}\"}}", "a".repeat(3 * 1024 * 1024));
        let r = s
            .call_raw(m(), &path, Some(&s.admin), Some("application/json"), huge)
            .await;
        assert_code(op, &r, 413, "body_too_large");
    }
}

/// A body each operation with a body and an id in its path accepts, so that the handler runs
/// and parses the id (the extractors check the body first).
fn well_formed_body(op: &Op) -> Option<Value> {
    if !op.takes_json() {
        return None;
    }
    let body = match (op.method.as_str(), op.template.as_str()) {
        ("PATCH", "/v1/subjects/{id}") => json!({"fields": {}}),
        ("POST", "/v1/subjects/{id}/consents") => json!({"purpose": "marketing", "evidence": {"channel": "web_form"}}),
        ("POST", "/v1/subjects/{id}/policy-notices") => json!({"kind": "notified", "channel": "email"}),
        ("POST", "/v1/subjects/{id}/destruction") => json!({"categories": ["contact"], "reason": "subject_request"}),
        ("POST", "/v1/subjects/{id}/bases") => {
            json!({"purpose": "accounting", "kind": "established", "evidence": {"reference": "order 1"}})
        }
        ("POST", "/v1/subjects/{id}/notices") => json!({"template": "policy_changed"}),
        ("POST", "/v1/subjects/{id}/death") => json!({"date_of_death": "2026-01-01", "document": "certificate"}),
        ("POST", "/v1/subjects/{id}/blocks") => json!({"reason": "legal_hold"}),
        ("POST", "/v1/subjects/{id}/exports") => json!({"format": "json"}),
        ("POST", "/v1/visitors/{visitor_id}/consents") => json!({"banner_version": "v1", "choices": {}}),
        ("POST", "/v1/verifications/{id}/code") => json!({"code": "123456"}),
        ("POST", "/v1/verifications/{id}/decision") => json!({"decision": "accept", "reason": "signature_matches"}),
        ("POST", "/v1/visitors/{visitor_id}/link") => json!({"subject_id": uuid::Uuid::new_v4().to_string()}),
        ("POST", "/v1/requests/{id}/pause" | "/v1/requests/{id}/complete") => json!({}),
        ("POST", "/v1/requests/{id}/extend") => json!({"reason": "complexity"}),
        ("POST", "/v1/requests/{id}/refuse") => json!({"reason": "no_match"}),
        _ if op.params().is_empty() => json!({}),
        _ => panic!("{} {}: add a well-formed body here", op.method, op.template),
    };
    Some(body)
}

/// A query string the operation accepts, for the same reason.
fn well_formed_query(op: &Op) -> &'static str {
    match op.template.as_str() {
        "/v1/subjects/{id}/contact" => "?class=service&channel=email",
        "/v1/subjects/{id}" if op.method != Method::DELETE => "?purpose=registration",
        _ => "",
    }
}

both_backends!(every_path_parameter_refuses_a_bad_one);
async fn every_path_parameter_refuses_a_bad_one(s: Server) {
    for op in operations(&s) {
        let body = well_formed_body(&op);
        for param in op.params() {
            // Not UTF-8 once percent-decoded: no route can take it.
            let path = op.path_with(Some((&param, "%FF")));
            let r = s.call(op.method.clone(), &path, Some(&s.admin), body.clone()).await;
            assert_code(&op, &r, 400, "invalid_path");
            let malformed = match param.as_str() {
                "id" if op.template.starts_with("/v1/subjects/") => Some("invalid_subject_id"),
                "id" if op.template.starts_with("/v1/destruction-acts/") => Some("invalid_act_id"),
                "id" if op.template.starts_with("/v1/verifications/") => Some("invalid_verification_id"),
                "id" if op.template.starts_with("/v1/requests/") => Some("invalid_request_id"),
                "visitor_id" => Some("invalid_visitor_id"),
                "block_id" => Some("invalid_block_id"),
                _ => None,
            };
            if let Some(code) = malformed {
                let path = format!(
                    "{}{}",
                    op.path_with(Some((&param, "not%20an%20id"))),
                    well_formed_query(&op)
                );
                let r = s.call(op.method.clone(), &path, Some(&s.admin), body.clone()).await;
                assert_code(&op, &r, 400, code);
            }
        }
    }
}

both_backends!(every_operation_with_a_query_refuses_an_unknown_parameter);
async fn every_operation_with_a_query_refuses_an_unknown_parameter(s: Server) {
    let mut seen = 0;
    for op in operations(&s).iter().filter(|op| op.takes_query()) {
        seen += 1;
        let path = format!("{}?no_such_parameter=1", op.path_with(None));
        let body = op.takes_body().then(|| json!({"fields": {}}));
        let r = s.call(op.method.clone(), &path, Some(&s.admin), body).await;
        assert_code(op, &r, 400, "invalid_query");
    }
    assert!(seen >= 3, "{seen} operations take a query");
}

/// docs/api.md's table of codes by status is the enum's, row for row.
#[test]
fn the_documented_table_of_codes_is_the_enums() {
    use std::collections::BTreeSet;
    use ward_api::ProblemCode;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut documented = BTreeSet::new();
    let mut in_table = false;
    for line in doc.lines() {
        if line.starts_with("| status | codes |") {
            in_table = true;
            continue;
        }
        if !in_table || line.starts_with("|---") {
            continue;
        }
        let Some(row) = line.strip_prefix("| ") else { break };
        let (status, codes) = row.split_once(" | ").expect("a status and its codes");
        let status: u16 = status.parse().unwrap_or_else(|_| panic!("not a status: {line}"));
        for quoted in codes.split('`').skip(1).step_by(2) {
            if quoted.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                let code = ProblemCode::parse(quoted).unwrap_or_else(|| panic!("`{quoted}` is no ProblemCode"));
                assert!(documented.insert((code.status(), code.as_str())), "`{quoted}` twice");
                assert_eq!(status, code.status(), "`{quoted}` is documented under the wrong status");
            }
        }
    }
    let expected: BTreeSet<(u16, &str)> = ProblemCode::ALL.iter().map(|c| (c.status(), c.as_str())).collect();
    assert_eq!(documented, expected);
}

both_backends!(codes_the_handlers_return_past_their_extractors_are_declared);
/// Codes a reading of the handlers found missing from the spec: erasure refused to a key
/// none of whose purposes covers destruction, and a rectification outside the consent's scope.
/// `Server::checked` fails the test if the spec does not declare them.
async fn codes_the_handlers_return_past_their_extractors_are_declared(s: Server) {
    use ward_core::policy::DEFAULT_POLICY;
    let anna = s.anna().await;
    let register = format!(
        "{}\n[purposes.publication]\ntitle = \"Publishing the author's profile\"\nlegal_basis = \"consent\"\ncategories = [\"identity\", \"contact\"]\nactions = [\"retrieval\", \"rectification\", \"distribution\"]\n\n[consent_documents.publication]\ntitle = \"Consent to make data public\"\nkind = \"distribution\"\npurposes = [\"publication\"]\nwithdrawal = \"Write to privacy@example.com.\"\ntext = \"I permit the data listed below to be made public.\"\n",
        DEFAULT_POLICY.replace("version = \"1\"", "version = \"2\"")
    );
    let r = s
        .post("/v1/policy/versions", &s.admin, json!({"register": register}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let evidence = json!({"channel": "web_form", "distribution": {"categories": {"identity": {}}}});
    let r = s
        .post(
            &format!("/v1/subjects/{anna}/consents"),
            &s.admin,
            json!({"purpose": "publication", "evidence": evidence}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    let r = s
        .patch(
            &format!("/v1/subjects/{anna}?purpose=publication"),
            &s.admin,
            json!({"fields": {"email": "anna@example.org"}}),
        )
        .await;
    s.problem(&r, 403, "consent_scope_exceeded");

    let publisher = s.service_key(&["publication"]).await;
    let r = s
        .delete(&format!("/v1/subjects/{anna}?reason=subject_request"), &publisher)
        .await;
    s.problem(&r, 403, "forbidden");
}
