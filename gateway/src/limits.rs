//! Limits at the edge: a request rate per server (token bucket), caps on
//! requests in flight (per replica, per server, per namespace), the request
//! body size and read time, and a byte budget shared by everything the replica
//! holds in memory for requests (bodies, upstream answers, state and plan
//! files). All of them answer before any MCP work is done; none of them holds
//! a lock across an await.

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

use crate::peers::{BucketShare, Peers, Share};

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
    /// Requests of one server (`namespace/name`) handled at once; 0 disables.
    pub max_inflight_per_server: usize,
    /// Requests of one namespace (all its servers) handled at once; 0 disables.
    pub max_inflight_per_namespace: usize,
    /// Bytes of request bodies and upstream answers held at once by this
    /// replica; 0 disables the budget.
    pub memory_budget_bytes: usize,
    /// How long a request waits for room in the byte budget before a 503 (or a tool error).
    pub budget_wait: Duration,
    /// Time allowed to receive a whole request body.
    pub body_read_timeout: Duration,
    /// `/readyz` fails once the route table has not been known to be in step
    /// with the API server for this long.
    pub route_sync_stale_after: Duration,
    /// Largest tool result, in bytes of compact JSON, unless a server sets
    /// its own (`spec.results.maxBytes`); bigger results are trimmed.
    pub max_result_bytes: usize,
    /// Replicas sharing the per-server request rate (`--peer-service`); alone by default.
    pub peers: Peers,
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
            max_inflight_per_server: 32,
            max_inflight_per_namespace: 64,
            memory_budget_bytes: 96 * 1024 * 1024,
            budget_wait: Duration::from_secs(2),
            body_read_timeout: Duration::from_secs(10),
            route_sync_stale_after: Duration::from_secs(120),
            max_result_bytes: crate::execute::budget::DEFAULT_MAX_RESULT_BYTES,
            peers: Peers::alone(),
        }
    }
}

/// Buckets kept before idle (full) ones are dropped.
const MAX_BUCKETS: usize = 65_536;

/// Token buckets keyed by server (`namespace/name`). With peers
/// ([`RateLimiter::with_peers`]) each replica keeps its share of the rate and
/// burst, so the limit holds across replicas (see [`crate::peers`]).
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    peers: Peers,
    buckets: Mutex<HashMap<String, BucketShare>>,
}

impl RateLimiter {
    pub fn new(rate_per_second: f64, burst: f64) -> Self {
        let rate = if rate_per_second.is_finite() && rate_per_second > 0.0 { rate_per_second } else { 0.0 };
        let burst = if burst.is_finite() { burst.max(1.0) } else { 1.0 };
        Self { rate, burst, peers: Peers::alone(), buckets: Mutex::new(HashMap::new()) }
    }

    /// Shares the limit with the replicas `peers` counts.
    pub fn with_peers(mut self, peers: Peers) -> Self {
        self.peers = peers;
        self
    }

    pub fn is_enabled(&self) -> bool {
        self.rate > 0.0
    }

    /// Takes one token from `key`'s bucket, or says how long until one is there.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if !self.is_enabled() {
            return Ok(());
        }
        let share = Share::of(self.rate, self.burst, self.peers.count());
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        Self::take(&mut buckets, key, now, share)
    }

    /// [`check`](Self::check), with `key`'s rate (and burst, in proportion)
    /// at most an equal part of `pool` per second: `pool / n`, `n` the keys
    /// using their buckets now (not refilled to full since their last take),
    /// `key` counted. However many keys want more, each one that asks gets
    /// its part, and together they take at most `pool`. Counting is linear
    /// in the keys remembered: for rare, costly acts (approval claims), not
    /// for every request.
    pub fn check_fair_share(&self, key: &str, pool: f64, now: Instant) -> Result<(), Duration> {
        if !self.is_enabled() {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let others = buckets.iter().filter(|(k, b)| k.as_str() != key && !b.is_full_at(now)).count();
        let part = if pool > 0.0 { pool / (others + 1) as f64 } else { 0.0 };
        let rate = self.rate.min(part);
        let share = Share::of(rate, self.burst * rate / self.rate, self.peers.count());
        Self::take(&mut buckets, key, now, share)
    }

    fn take(buckets: &mut HashMap<String, BucketShare>, key: &str, now: Instant, share: Share) -> Result<(), Duration> {
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            // A bucket idle until full again: forgetting it changes nothing.
            buckets.retain(|_, b| !b.is_full_at(now));
        }
        match buckets.get_mut(key) {
            Some(b) => b.take(now, share),
            None => buckets.entry(key.to_owned()).or_insert(BucketShare::new(share, now)).take(now, share),
        }
    }
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

