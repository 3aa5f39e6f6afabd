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
use ward_core::{Caller, Policy};
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
    let (keys, store) = binding::open(cfg, new_keks).await?;
    // The journal's end must be the one its head records, before anything is written.
    crate::cmd::journal::check_at_start(&store, &keys.signer).await?;
    let (policy, source) = seed_policy(cfg, &store).await?;
    let vault_cfg = VaultConfig {
        max_batch: cfg.max_batch,
        checkpoint_interval: crate::cmd::journal::interval(cfg),
        calendars: cfg.calendars.clone(),
        zone: cfg.zone.clone(),
        verification_code_ttl: cfg.verification_code_ttl,
        public_url: cfg.public_url.clone(),
        ..VaultConfig::default()
    };
    let vault = Vault::open(store, keys, policy, source, crate::bench_knobs::clock(), vault_cfg).await?;
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

/// The policy `Vault::open` is given: the file, which seeds a new store. A store that has
/// versions runs them whatever the file says, so a file that cannot be read there is a note,
/// and the newest recorded version stands in (`Vault::open` records nothing on such a store).
async fn seed_policy(cfg: &Config, store: &Arc<dyn Store>) -> Result<(Policy, PolicySource)> {
    let err = match load_policy_source(&cfg.policy_path) {
        Ok(file) => return Ok(file),
        Err(e) => e,
    };
    let versions = store.find_policy_versions().await?;
    let Some(v) = versions.last() else { return Err(err) };
    eprintln!("note: {err:#}; Ward uses the policy versions in the store");
    let policy =
        Policy::parse(&v.source).map_err(|_| anyhow::anyhow!("the stored policy version {} does not parse", v.hash))?;
    let source = PolicySource {
        register: v.source.clone(),
        text: v.text.clone(),
    };
    Ok((policy, source))
}

/// Says once on stderr when the policy file is not the version in force (a note: the command
/// goes on with the version in force).
pub fn note_policy_file(vault: &Vault, cfg: &Config) {
    let note = load_policy_source(&cfg.policy_path)
        .ok()
        .and_then(|(_, source)| policy_file_note(vault, &cfg.policy_path, &source));
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
}

/// What to tell the operator when the policy file is not the version in force: the store's
/// versions are the truth, and only `ward policy publish` (or the API) changes them.
pub fn policy_file_note(vault: &Vault, path: &Path, file: &PolicySource) -> Option<String> {
    let in_force = vault.policies().in_force();
    let hash = file.hash();
    if hash == in_force.hash {
        return None;
    }
    let short = |h: &str| h.get(..12).unwrap_or(h).to_owned();
    let when = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let current = format!(
        "{}@{} ({})",
        in_force.policy.id,
        in_force.policy.version,
        short(&in_force.hash)
    );
    let file_is = match vault.policies().versions().iter().find(|v| v.hash == hash) {
        // The version in force is the latest whose time has come: a later one is still to come.
        Some(v) if v.effective_at > in_force.effective_at => {
            format!(
                "is version {}, which takes effect at {}",
                short(&v.hash),
                when(v.effective_at)
            )
        }
        Some(v) => format!("is version {}, which is no longer in force", short(&v.hash)),
        None => "differs from every published version".to_owned(),
    };
    Some(format!(
        "{} {file_is}; Ward uses the version in force, {current}. To put the file in force, run \
         `ward policy publish {}`; `ward policy show` prints the version in force",
        path.display(),
        path.display()
    ))
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
    // The database a new data directory is made for is its store from now on: saved, so that
    // a later command without the flag opens it, not an empty SQLite database.
    config::save_database_url(data_dir, over)?;
    let cfg = Config::load(data_dir, over)?;
    if !cfg.policy_path.exists() {
        keyfiles::write_secret(&cfg.policy_path, ward_core::policy::DEFAULT_POLICY.as_bytes())?;
        // The default register names its human-readable text, beside it.
        let text = cfg
            .policy_path
            .parent()
            .unwrap_or(data_dir)
            .join(ward_core::policy::DEFAULT_POLICY_TEXT_FILE);
        if !text.exists() {
            keyfiles::write_secret(&text, ward_core::policy::DEFAULT_POLICY_TEXT.as_bytes())?;
        }
        created = true;
    }
    if keyfiles::create_all(&cfg.keys_dir)? {
        // New keys, so a new store: the only place a database is made beside them, and the
        // only time an empty store is bound to keys (`binding`).
        crate::startup::create_database(&cfg).await?;
        binding::bind_new_store(&cfg).await?;
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
