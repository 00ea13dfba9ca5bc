//! Runs as tasks: the tasks extension (`io.modelcontextprotocol/tasks`,
//! SEP-2663) for the long tools.
//!
//! A client that declares the extension (in a request's `_meta` client
//! capabilities, or at `initialize` on a transport with a session) and calls
//! a tool of [`TASK_TOOLS`] gets a `CreateTaskResult` (`resultType: "task"`)
//! at once; it polls `tasks/get`, which answers `working` (with the run's
//! status as `statusMessage`) until the wait would stop, then `completed`
//! with the very `CallToolResult` the synchronous call gives. The server
//! decides (SEP-2663 has no `task` parameter): a call whose first poll
//! already stops (the run finished, bad arguments, a run out of reach) is
//! answered synchronously. Clients without the extension keep the
//! synchronous call with progress notifications.
//!
//! Stateless: nothing is kept in a replica's memory. The task id carries
//! the whole task (the tool, its arguments, when it started), sealed with
//! HMAC-SHA256 under a key derived from the approval key every replica
//! shares (`--approval-keys-dir`; another derivation label than approval
//! states, so neither opens as the other), bound to the route (its URL token
//! hash) and the authenticated caller, and expiring after the wait's timeout
//! plus [`RESULT_GRACE`]. The run in HCP Terraform is the state: each
//! `tasks/get` reads it through the same route, tool filter, organization
//! allow-list, scope and limits as the tool. Any replica answers, before or
//! after a client reconnects. An id that is tampered with, expired, or made
//! for another server or caller is refused (-32602) before anything is sent
//! upstream.
//!
//! `tasks/cancel` cancels the run (`hashicorp_terraform_cloud_runs_cancel`;
//! a run still `pending` is discarded instead) when this server exposes that
//! tool and does not ask a person to confirm it; otherwise it is refused
//! (-32600) and the run goes on. There is no
//! `tasks/list` (SEP-2663 removed it; a stateless server has no list to
//! give) and no `tasks/result` (the result is inlined in `tasks/get`); both
//! answer -32601. No task asks for input, so `tasks/update` only checks the id.
//! `tasks/get`, `tasks/cancel` and `tasks/update` from a request that does
//! not declare the extension are refused with -32021 naming it (SEP-2575).
//! The conformance suite's task fixtures ([`crate::conformance_tasks`],
//! `--enable-conformance-tools` only) use these same ids.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, SecondsFormat, Utc};
use rmcp::{
    ErrorData as McpError, RoleServer,
    model::{
        CallToolResponse, CallToolResult, ClientCapabilities, CreateTaskResult, DetailedTask, GetTaskResult, InputResponses, JsonObject,
        SealOptions, Task, TaskPayload,
    },
    service::RequestContext,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tracing::info;

use crate::{
    approval::Approvals,
    catalog::{Handler, ToolSpec},
    conformance_tasks::{self, Dispatch},
    execute::{TaskPoll, ToolErrorKind, poll_task},
    limits::{MAX_ECHOED_NAME, truncate_name},
    mcp::{GatewayHandler, RateLimitSlot, caller_of, outcome_label, parts, structured_result, summarised_result, tool_error},
    route::Route,
    routes::LoadedRoute,
    upstream::TfcClient,
};

/// The tools that run as tasks for a client that supports them.
pub const TASK_TOOLS: &[&str] = &["hashicorp_terraform_cloud_runs_wait"];
/// How long a task's result stays readable after its wait's timeout.
pub const RESULT_GRACE: Duration = Duration::from_secs(15 * 60);
/// The tools `tasks/cancel` calls: cancel a run that plans or applies,
/// discard one that has not started.
pub const CANCEL_TOOL: &str = "hashicorp_terraform_cloud_runs_cancel";
pub const DISCARD_TOOL: &str = "hashicorp_terraform_cloud_runs_discard";
/// Longest task id handed out (arguments too large for one run as a plain call).
const MAX_TASK_ID: usize = 2048;
/// Domain separation of the binding.
const BINDING_DOMAIN: &[u8] = b"tfc-mcp/task/v1";
/// The wait's defaults and bounds (as `hashicorp_terraform_cloud_runs_wait` reads them).
const DEFAULT_TIMEOUT_SECS: i64 = 60;
const MAX_TIMEOUT_SECS: i64 = 600;
const DEFAULT_POLL_SECS: i64 = 5;
const MAX_POLL_SECS: i64 = 60;

/// What a task id carries (readable by the client: no secrets; the route
/// and the caller are bound, not stored).
#[derive(Serialize, Deserialize)]
struct TaskState {
    /// The tool.
    t: String,
    /// Its arguments, as called.
    a: Map<String, Value>,
    /// Started at, unix milliseconds.
    s: i64,
}

impl TaskState {
    fn int(&self, name: &str, default: i64, max: i64) -> i64 {
        self.a.get(name).and_then(Value::as_i64).unwrap_or(default).clamp(1, max)
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.int("timeout_seconds", DEFAULT_TIMEOUT_SECS, MAX_TIMEOUT_SECS) as u64)
    }

    fn ttl(&self) -> Duration {
        self.timeout() + RESULT_GRACE
    }

    fn poll_interval_ms(&self) -> u64 {
        self.int("poll_interval_seconds", DEFAULT_POLL_SECS, MAX_POLL_SECS) as u64 * 1000
    }

    fn run_id(&self) -> String {
        truncate_name(self.a.get("run_id").and_then(Value::as_str).unwrap_or_default(), MAX_ECHOED_NAME).into_owned()
    }

    fn waited(&self, now: i64) -> Duration {
        Duration::from_millis(now.saturating_sub(self.s).max(0) as u64)
    }

    /// The task's base fields at `now`.
    fn task(&self, id: &str, now: i64) -> Task {
        Task::new(id, rmcp::model::TaskStatus::Working, iso(self.s), iso(now))
            .with_ttl_ms(self.ttl().as_millis() as u64)
            .with_poll_interval_ms(self.poll_interval_ms())
    }
}

