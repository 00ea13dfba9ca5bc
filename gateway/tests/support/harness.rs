//! The gateway's MCP router in process, over its own route table, with the
//! routes' upstream at a mock HCP Terraform: what the edge, approval and
//! task tests drive requests through.

use std::sync::Arc;

use axum::{
    Router,
    body::{Body, Bytes},
    http::{HeaderMap, Request, StatusCode},
};
use serde_json::Value;
use tfc_mcp_gateway::{
    http::{HttpSettings, Shutdown, mcp_router},
    mcp::Shared,
    routes::RouteTable,
};
use tower::ServiceExt;

/// What MCP clients send as `Accept` on a POST.
pub const ACCEPT_BOTH: &str = "application/json, text/event-stream";

pub struct Harness {
    pub router: Router,
    pub routes: RouteTable,
    pub shared: Arc<Shared>,
    pub shutdown: Shutdown,
    /// The mock upstream's base URL, every added route's `tfcAddress`.
    pub upstream: String,
}

impl Harness {
    pub fn new(upstream: String, shared: Shared, settings: &HttpSettings) -> Self {
        let routes = RouteTable::default();
        let shared = Arc::new(shared);
        let shutdown = Shutdown::default();
        let router = mcp_router(routes.clone(), shared.clone(), settings, &shutdown);
        Self { router, routes, shared, shutdown, upstream }
    }

    /// Adds the route of Secret `name` for URL token `token` (see [`super::route_secret`]).
    pub fn add(&self, name: &str, token: &str, extra: Value) {
        self.routes.apply(&super::route_secret(name, token, &self.upstream, extra));
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        (parts.status, parts.headers, axum::body::to_bytes(body, usize::MAX).await.unwrap())
    }

    /// `body` POSTed to `/mcp/{token}` with `headers` over the defaults.
    pub async fn post(&self, token: &str, body: Value, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Bytes) {
        self.send(post_request(&format!("/mcp/{token}"), body.to_string(), headers)).await
    }
}

/// A [`Harness`] and the mock upstream its routes call (`M`: the mock's state).
pub struct MockedGateway<M> {
    pub harness: Harness,
    pub mock: M,
}

impl<M> std::ops::Deref for MockedGateway<M> {
    type Target = Harness;
    fn deref(&self) -> &Harness {
        &self.harness
    }
}

/// A POST as an MCP client sends it (JSON, accepting JSON and SSE), `headers` laid over.
pub fn post_request(path: &str, body: impl Into<Body>, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::post(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", ACCEPT_BOTH)
        .body(body.into())
        .unwrap();
    for (k, v) in headers {
        request.headers_mut().insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
    }
    request
}

/// The JSON-RPC messages of an answer, JSON or SSE.
pub fn messages(headers: &HeaderMap, bytes: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(bytes);
    if headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("text/event-stream")) {
        text.split("\n\n")
            .flat_map(|event| {
                event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(|d| serde_json::from_str(d).unwrap())
                    .collect::<Vec<Value>>()
            })
            .collect()
    } else {
        vec![serde_json::from_str(&text).unwrap()]
    }
}

/// The last JSON-RPC message of an answer, JSON or SSE.
pub fn last_message(headers: &HeaderMap, bytes: &[u8]) -> Value {
    messages(headers, bytes).pop().unwrap()
}
