//! The gateway's Deployment, Service and optional Ingress, rendered from the
//! operator's own configuration (a YAML file from the Helm chart's ConfigMap)
//! and server-side-applied in the gateway namespace. Whatever the
//! configuration no longer wants (an Ingress that was turned off) is removed.
//!
//! All three are owned (ownerReferences) by the gateway's ServiceAccount,
//! which the chart (or kustomize) installs: uninstalling it lets the garbage
//! collector remove the workload the operator created. Without that
//! ServiceAccount nothing is applied.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        core::v1::{Secret, Service, ServiceAccount},
        networking::v1::Ingress,
    },
    apimachinery::pkg::apis::meta::v1::OwnerReference,
};
use kube::{
    Api, Client,
    api::{DeleteParams, Patch, PatchParams, PostParams},
};
use serde::Deserialize;
use serde_json::{Value, json};
use tfc_mcp_contract::approval_claim::{DEFAULT_PER_SECOND, DEFAULT_PER_SECOND_TOTAL};
use tracing::{info, warn};

use crate::{
    reconcile::FIELD_MANAGER,
    secrets::{MANAGED_BY, MANAGED_BY_LABEL},
};

/// Where the approval key Secret is mounted in the gateway container.
pub const APPROVAL_KEYS_DIR: &str = "/etc/tfc-mcp/approval-keys";

/// `approvalClaims`: single use of each confirmation across replicas.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalClaimsConfig {
    #[serde(default)]
    pub enabled: bool,
    /// Claims per second per tenant namespace, per replica (`--approval-claims-per-second`).
    #[serde(default = "ApprovalClaimsConfig::default_per_second")]
    pub per_second: f64,
    /// Claims per second per replica in all (`--approval-claims-per-second-total`).
    #[serde(default = "ApprovalClaimsConfig::default_per_second_total")]
    pub per_second_total: f64,
}

impl ApprovalClaimsConfig {
    /// Rates that limit: finite and above zero (the gateway refuses others).
    fn check(&self) -> Result<(), String> {
        for (field, rate) in [("perSecond", self.per_second), ("perSecondTotal", self.per_second_total)] {
            if !tfc_mcp_contract::approval_claim::is_limiting_rate(rate) {
                return Err(format!("{field}: {rate} is not a rate above zero"));
            }
        }
        Ok(())
    }

    fn default_per_second() -> f64 {
        DEFAULT_PER_SECOND
    }
    fn default_per_second_total() -> f64 {
        DEFAULT_PER_SECOND_TOTAL
    }
}

impl Default for ApprovalClaimsConfig {
    fn default() -> Self {
        Self { enabled: false, per_second: Self::default_per_second(), per_second_total: Self::default_per_second_total() }
    }
}

/// The gateway as the platform team configures it (camelCase YAML).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayConfig {
    #[serde(default = "default_name")]
    pub name: String,
    pub image: String,
    #[serde(default = "default_pull_policy")]
    pub image_pull_policy: String,
    /// `None` leaves `spec.replicas` to an HPA.
    #[serde(default)]
    pub replicas: Option<i32>,
    #[serde(default = "default_service_account")]
    pub service_account_name: String,
    pub public_base_url: String,
    #[serde(default = "default_listen_port")]
    pub listen_port: u16,
    #[serde(default = "default_admin_port")]
    pub admin_port: u16,
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Upstream addresses routes may use (the operator's own list, enforced again by the gateway).
    #[serde(default)]
    pub allowed_tfc_addresses: Vec<String>,
    #[serde(default)]
    pub allow_insecure_tfc_addresses: bool,
    /// Pod and service CIDRs the gateway never connects to.
    #[serde(default)]
    pub denied_egress_cidrs: Vec<String>,
    /// `ip:port` / `host:port` exceptions to the egress guard.
    #[serde(default)]
    pub allowed_egress_addresses: Vec<String>,
    /// Hosts blob downloads may go to (empty: the gateway's default, HCP Terraform's archivist).
    #[serde(default)]
    pub allowed_download_hosts: Vec<String>,
    /// The public Terraform Registry the `registry` tools read.
    #[serde(default)]
    pub registry: RegistryConfig,
    /// ServiceAccount token checks (`spec.auth.serviceAccounts`); unset fields keep the gateway's defaults.
    #[serde(default)]
    pub service_account_auth: ServiceAccountAuthConfig,
    /// Secret (in the gateway namespace) holding the approval key every
    /// replica shares (keys `current` and, during a rotation, `previous`);
    /// mounted read-only and passed as `--approval-keys-dir`.
    #[serde(default)]
    pub approval_key_secret: Option<String>,
    /// Each confirmation is claimed once across replicas (a Lease per
    /// confirmation, `--approval-claims`); off: once per replica.
    #[serde(default)]
    pub approval_claims: ApprovalClaimsConfig,
    /// Bind the admin listener (/metrics, probes) to the Pod IP instead of every interface.
    #[serde(default = "yes")]
    pub admin_bind_pod_ip: bool,
    /// Legacy SSE sessions live in one replica: the Service then sets ClientIP affinity.
    #[serde(default = "yes")]
    pub legacy_sse: bool,
    /// Replicas share the rate budgets, counting each other from the gateway
    /// Service's EndpointSlices (`--peer-service`); off: each replica keeps
    /// the whole budget.
    #[serde(default)]
    pub peer_pacing: bool,
    /// Threads serving requests per replica (`--worker-threads`, 1 to
    /// 1024); unset: one per CPU the container may use.
    #[serde(default)]
    pub worker_threads: Option<u16>,
    /// Gateway limits (flags); unset ones keep the gateway's defaults.
    #[serde(default)]
    pub limits: GatewayLimits,
    /// OIDC access-token checks (flags); unset ones keep the gateway's defaults.
    #[serde(default)]
    pub oidc: GatewayOidc,
    #[serde(default)]
    pub resources: Value,
    #[serde(default)]
    pub service: ServiceConfig,
    #[serde(default)]
    pub ingress: IngressConfig,
    #[serde(default)]
    pub pod_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub pod_annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub tolerations: Vec<Value>,
    #[serde(default)]
    pub affinity: Value,
}

