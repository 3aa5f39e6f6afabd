//! What SQLite's WAL scrub costs erasure: the withdrawal-then-erasure workload on the same
//! vault, on servers with the scrub turned off (`WARD_BENCH_NO_WAL_SCRUB=1`, a switch only a
//! benchmarking build has) and on (as deployed), in turn: off, on, off, on. Each leg on a
//! server started for it, with subjects of its own, a fifth of them erased untimed first.

use super::writes::erase_leg;
use super::{errors_note, start_with, Ctx, Server};
use crate::data;
use crate::load::Outcome;
use crate::procs::Memory;
use crate::report::{Figure, Target as Goal, Workload};
use crate::say;
use anyhow::Result;
use ward_store_sqlite::NO_WAL_SCRUB_ENV;

/// Legs per side.
const ROUNDS: u64 = 2;

/// `withdraw_erase_scrub` (SQLite only: PostgreSQL has no WAL scrub): restarts `server` for
/// each leg, and leaves it running with the scrub on.
pub(super) async fn erase_with_and_without(ctx: &Ctx<'_>, server: &mut Server) -> Result<Option<Workload>> {
    if ctx.pg_backend {
        return Ok(None);
    }
    let plan = ctx.plan;
    let (mut off, mut on): (Option<Leg>, Option<Leg>) = (None, None);
    for leg in 0..2 * ROUNDS {
        let scrub = leg % 2 == 1;
        say(format!(
            "erasure with the WAL scrub {}: restarting the server",
            if scrub { "on" } else { "off" }
        ));
        server.served.stop()?;
        *server = if scrub {
            start_with(ctx, &[], "server.log").await?
        } else {
            start_with(ctx, &[(NO_WAL_SCRUB_ENV, "1")], "server-scrub-off.log").await?
        };
        let (o, mem, _) = erase_leg(ctx, server, data::SCRUB_POOL + leg * plan.erase_pool, true).await?;
        let side = if scrub { &mut on } else { &mut off };
        *side = Some(merge(side.take(), (o, mem))?);
    }
    let (Some(off), Some(on)) = (off, on) else {
        anyhow::bail!("no leg of the scrub comparison ran");
    };
    let mut notes = errors_note(&on.0);
    if off.0.errors > 0 {
        notes.push(format!("{} failed requests without the scrub", off.0.errors));
    }
    notes.push(format!(
        "{ROUNDS} legs each, in turn (off, on, off, on), each on a server started for it, with {} subjects of its own (the first fifth erased untimed); what the scrub costs the erasure workload is 1 − ratio",
        plan.erase_pool
    ));
    Ok(Some(
        Workload {
            key: "withdraw_erase_scrub".into(),
            title: "Consent withdrawal, then erasure, WAL scrub on (baseline: off)".into(),
            unit: "ops/s".into(),
            clients: ctx.clients,
            subjects: plan.base + (1 + 2 * ROUNDS) * plan.erase_pool,
            ward: Figure::rate(&on.0, on.1),
            baseline: Some(Figure::rate(&off.0, off.1)),
            baseline_what: format!(
                "the same workload on the same vault, in turn with it, on servers with the WAL scrub off ({NO_WAL_SCRUB_ENV}=1, only in a benchmarking build): no TRUNCATE checkpoint after erasures"
            ),
            ratio: None,
            target: Goal::default(),
            met: None,
            notes,
        }
        .finish(),
    ))
}

/// A side's legs so far: their requests together, and the larger peak memory.
type Leg = (Outcome, Option<Memory>);

fn merge(so_far: Option<Leg>, next: Leg) -> Result<Leg> {
    let Some((mut a, a_mem)) = so_far else {
        return Ok(next);
    };
    let (b, b_mem) = next;
    a.hist.add(&b.hist)?;
    for (status, n) in b.statuses {
        *a.statuses.entry(status).or_default() += n;
    }
    a.ok += b.ok;
    a.errors += b.errors;
    a.secs += b.secs;
    a.first_error = a.first_error.or(b.first_error);
    let mem = match (a_mem, b_mem) {
        (Some(x), Some(y)) => Some(if x.peak_rss_mib >= y.peak_rss_mib { x } else { y }),
        (x, y) => x.or(y),
    };
    Ok((a, mem))
}
