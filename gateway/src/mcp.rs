//! The MCP server handler. One handler type serves every route and both
//! transports: the HTTP layer resolves the route from the URL and hands it
//! down in the request extensions (`http::request::Parts`, as rmcp's
//! Streamable HTTP service and the legacy SSE transport both insert them),
//! so `tools/list` and `tools/call` only read memory until a tool actually
//! calls HCP Terraform.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rmcp::{
    ErrorData as McpError, RoleServer, ServerHandler,
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, CancelTaskParams, CompleteRequestParams, CompleteResult, ContentBlock,
        GetPromptRequestParams, GetPromptResponse, GetTaskParams, GetTaskResult, Implementation, InitializeRequestParams, InitializeResult,
        InputRequests, InputRequiredResult, InputResponses, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
        ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ProgressToken, ProtocolVersion, ReadResourceRequestParams,
        ReadResourceResponse, ServerCapabilities, ServerConfig, UpdateTaskParams,
    },
    service::{Peer, RequestContext},
};
use serde_json::{Map, Value, json};
use tracing::info;

use crate::{
    approval::{self, Answer, Approvals, StateRefusal},
    catalog::{Handler, ToolSpec},
    discovery,
    execute::{Progress, ToolAnswer, ToolError, ToolErrorKind, WrittenAnswer, execute_loaded},
    limits::{ByteBudget, Inflight, Limits, MAX_ECHOED_NAME, TenantCaps, truncate_name},
    metrics::Metrics,
    oidc::{Caller, OidcSettings, Verifier},
    routes::LoadedRoute,
    upstream::{RateLimitInfo, TfcClient, Upstream},
};

/// Shared by every request.
pub struct Shared {
    pub upstream: Upstream,
    pub metrics: Metrics,
    /// Edge limits; the handler uses the request timeouts.
    pub limits: Limits,
    /// The cap on requests in flight (from `limits.max_inflight`).
    pub inflight: Inflight,
    /// The caps on requests in flight per server and per namespace.
    pub tenants: TenantCaps,
    /// The replica's byte budget (request bodies here, upstream answers in `upstream`).
    pub budget: ByteBudget,
    /// Serve the test-only conformance tools (`--enable-conformance-tools`); off by default.
    pub conformance_tools: bool,
    /// Access-token checks of routes with `oidc`.
    pub oidc: Arc<Verifier>,
    /// ServiceAccount token checks (`spec.auth.serviceAccounts`); without
    /// it, routes that list ServiceAccounts refuse every request.
    pub service_accounts: Option<Arc<crate::service_account_auth::ServiceAccountAuth>>,
    /// Keys and memory for human approval of destructive calls (see `approval`).
    pub approvals: Arc<Approvals>,
}

impl Shared {
    pub fn new(upstream: Upstream, metrics: Metrics) -> Self {
        Self::with_limits(upstream, metrics, Limits::default())
    }

    pub fn with_limits(upstream: Upstream, metrics: Metrics, limits: Limits) -> Self {
        let inflight = Inflight::new(limits.max_inflight);
        let tenants = TenantCaps::new(limits.max_inflight_per_server, limits.max_inflight_per_namespace);
        let budget = ByteBudget::new(limits.memory_budget_bytes, limits.budget_wait);
        let upstream = upstream.with_budget(budget.clone());
        let oidc = Arc::new(
            Verifier::new(OidcSettings::default(), crate::egress::EgressPolicy::unrestricted(), None)
                .expect("HTTP client for OIDC issuers"),
        );
        let approvals = Arc::new(Approvals::ephemeral());
        Self { upstream, metrics, limits, inflight, tenants, budget, conformance_tools: false, oidc, service_accounts: None, approvals }
    }

    /// Uses these approval keys (shared by every replica) instead of a per-process one.
    pub fn with_approvals(mut self, approvals: Approvals) -> Self {
        self.approvals = Arc::new(approvals);
        self
    }

    /// Checks ServiceAccount tokens with `auth` (see `service_account_auth`).
    pub fn with_service_account_auth(mut self, auth: crate::service_account_auth::ServiceAccountAuth) -> Self {
        self.service_accounts = Some(Arc::new(auth));
        self
    }

    /// Replaces the access-token verifier (the binary's, with its flags and egress policy).
    pub fn with_oidc(mut self, verifier: Verifier) -> Self {
        self.oidc = Arc::new(verifier);
        self
    }

