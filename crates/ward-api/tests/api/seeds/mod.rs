//! Each seed's promises that `docs/seeds.md` marks kept, proved on the seed's own encoded
//! register over HTTP, on both backends: one module per seed, one case per promise. A case is
//! an `async fn(&Server)` named so that a row of the table can cite it
//! (`crates/ward-api/tests/api/seeds/seed_000.rs::marketing_needs_its_own_consent`);
//! [`seed_cases!`] publishes the register once and runs every case on it, and lists the names
//! for `doc::every_kept_row_cites_a_case_on_its_seeds_policy`, which holds the table to them.

mod doc;
mod seed_000;
mod seed_001;
mod seed_002;
mod seed_003;
mod seed_004;

use crate::support::{Resp, Server};
use serde_json::{json, Value};

/// Declares a seed's cases: `CASES` (their names, for the table's check) and a test, run on
/// each backend, that publishes `$register` (with `$text`) and runs every case in order.
macro_rules! seed_cases {
    ($test:ident, $register:expr, $text:expr, [$($case:ident),+ $(,)?]) => {
        /// The cases a row of this seed's table may cite.
        pub(super) const CASES: &[&str] = &[$(stringify!($case)),+];

        $crate::support::both_backends!($test);
        async fn $test(s: $crate::support::Server) {
            super::publish(&s, $register, $text).await;
            $(
                eprintln!("case {}", stringify!($case));
                $case(&s).await;
            )+
        }
    };
}
pub(crate) use seed_cases;

/// Publishes a seed's register as the next version of the test server's policy (`website`):
/// a version keeps its policy's id (`policy_id_changed` otherwise), so the seed's own `id`
/// line is the one thing changed. Answers the publication (the version and its diff).
pub(super) async fn publish(s: &Server, register: &str, text: Option<&str>) -> Value {
    let register: String = register
        .lines()
        .map(|l| {
            if l.starts_with("id = ") {
                "id = \"website\"\n".to_owned()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    s.post(
        "/v1/policy/versions",
        &s.admin,
        json!({"register": register, "text": text}),
    )
    .await
    .json_with(201)
}

/// Evidence of a web form, given by `method` (`checkbox`, `form_submission`).
pub(super) fn web(method: &str) -> Value {
    json!({"channel": "web_form", "method": method})
}

/// Registers a subject (admin key); answers its id.
pub(super) async fn register(s: &Server, body: Value) -> String {
    let r = s.post("/v1/subjects", &s.admin, body).await;
    r.json_with(201)["id"].as_str().expect("id").to_owned()
}

/// Registers a subject under `purpose` with `fields` and no consent.
pub(super) async fn register_under(s: &Server, purpose: &str, fields: Value) -> String {
    register(s, json!({"purpose": purpose, "fields": fields})).await
}

/// A purpose-bound read (admin key).
pub(super) async fn read(s: &Server, id: &str, purpose: &str) -> Resp {
    s.get(&format!("/v1/subjects/{id}?purpose={purpose}"), &s.admin).await
}

/// Records the subject's consent to `purpose` after collection.
pub(super) async fn consent(s: &Server, id: &str, purpose: &str) {
    let r = s
        .post(
            &format!("/v1/subjects/{id}/consents"),
            &s.admin,
            json!({"purpose": purpose, "evidence": web("checkbox")}),
        )
        .await;
    assert_eq!(r.status, 204, "consent to {purpose}: {}", r.text);
}

/// Withdraws the subject's consent to `purpose`; answers what continues and what falls due.
pub(super) async fn withdraw(s: &Server, id: &str, purpose: &str) -> Value {
    s.delete(&format!("/v1/subjects/{id}/consents/{purpose}"), &s.admin)
        .await
        .json_with(200)
}

/// A consent-based purpose: refused for the subject until they consent, open while the
/// consent stands, refused again on the very next read after they withdraw it.
pub(super) async fn needs_consent(s: &Server, id: &str, purpose: &str) {
    s.problem(&read(s, id, purpose).await, 403, "consent_missing");
    consent(s, id, purpose).await;
    read(s, id, purpose).await.json_with(200);
    withdraw(s, id, purpose).await;
    s.problem(&read(s, id, purpose).await, 403, "consent_missing");
}

/// A purpose not resting on consent cannot be given one.
pub(super) async fn refuses_consent(s: &Server, id: &str, purpose: &str) {
    let r = s
        .post(
            &format!("/v1/subjects/{id}/consents"),
            &s.admin,
            json!({"purpose": purpose, "evidence": web("checkbox")}),
        )
        .await;
    s.problem(&r, 422, "consent_not_applicable");
}

/// A read for `purpose` answers exactly `fields` (the subject's fields in its categories).
pub(super) async fn sees_exactly(s: &Server, id: &str, purpose: &str, fields: &[&str]) {
    let got = read(s, id, purpose).await.json_with(200);
    let names: Vec<&str> = got["fields"]
        .as_object()
        .expect("fields")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, fields, "{purpose} sees {got}");
}

/// `values` appear nowhere in the store (every table, read raw: field values, index, consent
/// and basis evidence, the journal), neither as text nor hex-encoded; and the journal's hash
/// chain verifies.
pub(super) async fn sealed_at_rest(s: &Server, values: &[&str]) {
    let rows = s.all_rows_raw().await;
    assert!(rows.iter().any(|r| r.starts_with("journal|")), "the journal was read");
    for v in values {
        let hex: String = v.bytes().map(|b| format!("{b:02x}")).collect();
        for row in &rows {
            assert!(!row.contains(v) && !row.contains(&hex), "`{v}` in clear: {row}");
        }
    }
    let report = s.get("/v1/journal/verify", &s.admin).await.json_with(200);
    assert_eq!(report["valid"], true, "{report}");
}

/// The diff from the version before the seed's (the default policy) to the seed's, in force:
/// what publishing the seed's register changed and what each change requires.
pub(super) async fn seed_diff(s: &Server) -> Value {
    let versions = s.get("/v1/policy/versions", &s.admin).await.json_with(200);
    let list = versions["versions"].as_array().expect("versions");
    let to = list.iter().find(|v| v["in_force"] == true).expect("in force");
    let from = list
        .iter()
        .find(|v| v["in_force"] == false)
        .expect("the version before");
    s.get(
        &format!(
            "/v1/policy/diff?from={}&to={}",
            from["hash"].as_str().unwrap(),
            to["hash"].as_str().unwrap()
        ),
        &s.admin,
    )
    .await
    .json_with(200)
}

/// The change `code` about `subject` in a diff or publication.
pub(super) fn change<'a>(diff: &'a Value, code: &str, subject: &str) -> &'a Value {
    diff["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["code"] == code && c["subject"] == subject)
        .unwrap_or_else(|| panic!("no {code} for {subject} in {diff}"))
}