/// The gateway's ServiceAccount token checks (`--service-account-audience`, ...).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccountAuthConfig {
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default)]
    pub cache_seconds: Option<u64>,
    #[serde(default)]
    pub negative_cache_seconds: Option<u64>,
    #[serde(default)]
    pub reviews_per_second: Option<f64>,
    #[serde(default)]
    pub reviews_per_second_per_server: Option<f64>,
}

impl ServiceAccountAuthConfig {
    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(audience) = self.audience.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            args.push(format!("--service-account-audience={audience}"));
        }
        for (flag, value) in
            [("service-account-cache-secs", self.cache_seconds), ("service-account-negative-cache-secs", self.negative_cache_seconds)]
        {
            if let Some(value) = value {
                args.push(format!("--{flag}={value}"));
            }
        }
        for (flag, value) in [
            ("token-reviews-per-second", self.reviews_per_second),
            ("token-reviews-per-second-per-server", self.reviews_per_second_per_server),
        ] {
            if let Some(value) = value {
                args.push(format!("--{flag}={value}"));
            }
        }
        args
    }
}

/// The gateway's public Terraform Registry (`--registry-address`,
/// `--registry-for-enterprise-routes`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryConfig {
    /// Base URL; empty turns the registry tools off.
    #[serde(default = "default_registry_address")]
    pub address: String,
    #[serde(default)]
    pub for_enterprise_routes: bool,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self { address: default_registry_address(), for_enterprise_routes: false }
    }
}

fn default_registry_address() -> String {
    tfc_mcp_contract::registry::DEFAULT_REGISTRY_ADDRESS.to_owned()
}

impl RegistryConfig {
    /// The gateway's rule for servers with empty tags, so the operator's
    /// `toolCount` counts the tools the gateway will list.
    pub fn defaults(&self) -> tfc_mcp_contract::registry::RegistryDefaults {
        tfc_mcp_contract::registry::RegistryDefaults {
            available: !self.address.trim().is_empty(),
            for_enterprise_routes: self.for_enterprise_routes,
        }
    }
}

/// The gateway's resource limits, each passed as the flag of the same name.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayLimits {
    pub max_inflight: Option<u64>,
    pub max_inflight_per_server: Option<u64>,
    pub max_inflight_per_namespace: Option<u64>,
    pub memory_budget_mib: Option<u64>,
    pub body_read_timeout_secs: Option<u64>,
    pub header_read_timeout_secs: Option<u64>,
    pub idle_timeout_secs: Option<u64>,
    pub write_stall_timeout_secs: Option<u64>,
    pub route_sync_stale_secs: Option<u64>,
    pub max_result_bytes: Option<u64>,
}

impl GatewayLimits {
    fn args(&self) -> Vec<String> {
        [
            ("max-inflight", self.max_inflight),
            ("max-inflight-per-server", self.max_inflight_per_server),
            ("max-inflight-per-namespace", self.max_inflight_per_namespace),
            ("memory-budget-mib", self.memory_budget_mib),
            ("body-read-timeout-secs", self.body_read_timeout_secs),
            ("header-read-timeout-secs", self.header_read_timeout_secs),
            ("idle-timeout-secs", self.idle_timeout_secs),
            ("write-stall-timeout-secs", self.write_stall_timeout_secs),
            ("route-sync-stale-secs", self.route_sync_stale_secs),
            ("max-result-bytes", self.max_result_bytes),
        ]
        .into_iter()
        .filter_map(|(flag, value)| value.map(|v| format!("--{flag}={v}")))
        .collect()
    }
}

