//! State versions and their outputs. Listings hide sensitive output values;
//! `GET /state-version-outputs/:id` reveals them.

use std::sync::Arc;

use axum::extract::{Path, State};
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::jsonapi::{self, QueryParams};
use crate::sim::Sim;
use crate::store::StateVersion;

fn sv_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("State version {id} not found."))
}

pub async fn current(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let store = sim.store();
    store.workspace(&id).ok_or_else(|| ApiError::not_found(format!("Workspace '{id}' not found.")))?;
    let sv =
        store.current_state_version(&id).ok_or_else(|| ApiError::not_found(format!("Workspace {id} has no current state version.")))?;
    Ok(jsonapi::ok(json!({"data": jsonapi::state_version(sv, &sim)})))
}

pub async fn show(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let store = sim.store();
    let sv = store.state_version(&id).ok_or_else(|| sv_not_found(&id))?;
    Ok(jsonapi::ok(json!({"data": jsonapi::state_version(sv, &sim)})))
}

/// `GET /state-versions?filter[workspace][name]=..&filter[organization][name]=..`, newest first.
pub async fn list(State(sim): State<Arc<Sim>>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    let (Some(org), Some(name)) = (q.non_empty("filter[organization][name]"), q.non_empty("filter[workspace][name]")) else {
        return Err(ApiError::unprocessable("filter[organization][name] and filter[workspace][name] are required."));
    };
    let ws = store.workspace_by_name(org, name).ok_or_else(|| ApiError::not_found(format!("Workspace '{name}' not found.")))?;
    let items: Vec<&StateVersion> = store.state_versions.iter().rev().filter(|s| s.workspace_id == ws.id).collect();
    Ok(jsonapi::ok(jsonapi::paginated(&sim, "/api/v2/state-versions", &q, &items, |s| jsonapi::state_version(s, &sim))))
}

pub async fn current_outputs(State(sim): State<Arc<Sim>>, Path(id): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    store.workspace(&id).ok_or_else(|| ApiError::not_found(format!("Workspace '{id}' not found.")))?;
    let sv =
        store.current_state_version(&id).ok_or_else(|| ApiError::not_found(format!("Workspace {id} has no current state version.")))?;
    let path = format!("/api/v2/workspaces/{id}/current-state-version-outputs");
    Ok(jsonapi::ok(jsonapi::paginated(&sim, &path, &q, &sv.outputs, |o| jsonapi::output(o, false))))
}

pub async fn outputs(State(sim): State<Arc<Sim>>, Path(id): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    let sv = store.state_version(&id).ok_or_else(|| sv_not_found(&id))?;
    let path = format!("/api/v2/state-versions/{id}/outputs");
    Ok(jsonapi::ok(jsonapi::paginated(&sim, &path, &q, &sv.outputs, |o| jsonapi::output(o, false))))
}

pub async fn output(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let store = sim.store();
    let (_, o) = store.output(&id).ok_or_else(|| ApiError::not_found(format!("State version output {id} not found.")))?;
    Ok(jsonapi::ok(json!({"data": jsonapi::output(o, true)})))
}