    /// Turns the test-only conformance tools on (see `conformance`).
    pub fn with_conformance_tools(mut self, enabled: bool) -> Self {
        self.conformance_tools = enabled;
        self
    }
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

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

pub(crate) fn parts(context: &RequestContext<RoleServer>) -> Option<&http::request::Parts> {
    context.extensions.get::<http::request::Parts>()
}

/// The caller the HTTP layer authenticated (an OIDC subject or a
/// ServiceAccount), as the audit line names it.
pub(crate) fn caller_of(context: &RequestContext<RoleServer>) -> Option<String> {
    let p = parts(context)?;
    p.extensions
        .get::<Caller>()
        .map(|c| c.audit_id.clone())
        .or_else(|| p.extensions.get::<crate::service_account_auth::CallerIdentity>().map(|c| c.0.clone()))
}

/// The route the HTTP layer resolved for this request.
pub(crate) fn route_of(context: &RequestContext<RoleServer>) -> Result<Arc<LoadedRoute>, McpError> {
    parts(context)
        .and_then(|p| p.extensions.get::<Arc<LoadedRoute>>())
        .cloned()
        .ok_or_else(|| McpError::internal_error("request reached the MCP handler without a route", None))
}

/// The error for a tool that does not exist or that this server hides: the
/// same for both, so hidden tools cannot be discovered.
pub fn unknown_tool(name: &str) -> McpError {
    McpError::invalid_params(format!("Unknown tool: {}", truncate_name(name, MAX_ECHOED_NAME)), None)
}

/// The same refusal as a tool result, for the discovery meta tools.
fn unknown_tool_result(name: &str) -> CallToolResult {
    let name = truncate_name(name, MAX_ECHOED_NAME);
    let mut result = CallToolResult::error(vec![ContentBlock::text(format!("Unknown tool: {name}"))]);
    result.structured_content = Some(json!({ "error": { "kind": "unknown_tool", "message": format!("Unknown tool: {name}") } }));
    result
}

/// What `initialize` and `server/discover` advertise; the tasks extension
/// (`io.modelcontextprotocol/tasks`) is served by `crate::tasks`.
fn server_capabilities() -> ServerCapabilities {
    ServerCapabilities::builder().enable_tools().enable_prompts().enable_resources().enable_completions().enable_tasks().build()
}

fn is_discovery(route: &LoadedRoute) -> bool {
    route.route.tool_exposure.eq_ignore_ascii_case(discovery::DISCOVERY)
}

impl ServerHandler for GatewayHandler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(server_capabilities())
            .with_server_info(Implementation::new("tfc-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Tools for HCP Terraform (Terraform Cloud). Arguments are flat snake_case fields; \
                 results are flattened JSON:API resources. List tools page with page_number/page_size or next_cursor.",
            )
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, McpError> {
        context.peer.set_peer_info(request.clone());
        let route = route_of(&context).ok();
        let server = route.as_ref().map(|r| r.route.server.as_str()).unwrap_or_default();
        let mut result = match self.negotiate_initialize(&request) {
            Ok(result) => result,
            Err(error) => {
                self.shared.metrics.request(server, "initialize", "", "error");
                return Err(error);
            }
        };
        if let Some(route) = &route {
            result.server_info.title = route.route.display_name.clone();
        }
        self.shared.metrics.request(server, "initialize", "", "ok");
        Ok(result)
    }

    async fn ping(&self, context: RequestContext<RoleServer>) -> Result<(), McpError> {
        let server = route_of(&context).map(|r| r.route.server.clone()).unwrap_or_default();
        self.shared.metrics.request(&server, "ping", "", "ok");
        Ok(())
    }

    /// Only the test-only conformance tools: rmcp checks a call's
    /// `Mcp-Param-*` headers against this schema; a route's own tools map no
    /// argument to a header (and depend on the route, unknown here).
    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        self.shared.conformance_tools.then(|| crate::conformance::find(name)).flatten()
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let route = route_of(&context)?;
        self.shared.metrics.request(&route.route.server, "tools/list", "", "ok");
        let tools = if is_discovery(&route) { discovery::meta_tools() } else { route.tools.clone() };
        let mut tools = tools.as_ref().clone();
        if self.shared.conformance_tools {
            tools.extend(crate::conformance::tools());
        }
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(&self, request: CallToolRequestParams, context: RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        let route = route_of(&context)?;
        let CallToolRequestParams { name, arguments, input_responses, request_state, .. } = request;
        let name = name.as_ref();
        let arguments = arguments.unwrap_or_default();
        let retry = Retry { responses: input_responses.as_ref(), state: request_state.as_deref() };

        // Boxed below: what is not the usual call (test fixtures, discovery,
        // tasks) keeps its future off this one's, which every call moves.
        if self.shared.conformance_tools
            && let Some(result) = Box::pin(crate::tasks::call_fixture(self, &route, name, &arguments, retry.responses, &context)).await
        {
            return result;
        }
        if self.shared.conformance_tools
            && let Some(result) = Box::pin(crate::conformance::call(name, &arguments, retry.responses, retry.state, &context)).await
        {
            return result;
        }

        if is_discovery(&route) {
            return Box::pin(self.call_discovery_tool(&route, name, arguments, retry, &context)).await;
        }

        let Some(tool) = route.filter.get(name) else {
            self.shared.metrics.request(&route.route.server, "tools/call", "unknown", "unknown_tool");
            return Err(unknown_tool(name));
        };
        match self.approve(&route, tool, arguments, retry, &context, None).await {
            // A long tool, for a client that follows tasks: see `crate::tasks`.
            Ok(arguments) if crate::tasks::runs_as_task(tool, &context) => {
                Ok(Box::pin(crate::tasks::start(self, &route, tool, arguments, &context, None)).await)
            }
            Ok(arguments) => Ok(self.run_tool(&route, tool, arguments, &context, None).await.into()),
            Err(response) => Ok(response),
        }
    }

    // The tasks extension: see `crate::tasks`. Here and below, what is not
    // a tool call is boxed: rmcp's dispatch, which every call moves, holds
    // the largest of these futures.
    async fn get_task(&self, request: GetTaskParams, context: RequestContext<RoleServer>) -> Result<GetTaskResult, McpError> {
        Box::pin(crate::tasks::get(self, &route_of(&context)?, &request.task_id, &context)).await
    }

    async fn cancel_task(&self, request: CancelTaskParams, context: RequestContext<RoleServer>) -> Result<(), McpError> {
        Box::pin(crate::tasks::cancel(self, &route_of(&context)?, &request.task_id, &context)).await
    }

    async fn update_task(&self, request: UpdateTaskParams, context: RequestContext<RoleServer>) -> Result<(), McpError> {
        crate::tasks::update(self, &route_of(&context)?, &request.task_id, &context)
    }

    // Prompts, resources and completions: see `crate::content`.
    async fn list_prompts(
        &self,
        _r: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let route = route_of(&context)?;
        crate::content::list_prompts(&self.shared, &route, &context)
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let route = route_of(&context)?;
        crate::content::get_prompt(&self.shared, &route, request)
    }

    async fn complete(&self, request: CompleteRequestParams, context: RequestContext<RoleServer>) -> Result<CompleteResult, McpError> {
        Box::pin(crate::content::complete(&self.shared, &route_of(&context)?, request, &context)).await
    }

    async fn list_resources(
        &self,
        _r: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let route = route_of(&context)?;
        crate::content::list_resources(&self.shared, &route, &context)
    }

    async fn list_resource_templates(
        &self,
        _r: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        let route = route_of(&context)?;
        crate::content::list_resource_templates(&self.shared, &route, &context)
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        Box::pin(crate::content::read_resource(&self.shared, &route_of(&context)?, request, &context)).await.map(Into::into)
    }
}

/// What a retried 2026-07-28 call brings back: the user's answers and the sealed state.
#[derive(Clone, Copy)]
struct Retry<'a> {
    responses: Option<&'a InputResponses>,
    state: Option<&'a str>,
}

