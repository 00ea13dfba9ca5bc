//! What plans and applies print, as HCP Terraform's archivist serves it:
//! colored text (ANSI escape codes, as Terraform writes to a terminal), or
//! Terraform's machine-readable JSON-lines UI output, and the JSON plan's
//! drift, output changes and sensitive markers.
//!
//! A test picks a log variant with a marker in the run's message:
//! `[sim-log:json]` (JSON lines) or `[sim-log:big]` (several MB of
//! refresh lines with `NEEDLE-IN-THE-MIDDLE` half way).

use serde_json::{Value, json};

use crate::store::Run;

/// Every sensitive value of a simulated plan starts with this, so tests can
/// check no answer carries one.
pub const SECRET_PREFIX: &str = "SIMSECRET";

/// Lines of the big log variant (about 8 MB).
const BIG_LOG_LINES: usize = 100_000;

/// Which log a run prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Colored,
    JsonLines,
    Big,
}

impl Variant {
    pub fn of(r: &Run) -> Self {
        if r.message.contains("[sim-log:json]") {
            Variant::JsonLines
        } else if r.message.contains("[sim-log:big]") {
            Variant::Big
        } else {
            Variant::Colored
        }
    }
}

const BOLD: &str = "\u{1b}[1m";
const GREEN: &str = "\u{1b}[32m";
const RESET: &str = "\u{1b}[0m";

/// The finished plan's log body (without framing).
pub fn finished_plan_log(r: &Run) -> String {
    let p = &r.plan;
    let summary = format!("Plan: {} to add, {} to change, {} to destroy.", p.additions, p.changes, p.destructions);
    match Variant::of(r) {
        Variant::Colored => format!(
            "Terraform v{}\non linux_amd64\nInitializing plugins and modules...\n\n{BOLD}Terraform will perform the following actions:{RESET}\n\n{BOLD}{summary}{RESET}\n",
            r.terraform_version
        ),
        Variant::JsonLines => {
            let ts = "2024-05-01T10:00:00.000000Z";
            let line = |level: &str, message: &str, extra: Value| {
                let mut v = json!({"@level": level, "@message": message, "@module": "terraform.ui", "@timestamp": ts});
                if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
                    m.extend(e);
                }
                v.to_string()
            };
            [
                line("info", &format!("Terraform {}", r.terraform_version), json!({"terraform": r.terraform_version, "type": "version", "ui": "1.2"})),
                line("info", "null_resource.this: Plan to create", json!({"type": "planned_change", "change": {"resource": {"addr": "null_resource.this"}, "action": "create"}})),
                line(
                    "warn",
                    "Warning: Deprecated attribute",
                    json!({"type": "diagnostic", "diagnostic": {"severity": "warning", "summary": "Deprecated attribute", "detail": "The attribute \"triggers\" is deprecated.", "range": {"filename": "main.tf", "start": {"line": 7}}}}),
                ),
                line("info", &summary, json!({"type": "change_summary", "changes": {"add": p.additions, "change": p.changes, "remove": p.destructions, "operation": "plan"}})),
            ]
            .join("\n")
                + "\n"
        }
        Variant::Big => {
            let mut s = String::with_capacity(BIG_LOG_LINES * 80);
            s.push_str(&format!("Terraform v{}\non linux_amd64\n", r.terraform_version));
            for i in 0..BIG_LOG_LINES {
                if i == BIG_LOG_LINES / 2 {
                    s.push_str("NEEDLE-IN-THE-MIDDLE: the one line a search must find\n");
                }
                s.push_str(&format!(
                    "{BOLD}null_resource.bench[{i}]{RESET}: Refreshing state... [id={:019}]\n",
                    7_000_000_000u64 + i as u64
                ));
            }
            s.push_str(&format!("\n{BOLD}{summary}{RESET}\n"));
            s
        }
    }
}

/// The finished apply's log body (without framing).
pub fn finished_apply_log(r: &Run) -> String {
    let a = &r.apply;
    format!(
        "Terraform v{}\non linux_amd64\n\n{BOLD}{GREEN}Apply complete! Resources: {} added, {} changed, {} destroyed.{RESET}\n",
        r.terraform_version, a.additions, a.changes, a.destructions
    )
}

/// The change of the plan's one resource (`null_resource.this`), whose
/// `token` trigger is sensitive.
pub fn this_change(r: &Run, action: &str) -> Value {
    let after = json!({"triggers": {"run": r.id, "token": format!("{SECRET_PREFIX}-token-{}", r.id)}});
    let (before, before_sensitive) = if action == "create" {
        (Value::Null, json!(false))
    } else {
        (
            json!({"triggers": {"run": "previous", "token": format!("{SECRET_PREFIX}-old-token-{}", r.id)}}),
            json!({"triggers": {"token": true}}),
        )
    };
    json!({
        "address": "null_resource.this",
        "mode": "managed", "type": "null_resource", "name": "this",
        "provider_name": "registry.terraform.io/hashicorp/null",
        "change": {"actions": [action], "before": before, "after": after, "after_unknown": {"id": true},
                   "before_sensitive": before_sensitive, "after_sensitive": {"triggers": {"token": true}}}
    })
}

/// Drift Terraform detected since the last apply: a resource changed
/// outside Terraform, its sensitive trigger too.
pub fn resource_drift() -> Value {
    json!([{
        "address": "null_resource.drifted",
        "mode": "managed", "type": "null_resource", "name": "drifted",
        "provider_name": "registry.terraform.io/hashicorp/null",
        "change": {"actions": ["update"],
                   "before": {"triggers": {"owner": "platform-team", "secret": format!("{SECRET_PREFIX}-drift-before")}},
                   "after": {"triggers": {"owner": "someone-else", "secret": format!("{SECRET_PREFIX}-drift-after")}},
                   "before_sensitive": {"triggers": {"secret": true}}, "after_sensitive": {"triggers": {"secret": true}}}
    }])
}

/// Output changes: one plain, one sensitive.
pub fn output_changes(r: &Run) -> Value {
    json!({
        "endpoint": {"actions": ["create"], "before": null, "after": format!("https://{}.example.com", r.workspace_id),
                     "after_unknown": false, "before_sensitive": false, "after_sensitive": false},
        "admin_password": {"actions": ["create"], "before": null, "after": format!("{SECRET_PREFIX}-output-{}", r.id),
                           "after_unknown": false, "before_sensitive": false, "after_sensitive": true}
    })
}
