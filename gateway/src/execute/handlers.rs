//! The generic handler and the few tools that need more than one request or
//! a friendlier explanation of a conflict.

use serde_json::{Map, Value, json};

use super::{Cx, SENSITIVE_MARKER, ToolAnswer, ToolError, empty_success, encode_segment, enforce_org_on_result, postprocess};
use crate::catalog::Verb;
use crate::jsonapi;
use crate::upstream::ApiResponse;

/// Largest state read to extract outputs or to download (a larger one is a
/// clear tool error). Outputs are parsed out without building the resources.
const MAX_STATE_BYTES: usize = 16 * 1024 * 1024;
/// Largest JSON plan read (a larger one is a clear tool error); only the
/// fields of the summary are parsed.
const MAX_PLAN_BYTES: usize = 32 * 1024 * 1024;
/// Pages of outputs read at most (100 each).
const MAX_OUTPUT_PAGES: u64 = 10;
/// Longest resource address looked up in a plan.
const MAX_ADDRESS_BYTES: usize = 1024;
/// Resource changes listed at most.
const MAX_RESOURCE_CHANGES: usize = 500;

// ---- generic -------------------------------------------------------------------

pub(super) async fn standard(cx: &Cx<'_, '_>) -> Result<ToolAnswer, ToolError> {
    let mut resp = cx.send_answer().await?;
    if !resp.is_success() {
        return Err(cx.error(&resp, None));
    }
    if let Some(written) = cx.written_answer(&resp) {
        return Ok(ToolAnswer::Written(written));
    }
    success_value(cx, &mut resp).map(ToolAnswer::Tree)
}

/// Flatten a successful answer (or describe an empty one).
/// The body moves out of `resp` (flattening takes it over); the memory
/// budget it holds stays with `resp`.
fn success_value(cx: &Cx<'_, '_>, resp: &mut ApiResponse) -> Result<Value, ToolError> {
    if let Some(mut v) = cx.flatten_answer(resp) {
        enforce_org_on_result(cx, &mut v)?;
        return Ok(v);
    }
    match resp.body.take() {
        Some(other) if cx.tool.method.is_read() => Err(ToolError::transport(format!(
            "HCP Terraform answered {} {} with a document without data ({})",
            cx.tool.verb.as_str(),
            cx.req.path,
            short(&other)
        ))),
        _ => Ok(empty_success(cx)),
    }
}

/// [`standard`], with the tool's own explanation of a 409.
pub(super) async fn conflict_explained(cx: &Cx<'_, '_>, why: &str) -> Result<Value, ToolError> {
    let mut resp = cx.send_answer().await?;
    if resp.status == 409 {
        return Err(cx.error(&resp, Some(why)));
    }
    if !resp.is_success() {
        return Err(cx.error(&resp, None));
    }
    success_value(cx, &mut resp)
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 200 { format!("{}...", s.chars().take(200).collect::<String>()) } else { s }
}

fn path_arg(cx: &Cx<'_, '_>, name: &str) -> String {
    cx.args.str(name).map(|s| encode_segment(s.trim())).unwrap_or_default()
}

fn status_of(doc: &Value) -> Option<String> {
    doc.pointer("/data/attributes/status").and_then(Value::as_str).map(str::to_owned)
}

// ---- runs ----------------------------------------------------------------------

