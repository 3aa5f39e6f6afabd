//! The deadline engine: when an answer to a data subject's request (or another duty) falls
//! due, under one or several regimes, counted on real calendars.
//!
//! [`due`] is the whole API: a pure function of the request's kind, its regimes, the moment it
//! was received, whether the term was extended, the production calendars and the operator's
//! time zone. The zone decides the day the request was received; counting starts the next
//! day; the due moment is the end (23:59:59) of the due day in the zone. Under several
//! regimes the earliest due moment wins (checklist §F.2). The answer explains itself: every
//! day counted or skipped and why, and the notes on how the term was read.

mod count;
mod presets;
mod zone;

pub use count::{calendar_days, months, working_days, Step};
pub use presets::{preset, Preset};
pub use zone::{UnknownZone, Zone};

use crate::action::string_enum;
use crate::calendar::{Calendars, MissingCalendar};
use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};

string_enum! {
    /// What the subject asks for (issue 19's request kinds), and the operator's duties that
    /// run on a clock of their own (the last six).
    RequestKind {
        /// Access to the data and the facts of its processing.
        Access => "access",
        /// A copy of the data (portability).
        Copy => "copy",
        Rectification => "rectification",
        /// Blocking (restriction).
        Blocking => "blocking",
        Erasure => "erasure",
        /// A demand to stop processing (152-FZ Art. 21 p. 5.1).
        StopProcessing => "stop_processing",
        WithdrawConsent => "withdraw_consent",
        /// An objection (to direct marketing, to legitimate interests).
        Object => "object",
        /// A transfer of the data to a named third party.
        Transfer => "transfer",
        /// A complaint or pre-trial claim.
        Complaint => "complaint",
        /// Unlawful processing identified: stop it.
        StopUnlawful => "stop_unlawful",
        /// Lawfulness cannot be ensured: destroy.
        DestroyUnlawful => "destroy_unlawful",
        /// The purpose was achieved: stop and destroy.
        PurposeAchieved => "purpose_achieved",
        /// An information request from the regulator (RKN).
        RegulatorRequest => "regulator_request",
        /// An incident's first notice to the authority.
        IncidentNotice => "incident_notice",
        /// An incident's investigation results to the authority.
        IncidentResults => "incident_results",
    }
}

/// A legal regime a subject's request falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Regime {
    /// Russia: 152-FZ.
    Ru,
    /// The EU: GDPR.
    Eu,
    /// California: CCPA/CPRA.
    UsCa,
}

impl Regime {
    pub const ALL: &'static [Regime] = &[Regime::Ru, Regime::Eu, Regime::UsCa];

    pub fn as_str(self) -> &'static str {
        match self {
            Regime::Ru => "ru",
            Regime::Eu => "eu",
            Regime::UsCa => "us-ca",
        }
    }
}

impl std::fmt::Display for Regime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Regime {
    type Err = crate::action::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Regime::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or(crate::action::UnknownName {
                kind: "Regime",
                expected: &["ru", "eu", "us-ca"],
            })
    }
}

impl Serialize for Regime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How a term is counted (checklist §E row 120).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "n", rename_all = "snake_case")]
pub enum Term {
    /// Working days of the production calendar.
    WorkingDays(u32),
    /// Calendar days.
    CalendarDays(u32),
    /// Months, as Regulation 1182/71 counts them.
    Months(u32),
    /// Clock hours from the moment of receipt, whatever the calendar.
    Hours(u32),
    /// At once: due at the moment of receipt.
    Immediate,
}

impl std::fmt::Display for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        f.write_str(&match *self {
            Term::WorkingDays(n) => plural(n, "working day", "working days"),
            Term::CalendarDays(n) => plural(n, "calendar day", "calendar days"),
            Term::Months(n) => plural(n, "month", "months"),
            Term::Hours(n) => plural(n, "hour", "hours"),
            Term::Immediate => "immediately".to_owned(),
        })
    }
}

/// What to compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineQuery {
    pub kind: RequestKind,
    /// One or more; the earliest due moment wins.
    pub regimes: Vec<Regime>,
    /// When the request was received (any offset: the zone decides its day).
    pub received: OffsetDateTime,
    /// The term was extended with a reasoned notice: the extended term applies where the law
    /// allows one.
    pub extended: bool,
}

/// A term counted from a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub due_date: Date,
    /// The end of the due day in the zone (for hours and `Immediate`: the moment itself).
    pub due_at: OffsetDateTime,
    /// For working days: every day from the day after receipt to the due day.
    pub steps: Vec<Step>,
    /// How the term was read.
    pub notes: Vec<String>,
}

/// One regime's deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegimeDue {
    pub regime: Regime,
    pub term: Term,
    /// Whether the extended term applies (asked for, and the law allows one).
    pub extended: bool,
    pub basis: &'static str,
    pub counted: Counted,
}

/// The answer: the earliest deadline, and each regime's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub kind: RequestKind,
    /// The moment of receipt in the zone.
    pub received_at: OffsetDateTime,
    /// The day the request was received, in the zone.
    pub received_on: Date,
    pub zone: String,
    /// Each regime that has a term for the kind, in the order asked.
    pub regimes: Vec<RegimeDue>,
    /// The index in `regimes` of the earliest deadline (the first of equals).
    pub earliest: usize,
    /// Regimes asked for that set no term for the kind.
    pub without_term: Vec<Regime>,
}