fn iso(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// True when this tool can run as a task.
pub fn supports(tool: &ToolSpec) -> bool {
    TASK_TOOLS.contains(&tool.name) && matches!(tool.handler, Handler::RunWait)
}

/// True when this call runs as a task: a task tool, and a client that
/// declared the extension on this request (or at `initialize` of its session).
pub fn runs_as_task(tool: &ToolSpec, context: &RequestContext<RoleServer>) -> bool {
    supports(tool) && context.client_capabilities().is_some_and(|c| c.supports_tasks())
}

/// What a task id is bound to: the route's URL token hash and the caller.
fn binding(route: &Route, caller: Option<&str>) -> Vec<u8> {
    let mut out = Vec::new();
    for part in [BINDING_DOMAIN, route.token_sha256.as_bytes(), caller.unwrap_or_default().as_bytes()] {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

fn seal(handler: &GatewayHandler, route: &Route, caller: Option<&str>, state: &TaskState) -> Option<String> {
    seal_with(&handler.shared().approvals, route, caller, state, state.ttl())
}

fn seal_with(approvals: &Approvals, route: &Route, caller: Option<&str>, state: &TaskState, ttl: Duration) -> Option<String> {
    let binding = binding(route, caller);
    let id = approvals.task_codec().seal_json_with(state, &SealOptions::new().associated_data(&binding).ttl(ttl)).ok()?;
    (id.len() <= MAX_TASK_ID).then_some(id)
}

/// A task id as [`start`] issues it, with another lifetime: for tests of
/// expiry (and tools that hand out ids); `None` when the arguments are too large.
pub fn issue(
    approvals: &Approvals,
    route: &Route,
    caller: Option<&str>,
    tool: &str,
    arguments: Map<String, Value>,
    started_ms: i64,
    ttl: Duration,
) -> Option<String> {
    seal_with(approvals, route, caller, &TaskState { t: tool.to_owned(), a: arguments, s: started_ms }, ttl)
}

/// Opens a task id of this route and caller; refuses anything else with the
/// same -32602 (unknown), or -32602 naming the expiry.
fn open(handler: &GatewayHandler, route: &Route, caller: Option<&str>, id: &str, verb: &str) -> Result<TaskState, McpError> {
    use rmcp::model::RequestStateError;
    let unknown = || {
        McpError::invalid_params(
            format!("Failed to {verb} task: task not found (the id is not one this server issued to this caller, or it was altered)"),
            None,
        )
    };
    if id.len() > MAX_TASK_ID {
        return Err(unknown());
    }
    let codec = handler.shared().approvals.task_codec();
    codec.open_json_with::<TaskState>(id, &binding(route, caller)).map_err(|e| match e {
        RequestStateError::Expired => McpError::invalid_params(
            format!(
                "Failed to {verb} task: task has expired (its result was kept {} minutes after its wait's timeout); call the tool again",
                RESULT_GRACE.as_secs() / 60
            ),
            None,
        ),
        _ => unknown(),
    })
}

fn task_fingerprint(id: &str) -> String {
    crate::route::sha256_hex(id)[..8].to_owned()
}

/// What one poll found, as the client sees it.
enum Polled {
    /// Still waiting: a status message, and the run's status.
    Working(String, String),
    /// This poll could not read the run (rate limit, network, timeout): the
    /// task goes on; poll again after the interval (seconds) when given.
    Busy(String, Option<u64>),
    /// The synchronous tool's answer, with its outcome label.
    Done(&'static str, CallToolResult),
}

/// One poll of the task's run, through the route's checks and limits.
async fn poll(
    handler: &GatewayHandler,
    route: &Arc<LoadedRoute>,
    tool: &'static ToolSpec,
    state: &TaskState,
    waited: Duration,
    context: &RequestContext<RoleServer>,
) -> Polled {
    let shared = handler.shared();
    let client = TfcClient::for_loaded(&shared.upstream, route);
    let run = poll_task(&client, route, tool, state.a.clone(), waited, shared.limits.max_result_bytes);
    let outcome = tokio::select! {
        outcome = tokio::time::timeout(shared.limits.request_timeout, run) => outcome.ok(),
        _ = context.ct.cancelled() => None,
        _ = route.revoked() => None,
    };
    match outcome {
        Some(Ok(TaskPoll::Working(status))) => {
            Polled::Working(format!("run {} is {}", state.run_id(), truncate_name(&status, MAX_ECHOED_NAME)), status)
        }
        Some(Ok(TaskPoll::Done(answer))) => Polled::Done("ok", success_result(&route.route, tool, answer.into_value())),
        Some(Err(error)) => {
            if let (Some(info), Some(slot)) = (&error.rate_limit, parts(context).and_then(|p| p.extensions.get::<RateLimitSlot>())) {
                slot.put(info.clone());
            }
            match error.kind {
                ToolErrorKind::RateLimited => {
                    shared.metrics.upstream_rate_limited(&route.route.server);
                    let reset = error.rate_limit.as_ref().and_then(|r| r.reset_secs).map(|s| s.ceil().max(1.0) as u64);
                    Polled::Busy("HCP Terraform rate-limited this poll; the run is still followed, poll again later".to_owned(), reset)
                }
                ToolErrorKind::Transport => Polled::Busy(format!("this poll could not read the run ({error}); poll again"), None),
                kind => Polled::Done(outcome_label(&kind), tool_error(&error)),
            }
        }
        None => Polled::Busy("this poll did not finish in time; poll again".to_owned(), None),
    }
}

/// The tool's successful answer, as the synchronous call words it.
fn success_result(route: &Route, tool: &ToolSpec, value: Value) -> CallToolResult {
    if crate::mcp::summarises(route) { summarised_result(tool.name, value) } else { structured_result(value) }
}

/// `tools/call` of a task tool by a client that follows tasks (after any
/// confirmation): a task when the run is still moving, else the answer.
pub async fn start(
    handler: &GatewayHandler,
    route: &Arc<LoadedRoute>,
    tool: &'static ToolSpec,
    arguments: Map<String, Value>,
    context: &RequestContext<RoleServer>,
    via: Option<&'static str>,
) -> CallToolResponse {
    let caller = caller_of(context);
    let now = Utc::now().timestamp_millis();
    let state = TaskState { t: tool.name.to_owned(), a: arguments, s: now };
    // One poll first: bad arguments, a run out of reach or an already
    // finished run are answered at once, as the synchronous call would.
    let message = match poll(handler, route, tool, &state, Duration::ZERO, context).await {
        Polled::Working(message, _) | Polled::Busy(message, _) => message,
        Polled::Done(label, result) => {
            audit(handler, route, caller.as_deref(), tool.name, via, label, None);
            return result.into();
        }
    };
    let Some(id) = seal(handler, &route.route, caller.as_deref(), &state) else {
        // Arguments too large to carry in an id: the plain call.
        return handler.run_tool(route, tool, state.a, context, via).await.into();
    };
    audit(handler, route, caller.as_deref(), tool.name, via, "task_created", Some(&id));
    CreateTaskResult::new(state.task(&id, now).with_status_message(message)).into()
}

fn audit(
    handler: &GatewayHandler,
    route: &LoadedRoute,
    caller: Option<&str>,
    tool: &str,
    via: Option<&str>,
    outcome: &'static str,
    task: Option<&str>,
) {
    info!(
        target: "audit",
        server = %route.route.server,
        token = %route.fingerprint(),
        caller = caller,
        tool = tool,
        via = via,
        outcome = outcome,
        task = task.map(task_fingerprint),
        "tool call"
    );
    handler.shared().metrics.request(&route.route.server, "tools/call", tool, outcome);
}

/// The task's tool, still exposed by this server.
fn tool_of(route: &LoadedRoute, state: &TaskState, verb: &str) -> Result<&'static ToolSpec, McpError> {
    route
        .filter
        .get(&state.t)
        .filter(|t| supports(t))
        .ok_or_else(|| McpError::invalid_params(format!("Failed to {verb} task: this server no longer exposes the task's tool"), None))
}

/// The tasks methods need the extension declared on the request (or at
/// `initialize` of its session): -32021 naming it otherwise (SEP-2575).
fn require_extension(context: &RequestContext<RoleServer>) -> Result<(), McpError> {
    if context.client_capabilities().is_some_and(|c| c.supports_tasks()) {
        return Ok(());
    }
    let required: ClientCapabilities =
        serde_json::from_value(json!({ "extensions": { rmcp::model::TASKS_EXTENSION_ID: {} } })).unwrap_or_default();
    Err(McpError::missing_required_client_capability(required))
}

/// True when the task is one of the conformance suite's fixtures (served
/// only with `--enable-conformance-tools`).
fn is_fixture(handler: &GatewayHandler, state: &TaskState) -> bool {
    handler.shared().conformance_tools && conformance_tasks::is_task_fixture(&state.t)
}

/// `tools/call` of a conformance task fixture (see [`crate::conformance_tasks`]):
/// its task gets an id like a run's; `None` when `name` is not a fixture.
pub async fn call_fixture(
    handler: &GatewayHandler,
    route: &LoadedRoute,
    name: &str,
    arguments: &JsonObject,
    responses: Option<&InputResponses>,
    context: &RequestContext<RoleServer>,
) -> Option<Result<CallToolResponse, McpError>> {
    let tasks = context.client_capabilities().is_some_and(|c| c.supports_tasks());
    match conformance_tasks::dispatch(name, arguments, responses, tasks)? {
        Dispatch::Now(response) => {
            tokio::select! {
                _ = tokio::time::sleep(conformance_tasks::sync_time(name, arguments)) => Some(response),
                _ = context.ct.cancelled() => Some(Err(McpError::internal_error("the call was cancelled", None))),
            }
        }
        Dispatch::Task(arguments) => {
            let now = Utc::now().timestamp_millis();
            let state = TaskState { t: name.to_owned(), a: arguments, s: now };
            Some(match seal(handler, &route.route, caller_of(context).as_deref(), &state) {
                Some(id) => Ok(CreateTaskResult::new(state.task(&id, now)).into()),
                None => Err(McpError::invalid_params("the arguments are too large for a task", None)),
            })
        }
    }
}

/// `tasks/get`.
pub async fn get(
    handler: &GatewayHandler,
    route: &Arc<LoadedRoute>,
    id: &str,
    context: &RequestContext<RoleServer>,
) -> Result<GetTaskResult, McpError> {
    require_extension(context)?;
    let metrics = &handler.shared().metrics;
    let state = match open(handler, &route.route, caller_of(context).as_deref(), id, "retrieve") {
        Ok(state) => state,
        Err(error) => {
            metrics.request(&route.route.server, "tasks/get", "", "invalid_task");
            return Err(error);
        }
    };
    let now = Utc::now().timestamp_millis();
    if is_fixture(handler, &state) {
        let payload = conformance_tasks::payload(&state.t, &state.a, state.waited(now));
        return Ok(GetTaskResult::new(DetailedTask::new(state.task(id, now), payload)));
    }
    let tool = tool_of(route, &state, "retrieve")?;
    let task = state.task(id, now);
    let (label, detailed) = match poll(handler, route, tool, &state, state.waited(now), context).await {
        Polled::Working(message, _) => ("working", DetailedTask::new(task.with_status_message(message), TaskPayload::Working)),
        Polled::Busy(message, retry) => {
            let interval = retry.map_or(state.poll_interval_ms(), |s| (s * 1000).max(state.poll_interval_ms()));
            ("busy", DetailedTask::new(task.with_status_message(message).with_poll_interval_ms(interval), TaskPayload::Working))
        }
        Polled::Done(label, result) => {
            let message = result
                .structured_content
                .as_ref()
                .and_then(|s| s.get("stopped_because").or_else(|| s.pointer("/error/message")))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let result = match serde_json::to_value(&result) {
                Ok(Value::Object(object)) => object,
                _ => JsonObject::new(),
            };
            let task = match message {
                Some(message) => task.with_status_message(message),
                None => task,
            };
            (label, DetailedTask::new(task, TaskPayload::Completed { result }))
        }
    };
    metrics.request(&route.route.server, "tasks/get", tool.name, label);
    Ok(GetTaskResult::new(detailed))
}

/// `tasks/cancel`: cancels the run when this server allows it without a
/// confirmation; refuses otherwise (the run goes on).
pub async fn cancel(
    handler: &GatewayHandler,
    route: &Arc<LoadedRoute>,
    id: &str,
    context: &RequestContext<RoleServer>,
) -> Result<(), McpError> {
    require_extension(context)?;
    let state = open(handler, &route.route, caller_of(context).as_deref(), id, "cancel")?;
    if is_fixture(handler, &state) {
        // Nothing upstream to stop: a fixture's task runs its course.
        return Ok(());
    }
    let tool = tool_of(route, &state, "cancel")?;
    let now = Utc::now().timestamp_millis();
    let status = match poll(handler, route, tool, &state, state.waited(now), context).await {
        // The wait is over: nothing left to cancel.
        Polled::Done(..) => return Ok(()),
        Polled::Working(_, status) => Some(status),
        Polled::Busy(..) => None,
    };
    // A run that has not started is discarded; one that plans or applies is canceled.
    let name = if status.as_deref() == Some("pending") { DISCARD_TOOL } else { CANCEL_TOOL };
    let Some(cancel) = route.filter.get(name) else {
        return Err(McpError::invalid_request(
            format!(
                "This server does not allow stopping runs ({name} is not among its tools); run {} was not canceled and goes on. \
                 Stop polling the task to abandon it.",
                state.run_id()
            ),
            None,
        ));
    };
    if crate::approval::required(&route.route, cancel) {
        return Err(McpError::invalid_request(
            format!(
                "This server asks a person to confirm {name}; run {} was not canceled. Call {name} with run_id to be asked.",
                state.run_id()
            ),
            None,
        ));
    }
    let arguments = json!({ "run_id": state.a.get("run_id").cloned().unwrap_or(Value::Null) });
    let arguments = arguments.as_object().cloned().unwrap_or_default();
    let result = handler.run_tool(route, cancel, arguments, context, Some("tasks/cancel")).await;
    if result.is_error == Some(true) {
        let message = result.content.first().and_then(|c| c.as_text()).map(|t| t.text.clone()).unwrap_or_default();
        return Err(McpError::invalid_request(format!("Failed to cancel task: {message}"), None));
    }
    Ok(())
}

/// `tasks/update`: no task of this server asks for input; the id is checked.
pub fn update(handler: &GatewayHandler, route: &Arc<LoadedRoute>, id: &str, context: &RequestContext<RoleServer>) -> Result<(), McpError> {
    require_extension(context)?;
    open(handler, &route.route, caller_of(context).as_deref(), id, "update").map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_tool_is_a_wait_in_the_catalog() {
        for name in TASK_TOOLS {
            let tool = crate::catalog::catalog().get(name).unwrap_or_else(|| panic!("{name} is not in the catalog"));
            assert!(supports(tool), "{name}");
        }
        assert!(crate::catalog::catalog().get(CANCEL_TOOL).is_some() && crate::catalog::catalog().get(DISCARD_TOOL).is_some());
    }

    #[test]
    fn ttl_and_interval_follow_the_wait_options() {
        let state = TaskState { t: TASK_TOOLS[0].into(), a: Map::new(), s: 0 };
        assert_eq!(state.ttl(), Duration::from_secs(60) + RESULT_GRACE);
        assert_eq!(state.poll_interval_ms(), 5000);
        let state = TaskState {
            t: TASK_TOOLS[0].into(),
            a: json!({"timeout_seconds": 100_000, "poll_interval_seconds": 0}).as_object().unwrap().clone(),
            s: 0,
        };
        assert_eq!(state.timeout(), Duration::from_secs(600));
        assert_eq!(state.poll_interval_ms(), 1000);
        assert_eq!(state.waited(-5), Duration::ZERO);
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
    }
}