pub(super) async fn run_action(cx: &Cx<'_, '_>, action: &'static str) -> Result<Value, ToolError> {
    let run_id = cx.args.str("run_id").unwrap_or_default().trim().to_owned();
    let run_path = format!("/runs/{}", path_arg(cx, "run_id"));
    let resp = cx.send().await?;
    if resp.status == 409 {
        // Say why, with the run's current status.
        let current = match cx.client.api(Verb::Get, &run_path, &[], None).await {
            Ok(r) if r.is_success() => r.body.as_ref().and_then(status_of),
            _ => None,
        };
        let status = current.as_deref().unwrap_or("unknown");
        let why = match action {
            "apply" => format!(
                "The run is not in a confirmable state, current status {status}. Only runs waiting for confirmation (planned, cost_estimated, policy_checked, or policy_override once overridden) can be applied; plan-only runs never can."
            ),
            "discard" => format!(
                "The run is not in a discardable state, current status {status}. Only pending runs and runs waiting for confirmation or a policy override can be discarded."
            ),
            "cancel" => format!(
                "The run is not in a cancelable state, current status {status}. Only planning or applying runs can be canceled; discard pending or waiting runs instead."
            ),
            "force-cancel" => format!(
                "The run cannot be force-canceled, current status {status}. Cancel it first and wait until its force_cancel_available_at time."
            ),
            _ => format!(
                "The run cannot be force-executed, current status {status}. Only a pending run that waits behind other runs can be."
            ),
        };
        return Err(cx.error(&resp, Some(&why)));
    }
    if !resp.is_success() {
        return Err(cx.error(&resp, None));
    }
    let mut out = Map::new();
    out.insert("run_id".into(), json!(run_id));
    out.insert("action".into(), json!(action.replace('-', "_")));
    out.insert("accepted".into(), json!(true));
    // Best effort: the status right after the action.
    if let Ok(r) = cx.client.api(Verb::Get, &run_path, &[], None).await
        && let Some(s) = r.is_success().then(|| r.body.as_ref().and_then(status_of)).flatten()
    {
        out.insert("status".into(), json!(s));
    }
    Ok(Value::Object(out))
}

// `hashicorp_terraform_cloud_runs_wait` lives in `run_wait.rs`.

// ---- workspaces ----------------------------------------------------------------

pub(super) async fn workspace_lock(cx: &Cx<'_, '_>, action: &'static str) -> Result<Value, ToolError> {
    let mut resp = cx.send_answer().await?;
    if resp.status == 409 {
        let detail = resp.body.as_ref().map(jsonapi::parse_errors).and_then(|e| e.into_iter().find_map(|e| e.detail)).unwrap_or_default();
        let why = match action {
            "lock" => "The workspace is already locked; read it (locked_by / lock holder) and unlock it first if appropriate.".to_owned(),
            "unlock" => format!(
                "The workspace could not be unlocked{}: it is not locked, or another user, team or a run holds the lock. Wait for the run to finish, or use hashicorp_terraform_cloud_workspaces_force_unlock (needs admin).",
                if detail.is_empty() { String::new() } else { format!(" ({detail})") }
            ),
            _ => "The workspace is not locked; nothing to force-unlock.".to_owned(),
        };
        return Err(cx.error(&resp, Some(&why)));
    }
    if !resp.is_success() {
        return Err(cx.error(&resp, None));
    }
    success_value(cx, &mut resp)
}

pub(super) async fn workspace_safe_delete(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let mut resp = cx.send_answer().await?;
    if resp.status == 409 {
        return Err(cx.error(
            &resp,
            Some("The workspace is not safe to delete: it still manages resources (or is locked). Destroy them first (create a run with is_destroy true), or use hashicorp_terraform_cloud_workspaces_force_delete to delete it anyway."),
        ));
    }
    if !resp.is_success() {
        return Err(cx.error(&resp, None));
    }
    success_value(cx, &mut resp)
}

// ---- state ---------------------------------------------------------------------