impl GatewayHandler {
    /// A call of a discovery server's meta tools.
    async fn call_discovery_tool(
        &self,
        route: &Arc<LoadedRoute>,
        name: &str,
        arguments: Map<String, Value>,
        retry: Retry<'_>,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let result = match name {
            discovery::SEARCH_TOOLS => {
                self.meta(route, caller_of(context).as_deref(), discovery::SEARCH_TOOLS, search_tools(route, &arguments))
            }
            discovery::GET_TOOL_SCHEMA => {
                self.meta(route, caller_of(context).as_deref(), discovery::GET_TOOL_SCHEMA, get_tool_schema(route, &arguments))
            }
            discovery::CALL_TOOL => match meta_call_target(route, arguments) {
                Ok((tool, arguments)) => match self.approve(route, tool, arguments, retry, context, Some(discovery::CALL_TOOL)).await {
                    Ok(arguments) if crate::tasks::runs_as_task(tool, context) => {
                        return Ok(crate::tasks::start(self, route, tool, arguments, context, Some(discovery::CALL_TOOL)).await);
                    }
                    Ok(arguments) => self.run_tool(route, tool, arguments, context, Some(discovery::CALL_TOOL)).await,
                    Err(response) => return Ok(response),
                },
                Err(result) => self.meta(route, caller_of(context).as_deref(), discovery::CALL_TOOL, Err(result)),
            },
            _ => {
                self.shared.metrics.request(&route.route.server, "tools/call", "unknown", "unknown_tool");
                return Err(unknown_tool(name));
            }
        };
        Ok(result.into())
    }

    /// Human approval (`spec.approval`): `Ok` with the arguments when the
    /// call may run (no approval needed, or a person confirmed it), otherwise
    /// the answer to send instead (a confirmation request, or a refusal);
    /// nothing has been sent upstream then, except a GET for the names shown.
    async fn approve(
        &self,
        route: &Arc<LoadedRoute>,
        tool: &'static ToolSpec,
        arguments: Map<String, Value>,
        retry: Retry<'_>,
        context: &RequestContext<RoleServer>,
        via: Option<&'static str>,
    ) -> Result<Map<String, Value>, CallToolResponse> {
        if !approval::required(&route.route, tool) {
            return Ok(arguments);
        }
        let approvals = &self.shared.approvals;
        let caller = caller_of(context);
        let audit = |decision: &'static str, reason: &'static str, state: &str| {
            // Fingerprints only: the arguments' keyed digest, never their values.
            let arguments_fp = approvals.arguments_fingerprint(&arguments);
            info!(
                target: "audit",
                server = %route.route.server,
                token = %route.fingerprint(),
                caller = caller.as_deref(),
                tool = tool.name,
                via = via,
                decision,
                reason,
                state = state,
                arguments = %arguments_fp,
                "approval"
            );
            let label = match decision {
                "asked" => "approval_asked",
                "declined" => "approval_declined",
                _ => "approval_refused",
            };
            if decision != "confirmed" {
                self.shared.metrics.request(&route.route.server, "tools/call", tool.name, label);
            }
        };
        let elicitation_declared = context.client_capabilities().is_some_and(|c| c.elicitation.is_some());
        let modern = context.protocol_version().is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);

        if modern {
            if let Some(state) = retry.state {
                let fingerprint = match approvals.redeem(state, &route.route, tool.name, &arguments).await {
                    Ok(fingerprint) => fingerprint,
                    Err(StateRefusal::Unrecorded) => {
                        audit("refused", StateRefusal::Unrecorded.label(), "");
                        return Err(approval_refusal(
                            "approval_unrecorded",
                            "The gateway could not record that this confirmation was used (it is used once across all \
                             replicas), so nothing was executed. Call the tool again without requestState to be asked \
                             again, in a moment.",
                        ));
                    }
                    Err(refusal) => {
                        audit("refused", refusal.label(), "");
                        return Err(approval_refusal(
                            "approval_state_invalid",
                            "The confirmation state of this call is invalid, expired, already used, or belongs to another \
                             call (server, tool or arguments); nothing was executed. Call the tool again without requestState \
                             to be asked again.",
                        ));
                    }
                };
                return match approval::answer(retry.responses.and_then(|r| r.get(approval::INPUT_KEY))) {
                    Answer::Confirmed => {
                        audit("confirmed", "user_confirmed", &fingerprint);
                        Ok(arguments)
                    }
                    Answer::Declined => {
                        audit("declined", "user_declined", &fingerprint);
                        Err(declined())
                    }
                    Answer::Missing => {
                        audit("refused", "no_answer", &fingerprint);
                        Err(approval_refusal(
                            "approval_state_invalid",
                            "The retried call carries no answer to the confirmation; nothing was executed. Call the tool \
                             again without requestState to be asked again.",
                        ))
                    }
                };
            }
            if !elicitation_declared {
                audit("refused", "client_without_elicitation", "");
                return Err(approval_required());
            }
            let client = TfcClient::for_loaded(&self.shared.upstream, route);
            let message = approval::describe(&client, &route.route, tool, &arguments).await;
            let (state, fingerprint) = approvals.seal(&route.route, tool.name, &arguments);
            audit("asked", "input_required", &fingerprint);
            let mut requests = InputRequests::new();
            requests.insert(approval::INPUT_KEY.to_owned(), approval::input_request(&message));
            return Err(InputRequiredResult::new(Some(requests), Some(state)).into());
        }

        // Older revisions: ask through the client, when it can be asked: only
        // the legacy SSE transport has a channel back to it (stateless
        // Streamable HTTP has none, so a client claiming elicitation there
        // would only make the call wait until the confirmation expires).
        if !elicitation_declared || !on_legacy_sse(context) {
            audit("refused", if elicitation_declared { "no_channel_to_client" } else { "client_without_elicitation" }, "");
            return Err(approval_required());
        }
        let client = TfcClient::for_loaded(&self.shared.upstream, route);
        let message = approval::describe(&client, &route.route, tool, &arguments).await;
        audit("asked", "elicitation", "");
        let ask = context.peer.create_elicitation_with_timeout(approval::elicitation_params(&message), Some(approvals.ttl()));
        let answer = tokio::select! {
            answer = ask => answer,
            _ = context.ct.cancelled() => {
                audit("declined", "cancelled", "");
                return Err(declined());
            }
            _ = route.revoked() => {
                audit("refused", "revoked", "");
                return Err(approval_refusal("revoked", "this server's URL was revoked, rotated or expired while waiting for the confirmation; nothing was executed"));
            }
        };
        match answer.ok().and_then(|a| serde_json::to_value(a).ok()).as_ref().map(|a| approval::answer(Some(a))) {
            Some(Answer::Confirmed) => {
                audit("confirmed", "user_confirmed", "");
                Ok(arguments)
            }
            Some(Answer::Declined) => {
                audit("declined", "user_declined", "");
                Err(declined())
            }
            _ => {
                audit("refused", "no_answer", "");
                Err(approval_refusal(
                    "approval_required",
                    "The confirmation was not answered (timed out or the client could not ask); nothing was executed.",
                ))
            }
        }
    }
}

