//! The HCP Terraform HTTP client.
//!
//! One [`Upstream`] is shared by all routes: one `reqwest::Client` (no
//! automatic redirects, no proxies from the environment) and one pacer per
//! upstream token, keyed by the token's SHA-256. A [`TfcClient`] is the
//! borrowed view one tool call uses: the route's address, its token and its
//! rate settings.
//!
//! Credentials: the `Authorization` header goes only to URLs whose origin is
//! the configured address. The temporary blob URLs (archivist) that state,
//! logs and JSON plans live at are fetched without it, and redirects are
//! followed by hand so a token never follows a redirect to another origin.
//!
//! Network reach: every request and redirect hop passes the [`EgressPolicy`]
//! (no loopback, private, link-local or cluster addresses unless allow-listed;
//! blob downloads only to allowed hosts), and names resolve through its
//! [`GuardedResolver`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use crate::catalog::Verb;
use crate::egress::{EgressObserver, EgressPolicy, EgressRefused, GuardedResolver};
use crate::execute::ToolError;
use crate::jsonapi::MEDIA_TYPE;
use crate::limits::{BudgetPermit, ByteBudget};
use crate::peers::{BucketShare, Peers, Share};
use crate::route::{Route, sha256_hex};

/// Largest API response body read into memory.
pub const MAX_API_BODY: usize = 16 * 1024 * 1024;
/// Retries of a 429 when the route asks for them.
pub const MAX_429_RETRIES: u32 = 3;
/// Longest sleep before retrying a 429.
pub const MAX_429_SLEEP: Duration = Duration::from_secs(10);
/// Largest answer read from the public Terraform Registry (its biggest
/// provider documents are a few hundred KiB); bigger answers are refused.
pub const MAX_REGISTRY_BODY: usize = 4 * 1024 * 1024;
/// Redirect hops followed for blob downloads.
const MAX_REDIRECTS: usize = 5;
const DEFAULT_RATE: u32 = 30;
/// Owners remembered at most (see [`OwnerCache`]).
pub const OWNER_CACHE_CAPACITY: usize = 20_000;
/// How long an owner is remembered.
pub const OWNER_CACHE_TTL: Duration = Duration::from_secs(600);

// ---- rate limit information ----------------------------------------------------

/// Upstream rate limit information, normalised from `X-RateLimit-Limit`,
/// `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds, may be fractional).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RateLimitInfo {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub reset_secs: Option<f64>,
}

impl RateLimitInfo {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let int = |name: &str| get(name).and_then(|v| v.parse::<f64>().ok()).filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64);
        Self {
            limit: int("x-ratelimit-limit"),
            remaining: int("x-ratelimit-remaining"),
            reset_secs: get("x-ratelimit-reset").and_then(|v| v.parse::<f64>().ok()).filter(|f| f.is_finite() && *f >= 0.0),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.limit.is_none() && self.remaining.is_none() && self.reset_secs.is_none()
    }

    /// Normalised header pairs (`ratelimit-limit`, `ratelimit-remaining`,
    /// `ratelimit-reset`) for the MCP HTTP response; only the known ones.
    pub fn header_pairs(&self) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        if let Some(l) = self.limit {
            v.push(("ratelimit-limit", l.to_string()));
        }
        if let Some(r) = self.remaining {
            v.push(("ratelimit-remaining", r.to_string()));
        }
        if let Some(s) = self.reset_secs {
            v.push(("ratelimit-reset", format_secs(s)));
        }
        v
    }

    /// How long to wait before retrying: the reset time, capped.
    pub fn retry_after(&self) -> Duration {
        let secs = self.reset_secs.unwrap_or(1.0).clamp(0.05, MAX_429_SLEEP.as_secs_f64());
        Duration::from_secs_f64(secs)
    }
}

impl std::fmt::Display for RateLimitInfo {
    /// `ratelimit-limit=30 ratelimit-remaining=0 ratelimit-reset=0.5`
    /// (`unknown` for what upstream did not say).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "unknown".into());
        write!(
            f,
            "ratelimit-limit={} ratelimit-remaining={} ratelimit-reset={}",
            n(self.limit),
            n(self.remaining),
            self.reset_secs.map(format_secs).unwrap_or_else(|| "unknown".into())
        )
    }
}

fn format_secs(s: f64) -> String {
    let r = (s * 1000.0).round() / 1000.0;
    if r.fract() == 0.0 { format!("{}", r as u64) } else { format!("{r}") }
}

// ---- pacing --------------------------------------------------------------------

/// Longest single sleep of a paced request before it looks again, so a
/// change in the replica count reaches requests already waiting.
const MAX_PACE_STEP: Duration = Duration::from_millis(250);

/// Paces one upstream token: a token bucket with this replica's share of the
/// route's rate (burst: one second of it), and a fair queue: requests take
/// their turn in arrival order, and only the first of them waits on the bucket.
#[derive(Debug, Default)]
struct Pacer {
    turn: tokio::sync::Mutex<()>,
    bucket: Mutex<Option<BucketShare>>,
}

impl Pacer {
    fn take(&self, now: Instant, share: Share) -> Result<(), Duration> {
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        bucket.get_or_insert_with(|| BucketShare::new(share, now)).take(now, share)
    }

    fn is_idle_at(&self, now: Instant) -> bool {
        self.bucket.lock().unwrap_or_else(|e| e.into_inner()).as_ref().is_none_or(|b| b.is_full_at(now))
    }
}

