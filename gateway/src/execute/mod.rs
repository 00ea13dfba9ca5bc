//! Run one tool: validate the arguments, enforce the organization
//! allow-list, build the JSON:API request from the catalog entry, call HCP
//! Terraform, and flatten the answer.
//!
//! Every failure is a [`ToolError`] whose message tells a model what to do
//! next. Messages never contain tokens (the upstream token is only ever put
//! into a sensitive header value) nor temporary blob URLs.

mod answer;
mod args;
mod assessments;
pub mod budget;
mod explorer;
mod handlers;
mod logs;
pub(crate) mod owners;
mod plan_detail;
mod readme;
mod registry;
mod run_wait;
mod scope;
mod sensitive;
mod shape;
mod team_users;

use std::{borrow::Cow, fmt};

use serde_json::{Map, Value, json};

use crate::catalog::{Body, Handler, Kind, Loc, Method, ToolSpec, Verb};
use crate::filter::ToolFilter;
use crate::jsonapi::{self, Grants};
use crate::route::Route;
use crate::routes::LoadedRoute;
use crate::upstream::{ApiResponse, RateLimitInfo, TfcClient};

use crate::jsonapi_parse::{self, written};
pub use answer::{ToolAnswer, WrittenAnswer};
pub(crate) use args::Args;
pub use owners::MAX_CHECKED_IDS;
pub use run_wait::{RUN_STOPS, RunStop, When as RunStopWhen, stop_for as run_stop_for};

/// Marker that replaces sensitive output values.
pub const SENSITIVE_MARKER: &str = "<sensitive>";

// ---- errors --------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolErrorKind {
    /// Bad arguments, caught before any upstream call.
    InvalidArguments,
    /// HCP Terraform answered with an error status.
    Upstream,
    /// HCP Terraform answered 429.
    RateLimited,
    /// No usable answer (connection, timeout, oversized or malformed response).
    Transport,
    /// Refused by this server's own policy (organization not allowed).
    Forbidden,
}

impl ToolErrorKind {
    /// Short label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolErrorKind::InvalidArguments => "invalid_arguments",
            ToolErrorKind::Upstream => "upstream",
            ToolErrorKind::RateLimited => "rate_limited",
            ToolErrorKind::Transport => "transport",
            ToolErrorKind::Forbidden => "forbidden",
        }
    }

    /// Same as [`ToolErrorKind::as_str`].
    pub fn label(self) -> &'static str {
        self.as_str()
    }
}

/// A tool failure, phrased for the model that called the tool.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolError {
    pub message: String,
    /// Upstream HTTP status, when there was an upstream answer.
    pub status: Option<u16>,
    pub rate_limit: Option<RateLimitInfo>,
    pub kind: ToolErrorKind,
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ToolError {}

impl ToolError {
    pub fn invalid(message: String) -> Self {
        Self { message: format!("invalid arguments: {message}"), status: None, rate_limit: None, kind: ToolErrorKind::InvalidArguments }
    }
    pub fn transport(message: String) -> Self {
        Self { message, status: None, rate_limit: None, kind: ToolErrorKind::Transport }
    }
    pub fn upstream_msg(message: &str, status: Option<u16>) -> Self {
        Self { message: message.to_owned(), status, rate_limit: None, kind: ToolErrorKind::Upstream }
    }

    /// The error for an unsuccessful API answer. `explanation` replaces the
    /// generic hint for the status (e.g. the 409 meaning of a run action).
    pub fn from_response(resp: &ApiResponse, verb: Verb, path: &str, explanation: Option<&str>) -> Self {
        let status = resp.status;
        let reason = reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
        let errors = resp.body.as_ref().map(jsonapi::parse_errors).unwrap_or_default();
        let mut detail: Vec<String> = errors.iter().map(ToString::to_string).collect();
        if detail.is_empty()
            && let Some(t) = &resp.text_excerpt
        {
            detail.push(t.clone());
        }
        let what = if detail.is_empty() { String::new() } else { format!(": {}", detail.join("; ")) };
        let head = format!("HCP Terraform answered HTTP {status} {reason} to {} {path}{what}.", verb.as_str());
        if status == 429 {
            let rl = resp.rate_limit.clone();
            return Self {
                message: format!(
                    "{head} Rate limit exceeded ({rl}). Wait ratelimit-reset seconds before calling HCP Terraform tools again."
                ),
                status: Some(status),
                rate_limit: Some(rl),
                kind: ToolErrorKind::RateLimited,
            };
        }
        let hint = explanation.map(str::to_owned).unwrap_or_else(|| status_hint(status).to_owned());
        Self {
            message: if hint.is_empty() { head } else { format!("{head} {hint}") },
            status: Some(status),
            rate_limit: (!resp.rate_limit.is_empty()).then(|| resp.rate_limit.clone()),
            kind: ToolErrorKind::Upstream,
        }
    }

    /// Refusal of an organization outside the allow-list, worded like the
    /// upstream "not found" so it reveals nothing about other organizations.
    pub fn organization_not_allowed(verb: Verb, path: &str) -> Self {
        Self {
            message: format!("HCP Terraform answered HTTP 404 Not Found to {} {path}: not found. {}", verb.as_str(), status_hint(404)),
            status: None,
            rate_limit: None,
            kind: ToolErrorKind::Forbidden,
        }
    }
}

fn status_hint(status: u16) -> &'static str {
    match status {
        400 => "The request was malformed; check the arguments.",
        401 => "This server's HCP Terraform token is missing, invalid or expired; ask the server's owner to update the token Secret.",
        403 => "The token is not allowed to do this (missing permission, or a feature the organization's plan lacks).",
        404 => {
            "It does not exist, or this server's token and allowed organizations give no access to it; check the id or name (a list tool can find it)."
        }
        409 => "The resource is not in a state that allows this; read it again and check its current status.",
        422 => "HCP Terraform rejected the values; fix the arguments named above.",
        s if s >= 500 => "HCP Terraform had a temporary problem; retry later.",
        _ => "",
    }
}

// ---- progress ------------------------------------------------------------------

/// Progress of a long tool (`hashicorp_terraform_cloud_runs_wait`).
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// Seconds waited so far.
    pub progress: f64,
    /// The timeout in seconds.
    pub total: Option<f64>,
    /// E.g. `run run-abc is planning`.
    pub message: String,
}

pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

// ---- entry points --------------------------------------------------------------

/// Validate arguments and build the tool's upstream request, without any I/O
/// (what [`execute`] sends first). Useful for tests and dry runs.
pub fn prepare(tool: &ToolSpec, args: Map<String, Value>) -> Result<Request, ToolError> {
    let args = args::validate(tool, args)?;
    Request::build(tool, &args)
}

/// Argument validation alone (see [`crate::bench_api`]).
pub(crate) fn validate_args(tool: &ToolSpec, args: Map<String, Value>) -> Result<Args, ToolError> {
    args::validate(tool, args)
}

/// The `next_cursor` a list tool returns for `page` of the query `args`
/// (validated like a call's arguments). Useful for tests.
pub fn query_cursor(tool: &ToolSpec, args: Map<String, Value>, page: u64, page_size: u64) -> Result<String, ToolError> {
    Ok(args::validate(tool, args)?.cursor_for(tool, page, page_size))
}

/// Run one tool and return its flat, structured result.
pub async fn execute(client: &TfcClient<'_>, route: &Route, tool: &ToolSpec, args: Map<String, Value>) -> Result<Value, ToolError> {
    execute_with_progress(client, route, tool, args, None, budget::DEFAULT_MAX_RESULT_BYTES).await
}

/// [`execute`], reporting progress of long tools to `progress`, with the
/// gateway's result budget `max_result_bytes` (the route's own wins, see
/// [`budget::effective`]).
pub async fn execute_with_progress(
    client: &TfcClient<'_>,
    route: &Route,
    tool: &ToolSpec,
    args: Map<String, Value>,
    progress: Option<ProgressFn<'_>>,
    max_result_bytes: usize,
) -> Result<Value, ToolError> {
    let filter = ToolFilter::from_route(route);
    let grants = filter.grants();
    done(tool, run(client, Policy { route, filter: &filter, grants: &grants }, tool, args, progress, max_result_bytes, None).await?)
        .map(ToolAnswer::into_value)
}

/// [`execute_with_progress`] for a loaded route, whose tool filter and
/// grants were computed once when it was loaded (not on every call).
pub async fn execute_loaded(
    client: &TfcClient<'_>,
    loaded: &LoadedRoute,
    tool: &ToolSpec,
    args: Map<String, Value>,
    progress: Option<ProgressFn<'_>>,
    max_result_bytes: usize,
) -> Result<ToolAnswer, ToolError> {
    let policy = Policy { route: &loaded.route, filter: &loaded.filter, grants: &loaded.grants };
    done(tool, run(client, policy, tool, args, progress, max_result_bytes, None).await?)
}

/// A synchronous call always runs to its answer.
fn done(tool: &ToolSpec, poll: TaskPoll) -> Result<ToolAnswer, ToolError> {
    match poll {
        TaskPoll::Done(answer) => Ok(answer),
        TaskPoll::Working(_) => Err(ToolError::transport(format!("{} stopped before its answer", tool.name))),
    }
}