/// True when the request came over the legacy HTTP+SSE transport, whose
/// stream can carry a server-to-client request (`elicitation/create`).
fn on_legacy_sse(context: &RequestContext<RoleServer>) -> bool {
    parts(context).is_some_and(|p| p.uri.path().ends_with("/messages"))
}

fn approval_refusal(kind: &str, message: &str) -> CallToolResponse {
    let mut result = CallToolResult::error(vec![ContentBlock::text(message.to_owned())]);
    result.structured_content = Some(json!({ "error": { "kind": kind, "message": message } }));
    result.into()
}

fn declined() -> CallToolResponse {
    approval_refusal("approval_declined", "The user declined this call; nothing was executed.")
}

fn approval_required() -> CallToolResponse {
    approval_refusal(
        "approval_required",
        "This server requires a person to confirm this call, and this client cannot ask (it did not declare the MCP \
         elicitation capability on a connection that can carry it). Nothing was executed. Use a client that supports \
         elicitation (MCP 2026-07-28, or the legacy SSE transport with elicitation), or ask the server's owner to change \
         spec.approval.",
    )
}

impl GatewayHandler {
    /// Accounts for a discovery meta tool that answers from memory.
    fn meta(
        &self,
        route: &LoadedRoute,
        caller: Option<&str>,
        tool: &'static str,
        outcome: Result<CallToolResult, CallToolResult>,
    ) -> CallToolResult {
        let label = match &outcome {
            Ok(_) => "ok",
            Err(refusal) if refusal.structured_content.as_ref().and_then(|s| s.pointer("/error/kind")) == Some(&json!("unknown_tool")) => {
                "unknown_tool"
            }
            Err(_) => "invalid_arguments",
        };
        info!(
            target: "audit",
            server = %route.route.server,
            token = %route.fingerprint(),
            caller = caller,
            tool = tool,
            outcome = label,
            duration_ms = 0u64,
            "tool call"
        );
        self.shared.metrics.request(&route.route.server, "tools/call", tool, label);
        outcome.unwrap_or_else(|e| e)
    }

