//! The in-memory route table: `sha256(url token) -> route`, fed by a watch on
//! route Secrets in the gateway's own namespace. Request handling reads only
//! this table, never the API server.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex, RwLock},
};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Client, ResourceExt,
    runtime::{WatchStreamExt, watcher},
};
use rmcp::model::Tool;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::{
    catalog::catalog,
    filter::ToolFilter,
    route::{ROUTE_KEY, ROUTE_LABEL, Route, TFC_TOKEN_KEY, fingerprint_of_hash, sha256_hex},
};

/// A route ready to serve: the contract plus what is derived from it once.
pub struct LoadedRoute {
    pub route: Route,
    /// The upstream HCP Terraform token. Never logged.
    pub tfc_token: String,
    pub filter: ToolFilter,
    /// The tools this route exposes, in catalog order, ready for `tools/list`.
    pub tools: Arc<Vec<Tool>>,
    /// Name of the route Secret it came from.
    pub secret_name: String,
}

impl LoadedRoute {
    pub fn new(route: Route, tfc_token: String, secret_name: String) -> Self {
        let filter = ToolFilter::from_route(&route);
        let tools = shared_tool_list(&route, &filter);
        Self { route, tfc_token, filter, tools, secret_name }
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
    let key =
        serde_json::json!([route.methods, route.tags, route.include_tools, route.exclude_tools, route.state.allow_raw_state_download,])
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
    #[error("tfc-token is not UTF-8")]
    BadToken,
}

/// Parses a route Secret.
pub fn load(secret: &Secret) -> Result<LoadedRoute, LoadError> {
    let data = secret.data.as_ref();
    let route_json = data.and_then(|d| d.get(ROUTE_KEY)).ok_or(LoadError::MissingKey(ROUTE_KEY))?;
    let route: Route = serde_json::from_slice(&route_json.0)?;
    let token = data.and_then(|d| d.get(TFC_TOKEN_KEY)).ok_or(LoadError::MissingKey(TFC_TOKEN_KEY))?;
    let token = std::str::from_utf8(&token.0).map_err(|_| LoadError::BadToken)?.trim().to_owned();
    Ok(LoadedRoute::new(route, token, secret.name_any()))
}

#[derive(Default)]
struct Table {
    by_hash: HashMap<String, Arc<LoadedRoute>>,
    /// Secret name -> token hash, so an update that rotates the token drops the old hash.
    hash_by_secret: HashMap<String, String>,
}

impl Table {
    fn upsert(&mut self, loaded: LoadedRoute) {
        if let Some(old) = self.hash_by_secret.remove(&loaded.secret_name) {
            self.by_hash.remove(&old);
        }
        self.hash_by_secret.insert(loaded.secret_name.clone(), loaded.route.token_sha256.clone());
        self.by_hash.insert(loaded.route.token_sha256.clone(), Arc::new(loaded));
    }

    fn remove(&mut self, secret_name: &str) {
        if let Some(old) = self.hash_by_secret.remove(secret_name) {
            self.by_hash.remove(&old);
        }
    }
}

/// Shared, cheaply cloneable handle on the route table.
#[derive(Clone, Default)]
pub struct RouteTable {
    inner: Arc<RwLock<Table>>,
}

impl RouteTable {
    /// Looks a URL token up by its hash.
    pub fn lookup(&self, url_token: &str) -> Option<Arc<LoadedRoute>> {
        self.lookup_hash(&sha256_hex(url_token))
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

    /// Replaces the whole table (after a watch (re)list).
    pub fn replace_all(&self, secrets: &[Secret]) {
        let mut table = Table::default();
        for secret in secrets {
            match load(secret) {
                Ok(loaded) => table.upsert(loaded),
                Err(error) => warn!(secret = %secret.name_any(), %error, "route Secret skipped"),
            }
        }
        info!(routes = table.by_hash.len(), "route table synchronised");
        *self.write() = table;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// Keeps `table` in step with the route Secrets of `namespace` until the
/// stream ends. `synced` turns true after the first full list.
pub async fn watch_routes(client: Client, namespace: &str, table: RouteTable, synced: watch::Sender<bool>) {
    let secrets: Api<Secret> = Api::namespaced(client, namespace);
    let config = watcher::Config::default().labels(&format!("{ROUTE_LABEL}=true"));
    let mut initial: Vec<Secret> = Vec::new();
    let mut events = watcher(secrets, config).default_backoff().boxed();
    loop {
        match events.try_next().await {
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
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;

    use super::*;

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