// ---- owners of ids ----------------------------------------------------------------

/// Owners remembered under one taking of the cache's lock at most.
const OWNERS_PER_LOCK: usize = 64;

/// The organization that owns an id (`ws-...` -> `acme-corp`), per HCP
/// Terraform address, for the organization allow-list. A resource never
/// changes organization and ids are never reused, so remembering is safe;
/// entries still expire (`ttl`) and the map is bounded (`capacity`): when
/// full, expired entries go first, then the oldest tenth.
#[derive(Debug)]
pub struct OwnerCache {
    map: Mutex<HashMap<String, (String, Instant)>>,
    capacity: usize,
    ttl: Duration,
}

impl OwnerCache {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self { map: Mutex::new(HashMap::new()), capacity: capacity.max(1), ttl }
    }

    /// `f` of the map key of `id` at `address`, written in this thread's
    /// buffer: looking up (the common case: ids are read again and again)
    /// allocates nothing; only a new entry copies its key.
    fn with_key<T>(address: &str, id: &str, f: impl FnOnce(&str) -> T) -> T {
        thread_local! {
            static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        KEY.with(|key| match key.try_borrow_mut() {
            Ok(mut key) => {
                key.clear();
                key.extend([address, "\n", id]);
                let answer = f(&key);
                // A hostile upstream's long id does not stay in the buffer.
                key.truncate(256);
                key.shrink_to(256);
                answer
            }
            Err(_) => f(&format!("{address}\n{id}")),
        })
    }

    /// The remembered owner of `id` at `address`.
    pub fn get(&self, address: &str, id: &str) -> Option<String> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        Self::with_key(address, id, |key| map.get(key).filter(|(_, at)| at.elapsed() < self.ttl).map(|(org, _)| org.clone()))
    }

    /// Remember that `org` owns `id` at `address`.
    pub fn insert(&self, address: &str, id: &str, org: &str) {
        self.insert_all(address, &[(id, org)]);
    }

    /// [`OwnerCache::insert`] of each `(id, org)`: a page's owners under
    /// one reading of the clock, [`OWNERS_PER_LOCK`] at a time under one
    /// lock (a huge answer's do not hold other calls' lookups for long).
    pub fn insert_all(&self, address: &str, owners: &[(&str, &str)]) {
        if owners.is_empty() {
            return;
        }
        let now = Instant::now();
        for owners in owners.chunks(OWNERS_PER_LOCK) {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            for (id, org) in owners.iter().filter(|(id, org)| !id.is_empty() && !org.is_empty()) {
                Self::with_key(address, id, |key| {
                    // Known with the same owner: only its time is renewed.
                    match map.get_mut(key) {
                        Some((known, at)) if known == org => *at = now,
                        _ => self.insert_new(&mut map, key, org, now),
                    }
                });
            }
        }
    }

    fn insert_new(&self, map: &mut HashMap<String, (String, Instant)>, key: &str, org: &str, now: Instant) {
        if map.len() >= self.capacity && !map.contains_key(key) {
            map.retain(|_, (_, at)| now.saturating_duration_since(*at) < self.ttl);
            if map.len() >= self.capacity {
                let mut ages: Vec<(Instant, String)> = map.iter().map(|(k, (_, at))| (*at, k.clone())).collect();
                ages.sort_unstable();
                for (_, k) in ages.into_iter().take((self.capacity / 10).max(1)) {
                    map.remove(&k);
                }
            }
        }
        map.insert(key.to_owned(), (org.to_owned(), now));
    }

    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// ---- the shared upstream -------------------------------------------------------

/// Shared by all routes.
pub struct Upstream {
    http: reqwest::Client,
    pacers: Mutex<HashMap<String, Arc<Pacer>>>,
    /// Replicas sharing each token's rate (`--peer-service`); alone by default.
    peers: Peers,
    observer: Option<StatusObserver>,
    owners: OwnerCache,
    egress: Arc<EgressPolicy>,
    egress_observer: Arc<OnceLock<EgressObserver>>,
    /// The replica's byte budget; every answer is counted in it while read and held.
    budget: ByteBudget,
    /// The public Terraform Registry's base URL (`--registry-address`); `None`: off.
    registry: Option<Url>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("observed", &self.observer.is_some())
            .field("egress_restricted", &self.egress.is_restricted())
            .finish_non_exhaustive()
    }
}

/// Told the HTTP status of every HCP Terraform API answer (0 for a
/// transport failure), for metrics.
pub type StatusObserver = std::sync::Arc<dyn Fn(u16) + Send + Sync>;

impl Upstream {
    /// Build the shared client with no egress restrictions (tests and
    /// embedding; the binary uses [`Upstream::try_with_egress`]). Panics only
    /// if the TLS backend cannot be initialised at all.
    pub fn new(user_agent: &str, timeout: Duration) -> Self {
        Self::try_new(user_agent, timeout).expect("HTTP client for HCP Terraform")
    }

    pub fn try_new(user_agent: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        Self::try_with_egress(user_agent, timeout, EgressPolicy::unrestricted())
    }

