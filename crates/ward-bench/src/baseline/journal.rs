//! The journal scan baseline: what `ward journal verify` reads, read without the checks.

use super::{postgres, sqlite, VERIFY_RANGE};
use anyhow::{Context, Result};

/// Where the journal scan baseline reads.
pub enum JournalSource {
    Sqlite(std::path::PathBuf),
    Pg(String),
}

/// Reads every journal entry as `ward journal verify` does, but for the checks: in ranges of
/// Ward's size ([`VERIFY_RANGE`]), as many ranges at a time as there are cores, each range on
/// a connection of its own (SQLite: one statement per range, each column read in place, on the
/// blocking pool; PostgreSQL: pages of [`VERIFY_PAGE`](super::VERIFY_PAGE) decoded to owned values, as Ward's
/// PostgreSQL backend reads them). No hashing, no checks. Returns the number of entries.
pub async fn scan_journal(source: &JournalSource) -> Result<u64> {
    let parallel = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let head = match source {
        JournalSource::Sqlite(path) => sqlite::journal_head(path)?,
        JournalSource::Pg(url) => postgres::journal_head(url).await?,
    };
    let ranges = ward_store::chain::verify_ranges(head, VERIFY_RANGE);
    let mut lanes: tokio::task::JoinSet<Result<(u64, usize)>> = tokio::task::JoinSet::new();
    for lane in 0..parallel {
        // Range r goes to lane r mod parallel.
        let mine: Vec<(i64, i64)> = ranges.iter().skip(lane).step_by(parallel).copied().collect();
        match source {
            JournalSource::Sqlite(path) => {
                let c = sqlite::open_reader(path)?;
                lanes.spawn_blocking(move || {
                    mine.into_iter().try_fold((0u64, 0usize), |(n, b), (after, upto)| {
                        let (rn, rb) = sqlite::scan_range(&c, after, upto)?;
                        Ok((n + rn, b + rb))
                    })
                });
            }
            JournalSource::Pg(url) => {
                let url = url.clone();
                lanes.spawn(async move {
                    let mut c = postgres::connect(&url).await?;
                    let mut total = (0u64, 0usize);
                    for (after, upto) in mine {
                        let (n, b) = postgres::scan_range(&mut c, after, upto).await?;
                        total = (total.0 + n, total.1 + b);
                    }
                    Ok(total)
                });
            }
        }
    }
    let (mut n, mut bytes) = (0u64, 0usize);
    while let Some(lane) = lanes.join_next().await {
        let (ln, lb) = lane.context("a journal scan lane failed")??;
        (n, bytes) = (n + ln, bytes + lb);
    }
    std::hint::black_box(bytes);
    Ok(n)
}
