//! The public HTTP surface and the admin surface.
//!
//! Public (`--listen`):
//! - `/mcp/{token}`: Streamable HTTP, served by rmcp's `StreamableHttpService`
//!   in stateless JSON mode (no session: any replica answers any request).
//!   rmcp 3.11 knows the protocol revisions in `ProtocolVersion::KNOWN_VERSIONS`:
//!   2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25 and 2026-07-28. It
//!   answers GET and DELETE with 405 (`Allow: POST`; no server stream, no
//!   session to end), a POST whose Accept lacks `application/json` or
//!   `text/event-stream` with 406, an unknown `MCP-Protocol-Version` with
//!   400, and notifications with 202.
//! - `/mcp/{token}/sse` and `/mcp/{token}/messages`: legacy HTTP+SSE
//!   (2024-11-05), see [`crate::sse`].
//!
//! Every public request first passes the edge, in this order:
//! 1. `Host` allow-list (403; loopback is always allowed) and the `Origin`
//!    allow-list (403; fails closed: without a configured list only the
//!    gateway's own public origin is accepted; no `Origin` at all passes);
//! 2. the URL token: always hashed and looked up, refused with one identical
//!    404 whether it is unknown, revoked or expired, or names an upstream
//!    address the egress policy does not allow (no oracle);
//! 3. `requireApiToken`: 401 with `WWW-Authenticate: Bearer`; a failed
//!    attempt takes from the server's request rate like any request;
//! 4. the server's request rate (429 with `Retry-After`); then
//!    `serviceAccounts`: the Bearer ServiceAccount token, checked with
//!    TokenReview (401; 503 with `Retry-After` when the reviews are rate-limited,
//!    see [`crate::service_account_auth`]);
//! 5. the body: its size (413), its share of the replica's byte budget (503
//!    with `Retry-After`), read whole under a timeout (408) BEFORE any slot is
//!    taken, so a slow body holds no slot;
//! 6. the caps on requests in flight: per server and per namespace (429 with
//!    `Retry-After`), then per replica (503 with `Retry-After`);
//! 7. a backstop timeout (504); tool calls have their own, shorter, timeout.
//!
//! Admin (`--admin-listen`): `/healthz`, `/readyz`, `/metrics`.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{Route, any, get},
};
use chrono::Utc;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService, session::never::NeverSessionManager};
use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::{
    direct_call::{DirectCall, DirectCalls},
    limits::{BodyError, BudgetPermit, RateLimiter, TenantCap, read_body_budgeted, retry_after_secs},
    mcp::{GatewayHandler, RateLimitSlot, Shared},
    oidc::{Refusal, metadata},
    route::sha256_hex,
    routes::{LoadedRoute, RouteTable},
    service_account_auth,
    sse::{self, SseHub, SseSettings},
    upstream::RateLimitInfo,
};

/// A request body is counted in the byte budget at this many times its size
/// once read: the parsed JSON-RPC message (kept for the whole call) is a tree
/// of values, several times larger than its text.
pub const REQUEST_PARSE_FACTOR: usize = 8;

/// Settings of the public listener.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Accepted `Host` values (`host` or `host:port`; `*` accepts any);
    /// loopback is always accepted.
    pub allowed_hosts: Vec<String>,
    /// Accepted browser `Origin`s (`scheme://host[:port]`, `:*` for any
    /// port, `null`), besides the origin of `public_base_url`. Requests with
    /// any other `Origin` get 403, also when both are empty (fail closed).
    pub allowed_origins: Vec<String>,
    /// The gateway's public base URL (`https://mcp.example.com`); its origin is always accepted.
    pub public_base_url: Option<String>,
    /// Serve the legacy HTTP+SSE transport (on by default). Off, its paths
    /// answer like any unknown path.
    pub legacy_sse: bool,
    pub sse: SseSettings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            public_base_url: None,
            legacy_sse: true,
            sse: SseSettings::default(),
        }
    }
}

/// The two steps of a graceful shutdown.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    /// Shutdown started: stop taking new work, let in-flight calls finish.
    pub draining: CancellationToken,
    /// The drain time is up: cancel whatever is still running.
    pub hard: CancellationToken,
}

struct Edge {
    routes: RouteTable,
    shared: Arc<Shared>,
    hosts: Arc<HostPolicy>,
    origins: Arc<OriginPolicy>,
    rate: Arc<RateLimiter>,
    backstop: Duration,
    /// `--public-base-url` without a trailing `/`: the base of resource URLs.
    public_base: Option<String>,
    /// Plain stateless tool calls, answered without rmcp's per-request service.
    direct: Option<Arc<DirectCalls>>,
}

