//! The calendar file format (docs/deadlines.md), and the checks a file must pass before its
//! year is put in force:
//!
//! ```toml
//! country = "ru"
//! year = 2027
//! source_act = "Government Decree No. 1187 of 17.09.2026"
//!
//! [[days]]
//! date = "2027-02-20"
//! kind = "working"          # holiday | day_off | working
//! name = "Saturday made working; its day off moves to Monday 22 February"
//! act = "Government Decree No. 1187 of 17.09.2026"
//! ```
//!
//! Saturday and Sunday are weekend days (the five-day week, Labour Code Art. 111); the file
//! lists only the exceptions.

use super::{is_weekend, Calendar, SpecialDay, SpecialKind};
use serde::Deserialize;
use std::collections::BTreeMap;
use time::{Date, Month};

/// The non-working holidays of Labour Code Art. 112 p. 1 (month, day): a Russian calendar
/// must list every one of them as a holiday.
const ART_112_HOLIDAYS: &[(Month, u8)] = &[
    (Month::January, 1),
    (Month::January, 2),
    (Month::January, 3),
    (Month::January, 4),
    (Month::January, 5),
    (Month::January, 6),
    (Month::January, 7),
    (Month::January, 8),
    (Month::February, 23),
    (Month::March, 8),
    (Month::May, 1),
    (Month::May, 9),
    (Month::June, 12),
    (Month::November, 4),
];

/// Why a calendar file was not accepted. The messages name dates and keys, never guesses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CalendarFileError(pub String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCalendar {
    country: String,
    year: i32,
    source_act: String,
    #[serde(default)]
    days: Vec<FileDay>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDay {
    date: String,
    kind: String,
    name: String,
    act: String,
}

fn fail(message: impl Into<String>) -> CalendarFileError {
    CalendarFileError(message.into())
}

pub(super) fn parse(text: &str) -> Result<Calendar, CalendarFileError> {
    let file: FileCalendar = toml::from_str(text).map_err(|e| fail(format!("not a calendar file: {e}")))?;
    if file.country != "ru" {
        return Err(fail(format!(
            "country `{}`: only `ru` (Russia's federal calendar) is supported",
            file.country
        )));
    }
    if !(1900..=9999).contains(&file.year) {
        return Err(fail(format!("year {} is out of range", file.year)));
    }
    if file.source_act.trim().is_empty() {
        return Err(fail("source_act is empty: name the decree the calendar comes from"));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut days = BTreeMap::new();
    for d in file.days {
        let date = Date::parse(&d.date, &format).map_err(|_| fail(format!("date `{}` is not YYYY-MM-DD", d.date)))?;
        if date.year() != file.year {
            return Err(fail(format!("{date} is not in {}", file.year)));
        }
        let kind = match d.kind.as_str() {
            "holiday" => SpecialKind::Holiday,
            "day_off" => SpecialKind::DayOff,
            "working" => SpecialKind::Working,
            other => {
                return Err(fail(format!(
                    "{date}: kind `{other}` is not `holiday`, `day_off` or `working`"
                )))
            }
        };
        match kind {
            SpecialKind::DayOff if is_weekend(date) => {
                return Err(fail(format!(
                    "{date} is a {}: a transferred day off falls on a weekday",
                    date.weekday()
                )))
            }
            SpecialKind::Working if !is_weekend(date) => {
                return Err(fail(format!(
                    "{date} is a {}: only a Saturday or Sunday can be made working",
                    date.weekday()
                )))
            }
            _ => {}
        }
        if d.name.trim().is_empty() || d.act.trim().is_empty() {
            return Err(fail(format!("{date}: name and act must both be given")));
        }
        let day = SpecialDay {
            kind,
            name: d.name,
            act: d.act,
        };
        if days.insert(date, day).is_some() {
            return Err(fail(format!("{date} is listed twice")));
        }
    }
    for &(month, day) in ART_112_HOLIDAYS {
        let date = Date::from_calendar_date(file.year, month, day).map_err(|e| fail(e.to_string()))?;
        if days.get(&date).map(|d| d.kind) != Some(SpecialKind::Holiday) {
            return Err(fail(format!(
                "{date} must be listed as a holiday (Labour Code Art. 112 p. 1)"
            )));
        }
    }
    Ok(Calendar {
        country: file.country,
        year: file.year,
        source_act: file.source_act,
        days,
    })
}
