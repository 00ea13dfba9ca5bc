//! The Explorer (`GET /organizations/:org/explorer`): organization-wide
//! questions over one of four views. The fields of each view are the
//! documented ones; a filter, sort or field name outside the chosen view is
//! a clear error naming the view's fields, before any upstream call.

use serde_json::Value;

use super::{Cx, ToolAnswer, ToolError, handlers};
use crate::limits::{MAX_ECHOED_NAME, truncate_name};

/// The documented fields of each view (`type`).
pub const VIEWS: &[(&str, &[&str])] = &[
    (
        "workspaces",
        &[
            "all_checks_succeeded",
            "checks_errored",
            "checks_failed",
            "checks_passed",
            "checks_unknown",
            "current_run_applied_at",
            "current_run_external_id",
            "current_run_status",
            "drifted",
            "external_id",
            "module_count",
            "modules",
            "organization_name",
            "project_external_id",
            "project_name",
            "provider_count",
            "providers",
            "resources_drifted",
            "resources_undrifted",
            "state_version_terraform_version",
            "vcs_repo_identifier",
            "workspace_created_at",
            "workspace_name",
            "workspace_terraform_version",
            "workspace_updated_at",
            "workspace_resource_count",
        ],
    ),
    ("tf_versions", &["version", "workspace_count", "workspaces"]),
    ("providers", &["name", "source", "version", "workspace_count", "workspaces"]),
    ("modules", &["name", "source", "version", "registry_type", "workspace_count", "workspaces"]),
];

/// The fields of a view; `None` for an unknown view.
pub fn view_fields(view: &str) -> Option<&'static [&'static str]> {
    VIEWS.iter().find(|(v, _)| *v == view).map(|(_, f)| *f)
}

/// Check every field name a query uses against its view.
pub(crate) fn check_query(view: &str, filters: &[Value], sort: Option<&str>, fields: &[&str]) -> Result<(), ToolError> {
    let known = view_fields(view).ok_or_else(|| ToolError::invalid(format!("unknown Explorer view {:?}", truncate_name(view, 24))))?;
    let unknown = |what: &str, name: &str| {
        ToolError::invalid(format!(
            "{what} {:?} is not a field of the `{view}` view; its fields are: {}",
            truncate_name(name, MAX_ECHOED_NAME),
            known.join(", ")
        ))
    };
    for f in filters {
        let name = f.get("field").and_then(Value::as_str).unwrap_or_default();
        if !known.contains(&name) {
            return Err(unknown("filter field", name));
        }
    }
    if let Some(s) = sort {
        let name = s.strip_prefix('-').unwrap_or(s);
        if !known.contains(&name) {
            return Err(unknown("sort field", name));
        }
    }
    for name in fields {
        if !known.contains(name) {
            return Err(unknown("field", name));
        }
    }
    Ok(())
}

pub(super) async fn query(cx: &Cx<'_, '_>) -> Result<ToolAnswer, ToolError> {
    let view = cx.args.str("view_type").unwrap_or_default();
    let filters = cx.args.get("filters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    // `fields` is every list tool's projection; here its names must also be
    // fields of the chosen view.
    let fields: Vec<&str> = cx.args.fields.iter().flatten().map(String::as_str).collect();
    check_query(view, filters, cx.args.str("sort"), &fields)?;
    handlers::standard(cx).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_checked_against_the_view() {
        let f = |field: &str| vec![json!({"field": field, "operator": "is", "value": "x"})];
        assert!(check_query("workspaces", &f("drifted"), Some("-workspace_name"), &["workspace_name", "drifted"]).is_ok());
        let e = check_query("tf_versions", &f("drifted"), None, &[]).unwrap_err();
        assert!(e.message.contains("not a field of the `tf_versions` view") && e.message.contains("workspace_count"), "{e}");
        assert!(check_query("modules", &[], Some("-nope"), &[]).is_err());
        assert!(check_query("providers", &[], None, &["workspaces", "bogus"]).is_err());
    }
}
