//! The in-memory route table: `sha256(url token) -> route`, fed by a watch on
//! route Secrets in the gateway's own namespace. Request handling reads only
//! this table, never the API server.
//!
//! Fail closed: a route document of a newer format than this gateway knows is
//! not served; a second Secret claiming a token hash already served is refused
//! (the oldest Secret, then the first name, keeps it); a route that is deleted,
//! rotated or replaced cancels the calls still running under it.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex, RwLock},
    time::Duration,
};

use crate::mcp_tool::ToMcpTool;
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Client, ResourceExt,
    api::ListParams,
    runtime::{WatchStreamExt, watcher},
};
use rmcp::model::Tool;
use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::{
    catalog::catalog,
    filter::ToolFilter,
    jsonapi::Grants,
    route::{ROUTE_FORMAT_VERSION, ROUTE_KEY, ROUTE_LABEL, Route, TFC_TOKEN_KEY, fingerprint_of_hash, sha256_hex_in},
};

/// A route ready to serve: the contract plus what is derived from it once.
pub struct LoadedRoute {
    pub route: Route,
    /// The upstream HCP Terraform token. Never logged.
    pub tfc_token: String,
    pub filter: ToolFilter,
    /// The temporary URLs its results may keep (from `filter`).
    pub grants: Grants,
    /// The tools this route exposes, in catalog order, ready for `tools/list`.
    pub tools: Arc<Vec<Tool>>,
    /// Name of the route Secret it came from.
    pub secret_name: String,
    /// When the route Secret was created: the oldest of two Secrets claiming one token hash wins.
    pub created: Option<DateTime<Utc>>,
    /// Cancelled when the route is deleted, rotated or its grant changes:
    /// calls running under it stop.
    pub cancel: CancellationToken,
    /// Whether the gateway's address policy allows this route's upstream,
    /// decided on first use (the policy is fixed for the process): the
    /// request path does not normalise the address on every call.
    pub address_allowed: std::sync::OnceLock<bool>,
    /// Its upstream address, checked against that policy and parsed, on
    /// first use (see `TfcClient::for_loaded`).
    pub upstream_address: std::sync::OnceLock<Result<url::Url, String>>,
    /// Its upstream token's SHA-256 (hex), the key of the token's pacer,
    /// on first use: not hashed again on every call.
    pub tfc_token_key: std::sync::OnceLock<String>,
}

impl LoadedRoute {
    pub fn new(route: Route, tfc_token: String, secret_name: String) -> Self {
        let filter = ToolFilter::from_route(&route);
        let tools = shared_tool_list(&route, &filter);
        Self {
            route,
            tfc_token,
            grants: filter.grants(),
            filter,
            tools,
            secret_name,
            created: None,
            cancel: CancellationToken::new(),
            address_allowed: std::sync::OnceLock::new(),
            upstream_address: std::sync::OnceLock::new(),
            tfc_token_key: std::sync::OnceLock::new(),
        }
    }

    /// Resolves when calls under this route must stop: the route was revoked
    /// (deleted, rotated, replaced) or its `expiresAt` has passed.
    pub async fn revoked(&self) {
        let expiry = async {
            match self.route.expires_at {
                Some(at) => {
                    let left = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                    tokio::time::sleep(left).await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.cancel.cancelled() => {}
            _ = expiry => {}
        }
    }

    /// Order among Secrets claiming the same token hash: oldest first, then by name.
    fn seniority(&self) -> (bool, Option<DateTime<Utc>>, &str) {
        (self.created.is_none(), self.created, &self.secret_name)
    }

    /// Safe to log: first 8 hex characters of the URL token's hash.
    pub fn fingerprint(&self) -> &str {
        fingerprint_of_hash(&self.route.token_sha256)
    }
}

/// Routes with the same filter inputs share one `tools/list` answer: there
/// are few distinct filters but possibly tens of thousands of routes.
fn shared_tool_list(route: &Route, filter: &ToolFilter) -> Arc<Vec<Tool>> {
    static LISTS: LazyLock<Mutex<HashMap<String, Arc<Vec<Tool>>>>> = LazyLock::new(Mutex::default);
    /// Distinct filters kept at most; past that the cache starts afresh.
    const MAX_LISTS: usize = 4096;
    let key = serde_json::json!([
        route.methods,
        route.tags,
        route.include_tools,
        route.exclude_tools,
        route.state.allow_raw_state_download,
        filter.registry_by_default(),
        // Scoped servers do not list the tools they always refuse.
        route.scope.is_some(),
    ])
    .to_string();
    let mut lists = LISTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(tools) = lists.get(&key) {
        return tools.clone();
    }
    if lists.len() >= MAX_LISTS {
        lists.clear();
    }
    let tools: Arc<Vec<Tool>> = Arc::new(catalog().iter().filter(|t| filter.allows(t)).map(|t| t.to_mcp_tool()).collect());
    lists.insert(key, tools.clone());
    tools
}

impl std::fmt::Debug for LoadedRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedRoute").field("server", &self.route.server).field("fingerprint", &self.fingerprint()).finish()
    }
}

