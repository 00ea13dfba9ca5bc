//! Arrival times of API requests, in milliseconds since the simulator
//! started (a monotonic clock), with their path: what a test needs to check
//! a request rate over sliding windows. Bounded like the request log.

use std::{collections::VecDeque, sync::Mutex, time::Instant};

/// Arrivals kept; the oldest go first.
pub const MAX_ARRIVALS: usize = 100_000;

#[derive(Debug)]
pub struct Arrivals {
    start: Instant,
    log: Mutex<VecDeque<(f64, String)>>,
}

impl Default for Arrivals {
    fn default() -> Self {
        Self { start: Instant::now(), log: Mutex::new(VecDeque::new()) }
    }
}

impl Arrivals {
    /// Milliseconds since the simulator started.
    pub fn now_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    pub fn note(&self, path: &str) {
        let at = self.now_ms();
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= MAX_ARRIVALS {
            log.pop_front();
        }
        log.push_back((at, path.to_owned()));
    }

    /// Arrival times of requests whose path starts with `prefix`, oldest first.
    pub fn times(&self, prefix: &str) -> Vec<f64> {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.iter().filter(|(_, p)| p.starts_with(prefix)).map(|(at, _)| *at).collect()
    }

    pub fn clear(&self) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_filtered_ordered_and_bounded() {
        let a = Arrivals::default();
        a.note("/api/v2/workspaces/ws-1");
        a.note("/api/v2/organizations");
        a.note("/api/v2/workspaces/ws-2");
        let times = a.times("/api/v2/workspaces/");
        assert_eq!(times.len(), 2);
        assert!(times[0] <= times[1] && times[1] <= a.now_ms());
        a.clear();
        assert!(a.times("").is_empty());
        for _ in 0..MAX_ARRIVALS + 5 {
            a.note("/x");
        }
        assert_eq!(a.times("/x").len(), MAX_ARRIVALS);
    }
}