/// The gateway's OIDC settings (`spec.auth.oidc` servers), each passed as the flag `--oidc-<name>`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayOidc {
    pub clock_skew_secs: Option<u64>,
    pub jwks_min_refresh_secs: Option<u64>,
    pub jwks_max_age_secs: Option<u64>,
    /// `subject` or `sha256`.
    pub audit_subject: Option<String>,
}

impl GatewayOidc {
    fn args(&self) -> Vec<String> {
        let numbers = [
            ("clock-skew-secs", self.clock_skew_secs),
            ("jwks-min-refresh-secs", self.jwks_min_refresh_secs),
            ("jwks-max-age-secs", self.jwks_max_age_secs),
        ];
        let mut args: Vec<String> = numbers.into_iter().filter_map(|(flag, value)| value.map(|v| format!("--oidc-{flag}={v}"))).collect();
        if let Some(mode) = &self.audit_subject {
            args.push(format!("--oidc-audit-subject={mode}"));
        }
        args
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceConfig {
    #[serde(default = "default_service_type", rename = "type")]
    pub type_: String,
    #[serde(default = "default_service_port")]
    pub port: u16,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self { type_: default_service_type(), port: default_service_port() }
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressConfig {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub class_name: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub tls_secret_name: String,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

fn default_name() -> String {
    "tfc-mcp-gateway".into()
}
fn default_pull_policy() -> String {
    "IfNotPresent".into()
}
fn default_service_account() -> String {
    "tfc-mcp-gateway".into()
}
fn default_listen_port() -> u16 {
    8080
}
fn default_admin_port() -> u16 {
    9090
}
fn default_service_type() -> String {
    "ClusterIP".into()
}
fn default_service_port() -> u16 {
    80
}
fn yes() -> bool {
    true
}

impl GatewayConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading gateway config {}: {e}", path.display()))?;
        let config: Self = serde_yaml::from_str(&text).map_err(|e| anyhow::anyhow!("gateway config {}: {e}", path.display()))?;
        tfc_mcp_contract::registry::parse_address(&config.registry.address)
            .map_err(|e| anyhow::anyhow!("gateway config {}: registry.address: {e}", path.display()))?;
        config.approval_claims.check().map_err(|e| anyhow::anyhow!("gateway config {}: approvalClaims.{e}", path.display()))?;
        let max = tfc_mcp_contract::worker_threads::MAX;
        if let Some(threads) = config.worker_threads.filter(|n| !(1..=max).contains(n)) {
            anyhow::bail!("gateway config {}: workerThreads: {threads} is not between 1 and {max}", path.display());
        }
        Ok(config)
    }

    fn selector(&self) -> Value {
        json!({ "app.kubernetes.io/name": self.name, "app.kubernetes.io/component": "gateway" })
    }

    fn labels(&self) -> Value {
        let mut labels = self.selector();
        labels[MANAGED_BY_LABEL] = json!(MANAGED_BY);
        labels
    }

    /// The Deployment. A change here changes the pod template, which rolls it.
    pub fn deployment(&self, namespace: &str) -> Value {
        let mut pod_labels = self.labels();
        for (k, v) in &self.pod_labels {
            pod_labels[k] = json!(v);
        }
        // `$(POD_IP)` is expanded by the kubelet from the downward-API variable below.
        let admin_host = if self.admin_bind_pod_ip { "$(POD_IP)" } else { "0.0.0.0" };
        let mut args = vec![
            format!("--namespace={namespace}"),
            format!("--listen=0.0.0.0:{}", self.listen_port),
            format!("--admin-listen={admin_host}:{}", self.admin_port),
            "--log-format=json".to_owned(),
            format!("--legacy-sse={}", self.legacy_sse),
            format!("--public-base-url={}", self.public_base_url),
            format!("--allow-insecure-tfc-addresses={}", self.allow_insecure_tfc_addresses),
            format!("--registry-address={}", self.registry.address.trim()),
            format!("--registry-for-enterprise-routes={}", self.registry.for_enterprise_routes),
        ];
        for (flag, list) in [
            ("allowed-tfc-addresses", &self.allowed_tfc_addresses),
            ("denied-egress-cidrs", &self.denied_egress_cidrs),
            ("allowed-egress-addresses", &self.allowed_egress_addresses),
            ("allowed-download-hosts", &self.allowed_download_hosts),
        ] {
            if !list.is_empty() {
                args.push(format!("--{flag}={}", list.join(",")));
            }
        }
        if !self.allowed_hosts.is_empty() {
            args.push(format!("--allowed-hosts={}", self.allowed_hosts.join(",")));
        }
        if !self.allowed_origins.is_empty() {
            args.push(format!("--allowed-origins={}", self.allowed_origins.join(",")));
        }
        if self.peer_pacing {
            // `$(POD_NAME)`: the Pod as its endpoint's targetRef names it.
            args.extend([
                format!("--peer-service={}", self.name),
                format!("--peer-namespace={namespace}"),
                "--peer-self=$(POD_NAME)".to_owned(),
            ]);
        }
        if self.approval_claims.enabled {
            args.extend([
                "--approval-claims=true".to_owned(),
                format!("--approval-claims-per-second={}", self.approval_claims.per_second),
                format!("--approval-claims-per-second-total={}", self.approval_claims.per_second_total),
                "--approval-claims-holder=$(POD_NAME)".to_owned(),
            ]);
        }
        if let Some(threads) = self.worker_threads {
            args.push(format!("--worker-threads={threads}"));
        }
        args.extend(self.limits.args());
        args.extend(self.oidc.args());
        args.extend(self.service_account_auth.args());
        let mut spec = json!({
            "selector": { "matchLabels": self.selector() },
            "template": {
                "metadata": { "labels": pod_labels, "annotations": self.pod_annotations },
                "spec": {
                    "serviceAccountName": self.service_account_name,
                    // Longer than the gateway's own drain (25 s) so in-flight calls finish.
                    "terminationGracePeriodSeconds": 35,
                    "automountServiceAccountToken": true,
                    "securityContext": {
                        "runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
                        "seccompProfile": { "type": "RuntimeDefault" },
                    },
                    "containers": [{
                        "name": "gateway",
                        "image": self.image,
                        "imagePullPolicy": self.image_pull_policy,
                        "args": args,
                        "env": [
                            { "name": "POD_IP", "valueFrom": { "fieldRef": { "fieldPath": "status.podIP" } } },
                            { "name": "POD_NAME", "valueFrom": { "fieldRef": { "fieldPath": "metadata.name" } } },
                        ],
                        "ports": [
                            { "name": "mcp", "containerPort": self.listen_port, "protocol": "TCP" },
                            { "name": "admin", "containerPort": self.admin_port, "protocol": "TCP" },
                        ],
                        "readinessProbe": { "httpGet": { "path": "/readyz", "port": "admin" }, "periodSeconds": 5 },
                        "livenessProbe": { "httpGet": { "path": "/healthz", "port": "admin" }, "periodSeconds": 10 },
                        "resources": if self.resources.is_null() { json!({}) } else { self.resources.clone() },
                        "securityContext": {
                            "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                            "capabilities": { "drop": ["ALL"] },
                        },
                    }],
                    "nodeSelector": self.node_selector,
                    "tolerations": self.tolerations,
                },
            },
        });
        if let Some(secret) = self.approval_key_secret.as_deref().filter(|s| !s.is_empty()) {
            let pod = &mut spec["template"]["spec"];
            pod["volumes"] = json!([{ "name": "approval-keys", "secret": { "secretName": secret, "defaultMode": 0o440 } }]);
            let container = &mut pod["containers"][0];
            container["volumeMounts"] = json!([{ "name": "approval-keys", "mountPath": APPROVAL_KEYS_DIR, "readOnly": true }]);
            if let Some(args) = container["args"].as_array_mut() {
                args.push(json!(format!("--approval-keys-dir={APPROVAL_KEYS_DIR}")));
            }
        }
        if let Some(replicas) = self.replicas {
            spec["replicas"] = json!(replicas);
        }
        if !self.affinity.is_null() {
            spec["template"]["spec"]["affinity"] = self.affinity.clone();
        }
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": { "name": self.name, "namespace": namespace, "labels": self.labels() },
            "spec": spec,
        })
    }

