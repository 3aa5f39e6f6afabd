//! `ward`: the server and the command line.

mod app;
mod bench_knobs;
mod binding;
mod cli;
mod cmd;
mod config;
mod delivery;
mod epochs;
mod http;
mod idempotency_prune;
mod jobs;
mod keyfiles;
mod logging;
mod policy_reload;
mod serve;
mod startup;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc for Rust's allocations; with its `override` feature it also serves C's `malloc`,
/// which SQLite's page cache calls on every read (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Everything Ward creates (database and WAL files, backups, key exports, configuration,
    // policy) is for the owner alone.
    keyfiles::owner_only_umask();
    let cli = cli::Cli::parse();
    if let Err(e) = logging::init() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cmd::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