/// Why a route Secret could not be loaded (it is skipped and logged).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("missing key {0}")]
    MissingKey(&'static str),
    #[error("route.json is not a valid route document: {0}")]
    BadRoute(#[from] serde_json::Error),
    #[error(
        "route.json has format version {0}, newer than the {ROUTE_FORMAT_VERSION} this gateway knows; not served until the gateway is upgraded"
    )]
    NewerVersion(u64),
    #[error("tfc-token is not UTF-8")]
    BadToken,
}

/// Parses a route Secret.
pub fn load(secret: &Secret) -> Result<LoadedRoute, LoadError> {
    let data = secret.data.as_ref();
    let route_json = data.and_then(|d| d.get(ROUTE_KEY)).ok_or(LoadError::MissingKey(ROUTE_KEY))?;
    // The version first: a newer format may not parse as this one, and must not be half-understood.
    #[derive(serde::Deserialize)]
    struct Versioned {
        version: u64,
    }
    let version = serde_json::from_slice::<Versioned>(&route_json.0)?.version;
    if version > u64::from(ROUTE_FORMAT_VERSION) {
        return Err(LoadError::NewerVersion(version));
    }
    let route: Route = serde_json::from_slice(&route_json.0)?;
    let token = data.and_then(|d| d.get(TFC_TOKEN_KEY)).ok_or(LoadError::MissingKey(TFC_TOKEN_KEY))?;
    let token = std::str::from_utf8(&token.0).map_err(|_| LoadError::BadToken)?.trim().to_owned();
    let mut loaded = LoadedRoute::new(route, token, secret.name_any());
    loaded.created = secret
        .metadata
        .creation_timestamp
        .as_ref()
        .and_then(|t| DateTime::from_timestamp(t.0.as_second(), t.0.subsec_nanosecond().unsigned_abs()));
    Ok(loaded)
}

#[derive(Default)]
struct Table {
    by_hash: HashMap<String, Arc<LoadedRoute>>,
    /// Secret name -> token hash, so an update that rotates the token drops the old hash.
    hash_by_secret: HashMap<String, String>,
    /// Secrets refused because another Secret serves their token hash; one of
    /// them takes over (oldest first) when that Secret goes away.
    shadowed: HashMap<String, Arc<LoadedRoute>>,
}

/// True when `new` grants exactly what `old` did: same URL token, upstream
/// token and route document (the display name aside). Calls running under a
/// route whose grant changed (narrower methods, organizations, an earlier
/// expiry, ...) are cancelled rather than finishing under the old grant.
fn same_grant(old: &LoadedRoute, new: &LoadedRoute) -> bool {
    let unnamed = |route: &Route| Route { display_name: None, ..route.clone() };
    old.tfc_token == new.tfc_token && unnamed(&old.route) == unnamed(&new.route)
}