    pub fn service(&self, namespace: &str) -> Value {
        let mut spec = json!({
            "type": self.service.type_,
            "selector": self.selector(),
            "ports": [{ "name": "mcp", "port": self.service.port, "targetPort": "mcp", "protocol": "TCP" }],
        });
        if self.legacy_sse {
            spec["sessionAffinity"] = json!("ClientIP");
        }
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": { "name": self.name, "namespace": namespace, "labels": self.labels() },
            "spec": spec,
        })
    }

    pub fn ingress(&self, namespace: &str) -> Option<Value> {
        if !self.ingress.enabled {
            return None;
        }
        let mut spec = json!({
            "rules": [{
                "host": self.ingress.host,
                "http": { "paths": [{
                    "path": "/mcp", "pathType": "Prefix",
                    "backend": { "service": { "name": self.name, "port": { "name": "mcp" } } },
                }]},
            }],
        });
        if !self.ingress.class_name.is_empty() {
            spec["ingressClassName"] = json!(self.ingress.class_name);
        }
        if !self.ingress.tls_secret_name.is_empty() {
            spec["tls"] = json!([{ "hosts": [self.ingress.host], "secretName": self.ingress.tls_secret_name }]);
        }
        Some(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": { "name": self.name, "namespace": namespace, "labels": self.labels(), "annotations": self.ingress.annotations },
            "spec": spec,
        }))
    }
}