    /// Build the shared client whose every connection obeys `egress`.
    pub fn try_with_egress(user_agent: &str, timeout: Duration, egress: EgressPolicy) -> Result<Self, reqwest::Error> {
        let egress = Arc::new(egress);
        let egress_observer = Arc::new(OnceLock::new());
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if egress.is_restricted() {
            builder = builder.dns_resolver(Arc::new(GuardedResolver::new(egress.clone(), egress_observer.clone())));
        }
        let http = builder.build()?;
        Ok(Self {
            http,
            pacers: Mutex::new(HashMap::new()),
            peers: Peers::alone(),
            observer: None,
            owners: OwnerCache::new(OWNER_CACHE_CAPACITY, OWNER_CACHE_TTL),
            egress,
            egress_observer,
            budget: ByteBudget::disabled(),
            registry: crate::registry::parse_address(crate::registry::DEFAULT_REGISTRY_ADDRESS).ok().flatten(),
        })
    }

    /// Counts refused outbound connections (reason `address` or `download_host`).
    pub fn with_egress_observer(self, observer: EgressObserver) -> Self {
        let _ = self.egress_observer.set(observer);
        self
    }

    /// The egress policy, whose address allow-list routes must pass.
    pub fn egress(&self) -> &EgressPolicy {
        &self.egress
    }

    /// A refused outbound request as a tool error (counted; names the host only).
    fn refused(&self, refused: EgressRefused) -> ToolError {
        if let Some(observe) = self.egress_observer.get() {
            observe(refused.reason());
        }
        tracing::warn!(%refused, "outbound request refused");
        ToolError::upstream_msg(&format!("refused by the gateway's network policy: {refused}"), None)
    }

    /// Replaces the owner cache's bounds (tests, tuning).
    pub fn with_owner_cache(mut self, capacity: usize, ttl: Duration) -> Self {
        self.owners = OwnerCache::new(capacity, ttl);
        self
    }

    /// Owners of ids, shared by every route (keyed by address).
    pub fn owners(&self) -> &OwnerCache {
        &self.owners
    }

    /// Counts every answer in `budget` while it is read and held.
    pub fn with_budget(mut self, budget: ByteBudget) -> Self {
        self.budget = budget;
        self
    }

    /// The public Terraform Registry at `address` (`None`: no registry).
    pub fn with_registry(mut self, address: Option<Url>) -> Self {
        self.registry = address;
        self
    }

    /// The public Terraform Registry's base URL, if the gateway has one.
    pub fn registry(&self) -> Option<&Url> {
        self.registry.as_ref()
    }

    /// GET `path` (already percent-encoded, below the registry's address) of
    /// the public Terraform Registry. No credentials of any kind are sent,
    /// redirects are not followed, the egress guard applies, and answers
    /// above [`MAX_REGISTRY_BODY`] are refused. Any HTTP status is returned.
    pub async fn registry_get(&self, path: &str, query: &[(String, String)]) -> Result<ApiResponse, ToolError> {
        let base = self.registry.as_ref().ok_or_else(|| ToolError {
            message: "this gateway has no Terraform Registry configured (its --registry-address is empty); ask the gateway's operator"
                .into(),
            status: None,
            rate_limit: None,
            kind: crate::execute::ToolErrorKind::Forbidden,
        })?;
        let prefix = base.as_str().trim_end_matches('/');
        let mut url = Url::parse(&format!("{prefix}{path}")).map_err(|_| ToolError::invalid("invalid registry request path".into()))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        // Segments are checked and encoded before they get here; a request
        // that still left the registry's address is refused, not sent.
        if url.origin() != base.origin() || !url.path().starts_with(base.path()) {
            return Err(ToolError::invalid("a registry request must stay below the registry's address".into()));
        }
        self.egress.check_url(&url).map_err(|r| self.refused(r))?;
        let resp = self.http.get(url).header(header::ACCEPT, "application/json").send().await.map_err(registry_transport_error)?;
        let status = resp.status().as_u16();
        let rate_limit = RateLimitInfo::from_headers(resp.headers());
        if resp.status().is_redirection() {
            return Err(ToolError::upstream_msg(
                &format!("the Terraform Registry answered HTTP {status} (a redirect), which the gateway does not follow"),
                Some(status),
            ));
        }
        let (bytes, truncated, held) = read_capped(resp, MAX_REGISTRY_BODY, &self.budget, JSON_PARSE_FACTOR).await?;
        if truncated {
            return Err(ToolError::transport(format!(
                "the Terraform Registry's answer is larger than {} MiB; not read",
                MAX_REGISTRY_BODY / (1024 * 1024)
            )));
        }
        let (body, text_excerpt) = parsed_body(&bytes);
        Ok(ApiResponse { status, body, text_excerpt, unparsed: None, location: None, rate_limit, budget: Some(std::sync::Arc::new(held)) })
    }

