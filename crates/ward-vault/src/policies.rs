//! Policy versions: immutable once published, each with its register, its text and the time
//! it comes into force. The version in force is chosen by the clock at every operation, so a
//! version published for a future date takes over then, without a job.

use crate::error::{VaultError, VaultResult};
use crate::Vault;
use std::sync::Arc;
use time::OffsetDateTime;
use ward_core::journal::AdminEvent;
use ward_core::policy::{diff, PolicyChange};
use ward_core::ProblemCode;
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

impl PolicyVersion {
    /// What the operator has left to fill in, when anything: the register's `FILL IN` values
    /// (which `ward policy validate` lists with their lines) and the text's, counted.
    pub fn placeholder_warning(&self) -> Option<String> {
        let register = self
            .policy
            .warnings
            .iter()
            .filter(|w| w.message.contains("placeholder"))
            .count();
        let text = self.source.text.as_deref().map_or(0, |t| t.matches("FILL IN").count());
        if register + text == 0 {
            return None;
        }
        Some(format!(
            "the policy in force ({}@{}) still has `FILL IN` placeholders: {register} in its register \
             and {text} in its text; fill them in (`ward policy validate` lists the register's) and \
             publish the result with `ward policy publish`",
            self.policy.id, self.policy.version
        ))
    }
}

/// What publishing did.
#[derive(Debug, Clone)]
pub struct Published {
    pub version: Arc<PolicyVersion>,
    /// `false` when a version with the same content was already published.
    pub new: bool,
    /// When the version was scheduled to take effect before this call rescheduled it (its
    /// new time is `version.effective_at`); `None` when it was not rescheduled.
    pub rescheduled_from: Option<OffsetDateTime>,
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

/// The version in force at `at` among `list` (sorted): the latest whose `effective_at` has
/// come, or else the first; `None` for an empty list.
fn in_force_among(list: &[Arc<PolicyVersion>], at: OffsetDateTime) -> Option<Arc<PolicyVersion>> {
    list.iter()
        .rev()
        .find(|v| v.effective_at <= at)
        .or_else(|| list.first())
        .cloned()
}

/// What publishing content that is already a version (`existing`) does.
enum Republish {
    /// The same request again: nothing changes.
    Same(Published),
    /// The version is scheduled and not yet in force: it moves to `to`.
    Reschedule {
        existing: Arc<PolicyVersion>,
        to: OffsetDateTime,
    },
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Publishing content that is already a version (`existing`): the same request again
/// (no time, or the version's own time, while it is the version in force or scheduled for that
/// time) changes nothing; another time for a version not yet in force reschedules it (no time
/// means now); a version that has taken effect never moves (`policy_version_in_force`), and
/// a scheduled one never moves into the past (`policy_version_scheduled`).
fn republished(
    existing: Arc<PolicyVersion>,
    in_force: Option<&PolicyVersion>,
    effective_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> VaultResult<Republish> {
    let is_in_force = in_force.is_some_and(|v| v.hash == existing.hash);
    let same = match effective_at {
        Some(at) => at == existing.effective_at,
        None => is_in_force,
    };
    if same {
        return Ok(Republish::Same(Published {
            version: existing,
            new: false,
            rescheduled_from: None,
            changes: Vec::new(),
        }));
    }
    let short = existing.hash.get(..12).unwrap_or(&existing.hash);
    if existing.effective_at <= now {
        let standing = if is_in_force {
            "it is the version in force".to_owned()
        } else {
            let by = in_force.map_or_else(String::new, |v| format!(" by {}", v.hash.get(..12).unwrap_or(&v.hash)));
            format!("it has been superseded{by}")
        };
        return Err(VaultError::invalid(
            ProblemCode::PolicyVersionInForce,
            format!(
                "this content is version {short}, in force since {}; {standing}; its date was not \
                 changed. A version that has taken effect never moves: to bring it back or give it \
                 another date, publish it with a new `version` label",
                rfc3339(existing.effective_at)
            ),
        ));
    }
    let to = effective_at.unwrap_or(now);
    if to < now {
        return Err(VaultError::invalid(
            ProblemCode::PolicyVersionScheduled,
            format!(
                "this content is version {short}, scheduled to take effect at {}; it was not \
                 rescheduled to {}, a time already past (a version never takes effect retroactively); \
                 give a time from now on, or none for now",
                rfc3339(existing.effective_at),
                rfc3339(to)
            ),
        ));
    }
    Ok(Republish::Reschedule { existing, to })
}

/// The policies service, reached by [`Vault::policies`].
#[derive(Clone, Copy)]
pub struct Policies<'v>(pub(crate) &'v Vault);

impl Policies<'_> {
    fn versions_read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<PolicyVersion>>> {
        self.0
            .inner
            .versions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The version in force at `at`: the latest whose `effective_at` has come.
    pub(crate) fn in_force_at(&self, at: OffsetDateTime) -> Arc<PolicyVersion> {
        in_force_among(&self.versions_read(), at).expect("a vault always has at least one policy version")
    }

    /// The version in force now.
    pub fn in_force(&self) -> Arc<PolicyVersion> {
        self.in_force_at(self.0.now())
    }

    /// The policy in force now.
    pub fn current(&self) -> Arc<Policy> {
        self.in_force().policy.clone()
    }

    /// The content hash of the policy in force now.
    pub fn current_hash(&self) -> String {
        self.in_force().hash.clone()
    }

    /// Every version, by the time it takes effect.
    pub fn versions(&self) -> Vec<Arc<PolicyVersion>> {
        self.versions_read().clone()
    }

    /// A version by its hash (or a unique prefix of at least 8 characters).
    pub fn find(&self, hash: &str) -> VaultResult<Arc<PolicyVersion>> {
        let list = self.versions_read();
        let found: Vec<_> = list
            .iter()
            .filter(|v| hash.len() >= 8 && v.hash.starts_with(hash))
            .collect();
        match found.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(VaultError::NotFound(
                ProblemCode::PolicyVersionNotFound,
                format!("no policy version `{hash}`"),
            )),
            _ => Err(VaultError::invalid(
                ProblemCode::AmbiguousPolicyVersion,
                format!("`{hash}` matches several versions; give more of the hash"),
            )),
        }
    }

