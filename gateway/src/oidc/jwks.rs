//! The issuers' signing keys: discovery document -> `jwks_uri` -> JWKS,
//! fetched through the egress guard with size and time limits, cached per
//! issuer, refreshed when a token names an unknown `kid` or the keys are older
//! than `jwks_max_age` - but never more than once per `jwks_min_refresh` per
//! issuer, and one fetch at a time, so no client can make the gateway hammer
//! an issuer.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use jsonwebtoken::{
    Algorithm, DecodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse},
};
use serde::Deserialize;
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::{OidcSettings, issuer};
use crate::egress::{EgressObserver, EgressPolicy, GuardedResolver};

/// Issuers whose keys are kept (one per distinct issuer of the routes); the
/// least recently fetched one is dropped past this.
const MAX_ISSUERS: usize = 1024;
/// Keys kept per issuer.
const MAX_KEYS: usize = 64;

/// The answer for one token's key.
pub enum KeyLookup {
    Found(DecodingKey),
    /// No key of the issuer has this `kid` (or fits the algorithm).
    Unknown,
    /// The issuer's keys could not be fetched (and none were cached).
    Unavailable,
}

#[derive(Default)]
struct KeyState {
    keys: Vec<Jwk>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

#[derive(Default)]
struct IssuerKeys {
    state: Mutex<KeyState>,
    /// Held while fetching: one fetch per issuer at a time.
    fetching: tokio::sync::Mutex<()>,
}

/// Every issuer's keys, shared by all routes.
pub struct JwksCache {
    http: reqwest::Client,
    egress: Arc<EgressPolicy>,
    settings: OidcSettings,
    issuers: Mutex<HashMap<String, Arc<IssuerKeys>>>,
    fetches: std::sync::atomic::AtomicU64,
    /// Told `ok` or `error` after each fetch, for metrics.
    pub(super) observer: Option<FetchObserver>,
}

/// Told the outcome (`ok`, `error`) of every key fetch.
pub type FetchObserver = Arc<dyn Fn(&'static str) + Send + Sync>;

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct RawJwkSet {
    keys: Vec<Value>,
}

impl JwksCache {
    pub fn new(settings: OidcSettings, egress: EgressPolicy, observer: Option<EgressObserver>) -> Result<Self, reqwest::Error> {
        let egress = Arc::new(egress);
        let observers = Arc::new(OnceLock::new());
        if let Some(observer) = observer {
            let _ = observers.set(observer);
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("tfc-mcp-gateway/", env!("CARGO_PKG_VERSION"), " (oidc)"))
            .timeout(settings.fetch_timeout)
            .connect_timeout(settings.fetch_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if egress.is_restricted() {
            builder = builder.dns_resolver(Arc::new(GuardedResolver::new(egress.clone(), observers)));
        }
        Ok(Self {
            http: builder.build()?,
            egress,
            settings,
            issuers: Mutex::new(HashMap::new()),
            fetches: Default::default(),
            observer: None,
        })
    }

    /// How many key fetches (discovery + JWKS) were started, for tests and logs.
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn issuer_keys(&self, issuer: &str) -> Arc<IssuerKeys> {
        let mut issuers = self.issuers.lock().unwrap_or_else(|e| e.into_inner());
        if !issuers.contains_key(issuer) && issuers.len() >= MAX_ISSUERS {
            let oldest = issuers
                .iter()
                .min_by_key(|(_, keys)| keys.state.lock().unwrap_or_else(|e| e.into_inner()).last_attempt)
                .map(|(name, _)| name.clone());
            if let Some(oldest) = oldest {
                issuers.remove(&oldest);
            }
        }
        issuers.entry(issuer.to_owned()).or_default().clone()
    }

    /// The key that verifies a token of `issuer` with header `kid` and `alg`.
    pub async fn key_for(&self, issuer: &str, kid: Option<&str>, alg: Algorithm) -> KeyLookup {
        let keys = self.issuer_keys(issuer);
        let (found, fresh, may_refresh) = self.cached(&keys, kid, alg);
        if let Some(key) = found.as_ref().filter(|_| fresh) {
            return decoding_key(key);
        }
        if !may_refresh {
            return found.as_ref().map_or(KeyLookup::Unknown, decoding_key);
        }
        let _one_at_a_time = keys.fetching.lock().await;
        // Another request may have refreshed while this one waited.
        let (found, fresh, may_refresh) = self.cached(&keys, kid, alg);
        if let Some(key) = found.as_ref().filter(|_| fresh) {
            return decoding_key(key);
        }
        if !may_refresh {
            return found.as_ref().map_or(KeyLookup::Unknown, decoding_key);
        }
        keys.state.lock().unwrap_or_else(|e| e.into_inner()).last_attempt = Some(Instant::now());
        self.fetches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let fetched = tokio::time::timeout(self.settings.fetch_timeout, self.fetch(issuer)).await.unwrap_or(Err("timed out".into()));
        if let Some(observe) = &self.observer {
            observe(if fetched.is_ok() { "ok" } else { "error" });
        }
        match fetched {
            Ok(fetched) => {
                tracing::info!(issuer_host = %host_of(issuer), keys = fetched.len(), "fetched the OIDC issuer's signing keys");
                let mut state = keys.state.lock().unwrap_or_else(|e| e.into_inner());
                state.keys = fetched;
                state.fetched_at = Some(Instant::now());
            }
            Err(error) => {
                // Keys already cached stay in use: an issuer hiccup does not lock everyone out.
                tracing::warn!(issuer_host = %host_of(issuer), %error, "could not fetch the OIDC issuer's signing keys");
                let state = keys.state.lock().unwrap_or_else(|e| e.into_inner());
                if state.keys.is_empty() {
                    return KeyLookup::Unavailable;
                }
            }
        }
        let state = keys.state.lock().unwrap_or_else(|e| e.into_inner());
        select(&state.keys, kid, alg).map_or(KeyLookup::Unknown, decoding_key)
    }

    /// (the matching cached key, whether the cache is fresh, whether a fetch is allowed now)
    fn cached(&self, keys: &IssuerKeys, kid: Option<&str>, alg: Algorithm) -> (Option<Jwk>, bool, bool) {
        let state = keys.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let fresh = state.fetched_at.is_some_and(|at| now.duration_since(at) < self.settings.jwks_max_age);
        let may_refresh = state.last_attempt.is_none_or(|at| now.duration_since(at) >= self.settings.jwks_min_refresh);
        (select(&state.keys, kid, alg).cloned(), fresh, may_refresh)
    }

    async fn fetch(&self, issuer_id: &str) -> Result<Vec<Jwk>, String> {
        let insecure = self.settings.allow_insecure_loopback_issuers;
        let issuer = issuer::check_url(issuer_id, insecure).map_err(|e| format!("the issuer {e}"))?;
        let discovery: Discovery = self.get_json(issuer::discovery_url(&issuer)?).await?;
        if discovery.issuer != issuer_id {
            return Err("the discovery document names another issuer".into());
        }
        let jwks_uri = issuer::check_url(&discovery.jwks_uri, insecure).map_err(|e| format!("the jwks_uri {e}"))?;
        let set: RawJwkSet = self.get_json(jwks_uri).await?;
        // Keys this gateway cannot use (symmetric, encryption, other curves) are skipped, not fatal.
        Ok(set.keys.into_iter().filter_map(|raw| serde_json::from_value::<Jwk>(raw).ok()).filter(usable).take(MAX_KEYS).collect())
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: Url) -> Result<T, String> {
        self.egress.check_url(&url).map_err(|refused| refused.to_string())?;
        let mut response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("request failed: {}", e.without_url()))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(format!("answered HTTP {}", response.status().as_u16()));
        }
        let limit = self.settings.max_document_bytes;
        if response.content_length().is_some_and(|len| len > limit as u64) {
            return Err(format!("document larger than {limit} bytes"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("reading failed: {}", e.without_url()))? {
            if body.len() + chunk.len() > limit {
                return Err(format!("document larger than {limit} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|_| "not the expected JSON document".to_owned())
    }
}

fn host_of(issuer: &str) -> String {
    Url::parse(issuer).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default()
}

/// Signing keys of the two accepted families only: RSA and EC P-256.
fn usable(jwk: &Jwk) -> bool {
    let signing = matches!(jwk.common.public_key_use, None | Some(PublicKeyUse::Signature));
    let family = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => true,
        AlgorithmParameters::EllipticCurve(ec) => ec.curve == EllipticCurve::P256,
        _ => false,
    };
    signing && family
}

fn fits(jwk: &Jwk, alg: Algorithm) -> bool {
    let (family, declared) = match alg {
        Algorithm::RS256 => (matches!(jwk.algorithm, AlgorithmParameters::RSA(_)), KeyAlgorithm::RS256),
        Algorithm::ES256 => (matches!(jwk.algorithm, AlgorithmParameters::EllipticCurve(_)), KeyAlgorithm::ES256),
        _ => return false,
    };
    family && jwk.common.key_algorithm.is_none_or(|a| a == declared)
}

/// The key named by `kid`; without a `kid`, the only key that fits `alg`.
fn select<'k>(keys: &'k [Jwk], kid: Option<&str>, alg: Algorithm) -> Option<&'k Jwk> {
    match kid {
        Some(kid) => keys.iter().find(|k| k.common.key_id.as_deref() == Some(kid) && fits(k, alg)),
        None => {
            let mut fitting = keys.iter().filter(|k| fits(k, alg));
            let only = fitting.next()?;
            fitting.next().is_none().then_some(only)
        }
    }
}

fn decoding_key(jwk: &Jwk) -> KeyLookup {
    DecodingKey::from_jwk(jwk).map_or(KeyLookup::Unknown, KeyLookup::Found)
}
