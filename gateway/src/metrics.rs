//! Prometheus metrics for the gateway. Labels never carry tokens: servers are
//! named `namespace/name`, tools only by catalog names (a name a client made
//! up is counted as `unknown`), MCP methods only from a fixed set.
//!
//! | metric | labels |
//! |---|---|
//! | `tfcmcp_gateway_requests_total` | server, method, tool, outcome |
//! | `tfcmcp_gateway_rejected_requests_total` | server, reason |
//! | `tfcmcp_gateway_http_requests_total` | transport, status |
//! | `tfcmcp_gateway_tool_duration_seconds` (histogram) | tool |
//! | `tfcmcp_gateway_upstream_requests_total` | status |
//! | `tfcmcp_gateway_upstream_rate_limited_total` | server |
//! | `tfcmcp_gateway_egress_refused_total` | reason (`address`, `download_host`) |
//! | `tfcmcp_gateway_oidc_key_fetches_total` | outcome (`ok`, `error`) |
//! | `tfcmcp_gateway_service_account_tokens_total` | result (`authenticated`, `refused`, `error`: a TokenReview; `cached`, `malformed`, `rate_limited`: none) |
//! | `tfcmcp_gateway_routes_loaded` | |
//! | `tfcmcp_gateway_inflight_requests` | |
//! | `tfcmcp_gateway_sse_sessions` | |
//! | `tfcmcp_gateway_route_sync_age_seconds` | |
//! | `tfcmcp_gateway_memory_budget_in_use_bytes` | |
//! | `tfcmcp_gateway_peers` | |

use std::{
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    server: String,
    method: &'static str,
    tool: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectedLabels {
    server: String,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolNameLabels {
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    transport: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServerLabels {
    server: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    rejected: Family<RejectedLabels, Counter>,
    tool_seconds: Family<ToolNameLabels, Histogram>,
    http_requests: Family<HttpLabels, Counter>,
    upstream_requests: Family<StatusLabels, Counter>,
    upstream_rate_limited: Family<ServerLabels, Counter>,
    egress_refused: Family<ReasonLabels, Counter>,
    oidc_key_fetches: Family<OutcomeLabels, Counter>,
    service_account_tokens: Family<ResultLabels, Counter>,
    pub routes: Gauge,
    pub inflight: Gauge,
    pub sse_sessions: Gauge,
    /// Seconds since the route table was last known to be in step with the API server.
    pub route_sync_age: Gauge<f64, AtomicU64>,
    /// Bytes of the byte budget held now.
    pub memory_budget_in_use: Gauge,
    /// Replicas this one shares its rate budgets with, itself included.
    pub peers: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tfcmcp_gateway");
        let requests = Family::<RequestLabels, Counter>::default();
        let rejected = Family::<RejectedLabels, Counter>::default();
        let tool_seconds = Family::<ToolNameLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0])
        });
        let http_requests = Family::<HttpLabels, Counter>::default();
        let upstream_requests = Family::<StatusLabels, Counter>::default();
        let upstream_rate_limited = Family::<ServerLabels, Counter>::default();
        let egress_refused = Family::<ReasonLabels, Counter>::default();
        let oidc_key_fetches = Family::<OutcomeLabels, Counter>::default();
        let service_account_tokens = Family::<ResultLabels, Counter>::default();
        let routes = Gauge::default();
        let inflight = Gauge::default();
        let sse_sessions = Gauge::default();
        let route_sync_age = Gauge::<f64, AtomicU64>::default();
        let memory_budget_in_use = Gauge::default();
        let peers = Gauge::default();
        registry.register(
            "peers",
            "Gateway replicas sharing the rate budgets, this one included (1 without --peer-service)",
            peers.clone(),
        );
        registry.register(
            "requests",
            "MCP requests by server, method (initialize, ping, tools/list, tools/call), tool and outcome",
            requests.clone(),
        );
        registry.register(
            "rejected_requests",
            "Requests refused at the edge, by server (empty when the URL token is unknown) and reason",
            rejected.clone(),
        );
        registry.register("tool_duration_seconds", "Tool call latency", tool_seconds.clone());
        registry.register("http_requests", "MCP HTTP requests by transport and status", http_requests.clone());
        registry.register("upstream_requests", "HCP Terraform API requests by HTTP status", upstream_requests.clone());
        registry.register(
            "upstream_rate_limited",
            "HCP Terraform 429 answers passed to MCP clients, by server",
            upstream_rate_limited.clone(),
        );
        registry.register(
            "egress_refused",
            "Outbound connections the egress policy refused (private or cluster address, download host not allowed)",
            egress_refused.clone(),
        );
        registry.register(
            "oidc_key_fetches",
            "Fetches of OIDC issuers' signing keys (discovery document and JWKS), by outcome",
            oidc_key_fetches.clone(),
        );
        registry.register(
            "service_account_tokens",
            "ServiceAccount Bearer tokens checked, by result (authenticated, refused and error are TokenReviews sent to the API server)",
            service_account_tokens.clone(),
        );
        registry.register("routes_loaded", "Routes in the route table", routes.clone());
        registry.register("inflight_requests", "MCP requests being handled", inflight.clone());
        registry.register("sse_sessions", "Open legacy HTTP+SSE sessions", sse_sessions.clone());
        registry.register(
            "route_sync_age_seconds",
            "Seconds since the route table was last known to be in step with the API server (its watch delivered or a list answered)",
            route_sync_age.clone(),
        );
        registry.register(
            "memory_budget_in_use_bytes",
            "Bytes of request bodies and upstream answers held now, counted against --memory-budget-mib",
            memory_budget_in_use.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            rejected,
            tool_seconds,
            http_requests,
            upstream_requests,
            upstream_rate_limited,
            egress_refused,
            oidc_key_fetches,
            service_account_tokens,
            routes,
            inflight,
            sse_sessions,
            route_sync_age,
            memory_budget_in_use,
            peers,
        }
    }
}

