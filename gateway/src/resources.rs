//! MCP resources: Terraform artefacts a model reads rather than calls.
//!
//! URI scheme `tfc://` (documented in the README):
//!
//! | URI                                        | what                                    | tools behind it |
//! |--------------------------------------------|-----------------------------------------|-----------------|
//! | `tfc://server`                             | this server: organizations, methods, tags, prompts, templates | none |
//! | `tfc://runs/{run_id}/plan-log`             | a run's plan log (text, its end)        | get run, plan logs |
//! | `tfc://runs/{run_id}/apply-log`            | a run's apply log (text, its end)       | get run, apply logs |
//! | `tfc://plans/{plan_id}/changes`            | a plan's change summary (JSON)          | plan resource changes |
//! | `tfc://workspaces/{workspace_id}/outputs`  | a workspace's current outputs (JSON, sensitive masked) | current state version |
//!
//! A read runs the tools behind the resource through the same path as a
//! tool call ([`crate::tool_read`]): the route's filter, id checks, the
//! organization allow-list, sensitive masking, the result budget, upstream
//! pacing, timeout and revocation. A template whose tools the route hides is
//! neither listed nor readable: its URIs are "not found", exactly like URIs
//! of no template, and like things of an organization outside the
//! allow-list.

use std::sync::Arc;

use rmcp::{
    ErrorData as McpError,
    model::{Resource, ResourceContents, ResourceTemplate},
};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::{
    limits::{MAX_ECHOED_NAME, truncate_name},
    mcp::Shared,
    routes::LoadedRoute,
    tool_read::{self, ReadError},
};

pub const SCHEME: &str = "tfc://";
pub const SERVER_URI: &str = "tfc://server";
const JSON: &str = "application/json";
const TEXT: &str = "text/plain";

const GET_RUN: &str = "get_single_hashicorp_terraform_cloud_run_by_id";
const PLAN_LOGS: &str = "hashicorp_terraform_cloud_plans_logs";
const APPLY_LOGS: &str = "hashicorp_terraform_cloud_applies_logs";
const PLAN_CHANGES: &str = "hashicorp_terraform_cloud_plans_resource_changes";
const CURRENT_STATE: &str = "get_single_hashicorp_terraform_cloud_current_state_version_by_id";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    RunPlanLog,
    RunApplyLog,
    PlanChanges,
    WorkspaceOutputs,
}

pub struct TemplateSpec {
    pub kind: Kind,
    pub name: &'static str,
    pub title: &'static str,
    pub uri_template: &'static str,
    /// `tfc://{collection}/{id}/{leaf}`.
    pub collection: &'static str,
    pub leaf: &'static str,
    pub mime_type: &'static str,
    pub description: &'static str,
    /// Every one must be exposed for the template to exist on a route.
    pub tools: &'static [&'static str],
}

pub static TEMPLATES: &[TemplateSpec] = &[
    TemplateSpec {
        kind: Kind::RunPlanLog,
        name: "run-plan-log",
        title: "Run plan log",
        uri_template: "tfc://runs/{run_id}/plan-log",
        collection: "runs",
        leaf: "plan-log",
        mime_type: TEXT,
        description: "The end of a run's plan log as plain text (ANSI codes removed). run_id is `run-...`.",
        tools: &[GET_RUN, PLAN_LOGS],
    },
    TemplateSpec {
        kind: Kind::RunApplyLog,
        name: "run-apply-log",
        title: "Run apply log",
        uri_template: "tfc://runs/{run_id}/apply-log",
        collection: "runs",
        leaf: "apply-log",
        mime_type: TEXT,
        description: "The end of a run's apply log as plain text (ANSI codes removed). run_id is `run-...`.",
        tools: &[GET_RUN, APPLY_LOGS],
    },
    TemplateSpec {
        kind: Kind::PlanChanges,
        name: "plan-changes",
        title: "Plan change summary",
        uri_template: "tfc://plans/{plan_id}/changes",
        collection: "plans",
        leaf: "changes",
        mime_type: JSON,
        description: "A finished plan's resource changes (address, actions), summary, drift and output changes as JSON; sensitive values masked. plan_id is `plan-...` (a run's plan_id).",
        tools: &[PLAN_CHANGES],
    },
    TemplateSpec {
        kind: Kind::WorkspaceOutputs,
        name: "workspace-outputs",
        title: "Workspace outputs",
        uri_template: "tfc://workspaces/{workspace_id}/outputs",
        collection: "workspaces",
        leaf: "outputs",
        mime_type: JSON,
        description: "A workspace's current state outputs as JSON ({name: {value, type, sensitive}}); sensitive values are `<sensitive>` unless the server reveals them. workspace_id is `ws-...`.",
        tools: &[CURRENT_STATE],
    },
];

