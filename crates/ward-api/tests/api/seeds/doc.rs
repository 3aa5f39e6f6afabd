//! `docs/seeds.md` stays honest: every row marked kept cites at least one test, and every test
//! it cites is a case of that seed's module here, run on that seed's own register.

use std::collections::BTreeMap;

const TABLE: &str = include_str!("../../../../../docs/seeds.md");

/// Each seed's module, as rows cite it, with its cases.
fn modules() -> BTreeMap<&'static str, (&'static str, &'static [&'static str])> {
    BTreeMap::from([
        (
            "000",
            ("crates/ward-api/tests/api/seeds/seed_000.rs", super::seed_000::CASES),
        ),
        (
            "001",
            ("crates/ward-api/tests/api/seeds/seed_001.rs", super::seed_001::CASES),
        ),
        (
            "002",
            ("crates/ward-api/tests/api/seeds/seed_002.rs", super::seed_002::CASES),
        ),
        (
            "003",
            ("crates/ward-api/tests/api/seeds/seed_003.rs", super::seed_003::CASES),
        ),
        (
            "004",
            ("crates/ward-api/tests/api/seeds/seed_004.rs", super::seed_004::CASES),
        ),
    ])
}

/// What is wrong with one kept row's test cell, for the seed whose module is `file`.
fn problems_of(cell: &str, file: &str, cases: &[&str]) -> Vec<String> {
    let cited: Vec<&str> = cell.split('`').skip(1).step_by(2).collect();
    if cited.is_empty() {
        return vec!["cites no test".into()];
    }
    cited
        .iter()
        .filter_map(|c| match c.split_once("::") {
            Some((f, case)) if f == file && cases.contains(&case) => None,
            Some((f, case)) if f == file => Some(format!("cites `{case}`, which is not a case of {file}")),
            _ => Some(format!(
                "cites `{c}`, which is not a case of {file} (on this seed's register)"
            )),
        })
        .collect()
}

/// Every problem of the table: `seed NNN row N: ...`.
fn problems(table: &str) -> Vec<String> {
    let modules = modules();
    let mut seed: Option<&str> = None;
    let mut out = Vec::new();
    let mut kept_rows = 0;
    for line in table.lines() {
        if let Some(rest) = line.strip_prefix("## Seed ") {
            seed = rest.get(..3);
            continue;
        }
        if line.starts_with("## ") {
            seed = None;
        }
        let Some(seed) = seed else { continue };
        let cells: Vec<&str> = line.split(" | ").collect();
        if !line.starts_with("| ") || cells.len() < 5 || !cells[0][2..].trim().chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let (status, test) = (cells[cells.len() - 2], cells[cells.len() - 1]);
        if !status.starts_with("kept") {
            continue;
        }
        kept_rows += 1;
        let (file, cases) = modules[seed];
        for p in problems_of(test.trim_end_matches('|'), file, cases) {
            out.push(format!("seed {seed} row {}: {p}", cells[0][2..].trim()));
        }
    }
    if kept_rows == 0 {
        out.push("no kept row found: has the table's layout changed?".into());
    }
    out
}

#[test]
fn every_kept_row_cites_a_case_on_its_seeds_policy() {
    let p = problems(TABLE);
    assert!(p.is_empty(), "docs/seeds.md:\n{}", p.join("\n"));
}

#[test]
fn the_check_catches_a_missing_a_foreign_and_an_unknown_test() {
    let table = "## Seed 000 — X\n\n| # | promise | what | status | test |\n|---|---|---|---|---|\n\
        | 1 | a | b | kept (x) | — |\n\
        | 2 | a | b | kept, stricter than the seed (x) | `crates/ward-api/tests/api/subjects.rs` |\n\
        | 3 | a | b | kept (x) | `crates/ward-api/tests/api/seeds/seed_000.rs::no_such_case` |\n\
        | 4 | a | b | kept (x) | `crates/ward-api/tests/api/seeds/seed_001.rs::sealed_at_rest` |\n\
        | 5 | a | b | planned: x | — |\n";
    let p = problems(table);
    assert_eq!(p.len(), 4, "{p:#?}");
    assert!(p[0].starts_with("seed 000 row 1: cites no test"), "{p:#?}");
    assert!(p[1].starts_with("seed 000 row 2:"), "{p:#?}");
    assert!(p[2].contains("`no_such_case`"), "{p:#?}");
    assert!(p[3].starts_with("seed 000 row 4:"), "{p:#?}");
}
