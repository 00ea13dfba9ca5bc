//! What a JSON plan (`terraform show -json`) says beyond its list of
//! changes: one resource's before/after by address, the output changes and
//! the drift Terraform detected (`resource_drift`). Every value marked
//! sensitive in the plan (`before_sensitive` / `after_sensitive`, which
//! mirror the values' shape) is replaced with the sensitive marker, and no
//! answer ever carries a value the plan marks sensitive.

use serde_json::{Map, Value, json};

use super::sensitive::mask_by_shape;
use super::{SENSITIVE_MARKER, ToolError};
use crate::catalog::truncate;

/// Drifted resources listed at most in a summary.
pub(crate) const MAX_DRIFT_LISTED: usize = 100;
/// Addresses suggested when an address is not in the plan.
const MAX_SUGGESTIONS: usize = 10;

/// Actions of a change (`change.actions`).
fn actions(rc: &Value) -> Vec<&str> {
    rc.pointer("/change/actions").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// A change's `before` and `after` with their sensitive parts masked.
/// A value whose sensitivity is unknown (no marker at all) is kept: the
/// plan says nothing in it is sensitive.
fn masked_change(change: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let mut masked = 0;
    for (value_key, sensitive_key) in [("before", "before_sensitive"), ("after", "after_sensitive")] {
        let mut v = change.get(value_key).cloned().unwrap_or(Value::Null);
        if let Some(s) = change.get(sensitive_key) {
            masked += mask_by_shape(&mut v, s, 0);
        }
        out.insert(value_key.into(), v);
    }
    // Not `generated_config`: HCL text the plan does not mask.
    for k in ["after_unknown", "replace_paths", "importing"] {
        if let Some(v) = change.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    out.insert("sensitive_values_masked".into(), json!(masked));
    out
}

/// `{name: {actions, before, after, after_unknown}}` of the plan's
/// `output_changes`, sensitive values masked (a whole sensitive output is
/// one marker).
pub(crate) fn output_changes(plan: &Value) -> Option<Value> {
    let outputs = plan.get("output_changes")?.as_object()?;
    let mut out = Map::new();
    for (name, oc) in outputs {
        let change = oc.get("change").unwrap_or(oc);
        let mut entry = masked_change(change);
        entry.remove("sensitive_values_masked");
        let sensitive = [change.get("before_sensitive"), change.get("after_sensitive")].into_iter().flatten().any(|s| *s != json!(false));
        entry.insert("actions".into(), json!(change.get("actions").cloned().unwrap_or(json!([]))));
        entry.insert("sensitive".into(), json!(sensitive));
        out.insert(name.clone(), Value::Object(entry));
    }
    Some(Value::Object(out))
}

/// `{count, resources: [{address, actions}], truncated}` of the plan's
/// `resource_drift` (changes made outside Terraform since the last apply).
pub(crate) fn drift_summary(plan: &Value) -> Value {
    let empty = Vec::new();
    let drift = plan.get("resource_drift").and_then(Value::as_array).unwrap_or(&empty);
    let resources: Vec<Value> =
        drift.iter().take(MAX_DRIFT_LISTED).map(|rc| json!({"address": rc.get("address"), "actions": actions(rc)})).collect();
    json!({"count": drift.len(), "resources": resources, "truncated": drift.len() > MAX_DRIFT_LISTED})
}

/// One resource of the plan by address: its change (before/after masked),
/// and its drift when Terraform detected some. An address the plan does
/// not hold is an error naming similar addresses.
pub(crate) fn resource_detail(plan: &Value, plan_id: Option<&str>, address: &str) -> Result<Value, ToolError> {
    let find = |key: &str| {
        plan.get(key).and_then(Value::as_array).and_then(|a| a.iter().find(|rc| rc.get("address").and_then(Value::as_str) == Some(address)))
    };
    let change = find("resource_changes");
    let drift = find("resource_drift");
    let Some(found) = change.or(drift) else {
        return Err(ToolError::invalid(not_found_message(plan, address)));
    };
    let mut out = Map::new();
    out.insert("plan_id".into(), json!(plan_id));
    out.insert("address".into(), json!(address));
    for k in ["module_address", "mode", "type", "name", "index", "provider_name", "action_reason"] {
        if let Some(v) = found.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    if let Some(rc) = change {
        let mut c = masked_change(rc.get("change").unwrap_or(&Value::Null));
        c.insert("actions".into(), json!(actions(rc)));
        out.insert("change".into(), Value::Object(c));
    }
    out.insert(
        "drift".into(),
        drift
            .map(|d| {
                let mut c = masked_change(d.get("change").unwrap_or(&Value::Null));
                c.insert("actions".into(), json!(actions(d)));
                Value::Object(c)
            })
            .unwrap_or(Value::Null),
    );
    out.insert("sensitive_marker".into(), json!(SENSITIVE_MARKER));
    Ok(Value::Object(out))
}

fn not_found_message(plan: &Value, address: &str) -> String {
    let empty = Vec::new();
    let all: Vec<&str> = ["resource_changes", "resource_drift"]
        .iter()
        .flat_map(|k| plan.get(*k).and_then(Value::as_array).unwrap_or(&empty))
        .filter_map(|rc| rc.get("address").and_then(Value::as_str))
        .collect();
    // Prefer addresses sharing the resource type or name with the one asked for.
    let last = address.rsplit('.').next().unwrap_or(address).to_lowercase();
    let mut similar: Vec<&str> = all.iter().copied().filter(|a| a.to_lowercase().contains(&last)).collect();
    if similar.is_empty() {
        similar = all.clone();
    }
    similar.dedup();
    let shown: Vec<String> = similar.iter().take(MAX_SUGGESTIONS).map(|a| truncate(a, 120)).collect();
    format!(
        "the plan has no resource at address {:?} ({} addresses in the plan{}); call without address for the list",
        truncate(address, 120),
        all.len(),
        if shown.is_empty() { String::new() } else { format!(", e.g. {}", shown.join(", ")) }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Value {
        json!({
            "resource_changes": [
                {"address": "aws_db_instance.main", "type": "aws_db_instance", "name": "main", "mode": "managed",
                 "change": {"actions": ["update"],
                            "before": {"password": "old-s3cret", "size": "small", "tags": {"k": "v"}},
                            "after": {"password": "new-s3cret", "size": "large", "tags": {"k": "v"}},
                            "after_unknown": {}, "before_sensitive": {"password": true}, "after_sensitive": {"password": true}}},
                {"address": "null_resource.x", "type": "null_resource", "name": "x", "change": {"actions": ["create"], "before": null, "after": {"triggers": {"t": "1"}}}}
            ],
            "resource_drift": [
                {"address": "aws_db_instance.main", "change": {"actions": ["update"], "before": {"password": "drift-s3cret", "size": "tiny"},
                 "after": {"password": "old-s3cret", "size": "small"}, "before_sensitive": {"password": true}, "after_sensitive": {"password": true}}}
            ],
            "output_changes": {
                "db_password": {"actions": ["update"], "before": "old-s3cret", "after": "new-s3cret", "after_unknown": false, "before_sensitive": true, "after_sensitive": true},
                "endpoint": {"actions": ["create"], "before": null, "after": "db.example.com", "after_unknown": false, "before_sensitive": false, "after_sensitive": false}
            }
        })
    }

    #[test]
    fn one_resource_with_its_drift_and_no_sensitive_value() {
        let d = resource_detail(&plan(), Some("plan-1"), "aws_db_instance.main").unwrap();
        let text = d.to_string();
        assert!(!text.contains("s3cret"), "{text}");
        assert_eq!(d["change"]["after"]["size"], "large");
        assert_eq!(d["change"]["before"]["password"], SENSITIVE_MARKER);
        assert_eq!(d["change"]["actions"], json!(["update"]));
        assert_eq!(d["change"]["sensitive_values_masked"], 2);
        assert_eq!(d["drift"]["before"]["size"], "tiny");
        let plain = resource_detail(&plan(), None, "null_resource.x").unwrap();
        assert_eq!(plain["change"]["after"]["triggers"]["t"], "1");
        assert_eq!(plain["drift"], Value::Null);
    }

    #[test]
    fn an_unknown_address_names_similar_ones() {
        let e = resource_detail(&plan(), None, "aws_db_instance.mian").unwrap_err();
        assert!(e.message.contains("aws_db_instance.main") || e.message.contains("null_resource.x"), "{}", e.message);
        let e = resource_detail(&plan(), None, "module.x.thing.main").unwrap_err();
        assert!(e.message.contains("aws_db_instance.main"), "{}", e.message);
        assert!(resource_detail(&json!({}), None, "a.b").is_err());
    }

    #[test]
    fn outputs_and_drift_are_summarised_masked() {
        let o = output_changes(&plan()).unwrap();
        assert!(!o.to_string().contains("s3cret"), "{o}");
        assert_eq!(o["db_password"]["after"], SENSITIVE_MARKER);
        assert_eq!(o["db_password"]["sensitive"], true);
        assert_eq!(o["endpoint"]["after"], "db.example.com");
        assert_eq!(o["endpoint"]["sensitive"], false);
        let d = drift_summary(&plan());
        assert_eq!(d, json!({"count": 1, "resources": [{"address": "aws_db_instance.main", "actions": ["update"]}], "truncated": false}));
        assert_eq!(drift_summary(&json!({}))["count"], 0);
    }
}