/// Longest id segment accepted in a URI.
const MAX_ID_CHARS: usize = 64;

/// The templates this route offers.
pub fn available(route: &LoadedRoute) -> impl Iterator<Item = &'static TemplateSpec> + '_ {
    // A template whose tools need a person's confirmation is not offered
    // either (see `tool_read::run`).
    TEMPLATES.iter().filter(|t| {
        t.tools
            .iter()
            .all(|tool| route.filter.get(tool).is_some_and(|spec| !route.route.approval.requires(spec.name, spec.method.as_str())))
    })
}

/// `resources/templates/list` entries.
pub fn templates(route: &LoadedRoute) -> Vec<ResourceTemplate> {
    available(route)
        .map(|t| {
            ResourceTemplate::new(t.uri_template, t.name).with_title(t.title).with_description(t.description).with_mime_type(t.mime_type)
        })
        .collect()
}

/// `resources/list` entries: the server's own description (the templates
/// cover the rest; listing every run's log would mean calling HCP Terraform).
pub fn resources() -> Vec<Resource> {
    vec![
        Resource::new(SERVER_URI, "server")
            .with_title("This MCP server")
            .with_description("What this server may do: organizations, methods, tags, tool count, expiry, prompts and resource templates.")
            .with_mime_type(JSON),
    ]
}

/// The template and id a URI names, if any (`None` for anything else,
/// including ids with characters no HCP Terraform id has).
pub fn parse(uri: &str) -> Option<(&'static TemplateSpec, &str)> {
    let rest = uri.strip_prefix(SCHEME)?;
    let mut parts = rest.split('/');
    let (collection, id, leaf) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || id.is_empty()
        || id.len() > MAX_ID_CHARS
        || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    TEMPLATES.iter().find(|t| t.collection == collection && t.leaf == leaf).map(|t| (t, id))
}

pub fn not_found(uri: &str) -> McpError {
    McpError::resource_not_found(
        format!("Resource not found: {}", truncate_name(uri, 2 * MAX_ECHOED_NAME)),
        Some(json!({"uri": truncate_name(uri, 2 * MAX_ECHOED_NAME)})),
    )
}

fn read_error(uri: &str, error: ReadError) -> McpError {
    if error.is_not_found() {
        return not_found(uri);
    }
    match error {
        ReadError::Tool(e) if e.kind == crate::execute::ToolErrorKind::InvalidArguments => McpError::invalid_params(e.message, None),
        ReadError::Tool(e) => McpError::internal_error(e.message, None),
        ReadError::Timeout => McpError::internal_error("reading the resource did not finish in time; retry later", None),
        ReadError::Cancelled => McpError::internal_error("cancelled by the client", None),
        ReadError::Revoked => {
            McpError::internal_error("this server's URL was revoked, rotated or expired while the read ran; the read was stopped", None)
        }
        ReadError::Hidden => not_found(uri),
    }
}

fn args(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// Compact JSON without null fields, like a tool result's text block.
fn compact(v: &Value) -> String {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), strip(v))).collect()),
            Value::Array(a) => Value::Array(a.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    strip(v).to_string()
}

