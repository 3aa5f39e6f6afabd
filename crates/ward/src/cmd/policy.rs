use crate::cli::PolicyCommand;
use crate::config::{Config, Overrides};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;
use ward_core::Policy;

pub fn run(c: PolicyCommand, data_dir: &Path, over: &Overrides) -> Result<ExitCode> {
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
        PolicyCommand::Show => {
            let cfg = Config::load(data_dir, over)?;
            let (policy, source) = crate::app::load_policy(&cfg.policy_path)?;
            println!(
                "# {} — policy `{}` version {} (sha256 {})",
                cfg.policy_path.display(),
                policy.id,
                policy.version,
                ward_vault::policy_hash(&source)
            );
            print!("{source}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
