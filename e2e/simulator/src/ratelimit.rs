//! Per-token fixed-window rate limiting, mirroring HCP Terraform's
//! "about 30 requests per second per token" with its 429 document and the
//! `X-RateLimit-*` headers the official Go client reads.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::jsonapi::MEDIA_TYPE;

/// Value advertised in `X-RateLimit-Limit` while limiting is off: the real
/// service's documented limit.
pub const ADVERTISED_DEFAULT: u32 = 30;
const WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct RateLimiter {
    /// Requests allowed per second per key; 0 disables limiting.
    limit: AtomicU32,
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
}

impl RateLimiter {
    pub fn new(limit: u32) -> Self {
        Self { limit: AtomicU32::new(limit), windows: Mutex::new(HashMap::new()) }
    }

    pub fn limit(&self) -> u32 {
        self.limit.load(Ordering::Relaxed)
    }

    /// Changes the limit and forgets all windows, so a test that turns
    /// limiting on starts from a clean slate.
    pub fn set_limit(&self, limit: u32) {
        self.limit.store(limit, Ordering::Relaxed);
        self.windows.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The `X-RateLimit-Limit` header value.
    pub fn advertised(&self) -> u32 {
        match self.limit() {
            0 => ADVERTISED_DEFAULT,
            n => n,
        }
    }

    /// Counts one request for `key`. `Err(reset)` means the request exceeds
    /// the limit; `reset` is the time until the window starts over.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    pub fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let limit = self.limit();
        if limit == 0 {
            return Ok(());
        }
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let w = windows.entry(key.to_string()).or_insert(Window { start: now, count: 0 });
        if now.duration_since(w.start) >= WINDOW {
            *w = Window { start: now, count: 0 };
        }
        w.count += 1;
        if w.count > limit { Err(WINDOW.saturating_sub(now.duration_since(w.start))) } else { Ok(()) }
    }
}

/// The 429 document exactly as HCP Terraform sends it (numeric status).
pub fn too_many_requests(limit: u32, reset: Duration) -> Response {
    let body = r#"{"errors":[{"detail":"You have exceeded the API's rate limit.","status":429,"title":"Too many requests"}]}"#;
    let mut resp = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    h.insert("x-ratelimit-limit", HeaderValue::from(limit));
    if let Ok(v) = HeaderValue::from_str(&format!("{:.3}", reset.as_secs_f64())) {
        h.insert("x-ratelimit-reset", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window_per_key() {
        let rl = RateLimiter::new(2);
        let t0 = Instant::now();
        assert!(rl.check_at("a", t0).is_ok());
        assert!(rl.check_at("a", t0).is_ok());
        let reset = rl.check_at("a", t0 + Duration::from_millis(400)).unwrap_err();
        assert_eq!(reset, Duration::from_millis(600));
        // Another token has its own budget.
        assert!(rl.check_at("b", t0).is_ok());
        // A new window starts after one second.
        assert!(rl.check_at("a", t0 + Duration::from_millis(1000)).is_ok());
    }

    #[test]
    fn zero_disables() {
        let rl = RateLimiter::new(0);
        for _ in 0..100 {
            assert!(rl.check("a").is_ok());
        }
        assert_eq!(rl.advertised(), ADVERTISED_DEFAULT);
        rl.set_limit(5);
        assert_eq!(rl.advertised(), 5);
    }
}