/// `resources/read`.
pub async fn read(shared: &Shared, route: &Arc<LoadedRoute>, uri: &str, ct: &CancellationToken) -> Result<ResourceContents, McpError> {
    if uri == SERVER_URI {
        shared.metrics.request(&route.route.server, "resources/read", "", "ok");
        return Ok(json_contents(uri, &server_description(route)));
    }
    let Some((template, id)) = parse(uri) else {
        shared.metrics.request(&route.route.server, "resources/read", "", "not_found");
        return Err(not_found(uri));
    };
    if !available(route).any(|t| t.kind == template.kind) {
        shared.metrics.request(&route.route.server, "resources/read", "", "not_found");
        return Err(not_found(uri));
    }
    let limit = shared.limits.request_timeout;
    let run = |tool: &'static str, a: Map<String, Value>| tool_read::run(shared, route, "resources/read", tool, a, ct, limit);
    match template.kind {
        Kind::RunPlanLog | Kind::RunApplyLog => {
            let (phase, tool, arg) = match template.kind {
                Kind::RunPlanLog => ("plan_id", PLAN_LOGS, "plan_id"),
                _ => ("apply_id", APPLY_LOGS, "apply_id"),
            };
            let run_doc = run(GET_RUN, args(&[("run_id", json!(id))])).await.map_err(|e| read_error(uri, e))?;
            let Some(phase_id) = run_doc.get(phase).and_then(Value::as_str).map(str::to_owned) else {
                return Err(not_found(uri));
            };
            let log = run(tool, args(&[(arg, json!(phase_id))])).await.map_err(|e| read_error(uri, e))?;
            Ok(log_contents(uri, tool, arg, &phase_id, &log))
        }
        Kind::PlanChanges => {
            let changes = run(PLAN_CHANGES, args(&[("plan_id", json!(id))])).await.map_err(|e| read_error(uri, e))?;
            Ok(json_contents(uri, &changes))
        }
        Kind::WorkspaceOutputs => {
            let state = run(CURRENT_STATE, args(&[("workspace_id", json!(id))])).await.map_err(|e| read_error(uri, e))?;
            Ok(json_contents(uri, &outputs_of(id, &state)))
        }
    }
}

fn json_contents(uri: &str, v: &Value) -> ResourceContents {
    ResourceContents::TextResourceContents { uri: uri.to_owned(), mime_type: Some(JSON.to_owned()), text: compact(v), meta: None }
}

/// A log as plain text; when only part of it fits, a first line says which
/// part and which tool reads the rest.
fn log_contents(uri: &str, tool: &str, arg: &str, phase_id: &str, log: &Value) -> ResourceContents {
    let text = log.get("log").and_then(Value::as_str).unwrap_or_default();
    let mut out = String::new();
    if log.get("truncated").and_then(Value::as_bool) == Some(true) {
        let start = log.pointer("/range/start").and_then(Value::as_u64).unwrap_or(0);
        let end = log.pointer("/range/end").and_then(Value::as_u64).unwrap_or(0);
        let total = log.get("total_bytes").and_then(Value::as_u64).map(|t| format!(" of {t}")).unwrap_or_default();
        out.push_str(&format!("[bytes {start}-{end}{total} of the log; read other parts with {tool} ({arg} {phase_id}, offset)]\n"));
    }
    out.push_str(text);
    ResourceContents::TextResourceContents { uri: uri.to_owned(), mime_type: Some(TEXT.to_owned()), text: out, meta: None }
}

/// The outputs part of a current state version result.
fn outputs_of(workspace_id: &str, state: &Value) -> Value {
    let mut out = json!({
        "workspace_id": workspace_id,
        "state_version_id": state.get("id"),
        "serial": state.get("serial"),
        "outputs": state.get("outputs"),
    });
    for key in ["outputs_note", "outputs_truncated", "outputs_cap", "truncated", "truncation"] {
        if let Some(v) = state.get(key) {
            out[key] = v.clone();
        }
    }
    out
}

