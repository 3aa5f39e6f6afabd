//! `/healthz` stays a readiness probe (`200` while the store takes writes) and says, in
//! `warnings`, what the operator has left to fill in in the policy in force.

use crate::support::{both_backends, Server};
use reqwest::Method;
use serde_json::json;
use ward_core::policy::DEFAULT_POLICY;

both_backends!(healthz_warns_of_placeholders_until_they_are_filled_in);
async fn healthz_warns_of_placeholders_until_they_are_filled_in(s: Server) {
    let s = &s;
    let health = move || async move { s.call(Method::GET, "/healthz", None, None).await.json_with(200) };
    // The default register has five: the operator's address, ИНН, ОГРН, responsible person,
    // and the payment processor's address.
    let body = health().await;
    assert_eq!(body["status"], "ok");
    assert_eq!(
        body["warnings"],
        json!(["the policy in force (website@1) still has `FILL IN` placeholders: 5 in its register and 0 in its text; fill them in (`ward policy validate` lists the register's) and publish the result with `ward policy publish`"])
    );

    let filled = DEFAULT_POLICY
        .replace("FILL IN", "Filled in")
        .replace("version = \"1\"", "version = \"2\"");
    let text = "# Privacy policy\n\nThe operator is FILL IN: the operator's name. Write to FILL IN.\n";
    s.post(
        "/v1/policy/versions",
        &s.admin,
        json!({"register": filled, "text": text}),
    )
    .await
    .json_with(201);
    let body = health().await;
    let warning = body["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.contains("(website@2)") && warning.contains("0 in its register and 2 in its text"),
        "{body}"
    );

    s.post(
        "/v1/policy/versions",
        &s.admin,
        json!({"register": filled.replace("version = \"2\"", "version = \"3\""), "text": "# Privacy policy\n"}),
    )
    .await
    .json_with(201);
    assert_eq!(health().await, json!({"status": "ok"}), "nothing left to fill in");
}
