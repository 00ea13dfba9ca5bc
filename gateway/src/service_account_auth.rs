//! In-cluster agents by ServiceAccount (`spec.auth.serviceAccounts`).
//!
//! An agent sends its projected ServiceAccount token, minted for the
//! gateway's audience, as `Authorization: Bearer`. The gateway asks the API
//! server (TokenReview, `authentication.k8s.io/v1`, with `spec.audiences`)
//! who it is, and accepts it when the answer is authenticated, for the
//! gateway's audience, as `system:serviceaccount:<ns>:<name>` of a listed
//! ServiceAccount (and in that ServiceAccount's groups).
//!
//! What protects the API server from a client flooding random tokens:
//! - only a request with a valid URL token gets here, after the server's own
//!   request rate;
//! - a token that is not JWT-shaped, or longer than [`MAX_TOKEN_BYTES`], is
//!   refused without a review;
//! - answers, positive and negative, are cached briefly, keyed by the
//!   token's SHA-256 (never the token), in a bounded map; a positive answer
//!   never outlives the token's own `exp`;
//! - TokenReviews are rate-limited per server and per replica; beyond that
//!   the request gets 503 with `Retry-After` (and the API server nothing).
//!
//! API errors are not cached (the next request asks again, under the rate).

use std::{
    collections::{HashMap, VecDeque},
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::http::{HeaderMap, header};
use base64::Engine;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use kube::api::{Api, PostParams};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::{limits::RateLimiter, metrics::Metrics, route::ServiceAccountName};

/// Default audience of the tokens agents present (gateway flag `--service-account-audience`).
pub const DEFAULT_AUDIENCE: &str = "tfc-mcp-gateway";
/// Longer Bearer values are refused without a review (projected tokens are about 1 KiB).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Key of the replica-wide TokenReview bucket (server keys contain a `/`).
const REPLICA_KEY: &str = "*";

/// The caller a request was authenticated as (`system:serviceaccount:<ns>:<name>`),
/// kept in the request extensions for the audit line. Never a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity(pub String);

/// Who the API server says a token belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Review {
    Authenticated {
        username: String,
        groups: Vec<String>,
    },
    /// Not a valid token for the audience (expired, wrong audience, deleted ServiceAccount, garbage).
    Refused,
}

/// The TokenReview call, behind a trait so the cache and limits are tested without an API server.
pub trait TokenReviewer: Send + Sync {
    fn review<'a>(&'a self, token: &'a str, audience: &'a str) -> Pin<Box<dyn Future<Output = Result<Review, String>> + Send + 'a>>;
}

/// TokenReview through the Kubernetes API (needs `create` on `tokenreviews`).
pub struct KubeTokenReviewer {
    api: Api<TokenReview>,
}

impl KubeTokenReviewer {
    pub fn new(client: kube::Client) -> Self {
        Self { api: Api::all(client) }
    }
}

impl TokenReviewer for KubeTokenReviewer {
    fn review<'a>(&'a self, token: &'a str, audience: &'a str) -> Pin<Box<dyn Future<Output = Result<Review, String>> + Send + 'a>> {
        Box::pin(async move {
            let request = TokenReview {
                spec: TokenReviewSpec { token: Some(token.to_owned()), audiences: Some(vec![audience.to_owned()]) },
                ..TokenReview::default()
            };
            // The error text of a failed call never holds the token (it is in the body only).
            let answer = self.api.create(&PostParams::default(), &request).await.map_err(|e| format!("TokenReview failed: {e}"))?;
            let Some(status) = answer.status else { return Ok(Review::Refused) };
            // No audiences in the answer means "valid for the API server's own
            // audience", not ours: refused.
            let for_audience = status.audiences.as_ref().is_some_and(|a| a.iter().any(|a| a == audience));
            match (status.authenticated, status.user) {
                (Some(true), Some(user)) if for_audience => {
                    Ok(Review::Authenticated { username: user.username.unwrap_or_default(), groups: user.groups.unwrap_or_default() })
                }
                _ => Ok(Review::Refused),
            }
        })
    }
}

/// Settings of [`ServiceAccountAuth`] (gateway flags).
#[derive(Clone, Debug)]
pub struct ServiceAccountAuthSettings {
    pub audience: String,
    /// How long an accepted token is trusted without asking again; also how
    /// long a deleted ServiceAccount's token may still work.
    pub positive_ttl: Duration,
    pub negative_ttl: Duration,
    pub max_cache_entries: usize,
    /// TokenReviews per second per replica (burst twice that).
    pub reviews_per_second: f64,
    /// TokenReviews per second per server (burst twice that).
    pub reviews_per_second_per_server: f64,
}

