//! `ward bench` (see BENCHMARKS.md) and `ward bench-echo`, the bare-HTTP server it measures
//! reads against.
//!
//! The load generator and the raw baselines (crates/ward-bench) are linked only into a build
//! with the `bench` feature: `cargo run --release --features bench -- bench`. A plain build
//! keeps both commands, which say how to get such a build and fail.

#[cfg(feature = "bench")]
pub use built::{echo, run};
#[cfg(not(feature = "bench"))]
pub use not_built::{echo, run};

/// `ward bench`'s options: the harness's own in a benchmarking build.
#[cfg(feature = "bench")]
pub type BenchArgs = ward_bench::BenchArgs;
/// `ward bench`'s options: in a plain build, whatever was given (the command only says how
/// to get a benchmarking build).
#[cfg(not(feature = "bench"))]
pub type BenchArgs = not_built::NotBuilt;

/// A plain build's `ward bench` and `ward bench-echo`. Compiled in every build so that its
/// test runs under `cargo test`, which builds with the benchmarks.
#[cfg_attr(feature = "bench", allow(dead_code))]
mod not_built {
    use anyhow::Result;
    use std::process::ExitCode;

    /// The command that runs the benchmarks.
    pub const COMMAND: &str = "cargo run --release --features bench -- bench";

    /// Any arguments, taken as given.
    #[derive(Debug, clap::Args)]
    pub struct NotBuilt {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        pub args: Vec<std::ffi::OsString>,
    }

    /// What a build without the benchmarks says.
    pub fn message(command: &str) -> String {
        format!(
            "`ward {command}` is not in this build: the benchmarks (the load generator and the raw \
             baselines) are linked only into a build with the `bench` feature. Run them with\n  \
             {COMMAND} [--scale tiny|small|full] [--database-url URL]\n(BENCHMARKS.md)"
        )
    }

    pub async fn run(_: NotBuilt, _database_url: Option<String>) -> Result<ExitCode> {
        eprintln!("error: {}", message("bench"));
        Ok(ExitCode::FAILURE)
    }

    pub async fn echo(_listen: &str, _read_bytes: usize, _lookup_bytes: usize) -> Result<ExitCode> {
        eprintln!("error: {}", message("bench-echo"));
        Ok(ExitCode::FAILURE)
    }
}

#[cfg(feature = "bench")]
mod built {
    use anyhow::{Context, Result};
    use std::process::ExitCode;

    pub async fn run(args: ward_bench::BenchArgs, database_url: Option<String>) -> Result<ExitCode> {
        let exe = std::env::current_exe().context("finding the ward executable")?;
        let mut command = vec!["ward".to_owned()];
        let mut skip = false;
        for a in std::env::args().skip(1) {
            // Never record credentials: the database URL is shown without them.
            if skip {
                command.push(redact(&a));
                skip = false;
                continue;
            }
            skip = a == "--database-url";
            command.push(if a.starts_with("--database-url=") {
                format!("--database-url={}", redact(a.trim_start_matches("--database-url=")))
            } else {
                a
            });
        }
        let env = ward_bench::Env {
            exe,
            database_url,
            command: command.join(" "),
        };
        let report = ward_bench::run(args, env).await?;
        println!("{}", ward_bench::report::markdown(&report));
        let errors: u64 = report.workloads.iter().map(|w| w.ward.errors).sum();
        if errors > 0 {
            eprintln!("{errors} operations failed during the run; see the notes in the results");
            return Ok(ExitCode::FAILURE);
        }
        Ok(ExitCode::SUCCESS)
    }

    /// `postgres://user:secret@host/db` → `postgres://user@host/db`.
    pub(super) fn redact(url: &str) -> String {
        match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                let userinfo = &url[s + 3..at];
                let user = userinfo.split(':').next().unwrap_or_default();
                format!("{}{user}{}", &url[..s + 3], &url[at..])
            }
            _ => url.to_owned(),
        }
    }

    pub async fn echo(listen: &str, read_bytes: usize, lookup_bytes: usize) -> Result<ExitCode> {
        let addr = listen
            .parse()
            .with_context(|| format!("`{listen}` is not an IP:port"))?;
        ward_bench::echo::serve(addr, read_bytes, lookup_bytes).await?;
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[cfg(feature = "bench")]
    #[test]
    fn passwords_are_not_recorded() {
        assert_eq!(
            super::built::redact("postgres://u:pw@h:5432/db"),
            "postgres://u@h:5432/db"
        );
        assert_eq!(super::built::redact("postgres://h/db"), "postgres://h/db");
    }

    /// What a plain build's `ward bench` takes and says (the tests themselves run a build
    /// with the benchmarks, so this checks the parts directly).
    #[test]
    fn a_plain_build_takes_any_bench_arguments_and_says_how_to_build_one() {
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: super::not_built::NotBuilt,
        }
        let cli = Cli::try_parse_from(["bench", "--scale", "tiny", "--clients", "8"]).unwrap();
        assert_eq!(cli.args.args, ["--scale", "tiny", "--clients", "8"]);
        let said = super::not_built::message("bench");
        assert!(said.contains("--features bench"), "{said}");
    }
}
