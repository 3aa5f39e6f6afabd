//! The kernel: what every service shares (store, keys, clock, group committer, the policy
//! versions) and the accessors that reach the services. New capabilities add a service; none
//! grows the kernel.

use crate::apikeys::{ApiKeys, CachedKey};
use crate::bases::Bases;
use crate::committer::Committer;
use crate::consents::Consents;
use crate::contact::Contact;
use crate::context::Op;
use crate::deadlines::Deadlines;
use crate::error::{VaultError, VaultResult};
use crate::idempotency::Idempotency;
use crate::journal::Journal;
use crate::keys::{KeyMaterial, Keys};
use crate::lifecycle::Lifecycle;
use crate::policies::{Policies, PolicySource, PolicyVersion};
use crate::receipts::Receipts;
use crate::registers::Registers;
use crate::subjects::Subjects;
use crate::visitors::Visitors;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use time::{Duration, OffsetDateTime};
use ward_core::authz::{self, Operation};
use ward_core::calendar::Calendars;
use ward_core::deadline::Zone;
use ward_core::{Actor, Caller, Clock, JournalDraft, Policy};
use ward_crypto::KeyRing;
use ward_store::{Change, OpOutcome, Store, WriteOp};

/// Tunables.
#[derive(Debug, Clone)]
pub struct VaultConfig {
    /// Most writes (and read journal entries) committed in one transaction.
    pub max_batch: usize,
    /// How long a verified API key is trusted without asking the store again. Revocation in
    /// this process takes effect at once; in another process after at most this long.
    pub api_key_cache_ttl: Duration,
    /// How often Ward signs a journal checkpoint; verification judges unsigned entries by it.
    pub checkpoint_interval: Duration,
    /// The production calendars deadlines are counted on (shipped years and those loaded).
    pub calendars: Arc<Calendars>,
    /// The operator's time zone: it decides the day a request was received.
    pub zone: Zone,
    /// The most subjects one page of the register of subjects examines.
    pub register_subjects_per_page: usize,
    /// The most journal positions one page of the journal listing reads.
    pub register_journal_positions_per_page: i64,
    /// How long a one-time verification code is valid.
    pub verification_code_ttl: Duration,
    /// Where subjects reach Ward's public routes (e.g. `https://privacy.example.ru`): a
    /// download link mailed to a subject is this followed by `/v1/downloads/<token>`. Empty:
    /// the path alone.
    pub public_url: String,
}

impl Default for VaultConfig {
    fn default() -> Self {
        Self {
            max_batch: 512,
            api_key_cache_ttl: Duration::seconds(5),
            checkpoint_interval: Duration::seconds(60),
            calendars: Arc::new(Calendars::shipped()),
            zone: Zone::default(),
            register_subjects_per_page: 20_000,
            register_journal_positions_per_page: 200_000,
            verification_code_ttl: ward_core::verification::DEFAULT_CODE_TTL,
            public_url: String::new(),
        }
    }
}

/// The vault. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) keys: KeyMaterial,
    /// Published policy versions, by the time they take effect.
    pub(crate) versions: RwLock<Vec<Arc<PolicyVersion>>>,
    clock: Arc<dyn Clock>,
    committer: Committer,
    pub(crate) config: VaultConfig,
    pub(crate) key_cache: RwLock<HashMap<String, CachedKey>>,
    /// The key ring in force; replaced when key files change (see [`Keys::reload`]).
    pub(crate) keyring: RwLock<Arc<KeyRing>>,
    pub(crate) key_reloader: OnceLock<KeyReloader>,
}

/// Loads the current key ring (e.g. from key files), for [`Keys::reload`].
pub type KeyReloader = Box<dyn Fn() -> Result<KeyRing, String> + Send + Sync>;

/// Hex SHA-256 of a policy's register alone (a version without text).
pub fn policy_hash(source: &str) -> String {
    PolicySource::from(source).hash()
}

