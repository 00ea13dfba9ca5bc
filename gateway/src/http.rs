//! The public HTTP surface: `/mcp/{token}` (Streamable HTTP), with route
//! resolution, expiry and client authentication in front of rmcp; and the
//! admin surface (`/healthz`, `/readyz`, `/metrics`) on its own listener.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::Utc;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService, session::never::NeverSessionManager};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    mcp::{GatewayHandler, RateLimitSlot, Shared},
    route::sha256_hex,
    routes::RouteTable,
    upstream::RateLimitInfo,
};

/// Settings of the public listener.
#[derive(Clone, Debug, Default)]
pub struct HttpSettings {
    /// Accepted `Host` values (hostnames or `host:port`); loopback is always accepted.
    pub allowed_hosts: Vec<String>,
    /// Accepted browser `Origin`s; empty disables Origin validation.
    pub allowed_origins: Vec<String>,
}

#[derive(Clone)]
struct EdgeState {
    routes: RouteTable,
    shared: Arc<Shared>,
}

/// The public MCP router.
pub fn mcp_router(routes: RouteTable, shared: Arc<Shared>, settings: &HttpSettings, shutdown: CancellationToken) -> Router {
    let mut allowed_hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"].map(String::from).to_vec();
    allowed_hosts.extend(settings.allowed_hosts.iter().cloned());
    let mut config = StreamableHttpServerConfig::default();
    // Stateless: any replica can answer any request, no sticky sessions.
    config.legacy_session_mode = false;
    config.json_response = true;
    config.sse_keep_alive = None;
    config.allowed_hosts = allowed_hosts;
    config.allowed_origins = settings.allowed_origins.clone();
    config.cancellation_token = shutdown;

    let handler_shared = shared.clone();
    let service = StreamableHttpService::new(
        move || Ok(GatewayHandler::new(handler_shared.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service("/mcp/{token}", service)
        .layer(middleware::from_fn_with_state(EdgeState { routes, shared }, resolve_route))
}

/// Resolves `/mcp/{token}` to a route, refusing unknown, revoked and expired
/// tokens identically, and checks the client's API token when required.
async fn resolve_route(State(state): State<EdgeState>, mut request: Request, next: Next) -> Response {
    let token = request.uri().path().strip_prefix("/mcp/").map(|rest| rest.split('/').next().unwrap_or_default()).unwrap_or_default();
    let route = state.routes.lookup(token).filter(|loaded| !loaded.route.is_expired(Utc::now()));
    let response = match route {
        None => not_found(),
        Some(loaded) if loaded.route.require_api_token && !bearer_accepted(&request, &loaded.route.api_token_sha256) => unauthorized(),
        Some(loaded) => {
            let slot = RateLimitSlot::default();
            request.extensions_mut().insert(loaded);
            request.extensions_mut().insert(slot.clone());
            let mut response = next.run(request).await;
            if let Some(info) = slot.take() {
                let headers = response.headers_mut();
                for (name, value) in rate_limit_headers(&info) {
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        headers.insert(name, value);
                    }
                }
            }
            response
        }
    };
    state.shared.metrics.http_request(response.status().as_u16());
    response
}

/// Upstream rate-limit facts, normalised to `ratelimit-*` headers (reset in seconds).
fn rate_limit_headers(info: &RateLimitInfo) -> Vec<(&'static str, String)> {
    [
        ("ratelimit-limit", info.limit.map(|v| v.to_string())),
        ("ratelimit-remaining", info.remaining.map(|v| v.to_string())),
        ("ratelimit-reset", info.reset_secs.map(|v| format!("{}", v.ceil() as u64))),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name, v)))
    .collect()
}

fn bearer_accepted(request: &Request, accepted_sha256: &[String]) -> bool {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|token| sha256_hex(token.trim()))
        .is_some_and(|hash| accepted_sha256.iter().any(|h| *h == hash))
}

/// The single answer for unknown, revoked and expired tokens.
pub fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "application/json")], r#"{"error":"not found"}"#).into_response()
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, r#"Bearer realm="tfc-mcp""#), (header::CONTENT_TYPE, "application/json")],
        r#"{"error":"a valid Bearer API token is required"}"#,
    )
        .into_response()
}

/// `/healthz` (alive), `/readyz` (route table synchronised), `/metrics`.
pub fn admin_router(shared: Arc<Shared>, routes: RouteTable, synced: watch::Receiver<bool>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let ready = *synced.borrow();
                async move { if ready { (StatusCode::OK, "ok") } else { (StatusCode::SERVICE_UNAVAILABLE, "route table not synchronised yet") } }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                shared.metrics.routes.set(routes.len() as i64);
                let body = shared.metrics.render();
                async move { ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], Body::from(body)) }
            }),
        )
}
