use super::{report, with_vault};
use crate::binding::NewKeks;
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
                RoleArg::Officer => Role::Officer,
                RoleArg::Service => Role::Service,
            };
            with_vault(cfg, |v| async move {
                match v.api_keys().create(&cli, &name, role, &purposes).await {
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
                match v.api_keys().list(&cli).await {
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
                match v.api_keys().revoke(&cli, &id).await {
                    Ok(()) => {
                        println!("revoked API key `{id}`");
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
        KeysCommand::Rotate { resume } => {
            let new_id = if resume {
                let ids = crate::keyfiles::kek_ids(&cfg.keys_dir)?;
                ids.last()
                    .copied()
                    .ok_or_else(|| anyhow::anyhow!("no key-encryption key; run `ward init`"))?
            } else {
                // The keys must be the store's before a new one is written beside them.
                drop(crate::app::open_store(cfg).await?);
                let id = crate::keyfiles::add_kek(&cfg.keys_dir)?;
                eprintln!("new key-encryption key kek-{id} written to {}", cfg.keys_dir.display());
                id
            };
            // Opening records the new KEK in the store's key binding.
            let v = crate::app::open_vault_with(cfg, NewKeks::Record).await?;
            let code = match v.keys().rewrap_all(&cli).await {
                Ok(r) => {
                    println!(
                        "re-wrapped {} subject data keys under kek-{new_id} ({} were already under it)",
                        r.rewrapped, r.already_current
                    );
                    println!(
                        "once every running Ward has loaded kek-{new_id} (within its checkpoint interval), run \
                         `ward keys rotate --resume` to re-wrap anything they wrote meanwhile; then older \
                         kek-N.key files are unused and may be removed"
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => report(&e),
            };
            v.shutdown().await?;
            Ok(code)
        }
    }
}
