//! tfc-mcp-gateway: serves MCP for every route Secret in its namespace.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use clap::Parser;
use tfc_mcp_gateway::{
    egress::EgressPolicy,
    http::{HttpSettings, Shutdown, admin_router, mcp_router},
    limits::Limits,
    mcp::Shared,
    metrics::Metrics,
    oidc::{AuditSubject, OidcSettings, Verifier},
    peers::{PeerSource, Peers, watch_peers},
    registry,
    routes::{RouteTable, watch_routes},
    serve::{ConnectionSettings, serve},
    service_account_auth::{KubeTokenReviewer, ServiceAccountAuth, ServiceAccountAuthSettings},
    sse::SseSettings,
    tfc_address::TfcAddressPolicy,
    upstream::Upstream,
};
use tracing::{info, warn};
use tracing_subscriber::fmt::writer::BoxMakeWriter;

#[derive(Parser)]
#[command(
    name = "tfc-mcp-gateway",
    version,
    about = "MCP gateway for HCP Terraform",
    long_about = "MCP gateway for HCP Terraform: serves one scoped, expiring MCP endpoint per route Secret \
                  in its namespace. Streamable HTTP at /mcp/{token}, legacy HTTP+SSE at /mcp/{token}/sse; \
                  /healthz, /readyz and /metrics on the admin listener. Every flag can also be set through \
                  the environment variable named in brackets."
)]
struct Args {
    /// Threads that serve requests. Unset: one per CPU this process may use (a container's CPU limit
    /// counts), or TOKIO_WORKER_THREADS. On cores shared with busy neighbours fewer threads spend
    /// less CPU per call: an idle thread woken to look for work costs more than it takes over.
    #[arg(long, env = "TFCMCP_WORKER_THREADS",
          value_parser = clap::value_parser!(u16).range(1..=i64::from(tfc_mcp_contract::worker_threads::MAX)))]
    worker_threads: Option<u16>,
    /// Namespace whose route Secrets this gateway serves (its own).
    #[arg(long, env = "TFCMCP_NAMESPACE", default_value = "tfc-mcp-system")]
    namespace: String,
    /// Public MCP listener.
    #[arg(long, env = "TFCMCP_LISTEN", default_value = "0.0.0.0:8080")]
    listen: SocketAddr,
    /// Admin listener: /healthz, /readyz, /metrics. In-cluster only: the chart binds it to the Pod IP
    /// (`$(POD_IP):9090`; an unbracketed IPv6 address is accepted too).
    #[arg(long, env = "TFCMCP_ADMIN_LISTEN", default_value = "0.0.0.0:9090", value_parser = parse_listen)]
    admin_listen: SocketAddr,
    /// Extra accepted Host values (comma separated, `host` or `host:port`), e.g. the public hostname.
    /// Loopback is always accepted; `*` accepts any Host (not recommended).
    #[arg(long, env = "TFCMCP_ALLOWED_HOSTS", value_delimiter = ',')]
    allowed_hosts: Vec<String>,
    /// Accepted browser Origins (comma separated, `scheme://host[:port]`, `:*` for any port, `null`),
    /// besides the origin of --public-base-url. A request with another Origin gets 403 (also when the
    /// list is empty: fail closed); requests without Origin pass.
    #[arg(long, env = "TFCMCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    allowed_origins: Vec<String>,
    /// Base URL under which MCP clients reach this gateway (`https://mcp.example.com`); its origin is
    /// always an accepted Origin.
    #[arg(long, env = "TFCMCP_PUBLIC_BASE_URL")]
    public_base_url: Option<String>,
    /// HCP Terraform / Terraform Enterprise addresses routes may use (comma separated base URLs,
    /// compared normalised). A route with another address is not served (404). Empty means
    /// https://app.terraform.io. Must match the operator's flag of the same name.
    #[arg(long, env = "TFCMCP_ALLOWED_TFC_ADDRESSES", value_delimiter = ',')]
    allowed_tfc_addresses: Vec<String>,
    /// Allow plain-http addresses in --allowed-tfc-addresses (test setups only).
    #[arg(long, env = "TFCMCP_ALLOW_INSECURE_TFC_ADDRESSES", default_value_t = false, action = clap::ArgAction::Set, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_insecure_tfc_addresses: bool,
    /// Cluster CIDRs (pod and service networks, comma separated) the gateway never connects to, on top of
    /// loopback, link-local, private, CGNAT, multicast and reserved ranges, which are always refused.
    #[arg(long, env = "TFCMCP_DENIED_EGRESS_CIDRS", value_delimiter = ',')]
    denied_egress_cidrs: Vec<String>,
    /// Exceptions to the egress guard (comma separated): `ip:port` (exactly that address, reached by IP
    /// literal) or `host:port` (a name whose private addresses may be used, e.g. an internal Terraform
    /// Enterprise).
    #[arg(long, env = "TFCMCP_ALLOWED_EGRESS_ADDRESSES", value_delimiter = ',')]
    allowed_egress_addresses: Vec<String>,
    /// Hosts that blob downloads (logs, JSON plans, hosted state) may go to, besides the route's own
    /// address (comma separated host names). Empty means archivist.terraform.io.
    #[arg(long, env = "TFCMCP_ALLOWED_DOWNLOAD_HOSTS", value_delimiter = ',')]
    allowed_download_hosts: Vec<String>,
    /// The public Terraform Registry the `registry` tools read (base URL; gateway-wide, never set by a
    /// server). Empty turns the registry tools off. Calls carry no credentials and pass the egress guard.
    #[arg(long, env = "TFCMCP_REGISTRY_ADDRESS", default_value = tfc_mcp_gateway::registry::DEFAULT_REGISTRY_ADDRESS)]
    registry_address: String,
    /// Servers with empty `tags` whose address is Terraform Enterprise (not the public HCP Terraform) get
    /// the `registry` tools too. Off: such servers get them only by naming `registry` in `tags`.
    #[arg(long, env = "TFCMCP_REGISTRY_FOR_ENTERPRISE_ROUTES", default_value_t = false, action = clap::ArgAction::Set, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    registry_for_enterprise_routes: bool,
    /// Timeout of one upstream HCP Terraform request, in seconds.
    #[arg(long, env = "TFCMCP_UPSTREAM_TIMEOUT_SECS", default_value_t = 30)]
    upstream_timeout_secs: u64,
    /// Requests per second each server (TfcMcpServer) may send; more get 429 with Retry-After. 0 disables.
    #[arg(long, env = "TFCMCP_RATE_LIMIT_PER_SECOND", default_value_t = 20.0)]
    rate_limit_per_second: f64,
    /// Requests a server may send in a burst above its per-second rate.
    #[arg(long, env = "TFCMCP_RATE_LIMIT_BURST", default_value_t = 40)]
    rate_limit_burst: u32,
    /// Largest accepted request body in bytes; larger ones get 413.
    #[arg(long, env = "TFCMCP_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// Largest tool result in bytes of compact JSON (a server's spec.results.maxBytes wins); bigger
    /// results are trimmed and say so (`truncated`). Bounded to 2048..=4194304.
    #[arg(long, env = "TFCMCP_MAX_RESULT_BYTES", default_value_t = 64 * 1024)]
    max_result_bytes: usize,
    /// Requests handled at once by this replica (legacy SSE streams not counted); more get 503 with
    /// Retry-After. 0 disables the cap.
    #[arg(long, env = "TFCMCP_MAX_INFLIGHT", default_value_t = 512)]
    max_inflight: usize,
    /// Requests of one server (TfcMcpServer) handled at once by this replica, long runs_wait calls
    /// included; more get 429 with Retry-After. 0 disables the cap.
    #[arg(long, env = "TFCMCP_MAX_INFLIGHT_PER_SERVER", default_value_t = 32)]
    max_inflight_per_server: usize,
    /// Requests of all the servers of one namespace handled at once by this replica; more get 429
    /// with Retry-After. 0 disables the cap.
    #[arg(long, env = "TFCMCP_MAX_INFLIGHT_PER_NAMESPACE", default_value_t = 64)]
    max_inflight_per_namespace: usize,
    /// Byte budget of this replica, in MiB: request bodies and HCP Terraform answers (API pages,
    /// logs, state and plan files) held at once. Past it a request waits up to
    /// --memory-budget-wait-secs, then gets 503 (a tool call: a tool error). 0 disables the budget.
    #[arg(long, env = "TFCMCP_MEMORY_BUDGET_MIB", default_value_t = 96)]
    memory_budget_mib: usize,
    /// How long a request waits for room in the byte budget, in seconds.
    #[arg(long, env = "TFCMCP_MEMORY_BUDGET_WAIT_SECS", default_value_t = 2)]
    memory_budget_wait_secs: u64,
    /// Time allowed to receive a whole request body, in seconds (before any in-flight slot is
    /// taken); slower bodies get 408.
    #[arg(long, env = "TFCMCP_BODY_READ_TIMEOUT_SECS", default_value_t = 10)]
    body_read_timeout_secs: u64,
    /// Time allowed to receive a request's headers, in seconds; the connection is then closed.
    #[arg(long, env = "TFCMCP_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    header_read_timeout_secs: u64,
    /// A connection with no request in progress and no traffic for this many seconds is closed.
    #[arg(long, env = "TFCMCP_IDLE_TIMEOUT_SECS", default_value_t = 120)]
    idle_timeout_secs: u64,
    /// An answer (or a legacy SSE message) that cannot be written for this many seconds because
    /// the client does not read closes the connection (the session).
    #[arg(long, env = "TFCMCP_WRITE_STALL_TIMEOUT_SECS", default_value_t = 30)]
    write_stall_timeout_secs: u64,
    /// /readyz fails once the route watch has been failing (the route table not known to be in
    /// step with the API server) for this many seconds.
    #[arg(long, env = "TFCMCP_ROUTE_SYNC_STALE_SECS", default_value_t = 120)]
    route_sync_stale_secs: u64,
    /// Longest time one tool call may take, in seconds; it then ends with a tool error.
    #[arg(long, env = "TFCMCP_REQUEST_TIMEOUT_SECS", default_value_t = 120)]
    request_timeout_secs: u64,
    /// Longest time a tool with its own bounded wait (hashicorp_terraform_cloud_runs_wait, up to 600 s)
    /// may take, in seconds.
    #[arg(long, env = "TFCMCP_LONG_REQUEST_TIMEOUT_SECS", default_value_t = 660)]
    long_request_timeout_secs: u64,
    /// Serve the legacy HTTP+SSE transport (2024-11-05) at /mcp/{token}/sse. It keeps sessions in one
    /// replica's memory, so it needs client affinity (ClientIP) when there are several replicas.
    #[arg(long, env = "TFCMCP_LEGACY_SSE", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    legacy_sse: bool,
    /// Legacy SSE: open sessions per replica; more get 503.
    #[arg(long, env = "TFCMCP_SSE_MAX_SESSIONS", default_value_t = 1000)]
    sse_max_sessions: usize,
    /// Legacy SSE: open sessions per server (TfcMcpServer) per replica; more get 503.
    #[arg(long, env = "TFCMCP_SSE_MAX_SESSIONS_PER_SERVER", default_value_t = 50)]
    sse_max_sessions_per_server: usize,
    /// Legacy SSE: open sessions per namespace (all its servers together) per replica; more get 503.
    #[arg(long, env = "TFCMCP_SSE_MAX_SESSIONS_PER_NAMESPACE", default_value_t = 100)]
    sse_max_sessions_per_namespace: usize,
    /// Legacy SSE: a session without messages for this many seconds is closed.
    #[arg(long, env = "TFCMCP_SSE_IDLE_TIMEOUT_SECS", default_value_t = 1800)]
    sse_idle_timeout_secs: u64,
    /// Interval of keep-alive comments on SSE streams (legacy SSE and streamed tool replies), in seconds.
    #[arg(long, env = "TFCMCP_SSE_KEEP_ALIVE_SECS", default_value_t = 15)]
    sse_keep_alive_secs: u64,
    /// On SIGTERM: seconds to let in-flight calls finish (new connections are refused and /readyz
    /// turns 503 at once) before the rest is cancelled.
    #[arg(long, env = "TFCMCP_SHUTDOWN_GRACE_SECS", default_value_t = 25)]
    shutdown_grace_secs: u64,
    /// Log format: json or text.
    #[arg(long, env = "TFCMCP_LOG_FORMAT", default_value = "json")]
    log_format: String,
    /// OIDC (spec.auth.oidc): leeway on a token's exp and nbf, in seconds (at most 300).
    #[arg(long, env = "TFCMCP_OIDC_CLOCK_SKEW_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=300))]
    oidc_clock_skew_secs: u64,
    /// OIDC: an issuer's signing keys (JWKS) are fetched at most once per this many seconds, however
    /// many tokens with unknown key ids arrive.
    #[arg(long, env = "TFCMCP_OIDC_JWKS_MIN_REFRESH_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    oidc_jwks_min_refresh_secs: u64,
    /// OIDC: signing keys older than this many seconds are fetched again on next use.
    #[arg(long, env = "TFCMCP_OIDC_JWKS_MAX_AGE_SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(60..))]
    oidc_jwks_max_age_secs: u64,
    /// OIDC: how the audit line names the caller: `subject` (the token's sub) or `sha256` (its hash).
    #[arg(long, env = "TFCMCP_OIDC_AUDIT_SUBJECT", default_value = "subject")]
    oidc_audit_subject: AuditSubject,
    /// TEST ONLY: accept plain-http OIDC issuers on loopback addresses (a local test issuer).
    #[arg(long, env = "TFCMCP_ALLOW_INSECURE_OIDC_ISSUERS", default_value_t = false, action = clap::ArgAction::Set, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_insecure_oidc_issuers: bool,
    /// Audience ServiceAccount tokens must be minted for (`spec.auth.serviceAccounts`).
    #[arg(long, env = "TFCMCP_SERVICE_ACCOUNT_AUDIENCE", default_value = tfc_mcp_gateway::service_account_auth::DEFAULT_AUDIENCE)]
    service_account_audience: String,
    /// Seconds an accepted ServiceAccount token is trusted before it is reviewed again
    /// (also how long a deleted ServiceAccount's token may still work).
    #[arg(long, env = "TFCMCP_SERVICE_ACCOUNT_CACHE_SECS", default_value_t = 30)]
    service_account_cache_secs: u64,
    /// Seconds a refused ServiceAccount token is remembered as refused.
    #[arg(long, env = "TFCMCP_SERVICE_ACCOUNT_NEGATIVE_CACHE_SECS", default_value_t = 10)]
    service_account_negative_cache_secs: u64,
    /// TokenReviews per second this replica may send (burst twice that); beyond, 503 with Retry-After.
    #[arg(long, env = "TFCMCP_TOKEN_REVIEWS_PER_SECOND", default_value_t = 20.0)]
    token_reviews_per_second: f64,
    /// TokenReviews per second one server (TfcMcpServer) may cause (burst twice that).
    #[arg(long, env = "TFCMCP_TOKEN_REVIEWS_PER_SECOND_PER_SERVER", default_value_t = 5.0)]
    token_reviews_per_second_per_server: f64,
    /// Directory with the approval key (file `current`, and `previous` during a
    /// rotation), the same on every replica: it signs the confirmation state
    /// of destructive calls (`spec.approval`). Unset: a random key per process
    /// (confirmations then verify only on the replica that asked).
    #[arg(long, env = "TFCMCP_APPROVAL_KEYS_DIR")]
    approval_keys_dir: Option<std::path::PathBuf>,
    /// Use each confirmation once across all replicas: redeeming one creates a Lease named after it
    /// in --namespace (create on Leases there; the operator deletes expired ones); a second
    /// redemption anywhere is refused as replayed. Off: each replica remembers only the
    /// confirmations it redeemed.
    #[arg(long, env = "TFCMCP_APPROVAL_CLAIMS", default_value_t = false, action = clap::ArgAction::Set, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    approval_claims: bool,
    /// Confirmations the servers of one namespace may claim per second on this replica (burst twice
    /// that); beyond, a confirmed call is refused and nothing runs.
    #[arg(long, env = "TFCMCP_APPROVAL_CLAIMS_PER_SECOND", default_value_t = tfc_mcp_contract::approval_claim::DEFAULT_PER_SECOND, value_parser = positive_rate)]
    approval_claims_per_second: f64,
    /// Confirmations this replica may claim per second in all (burst twice that): bounds the Leases
    /// in etcd to this times 300 s per replica.
    #[arg(long, env = "TFCMCP_APPROVAL_CLAIMS_PER_SECOND_TOTAL", default_value_t = tfc_mcp_contract::approval_claim::DEFAULT_PER_SECOND_TOTAL, value_parser = positive_rate)]
    approval_claims_per_second_total: f64,
    /// This replica's name in its claims (the Pod name).
    #[arg(long, env = "TFCMCP_APPROVAL_CLAIMS_HOLDER", default_value = "tfc-mcp-gateway")]
    approval_claims_holder: String,
    /// Share the per-server request rate and each upstream token's pacing with the other replicas: the
    /// gateway Service whose ready endpoints (EndpointSlices) count the replicas; each keeps 1/N of
    /// every budget and follows the count. Empty (the default): this replica keeps the whole budget.
    #[arg(long, env = "TFCMCP_PEER_SERVICE", default_value = "")]
    peer_service: String,
    /// Namespace of --peer-service; defaults to --namespace.
    #[arg(long, env = "TFCMCP_PEER_NAMESPACE")]
    peer_namespace: Option<String>,
    /// This replica's Pod name (or IP) as its endpoint lists it; until it is listed as ready, the
    /// replica counts itself on top of the listed ones.
    #[arg(long, env = "TFCMCP_PEER_SELF")]
    peer_self: Option<String>,

    /// TEST ONLY: add the MCP conformance suite's tools (test_simple_text, ...) to every route. Never in production.
    #[arg(long, env = "TFCMCP_ENABLE_CONFORMANCE_TOOLS", default_value_t = false)]
    enable_conformance_tools: bool,
}