impl Default for ServiceAccountAuthSettings {
    fn default() -> Self {
        Self {
            audience: DEFAULT_AUDIENCE.to_owned(),
            positive_ttl: Duration::from_secs(30),
            negative_ttl: Duration::from_secs(10),
            max_cache_entries: 10_000,
            reviews_per_second: 20.0,
            reviews_per_second_per_server: 5.0,
        }
    }
}

/// The outcome for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// The caller, `system:serviceaccount:<ns>:<name>`.
    Accepted(String),
    Missing,
    /// Invalid token, or a valid one of a ServiceAccount this server does not list.
    Refused,
    /// Too many TokenReviews now; retry after this long.
    Busy(Duration),
    /// The API server could not answer.
    Unavailable,
}

pub struct ServiceAccountAuth {
    reviewer: Arc<dyn TokenReviewer>,
    settings: ServiceAccountAuthSettings,
    cache: Mutex<ReviewCache>,
    server_rate: RateLimiter,
    replica_rate: RateLimiter,
    metrics: Option<Metrics>,
}

impl ServiceAccountAuth {
    pub fn new(reviewer: Arc<dyn TokenReviewer>, settings: ServiceAccountAuthSettings) -> Self {
        let server_rate = RateLimiter::new(settings.reviews_per_second_per_server, settings.reviews_per_second_per_server * 2.0);
        let replica_rate = RateLimiter::new(settings.reviews_per_second, settings.reviews_per_second * 2.0);
        let cache = Mutex::new(ReviewCache::new(settings.max_cache_entries));
        Self { reviewer, settings, cache, server_rate, replica_rate, metrics: None }
    }

    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn audience(&self) -> &str {
        &self.settings.audience
    }

    /// Checks the request's Bearer token against the ServiceAccounts `server` lists.
    pub async fn check(&self, server: &str, headers: &HeaderMap, allowed: &[ServiceAccountName]) -> Check {
        let token = match bearer(headers) {
            Bearer::Missing => return Check::Missing,
            Bearer::Malformed => return Check::Refused,
            Bearer::Token(token) => token,
        };
        if !looks_like_jwt(token) {
            self.count("malformed");
            return Check::Refused;
        }
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = Instant::now();
        let cached = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key, now);
        let review = match cached {
            Some(review) => {
                self.count("cached");
                review
            }
            None => {
                // Per server first: a server spending its own share does not touch the replica's.
                if let Err(wait) = self.server_rate.check(server, now) {
                    self.count("rate_limited");
                    return Check::Busy(wait);
                }
                if let Err(wait) = self.replica_rate.check(REPLICA_KEY, now) {
                    self.count("rate_limited");
                    return Check::Busy(wait);
                }
                let review = match self.reviewer.review(token, &self.settings.audience).await {
                    Ok(review) => review,
                    Err(error) => {
                        self.count("error");
                        tracing::warn!(server = %server, error = %error, "ServiceAccount token could not be reviewed");
                        return Check::Unavailable;
                    }
                };
                self.count(if matches!(review, Review::Authenticated { .. }) { "authenticated" } else { "refused" });
                let ttl = match &review {
                    Review::Authenticated { .. } => {
                        let left = token_expires_in(token).unwrap_or(self.settings.positive_ttl);
                        self.settings.positive_ttl.min(left)
                    }
                    Review::Refused => self.settings.negative_ttl,
                };
                if !ttl.is_zero() {
                    self.cache.lock().unwrap_or_else(|e| e.into_inner()).put(key, review.clone(), Instant::now() + ttl);
                }
                review
            }
        };
        match review {
            Review::Authenticated { username, groups } if is_allowed(&username, &groups, allowed) => Check::Accepted(username),
            _ => Check::Refused,
        }
    }

    fn count(&self, result: &'static str) {
        if let Some(metrics) = &self.metrics {
            metrics.token_review(result);
        }
    }
}

/// True when the reviewed identity is exactly one of the listed ServiceAccounts.
pub fn is_allowed(username: &str, groups: &[String], allowed: &[ServiceAccountName]) -> bool {
    allowed.iter().any(|account| {
        username == account.username() && groups.iter().any(|g| *g == format!("system:serviceaccounts:{}", account.namespace))
    })
}

enum Bearer<'a> {
    Missing,
    Malformed,
    Token(&'a str),
}

fn bearer(headers: &HeaderMap) -> Bearer<'_> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Bearer::Missing };
    let Ok(value) = value.to_str() else { return Bearer::Malformed };
    let Some((scheme, token)) = value.trim().split_once(' ') else { return Bearer::Malformed };
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Bearer::Malformed;
    }
    Bearer::Token(token)
}

