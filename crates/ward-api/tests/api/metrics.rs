//! `/metrics`: the Prometheus text format, scraped after real requests. Other tests' servers
//! in this binary share the process's recorder, so counters are compared before and after
//! (they only grow) and the checks for personal data cover everyone's requests.

use crate::support::{both_backends, Server, SECRET};
use async_trait::async_trait;
use reqwest::Method;
use std::collections::BTreeMap;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use ward_core::Clock;
use ward_jobs::{Holder, Job, JobError, Runner, Schedule, Scope, StoreLeases};

/// One sample of the exposition: a series (name and labels) and its value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the text format strictly: every line is a comment or a sample, or the test fails.
fn parse(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("not a number: {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, rest)) => (name, labels(rest.strip_suffix('}').expect("closing brace"))),
        };
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "metric name {name:?}: {line}"
        );
        out.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    out
}

/// `k="v",k2="v2"` with `\"` and `\\` escapes.
fn labels(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "label {key} is not quoted: {text}");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.push(chars.next().expect("an escaped character")),
                '"' => break,
                c => value.push(c),
            }
        }
        out.insert(key, value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    out
}

/// The value of the one series named `name` whose labels include `with`; 0 when absent (a
/// counter not yet incremented).
fn value(samples: &[Sample], name: &str, with: &[(&str, &str)]) -> f64 {
    let matching: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && with
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert!(
        matching.len() <= 1,
        "{name} {with:?} matches several series: {matching:?}"
    );
    matching.first().map_or(0.0, |s| s.value)
}

async fn scrape(s: &Server) -> (String, Vec<Sample>) {
    let r = s.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let samples = parse(&r.text);
    (r.text, samples)
}

both_backends!(requests_batches_the_journal_and_keys_are_measured);
async fn requests_batches_the_journal_and_keys_are_measured(s: Server) {
    let (_, before) = scrape(&s).await;
    let id = s.anna().await;
    let r = s
        .get(&format!("/v1/subjects/{id}?purpose=registration"), &s.admin)
        .await;
    assert_eq!(r.status, 200);
    let r = s.get(&format!("/v1/{SECRET}?email={SECRET}"), &s.admin).await;
    assert_eq!(r.status, 404);
    let odd = Method::from_bytes(SECRET.to_uppercase().as_bytes()).expect("a method token");
    let r = s.call(odd, "/v1/subjects", Some(&s.admin), None).await;
    assert_eq!(r.status, 405);
    let (text, after) = scrape(&s).await;

    let moved = |name: &str, labels: &[(&str, &str)]| value(&after, name, labels) - value(&before, name, labels);
    let created = [("method", "POST"), ("route", "/v1/subjects"), ("status", "201")];
    let read = [("method", "GET"), ("route", "/v1/subjects/{id}"), ("status", "200")];
    let unmatched = [("method", "GET"), ("route", "<unmatched>"), ("status", "404")];
    let odd = [("method", "other"), ("route", "/v1/subjects"), ("status", "405")];
    for labels in [&created[..], &read, &unmatched, &odd] {
        assert!(moved("ward_http_requests_total", labels) >= 1.0, "{labels:?}:\n{text}");
        assert!(
            moved("ward_http_request_duration_seconds_count", labels) >= 1.0,
            "{labels:?}:\n{text}"
        );
    }
    // A histogram's buckets add up: the +Inf bucket holds every observation.
    let all = [&created[..], &[("le", "+Inf")]].concat();
    assert_eq!(
        value(&after, "ward_http_request_duration_seconds_bucket", &all),
        value(&after, "ward_http_request_duration_seconds_count", &created)
    );
    assert!(value(&after, "ward_http_request_duration_seconds_sum", &created) > 0.0);

    // The registration and the read were each journaled through the group committer.
    let batches = moved("ward_commit_batch_size_count", &[]);
    assert!(batches >= 2.0, "{text}");
    assert!(
        value(&after, "ward_commit_batch_size_sum", &[]) >= value(&after, "ward_commit_batch_size_count", &[]),
        "a batch holds at least one operation:\n{text}"
    );
    assert!(value(&after, "ward_commit_batch_duration_seconds_count", &[]) >= batches);
    assert!(
        after
            .iter()
            .any(|x| x.name == "ward_commit_queue_depth" && x.value >= 0.0),
        "{text}"
    );
    assert!(value(&after, "ward_journal_head_seq", &[]) >= 3.0, "{text}");
    assert!(value(&after, "ward_key_epochs", &[]) >= 1.0, "{text}");
    assert!(value(&after, "ward_key_epoch_active", &[]) >= 1.0, "{text}");
    assert!(value(&after, "ward_key_epoch_oldest", &[]) >= 1.0, "{text}");
    for help in [
        "# HELP ward_http_requests_total ",
        "# TYPE ward_http_request_duration_seconds histogram",
        "# TYPE ward_commit_batch_size histogram",
        "# HELP ward_commit_queue_depth ",
        "# HELP ward_journal_head_seq ",
    ] {
        assert!(text.contains(help), "{help}:\n{text}");
    }

    // No label carries personal data: routes are the spec's templates, methods a fixed few.
    let templates = s.spec["paths"].as_object().expect("paths");
    for sample in &after {
        if let Some(route) = sample.labels.get("route") {
            assert!(route == "<unmatched>" || templates.contains_key(route), "{sample:?}");
        }
        if let Some(method) = sample.labels.get("method") {
            assert!(
                ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "other"]
                    .contains(&method.as_str()),
                "{sample:?}"
            );
        }
    }
    for personal in [
        id.as_str(),
        SECRET,
        &SECRET.to_uppercase(),
        "Anna",
        "Example",
        "purpose=",
        "email",
    ] {
        assert!(!text.contains(personal), "/metrics shows {personal:?}:\n{text}");
    }
}