impl Due {
    /// The deadline that applies: the earliest.
    pub fn applies(&self) -> &RegimeDue {
        &self.regimes[self.earliest]
    }
}

/// Why no deadline could be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    #[error(transparent)]
    CalendarMissing(#[from] MissingCalendar),
    #[error("name at least one regime (ru, eu, us-ca)")]
    NoRegime,
    #[error("{kind} has no term under {}", regimes_list(.regimes))]
    NoTerm { kind: RequestKind, regimes: Vec<Regime> },
    #[error("the moment of receipt is out of range")]
    OutOfRange,
}

impl DeadlineError {
    /// The problem it is reported as, on the API and the CLI alike.
    pub fn code(&self) -> crate::ProblemCode {
        use crate::ProblemCode;
        match self {
            DeadlineError::CalendarMissing(_) => ProblemCode::CalendarMissing,
            DeadlineError::NoRegime => ProblemCode::UnknownRegime,
            DeadlineError::NoTerm { .. } => ProblemCode::NoDeadline,
            DeadlineError::OutOfRange => ProblemCode::InvalidReceived,
        }
    }
}

fn regimes_list(regimes: &[Regime]) -> String {
    regimes.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
}

/// The deadline for `query` (see the module documentation).
pub fn due(query: &DeadlineQuery, calendars: &Calendars, zone: &Zone) -> Result<Due, DeadlineError> {
    if query.regimes.is_empty() {
        return Err(DeadlineError::NoRegime);
    }
    let received_on = zone.local_date(query.received).ok_or(DeadlineError::OutOfRange)?;
    let received_at = zone.local(query.received).ok_or(DeadlineError::OutOfRange)?;
    let mut regimes: Vec<RegimeDue> = Vec::new();
    let mut without_term = Vec::new();
    for &regime in &query.regimes {
        if regimes.iter().any(|r| r.regime == regime) || without_term.contains(&regime) {
            continue;
        }
        let Some(preset) = preset(regime, query.kind) else {
            without_term.push(regime);
            continue;
        };
        let (term, extended) = match preset.extended {
            Some(t) if query.extended => (t, true),
            _ => (preset.term, false),
        };
        let mut counted = count(term, query.received, calendars, zone)?;
        if query.extended && !extended {
            counted.notes.push(format!(
                "{regime}: this term cannot be extended; the original term applies"
            ));
        }
        regimes.push(RegimeDue {
            regime,
            term,
            extended,
            basis: preset.basis,
            counted,
        });
    }
    let earliest = (0..regimes.len())
        .min_by_key(|&i| regimes[i].counted.due_at)
        .ok_or(DeadlineError::NoTerm {
            kind: query.kind,
            regimes: without_term.clone(),
        })?;
    Ok(Due {
        kind: query.kind,
        received_at,
        received_on,
        zone: zone.name().to_owned(),
        regimes,
        earliest,
        without_term,
    })
}

/// Counts `term` from `received` in `zone`: the building block of [`due`], for callers that
/// already know the term (the requests workflow, a paused clock).
pub fn count(
    term: Term,
    received: OffsetDateTime,
    calendars: &Calendars,
    zone: &Zone,
) -> Result<Counted, DeadlineError> {
    let received_on = zone.local_date(received).ok_or(DeadlineError::OutOfRange)?;
    let end_of = |d: Date| zone.end_of_day(d).ok_or(DeadlineError::OutOfRange);
    let mut notes = Vec::new();
    let (due_date, due_at, steps) = match term {
        Term::WorkingDays(n) => {
            let (d, steps) = working_days(calendars, received_on, n)?;
            notes.push(format!(
                "received on {received_on} ({}); counting starts the next day (Civil Code Art. 191)",
                zone.name()
            ));
            (d, end_of(d)?, steps)
        }
        Term::CalendarDays(n) => {
            let d = calendar_days(received_on, n).ok_or(DeadlineError::OutOfRange)?;
            notes.push(format!(
                "{n} calendar days from {received_on}; a last day that is not worked is not rolled to the next \
                 working day (the conservative reading of Civil Code Art. 193)"
            ));
            (d, end_of(d)?, Vec::new())
        }
        Term::Months(n) => {
            let d = months(received_on, n).ok_or(DeadlineError::OutOfRange)?;
            notes.push(format!(
                "{term} from {received_on}: the same day of the later month, or its last day if it has none \
                 (Regulation 1182/71 Art. 3(2)(c)); not rolled past a weekend or holiday"
            ));
            (d, end_of(d)?, Vec::new())
        }
        Term::Hours(n) => {
            let at = received
                .checked_add(Duration::hours(i64::from(n)))
                .and_then(|t| zone.local(t))
                .ok_or(DeadlineError::OutOfRange)?;
            notes.push(format!(
                "{term} of clock time from the moment of receipt, whatever the calendar"
            ));
            (zone.local_date(at).ok_or(DeadlineError::OutOfRange)?, at, Vec::new())
        }
        Term::Immediate => {
            let at = zone.local(received).ok_or(DeadlineError::OutOfRange)?;
            notes.push("due at once, from the moment of receipt".to_owned());
            (received_on, at, Vec::new())
        }
    };
    Ok(Counted {
        due_date,
        due_at,
        steps,
        notes,
    })
}

#[cfg(test)]
mod tests;