/// Three non-empty base64url segments, within [`MAX_TOKEN_BYTES`].
fn looks_like_jwt(token: &str) -> bool {
    token.len() <= MAX_TOKEN_BYTES
        && token.split('.').count() == 3
        && token.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// Time left before the token's `exp` claim (read unverified: it only ever
/// shortens how long a positive answer is cached).
fn token_expires_in(token: &str) -> Option<Duration> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_i64()?;
    let left = exp.saturating_sub(chrono::Utc::now().timestamp());
    Some(Duration::from_secs(u64::try_from(left).unwrap_or(0)))
}

/// Reviews by token hash, each until its own deadline; at most `max` entries
/// (the oldest go first when full).
struct ReviewCache {
    max: usize,
    entries: HashMap<[u8; 32], (Review, Instant)>,
    order: VecDeque<[u8; 32]>,
}

impl ReviewCache {
    fn new(max: usize) -> Self {
        Self { max: max.max(1), entries: HashMap::new(), order: VecDeque::new() }
    }

    fn get(&mut self, key: &[u8; 32], now: Instant) -> Option<Review> {
        match self.entries.get(key) {
            Some((review, until)) if now < *until => Some(review.clone()),
            Some(_) => {
                self.entries.remove(key);
                None
            }
            None => None,
        }
    }