impl Vault {
    /// Opens the vault on `store` and starts the group committer. On a store with no policy
    /// version yet, `policy` (parsed from `policy_source`) is recorded as the first version,
    /// in force from now (`ward init` seeds it from the data directory's file); on any other
    /// store it is not published: the versions recorded there are the truth. Needs a Tokio
    /// runtime.
    pub async fn open(
        store: Arc<dyn Store>,
        keys: KeyMaterial,
        policy: Policy,
        policy_source: impl Into<PolicySource>,
        clock: Arc<dyn Clock>,
        config: VaultConfig,
    ) -> VaultResult<Vault> {
        let committer = Committer::start(store.clone(), config.max_batch);
        let keyring = RwLock::new(Arc::new(keys.keyring.clone()));
        let vault = Vault {
            inner: Arc::new(Inner {
                store,
                keys,
                keyring,
                key_reloader: OnceLock::new(),
                versions: RwLock::new(Vec::new()),
                clock,
                committer,
                config,
                key_cache: RwLock::new(HashMap::new()),
            }),
        };
        // The versions published so far. The policy given seeds the first version of a new
        // store, in force from now; on a store that has versions it is only compared (by the
        // caller, `Policies::in_force`): nothing but `Policies::publish` publishes.
        vault.policies().reload().await?;
        let source = policy_source.into();
        drop(policy);
        if vault.policies().versions().is_empty() {
            vault.policies().record(&Actor::System, source, None).await?;
        }
        Ok(vault)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Readiness: whether the store would take a write now (nothing is written), answered
    /// within `within`.
    pub async fn check_ready(&self, within: std::time::Duration) -> VaultResult<()> {
        match tokio::time::timeout(within, self.inner.store.check_writable()).await {
            Ok(ready) => Ok(ready?),
            Err(_) => Err(VaultError::Unavailable(format!(
                "the store did not answer within {within:?}"
            ))),
        }
    }

    /// Registration, purpose-bound reads and lookups, rectification, erasure.
    pub fn subjects(&self) -> Subjects<'_> {
        Subjects(self)
    }

