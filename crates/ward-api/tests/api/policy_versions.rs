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

both_backends!(publishing_never_silently_keeps_another_date_or_another_policy);
async fn publishing_never_silently_keeps_another_date_or_another_policy(s: Server) {
    let s = &s;
    let publish = move |body: serde_json::Value| async move { s.post("/v1/policy/versions", &s.admin, body).await };
    let later = DEFAULT_POLICY.replace("version = \"1\"", "version = \"later\"");
    let p = publish(json!({"register": later, "effective_at": "2030-01-01T00:00:00Z"}))
        .await
        .json_with(201);
    let hash = p["version"]["hash"].as_str().unwrap().to_owned();

    // The same request again: nothing changed, and the answer says when it takes effect.
    let r = publish(json!({"register": later, "effective_at": "2030-01-01T00:00:00Z"})).await;
    let same = r.json_with(200);
    assert_eq!(
        (&same["new"], &same["version"]["effective_at"]),
        (&json!(false), &json!("2030-01-01T00:00:00Z"))
    );
    assert_eq!(
        (&same["rescheduled"], &same["previous_effective_at"]),
        (&json!(false), &json!(null))
    );

    // Another date, before it is in force: rescheduled, and the answer gives both dates.
    let r = publish(json!({"register": later, "effective_at": "2031-06-01T00:00:00Z"})).await;
    let moved = r.json_with(200);
    assert_eq!(
        (
            &moved["new"],
            &moved["rescheduled"],
            &moved["previous_effective_at"],
            &moved["version"]["effective_at"],
            &moved["version"]["hash"]
        ),
        (
            &json!(false),
            &json!(true),
            &json!("2030-01-01T00:00:00Z"),
            &json!("2031-06-01T00:00:00Z"),
            &json!(hash)
        )
    );
    let listed = s
        .get(&format!("/v1/policy/versions/{hash}"), &s.admin)
        .await
        .json_with(200);
    assert_eq!(listed["summary"]["effective_at"], "2031-06-01T00:00:00Z", "{listed}");
    let rows = s.journal_rows_raw().await;
    assert!(
        rows.iter()
            .any(|r| r.contains("policy.rescheduled") && r.contains(&hash)),
        "the rescheduling is journaled: {rows:?}"
    );
    // Into the past: refused, nothing moves.
    let r = publish(json!({"register": later, "effective_at": "2001-01-01T00:00:00Z"})).await;
    let problem = s.problem(&r, 409, "policy_version_scheduled");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(&hash[..12]) && detail.contains("2031-06-01T00:00:00Z"),
        "{detail}"
    );
    // No date means now: the version takes effect now.
    let r = publish(json!({"register": later})).await;
    let now = r.json_with(200);
    assert_eq!(
        (&now["rescheduled"], &now["version"]["in_force"]),
        (&json!(true), &json!(true)),
        "{now}"
    );
    assert_eq!(now["previous_effective_at"], "2031-06-01T00:00:00Z");
    assert_eq!(s.get("/v1/policy", &s.admin).await.json_with(200)["hash"], json!(hash));

    // The version in force, asked for a later date: refused as in force, date unchanged.
    let r = publish(json!({"register": later})).await;
    let r = r.json_with(200);
    assert_eq!(
        (&r["new"], &r["rescheduled"]),
        (&json!(false), &json!(false)),
        "the version in force, asked for now"
    );
    let r = publish(json!({"register": later, "effective_at": "2099-01-01T00:00:00Z"})).await;
    let problem = s.problem(&r, 409, "policy_version_in_force");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("it is the version in force") && detail.contains("its date was not changed"),
        "{problem}"
    );
    // A superseded version never moves either.
    let r = publish(json!({"register": DEFAULT_POLICY, "effective_at": "2099-01-01T00:00:00Z"})).await;
    let problem = s.problem(&r, 409, "policy_version_in_force");
    assert!(problem["detail"].as_str().unwrap().contains("superseded"), "{problem}");

    // Another policy is not a version of this one.
    let other = DEFAULT_POLICY.replace("id = \"website\"", "id = \"shop\"");
    let r = publish(json!({"register": other})).await;
    let problem = s.problem(&r, 422, "policy_id_changed");
    assert!(problem["detail"].as_str().unwrap().contains("`shop`"), "{problem}");
    let list = s.get("/v1/policy/versions", &s.admin).await.json_with(200);
    assert_eq!(list["versions"].as_array().map(Vec::len), Some(2), "{list}");
}
