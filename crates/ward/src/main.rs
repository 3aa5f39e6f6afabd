//! `ward`: the server and the command line.

mod app;
mod binding;
mod cli;
mod cmd;
mod config;
mod http;
mod jobs;
mod keyfiles;
mod serve;
mod startup;

use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// mimalloc for Rust's allocations; with its `override` feature it also serves C's `malloc`,
/// which SQLite's page cache calls on every read (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Everything Ward creates (database and WAL files, backups, key exports, configuration,
    // policy) is for the owner alone.
    keyfiles::owner_only_umask();
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("WARD_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")))
        .with_writer(std::io::stderr)
        .init();
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
