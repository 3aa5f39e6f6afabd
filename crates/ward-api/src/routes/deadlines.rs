//! Deadlines (admin and officer): when an answer to a request falls due under one or more
//! regimes, counted on the production calendars in the operator's time zone, and how it was
//! counted. The computation is the core's (`ward_core::deadline::due`); this module only reads
//! the query and writes the answer.

use crate::error::ApiError;
use crate::extract::{ApiQuery, AuthCaller};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use ward_core::deadline::{DeadlineQuery, Regime, RegimeDue, RequestKind, Step, Term};
use ward_core::ProblemCode;

pub(crate) const PROBLEM_CODES: &[(&str, &[ProblemCode])] = &[(
    "compute_deadline",
    &[
        ProblemCode::InvalidQuery,
        ProblemCode::InvalidReceived,
        ProblemCode::UnknownRegime,
        ProblemCode::UnknownRequestKind,
        ProblemCode::CalendarMissing,
        ProblemCode::NoDeadline,
    ],
)];

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadlineParams {
    /// `access`, `copy`, `rectification`, `blocking`, `erasure`, `stop_processing`,
    /// `withdraw_consent`, `object`, `transfer`, `complaint`, or an operator's duty:
    /// `stop_unlawful`, `destroy_unlawful`, `purpose_achieved`, `regulator_request`,
    /// `incident_notice`, `incident_results`.
    #[param(example = "access")]
    pub kind: String,
    /// `ru`, `eu` or `us-ca`; several comma-separated (`ru,eu`): the earliest applies.
    #[param(example = "ru")]
    pub regime: String,
    /// When the request was received: RFC 3339 with an offset.
    #[param(example = "2026-12-28T12:00:00+03:00")]
    pub received: String,
    /// The term was extended with a reasoned notice (default `false`).
    pub extended: Option<bool>,
}

/// A term: `working_days`, `calendar_days`, `months`, `hours` (with `n`) or `immediate`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermBody {
    #[serde(rename = "type")]
    pub kind: String,
    pub n: Option<u32>,
    /// For people: `10 working days`.
    pub text: String,
}

impl From<Term> for TermBody {
    fn from(t: Term) -> Self {
        let (kind, n) = match t {
            Term::WorkingDays(n) => ("working_days", Some(n)),
            Term::CalendarDays(n) => ("calendar_days", Some(n)),
            Term::Months(n) => ("months", Some(n)),
            Term::Hours(n) => ("hours", Some(n)),
            Term::Immediate => ("immediate", None),
        };
        Self {
            kind: kind.to_owned(),
            n,
            text: t.to_string(),
        }
    }
}

/// One day of a working-day count.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepBody {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The working day's number in the count; `null` for a day skipped.
    pub counted: Option<u32>,
    /// `working day`, `weekend (Saturday)`, `holiday: Christmas`, `day off: transferred from …`,
    /// `working: Saturday made working; …`.
    pub reason: String,
    /// The law or decree that makes the day what it is.
    pub act: Option<String>,
}

impl From<&Step> for StepBody {
    fn from(s: &Step) -> Self {
        Self {
            date: s.date.to_string(),
            counted: s.counted,
            reason: s.reason.clone(),
            act: s.act.clone(),
        }
    }
}

/// One regime's deadline.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegimeDueBody {
    /// `ru`, `eu` or `us-ca`.
    pub regime: String,
    pub term: TermBody,
    /// Whether the extended term applies (asked for, and the law allows one).
    pub extended: bool,
    /// The law the term comes from, or why Ward applies it where the law sets none.
    pub basis: String,
    /// The due day, `YYYY-MM-DD`.
    pub due_date: String,
    /// The end of the due day in the operator's time zone (RFC 3339); for hours, the moment.
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
    /// For working days: every day from the day after receipt to the due day, and why it was
    /// counted or skipped.
    pub explanation: Vec<StepBody>,
    /// How the term was read.
    pub notes: Vec<String>,
}

impl From<&RegimeDue> for RegimeDueBody {
    fn from(r: &RegimeDue) -> Self {
        Self {
            regime: r.regime.to_string(),
            term: r.term.into(),
            extended: r.extended,
            basis: r.basis.to_owned(),
            due_date: r.counted.due_date.to_string(),
            due_at: r.counted.due_at,
            explanation: r.counted.steps.iter().map(Into::into).collect(),
            notes: r.counted.notes.clone(),
        }
    }
}

/// The deadline that applies (the earliest), and each regime's.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineBody {
    pub kind: String,
    /// The operator's time zone (`timezone` in ward.toml).
    pub zone: String,
    /// The moment of receipt in that zone.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// The day of receipt in that zone; counting starts the next day.
    pub received_on: String,
    /// The deadline that applies: the earliest of the regimes'.
    #[serde(flatten)]
    pub applies: RegimeDueBody,
    /// Each regime's deadline, in the order asked.
    pub regimes: Vec<RegimeDueBody>,
    /// Regimes asked for that set no term for this kind.
    pub without_term: Vec<String>,
}

fn parse_query(q: &DeadlineParams) -> Result<DeadlineQuery, ApiError> {
    let kind: RequestKind = q.kind.parse().map_err(|e| {
        ApiError::new(
            ProblemCode::UnknownRequestKind,
            format!("kind is not a request kind: {e}"),
        )
    })?;
    let mut regimes = Vec::new();
    for name in q.regime.split(',').map(str::trim) {
        let regime: Regime = name
            .parse()
            .map_err(|e| ApiError::new(ProblemCode::UnknownRegime, format!("regime is not a regime: {e}")))?;
        regimes.push(regime);
    }
    let received = OffsetDateTime::parse(&q.received, &Rfc3339).map_err(|_| {
        ApiError::new(
            ProblemCode::InvalidReceived,
            "received must be an RFC 3339 date-time with an offset, e.g. 2026-12-28T12:00:00+03:00",
        )
    })?;
    Ok(DeadlineQuery {
        kind,
        regimes,
        received,
        extended: q.extended.unwrap_or(false),
    })
}

/// When a request falls due, and how it was counted (admin, officer). Working days come from
/// the production calendars; a day in a year without one is refused (`calendar_missing`,
/// naming the year).
#[utoipa::path(
    get,
    path = "/v1/deadlines",
    tag = "deadlines",
    params(DeadlineParams),
    responses((status = 200, description = "The deadline and how it was counted", body = DeadlineBody)),
)]
pub(crate) async fn compute_deadline(
    AuthCaller(caller): AuthCaller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DeadlineParams>,
) -> Result<Json<DeadlineBody>, ApiError> {
    let query = parse_query(&q)?;
    let due = state.vault.deadlines().due(&caller, &query)?;
    Ok(Json(DeadlineBody {
        kind: due.kind.to_string(),
        zone: due.zone.clone(),
        received_at: due.received_at,
        received_on: due.received_on.to_string(),
        applies: due.applies().into(),
        regimes: due.regimes.iter().map(Into::into).collect(),
        without_term: due.without_term.iter().map(ToString::to_string).collect(),
    }))
}
