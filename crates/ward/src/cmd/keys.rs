use super::{report, with_vault};
use crate::binding::NewKeks;
use crate::cli::{KeysCommand, RoleArg};
use crate::config::Config;
use crate::epochs::{Epochs, Finish};
use anyhow::Result;
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
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
        KeysCommand::Rotate { resume, destroy_old } => rotate(cfg, resume, destroy_old).await,
    }
}

/// `ward keys rotate`: the key epochs' steps (`epochs`), as the server's rotation job takes
/// them, on the operator's word instead of the schedule.
async fn rotate(cfg: &Config, resume: bool, destroy_old: bool) -> Result<ExitCode> {
    // `--resume` records a KEK file that an interrupted rotation of an earlier build wrote.
    let new_keks = if resume { NewKeks::Record } else { NewKeks::Refuse };
    let v = crate::app::open_vault_with(cfg, new_keks).await?;
    let epochs = Epochs::new(cfg, &v).by(Caller::cli());
    let result = rotate_with(&epochs, resume, destroy_old).await;
    v.shutdown().await?;
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn rotate_with(epochs: &Epochs, resume: bool, destroy_old: bool) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    if resume {
        epochs.reload().await?;
        let r = epochs.rewrap().await?;
        println!(
            "re-wrapped {} subject data keys under the active key ({} were already under it)",
            r.rewrapped, r.already_current
        );
        return Ok(());
    }
    match epochs.finish(now).await? {
        Finish::Nothing if destroy_old => println!("no key-encryption key older than the active one"),
        Finish::Nothing => {}
        Finish::NotYet { old, due } if destroy_old => {
            anyhow::bail!(
                "{} may be destroyed from {} (2 checkpoint intervals + 60 s after the next key was \
                 recorded, so that every running Ward has loaded it)",
                names(&old),
                due.format(&Rfc3339).unwrap_or_default()
            )
        }
        Finish::NotYet { old, due } => println!(
            "{} kept until {} (the grace period after the key that followed it)",
            names(&old),
            due.format(&Rfc3339).unwrap_or_default()
        ),
        Finish::Destroyed { old, rewrapped } => println!(
            "destroyed {} ({rewrapped} data keys re-wrapped first); take a fresh key export \
             (`ward backup --keys-out`): older ones no longer open",
            names(&old)
        ),
    }
    if destroy_old {
        return Ok(());
    }
    let id = epochs.begin(now).await?;
    eprintln!("new key-encryption key kek-{id} recorded and in force");
    let r = epochs.rewrap().await?;
    println!(
        "re-wrapped {} subject data keys under kek-{id} ({} were already under it)",
        r.rewrapped, r.already_current
    );
    println!(
        "older key files are destroyed by the next `ward keys rotate` or `ward keys rotate --destroy-old` \
         from 2 checkpoint intervals + 60 s on (a running `ward serve` does it itself)"
    );
    Ok(())
}

fn names(ids: &[u32]) -> String {
    ids.iter()
        .map(|id| format!("kek-{id}.key"))
        .collect::<Vec<_>>()
        .join(", ")
}
