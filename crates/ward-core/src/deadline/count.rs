//! Counting a term from the day a request was received, with the explanation of every day
//! that was counted or skipped.
//!
//! Periods in days begin on the day after the event (Civil Code Art. 191). Working days are
//! read from the production calendar (`crate::calendar`); a day in a year with no calendar
//! stops the count with [`MissingCalendar`]. A period of calendar days ends on its last day
//! even when that day is not worked: Civil Code Art. 193 would roll it to the next working
//! day, but the conservative reading (checklist §E row 117) keeps the earlier date. Months
//! follow Regulation (EEC, Euratom) No 1182/71 Art. 3(2)(c): the period ends on the day of the
//! later month with the same number as the day of the event, or on that month's last day if
//! it has none; it is not rolled past a weekend either (no EU holiday calendar is modelled).

use crate::calendar::{Calendars, DayStatus, MissingCalendar};
use serde::Serialize;
use time::{Date, Duration, Month};

/// One day of a working-day count: counted (with its number) or skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    #[serde(serialize_with = "iso_date")]
    pub date: Date,
    /// The working day's number in the count; `None` for a skipped day.
    pub counted: Option<u32>,
    /// Why: `working day`, `weekend (Saturday)`, `holiday: …`, `day off: …`, `working: …`.
    pub reason: String,
    /// The act that makes the day what it is (a holiday's law, a transfer's decree).
    pub act: Option<String>,
}

pub(crate) fn iso_date<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.to_string())
}

impl Step {
    /// The step as a line of text.
    pub fn describe(&self) -> String {
        let head = match self.counted {
            Some(n) => format!("{} {}  counted #{n}: {}", self.date, weekday(self.date), self.reason),
            None => format!("{} {}  skipped: {}", self.date, weekday(self.date), self.reason),
        };
        match &self.act {
            Some(act) => format!("{head} ({act})"),
            None => head,
        }
    }
}

fn weekday(d: Date) -> &'static str {
    match d.weekday() {
        time::Weekday::Monday => "Mon",
        time::Weekday::Tuesday => "Tue",
        time::Weekday::Wednesday => "Wed",
        time::Weekday::Thursday => "Thu",
        time::Weekday::Friday => "Fri",
        time::Weekday::Saturday => "Sat",
        time::Weekday::Sunday => "Sun",
    }
}

fn step(date: Date, counted: Option<u32>, status: DayStatus<'_>) -> Step {
    let (reason, act) = match status {
        DayStatus::Working => ("working day".to_owned(), None),
        DayStatus::WorkingWeekend(s) => (format!("working: {}", s.name), Some(s.act.clone())),
        DayStatus::Weekend(w) => (format!("weekend ({w})"), None),
        DayStatus::Holiday(s) => (format!("holiday: {}", s.name), Some(s.act.clone())),
        DayStatus::DayOff(s) => (format!("day off: {}", s.name), Some(s.act.clone())),
    };
    Step {
        date,
        counted,
        reason,
        act,
    }
}

/// The `n`-th working day after `received`, with every day from the day after `received`
/// to it explained.
pub fn working_days(calendars: &Calendars, received: Date, n: u32) -> Result<(Date, Vec<Step>), MissingCalendar> {
    let mut steps = Vec::new();
    let mut day = received;
    let mut counted = 0;
    while counted < n {
        day = day.next_day().ok_or(MissingCalendar { year: day.year() + 1 })?;
        let status = calendars.status(day)?;
        if status.is_working() {
            counted += 1;
            steps.push(step(day, Some(counted), status));
        } else {
            steps.push(step(day, None, status));
        }
    }
    Ok((day, steps))
}

/// `n` calendar days after `received`, not rolled past a non-working last day.
pub fn calendar_days(received: Date, n: u32) -> Option<Date> {
    received.checked_add(Duration::days(i64::from(n)))
}

/// `n` months after `received` (Regulation 1182/71 Art. 3(2)(c)).
pub fn months(received: Date, n: u32) -> Option<Date> {
    let index = i64::from(received.year()) * 12 + i64::from(u8::from(received.month()) - 1) + i64::from(n);
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let last = month.length(year);
    Date::from_calendar_date(year, month, received.day().min(last)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_month_ends_on_the_same_day_or_the_months_last() {
        assert_eq!(months(date!(2026 - 01 - 31), 1), Some(date!(2026 - 02 - 28)));
        assert_eq!(months(date!(2028 - 01 - 31), 1), Some(date!(2028 - 02 - 29)));
        assert_eq!(months(date!(2026 - 01 - 15), 1), Some(date!(2026 - 02 - 15)));
        assert_eq!(months(date!(2026 - 11 - 30), 3), Some(date!(2027 - 02 - 28)));
        assert_eq!(months(date!(2026 - 12 - 31), 1), Some(date!(2027 - 01 - 31)));
        assert_eq!(months(date!(2026 - 03 - 31), 1), Some(date!(2026 - 04 - 30)));
    }

    #[test]
    fn calendar_days_are_not_rolled_past_a_weekend() {
        // 30.04.2026 + 30 days is Saturday 30.05.2026, and stays so.
        assert_eq!(calendar_days(date!(2026 - 04 - 30), 30), Some(date!(2026 - 05 - 30)));
    }
}