impl Args {
    fn egress(&self) -> anyhow::Result<EgressPolicy> {
        let tfc = TfcAddressPolicy::new(&self.allowed_tfc_addresses, self.allow_insecure_tfc_addresses)
            .map_err(|e| anyhow::anyhow!("--allowed-tfc-addresses: {e}"))?;
        EgressPolicy::new(tfc, &self.denied_egress_cidrs, &self.allowed_egress_addresses, &self.allowed_download_hosts)
            .map_err(|e| anyhow::anyhow!("egress flags: {e}"))
    }

    /// Where the replica count comes from (`--peer-service`), if anywhere.
    fn peer_source(&self) -> anyhow::Result<Option<PeerSource>> {
        let service = self.peer_service.trim();
        if service.is_empty() {
            return Ok(None);
        }
        let namespace = self.peer_namespace.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&self.namespace);
        for (flag, name) in [("--peer-service", service), ("--peer-namespace", namespace)] {
            anyhow::ensure!(is_dns_label(name), "{flag} {name:?} is not a Kubernetes name (lowercase letters, digits and '-', at most 63)");
        }
        let me = self.peer_self.as_deref().map(str::trim).filter(|m| !m.is_empty()).map(str::to_owned);
        Ok(Some(PeerSource { namespace: namespace.to_owned(), service: service.to_owned(), me }))
    }

    fn limits(&self, peers: Peers) -> Limits {
        Limits {
            rate_per_second: self.rate_limit_per_second,
            rate_burst: f64::from(self.rate_limit_burst.max(1)),
            max_body_bytes: self.max_body_bytes,
            max_inflight: self.max_inflight,
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            long_request_timeout: Duration::from_secs(self.long_request_timeout_secs.max(1)),
            max_inflight_per_server: self.max_inflight_per_server,
            max_inflight_per_namespace: self.max_inflight_per_namespace,
            memory_budget_bytes: self.memory_budget_mib.saturating_mul(1024 * 1024),
            budget_wait: Duration::from_secs(self.memory_budget_wait_secs),
            body_read_timeout: Duration::from_secs(self.body_read_timeout_secs.max(1)),
            route_sync_stale_after: Duration::from_secs(self.route_sync_stale_secs.max(1)),
            max_result_bytes: self.max_result_bytes,
            peers,
        }
    }

    fn oidc(&self) -> OidcSettings {
        OidcSettings {
            clock_skew: Duration::from_secs(self.oidc_clock_skew_secs),
            jwks_min_refresh: Duration::from_secs(self.oidc_jwks_min_refresh_secs),
            jwks_max_age: Duration::from_secs(self.oidc_jwks_max_age_secs),
            allow_insecure_loopback_issuers: self.allow_insecure_oidc_issuers,
            audit_subject: self.oidc_audit_subject,
            ..OidcSettings::default()
        }
    }

    fn service_account_auth(&self) -> anyhow::Result<ServiceAccountAuthSettings> {
        let audience = self.service_account_audience.trim();
        anyhow::ensure!(!audience.is_empty(), "--service-account-audience must not be empty");
        Ok(ServiceAccountAuthSettings {
            audience: audience.to_owned(),
            positive_ttl: Duration::from_secs(self.service_account_cache_secs),
            negative_ttl: Duration::from_secs(self.service_account_negative_cache_secs),
            reviews_per_second: self.token_reviews_per_second,
            reviews_per_second_per_server: self.token_reviews_per_second_per_server,
            ..ServiceAccountAuthSettings::default()
        })
    }

    fn connections(&self) -> ConnectionSettings {
        ConnectionSettings {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs.max(1)),
            write_stall_timeout: Duration::from_secs(self.write_stall_timeout_secs.max(1)),
        }
    }

    fn sse(&self) -> SseSettings {
        SseSettings {
            max_sessions: self.sse_max_sessions,
            max_sessions_per_server: self.sse_max_sessions_per_server,
            max_sessions_per_namespace: self.sse_max_sessions_per_namespace,
            idle_timeout: Duration::from_secs(self.sse_idle_timeout_secs.max(1)),
            keep_alive: Duration::from_secs(self.sse_keep_alive_secs.max(1)),
            stall_timeout: Duration::from_secs(self.write_stall_timeout_secs.max(1)),
            ..SseSettings::default()
        }
    }
}

