//! The operator's time zone: it decides the day a request was received and the moment a
//! due day ends. The tz database is compiled into Ward (jiff's bundled copy), so no system
//! files are read and the answer does not depend on the host.

use time::{Date, Month, OffsetDateTime, UtcOffset};

/// A named IANA time zone (e.g. `Europe/Moscow`).
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
}

/// A time zone name the tz database does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone `{0}`: give an IANA name such as Europe/Moscow")]
pub struct UnknownZone(pub String);

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl Default for Zone {
    /// Moscow, where Russia's federal deadlines are usually reckoned.
    fn default() -> Self {
        Zone::named(Zone::DEFAULT).unwrap_or_else(|_| Zone {
            name: "UTC".into(),
            tz: jiff::tz::TimeZone::UTC,
        })
    }
}

impl Zone {
    pub const DEFAULT: &'static str = "Europe/Moscow";

    /// The zone called `name` in the bundled tz database.
    pub fn named(name: &str) -> Result<Zone, UnknownZone> {
        let tz = jiff::tz::db().get(name).map_err(|_| UnknownZone(name.to_owned()))?;
        Ok(Zone {
            name: name.to_owned(),
            tz,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn zoned(&self, at: OffsetDateTime) -> Option<jiff::ZonedDateTime> {
        let ts = jiff::Timestamp::new(at.unix_timestamp(), at.nanosecond() as i32).ok()?;
        Some(ts.to_zoned_datetime(self.tz.clone()))
    }

    /// The calendar date `at` falls on in this zone.
    pub fn local_date(&self, at: OffsetDateTime) -> Option<Date> {
        let d = self.zoned(at)?.date();
        Date::from_calendar_date(
            i32::from(d.year()),
            Month::try_from(d.month() as u8).ok()?,
            d.day() as u8,
        )
        .ok()
    }

    /// `at` as this zone's local time (with its offset then).
    pub fn local(&self, at: OffsetDateTime) -> Option<OffsetDateTime> {
        let z = self.zoned(at)?;
        Some(at.to_offset(UtcOffset::from_whole_seconds(z.offset().seconds()).ok()?))
    }

    /// The last second of `date` in this zone (23:59:59 local), with the zone's offset.
    pub fn end_of_day(&self, date: Date) -> Option<OffsetDateTime> {
        let civil = jiff::civil::Date::new(date.year().try_into().ok()?, date.month() as i8, date.day() as i8).ok()?;
        let z = civil.at(23, 59, 59, 0).to_zoned_datetime(self.tz.clone()).ok()?;
        let utc = OffsetDateTime::from_unix_timestamp(z.timestamp().as_second()).ok()?;
        Some(utc.to_offset(UtcOffset::from_whole_seconds(z.offset().seconds()).ok()?))
    }
}
