//! Prometheus metrics for the operator.

use std::sync::{Arc, Mutex};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConditionLabels {
    ready: String,
}

/// A Kubernetes verb (`get`, `watch`, `create`, `patch`, `update`, `delete`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerbLabels {
    pub verb: &'static str,
}

#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    reconciles: Counter,
    failures: Family<ErrorLabels, Counter>,
    duration: Histogram,
    servers: Family<ConditionLabels, Gauge>,
    leader: Gauge,
    kube_requests: Family<VerbLabels, Counter>,
    ready_by_server: Arc<Mutex<std::collections::HashMap<String, bool>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tfcmcp_operator");
        let reconciles = Counter::default();
        let failures = Family::<ErrorLabels, Counter>::default();
        let duration = Histogram::new([0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]);
        let servers = Family::<ConditionLabels, Gauge>::default();
        registry.register("reconciles", "Reconciles started", reconciles.clone());
        registry.register("reconcile_errors", "Reconciles that failed, by reason", failures.clone());
        registry.register("reconcile_duration_seconds", "Reconcile duration", duration.clone());
        registry.register("servers", "TfcMcpServers by Ready condition", servers.clone());
        let leader = Gauge::default();
        registry.register("leader", "1 when this replica holds the leader Lease", leader.clone());
        let kube_requests = Family::<VerbLabels, Counter>::default();
        registry.register("kube_requests", "Requests to the Kubernetes API, by verb (get includes list)", kube_requests.clone());
        Self {
            registry: Arc::new(registry),
            reconciles,
            failures,
            duration,
            servers,
            leader,
            kube_requests,
            ready_by_server: Arc::default(),
        }
    }
}

/// Observes the reconcile duration when dropped.
pub struct ReconcileTimer {
    start: std::time::Instant,
    histogram: Histogram,
}

impl Drop for ReconcileTimer {
    fn drop(&mut self) {
        self.histogram.observe(self.start.elapsed().as_secs_f64());
    }
}

impl Metrics {
    pub fn time_reconcile(&self) -> ReconcileTimer {
        self.reconciles.inc();
        ReconcileTimer { start: std::time::Instant::now(), histogram: self.duration.clone() }
    }

    /// The kube client layer that counts every API request into `kube_requests`.
    pub fn kube_request_layer(&self) -> crate::kube_requests::CountRequestsLayer {
        crate::kube_requests::CountRequestsLayer::new(self.kube_requests.clone())
    }

    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    pub fn reconcile_failed(&self, reason: &str) {
        self.failures.get_or_create(&ErrorLabels { reason: reason.to_owned() }).inc();
    }

    /// Tracks each server's readiness so the `servers` gauge stays exact.
    pub fn observe_ready(&self, server: &str, ready: bool) {
        let mut by_server = self.ready_by_server.lock().unwrap_or_else(|e| e.into_inner());
        by_server.insert(server.to_owned(), ready);
        let ready_count = by_server.values().filter(|r| **r).count() as i64;
        let not_ready = by_server.len() as i64 - ready_count;
        self.servers.get_or_create(&ConditionLabels { ready: "true".into() }).set(ready_count);
        self.servers.get_or_create(&ConditionLabels { ready: "false".into() }).set(not_ready);
    }

    pub fn forget(&self, server: &str) {
        self.ready_by_server.lock().unwrap_or_else(|e| e.into_inner()).remove(server);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = encode(&mut out, &self.registry);
        out
    }
}