impl Table {
    /// Serves `loaded` under its token hash, unless an older Secret already
    /// does. Calls running under a route it replaces are cancelled unless it
    /// grants the same (see [`same_grant`]).
    fn upsert(&mut self, mut loaded: LoadedRoute) {
        let hash = loaded.route.token_sha256.clone();
        self.shadowed.remove(&loaded.secret_name);
        let previous = self.hash_by_secret.remove(&loaded.secret_name).and_then(|old_hash| self.by_hash.remove(&old_hash));
        match previous {
            Some(old) if same_grant(&old, &loaded) => loaded.cancel = old.cancel.clone(),
            Some(old) => {
                old.cancel.cancel();
                self.promote(&old.route.token_sha256);
            }
            None => {}
        }
        if let Some(holder) = self.by_hash.get(&hash).cloned() {
            let (kept, refused) = if holder.seniority() <= loaded.seniority() {
                (holder.clone(), Arc::new(loaded))
            } else {
                self.by_hash.remove(&hash);
                self.hash_by_secret.remove(&holder.secret_name);
                holder.cancel.cancel();
                let kept = Arc::new(loaded);
                self.hash_by_secret.insert(kept.secret_name.clone(), hash.clone());
                self.by_hash.insert(hash.clone(), kept.clone());
                (kept, holder)
            };
            error!(
                secret = %refused.secret_name,
                server = %refused.route.server,
                serving_secret = %kept.secret_name,
                serving_server = %kept.route.server,
                fingerprint = %fingerprint_of_hash(&hash),
                "two route Secrets claim the same URL token; the older one is served, the other is refused"
            );
            self.shadowed.insert(refused.secret_name.clone(), refused);
            return;
        }
        self.hash_by_secret.insert(loaded.secret_name.clone(), hash.clone());
        self.by_hash.insert(hash, Arc::new(loaded));
    }

    fn remove(&mut self, secret_name: &str) {
        self.shadowed.remove(secret_name);
        if let Some(old_hash) = self.hash_by_secret.remove(secret_name)
            && let Some(old) = self.by_hash.remove(&old_hash)
        {
            old.cancel.cancel();
            self.promote(&old_hash);
        }
    }

    /// After `hash` lost its Secret: the oldest shadowed Secret claiming it takes over.
    fn promote(&mut self, hash: &str) {
        let next = self
            .shadowed
            .values()
            .filter(|r| r.route.token_sha256 == hash)
            .min_by(|a, b| a.seniority().cmp(&b.seniority()))
            .map(|r| r.secret_name.clone());
        if let Some(name) = next
            && let Some(route) = self.shadowed.remove(&name)
        {
            warn!(secret = %name, server = %route.route.server, fingerprint = %fingerprint_of_hash(hash), "route Secret served now that the Secret that held its URL token is gone");
            self.hash_by_secret.insert(name, hash.to_owned());
            self.by_hash.insert(hash.to_owned(), route);
        }
    }

    /// Cancels the calls of every route not carried over into `next`.
    fn cancel_dropped(&self, next: &Table) {
        for (hash, old) in &self.by_hash {
            let kept = next.by_hash.get(hash).is_some_and(|new| new.cancel == old.cancel);
            if !kept {
                old.cancel.cancel();
            }
        }
    }
}

/// Shared, cheaply cloneable handle on the route table.
#[derive(Clone, Default)]
pub struct RouteTable {
    inner: Arc<RwLock<Table>>,
    health: Arc<SyncHealth>,
}

impl RouteTable {
    /// Health of the watch that feeds this table.
    pub fn health(&self) -> Arc<SyncHealth> {
        self.health.clone()
    }

    /// Looks a URL token up by its hash.
    pub fn lookup(&self, url_token: &str) -> Option<Arc<LoadedRoute>> {
        self.lookup_hash(sha256_hex_in(url_token, &mut [0; 64]))
    }

    pub fn lookup_hash(&self, token_sha256: &str) -> Option<Arc<LoadedRoute>> {
        self.read().by_hash.get(token_sha256).cloned()
    }

