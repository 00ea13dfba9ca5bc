//! The route contract of the API origin, in one table. Handlers live in one
//! module per resource; `/_sim/*` test controls are mounted outside the
//! authentication layer.

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, patch, post};

use crate::error::ApiError;
use crate::middleware;
use crate::sim::Sim;

pub mod arrivals;
pub mod control;
pub mod explorer;
pub mod locks;
pub mod meta;
pub mod oidc;
pub mod organizations;
pub mod policies;
pub mod private_registry;
pub mod projects;
pub mod records;
pub mod registry;
pub mod runs;
pub mod stacks;
pub mod state;
pub mod state_rollback;
pub mod tag_bindings;
pub mod task_stages;
pub mod team_members;
pub mod varset_scopes;
pub mod vcs;
pub mod workspace_insights;
pub mod workspace_ssh_key;
pub mod workspaces;

pub fn router(sim: Arc<Sim>) -> Router {
    let api = Router::new()
        .route("/api/v2/ping", get(meta::ping))
        .route("/.well-known/terraform.json", get(meta::well_known))
        .route("/api/v2/account/details", get(meta::account))
        // Organizations and projects
        .route("/api/v2/organizations", get(organizations::list))
        .route("/api/v2/organizations/{org}", get(organizations::show))
        .route("/api/v2/organizations/{org}/entitlement-set", get(organizations::entitlements))
        .route("/api/v2/organizations/{org}/projects", get(organizations::projects).post(projects::create))
        .route("/api/v2/projects/{id}", get(organizations::project))
        // Workspaces
        .route("/api/v2/organizations/{org}/workspaces", get(workspaces::list).post(workspaces::create))
        .route(
            "/api/v2/organizations/{org}/workspaces/{name}",
            get(workspaces::show_by_name).patch(workspaces::update_by_name).delete(workspaces::delete_by_name),
        )
        .route("/api/v2/workspaces/{id}", get(workspaces::show).patch(workspaces::update).delete(workspaces::delete))
        .route("/api/v2/workspaces/{id}/actions/safe-delete", post(workspaces::safe_delete))
        .route("/api/v2/workspaces/{id}/actions/lock", post(locks::lock))
        .route("/api/v2/workspaces/{id}/actions/unlock", post(locks::unlock))
        .route("/api/v2/workspaces/{id}/actions/force-unlock", post(locks::force_unlock))
        // Runs, plans, applies
        .route("/api/v2/runs", post(runs::create))
        .route("/api/v2/runs/{id}", get(runs::show))
        .route("/api/v2/runs/{id}/actions/{action}", post(runs::action))
        .route("/api/v2/runs/{id}/plan", get(runs::plan_of_run))
        .route("/api/v2/runs/{id}/apply", get(runs::apply_of_run))
        .route("/api/v2/workspaces/{id}/runs", get(runs::list_for_workspace))
        .route("/api/v2/organizations/{org}/runs", get(runs::list_for_organization))
        .route("/api/v2/plans/{id}", get(runs::plan))
        .route("/api/v2/plans/{id}/json-output", get(runs::plan_json_output))
        .route("/api/v2/applies/{id}", get(runs::apply))
        // State
        .route("/api/v2/workspaces/{id}/current-state-version", get(state::current))
        .route("/api/v2/workspaces/{id}/current-state-version-outputs", get(state::current_outputs))
        .route("/api/v2/state-versions", get(state::list))
        .route("/api/v2/state-versions/{id}", get(state::show))
        .route("/api/v2/state-versions/{id}/outputs", get(state::outputs))
        .route("/api/v2/state-version-outputs/{id}", get(state::output))
        .route("/api/v2/workspaces/{id}/state-versions", patch(state_rollback::rollback))
        // Variable sets by scope, task stage overrides (the rest of both areas is generic)
        .route("/api/v2/workspaces/{id}/varsets", get(varset_scopes::for_workspace))
        .route("/api/v2/projects/{id}/varsets", get(varset_scopes::for_project))
        .route("/api/v2/task-stages/{id}/actions/override", post(task_stages::override_stage))
        // Policies
        .route("/api/v2/organizations/{org}/policies", get(policies::list))
        .route("/api/v2/policies/{id}", get(policies::show))
        // Workspace insights, the Explorer, the private registry, stacks
        .route(
            "/api/v2/workspaces/{id}/relationships/remote-state-consumers",
            get(workspace_insights::list_consumers)
                .post(workspace_insights::add_consumers)
                .patch(workspace_insights::replace_consumers)
                .delete(workspace_insights::remove_consumers),
        )
        .route("/api/v2/assessment-results/{id}/json-output", get(workspace_insights::assessment_json_output))
        .route("/api/v2/assessment-results/{id}/log-output", get(workspace_insights::assessment_log_output))
        .route("/api/v2/organizations/{org}/explorer", get(explorer::query))
        .route("/api/v2/organizations/{org}/registry-modules/{registry}/{namespace}/{name}/{provider}", get(private_registry::module))
        .route("/api/v2/organizations/{org}/registry-providers/{registry}/{namespace}/{name}", get(private_registry::provider))
        .route(
            "/api/v2/organizations/{org}/registry-providers/{registry}/{namespace}/{name}/versions",
            get(private_registry::provider_versions),
        )
        .route("/api/v2/no-code-modules/{id}", get(private_registry::no_code_module))
        .route("/api/v2/no-code-modules/{id}/workspaces", post(private_registry::create_no_code_workspace))
        .route("/api/v2/stacks/{id}/stack-deployments/{name}/stack-deployment-runs", get(stacks::deployment_runs))
        // Key-value tags, team members, workspace SSH keys
        .route("/api/v2/workspaces/{id}/tag-bindings", get(tag_bindings::workspace_list).patch(tag_bindings::workspace_patch))
        .route("/api/v2/workspaces/{id}/effective-tag-bindings", get(tag_bindings::workspace_effective))
        .route("/api/v2/projects/{id}/tag-bindings", get(tag_bindings::project_list).patch(tag_bindings::project_patch))
        .route("/api/v2/projects/{id}/effective-tag-bindings", get(tag_bindings::project_effective))
        .route("/api/v2/users/{id}", get(team_members::show_user))
        .route("/api/v2/teams/{id}/relationships/users", post(team_members::add_users).delete(team_members::remove_users))
        .route(
            "/api/v2/teams/{id}/relationships/organization-memberships",
            post(team_members::add_memberships).delete(team_members::remove_memberships),
        )
        .route("/api/v2/workspaces/{id}/relationships/ssh-key", patch(workspace_ssh_key::assign))
        .route("/api/v2/organizations/{org}/oauth-tokens", get(vcs::organization_oauth_tokens))
        // Everything else: the generic resources, or 404.
        .fallback(records::dispatch)
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(from_fn_with_state(sim.clone(), middleware::api));

    api.merge(control::router()).merge(arrivals::router()).merge(oidc::router()).with_state(sim)
}
