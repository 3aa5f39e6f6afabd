use super::{report, with_vault, with_vault_noting};
use crate::cli::PolicyCommand;
use crate::config::{Config, Overrides};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use ward_core::{Caller, Policy};

pub async fn run(c: PolicyCommand, data_dir: &Path, over: &Overrides) -> Result<ExitCode> {
    match c {
        PolicyCommand::Validate { file } => {
            let src = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            match Policy::parse(&src) {
                Ok(p) => {
                    println!(
                        "{}: valid. Policy `{}` version {}: {} categories, {} fields, {} purposes, {} recipients, {} consent documents.",
                        file.display(),
                        p.id,
                        p.version,
                        p.categories.len(),
                        p.fields.len(),
                        p.purposes.len(),
                        p.recipients.len(),
                        p.consent_documents.len(),
                    );
                    for w in &p.warnings {
                        println!("  warning: {w}");
                    }
                    if let Some(t) = &p.text_file {
                        let path = file.parent().unwrap_or(Path::new(".")).join(t);
                        if !path.is_file() {
                            eprintln!("  text_file {} does not exist", path.display());
                            return Ok(ExitCode::FAILURE);
                        }
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(problems) => {
                    eprintln!("{}: {} problem(s):", file.display(), problems.len());
                    for p in problems {
                        eprintln!("  {p}");
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        PolicyCommand::Show { file: true } => {
            let cfg = Config::load(data_dir, over)?;
            let (policy, source) = crate::app::load_policy_source(&cfg.policy_path)?;
            println!(
                "# {} (the file; `ward policy show` prints the version in force) — policy `{}` version {} (sha256 {})",
                cfg.policy_path.display(),
                policy.id,
                policy.version,
                source.hash()
            );
            print!("{}", source.register);
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Show { file: false } => {
            let cfg = Config::load(data_dir, over)?;
            with_vault(&cfg, |v| async move {
                let ver = v.policies().in_force();
                let when = ver.effective_at.format(&Rfc3339).unwrap_or_default();
                let text = if ver.source.text.is_some() {
                    "with a text"
                } else {
                    "without a text"
                };
                println!(
                    "# the version in force — policy `{}` version {} (sha256 {}), in force from {when}, {text}",
                    ver.policy.id, ver.policy.version, ver.hash
                );
                print!("{}", ver.source.register);
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        PolicyCommand::Publish { file, effective_at } => {
            let cfg = Config::load(data_dir, over)?;
            let effective_at = effective_at
                .map(|t| {
                    time::OffsetDateTime::parse(&t, &Rfc3339).with_context(|| format!("`{t}` is not an RFC 3339 time"))
                })
                .transpose()?;
            let (_, source) = crate::app::load_policy_source(&file)?;
            with_vault_noting(&cfg, false, |v| async move {
                match v.policies().publish(&Caller::cli(), source, effective_at).await {
                    Ok(p) if p.rescheduled_from.is_some() => {
                        let when = p.version.effective_at.format(&Rfc3339).unwrap_or_default();
                        let was = p
                            .rescheduled_from
                            .map(|t| t.format(&Rfc3339).unwrap_or_default())
                            .unwrap_or_default();
                        println!(
                            "version {} was published before and not yet in force: rescheduled from {was} to {when}",
                            p.version.hash
                        );
                    }
                    Ok(p) if !p.new => {
                        let when = p.version.effective_at.format(&Rfc3339).unwrap_or_default();
                        println!(
                            "version {} was published before, in force from {when}; nothing changed",
                            p.version.hash
                        );
                    }
                    Ok(p) => {
                        let when = p.version.effective_at.format(&Rfc3339).unwrap_or_default();
                        println!(
                            "published version {} ({}@{}), in force from {when}",
                            p.version.hash, p.version.policy.id, p.version.policy.version
                        );
                        print_changes(&p.changes);
                    }
                    Err(e) => return Ok(report(&e)),
                }
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        PolicyCommand::Versions => {
            let cfg = Config::load(data_dir, over)?;
            with_vault(&cfg, |v| async move {
                let in_force = v.policies().current_hash();
                println!(
                    "{:<2} {:<16} {:<12} {:<26} hash",
                    "", "policy", "version", "in force from"
                );
                for ver in v.policies().versions() {
                    let mark = if ver.hash == in_force { "*" } else { "" };
                    let when = ver.effective_at.format(&Rfc3339).unwrap_or_default();
                    println!(
                        "{mark:<2} {:<16} {:<12} {when:<26} {}",
                        ver.policy.id, ver.policy.version, ver.hash
                    );
                }
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        PolicyCommand::Diff { from, to } => {
            let cfg = Config::load(data_dir, over)?;
            with_vault(&cfg, |v| async move {
                match v.policies().diff(&from, &to) {
                    Ok(changes) => print_changes(&changes),
                    Err(e) => return Ok(report(&e)),
                }
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
    }
}

fn print_changes(changes: &[ward_core::policy::PolicyChange]) {
    for c in changes {
        let requires: Vec<&str> = c.requires.iter().map(|r| r.as_str()).collect();
        println!(
            "  {:<26} {}  [requires: {}]",
            c.code,
            c.description,
            requires.join(", ")
        );
    }
}
