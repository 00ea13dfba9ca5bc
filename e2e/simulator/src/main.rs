//! `tfc-sim`: runs the HCP Terraform API simulator.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Parser;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use tfc_sim::{Sim, SimConfig, api_router, blob_router, registry_router};

#[derive(Debug, Parser)]
#[command(name = "tfc-sim", about = "HCP Terraform (Terraform Cloud) API simulator for tests")]
struct Cli {
    /// Address of the API origin (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// Address of the blob origin that serves state downloads.
    #[arg(long, default_value = "127.0.0.1:0")]
    blob_listen: SocketAddr,

    /// Address of the public Terraform Registry origin (`/v1/providers`, `/v2/provider-docs`, ...).
    #[arg(long, default_value = "127.0.0.1:0")]
    registry_listen: SocketAddr,

    /// Base URL advertised for blob downloads, when clients reach the blob
    /// origin under another name (e.g. from a container). Defaults to the
    /// bound address.
    #[arg(long)]
    blob_url: Option<String>,

    /// Accepted bearer token; repeat for several tokens (each is its own user).
    #[arg(long = "token", default_value = "sim-token")]
    tokens: Vec<String>,

    /// Delay between run state transitions, in milliseconds.
    #[arg(long, default_value_t = 300)]
    step_delay_ms: u64,

    /// Requests per second allowed per token; 0 disables rate limiting.
    #[arg(long, default_value_t = 0)]
    rate_limit: u32,

    /// Let active runs hold the workspace lock ("locked by Run"), as HCP
    /// Terraform does. Off by default so `locked` only reflects user locks.
    #[arg(long)]
    run_locks: bool,

    /// After binding, write {"api": URL, "blob": URL, "registry": URL} to this file (atomically).
    #[arg(long)]
    port_file: Option<PathBuf>,
}

/// A URL clients can dial: an unspecified bind address becomes loopback.
fn dial_url(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        if addr.is_ipv4() { "127.0.0.1".to_string() } else { "[::1]".to_string() }
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    format!("http://{ip}:{}", addr.port())
}

fn write_port_file(path: &Path, api: &str, blob: &str, registry: &str) -> std::io::Result<()> {
    let body = serde_json::json!({"api": api, "blob": blob, "registry": registry}).to_string();
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, body)?;
    std::fs::rename(&tmp, path)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("tfc_sim=info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tfc-sim: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let api_listener = TcpListener::bind(cli.listen).await.map_err(|e| format!("binding {}: {e}", cli.listen))?;
    let blob_listener = TcpListener::bind(cli.blob_listen).await.map_err(|e| format!("binding {}: {e}", cli.blob_listen))?;
    let registry_listener = TcpListener::bind(cli.registry_listen).await.map_err(|e| format!("binding {}: {e}", cli.registry_listen))?;
    let registry_url = dial_url(registry_listener.local_addr()?);
    let api_url = dial_url(api_listener.local_addr()?);
    let blob_bound = dial_url(blob_listener.local_addr()?);
    let blob_url = cli.blob_url.clone().unwrap_or_else(|| blob_bound.clone());

    let sim = Sim::new(SimConfig {
        tokens: cli.tokens.clone(),
        step_delay_ms: cli.step_delay_ms,
        rate_limit: cli.rate_limit,
        run_locks: cli.run_locks,
        api_base: api_url.clone(),
        blob_base: blob_url.clone(),
    });

    if let Some(path) = &cli.port_file {
        write_port_file(path, &api_url, &blob_url, &registry_url).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    eprintln!("tfc-sim listening api={api_url} blob={blob_url} registry={registry_url}");
    tracing::info!(
        tokens = cli.tokens.len(),
        step_delay_ms = cli.step_delay_ms,
        rate_limit = cli.rate_limit,
        run_locks = cli.run_locks,
        "simulator ready"
    );

    let api = axum::serve(api_listener, api_router(sim.clone())).with_graceful_shutdown(shutdown_signal());
    let blob = axum::serve(blob_listener, blob_router(sim.clone())).with_graceful_shutdown(shutdown_signal());
    let registry = axum::serve(registry_listener, registry_router(sim)).with_graceful_shutdown(shutdown_signal());
    tokio::try_join!(async { api.await }, async { blob.await }, async { registry.await })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_urls() {
        assert_eq!(dial_url("0.0.0.0:8080".parse().unwrap()), "http://127.0.0.1:8080");
        assert_eq!(dial_url("127.0.0.1:1".parse().unwrap()), "http://127.0.0.1:1");
        assert_eq!(dial_url("[::]:9".parse().unwrap()), "http://[::1]:9");
    }

    #[test]
    fn cli_defaults() {
        let cli = Cli::parse_from(["tfc-sim"]);
        assert_eq!(cli.tokens, vec!["sim-token"]);
        assert_eq!(cli.step_delay_ms, 300);
        assert_eq!(cli.rate_limit, 0);
        let cli = Cli::parse_from(["tfc-sim", "--token", "a", "--token", "b"]);
        assert_eq!(cli.tokens, vec!["a", "b"]);
    }
}
