//! Wiring: from a [`Config`] to an open store and vault.

use crate::binding::{self, NewKeks};
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

/// Opens the configured store (and applies migrations), refusing it unless the configured
/// keys are the store's (`binding`).
pub async fn open_store(cfg: &Config) -> Result<Arc<dyn Store>> {
    Ok(binding::open(cfg, NewKeks::Refuse).await?.1)
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
    open_vault_with(cfg, NewKeks::Refuse).await
}

/// [`open_vault`], saying what to do with a KEK the store's binding does not know.
pub async fn open_vault_with(cfg: &Config, new_keks: NewKeks) -> Result<Vault> {
    let (policy, source) = load_policy_source(&cfg.policy_path)?;
    let (keys, store) = binding::open(cfg, new_keks).await?;
    // The journal's end must be the one its head records, before anything is written.
    crate::cmd::journal::check_at_start(&store, &keys.signer).await?;
    let vault_cfg = VaultConfig {
        max_batch: cfg.max_batch,
        checkpoint_interval: crate::cmd::journal::interval(cfg),
        ..VaultConfig::default()
    };
    let vault = Vault::open(store, keys, policy, source, Arc::new(SystemClock), vault_cfg).await?;
    // Loads a KEK another process rotated to when a data key needs it (for unwrapping only;
    // the checked reload, `epochs::Epochs::reload`, puts a new KEK in force).
    let (keys_dir, bits) = (cfg.keys_dir.clone(), cfg.blind_index_bits);
    vault.keys().set_reloader(Box::new(move || {
        keyfiles::load(&keys_dir, bits)
            .map(|k| k.keyring)
            .map_err(|e| format!("{e:#}"))
    }));
    Ok(vault)
}

/// What `init` did, for the operator.
pub struct InitReport {
    pub created: bool,
    pub admin_token_path: Option<std::path::PathBuf>,
}

/// Initialises a data directory: configuration, key files, default policy, database, and a
/// first admin key. Does nothing to what already exists.
pub async fn init(data_dir: &Path, over: &config::Overrides) -> Result<InitReport> {
    binding::refuse_keys_for_existing_store(&Config::load(data_dir, over)?).await?;
    fs::create_dir_all(data_dir).with_context(|| format!("creating data directory {}", data_dir.display()))?;
    fs::set_permissions(data_dir, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {}", data_dir.display()))?;
    let cfg_path = data_dir.join(config::CONFIG_FILE);
    let mut created = false;
    if !cfg_path.exists() {
        keyfiles::write_secret(&cfg_path, config::default_file().as_bytes())?;
        created = true;
    }
    let cfg = Config::load(data_dir, over)?;
    if !cfg.policy_path.exists() {
        keyfiles::write_secret(&cfg.policy_path, ward_core::policy::DEFAULT_POLICY.as_bytes())?;
        created = true;
    }
    if keyfiles::create_all(&cfg.keys_dir)? {
        // New keys, so a new store: the only place a database is made beside them.
        crate::startup::create_database(&cfg).await?;
        created = true;
    }
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
