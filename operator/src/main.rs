//! tfc-mcp-operator: reconciles TfcMcpServer resources.

mod admin;
mod approval_claims;
mod context;
mod controller;
mod crd;
mod error;
mod gateway_workload;
mod kube_requests;
mod leader;
mod metrics;
mod orphans;
mod own_writes;
mod reconcile;
mod requeue;
mod secrets;
mod service_accounts;
mod status;
mod token;
mod validate;

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use kube::CustomResourceExt;

#[derive(Parser)]
#[command(name = "tfc-mcp-operator", version, about = "Turns TfcMcpServer resources into scoped, expiring MCP endpoints for HCP Terraform")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

// Parsed once at start-up: the size of the `Run` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the operator (the default).
    Run(RunArgs),
    /// Print the CustomResourceDefinition as YAML.
    Crd,
    /// Regenerate the checked-in artefacts: the CRD YAML (crds/, the Helm
    /// chart, config/) and the tool catalog reference (docs/tools.md).
    Generate {
        /// Repository root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

#[derive(clap::Args, Clone)]
struct RunArgs {
    /// Namespace of the gateway, where route Secrets are written.
    #[arg(long, env = "TFCMCP_GATEWAY_NAMESPACE", default_value = "tfc-mcp-system")]
    gateway_namespace: String,
    /// Base URL under which the gateway's MCP listener is reachable.
    #[arg(long, env = "TFCMCP_PUBLIC_BASE_URL", default_value = "http://127.0.0.1:8080")]
    public_base_url: String,
    /// HCP Terraform / Terraform Enterprise addresses a TfcMcpServer may use (comma separated base
    /// URLs, compared normalised); others get Ready=False/AddressNotAllowed. Empty means
    /// https://app.terraform.io. The gateway enforces the same list (give it the same flags).
    #[arg(long, env = "TFCMCP_ALLOWED_TFC_ADDRESSES", value_delimiter = ',')]
    allowed_tfc_addresses: Vec<String>,
    /// Allow plain-http addresses in --allowed-tfc-addresses (test setups only).
    #[arg(long, env = "TFCMCP_ALLOW_INSECURE_TFC_ADDRESSES", default_value_t = false, action = clap::ArgAction::Set, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_insecure_tfc_addresses: bool,
    /// TEST ONLY: accept plain-http auth.oidc.issuer URLs on loopback (a local test issuer); others
    /// get Ready=False/InvalidOidc. Give the gateway the same flag.
    #[arg(long, env = "TFCMCP_ALLOW_INSECURE_OIDC_ISSUERS", default_value_t = false, action = clap::ArgAction::Set, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    allow_insecure_oidc_issuers: bool,
    /// Address for /healthz and /metrics.
    #[arg(long, env = "TFCMCP_ADMIN_LISTEN", default_value = "127.0.0.1:9091")]
    admin_listen: SocketAddr,
    /// Log format: json or text.
    #[arg(long, env = "TFCMCP_LOG_FORMAT", default_value = "json")]
    log_format: String,
    /// YAML file describing the gateway Deployment/Service/Ingress to manage
    /// (from the Helm chart's ConfigMap). Without it the gateway is not managed.
    #[arg(long, env = "TFCMCP_GATEWAY_CONFIG")]
    gateway_config: Option<PathBuf>,
    /// Compete for a Lease so that only one replica acts.
    #[arg(long, env = "TFCMCP_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    leader_election: bool,
    /// Namespace of the Lease; defaults to the gateway namespace.
    #[arg(long, env = "TFCMCP_LEADER_ELECTION_NAMESPACE")]
    leader_election_namespace: Option<String>,
    /// Seconds a leader may go without renewing before another replica takes over.
    #[arg(long, env = "TFCMCP_LEASE_DURATION_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(2..))]
    lease_duration_secs: u64,
    /// This replica's identity in the Lease (the Pod name in a cluster).
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
    /// Seconds between sweeps for route Secrets whose TfcMcpServer no longer
    /// exists (the leader also sweeps at start-up); jittered by ±10 %.
    #[arg(long, env = "TFCMCP_ORPHAN_SWEEP_INTERVAL_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    orphan_sweep_interval_secs: u64,
    /// Seconds between sweeps of the gateway's approval claims (Leases in --gateway-namespace
    /// deleted once twice their lifetime has passed; list and delete on Leases there); 0: none
    /// (the gateway runs without --approval-claims). Jittered by ±10 %.
    #[arg(long, env = "TFCMCP_APPROVAL_CLAIMS_SWEEP_SECS", default_value_t = 0)]
    approval_claims_sweep_secs: u64,
    /// At most this many TfcMcpServers are reconciled at the same time.
    #[arg(long, env = "TFCMCP_MAX_CONCURRENT_RECONCILES", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    max_concurrent_reconciles: u16,
}

/// Where `generate` writes the CRD, relative to the repository root.
const CRD_PATHS: &[&str] = &[
    "crds/tfcmcp.dev_tfcmcpservers.yaml",
    "charts/tfc-mcp/crds/tfcmcp.dev_tfcmcpservers.yaml",
    "config/crd/tfcmcp.dev_tfcmcpservers.yaml",
];

/// Where `generate` writes the tool catalog reference.
const TOOLS_DOC_PATH: &str = "docs/tools.md";

fn tools_doc() -> String {
    tfc_mcp_contract::catalog::docs::markdown(tfc_mcp_contract::catalog::catalog())
}

fn crd_yaml() -> anyhow::Result<String> {
    let yaml = serde_yaml::to_string(&crd::TfcMcpServer::crd())?;
    Ok(format!("# Generated by `cargo run -p tfc-mcp-operator -- generate`. Do not edit.\n{yaml}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Crd) => print!("{}", crd_yaml()?),
        Some(Command::Generate { root }) => {
            let yaml = crd_yaml()?;
            for path in CRD_PATHS {
                let path = root.join(path);
                std::fs::create_dir_all(path.parent().context("CRD path has no parent")?)?;
                std::fs::write(&path, &yaml).with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", path.display());
            }
            let path = root.join(TOOLS_DOC_PATH);
            std::fs::create_dir_all(path.parent().context("docs path has no parent")?)?;
            std::fs::write(&path, tools_doc()).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        }
        Some(Command::Run(args)) => run(args).await?,
        None => run(cli.run).await?,
    }
    Ok(())
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    init_logging(&args.log_format);
    let tfc_addresses =
        tfc_mcp_contract::tfc_address::TfcAddressPolicy::new(&args.allowed_tfc_addresses, args.allow_insecure_tfc_addresses)
            .map_err(|e| anyhow::anyhow!("--allowed-tfc-addresses: {e}"))?;
    // Refuse to start on a broken gateway configuration rather than act on half of it.
    if let Some(path) = &args.gateway_config {
        let config = gateway_workload::GatewayConfig::load(path)?;
        // The same rule as the gateway's for the registry tools of servers with empty tags.
        tfc_mcp_contract::registry::install_defaults(config.registry.defaults());
    }
    let metrics = metrics::Metrics::default();
    let config = kube::Config::infer().await.context("connecting to the Kubernetes API (KUBECONFIG or in-cluster)")?;
    // Every API request is counted by verb (tfcmcp_operator_kube_requests_total).
    let client = kube::client::ClientBuilder::try_from(config)
        .context("building the Kubernetes API client")?
        .with_layer(&metrics.kube_request_layer())
        .build();
    let listener = tokio::net::TcpListener::bind(args.admin_listen).await.with_context(|| format!("binding {}", args.admin_listen))?;
    tracing::info!(admin = %listener.local_addr()?, "admin listener ready");
    tokio::spawn(admin::serve(listener, metrics.clone()));

    // Only the Lease holder acts; a follower waits here (or stops on a signal).
    let mut leadership = None;
    if args.leader_election {
        let identity = args.identity.clone().unwrap_or_else(default_identity);
        let namespace = args.leader_election_namespace.as_deref().unwrap_or(&args.gateway_namespace);
        let mut lease = leader::Leadership::start(client.clone(), namespace, &identity, args.lease_duration_secs).await?;
        tokio::select! {
            acquired = lease.acquired() => acquired?,
            () = shutdown_signal() => { tracing::info!("stopped before becoming leader"); return Ok(()); }
        }
        leadership = Some(lease);
    }
    metrics.set_leader(true);

    if let Some(path) = args.gateway_config.clone() {
        tokio::spawn(gateway_workload::keep_applied(client.clone(), args.gateway_namespace.clone(), path));
    }
    let sweep_interval = std::time::Duration::from_secs(args.orphan_sweep_interval_secs);
    tokio::spawn(orphans::keep_sweeping(client.clone(), args.gateway_namespace.clone(), sweep_interval));
    if args.approval_claims_sweep_secs > 0 {
        let every = std::time::Duration::from_secs(args.approval_claims_sweep_secs);
        tokio::spawn(approval_claims::keep_sweeping(client.clone(), args.gateway_namespace.clone(), every));
    }

    let settings = context::Settings {
        gateway_namespace: args.gateway_namespace,
        public_base_url: args.public_base_url,
        tfc_addresses,
        max_concurrent_reconciles: args.max_concurrent_reconciles,
        allow_insecure_oidc_issuers: args.allow_insecure_oidc_issuers,
    };
    match leadership {
        None => controller::run(client, settings, metrics).await,
        Some(mut lease) => {
            tokio::select! {
                () = controller::run(client, settings, metrics.clone()) => lease.release().await,
                reason = lease.lost() => {
                    metrics.set_leader(false);
                    anyhow::bail!("lost leadership ({reason}); exiting so that only one replica acts")
                }
            }
        }
    }
    Ok(())
}

/// A unique identity for a replica run outside a Pod.
fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "operator".into());
    format!("{host}-{}", std::process::id())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("installing the SIGTERM handler");
    tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,kube=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" { builder.json().flatten_event(true).init() } else { builder.init() }
}

#[cfg(test)]
mod tests {
    /// The checked-in CRD must match the Rust types; regenerate with
    /// `cargo run -p tfc-mcp-operator -- generate`.
    #[test]
    fn checked_in_crds_are_fresh() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let expected = super::crd_yaml().unwrap();
        for path in super::CRD_PATHS {
            let actual = std::fs::read_to_string(root.join(path)).unwrap_or_default();
            assert!(actual == expected, "{path} is stale: run `cargo run -p tfc-mcp-operator -- generate`");
        }
    }

    /// docs/tools.md lists the catalog as served.
    #[test]
    fn tool_reference_is_fresh() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let actual = std::fs::read_to_string(root.join(super::TOOLS_DOC_PATH)).unwrap_or_default();
        assert!(actual == super::tools_doc(), "{} is stale: run `cargo run -p tfc-mcp-operator -- generate`", super::TOOLS_DOC_PATH);
    }
}