    /// Reports every API answer's status to `observer`.
    pub fn with_observer(mut self, observer: StatusObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    fn observe(&self, status: u16) {
        if let Some(observer) = &self.observer {
            observer(status);
        }
    }

    /// Shares every token's rate with the replicas `peers` counts.
    pub fn with_peers(mut self, peers: Peers) -> Self {
        self.peers = peers;
        self
    }

    /// Wait for the next slot of the token whose SHA-256 is `key`: this
    /// replica's share of `rate`.
    async fn pace(&self, key: &str, rate: u32) {
        let pacer = {
            let now = Instant::now();
            let mut pacers = self.pacers.lock().unwrap_or_else(|e| e.into_inner());
            if pacers.len() > 4096 {
                // Idle and full again, and nobody waiting: forgetting it changes nothing.
                pacers.retain(|_, p| Arc::strong_count(p) > 1 || !p.is_idle_at(now));
            }
            match pacers.get(key) {
                Some(pacer) => pacer.clone(),
                None => pacers.entry(key.to_owned()).or_default().clone(),
            }
        };
        let _turn = pacer.turn.lock().await;
        let rate = f64::from(rate.max(1));
        loop {
            let share = Share::of(rate, rate, self.peers.count());
            match pacer.take(Instant::now(), share) {
                Ok(()) => return,
                Err(wait) => tokio::time::sleep(wait.min(MAX_PACE_STEP)).await,
            }
        }
    }
}

// ---- one call's client ---------------------------------------------------------

/// An API answer (any status; error mapping is the caller's).
#[derive(Clone, Debug)]
pub struct ApiResponse {
    pub status: u16,
    /// Parsed JSON body; `None` when empty or not JSON.
    pub body: Option<Value>,
    /// A short, printable excerpt of a non-JSON body (for error messages).
    pub text_excerpt: Option<String>,
    /// A successful answer's text, left for the caller to parse
    /// ([`TfcClient::api_unparsed`]; `body` is then `None`).
    pub unparsed: Option<Vec<u8>>,
    /// `Location` of a redirect (e.g. the JSON plan's temporary URL).
    pub location: Option<String>,
    pub rate_limit: RateLimitInfo,
    /// The answer's share of the byte budget, given back when the last copy
    /// of the parsed answer is dropped (after the tool has built its result).
    pub budget: Option<std::sync::Arc<BudgetPermit>>,
}

impl ApiResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A downloaded URL.
#[derive(Clone, Debug)]
pub struct Fetched {
    pub status: u16,
    pub bytes: Vec<u8>,
    /// True when the body was longer than the limit and cut (the start is kept).
    pub truncated: bool,
    /// The body's share of the byte budget, given back when this is dropped.
    _budget: Option<std::sync::Arc<BudgetPermit>>,
}

/// The outcome of [`TfcClient::scan_url`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scanned {
    pub status: u16,
    /// Bytes handed to the sink.
    pub read: usize,
    /// True when the whole body was read (not stopped by the sink or the cap).
    pub complete: bool,
}

enum Opened {
    Body(reqwest::Response),
    RedirectWithoutLocation(u16),
}

/// The view of [`Upstream`] one tool call uses. Its `Debug` output never
/// shows the token.
pub struct TfcClient<'a> {
    upstream: &'a Upstream,
    address: Result<Url, String>,
    token: &'a str,
    /// The token's pacer key (its SHA-256), when the caller keeps it.
    token_key: Option<&'a str>,
    retry_on_429: bool,
    rate: u32,
}

impl std::fmt::Debug for TfcClient<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TfcClient")
            .field("address", &self.address)
            .field("token", &"<redacted>")
            .field("retry_on_429", &self.retry_on_429)
            .field("rate", &self.rate)
            .finish()
    }
}

impl<'a> TfcClient<'a> {
    pub fn new(upstream: &'a Upstream, route: &'a Route, token: &'a str) -> Self {
        Self::with_address(upstream, route, token, Self::checked_address(upstream, route))
    }

    /// [`TfcClient::new`] for a served route: its address is checked and
    /// parsed once for the route (the policy is fixed for the process), not
    /// on every call.
    pub fn for_loaded(upstream: &'a Upstream, loaded: &'a crate::routes::LoadedRoute) -> Self {
        let address = loaded.upstream_address.get_or_init(|| Self::checked_address(upstream, &loaded.route)).clone();
        let key = loaded.tfc_token_key.get_or_init(|| sha256_hex(&loaded.tfc_token));
        Self { token_key: Some(key), ..Self::with_address(upstream, &loaded.route, &loaded.tfc_token, address) }
    }

    fn checked_address(upstream: &Upstream, route: &Route) -> Result<Url, String> {
        // Also checked at the edge (the route is not served); here so no call can leave for it.
        match upstream.egress.tfc_addresses().check(&route.tfc_address) {
            Ok(_) => parse_address(&route.tfc_address),
            Err(refused) => Err(refused.to_string()),
        }
    }

    fn with_address(upstream: &'a Upstream, route: &'a Route, token: &'a str, address: Result<Url, String>) -> Self {
        let rate = match route.upstream.max_requests_per_second {
            0 => DEFAULT_RATE,
            r => r,
        };
        Self { upstream, address, token, token_key: None, retry_on_429: route.upstream.retry_on_429, rate }
    }

    /// Wait for this client's token's next slot.
    async fn pace(&self) {
        match self.token_key {
            Some(key) => self.upstream.pace(key, self.rate).await,
            None => self.upstream.pace(&sha256_hex(self.token), self.rate).await,
        }
    }

    /// The shared upstream (the public Terraform Registry is reached through it, without this client's token).
    pub fn upstream(&self) -> &Upstream {
        self.upstream
    }

    /// The configured address (`https://app.terraform.io`), if it is valid.
    pub fn address(&self) -> Option<&Url> {
        self.address.as_ref().ok()
    }

    /// The remembered organization of `id` at this address.
    pub fn cached_owner(&self, id: &str) -> Option<String> {
        self.address().and_then(|a| self.upstream.owners.get(a.as_str(), id))
    }

    /// Remember the organization of `id` at this address.
    pub fn remember_owner(&self, id: &str, org: &str) {
        self.remember_owners(&[(id, org)]);
    }

    /// Remember the organization of each `(id, org)` at this address.
    pub fn remember_owners(&self, owners: &[(&str, &str)]) {
        if let Some(a) = self.address() {
            self.upstream.owners.insert_all(a.as_str(), owners);
        }
    }

