//! The five seed policies, encoded under examples/policies/, all validate.

mod common;

use common::*;

#[test]
fn every_seed_policy_validates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let out = run(&dir, &["policy", "validate", path.to_str().unwrap()]);
            assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
            assert!(stdout(&out).contains("valid"), "{}", stdout(&out));
            seen += 1;
        }
    }
    assert_eq!(seen, 5, "one register per seed");
}

#[test]
fn publishing_shows_versions_and_diffs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    assert!(run(&dir, &["init"]).status.success());
    // Beside policy.toml, so that its text file is found.
    let next = dir.join("next.toml");
    std::fs::write(&next, with_profiling(&dir)).unwrap();
    let out = run(
        &dir,
        &[
            "policy",
            "publish",
            next.to_str().unwrap(),
            "--effective-at",
            "2030-01-01T00:00:00Z",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("published version"), "{text}");
    assert!(text.contains("purpose_added") && text.contains("new_consent"), "{text}");
    let hash = text.split_whitespace().nth(2).unwrap().to_owned();

    // The same request again changes nothing; asking for a time already past is refused
    // (another time to come would reschedule it: `policy_truth.rs`).
    let again = run(
        &dir,
        &[
            "policy",
            "publish",
            next.to_str().unwrap(),
            "--effective-at",
            "2030-01-01T00:00:00Z",
        ],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).contains("was published before"), "{}", stdout(&again));
    let now = run(
        &dir,
        &[
            "policy",
            "publish",
            next.to_str().unwrap(),
            "--effective-at",
            "2001-01-01T00:00:00Z",
        ],
    );
    assert!(!now.status.success());
    assert!(
        stderr(&now).contains("policy_version_scheduled") && stderr(&now).contains("2030-01-01T00:00:00Z"),
        "{}",
        stderr(&now)
    );

    let out = run(&dir, &["policy", "versions"]);
    let listing = stdout(&out);
    assert_eq!(listing.lines().count(), 3, "{listing}");
    let in_force = listing.lines().find(|l| l.starts_with('*')).unwrap();
    assert!(
        !in_force.contains(&hash),
        "the new version takes effect only in 2030: {listing}"
    );

    let first = in_force.split_whitespace().last().unwrap().to_owned();
    let out = run(&dir, &["policy", "diff", &first[..12], &hash[..12]]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("purpose_added"), "{}", stdout(&out));
    let out = run(&dir, &["policy", "diff", "deadbeefdead", &hash[..12]]);
    assert!(stderr(&out).contains("policy_version_not_found"), "{}", stderr(&out));
}

/// The data directory's policy with one more purpose, as version 2.
fn with_profiling(dir: &std::path::Path) -> String {
    let current = std::fs::read_to_string(dir.join("policy.toml")).unwrap();
    format!(
        "{}\n[purposes.profiling]\ntitle = \"Personal recommendations\"\nlegal_basis = \"consent\"\ncategories = [\"contact\"]\nactions = [\"use\"]\n",
        current
            .replacen("version = \"1\"", "version = \"2\"", 1)
            .replacen("purposes = [\"marketing\"]", "purposes = [\"marketing\", \"profiling\"]", 1)
    )
}
