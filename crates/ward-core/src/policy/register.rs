//! The register's parts beyond categories, fields and purposes: recipients, retention,
//! processing methods and consent documents.

use crate::action::string_enum;
use std::collections::BTreeSet;
use std::fmt;
use time::{Duration, OffsetDateTime};

string_enum! {
    /// What a recipient is to the operator.
    RecipientRole {
        /// Processes on the operator's instruction (152-FZ Art. 6 p. 3; GDPR Art. 28).
        Processor => "processor",
        /// A third party that decides its own purposes.
        Controller => "controller",
        /// A state body receiving data under a law.
        Authority => "authority",
    }
}

string_enum! {
    /// How data is processed (152-FZ asks the consent to describe it).
    ProcessingMethod {
        Automated => "automated",
        Manual => "manual",
    }
}

string_enum! {
    /// The event a retention period runs from.
    RetentionStart {
        Collection => "collection",
        LastActivity => "last_activity",
        ContractEnd => "contract_end",
        Withdrawal => "withdrawal",
    }
}

string_enum! {
    /// Kinds of consent document the law wants kept apart.
    ConsentKind {
        /// General consent to processing (152-FZ Art. 9).
        Processing => "processing",
        /// Advertising and newsletters, per channel (38-FZ Art. 18).
        Marketing => "marketing",
        /// Data the subject permits to be made public (152-FZ Art. 10.1).
        Distribution => "distribution",
        /// Transfer abroad (152-FZ Art. 12).
        CrossBorder => "cross_border",
        /// Cookies and trackers, per category.
        Cookies => "cookies",
    }
}

string_enum! {
    /// The form a consent must take.
    ConsentForm {
        /// Any affirmative act: a checkbox, a submitted form, a signature.
        Any => "any",
        /// Written: a signed paper document or an electronic signature (152-FZ Art. 9 p. 4;
        /// required by law for special categories (Art. 10), biometrics (Art. 11) and a
        /// minor's parent (Art. 9 p. 6 as read with the Civil Code), and wherever the operator
        /// chooses it).
        Written => "written",
    }
}

string_enum! {
    /// A marketing channel, each consented to separately.
    MarketingChannel {
        Email => "email",
        Sms => "sms",
        Calls => "calls",
        Push => "push",
    }
}

/// Cookie categories a consent document may cover (strictly necessary cookies need none).
pub const COOKIE_CATEGORIES: &[&str] = &["functional", "analytics", "marketing"];

/// A unit of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodUnit {
    Days,
    Weeks,
    Months,
    Years,
}

/// How long data is kept, or how long a consent lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    Period { count: u32, unit: PeriodUnit },
    UntilWithdrawal,
    UntilAchieved,
}

impl Retention {
    /// Parses `"7 months"`, `"30 days"`, `"1 year"`, `"until_withdrawal"`, `"until_achieved"`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "until_withdrawal" => return Some(Retention::UntilWithdrawal),
            "until_achieved" => return Some(Retention::UntilAchieved),
            _ => {}
        }
        let (n, unit) = s.trim().split_once(' ')?;
        let count: u32 = n.parse().ok().filter(|c| (1..=1000).contains(c))?;
        let unit = match unit.trim() {
            "day" | "days" => PeriodUnit::Days,
            "week" | "weeks" => PeriodUnit::Weeks,
            "month" | "months" => PeriodUnit::Months,
            "year" | "years" => PeriodUnit::Years,
            _ => return None,
        };
        Some(Retention::Period { count, unit })
    }

    /// The instant `self` after `from`, for periods (calendar months and years; a day that
    /// does not exist in the target month becomes the month's last day).
    pub fn after(&self, from: OffsetDateTime) -> Option<OffsetDateTime> {
        let Retention::Period { count, unit } = *self else {
            return None;
        };
        match unit {
            PeriodUnit::Days => Some(from + Duration::days(i64::from(count))),
            PeriodUnit::Weeks => Some(from + Duration::weeks(i64::from(count))),
            PeriodUnit::Months => add_months(from, count),
            PeriodUnit::Years => add_months(from, count.checked_mul(12)?),
        }
    }
}

fn add_months(t: OffsetDateTime, months: u32) -> Option<OffsetDateTime> {
    let total = i64::from(t.year()) * 12 + i64::from(u8::from(t.month())) - 1 + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = time::Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    let day = t.day().min(month.length(year));
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    Some(t.replace_date(date))
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Retention::UntilWithdrawal => f.write_str("until_withdrawal"),
            Retention::UntilAchieved => f.write_str("until_achieved"),
            Retention::Period { count, unit } => {
                let u = match unit {
                    PeriodUnit::Days => "day",
                    PeriodUnit::Weeks => "week",
                    PeriodUnit::Months => "month",
                    PeriodUnit::Years => "year",
                };
                write!(f, "{count} {u}{}", if *count == 1 { "" } else { "s" })
            }
        }
    }
}

/// A processor or third party that receives data.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub title: String,
    pub role: RecipientRole,
    /// ISO 3166 alpha-2.
    pub country: String,
    pub address: Option<String>,
    pub categories: BTreeSet<String>,
}

/// A consent document: one accept action, one kind of consent.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentDocument {
    pub title: String,
    pub kind: ConsentKind,
    pub purposes: BTreeSet<String>,
    pub channel: Option<MarketingChannel>,
    pub cookie_category: Option<String>,
    /// How long a consent lasts; `None`: until withdrawn.
    pub term: Option<Retention>,
    pub withdrawal: String,
    pub text: String,
    pub version: String,
    /// The form consent must take. Distribution consents (Art. 10.1) are always a separate
    /// document; `written` refuses checkboxes and form submissions.
    pub form: ConsentForm,
    /// Ward made this document up because the policy declared none for its purpose.
    pub implied: bool,
}

/// A jurisdiction whose rules apply: `RU`, `EU`, `EU-XX`, `US`.
pub fn valid_jurisdiction(s: &str) -> bool {
    matches!(s, "RU" | "EU" | "US")
        || s.strip_prefix("EU-")
            .is_some_and(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
}

/// An ISO 3166 alpha-2 code, by shape.
pub fn valid_country(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// A value the operator still has to fill in.
pub fn is_placeholder(s: &str) -> bool {
    s.trim_start().starts_with("FILL IN")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn retention_parses_and_adds_calendar_periods() {
        let r = Retention::parse("7 months").unwrap();
        assert_eq!(r.to_string(), "7 months");
        assert_eq!(
            r.after(datetime!(2026-07-31 12:00 UTC)),
            Some(datetime!(2027-02-28 12:00 UTC))
        );
        assert_eq!(
            Retention::parse("1 year")
                .unwrap()
                .after(datetime!(2024-02-29 0:00 UTC)),
            Some(datetime!(2025-02-28 0:00 UTC))
        );
        assert_eq!(
            Retention::parse("30 days")
                .unwrap()
                .after(datetime!(2026-01-01 0:00 UTC)),
            Some(datetime!(2026-01-31 0:00 UTC))
        );
        assert_eq!(Retention::parse("until_withdrawal"), Some(Retention::UntilWithdrawal));
        for bad in ["7", "seven months", "0 days", "3 fortnights", ""] {
            assert_eq!(Retention::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn shapes() {
        assert!(valid_jurisdiction("EU-DE") && valid_jurisdiction("RU") && !valid_jurisdiction("EU-de"));
        assert!(valid_country("RU") && !valid_country("RUS"));
        assert!(is_placeholder("FILL IN: address") && !is_placeholder("Moscow"));
    }
}