    fn base(&self) -> Result<&Url, ToolError> {
        self.address.as_ref().map_err(|e| ToolError::transport(format!("this server's HCP Terraform address is invalid: {e}")))
    }

    /// True when `url` has the configured address's origin (scheme, host, port).
    pub fn is_api_origin(&self, url: &Url) -> bool {
        self.address().is_some_and(|a| a.origin() == url.origin())
    }

    /// The full URL of an API path (`/workspaces/ws-1`, already percent-encoded).
    pub fn api_url(&self, path: &str, query: &[(String, String)]) -> Result<Url, ToolError> {
        let mut url = api_path_url(self.base()?, path)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        Ok(url)
    }

    /// Call the API. Any HTTP status is returned as an [`ApiResponse`]; a 429
    /// is retried (bounded, honouring the reset time) when the route enables it.
    pub async fn api(&self, verb: Verb, path: &str, query: &[(String, String)], body: Option<&Value>) -> Result<ApiResponse, ToolError> {
        self.exchange(verb, path, query, json_body(body)?, MEDIA_TYPE, true).await
    }

    /// [`TfcClient::api`], leaving a successful answer's text unparsed (in
    /// `unparsed`) for a caller that flattens it while parsing it; an error's
    /// body is parsed as always.
    pub async fn api_unparsed(
        &self,
        verb: Verb,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<ApiResponse, ToolError> {
        self.exchange(verb, path, query, json_body(body)?, MEDIA_TYPE, false).await
    }

    /// Call the API with a raw body of the given content type (policy uploads).
    pub async fn api_raw(
        &self,
        verb: Verb,
        path: &str,
        query: &[(String, String)],
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> Result<ApiResponse, ToolError> {
        self.exchange(verb, path, query, body, content_type, true).await
    }

    async fn exchange(
        &self,
        verb: Verb,
        path: &str,
        query: &[(String, String)],
        body: Option<Vec<u8>>,
        content_type: &str,
        parse_success: bool,
    ) -> Result<ApiResponse, ToolError> {
        let url = self.api_url(path, query)?;
        self.upstream.egress.check_url(&url).map_err(|r| self.upstream.refused(r))?;
        let mut attempt = 0;
        loop {
            self.pace().await;
            let mut req = self
                .upstream
                .http
                .request(method(verb), url.clone())
                .header(header::ACCEPT, MEDIA_TYPE)
                .header(header::AUTHORIZATION, bearer(self.token)?);
            if let Some(b) = &body {
                req = req.header(header::CONTENT_TYPE, content_type).body(b.clone());
            }
            let resp = req.send().await.map_err(|e| {
                self.upstream.observe(0);
                transport_error(e)
            })?;
            let status = resp.status().as_u16();
            self.upstream.observe(status);
            let rate_limit = RateLimitInfo::from_headers(resp.headers());
            let location = resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
            if status == 429 && self.retry_on_429 && attempt < MAX_429_RETRIES {
                attempt += 1;
                drop(resp);
                tokio::time::sleep(rate_limit.retry_after()).await;
                continue;
            }
            // Held as long as the parsed answer: the parsed tree takes a few
            // times the text's size, counted as JSON_PARSE_FACTOR.
            let (bytes, truncated, held) = read_capped(resp, MAX_API_BODY, &self.upstream.budget, JSON_PARSE_FACTOR).await?;
            if truncated {
                return Err(ToolError::transport(format!(
                    "HCP Terraform's answer to {} {} is larger than {} MiB; narrow the request (smaller page_size)",
                    verb.as_str(),
                    path,
                    MAX_API_BODY / (1024 * 1024)
                )));
            }
            let budget = Some(std::sync::Arc::new(held));
            if !parse_success && (200..300).contains(&status) {
                let unparsed = Some(bytes);
                return Ok(ApiResponse { status, body: None, text_excerpt: None, unparsed, location, rate_limit, budget });
            }
            let (body, text_excerpt) = parsed_body(&bytes);
            return Ok(ApiResponse { status, body, text_excerpt, unparsed: None, location, rate_limit, budget });
        }
    }

    /// Download a URL, e.g. a temporary blob URL. The token is sent only if
    /// the URL (or a redirect hop) has the API's origin; redirects are
    /// followed by hand. At most `max_bytes` are kept.
    pub async fn fetch_url(&self, url: &str, max_bytes: usize) -> Result<Fetched, ToolError> {
        self.fetch(url, max_bytes, 1).await
    }

    /// Like [`TfcClient::fetch_url`], for a document the caller parses whole
    /// into a JSON tree: counted at JSON_PARSE_FACTOR times its size.
    pub async fn fetch_json_url(&self, url: &str, max_bytes: usize) -> Result<Fetched, ToolError> {
        self.fetch(url, max_bytes, JSON_PARSE_FACTOR).await
    }

    async fn fetch(&self, url: &str, max_bytes: usize, factor: usize) -> Result<Fetched, ToolError> {
        let resp = match self.open(url).await? {
            Opened::Body(resp) => resp,
            Opened::RedirectWithoutLocation(status) => {
                return Ok(Fetched { status, bytes: Vec::new(), truncated: false, _budget: None });
            }
        };
        let status = resp.status();
        let budget = &self.upstream.budget;
        let (bytes, truncated, held) = read_capped(resp, max_bytes, budget, factor).await?;
        Ok(Fetched { status: status.as_u16(), bytes, truncated, _budget: Some(std::sync::Arc::new(held)) })
    }

    /// Stream a URL (a log) through `sink` chunk by chunk, without keeping
    /// the body: `sink` keeps what it needs (at most `kept_max` bytes, held
    /// in the byte budget with the chunk in hand) and returns `false` to
    /// stop. At most `max_scan` bytes are read. Same URL rules as
    /// [`TfcClient::fetch_url`].
    pub async fn scan_url(
        &self,
        url: &str,
        max_scan: usize,
        kept_max: usize,
        sink: &mut (dyn FnMut(&[u8]) -> bool + Send),
    ) -> Result<Scanned, ToolError> {
        let mut resp = match self.open(url).await? {
            Opened::Body(resp) => resp,
            Opened::RedirectWithoutLocation(status) => return Ok(Scanned { status, read: 0, complete: true }),
        };
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Ok(Scanned { status, read: 0, complete: true });
        }
        let budget = &self.upstream.budget;
        let mut held = budget.empty();
        let mut read = 0usize;
        while let Some(chunk) = resp.chunk().await.map_err(transport_error)? {
            let chunk = &chunk[..chunk.len().min(max_scan - read)];
            budget.grow_to(&mut held, kept_max.saturating_add(chunk.len())).await.map_err(|_| budget_spent())?;
            read += chunk.len();
            if !sink(chunk) {
                return Ok(Scanned { status, read, complete: false });
            }
            if read >= max_scan {
                // More may follow: say the scan stopped short.
                let more = resp.chunk().await.map_err(transport_error)?.is_some_and(|c| !c.is_empty());
                return Ok(Scanned { status, read, complete: !more });
            }
        }
        Ok(Scanned { status, read, complete: true })
    }

    /// Send the GET of a download, following redirects by hand (the token
    /// only ever goes to the API's origin).
    async fn open(&self, url: &str) -> Result<Opened, ToolError> {
        let base = self.base()?;
        let mut current = base.join(url).map_err(|_| ToolError::upstream_msg("HCP Terraform returned an invalid download URL", None))?;
        for _ in 0..=MAX_REDIRECTS {
            if !matches!(current.scheme(), "http" | "https") {
                return Err(ToolError::upstream_msg("HCP Terraform returned a download URL that is not http(s)", None));
            }
            self.upstream.egress.check_download(&current, self.address()).map_err(|r| self.upstream.refused(r))?;
            let same_origin = self.is_api_origin(&current);
            let mut req = self.upstream.http.get(current.clone());
            if same_origin {
                self.pace().await;
                req = req.header(header::AUTHORIZATION, bearer(self.token)?);
            }
            let resp = req.send().await.map_err(transport_error)?;
            let status = resp.status();
            if status.is_redirection() {
                let Some(loc) = resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()) else {
                    return Ok(Opened::RedirectWithoutLocation(status.as_u16()));
                };
                current = current.join(loc).map_err(|_| ToolError::upstream_msg("a download redirected to an invalid URL", None))?;
                continue;
            }
            return Ok(Opened::Body(resp));
        }
        Err(ToolError::upstream_msg("a download redirected too many times", None))
    }
}

