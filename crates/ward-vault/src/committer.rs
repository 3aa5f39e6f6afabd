//! Group commit. Every change and every read's journal entry goes through one queue; a single
//! task takes whatever has queued up (up to `max_batch`), writes it in ONE transaction, and
//! answers each caller once that transaction is durable. Under load, one fsync serves many
//! requests; with one caller, the latency is one transaction.
//!
//! It records each batch's size and time and the queue's depth (see [`crate::metrics`]).

use crate::metrics::{COMMIT_BATCH_FAILURES, COMMIT_BATCH_SECONDS, COMMIT_BATCH_SIZE, COMMIT_QUEUE_DEPTH};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;
use ward_store::{OpOutcome, Store, StoreError, StoreResult, WriteOp};

struct Job {
    op: WriteOp,
    done: oneshot::Sender<StoreResult<OpOutcome>>,
}

pub(crate) struct Committer {
    tx: mpsc::Sender<Job>,
    stop: Arc<Notify>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

const SHUT: &str = "Ward is shutting down";

impl Committer {
    pub(crate) fn start(store: Arc<dyn Store>, max_batch: usize) -> Self {
        let (tx, rx) = mpsc::channel(max_batch.max(1) * 4);
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(run(store, rx, max_batch.max(1), stop.clone()));
        Self {
            tx,
            stop,
            task: std::sync::Mutex::new(Some(task)),
        }
    }

    /// Queues `op` and waits until it is durable (or failed as a whole).
    pub(crate) async fn submit(&self, op: WriteOp) -> StoreResult<OpOutcome> {
        let (done, rx) = oneshot::channel();
        let permit = self
            .tx
            .reserve()
            .await
            .map_err(|_| StoreError::Unavailable(SHUT.into()))?;
        // Counted in before it can be taken (no await in between, so no cancellation either):
        // the batch that takes it counts it out after, and the gauge never goes below zero.
        metrics::gauge!(COMMIT_QUEUE_DEPTH).increment(1.0);
        permit.send(Job { op, done });
        rx.await.map_err(|_| StoreError::Unavailable(SHUT.into()))?
    }

    /// Stops taking new work, writes what is queued, and waits for the writer to finish.
    pub(crate) async fn shutdown(&self) {
        self.stop.notify_one();
        let task = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(t) = task {
            if let Err(e) = t.await {
                tracing::error!(error = %e, "journal writer task failed");
            }
        }
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>, max_batch: usize, stop: Arc<Notify>) {
    let mut jobs = Vec::with_capacity(max_batch);
    loop {
        tokio::select! {
            biased;
            n = rx.recv_many(&mut jobs, max_batch) => {
                if n == 0 {
                    return;
                }
                write_batch(store.as_ref(), &mut jobs).await;
            }
            () = stop.notified() => {
                rx.close();
                while rx.recv_many(&mut jobs, max_batch).await > 0 {
                    write_batch(store.as_ref(), &mut jobs).await;
                }
                return;
            }
        }
    }
}

async fn write_batch(store: &dyn Store, jobs: &mut Vec<Job>) {
    let (ops, waiters): (Vec<WriteOp>, Vec<_>) = jobs.drain(..).map(|j| (j.op, j.done)).unzip();
    let n = ops.len();
    #[allow(clippy::cast_precision_loss)] // a batch holds at most `max_batch` operations
    let size = n as f64;
    metrics::gauge!(COMMIT_QUEUE_DEPTH).decrement(size);
    metrics::histogram!(COMMIT_BATCH_SIZE).record(size);
    let started = Instant::now();
    let written = store.write(ops).await;
    metrics::histogram!(COMMIT_BATCH_SECONDS).record(started.elapsed().as_secs_f64());
    if !matches!(&written, Ok(outcomes) if outcomes.len() == n) {
        metrics::counter!(COMMIT_BATCH_FAILURES).increment(1);
    }
    match written {
        Ok(outcomes) if outcomes.len() == n => {
            for (w, o) in waiters.into_iter().zip(outcomes) {
                let _ = w.send(Ok(o));
            }
        }
        Ok(outcomes) => {
            let e = StoreError::Corrupt(format!("store returned {} outcomes for {n} ops", outcomes.len()));
            tracing::error!(error = %e, "journal write");
            for w in waiters {
                let _ = w.send(Err(e.clone()));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, batch = n, "write batch failed; nothing in it was written");
            for w in waiters {
                let _ = w.send(Err(e.clone()));
            }
        }
    }
}
