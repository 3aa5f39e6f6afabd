//! Key-encryption-key rotation at the grown size: `ward keys rotate` as a child process (as an
//! operator runs it) against the running server's database, while the read load runs; its
//! wall time, and the server's read throughput during it against the throughput just before.

use super::jobs::reads_job;
use super::{errors_note, lock, measured, secs, settle, Ctx, Server};
use crate::load::{self, Limit};
use crate::procs::{self, Memory};
use crate::report::{Figure, Target as Goal, Workload};
use crate::say;
use anyhow::{Context, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// `kek_rotation` and `reads_during_rotation`.
pub(super) async fn beside_reads(ctx: &Ctx<'_>, server: &Server, ids: &Arc<Mutex<Vec<Uuid>>>) -> Result<Vec<Workload>> {
    let (plan, clients, site) = (ctx.plan, ctx.clients, &server.site);
    let ids: Arc<Vec<Uuid>> = Arc::new(lock(ids).clone());
    say(format!(
        "KEK rotation beside reads, {} subjects: reads before",
        plan.grown
    ));
    ctx.preload().await?;
    settle().await;
    load::drive(
        site,
        clients,
        Limit::Time(secs(plan.secs / 5.0)),
        reads_job(ids.clone()),
        None,
    )
    .await?;
    let before = load::drive(
        site,
        clients,
        Limit::Time(secs(plan.secs)),
        reads_job(ids.clone()),
        None,
    )
    .await?;
    let before_mem = procs::memory(server.pid);

    say("  ward keys rotate, with the reads going on");
    procs::reset_peak(server.pid);
    let stop = Arc::new(AtomicBool::new(false));
    let mut rotate = ctx.ward.command();
    rotate.args(["keys", "rotate"]);
    let rotation = async {
        let r = measured(rotate).await;
        stop.store(true, Ordering::Relaxed);
        r
    };
    let reads = load::drive_until(
        site,
        clients,
        Limit::Time(secs(3600.0)),
        reads_job(ids),
        None,
        stop.clone(),
    );
    let (rotated, during) = tokio::join!(rotation, reads);
    let (stdout, _, wall, rotate_peak) = rotated.context("ward keys rotate beside the reads")?;
    let during = during?;
    let during_mem = procs::memory(server.pid);
    let rewrapped =
        parse_rewrapped(&stdout).with_context(|| format!("reading `ward keys rotate`'s answer: {stdout}"))?;
    say(format!("  re-wrapped {rewrapped} data keys in {wall:.1} s"));

    let rotation_row = Workload {
        key: "kek_rotation".into(),
        title: "KEK rotation, `ward keys rotate` beside the read load".into(),
        unit: "s".into(),
        clients: 1,
        subjects: plan.grown,
        ward: Figure {
            value: wall,
            ops: rewrapped,
            errors: 0,
            secs: wall,
            latency_ms: None,
            server_memory: rotate_peak.map(|p| Memory {
                peak_rss_mib: p,
                rss_mib: 0.0,
            }),
        },
        baseline: None,
        baseline_what: String::new(),
        ratio: None,
        target: Goal::default(),
        met: None,
        notes: vec![
            format!(
                "wall time of the command (opening the store, writing and recording the new KEK, re-wrapping {rewrapped} data keys in pages of 1,000, one journaled commit each): {:.0} keys/s",
                rewrapped as f64 / wall
            ),
            "memory: the peak RSS of `ward keys rotate`".into(),
        ],
    }
    .finish();
    let mut notes = errors_note(&during);
    notes.push(format!(
        "the server's reads while `ward keys rotate` ran ({:.1} s), on the same two cores",
        during.secs
    ));
    let reads_row = Workload {
        key: "reads_during_rotation".into(),
        title: "Read by id during the KEK rotation (baseline: just before)".into(),
        unit: "reads/s".into(),
        clients,
        subjects: plan.grown,
        ward: Figure::rate(&during, during_mem),
        baseline: Some(Figure::rate(&before, before_mem)),
        baseline_what: "the same reads on the same server just before the rotation".into(),
        ratio: None,
        target: Goal::default(),
        met: None,
        notes,
    }
    .finish();
    Ok(vec![rotation_row, reads_row])
}

/// The count in `ward keys rotate`'s "re-wrapped N subject data keys ...".
fn parse_rewrapped(stdout: &str) -> Option<u64> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("re-wrapped "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_rewrapped_count_is_read_from_the_answer() {
        let out = "re-wrapped 1000 subject data keys under kek-2 (0 were already under it)\nonce every ...\n";
        assert_eq!(super::parse_rewrapped(out), Some(1000));
        assert_eq!(super::parse_rewrapped("nothing"), None);
    }
}