/// The ownerReference every gateway object carries: its ServiceAccount.
/// Not `blockOwnerDeletion`, which would need rights on the ServiceAccount's finalizers.
pub fn service_account_owner(account: &ServiceAccount) -> Option<OwnerReference> {
    Some(OwnerReference {
        api_version: "v1".into(),
        kind: "ServiceAccount".into(),
        name: account.metadata.name.clone()?,
        uid: account.metadata.uid.clone()?,
        ..OwnerReference::default()
    })
}

/// Sets `metadata.ownerReferences` of a rendered manifest.
fn owned_by(mut manifest: Value, owner: &OwnerReference) -> Value {
    manifest["metadata"]["ownerReferences"] = json!([owner]);
    manifest
}

/// Applies what the configuration wants and removes what it no longer wants.
pub async fn apply(client: &Client, namespace: &str, config: &GatewayConfig, owner: &OwnerReference) -> kube::Result<()> {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    if let Some(name) = config.approval_key_secret.as_deref().filter(|s| !s.is_empty()) {
        ensure_approval_key(client, namespace, name, owner).await?;
    }
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    deployments.patch(&config.name, &params, &Patch::Apply(owned_by(config.deployment(namespace), owner))).await?;
    let services: Api<Service> = Api::namespaced(client.clone(), namespace);
    services.patch(&config.name, &params, &Patch::Apply(owned_by(config.service(namespace), owner))).await?;
    let ingresses: Api<Ingress> = Api::namespaced(client.clone(), namespace);
    match config.ingress(namespace) {
        Some(ingress) => {
            ingresses.patch(&config.name, &params, &Patch::Apply(owned_by(ingress, owner))).await?;
        }
        None => {
            let ours = ingresses
                .get_opt(&config.name)
                .await?
                .is_some_and(|i| i.metadata.labels.as_ref().and_then(|l| l.get(MANAGED_BY_LABEL)).map(String::as_str) == Some(MANAGED_BY));
            if ours {
                ingresses.delete(&config.name, &DeleteParams::default()).await?;
                info!(name = %config.name, "removed gateway Ingress that the configuration no longer wants");
            }
        }
    }
    info!(name = %config.name, image = %config.image, "gateway workload applied");
    Ok(())
}

/// Mints the approval key Secret when it does not exist (kustomize installs,
/// or a deleted Secret); an existing one (from the Helm chart, or rotated by
/// hand) is never changed. Owned like the workload, so uninstalling removes it.
async fn ensure_approval_key(client: &Client, namespace: &str, name: &str, owner: &OwnerReference) -> kube::Result<()> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    if secrets.get_opt(name).await?.is_some() {
        return Ok(());
    }
    let secret: Secret = serde_json::from_value(owned_by(
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": { "name": name, "namespace": namespace, "labels": { (MANAGED_BY_LABEL): MANAGED_BY } },
            "type": "Opaque",
            "stringData": { (tfc_mcp_contract::approval_key::CURRENT_KEY_FILE): tfc_mcp_contract::approval_key::new_key() },
        }),
        owner,
    ))
    .map_err(kube::Error::SerdeError)?;
    match secrets.create(&PostParams::default(), &secret).await {
        Ok(_) => {
            info!(name, "minted the gateway's approval key Secret");
            Ok(())
        }
        // Another operator replica (or the chart) was first: keep theirs.
        Err(kube::Error::Api(status)) if status.is_conflict() => Ok(()),
        Err(e) => Err(e),
    }
}

/// How often the configuration file is read again (a mounted ConfigMap
/// changes in place), and how often the workload is re-applied anyway to
/// repair drift.
const POLL: Duration = Duration::from_secs(10);
const RESYNC: Duration = Duration::from_secs(300);