    /// Runs one allowed catalog tool: timeout, cancellation, progress, audit, metrics.
    pub(crate) async fn run_tool(
        &self,
        route: &Arc<LoadedRoute>,
        tool: &'static ToolSpec,
        arguments: Map<String, Value>,
        context: &RequestContext<RoleServer>,
        via: Option<&'static str>,
    ) -> CallToolResult {
        let started = Instant::now();
        let limit = if matches!(tool.handler, Handler::RunWait) {
            self.shared.limits.long_request_timeout
        } else {
            self.shared.limits.request_timeout
        };
        let progress = context.meta.get_progress_token().map(|token| ProgressSender::start(context.peer.clone(), token, tool.name));
        let hook = progress.as_ref().map(|p| p.hook());

        let client = TfcClient::for_loaded(&self.shared.upstream, route);
        let progress_hook = hook.as_ref().map(|h| h as &(dyn Fn(Progress) + Send + Sync));
        let max_result_bytes = self.shared.limits.max_result_bytes;
        // Made where it is awaited: a future named first is kept twice.
        let outcome = tokio::select! {
            outcome = tokio::time::timeout(limit, execute_loaded(&client, route, tool, arguments, progress_hook, max_result_bytes)) => {
                outcome.map_err(|_| Stop::Timeout)
            }
            _ = context.ct.cancelled() => Err(Stop::Cancelled),
            // Revoked, rotated, replaced or expired while running: stop calling upstream with its token.
            _ = route.revoked() => Err(Stop::Revoked),
        };
        let elapsed = started.elapsed();
        drop(hook);
        if let Some(progress) = progress {
            progress.finish(elapsed).await;
        }

        let (label, upstream_status, result) = match outcome {
            Ok(Ok(value)) => (
                "ok",
                None,
                if summarises(&route.route) { summarised_result(tool.name, value.into_value()) } else { structured_answer(value) },
            ),
            Ok(Err(error)) => {
                if let (Some(info), Some(slot)) = (&error.rate_limit, parts(context).and_then(|p| p.extensions.get::<RateLimitSlot>())) {
                    slot.put(info.clone());
                }
                if error.kind == ToolErrorKind::RateLimited {
                    self.shared.metrics.upstream_rate_limited(&route.route.server);
                }
                (outcome_label(&error.kind), error.status, tool_error(&error))
            }
            Err(Stop::Timeout) => {
                let error = ToolError::transport(format!(
                    "{} did not finish within {} seconds; the request was stopped. Narrow it (smaller page_size, shorter wait) or retry later.",
                    tool.name,
                    limit.as_secs()
                ));
                ("timeout", None, tool_error_labelled(&error, "timeout"))
            }
            Err(Stop::Cancelled) => ("cancelled", None, CallToolResult::error(vec![ContentBlock::text("cancelled by the client")])),
            Err(Stop::Revoked) => {
                let error = ToolError::transport(
                    "this server's URL was revoked, rotated or expired while the call ran; the call was stopped".to_owned(),
                );
                ("revoked", None, tool_error_labelled(&error, "revoked"))
            }
        };
        // The audit line: who, which tool, how it went. Never arguments or tokens.
        info!(
            target: "audit",
            server = %route.route.server,
            token = %route.fingerprint(),
            caller = caller_of(context).as_deref(),
            tool = tool.name,
            via = via,
            outcome = label,
            upstream_status = upstream_status,
            duration_ms = elapsed.as_millis() as u64,
            "tool call"
        );
        self.shared.metrics.request(&route.route.server, "tools/call", tool.name, label);
        self.shared.metrics.tool_duration(tool.name, elapsed);
        result
    }
}

