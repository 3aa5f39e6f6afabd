//! No client text in the journal. Every free-text input of every operation in
//! `/openapi.json` (each string in a request body, query, path or header whose schema is not
//! an enumeration, a UUID or a date-time) is sent, one at a time, holding its own marker
//! e-mail address over a request that otherwise succeeds; then the journal table is read raw
//! and must hold none of the markers. The inputs come from the document, so a new operation
//! or a new property is covered as soon as it is served; an operation without a baseline
//! request below fails the test, naming the inputs it takes.

use crate::support::{another_anna, both_backends, Server};
use reqwest::Method;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use ward_core::policy::DEFAULT_POLICY;

/// A request of one operation: its path parameters, query, headers and body.
#[derive(Clone)]
pub(crate) struct Req {
    pub params: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub body: Option<Value>,
    /// A raw body with its content type, sent instead of `body` (a document upload).
    pub raw: Option<(String, Vec<u8>)>,
}

impl Req {
    fn new() -> Self {
        Req {
            params: BTreeMap::new(),
            query: BTreeMap::new(),
            headers: BTreeMap::new(),
            body: None,
            raw: None,
        }
    }
    fn param(mut self, k: &str, v: impl Into<String>) -> Self {
        self.params.insert(k.into(), v.into());
        self
    }
    fn query(mut self, k: &str, v: &str) -> Self {
        self.query.insert(k.into(), v.into());
        self
    }
    fn body(mut self, b: Value) -> Self {
        self.body = Some(b);
        self
    }
}