    fn put(&mut self, key: [u8; 32], review: Review, until: Instant) {
        if self.entries.insert(key, (review, until)).is_none() {
            self.order.push_back(key);
        }
        while self.entries.len() > self.max {
            let Some(oldest) = self.order.pop_front() else { break };
            self.entries.remove(&oldest);
        }
        // Keys dropped on read (expired) stay in the order until here.
        if self.order.len() > self.max.saturating_mul(2) {
            let entries = &self.entries;
            self.order.retain(|k| entries.contains_key(k));
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::http::HeaderValue;

    use super::*;

    /// Answers from a fixed table and counts the calls.
    struct FakeReviewer {
        calls: AtomicUsize,
        known: HashMap<String, String>,
    }

    impl TokenReviewer for FakeReviewer {
        fn review<'a>(&'a self, token: &'a str, audience: &'a str) -> Pin<Box<dyn Future<Output = Result<Review, String>> + Send + 'a>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let answer = match self.known.get(token) {
                Some(user) if audience == DEFAULT_AUDIENCE => {
                    let namespace = user.split(':').nth(2).unwrap_or_default();
                    Review::Authenticated {
                        username: user.clone(),
                        groups: vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{namespace}")],
                    }
                }
                _ => Review::Refused,
            };
            Box::pin(async move { Ok(answer) })
        }
    }

    fn jwt(subject: &str, exp: i64) -> String {
        let b64 = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", b64(&serde_json::json!({"alg": "RS256"})), b64(&serde_json::json!({"sub": subject, "exp": exp})))
    }

    fn headers(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
        headers
    }

    fn allowed() -> Vec<ServiceAccountName> {
        vec![ServiceAccountName { namespace: "team-a".into(), name: "agent".into() }]
    }

    fn auth(known: &[(&str, &str)], settings: ServiceAccountAuthSettings) -> (Arc<FakeReviewer>, ServiceAccountAuth) {
        let reviewer = Arc::new(FakeReviewer {
            calls: AtomicUsize::new(0),
            known: known.iter().map(|(t, u)| ((*t).to_owned(), (*u).to_owned())).collect(),
        });
        let auth = ServiceAccountAuth::new(reviewer.clone(), settings);
        (reviewer, auth)
    }

    fn far() -> i64 {
        chrono::Utc::now().timestamp() + 3600
    }

    #[tokio::test]
    async fn listed_account_is_accepted_and_cached() {
        let good = jwt("a", far());
        let (reviewer, auth) = auth(&[(&good, "system:serviceaccount:team-a:agent")], ServiceAccountAuthSettings::default());
        for _ in 0..5 {
            assert_eq!(auth.check("ns/s", &headers(&good), &allowed()).await, Check::Accepted("system:serviceaccount:team-a:agent".into()));
        }
        assert_eq!(reviewer.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn unlisted_account_missing_and_malformed_tokens_are_refused() {
        let other = jwt("b", far());
        let (reviewer, auth) = auth(&[(&other, "system:serviceaccount:team-a:other")], ServiceAccountAuthSettings::default());
        assert_eq!(auth.check("ns/s", &headers(&other), &allowed()).await, Check::Refused);
        assert_eq!(auth.check("ns/s", &HeaderMap::new(), &allowed()).await, Check::Missing);
        for garbage in ["not-a-jwt", "a.b", "a..c", "a.b.c d", &"x.".repeat(MAX_TOKEN_BYTES)] {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {garbage}")).unwrap());
            assert_eq!(auth.check("ns/s", &h, &allowed()).await, Check::Refused);
        }
        let mut basic = HeaderMap::new();
        basic.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic YTpi"));
        assert_eq!(auth.check("ns/s", &basic, &allowed()).await, Check::Refused);
        // Only the JWT-shaped, unlisted token was reviewed.
        assert_eq!(reviewer.calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn identity_must_match_namespace_name_and_group_exactly() {
        let groups = |ns: &str| vec!["system:serviceaccounts".to_owned(), format!("system:serviceaccounts:{ns}")];
        assert!(is_allowed("system:serviceaccount:team-a:agent", &groups("team-a"), &allowed()));
        assert!(!is_allowed("system:serviceaccount:team-b:agent", &groups("team-b"), &allowed()));
        assert!(!is_allowed("system:serviceaccount:team-a:agent2", &groups("team-a"), &allowed()));
        assert!(!is_allowed("system:serviceaccount:team-a:agent:x", &groups("team-a"), &allowed()));
        // A user (say, from OIDC) named like a ServiceAccount but without its group.
        assert!(!is_allowed("system:serviceaccount:team-a:agent", &["oidc:users".to_owned()], &allowed()));
        assert!(!is_allowed("system:serviceaccount:team-a:agent", &groups("team-a"), &[]));
    }

    #[tokio::test]
    async fn negative_answers_are_cached_too() {
        let (reviewer, auth) = auth(&[], ServiceAccountAuthSettings::default());
        let bad = jwt("x", far());
        for _ in 0..5 {
            assert_eq!(auth.check("ns/s", &headers(&bad), &allowed()).await, Check::Refused);
        }
        assert_eq!(reviewer.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn positive_answer_expires_after_its_ttl() {
        let good = jwt("a", far());
        let settings = ServiceAccountAuthSettings { positive_ttl: Duration::from_millis(300), ..ServiceAccountAuthSettings::default() };
        let (reviewer, auth) = auth(&[(&good, "system:serviceaccount:team-a:agent")], settings);
        assert!(matches!(auth.check("ns/s", &headers(&good), &allowed()).await, Check::Accepted(_)));
        assert!(matches!(auth.check("ns/s", &headers(&good), &allowed()).await, Check::Accepted(_)));
        assert_eq!(reviewer.calls.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(matches!(auth.check("ns/s", &headers(&good), &allowed()).await, Check::Accepted(_)));
        assert_eq!(reviewer.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_token_about_to_expire_is_not_cached_past_its_exp() {
        let expired = jwt("a", chrono::Utc::now().timestamp() - 10);
        let (reviewer, auth) = auth(&[(&expired, "system:serviceaccount:team-a:agent")], ServiceAccountAuthSettings::default());
        auth.check("ns/s", &headers(&expired), &allowed()).await;
        auth.check("ns/s", &headers(&expired), &allowed()).await;
        assert_eq!(reviewer.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_flood_of_random_tokens_is_bounded_by_the_review_rate() {
        let settings = ServiceAccountAuthSettings {
            reviews_per_second: 10.0,
            reviews_per_second_per_server: 3.0,
            ..ServiceAccountAuthSettings::default()
        };
        let (reviewer, auth) = auth(&[], settings);
        let mut busy = 0;
        for i in 0..200 {
            if let Check::Busy(wait) = auth.check("ns/flood", &headers(&jwt(&i.to_string(), far())), &allowed()).await {
                assert!(wait > Duration::ZERO);
                busy += 1;
            }
        }
        // Burst of the per-server bucket (2 x 3), then nothing within the same instant (a little refill at most).
        let calls = reviewer.calls.load(Ordering::SeqCst);
        assert!((6..=8).contains(&calls), "{calls} reviews");
        assert_eq!(busy, 200 - calls);
        // Another server still has its own share, within the replica's.
        let mut other = 0;
        for i in 0..200 {
            if !matches!(auth.check("ns/other", &headers(&jwt(&format!("o{i}"), far())), &allowed()).await, Check::Busy(_)) {
                other += 1;
            }
        }
        assert!((6..=8).contains(&other), "{other}");
        assert!(reviewer.calls.load(Ordering::SeqCst) <= 20);
    }

    #[test]
    fn cache_is_bounded_and_drops_the_oldest() {
        let mut cache = ReviewCache::new(3);
        let now = Instant::now();
        for i in 0..10u8 {
            cache.put([i; 32], Review::Refused, now + Duration::from_secs(60));
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&[9; 32], now).is_some());
        assert!(cache.get(&[0; 32], now).is_none());
        // Expired entries are not answered.
        cache.put([42; 32], Review::Refused, now);
        assert!(cache.get(&[42; 32], now).is_none());
    }

    #[test]
    fn exp_is_read_from_the_payload() {
        let left = token_expires_in(&jwt("a", chrono::Utc::now().timestamp() + 100)).unwrap();
        assert!(left <= Duration::from_secs(100) && left >= Duration::from_secs(98));
        assert_eq!(token_expires_in("a.%%%.c"), None);
    }
}
