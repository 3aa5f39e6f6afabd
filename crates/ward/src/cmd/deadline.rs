//! `ward requests deadline`: the core's deadline engine at the console, on the calendars and
//! the time zone of the configuration. Needs no store: no personal data is involved.

use crate::cli::RequestsCommand;
use crate::config::Config;
use anyhow::Result;
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use ward_core::deadline::{self, DeadlineQuery, Due, Regime, RequestKind};
use ward_core::ProblemCode;

pub(crate) fn run(c: RequestsCommand, cfg: &Config) -> Result<ExitCode> {
    let RequestsCommand::Deadline {
        kind,
        regimes,
        received,
        extended,
    } = c
    else {
        return Ok(fail(ProblemCode::InvalidQuery, "not a deadline command"));
    };
    let query = match parse(&kind, &regimes, &received, extended) {
        Ok(q) => q,
        Err((code, message)) => return Ok(fail(code, &message)),
    };
    match deadline::due(&query, &cfg.calendars, &cfg.zone) {
        Ok(due) => {
            print!("{}", render(&due));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(fail(e.code(), &e.to_string())),
    }
}

fn fail(code: ProblemCode, message: &str) -> ExitCode {
    eprintln!("error [{code}]: {message}");
    ExitCode::FAILURE
}

fn parse(
    kind: &str,
    regimes: &[String],
    received: &str,
    extended: bool,
) -> Result<DeadlineQuery, (ProblemCode, String)> {
    let kind: RequestKind = kind
        .parse()
        .map_err(|e| (ProblemCode::UnknownRequestKind, format!("--kind: {e}")))?;
    let regimes = regimes
        .iter()
        .map(|r| r.trim().parse::<Regime>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| (ProblemCode::UnknownRegime, format!("--regime: {e}")))?;
    let received = OffsetDateTime::parse(received, &Rfc3339).map_err(|_| {
        (
            ProblemCode::InvalidReceived,
            "--received must be RFC 3339 with an offset, e.g. 2026-12-28T12:00:00+03:00".to_owned(),
        )
    })?;
    Ok(DeadlineQuery {
        kind,
        regimes,
        received,
        extended,
    })
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// The due date alone on the first line, then how it was counted.
pub(crate) fn render(due: &Due) -> String {
    let applies = due.applies();
    let mut out = format!("{}\n", applies.counted.due_date);
    out.push_str(&format!(
        "{} under {}: {}{} ({}); due by {}\n",
        due.kind,
        applies.regime,
        applies.term,
        if applies.extended { ", extended" } else { "" },
        applies.basis,
        rfc3339(applies.counted.due_at),
    ));
    out.push_str(&format!(
        "received {} (on {} in {})\n",
        rfc3339(due.received_at),
        due.received_on,
        due.zone
    ));
    for note in &applies.counted.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    for step in &applies.counted.steps {
        out.push_str(&format!("  {}\n", step.describe()));
    }
    for (i, other) in due.regimes.iter().enumerate() {
        if i != due.earliest {
            out.push_str(&format!(
                "later: {} {} ({}{}; {})\n",
                other.regime,
                other.counted.due_date,
                other.term,
                if other.extended { ", extended" } else { "" },
                other.basis
            ));
        }
    }
    for r in &due.without_term {
        out.push_str(&format!("no term: {r} sets none for {}\n", due.kind));
    }
    out
}
