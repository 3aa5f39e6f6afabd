//! Deadlines through the real binary: `ward requests deadline` and `ward calendar show` on
//! the shipped calendars, a year loaded from the data directory's `calendars/`, the
//! `timezone` of ward.toml, and `ward serve` answering `/v1/deadlines` with both.

mod common;

use common::*;
use std::path::Path;

/// A calendar file for 2028 with the Art. 112 holidays and two made-up transfers, for the
/// test only (2028's decree is not out).
fn calendar_2028() -> String {
    let mut t = String::from("country = \"ru\"\nyear = 2028\nsource_act = \"Test decree of 2027\"\n");
    for md in [
        "01-01", "01-02", "01-03", "01-04", "01-05", "01-06", "01-07", "01-08", "02-23", "03-08", "05-01", "05-09",
        "06-12", "11-04",
    ] {
        t.push_str(&format!(
            "[[days]]\ndate = \"2028-{md}\"\nkind = \"holiday\"\nname = \"holiday\"\nact = \"Labour Code Art. 112 p. 1\"\n"
        ));
    }
    t.push_str("[[days]]\ndate = \"2028-01-10\"\nkind = \"day_off\"\nname = \"test transfer\"\nact = \"Test decree of 2027\"\n");
    t
}

fn deadline(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["requests", "deadline"];
    all.extend_from_slice(args);
    run(dir, &all)
}

#[test]
fn the_cli_prints_the_due_date_first_and_refuses_a_missing_year_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    // No data directory needed: the shipped calendars and Moscow time.
    let dir = tmp.path().join("none");
    let out = deadline(
        &dir,
        &[
            "--kind",
            "access",
            "--regime",
            "ru",
            "--received",
            "2026-12-28T12:00:00+03:00",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("2027-01-20"));
    assert!(text.contains("2026-12-31 Thu  skipped: day off: transferred from Sunday 4 January (Government Decree No. 1466 of 24.09.2025)"), "{text}");
    assert!(text.contains("2027-01-20 Wed  counted #10: working day"), "{text}");
    assert!(!dir.exists(), "computing a deadline creates nothing");

    // Several regimes: the earliest; extended.
    let out = deadline(
        &dir,
        &[
            "--kind",
            "access",
            "--regime",
            "eu",
            "--regime",
            "ru",
            "--received",
            "2026-12-28T12:00:00+03:00",
            "--extended",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("2027-01-27\naccess under ru: 15 working days, extended"),
        "{}",
        stdout(&out)
    );

    let out = deadline(
        &dir,
        &[
            "--kind",
            "access",
            "--regime",
            "ru",
            "--received",
            "2028-02-01T12:00:00+03:00",
        ],
    );
    assert!(!out.status.success());
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains("error [calendar_missing]: there is no production calendar for 2028"),
        "{}",
        stderr(&out)
    );

    for (args, code) in [
        (
            [
                "--kind",
                "visit",
                "--regime",
                "ru",
                "--received",
                "2026-12-28T12:00:00+03:00",
            ],
            "unknown_request_kind",
        ),
        (
            [
                "--kind",
                "access",
                "--regime",
                "mars",
                "--received",
                "2026-12-28T12:00:00+03:00",
            ],
            "unknown_regime",
        ),
        (
            ["--kind", "access", "--regime", "ru", "--received", "28.12.2026"],
            "invalid_received",
        ),
    ] {
        let out = deadline(&dir, &args);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(&format!("error [{code}]")), "{}", stderr(&out));
    }

    let out = run(&dir, &["calendar", "show", "2027"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.starts_with("RU 2027: 247 working days (Government Decree No. 1187 of 17.09.2026)"),
        "{text}"
    );
    assert!(
        text.contains("2027-02-20 Saturday   working  Saturday made working"),
        "{text}"
    );
    let out = run(&dir, &["calendar", "show", "2028"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no production calendar for 2028"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_year_loaded_from_the_data_directory_and_the_time_zone_apply_to_the_cli_and_the_server() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = init(&tmp);
    std::fs::create_dir(dir.join("calendars")).unwrap();
    std::fs::write(dir.join("calendars/ru-2028.toml"), calendar_2028()).unwrap();
    let cfg = std::fs::read_to_string(dir.join("ward.toml")).unwrap();
    assert!(cfg.contains("timezone = \"Europe/Moscow\""), "{cfg}");
    std::fs::write(
        dir.join("ward.toml"),
        cfg.replace("timezone = \"Europe/Moscow\"", "timezone = \"Asia/Vladivostok\""),
    )
    .unwrap();

    // 22:30 UTC on Sunday 9 January 2028 is Monday 10 January in Vladivostok (+10), a day
    // off in the loaded calendar; counting starts on Tuesday 11 January.
    let out = deadline(
        &dir,
        &[
            "--kind",
            "stop_unlawful",
            "--regime",
            "ru",
            "--received",
            "2028-01-09T22:30:00Z",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("2028-01-13\n"), "{text}");
    assert!(
        text.contains("received 2028-01-10T08:30:00+10:00 (on 2028-01-10 in Asia/Vladivostok)"),
        "{text}"
    );
    assert!(text.contains("due by 2028-01-13T23:59:59+10:00"), "{text}");
    let out = run(&dir, &["calendar", "show", "2028"]);
    assert!(
        stdout(&out).contains("2028-01-10 Monday     day off  test transfer (Test decree of 2027)"),
        "{}",
        stdout(&out)
    );

    let token = std::fs::read_to_string(dir.join("admin-token")).unwrap();
    let server = Server::start(&dir);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body: serde_json::Value = rt.block_on(async {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!(
                "{}/v1/deadlines?kind=stop_unlawful&regime=ru&received=2028-01-09T22:30:00Z",
                server.url
            ))
            .bearer_auth(token.trim())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(body["due_date"], "2028-01-13", "{body}");
    assert_eq!(body["zone"], "Asia/Vladivostok");
    assert_eq!(body["due_at"], "2028-01-13T23:59:59+10:00");
    drop(server);

    // A file that is not a valid calendar stops Ward from starting, naming it.
    std::fs::write(dir.join("calendars/ru-2029.toml"), "country = \"ru\"\nyear = 2029\n").unwrap();
    let out = run(&dir, &["calendar", "show", "2027"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("ru-2029.toml is not valid"), "{}", stderr(&out));
    // So does an unknown time zone.
    std::fs::remove_file(dir.join("calendars/ru-2029.toml")).unwrap();
    let cfg = std::fs::read_to_string(dir.join("ward.toml")).unwrap();
    std::fs::write(dir.join("ward.toml"), cfg.replace("Asia/Vladivostok", "Asia/Atlantis")).unwrap();
    let out = run(&dir, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown time zone `Asia/Atlantis`"),
        "{}",
        stderr(&out)
    );
}