/// A DNS-1123 label: what a Service or namespace name is.
fn is_dns_label(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// A rate that limits: finite and above zero (an infinite or zero rate would switch the limit off).
fn positive_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(rate) if tfc_mcp_contract::approval_claim::is_limiting_rate(rate) => Ok(rate),
        _ => Err(format!("{s:?} is not a rate above zero")),
    }
}

/// `ip:port`, `[v6]:port`, or `v6:port` as a `$(POD_IP):port` expansion gives it.
fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let (ip, port) = text.rsplit_once(':').ok_or_else(|| format!("{text:?} is not ip:port"))?;
    let ip: std::net::IpAddr = ip.parse().map_err(|_| format!("{text:?} is not ip:port"))?;
    let port: u16 = port.parse().map_err(|_| format!("{text:?} has an invalid port"))?;
    Ok(SocketAddr::new(ip, port))
}

/// mimalloc: per tool call the gateway allocates and frees thousands of
/// small JSON nodes; glibc's malloc and free were a quarter of its CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.worker_threads {
        runtime.worker_threads(usize::from(threads));
    }
    runtime.enable_all().build().context("starting the async runtime")?.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    init_logging(&args.log_format);
    info!(worker_threads = tokio::runtime::Handle::current().metrics().num_workers(), "runtime started");
    // Refuse to start on a malformed network policy rather than run without one.
    let egress = args.egress()?;
    let peer_source = args.peer_source()?;
    let registry = registry::parse_address(&args.registry_address).map_err(|e| anyhow::anyhow!("--registry-address: {e}"))?;
    registry::install_defaults(registry::RegistryDefaults {
        available: registry.is_some(),
        for_enterprise_routes: args.registry_for_enterprise_routes,
    });
    match &registry {
        Some(url) => {
            info!(registry = %url, for_enterprise_routes = args.registry_for_enterprise_routes, "public Terraform Registry tools enabled")
        }
        None => info!("public Terraform Registry tools disabled (--registry-address is empty)"),
    }
    if let Some(base) = &args.public_base_url {
        url::Url::parse(base)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .with_context(|| format!("--public-base-url {base:?} is not an http(s) URL"))?;
    }

    let client = kube::Client::try_default().await.context("connecting to the Kubernetes API (KUBECONFIG or in-cluster)")?;
    let reviewer = Arc::new(KubeTokenReviewer::new(client.clone()));
    let routes = RouteTable::default();
    let (synced_tx, synced_rx) = tokio::sync::watch::channel(false);
    let namespace = args.namespace.clone();
    let watch_table = routes.clone();
    // A few probes per stale period, so a healthy idle watch never looks stale.
    let probe_every = Duration::from_secs((args.route_sync_stale_secs / 4).clamp(1, 30));
    let route_client = client.clone();
    tokio::spawn(async move { watch_routes(route_client, &namespace, watch_table, synced_tx, probe_every).await });

    let metrics = Metrics::default();
    // Budgets shared with the other replicas (--peer-service); alone otherwise.
    let peers = Peers::alone();
    metrics.peers.set(1);
    if let Some(source) = peer_source {
        info!(service = %source.service, namespace = %source.namespace, "sharing rate budgets with the replicas of this Service");
        let gauge = metrics.peers.clone();
        tokio::spawn(watch_peers(client.clone(), source, peers.clone(), move |n| {
            gauge.set(i64::from(n));
        }));
    }
    let observed = metrics.clone();
    let refused = metrics.clone();
    let user_agent = concat!("tfc-mcp-gateway/", env!("CARGO_PKG_VERSION"));
    let egress_for_oidc = egress.clone();
    let upstream = Upstream::try_with_egress(user_agent, Duration::from_secs(args.upstream_timeout_secs), egress)
        .context("building the HTTP client for HCP Terraform")?
        .with_registry(registry)
        .with_peers(peers.clone())
        .with_observer(Arc::new(move |status| observed.upstream_response(status)))
        .with_egress_observer(Arc::new(move |reason| refused.egress_refused(reason)));
    let service_accounts = ServiceAccountAuth::new(reviewer, args.service_account_auth()?).with_metrics(metrics.clone());
    let oidc_refused = metrics.clone();
    let fetched = metrics.clone();
    let verifier = Verifier::new(args.oidc(), egress_for_oidc, Some(Arc::new(move |reason| oidc_refused.egress_refused(reason))))
        .context("building the HTTP client for OIDC issuers")?
        .with_fetch_observer(Arc::new(move |outcome| fetched.oidc_key_fetch(outcome)));
    if args.allow_insecure_oidc_issuers {
        tracing::warn!("TEST ONLY: plain-http OIDC issuers on loopback are accepted");
    }
    let approvals = match &args.approval_keys_dir {
        Some(dir) => tfc_mcp_gateway::approval::Approvals::from_dir(dir).map_err(|e| anyhow::anyhow!(e))?,
        None => {
            tracing::warn!(
                "no --approval-keys-dir: confirmations of destructive calls are signed with a key of this process only; \
                 with several replicas, give them one shared key"
            );
            tfc_mcp_gateway::approval::Approvals::ephemeral()
        }
    };
    tracing::info!(key_id = %approvals.key_id, "approval signing key loaded");
    let approvals = if args.approval_claims {
        let claims = Arc::new(tfc_mcp_gateway::approval_claims::LeaseClaims::new(
            client.clone(),
            &args.namespace,
            &args.approval_claims_holder,
            args.approval_claims_per_second,
            args.approval_claims_per_second_total,
        ));
        info!(namespace = %args.namespace, "confirmations are claimed once across replicas (Leases)");
        approvals.with_claims(claims)
    } else {
        approvals
    };
    let shared = Arc::new(
        Shared::with_limits(upstream, metrics, args.limits(peers))
            .with_conformance_tools(args.enable_conformance_tools)
            .with_oidc(verifier)
            .with_service_account_auth(service_accounts)
            .with_approvals(approvals),
    );
    if args.enable_conformance_tools {
        tracing::warn!("TEST ONLY: the conformance suite's tools (test_simple_text, ...) are served on every route");
    }
    let shutdown = Shutdown::default();
    let settings = HttpSettings {
        allowed_hosts: args.allowed_hosts.clone(),
        allowed_origins: args.allowed_origins.clone(),
        public_base_url: args.public_base_url.clone(),
        legacy_sse: args.legacy_sse,
        sse: args.sse(),
    };

    let admin = tokio::net::TcpListener::bind(args.admin_listen).await.with_context(|| format!("binding {}", args.admin_listen))?;
    let public = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    info!(listen = %public.local_addr()?, admin = %admin.local_addr()?, namespace = %args.namespace, "gateway listening");

    // The admin listener stays up while draining (/readyz answers 503) and ends with the process.
    let admin_app = admin_router(shared.clone(), routes.clone(), synced_rx, shutdown.draining.clone());
    let admin_done = shutdown.hard.clone();
    tokio::spawn(async move { axum::serve(admin, admin_app).with_graceful_shutdown(admin_done.cancelled_owned()).await });

    let app = mcp_router(routes, shared, &settings, &shutdown);
    let draining = shutdown.draining.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        info!("shutting down: refusing new connections, draining in-flight requests");
        draining.cancel();
    });

    let grace = Duration::from_secs(args.shutdown_grace_secs);
    let serve = serve(public, app, args.connections(), shutdown.draining.clone());
    let deadline = async {
        shutdown.draining.cancelled().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        _ = serve => {}
        _ = deadline => warn!(grace_secs = args.shutdown_grace_secs, "drain time is up; cancelling the requests still running"),
    }
    shutdown.hard.cancel();
    info!("gateway stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} },
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,kube=warn,rmcp=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(log_writer());
    if format == "json" {
        builder.json().flatten_event(true).event_format(tfc_mcp_gateway::log_line::JsonLine::new()).init()
    } else {
        builder.init()
    }
}

