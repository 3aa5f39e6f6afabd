//! Idempotency keys: a creating request sent again with the same `Idempotency-Key` is answered
//! with the first request's answer, and nothing is done twice.
//!
//! The API asks [`Idempotency::check`] first: the same caller's key with a live record is
//! either the same request (its stored answer is replayed, opened through the gate and
//! journaled), another request (`idempotency_key_reused`), or one not answered yet
//! (`idempotency_in_progress`). Otherwise the request runs inside [`Idempotency::run`]: the
//! first change it commits carries the claim of the key ([`ward_store::Claimed`]), so the
//! record is written in the same transaction as that change, and a concurrent duplicate
//! (another process's, too) finds it there and writes nothing (`idempotency_in_progress`).
//! Then [`Idempotency::complete`] seals the answer into the record. A request that changed
//! nothing claims nothing and stores no answer: sent again, it runs again.
//!
//! The key is stored as a keyed hash of the caller and the key; the request as a hash of its
//! method, path and body; the answer sealed under a data key of its own, wrapped under the
//! active KEK. Records live [`TTL`]; [`Idempotency::prune`] removes expired ones. Key
//! rotation does not re-wrap answers: one whose KEK was destroyed within its 24 hours is
//! answered `idempotency_in_progress`, never done again.

use crate::error::{VaultError, VaultResult};
use crate::Vault;
use std::sync::Arc;
use time::Duration;
use tokio::sync::Mutex;
use ward_core::journal::AdminEvent;
use ward_core::{Caller, JournalDraft, ProblemCode};
use ward_crypto::{DataKey, Hash32};
use ward_store::{Change, Claimed, IdempotencyChange, IdempotencyClaim, OpOutcome, SealedAnswer};

/// How long a record answers for its key.
pub const TTL: Duration = Duration::hours(24);

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// Whether `key` is a valid `Idempotency-Key`: 1 to [`MAX_KEY_LEN`] visible ASCII characters
/// (or spaces).
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// The hash of a request: its method, path (with query) and body.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> Hash32 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"ward.request.v1\0");
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    h.finalize().into()
}

/// A stored answer, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// What the record of a key says about a request.
#[derive(Debug)]
pub enum Checked {
    /// No live record: run the request (in [`Idempotency::run`]).
    Run(Ticket),
    /// The same request was answered: this is its answer.
    Replay(Answer),
}

/// A request to run under its key: what [`Idempotency::run`] claims.
#[derive(Debug, Clone)]
pub struct Ticket {
    key: Hash32,
    fingerprint: Hash32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing committed yet.
    Open,
    /// A change committed with the claim.
    Claimed,
    /// The claim found the key held: the request must not change anything.
    Refused,
}

/// The running request's claim, shared by the tasks it spawns (see [`within`]).
#[derive(Debug)]
pub struct Scope {
    claim: IdempotencyClaim,
    /// Held while a change carrying the claim is committed, so that the request's other
    /// changes wait for its outcome.
    state: Mutex<State>,
}

tokio::task_local! {
    static SCOPE: Arc<Scope>;
}

/// The claim of the request running on this task, if it runs under a key.
pub(crate) fn current() -> Option<Arc<Scope>> {
    SCOPE.try_with(Clone::clone).ok()
}

/// Runs `f` under `scope` (a task spawned by a request keeps its request's claim).
pub(crate) async fn within<F: std::future::Future>(scope: Option<Arc<Scope>>, f: F) -> F::Output {
    match scope {
        Some(s) => SCOPE.scope(s, f).await,
        None => f.await,
    }
}

fn in_progress(message: &str) -> VaultError {
    VaultError::invalid(ProblemCode::IdempotencyInProgress, message)
}

impl Vault {
    /// Commits `change`, claiming the running request's key with it if the request has not
    /// committed a change yet (see the module's documentation).
    pub(crate) async fn commit_claimed(
        &self,
        scope: &Scope,
        change: Change,
        journal: Vec<JournalDraft>,
    ) -> VaultResult<OpOutcome> {
        let mut state = scope.state.lock().await;
        match *state {
            State::Claimed => {
                drop(state);
                self.submit(change, journal).await
            }
            State::Refused => Err(in_progress(
                "another request with this idempotency key did this first; nothing was changed",
            )),
            State::Open => {
                let claimed = Change::Claimed(Box::new(Claimed {
                    claim: scope.claim.clone(),
                    change,
                }));
                let outcome = self.submit(claimed, journal).await?;
                match outcome {
                    OpOutcome::Done => *state = State::Claimed,
                    OpOutcome::KeyInUse => {
                        *state = State::Refused;
                        return Err(in_progress(
                            "a request with this idempotency key is in progress (or was done and its answer \
                             is being recorded); nothing was changed: send it again in a moment",
                        ));
                    }
                    _ => {}
                }
                Ok(outcome)
            }
        }
    }
}

