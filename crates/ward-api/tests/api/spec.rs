use crate::support::{both_backends, Server};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Every route the API is meant to serve.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
    ("POST", "/v1/subjects"),
    ("GET", "/v1/subjects"),
    ("GET", "/v1/journal/entries"),
    ("GET", "/v1/subjects/{id}"),
    ("PATCH", "/v1/subjects/{id}"),
    ("DELETE", "/v1/subjects/{id}"),
    ("POST", "/v1/subjects/{id}/destruction"),
    ("POST", "/v1/subjects/lookup"),
    ("POST", "/v1/subjects/batch"),
    ("GET", "/v1/subjects/{id}/consents"),
    ("POST", "/v1/subjects/{id}/consents"),
    ("GET", "/v1/subjects/{id}/bases"),
    ("POST", "/v1/subjects/{id}/bases"),
    ("DELETE", "/v1/subjects/{id}/consents/{purpose}"),
    ("GET", "/v1/subjects/{id}/consents/{purpose}/receipt"),
    ("GET", "/v1/subjects/{id}/contact"),
    ("GET", "/v1/subjects/{id}/consents/{purpose}/written-consent"),
    ("GET", "/v1/subjects/{id}/consent-documents/{document}"),
    ("GET", "/v1/subjects/{id}/policy-notices"),
    ("POST", "/v1/subjects/{id}/policy-notices"),
    ("GET", "/v1/subjects/{id}/death"),
    ("POST", "/v1/subjects/{id}/death"),
    ("GET", "/v1/visitors/{visitor_id}/consents"),
    ("POST", "/v1/visitors/{visitor_id}/consents"),
    ("POST", "/v1/visitors/{visitor_id}/link"),
    ("GET", "/v1/policy"),
    ("GET", "/v1/policy/versions"),
    ("POST", "/v1/policy/versions"),
    ("GET", "/v1/policy/versions/{hash}"),
    ("GET", "/v1/policy/versions/{hash}/acknowledgements"),
    ("GET", "/v1/policy/diff"),
    ("GET", "/v1/keys"),
    ("POST", "/v1/keys"),
    ("DELETE", "/v1/keys/{id}"),
    ("GET", "/v1/journal/verify"),
    ("POST", "/v1/journal/checkpoints"),
    ("GET", "/v1/deadlines"),
    ("GET", "/v1/destruction-acts"),
    ("GET", "/v1/destruction-acts/{id}"),
    ("GET", "/v1/subjects/{id}/blocks"),
    ("POST", "/v1/subjects/{id}/blocks"),
    ("DELETE", "/v1/subjects/{id}/blocks/{block_id}"),
    ("POST", "/v1/subjects/{id}/notices"),
    ("GET", "/v1/outbox"),
    ("POST", "/v1/outbox/{id}/retry"),
    ("POST", "/v1/verifications"),
    ("GET", "/v1/verifications/{id}"),
    ("POST", "/v1/verifications/{id}/code"),
    ("POST", "/v1/verifications/{id}/resend"),
    ("PUT", "/v1/verifications/{id}/document"),
    ("GET", "/v1/verifications/{id}/document"),
    ("POST", "/v1/verifications/{id}/decision"),
    ("GET", "/v1/requests"),
    ("POST", "/v1/requests"),
    ("GET", "/v1/requests/{id}"),
    ("POST", "/v1/requests/{id}/pause"),
    ("POST", "/v1/requests/{id}/resume"),
    ("POST", "/v1/requests/{id}/verified"),
    ("POST", "/v1/requests/{id}/extend"),
    ("POST", "/v1/requests/{id}/refuse"),
    ("POST", "/v1/requests/{id}/complete"),
    ("GET", "/v1/subjects/{id}/access-report"),
    ("POST", "/v1/subjects/{id}/exports"),
    ("GET", "/v1/downloads"),
    ("GET", "/v1/downloads/{token}"),
];

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