/// One poll of a long tool that runs as a task (`crate::tasks`), `waited`
/// after the task started: through the same checks as [`execute`] (tool
/// filter, arguments, organization allow-list, scope, result budget), with
/// the synchronous tool's answer once it would stop.
pub async fn poll_task(
    client: &TfcClient<'_>,
    loaded: &LoadedRoute,
    tool: &ToolSpec,
    args: Map<String, Value>,
    waited: std::time::Duration,
    max_result_bytes: usize,
) -> Result<TaskPoll, ToolError> {
    if !matches!(tool.handler, Handler::RunWait) {
        return Err(ToolError::invalid(format!("{} does not run as a task", tool.name)));
    }
    let policy = Policy { route: &loaded.route, filter: &loaded.filter, grants: &loaded.grants };
    run(client, policy, tool, args, None, max_result_bytes, Some(waited)).await
}

/// What one poll of a task found.
#[derive(Debug)]
pub enum TaskPoll {
    /// Still waiting; the run's status.
    Working(String),
    /// The tool's answer.
    Done(ToolAnswer),
}

/// A route's document and what it implies for every call: the tools it
/// exposes and the temporary URLs its results may keep.
#[derive(Clone, Copy)]
struct Policy<'a> {
    route: &'a Route,
    filter: &'a ToolFilter,
    grants: &'a Grants,
}

async fn run(
    client: &TfcClient<'_>,
    Policy { route, filter, grants }: Policy<'_>,
    tool: &ToolSpec,
    args: Map<String, Value>,
    progress: Option<ProgressFn<'_>>,
    max_result_bytes: usize,
    task_waited: Option<std::time::Duration>,
) -> Result<TaskPoll, ToolError> {
    // Callers look tools up through the route's filter; checked again here,
    // before the arguments (whose errors describe the tool), so no entry
    // point can run a tool the route hides: raw state without
    // `allowRawStateDownload`, a credential-minting tool without
    // `tools.include`...
    if !filter.allows(tool) {
        let message = if tool.requires_raw_state && !route.state.allow_raw_state_download {
            "this server does not allow raw state downloads".to_owned()
        } else {
            format!("this server does not expose {}", tool.name)
        };
        return Err(ToolError { message, status: None, rate_limit: None, kind: ToolErrorKind::Forbidden });
    }
    let args = args::validate(tool, args)?;
    let req = Request::build(tool, &args)?;
    // The organization allow-list: everything the call names (organization
    // names and ids) must belong to an allowed organization, established
    // before the tool's own request is sent.
    let scope = owners::check(client, route, tool, &args, &req).await?;
    // The project and workspace scope: everything the call names must be in
    // it (resolved to its workspace or project first).
    let confinement = scope::check(client, route, tool, &args, &req).await?;
    let result_budget = budget::effective(route.result_budget_bytes, max_result_bytes);
    let cx = Cx {
        client,
        route,
        tool,
        args: &args,
        req: &req,
        progress,
        scope: scope.as_deref(),
        confinement: &confinement,
        grants,
        result_budget,
    };
    let value = match tool.handler {
        Handler::Standard | Handler::Explorer => {
            let answer = if tool.handler == Handler::Explorer { explorer::query(&cx).await } else { handlers::standard(&cx).await };
            match answer {
                // A list written while parsed is already under every rule below.
                Ok(ToolAnswer::Written(written)) => return Ok(TaskPoll::Done(ToolAnswer::Written(written))),
                other => other.map(ToolAnswer::into_value),
            }
        }
        Handler::RunAction(action) => handlers::run_action(&cx, action).await,
        Handler::WorkspaceLock(action) => handlers::workspace_lock(&cx, action).await,
        Handler::WorkspaceSafeDelete => handlers::workspace_safe_delete(&cx).await,
        Handler::CurrentStateVersion => handlers::current_state_version(&cx).await,
        Handler::StateDownload => handlers::state_download(&cx).await,
        Handler::RunWait => match task_waited {
            None => run_wait::run_wait(&cx).await,
            Some(waited) => match run_wait::poll(&cx, waited).await {
                Ok(run_wait::Poll::Working(status)) => return Ok(TaskPoll::Working(status)),
                Ok(run_wait::Poll::Done(value)) => Ok(value),
                Err(e) => Err(e),
            },
        },
        Handler::Logs(kind) => handlers::logs(&cx, kind).await,
        Handler::PlanResourceChanges => handlers::plan_resource_changes(&cx).await,
        Handler::CreatePolicy => handlers::policy_with_code(&cx).await,
        Handler::WorkspaceReadme => readme::workspace_readme(&cx).await,
        Handler::AssessmentDrift => assessments::drift(&cx).await,
        Handler::AssessmentLogs => assessments::logs(&cx).await,
        Handler::Registry(op) => registry::call(&cx, op).await,
        Handler::TeamUsers => team_users::team_users(&cx).await,
        Handler::Conflict(why) => handlers::conflict_explained(&cx, why).await,
    }
    .map_err(|e| redact_secret_arguments(e, tool, &args))?;
    let mut value = value;
    // Scoped servers: what the answer holds outside the scope is dropped.
    scope::filter_result(&cx, &mut value).await?;
    if let Some(fields) = &args.fields {
        shape::project(&mut value, fields);
    }
    // Every tool's answer passes the result budget here, and only here.
    let cursor = |page: u64, page_size: u64| args.cursor_for(tool, page, page_size);
    let cursor: Option<budget::CursorFn<'_>> = tool.is_paged().then_some(&cursor as budget::CursorFn<'_>);
    Ok(TaskPoll::Done(ToolAnswer::Tree(budget::fit(value, result_budget, cursor))))
}

/// Everything a handler needs.
pub(crate) struct Cx<'c, 'a> {
    pub client: &'c TfcClient<'a>,
    pub route: &'c Route,
    pub tool: &'c ToolSpec,
    pub args: &'c Args,
    pub req: &'c Request,
    pub progress: Option<ProgressFn<'c>>,
    /// The one allowed organization everything the call names belongs to
    /// (only on servers with an allow-list).
    pub scope: Option<&'c str>,
    /// What the call is confined to on a server with a project and
    /// workspace scope.
    pub(crate) confinement: &'c scope::Confinement,
    /// The temporary URLs this route's results may keep.
    pub grants: &'c Grants,
    /// The result budget of this call (bytes of compact JSON).
    pub result_budget: usize,
}

impl Cx<'_, '_> {
    /// Send the tool's own request.
    pub async fn send(&self) -> Result<ApiResponse, ToolError> {
        self.client.api(self.tool.verb, &self.req.path, &self.req.query, self.req.body.as_ref()).await
    }

    /// Send the tool's own request for an answer [`Cx::flatten_answer`]
    /// takes: a successful answer's text is left unparsed when it can be
    /// flattened while parsed.
    pub async fn send_answer(&self) -> Result<ApiResponse, ToolError> {
        if self.route.scope.is_some() {
            return self.send().await;
        }
        self.client.api_unparsed(self.tool.verb, &self.req.path, &self.req.query, self.req.body.as_ref()).await
    }

    /// The flattened form of a successful answer: flattened while parsed
    /// from `resp.unparsed` when possible, else from the parsed tree (which
    /// is then left in `resp.body`, the text's excerpt in `text_excerpt`).
    /// `None` when the answer is not a document with `data`.
    pub fn flatten_answer(&self, resp: &mut ApiResponse) -> Option<Value> {
        if let Some(text) = resp.unparsed.take() {
            if let Some(v) = self.flatten_text(&text) {
                return Some(v);
            }
            (resp.body, resp.text_excerpt) = crate::upstream::parsed_body(&text);
        }
        match resp.body.take() {
            Some(doc) if doc.get("data").is_some() => Some(self.flatten(doc)),
            other => {
                resp.body = other;
                None
            }
        }
    }

    /// [`Cx::flatten`] of an answer's text, flattened while parsed; owners
    /// are remembered from the document's skeleton. A server with a scope
    /// (which remembers from attributes too) always takes the tree.
    fn flatten_text(&self, text: &[u8]) -> Option<Value> {
        if self.route.scope.is_some() {
            return None;
        }
        let base = self.client.address();
        if self.route.organizations.is_empty() {
            return flatten_answer_text(text, base, self.route, self.tool, self.args, self.grants);
        }
        let (page, size) = (self.args.page_number, self.args.page_size);
        let (mut v, skeleton) = crate::jsonapi_parse::flatten_text_with_skeleton(text, base, page, size, self.grants)?;
        owners::learn_from_skeletons(self.client, &skeleton, self.scope);
        rules_of_answer(&mut v, self.route, self.tool, self.args);
        Some(v)
    }

