//! `ward journal verify|checkpoint` (`list` is in `registers.rs`), the checkpoint file a witness keeps, and the check of the
//! journal's end that runs before Ward writes to a store.

use super::{report, with_vault};
use crate::cli::JournalCommand;
use crate::config::Config;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use ward_crypto::{Checkpoint, CheckpointSigner};
use ward_store::Store;
use ward_vault::{VerifyOptions, Witness};

pub async fn run(c: JournalCommand, cfg: &Config) -> Result<ExitCode> {
    match c {
        JournalCommand::Verify { against } => verify(cfg, against.as_deref()).await,
        JournalCommand::List(args) => super::registers::journal(args, cfg).await,
        JournalCommand::Checkpoint { export } => {
            with_vault(cfg, |v| async move {
                let signed = match v.journal().checkpoint().await {
                    Ok(s) => s,
                    Err(e) => return Ok(report(&e)),
                };
                match &signed {
                    Some(cp) => println!(
                        "checkpoint signed at entry {} (head {}, key {})",
                        cp.seq,
                        hex::encode(cp.head),
                        cp.key_id
                    ),
                    None => println!("no new entries since the last checkpoint"),
                }
                let Some(path) = export else {
                    return Ok(ExitCode::SUCCESS);
                };
                let cp = match v.journal().latest_checkpoint().await {
                    Ok(Some(cp)) => cp,
                    Ok(None) => bail!("the journal is empty: there is no checkpoint to export"),
                    Err(e) => return Ok(report(&e)),
                };
                let file = CheckpointFile::new(&cp, &v.keys().material().signer)?;
                crate::keyfiles::write_secret(&path, format!("{}\n", serde_json::to_string_pretty(&file)?).as_bytes())?;
                println!(
                    "checkpoint at entry {} exported to {} (mode 0600): keep it apart from this store, \
                     and check the journal against it with `ward journal verify --against FILE`",
                    cp.seq,
                    path.display()
                );
                Ok(ExitCode::SUCCESS)
            })
            .await
        }
    }
}

async fn verify(cfg: &Config, against: Option<&Path>) -> Result<ExitCode> {
    // Verification only reads: do not sign a checkpoint of a possibly tampered chain.
    let witness = against.map(CheckpointFile::read).transpose()?;
    let keys = crate::keyfiles::load(&cfg.keys_dir, cfg.blind_index_bits)?;
    let store = crate::app::open_store(cfg).await?;
    let opts = VerifyOptions {
        checkpoint_interval: interval(cfg),
        witness,
        ..VerifyOptions::default()
    };
    let started = std::time::Instant::now();
    let r = match ward_vault::verify_journal_store_with(&store, &keys.signer, &opts).await {
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
            if r.unsigned() > 0 {
                println!(
                    "  {} unsigned entries ({}..={}): after the last signed checkpoint, only the hash chain \
                     and the head vouch for them",
                    r.unsigned(),
                    r.signed_upto + 1,
                    r.entries
                );
            }
            if let Some(w) = &opts.witness {
                println!("  matches the checkpoint kept apart at entry {}", w.checkpoint.seq);
            }
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

/// The configured checkpoint interval.
pub(crate) fn interval(cfg: &Config) -> time::Duration {
    time::Duration::seconds(i64::try_from(cfg.checkpoint_interval_secs).unwrap_or(i64::MAX))
}

/// Before Ward writes to a store (`serve` and every command that opens the vault): refuses a
/// journal whose end is not the one its head records, or that its newest checkpoint no longer
/// matches, naming the problem; then signs the head if it moved since the last checkpoint
/// (the tail a killed process left unsigned). Reads the head, the entries at the end and the
/// checkpoints, not the whole chain.
pub(crate) async fn check_at_start(store: &Arc<dyn Store>, signer: &CheckpointSigner) -> Result<()> {
    if let Some(t) = ward_vault::check_journal_end(store, signer).await? {
        bail!(
            "refusing to open the store: its journal was tampered with: {t} ({}). \
             Run `ward journal verify` for the whole chain; restore the database from a backup.",
            t.kind()
        );
    }
    ward_vault::sign_journal_head(store.as_ref(), signer, OffsetDateTime::now_utc())
        .await
        .context("signing the journal head left unsigned")?;
    Ok(())
}

/// Signs the journal head every checkpoint interval while a command runs (at most daily), as
/// the server does: a long command killed midway (an import) then leaves no more than an
/// interval of entries unsigned, and verification's unsigned-stretch rule holds for it. Also
/// reloads the key files each interval as the server does (checked against the store's key
/// binding), so a long command wraps new data keys under a rotated KEK within the grace period
/// that key epochs count on (`epochs`).
pub(crate) fn sign_while_running(vault: &ward_vault::Vault, cfg: &Config) -> tokio::task::JoinHandle<()> {
    let every = std::time::Duration::from_secs(cfg.checkpoint_interval_secs.clamp(1, 86_400));
    let vault = vault.clone();
    let epochs = crate::epochs::Epochs::new(cfg, &vault);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = vault.journal().checkpoint().await {
                tracing::warn!(error = %e, "could not sign a journal checkpoint");
            }
            if let Err(e) = epochs.reload().await {
                tracing::error!(error = %format!("{e:#}"), "key files not reloaded; the keys in force stay");
            }
        }
    })
}

/// A signed checkpoint kept apart from the store, as JSON: the statement, its signature and
/// the public key that verifies it, each in hex.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckpointFile {
    /// Always `ward.checkpoint.v1`.
    format: String,
    /// "The journal had `seq` entries and the last one's hash was `head`, at `at`."
    seq: i64,
    head: String,
    at: String,
    at_micros: i64,
    key_id: String,
    public_key: String,
    signature: String,
}

const FORMAT: &str = "ward.checkpoint.v1";

impl CheckpointFile {
    fn new(cp: &Checkpoint, signer: &CheckpointSigner) -> Result<Self> {
        let at = ward_core::clock::from_micros(cp.at_micros)
            .format(&Rfc3339)
            .unwrap_or_default();
        Ok(Self {
            format: FORMAT.to_owned(),
            seq: cp.seq,
            head: hex::encode(cp.head),
            at,
            at_micros: cp.at_micros,
            key_id: cp.key_id.clone(),
            public_key: hex::encode(signer.public_key()),
            signature: hex::encode(&cp.signature),
        })
    }

    /// Reads a checkpoint file and checks its signature with the key it names.
    fn read(path: &Path) -> Result<Witness> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let f: CheckpointFile = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a checkpoint file (written by `ward journal checkpoint --export`)",
                path.display()
            )
        })?;
        if f.format != FORMAT {
            bail!("{}: unknown format {:?} (expected {FORMAT})", path.display(), f.format);
        }
        let hex32 = |field: &str, v: &str| -> Result<[u8; 32]> {
            hex::decode(v)
                .ok()
                .and_then(|b| b.try_into().ok())
                .with_context(|| format!("{}: `{field}` is not 32 bytes of hex", path.display()))
        };
        let public_key = hex32("public_key", &f.public_key)?;
        let checkpoint = Checkpoint {
            seq: f.seq,
            head: hex32("head", &f.head)?,
            at_micros: f.at_micros,
            key_id: f.key_id,
            signature: hex::decode(&f.signature)
                .with_context(|| format!("{}: `signature` is not hex", path.display()))?,
        };
        if ward_crypto::journal::verify_checkpoint_with_key(&public_key, &checkpoint).is_err() {
            bail!(
                "{}: the checkpoint's signature does not verify with the key it names: the file was altered",
                path.display()
            );
        }
        Ok(Witness { checkpoint, public_key })
    }
}
