//! When a job runs: every so often, or daily at a time of day (UTC). A schedule is a pure
//! function from "the last time we looked" to "the next time it is due"; the runner feeds it
//! the clock's time.

use crate::SetupError;
use time::{Duration, OffsetDateTime, Time, UtcOffset};

/// A job's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Every `period`, counted from when the job was added to its runner (as a
    /// `tokio::time::interval` would, without its first immediate tick). Times missed while
    /// the process was busy or asleep are not made up: the job runs once, then keeps to its
    /// slots.
    Every(Duration),
    /// Once a day, at this time of day in UTC.
    DailyAt(Time),
}

impl Schedule {
    /// Every `period`; the period must be positive.
    pub fn every(period: Duration) -> Result<Self, SetupError> {
        if period.is_positive() {
            Ok(Self::Every(period))
        } else {
            Err(SetupError::PeriodNotPositive)
        }
    }

    /// Every `secs` seconds (at least one).
    pub fn every_secs(secs: u64) -> Result<Self, SetupError> {
        Self::every(Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX)))
    }

    /// Daily at `at` (UTC).
    pub fn daily_at(at: Time) -> Self {
        Self::DailyAt(at)
    }

    /// The first time the job is due strictly after `after`, for a job added at `anchor`.
    pub fn next_after(&self, anchor: OffsetDateTime, after: OffsetDateTime) -> OffsetDateTime {
        match *self {
            Self::Every(period) => {
                let p = period.whole_nanoseconds().max(1);
                let since = (after - anchor).whole_nanoseconds();
                // Slots are anchor + k·period, k ≥ 1; the first one past `after`.
                let k = if since < 0 { 1 } else { since / p + 1 };
                later(anchor, nanos(k.saturating_mul(p)))
            }
            Self::DailyAt(at) => {
                let utc = after.to_offset(UtcOffset::UTC);
                let today = utc.replace_time(at);
                if today > utc {
                    today
                } else {
                    later(today, Duration::days(1))
                }
            }
        }
    }

    /// How long one period lasts at most (a day for [`Schedule::DailyAt`]).
    pub fn period(&self) -> Duration {
        match *self {
            Self::Every(period) => period,
            Self::DailyAt(_) => Duration::days(1),
        }
    }
}

/// `t + d`, or the last instant `time` can hold when that is past it.
pub(crate) fn later(t: OffsetDateTime, d: Duration) -> OffsetDateTime {
    t.checked_add(d)
        .unwrap_or_else(|| time::Date::MAX.midnight().assume_utc())
}

/// A duration of `n` nanoseconds, saturating at what `Duration` holds.
fn nanos(n: i128) -> Duration {
    let secs = i64::try_from(n / 1_000_000_000).unwrap_or(i64::MAX);
    let sub = i32::try_from(n % 1_000_000_000).unwrap_or(0);
    Duration::new(secs, sub)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, time};

    const T0: OffsetDateTime = datetime!(2026-03-04 05:06:07.123456 UTC);

    #[test]
    fn every_runs_at_the_anchors_slots() {
        let s = Schedule::every_secs(60).unwrap();
        assert_eq!(s.next_after(T0, T0), T0 + Duration::seconds(60));
        assert_eq!(s.next_after(T0, T0 + Duration::seconds(59)), T0 + Duration::seconds(60));
        assert_eq!(
            s.next_after(T0, T0 + Duration::seconds(60)),
            T0 + Duration::seconds(120)
        );
        // Missed slots are not made up: the next one after now.
        assert_eq!(
            s.next_after(T0, T0 + Duration::seconds(601)),
            T0 + Duration::seconds(660)
        );
        // A clock that went back before the anchor: the first slot.
        assert_eq!(s.next_after(T0, T0 - Duration::hours(1)), T0 + Duration::seconds(60));
    }

    #[test]
    fn a_period_must_be_positive() {
        assert_eq!(Schedule::every(Duration::ZERO), Err(SetupError::PeriodNotPositive));
        assert_eq!(
            Schedule::every(Duration::seconds(-5)),
            Err(SetupError::PeriodNotPositive)
        );
        assert_eq!(Schedule::every_secs(0), Err(SetupError::PeriodNotPositive));
        assert!(Schedule::every(Duration::microseconds(1)).is_ok());
    }

    #[test]
    fn daily_at_runs_once_a_day_at_its_time() {
        let s = Schedule::daily_at(time!(03:00));
        assert_eq!(s.next_after(T0, T0), datetime!(2026-03-05 03:00 UTC));
        assert_eq!(
            s.next_after(T0, datetime!(2026-03-05 02:59:59 UTC)),
            datetime!(2026-03-05 03:00 UTC)
        );
        assert_eq!(
            s.next_after(T0, datetime!(2026-03-05 03:00 UTC)),
            datetime!(2026-03-06 03:00 UTC)
        );
        // In UTC, whatever the offset of the time given.
        assert_eq!(
            s.next_after(T0, datetime!(2026-03-05 07:00 +03:00)),
            datetime!(2026-03-06 03:00 UTC)
        );
        assert_eq!(s.period(), Duration::days(1));
    }

    #[test]
    fn huge_periods_saturate_instead_of_panicking() {
        let s = Schedule::every_secs(u64::MAX).unwrap();
        assert!(s.next_after(T0, T0) > T0);
    }
}
