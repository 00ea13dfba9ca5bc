//! The MCP server handler. One handler type serves every route: the HTTP
//! layer resolves the route from the URL and hands it down in the request
//! extensions, so `tools/list` and `tools/call` only read memory until a
//! tool actually calls HCP Terraform.

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, InitializeRequestParams, InitializeResult,
        ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
};
use serde_json::json;
use tracing::info;

use crate::{
    catalog::catalog,
    execute::{ToolError, ToolErrorKind, execute},
    metrics::Metrics,
    routes::LoadedRoute,
    upstream::{RateLimitInfo, TfcClient, Upstream},
};

/// Shared by every request.
pub struct Shared {
    pub upstream: Upstream,
    pub metrics: Metrics,
}

/// Where a tool call leaves upstream rate-limit information for the HTTP
/// layer to copy into response headers.
#[derive(Clone, Default)]
pub struct RateLimitSlot(pub Arc<Mutex<Option<RateLimitInfo>>>);

impl RateLimitSlot {
    pub fn put(&self, info: RateLimitInfo) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(info);
    }

    pub fn take(&self) -> Option<RateLimitInfo> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

#[derive(Clone)]
pub struct GatewayHandler {
    shared: Arc<Shared>,
}

impl GatewayHandler {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

fn parts(context: &RequestContext<RoleServer>) -> Option<&http::request::Parts> {
    context.extensions.get::<http::request::Parts>()
}

/// The route the HTTP layer resolved for this request.
fn route_of(context: &RequestContext<RoleServer>) -> Result<Arc<LoadedRoute>, McpError> {
    parts(context)
        .and_then(|p| p.extensions.get::<Arc<LoadedRoute>>())
        .cloned()
        .ok_or_else(|| McpError::internal_error("request reached the MCP handler without a route", None))
}

/// The error for a tool that does not exist or that this server hides: the
/// same for both, so hidden tools cannot be discovered.
pub fn unknown_tool(name: &str) -> McpError {
    McpError::invalid_params(format!("Unknown tool: {name}"), None)
}

impl ServerHandler for GatewayHandler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("tfc-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Tools for HCP Terraform (Terraform Cloud). Arguments are flat snake_case fields; \
                 results are flattened JSON:API resources. List tools page with page_number/page_size or next_cursor.",
            )
    }

    async fn initialize(&self, request: InitializeRequestParams, context: RequestContext<RoleServer>) -> Result<InitializeResult, McpError> {
        context.peer.set_peer_info(request.clone());
        let mut result = self.negotiate_initialize(&request)?;
        if let Ok(route) = route_of(&context) {
            result.server_info.title = route.route.display_name.clone();
        }
        Ok(result)
    }

    async fn list_tools(&self, _request: Option<PaginatedRequestParams>, context: RequestContext<RoleServer>) -> Result<ListToolsResult, McpError> {
        let route = route_of(&context)?;
        Ok(ListToolsResult::with_all_items(route.tools.as_ref().clone()))
    }

    async fn call_tool(&self, request: CallToolRequestParams, context: RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        let route = route_of(&context)?;
        let name = request.name.as_ref();
        let Some(tool) = catalog().get(name).filter(|tool| route.filter.allows(tool)) else {
            self.shared.metrics.tool_call(&route.route.server, "unknown", "unknown_tool");
            return Err(unknown_tool(name));
        };

        let started = Instant::now();
        let client = TfcClient::new(&self.shared.upstream, &route.route, &route.tfc_token);
        let outcome = execute(&client, &route.route, tool, request.arguments.unwrap_or_default()).await;
        let elapsed = started.elapsed();

        let (label, upstream_status) = match &outcome {
            Ok(_) => ("ok", None),
            Err(error) => (outcome_label(&error.kind), error.status),
        };
        // The audit line: who, which tool, how it went. Never arguments or tokens.
        info!(
            target: "audit",
            server = %route.route.server,
            token = %route.fingerprint(),
            tool = tool.name,
            outcome = label,
            upstream_status = upstream_status,
            duration_ms = elapsed.as_millis() as u64,
            "tool call"
        );
        self.shared.metrics.tool_call(&route.route.server, tool.name, label);
        self.shared.metrics.tool_duration(tool.name, elapsed);

        let result = match outcome {
            Ok(value) => CallToolResult::structured(value),
            Err(error) => {
                if let (Some(info), Some(slot)) = (&error.rate_limit, parts(&context).and_then(|p| p.extensions.get::<RateLimitSlot>())) {
                    slot.put(info.clone());
                }
                tool_error(&error)
            }
        };
        Ok(result.into())
    }
}

/// A tool error the model can act on: the message as text, and the same
/// facts as structured content.
fn tool_error(error: &ToolError) -> CallToolResult {
    let mut structured = json!({ "error": { "kind": outcome_label(&error.kind), "message": error.message } });
    if let Some(status) = error.status {
        structured["error"]["status"] = json!(status);
    }
    if let Some(info) = &error.rate_limit {
        structured["error"]["ratelimit"] = json!({
            "ratelimit-limit": info.limit,
            "ratelimit-remaining": info.remaining,
            "ratelimit-reset": info.reset_secs,
        });
    }
    let mut result = CallToolResult::error(vec![ContentBlock::text(error.to_string())]);
    result.structured_content = Some(structured);
    result
}

/// Metric and audit label for a failed call.
fn outcome_label(kind: &ToolErrorKind) -> &'static str {
    match kind {
        ToolErrorKind::InvalidArguments => "invalid_arguments",
        ToolErrorKind::Upstream => "upstream_error",
        ToolErrorKind::RateLimited => "rate_limited",
        ToolErrorKind::Transport => "transport_error",
        ToolErrorKind::Forbidden => "forbidden",
    }
}
