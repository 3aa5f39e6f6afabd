//! The delivery job: sends the outbox's due messages over SMTP (lettre, tokio, rustls; the
//! connections with `TCP_NODELAY`, pooled: `smtp.rs`).
//!
//! Each run claims batches of due messages (`Outbox::claim`: opened through the gate, the
//! openings journaled, reason `delivery`), sends up to `concurrency` at once over pooled
//! connections, and records each one sent, or failed with a retry after a backoff, or dead
//! (after `max_attempts`, or at once on a permanent `5xx` refusal). It runs in one process at a
//! time under a lease; the claims also keep two processes from taking the same message.
//!
//! At least once: a message is marked sent only after the server accepted it. A process killed
//! mid-delivery leaves its claimed messages `sending`; once the claim expires they are sent
//! again, with the same `Message-ID: <id@domain>`, so duplicates are bounded to the messages in
//! flight and recognisable. Logs name message ids and SMTP status codes only: never an
//! address, a subject line or the server's text (which may quote the address).

pub mod config;
mod smtp;

use crate::delivery::config::DeliveryConfig;
use anyhow::Result;
use async_trait::async_trait;
use futures::StreamExt;
use lettre::message::header::ContentType;
use lettre::Message;
use smtp::Mailer;
use time::OffsetDateTime;
use ward_jobs::{Job, JobError, Schedule, Scope};
use ward_vault::{Claimed, DeliveryFailure, Vault};

/// How long one run keeps claiming new batches (real time): a large backlog is drained over
/// several runs, so the other jobs of the process get their turns.
const RUN_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub sent: usize,
    pub failed: usize,
    pub dead: usize,
}

/// The job.
pub struct Delivery {
    vault: Vault,
    mailer: Mailer,
    cfg: DeliveryConfig,
    /// This process, as the claims name it.
    worker: String,
}

impl Delivery {
    pub fn new(vault: &Vault, cfg: DeliveryConfig, worker: String) -> Result<Self> {
        Ok(Self {
            vault: vault.clone(),
            mailer: Mailer::new(&cfg)?,
            cfg,
            worker,
        })
    }

    /// The `Message-ID` of message `id`: the same at every attempt.
    pub fn message_id(&self, id: ward_core::MessageId) -> String {
        format!("<{id}@{}>", self.cfg.domain)
    }

    /// Claims and sends until nothing is due (or the run's budget is spent).
    pub async fn drain(&self) -> Result<Tally> {
        let started = std::time::Instant::now();
        let mut tally = Tally::default();
        loop {
            let claimed = self
                .vault
                .outbox()
                .claim(&self.worker, self.cfg.claim, self.cfg.batch)
                .await?;
            if claimed.is_empty() {
                return Ok(tally);
            }
            let mut sends = Vec::with_capacity(claimed.len());
            for m in &claimed {
                sends.push(self.deliver(m));
            }
            let outcomes: Vec<Result<Outcome>> = futures::stream::iter(sends)
                .buffer_unordered(self.cfg.concurrency)
                .collect()
                .await;
            for o in outcomes {
                match o? {
                    Outcome::Sent => tally.sent += 1,
                    Outcome::Failed => tally.failed += 1,
                    Outcome::Dead => tally.dead += 1,
                }
            }
            if started.elapsed() >= RUN_BUDGET {
                return Ok(tally);
            }
        }
    }

    async fn deliver(&self, m: &Claimed) -> Result<Outcome> {
        let outbox = self.vault.outbox();
        let failure = match self.send(m).await {
            Ok(()) => {
                outbox.sent(m).await?;
                return Ok(Outcome::Sent);
            }
            Err(f) => f,
        };
        let dead = outbox.failed(m, failure, &self.cfg.retry).await?;
        Ok(if dead { Outcome::Dead } else { Outcome::Failed })
    }

    async fn send(&self, m: &Claimed) -> Result<(), DeliveryFailure> {
        let e = &m.envelope;
        let built = (|| {
            Message::builder()
                .from(self.cfg.from.parse().ok()?)
                .to(e.to.parse().ok()?)
                .subject(e.subject.clone())
                .message_id(Some(self.message_id(m.id)))
                .header(ContentType::TEXT_PLAIN)
                .body(e.body.clone())
                .ok()
        })();
        let Some(message) = built else {
            tracing::warn!(message = %m.id, "the message could not be built (an invalid address?): dead");
            return Err(DeliveryFailure::Permanent);
        };
        match self.mailer.send(message.envelope(), &message.formatted()).await {
            Ok(()) => Ok(()),
            Err(err) => {
                let permanent = err.is_permanent();
                tracing::warn!(
                    message = %m.id,
                    attempt = m.attempt,
                    status = err.status().unwrap_or_default(),
                    permanent,
                    transient = err.is_transient(),
                    "delivery attempt failed"
                );
                Err(if permanent {
                    DeliveryFailure::Permanent
                } else {
                    DeliveryFailure::Transient
                })
            }
        }
    }
}

enum Outcome {
    Sent,
    Failed,
    Dead,
}

#[async_trait]
impl Job for Delivery {
    fn name(&self) -> &str {
        "outbox-delivery"
    }

    fn schedule(&self) -> Schedule {
        Schedule::Every(time::Duration::seconds(
            i64::try_from(self.cfg.interval_secs).unwrap_or(5),
        ))
    }

    /// The lease lasts as long as a claim (and two intervals at least): a process killed
    /// mid-delivery holds up delivery no longer than its claims hold up its messages.
    fn scope(&self) -> Scope {
        let interval = i64::try_from(self.cfg.interval_secs).unwrap_or(5);
        Scope::OneProcess {
            lease: self.cfg.claim.max(time::Duration::seconds(2 * interval)),
        }
    }

    async fn run(&self, _now: OffsetDateTime) -> Result<String, JobError> {
        match self.drain().await {
            Ok(t) if t == Tally::default() => Ok(String::new()),
            Ok(t) => Ok(format!("sent {}, failed {}, dead {}", t.sent, t.failed, t.dead)),
            Err(e) => Err(JobError::msg(format!("outbox delivery: {e:#}"))),
        }
    }
}

#[cfg(test)]
mod tests;
