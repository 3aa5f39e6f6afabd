//! `ward calendar show YEAR`: a production calendar as Ward reads it.

use crate::cli::CalendarCommand;
use crate::config::Config;
use anyhow::Result;
use std::process::ExitCode;
use ward_core::calendar::{Calendar, SpecialKind};
use ward_core::ProblemCode;

pub(crate) fn run(c: CalendarCommand, cfg: &Config) -> Result<ExitCode> {
    let CalendarCommand::Show { year } = c;
    match cfg.calendars.year(year) {
        Ok(cal) => {
            print!("{}", render(cal));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error [{}]: {e}", ProblemCode::CalendarMissing);
            Ok(ExitCode::FAILURE)
        }
    }
}

fn render(cal: &Calendar) -> String {
    let mut out = format!(
        "{} {}: {} working days ({}); Saturdays and Sundays are days off except as listed\n",
        cal.country.to_uppercase(),
        cal.year,
        cal.working_days(),
        cal.source_act
    );
    for (date, day) in &cal.days {
        let what = match day.kind {
            SpecialKind::Holiday => "holiday",
            SpecialKind::DayOff => "day off",
            SpecialKind::Working => "working",
        };
        out.push_str(&format!(
            "{date} {:<9}  {what:<7}  {} ({})\n",
            date.weekday().to_string(),
            day.name,
            day.act
        ));
    }
    out
}
