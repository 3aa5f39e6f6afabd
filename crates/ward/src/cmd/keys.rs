use super::{report, with_vault};
use crate::cli::{KeysCommand, RoleArg};
use crate::config::Config;
use anyhow::Result;
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use ward_core::access::Role;
use ward_core::Caller;

pub async fn run(c: KeysCommand, cfg: &Config) -> Result<ExitCode> {
    let cli = Caller::cli();
    match c {
        KeysCommand::Create { name, role, purposes } => {
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::Service => Role::Service,
            };
            with_vault(cfg, |v| async move {
                match v.create_api_key(&cli, &name, role, &purposes).await {
                    Ok((view, token)) => {
                        eprintln!(
                            "created {} key `{}` ({}); the token below is shown only once:",
                            view.role, view.id, view.name
                        );
                        println!("{}", token.expose());
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        KeysCommand::List => {
            with_vault(cfg, |v| async move {
                match v.list_api_keys(&cli).await {
                    Ok(keys) => {
                        println!(
                            "{:<14} {:<8} {:<9} {:<26} {:<30} purposes",
                            "id", "role", "state", "created", "name"
                        );
                        for k in keys {
                            let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                            let created = k.created_at.format(&Rfc3339).unwrap_or_default();
                            println!(
                                "{:<14} {:<8} {:<9} {:<26} {:<30} {}",
                                k.id,
                                k.role,
                                state,
                                created,
                                k.name,
                                k.purposes.join(",")
                            );
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        KeysCommand::Revoke { id } => {
            with_vault(cfg, |v| async move {
                match v.revoke_api_key(&cli, &id).await {
                    Ok(()) => {
                        println!("revoked API key `{id}`");
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        KeysCommand::Rotate => {
            let new_id = crate::keyfiles::add_kek(&cfg.keys_dir)?;
            eprintln!(
                "new key-encryption key kek-{new_id} written to {}",
                cfg.keys_dir.display()
            );
            with_vault(cfg, |v| async move {
                match v.rewrap_all(&cli).await {
                    Ok(r) => {
                        println!("re-wrapped {} subject data keys under kek-{new_id} ({} were already under it)", r.rewrapped, r.already_current);
                        println!("older kek-N.key files are no longer used by any subject and may be removed once every Ward process has restarted");
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
    }
}
