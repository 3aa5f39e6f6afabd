use super::{report, with_vault};
use crate::cli::SubjectCommand;
use crate::config::Config;
use anyhow::{Context, Result};
use std::process::ExitCode;
use ward_core::consent::Evidence;
use ward_core::lifecycle::SubjectEventKind;
use ward_core::{Caller, SubjectId};
use ward_vault::{destruction_reason, DestructionRequest, NewSubjectInput, PolicyNotice, SubjectView};

pub(super) fn rfc3339(t: Option<time::OffsetDateTime>) -> String {
    t.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

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
        SubjectCommand::List(args) => super::registers::subjects(args, cfg).await,
        SubjectCommand::Create {
            purpose,
            fields,
            consents,
            channel,
            bases,
        } => {
            let bases = bases
                .into_iter()
                .map(|(purpose, reference)| ward_vault::BasisInput {
                    purpose,
                    kind: ward_core::basis::BasisEventKind::Established,
                    start: None,
                    evidence: ward_core::basis::BasisEvidence { reference, note: None },
                })
                .collect();
            let input = NewSubjectInput {
                bases,
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
                match v.subjects().create(&cli, input).await {
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
                match v.subjects().read(&cli, id, &purpose, fields.as_deref()).await {
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
                match v.subjects().find(&cli, &field, &value, &purpose).await {
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
                match v.consents().overview(&cli, id).await {
                    Ok(rows) => {
                        println!(
                            "{:<16} {:<22} {:<13} {:<21} {:<21} destroy by",
                            "purpose", "legal basis", "consent", "since", "expires"
                        );
                        for r in rows {
                            let destroy = r
                                .destruction
                                .as_ref()
                                .map(|d| format!("{} ({})", rfc3339(Some(d.by)), d.categories.join(", ")))
                                .unwrap_or_default();
                            println!(
                                "{:<16} {:<22} {:<13} {:<21} {:<21} {destroy}",
                                r.purpose,
                                r.legal_basis.as_str(),
                                r.state.as_str(),
                                rfc3339(r.since),
                                rfc3339(r.expires_at),
                            );
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        SubjectCommand::Withdraw { id, purpose } => {
            let id = parse_id(&id)?;
            with_vault(cfg, |v| async move {
                match v.consents().withdraw(&cli, id, &purpose).await {
                    Ok(w) => {
                        println!("withdrawn: {} stops now", w.purpose);
                        for (p, basis) in &w.continuing {
                            println!("continues: {p} (legal basis: {})", basis.as_str());
                        }
                        match &w.destruction {
                            Some(d) => println!(
                                "destroy by {}: {} (152-FZ Art. 21 p. 5)",
                                rfc3339(Some(d.by)),
                                d.categories.join(", ")
                            ),
                            None => println!("nothing to destroy: every category is still needed by another purpose"),
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        SubjectCommand::PolicyNotice {
            id,
            kind,
            channel,
            policy_version,
            reference,
        } => {
            let id = parse_id(&id)?;
            let kind = if kind == "accepted" {
                SubjectEventKind::PolicyAccepted
            } else {
                SubjectEventKind::PolicyNotified
            };
            let notice = PolicyNotice {
                kind,
                version: policy_version,
                channel,
                reference,
            };
            with_vault(cfg, |v| async move {
                match v.lifecycle().record_policy_notice(&cli, id, notice).await {
                    Ok(()) => {
                        println!("recorded: {}", kind.as_str());
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        SubjectCommand::PolicyNotices { id } => {
            let id = parse_id(&id)?;
            with_vault(cfg, |v| async move {
                match v.lifecycle().policy_standing(&cli, id).await {
                    Ok(rows) => {
                        println!(
                            "{:<10} {:<10} {:<8} {:<32} accepted",
                            "hash", "version", "in force", "notified"
                        );
                        for r in rows {
                            let when = |e: &Option<(time::OffsetDateTime, String)>| {
                                e.as_ref()
                                    .map(|(t, c)| format!("{} ({c})", rfc3339(Some(*t))))
                                    .unwrap_or_else(|| "-".into())
                            };
                            println!(
                                "{:<10} {:<10} {:<8} {:<32} {}",
                                &r.hash[..r.hash.len().min(10)],
                                r.version,
                                if r.in_force { "yes" } else { "" },
                                when(&r.notified),
                                when(&r.accepted)
                            );
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        SubjectCommand::Death { id, date, document } => {
            let id = parse_id(&id)?;
            with_vault(cfg, |v| async move {
                match v.lifecycle().record_death(&cli, id, &date, &document).await {
                    Ok(_) => {
                        println!("recorded the death of {id}: new consents must come from heirs");
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        SubjectCommand::Basis {
            id,
            purpose,
            kind,
            start,
            reference,
            note,
        } => super::bases::record(cfg, parse_id(&id)?, purpose, &kind, start.as_deref(), reference, note).await,
        SubjectCommand::Bases { id } => super::bases::show(cfg, parse_id(&id)?).await,
        SubjectCommand::Block { id, reason, categories } => {
            super::blocks::place(cfg, parse_id(&id)?, &reason, categories).await
        }
        SubjectCommand::Unblock { id, block } => super::blocks::lift(cfg, parse_id(&id)?, &block).await,
        SubjectCommand::Blocks { id } => super::blocks::list(cfg, parse_id(&id)?).await,
        SubjectCommand::Report { id, html } => super::reports::preview(cfg, parse_id(&id)?, html).await,
        SubjectCommand::Export {
            id,
            format,
            expires_in_days,
        } => super::reports::export(cfg, parse_id(&id)?, &format, expires_in_days).await,
        SubjectCommand::Erase { id, reason } => {
            let id = parse_id(&id)?;
            let reason = match destruction_reason(Some(reason.as_str())) {
                Ok(r) => r,
                Err(e) => return Ok(report(&e)),
            };
            with_vault(cfg, |v| async move {
                match v.subjects().erase(&cli, id, reason).await {
                    Ok(e) if !e.withheld.is_empty() => {
                        let kept: Vec<String> = e
                            .withheld
                            .iter()
                            .map(|w| format!("{} (kept for {})", w.category, w.purposes.join(", ")))
                            .collect();
                        println!(
                            "erased {id} ({reason}) but for {}: blocked until the obligation ends; destruction act {}",
                            kept.join("; "),
                            e.act
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Ok(e) => {
                        println!(
                            "erased {id} ({reason}): its data key is destroyed; destruction act {}",
                            e.act
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        SubjectCommand::Destroy {
            id,
            categories,
            fields,
            reason,
        } => {
            let id = parse_id(&id)?;
            let request = match destruction_reason(Some(reason.as_str())) {
                Ok(reason) => DestructionRequest {
                    categories,
                    fields,
                    reason,
                },
                Err(e) => return Ok(report(&e)),
            };
            with_vault(cfg, |v| async move {
                match v.subjects().destroy(&cli, id, &request).await {
                    Ok(done) => {
                        println!(
                            "destroyed of {id} ({}): categories {}; fields {}; destruction act {}",
                            request.reason,
                            done.categories.join(", "),
                            if done.fields.is_empty() {
                                "none held".to_owned()
                            } else {
                                done.fields.join(", ")
                            },
                            done.act
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
    }
}
