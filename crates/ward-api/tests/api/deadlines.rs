//! `GET /v1/deadlines`: the deadline engine over HTTP, on both backends (the answer does not
//! touch the store, but the route is a vault entry like any other).

use crate::support::{both_backends, Server};
use serde_json::json;

fn url(kind: &str, regime: &str, received: &str, extended: bool) -> String {
    format!(
        "/v1/deadlines?kind={kind}&regime={regime}&received={}&extended={extended}",
        received.replace('+', "%2B")
    )
}

both_backends!(an_officer_computes_a_deadline_with_its_explanation);
async fn an_officer_computes_a_deadline_with_its_explanation(s: Server) {
    let r = s
        .post("/v1/keys", &s.admin, json!({"name": "dpo", "role": "officer"}))
        .await;
    let officer = r.json_with(201)["token"].as_str().unwrap().to_owned();

    // Checklist §E: received Friday 25 December 2026, 10 working days: Tuesday 19 January 2027.
    let v = s
        .get(&url("access", "ru", "2026-12-25T12:00:00+03:00", false), &officer)
        .await
        .json_with(200);
    assert_eq!(v["due_date"], "2027-01-19");
    assert_eq!(v["due_at"], "2027-01-19T23:59:59+03:00");
    assert_eq!(v["received_on"], "2026-12-25");
    assert_eq!(v["zone"], "Europe/Moscow");
    assert_eq!(v["regime"], "ru");
    assert_eq!(
        v["term"],
        json!({"type": "working_days", "n": 10, "text": "10 working days"})
    );
    assert_eq!(v["extended"], false);
    let steps = v["explanation"].as_array().unwrap();
    assert_eq!(steps.len(), 25);
    assert_eq!(
        steps[5],
        json!({"date": "2026-12-31", "counted": null, "reason": "day off: transferred from Sunday 4 January",
               "act": "Government Decree No. 1466 of 24.09.2025"})
    );
    assert_eq!(steps[24]["counted"], 10);

    // Extended: 15 working days.
    let v = s
        .get(&url("access", "ru", "2026-12-25T12:00:00+03:00", true), &s.admin)
        .await
        .json_with(200);
    assert_eq!(
        (v["due_date"].as_str(), v["extended"].as_bool()),
        (Some("2027-01-26"), Some(true))
    );

    // The working Saturday of 2027 counts.
    let v = s
        .get(&url("access", "ru", "2027-02-18T12:00:00+03:00", false), &s.admin)
        .await
        .json_with(200);
    assert_eq!(v["due_date"], "2027-03-05");
    assert_eq!(v["explanation"][1]["date"], "2027-02-20");
    assert_eq!(v["explanation"][1]["counted"], 2);
}

both_backends!(several_regimes_give_the_earliest);
async fn several_regimes_give_the_earliest(s: Server) {
    let v = s
        .get(
            &url("access", "eu,us-ca,ru", "2026-12-28T12:00:00+03:00", false),
            &s.admin,
        )
        .await
        .json_with(200);
    assert_eq!(v["regime"], "ru");
    assert_eq!(v["due_date"], "2027-01-20");
    let dates: Vec<(&str, &str)> = v["regimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["regime"].as_str().unwrap(), r["due_date"].as_str().unwrap()))
        .collect();
    assert_eq!(
        dates,
        vec![("eu", "2027-01-28"), ("us-ca", "2027-02-11"), ("ru", "2027-01-20")]
    );
    assert_eq!(v["regimes"][0]["term"]["type"], "months");
    // EU months: 31 January + 1 month = 28 February.
    let v = s
        .get(&url("erasure", "eu", "2027-01-31T10:00:00+01:00", false), &s.admin)
        .await
        .json_with(200);
    assert_eq!(v["due_date"], "2027-02-28");
    // A duty only Russia has: the EU is listed as setting no term.
    let v = s
        .get(
            &url("stop_unlawful", "eu,ru", "2026-04-30T12:00:00+03:00", false),
            &s.admin,
        )
        .await
        .json_with(200);
    assert_eq!(
        (v["due_date"].as_str(), v["without_term"].clone()),
        (Some("2026-05-06"), json!(["eu"]))
    );
}

both_backends!(bad_input_is_a_problem_with_a_stable_code);
async fn bad_input_is_a_problem_with_a_stable_code(s: Server) {
    let cases = [
        (
            url("access", "ru", "2028-03-01T12:00:00+03:00", false),
            422,
            "calendar_missing",
        ),
        (
            url("access", "ru", "2027-12-28T12:00:00+03:00", false),
            422,
            "calendar_missing",
        ),
        (
            url("purpose_achieved", "eu", "2026-03-01T12:00:00+03:00", false),
            422,
            "no_deadline",
        ),
        (
            url("access", "mars", "2026-03-01T12:00:00+03:00", false),
            400,
            "unknown_regime",
        ),
        (
            url("access", "ru,", "2026-03-01T12:00:00+03:00", false),
            400,
            "unknown_regime",
        ),
        (
            url("visit", "ru", "2026-03-01T12:00:00+03:00", false),
            400,
            "unknown_request_kind",
        ),
        (url("access", "ru", "2026-03-01", false), 400, "invalid_received"),
        (
            url("access", "ru", "2026-03-01T12:00:00", false),
            400,
            "invalid_received",
        ),
        (
            url("access", "eu", "9999-12-31T23:00:00Z", false),
            400,
            "invalid_received",
        ),
        ("/v1/deadlines?kind=access&regime=ru".to_owned(), 400, "invalid_query"),
        (
            format!("{}&colour=red", url("access", "ru", "2026-03-01T12:00:00+03:00", false)),
            400,
            "invalid_query",
        ),
    ];
    for (path, status, code) in cases {
        let r = s.get(&path, &s.admin).await;
        let v = s.problem(&r, status, code);
        if code == "calendar_missing" {
            assert!(v["detail"].as_str().unwrap().contains("2028"), "{v}");
        }
    }
    // A service key is refused by the table.
    let r = s
        .post(
            "/v1/keys",
            &s.admin,
            json!({"name": "site", "role": "service", "purposes": ["marketing"]}),
        )
        .await;
    let site = r.json_with(201)["token"].as_str().unwrap().to_owned();
    let r = s
        .get(&url("access", "ru", "2026-03-01T12:00:00+03:00", false), &site)
        .await;
    s.problem(&r, 403, "forbidden");
}