/// A JSON:API request document as sent.
fn json_body(body: Option<&Value>) -> Result<Option<Vec<u8>>, ToolError> {
    body.map(|b| serde_json::to_vec(b).map_err(|e| ToolError::invalid(format!("request body: {e}")))).transpose()
}

/// An answer's body: parsed JSON, or (not JSON) an excerpt of its text for
/// the error; neither when it is empty.
pub(crate) fn parsed_body(bytes: &[u8]) -> (Option<Value>, Option<String>) {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return (None, None);
    }
    match crate::answer_json::parse(bytes) {
        Ok(v) => (Some(v), None),
        Err(_) => (None, Some(excerpt(bytes))),
    }
}

/// `{base}/api/v2{path}`. The base address was parsed once when the route
/// loaded, so only the path is parsed here (the host is not parsed again on
/// every call); the URL is the one a full parse of the joined text gives.
fn api_path_url(base: &Url, path: &str) -> Result<Url, ToolError> {
    let joined = |base: &str| format!("{}/api/v2{path}", base.trim_end_matches('/'));
    if path.contains(['?', '#']) {
        // Not a plain path: the full parse decides what it means.
        return Url::parse(&joined(base.as_str())).map_err(|e| ToolError::invalid(format!("invalid request path {path:?}: {e}")));
    }
    let mut url = base.clone();
    url.set_path(&joined(base.path()));
    Ok(url)
}

fn parse_address(address: &str) -> Result<Url, String> {
    let trimmed = address.trim();
    let url = Url::parse(trimmed).map_err(|e| format!("{trimmed:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{trimmed:?} is not an http(s) address"));
    }
    // Keep a path prefix (Terraform Enterprise behind a path), drop query and fragment.
    let mut url = url;
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

fn method(verb: Verb) -> reqwest::Method {
    match verb {
        Verb::Get => reqwest::Method::GET,
        Verb::Post => reqwest::Method::POST,
        Verb::Patch => reqwest::Method::PATCH,
        Verb::Put => reqwest::Method::PUT,
        Verb::Delete => reqwest::Method::DELETE,
    }
}

fn bearer(token: &str) -> Result<HeaderValue, ToolError> {
    let mut v = HeaderValue::from_str(&format!("Bearer {}", token.trim()))
        .map_err(|_| ToolError::transport("this server's HCP Terraform token is not a valid header value".into()))?;
    v.set_sensitive(true);
    Ok(v)
}

