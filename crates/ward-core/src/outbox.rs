//! The outbox's rules: a message's states and when a failed delivery is tried again.
//!
//! A message is `queued` when written (in the same transaction as the change that caused it),
//! `sending` while a delivery job holds its claim, then `sent`, or `queued` again after a
//! failure (with a later next attempt), or `dead` after its last allowed attempt. A claim
//! that expires (its process died) makes the message due again: delivery is at least once.

use crate::action::string_enum;
use time::{Duration, OffsetDateTime};

string_enum! {
    /// Where a message stands.
    MessageState {
        Queued => "queued",
        Sending => "sending",
        Sent => "sent",
        Dead => "dead",
    }
}

/// How failed deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryRule {
    /// Attempts allowed in all; the message is dead after the last one fails.
    pub max_attempts: u32,
    /// The wait after the first failure; each further failure doubles it.
    pub first_backoff: Duration,
    /// The longest wait.
    pub max_backoff: Duration,
}

impl Default for RetryRule {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            first_backoff: Duration::seconds(30),
            max_backoff: Duration::hours(1),
        }
    }
}

impl RetryRule {
    /// When a message whose `attempts`-th attempt (counted from 1) failed at `now` is tried
    /// next: `None` when that was the last allowed one (the message is dead).
    pub fn next_attempt(&self, attempts: u32, now: OffsetDateTime) -> Option<OffsetDateTime> {
        if attempts >= self.max_attempts {
            return None;
        }
        let doublings = attempts.saturating_sub(1).min(30);
        let wait = self
            .first_backoff
            .checked_mul(1i32 << doublings)
            .map_or(self.max_backoff, |w| w.min(self.max_backoff));
        Some(now + wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn backoff_doubles_up_to_its_ceiling_then_dead() {
        let rule = RetryRule {
            max_attempts: 4,
            first_backoff: Duration::seconds(10),
            max_backoff: Duration::seconds(25),
        };
        let t = datetime!(2026-01-01 0:00 UTC);
        assert_eq!(rule.next_attempt(1, t), Some(t + Duration::seconds(10)));
        assert_eq!(rule.next_attempt(2, t), Some(t + Duration::seconds(20)));
        assert_eq!(rule.next_attempt(3, t), Some(t + Duration::seconds(25)));
        assert_eq!(rule.next_attempt(4, t), None);
        // The default: 30 s doubling, seven retries (the last after 32 min), then dead.
        assert_eq!(RetryRule::default().next_attempt(7, t), Some(t + Duration::minutes(32)));
        assert_eq!(RetryRule::default().next_attempt(8, t), None);
    }

    #[test]
    fn states_round_trip() {
        for s in MessageState::ALL {
            assert_eq!(s.as_str().parse::<MessageState>().ok(), Some(*s));
        }
    }
}
