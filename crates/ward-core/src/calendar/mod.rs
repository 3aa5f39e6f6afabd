//! Production calendars: which days are working days, year by year, as data.
//!
//! Working days come from the calendar, not from "Monday to Friday" (checklist §E): a day is
//! a working day when it is a weekday that is neither a non-working holiday (Labour Code
//! Art. 112 p. 1) nor a transferred day off, or a weekend day that a decree made working.
//! Russia's calendars for 2026 and 2027 ship with Ward (`calendars/ru-YYYY.toml`, embedded);
//! an operator loads more years from files of the same format ([`Calendars::load`]). A date
//! in a year with no calendar is refused with [`MissingCalendar`], naming the year: Ward never
//! guesses.
//!
//! Pure: the binary reads the files, this module only parses the text it is given.

mod file;

pub use file::CalendarFileError;

use std::collections::BTreeMap;
use std::sync::Arc;
use time::{Date, Weekday};

/// The calendars that ship with Ward, by file name and text.
pub const SHIPPED: &[(&str, &str)] = &[
    ("ru-2026.toml", include_str!("../../calendars/ru-2026.toml")),
    ("ru-2027.toml", include_str!("../../calendars/ru-2027.toml")),
];

/// What a calendar says of a day that is not an ordinary weekday or weekend day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialKind {
    /// A non-working holiday (Labour Code Art. 112 p. 1), whatever the day of the week.
    Holiday,
    /// A weekday made a day off: a transfer by decree, or a holiday's weekend moved
    /// (Art. 112 p. 2).
    DayOff,
    /// A Saturday or Sunday made a working day by decree.
    Working,
}

impl SpecialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SpecialKind::Holiday => "holiday",
            SpecialKind::DayOff => "day_off",
            SpecialKind::Working => "working",
        }
    }
}

/// One listed day: its kind, its name and the act that makes it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialDay {
    pub kind: SpecialKind,
    pub name: String,
    pub act: String,
}

/// One year of one country's calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub country: String,
    pub year: i32,
    /// The decree the year's calendar comes from.
    pub source_act: String,
    pub days: BTreeMap<Date, SpecialDay>,
}

/// Whether a day is worked, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayStatus<'c> {
    /// An ordinary weekday.
    Working,
    /// A Saturday or Sunday made working by decree: it counts.
    WorkingWeekend(&'c SpecialDay),
    /// An ordinary Saturday or Sunday.
    Weekend(Weekday),
    /// A non-working holiday.
    Holiday(&'c SpecialDay),
    /// A transferred day off.
    DayOff(&'c SpecialDay),
}

impl DayStatus<'_> {
    pub fn is_working(&self) -> bool {
        matches!(self, DayStatus::Working | DayStatus::WorkingWeekend(_))
    }
}

pub(crate) fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

impl Calendar {
    /// Parses and checks one calendar file's text ([`file`] has the format).
    pub fn parse(text: &str) -> Result<Calendar, CalendarFileError> {
        file::parse(text)
    }

    /// The status of `date`, which must be in this calendar's year.
    pub fn status(&self, date: Date) -> DayStatus<'_> {
        debug_assert_eq!(date.year(), self.year);
        match self.days.get(&date) {
            Some(s) if s.kind == SpecialKind::Working => DayStatus::WorkingWeekend(s),
            Some(s) if s.kind == SpecialKind::Holiday => DayStatus::Holiday(s),
            Some(s) => DayStatus::DayOff(s),
            None if is_weekend(date) => DayStatus::Weekend(date.weekday()),
            None => DayStatus::Working,
        }
    }

    /// Every day of the year.
    pub fn dates(&self) -> impl Iterator<Item = Date> + '_ {
        let first = Date::from_ordinal_date(self.year, 1).ok();
        std::iter::successors(first, |d| d.next_day()).take_while(|d| d.year() == self.year)
    }

    /// How many working days the year has.
    pub fn working_days(&self) -> usize {
        self.dates().filter(|d| self.status(*d).is_working()).count()
    }
}

/// A date in a year no calendar covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "there is no production calendar for {year}: Ward does not guess working days; load the year's \
     calendar (docs/deadlines.md)"
)]
pub struct MissingCalendar {
    pub year: i32,
}

/// The calendars in force, by year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendars {
    years: BTreeMap<i32, Arc<Calendar>>,
}

impl Default for Calendars {
    fn default() -> Self {
        Self::shipped()
    }
}

impl Calendars {
    /// The calendars that ship with Ward.
    pub fn shipped() -> Calendars {
        let mut c = Calendars::empty();
        for (name, text) in SHIPPED {
            match Calendar::parse(text) {
                Ok(cal) => c.insert(cal),
                // A shipped file is checked by the tests; one that fails is left out, so its
                // year is refused as missing rather than guessed.
                Err(e) => debug_assert!(false, "{name}: {e}"),
            }
        }
        c
    }

    /// No calendar at all.
    pub fn empty() -> Calendars {
        Calendars { years: BTreeMap::new() }
    }

    /// Parses a calendar file's text and puts it in force for its year, replacing the year's
    /// calendar only when the text is a valid calendar. Returns the year.
    pub fn load(&mut self, text: &str) -> Result<i32, CalendarFileError> {
        let cal = Calendar::parse(text)?;
        let year = cal.year;
        self.insert(cal);
        Ok(year)
    }

    fn insert(&mut self, cal: Calendar) {
        self.years.insert(cal.year, Arc::new(cal));
    }

    /// The years covered, in order.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// The calendar of `year`.
    pub fn year(&self, year: i32) -> Result<&Calendar, MissingCalendar> {
        self.years.get(&year).map(|c| &**c).ok_or(MissingCalendar { year })
    }

    /// The status of `date` in its year's calendar.
    pub fn status(&self, date: Date) -> Result<DayStatus<'_>, MissingCalendar> {
        Ok(self.year(date.year())?.status(date))
    }
}

#[cfg(test)]
mod tests;