    /// An answer written while parsed (see [`written_answer`]), when this
    /// call's answer goes out as the direct path writes it and no later
    /// step needs a tree: no scope to filter by, no `fields` to project, no
    /// summary text. `None` leaves `resp` as it was, for
    /// [`Cx::flatten_answer`].
    pub fn written_answer(&self, resp: &ApiResponse) -> Option<WrittenAnswer> {
        if !crate::mcp::answers_are_written_directly()
            || self.route.scope.is_some()
            || self.args.fields.is_some()
            || crate::mcp::summarises(self.route)
        {
            return None;
        }
        let text = resp.unparsed.as_deref()?;
        let learn = |skeletons: &[jsonapi_parse::Skeleton<Cow<'_, str>>]| owners::learn_from_skeletons(self.client, skeletons, self.scope);
        let place = Place { base: self.client.address(), route: self.route, tool: self.tool, args: self.args, grants: self.grants };
        written_answer(text, place, self.result_budget, learn)
    }

    /// GET another API path (already encoded) and fail on error statuses.
    pub async fn get_ok(&self, path: &str, query: &[(String, String)]) -> Result<ApiResponse, ToolError> {
        let resp = self.client.api(Verb::Get, path, query, None).await?;
        if resp.is_success() { Ok(resp) } else { Err(ToolError::from_response(&resp, Verb::Get, path, None)) }
    }

    pub fn error(&self, resp: &ApiResponse, explanation: Option<&str>) -> ToolError {
        ToolError::from_response(resp, self.tool.verb, &self.req.path, explanation)
    }

    /// Remember the owners of what an answer contains (servers with an
    /// allow-list only), so later calls naming them need no lookup.
    pub fn learn(&self, doc: &Value) {
        if !self.route.organizations.is_empty() {
            owners::learn(self.client, doc, self.scope);
        }
        if self.route.scope.is_some() {
            scope::learn(self.client, doc, self.confinement.anchor.as_ref());
        }
    }

    /// Flatten a document and apply the server's output rules.
    pub fn flatten(&self, doc: Value) -> Value {
        self.learn(&doc);
        flatten_answer(doc, self.client.address(), self.route, self.tool, self.args, self.grants)
    }
}

/// A document flattened under the server's output rules, with a list's
/// `next_cursor` bound to this call's query (no I/O: what [`Cx::flatten`]
/// does after remembering owners).
pub(crate) fn flatten_answer(doc: Value, base: Option<&url::Url>, route: &Route, tool: &ToolSpec, args: &Args, grants: &Grants) -> Value {
    let mut v = jsonapi::flatten_document_owned(doc, base, args.page_number, args.page_size, grants);
    rules_of_answer(&mut v, route, tool, args);
    v
}

/// [`flatten_answer`] of an answer's text, flattened while parsed, on a
/// server that remembers no owners; `None` when it must be parsed as a tree
/// (see [`crate::jsonapi_parse`]).
pub(crate) fn flatten_answer_text(
    text: &[u8],
    base: Option<&url::Url>,
    route: &Route,
    tool: &ToolSpec,
    args: &Args,
    grants: &Grants,
) -> Option<Value> {
    let mut v = crate::jsonapi_parse::flatten_text(text, base, args.page_number, args.page_size, grants)?;
    rules_of_answer(&mut v, route, tool, args);
    Some(v)
}

/// What an answer is flattened for: the upstream's address, the route, the
/// tool and the call's arguments, the temporary URLs the route keeps.
#[derive(Clone, Copy)]
pub(crate) struct Place<'a> {
    pub base: Option<&'a url::Url>,
    pub route: &'a Route,
    pub tool: &'a ToolSpec,
    pub args: &'a Args,
    pub grants: &'a Grants,
}

/// An answer `text` written while parsed, as the tree's path answers it
/// (flattened, output rules, cursor, allow-list, within `result_budget`),
/// owners `learn`ed from its skeletons on a server with an allow-list: a
/// read tool's list, or a tool's one resource when the tool does not page.
/// `None` for anything else, for a resource of an organization the server
/// does not allow (the tree's path refuses it), and for an answer over the
/// budget (the tree's path trims it).
pub(crate) fn written_answer(
    text: &[u8],
    Place { base, route, tool, args, grants }: Place<'_>,
    result_budget: usize,
    learn: impl FnOnce(&[jsonapi_parse::Skeleton<Cow<'_, str>>]),
) -> Option<WrittenAnswer> {
    let read = tool.method.is_read();
    if tool.is_paged() && !read {
        return None;
    }
    let allow_list = !route.organizations.is_empty();
    // What a read tool's answer holds of other organizations is held back.
    let enforced = allow_list && read;
    let rules = written::OutputRules { reveal_sensitive_outputs: route.state.reveal_sensitive_outputs, record_organizations: enforced };
    let (mut written, skeletons) = written::flatten_document(text, base, args.page_number, args.page_size, grants, &rules, allow_list)?;
    if allow_list {
        learn(&skeletons);
    }
    if let Some(organization) = written.resource_organization() {
        if tool.is_paged() || (enforced && organization.is_some_and(|o| !org_allowed(route, o))) {
            return None;
        }
    } else if let Some(envelope) = written.envelope_mut().filter(|_| read) {
        bind_cursor(envelope, tool, args);
    } else {
        return None;
    }
    if enforced {
        written.retain_organizations(|o| org_allowed(route, o));
    }
    let answer = written.finish();
    (answer.structured_len() <= result_budget.max(budget::MIN_RESULT_BYTES)).then_some(answer)
}

/// The server's output rules on a flattened answer, and a list's cursor.
fn rules_of_answer(v: &mut Value, route: &Route, tool: &ToolSpec, args: &Args) {
    postprocess(v, route);
    if let Value::Object(m) = v {
        bind_cursor(m, tool, args);
    }
}

/// Replace a list's `next_cursor` with one that carries this call's query
/// (page size and filters), so the cursor alone fetches exactly the next
/// page of the same listing.
fn bind_cursor(m: &mut Map<String, Value>, tool: &ToolSpec, args: &Args) {
    if !tool.is_paged() {
        return;
    }
    let pagination = m.get("pagination");
    let next = pagination.and_then(|p| p.get("next_page")).and_then(Value::as_u64);
    // The size HCP Terraform paged with (page numbers count in it).
    let size = pagination
        .and_then(|p| p.get("page_size"))
        .and_then(Value::as_u64)
        .or(args.page_size)
        .unwrap_or(crate::catalog::DEFAULT_PAGE_SIZE)
        .clamp(1, crate::catalog::MAX_PAGE_SIZE);
    if let Some(next) = next.filter(|_| m.get("next_cursor").is_some_and(|c| !c.is_null())) {
        m.insert("next_cursor".into(), json!(args.cursor_for(tool, next, size)));
    }
}

// ---- request building ----------------------------------------------------------

/// The upstream request of a tool call.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// Encoded path below `/api/v2`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Request {
    pub(crate) fn build(tool: &ToolSpec, args: &Args) -> Result<Self, ToolError> {
        let path =
            tool.paths.iter().find_map(|tpl| render_path(tpl, args)).ok_or_else(|| ToolError::invalid(missing_path_message(tool)))?;

        let mut query = Vec::new();
        for p in &tool.params {
            match (p.loc, args.get(p.name)) {
                (Loc::Query(api), Some(Value::Array(filters))) if p.kind == Kind::FilterList => {
                    // filter[i][field][operator][0]=value (the Explorer's documented form).
                    for (i, f) in filters.iter().enumerate() {
                        let field = f.get("field").and_then(Value::as_str).unwrap_or_default();
                        let op = f.get("operator").and_then(Value::as_str).unwrap_or_default();
                        let value = f.get("value").map(query_value).unwrap_or_default();
                        query.push((format!("{api}[{i}][{field}][{op}][0]"), value));
                    }
                }
                (Loc::Query(api), Some(v)) => query.push((api.to_owned(), query_value(v))),
                (Loc::TagFilter(api), Some(_)) => {
                    // Validated by `args::validate`: `key` or `key:value`.
                    for (i, item) in args.strings(p.name).into_iter().enumerate() {
                        let (key, value) = match item.split_once(':') {
                            Some((k, v)) => (k, Some(v)),
                            None => (item, None),
                        };
                        query.push((format!("{api}[{i}][key]"), key.to_owned()));
                        if let Some(value) = value {
                            query.push((format!("{api}[{i}][value]"), value.to_owned()));
                        }
                    }
                }
                _ => {}
            }
        }
        if tool.is_paged() {
            if let Some(n) = args.page_number {
                query.push(("page[number]".into(), n.to_string()));
            }
            if let Some(s) = args.page_size {
                query.push(("page[size]".into(), s.to_string()));
            }
        }
        // Built from validated names only (identifiers, declared includes):
        // nothing a caller passes reaches the query string as is.
        query.extend(shape::include_query(args));
        query.extend(shape::sparse_query(tool, args));

        let body = match tool.body {
            Body::None => None,
            Body::Resource(type_) => {
                let mut attributes = Map::new();
                let mut relationships = Map::new();
                for p in &tool.params {
                    let Some(v) = args.get(p.name) else { continue };
                    match p.loc {
                        Loc::Attr(api) => {
                            let v = if p.kind == Kind::Object { jsonapi::kebab_keys(v) } else { v.clone() };
                            attributes.insert(api.to_owned(), v);
                        }
                        // Related records created with the resource (tag
                        // bindings): `{"data": [{"type", "attributes"}]}`;
                        // variables get their category and flags below.
                        Loc::Rel { rel, type_ } if p.kind == Kind::KeyValueList && type_ != "vars" => {
                            relationships.insert(rel.to_owned(), json!({"data": tag_binding_items(type_, v)}));
                        }
                        Loc::Rel { rel, type_ } => {
                            let r = match v {
                                // New records inline (the variables of a no-code workspace).
                                Value::Array(pairs) if p.kind == Kind::KeyValueList => inline_variables(type_, pairs),
                                Value::Array(ids) => jsonapi::to_many(type_, ids.iter().filter_map(Value::as_str)),
                                Value::String(id) => jsonapi::to_one(type_, id),
                                _ => continue,
                            };
                            relationships.insert(rel.to_owned(), r);
                        }
                        _ => {}
                    }
                }
                // The documented update payloads of some resources name them.
                let id = tool.body_id.and_then(|p| args.str(p)).map(str::trim);
                Some(jsonapi::resource_document(type_, id, attributes, relationships))
            }
            Body::Plain => {
                let mut m = Map::new();
                for p in &tool.params {
                    if let (Loc::Body(api), Some(v)) = (p.loc, args.get(p.name)) {
                        m.insert(api.to_owned(), v.clone());
                    }
                }
                (!m.is_empty()).then_some(Value::Object(m))
            }
            Body::RelationshipList { type_, param } => {
                let ids = args.strings(param);
                if ids.is_empty() {
                    return Err(ToolError::invalid(format!("argument `{param}` must list at least one id")));
                }
                Some(jsonapi::to_many(type_, ids))
            }
            Body::Tags => {
                let mut data: Vec<Value> =
                    args.strings("tag_names").into_iter().map(|n| json!({"type": "tags", "attributes": {"name": n}})).collect();
                data.extend(args.strings("tag_ids").into_iter().map(|id| json!({"type": "tags", "id": id})));
                if data.is_empty() {
                    let names = if tool.param("tag_ids").is_some() { "`tag_names` or `tag_ids`" } else { "`tag_names`" };
                    return Err(ToolError::invalid(format!("give at least one tag in {names}")));
                }
                Some(json!({ "data": data }))
            }
            Body::TagBindings => {
                let v = args.get("tag_bindings").filter(|v| v.as_array().is_some_and(|a| !a.is_empty()));
                let v = v.ok_or_else(|| ToolError::invalid("argument `tag_bindings` must list at least one {key, value}".into()))?;
                Some(json!({ "data": tag_binding_items("tag-bindings", v) }))
            }
            Body::Fixed(doc) => {
                Some(serde_json::from_str(doc).map_err(|_| ToolError::transport(format!("{}: bad fixed body", tool.name)))?)
            }
        };
        Ok(Self { path, query, body })
    }
}

/// `{"data": [{"type", "attributes": {key, value, category, hcl, sensitive}}]}`
/// from `{key, value}` pairs: Terraform variables created with the resource
/// (the documented no-code workspace payload).
fn inline_variables(type_: &str, pairs: &[Value]) -> Value {
    let data: Vec<Value> = pairs
        .iter()
        .map(|kv| {
            json!({"type": type_, "attributes": {
                "key": kv.get("key"), "value": kv.get("value"), "category": "terraform", "hcl": false, "sensitive": false,
            }})
        })
        .collect();
    json!({ "data": data })
}

/// `[{"type", "attributes": {"key", "value"}}]` from a validated
/// `[{key, value}]` argument.
fn tag_binding_items(type_: &str, v: &Value) -> Vec<Value> {
    v.as_array()
        .map(|a| a.iter().map(|i| json!({"type": type_, "attributes": {"key": i["key"], "value": i["value"]}})).collect())
        .unwrap_or_default()
}

/// Fill a path template; `None` when a placeholder has no argument.
fn render_path(template: &str, args: &Args) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}')? + start;
        let name = &rest[start + 1..end];
        let value = args.str(name)?.trim();
        if value.is_empty() {
            return None;
        }
        out.push_str(&encode_segment(value));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn placeholders(template: &str) -> Vec<&str> {
    template.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(n, _)| n)).collect()
}

