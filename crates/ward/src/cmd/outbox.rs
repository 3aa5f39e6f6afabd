//! `ward outbox list|retry`: the officer's view of the outbox (ids, templates, states; never an
//! address or a text) and the retry of a dead-lettered message.

use super::{report, with_vault};
use crate::cli::OutboxCommand;
use crate::config::Config;
use anyhow::{bail, Result};
use std::process::ExitCode;
use time::format_description::well_known::Rfc3339;
use ward_core::outbox::MessageState;
use ward_core::{Caller, MessageId};

pub async fn run(c: OutboxCommand, cfg: &Config) -> Result<ExitCode> {
    match c {
        OutboxCommand::List { state, limit } => {
            let state = match state.as_deref().map(str::parse::<MessageState>).transpose() {
                Ok(s) => s,
                Err(e) => bail!("--state: {e}"),
            };
            if limit == 0 {
                bail!("--limit must be at least 1");
            }
            with_vault(cfg, |v| async move {
                let list = match v.outbox().list(&Caller::cli(), state, limit).await {
                    Ok(l) => l,
                    Err(e) => return Ok(report(&e)),
                };
                for m in &list {
                    println!(
                        "{}  subject {}  {} ({})  {}  attempts {}  {}",
                        m.id,
                        m.subject,
                        m.template,
                        m.language,
                        m.state,
                        m.attempts,
                        match m.sent_at {
                            Some(at) => format!("sent {}", at.format(&Rfc3339)?),
                            None => format!("next attempt {}", m.next_attempt_at.format(&Rfc3339)?),
                        }
                    );
                }
                if list.is_empty() {
                    println!("no messages");
                }
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
        OutboxCommand::Retry { id } => {
            let Ok(id) = id.parse::<MessageId>() else {
                bail!("`{id}` is not a message id (a UUID, as `ward outbox list` shows)");
            };
            with_vault(cfg, |v| async move {
                match v.outbox().retry(&Caller::cli(), id).await {
                    Ok(()) => {
                        println!("message {id} is queued again");
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => Ok(report(&e)),
                }
            })
            .await
        }
    }
}
