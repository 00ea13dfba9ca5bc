//! Stacks (read only): the stacks of an organization, one stack, its
//! deployments and a deployment's runs (the current Stacks API:
//! `stack-deployments` and `stack-deployment-runs`).

use super::super::{Kind as K, Method as M, Param as P, ToolSpec, Verb as V};
use super::org;

fn stack_id() -> P {
    P::path("stack_id", "Stack id (`st-...`). Find it with list_all_hashicorp_terraform_cloud_stacks.")
}

pub(super) fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_stacks",
            M::List,
            "stacks",
            "List stacks",
            V::Get,
            "/organizations/{organization_name}/stacks",
            "List the stacks of an organization (name, description, project_id, vcs_repo, locked).",
        )
        .params(vec![
            org(),
            P::query("sort", "sort", K::String, "Sort by `name` or `created-at`; prefix `-` for descending.").one_of(&[
                "name",
                "-name",
                "created-at",
                "-created-at",
            ]),
        ]),
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_stack_by_id",
            M::Get,
            "stacks",
            "Show a stack",
            V::Get,
            "/stacks/{stack_id}",
            "Show one stack: its settings, VCS repository, lock and linked-stack counts.",
        )
        .params(vec![stack_id()]),
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_stack_deployments",
            M::List,
            "stacks",
            "List a stack's deployments",
            V::Get,
            "/stacks/{stack_id}/stack-deployments",
            "List a stack's deployments (name, latest_deployment_run_id).",
        )
        .params(vec![stack_id()]),
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_stack_deployment_runs",
            M::List,
            "stacks",
            "List a deployment's runs",
            V::Get,
            "/stacks/{stack_id}/stack-deployments/{deployment_name}/stack-deployment-runs",
            "List the runs of one deployment of a stack (status, created_at, completed_at), newest first.",
        )
        .params(vec![
            stack_id(),
            P::path(
                "deployment_name",
                "Deployment name, as listed by list_all_hashicorp_terraform_cloud_stack_deployments (e.g. `production`).",
            )
            .name_segment(),
        ]),
    ]
}