/// Caps on requests in flight per server and per namespace, so one tenant
/// holding its cap (slow bodies, long waits) leaves room for the others.
#[derive(Debug)]
pub struct TenantCaps {
    per_server: usize,
    per_namespace: usize,
    counts: Arc<Mutex<InFlight>>,
}

/// Requests in flight per server (`namespace/name`) and per namespace; a
/// name is dropped when its count is back to 0. Keyed by shared names, so a
/// request to a server already in flight allocates nothing.
#[derive(Debug, Default)]
struct InFlight {
    servers: HashMap<Arc<str>, usize>,
    namespaces: HashMap<Arc<str>, usize>,
}

/// One more in flight for `key`; the name, for giving it back.
fn enter(counts: &mut HashMap<Arc<str>, usize>, key: &str) -> Arc<str> {
    match counts.get_key_value(key).map(|(known, _)| known.clone()) {
        Some(known) => {
            if let Some(n) = counts.get_mut(key) {
                *n += 1;
            }
            known
        }
        None => {
            let key: Arc<str> = key.into();
            counts.insert(key.clone(), 1);
            key
        }
    }
}

fn leave(counts: &mut HashMap<Arc<str>, usize>, key: &str) {
    if let Some(n) = counts.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            counts.remove(key);
        }
    }
}

/// Which cap refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantCap {
    Server,
    Namespace,
}

/// Held while a request of one tenant is handled; gives its slots back on drop.
#[derive(Debug)]
pub struct TenantPermit {
    server: Option<Arc<str>>,
    namespace: Option<Arc<str>>,
    counts: Arc<Mutex<InFlight>>,
}

impl Drop for TenantPermit {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(server) = &self.server {
            leave(&mut counts.servers, server);
        }
        if let Some(namespace) = &self.namespace {
            leave(&mut counts.namespaces, namespace);
        }
    }
}

impl TenantCaps {
    pub fn new(per_server: usize, per_namespace: usize) -> Self {
        Self { per_server, per_namespace, counts: Arc::default() }
    }

    /// A slot for `server` (`namespace/name`), or the cap that is full.
    pub fn try_acquire(&self, server: &str) -> Result<TenantPermit, TenantCap> {
        let namespace = tfc_mcp_contract::route::namespace_of(server);
        let mut guard = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let counts = &mut *guard;
        let used = |counts: &HashMap<Arc<str>, usize>, key: &str| counts.get(key).copied().unwrap_or(0);
        if self.per_server > 0 && used(&counts.servers, server) >= self.per_server {
            return Err(TenantCap::Server);
        }
        if self.per_namespace > 0 && used(&counts.namespaces, namespace) >= self.per_namespace {
            return Err(TenantCap::Namespace);
        }
        Ok(TenantPermit {
            server: (self.per_server > 0).then(|| enter(&mut counts.servers, server)),
            namespace: (self.per_namespace > 0).then(|| enter(&mut counts.namespaces, namespace)),
            counts: self.counts.clone(),
        })
    }

    /// Requests of `server` in flight now (tests, metrics).
    pub fn in_use(&self, server: &str) -> usize {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).servers.get(server).copied().unwrap_or(0)
    }
}

/// The byte budget of the replica, counted in KiB: every request body and
/// every upstream answer (API pages, logs, state and plan files) takes its
/// size from it while it is held in memory. When it is spent, new work waits
/// a little, then is refused, instead of the process running out of memory.
///
/// No one namespace may hold more than [`TENANT_SHARE_DIVISOR`]th of it
/// (request bodies are counted per namespace): a tenant posting many large,
/// slow bodies spends its own share and is refused, while the rest of the
/// budget stays for everyone else.
#[derive(Clone, Debug)]
pub struct ByteBudget {
    semaphore: Option<Arc<Semaphore>>,
    total_kib: u32,
    wait: Duration,
    /// KiB held per tenant (namespace), for permits made with [`ByteBudget::empty_for`].
    shares: TenantShares,
}

/// KiB held per tenant, shared by a budget and its permits.
type TenantShares = Arc<Mutex<HashMap<String, u32>>>;

/// One namespace may hold at most 1/4 of the byte budget.
pub const TENANT_SHARE_DIVISOR: u32 = 4;

/// The budget is spent (after waiting `wait`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetExhausted;

/// Bytes taken from the budget; given back on drop. Grows as a body arrives.
#[derive(Debug, Default)]
pub struct BudgetPermit {
    permit: Option<OwnedSemaphorePermit>,
    kib: u32,
    /// The tenant this permit counts against, and the budget's per-tenant tally.
    tenant: Option<(String, TenantShares)>,
}

