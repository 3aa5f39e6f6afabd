//! A backlog drained across a crash: N notices queued over the API while delivery is off;
//! `ward serve` started with `[smtp]` pointing at the SMTP sink, killed with SIGKILL once a
//! third of them arrived, and started again; timed from the restart to the last message.
//! None may be lost: the sink must have every Message-ID at least once, and no other; the
//! duplicates (messages sent again because the killed process had them in flight, claimed
//! but not marked sent) are counted and may not exceed one claimed batch.
//!
//! Baseline: lettre sending as many messages as the restarted server delivered straight to a
//! fresh sink, as in the delivery workload.

use super::mail::{
    configure_smtp, lettre_baseline, none_lost, patience, queue_notices, rate, WARD_BATCH, WARD_CONCURRENCY,
};
use super::{start, start_with, Ctx};
use crate::report::{Figure, Target as Goal, Workload};
use crate::smtp_sink::Sink;
use crate::{data, say};
use anyhow::{bail, Result};
use std::time::Instant;

/// How long a claim lasts here: a killed process's messages wait this long before they are
/// sent again (and its job lease as long before the restarted process may deliver).
const CLAIM_SECS: u64 = 5;

/// The `outbox_backlog` row.
pub(super) async fn across_kill_9(ctx: &Ctx<'_>) -> Result<Workload> {
    let n = ctx.plan.backlog;
    let mut server = start(ctx).await?;
    let expected = queue_notices(ctx, &server, data::MAIL_POOL, n).await?;
    server.served.stop()?;

    let sink = Sink::start().await?;
    configure_smtp(ctx, &sink, CLAIM_SECS)?;
    say(format!("outbox backlog: {n} messages, kill -9 after a third"));
    let mut server = start_with(ctx, &[], "server-backlog.log").await?;
    let third = (n / 3).max(1);
    sink.wait(patience(n), "a third of the backlog", |t| t.distinct >= third)
        .await?;
    server.served.kill9()?;
    let at_kill = sink.tally();
    sink.restart_clock();
    say(format!("killed with {} of {n} delivered; restarting", at_kill.distinct));

    let restarted = Instant::now();
    let mut server = start_with(ctx, &[], "server-backlog-restarted.log").await?;
    let t = sink
        .wait(patience(n), "the rest of the backlog", |t| t.distinct >= n)
        .await?;
    let memory = crate::procs::memory(server.pid);
    server.served.stop()?;
    let duplicates = none_lost(&sink, &expected)?;
    if duplicates > WARD_BATCH {
        bail!("{duplicates} duplicates: more than one claimed batch ({WARD_BATCH}) was sent again");
    }
    let after = t.delivered - at_kill.delivered;
    let (value, secs) = rate(&t, after);
    let from_restart = t
        .last_message
        .map_or(0.0, |l| l.duration_since(restarted).as_secs_f64());
    let bytes = usize::try_from(t.body_bytes / t.delivered.max(1)).unwrap_or(0);

    say("outbox backlog baseline: lettre straight to the sink");
    let (base_value, base_secs) = lettre_baseline(after, bytes).await?;
    Ok(Workload {
        key: "outbox_backlog".into(),
        title: "Outbox backlog drained after a kill -9, none lost".into(),
        unit: "messages/s".into(),
        clients: WARD_CONCURRENCY,
        subjects: n,
        ward: Figure {
            value,
            ops: after,
            errors: 0,
            secs,
            latency_ms: None,
            server_memory: memory,
        },
        baseline: Some(Figure {
            value: base_value,
            ops: after,
            errors: 0,
            secs: base_secs,
            latency_ms: None,
            server_memory: None,
        }),
        baseline_what: format!(
            "lettre's SMTP client sending {after} messages of the same size straight to the same kind of SMTP sink over {WARD_CONCURRENCY} connections with TCP_NODELAY, one message after another on each"
        ),
        ratio: None,
        // The target is that none is lost, which the run checked (it fails otherwise).
        target: Goal::default(),
        met: None,
        notes: vec![
            format!(
                "{n} queued; {} delivered before the kill -9, {after} after the restart; none lost; {duplicates} duplicates (at most one claimed batch of {WARD_BATCH})",
                at_kill.delivered
            ),
            format!(
                "timed from the restarted server's first connection to the last message; from the restart (`ward serve` started again) to it: {from_restart:.1} s, which includes waiting out the killed process's job lease and claims ({CLAIM_SECS} s, [outbox] claim_secs)"
            ),
        ],
    }
    .finish())
}