pub(super) async fn current_state_version(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let resp = cx.send().await?;
    if resp.status == 404 {
        return Err(cx.error(
            &resp,
            Some("The workspace has no state yet (no successful apply or state upload), or it does not exist or is not accessible to this server."),
        ));
    }
    if !resp.is_success() {
        return Err(cx.error(&resp, None));
    }
    let doc = resp.body.unwrap_or(Value::Null);
    let attrs = doc.pointer("/data/attributes").cloned().unwrap_or(Value::Null);
    let url_of = |k: &str| attrs.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let json_url = url_of("hosted-json-state-download-url");
    let raw_url = url_of("hosted-state-download-url");
    let processed = attrs.get("resources-processed").and_then(Value::as_bool);

    let reveal = cx.route.state.reveal_sensitive_outputs;
    let mut outputs: Option<Map<String, Value>> = None;
    let mut source: Option<&str> = None;
    let mut note: Option<String> = None;
    let mut outputs_cap: Option<Value> = None;

    let ws = path_arg(cx, "workspace_id");
    match fetch_current_outputs(cx, &ws).await {
        Ok(pages) if processed != Some(false) || !pages.items.is_empty() => {
            outputs = Some(outputs_from_api(cx, &pages.items, reveal).await?);
            source = Some("outputs-endpoint");
            if pages.truncated {
                let total = pages.total.map(|t| format!(" of {t}")).unwrap_or_default();
                outputs_cap = Some(json!({
                    "truncated": true,
                    "returned": pages.items.len(),
                    "total_count": pages.total,
                    "note": format!("only the first {}{total} outputs are returned; list the rest with list_all_hashicorp_terraform_cloud_state_version_outputs", pages.items.len()),
                }));
            }
        }
        Ok(_) => {}
        Err(e) if e.status == Some(503) => {}
        Err(e) if e.kind == super::ToolErrorKind::RateLimited || e.kind == super::ToolErrorKind::Transport => return Err(e),
        Err(e) => note = Some(format!("outputs could not be read: {}", e.message)),
    }

    if outputs.is_none() && note.is_none() {
        // Outputs still being processed: read them from the state itself.
        for (url, kind) in [(json_url.as_deref(), "json-state"), (raw_url.as_deref(), "raw-state")] {
            let Some(url) = url else { continue };
            match cx.client.fetch_url(url, MAX_STATE_BYTES).await {
                Ok(f) if (200..300).contains(&f.status) && !f.truncated => {
                    if let Ok(state) = state_outputs_only(&f.bytes)
                        && let Some(o) = outputs_from_state(&state, reveal)
                    {
                        outputs = Some(o);
                        source = Some(kind);
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) if e.kind == super::ToolErrorKind::RateLimited => return Err(e),
                Err(_) => {}
            }
        }
        if outputs.is_none() {
            note = Some("HCP Terraform is still processing this state version's outputs; call this tool again in a few seconds.".into());
        }
    }

    cx.learn(&doc);
    let mut flat = jsonapi::flatten_single_with(&doc, cx.client.address(), cx.grants);
    postprocess(&mut flat, cx.route);
    if let Value::Object(m) = &mut flat {
        if let Some(summary) = resource_summary(&attrs) {
            m.insert("resource_summary".into(), summary);
        }
        m.insert("outputs".into(), outputs.map(Value::Object).unwrap_or(Value::Null));
        m.insert("outputs_source".into(), source.map(|s| json!(s)).unwrap_or(Value::Null));
        if let Some(n) = note {
            m.insert("outputs_note".into(), json!(n));
        }
        m.insert("outputs_truncated".into(), json!(outputs_cap.is_some()));
        if let Some(cap) = outputs_cap {
            m.insert("outputs_cap".into(), cap);
        }
    }
    enforce_org_on_result(cx, &mut flat)?;
    Ok(flat)
}

/// The current outputs of a workspace (raw JSON:API resources), at most
/// [`MAX_OUTPUT_PAGES`] pages, and the total HCP Terraform reports.
struct OutputPages {
    items: Vec<Value>,
    /// `meta.pagination.total-count`, when given.
    total: Option<u64>,
    /// More pages exist than were read.
    truncated: bool,
}

async fn fetch_current_outputs(cx: &Cx<'_, '_>, ws: &str) -> Result<OutputPages, ToolError> {
    let path = format!("/workspaces/{ws}/current-state-version-outputs");
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let query = vec![("page[number]".to_owned(), page.to_string()), ("page[size]".to_owned(), "100".to_owned())];
        let resp = cx.get_ok(&path, &query).await?;
        let doc = resp.body.unwrap_or(Value::Null);
        if let Some(items) = doc.get("data").and_then(Value::as_array) {
            all.extend(items.iter().cloned());
        }
        let p = jsonapi::pagination(&doc, Some(page), Some(100), 0);
        let total = p.get("total_count").and_then(Value::as_u64);
        match p.get("next_page").and_then(Value::as_u64) {
            Some(n) if n > page && n <= MAX_OUTPUT_PAGES => page = n,
            // Stopping with pages left: say so rather than look complete.
            Some(n) if n > page => return Ok(OutputPages { items: all, total, truncated: true }),
            _ => return Ok(OutputPages { items: all, total, truncated: false }),
        }
    }
}