/// A job that succeeds, or fails, every minute in every process.
struct Probe {
    name: &'static str,
    fails: bool,
}

#[async_trait]
impl Job for Probe {
    fn name(&self) -> &str {
        self.name
    }
    fn schedule(&self) -> Schedule {
        Schedule::every_secs(60).expect("a positive period")
    }
    fn scope(&self) -> Scope {
        Scope::EveryProcess
    }
    async fn run(&self, _now: OffsetDateTime) -> Result<String, JobError> {
        if self.fails {
            Err(JobError::msg("the probe fails"))
        } else {
            Ok("probed".into())
        }
    }
}

#[tokio::test]
async fn job_runs_and_failures_are_counted_by_job() {
    let s = Server::start().await;
    let (_, before) = scrape(&s).await;
    let mut runner = Runner::new(
        Arc::new(s.clock.clone()),
        StoreLeases::of(s.vault.store().clone()),
        Holder::for_this_process(),
    );
    for (name, fails) in [("metrics-probe-ok", false), ("metrics-probe-fails", true)] {
        runner.add(Arc::new(Probe { name, fails })).expect("add the job");
    }
    for _ in 0..2 {
        s.clock.advance(Duration::seconds(60));
        assert_eq!(runner.run_due().await.len(), 2);
    }
    let (text, after) = scrape(&s).await;
    let moved = |name: &str, labels: &[(&str, &str)]| value(&after, name, labels) - value(&before, name, labels);

    let ok = ("job", "metrics-probe-ok");
    let fails = ("job", "metrics-probe-fails");
    assert_eq!(moved("ward_job_runs_total", &[ok, ("outcome", "done")]), 2.0, "{text}");
    assert_eq!(
        moved("ward_job_runs_total", &[ok, ("outcome", "failed")]),
        0.0,
        "{text}"
    );
    assert_eq!(
        moved("ward_job_runs_total", &[fails, ("outcome", "failed")]),
        2.0,
        "{text}"
    );
    assert_eq!(moved("ward_job_duration_seconds_count", &[fails]), 2.0, "{text}");
    #[allow(clippy::cast_precision_loss)]
    let now = s.clock.now().unix_timestamp() as f64;
    assert_eq!(
        value(&after, "ward_job_last_success_timestamp_seconds", &[ok]),
        now,
        "{text}"
    );
    assert_eq!(
        value(&after, "ward_job_last_success_timestamp_seconds", &[fails]),
        0.0,
        "{text}"
    );
}
