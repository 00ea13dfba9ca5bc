//! What a workspace manages and shares, its README, the drift details of
//! its health assessments, and the Explorer's organization-wide view.

use super::super::{Handler, Kind as K, Method as M, Param as P, ToolSpec, Verb as V};
use super::{org, relationship_action, ws_id};

fn assessment_result_id() -> P {
    P::path(
        "assessment_result_id",
        "Assessment result id (`asmtres-...`): a workspace's current_assessment_result_id (get_single_hashicorp_terraform_cloud_workspace_by_id).",
    )
}

pub(super) fn tools() -> Vec<ToolSpec> {
    let mut t = vec![
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_workspace_resources",
            M::List,
            "workspaces",
            "List a workspace's managed resources",
            V::Get,
            "/workspaces/{workspace_id}/resources",
            "List the resources a workspace's current state manages (address, provider, provider_type, module, modified_by_state_version_id), 20 per page by default.",
        )
        .params(vec![ws_id()]),
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_remote_state_consumers",
            M::List,
            "workspaces",
            "List remote state consumers",
            V::Get,
            "/workspaces/{workspace_id}/relationships/remote-state-consumers",
            "List the workspaces allowed to read this workspace's state (terraform_remote_state / tfe_outputs). If the workspace has global_remote_state true, every workspace of the organization may read it regardless.",
        )
        .params(vec![ws_id()]),
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_workspace_readme_by_id",
            M::Get,
            "workspaces",
            "Read a workspace's README",
            V::Get,
            "/workspaces/{workspace_id}",
            "Read a workspace's README (the README.md of its VCS configuration's root directory) as markdown.",
        )
        .params(vec![ws_id()])
        .handler(Handler::WorkspaceReadme),
        ToolSpec::new(
            "hashicorp_terraform_cloud_assessments_drift",
            M::Observe,
            "assessments",
            "Summarise an assessment's drift",
            V::Get,
            "/assessment-results/{assessment_result_id}/json-output",
            "Summarise a health assessment's drift from its JSON plan: which resources changed or were deleted outside Terraform, the names of the changed attributes (never values), and failing continuous-validation checks. Needs a user or team token with admin access to the workspace.",
        )
        .params(vec![assessment_result_id()])
        .handler(Handler::AssessmentDrift),
        ToolSpec::new(
            "hashicorp_terraform_cloud_assessments_logs",
            M::Observe,
            "assessments",
            "Read an assessment's log",
            V::Get,
            "/assessment-results/{assessment_result_id}/log-output",
            "Read a health assessment's Terraform log as readable lines (ANSI codes removed, JSON log entries rendered): the end (default), the start, a byte range (offset), or the lines matching a search.",
        )
        .params([vec![assessment_result_id()], super::log_params()].concat())
        .handler(Handler::AssessmentLogs),
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_explorer_results",
            M::List,
            "explorer",
            "Query the Explorer",
            V::Get,
            "/organizations/{organization_name}/explorer",
            "Ask organization-wide questions: one row per workspace, Terraform version, provider or module in use. E.g. workspaces on an old Terraform (view workspaces, filter workspace_terraform_version contains `1.5`), drifted workspaces (drifted is `true`), which workspaces use a module (view modules, filter name contains `vpc`, read workspaces).",
        )
        .params(vec![
            org(),
            P::query("view_type", "type", K::String, "The view: one row per workspace, Terraform version, provider or module.")
                .one_of(&["workspaces", "tf_versions", "providers", "modules"])
                .required(),
            P::query(
                "filters",
                "filter",
                K::FilterList,
                "Filters, all of which must hold: [{field, operator, value}], field a snake_case field of the view (workspaces: workspace_name, workspace_terraform_version, drifted, current_run_status, project_name, modules, providers, resources_drifted...; tf_versions/providers/modules: name, source, version, workspace_count, workspaces).",
            ),
            P::query("sort", "sort", K::String, "A field of the view to sort by; prefix `-` for descending (e.g. `-workspace_count`)."),
        ])
        .handler(Handler::Explorer),
    ];
    let consumers = |name, title, verb, desc| {
        relationship_action(
            name,
            "workspaces",
            title,
            verb,
            "/workspaces/{workspace_id}/relationships/remote-state-consumers",
            ws_id(),
            "workspace_ids",
            "workspaces",
            "Consumer workspace ids (`ws-...`), of the same organization.",
            desc,
        )
    };
    t.push(consumers(
        "hashicorp_terraform_cloud_workspaces_add_state_consumers",
        "Add remote state consumers",
        V::Post,
        "Allow more workspaces to read this workspace's state (the others keep their access).",
    ));
    t.push(consumers(
        "hashicorp_terraform_cloud_workspaces_remove_state_consumers",
        "Remove remote state consumers",
        V::Delete,
        "Stop the given workspaces from reading this workspace's state (their runs reading it will fail).",
    ));
    t.push(
        consumers(
            "hashicorp_terraform_cloud_workspaces_replace_state_consumers",
            "Replace remote state consumers",
            V::Patch,
            "Make the given workspaces the only ones allowed to read this workspace's state (every other consumer loses access).",
        )
        .destructive(),
    );
    t
}