/// `tfc://server`: what this server may do. Never a token or a URL.
pub fn server_description(route: &LoadedRoute) -> Value {
    let r = &route.route;
    json!({
        "display_name": r.display_name,
        "server": r.server,
        "tfc_address": r.tfc_address,
        "organizations": r.organizations,
        "methods": r.methods,
        "tags": r.tags,
        "tool_exposure": r.tool_exposure,
        "tool_count": route.filter.count(),
        "expires_at": r.expires_at,
        "reveal_sensitive_outputs": r.state.reveal_sensitive_outputs,
        "prompts": crate::prompts::available(route).map(|p| p.name).collect::<Vec<_>>(),
        "resource_templates": available(route).map(|t| t.uri_template).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompts::tests::loaded;

    #[test]
    fn uris_parse_strictly() {
        assert_eq!(parse("tfc://runs/run-abc123/plan-log").map(|(t, id)| (t.kind, id)), Some((Kind::RunPlanLog, "run-abc123")));
        assert_eq!(parse("tfc://runs/run-abc123/apply-log").map(|(t, _)| t.kind), Some(Kind::RunApplyLog));
        assert_eq!(parse("tfc://plans/plan-x/changes").map(|(t, _)| t.kind), Some(Kind::PlanChanges));
        assert_eq!(parse("tfc://workspaces/ws-1/outputs").map(|(t, _)| t.kind), Some(Kind::WorkspaceOutputs));
        for bad in [
            "tfc://runs/run-1/plan-log/x",
            "tfc://runs//plan-log",
            "tfc://runs/run-1",
            "tfc://runs/../plan-log",
            "tfc://runs/run%2F1/plan-log",
            "tfc://runs/run-1?x=1/plan-log",
            "https://runs/run-1/plan-log",
            "tfc://workspaces/ws-1/plan-log",
            "tfc://server/x",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert!(parse(&format!("tfc://runs/run-{}/plan-log", "a".repeat(100))).is_none());
        // Every template's tools exist, and its URI template matches its parts.
        for t in TEMPLATES {
            for tool in t.tools {
                assert!(crate::catalog::catalog().get(tool).is_some(), "{tool}");
            }
            let example =
                t.uri_template.replace(&t.uri_template[t.uri_template.find('{').unwrap()..=t.uri_template.find('}').unwrap()], "x-1");
            assert_eq!(parse(&example).map(|(s, _)| s.kind), Some(t.kind), "{example}");
        }
    }

    #[test]
    fn a_template_behind_a_hidden_tool_is_hidden() {
        let all = loaded(serde_json::json!({}));
        let names: Vec<_> = available(&all).map(|t| t.name).collect();
        assert_eq!(names, ["run-plan-log", "run-apply-log", "plan-changes", "workspace-outputs"]);
        let read_only = loaded(serde_json::json!({"methods": ["list", "get"]}));
        assert_eq!(available(&read_only).map(|t| t.name).collect::<Vec<_>>(), ["workspace-outputs"]);
        let no_plan_logs = loaded(serde_json::json!({"excludeTools": [PLAN_LOGS]}));
        assert!(!available(&no_plan_logs).any(|t| t.kind == Kind::RunPlanLog));
        assert!(available(&no_plan_logs).any(|t| t.kind == Kind::RunApplyLog));
    }

    #[test]
    fn the_server_description_holds_no_secret() {
        let route = loaded(serde_json::json!({"organizations": ["acme-corp"]}));
        let text = server_description(&route).to_string();
        assert!(text.contains("acme-corp") && text.contains("tfc://runs/{run_id}/plan-log"));
        assert!(!text.contains("tokenSha256") && !text.contains("\"t\""), "{text}");
    }

    #[test]
    fn a_trimmed_log_says_where_the_rest_is() {
        let log = json!({"log": "line\n", "truncated": true, "range": {"start": 10, "end": 15}, "total_bytes": 15});
        let ResourceContents::TextResourceContents { text, mime_type, .. } = log_contents("u", PLAN_LOGS, "plan_id", "plan-1", &log) else {
            panic!()
        };
        assert_eq!(mime_type.as_deref(), Some(TEXT));
        assert!(text.starts_with("[bytes 10-15 of 15 of the log; read other parts with hashicorp_terraform_cloud_plans_logs"), "{text}");
        let whole = log_contents("u", PLAN_LOGS, "plan_id", "plan-1", &json!({"log": "all", "truncated": false}));
        assert!(matches!(whole, ResourceContents::TextResourceContents { text, .. } if text == "all"));
    }
}