async fn outputs_from_api(cx: &Cx<'_, '_>, list: &[Value], reveal: bool) -> Result<Map<String, Value>, ToolError> {
    let mut out = Map::new();
    for r in list {
        let Some(a) = r.get("attributes") else { continue };
        let Some(name) = a.get("name").and_then(Value::as_str) else { continue };
        let sensitive = a.get("sensitive").and_then(Value::as_bool).unwrap_or(false);
        let ty = a.get("detailed-type").or_else(|| a.get("detailed_type")).or_else(|| a.get("type")).cloned().unwrap_or(Value::Null);
        let mut value = a.get("value").cloned().unwrap_or(Value::Null);
        if sensitive {
            if reveal {
                // The list hides sensitive values; reading the output reveals it.
                if let Some(id) = r.get("id").and_then(Value::as_str) {
                    let path = format!("/state-version-outputs/{}", encode_segment(id));
                    let resp = cx.get_ok(&path, &[]).await?;
                    value = resp.body.as_ref().and_then(|d| d.pointer("/data/attributes/value")).cloned().unwrap_or(Value::Null);
                }
            } else {
                value = json!(SENSITIVE_MARKER);
            }
        }
        out.insert(name.to_owned(), json!({"value": value, "type": ty, "sensitive": sensitive}));
    }
    Ok(out)
}

/// Outputs of a state document: `values.outputs` (JSON state format) or
/// `outputs` (raw state file format).
pub(crate) fn outputs_from_state(state: &Value, reveal: bool) -> Option<Map<String, Value>> {
    let outputs = state.pointer("/values/outputs").or_else(|| state.get("outputs"))?.as_object()?;
    let mut out = Map::new();
    for (name, o) in outputs {
        let sensitive = o.get("sensitive").and_then(Value::as_bool).unwrap_or(false);
        let value = if sensitive && !reveal { json!(SENSITIVE_MARKER) } else { o.get("value").cloned().unwrap_or(Value::Null) };
        out.insert(name.clone(), json!({"value": value, "type": o.get("type").cloned().unwrap_or(Value::Null), "sensitive": sensitive}));
    }
    Some(out)
}

fn resource_summary(attrs: &Value) -> Option<Value> {
    let resources = attrs.get("resources")?.as_array()?;
    let mut by_type = Map::new();
    let mut total = 0u64;
    for r in resources {
        let count = r.get("count").and_then(Value::as_u64).unwrap_or(1);
        total += count;
        if let Some(t) = r.get("type").and_then(Value::as_str) {
            let e = by_type.entry(t.to_owned()).or_insert(json!(0));
            *e = json!(e.as_u64().unwrap_or(0) + count);
        }
    }
    Some(json!({"total": total, "by_type": by_type, "processed": attrs.get("resources-processed").cloned().unwrap_or(Value::Null)}))
}