/// Standard error, written through a duplicate of its descriptor: one
/// `write` per line (tracing-subscriber hands over whole lines) and no lock.
/// std's `Stderr` holds a process-wide lock across each `write`, so worker
/// threads logging at once (an audit line per tool call) queued on it, a
/// futex wait and wake per collision. A line up to 4 KiB, as the gateway's
/// are, is written whole to a pipe (the container runtime's) or a file.
fn log_writer() -> BoxMakeWriter {
    use std::os::fd::AsFd as _;
    match std::io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => {
            let stderr: &'static std::fs::File = Box::leak(Box::new(std::fs::File::from(fd)));
            BoxMakeWriter::new(move || stderr)
        }
        Err(_) => BoxMakeWriter::new(std::io::stderr),
    }
}

#[cfg(test)]
mod tests {
    use super::{is_dns_label, parse_listen, positive_rate};

    #[test]
    fn peer_service_names_are_checked() {
        for good in ["tfc-mcp-gateway", "a", "gw-0"] {
            assert!(is_dns_label(good), "{good}");
        }
        for bad in ["", "-gw", "gw-", "Gateway", "gw,x", "a=b", &"a".repeat(64), "gw name"] {
            assert!(!is_dns_label(bad), "{bad}");
        }
    }

    #[test]
    fn claim_rates_must_limit() {
        assert_eq!(positive_rate("2"), Ok(2.0));
        assert_eq!(positive_rate(" 0.5 "), Ok(0.5));
        for bad in ["0", "-1", "inf", "NaN", "", "x"] {
            assert!(positive_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn listen_addresses_from_the_downward_api() {
        assert_eq!(parse_listen("10.1.2.3:9090").unwrap().to_string(), "10.1.2.3:9090");
        assert_eq!(parse_listen("[fd00::5]:9090").unwrap().to_string(), "[fd00::5]:9090");
        assert_eq!(parse_listen("fd00::5:9090").unwrap().to_string(), "[fd00::5]:9090", "an IPv6 $(POD_IP) unbracketed");
        for bad in ["", ":9090", "$(POD_IP):9090", "10.1.2.3", "10.1.2.3:x", "host:9090"] {
            assert!(parse_listen(bad).is_err(), "{bad}");
        }
    }
}
