//! Wiring: from a [`Config`] to an open store and vault.

use crate::config::{self, Config};
use crate::keyfiles;
use anyhow::{Context, Result};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use ward_core::access::Role;
use ward_core::{Caller, Policy, SystemClock};
use ward_store::Store;
use ward_vault::{PolicySource, Vault, VaultConfig};

pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// Opens the configured store (and applies migrations).
pub async fn open_store(cfg: &Config) -> Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match &cfg.database_url {
        None => Arc::new(
            ward_store_sqlite::SqliteStore::open(&cfg.sqlite_path())
                .await
                .with_context(|| format!("opening {}", cfg.database_description()))?,
        ),
        Some(url) => Arc::new(
            ward_store_postgres::PgStore::connect(url)
                .await
                .with_context(|| format!("connecting to {}", cfg.database_description()))?,
        ),
    };
    Ok(store)
}

/// Reads a policy register and, when it names one, its text file (relative to it).
pub fn load_policy_source(path: &Path) -> Result<(Policy, PolicySource)> {
    let (policy, register) = load_policy(path)?;
    let text = match &policy.text_file {
        None => None,
        Some(f) => {
            let p = path.parent().unwrap_or(Path::new(".")).join(f);
            Some(
                fs::read_to_string(&p)
                    .with_context(|| format!("reading the policy text {} (text_file)", p.display()))?,
            )
        }
    };
    Ok((policy, PolicySource { register, text }))
}

/// Reads and checks the policy file.
pub fn load_policy(path: &Path) -> Result<(Policy, String)> {
    let source = fs::read_to_string(path).with_context(|| format!("reading the policy {}", path.display()))?;
    let policy = Policy::parse(&source).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        anyhow::anyhow!("the policy {} has problems:\n{}", path.display(), list.join("\n"))
    })?;
    Ok((policy, source))
}

/// Opens the vault: keys, policy, store.
pub async fn open_vault(cfg: &Config) -> Result<Vault> {
    let keys = keyfiles::load(&cfg.keys_dir, cfg.blind_index_bits)?;
    let (policy, source) = load_policy_source(&cfg.policy_path)?;
    let store = open_store(cfg).await?;
    // The journal's end must be the one its head records, before anything is written.
    crate::cmd::journal::check_at_start(&store, &keys.signer).await?;
    let vault_cfg = VaultConfig {
        max_batch: cfg.max_batch,
        checkpoint_interval: crate::cmd::journal::interval(cfg),
        ..VaultConfig::default()
    };
    Ok(Vault::open(store, keys, policy, source, Arc::new(SystemClock), vault_cfg).await?)
}

/// What `init` did, for the operator.
pub struct InitReport {
    pub created: bool,
    pub admin_token_path: Option<std::path::PathBuf>,
}

/// Initialises a data directory: configuration, key files, default policy, database, and a
/// first admin key. Does nothing to what already exists.
pub async fn init(data_dir: &Path, over: &config::Overrides) -> Result<InitReport> {
    fs::create_dir_all(data_dir).with_context(|| format!("creating data directory {}", data_dir.display()))?;
    fs::set_permissions(data_dir, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {}", data_dir.display()))?;
    let cfg_path = data_dir.join(config::CONFIG_FILE);
    let mut created = false;
    if !cfg_path.exists() {
        fs::write(&cfg_path, config::default_file()).with_context(|| format!("writing {}", cfg_path.display()))?;
        created = true;
    }
    let cfg = Config::load(data_dir, over)?;
    if !cfg.policy_path.exists() {
        fs::write(&cfg.policy_path, ward_core::policy::DEFAULT_POLICY)
            .with_context(|| format!("writing {}", cfg.policy_path.display()))?;
        created = true;
    }
    created |= keyfiles::create_all(&cfg.keys_dir)?;
    let token_path = data_dir.join(ADMIN_TOKEN_FILE);
    let mut admin_token_path = None;
    if !token_path.exists() {
        let vault = open_vault(&cfg).await?;
        let has_admin = vault
            .api_keys()
            .list(&Caller::cli())
            .await?
            .iter()
            .any(|k| k.role == Role::Admin && k.revoked_at.is_none());
        if !has_admin {
            let (_, token) = vault
                .api_keys()
                .create(&Caller::cli(), "initial admin", Role::Admin, &[])
                .await?;
            keyfiles::write_secret(&token_path, format!("{}\n", token.expose()).as_bytes())?;
            admin_token_path = Some(token_path);
            created = true;
        }
        vault.shutdown().await?;
    }
    Ok(InitReport {
        created,
        admin_token_path,
    })
}