impl Metrics {
    /// One MCP request the handler answered. `tool` is a catalog (or
    /// discovery) tool name, `unknown`, or empty for other methods.
    pub fn request(&self, server: &str, method: &'static str, tool: &str, outcome: &'static str) {
        self.requests.get_or_create(&RequestLabels { server: server.into(), method, tool: tool.into(), outcome }).inc();
    }

    /// One ServiceAccount Bearer token checked (see `service_account_auth`).
    pub fn token_review(&self, result: &'static str) {
        self.service_account_tokens.get_or_create(&ResultLabels { result }).inc();
    }

    /// A request refused before it reached the MCP handler.
    pub fn rejected(&self, server: &str, reason: &'static str) {
        self.rejected.get_or_create(&RejectedLabels { server: server.into(), reason }).inc();
    }

    pub fn tool_duration(&self, tool: &str, elapsed: Duration) {
        self.tool_seconds.get_or_create(&ToolNameLabels { tool: tool.into() }).observe(elapsed.as_secs_f64());
    }

    pub fn http_request(&self, transport: &'static str, status: u16) {
        self.http_requests.get_or_create(&HttpLabels { transport, status }).inc();
    }

    /// An HCP Terraform answer (to be called by the upstream client for every response).
    pub fn upstream_response(&self, status: u16) {
        self.upstream_requests.get_or_create(&StatusLabels { status }).inc();
    }

    /// An upstream 429 that reached a client as a tool error.
    pub fn upstream_rate_limited(&self, server: &str) {
        self.upstream_rate_limited.get_or_create(&ServerLabels { server: server.into() }).inc();
    }

    /// An outbound connection the egress policy refused.
    pub fn egress_refused(&self, reason: &'static str) {
        self.egress_refused.get_or_create(&ReasonLabels { reason }).inc();
    }

    /// One fetch of an OIDC issuer's keys: outcome `ok` or `error`.
    pub fn oidc_key_fetch(&self, outcome: &'static str) {
        self.oidc_key_fetches.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family() {
        let m = Metrics::default();
        m.request("ns/a", "tools/call", "list_all_hashicorp_terraform_cloud_workspaces", "ok");
        m.rejected("", "not_found");
        m.tool_duration("list_all_hashicorp_terraform_cloud_workspaces", Duration::from_millis(20));
        m.http_request("streamable_http", 200);
        m.upstream_response(429);
        m.upstream_rate_limited("ns/a");
        m.egress_refused("download_host");
        m.routes.set(3);
        let text = m.render();
        for needle in [
            r#"tfcmcp_gateway_requests_total{server="ns/a",method="tools/call",tool="list_all_hashicorp_terraform_cloud_workspaces",outcome="ok"} 1"#,
            r#"tfcmcp_gateway_rejected_requests_total{server="",reason="not_found"} 1"#,
            r#"tfcmcp_gateway_http_requests_total{transport="streamable_http",status="200"} 1"#,
            r#"tfcmcp_gateway_upstream_requests_total{status="429"} 1"#,
            r#"tfcmcp_gateway_upstream_rate_limited_total{server="ns/a"} 1"#,
            r#"tfcmcp_gateway_egress_refused_total{reason="download_host"} 1"#,
            "tfcmcp_gateway_tool_duration_seconds_bucket",
            "tfcmcp_gateway_routes_loaded 3",
            "tfcmcp_gateway_sse_sessions 0",
            "tfcmcp_gateway_route_sync_age_seconds 0",
            "tfcmcp_gateway_memory_budget_in_use_bytes 0",
        ] {
            assert!(text.contains(needle), "{needle} missing in\n{text}");
        }
    }
}
