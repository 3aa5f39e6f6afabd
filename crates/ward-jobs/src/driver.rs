//! The production driver: a task that wakes when the next job is due (and at least every
//! `poll`, so that a wall clock that jumps is noticed), calls [`Runner::run_due`], and stops
//! when asked, after the turn in progress, releasing the runner's leases.

use crate::Runner;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use ward_core::Clock;

/// The shortest wait between two looks, so that a job that overran its period cannot make the
/// driver spin.
const MIN_WAIT: Duration = Duration::from_millis(10);

/// A runner being driven on its own task.
#[derive(Debug)]
pub struct Driven {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Runner>,
}

impl Runner {
    /// Drives the runner on a new tokio task: each job runs at its time by the runner's clock.
    /// The task waits at most `poll` between looks. Dropping the returned handle stops it too.
    pub fn spawn(mut self, poll: Duration) -> Driven {
        let clock: Arc<dyn Clock> = self.clock.clone();
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            loop {
                self.run_due().await;
                let wait = self
                    .next_due()
                    .map(|next| (next - clock.now()).try_into().unwrap_or(Duration::ZERO))
                    .unwrap_or(poll)
                    .clamp(MIN_WAIT, poll.max(MIN_WAIT));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = &mut stopped => break,
                }
            }
            self.release_leases().await;
            self
        });
        Driven { stop, task }
    }
}

impl Driven {
    /// Stops the driver once the turn in progress (if any) is over, releases the runner's
    /// leases, and gives the runner back (e.g. for its [`Runner::status`]). `None` if the
    /// driver's task ended abnormally.
    pub async fn stop(self) -> Option<Runner> {
        let _ = self.stop.send(());
        self.task.await.ok()
    }
}
