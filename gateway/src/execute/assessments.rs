//! Drift details of a health assessment: the assessment result's JSON plan
//! (`/assessment-results/:id/json-output`, a refresh-only plan) summarised
//! for a model (which resources drifted, how, which attributes changed,
//! which checks fail: never attribute values), and its JSON log
//! (`/log-output`) rendered as readable lines. Both endpoints may answer
//! with a redirect to a temporary URL; the download follows it by hand and
//! sends the token only to the API's own origin.

use serde_json::{Map, Value, json};

use super::{Cx, ToolError};

/// Largest JSON plan read (a larger one is a clear tool error).
const MAX_PLAN_BYTES: usize = 32 * 1024 * 1024;
/// Drifted resources listed at most (all are counted).
const MAX_DRIFTED: usize = 200;
/// Changed attribute names listed per resource at most.
const MAX_CHANGED_ATTRIBUTES: usize = 50;
/// Failing checks listed at most, and problems per check.
const MAX_FAILING_CHECKS: usize = 50;
const MAX_PROBLEMS: usize = 5;

fn id(cx: &Cx<'_, '_>) -> Option<String> {
    cx.args.str("assessment_result_id").map(|s| s.trim().to_owned())
}

fn download_failed(what: &str, status: u16) -> ToolError {
    let hint = match status {
        204 => "the assessment has not finished, so its output is not available yet; try again later".to_owned(),
        403 => "the token may not read it: assessment outputs need a user or team token with admin access to the workspace (not an organization token)".to_owned(),
        404 => "it does not exist, or this server's token and allowed organizations give no access to it".to_owned(),
        s => format!("HTTP {s}; call this tool again (the temporary URL expires within a minute)"),
    };
    ToolError::upstream_msg(&format!("reading the assessment's {what} failed: {hint}"), Some(status))
}

pub(super) async fn drift(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let url = cx.client.api_url(&cx.req.path, &[])?;
    let f = cx.client.fetch_url(url.as_str(), MAX_PLAN_BYTES).await?;
    if !(200..300).contains(&f.status) || f.status == 204 {
        return Err(download_failed("JSON plan", f.status));
    }
    if f.truncated {
        return Err(ToolError::transport(format!("the assessment's JSON plan is larger than {} MiB", MAX_PLAN_BYTES / (1024 * 1024))));
    }
    let plan = drift_fields(&f.bytes).map_err(|_| ToolError::transport("the assessment's JSON plan is not JSON".into()))?;
    Ok(summarise_drift(&plan, id(cx).as_deref()))
}

/// The parts of a JSON plan the drift summary reads; prior state,
/// configuration and planned values stream past unbuilt.
fn drift_fields(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Plan {
        #[serde(default)]
        terraform_version: Option<Value>,
        #[serde(default)]
        resource_drift: Vec<Value>,
        #[serde(default)]
        checks: Vec<Value>,
    }
    let p: Plan = serde_json::from_slice(bytes)?;
    Ok(json!({"terraform_version": p.terraform_version, "resource_drift": p.resource_drift, "checks": p.checks}))
}

/// Top-level attribute names whose value differs between `before` and
/// `after` (sorted; values are never returned).
fn changed_attributes(change: &Value) -> (Vec<String>, usize) {
    let empty = Map::new();
    let before = change.get("before").and_then(Value::as_object).unwrap_or(&empty);
    let after = change.get("after").and_then(Value::as_object).unwrap_or(&empty);
    let mut names: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let total = names.len();
    names.truncate(MAX_CHANGED_ATTRIBUTES);
    (names, total)
}

/// `{assessment_result_id, drifted, summary, resource_drift: [{address, type, actions, changed_attributes}], checks, truncated}`.
pub(crate) fn summarise_drift(plan: &Value, assessment_result_id: Option<&str>) -> Value {
    let empty = Vec::new();
    let mut summary = json!({"drifted_resources": 0, "update": 0, "delete": 0, "create": 0, "replace": 0, "other": 0});
    let mut drifted = Vec::new();
    for rd in plan.get("resource_drift").and_then(Value::as_array).unwrap_or(&empty) {
        let actions: Vec<&str> = rd
            .pointer("/change/actions")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let key = match actions.as_slice() {
            ["no-op"] | [] => continue,
            ["update"] => "update",
            ["delete"] => "delete",
            ["create"] => "create",
            ["delete", "create"] | ["create", "delete"] => "replace",
            _ => "other",
        };
        for k in [key, "drifted_resources"] {
            summary[k] = json!(summary[k].as_u64().unwrap_or(0) + 1);
        }
        if drifted.len() >= MAX_DRIFTED {
            continue;
        }
        let mut item = Map::new();
        for k in ["address", "type", "name", "module_address", "mode"] {
            if let Some(v) = rd.get(k).filter(|v| !v.is_null()) {
                item.insert(k.to_owned(), v.clone());
            }
        }
        item.insert("actions".into(), json!(actions));
        if key == "delete" {
            item.insert("meaning".into(), json!("deleted outside Terraform"));
        } else {
            let (names, total) = changed_attributes(rd.get("change").unwrap_or(&Value::Null));
            if total > names.len() {
                item.insert("changed_attributes_total".into(), json!(total));
            }
            item.insert("changed_attributes".into(), json!(names));
        }
        drifted.push(Value::Object(item));
    }
    let count = summary["drifted_resources"].as_u64().unwrap_or(0);
    let checks = summarise_checks(plan.get("checks").and_then(Value::as_array).unwrap_or(&empty));
    json!({
        "assessment_result_id": assessment_result_id,
        "terraform_version": plan.get("terraform_version"),
        "drifted": count > 0,
        "summary": summary,
        "resource_drift": drifted,
        "truncated": count as usize > drifted.len(),
        "checks": checks,
        "next_step": if count > 0 {
            "Run a plan (create_a_hashicorp_terraform_cloud_run) to bring the resources back to the configuration, or a refresh-only run to accept the changes into the state."
        } else {
            "No drift: the real infrastructure matches the state."
        },
    })
}

