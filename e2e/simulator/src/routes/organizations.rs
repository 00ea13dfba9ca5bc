//! Organizations and their projects.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::jsonapi::{self, QueryParams};
use crate::sim::Sim;

fn org_not_found(org: &str) -> ApiError {
    ApiError::not_found(format!("Organization '{org}' not found."))
}

pub async fn list(State(sim): State<Arc<Sim>>, q: QueryParams) -> Response {
    let store = sim.store();
    jsonapi::ok(jsonapi::paginated(&sim, "/api/v2/organizations", &q, &store.organizations, jsonapi::organization))
}

pub async fn show(State(sim): State<Arc<Sim>>, Path(org): Path<String>) -> ApiResult {
    let store = sim.store();
    let o = store.organization(&org).ok_or_else(|| org_not_found(&org))?;
    Ok(jsonapi::ok(json!({"data": jsonapi::organization(o)})))
}

pub async fn entitlements(State(sim): State<Arc<Sim>>, Path(org): Path<String>) -> ApiResult {
    let store = sim.store();
    let o = store.organization(&org).ok_or_else(|| org_not_found(&org))?;
    Ok(jsonapi::ok(json!({"data": jsonapi::entitlement_set(o)})))
}

pub async fn projects(State(sim): State<Arc<Sim>>, Path(org): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    store.organization(&org).ok_or_else(|| org_not_found(&org))?;
    let items: Vec<_> = store.projects.iter().filter(|p| p.org == org).collect();
    let path = format!("/api/v2/organizations/{org}/projects");
    Ok(jsonapi::ok(jsonapi::paginated(&sim, &path, &q, &items, |p| jsonapi::project(p))))
}

pub async fn project(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let store = sim.store();
    let p = store.project(&id).ok_or_else(|| ApiError::not_found(format!("Project {id} not found.")))?;
    Ok(jsonapi::ok(json!({"data": jsonapi::project(p)})))
}