/// The public MCP router.
pub fn mcp_router(routes: RouteTable, shared: Arc<Shared>, settings: &HttpSettings, shutdown: &Shutdown) -> Router {
    let limits = &shared.limits;
    let mut config = StreamableHttpServerConfig::default()
        // Host and Origin are checked at the edge, for both transports and
        // before the token lookup; rmcp's own checks stay off.
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_sse_keep_alive(Some(settings.sse.keep_alive.max(Duration::from_millis(100))))
        .with_max_request_body_bytes(limits.max_body_bytes)
        .with_cancellation_token(shutdown.hard.child_token());
    // Stateless: any replica can answer any request, no sticky sessions.
    config.legacy_session_mode = false;
    config.json_response = true;

    let handler_shared = shared.clone();
    // The suite's test-only tools map arguments to headers, which rmcp checks.
    let direct =
        (!shared.conformance_tools).then(|| Arc::new(DirectCalls::new(GatewayHandler::new(shared.clone()), shutdown.hard.child_token())));
    let service = StreamableHttpService::new(
        move || Ok(GatewayHandler::new(handler_shared.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let legacy = if settings.legacy_sse {
        let hub = SseHub::new(settings.sse.clone(), shared.clone(), routes.clone(), shutdown.draining.clone(), shutdown.hard.clone());
        Router::new()
            // `any`: the handlers answer other methods themselves, so axum adds
            // no `Allow` header that would make a 404 differ by path.
            .route("/mcp/{token}/sse", any(sse::open))
            .route("/mcp/{token}/messages", any(sse::post))
            .with_state(hub)
    } else {
        Router::new()
    };
    let edge = Edge {
        routes,
        hosts: Arc::new(HostPolicy::new(&settings.allowed_hosts)),
        origins: Arc::new(OriginPolicy::new(&settings.allowed_origins, settings.public_base_url.as_deref())),
        rate: Arc::new(RateLimiter::new(limits.rate_per_second, limits.rate_burst).with_peers(limits.peers.clone())),
        backstop: limits.request_timeout.max(limits.long_request_timeout).saturating_add(Duration::from_secs(30)),
        public_base: settings.public_base_url.as_deref().map(|b| b.trim_end_matches('/').to_owned()),
        direct,
        shared,
    };
    Router::new().route_service("/mcp/{token}", service).merge(legacy).fallback(|| async { not_found() }).layer(EdgeLayer(Arc::new(edge)))
}

/// The edge in front of every public route, as a tower layer: axum's
/// `from_fn` would also box a service (`Next`) and a future of its own for
/// every request. The edge is shared behind one `Arc`, so a request
/// clones a pointer, not each of its parts (and its base URL's string).
#[derive(Clone)]
struct EdgeLayer(Arc<Edge>);

impl tower::Layer<Route> for EdgeLayer {
    type Service = EdgeService;
    fn layer(&self, inner: Route) -> EdgeService {
        EdgeService { edge: self.0.clone(), inner }
    }
}

#[derive(Clone)]
struct EdgeService {
    edge: Arc<Edge>,
    /// The route the request was for, reached once the edge admits it.
    inner: Route,
}

impl tower::Service<Request> for EdgeService {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        // A route is always ready (axum's `Route` answers so too).
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let (edge, inner) = (self.edge.clone(), self.inner.clone());
        let transport = Transport::of(request.uri().path());
        Box::pin(async move {
            let response = edge.handle(request, inner, transport).await;
            edge.shared.metrics.http_request(transport.label(), response.status().as_u16());
            Ok(response)
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Streamable,
    SseStream,
    SseMessage,
    Other,
}

impl Transport {
    fn of(path: &str) -> Self {
        let Some(rest) = path.strip_prefix("/mcp/") else { return Self::Other };
        match rest.split_once('/') {
            None => Self::Streamable,
            Some((_, "sse")) => Self::SseStream,
            Some((_, "messages")) => Self::SseMessage,
            Some(_) => Self::Other,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Streamable => "streamable_http",
            Self::SseStream | Self::SseMessage => "sse",
            Self::Other => "other",
        }
    }
}

/// The URL token segment of `/mcp/{token}[/...]`; empty for other paths.
fn token_segment(path: &str) -> &str {
    path.strip_prefix("/mcp/").map(|rest| rest.split('/').next().unwrap_or_default()).unwrap_or_default()
}

impl Edge {
    async fn handle(&self, mut request: Request, next: Route, transport: Transport) -> Response {
        let metrics = &self.shared.metrics;
        match self.hosts.check(request.uri(), request.headers()) {
            HostCheck::Allowed => {}
            HostCheck::Malformed => {
                metrics.rejected("", "host_not_allowed");
                return json_error(StatusCode::BAD_REQUEST, "missing or malformed Host header");
            }
            HostCheck::NotAllowed => {
                metrics.rejected("", "host_not_allowed");
                return forbidden("Host header is not allowed");
            }
        }
        if !self.origins.allows(request.headers()) {
            metrics.rejected("", "origin_not_allowed");
            return forbidden("Origin is not allowed");
        }

        // Protected resource metadata is about a route, so it is looked up like one.
        let metadata_for = request.uri().path().strip_prefix(metadata::WELL_KNOWN_PREFIX).map(str::to_owned);
        let mcp_path = metadata_for.clone().unwrap_or_else(|| request.uri().path().to_owned());

        // Always hash and look up, whatever the token looks like: unknown,
        // revoked and expired tokens take the same path to the same answer.
        let route = self.routes.lookup(token_segment(&mcp_path)).filter(|loaded| !loaded.route.is_expired(Utc::now()));
        let Some(route) = route else {
            metrics.rejected("", "not_found");
            return not_found();
        };
        // A route naming an upstream the policy does not allow is not served,
        // and answers exactly like an unknown token.
        let allowed = *route.address_allowed.get_or_init(|| {
            let allowed = self.shared.upstream.egress().tfc_addresses().allows(&route.route.tfc_address);
            if !allowed {
                tracing::warn!(
                    server = %route.route.server,
                    fingerprint = %route.fingerprint(),
                    "route not served: its HCP Terraform address is not on the allow-list"
                );
            }
            allowed
        });
        if !allowed {
            metrics.rejected("", "not_found");
            return not_found();
        }
        let server = route.route.server.as_str();

        // Rate first, even for a failed API token: guessing costs like calling.
        let rate = self.rate.check(server, Instant::now());
        if let Some(path) = metadata_for {
            if let Err(wait) = rate {
                metrics.rejected(server, "rate_limited");
                return rate_limited(retry_after_secs(wait));
            }
            return self.resource_metadata(&route, &path, request.method(), request.headers());
        }
        // RFC 6750 section 2.3 is not supported: a token in a URL ends up in logs.
        if query_has_access_token(request.uri()) {
            metrics.rejected(server, "token_in_query");
            return self.unauthorized_for(&route, &mcp_path, request.headers(), Some(("invalid_request", QUERY_TOKEN_REFUSED)));
        }
        // One kind of Bearer token per server (the operator refuses both);
        // a route document that names two fails closed.
        if route.route.oidc.is_some() && !route.route.service_accounts.is_empty() {
            metrics.rejected(server, "unauthorized");
            return unauthorized(false);
        }
        if let Some(oidc) = &route.route.oidc {
            // An exhausted rate is refused before any signature is checked.
            if let Err(wait) = rate {
                metrics.rejected(server, "rate_limited");
                return rate_limited(retry_after_secs(wait));
            }
            let Some(token) = bearer_token(request.headers()) else {
                metrics.rejected(server, "unauthorized");
                return self.unauthorized_for(&route, &mcp_path, request.headers(), None);
            };
            let audiences = match &oidc.audience {
                Some(audience) => vec![audience.clone()],
                None => self.resource_audiences(&mcp_path, request.headers()),
            };
            match Box::pin(self.shared.oidc.verify(token, oidc, &audiences)).await {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                }
                Err(refusal) => {
                    metrics.rejected(server, refusal.label());
                    tracing::info!(server = %server, fingerprint = %route.fingerprint(), reason = refusal.label(), "access token refused");
                    return match refusal {
                        Refusal::Invalid(description) => {
                            self.unauthorized_for(&route, &mcp_path, request.headers(), Some(("invalid_token", description)))
                        }
                        Refusal::KeysUnavailable => self.unauthorized_for(
                            &route,
                            &mcp_path,
                            request.headers(),
                            Some(("invalid_token", "the issuer's signing keys cannot be fetched; try again later")),
                        ),
                        Refusal::NotAllowed => self.forbidden_caller(&mcp_path, request.headers()),
                    };
                }
            }
        }
        if route.route.require_api_token {
            let refusal = match bearer_check(request.headers(), &route.route.api_token_sha256) {
                BearerCheck::Accepted => None,
                BearerCheck::Missing => Some(false),
                BearerCheck::Wrong => Some(true),
            };
            if let Some(wrong_token) = refusal {
                if let Err(wait) = rate {
                    metrics.rejected(server, "rate_limited");
                    return rate_limited(retry_after_secs(wait));
                }
                metrics.rejected(server, "unauthorized");
                return unauthorized(wrong_token);
            }
        }
        if let Err(wait) = rate {
            metrics.rejected(server, "rate_limited");
            return rate_limited(retry_after_secs(wait));
        }
        // ServiceAccount tokens: after the rate, so a refused flood costs the
        // API server nothing more than the TokenReview limits allow.
        if !route.route.service_accounts.is_empty() {
            match Box::pin(self.service_account_check(server, request.headers(), &route.route.service_accounts)).await {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                }
                Err(response) => return response,
            }
        }

        let limits = &self.shared.limits;
        let limit = limits.max_body_bytes;
        let declared = content_length(request.headers());
        if declared.is_some_and(|len| len > limit as u64) {
            metrics.rejected(server, "body_too_large");
            return payload_too_large(limit);
        }

        // The tenant's own caps come first, so that the bodies it is sending
        // count against them: a tenant with slow bodies holds only its own
        // slots. (Legacy SSE streams are long-lived and capped on their own.)
        let stream = transport == Transport::SseStream;
        if !stream {
            match self.shared.tenants.try_acquire(server) {
                Ok(permit) => {
                    request.extensions_mut().insert(HeldTenantSlot(Arc::new(permit)));
                }
                Err(cap) => {
                    let (reason, what) = match cap {
                        TenantCap::Server => ("server_busy", "this server"),
                        TenantCap::Namespace => ("namespace_busy", "this namespace"),
                    };
                    metrics.rejected(server, reason);
                    let mut response = json_error(
                        StatusCode::TOO_MANY_REQUESTS,
                        &format!("{what} has too many requests in flight; retry after Retry-After seconds"),
                    );
                    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1u64));
                    return response;
                }
            }
        }

        // The whole body, under a timeout and within the byte budget (and the
        // namespace's share of it), before any replica-wide slot is taken: a
        // slow or huge body holds nothing other tenants need.
        let mut body_bytes = None;
        if request.method() == Method::POST {
            let budget = &self.shared.budget;
            let namespace = tfc_mcp_contract::route::namespace_of(server);
            let mut held = budget.empty_for(namespace);
            let (parts, body) = request.into_parts();
            let read = async {
                // A declared length takes its share up front: a refusal comes before any byte is read.
                if let Some(len) = declared {
                    budget.grow_to(&mut held, len as usize).await.map_err(|_| BodyError::Busy)?;
                }
                read_body_budgeted(body, limit, budget, &mut held).await
            };
            let read = tokio::time::timeout(limits.body_read_timeout, read).await.unwrap_or(Err(BodyError::Timeout));
            match read {
                Ok(bytes) => {
                    // The parsed message lives as long as the call, and a JSON
                    // tree can be many times its text (`[0,0,...]`): count that.
                    if budget.grow_to(&mut held, bytes.len().saturating_mul(REQUEST_PARSE_FACTOR)).await.is_err() {
                        metrics.rejected(server, "memory_budget");
                        return too_busy(2);
                    }
                    body_bytes = Some(bytes.clone());
                    request = Request::from_parts(parts, Body::from(bytes));
                    // The body's share lives as long as the request (the MCP
                    // handler holds the request parts until it answers).
                    request.extensions_mut().insert(HeldBudget(Arc::new(held)));
                }
                Err(BodyError::TooLarge) => {
                    metrics.rejected(server, "body_too_large");
                    return payload_too_large(limit);
                }
                Err(BodyError::Timeout) => {
                    metrics.rejected(server, "body_timeout");
                    return json_error(StatusCode::REQUEST_TIMEOUT, "the request body did not arrive in time");
                }
                Err(BodyError::Busy) => {
                    metrics.rejected(server, "memory_budget");
                    return too_busy(2);
                }
                Err(BodyError::Read) => return (StatusCode::BAD_REQUEST, "could not read the request body").into_response(),
            }
        }

        // Legacy SSE streams are long-lived and capped on their own.
        if !stream {
            let Some(permit) = self.shared.inflight.try_acquire() else {
                metrics.rejected(server, "overloaded");
                return too_busy(1);
            };
            request.extensions_mut().insert(permit);
        }

        let json_content_type = is_json_content_type(request.headers());
        let slot = RateLimitSlot::default();
        request.extensions_mut().insert::<Arc<LoadedRoute>>(route.clone());
        request.extensions_mut().insert(slot.clone());

        let direct = match (&self.direct, &body_bytes) {
            (Some(direct), Some(bytes)) if transport == Transport::Streamable => {
                direct.eligible(request.headers(), bytes).map(|call| (direct, call))
            }
            _ => None,
        };
        // Boxed: the answer's future is most of a call's state; as a box it
        // is moved as a pointer (into the timeout, and the timeout into this
        // future's state), not copied whole at each move.
        let respond = Box::pin(respond(direct, request, next));
        let mut response = if stream {
            respond.await
        } else {
            match tokio::time::timeout(self.backstop, respond).await {
                Ok(response) => response,
                Err(_) => {
                    metrics.rejected(server, "timeout");
                    return json_error(StatusCode::GATEWAY_TIMEOUT, "the request took too long");
                }
            }
        };
        // rmcp answers a body that is not a JSON-RPC message with 415; the
        // specification wants 400 with a JSON-RPC error (the Content-Type was right).
        if transport == Transport::Streamable
            && response.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE
            && json_content_type
            && let Some(bytes) = &body_bytes
        {
            return jsonrpc_parse_error(bytes);
        }
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
}

/// The answer to an admitted request: served directly when it is an
/// eligible call, else by rmcp's service (a large future, boxed: only what
/// the direct path needs is moved with every call).
async fn respond(direct: Option<(&Arc<DirectCalls>, DirectCall)>, request: Request, next: Route) -> Response {
    use tower::ServiceExt as _;
    match direct {
        Some((direct, call)) => direct.serve(request.into_parts().0, call).await,
        None => {
            let Ok(response) = Box::pin(next.oneshot(request)).await;
            response
        }
    }
}

const QUERY_TOKEN_REFUSED: &str = "access tokens are accepted only in the Authorization header";

impl Edge {
    /// The base of this gateway's public URLs: `--public-base-url`, else the
    /// (already allow-listed) `Host` over http.
    fn base_url(&self, headers: &HeaderMap) -> String {
        match &self.public_base {
            Some(base) => base.clone(),
            None => {
                let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
                format!("http://{host}")
            }
        }
    }

    /// `/mcp/<token>` of any MCP path of a route (the legacy SSE paths included).
    fn resource_path(mcp_path: &str) -> String {
        format!("/mcp/{}", token_segment(mcp_path))
    }

    /// The audiences a token must name when the route sets none: this
    /// server's URL, or for legacy SSE also the SSE URL the client connected to.
    fn resource_audiences(&self, mcp_path: &str, headers: &HeaderMap) -> Vec<String> {
        let resource = format!("{}{}", self.base_url(headers), Self::resource_path(mcp_path));
        vec![resource.clone(), format!("{resource}/sse")]
    }

    /// The metadata URL of the resource the client addressed (the SSE URL keeps its own).
    fn metadata_url_for(&self, mcp_path: &str, headers: &HeaderMap) -> String {
        let path = if Transport::of(mcp_path) == Transport::SseStream { mcp_path.to_owned() } else { Self::resource_path(mcp_path) };
        metadata::metadata_url(&self.base_url(headers), &path)
    }

    /// 401 for a route: with `oidc` the challenge names the resource
    /// metadata; otherwise the API-token challenge.
    fn unauthorized_for(&self, route: &LoadedRoute, mcp_path: &str, headers: &HeaderMap, error: Option<(&str, &str)>) -> Response {
        if route.route.oidc.is_none() {
            let mut response = unauthorized(error.is_some());
            if let Some((_, description)) = error.filter(|(code, _)| *code == "invalid_request") {
                *response.body_mut() = Body::from(serde_json::json!({ "error": description }).to_string());
            }
            return response;
        }
        let challenge = metadata::challenge(&self.metadata_url_for(mcp_path, headers), error);
        let message = error.map_or("a Bearer access token from this server's authorization server is required", |(_, d)| d);
        let mut response = json_error(StatusCode::UNAUTHORIZED, message);
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }

    /// 403: a valid token of a caller this server does not admit.
    fn forbidden_caller(&self, mcp_path: &str, headers: &HeaderMap) -> Response {
        let challenge = metadata::challenge(
            &self.metadata_url_for(mcp_path, headers),
            Some(("insufficient_scope", "the caller is not allowed on this server")),
        );
        let mut response = json_error(StatusCode::FORBIDDEN, "the caller is not allowed on this server");
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }

    /// RFC 9728 metadata of a route with `oidc`; any other route answers
    /// like an unknown one.
    fn resource_metadata(&self, route: &LoadedRoute, mcp_path: &str, method: &Method, headers: &HeaderMap) -> Response {
        let Some(oidc) = route.route.oidc.as_ref().filter(|_| method == Method::GET) else {
            return not_found();
        };
        let transport = Transport::of(mcp_path);
        if !matches!(transport, Transport::Streamable | Transport::SseStream) {
            return not_found();
        }
        let path = if transport == Transport::SseStream { mcp_path.to_owned() } else { Self::resource_path(mcp_path) };
        let resource = format!("{}{path}", self.base_url(headers));
        let body = metadata::document(&resource, oidc, route.route.display_name.as_deref()).to_string();
        (StatusCode::OK, [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body).into_response()
    }
}

/// An `access_token` query parameter, in any spelling a server might decode.
fn query_has_access_token(uri: &axum::http::Uri) -> bool {
    uri.query().is_some_and(|query| {
        url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name.trim().eq_ignore_ascii_case("access_token"))
    })
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl Edge {
    /// `spec.auth.serviceAccounts`: the caller, or the refusal to answer with.
    async fn service_account_check(
        &self,
        server: &str,
        headers: &HeaderMap,
        allowed: &[crate::route::ServiceAccountName],
    ) -> Result<service_account_auth::CallerIdentity, Response> {
        let metrics = &self.shared.metrics;
        let Some(auth) = &self.shared.service_accounts else {
            metrics.rejected(server, "unauthorized");
            return Err(unauthorized_service_account(false, service_account_auth::DEFAULT_AUDIENCE));
        };
        match auth.check(server, headers, allowed).await {
            service_account_auth::Check::Accepted(identity) => Ok(service_account_auth::CallerIdentity(identity)),
            service_account_auth::Check::Missing => {
                metrics.rejected(server, "unauthorized");
                Err(unauthorized_service_account(false, auth.audience()))
            }
            service_account_auth::Check::Refused => {
                metrics.rejected(server, "unauthorized");
                Err(unauthorized_service_account(true, auth.audience()))
            }
            service_account_auth::Check::Busy(wait) => {
                metrics.rejected(server, "token_review_busy");
                Err(too_busy(retry_after_secs(wait)))
            }
            service_account_auth::Check::Unavailable => {
                metrics.rejected(server, "token_review_unavailable");
                Err(too_busy(1))
            }
        }
    }
}

/// A request body's share of the byte budget, kept in the request extensions.
#[derive(Clone)]
struct HeldBudget(#[allow(dead_code)] Arc<BudgetPermit>);

/// A request's slot under its server's and namespace's caps, kept in the request extensions.
#[derive(Clone)]
struct HeldTenantSlot(#[allow(dead_code)] Arc<crate::limits::TenantPermit>);

/// `Content-Type: application/json` (any parameters).
pub(crate) fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json"))
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Upstream rate-limit facts, normalised to `ratelimit-*` headers (reset in whole seconds, rounded up).
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

enum BearerCheck {
    Accepted,
    Missing,
    Wrong,
}

fn bearer_check(headers: &HeaderMap, accepted_sha256: &[String]) -> BearerCheck {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return BearerCheck::Missing;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return BearerCheck::Wrong;
    };
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return BearerCheck::Wrong;
    }
    let hash = sha256_hex(token);
    if accepted_sha256.iter().any(|h| h.eq_ignore_ascii_case(&hash)) { BearerCheck::Accepted } else { BearerCheck::Wrong }
}

// ---- answers -------------------------------------------------------------------

pub(crate) fn json_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The single answer for unknown, revoked and expired tokens (and any other
/// path): same status, headers and body.
pub fn not_found() -> Response {
    const BODY: &str = r#"{"error":"not found"}"#;
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "application/json"), (header::CONTENT_LENGTH, "21")], BODY).into_response()
}

/// 400 with a JSON-RPC error for a body that is not a JSON-RPC message:
/// -32700 when it is not JSON at all, -32600 when it is JSON of the wrong shape.
pub fn jsonrpc_parse_error(body: &[u8]) -> Response {
    let (code, message) = match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Err(_) => (-32700, "Parse error: the body is not valid JSON"),
        Ok(_) => (-32600, "Invalid Request: the body is not a JSON-RPC 2.0 message"),
    };
    let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}}).to_string();
    (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn unauthorized(wrong_token: bool) -> Response {
    let challenge = if wrong_token { r#"Bearer realm="tfc-mcp", error="invalid_token""# } else { r#"Bearer realm="tfc-mcp""# };
    let mut response = json_error(StatusCode::UNAUTHORIZED, "a valid Bearer API token is required");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    response
}

fn unauthorized_service_account(wrong_token: bool, audience: &str) -> Response {
    let challenge = if wrong_token { r#"Bearer realm="tfc-mcp", error="invalid_token""# } else { r#"Bearer realm="tfc-mcp""# };
    let message = format!("a valid ServiceAccount token (audience {audience}) of a ServiceAccount this server lists is required");
    let mut response = json_error(StatusCode::UNAUTHORIZED, &message);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    response
}

fn rate_limited(retry_after: u64) -> Response {
    let mut response = json_error(StatusCode::TOO_MANY_REQUESTS, "this server's request rate is exceeded; retry after Retry-After seconds");
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

fn payload_too_large(limit: usize) -> Response {
    json_error(StatusCode::PAYLOAD_TOO_LARGE, &format!("the request body is larger than {limit} bytes"))
}

/// 503 with `Retry-After`: too many requests in flight, too many sessions, or shutting down.
pub fn too_busy(retry_after: u64) -> Response {
    let mut response = json_error(StatusCode::SERVICE_UNAVAILABLE, "the gateway is busy; retry after Retry-After seconds");
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

fn forbidden(message: &str) -> Response {
    json_error(StatusCode::FORBIDDEN, message)
}

// ---- Host and Origin -------------------------------------------------------------

fn normalize_host(host: &str) -> String {
    host.trim().trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase()
}

#[derive(Debug, PartialEq, Eq)]
enum HostCheck {
    Allowed,
    /// 400
    Malformed,
    /// 403
    NotAllowed,
}

/// `Host` allow-list (DNS-rebinding protection).
#[derive(Debug)]
struct HostPolicy {
    any: bool,
    allowed: Vec<(String, Option<u16>)>,
}

impl HostPolicy {
    fn new(extra: &[String]) -> Self {
        let mut allowed: Vec<(String, Option<u16>)> = ["localhost", "127.0.0.1", "::1"].iter().map(|h| (h.to_string(), None)).collect();
        let mut any = false;
        for entry in extra.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            if entry == "*" {
                any = true;
                continue;
            }
            match axum::http::uri::Authority::try_from(entry) {
                Ok(a) => allowed.push((normalize_host(a.host()), a.port_u16())),
                Err(_) => allowed.push((normalize_host(entry), None)),
            }
        }
        Self { any, allowed }
    }

    fn check(&self, uri: &axum::http::Uri, headers: &HeaderMap) -> HostCheck {
        if self.any {
            return HostCheck::Allowed;
        }
        let authority = match headers.get(header::HOST) {
            Some(value) => value.to_str().ok().and_then(|s| axum::http::uri::Authority::try_from(s).ok()),
            None => uri.authority().cloned(),
        };
        let Some(authority) = authority else {
            return HostCheck::Malformed;
        };
        let host = normalize_host(authority.host());
        let port = authority.port_u16();
        if self.allowed.iter().any(|(h, p)| *h == host && p.is_none_or(|p| Some(p) == port)) {
            HostCheck::Allowed
        } else {
            HostCheck::NotAllowed
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum OriginEntry {
    Null,
    Tuple { scheme: String, host: String, port: Option<u16> },
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// `scheme://host[:port]` or `null`; `None` when malformed.
fn parse_origin(value: &str) -> Option<OriginEntry> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("null") {
        return Some(OriginEntry::Null);
    }
    let uri = axum::http::Uri::try_from(value).ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    let port = authority.port_u16().or_else(|| default_port(&scheme));
    Some(OriginEntry::Tuple { scheme, host: normalize_host(authority.host()), port })
}

/// `Origin` allow-list: the configured entries plus the gateway's own public
/// origin. An entry without a port means the scheme's default port; `:*`
/// means any port. It fails closed: with no entries, every `Origin` but the
/// public one is refused. Requests without `Origin` (server-side clients
/// such as ChatGPT connectors, CLIs) pass.
#[derive(Debug)]
struct OriginPolicy {
    /// (entry, any port)
    allowed: Vec<(OriginEntry, bool)>,
}

impl OriginPolicy {
    fn new(entries: &[String], public_base_url: Option<&str>) -> Self {
        let mut allowed: Vec<(OriginEntry, bool)> = entries
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .filter_map(|e| match e.strip_suffix(":*") {
                Some(base) => parse_origin(base).map(|o| (o, true)),
                None => parse_origin(e).map(|o| (o, false)),
            })
            .collect();
        // The origin of the public base URL (scheme://host[:port], path dropped).
        let public = public_base_url
            .and_then(|u| url::Url::parse(u.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| u.origin().ascii_serialization());
        if let Some(origin) = public.as_deref().and_then(parse_origin) {
            allowed.push((origin, false));
        }
        Self { allowed }
    }

    /// False when the request carries an Origin that is not allowed (403).
    fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers.get(header::ORIGIN) else {
            return true;
        };
        let origin = value.to_str().ok().and_then(parse_origin);
        origin.is_some_and(|origin| {
            self.allowed.iter().any(|(entry, any_port)| match (entry, &origin) {
                (OriginEntry::Null, OriginEntry::Null) => true,
                (OriginEntry::Tuple { scheme, host, port }, OriginEntry::Tuple { scheme: s, host: h, port: p }) => {
                    scheme == s && host == h && (*any_port || port == p)
                }
                _ => false,
            })
        })
    }
}

// ---- admin -----------------------------------------------------------------------

/// `/healthz` (alive), `/readyz` (route table synchronised, its watch not
/// failing for longer than `--route-sync-stale-secs`, and not shutting
/// down), `/metrics`.
pub fn admin_router(shared: Arc<Shared>, routes: RouteTable, synced: watch::Receiver<bool>, draining: CancellationToken) -> Router {
    let health = routes.health();
    let stale_after = shared.limits.route_sync_stale_after;
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let ready = *synced.borrow();
                let draining = draining.is_cancelled();
                let stale = health.age(Instant::now()) > stale_after;
                async move {
                    match (ready, draining, stale) {
                        (_, true, _) => (StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
                        (false, false, _) => (StatusCode::SERVICE_UNAVAILABLE, "route table not synchronised yet"),
                        (true, false, true) => (StatusCode::SERVICE_UNAVAILABLE, "route watch failing: the route table may be out of date"),
                        (true, false, false) => (StatusCode::OK, "ok"),
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                shared.metrics.routes.set(routes.len() as i64);
                shared.metrics.inflight.set(shared.inflight.in_use() as i64);
                shared.metrics.route_sync_age.set(routes.health().age(Instant::now()).as_secs_f64());
                shared.metrics.memory_budget_in_use.set(i64::from(shared.budget.in_use_kib()) * 1024);
                let body = shared.metrics.render();
                async move { ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], Body::from(body)) }
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    /// Every call copies the edge's future once (into its box) and the
    /// answer's future once (into its own box): a future named before it
    /// is awaited, a large future moved unboxed into a timeout, or an
    /// unboxed rarely taken branch (rmcp's service, tasks, discovery, OIDC)
    /// made these copies several times larger.
    #[test]
    fn the_futures_every_call_copies_stay_small() {
        fn size3<A, B, C, F: std::future::Future>(_: impl FnOnce(A, B, C) -> F) -> usize {
            std::mem::size_of::<F>()
        }
        fn size4<A, B, C, D, F: std::future::Future>(_: impl FnOnce(A, B, C, D) -> F) -> usize {
            std::mem::size_of::<F>()
        }
        let edge = size4::<&'static Edge, Request, Route, Transport, _>(Edge::handle);
        assert!(edge <= 2 * 1024, "the edge's future is {edge} bytes");
        let answer = size3::<Option<(&'static Arc<DirectCalls>, DirectCall)>, Request, Route, _>(respond);
        assert!(answer <= 12 * 1024, "the answer's future is {answer} bytes");
    }

    #[test]
    fn not_found_length_matches_body() {
        assert_eq!(r#"{"error":"not found"}"#.len(), 21);
    }

    #[test]
    fn token_segment_and_transport() {
        assert_eq!(token_segment("/mcp/abc"), "abc");
        assert_eq!(token_segment("/mcp/abc/sse"), "abc");
        assert_eq!(token_segment("/other"), "");
        assert!(Transport::of("/mcp/abc") == Transport::Streamable);
        assert!(Transport::of("/mcp/abc/sse") == Transport::SseStream);
        assert!(Transport::of("/mcp/abc/messages") == Transport::SseMessage);
        assert!(Transport::of("/x") == Transport::Other);
    }

    #[test]
    fn hosts() {
        let uri: axum::http::Uri = "/mcp/x".parse().unwrap();
        let p = HostPolicy::new(&["mcp.example.com".into(), "edge.example.com:8443".into()]);
        for ok in ["127.0.0.1:8080", "[::1]:80", "localhost", "MCP.example.com", "edge.example.com:8443"] {
            assert_eq!(p.check(&uri, &headers(&[("host", ok)])), HostCheck::Allowed, "{ok}");
        }
        assert_eq!(p.check(&uri, &headers(&[("host", "edge.example.com:9999")])), HostCheck::NotAllowed);
        assert_eq!(p.check(&uri, &headers(&[("host", "evil.example")])), HostCheck::NotAllowed);
        assert_eq!(p.check(&uri, &headers(&[])), HostCheck::Malformed);
        assert_eq!(HostPolicy::new(&["*".into()]).check(&uri, &headers(&[("host", "anything")])), HostCheck::Allowed);
    }

    #[test]
    fn origins() {
        // No list and no public URL: fails closed, only Origin-less requests pass.
        let closed = OriginPolicy::new(&[], None);
        assert!(!closed.allows(&headers(&[("origin", "https://evil.example")])));
        assert!(!closed.allows(&headers(&[("origin", "null")])));
        assert!(closed.allows(&headers(&[])));
        // No list: only the gateway's own public origin.
        let own = OriginPolicy::new(&[], Some("https://MCP.example.com/"));
        assert!(own.allows(&headers(&[("origin", "https://mcp.example.com")])));
        assert!(own.allows(&headers(&[("origin", "https://mcp.example.com:443")])));
        assert!(own.allows(&headers(&[])));
        for bad in ["https://evil.example", "http://mcp.example.com", "https://mcp.example.com:8443", "null", "garbage"] {
            assert!(!own.allows(&headers(&[("origin", bad)])), "{bad}");
        }
        let own = OriginPolicy::new(&[], Some("http://127.0.0.1:8080"));
        assert!(own.allows(&headers(&[("origin", "http://127.0.0.1:8080")])));
        assert!(!own.allows(&headers(&[("origin", "http://127.0.0.1:9090")])));
        let p = OriginPolicy::new(&["https://chat.example.com".into(), "http://localhost:*".into(), "null".into()], None);
        assert!(p.allows(&headers(&[])));
        for ok in ["https://chat.example.com", "https://chat.example.com:443", "http://localhost:6274", "null"] {
            assert!(p.allows(&headers(&[("origin", ok)])), "{ok}");
        }
        for bad in ["https://chat.example.com:8443", "http://chat.example.com", "https://evil.example", "garbage"] {
            assert!(!p.allows(&headers(&[("origin", bad)])), "{bad}");
        }
    }

    #[test]
    fn bearer() {
        let accepted = vec![sha256_hex("good")];
        assert!(matches!(bearer_check(&headers(&[("authorization", "Bearer good")]), &accepted), BearerCheck::Accepted));
        assert!(matches!(bearer_check(&headers(&[("authorization", "bearer  good ")]), &accepted), BearerCheck::Accepted));
        assert!(matches!(bearer_check(&headers(&[("authorization", "Bearer bad")]), &accepted), BearerCheck::Wrong));
        assert!(matches!(bearer_check(&headers(&[("authorization", "Basic good")]), &accepted), BearerCheck::Wrong));
        assert!(matches!(bearer_check(&headers(&[]), &accepted), BearerCheck::Missing));
    }
}