    /// The changes from version `a` to version `b`.
    pub fn diff(&self, a: &str, b: &str) -> VaultResult<Vec<PolicyChange>> {
        let (a, b) = (self.find(a)?, self.find(b)?);
        Ok(diff(&a.policy, &b.policy))
    }

    /// Publishes a version, in force from `effective_at` (default: now). A version's content
    /// is immutable: publishing the same content again changes nothing when it asks for what
    /// stands; asking for another effective time reschedules a version not yet in force
    /// (`rescheduled_from` says from when), and is refused for one that has taken effect
    /// (`policy_version_in_force`) or for a time already past (`policy_version_scheduled`). A policy with another `id` is refused
    /// (`policy_id_changed`).
    pub async fn publish(
        &self,
        caller: &Caller,
        source: PolicySource,
        effective_at: Option<OffsetDateTime>,
    ) -> VaultResult<Published> {
        self.0.op(caller, ward_core::authz::Operation::PolicyPublish)?;
        self.record(&caller.actor, source, effective_at).await
    }

    pub(crate) async fn record(
        &self,
        actor: &Actor,
        source: PolicySource,
        effective_at: Option<OffsetDateTime>,
    ) -> VaultResult<Published> {
        let policy = Policy::parse(&source.register).map_err(|problems| {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            VaultError::invalid(
                ProblemCode::InvalidPolicy,
                format!("the policy has problems: {}", list.join("; ")),
            )
        })?;
        // Versions other processes published since this vault last looked: the checks below
        // compare with every version recorded, not just the ones this process knows.
        self.reload().await?;
        // Publication order must be total even when the clock stands still (tests, clock skew).
        let hash = source.hash();
        let clock_now = self.0.now();
        let requested = effective_at;
        let (latest, existing, in_force) = {
            let list = self.versions_read();
            (
                list.iter().map(|v| v.recorded_at).max(),
                list.iter().find(|v| v.hash == hash).cloned(),
                in_force_among(&list, clock_now),
            )
        };
        let now = match latest {
            Some(l) if clock_now <= l => l + time::Duration::microseconds(1),
            _ => clock_now,
        };
        if let Some(existing) = existing {
            let again = republished(existing, in_force.as_deref(), effective_at, clock_now)?;
            return self.apply_republish(actor, again, now).await;
        }
        if let Some(current) = &in_force {
            if current.policy.id != policy.id {
                return Err(VaultError::invalid(
                    ProblemCode::PolicyIdChanged,
                    format!(
                        "the policy's id is `{}`, but the version in force is policy `{}`: a version \
                         changes a policy, it does not replace it with another (keep `id = \"{}\"` \
                         under [policy]; another operator's policy needs its own data directory)",
                        policy.id, current.policy.id, current.policy.id
                    ),
                ));
            }
        }
        let effective_at = effective_at.unwrap_or(clock_now);
        let changes = match &in_force {
            None => Vec::new(),
            Some(current) => diff(&current.policy, &policy),
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
            .0
            .commit(Change::Policy(PolicyVersionChange::Record(record)), vec![entry])
            .await?
        {
            OpOutcome::Done => {}
            OpOutcome::AlreadyExists => {
                // Another process recorded the same content meanwhile: answer as if it had been
                // seen above, with the version as recorded (its time, not this request's).
                self.reload().await?;
                let again = {
                    let list = self.versions_read();
                    let existing = list.iter().find(|v| v.hash == hash).cloned().ok_or_else(|| {
                        VaultError::Internal(format!("policy version {hash} exists but was not read back"))
                    })?;
                    let in_force = in_force_among(&list, clock_now);
                    republished(existing, in_force.as_deref(), requested, clock_now)?
                };
                return self.apply_republish(actor, again, now).await;
            }
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
            .0
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
            rescheduled_from: None,
            changes,
        })
    }