pub(super) async fn state_download(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let resp = cx.send().await?;
    if !resp.is_success() {
        return Err(cx.error(&resp, None));
    }
    let doc = resp.body.unwrap_or(Value::Null);
    let attr = |k: &str| doc.pointer(&format!("/data/attributes/{k}")).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let (url, format) = match (attr("hosted-json-state-download-url"), attr("hosted-state-download-url")) {
        (Some(u), _) => (u, "json"),
        (None, Some(u)) => (u, "raw"),
        _ => {
            return Err(ToolError::upstream_msg(
                "this state version has no downloadable state (it may still be uploading or was discarded)",
                None,
            ));
        }
    };
    // Parsed whole (it is returned whole): counted at the parse factor.
    let f = cx.client.fetch_json_url(&url, MAX_STATE_BYTES).await?;
    if !(200..300).contains(&f.status) {
        return Err(ToolError::upstream_msg(
            &format!("downloading the state failed with HTTP {} (the temporary URL may have expired); call this tool again", f.status),
            Some(f.status),
        ));
    }
    if f.truncated {
        return Err(ToolError::transport(format!("the state is larger than {} MiB and is not returned", MAX_STATE_BYTES / (1024 * 1024))));
    }
    let mut state: Value =
        crate::answer_json::parse(&f.bytes).map_err(|_| ToolError::transport("the downloaded state is not JSON".into()))?;
    // Sensitive outputs and provider-marked sensitive resource attributes
    // follow the server's sensitive-value rule even here (sensitive.rs).
    let masked = if cx.route.state.reveal_sensitive_outputs { 0 } else { super::sensitive::mask_state(&mut state) };
    Ok(json!({
        "state_version_id": cx.args.str("state_version_id"),
        "format": format,
        "sensitive_values_masked": masked,
        "state": state,
    }))
}

// ---- plans and applies ---------------------------------------------------------

pub(super) async fn logs(cx: &Cx<'_, '_>, kind: &'static str) -> Result<Value, ToolError> {
    let args = cx.args;
    let req = super::logs::LogRequest::from_tool_args(args, cx.result_budget)?;
    let resp = cx.send().await?;
    if !resp.is_success() {
        return Err(cx.error(&resp, None));
    }
    let doc = resp.body.unwrap_or(Value::Null);
    let status = status_of(&doc);
    let Some(url) = doc.pointer("/data/attributes/log-read-url").and_then(Value::as_str).filter(|s| !s.is_empty()) else {
        return Err(ToolError::upstream_msg(
            &format!("no logs are available yet (status {}); try again when it has started", status.as_deref().unwrap_or("unknown")),
            None,
        ));
    };
    let id_key = if kind == "plans" { "plan_id" } else { "apply_id" };
    let mut out = Map::new();
    out.insert(id_key.into(), json!(args.str(id_key)));
    out.insert("status".into(), json!(status));
    out.extend(super::logs::read(cx, url, &req, cx.result_budget).await?);
    Ok(Value::Object(out))
}

pub(super) async fn plan_resource_changes(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let address = cx.args.str("address").map(str::trim).filter(|a| !a.is_empty());
    if address.is_some_and(|a| a.len() > MAX_ADDRESS_BYTES) {
        return Err(ToolError::invalid(format!("argument `address` is longer than {MAX_ADDRESS_BYTES} bytes; no resource address is")));
    }
    let resp = cx.send().await?;
    let plan = match resp.status {
        204 => {
            return Err(ToolError::upstream_msg(
                "HCP Terraform answered HTTP 204 No Content: the plan has not finished, so its JSON output is not available yet. Wait for the run to finish planning (hashicorp_terraform_cloud_runs_wait) and try again.",
                Some(204),
            ));
        }
        300..=399 => {
            let Some(loc) = resp.location.as_deref() else {
                return Err(ToolError::upstream_msg("HCP Terraform redirected the JSON plan without a location", Some(resp.status)));
            };
            // One resource's before/after needs the whole plan parsed
            // (counted as such in the byte budget); the summary only the
            // fields it reads.
            let f = if address.is_some() {
                cx.client.fetch_json_url(loc, MAX_PLAN_BYTES).await?
            } else {
                cx.client.fetch_url(loc, MAX_PLAN_BYTES).await?
            };
            if !(200..300).contains(&f.status) {
                return Err(ToolError::upstream_msg(
                    &format!(
                        "downloading the JSON plan failed with HTTP {} (the temporary URL expires within a minute); call this tool again",
                        f.status
                    ),
                    Some(f.status),
                ));
            }
            if f.truncated {
                return Err(ToolError::transport(format!("the JSON plan is larger than {} MiB", MAX_PLAN_BYTES / (1024 * 1024))));
            }
            let parsed = if address.is_some() { serde_json::from_slice(&f.bytes) } else { plan_summary_fields(&f.bytes) };
            parsed.map_err(|_| ToolError::transport("the JSON plan is not JSON".into()))?
        }
        200..=299 => resp.body.clone().unwrap_or(Value::Null),
        _ => return Err(cx.error(&resp, None)),
    };
    match address {
        Some(a) => super::plan_detail::resource_detail(&plan, cx.args.str("plan_id"), a),
        None => Ok(summarise_plan(&plan, cx.args.str("plan_id"))),
    }
}

