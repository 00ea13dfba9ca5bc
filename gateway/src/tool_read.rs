//! Runs one catalog tool on behalf of a request that is not a tool call
//! (`resources/read`, `completion/complete`), through exactly the path a tool
//! call takes (`execute`: the route's filter, argument checks, the
//! organization allow-list, sensitive masking, the result budget, upstream
//! pacing), under a timeout, the client's cancellation and the route's
//! revocation, with the same audit line and metrics as a tool call.

use std::{sync::Arc, time::Duration, time::Instant};

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::{
    execute::{ToolError, ToolErrorKind, execute_loaded},
    mcp::Shared,
    routes::LoadedRoute,
    upstream::TfcClient,
};

/// Why a read did not produce a value.
#[derive(Debug)]
pub enum ReadError {
    /// The tool's own error (bad id, upstream error, organization not allowed).
    Tool(ToolError),
    /// The tool is not exposed by this route.
    Hidden,
    Timeout,
    Cancelled,
    Revoked,
}

impl ReadError {
    /// True when the thing read does not exist for this server: an upstream
    /// 404, or an organization outside the allow-list (which must look the same).
    pub fn is_not_found(&self) -> bool {
        match self {
            ReadError::Hidden => true,
            ReadError::Tool(e) => e.kind == ToolErrorKind::Forbidden || e.status == Some(404),
            _ => false,
        }
    }

    fn label(&self) -> &'static str {
        match self {
            ReadError::Tool(e) => match e.kind {
                ToolErrorKind::InvalidArguments => "invalid_arguments",
                ToolErrorKind::Upstream => "upstream_error",
                ToolErrorKind::RateLimited => "rate_limited",
                ToolErrorKind::Transport => "transport_error",
                ToolErrorKind::Forbidden => "forbidden",
            },
            ReadError::Hidden => "unknown_tool",
            ReadError::Timeout => "timeout",
            ReadError::Cancelled => "cancelled",
            ReadError::Revoked => "revoked",
        }
    }
}

/// Runs `tool_name` with `arguments` for `method` (the MCP method, for the
/// audit line and metrics). A tool the route hides is [`ReadError::Hidden`].
pub async fn run(
    shared: &Shared,
    route: &Arc<LoadedRoute>,
    method: &'static str,
    tool_name: &str,
    arguments: Map<String, Value>,
    ct: &CancellationToken,
    limit: Duration,
) -> Result<Value, ReadError> {
    let Some(tool) = route.filter.get(tool_name) else {
        return Err(ReadError::Hidden);
    };
    // A tool the server only runs after a person's confirmation is not read
    // behind the user's back through a resource or a completion.
    if route.route.approval.requires(tool.name, tool.method.as_str()) {
        return Err(ReadError::Hidden);
    }
    let started = Instant::now();
    let client = TfcClient::for_loaded(&shared.upstream, route);
    let work = execute_loaded(&client, route, tool, arguments, None, shared.limits.max_result_bytes);
    let outcome = tokio::select! {
        outcome = tokio::time::timeout(limit, work) => match outcome {
            Ok(result) => result.map(crate::execute::ToolAnswer::into_value).map_err(ReadError::Tool),
            Err(_) => Err(ReadError::Timeout),
        },
        _ = ct.cancelled() => Err(ReadError::Cancelled),
        _ = route.revoked() => Err(ReadError::Revoked),
    };
    let elapsed = started.elapsed();
    let label = match &outcome {
        Ok(_) => "ok",
        Err(e) => e.label(),
    };
    let upstream_status = match &outcome {
        Err(ReadError::Tool(e)) => e.status,
        _ => None,
    };
    // The same audit line as a tool call, naming the MCP method it served. Never arguments or tokens.
    info!(
        target: "audit",
        server = %route.route.server,
        token = %route.fingerprint(),
        tool = tool.name,
        via = method,
        outcome = label,
        upstream_status = upstream_status,
        duration_ms = elapsed.as_millis() as u64,
        "tool call"
    );
    if matches!(&outcome, Err(ReadError::Tool(e)) if e.kind == ToolErrorKind::RateLimited) {
        shared.metrics.upstream_rate_limited(&route.route.server);
    }
    shared.metrics.request(&route.route.server, method, tool.name, label);
    shared.metrics.tool_duration(tool.name, elapsed);
    outcome
}

/// `n` capped by the gateway's tool-call timeout.
pub fn timeout(shared: &Shared, n: Duration) -> Duration {
    n.min(shared.limits.request_timeout)
}
