//! `ward journal verify` on everything the run journaled, against reading the same journal
//! without the checks.

use super::{measured, Ctx};
use crate::baseline;
use crate::procs::Memory;
use crate::report::{Figure, Target as Goal, Workload};
use crate::say;
use anyhow::{Context, Result};
use std::time::Instant;

/// `journal_verify`.
pub(super) async fn verify(ctx: &Ctx<'_>) -> Result<Workload> {
    let plan = ctx.plan;
    say("ward journal verify");
    let mut verify = ctx.ward.command();
    verify.args(["journal", "verify"]);
    let (stdout, _, wall, verify_peak) = measured(verify).await.context("ward journal verify")?;
    let (entries, verify_secs) =
        parse_verify(&stdout).with_context(|| format!("reading `ward journal verify`'s answer: {stdout}"))?;
    let secs_used = if verify_secs >= 0.05 { verify_secs } else { wall };
    say("journal scan baseline");
    let t0 = Instant::now();
    let source = match &ctx.ward_db_url {
        Some(u) => baseline::JournalSource::Pg(u.clone()),
        None => baseline::JournalSource::Sqlite(ctx.ward.data_dir.join("ward.db")),
    };
    let scanned = baseline::scan_journal(&source).await?;
    let scan_secs = t0.elapsed().as_secs_f64();
    Ok(Workload {
        key: "journal_verify".into(),
        title: "`ward journal verify`".into(),
        unit: "entries/s".into(),
        clients: 1,
        subjects: plan.grown + plan.erase_pool,
        ward: Figure {
            value: entries as f64 / secs_used,
            ops: entries,
            errors: 0,
            secs: secs_used,
            latency_ms: None,
            server_memory: verify_peak.map(|p| Memory {
                peak_rss_mib: p,
                rss_mib: 0.0,
            }),
        },
        baseline: Some(Figure {
            value: scanned as f64 / scan_secs,
            ops: scanned,
            errors: 0,
            secs: scan_secs,
            latency_ms: None,
            server_memory: None,
        }),
        baseline_what: format!(
            "reading the same journal with {} as verification reads it (ranges of {} entries, one per core at a time), decoding every column, no hashing or checks",
            ctx.driver,
            baseline::VERIFY_RANGE
        ),
        ratio: None,
        target: if ctx.pg_backend {
            Goal::default()
        } else {
            Goal {
                min_value: Some(1_000_000.0),
                ..Goal::default()
            }
        },
        met: None,
        notes: vec![format!(
            "the verification's own time as the command prints it ({verify_secs:.2} s; {wall:.2} s with process start); memory is the command's peak RSS"
        )],
    }
    .finish())
}

/// "journal OK: N entries, M signed checkpoints, head H (X.XXs)" → (N, X.XX).
fn parse_verify(stdout: &str) -> Option<(u64, f64)> {
    let line = stdout.lines().find(|l| l.starts_with("journal OK:"))?;
    let entries = line
        .strip_prefix("journal OK:")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let secs = line
        .rsplit_once('(')?
        .1
        .trim_end_matches(')')
        .trim_end_matches('s')
        .parse()
        .ok()?;
    Some((entries, secs))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_verify_line_is_read() {
        assert_eq!(
            super::parse_verify("journal OK: 1234 entries, 2 signed checkpoints, head ab (1.50s)\n"),
            Some((1234, 1.5))
        );
    }
}
