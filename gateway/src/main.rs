//! tfc-mcp-gateway: serves MCP for every route Secret in its namespace.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use clap::Parser;
use tfc_mcp_gateway::{
    http::{HttpSettings, admin_router, mcp_router},
    mcp::Shared,
    metrics::Metrics,
    routes::{RouteTable, watch_routes},
    upstream::Upstream,
};
use tokio_util::sync::CancellationToken;
use tracing::info;

#[derive(Parser)]
#[command(name = "tfc-mcp-gateway", version, about = "MCP gateway for HCP Terraform")]
struct Args {
    /// Namespace whose route Secrets this gateway serves (its own).
    #[arg(long, env = "TFCMCP_NAMESPACE", default_value = "tfc-mcp-system")]
    namespace: String,
    /// Public MCP listener.
    #[arg(long, env = "TFCMCP_LISTEN", default_value = "0.0.0.0:8080")]
    listen: SocketAddr,
    /// Admin listener: /healthz, /readyz, /metrics.
    #[arg(long, env = "TFCMCP_ADMIN_LISTEN", default_value = "0.0.0.0:9090")]
    admin_listen: SocketAddr,
    /// Extra accepted Host values (comma separated), e.g. the public hostname. Loopback is always accepted.
    #[arg(long, env = "TFCMCP_ALLOWED_HOSTS", value_delimiter = ',')]
    allowed_hosts: Vec<String>,
    /// Accepted browser Origins (comma separated); empty disables Origin checks.
    #[arg(long, env = "TFCMCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    allowed_origins: Vec<String>,
    /// Timeout of one upstream HCP Terraform request, in seconds.
    #[arg(long, env = "TFCMCP_UPSTREAM_TIMEOUT_SECS", default_value_t = 30)]
    upstream_timeout_secs: u64,
    /// Log format: json or text.
    #[arg(long, env = "TFCMCP_LOG_FORMAT", default_value = "json")]
    log_format: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_logging(&args.log_format);

    let client = kube::Client::try_default().await.context("connecting to the Kubernetes API (KUBECONFIG or in-cluster)")?;
    let routes = RouteTable::default();
    let (synced_tx, synced_rx) = tokio::sync::watch::channel(false);
    let namespace = args.namespace.clone();
    let watch_table = routes.clone();
    tokio::spawn(async move { watch_routes(client, &namespace, watch_table, synced_tx).await });

    let upstream = Upstream::new(concat!("tfc-mcp-gateway/", env!("CARGO_PKG_VERSION")), Duration::from_secs(args.upstream_timeout_secs));
    let shared = Arc::new(Shared { upstream, metrics: Metrics::default() });
    let shutdown = CancellationToken::new();
    let settings = HttpSettings { allowed_hosts: args.allowed_hosts, allowed_origins: args.allowed_origins };

    let admin = tokio::net::TcpListener::bind(args.admin_listen).await.with_context(|| format!("binding {}", args.admin_listen))?;
    let public = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    info!(listen = %public.local_addr()?, admin = %admin.local_addr()?, namespace = %args.namespace, "gateway listening");

    let admin_app = admin_router(shared.clone(), routes.clone(), synced_rx);
    let admin_shutdown = shutdown.clone();
    tokio::spawn(async move { axum::serve(admin, admin_app).with_graceful_shutdown(admin_shutdown.cancelled_owned()).await });

    let app = mcp_router(routes, shared, &settings, shutdown.child_token());
    let signal_shutdown = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        info!("shutting down: draining in-flight requests");
        signal_shutdown.cancel();
    });
    axum::serve(public, app).with_graceful_shutdown(shutdown.cancelled_owned()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("installing the SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,kube=warn,rmcp=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" { builder.json().flatten_event(true).init() } else { builder.init() }
}
