//! Switches that only a benchmarking build has (the `bench` feature, like
//! `WARD_BENCH_NO_WAL_SCRUB`), for `ward bench`'s destruction-job workload: deadlines of 30
//! days fall due without waiting 30 days, and the job runs seconds after the start instead of
//! an hour after it. A plain build ignores both variables.
//!
//! - `WARD_BENCH_CLOCK_OFFSET_SECS=S`: the process's clock (the vault's and the job runner's)
//!   runs `S` seconds ahead of the system clock.
//! - `WARD_BENCH_DESTRUCTION_EVERY_SECS=S`: the destruction job runs every `S` seconds.

use std::sync::Arc;
use time::OffsetDateTime;
use ward_core::{Clock, SystemClock};

/// The clock offset's variable.
pub const CLOCK_OFFSET_ENV: &str = "WARD_BENCH_CLOCK_OFFSET_SECS";
/// The destruction job period's variable.
pub const DESTRUCTION_EVERY_ENV: &str = "WARD_BENCH_DESTRUCTION_EVERY_SECS";

/// The system clock, `offset` ahead.
#[derive(Debug, Clone, Copy)]
struct Ahead {
    offset: time::Duration,
}

impl Clock for Ahead {
    fn now(&self) -> OffsetDateTime {
        SystemClock.now() + self.offset
    }
}

fn secs(var: &str) -> Option<u64> {
    if !cfg!(feature = "bench") {
        return None;
    }
    let v = std::env::var(var).ok()?.trim().parse::<u64>().ok()?;
    tracing::warn!("{var}={v}: a benchmarking switch, never for a deployed server");
    Some(v)
}

/// The process's clock: the system's, unless a benchmarking build was told to run ahead.
pub fn clock() -> Arc<dyn Clock> {
    match secs(CLOCK_OFFSET_ENV) {
        Some(s) => Arc::new(Ahead {
            offset: time::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX)),
        }),
        None => Arc::new(SystemClock),
    }
}

/// The destruction job's period in seconds: `default`, unless a benchmarking build was told
/// otherwise (at least one second).
pub fn destruction_every_secs(default: u64) -> u64 {
    secs(DESTRUCTION_EVERY_ENV).map_or(default, |s| s.max(1))
}