fn missing_path_message(tool: &ToolSpec) -> String {
    let alternatives: Vec<String> = tool
        .paths
        .iter()
        .map(|t| placeholders(t).iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(" and "))
        .filter(|s| !s.is_empty())
        .collect();
    format!("{} needs {}", tool.name, alternatives.join(", or "))
}

/// Percent-encode one path segment (everything but RFC 3986 unreserved).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(query_value).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

// ---- organization allow-list and output rules ------------------------------------

pub(crate) fn org_allowed(route: &Route, org: &str) -> bool {
    route.organizations.is_empty() || route.organizations.iter().any(|o| o.trim().eq_ignore_ascii_case(org.trim()))
}

/// The organization a flat resource belongs to, when it says.
fn org_of(resource: &Value) -> Option<&str> {
    if resource.get("type").and_then(Value::as_str) == Some("organizations") {
        return resource.get("id").and_then(Value::as_str);
    }
    resource.get("organization_name").and_then(Value::as_str)
}

/// Apply the server's output rules to a flat result: hide sensitive output
/// values unless allowed, recursively through `results` and `included`.
/// (Temporary URLs are already dropped by the flattening, see
/// [`jsonapi::CAPABILITY_ATTRIBUTES`].)
pub(crate) fn postprocess(v: &mut Value, route: &Route) {
    let Value::Object(m) = v else { return };
    for key in ["results", "included"] {
        if let Some(Value::Array(items)) = m.get_mut(key) {
            for i in items {
                postprocess(i, route);
            }
        }
    }
    // A sensitive variable's value is write-only: HCP Terraform answers
    // without it, and nothing else may put it back (an upstream that echoes
    // it, an argument copied into a result).
    if m.get("type").and_then(Value::as_str) == Some("vars")
        && m.get("sensitive").and_then(Value::as_bool) == Some(true)
        && m.contains_key("value")
    {
        m.insert("value".into(), Value::Null);
    }
    // A run task's HMAC key is write-only too (HCP Terraform answers null).
    if m.get("type").and_then(Value::as_str) == Some("tasks") {
        m.remove("hmac_key");
    }
    // Outputs also come as a workspace's included `outputs` (`workspace-outputs`).
    if matches!(m.get("type").and_then(Value::as_str), Some("state-version-outputs" | "workspace-outputs"))
        && !route.state.reveal_sensitive_outputs
        && m.get("sensitive").and_then(Value::as_bool) == Some(true)
    {
        m.insert("value".into(), json!(SENSITIVE_MARKER));
    }
}

/// Shortest secret argument value that is redacted from error messages
/// (shorter ones would garble the message and are no secret worth the name).
const MIN_REDACTED_LEN: usize = 4;

/// An error message never repeats a secret argument (a variable's value, a
/// run task's HMAC key, an SSH key), even when HCP Terraform's error detail
/// quotes what it was sent.
fn redact_secret_arguments(mut e: ToolError, tool: &ToolSpec, args: &Args) -> ToolError {
    for p in tool.params.iter().filter(|p| p.secret) {
        let mut values: Vec<&str> = Vec::new();
        match args.get(p.name) {
            Some(Value::String(s)) => values.push(s),
            Some(Value::Array(items)) => {
                values.extend(items.iter().filter_map(|i| i.get("value").and_then(Value::as_str).or_else(|| i.as_str())))
            }
            _ => {}
        }
        for v in values.into_iter().filter(|v| v.len() >= MIN_REDACTED_LEN) {
            if e.message.contains(v) {
                e.message = e.message.replace(v, "<redacted>");
            }
        }
    }
    e
}

/// For read tools on a server with an organization allow-list: drop list
/// results of other organizations, and refuse a single resource of another
/// organization (as "not found"). A second line of defence: what a call
/// names is checked before it is sent ([`owners::check`]).
pub(crate) fn enforce_org_on_result(cx: &Cx<'_, '_>, v: &mut Value) -> Result<(), ToolError> {
    if other_organizations_held_back(cx.route, cx.tool, v) {
        Ok(())
    } else {
        Err(ToolError::organization_not_allowed(cx.tool.verb, &cx.req.path))
    }
}

/// [`enforce_org_on_result`]'s rule: false for a single resource of another
/// organization (refused), else true once what `v` holds of other
/// organizations is dropped.
fn other_organizations_held_back(route: &Route, tool: &ToolSpec, v: &mut Value) -> bool {
    if route.organizations.is_empty() || !tool.method.is_read() || drop_other_organizations(route, v) {
        return true;
    }
    org_of(v).is_none_or(|o| org_allowed(route, o))
}

/// Drops the items of a list (`results`) and the included records of
/// organizations the route does not allow. True when `v` is a list.
fn drop_other_organizations(route: &Route, v: &mut Value) -> bool {
    // Included records of another organization never show either.
    if let Some(Value::Array(items)) = v.get_mut("included") {
        items.retain(|r| org_of(r).is_none_or(|o| org_allowed(route, o)));
    }
    if let Some(Value::Array(items)) = v.get_mut("results") {
        items.retain(|r| org_of(r).is_none_or(|o| org_allowed(route, o)));
        return true;
    }
    false
}

