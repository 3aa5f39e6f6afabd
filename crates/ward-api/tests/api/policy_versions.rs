use crate::support::{both_backends, Server};
use serde_json::json;
use ward_core::policy::DEFAULT_POLICY;

fn with_profiling() -> String {
    format!(
        "{}\n[purposes.profiling]\ntitle = \"Recommendations\"\nlegal_basis = \"consent\"\ncategories = [\"contact\"]\nactions = [\"retrieval\", \"use\"]\n",
        DEFAULT_POLICY.replace("version = \"1\"", "version = \"2\"").replace("purposes = [\"marketing\"]", "purposes = [\"marketing\", \"profiling\"]")
    )
}

both_backends!(publish_list_show_and_diff_over_http);
async fn publish_list_show_and_diff_over_http(s: Server) {
    let first = s.vault.policies().current_hash();

    let r = s
        .post(
            "/v1/policy/versions",
            &s.admin,
            json!({"register": with_profiling(), "text": "# Policy v2\n"}),
        )
        .await;
    let p = r.json_with(201);
    assert_eq!(p["new"], true);
    assert_eq!(p["version"]["in_force"], true);
    assert_eq!(p["version"]["has_text"], true);
    assert_eq!(
        p["changes"][0],
        json!({"code": "purpose_added", "subject": "profiling", "description": p["changes"][0]["description"], "requires": ["new_consent", "notify_regulator"]})
    );
    let second = p["version"]["hash"].as_str().unwrap().to_owned();

    // The same content again: 200, nothing new.
    let r = s
        .post(
            "/v1/policy/versions",
            &s.admin,
            json!({"register": with_profiling(), "text": "# Policy v2\n"}),
        )
        .await;
    assert_eq!(r.json_with(200)["new"], false);

    // A version for later is listed but not in force.
    let later = DEFAULT_POLICY.replace("version = \"1\"", "version = \"3\"");
    let r = s
        .post(
            "/v1/policy/versions",
            &s.admin,
            json!({"register": later, "effective_at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.json_with(201)["version"]["in_force"], false);

    let svc = s.service_key(&["marketing"]).await;
    let list = s.get("/v1/policy/versions", &svc).await.json_with(200);
    let versions: Vec<_> = list["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_str().unwrap().to_owned(),
                v["in_force"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [("1".to_owned(), false), ("2".to_owned(), true), ("3".to_owned(), false)]
    );
    assert_eq!(s.get("/v1/policy", &svc).await.json_with(200)["version"], "2");

    let v = s
        .get(&format!("/v1/policy/versions/{}", &second[..10]), &svc)
        .await
        .json_with(200);
    assert_eq!(v["text"], "# Policy v2\n");
    assert!(v["policy"]["purposes"]["profiling"].is_object());

    let d = s
        .get(&format!("/v1/policy/diff?from={first}&to={second}"), &svc)
        .await
        .json_with(200);
    assert_eq!(d["changes"][0]["code"], "purpose_added");

    // Refusals.
    let r = s
        .post("/v1/policy/versions", &svc, json!({"register": with_profiling()}))
        .await;
    s.problem(&r, 403, "forbidden");
    let r = s
        .post(
            "/v1/policy/versions",
            &s.admin,
            json!({"register": "[policy]\nid = \"x\"\n"}),
        )
        .await;
    s.problem(&r, 422, "invalid_policy");
    let r = s.get("/v1/policy/versions/0000000000", &svc).await;
    s.problem(&r, 404, "policy_version_not_found");
    let r = s.get("/v1/policy/diff?from=abc", &svc).await;
    s.problem(&r, 400, "invalid_query");
}