/// True when the route's results carry a one-line summary as their text
/// block (`spec.results.text: Summary`), not the data.
pub(crate) fn summarises(route: &crate::route::Route) -> bool {
    route.result_text.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(crate::route::RESULT_TEXT_SUMMARY))
}

/// A successful tool result. `structuredContent` carries the JSON (already
/// within the result budget); the text block, for clients that only read
/// `content` and hand it to the model (as the MCP specification asks for
/// backwards compatibility), carries the same data as compact JSON without
/// its null fields, so the copy a model reads is the smaller one.
pub fn structured_result(value: Value) -> CallToolResult {
    let mut result = CallToolResult::structured(Value::Null);
    if TEXT_FROM_STRUCTURED.try_with(|_| ()).is_ok() {
        // The direct path writes the text block from the structured content.
        result.content = vec![ContentBlock::text(String::new())];
        result.meta = Some(text_deferred_mark());
    } else {
        result.content = vec![ContentBlock::text(compact_without_nulls(&value))];
    }
    result.structured_content = Some(value);
    result
}

tokio::task_local! {
    /// Set while the direct path serves a call: it writes a structured
    /// result's text block itself, in one pass over the structured content
    /// (`json_write::write_text_and_value`), so [`structured_result`] leaves
    /// the text empty, marked with [`text_deferred_mark`]. A written answer
    /// ([`structured_answer`]) waits here for it, its result marked the same.
    pub(crate) static TEXT_FROM_STRUCTURED: WrittenSlot;
}

/// Where a written answer waits for the direct path.
pub(crate) type WrittenSlot = std::cell::RefCell<Option<WrittenAnswer>>;

/// True while the direct path serves a call: a written answer goes out as it is.
pub(crate) fn answers_are_written_directly() -> bool {
    TEXT_FROM_STRUCTURED.try_with(|_| ()).is_ok()
}

/// [`structured_result`] of any answer: a written one is left to the direct
/// path (its structured content a placeholder, its text deferred), or
/// parsed back where there is none.
pub fn structured_answer(answer: ToolAnswer) -> CallToolResult {
    let written = match answer {
        ToolAnswer::Tree(value) => return structured_result(value),
        ToolAnswer::Written(written) => written,
    };
    let mut written = Some(written);
    let _ = TEXT_FROM_STRUCTURED.try_with(|slot| *slot.borrow_mut() = written.take());
    match written {
        Some(unsent) => structured_result(unsent.into_value()),
        None => {
            // An object: rmcp takes any other structured content out of a
            // result for a client before 2026-07-28.
            let mut result = CallToolResult::structured(Value::Object(Map::new()));
            result.content = vec![ContentBlock::text(String::new())];
            result.meta = Some(text_deferred_mark());
            result
        }
    }
}

/// The `_meta` of a result whose text block is left to the direct path;
/// never sent (the direct path writes the text, or puts it back with
/// [`fill_deferred_text`] before anything else sees the result).
pub(crate) fn text_deferred_mark() -> rmcp::model::MetaObject {
    let mut mark = Map::new();
    mark.insert("tfc-mcp.internal/text-from-structured-content".into(), Value::Bool(true));
    rmcp::model::MetaObject(mark)
}

/// True for a result [`structured_result`] left the text of.
pub(crate) fn text_is_deferred(result: &CallToolResult) -> bool {
    result.meta.as_ref().is_some_and(|m| m.0.len() == 1 && m.0.contains_key("tfc-mcp.internal/text-from-structured-content"))
        && result.structured_content.is_some()
        && matches!(result.content.as_slice(), [ContentBlock::Text(t)] if t.text.is_empty())
}

/// Puts back the text block [`structured_result`] left to the direct path
/// (and the structured content of the answer `written` for it).
pub(crate) fn fill_deferred_text(result: &mut CallToolResult, written: Option<WrittenAnswer>) {
    if text_is_deferred(result) {
        if let Some(written) = written {
            result.structured_content = Some(written.into_value());
        }
        let text = result.structured_content.as_ref().map(compact_without_nulls).unwrap_or_default();
        result.content = vec![ContentBlock::text(text)];
        result.meta = None;
    }
}

