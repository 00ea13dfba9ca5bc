//! Limits at the edge: a request rate per server (token bucket), a cap on
//! requests in flight, and the request body size. All of them answer before
//! any MCP work is done; none of them holds a lock across an await.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::body::{Body, Bytes};
use futures::StreamExt;
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    time::Instant,
};

/// The edge limits, from the gateway flags.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Sustained requests per second per server; 0 disables the limit.
    pub rate_per_second: f64,
    /// Requests a server may send at once after being idle.
    pub rate_burst: f64,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Requests handled at the same time by this replica (legacy SSE streams
    /// are not counted: they have their own cap); 0 disables the cap.
    pub max_inflight: usize,
    /// Longest time one MCP request (a tool call) may take.
    pub request_timeout: Duration,
    /// Longest time a tool with its own bounded wait (`..._runs_wait`) may take.
    pub long_request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            rate_per_second: 20.0,
            rate_burst: 40.0,
            max_body_bytes: 1024 * 1024,
            max_inflight: 512,
            request_timeout: Duration::from_secs(120),
            long_request_timeout: Duration::from_secs(660),
        }
    }
}

/// Buckets kept before idle (full) ones are dropped.
const MAX_BUCKETS: usize = 65_536;

/// Token buckets keyed by server (`namespace/name`).
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    pub fn new(rate_per_second: f64, burst: f64) -> Self {
        let rate = if rate_per_second.is_finite() && rate_per_second > 0.0 { rate_per_second } else { 0.0 };
        let burst = if burst.is_finite() { burst.max(1.0) } else { 1.0 };
        Self { rate, burst, buckets: Mutex::new(HashMap::new()) }
    }

    pub fn is_enabled(&self) -> bool {
        self.rate > 0.0
    }

    /// Takes one token from `key`'s bucket, or says how long until one is there.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if !self.is_enabled() {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            // A bucket idle for burst/rate seconds is full again: forgetting it changes nothing.
            let full_after = secs(self.burst / self.rate);
            buckets.retain(|_, b| now.saturating_duration_since(b.last) < full_after);
        }
        let bucket = match buckets.get_mut(key) {
            Some(b) => b,
            None => buckets.entry(key.to_owned()).or_insert(Bucket { tokens: self.burst, last: now }),
        };
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(secs((1.0 - bucket.tokens) / self.rate))
        }
    }
}

/// Seconds as a Duration, saturating instead of panicking on huge values.
fn secs(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(Duration::MAX)
}

/// Whole seconds for a `Retry-After` header: rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs_f64().ceil() as u64).max(1)
}

/// The cap on requests in flight.
#[derive(Clone, Debug)]
pub struct Inflight {
    semaphore: Option<Arc<Semaphore>>,
    max: usize,
}

/// Held while a request is handled; put into the request extensions so it
/// lives exactly as long as the MCP handler's request context.
#[derive(Clone, Debug)]
pub struct InflightPermit(#[allow(dead_code)] Option<Arc<OwnedSemaphorePermit>>);

impl Inflight {
    pub fn new(max: usize) -> Self {
        Self { semaphore: (max > 0).then(|| Arc::new(Semaphore::new(max))), max }
    }

    /// A permit, or `None` when the cap is reached.
    pub fn try_acquire(&self) -> Option<InflightPermit> {
        match &self.semaphore {
            None => Some(InflightPermit(None)),
            Some(s) => s.clone().try_acquire_owned().ok().map(|p| InflightPermit(Some(Arc::new(p)))),
        }
    }

    /// Requests in flight now.
    pub fn in_use(&self) -> usize {
        self.semaphore.as_ref().map_or(0, |s| self.max.saturating_sub(s.available_permits()))
    }
}

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    Read,
}

/// Reads a whole body, refusing more than `limit` bytes as soon as they arrive.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut stream = body.into_data_stream();
    let mut collected: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Read)?;
        if chunk.len() > limit.saturating_sub(collected.len()) {
            return Err(BodyError::TooLarge);
        }
        collected.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(collected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refills_at_rate() {
        let limiter = RateLimiter::new(2.0, 3.0);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check("ns/a", t0).is_ok());
        }
        let wait = limiter.check("ns/a", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        // Another server has its own bucket.
        assert!(limiter.check("ns/b", t0).is_ok());
        // Half a second later one token is back.
        let t1 = t0 + Duration::from_millis(500);
        assert!(limiter.check("ns/a", t1).is_ok());
        assert!(limiter.check("ns/a", t1).is_err());
        // Never more than the burst.
        let t2 = t1 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert!(limiter.check("ns/a", t2).is_ok());
        }
        assert!(limiter.check("ns/a", t2).is_err());
    }

    #[test]
    fn tiny_rates_do_not_overflow() {
        let limiter = RateLimiter::new(1e-300, 1.0);
        let now = Instant::now();
        assert!(limiter.check("x", now).is_ok());
        assert_eq!(limiter.check("x", now).unwrap_err(), Duration::MAX);
        assert_eq!(retry_after_secs(Duration::MAX), u64::MAX);
    }

    #[test]
    fn zero_rate_disables() {
        let limiter = RateLimiter::new(0.0, 1.0);
        let now = Instant::now();
        assert!((0..1000).all(|_| limiter.check("x", now).is_ok()));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }

    #[test]
    fn inflight_cap() {
        let inflight = Inflight::new(2);
        let a = inflight.try_acquire().unwrap();
        let _b = inflight.try_acquire().unwrap();
        assert!(inflight.try_acquire().is_none());
        assert_eq!(inflight.in_use(), 2);
        drop(a);
        assert!(inflight.try_acquire().is_some());
        assert!(Inflight::new(0).try_acquire().is_some());
    }

    #[tokio::test]
    async fn body_limit() {
        assert_eq!(read_body(Body::from("abc"), 3).await.unwrap(), "abc");
        assert_eq!(read_body(Body::from("abcd"), 3).await.unwrap_err(), BodyError::TooLarge);
    }
}