    /// Does what [`republished`] decided: nothing, or the rescheduling, journaled.
    async fn apply_republish(&self, actor: &Actor, again: Republish, now: OffsetDateTime) -> VaultResult<Published> {
        let (existing, to) = match again {
            Republish::Same(p) => return Ok(p),
            Republish::Reschedule { existing, to } => (existing, to),
        };
        let from = existing.effective_at;
        let entry = JournalDraft::new(now, actor, AdminEvent::PolicyRescheduled).detail(format!(
            "{}@{} sha256:{} effective:{} was:{}",
            existing.policy.id,
            existing.policy.version,
            existing.hash,
            ward_core::clock::to_micros(to),
            ward_core::clock::to_micros(from)
        ));
        let change = PolicyVersionChange::Reschedule {
            hash: existing.hash.clone(),
            from,
            to,
        };
        match self.0.commit(Change::Policy(change), vec![entry]).await? {
            OpOutcome::Done => {}
            OpOutcome::Conflict => {
                self.reload().await?;
                return Err(VaultError::Conflict(format!(
                    "version {} was rescheduled by another request meanwhile; read it again",
                    existing.hash.get(..12).unwrap_or(&existing.hash)
                )));
            }
            other => {
                return Err(VaultError::Internal(format!(
                    "rescheduling a policy version: {other:?}"
                )))
            }
        }
        let version = self.set_effective_at(&existing.hash, to).unwrap_or_else(|| {
            Arc::new(PolicyVersion {
                effective_at: to,
                ..(*existing).clone()
            })
        });
        Ok(Published {
            version,
            new: false,
            rescheduled_from: Some(from),
            changes: Vec::new(),
        })
    }

    /// Gives the known version `hash` another effective time, keeping the list sorted.
    fn set_effective_at(&self, hash: &str, to: OffsetDateTime) -> Option<Arc<PolicyVersion>> {
        let mut list = self
            .0
            .inner
            .versions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = list.iter_mut().find(|v| v.hash == hash)?;
        let moved = Arc::new(PolicyVersion {
            effective_at: to,
            ..(**slot).clone()
        });
        *slot = moved.clone();
        sort(&mut list);
        Some(moved)
    }

    /// Re-reads the versions from the store, where another process may have published one;
    /// returns the versions that are new to this vault. A version's content never changes and
    /// a version is never removed, so only new ones are parsed and added; one rescheduled
    /// elsewhere (before it took effect) takes its new time here.
    pub async fn reload(&self) -> VaultResult<Vec<Arc<PolicyVersion>>> {
        let records = self.0.store().find_policy_versions().await?;
        let moved: Vec<(String, OffsetDateTime)> = {
            let list = self.versions_read();
            records
                .iter()
                .filter(|r| {
                    list.iter()
                        .any(|v| v.hash == r.hash && v.effective_at != r.effective_at)
                })
                .map(|r| (r.hash.clone(), r.effective_at))
                .collect()
        };
        for (hash, to) in moved {
            self.set_effective_at(&hash, to);
        }
        let fresh: Vec<PolicyVersionRecord> = {
            let list = self.versions_read();
            records
                .into_iter()
                .filter(|r| !list.iter().any(|v| v.hash == r.hash))
                .collect()
        };
        let parsed = fresh
            .into_iter()
            .map(|r| parse_record(r).map(Arc::new))
            .collect::<VaultResult<Vec<_>>>()?;
        let mut added = Vec::new();
        let mut list = self
            .0
            .inner
            .versions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for v in parsed {
            if !list.iter().any(|l| l.hash == v.hash) {
                list.push(v.clone());
                added.push(v);
            }
        }
        if !added.is_empty() {
            sort(&mut list);
        }
        Ok(added)
    }
}
