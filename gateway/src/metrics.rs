//! Prometheus metrics for the gateway. Labels never carry tokens: servers are
//! named `namespace/name`.

use std::{sync::Arc, time::Duration};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    server: String,
    tool: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolNameLabels {
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    status: u16,
}

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    tool_calls: Family<ToolLabels, Counter>,
    tool_seconds: Family<ToolNameLabels, Histogram>,
    http_requests: Family<HttpLabels, Counter>,
    pub routes: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tfcmcp_gateway");
        let tool_calls = Family::<ToolLabels, Counter>::default();
        let tool_seconds = Family::<ToolNameLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0])
        });
        let http_requests = Family::<HttpLabels, Counter>::default();
        let routes = Gauge::default();
        registry.register("tool_calls", "Tool calls by server, tool and outcome", tool_calls.clone());
        registry.register("tool_duration_seconds", "Tool call latency", tool_seconds.clone());
        registry.register("http_requests", "MCP HTTP requests by status", http_requests.clone());
        registry.register("routes_loaded", "Routes in the route table", routes.clone());
        Self { registry: Arc::new(registry), tool_calls, tool_seconds, http_requests, routes }
    }
}

impl Metrics {
    pub fn tool_call(&self, server: &str, tool: &str, outcome: &str) {
        self.tool_calls.get_or_create(&ToolLabels { server: server.into(), tool: tool.into(), outcome: outcome.into() }).inc();
    }

    pub fn tool_duration(&self, tool: &str, elapsed: Duration) {
        self.tool_seconds.get_or_create(&ToolNameLabels { tool: tool.into() }).observe(elapsed.as_secs_f64());
    }

    pub fn http_request(&self, status: u16) {
        self.http_requests.get_or_create(&HttpLabels { status }).inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry);
        out
    }
}
