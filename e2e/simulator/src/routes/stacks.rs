//! A deployment's runs, addressed by stack and deployment name
//! (`/stacks/:id/stack-deployments/:name/stack-deployment-runs`), newest first.

use std::sync::Arc;

use axum::extract::{Path, State};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::jsonapi::{self, QueryParams};
use crate::kinds::stacks::{STACK, STACK_DEPLOYMENT, STACK_DEPLOYMENT_RUN};
use crate::records::{self, Record};
use crate::sim::Sim;

pub async fn deployment_runs(State(sim): State<Arc<Sim>>, Path((stack, name)): Path<(String, String)>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    if !store.records.iter().any(|r| r.type_ == STACK.type_ && r.id == stack) {
        return Err(ApiError::not_found("Stack not found."));
    }
    let deployment = store
        .records
        .iter()
        .find(|r| r.type_ == STACK_DEPLOYMENT.type_ && r.parent == stack && r.attributes.get("name").and_then(Value::as_str) == Some(&name))
        .ok_or_else(|| ApiError::not_found("Stack deployment not found."))?;
    let mut items: Vec<&Record> =
        store.records.iter().filter(|r| r.type_ == STACK_DEPLOYMENT_RUN.type_ && r.parent == deployment.id).collect();
    items.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    let path = format!("/api/v2/stacks/{stack}/stack-deployments/{name}/stack-deployment-runs");
    Ok(jsonapi::ok(jsonapi::paginated(&sim, &path, &q, &items, |r| records::render(&STACK_DEPLOYMENT_RUN, r, "/api/v2"))))
}