/// A successful tool result whose text block is one line saying what the
/// result holds (`spec.results.text: Summary`), for clients whose model reads
/// `structuredContent` itself (ChatGPT), so the data is not read twice.
pub fn summarised_result(tool: &str, value: Value) -> CallToolResult {
    let mut result = CallToolResult::structured(Value::Null);
    result.content = vec![ContentBlock::text(summary_line(tool, &value))];
    result.structured_content = Some(value);
    result
}

fn summary_line(tool: &str, v: &Value) -> String {
    let mut line = format!("{tool}: ");
    if let Some(items) = v.get("results").and_then(Value::as_array) {
        line.push_str(&format!("{} results", items.len()));
        let p = v.get("pagination");
        if let (Some(page), Some(total)) =
            (p.and_then(|p| p.get("page_number")).and_then(Value::as_u64), p.and_then(|p| p.get("total_count")).and_then(Value::as_u64))
        {
            line.push_str(&format!(" (page {page}, {total} in all)"));
        }
        if v.get("next_cursor").is_some_and(|c| c.is_string()) {
            line.push_str("; more with next_cursor");
        }
    } else {
        let field = |k: &str| v.get(k).and_then(Value::as_str);
        match (field("type"), field("id")) {
            (Some(t), Some(id)) => line.push_str(&format!("{t} {id}")),
            _ => line.push_str("done"),
        }
        if let Some(name) = field("name") {
            line.push_str(&format!(" ({})", truncate_name(name, MAX_ECHOED_NAME)));
        }
    }
    if v.get("truncation").is_some() {
        line.push_str("; trimmed to the result budget (see truncation.hint)");
    }
    line.push_str(". The full result is in structuredContent.");
    line
}

/// `v` as compact JSON without object fields whose value is null (array
/// items are kept, so positions stay meaningful), written straight from the
/// tree: no copy of it is made.
fn compact_without_nulls(v: &Value) -> String {
    let mut out = Vec::with_capacity(256);
    crate::json_write::write_value(&mut out, v, true);
    // Written from `str`s and ASCII escapes: always UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

enum Stop {
    Timeout,
    Cancelled,
    Revoked,
}

// ---- discovery meta tools ------------------------------------------------------

fn invalid(message: &str) -> CallToolResult {
    let mut result = CallToolResult::error(vec![ContentBlock::text(format!("invalid arguments: {message}"))]);
    result.structured_content =
        Some(json!({ "error": { "kind": "invalid_arguments", "message": format!("invalid arguments: {message}") } }));
    result
}

fn only_keys(arguments: &Map<String, Value>, allowed: &[&str]) -> Result<(), CallToolResult> {
    match arguments.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(&format!("unknown argument `{}`; expected {}", truncate_name(k, MAX_ECHOED_NAME), allowed.join(", ")))),
        None => Ok(()),
    }
}

fn search_tools(route: &LoadedRoute, arguments: &Map<String, Value>) -> Result<CallToolResult, CallToolResult> {
    only_keys(arguments, &["query", "limit"])?;
    let query = match arguments.get("query") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(invalid("`query` must be a string")),
    };
    discovery::check_query(query).map_err(|e| invalid(&e))?;
    let limit = match arguments.get("limit") {
        None | Some(Value::Null) => discovery::DEFAULT_SEARCH_LIMIT,
        Some(v) => match v.as_u64() {
            Some(n) if (1..=discovery::MAX_SEARCH_LIMIT as u64).contains(&n) => n as usize,
            _ => return Err(invalid(&format!("`limit` must be an integer from 1 to {}", discovery::MAX_SEARCH_LIMIT))),
        },
    };
    Ok(CallToolResult::structured(discovery::search(&route.filter, query, limit)))
}

fn required_name(arguments: &Map<String, Value>) -> Result<&str, CallToolResult> {
    match arguments.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim()),
        Some(_) => Err(invalid("`name` must be a non-empty string")),
        None => Err(invalid("missing required argument `name`")),
    }
}

fn get_tool_schema(route: &LoadedRoute, arguments: &Map<String, Value>) -> Result<CallToolResult, CallToolResult> {
    only_keys(arguments, &["name"])?;
    let name = required_name(arguments)?;
    discovery::tool_schema(&route.filter, name).map(CallToolResult::structured).ok_or_else(|| unknown_tool_result(name))
}

/// The allowed tool and its arguments named by a `call_tool` call.
fn meta_call_target(
    route: &LoadedRoute,
    mut arguments: Map<String, Value>,
) -> Result<(&'static ToolSpec, Map<String, Value>), CallToolResult> {
    only_keys(&arguments, &["name", "arguments"])?;
    let name = required_name(&arguments)?.to_owned();
    let Some(tool) = route.filter.get(&name) else {
        return Err(unknown_tool_result(&name));
    };
    let inner = match arguments.remove("arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(invalid("`arguments` must be an object")),
    };
    Ok((tool, inner))
}

