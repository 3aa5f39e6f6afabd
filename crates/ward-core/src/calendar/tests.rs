use super::*;
use time::macros::date;

#[test]
fn the_shipped_years_have_247_working_days_each() {
    let c = Calendars::shipped();
    assert_eq!(c.years().collect::<Vec<_>>(), vec![2026, 2027]);
    for year in [2026, 2027] {
        assert_eq!(c.year(year).unwrap().working_days(), 247, "{year}");
    }
    for (name, text) in SHIPPED {
        assert!(Calendar::parse(text).is_ok(), "{name}");
    }
}

#[test]
fn days_are_classified_from_the_decrees() {
    let c = Calendars::shipped();
    let kind = |d| match c.status(d).unwrap() {
        DayStatus::Working => "working",
        DayStatus::WorkingWeekend(_) => "working_weekend",
        DayStatus::Weekend(_) => "weekend",
        DayStatus::Holiday(_) => "holiday",
        DayStatus::DayOff(_) => "day_off",
    };
    // 2026: Decree No. 1466 moves 3 and 4 January to 9 January and 31 December; Art. 112
    // p. 2 moves 8 March (Sunday) to 9 March and 9 May (Saturday) to 11 May.
    assert_eq!(kind(date!(2026 - 01 - 09)), "day_off");
    assert_eq!(kind(date!(2026 - 12 - 31)), "day_off");
    assert_eq!(kind(date!(2026 - 03 - 09)), "day_off");
    assert_eq!(kind(date!(2026 - 05 - 11)), "day_off");
    assert_eq!(kind(date!(2026 - 05 - 08)), "working");
    assert_eq!(kind(date!(2026 - 02 - 23)), "holiday");
    // 2027: Decree No. 1187: Saturday 20 February is worked, 22 February is off.
    assert_eq!(kind(date!(2027 - 02 - 20)), "working_weekend");
    assert_eq!(kind(date!(2027 - 02 - 22)), "day_off");
    assert_eq!(kind(date!(2027 - 11 - 05)), "day_off");
    assert_eq!(kind(date!(2027 - 12 - 31)), "day_off");
    assert_eq!(kind(date!(2027 - 02 - 21)), "weekend");
    let DayStatus::DayOff(d) = c.status(date!(2027 - 02 - 22)).unwrap() else {
        unreachable!()
    };
    assert_eq!(d.act, "Government Decree No. 1187 of 17.09.2026");
}

#[test]
fn a_year_without_a_calendar_is_refused_by_name() {
    let c = Calendars::shipped();
    let e = c.status(date!(2028 - 01 - 10)).unwrap_err();
    assert_eq!(e, MissingCalendar { year: 2028 });
    assert!(e.to_string().contains("no production calendar for 2028"), "{e}");
    assert!(Calendars::empty().status(date!(2026 - 05 - 05)).is_err());
}

fn year_2028(extra: &str) -> String {
    // 2028 as a test file: the Art. 112 holidays only, plus `extra`.
    let mut t = String::from("country = \"ru\"\nyear = 2028\nsource_act = \"Test decree\"\n");
    for md in [
        "01-01", "01-02", "01-03", "01-04", "01-05", "01-06", "01-07", "01-08", "02-23", "03-08", "05-01", "05-09",
        "06-12", "11-04",
    ] {
        t.push_str(&format!(
            "[[days]]\ndate = \"2028-{md}\"\nkind = \"holiday\"\nname = \"Holiday\"\nact = \"Labour Code Art. 112 p. 1\"\n"
        ));
    }
    t.push_str(extra);
    t
}

#[test]
fn an_operator_loads_a_year_and_a_bad_file_changes_nothing() {
    let mut c = Calendars::shipped();
    assert_eq!(c.load(&year_2028("")), Ok(2028));
    assert!(c.status(date!(2028 - 01 - 10)).unwrap().is_working());

    let before = c.clone();
    let bad = [
        (
            year_2028("[[days]]\ndate = \"2028-01-01\"\nkind = \"holiday\"\nname = \"x\"\nact = \"y\"\n"),
            "listed twice",
        ),
        (
            year_2028("[[days]]\ndate = \"2028-01-10\"\nkind = \"working\"\nname = \"x\"\nact = \"y\"\n"),
            "only a Saturday or Sunday",
        ),
        (
            year_2028("[[days]]\ndate = \"2028-01-15\"\nkind = \"day_off\"\nname = \"x\"\nact = \"y\"\n"),
            "falls on a weekday",
        ),
        (
            year_2028("[[days]]\ndate = \"2027-01-15\"\nkind = \"day_off\"\nname = \"x\"\nact = \"y\"\n"),
            "is not in 2028",
        ),
        (
            year_2028("[[days]]\ndate = \"2028-13-01\"\nkind = \"day_off\"\nname = \"x\"\nact = \"y\"\n"),
            "not YYYY-MM-DD",
        ),
        (
            year_2028("[[days]]\ndate = \"2028-01-14\"\nkind = \"off\"\nname = \"x\"\nact = \"y\"\n"),
            "kind `off`",
        ),
        (year_2028("").replace("Test decree", " "), "source_act is empty"),
        (year_2028("").replace("\"ru\"", "\"de\""), "only `ru`"),
        (
            year_2028("").replace("2028-11-04", "2028-11-03"),
            "2028-11-04 must be listed as a holiday",
        ),
        ("year = 2026".to_owned(), "not a calendar file"),
    ];
    for (text, want) in bad {
        let e = c.load(&text).unwrap_err().to_string();
        assert!(e.contains(want), "{want}: {e}");
    }
    // A shipped year is replaced only by a valid file.
    let shipped_2027 = SHIPPED[1].1;
    let broken = shipped_2027.replace("kind = \"working\"", "kind = \"workday\"");
    assert!(c.load(&broken).is_err());
    assert_eq!(c, before);
    let replaced = shipped_2027.replace("source_act = \"Government", "source_act = \"Amended: Government");
    assert_eq!(c.load(&replaced), Ok(2027));
    assert!(c.year(2027).unwrap().source_act.starts_with("Amended"));
}