/// A transport error, without URLs (blob URLs are capabilities).
fn transport_error(e: reqwest::Error) -> ToolError {
    let timeout = e.is_timeout();
    let connect = e.is_connect();
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    let what = if timeout {
        "HCP Terraform did not answer in time"
    } else if connect {
        "could not connect to HCP Terraform"
    } else {
        "the request to HCP Terraform failed"
    };
    ToolError::transport(format!("{what} ({msg}); retry later"))
}

/// A transport error of a registry call, without the URL.
fn registry_transport_error(e: reqwest::Error) -> ToolError {
    let what = if e.is_timeout() {
        "the Terraform Registry did not answer in time"
    } else if e.is_connect() {
        "could not connect to the Terraform Registry"
    } else {
        "the request to the Terraform Registry failed"
    };
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    ToolError::transport(format!("{what} ({msg}); retry later"))
}

/// Budget counted for an API answer per byte of text: the text plus its parsed `Value` tree.
const JSON_PARSE_FACTOR: usize = 3;

fn budget_spent() -> ToolError {
    ToolError::transport(
        "the gateway is handling too much data at the moment to read HCP Terraform's answer; retry in a few seconds".into(),
    )
}

/// Room made at once for an answer that declares its length, at most.
const MAX_PRESIZE: usize = 1024 * 1024;

/// Read at most `max` bytes, counting `factor` times what is read in the budget ahead of each chunk.
async fn read_capped(
    mut resp: reqwest::Response,
    max: usize,
    budget: &ByteBudget,
    factor: usize,
) -> Result<(Vec<u8>, bool, BudgetPermit), ToolError> {
    let mut held = budget.empty();
    // Room for the length the answer declares, counted in the budget first
    // (a false one takes at most `MAX_PRESIZE`): grown chunk by chunk, the
    // buffer was copied about once more than it was read.
    let declared = resp.content_length().and_then(|n| usize::try_from(n).ok()).map_or(0, |n| n.min(max).min(MAX_PRESIZE));
    budget.grow_to(&mut held, declared.saturating_mul(factor)).await.map_err(|_| budget_spent())?;
    let mut out = Vec::with_capacity(declared);
    while let Some(chunk) = resp.chunk().await.map_err(transport_error)? {
        let room = max.saturating_sub(out.len());
        let take = chunk.len().min(room);
        budget.grow_to(&mut held, (out.len() + take).saturating_mul(factor)).await.map_err(|_| budget_spent())?;
        if chunk.len() > room {
            out.extend_from_slice(&chunk[..room]);
            return Ok((out, true, held));
        }
        out.extend_from_slice(&chunk);
    }
    Ok((out, false, held))
}

fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]);
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_headers_normalised() {
        let mut h = HeaderMap::new();
        h.insert("X-RateLimit-Limit", HeaderValue::from_static("30"));
        h.insert("X-RateLimit-Reset", HeaderValue::from_static("0.523"));
        let r = RateLimitInfo::from_headers(&h);
        assert_eq!(r, RateLimitInfo { limit: Some(30), remaining: None, reset_secs: Some(0.523) });
        assert_eq!(r.to_string(), "ratelimit-limit=30 ratelimit-remaining=unknown ratelimit-reset=0.523");
        assert_eq!(r.header_pairs(), vec![("ratelimit-limit", "30".into()), ("ratelimit-reset", "0.523".into())]);
        assert!(RateLimitInfo::from_headers(&HeaderMap::new()).is_empty());
    }

    #[test]
    fn pacer_allows_burst_then_spaces() {
        let now = Instant::now();
        let p = Pacer::default();
        let share = Share::of(3.0, 3.0, 1);
        for _ in 0..3 {
            assert_eq!(p.take(now, share), Ok(()));
        }
        let w = p.take(now, share).unwrap_err();
        assert!(w > Duration::from_millis(300) && w <= Duration::from_millis(334), "{w:?}");
    }

    #[tokio::test]
    async fn pacing_takes_this_replicas_share_and_follows_the_count() {
        let peers = Peers::alone();
        peers.set(3);
        let up = Upstream::new("t", Duration::from_secs(1)).with_peers(peers.clone());
        // 30/s shared by 3: a burst of 10, then one every 100 ms.
        let start = Instant::now();
        for _ in 0..10 {
            up.pace("tok", 30).await;
        }
        assert!(start.elapsed() < Duration::from_millis(50), "{:?}", start.elapsed());
        for _ in 0..3 {
            up.pace("tok", 30).await;
        }
        let third = start.elapsed();
        assert!(third >= Duration::from_millis(290), "{third:?}");
        // Alone again: the same token refills three times faster (no burst granted at once).
        peers.set(1);
        let start = Instant::now();
        for _ in 0..6 {
            up.pace("tok", 30).await;
        }
        let alone = start.elapsed();
        assert!(alone >= Duration::from_millis(150) && alone < Duration::from_millis(450), "{alone:?}");
        // Other tokens have their own bucket.
        let start = Instant::now();
        up.pace("other", 30).await;
        assert!(start.elapsed() < Duration::from_millis(50));
    }

    #[test]
    fn api_urls_are_what_a_full_parse_of_the_joined_text_gives() {
        let paths = [
            "/workspaces/ws-1",
            "/organizations/acme%20corp/workspaces",
            "/organizations/%C3%A9t%C3%A9/projects",
            "/workspaces/ws-1/../../admin/users",
            "/workspaces/%2e%2e/x",
            "/workspaces/a b/c",
            "/workspaces/ünïcode/x",
            "/runs/run-1?include=plan",
            "/runs/run-1#frag",
            "",
        ];
        for base in ["https://app.terraform.io/", "http://127.0.0.1:8080/", "https://tfe.example.com/tfe/", "https://[::1]:9443/x/y/"] {
            let base = parse_address(base).unwrap();
            for path in paths {
                let full = Url::parse(&format!("{}/api/v2{path}", base.as_str().trim_end_matches('/'))).unwrap();
                assert_eq!(api_path_url(&base, path).unwrap(), full, "{base} + {path}");
            }
        }
    }

    #[test]
    fn debug_redacts_the_token() {
        let up = Upstream::new("t", Duration::from_secs(1));
        let route: Route = serde_json::from_value(serde_json::json!({
            "version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": "https://app.terraform.io", "methods": []
        }))
        .unwrap();
        let c = TfcClient::new(&up, &route, "very-secret-token");
        assert!(!format!("{c:?}").contains("very-secret"));
    }

    #[test]
    fn owner_cache_is_keyed_by_address_bounded_and_expires() {
        let c = OwnerCache::new(10, Duration::from_secs(60));
        c.insert("https://a/", "ws-1", "acme");
        assert_eq!(c.get("https://a/", "ws-1").as_deref(), Some("acme"));
        assert_eq!(c.get("https://b/", "ws-1"), None);
        for i in 0..50 {
            c.insert("https://a/", &format!("ws-x{i}"), "acme");
        }
        assert!(c.len() <= 10, "{}", c.len());
        assert_eq!(c.get("https://a/", "ws-x49").as_deref(), Some("acme"));
        // A new owner replaces the old one; an id with a newline in it is not another address's.
        c.insert("https://a/", "ws-x49", "other");
        assert_eq!(c.get("https://a/", "ws-x49").as_deref(), Some("other"));
        assert_eq!(c.get("https://a/\nws-x49", ""), None);
        assert_eq!(c.get("https://a/", &"x".repeat(100_000)), None);
        let c = OwnerCache::new(10, Duration::ZERO);
        c.insert("https://a/", "ws-1", "acme");
        assert_eq!(c.get("https://a/", "ws-1"), None);
        // Learning the same owner again renews it.
        let c = OwnerCache::new(10, Duration::from_millis(300));
        c.insert("https://a/", "ws-1", "acme");
        std::thread::sleep(Duration::from_millis(200));
        c.insert("https://a/", "ws-1", "acme");
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(c.get("https://a/", "ws-1").as_deref(), Some("acme"));
    }

    #[tokio::test]
    async fn an_answer_is_read_into_room_for_its_declared_length_counted_first() {
        // Built from a body, a response declares the body's length.
        let answer = |body: Vec<u8>| reqwest::Response::from(http::Response::new(body));
        let budget = ByteBudget::new(64 * 1024, Duration::from_millis(50));
        let (bytes, truncated, held) = read_capped(answer(b"{\"data\":[]}".to_vec()), 1024, &budget, 4).await.expect("read");
        assert_eq!((bytes.as_slice(), truncated, bytes.capacity()), (&b"{\"data\":[]}"[..], false, 11));
        assert_eq!(held.kib(), 1);
        // A length over the cap makes room for the cap only.
        let (bytes, truncated, _) = read_capped(answer(b"0123456789".to_vec()), 4, &budget, 4).await.expect("read");
        assert_eq!((bytes.as_slice(), truncated, bytes.capacity()), (&b"0123"[..], true, 4));
        // A length the budget has no room for is refused before anything is read.
        assert!(read_capped(answer(vec![b' '; 20 * 1024]), 1 << 20, &budget, 4).await.is_err(), "over the budget");
        let (bytes, _, _) = read_capped(answer(vec![b' '; 15 * 1024]), 1 << 20, &budget, 4).await.expect("within it");
        assert_eq!(bytes.capacity(), 15 * 1024);
    }

    #[test]
    fn a_pages_owners_are_remembered_at_once_within_the_bound() {
        let c = OwnerCache::new(10, Duration::from_secs(60));
        let ids: Vec<String> = (0..150).map(|i| format!("ws-p{i}")).collect();
        let mut owners: Vec<(&str, &str)> = ids.iter().map(|id| (id.as_str(), "acme")).collect();
        owners.extend([("", "acme"), ("ws-empty-owner", ""), ("ws-1", "acme"), ("ws-1", "other")]);
        c.insert_all("https://a/", &owners);
        assert!(c.len() <= 10, "{}", c.len());
        // Of one id twice, the last owner; nothing empty is remembered.
        assert_eq!(c.get("https://a/", "ws-1").as_deref(), Some("other"));
        assert_eq!(c.get("https://a/", "ws-empty-owner"), None);
        assert_eq!(c.get("https://a/", ""), None);
        c.insert_all("https://a/", &[]);
        assert_eq!(c.get("https://a/", "ws-1").as_deref(), Some("other"));
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_address("https://app.terraform.io").unwrap().as_str(), "https://app.terraform.io/");
        assert_eq!(parse_address("https://tfe.example.com/tfe/").unwrap().as_str(), "https://tfe.example.com/tfe/");
        assert!(parse_address("ftp://x").is_err());
        assert!(parse_address("not a url").is_err());
    }
}