impl Drop for BudgetPermit {
    fn drop(&mut self) {
        if let Some((tenant, shares)) = &self.tenant
            && self.kib > 0
        {
            let mut shares = shares.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(held) = shares.get_mut(tenant) {
                *held = held.saturating_sub(self.kib);
                if *held == 0 {
                    shares.remove(tenant);
                }
            }
        }
    }
}

impl BudgetPermit {
    /// KiB held.
    pub fn kib(&self) -> u32 {
        self.kib
    }
}

impl Default for ByteBudget {
    fn default() -> Self {
        Self::disabled()
    }
}

impl ByteBudget {
    /// A budget of `bytes` (0 disables it); a request waits at most `wait` for room.
    pub fn new(bytes: usize, wait: Duration) -> Self {
        let total_kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).min(Semaphore::MAX_PERMITS as u32);
        let semaphore = (total_kib > 0).then(|| Arc::new(Semaphore::new(total_kib as usize)));
        Self { semaphore, total_kib, wait, shares: Arc::default() }
    }

    pub fn disabled() -> Self {
        Self { semaphore: None, total_kib: 0, wait: Duration::ZERO, shares: Arc::default() }
    }

    /// An empty permit, to be grown.
    pub fn empty(&self) -> BudgetPermit {
        BudgetPermit::default()
    }

    /// An empty permit that counts against `tenant`'s share of the budget.
    pub fn empty_for(&self, tenant: &str) -> BudgetPermit {
        BudgetPermit { permit: None, kib: 0, tenant: Some((tenant.to_owned(), self.shares.clone())) }
    }

    /// The most one tenant may hold, in KiB.
    fn share_kib(&self) -> u32 {
        (self.total_kib / TENANT_SHARE_DIVISOR).max(1)
    }

    /// Grows `permit` so that it covers `bytes` in total, waiting up to the
    /// budget's wait for room. A single request larger than the whole budget
    /// is refused at once.
    pub async fn grow_to(&self, permit: &mut BudgetPermit, bytes: usize) -> Result<(), BudgetExhausted> {
        let Some(semaphore) = &self.semaphore else { return Ok(()) };
        let want = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
        if want <= permit.kib {
            return Ok(());
        }
        if want > self.total_kib {
            return Err(BudgetExhausted);
        }
        let extra = want - permit.kib;
        // Over its share, a tenant is refused at once: waiting would only hold its body longer.
        if let Some((tenant, shares)) = &permit.tenant {
            let held = shares.lock().unwrap_or_else(|e| e.into_inner()).get(tenant).copied().unwrap_or(0);
            if held.saturating_add(extra) > self.share_kib() {
                return Err(BudgetExhausted);
            }
        }
        let more = match semaphore.clone().try_acquire_many_owned(extra) {
            Ok(p) => p,
            Err(_) => tokio::time::timeout(self.wait, semaphore.clone().acquire_many_owned(extra))
                .await
                .map_err(|_| BudgetExhausted)?
                .map_err(|_| BudgetExhausted)?,
        };
        match &mut permit.permit {
            Some(held) => held.merge(more),
            None => permit.permit = Some(more),
        }
        if let Some((tenant, shares)) = &permit.tenant {
            *shares.lock().unwrap_or_else(|e| e.into_inner()).entry(tenant.clone()).or_default() += extra;
        }
        permit.kib = want;
        Ok(())
    }

    /// A permit for `bytes`.
    pub async fn acquire(&self, bytes: usize) -> Result<BudgetPermit, BudgetExhausted> {
        let mut permit = self.empty();
        self.grow_to(&mut permit, bytes).await?;
        Ok(permit)
    }

    /// KiB in use now (metrics, tests).
    pub fn in_use_kib(&self) -> u32 {
        self.semaphore.as_ref().map_or(0, |s| self.total_kib.saturating_sub(s.available_permits() as u32))
    }
}

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    Read,
    /// The body did not arrive within the read timeout.
    Timeout,
    /// The byte budget is spent.
    Busy,
}

/// Reads a whole body, refusing more than `limit` bytes as soon as they arrive.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    read_body_budgeted(body, limit, &ByteBudget::disabled(), &mut BudgetPermit::default()).await
}

/// Reads a whole body, refusing more than `limit` bytes as soon as they
/// arrive, and growing `permit` in the budget ahead of each chunk.
pub async fn read_body_budgeted(body: Body, limit: usize, budget: &ByteBudget, permit: &mut BudgetPermit) -> Result<Bytes, BodyError> {
    let mut stream = body.into_data_stream();
    let mut collected: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Read)?;
        if chunk.len() > limit.saturating_sub(collected.len()) {
            return Err(BodyError::TooLarge);
        }
        budget.grow_to(permit, collected.len() + chunk.len()).await.map_err(|_| BodyError::Busy)?;
        collected.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(collected))
}

