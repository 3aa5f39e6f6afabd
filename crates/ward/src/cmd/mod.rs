//! Subcommands.

mod acts;
mod backup;
mod bases;
pub(crate) mod bench;
mod blocks;
mod calendar;
mod deadline;
pub(crate) mod import;
pub(crate) mod journal;
mod keys;
mod outbox;
mod policy;
mod registers;
mod reports;
mod requests;
mod restore;
mod subject;
mod verify;

use crate::app;
use crate::cli::{Cli, Command};
use crate::config::{Config, Overrides};
use anyhow::Result;
use std::process::ExitCode;
use ward_vault::VaultError;

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let g = &cli.global;
    let mut over = Overrides {
        listen: None,
        database_url: g.database_url.clone(),
        keys_dir: g.keys_dir.clone(),
    };
    match cli.command {
        Command::Init => {
            let report = app::init(&g.data_dir, &over).await?;
            print_init(&g.data_dir, &over, &report)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { listen } => {
            over.listen = listen;
            let report = app::init(&g.data_dir, &over).await?;
            if report.created {
                print_init(&g.data_dir, &over, &report)?;
            }
            crate::serve::serve(Config::load(&g.data_dir, &over)?).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Policy(c) => policy::run(c, &g.data_dir, &over).await,
        Command::Acts(c) => acts::run(c, &Config::load(&g.data_dir, &over)?).await,
        Command::Keys(c) => keys::run(c, &Config::load(&g.data_dir, &over)?).await,
        Command::Journal(c) => journal::run(c, &Config::load(&g.data_dir, &over)?).await,
        Command::Outbox(c) => outbox::run(c, &Config::load(&g.data_dir, &over)?).await,
        Command::Subject(c) => subject::run(c, &Config::load(&g.data_dir, &over)?).await,
        Command::Verify(c) => verify::run(c, &Config::load(&g.data_dir, &over)?).await,
        Command::Requests(c @ crate::cli::RequestsCommand::Deadline { .. }) => {
            deadline::run(c, &Config::load(&g.data_dir, &over)?)
        }
        Command::Requests(c) => requests::run(c, &Config::load(&g.data_dir, &over)?).await,
        Command::Calendar(c) => calendar::run(c, &Config::load(&g.data_dir, &over)?),
        Command::Backup { out, keys_out } => backup::backup(&Config::load(&g.data_dir, &over)?, out, keys_out).await,
        Command::Restore { from, keys } => restore::restore(&Config::load(&g.data_dir, &over)?, &from, &keys).await,
        Command::Import(args) => import::run(args, &Config::load(&g.data_dir, &over)?).await,
        Command::Bench(args) => bench::run(args, g.database_url.clone()).await,
        Command::Docs(crate::cli::DocsCommand::Api { file }) => docs_api(&file),
        Command::BenchEcho {
            listen,
            read_bytes,
            lookup_bytes,
        } => bench::echo(&listen, read_bytes, lookup_bytes).await,
    }
}

/// `ward docs api FILE`: rewrites the generated tables of docs/api.md.
fn docs_api(file: &std::path::Path) -> Result<ExitCode> {
    use anyhow::Context;
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let new = ward_api::docs::regenerate(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if new == text {
        println!("{}: up to date", file.display());
    } else {
        std::fs::write(file, new).with_context(|| format!("writing {}", file.display()))?;
        println!("{}: tables regenerated", file.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_init(data_dir: &std::path::Path, over: &Overrides, report: &app::InitReport) -> Result<()> {
    let cfg = Config::load(data_dir, over)?;
    println!("Ward data directory {}:", data_dir.display());
    println!(
        "  configuration  {}",
        data_dir.join(crate::config::CONFIG_FILE).display()
    );
    println!("  policy         {}", cfg.policy_path.display());
    println!(
        "  key files      {}/ (mode 0600; keep them apart from database backups)",
        cfg.keys_dir.display()
    );
    println!("  database       {}", cfg.database_description());
    match &report.admin_token_path {
        Some(p) => println!("  admin API key  {} (mode 0600; the token is not printed)", p.display()),
        None => println!("  admin API key  already created"),
    }
    Ok(())
}

/// Prints a vault error with its code and field problems; returns the failing exit code.
pub(crate) fn report(e: &VaultError) -> ExitCode {
    eprintln!("error [{}]: {e}", e.code());
    if let VaultError::InvalidFields(problems) = e {
        for p in problems {
            eprintln!("  {}: {}", p.field, p.message);
        }
    }
    if let VaultError::Internal(cause) | VaultError::Unavailable(cause) = e {
        tracing::error!(cause = %cause, "operation failed");
    }
    ExitCode::FAILURE
}

/// Runs an operation on an open vault, then shuts it down cleanly (flush + checkpoint). Says
/// first when the policy file is not the version in force (`app::note_policy_file`).
pub(crate) async fn with_vault<F, Fut>(cfg: &Config, f: F) -> Result<ExitCode>
where
    F: FnOnce(ward_vault::Vault) -> Fut,
    Fut: std::future::Future<Output = Result<ExitCode>>,
{
    with_vault_noting(cfg, true, f).await
}

/// [`with_vault`], saying nothing of the policy file when `note` is false (`ward policy
/// publish`, which is what the note would suggest).
pub(crate) async fn with_vault_noting<F, Fut>(cfg: &Config, note: bool, f: F) -> Result<ExitCode>
where
    F: FnOnce(ward_vault::Vault) -> Fut,
    Fut: std::future::Future<Output = Result<ExitCode>>,
{
    let vault = app::open_vault(cfg).await?;
    if note {
        app::note_policy_file(&vault, cfg);
    }
    let signing = journal::sign_while_running(&vault, cfg);
    let result = f(vault.clone()).await;
    signing.abort();
    vault.shutdown().await?;
    result
}
