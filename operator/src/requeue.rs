//! When to come back to a server: periodic requeues are jittered so that
//! servers created together do not resync together, and failures back off
//! exponentially per server so one broken server cannot keep the operator busy.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use rand::Rng;

/// Spread of every jittered delay: ±10 %.
const JITTER: f64 = 0.1;
/// First retry after a failure; doubled on each further failure of the same server.
const FIRST_RETRY: Duration = Duration::from_secs(2);
/// Retries never wait longer than this.
const MAX_RETRY: Duration = Duration::from_secs(5 * 60);

/// `delay` scaled by a random factor in [0.9, 1.1].
pub fn jittered(delay: Duration) -> Duration {
    delay.mul_f64(rand::rng().random_range(1.0 - JITTER..=1.0 + JITTER))
}

/// Consecutive failures per server (by `namespace/name`).
#[derive(Debug, Default)]
pub struct ErrorBackoff {
    failures: Mutex<HashMap<String, u32>>,
}

impl ErrorBackoff {
    /// Records a failure and returns how long to wait before retrying.
    pub fn failed(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let count = failures.entry(key.to_owned()).or_default();
        *count = count.saturating_add(1);
        jittered(retry_delay(*count))
    }

    /// A success (or deletion) starts the next failure from the first delay again.
    pub fn succeeded(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// `FIRST_RETRY * 2^(failures - 1)`, capped at `MAX_RETRY`.
fn retry_delay(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    (FIRST_RETRY * 2u32.pow(doublings)).min(MAX_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_ten_percent() {
        let base = Duration::from_secs(600);
        let delays: Vec<Duration> = (0..200).map(|_| jittered(base)).collect();
        assert!(delays.iter().all(|d| *d >= Duration::from_secs(540) && *d <= Duration::from_secs(660)));
        assert!(delays.iter().any(|d| *d != delays[0]), "no jitter at all");
    }

    #[test]
    fn failures_back_off_per_server_and_reset_on_success() {
        assert_eq!(retry_delay(1), Duration::from_secs(2));
        assert_eq!(retry_delay(2), Duration::from_secs(4));
        assert_eq!(retry_delay(5), Duration::from_secs(32));
        assert_eq!(retry_delay(9), MAX_RETRY);
        assert_eq!(retry_delay(u32::MAX), MAX_RETRY);

        let backoff = ErrorBackoff::default();
        for _ in 0..6 {
            backoff.failed("a/broken");
        }
        assert!(backoff.failed("a/broken") >= Duration::from_secs(115));
        assert!(backoff.failed("b/fine") <= Duration::from_secs(3), "another server is not slowed down");
        backoff.succeeded("a/broken");
        assert!(backoff.failed("a/broken") <= Duration::from_secs(3));
    }
}