/// Applies the workload when this replica becomes leader, again whenever the
/// configuration file or the owning ServiceAccount changes, and every
/// `RESYNC` to repair drift. A broken file keeps the last good workload and
/// is logged; a missing ServiceAccount (being uninstalled) applies nothing.
pub async fn keep_applied(client: Client, namespace: String, path: PathBuf) {
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &namespace);
    let mut applied: Option<(GatewayConfig, OwnerReference, Instant)> = None;
    loop {
        match GatewayConfig::load(&path) {
            Ok(config) => match accounts.get_opt(&config.service_account_name).await {
                Ok(Some(account)) => {
                    let Some(owner) = service_account_owner(&account) else {
                        tokio::time::sleep(POLL).await;
                        continue;
                    };
                    let due = applied
                        .as_ref()
                        .is_none_or(|(last, last_owner, at)| *last != config || last_owner.uid != owner.uid || at.elapsed() >= RESYNC);
                    if due {
                        match apply(&client, &namespace, &config, &owner).await {
                            Ok(()) => applied = Some((config, owner, Instant::now())),
                            Err(error) => warn!(%error, "could not apply the gateway workload; retrying"),
                        }
                    }
                }
                Ok(None) => {
                    warn!(service_account = %config.service_account_name, "the gateway ServiceAccount does not exist; not applying the gateway workload")
                }
                Err(error) => warn!(%error, "could not read the gateway ServiceAccount; retrying"),
            },
            Err(error) => warn!(%error, "gateway configuration unreadable; keeping the last applied workload"),
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
name: tfc-mcp-gateway
image: example/gateway:1
replicas: 2
publicBaseUrl: https://mcp.example.com
allowedHosts: [mcp.example.com]
resources: {limits: {memory: 256Mi}}
limits: {memoryBudgetMib: 96, maxInflightPerServer: 32}
oidc: {jwksMinRefreshSecs: 10, auditSubject: sha256}
ingress: {enabled: true, host: mcp.example.com, tlsSecretName: mcp-tls}
allowedTfcAddresses: [https://app.terraform.io, https://tfe.example.com]
deniedEgressCidrs: [10.96.0.0/12, 10.244.0.0/16]
"#;

    #[test]
    fn renders_a_restricted_deployment_with_the_gateway_flags() {
        let config: GatewayConfig = serde_yaml::from_str(CONFIG).unwrap();
        let deployment = config.deployment("tfc-mcp-system");
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], "example/gateway:1");
        let args = container["args"].as_array().unwrap();
        for want in [
            "--allowed-hosts=mcp.example.com",
            "--public-base-url=https://mcp.example.com",
            "--admin-listen=$(POD_IP):9090",
            "--allow-insecure-tfc-addresses=false",
            "--allowed-tfc-addresses=https://app.terraform.io,https://tfe.example.com",
            "--denied-egress-cidrs=10.96.0.0/12,10.244.0.0/16",
        ] {
            assert!(args.contains(&json!(want)), "{want} missing in {args:?}");
        }
        assert!(!args.iter().any(|a| a.as_str().unwrap().starts_with("--allowed-download-hosts")));
        assert_eq!(container["env"][0]["valueFrom"]["fieldRef"]["fieldPath"], "status.podIP");
        assert!(args.contains(&json!("--allowed-hosts=mcp.example.com")));
        assert!(args.contains(&json!("--memory-budget-mib=96")) && args.contains(&json!("--max-inflight-per-server=32")));
        assert!(!args.iter().any(|a| a.as_str().unwrap().starts_with("--idle-timeout-secs")), "unset limits keep the defaults");
        assert!(args.contains(&json!("--oidc-jwks-min-refresh-secs=10")) && args.contains(&json!("--oidc-audit-subject=sha256")));
        assert!(!args.iter().any(|a| a.as_str().unwrap().starts_with("--oidc-clock-skew-secs")));
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(deployment["spec"]["replicas"], 2);
        assert_eq!(config.service("ns")["spec"]["sessionAffinity"], "ClientIP");
        assert_eq!(config.ingress("ns").unwrap()["spec"]["tls"][0]["secretName"], "mcp-tls");
        // Typed decoding proves the manifests are well-formed.
        let _: Deployment = serde_json::from_value(deployment).unwrap();
        let _: Service = serde_json::from_value(config.service("ns")).unwrap();
        let _: Ingress = serde_json::from_value(config.ingress("ns").unwrap()).unwrap();
    }

    #[test]
    fn every_gateway_object_is_owned_by_the_gateway_service_account() {
        let config: GatewayConfig = serde_yaml::from_str(CONFIG).unwrap();
        let mut account = ServiceAccount::default();
        account.metadata.name = Some("tfc-mcp-gateway".into());
        assert!(service_account_owner(&account).is_none(), "no uid yet: nothing to own by");
        account.metadata.uid = Some("sa-uid".into());
        let owner = service_account_owner(&account).unwrap();
        for manifest in [config.deployment("ns"), config.service("ns"), config.ingress("ns").unwrap()] {
            let owned = owned_by(manifest, &owner);
            let references: Vec<OwnerReference> = serde_json::from_value(owned["metadata"]["ownerReferences"].clone()).unwrap();
            assert_eq!(references.len(), 1);
            assert_eq!((references[0].kind.as_str(), references[0].uid.as_str()), ("ServiceAccount", "sa-uid"));
            assert_eq!(references[0].block_owner_deletion, None);
        }
    }

    #[test]
    fn peer_pacing_counts_the_replicas_of_the_gateway_service() {
        let args = |config: &GatewayConfig| config.deployment("gw-ns")["spec"]["template"]["spec"]["containers"][0]["args"].clone();
        let on: GatewayConfig = serde_yaml::from_str("name: gw\nimage: x\npublicBaseUrl: http://x\npeerPacing: true\n").unwrap();
        let a = args(&on);
        for flag in ["--peer-service=gw", "--peer-namespace=gw-ns", "--peer-self=$(POD_NAME)"] {
            assert!(a.as_array().unwrap().contains(&json!(flag)), "{flag} not in {a}");
        }
        let env = &on.deployment("gw-ns")["spec"]["template"]["spec"]["containers"][0]["env"];
        assert_eq!(env[1]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
        let off: GatewayConfig = serde_yaml::from_str("image: x\npublicBaseUrl: http://x\n").unwrap();
        assert!(!args(&off).to_string().contains("--peer-"), "off by default: each replica keeps the whole budget");
    }

    #[test]
    fn approval_claims_pass_their_rate_and_the_pod_as_holder() {
        let args = |yaml: &str| {
            let config: GatewayConfig = serde_yaml::from_str(yaml).unwrap();
            config.deployment("gw-ns")["spec"]["template"]["spec"]["containers"][0]["args"].to_string()
        };
        let on = args("image: x\npublicBaseUrl: http://x\napprovalClaims:\n  enabled: true\n  perSecond: 4\n");
        for flag in [
            "--approval-claims=true",
            "--approval-claims-per-second=4",
            "--approval-claims-per-second-total=50",
            "--approval-claims-holder=$(POD_NAME)",
        ] {
            assert!(on.contains(flag), "{flag} not in {on}");
        }
        assert!(!args("image: x\npublicBaseUrl: http://x\n").contains("--approval-claims"), "off unless configured");
        let typo: Result<GatewayConfig, _> = serde_yaml::from_str("image: x\npublicBaseUrl: http://x\napprovalClaims:\n  enable: true\n");
        assert!(typo.is_err(), "a misspelt field is an error, not silently off");
        for rates in ["perSecond: .inf", "perSecond: 0", "perSecondTotal: -1", "perSecondTotal: .nan"] {
            let config: GatewayConfig =
                serde_yaml::from_str(&format!("image: x\npublicBaseUrl: http://x\napprovalClaims:\n  enabled: true\n  {rates}\n")).unwrap();
            assert!(config.approval_claims.check().is_err(), "{rates}: a rate that does not limit is refused");
        }
    }

    #[test]
    fn hpa_mode_leaves_replicas_alone_and_typos_are_rejected() {
        let config: GatewayConfig = serde_yaml::from_str("image: x\npublicBaseUrl: http://x\n").unwrap();
        assert!(config.deployment("ns")["spec"].get("replicas").is_none());
        assert!(config.ingress("ns").is_none());
        assert!(serde_yaml::from_str::<GatewayConfig>("image: x\npublicBaseUrl: http://x\nreplica: 2\n").is_err());
        assert!(serde_yaml::from_str::<GatewayConfig>("image: x\npublicBaseUrl: http://x\nlimits: {memoryBudget: 1}\n").is_err());
    }

    #[test]
    fn service_account_auth_settings_become_gateway_flags() {
        let args = |config: &GatewayConfig| config.deployment("ns")["spec"]["template"]["spec"]["containers"][0]["args"].clone();
        let config: GatewayConfig = serde_yaml::from_str(
            "image: x\npublicBaseUrl: http://x\nserviceAccountAuth: {audience: mcp, cacheSeconds: 5, negativeCacheSeconds: 2, reviewsPerSecond: 10, reviewsPerSecondPerServer: 2.5}\n",
        )
        .unwrap();
        let a = args(&config);
        for flag in [
            "--service-account-audience=mcp",
            "--service-account-cache-secs=5",
            "--service-account-negative-cache-secs=2",
            "--token-reviews-per-second=10",
            "--token-reviews-per-second-per-server=2.5",
        ] {
            assert!(a.as_array().unwrap().contains(&json!(flag)), "{flag} not in {a}");
        }
        let defaults: GatewayConfig = serde_yaml::from_str("image: x\npublicBaseUrl: http://x\n").unwrap();
        assert!(!args(&defaults).to_string().contains("service-account"), "unset values keep the gateway's defaults");
        assert!(
            serde_yaml::from_str::<GatewayConfig>("image: x\npublicBaseUrl: http://x\nserviceAccountAuth: {audiences: [x]}\n").is_err()
        );
    }

    #[test]
    fn the_approval_key_secret_is_mounted_read_only_and_passed() {
        let config: GatewayConfig =
            serde_yaml::from_str("image: x\npublicBaseUrl: http://x\napprovalKeySecret: gw-approval-key\n").unwrap();
        let pod = config.deployment("ns")["spec"]["template"]["spec"].clone();
        assert_eq!(pod["volumes"][0]["secret"]["secretName"], "gw-approval-key");
        assert_eq!(pod["containers"][0]["volumeMounts"][0]["readOnly"], true);
        assert!(pod["containers"][0]["args"].as_array().unwrap().contains(&json!(format!("--approval-keys-dir={APPROVAL_KEYS_DIR}"))));
        let without: GatewayConfig = serde_yaml::from_str("image: x\npublicBaseUrl: http://x\n").unwrap();
        assert!(without.deployment("ns")["spec"]["template"]["spec"].get("volumes").is_none());
    }

    #[test]
    fn the_registry_is_passed_to_the_gateway_and_its_rule_to_the_tool_count() {
        let args = |config: &GatewayConfig| config.deployment("ns")["spec"]["template"]["spec"]["containers"][0]["args"].clone();
        let config: GatewayConfig = serde_yaml::from_str("image: x\npublicBaseUrl: http://x\n").unwrap();
        let a = args(&config);
        assert!(a.as_array().unwrap().contains(&json!("--registry-address=https://registry.terraform.io")), "{a}");
        assert!(a.as_array().unwrap().contains(&json!("--registry-for-enterprise-routes=false")), "{a}");
        assert_eq!(
            config.registry.defaults(),
            tfc_mcp_contract::registry::RegistryDefaults { available: true, for_enterprise_routes: false }
        );
        let off: GatewayConfig =
            serde_yaml::from_str("image: x\npublicBaseUrl: http://x\nregistry: {address: \"\", forEnterpriseRoutes: true}\n").unwrap();
        assert!(args(&off).as_array().unwrap().contains(&json!("--registry-address=")));
        assert!(!off.registry.defaults().available);
        assert!(serde_yaml::from_str::<GatewayConfig>("image: x\npublicBaseUrl: http://x\nregistry: {url: x}\n").is_err());
        let dir = std::env::temp_dir().join(format!("tfcmcp-registry-{}", std::process::id()));
        std::fs::write(&dir, "image: x\npublicBaseUrl: http://x\nregistry: {address: \"ftp://x\"}\n").unwrap();
        let err = GatewayConfig::load(&dir).unwrap_err().to_string();
        std::fs::remove_file(&dir).ok();
        assert!(err.contains("registry.address"), "{err}");
    }

    #[test]
    fn worker_threads_are_passed_when_set_and_refused_out_of_range() {
        let args = |config: &GatewayConfig| config.deployment("ns")["spec"]["template"]["spec"]["containers"][0]["args"].clone();
        let unset: GatewayConfig = serde_yaml::from_str("image: x\npublicBaseUrl: http://x\n").unwrap();
        assert!(!args(&unset).to_string().contains("--worker-threads"), "unset: one per CPU, the gateway's default");
        let two: GatewayConfig = serde_yaml::from_str("image: x\npublicBaseUrl: http://x\nworkerThreads: 2\n").unwrap();
        assert!(args(&two).as_array().unwrap().contains(&json!("--worker-threads=2")));
        let path = std::env::temp_dir().join(format!("tfcmcp-workers-{}", std::process::id()));
        for (threads, fine) in [("null", true), ("1", true), ("1024", true), ("0", false), ("1025", false), ("-1", false)] {
            std::fs::write(&path, format!("image: x\npublicBaseUrl: http://x\nworkerThreads: {threads}\n")).unwrap();
            let loaded = GatewayConfig::load(&path);
            assert_eq!(loaded.is_ok(), fine, "{threads}: {:?}", loaded.err());
            if let Err(e) = loaded {
                assert!(e.to_string().contains("workerThreads"), "{e}");
            }
        }
        std::fs::remove_file(&path).ok();
    }
}
