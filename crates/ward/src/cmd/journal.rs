use super::{report, with_vault};
use crate::cli::JournalCommand;
use crate::config::Config;
use anyhow::Result;
use std::process::ExitCode;

pub async fn run(c: JournalCommand, cfg: &Config) -> Result<ExitCode> {
    match c {
        JournalCommand::Verify => {
            // Verification only reads: do not sign a checkpoint of a possibly tampered chain.
            let keys = crate::keyfiles::load(&cfg.keys_dir, cfg.blind_index_bits)?;
            let store = crate::app::open_store(cfg).await?;
            let started = std::time::Instant::now();
            let r = match ward_vault::verify_journal_store(&store, &keys.signer).await {
                Ok(r) => r,
                Err(e) => return Ok(report(&e)),
            };
            let secs = started.elapsed().as_secs_f64();
            match &r.problem {
                None => {
                    println!(
                        "journal OK: {} entries, {} signed checkpoints, head {} ({:.2}s)",
                        r.entries,
                        r.checkpoints,
                        r.head.map_or_else(|| "(empty)".to_owned(), hex::encode),
                        secs
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(p) => {
                    eprintln!("journal TAMPERED: {p}");
                    eprintln!(
                        "  first problem at entry {} ({}); {} entries before it verified",
                        p.seq(),
                        p.kind(),
                        r.entries
                    );
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        JournalCommand::Checkpoint => {
            with_vault(cfg, |v| async move {
                match v.journal().checkpoint().await {
                    Ok(Some(cp)) => println!(
                        "checkpoint signed at entry {} (head {}, key {})",
                        cp.seq,
                        hex::encode(cp.head),
                        cp.key_id
                    ),
                    Ok(None) => println!("no new entries since the last checkpoint"),
                    Err(e) => return Ok(report(&e)),
                }
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
    }
}