fn spec_routes(spec: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            if ["get", "put", "post", "delete", "options", "head", "patch", "trace"].contains(&method.as_str()) {
                out.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    out
}

fn concrete(template: &str) -> String {
    let id = if template.starts_with("/v1/keys/") {
        "nosuchkey".to_owned()
    } else {
        uuid::Uuid::new_v4().to_string()
    };
    template
        .replace("{id}", &id)
        .replace("{purpose}", "marketing")
        .replace("{visitor_id}", "visitor-0001")
        .replace("{block_id}", &uuid::Uuid::new_v4().to_string())
        .replace("{token}", &"A".repeat(43))
}

/// Whether the router itself refused: no such route, or not this method.
fn unrouted(r: &crate::support::Resp) -> bool {
    (r.status == 404 && r.text.contains("\"code\":\"not_found\"")) || r.status == 405
}

both_backends!(the_served_document_is_the_generated_one_and_needs_no_key);
async fn the_served_document_is_the_generated_one_and_needs_no_key(s: Server) {
    let r = s.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let served = r.json();
    assert_eq!(served, s.spec);
    assert!(served["openapi"].as_str().unwrap().starts_with("3."));
}

both_backends!(the_document_lists_exactly_the_routes_the_router_serves);
async fn the_document_lists_exactly_the_routes_the_router_serves(s: Server) {
    let expected: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    assert_eq!(spec_routes(&s.spec), expected);

    let paths: BTreeSet<&str> = ROUTES.iter().map(|(_, p)| *p).collect();
    for path in paths {
        for method in METHODS {
            let declared = expected.contains(&((*method).to_owned(), path.to_owned()));
            let url = concrete(path);
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let r = s.call(m, &url, Some(&s.admin), Some(json!({}))).await;
            assert_eq!(!unrouted(&r), declared, "{method} {url}: {} {}", r.status, r.text);
        }
    }
}

both_backends!(the_document_declares_schemas_security_and_problem_codes);
async fn the_document_declares_schemas_security_and_problem_codes(s: Server) {
    let spec = &s.spec;
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    for name in [
        "Problem",
        "FieldError",
        "CreateSubjectRequest",
        "EvidenceBody",
        "CreatedSubject",
        "SubjectBody",
        "LookupRequest",
        "LookupResult",
        "RectifyRequest",
        "DestructionBody",
        "DestroyedBody",
        "ConsentList",
        "ConsentBody",
        "GiveConsentRequest",
        "CookieConsentRequest",
        "CookieConsentBody",
        "CookieChoicesBody",
        "CookieConsentList",
        "LinkVisitorRequest",
        "PolicyBody",
        "KeyList",
        "KeyBody",
        "CreateKeyRequest",
        "CreatedKey",
        "VerifyBody",
        "TamperBody",
        "CheckpointBody",
        "Health",
    ] {
        assert!(schemas.contains_key(name), "schema {name} is not declared");
    }
    assert_eq!(spec["components"]["securitySchemes"]["bearer"]["type"], "http");
    assert_eq!(spec["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

    // Every reference resolves.
    let mut refs = Vec::new();
    collect_refs(spec, &mut refs);
    assert!(refs.len() > 20);
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(schemas.contains_key(name), "$ref {r} does not resolve");
    }

    for (method, path) in ROUTES {
        let op = &spec["paths"][path][method.to_ascii_lowercase()];
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|k| k.starts_with('2')),
            "{method} {path}: no success response"
        );
        if path.starts_with("/v1/") && !ward_api::PUBLIC_PATHS.contains(path) {
            assert_eq!(op["security"], json!([{"bearer": []}]), "{method} {path}");
            assert_eq!(
                responses["401"]["x-problem-codes"],
                json!(["unauthorized"]),
                "{method} {path}"
            );
        } else {
            assert!(op.get("security").is_none_or(Value::is_null), "{method} {path}");
        }
        let content = &op["requestBody"]["content"];
        if op.get("requestBody").is_some() && content.get("application/json").is_none() {
            // A raw upload (a scanned document): binary in each type, checked by its handler.
            for (_, c) in content.as_object().expect("content") {
                let name = c["schema"]["$ref"].as_str().unwrap_or_default().rsplit('/').next();
                let schema = &schemas[name.unwrap_or_default()];
                assert_eq!(
                    (&schema["type"], &schema["format"]),
                    (&json!("string"), &json!("binary")),
                    "{method} {path}"
                );
            }
            for code in ["document_too_large", "unsupported_document_type"] {
                assert!(
                    op["x-problem-codes"].as_array().unwrap().contains(&json!(code)),
                    "{method} {path}: {code}"
                );
            }
        } else if op.get("requestBody").is_some() {
            let body = &op["requestBody"]["content"]["application/json"]["schema"]["$ref"];
            assert!(body.is_string(), "{method} {path}: request body has no schema");
            for code in [
                "invalid_json",
                "unknown_field_in_body",
                "unsupported_media_type",
                "body_too_large",
            ] {
                assert!(
                    op["x-problem-codes"].as_array().unwrap().contains(&json!(code)),
                    "{method} {path}: {code}"
                );
            }
        }
        for (status, response) in responses {
            if status.starts_with('2') {
                continue;
            }
            let codes = response["x-problem-codes"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} {status}: no x-problem-codes"));
            assert!(!codes.is_empty());
            let description = response["description"].as_str().unwrap();
            for code in codes {
                let code = code.as_str().unwrap();
                assert!(
                    description.contains(&format!("`{code}`")),
                    "{method} {path} {status}: {code} not described"
                );
                let kind = ward_api::problem_kind(code).unwrap_or_else(|| panic!("{code} is not catalogued"));
                assert_eq!(kind.status.to_string(), *status, "{code}");
            }
            assert_eq!(
                response["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem"
            );
        }
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.extend(v.as_str().map(str::to_owned));
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}
