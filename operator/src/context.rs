//! State shared by every reconcile.

use kube::{
    Client,
    runtime::events::{Recorder, Reporter},
};

use tfc_mcp_contract::tfc_address::TfcAddressPolicy;

use std::sync::Arc;

use crate::{metrics::Metrics, own_writes::OwnWrites, requeue::ErrorBackoff};

/// Operator settings that reconciles need.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Namespace of the gateway, where route Secrets are written.
    pub gateway_namespace: String,
    /// Base URL under which the gateway is reachable, e.g. `https://mcp.example.com`.
    pub public_base_url: String,
    /// Upstream addresses a server may name (`Ready=False/AddressNotAllowed` otherwise).
    pub tfc_addresses: TfcAddressPolicy,
    /// At most this many servers are reconciled at once.
    pub max_concurrent_reconciles: u16,
    /// TEST ONLY: accept plain-http `auth.oidc.issuer`s on loopback.
    pub allow_insecure_oidc_issuers: bool,
}

pub struct Context {
    pub client: Client,
    pub settings: Settings,
    pub recorder: Recorder,
    pub metrics: Metrics,
    pub backoff: ErrorBackoff,
    /// Secrets this operator just wrote (their watch events start no reconcile).
    pub own_writes: Arc<OwnWrites>,
}

impl Context {
    pub fn new(client: Client, settings: Settings, metrics: Metrics, own_writes: Arc<OwnWrites>) -> Self {
        let reporter = Reporter { controller: "tfc-mcp-operator".into(), instance: std::env::var("POD_NAME").ok() };
        let recorder = Recorder::new(client.clone(), reporter);
        Self { client, settings, recorder, metrics, backoff: ErrorBackoff::default(), own_writes }
    }
}
