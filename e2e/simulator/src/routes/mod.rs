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

pub mod control;
pub mod locks;
pub mod meta;
pub mod organizations;
pub mod policies;
pub mod records;
pub mod runs;
pub mod state;
pub mod state_rollback;
pub mod task_stages;
pub mod varset_scopes;
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
        .route("/api/v2/organizations/{org}/projects", get(organizations::projects))
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
        // Everything else: the generic resources, or 404.
        .fallback(records::dispatch)
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(from_fn_with_state(sim.clone(), middleware::api));

    api.merge(control::router()).with_state(sim)
}