/// The parts of a JSON plan that [`summarise_plan`] reads, parsed without
/// building the rest: `before`/`after` values, prior state and configuration
/// (most of a large plan) are skipped as they stream past.
fn plan_summary_fields(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Plan {
        #[serde(default)]
        terraform_version: Option<Value>,
        #[serde(default)]
        resource_changes: Vec<Change>,
        #[serde(default)]
        resource_drift: Vec<Change>,
        #[serde(default)]
        output_changes: Option<Value>,
    }
    #[derive(serde::Deserialize, serde::Serialize)]
    struct Change {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<Value>,
        #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
        type_: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        module_address: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action_reason: Option<Value>,
        #[serde(default)]
        change: Actions,
    }
    #[derive(Default, serde::Deserialize, serde::Serialize)]
    struct Actions {
        #[serde(default)]
        actions: Vec<String>,
    }
    let plan: Plan = serde_json::from_slice(bytes)?;
    let mut doc = json!({ "terraform_version": plan.terraform_version, "resource_changes": plan.resource_changes, "resource_drift": plan.resource_drift });
    if let Some(o) = plan.output_changes {
        doc["output_changes"] = o;
    }
    Ok(doc)
}

/// The outputs of a state document (`values.outputs` or `outputs`), parsed
/// without building its resources (most of a large state).
fn state_outputs_only(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct State {
        #[serde(default)]
        values: Option<Values>,
        #[serde(default)]
        outputs: Option<Value>,
    }
    #[derive(serde::Deserialize)]
    struct Values {
        #[serde(default)]
        outputs: Option<Value>,
    }
    let state: State = serde_json::from_slice(bytes)?;
    let mut doc = Map::new();
    if let Some(outputs) = state.values.and_then(|v| v.outputs) {
        doc.insert("values".into(), json!({ "outputs": outputs }));
    }
    if let Some(outputs) = state.outputs {
        doc.insert("outputs".into(), outputs);
    }
    Ok(Value::Object(doc))
}

/// `{plan_id, summary, resource_changes: [{address, type, name, module_address, actions, action_reason}], truncated,
/// drift: {count, resources}, output_changes}` (no-op changes are only counted; sensitive output values masked).
pub(crate) fn summarise_plan(plan: &Value, plan_id: Option<&str>) -> Value {
    let mut summary = json!({"create": 0, "update": 0, "delete": 0, "replace": 0, "read": 0, "no_op": 0});
    let mut changes = Vec::new();
    let mut truncated = false;
    let empty = Vec::new();
    for rc in plan.get("resource_changes").and_then(Value::as_array).unwrap_or(&empty) {
        let actions: Vec<&str> = rc
            .pointer("/change/actions")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let key = match actions.as_slice() {
            ["create"] => "create",
            ["update"] => "update",
            ["delete"] => "delete",
            ["read"] => "read",
            ["delete", "create"] | ["create", "delete"] => "replace",
            _ => "no_op",
        };
        if let Some(n) = summary.get_mut(key) {
            *n = json!(n.as_u64().unwrap_or(0) + 1);
        }
        if key == "no_op" {
            continue;
        }
        if changes.len() >= MAX_RESOURCE_CHANGES {
            truncated = true;
            continue;
        }
        let mut c = Map::new();
        for k in ["address", "type", "name", "module_address", "mode", "action_reason"] {
            if let Some(v) = rc.get(k) {
                c.insert(k.to_owned(), v.clone());
            }
        }
        c.insert("actions".into(), json!(actions));
        changes.push(Value::Object(c));
    }
    json!({
        "plan_id": plan_id,
        "terraform_version": plan.get("terraform_version"),
        "summary": summary,
        "resource_changes": changes,
        "truncated": truncated,
        "drift": super::plan_detail::drift_summary(plan),
        "output_changes": super::plan_detail::output_changes(plan),
    })
}

