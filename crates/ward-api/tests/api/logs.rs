use crate::support::{anna_body, both_backends, captured_logs, Server, SECRET};
use serde_json::json;

both_backends!(requests_are_logged_by_route_template_without_values);
/// Logs name the method, the route template, the status and the latency; never a body, a
/// query string, a raw path or a token. Other tests' servers log into the same capture, so
/// the negative checks cover their requests too (the error tests submit `SECRET` everywhere).
async fn requests_are_logged_by_route_template_without_values(s: Server) {
    let mut body = anna_body();
    body["fields"]["email"] = json!(format!("{SECRET}@example.com"));
    let r = s.post("/v1/subjects", &s.admin, body).await;
    let id = r.json_with(201)["id"].as_str().unwrap().to_owned();
    let r = s
        .get(
            &format!("/v1/subjects/{id}?purpose=registration&fields=email"),
            &s.admin,
        )
        .await;
    assert_eq!(r.status, 200);
    let r = s
        .post(
            "/v1/subjects/lookup",
            &s.admin,
            json!({"field": "email", "value": SECRET, "purpose": "registration"}),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = s.get(&format!("/v1/{SECRET}"), &s.admin).await;
    assert_eq!(r.status, 404);

    let text = captured_logs();
    assert!(text.contains("request{method=POST route=/v1/subjects}"), "{text}");
    assert!(text.contains("request{method=GET route=/v1/subjects/{id}}"), "{text}");
    assert!(text.contains("request{method=GET route=<unmatched>}"), "{text}");
    for status in ["status=201", "status=200", "status=422", "status=404"] {
        assert!(text.contains(status), "{status} not logged: {text}");
    }
    assert!(text.contains("latency="), "{text}");
    assert!(!text.contains(SECRET), "a value was logged: {text}");
    assert!(!text.contains(&id), "a raw path was logged: {text}");
    assert!(
        !text.contains("purpose=registration"),
        "a query string was logged: {text}"
    );
    assert!(!text.contains(&s.admin), "a token was logged: {text}");
}
