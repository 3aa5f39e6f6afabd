//! `ward bench` (see BENCHMARKS.md) and `ward bench-echo`, the bare-HTTP server it measures
//! reads against.

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
fn redact(url: &str) -> String {
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

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_not_recorded() {
        assert_eq!(super::redact("postgres://u:pw@h:5432/db"), "postgres://u@h:5432/db");
        assert_eq!(super::redact("postgres://h/db"), "postgres://h/db");
    }
}