/// The idempotency service, reached by [`Vault::idempotency`].
#[derive(Clone, Copy)]
pub struct Idempotency<'v>(pub(crate) &'v Vault);

impl Idempotency<'_> {
    /// The stored form of `caller`'s `key`.
    pub fn key_hash(&self, caller: &Caller, key: &str) -> Hash32 {
        self.0
            .keys()
            .material()
            .blind_index
            .idempotency_key(&caller.actor.to_string(), key)
    }

    /// What the record of `key` (from [`Idempotency::key_hash`]) says about the request
    /// `fingerprint`: run it, or its answer, or `idempotency_key_reused` (another request used
    /// the key) or `idempotency_in_progress` (not answered yet).
    pub async fn check(&self, caller: &Caller, key: Hash32, fingerprint: Hash32) -> VaultResult<Checked> {
        let now = self.0.now();
        let record = self.0.store().find_idempotency(&key).await?;
        let Some(record) = record.filter(|r| r.live(now)) else {
            return Ok(Checked::Run(Ticket { key, fingerprint }));
        };
        if record.claim.fingerprint != fingerprint {
            return Err(VaultError::invalid(
                ProblemCode::IdempotencyKeyReused,
                "this idempotency key was used for another request (another operation, path or body) \
                 within the last 24 hours; use a new key for a new request",
            ));
        }
        let Some(sealed) = record.answer else {
            return Err(in_progress(
                "the first request with this idempotency key has not been answered yet (it is in progress, \
                 or it was done and the server stopped before recording its answer): nothing was done again",
            ));
        };
        let answer = crate::gate::open_answer(self.0, &key, &sealed).map_err(|e| {
            // Its KEK was destroyed at the end of its epoch (answers are not re-wrapped).
            tracing::warn!(error = %e, "a stored idempotent answer could not be opened");
            in_progress(
                "the first request with this idempotency key was done, but its stored answer can no \
                 longer be opened (the key it was sealed under has been destroyed): nothing was done \
                 again; read the result instead",
            )
        })?;
        let entry = JournalDraft::new(now, &caller.actor, AdminEvent::RequestReplayed)
            .detail(format!("status:{}", answer.status));
        self.0.submit(Change::JournalOnly, vec![entry]).await?;
        Ok(Checked::Replay(answer))
    }

    /// Runs the request `f` under `ticket`'s key; returns its output and whether it committed
    /// a change under the key (then [`Idempotency::complete`] must record its answer).
    pub async fn run<F: std::future::Future>(&self, ticket: &Ticket, f: F) -> (F::Output, bool) {
        let now = self.0.now();
        let scope = Arc::new(Scope {
            claim: IdempotencyClaim {
                key: ticket.key,
                fingerprint: ticket.fingerprint,
                created_at: now,
                expires_at: now + TTL,
            },
            state: Mutex::new(State::Open),
        });
        let out = SCOPE.scope(scope.clone(), f).await;
        let claimed = *scope.state.lock().await == State::Claimed;
        (out, claimed)
    }

    /// Records the answer of the request that claimed `ticket`'s key, sealed.
    pub async fn complete(&self, ticket: &Ticket, answer: &Answer) -> VaultResult<()> {
        let dek = DataKey::generate();
        let (kek_id, wrapped_key) = self.0.keys().ring().wrap(&ticket.key, &dek);
        let sealed = SealedAnswer {
            status: answer.status,
            kek_id,
            wrapped_key,
            body: dek.seal(&crate::sealed::answer_aad(&ticket.key, answer.status), &answer.body),
        };
        let change = IdempotencyChange::Complete {
            key: ticket.key,
            answer: sealed,
        };
        match self.0.submit(Change::Idempotency(change), Vec::new()).await? {
            OpOutcome::Done => Ok(()),
            other => Err(VaultError::Internal(format!(
                "recording an idempotent answer: {other:?}"
            ))),
        }
    }

    /// Removes the records that expired by now (the prune job).
    pub async fn prune(&self) -> VaultResult<()> {
        let before = self.0.now();
        self.0
            .submit(Change::Idempotency(IdempotencyChange::Prune { before }), Vec::new())
            .await?;
        Ok(())
    }
}
