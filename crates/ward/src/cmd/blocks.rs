//! `ward subject block|unblock|blocks`: the officer blocks a subject's data (or categories)
//! for a reason, lifts a block and lists the blocks; the same vault calls as the API's
//! `/v1/subjects/{id}/blocks` routes.

use super::subject::rfc3339;
use super::{report, with_vault};
use crate::config::Config;
use anyhow::{Context, Result};
use std::process::ExitCode;
use ward_core::{BlockId, Caller, SubjectId};
use ward_vault::{block_reason, BlockRecord};

fn json(b: &BlockRecord) -> serde_json::Value {
    serde_json::json!({
        "id": b.id.to_string(),
        "categories": b.categories,
        "reason": b.reason,
        "at": rfc3339(Some(b.at)),
        "lifted_at": b.lifted_at.map(|t| rfc3339(Some(t))),
    })
}

/// `ward subject block ID --reason R [--category C ...]`: prints the block as JSON.
pub async fn place(cfg: &Config, id: SubjectId, reason: &str, categories: Vec<String>) -> Result<ExitCode> {
    let reason = match block_reason(Some(reason)) {
        Ok(r) => r,
        Err(e) => return Ok(report(&e)),
    };
    with_vault(cfg, |v| async move {
        match v.blocks().place(&Caller::cli(), id, &categories, reason).await {
            Ok(block) => {
                println!("{}", json(&block));
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}

/// `ward subject unblock ID BLOCK_ID`.
pub async fn lift(cfg: &Config, id: SubjectId, block: &str) -> Result<ExitCode> {
    let block: BlockId = block
        .parse()
        .ok()
        .with_context(|| format!("`{block}` is not a block id (a UUID)"))?;
    with_vault(cfg, |v| async move {
        match v.blocks().lift(&Caller::cli(), id, block).await {
            Ok(()) => {
                println!("lifted block {block} of {id}");
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}

/// `ward subject blocks ID`: one JSON object a line, oldest first, lifted ones too.
pub async fn list(cfg: &Config, id: SubjectId) -> Result<ExitCode> {
    with_vault(cfg, |v| async move {
        match v.blocks().list(&Caller::cli(), id).await {
            Ok(blocks) => {
                for b in &blocks {
                    println!("{}", json(b));
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Ok(report(&e)),
        }
    })
    .await
}
