use super::{report, with_vault};
use crate::cli::SubjectCommand;
use crate::config::Config;
use anyhow::{Context, Result};
use std::process::ExitCode;
use ward_core::consent::Evidence;
use ward_core::{Caller, SubjectId};
use ward_vault::{NewSubjectInput, SubjectView};

fn parse_id(s: &str) -> Result<SubjectId> {
    s.parse()
        .ok()
        .with_context(|| format!("`{s}` is not a subject id (a UUID)"))
}

fn print_view(v: &SubjectView) {
    let json = serde_json::json!({ "id": v.id.to_string(), "purpose": v.purpose, "fields": v.fields });
    println!("{json}");
}

pub async fn run(c: SubjectCommand, cfg: &Config) -> Result<ExitCode> {
    let cli = Caller::cli();
    match c {
        SubjectCommand::Create {
            purpose,
            fields,
            consents,
            channel,
        } => {
            let input = NewSubjectInput {
                age_band: None,
                purpose,
                fields: fields.into_iter().collect(),
                consents,
                evidence: Some(Evidence {
                    channel,
                    ..Evidence::default()
                }),
            };
            with_vault(cfg, |v| async move {
                match v.create_subject(&cli, input).await {
                    Ok(id) => {
                        println!("{id}");
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        SubjectCommand::Show { id, purpose, fields } => {
            let id = parse_id(&id)?;
            with_vault(cfg, |v| async move {
                match v.read_subject(&cli, id, &purpose, fields.as_deref()).await {
                    Ok(view) => {
                        print_view(&view);
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        SubjectCommand::Find {
            email,
            phone,
            field,
            value,
            purpose,
        } => {
            let (field, value) = match (email, phone, field, value) {
                (Some(e), _, _, _) => ("email".to_owned(), e),
                (_, Some(p), _, _) => ("phone".to_owned(), p),
                (_, _, Some(f), Some(v)) => (f, v),
                _ => anyhow::bail!("give --email, --phone, or --field with --value"),
            };
            with_vault(cfg, |v| async move {
                match v.find_subjects(&cli, &field, &value, &purpose).await {
                    Ok(found) => {
                        for view in &found {
                            print_view(view);
                        }
                        if found.is_empty() {
                            eprintln!("no subject found");
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        SubjectCommand::Consents { id } => {
            let id = parse_id(&id)?;
            with_vault(cfg, |v| async move {
                match v.consent_overview(id).await {
                    Ok(rows) => {
                        println!("{:<16} {:<22} {:<13} since", "purpose", "legal basis", "consent");
                        for r in rows {
                            let since = r
                                .since
                                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                                .unwrap_or_default();
                            println!(
                                "{:<16} {:<22} {:<13} {since}",
                                r.purpose,
                                r.legal_basis.as_str(),
                                r.state.as_str()
                            );
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        SubjectCommand::Erase { id } => {
            let id = parse_id(&id)?;
            with_vault(cfg, |v| async move {
                match v.erase_subject(&cli, id).await {
                    Ok(()) => {
                        println!("erased {id}: its data key is destroyed");
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
    }
}
