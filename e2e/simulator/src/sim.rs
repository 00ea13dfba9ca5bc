//! The simulator's shared state: the data store plus runtime settings
//! (tokens, step delay, rate limit) and the request log used by tests.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ratelimit::RateLimiter;
use crate::seed;
use crate::store::{Store, User};

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Accepted bearer tokens; each one acts as its own user.
    pub tokens: Vec<String>,
    pub step_delay_ms: u64,
    pub rate_limit: u32,
    /// Whether a run holds the workspace lock while it is active, as HCP
    /// Terraform does. Off by default to keep workspace `locked` states
    /// predictable for tests; on, it produces "locked by Run" conflicts.
    pub run_locks: bool,
    /// Base URL of the API origin, used in pagination links.
    pub api_base: String,
    /// Base URL of the blob origin, used in hosted download URLs.
    pub blob_base: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            tokens: vec!["sim-token".to_string()],
            step_delay_ms: 300,
            rate_limit: 0,
            run_locks: false,
            api_base: "http://127.0.0.1".to_string(),
            blob_base: "http://127.0.0.1".to_string(),
        }
    }
}

/// Upper bound of the request log.
pub const MAX_RECORDS: usize = 100_000;

/// One line of `GET /_sim/requests`.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub ts: String,
    /// `api` or `blob`: which origin saw the request.
    pub origin: &'static str,
}

#[derive(Debug)]
struct TokenUser {
    /// SHA-256 of the token: the plain token is never kept or logged.
    token_hash: [u8; 32],
    user: User,
}

#[derive(Debug)]
pub struct Sim {
    store: Mutex<Store>,
    tokens: Vec<TokenUser>,
    step_delay_ms: AtomicU64,
    run_locks: AtomicBool,
    /// Bumped on reset so run drivers of the old world stop.
    generation: AtomicU64,
    pub limiter: RateLimiter,
    requests: Mutex<Vec<RequestRecord>>,
    /// When API requests arrived (`/_sim/arrivals`).
    pub arrivals: crate::arrivals::Arrivals,
    pub api_base: String,
    pub blob_base: String,
    /// The test OIDC issuer at `<api_base>/oidc`.
    pub oidc: crate::oidc::Issuer,
}

impl Sim {
    pub fn new(cfg: SimConfig) -> Arc<Self> {
        let tokens: Vec<TokenUser> = cfg.tokens.iter().enumerate().map(|(i, t)| token_user(i, t)).collect();
        let sim = Sim {
            store: Mutex::new(Store::default()),
            tokens,
            step_delay_ms: AtomicU64::new(cfg.step_delay_ms),
            run_locks: AtomicBool::new(cfg.run_locks),
            generation: AtomicU64::new(0),
            limiter: RateLimiter::new(cfg.rate_limit),
            requests: Mutex::new(Vec::new()),
            arrivals: crate::arrivals::Arrivals::default(),
            api_base: cfg.api_base.trim_end_matches('/').to_string(),
            blob_base: cfg.blob_base.trim_end_matches('/').to_string(),
            oidc: crate::oidc::Issuer::default(),
        };
        sim.reset();
        Arc::new(sim)
    }

    /// Replaces all data with the seed. Settings and the request log stay.
    pub fn reset(&self) {
        let users: Vec<User> = self.tokens.iter().map(|t| t.user.clone()).collect();
        let fresh = seed::seed(&users);
        self.generation.fetch_add(1, Ordering::SeqCst);
        *self.store() = fresh;
    }

    /// The store lock. A poisoned lock is recovered: a panicking handler
    /// must not take the whole simulator down with it.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn user_for_token(&self, token: &str) -> Option<&User> {
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.tokens.iter().find(|t| t.token_hash == hash).map(|t| &t.user)
    }

    pub fn step_delay(&self) -> Duration {
        Duration::from_millis(self.step_delay_ms.load(Ordering::Relaxed))
    }

    pub fn set_step_delay_ms(&self, ms: u64) {
        self.step_delay_ms.store(ms, Ordering::Relaxed);
    }

    pub fn run_locks(&self) -> bool {
        self.run_locks.load(Ordering::Relaxed)
    }

    pub fn set_run_locks(&self, on: bool) {
        self.run_locks.store(on, Ordering::Relaxed);
    }

    pub fn blob_url(&self, key: &str) -> String {
        format!("{}/v1/object/{key}", self.blob_base)
    }

    /// Appends to the request log, dropping the oldest tenth once it holds
    /// [`MAX_RECORDS`] entries so a long-running simulator stays bounded.
    pub fn record(&self, rec: RequestRecord) {
        let mut log = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= MAX_RECORDS {
            log.drain(..MAX_RECORDS / 10);
        }
        log.push(rec);
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn clear_requests(&self) {
        self.requests.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// The user behind the i-th token: ids are derived from the token hash so
/// they are stable across restarts without revealing the token.
fn token_user(index: usize, token: &str) -> TokenUser {
    let token_hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let id = crate::ids::derived_id("user", &hex::encode(token_hash));
    let username = if index == 0 { "sim-user".to_string() } else { format!("sim-user-{}", index + 1) };
    let email = format!("{username}@acme-corp.example");
    TokenUser { token_hash, user: User { id, username, email } }
}
