//! Organization policies (read-only).

use std::sync::Arc;

use axum::extract::{Path, State};
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::jsonapi::{self, QueryParams};
use crate::sim::Sim;
use crate::store::Policy;

pub async fn list(State(sim): State<Arc<Sim>>, Path(org): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    store.organization(&org).ok_or_else(|| ApiError::not_found(format!("Organization '{org}' not found.")))?;
    let search = q.non_empty("search[name]").map(str::to_lowercase);
    let kind = q.non_empty("filter[kind]");
    let items: Vec<&Policy> = store
        .policies
        .iter()
        .filter(|p| p.org == org)
        .filter(|p| search.as_deref().is_none_or(|s| p.name.to_lowercase().contains(s)))
        .filter(|p| kind.is_none_or(|k| p.kind == k))
        .collect();
    let path = format!("/api/v2/organizations/{org}/policies");
    Ok(jsonapi::ok(jsonapi::paginated(&sim, &path, &q, &items, |p| jsonapi::policy(p))))
}

pub async fn show(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let store = sim.store();
    let p = store.policy(&id).ok_or_else(|| ApiError::not_found(format!("Policy {id} not found.")))?;
    Ok(jsonapi::ok(json!({"data": jsonapi::policy(p)})))
}