/// A client-supplied name (tool, argument, query) made safe to echo in an
/// error or a log line: at most `max` characters, then an ellipsis.
pub fn truncate_name(name: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match name.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(name),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}…", &name[..cut])),
    }
}

/// Longest client-supplied name echoed back.
pub const MAX_ECHOED_NAME: usize = 64;

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
    fn the_rate_is_shared_by_the_replicas_and_follows_their_count() {
        let peers = Peers::alone();
        peers.set(4);
        let limiter = RateLimiter::new(20.0, 40.0).with_peers(peers.clone());
        let t0 = Instant::now();
        // A quarter of the burst (10), then a quarter of the rate (one per 200 ms).
        assert_eq!((0..40).filter(|_| limiter.check("ns/a", t0).is_ok()).count(), 10);
        let wait = limiter.check("ns/a", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.2).abs() < 1e-6, "{wait:?}");
        // Down to one replica: no burst granted at once, then the full rate.
        peers.set(1);
        assert!(limiter.check("ns/a", t0).is_err());
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!((0..40).filter(|_| limiter.check("ns/a", t1).is_ok()).count(), 10, "500 ms at 20/s");
        // Up to 40 replicas: the burst floor is one request.
        peers.set(40);
        assert_eq!((0..40).filter(|_| limiter.check("ns/b", t1).is_ok()).count(), 1);
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

    #[test]
    fn tenant_caps_per_server_and_namespace() {
        let caps = TenantCaps::new(2, 3);
        let a1 = caps.try_acquire("ns/a").unwrap();
        let _a2 = caps.try_acquire("ns/a").unwrap();
        assert_eq!(caps.try_acquire("ns/a").unwrap_err(), TenantCap::Server);
        let _b1 = caps.try_acquire("ns/b").unwrap();
        assert_eq!(caps.try_acquire("ns/b").unwrap_err(), TenantCap::Namespace);
        assert!(caps.try_acquire("other/a").is_ok(), "other namespaces are not affected");
        drop(a1);
        assert!(caps.try_acquire("ns/b").is_ok());
        assert_eq!(caps.in_use("ns/a"), 1);
        assert!(TenantCaps::new(0, 0).try_acquire("x/y").is_ok());
        // Every slot given back: nothing is left remembered.
        drop((_a2, _b1));
        let counts = caps.counts.lock().unwrap();
        assert!(counts.servers.is_empty() && counts.namespaces.is_empty(), "{counts:?}");
    }

    #[test]
    fn servers_and_namespaces_are_counted_apart() {
        let caps = TenantCaps::new(1, 1);
        let _held = caps.try_acquire("ns/a").unwrap();
        assert_eq!(caps.try_acquire("ns/b").unwrap_err(), TenantCap::Namespace);
        let only_server = TenantCaps::new(1, 0);
        let _a = only_server.try_acquire("ns/a").unwrap();
        assert!(only_server.try_acquire("ns/b").is_ok(), "no namespace cap: only the server's counts");
        assert_eq!(only_server.in_use("ns"), 0, "a namespace is not a server");
        assert!(only_server.counts.lock().unwrap().namespaces.is_empty(), "a cap that is off counts nothing");
    }

    #[tokio::test]
    async fn byte_budget_waits_then_refuses_and_gives_back() {
        let budget = ByteBudget::new(10 * 1024, Duration::from_millis(50));
        let mut a = budget.acquire(4 * 1024).await.unwrap();
        budget.grow_to(&mut a, 6 * 1024 + 1).await.unwrap();
        assert_eq!(a.kib(), 7);
        assert_eq!(budget.in_use_kib(), 7);
        assert_eq!(budget.acquire(4 * 1024).await.unwrap_err(), BudgetExhausted);
        assert_eq!(budget.acquire(11 * 1024).await.unwrap_err(), BudgetExhausted, "larger than the whole budget");
        let waiter = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.acquire(4 * 1024).await.map(|p| p.kib()) })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(a);
        assert_eq!(waiter.await.unwrap(), Ok(4));
        assert_eq!(budget.in_use_kib(), 0);
        assert!(ByteBudget::disabled().acquire(usize::MAX).await.is_ok());
    }

    #[test]
    fn names_are_truncated() {
        assert_eq!(truncate_name("short", 64), "short");
        let long = "é".repeat(100);
        let cut = truncate_name(&long, 64);
        assert_eq!(cut.chars().count(), 65);
        assert!(cut.ends_with('…'));
    }

    #[tokio::test]
    async fn body_limit() {
        assert_eq!(read_body(Body::from("abc"), 3).await.unwrap(), "abc");
        assert_eq!(read_body(Body::from("abcd"), 3).await.unwrap_err(), BodyError::TooLarge);
    }
}