/// Continuous-validation results: counts by status and the failing ones
/// with their problem messages.
fn summarise_checks(checks: &[Value]) -> Value {
    let mut counts = json!({"pass": 0, "fail": 0, "error": 0, "unknown": 0});
    let mut failing = Vec::new();
    for c in checks {
        let status = c.get("status").and_then(Value::as_str).unwrap_or("unknown");
        let key = if counts.get(status).is_some() { status } else { "unknown" };
        counts[key] = json!(counts[key].as_u64().unwrap_or(0) + 1);
        if matches!(status, "fail" | "error") && failing.len() < MAX_FAILING_CHECKS {
            let problems: Vec<String> = c
                .get("instances")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .flat_map(|i| i.get("problems").and_then(Value::as_array).cloned().unwrap_or_default())
                .filter_map(|p| p.get("message").and_then(Value::as_str).map(|m| crate::catalog::truncate(m, 300)))
                .take(MAX_PROBLEMS)
                .collect();
            failing.push(json!({
                "address": c.pointer("/address/to_display").or_else(|| c.get("address")),
                "kind": c.pointer("/address/kind"),
                "status": status,
                "problems": problems,
            }));
        }
    }
    json!({"counts": counts, "failing": failing})
}

/// An assessment's log, read like plan and apply logs (`super::logs`): the
/// log-output endpoint redirects to the temporary log URL.
pub(super) async fn logs(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let args = cx.args;
    let req = super::logs::LogRequest::from_tool_args(args, cx.result_budget)?;
    let url = cx.client.api_url(&cx.req.path, &[])?;
    let mut out = serde_json::Map::new();
    out.insert("assessment_result_id".into(), json!(id(cx)));
    out.extend(super::logs::read(cx, url.as_str(), &req, cx.result_budget).await?);
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_lists_changed_attribute_names_never_values() {
        let plan = json!({
            "terraform_version": "1.9.8",
            "prior_state": {"values": {}},
            "resource_drift": [
                {"address": "aws_security_group.web", "type": "aws_security_group", "name": "web", "mode": "managed",
                 "change": {"actions": ["update"], "before": {"ingress": [1], "name": "web", "tags": {"a": "1"}},
                            "after": {"ingress": [1, 2], "name": "web", "tags": {"a": "2"}, "secret": "hunter2"}}},
                {"address": "aws_s3_bucket.logs", "type": "aws_s3_bucket", "change": {"actions": ["delete"], "before": {"x": 1}, "after": null}},
                {"address": "null_resource.same", "change": {"actions": ["no-op"]}},
            ],
            "checks": [
                {"address": {"kind": "check", "to_display": "check.health"}, "status": "fail",
                 "instances": [{"problems": [{"message": "endpoint returned 503"}]}]},
                {"address": {"kind": "resource", "to_display": "aws_instance.a"}, "status": "pass"},
            ],
        });
        let bytes = serde_json::to_vec(&plan).unwrap();
        let s = summarise_drift(&drift_fields(&bytes).unwrap(), Some("asmtres-1"));
        assert_eq!(s["drifted"], true);
        assert_eq!(s["summary"]["drifted_resources"], 2);
        assert_eq!(s["resource_drift"][0]["changed_attributes"], json!(["ingress", "secret", "tags"]));
        assert_eq!(s["resource_drift"][1]["meaning"], "deleted outside Terraform");
        assert_eq!(s["checks"]["counts"]["fail"], 1);
        assert_eq!(s["checks"]["failing"][0]["problems"][0], "endpoint returned 503");
        assert!(!s.to_string().contains("hunter2"), "values never appear");
    }
}