    /// Consent given and withdrawn after collection, and the overview of where it stands.
    pub fn consents(&self) -> Consents<'_> {
        Consents(self)
    }

    /// Legal bases other than consent, established per subject.
    pub fn bases(&self) -> Bases<'_> {
        Bases(self)
    }

    /// Consent receipts, consent document records and the pre-filled written consent.
    pub fn receipts(&self) -> Receipts<'_> {
        Receipts(self)
    }

    /// Whether the operator may contact a subject.
    pub fn contact(&self) -> Contact<'_> {
        Contact(self)
    }

    /// Policy notices and acceptances, and death.
    pub fn lifecycle(&self) -> Lifecycle<'_> {
        Lifecycle(self)
    }

    /// Policy versions: the one in force, publication, history.
    pub fn policies(&self) -> Policies<'_> {
        Policies(self)
    }

    /// Cookie consent of website visitors.
    pub fn visitors(&self) -> Visitors<'_> {
        Visitors(self)
    }

    /// API keys: authentication, creation, revocation.
    pub fn api_keys(&self) -> ApiKeys<'_> {
        ApiKeys(self)
    }

    /// Deadlines counted on the production calendars in the operator's time zone.
    pub fn deadlines(&self) -> Deadlines<'_> {
        Deadlines(self)
    }

    /// Access reports, copies of the data and their single-use download links.
    pub fn reports(&self) -> crate::report::Reports<'_> {
        crate::report::Reports(self)
    }

    /// Blocking a subject's data: placing, lifting and listing blocks.
    pub fn blocks(&self) -> crate::blocks::Blocks<'_> {
        crate::blocks::Blocks(self)
    }

    /// Destruction acts (RKN Order No. 179): listing and reading.
    pub fn acts(&self) -> crate::acts::Acts<'_> {
        crate::acts::Acts(self)
    }

    /// The destruction job's work: what fell due, with acts; expired acts purged.
    pub fn due(&self) -> crate::due::Due<'_> {
        crate::due::Due(self)
    }

    /// Journal verification and checkpoints.
    pub fn journal(&self) -> Journal<'_> {
        Journal(self)
    }

    /// The officer's registers: subjects with their standing, journal entries.
    pub fn registers(&self) -> Registers<'_> {
        Registers(self)
    }

    /// Data-subject requests: intake, the register, the workflow's steps.
    pub fn requests(&self) -> crate::requests::Requests<'_> {
        crate::requests::Requests(self)
    }

    /// Messages to subjects: queued with their cause, delivered by the delivery job.
    pub fn outbox(&self) -> crate::outbox::Outbox<'_> {
        crate::outbox::Outbox(self)
    }

    /// Identity verification of data-subject requests: vouched, one-time code, document.
    pub fn verifications(&self) -> crate::verifications::Verifications<'_> {
        crate::verifications::Verifications(self)
    }

    /// The secrets, the key ring in force, and key rotation.
    pub fn idempotency(&self) -> Idempotency<'_> {
        Idempotency(self)
    }

    pub fn keys(&self) -> Keys<'_> {
        Keys(self)
    }

    /// Writes what is queued, signs a final checkpoint, and stops the writer. Operations
    /// after this fail with `storage_unavailable`.
    pub async fn shutdown(&self) -> VaultResult<()> {
        self.inner.committer.shutdown().await;
        self.journal().checkpoint().await?;
        // Nothing is written after this: the WAL's older copies of destroyed data go now. A
        // scrub that readers of other processes hold up runs when they finish (in the process
        // that closes the database last, SQLite's own last checkpoint); it does not fail the
        // shutdown.
        if let Err(e) = self.store().scrub().await {
            tracing::warn!(error = %e, "the WAL scrub at shutdown did not finish");
        }
        Ok(())
    }

    /// The clock, read once per operation (through [`Vault::op`]) or for work that has none.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// Opens a call's operation context: `caller`, now, and the policy version in force now,
    /// once the authorization table allows `caller` the `operation` (else `forbidden`). Every
    /// vault entry that acts for a caller starts here.
    pub(crate) fn op<'c>(&self, caller: &'c Caller, operation: Operation) -> VaultResult<Op<'c>> {
        self.authorize(caller, operation)?;
        let now = self.now();
        Ok(Op::new(caller, now, self.policies().in_force_at(now)))
    }

    /// Asks the authorization table (`ward_core::authz`) whether `caller` may call
    /// `operation`. The vault's entries ask it through [`Vault::op`]; the API asks it directly
    /// only for the policy reads, whose accessors Ward also uses without a caller.
    pub fn authorize(&self, caller: &Caller, operation: Operation) -> VaultResult<()> {
        authz::authorize(caller, operation)
            .map(drop)
            .map_err(|refused| VaultError::Forbidden(refused.to_string()))
    }

    /// Writes one change with its journal entries, through the group committer. In a request
    /// run under an idempotency key, the request's first change claims the key in the same
    /// transaction (`idempotency.rs`).
    pub(crate) async fn commit(&self, change: Change, journal: Vec<JournalDraft>) -> VaultResult<OpOutcome> {
        if !matches!(change, Change::JournalOnly) {
            if let Some(scope) = crate::idempotency::current() {
                return self.commit_claimed(&scope, change, journal).await;
            }
        }
        self.submit(change, journal).await
    }

    /// Writes one change with its journal entries, through the group committer, claiming
    /// nothing.
    pub(crate) async fn submit(&self, change: Change, journal: Vec<JournalDraft>) -> VaultResult<OpOutcome> {
        Ok(self.inner.committer.submit(WriteOp { change, journal }).await?)
    }

    /// A change to one subject, whose only success is `Done`: a subject that is gone or
    /// erased meanwhile is refused as every subject write refuses it (`what` names the write
    /// for an unexpected outcome).
    pub(crate) async fn commit_to_subject(
        &self,
        change: Change,
        journal: Vec<JournalDraft>,
        what: &str,
    ) -> VaultResult<()> {
        match self.commit(change, journal).await? {
            OpOutcome::Done => Ok(()),
            other => Err(subject_outcome(other, what)),
        }
    }
}

/// The error for a subject write's outcome other than `Done`.
pub(crate) fn subject_outcome(outcome: OpOutcome, what: &str) -> VaultError {
    match outcome {
        OpOutcome::Erased => ward_core::AccessRefusal::SubjectErased.into(),
        OpOutcome::NotFound => VaultError::SubjectNotFound,
        other => VaultError::Internal(format!("{what}: {other:?}")),
    }
}