/// The result of a successful call without a body (202/204).
pub(crate) fn empty_success(cx: &Cx<'_, '_>) -> Value {
    let mut m = Map::new();
    for p in &cx.tool.params {
        if p.loc == Loc::Path
            && let Some(v) = cx.args.get(p.name)
        {
            m.insert(p.name.to_owned(), v.clone());
        }
    }
    match cx.tool.method {
        Method::Delete => {
            m.insert("deleted".into(), json!(true));
        }
        Method::Custom | Method::Observe => {
            let action = cx.tool.name.strip_prefix("hashicorp_terraform_cloud_").unwrap_or(cx.tool.name);
            m.insert("action".into(), json!(action));
            m.insert("accepted".into(), json!(true));
        }
        _ => {
            m.insert("ok".into(), json!(true));
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes the direct path answers for `text`: through the tree's
    /// path (flattened, rules, allow-list, budget, `tool_response`; `None`
    /// when the allow-list refuses it), and written while parsed when that
    /// path takes it.
    fn answers(text: &[u8], place: Place<'_>, result_budget: usize) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        use crate::{direct_call::tool_response, mcp};
        let Place { base, route, tool, args, grants } = place;
        let id = rmcp::model::RequestId::Number(1);
        let mut v = flatten_answer_text(text, base, route, tool, args, grants)
            .unwrap_or_else(|| flatten_answer(crate::answer_json::parse(text).expect("JSON"), base, route, tool, args, grants));
        let tree = other_organizations_held_back(route, tool, &mut v).then(|| {
            let cursor = |page: u64, page_size: u64| args.cursor_for(tool, page, page_size);
            let cursor: Option<budget::CursorFn<'_>> = tool.is_paged().then_some(&cursor as budget::CursorFn<'_>);
            let v = budget::fit(v, budget::effective(None, result_budget), cursor);
            mcp::TEXT_FROM_STRUCTURED.sync_scope(Default::default(), || tool_response(&id, &mcp::structured_result(v), None))
        });
        let written = written_answer(text, place, budget::effective(None, result_budget), |_| {}).map(|written| {
            mcp::TEXT_FROM_STRUCTURED.sync_scope(Default::default(), || {
                let result = mcp::structured_answer(ToolAnswer::Written(written));
                let written = mcp::TEXT_FROM_STRUCTURED.with(|slot| slot.take());
                assert!(written.is_some(), "the written answer waits for the direct path");
                tool_response(&id, &result, written.as_ref())
            })
        });
        (tree, written)
    }

    fn list_routes() -> Vec<Route> {
        let route = |extra: Value| {
            let mut doc = json!({
                "version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": "https://app.terraform.io", "methods": ["read"]
            });
            doc.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            serde_json::from_value::<Route>(doc).expect("route")
        };
        vec![
            route(json!({})),
            route(json!({"organizations": ["acme-corp", " Other-Org "]})),
            route(json!({"organizations": ["nobody"]})),
            route(json!({"state": {"revealSensitiveOutputs": true, "allowRawStateDownload": false}})),
        ]
    }

    /// The tools an answer is written for, each with its arguments: a list
    /// (which pages), a get (which does not), a create (a write).
    fn tools_and_arguments() -> Vec<(&'static ToolSpec, Value)> {
        let tool = |name: &str| crate::catalog::catalog().get(name).expect("tool");
        vec![
            (tool("list_all_hashicorp_terraform_cloud_workspaces"), json!({"organization_name": "acme-corp"})),
            (
                tool("list_all_hashicorp_terraform_cloud_workspaces"),
                json!({"organization_name": "acme-corp", "page_number": 2, "page_size": 3, "search_name": "x"}),
            ),
            (tool("get_single_hashicorp_terraform_cloud_run_by_id"), json!({"run_id": "run-1"})),
            (tool("create_a_hashicorp_terraform_cloud_workspace"), json!({"organization_name": "acme-corp", "name": "w"})),
        ]
    }

    /// Every way of answering `text` written while parsed gives the bytes
    /// the tree's path gives, or is left to it; how many were written.
    fn written_agrees(text: &[u8]) -> usize {
        let base = url::Url::parse("https://app.terraform.io/").expect("url");
        let grants = [Grants::NONE, Grants { log_read_types: vec!["plans"], raw_state: true }];
        let mut written = 0;
        for route in list_routes() {
            for grants in &grants {
                for (tool, arguments) in tools_and_arguments() {
                    let args = args::validate(tool, arguments.as_object().unwrap().clone()).expect("arguments");
                    for budget in [64 * 1024, 4096] {
                        let place = Place { base: Some(&base), route: &route, tool, args: &args, grants };
                        let (tree, ours) = answers(text, place, budget);
                        if let Some(ours) = ours {
                            let tree = tree
                                .unwrap_or_else(|| panic!("written, but the tree's path refuses it: {}", String::from_utf8_lossy(text)));
                            assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&tree), "{}", String::from_utf8_lossy(text));
                            written += 1;
                        }
                    }
                }
            }
        }
        written
    }

    /// The ways [`written_agrees`] writes a list: 4 routes, 2 grant sets, 2
    /// budgets, 3 read tools and arguments (a create's list goes to the tree).
    const LIST_WAYS: usize = 4 * 2 * 2 * 3;

    #[test]
    fn every_recorded_answer_is_written_as_the_tree_answers_it() {
        let (mut lists, mut resources) = (0, 0);
        for (name, text) in crate::test_samples::recorded_documents() {
            let Ok(doc) = crate::answer_json::parse(&text) else { continue };
            let written = written_agrees(&text);
            match doc.get("data") {
                Some(Value::Array(_)) => lists += usize::from(written > 0),
                Some(Value::Object(_)) => resources += usize::from(written > 0),
                _ => assert_eq!(written, 0, "{name}: neither a list nor a resource"),
            }
        }
        assert!(lists > 50, "{lists} recorded lists written");
        assert!(resources > 50, "{resources} recorded resources written");
        // The benchmark's page and run (from the simulator).
        assert!(written_agrees(include_bytes!("../../benches/fixtures/workspaces-page.json")) > 0);
        assert!(written_agrees(include_bytes!("../../benches/fixtures/run.json")) > 0);
    }

    /// Resources of one answer whose keys come in other orders, at other
    /// depths, made snake_case in one and kept as sent in another (under
    /// `value`), escaped in the text or not: written as the tree writes them.
    #[test]
    fn keys_that_differ_between_resources_are_written_as_the_tree_writes_them() {
        // Written by hand: the keys' order is the point.
        let (long, longer) = ("k-".repeat(32), format!("{}x", "k-".repeat(32)));
        let text = format!(
            r#"{{"data": [
            {{"type": "runs", "id": "r1", "attributes": {{"a-b": {{"c-d": 1, "e-f": [{{"g-h": 2}}]}}, "value": {{"x-y": 1}}, "{long}": 1}}}},
            {{"type": "runs", "id": "r2", "attributes": {{"value": {{"c-d": 1, "e-f": [{{"g-h": 2}}]}}, "a-b": {{"x-y": 1}}, "{longer}": 2}}}},
            {{"type": "runs", "id": "r3", "attributes": {{"a-b": {{"c-d": 1, "e-f": [{{"g-h": 2}}]}}, "value": {{"x-y": 1}}, "{long}": 3}}}},
            {{"type": "runs", "id": "r4", "attributes": {{"a-b": {{"c-dd": 1, "e-f": [{{"g-h": 2, "i-j": 3}}]}}, "value": {{"x-y": 1, "z": {{"z-z": 1}}}}}}}},
            {{"type": "runs", "id": "r5", "attributes": {{"a.b-c": 1, "c-d": {{"e-f": 2}}}}}},
            {{"type": "runs", "id": "r6", "attributes": {{"a-b": 1, "c-d": {{"e-f": 2}}}}}},
            {{"type": "runs", "id": "r7", "attributes": {{"\u0061-b": 1, "c-d": {{"e-f": 2}}}}}}
        ]}}"#
        );
        // Twice: a thread keeps its scratch for the next answer.
        for _ in 0..2 {
            assert!(written_agrees(text.as_bytes()) > 0);
        }
    }

    /// A list's resources alike, or nearly: an attribute sent as the one in
    /// its place before is copied, not written again; every way that copy
    /// could be wrong is here, and written as the tree writes it.
    /// The page and the run, reformatted, with other values and escapes,
    /// and broken at many places: each is written as the tree's path
    /// answers it, or left to it (and what is not JSON is never written).
    #[test]
    fn reformatted_and_broken_answers_are_written_as_the_tree_writes_them_or_refused() {
        let page = include_str!("../../benches/fixtures/workspaces-page.json");
        let run = include_str!("../../benches/fixtures/run.json");
        let route = &list_routes()[1];
        let ways: Vec<_> = tools_and_arguments()
            .into_iter()
            .take(3)
            .map(|(tool, arguments)| (tool, args::validate(tool, arguments.as_object().unwrap().clone()).expect("arguments")))
            .collect();
        let base = url::Url::parse("https://app.terraform.io/").expect("url");
        let agrees = |text: &str| {
            let mut written = 0;
            for (tool, args) in &ways {
                let place = Place { base: Some(&base), route, tool, args, grants: &Grants::NONE };
                if serde_json::from_str::<Value>(text).is_err() {
                    assert!(written_answer(text.as_bytes(), place, 64 * 1024, |_| {}).is_none(), "not JSON, written: {text}");
                    continue;
                }
                let (tree, ours) = answers(text.as_bytes(), place, 64 * 1024);
                if let Some(ours) = ours {
                    assert_eq!(Some(String::from_utf8_lossy(&ours)), tree.as_deref().map(String::from_utf8_lossy), "{text}");
                    written += 1;
                }
            }
            written
        };
        let pretty = |text: &str| serde_json::to_string_pretty(&serde_json::from_str::<Value>(text).unwrap()).unwrap();
        let other_values = page
            .replace(r#"":false,"#, r#"":-0.0,"#)
            .replace(r#"":null,"#, r#"":1E2,"#)
            .replace(r#"":true,"#, r#"":"\u00e9\/\n\ud83d\ude00","#)
            .replace(r#""id":"ws-"#, r#""id":"w\u0073-"#)
            .replace(r#""name":"#, r#""na\u006de":"#)
            .replace(r#""type":"organizations""#, r#""type":"organization\u0073""#);
        for text in [pretty(page), pretty(run), other_values.clone(), pretty(&other_values)] {
            assert!(agrees(&text) > 0, "written: {text}");
        }
        // What a resource's links give, whatever they hold.
        for links in [
            r#"{"self-html":1}"#,
            "[]",
            "null",
            r#"{"inherited-from":"/api/v2/projects/prj-1","self":"/x","self-html":"/app/a/b"}"#,
            r#"{"self-html":"\/app\/x"}"#,
            r#"{"self-html":"app/x"}"#,
            r#"{"self-html":"//evil.example/x"}"#,
            r#"{"inherited-from":{"id":"x"}}"#,
        ] {
            let text = format!(
                r#"{{"data":[{{"type":"workspaces","id":"ws-1","links":{links}}},{{"type":"workspaces","id":"ws-2","links":{links}}}]}}"#
            );
            assert!(agrees(&text) > 0, "written: {text}");
        }
        // Broken: a byte left out, doubled, a quote or a comma put in, at
        // about 120 places of the run and of the page.
        for body in [run, page] {
            for at in (0..body.len()).step_by(body.len() / 120 + 1) {
                let (head, tail) = body.split_at(at);
                for broken in [
                    format!("{head}{}", &tail[1..]),
                    format!("{head}{}{tail}", &tail[..1]),
                    format!("{head}\"{tail}"),
                    format!("{head},{tail}"),
                ] {
                    agrees(&broken);
                }
            }
        }
    }

    #[test]
    fn resources_alike_are_written_as_the_tree_writes_them() {
        let text = r#"{"data": [
            {"type": "plans", "id": "p1", "attributes": {"log-read-url": "https://x/l", "o-b": {"z-z": 1, "a-a": [null, {"y": 2, "b": 3}]}, "value": {"k-k": 1}, "n": null, "s": "a\"b\u00e9", "f": 1.50}},
            {"type": "plans", "id": "p2", "attributes": {"log-read-url": "https://x/l", "o-b": {"z-z": 1, "a-a": [null, {"y": 2, "b": 3}]}, "value": {"k-k": 1}, "n": null, "s": "a\"b\u00e9", "f": 1.50}},
            {"type": "applies", "id": "a1", "attributes": {"log-read-url": "https://x/l", "o-b": {"z-z": 1, "a-a": [null, {"y": 2, "b": 3}]}, "value": {"k-k": 1}, "n": null, "s": "a\"b\u00e9", "f": 1.50}},
            {"type": "applies", "id": "a2", "attributes": {"log-read-url": "https://x/l", "o-b": {"z-z":1,"a-a":[null,{"y":2,"b":3}]}, "value": {"k-k": 2}, "n": 0, "s": "a\"b\u00e9", "f": 1.5}},
            {"type": "applies", "id": "a3", "attributes": {"o-b": {"z-z": 1, "a-a": [null, {"y": 2, "b": 3}]}, "log-read-url": "https://x/l", "k-k": {"k-k": 1}, "value": {"k-k": 1}, "n": null}},
            {"type": "applies", "id": "a4", "attributes": {"\u006f-b": {"z-z": 1}, "log-read-url": "https://x/l", "k-k": {"k-k": 1}, "value": {"k-k": 1}, "n": null}},
            {"type": "applies", "id": "a5", "attributes": {"o-b": {"z-z": 1}, "log-read-url": "https://x/l", "k-k": {"k-k": 1}, "value": {"k-k": 1}, "n": null}},
            {"type": "vars", "id": "v1", "attributes": {"key": "k", "value": "secret", "sensitive": false}},
            {"type": "vars", "id": "v2", "attributes": {"key": "k", "value": "secret", "sensitive": true}},
            {"type": "vars", "id": "v3", "attributes": {"key": "k", "value": "secret", "sensitive": false}},
            {"type": "plans", "id": "p3", "attributes": {"log-read-url": "https://x/l"}},
            {"type": "plans", "id": "p4", "attributes": {"log-read-url": "https://x/l", "o-b": {"a": 1, "a": 2}}}
        ]}"#;
        // The last resource repeats a key (the tree keeps the last): the
        // whole answer goes to the tree.
        assert_eq!(written_agrees(text.as_bytes()), 0);
        let alike = text.replace(r#", "o-b": {"a": 1, "a": 2}"#, "");
        // Twice: a thread keeps its scratch for the next answer.
        for _ in 0..2 {
            assert_eq!(written_agrees(alike.as_bytes()), LIST_WAYS);
        }
        // Where a plan's log URL shows and an apply's does not (the grants
        // name plans' logs only), and a sensitive variable's value does not.
        let base = url::Url::parse("https://app.terraform.io/").expect("url");
        let tool = crate::catalog::catalog().get("list_all_hashicorp_terraform_cloud_workspaces").expect("tool");
        let args = args::validate(tool, json!({"organization_name": "acme-corp"}).as_object().unwrap().clone()).expect("arguments");
        let grants = Grants { log_read_types: vec!["plans"], raw_state: false };
        let route = &list_routes()[0];
        let place = Place { base: Some(&base), route, tool, args: &args, grants: &grants };
        let answer = written_answer(alike.as_bytes(), place, 64 * 1024, |_| {}).expect("written");
        let v: Value = serde_json::from_slice(&answer.structured()).expect("JSON");
        let results = v["results"].as_array().expect("results");
        let shows = |i: usize, field: &str| results[i].get(field).cloned();
        assert_eq!(shows(1, "log_read_url"), Some(json!("https://x/l")));
        assert_eq!(shows(2, "log_read_url"), None);
        assert_eq!(shows(1, "o_b"), Some(json!({"a_a": [null, {"b": 3, "y": 2}], "z_z": 1})));
        assert_eq!(shows(1, "value"), Some(json!({"k-k": 1})));
        assert_eq!(shows(7, "value"), Some(json!("secret")));
        assert_eq!(shows(8, "value"), Some(Value::Null));
        assert_eq!(shows(9, "value"), Some(json!("secret")));
        // Resources with more attributes than are recalled: the rest are written as usual.
        let many: Vec<String> = (0..1100).map(|i| format!(r#""a-{i}": {{"b-{i}": {}}}"#, i % 3)).collect();
        let resource = |id: &str| format!(r#"{{"type": "runs", "id": "{id}", "attributes": {{{}}}}}"#, many.join(","));
        let big = format!(r#"{{"data": [{}, {}]}}"#, resource("r1"), resource("r2"));
        assert!(written_agrees(big.as_bytes()) > 0);
        // A number that starts as the one before it is another number.
        let numbers = ["1", "12", "1.5", "1.55", "1", "1e3", "-1", "-10", "-1", "-1.0", "0", "0.0", "true", "\"1\""];
        let resources: Vec<String> =
            numbers.iter().map(|n| format!(r#"{{"type": "runs", "id": "r", "attributes": {{"n": {n}}}}}"#)).collect();
        assert_eq!(written_agrees(format!(r#"{{"data": [{}]}}"#, resources.join(",")).as_bytes()), LIST_WAYS);
    }

    /// A resource whose fields are named as the previous one's takes its
    /// name order; these differ from the one before in one way each.
    #[test]
    fn resources_of_other_fields_are_put_in_their_own_order() {
        let resource = |id: &str, attributes: &str, relationships: &str, links: &str| {
            format!(
                r#"{{"type": "workspaces", "id": "{id}", "attributes": {{{attributes}}}, "relationships": {{{relationships}}}{links}}}"#
            )
        };
        let (a, r) = (
            r#""name": "n", "z-last": 1, "b-first": 2, "project-id": "attr""#,
            r#""project": {"data": {"type": "projects", "id": "prj-1"}}, "vars": {"data": []}"#,
        );
        let html = r#", "links": {"self-html": "/app/o/workspaces/w"}"#;
        let resources = [
            resource("ws-1", a, r, ""),
            resource("ws-2", a, r, ""),
            // A relationship's data a list, not one: `_ids`, not `_id`.
            resource("ws-3", a, r#""project": {"data": [{"type": "projects", "id": "prj-1"}]}, "vars": {"data": []}"#, ""),
            resource("ws-4", a, r#""project": {"data": null}, "vars": {"data": {"type": "vars", "id": "var-1"}}"#, ""),
            // A relationship without data, then none at all.
            resource("ws-5", a, r#""project": {"links": {}}, "vars": {"data": []}"#, ""),
            resource("ws-6", a, "", ""),
            // A link's field among the heads.
            resource("ws-7", a, r, html),
            resource("ws-8", a, r, html),
            // An attribute more, less, another in its place, the same in another order.
            resource("ws-9", &format!(r#"{a}, "a-new": 3"#), r, html),
            resource("ws-10", a, r, html),
            resource("ws-11", r#""name": "n", "z-last": 1, "b-first": 2"#, r, html),
            resource("ws-12", r#""name": "n", "z-last": 1, "c-other": 2, "project-id": "attr""#, r, html),
            resource("ws-13", r#""z-last": 1, "name": "n", "b-first": 2, "project-id": "attr""#, r, html),
            resource("ws-14", r#""z-last": 1, "name": "n", "b-first": 2, "project-id": "attr""#, r, html),
            // Another type (its attributes granted otherwise), then back.
            resource("ws-15", r#""z-last": 1, "name": "n", "b-first": 2, "project-id": "attr""#, r, html).replace("workspaces", "plans"),
            resource("ws-16", r#""z-last": 1, "name": "n", "b-first": 2, "project-id": "attr""#, r, html),
        ];
        let text = format!(r#"{{"data": [{}]}}"#, resources.join(","));
        assert_eq!(written_agrees(text.as_bytes()), LIST_WAYS);
        let v: Value = serde_json::from_slice(text.as_bytes()).expect("JSON");
        assert_eq!(v["data"].as_array().map(Vec::len), Some(16));
    }

    #[test]
    fn written_lists_keep_the_output_rules_and_the_allow_list() {
        let outputs = |value: &str| {
            json!({"type": "state-version-outputs", "id": "wsout-1",
                "attributes": {"name": "db", "sensitive": true, "value": value, "detailed-type": ["object", {"A-b": "string"}]}})
        };
        let doc = json!({
            "data": [
                {"type": "vars", "id": "var-1", "attributes": {"key": "K", "sensitive": true, "value": "var-secret", "category": "env"},
                 "relationships": {"configurable": {"data": {"type": "workspaces", "id": "ws-1"}}}},
                {"type": "vars", "id": "var-2", "attributes": {"key": "P", "sensitive": false, "value": "plain"}},
                {"attributes": {"name": "scan", "hmac-key": "hmac-secret", "url": "https://x"}, "type": "tasks", "id": "task-1",
                 "relationships": {"organization": {"data": {"type": "organizations", "id": "ACME-corp"}}}},
                outputs("output-secret"),
                {"type": "workspace-outputs", "id": "wsout-2", "attributes": {"name": "n", "sensitive": true}},
                {"type": "workspaces", "id": "ws-9", "attributes": {"name": "theirs"},
                 "relationships": {"organization": {"data": {"type": "organizations", "id": "victim-org"}}}},
                {"type": "organizations", "id": "victim-org", "attributes": {"name": "victim-org"}},
                {"type": "organizations", "id": "other-org", "attributes": {"name": "x"}},
                {"id": "ws-2", "attributes": {"type": "vars", "sensitive": true, "value": "typed-by-attribute"}},
                {"type": "runs", "id": "run-1", "attributes": {
                    "status-timestamps": {"queued-at": "t", "errored-at": null, "Z-last": 1, "a-first": [null, {"b-b": null, "a": 2.5e-7}]},
                    "actions": {"is-cancelable": true}, "message": "quote \" and \\ and \u{1} and \u{e9}"}}
            ],
            "included": [
                {"type": "workspaces", "id": "ws-1", "attributes": {"name": "mine"},
                 "relationships": {"organization": {"data": {"type": "organizations", "id": "acme-corp"}}}},
                {"type": "workspaces", "id": "ws-8", "attributes": {"name": "theirs"},
                 "relationships": {"organization": {"data": {"type": "organizations", "id": "victim-org"}}}},
                outputs("included-secret")
            ],
            "meta": {"pagination": {"current-page": 1, "next-page": 2, "total-count": 40, "total-pages": 2, "page-size": 20}}
        });
        let text = serde_json::to_vec(&doc).unwrap();
        assert!(written_agrees(&text) > 0);
        let tool = crate::catalog::catalog().get("list_all_hashicorp_terraform_cloud_workspaces").unwrap();
        let args = args::validate(tool, json!({"organization_name": "acme-corp"}).as_object().unwrap().clone()).unwrap();
        let routes = list_routes();
        let place = Place { base: None, route: &routes[1], tool, args: &args, grants: &Grants::NONE };
        let written = written_answer(&text, place, 64 * 1024, |_| {}).expect("written");
        let answer = String::from_utf8_lossy(&written.structured()).into_owned() + &String::from_utf8_lossy(&written.text());
        for secret in ["var-secret", "hmac-secret", "output-secret", "included-secret", "typed-by-attribute", "victim-org"] {
            assert!(!answer.contains(secret), "{secret} in {answer}");
        }
        // The allow-list's names are matched trimmed and in any case.
        for kept in ["plain", "ws-1", "task-1", "other-org", SENSITIVE_MARKER] {
            assert!(answer.contains(kept), "{kept} not in {answer}");
        }
    }

    /// The ways [`written_agrees`] writes one resource: 4 routes, 2 grant
    /// sets, 2 budgets, a get and a create (a list tool's goes to the tree).
    const RESOURCE_WAYS: usize = 4 * 2 * 2 * 2;

    #[test]
    fn written_resources_keep_the_output_rules_and_the_allow_list() {
        let routes = list_routes();
        let tool = |name: &str| crate::catalog::catalog().get(name).unwrap();
        let (get, create) = (tool("get_single_hashicorp_terraform_cloud_run_by_id"), tool("create_a_hashicorp_terraform_cloud_workspace"));
        let get_args = args::validate(get, json!({"run_id": "run-1"}).as_object().unwrap().clone()).unwrap();
        let create_args =
            args::validate(create, json!({"organization_name": "acme-corp", "name": "w"}).as_object().unwrap().clone()).unwrap();
        let grants = Grants::NONE;
        let place = |route, tool, args| Place { base: None, route, tool, args, grants: &grants };
        let write = |doc: &Value, place: Place<'_>| {
            written_answer(&serde_json::to_vec(doc).unwrap(), place, 64 * 1024, |_| {})
                .map(|w| String::from_utf8_lossy(&w.structured()).into_owned() + &String::from_utf8_lossy(&w.text()))
        };
        let included = json!([
            {"type": "workspaces", "id": "ws-1", "attributes": {"name": "mine"},
             "relationships": {"organization": {"data": {"type": "organizations", "id": "acme-corp"}}}},
            {"type": "workspaces", "id": "ws-8", "attributes": {"name": "theirs", "organization-name": "victim-org"}},
            {"type": "state-version-outputs", "id": "wsout-1", "attributes": {"name": "db", "sensitive": true, "value": "included-secret"}}
        ]);
        // Write-only values, whichever resource echoes them; other
        // organizations' included records.
        for (resource, secret) in [
            (json!({"type": "vars", "id": "var-1", "attributes": {"key": "K", "sensitive": true, "value": "var-secret"}}), "var-secret"),
            (json!({"type": "tasks", "id": "task-1", "attributes": {"name": "scan", "hmac-key": "hmac-secret"}}), "hmac-secret"),
            (
                json!({"type": "state-version-outputs", "id": "wsout-2", "attributes": {"sensitive": true, "value": "output-secret"}}),
                "output-secret",
            ),
            (json!({"id": "ws-2", "attributes": {"type": "vars", "sensitive": true, "value": "typed-by-attribute"}}), "typed-by-attribute"),
        ] {
            let doc = json!({"data": resource, "included": included});
            assert_eq!(written_agrees(&serde_json::to_vec(&doc).unwrap()), RESOURCE_WAYS, "{doc}");
            let answer = write(&doc, place(&routes[1], get, &get_args)).expect("written");
            for hidden in [secret, "included-secret", "victim-org", "ws-8"] {
                assert!(!answer.contains(hidden), "{hidden} in {answer}");
            }
            assert!(answer.contains("ws-1") && answer.contains(SENSITIVE_MARKER), "{answer}");
        }
        // A resource of another organization: the tree's path refuses it
        // on a read tool (so the writer leaves it), not on a write.
        for resource in [
            json!({"type": "workspaces", "id": "ws-9", "attributes": {"name": "w", "organization-name": "victim-org"}}),
            json!({"type": "workspaces", "id": "ws-9", "relationships": {"organization": {"data": {"type": "organizations", "id": "victim-org"}}}}),
            json!({"type": "organizations", "id": "victim-org", "attributes": {"name": "victim-org"}}),
        ] {
            let doc = json!({"data": resource});
            let text = serde_json::to_vec(&doc).unwrap();
            assert_eq!(answers(&text, place(&routes[1], get, &get_args), 64 * 1024), (None, None), "{doc}");
            assert!(write(&doc, place(&routes[1], create, &create_args)).is_some_and(|a| a.contains("victim-org")), "{doc}");
            assert!(write(&doc, place(&routes[0], get, &get_args)).is_some(), "{doc}");
        }
        // Fields before and after `included`, null in one text or both.
        for attributes in [
            json!({"a": null, "b": 1, "y": null, "z": 2}),
            json!({"a": null, "z": 2}),
            json!({"a": 1, "z": null}),
            json!({"a": null, "z": null}),
            json!({"j": 1}),
        ] {
            for doc in [json!({"data": {"attributes": attributes}}), json!({"data": {"attributes": attributes}, "included": []})] {
                assert_eq!(written_agrees(&serde_json::to_vec(&doc).unwrap()), RESOURCE_WAYS, "{doc}");
            }
        }
        assert_eq!(written_agrees(br#"{"data":{}}"#), RESOURCE_WAYS);
        assert_eq!(written_agrees(br#"{"data":{},"included":[{"id":"x"}]}"#), RESOURCE_WAYS);
        // Relationships of every shape, named every way, written as the
        // tree names and fills them.
        let shapes = [
            json!({"data": null}),
            json!({"data": {"type": "workspaces", "id": "ws-1"}}),
            json!({"data": {"type": "workspaces"}}),
            json!({"data": [{"type": "users", "id": "user-1"}, 7, {"id": 2}, {"type": "x"}], "links": {"related": "/x"}}),
            json!({"data": []}),
            json!({"data": "x"}),
            json!({"links": {"related": "/x"}}),
            json!(7),
        ];
        for name in [
            "workspace",
            "created-by",
            "policy-checks",
            "task_stages-s",
            "class",
            "classes",
            "s",
            "ies",
            "",
            "-s",
            "a.b",
            "a b",
            "é-s",
            "organization",
        ] {
            for shape in &shapes {
                let doc = json!({"data": {"type": "runs", "id": "run-1", "relationships": {name: shape}}});
                let written = written_agrees(&serde_json::to_vec(&doc).unwrap());
                // An organization's id names it: a get is refused on the two
                // servers whose allow-list leaves it out.
                let ways = if name == "organization" && shape["data"]["id"].is_string() { RESOURCE_WAYS * 3 / 4 } else { RESOURCE_WAYS };
                assert_eq!(written, ways, "{doc}");
            }
        }
        assert_eq!(written_agrees(br#"{"data":{"relationships":{"a\"b":{"data":null}}}}"#), 0);
        // Fields the tree's rules would read as lists; a list tool's resource
        // (the tree binds a cursor to what it holds); not a resource.
        for text in [
            r#"{"data":{"attributes":{"included":[{"type":"vars","sensitive":true,"value":"s"}]}}}"#,
            r#"{"data":{"attributes":{"included":[]}},"included":[]}"#,
            r#"{"data":{"attributes":{"results":[{"type":"vars","sensitive":true,"value":"s"}]}}}"#,
            r#"{"data":{"type":"runs","attributes":{"results":{}}}}"#,
            r#"{"data":null}"#,
            r#"{"data":"x"}"#,
            r#"{"data":{"id":"a","id":"b"}}"#,
        ] {
            assert_eq!(written_agrees(text.as_bytes()), 0, "{text}");
        }
        let list = tool("list_all_hashicorp_terraform_cloud_workspaces");
        let list_args = args::validate(list, json!({"organization_name": "acme-corp"}).as_object().unwrap().clone()).unwrap();
        assert!(write(&json!({"data": {"id": "ws-1", "attributes": {"pagination": {}}}}), place(&routes[0], list, &list_args)).is_none());
        // Over the budget: the tree's path trims it.
        let big = json!({"data": {"type": "runs", "id": "run-1", "attributes": {"message": "x".repeat(100 * 1024)}}});
        assert!(write(&big, place(&routes[0], get, &get_args)).is_none());
    }

    #[test]
    fn what_the_writer_would_read_otherwise_goes_to_the_tree() {
        let tool = crate::catalog::catalog().get("list_all_hashicorp_terraform_cloud_workspaces").unwrap();
        let args = args::validate(tool, json!({"organization_name": "acme-corp"}).as_object().unwrap().clone()).unwrap();
        let route = &list_routes()[0];
        let place = Place { base: None, route, tool, args: &args, grants: &Grants::NONE };
        let nested = |depth: usize| {
            let mut inner = r#"{"b":1,"a":2}"#.to_owned();
            for _ in 0..depth {
                inner = format!(r#"{{"b":{inner},"a":0}}"#);
            }
            format!(r#"{{"data":[{{"id":"x","attributes":{{"deep":{inner}}}}}]}}"#)
        };
        for text in [
            // A single resource, items that are not resources, no list.
            r#"{"data":{"id":"ws-1","type":"workspaces"}}"#.to_owned(),
            r#"{"data":[{"id":"ws-1"},7]}"#.to_owned(),
            r#"{"data":[[1]]}"#.to_owned(),
            r#"{"meta":{}}"#.to_owned(),
            // Repeated keys, at any depth; names that flatten alike.
            r#"{"data":[{"id":"a","id":"b"}]}"#.to_owned(),
            r#"{"data":[{"attributes":{"x":{"k":1,"k":2}}}]}"#.to_owned(),
            r#"{"data":[{"attributes":{"value":{"k":1,"k":2}}}]}"#.to_owned(),
            r#"{"data":[{"attributes":{"x":{"a_b":1,"a-b":2}}}]}"#.to_owned(),
            r#"{"data":[],"data":[]}"#.to_owned(),
            // Out of order deeper than a reorder may copy.
            nested(12),
            // Names that need escapes (written, they might sort otherwise).
            r#"{"data":[{"attributes":{"a\"b":1}}]}"#.to_owned(),
            r#"{"data":[{"relationships":{"a\\b":{"data":{"id":"1"}}}}]}"#.to_owned(),
            r#"{"data":[{"attributes":{"x":{"a\u0001b":1}}}]}"#.to_owned(),
            // Not JSON, or more than JSON.
            r#"{"data":[]} x"#.to_owned(),
            r#"{"data":[{"attributes":{"n":1e400}}]}"#.to_owned(),
        ] {
            assert!(written_answer(text.as_bytes(), place, 64 * 1024, |_| {}).is_none(), "{text}");
        }
        // Which of two fields of one name is kept: a resource's own before
        // its attributes before its relationships, whatever the order sent.
        let resource = json!({
            "attributes": {"type": "attr-type", "id": "attr-id", "web-url": "w", "workspace-id": "attr", "name": "n",
                "organization-name": "attr-org", "b-ids": [1], "inherited-from": "x"},
            "links": {"self-html": "/app/o/ws", "inherited-from": "/p/1"},
            "relationships": {"workspace": {"data": {"type": "workspaces", "id": "ws-1"}},
                "organization": {"data": {"type": "organizations", "id": "acme-corp"}},
                "bs": {"data": [{"type": "b", "id": "b-1"}]}, "a": {"data": null}},
            "type": "runs", "id": "run-1"
        });
        for doc in [json!({"data": [resource.clone(), resource.clone()]}), json!({"data": [{"id": "x"}], "included": [resource]})] {
            assert_eq!(written_agrees(&serde_json::to_vec(&doc).unwrap()), LIST_WAYS, "{doc}");
        }
        // Two of one group with one name: the tree's.
        for text in [
            r#"{"data":[{"attributes":{"a-b":1,"a_b":2}}]}"#,
            r#"{"data":[{"relationships":{"a-b":{"data":null},"a_b":{"data":null}}}]}"#,
            r#"{"data":[{"relationships":{"x":{"data":{"id":"1"}}},"attributes":{"x-id":1,"x_id":2}}]}"#,
        ] {
            assert!(written_answer(text.as_bytes(), place, 64 * 1024, |_| {}).is_none(), "{text}");
        }
        // Out of order but shallow enough: written, as the tree writes it.
        assert_eq!(written_agrees(nested(6).as_bytes()), LIST_WAYS);
        // Over the budget: the tree's path trims it.
        let big = json!({"data": (0..300).map(|i| json!({"type": "workspaces", "id": format!("ws-{i}"), "attributes": {"name": "x".repeat(300)}})).collect::<Vec<_>>()});
        let big = serde_json::to_vec(&big).unwrap();
        assert!(written_answer(&big, place, 64 * 1024, |_| {}).is_none());
        assert!(written_answer(&big, place, 128 * 1024, |_| {}).is_some());
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(encode_segment("ws-abc_1.2~"), "ws-abc_1.2~");
        assert_eq!(encode_segment("a/b c?"), "a%2Fb%20c%3F");
        assert_eq!(encode_segment("é"), "%C3%A9");
    }

    #[test]
    fn write_only_values_never_come_back() {
        let route: Route = serde_json::from_value(json!({
            "version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": "https://app.terraform.io", "methods": ["read"]
        }))
        .unwrap();
        // An upstream that echoes a run task's HMAC key or a sensitive set variable's value.
        let mut v = json!({"results": [
            {"id": "task-1", "type": "tasks", "name": "scan", "hmac_key": "hmac-secret"},
            {"id": "var-1", "type": "vars", "key": "K", "sensitive": true, "value": "var-secret"},
            {"id": "var-2", "type": "vars", "key": "P", "sensitive": false, "value": "plain"}
        ]});
        postprocess(&mut v, &route);
        let text = v.to_string();
        assert!(!text.contains("hmac-secret") && !text.contains("var-secret"), "{text}");
        assert_eq!(v["results"][2]["value"], "plain");
    }

    #[test]
    fn errors_never_repeat_secret_arguments() {
        let tool = crate::catalog::catalog().get("create_a_hashicorp_terraform_cloud_run_task").unwrap();
        let a = json!({"organization_name": "acme", "name": "scan", "url": "https://s.example", "category": "task",
                       "hmac_key": "hmac-very-secret"});
        let args = args::validate(tool, a.as_object().unwrap().clone()).unwrap();
        let e = ToolError::upstream_msg("HCP Terraform answered HTTP 422: hmac-key hmac-very-secret is invalid (scan).", Some(422));
        let e = redact_secret_arguments(e, tool, &args);
        assert!(!e.message.contains("hmac-very-secret") && e.message.contains("<redacted>") && e.message.contains("scan"), "{e}");
        // Run variables: each value.
        let tool = crate::catalog::catalog().get("create_a_hashicorp_terraform_cloud_run").unwrap();
        let a = json!({"workspace_id": "ws-1", "variables": [{"key": "pw", "value": "\"run-var-secret\""}]});
        let args = args::validate(tool, a.as_object().unwrap().clone()).unwrap();
        let e = redact_secret_arguments(ToolError::upstream_msg("bad value \"run-var-secret\"", Some(422)), tool, &args);
        assert!(!e.message.contains("run-var-secret"), "{e}");
    }

    #[test]
    fn placeholders_listed() {
        assert_eq!(
            placeholders("/organizations/{organization_name}/workspaces/{workspace_name}"),
            vec!["organization_name", "workspace_name"]
        );
        assert!(placeholders("/account/details").is_empty());
    }
}
