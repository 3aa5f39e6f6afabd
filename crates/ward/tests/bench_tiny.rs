//! `ward bench` at the tiny scale, end to end: the harness starts its servers, runs every
//! workload and its baseline, and writes its results. No timing is asserted: this keeps the
//! harness from rotting; BENCHMARKS.md holds the figures.
//!
//! The benchmarks are only in a build with the `bench` feature; test builds have it (the
//! package's dev-dependency on itself, crates/ward/Cargo.toml), so `cargo test --workspace`
//! runs this.

mod common;

use common::*;
use serde_json::Value;

fn run_bench(extra: &[&str]) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("results.json");
    let o = ward()
        .args([
            "bench",
            "--scale",
            "tiny",
            "--clients",
            "8",
            "--duration-secs",
            "0.5",
            "--out",
        ])
        .arg(&out)
        .arg("--work-dir")
        .arg(tmp.path())
        .args(extra)
        .output()
        .expect("ward bench runs");
    assert!(o.status.success(), "ward bench failed:\n{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("| Workload |"), "{}", stdout(&o));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let workloads = report["workloads"].as_array().unwrap();
    let keys: Vec<&str> = workloads.iter().map(|w| w["key"].as_str().unwrap()).collect();
    let sqlite = !extra.contains(&"--database-url");
    let mut expected = vec![
        "bulk_import_api",
        "bulk_import_cli",
        "read_by_id",
        "lookup_email",
        "single_create",
        "withdraw_erase",
    ];
    if sqlite {
        // The WAL scrub's cost: SQLite only.
        expected.push("withdraw_erase_scrub");
    }
    expected.extend([
        "read_by_id_grown",
        "lookup_email_grown",
        "memory_under_read_load",
        "growth_read",
        "growth_lookup",
        "kek_rotation",
        "reads_during_rotation",
        "access_report",
        "requests_overdue",
        "journal_verify",
        "outbox_delivery",
        "outbox_backlog",
        "destruction_job",
    ]);
    assert_eq!(keys, expected);
    for w in workloads {
        let key = w["key"].as_str().unwrap();
        assert!(w["ward"]["value"].as_f64().unwrap() > 0.0, "{key}: no figure");
        assert_eq!(w["ward"]["errors"], 0, "{key}: {}", w["notes"]);
        if key == "kek_rotation" {
            // A wall time: nothing to compare it with.
            assert_eq!(w["baseline"], Value::Null, "{key}");
            continue;
        }
        assert!(w["baseline"]["value"].as_f64().unwrap() > 0.0, "{key}: no baseline");
        assert!(w["ratio"].as_f64().is_some(), "{key}: no ratio");
    }
    // Issue 19's: every message arrived (across a kill -9 too), every due subject destroyed.
    let find = |key: &str| workloads.iter().find(|w| w["key"] == key).unwrap();
    assert_eq!(find("outbox_delivery")["ward"]["ops"], 200);
    let backlog = find("outbox_backlog");
    assert!(backlog["notes"][0].as_str().unwrap().contains("none lost"), "{backlog}");
    assert_eq!(find("destruction_job")["ward"]["ops"], 200);
    let rotation = workloads.iter().find(|w| w["key"] == "kek_rotation").unwrap();
    assert!(
        rotation["ward"]["ops"].as_u64().unwrap() >= 400,
        "every live subject's data key is re-wrapped: {rotation}"
    );
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);
    report
}

#[test]
fn only_runs_the_groups_it_names_and_refuses_unknown_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("results.json");
    let o = ward()
        .args([
            "bench",
            "--scale",
            "tiny",
            "--clients",
            "8",
            "--only",
            "destruction_job",
            "--out",
        ])
        .arg(&out)
        .arg("--work-dir")
        .arg(tmp.path())
        .output()
        .expect("ward bench runs");
    assert!(o.status.success(), "ward bench failed:\n{}\n{}", stdout(&o), stderr(&o));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let keys: Vec<&str> = report["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["destruction_job"]);

    let o = ward()
        .args(["bench", "--only", "destruction_job,nope"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("'nope'") && stderr(&o).contains("outbox_backlog"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_benchmark_runs_every_workload_on_sqlite() {
    let report = run_bench(&[]);
    assert_eq!(report["backend"], "sqlite");
}

#[test]
fn the_benchmark_runs_every_workload_on_postgres() {
    let url = std::env::var("WARD_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let required = std::env::var_os("CI").is_some() || std::env::var("WARD_REQUIRE_POSTGRES").as_deref() == Ok("1");
    let host = url
        .split('@')
        .next_back()
        .and_then(|h| h.split('/').next())
        .unwrap_or("127.0.0.1:5432");
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    let reachable = std::net::ToSocketAddrs::to_socket_addrs(&host)
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(2)).is_ok());
    if !reachable {
        assert!(!required, "PostgreSQL is required but not reachable at {host}");
        eprintln!("PostgreSQL not reachable at {host}: skipping the PostgreSQL benchmark smoke run");
        return;
    }
    let report = run_bench(&["--database-url", &url]);
    assert_eq!(report["backend"], "postgres");
}
