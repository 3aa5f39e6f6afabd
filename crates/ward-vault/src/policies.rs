//! Policy versions: immutable once published, each with its register, its text and the time
//! it comes into force. The version in force is chosen by the clock at every operation, so a
//! version published for a future date takes over then, without a job.

use crate::error::{VaultError, VaultResult};
use crate::Vault;
use std::sync::Arc;
use time::OffsetDateTime;
use ward_core::journal::AdminEvent;
use ward_core::policy::{diff, PolicyChange};
use ward_core::{Actor, Caller, JournalDraft, Policy};
use ward_store::{Change, OpOutcome, PolicyVersionChange, PolicyVersionRecord};

/// A register and, optionally, its human-readable text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySource {
    pub register: String,
    pub text: Option<String>,
}

impl From<&str> for PolicySource {
    fn from(register: &str) -> Self {
        Self {
            register: register.to_owned(),
            text: None,
        }
    }
}

impl PolicySource {
    /// The version's content hash: SHA-256 of the register, and of the text when there is one.
    pub fn hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.register.as_bytes());
        if let Some(t) = &self.text {
            h.update(b"\n\0ward.policy.text\0\n");
            h.update(t.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// A published policy version.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyVersion {
    pub hash: String,
    pub policy: Arc<Policy>,
    pub source: PolicySource,
    pub effective_at: OffsetDateTime,
    pub recorded_at: OffsetDateTime,
}

/// What publishing did.
#[derive(Debug, Clone)]
pub struct Published {
    pub version: Arc<PolicyVersion>,
    /// `false` when a version with the same content was already published.
    pub new: bool,
    /// Changes from the version in force when it was published.
    pub changes: Vec<PolicyChange>,
}

pub(crate) fn parse_record(r: PolicyVersionRecord) -> VaultResult<PolicyVersion> {
    let policy = Policy::parse(&r.source)
        .map_err(|p| VaultError::Internal(format!("stored policy version {} does not parse: {}", r.hash, p.len())))?;
    Ok(PolicyVersion {
        hash: r.hash,
        policy: Arc::new(policy),
        source: PolicySource {
            register: r.source,
            text: r.text,
        },
        effective_at: r.effective_at,
        recorded_at: r.recorded_at,
    })
}

/// Sorts versions by when they take effect (then when they were recorded).
pub(crate) fn sort(list: &mut [Arc<PolicyVersion>]) {
    list.sort_by(|a, b| (a.effective_at, a.recorded_at, &a.hash).cmp(&(b.effective_at, b.recorded_at, &b.hash)));
}

impl Vault {
    fn versions_read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<PolicyVersion>>> {
        self.inner
            .versions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The version in force now: the latest whose `effective_at` has come.
    pub fn policy_version(&self) -> Arc<PolicyVersion> {
        let now = self.now();
        let list = self.versions_read();
        list.iter()
            .rev()
            .find(|v| v.effective_at <= now)
            .or_else(|| list.first())
            .cloned()
            .expect("a vault always has at least one policy version")
    }

    /// The policy in force now.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy_version().policy.clone()
    }

    /// The content hash of the policy in force now.
    pub fn policy_hash(&self) -> String {
        self.policy_version().hash.clone()
    }

    /// Every version, by the time it takes effect.
    pub fn policy_versions(&self) -> Vec<Arc<PolicyVersion>> {
        self.versions_read().clone()
    }

    /// A version by its hash (or a unique prefix of at least 8 characters).
    pub fn find_policy_version(&self, hash: &str) -> VaultResult<Arc<PolicyVersion>> {
        let list = self.versions_read();
        let found: Vec<_> = list
            .iter()
            .filter(|v| hash.len() >= 8 && v.hash.starts_with(hash))
            .collect();
        match found.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(VaultError::NotFound(
                "policy_version_not_found",
                format!("no policy version `{hash}`"),
            )),
            _ => Err(VaultError::invalid(
                "ambiguous_policy_version",
                format!("`{hash}` matches several versions; give more of the hash"),
            )),
        }
    }

    /// The changes from version `a` to version `b`.
    pub fn diff_policy_versions(&self, a: &str, b: &str) -> VaultResult<Vec<PolicyChange>> {
        let (a, b) = (self.find_policy_version(a)?, self.find_policy_version(b)?);
        Ok(diff(&a.policy, &b.policy))
    }

    /// Publishes a version, in force from `effective_at` (default: now). Immutable: publishing
    /// the same content again changes nothing.
    pub async fn publish_policy(
        &self,
        caller: &Caller,
        source: PolicySource,
        effective_at: Option<OffsetDateTime>,
    ) -> VaultResult<Published> {
        if !caller.is_admin() {
            return Err(VaultError::admin_only());
        }
        self.record_version(&caller.actor, source, effective_at).await
    }

    pub(crate) async fn record_version(
        &self,
        actor: &Actor,
        source: PolicySource,
        effective_at: Option<OffsetDateTime>,
    ) -> VaultResult<Published> {
        let policy = Policy::parse(&source.register).map_err(|problems| {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            VaultError::invalid(
                "invalid_policy",
                format!("the policy has problems: {}", list.join("; ")),
            )
        })?;
        // Publication order must be total even when the clock stands still (tests, clock skew).
        let latest = self.versions_read().iter().map(|v| v.recorded_at).max();
        let clock_now = self.now();
        let now = match latest {
            Some(l) if clock_now <= l => l + time::Duration::microseconds(1),
            _ => clock_now,
        };
        let hash = source.hash();
        if let Some(existing) = self.versions_read().iter().find(|v| v.hash == hash) {
            return Ok(Published {
                version: existing.clone(),
                new: false,
                changes: Vec::new(),
            });
        }
        let effective_at = effective_at.unwrap_or(clock_now);
        let changes = match self
            .inner
            .versions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_empty()
        {
            true => Vec::new(),
            false => diff(&self.policy(), &policy),
        };
        let record = PolicyVersionRecord {
            hash: hash.clone(),
            policy_id: policy.id.clone(),
            version: policy.version.clone(),
            source: source.register.clone(),
            text: source.text.clone(),
            effective_at,
            recorded_at: now,
        };
        let entry = JournalDraft::new(now, actor, AdminEvent::PolicyActivated).detail(format!(
            "{}@{} sha256:{hash} effective:{}",
            policy.id,
            policy.version,
            ward_core::clock::to_micros(effective_at)
        ));
        match self
            .commit(Change::Policy(PolicyVersionChange::Record(record)), vec![entry])
            .await?
        {
            OpOutcome::Done | OpOutcome::AlreadyExists => {}
            other => return Err(VaultError::Internal(format!("recording a policy version: {other:?}"))),
        }
        let version = Arc::new(PolicyVersion {
            hash,
            policy: Arc::new(policy),
            source,
            effective_at,
            recorded_at: now,
        });
        let mut list = self
            .inner
            .versions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !list.iter().any(|v| v.hash == version.hash) {
            list.push(version.clone());
            sort(&mut list);
        }
        Ok(Published {
            version,
            new: true,
            changes,
        })
    }

    /// Re-reads the versions from the store (another process may have published one).
    pub async fn reload_policies(&self) -> VaultResult<()> {
        let mut list = self
            .store()
            .find_policy_versions()
            .await?
            .into_iter()
            .map(|r| parse_record(r).map(Arc::new))
            .collect::<VaultResult<Vec<_>>>()?;
        if list.is_empty() {
            return Ok(());
        }
        sort(&mut list);
        *self
            .inner
            .versions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = list;
        Ok(())
    }
}