    pub fn len(&self) -> usize {
        self.read().by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies one route Secret (added or changed).
    pub fn apply(&self, secret: &Secret) {
        match load(secret) {
            Ok(loaded) => {
                info!(secret = %secret.name_any(), server = %loaded.route.server, fingerprint = %loaded.fingerprint(), tools = loaded.tools.len(), "route loaded");
                self.write().upsert(loaded);
            }
            Err(error) => {
                warn!(secret = %secret.name_any(), %error, "route Secret skipped");
                self.write().remove(&secret.name_any());
            }
        }
    }

    pub fn delete(&self, secret_name: &str) {
        info!(secret = %secret_name, "route removed");
        self.write().remove(secret_name);
    }

    /// Replaces the whole table (after a watch (re)list). Secrets are applied
    /// oldest first (then by name), so the same Secret wins a duplicated token
    /// hash whatever order the list came in.
    pub fn replace_all(&self, secrets: &[Secret]) {
        let mut loaded: Vec<LoadedRoute> = Vec::with_capacity(secrets.len());
        for secret in secrets {
            match load(secret) {
                Ok(route) => loaded.push(route),
                Err(error) => warn!(secret = %secret.name_any(), %error, "route Secret skipped"),
            }
        }
        loaded.sort_by(|a, b| a.seniority().cmp(&b.seniority()));
        let mut current = self.write();
        let mut table = Table::default();
        for mut route in loaded {
            // Unchanged routes keep their cancellation token: their calls go on.
            if let Some(old) = current.by_hash.get(&route.route.token_sha256)
                && old.secret_name == route.secret_name
                && same_grant(old, &route)
            {
                route.cancel = old.cancel.clone();
            }
            table.upsert(route);
        }
        current.cancel_dropped(&table);
        info!(routes = table.by_hash.len(), "route table synchronised");
        *current = table;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// How long after its last error the route watch counts as recovered when
/// the API server answers again: the watcher retries at least this often
/// (its backoff tops out at 30 s) while it keeps failing.
const WATCH_QUIET_AFTER_ERROR: Duration = Duration::from_secs(45);

/// Health of the route watch: when the table was last known to be in step
/// with the API server.
#[derive(Debug)]
pub struct SyncHealth {
    state: Mutex<SyncState>,
}

#[derive(Debug, Clone, Copy)]
struct SyncState {
    last_success: Instant,
    last_error: Option<Instant>,
}

impl Default for SyncHealth {
    fn default() -> Self {
        Self { state: Mutex::new(SyncState { last_success: Instant::now(), last_error: None }) }
    }
}

impl SyncHealth {
    fn lock(&self) -> std::sync::MutexGuard<'_, SyncState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The watch delivered an event (or a full list).
    pub fn watch_ok(&self, now: Instant) {
        let mut s = self.lock();
        s.last_success = now;
        s.last_error = None;
    }

    pub fn watch_failed(&self, now: Instant) {
        self.lock().last_error = Some(now);
    }

    /// The API server answered a list of route Secrets: the (idle) watch is
    /// in step unless it failed recently.
    pub fn probe_ok(&self, now: Instant) {
        let mut s = self.lock();
        if s.last_error.is_none_or(|at| now.saturating_duration_since(at) >= WATCH_QUIET_AFTER_ERROR) {
            s.last_success = now;
            s.last_error = None;
        }
    }

    /// Time since the route table was last known to be in step.
    pub fn age(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.lock().last_success)
    }
}

/// Keeps `table` in step with the route Secrets of `namespace` until the
/// stream ends. `synced` turns true after the first full list. Every
/// `probe_interval` a one-item list checks that the API server still answers,
/// so an idle but healthy watch keeps [`SyncHealth`] fresh.
pub async fn watch_routes(client: Client, namespace: &str, table: RouteTable, synced: watch::Sender<bool>, probe_interval: Duration) {
    let secrets: Api<Secret> = Api::namespaced(client, namespace);
    let selector = format!("{ROUTE_LABEL}=true");
    let config = watcher::Config::default().labels(&selector);
    let health = table.health();
    let probe = {
        let (secrets, health, selector) = (secrets.clone(), health.clone(), selector.clone());
        async move {
            let mut tick = tokio::time::interval(probe_interval.max(Duration::from_secs(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match secrets.list_metadata(&ListParams::default().labels(&selector).limit(1)).await {
                    Ok(_) => health.probe_ok(Instant::now()),
                    Err(error) => {
                        health.watch_failed(Instant::now());
                        warn!(%error, "route Secrets cannot be listed");
                    }
                }
            }
        }
    };
    let mut initial: Vec<Secret> = Vec::new();
    let mut events = watcher(secrets, config).default_backoff().boxed();
    let watch = async {
        loop {
            let event = events.try_next().await;
            match &event {
                Ok(Some(_)) => health.watch_ok(Instant::now()),
                Err(_) => health.watch_failed(Instant::now()),
                Ok(None) => {}
            }
            match event {
                Ok(Some(watcher::Event::Init)) => initial.clear(),
                Ok(Some(watcher::Event::InitApply(secret))) => initial.push(secret),
                Ok(Some(watcher::Event::InitDone)) => {
                    table.replace_all(&std::mem::take(&mut initial));
                    let _ = synced.send(true);
                }
                Ok(Some(watcher::Event::Apply(secret))) => table.apply(&secret),
                Ok(Some(watcher::Event::Delete(secret))) => table.delete(&secret.name_any()),
                Ok(None) => break,
                Err(error) => warn!(%error, "route watch error; retrying"),
            }
        }
    };
    tokio::select! {
        _ = watch => {}
        _ = probe => {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;

    use super::*;
    use crate::route::sha256_hex;

    fn secret(name: &str, url_token: &str) -> Secret {
        let route = serde_json::json!({
            "version": 1, "tokenSha256": sha256_hex(url_token), "server": "ns/a",
            "tfcAddress": "http://127.0.0.1:1", "methods": ["list", "get"],
        });
        let mut s = Secret::default();
        s.metadata.name = Some(name.into());
        s.data = Some(BTreeMap::from([
            (ROUTE_KEY.to_owned(), ByteString(serde_json::to_vec(&route).unwrap())),
            (TFC_TOKEN_KEY.to_owned(), ByteString(b"upstream\n".to_vec())),
        ]));
        s
    }

    #[test]
    fn lookup_by_token_hash_and_rotation_drops_old_token() {
        let table = RouteTable::default();
        table.apply(&secret("r1", "tfcmcp_old"));
        let loaded = table.lookup("tfcmcp_old").expect("route");
        assert_eq!(loaded.tfc_token, "upstream");
        assert!(!loaded.tools.is_empty());
        table.apply(&secret("r2", "tfcmcp_other"));
        assert!(Arc::ptr_eq(&loaded.tools, &table.lookup("tfcmcp_other").unwrap().tools), "same filter, shared list");
        table.apply(&secret("r1", "tfcmcp_new"));
        assert!(table.lookup("tfcmcp_old").is_none());
        assert!(table.lookup("tfcmcp_new").is_some());
        table.delete("r1");
        table.delete("r2");
        assert!(table.is_empty());
    }

    #[test]
    fn a_scoped_route_does_not_share_the_tool_list_of_an_unscoped_one() {
        let route = |scope: serde_json::Value| -> Route {
            let mut r = serde_json::json!({"version": 2, "tokenSha256": "00", "server": "ns/a",
                "tfcAddress": "https://app.terraform.io", "methods": ["list", "get", "create"], "organizations": ["acme"]});
            if !scope.is_null() {
                r["scope"] = scope;
            }
            serde_json::from_value(r).unwrap()
        };
        let policies = "list_all_hashicorp_terraform_cloud_organization_policies";
        let open = LoadedRoute::new(route(serde_json::Value::Null), "t".into(), "a".into());
        let scoped = LoadedRoute::new(route(serde_json::json!({"workspaces": ["app"]})), "t".into(), "b".into());
        assert!(open.tools.iter().any(|t| t.name == policies));
        assert!(!scoped.tools.iter().any(|t| t.name == policies));
        assert!(scoped.tools.len() < open.tools.len() && scoped.tools.len() == scoped.filter.count());
    }

    #[test]
    fn sync_health_ages_while_the_watch_fails_and_recovers_after_a_quiet_probe() {
        let health = SyncHealth::default();
        let t0 = Instant::now();
        health.watch_ok(t0);
        assert_eq!(health.age(t0 + Duration::from_secs(5)), Duration::from_secs(5));
        // An idle but healthy watch is kept fresh by the probe.
        health.probe_ok(t0 + Duration::from_secs(30));
        assert_eq!(health.age(t0 + Duration::from_secs(30)), Duration::ZERO);
        // A failing watch: probes shortly after an error do not count...
        health.watch_failed(t0 + Duration::from_secs(40));
        health.probe_ok(t0 + Duration::from_secs(50));
        assert_eq!(health.age(t0 + Duration::from_secs(100)), Duration::from_secs(70));
        // ...until the watch has been quiet for longer than its retry backoff.
        health.probe_ok(t0 + Duration::from_secs(40) + WATCH_QUIET_AFTER_ERROR);
        assert_eq!(health.age(t0 + Duration::from_secs(40) + WATCH_QUIET_AFTER_ERROR), Duration::ZERO);
    }

    #[test]
    fn malformed_secret_is_skipped() {
        let table = RouteTable::default();
        let mut bad = secret("r1", "t");
        bad.data.as_mut().unwrap().insert(ROUTE_KEY.into(), ByteString(b"{".to_vec()));
        table.apply(&bad);
        assert!(table.is_empty());
        table.replace_all(&[secret("a", "t1"), bad, secret("b", "t2")]);
        assert_eq!(table.len(), 2);
    }
}