// ---- policies ------------------------------------------------------------------

pub(super) async fn policy_with_code(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let mut resp = cx.send_answer().await?;
    if !resp.is_success() {
        return Err(cx.error(&resp, None));
    }
    let mut v = success_value(cx, &mut resp)?;
    if let Some(code) = cx.args.str("policy_code") {
        let id = v.get("id").and_then(Value::as_str).or_else(|| cx.args.str("policy_id")).unwrap_or_default().to_owned();
        let path = format!("/policies/{}/upload", encode_segment(&id));
        let up = cx.client.api_raw(Verb::Put, &path, &[], Some(code.as_bytes().to_vec()), "application/octet-stream").await?;
        if !up.is_success() {
            let e = ToolError::from_response(&up, Verb::Put, &path, None);
            return Err(ToolError {
                message: format!(
                    "The policy {id} was saved, but uploading its code failed. {} Retry with the update tool and policy_code.",
                    e.message
                ),
                ..e
            });
        }
        if let Value::Object(m) = &mut v {
            m.insert("code_uploaded".into(), json!(true));
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_summary_from_the_streamed_fields_equals_the_full_parse() {
        let plan = json!({
            "format_version": "1.2", "terraform_version": "1.9.0",
            "prior_state": {"values": {"root_module": {"resources": [{"values": {"big": "x".repeat(10_000)}}]}}},
            "configuration": {"root_module": {}},
            "resource_changes": [
                {"address": "aws_s3_bucket.a", "type": "aws_s3_bucket", "name": "a", "mode": "managed",
                 "change": {"actions": ["create"], "before": null, "after": {"huge": "y".repeat(10_000)}}},
                {"address": "module.m.aws_iam_role.r", "module_address": "module.m", "type": "aws_iam_role", "name": "r",
                 "action_reason": "replace_because_cannot_update", "change": {"actions": ["delete", "create"]}},
                {"address": "null_resource.n", "type": "null_resource", "name": "n", "change": {"actions": ["no-op"]}},
            ],
        });
        let bytes = serde_json::to_vec(&plan).unwrap();
        let streamed = plan_summary_fields(&bytes).unwrap();
        assert_eq!(summarise_plan(&streamed, Some("plan-1")), summarise_plan(&plan, Some("plan-1")));
        assert!(streamed.to_string().len() < 1000, "before/after values and prior state are skipped");
    }

    #[test]
    fn state_outputs_are_parsed_without_the_resources() {
        for state in [
            json!({"values": {"outputs": {"a": {"value": 1, "sensitive": false}}, "root_module": {"resources": [{"x": "z".repeat(10_000)}]}}}),
            json!({"version": 4, "outputs": {"a": {"value": 1, "type": "number"}}, "resources": [{"x": "z".repeat(10_000)}]}),
        ] {
            let slim = state_outputs_only(&serde_json::to_vec(&state).unwrap()).unwrap();
            assert_eq!(outputs_from_state(&slim, false), outputs_from_state(&state, false));
            assert!(slim.to_string().len() < 200);
        }
    }
}