/// The free-text inputs of an operation, as `in.name` paths: `body.evidence.channel`,
/// `body.subjects[].fields.*`, `query.purpose`, `path.visitor_id`, `header.Sec-GPC`.
fn free_text_inputs(spec: &Value, op: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for p in op["parameters"].as_array().into_iter().flatten() {
        let name = format!(
            "{}.{}",
            p["in"].as_str().unwrap_or("?"),
            p["name"].as_str().unwrap_or("?")
        );
        walk(spec, &p["schema"], &name, &mut out);
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        for c in content.values() {
            walk(spec, &c["schema"], "body", &mut out);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn resolve<'a>(spec: &'a Value, mut s: &'a Value) -> &'a Value {
    while let Some(r) = s["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or_default();
        s = &spec["components"]["schemas"][name];
    }
    s
}

fn walk(spec: &Value, schema: &Value, at: &str, out: &mut Vec<String>) {
    let s = resolve(spec, schema);
    for k in ["allOf", "oneOf", "anyOf"] {
        for sub in s[k].as_array().into_iter().flatten() {
            walk(spec, sub, at, out);
        }
    }
    let types: Vec<&str> = match &s["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"object") || s.get("properties").is_some() {
        for (name, sub) in s["properties"].as_object().into_iter().flatten() {
            walk(spec, sub, &format!("{at}.{name}"), out);
        }
        if s["additionalProperties"].is_object() {
            walk(spec, &s["additionalProperties"], &format!("{at}.*"), out);
        }
    } else if types.contains(&"array") {
        walk(spec, &s["items"], &format!("{at}[]"), out);
    } else if types.contains(&"string") {
        // A binary body (a scanned document) is no text: the journal gets only its digest.
        let closed = s.get("enum").is_some() || matches!(s["format"].as_str(), Some("uuid" | "date-time" | "binary"));
        if !closed {
            out.push(at.to_owned());
        }
    }
}

/// The requests that put `marker` into `input` of `base`: one, or one per key of a map
/// (`*`), so that each variant changes a single value.
fn with_marker(base: &Req, input: &str, marker: &str) -> Vec<Req> {
    let (place, rest) = input.split_once('.').expect("in.name");
    let mut req = base.clone();
    match place {
        "path" => {
            req.params.insert(rest.into(), marker.into());
            vec![req]
        }
        "query" => {
            req.query.insert(rest.into(), marker.into());
            vec![req]
        }
        "header" => {
            req.headers.insert(rest.into(), marker.into());
            vec![req]
        }
        "body" => {
            let body = base.body.clone().unwrap_or_else(|| json!({}));
            let segments: Vec<&str> = rest.split('.').collect();
            set_all(body, &segments, marker)
                .into_iter()
                .map(|b| Req {
                    body: Some(b),
                    ..base.clone()
                })
                .collect()
        }
        other => panic!("an input in `{other}`"),
    }
}

/// `v` with the value at `path` set to `marker`, creating what is missing; one result per
/// existing key where the path says `*`.
fn set_all(v: Value, path: &[&str], marker: &str) -> Vec<Value> {
    let Some((head, tail)) = path.split_first() else {
        return vec![Value::String(marker.into())];
    };
    if let Some(name) = head.strip_suffix("[]") {
        // An array: the marker goes into its first element.
        let mut obj = v.as_object().cloned().unwrap_or_default();
        let mut items = obj.get(name).and_then(Value::as_array).cloned().unwrap_or_default();
        let first = items.first().cloned().unwrap_or_else(|| json!({}));
        return set_all(first, tail, marker)
            .into_iter()
            .map(|f| {
                if items.is_empty() {
                    items.push(Value::Null);
                }
                items[0] = f;
                obj.insert(name.into(), Value::Array(items.clone()));
                Value::Object(obj.clone())
            })
            .collect();
    }
    let mut obj: Map<String, Value> = v.as_object().cloned().unwrap_or_default();
    let keys: Vec<String> = if *head == "*" {
        match obj.keys().cloned().collect::<Vec<_>>() {
            k if k.is_empty() => vec!["x".into()],
            k => k,
        }
    } else {
        vec![(*head).to_owned()]
    };
    let mut out = Vec::new();
    for k in keys {
        let inner = obj.get(&k).cloned().unwrap_or_else(|| json!({}));
        for i in set_all(inner, tail, marker) {
            let mut o = obj.clone();
            o.insert(k.clone(), i);
            out.push(Value::Object(o));
        }
    }
    obj.clear();
    out
}

/// A registration that also records a basis event, so that the event's evidence is scanned
/// on a request that succeeds.
fn with_basis(mut body: Value) -> Value {
    body["bases"] =
        json!([{"purpose": "accounting", "kind": "established", "evidence": {"reference": "order 1", "note": "paid"}}]);
    body
}

/// A request of the operation that succeeds, on state made for it (a new subject, key or
/// visitor each time, so that destructive operations do not disturb the next request).
/// `None`: no baseline is known, and the test fails naming the operation.
pub(crate) async fn baseline(s: &Server, method: &Method, template: &str) -> Option<Req> {
    let hash = s.vault.policies().current_hash();
    let subject = || async { Req::new().param("id", s.another_anna().await) };
    Some(match (method.as_str(), template) {
        ("GET", "/healthz" | "/metrics" | "/openapi.json" | "/v1/journal/verify" | "/v1/keys" | "/v1/policy")
        | ("GET", "/v1/subjects" | "/v1/journal/entries")
        | ("GET", "/v1/policy/versions")
        | ("POST", "/v1/journal/checkpoints") => Req::new(),
        ("GET", "/v1/deadlines") => Req::new()
            .query("kind", "access")
            .query("regime", "ru")
            .query("received", "2026-12-28T12:00:00+03:00"),
        ("POST", "/v1/keys") => Req::new().body(json!({"name": "site", "role": "service", "purposes": ["marketing"]})),
        ("DELETE", "/v1/keys/{id}") => {
            let r = s
                .post(
                    "/v1/keys",
                    &s.admin,
                    json!({"name": "old", "role": "service", "purposes": ["marketing"]}),
                )
                .await;
            Req::new().param("id", r.json_with(201)["id"].as_str().expect("key id"))
        }
        ("GET", "/v1/policy/diff") => Req::new().query("from", &hash).query("to", &hash),
        ("POST", "/v1/policy/versions") => Req::new().body(json!({"register": DEFAULT_POLICY})),
        ("GET", "/v1/policy/versions/{hash}" | "/v1/policy/versions/{hash}/acknowledgements") => {
            Req::new().param("hash", hash)
        }
        ("POST", "/v1/subjects") => Req::new().body(with_basis(another_anna())),
        ("POST", "/v1/subjects/batch") => Req::new().body(json!({"subjects": [with_basis(another_anna())]})),
        ("POST", "/v1/subjects/lookup") => {
            Req::new().body(json!({"field": "email", "purpose": "registration", "value": "anna.petrova@example.ru"}))
        }
        ("GET", "/v1/subjects/{id}") => subject()
            .await
            .query("purpose", "registration")
            .query("fields", "email"),
        ("PATCH", "/v1/subjects/{id}") => subject()
            .await
            .query("purpose", "registration")
            .body(json!({"fields": {"full_name": "Anna P", "postal_address": "Moscow"}})),
        ("DELETE", "/v1/subjects/{id}") => subject().await.query("reason", "subject_request"),
        ("GET", "/v1/subjects/{id}/consents" | "/v1/subjects/{id}/policy-notices" | "/v1/subjects/{id}/bases") => {
            subject().await
        }
        ("POST", "/v1/subjects/{id}/destruction") => subject()
            .await
            .body(json!({"categories": ["contact"], "reason": "consent_withdrawn"})),
        ("POST", "/v1/subjects/{id}/bases") => subject().await.body(json!({
            "purpose": "accounting", "kind": "established",
            "evidence": {"reference": "order 1", "note": "paid by card"},
        })),
        ("GET", "/v1/subjects/{id}/consent-documents/{document}") => {
            subject().await.param("document", "marketing_email")
        }
        ("POST", "/v1/subjects/{id}/consents") => subject()
            .await
            .body(json!({"purpose": "marketing", "evidence": {"channel": "email", "user_agent": "Firefox"}})),
        (
            "DELETE" | "GET",
            "/v1/subjects/{id}/consents/{purpose}"
            | "/v1/subjects/{id}/consents/{purpose}/receipt"
            | "/v1/subjects/{id}/consents/{purpose}/written-consent",
        ) => subject().await.param("purpose", "marketing"),
        ("GET", "/v1/subjects/{id}/contact") => subject().await.query("class", "marketing").query("channel", "email"),
        ("POST", "/v1/subjects/{id}/death") => subject()
            .await
            .body(json!({"date_of_death": "2026-02-01", "document": "Certificate 123"})),
        ("GET", "/v1/subjects/{id}/death") => {
            let req = subject().await;
            let r = s
                .post(
                    &format!("/v1/subjects/{}/death", req.params["id"]),
                    &s.admin,
                    json!({"date_of_death": "2026-02-01", "document": "Certificate 123"}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            req
        }
        ("POST", "/v1/subjects/{id}/notices") => subject().await.body(json!({"template": "policy_changed"})),
        ("GET", "/v1/outbox") => Req::new().query("state", "queued"),
        ("POST", "/v1/outbox/{id}/retry") => {
            // A dead-lettered message: queued, claimed and refused for good.
            let anna = s.another_anna().await;
            let r = s
                .post(
                    &format!("/v1/subjects/{anna}/notices"),
                    &s.admin,
                    json!({"template": "policy_changed"}),
                )
                .await;
            let id = r.json_with(202)["id"].as_str().expect("message id").to_owned();
            let outbox = s.vault.outbox();
            let claimed = outbox
                .claim("journal-scan", time::Duration::minutes(1), 1000)
                .await
                .expect("claim");
            for m in &claimed {
                outbox
                    .failed(m, ward_vault::DeliveryFailure::Permanent, &Default::default())
                    .await
                    .expect("dead");
            }
            Req::new().param("id", &id)
        }
        ("POST", "/v1/subjects/{id}/policy-notices") => subject().await.body(json!({
            "kind": "notified", "channel": "email", "reference": "newsletter 12", "version": hash,
        })),
        ("GET" | "POST", "/v1/visitors/{visitor_id}/consents") => {
            let req = Req::new()
                .param("visitor_id", "visitor-0001")
                .body(json!({"banner_version": "v1", "choices": {}}));
            if method == Method::GET {
                Req { body: None, ..req }
            } else {
                req
            }
        }
        ("POST", "/v1/subjects/{id}/blocks") => subject()
            .await
            .body(json!({"categories": ["contact"], "reason": "inaccuracy_claimed"})),
        ("GET", "/v1/subjects/{id}/blocks" | "/v1/subjects/{id}/access-report") => subject().await,
        ("POST", "/v1/subjects/{id}/exports") => subject().await.body(json!({"format": "csv"})),
        ("GET", "/v1/downloads") => Req::new().query("subject", &s.another_anna().await),
        ("GET", "/v1/downloads/{token}") => {
            let anna = s.another_anna().await;
            let r = s
                .post(
                    &format!("/v1/subjects/{anna}/exports"),
                    &s.admin,
                    json!({"format": "json"}),
                )
                .await;
            let token = r.json_with(201)["token"].as_str().expect("token").to_owned();
            Req::new().param("token", token)
        }
        ("DELETE", "/v1/subjects/{id}/blocks/{block_id}") => {
            let req = subject().await;
            let r = s
                .post(
                    &format!("/v1/subjects/{}/blocks", req.params["id"]),
                    &s.admin,
                    json!({"reason": "legal_hold"}),
                )
                .await;
            let id = r.json_with(201)["id"].as_str().expect("block id").to_owned();
            req.param("block_id", id)
        }
        ("GET", "/v1/destruction-acts") => Req::new().query("limit", "5"),
        ("GET", "/v1/destruction-acts/{id}") => {
            let id = s.another_anna().await;
            let r = s
                .delete(&format!("/v1/subjects/{id}?reason=subject_request"), &s.admin)
                .await;
            let act = r.header("location").expect("the erasure names its act");
            Req::new().param("id", act.trim_start_matches("/v1/destruction-acts/"))
        }
        ("POST", "/v1/visitors/{visitor_id}/link") => {
            let id = s.another_anna().await;
            let r = s
                .post(
                    "/v1/visitors/visitor-0002/consents",
                    &s.admin,
                    json!({"banner_version": "v1", "choices": {}}),
                )
                .await;
            assert!(r.status < 300, "{}", r.text);
            Req::new()
                .param("visitor_id", "visitor-0002")
                .body(json!({"subject_id": id}))
        }
        ("POST", "/v1/verifications") => {
            let anna = s.another_anna().await;
            let request = crate::verifications::new_request(s, &anna).await;
            Req::new().body(json!({"request": request, "subject": anna, "method": "code"}))
        }
        ("GET", "/v1/verifications/{id}") => {
            let anna = s.another_anna().await;
            let r = crate::verifications::start(s, &s.admin, &anna, "vouched").await;
            Req::new().param("id", r.json_with(201)["id"].as_str().expect("id"))
        }
        ("POST", "/v1/verifications/{id}/code") => {
            let anna = s.another_anna().await;
            let id = crate::verifications::start_code(s, &anna).await;
            let code = crate::verifications::code_sent_to(s, &anna).await;
            Req::new().param("id", id).body(json!({"code": code}))
        }
        ("POST", "/v1/verifications/{id}/resend") => {
            Req::new().param("id", crate::verifications::start_code(s, &s.another_anna().await).await)
        }
        ("PUT", "/v1/verifications/{id}/document") => {
            let anna = s.another_anna().await;
            let r = crate::verifications::start(s, &s.admin, &anna, "document").await;
            let mut req = Req::new().param("id", r.json_with(201)["id"].as_str().expect("id"));
            req.raw = Some(("image/png".into(), crate::verifications::png("scan")));
            req
        }
        ("GET", "/v1/verifications/{id}/document") => Req::new().param(
            "id",
            crate::verifications::with_document(s, &s.another_anna().await, "scan").await,
        ),
        ("POST", "/v1/verifications/{id}/decision") => Req::new()
            .param(
                "id",
                crate::verifications::with_document(s, &s.another_anna().await, "scan").await,
            )
            .body(json!({"decision": "accept", "reason": "signature_matches"})),
        ("POST", "/v1/requests") => Req::new().body(json!({
            "subject_id": s.another_anna().await, "kind": "rectification", "channel": "representative",
            "regimes": ["ru"], "received_at": "2026-03-01T09:00:00+00:00",
            "authority": {"doc_type": "power_of_attorney", "number": "77 AA 1234567", "date": "2026-01-15"},
            "new_values": {"postal_address": "Moscow, Arbat 5"}, "recipient": "Bank LLC", "text": "please fix it",
            "purposes": ["marketing"], "categories": ["contact"],
        })),
        ("GET", "/v1/requests") => Req::new()
            .query("overdue", "true")
            .query("kind", "access")
            .query("state", "in_progress"),
        ("GET", "/v1/requests/{id}") => Req::new().param("id", scan_request(s, "access").await),
        ("POST", "/v1/requests/{id}/pause") => Req::new()
            .param("id", scan_request(s, "access").await)
            .body(json!({"note": "which account?"})),
        ("POST", "/v1/requests/{id}/resume") => {
            let id = scan_request(s, "access").await;
            let r = s.post(&format!("/v1/requests/{id}/pause"), &s.admin, json!({})).await;
            assert_eq!(r.status, 200, "{}", r.text);
            Req::new().param("id", id)
        }
        ("POST", "/v1/requests/{id}/verified") => {
            let r = s
                .post(
                    "/v1/requests",
                    &s.admin,
                    json!({"subject_id": s.another_anna().await, "kind": "access", "channel": "subject"}),
                )
                .await;
            Req::new().param("id", r.json_with(201)["id"].as_str().expect("request id"))
        }
        ("POST", "/v1/requests/{id}/extend") => Req::new()
            .param("id", scan_request(s, "access").await)
            .body(json!({"reason": "complexity", "note": "many archives"})),
        ("POST", "/v1/requests/{id}/refuse") => Req::new()
            .param("id", scan_request(s, "access").await)
            .body(json!({"reason": "legal_restriction", "citation": "152-FZ Art. 14 p. 8 item 1"})),
        ("POST", "/v1/requests/{id}/complete") => {
            Req::new().param("id", scan_request(s, "complaint").await).body(json!({
                "answer": "we apologise", "decision": "upheld", "purpose": "registration",
                "block_reason": "inaccuracy_claimed", "download": uuid::Uuid::new_v4().to_string(),
            }))
        }
        _ => return None,
    })
}

/// A request of `kind` the admin filed by `officer` for a new subject, in progress; its id.
async fn scan_request(s: &Server, kind: &str) -> String {
    let r = s
        .post(
            "/v1/requests",
            &s.admin,
            json!({"subject_id": s.another_anna().await, "kind": kind, "channel": "officer", "text": "my complaint"}),
        )
        .await;
    r.json_with(201)["id"].as_str().expect("request id").to_owned()
}

async fn send(s: &Server, method: &Method, template: &str, req: &Req) -> (u16, String) {
    let mut path = Vec::new();
    for segment in template.split('/') {
        match segment.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
            Some(name) => path.push(urlencode(req.params.get(name).map_or("missing", String::as_str))),
            None => path.push(segment.to_owned()),
        }
    }
    let mut url = format!("{}{}", s.base, path.join("/"));
    if !req.query.is_empty() {
        let q: Vec<String> = req.query.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect();
        url = format!("{url}?{}", q.join("&"));
    }
    let mut r = s.client.request(method.clone(), url).bearer_auth(&s.admin);
    for (k, v) in &req.headers {
        r = r.header(k.as_str(), v.as_str());
    }
    if let Some((content_type, bytes)) = &req.raw {
        r = r.header("content-type", content_type.as_str()).body(bytes.clone());
    } else if let Some(b) = &req.body {
        r = r.json(b);
    }
    let resp = r.send().await.expect("send");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

both_backends!(no_client_text_reaches_the_journal);
async fn no_client_text_reaches_the_journal(s: Server) {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut sent: BTreeMap<String, String> = BTreeMap::new();
    let mut missing = Vec::new();
    let mut exercised = 0;
    for (template, item) in s.spec["paths"].as_object().expect("paths").clone() {
        for (method, op) in item.as_object().expect("path item") {
            let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                continue;
            };
            let inputs = free_text_inputs(&s.spec, op);
            let Some(base) = baseline(&s, &method, &template).await else {
                missing.push(format!("{method} {template} (free-text inputs: {inputs:?})"));
                continue;
            };
            let (status, text) = send(&s, &method, &template, &base).await;
            assert!(
                (200..300).contains(&status),
                "the baseline of {method} {template} must succeed: {status} {text}"
            );
            for input in &inputs {
                let marker = format!("journal-scan-{}-{run}@example.org", sent.len());
                sent.insert(marker.clone(), format!("{method} {template} {input}"));
                let fresh = baseline(&s, &method, &template).await.expect("baseline");
                for req in with_marker(&fresh, input, &marker) {
                    let (status, text) = send(&s, &method, &template, &req).await;
                    assert!(status < 500, "{method} {template} with {input} marked: {status} {text}");
                    exercised += 1;
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "operations with no baseline in journal_scan.rs (add one so their inputs are scanned):\n{}",
        missing.join("\n")
    );
    // Client text that is not in the document's schemas: a policy version whose free text
    // (a field's title) holds a marker; the journal names only its id, version and hash.
    let marker = format!("journal-scan-policy-{run}@example.org");
    let register = DEFAULT_POLICY.replace("version = \"1\"", "version = \"2\"").replacen(
        "title = \"",
        &format!("title = \"{marker} "),
        1,
    );
    let r = s
        .post("/v1/policy/versions", &s.admin, json!({"register": register}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    sent.insert(marker, "POST /v1/policy/versions register (a title)".into());
    assert!(exercised > 80, "only {exercised} marked requests");

    let rows = s.journal_rows_raw().await;
    assert!(rows.len() > 100, "{} journal rows", rows.len());
    let leaks: Vec<String> = sent
        .iter()
        .filter(|(m, _)| rows.iter().any(|row| row.contains(m.as_str())))
        .map(|(m, input)| format!("{input}: {m}"))
        .collect();
    assert!(leaks.is_empty(), "client text in the journal:\n{}", leaks.join("\n"));
    assert!(
        !rows.iter().any(|row| row.contains(run.as_str())),
        "a marker reached the journal"
    );
}