// ---- progress --------------------------------------------------------------------

/// Sends `notifications/progress` for one tool call, in order and with a
/// strictly increasing `progress`, from a synchronous hook.
struct ProgressSender {
    tx: tokio::sync::mpsc::UnboundedSender<ProgressNotificationParam>,
    token: ProgressToken,
    task: tokio::task::JoinHandle<()>,
}

impl ProgressSender {
    fn start(peer: Peer<RoleServer>, token: ProgressToken, tool: &str) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ProgressNotificationParam>();
        let task = tokio::spawn(async move {
            let mut last: Option<f64> = None;
            while let Some(param) = rx.recv().await {
                if last.is_some_and(|l| param.progress <= l) || !param.progress.is_finite() {
                    continue;
                }
                last = Some(param.progress);
                if peer.notify_progress(param).await.is_err() {
                    break;
                }
            }
        });
        let _ = tx.send(ProgressNotificationParam::new(token.clone(), 0.0).with_message(format!("calling {tool}")));
        Self { tx, token, task }
    }

    /// The hook the executor calls with its own progress (seconds waited).
    fn hook(&self) -> impl Fn(Progress) + Send + Sync + use<> {
        let tx = self.tx.clone();
        let token = self.token.clone();
        move |p: Progress| {
            let mut param = ProgressNotificationParam::new(token.clone(), p.progress).with_message(p.message);
            param.total = p.total;
            let _ = tx.send(param);
        }
    }

    /// The last notification, sent (and awaited) before the result.
    async fn finish(self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64().max(0.001);
        let _ = self.tx.send(ProgressNotificationParam::new(self.token.clone(), secs).with_message("done".to_owned()));
        drop(self.tx);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}

// ---- tool errors -------------------------------------------------------------------

/// A tool error the model can act on: the message as text, and the same
/// facts as structured content.
pub(crate) fn tool_error(error: &ToolError) -> CallToolResult {
    // An organization outside the allow-list must look exactly like a
    // resource that does not exist, so the client sees an upstream 404.
    match error.kind {
        ToolErrorKind::Forbidden => tool_error_as(error, outcome_label(&ToolErrorKind::Upstream), Some(404)),
        _ => tool_error_labelled(error, outcome_label(&error.kind)),
    }
}

fn tool_error_labelled(error: &ToolError, kind: &str) -> CallToolResult {
    tool_error_as(error, kind, error.status)
}

fn tool_error_as(error: &ToolError, kind: &str, status: Option<u16>) -> CallToolResult {
    let mut structured = json!({ "error": { "kind": kind, "message": error.message } });
    if let Some(status) = status {
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
pub(crate) fn outcome_label(kind: &ToolErrorKind) -> &'static str {
    match kind {
        ToolErrorKind::InvalidArguments => "invalid_arguments",
        ToolErrorKind::Upstream => "upstream_error",
        ToolErrorKind::RateLimited => "rate_limited",
        ToolErrorKind::Transport => "transport_error",
        ToolErrorKind::Forbidden => "forbidden",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_block_is_compact_json_without_nulls() {
        let value = json!({"results": [{"id": "ws-1", "description": null, "tags": [null, "a"]}], "next_cursor": null});
        let result = structured_result(value.clone());
        assert_eq!(result.structured_content, Some(value.clone()));
        assert_eq!(result.is_error, Some(false));
        let text = match &result.content[..] {
            [block] => block.as_text().map(|t| t.text.clone()).unwrap(),
            other => panic!("one text block expected, got {}", other.len()),
        };
        assert_eq!(text, r#"{"results":[{"id":"ws-1","tags":[null,"a"]}]}"#);
        assert!(text.len() < value.to_string().len());
    }

    #[test]
    fn the_summary_text_names_what_the_result_holds() {
        let page = json!({"results": [{"id": "ws-1"}, {"id": "ws-2"}], "pagination": {"page_number": 1, "total_count": 9},
            "next_cursor": "tfcp2.x", "truncated": true, "truncation": {}});
        let result = summarised_result("list_all_hashicorp_terraform_cloud_workspaces", page.clone());
        assert_eq!(result.structured_content, Some(page));
        let text = result.content[0].as_text().unwrap().text.clone();
        assert_eq!(
            text,
            "list_all_hashicorp_terraform_cloud_workspaces: 2 results (page 1, 9 in all); more with next_cursor; \
             trimmed to the result budget (see truncation.hint). The full result is in structuredContent."
        );
        let one = summarised_result("get", json!({"type": "workspaces", "id": "ws-1", "name": "prod"}));
        assert_eq!(one.content[0].as_text().unwrap().text, "get: workspaces ws-1 (prod). The full result is in structuredContent.");
    }
}
