//! The variable sets that apply to a workspace (`GET /workspaces/:id/varsets`:
//! global sets of its organization, sets applied to it or to its project)
//! and to a project (`GET /projects/:id/varsets`: applied to it or owned by
//! it). Computed from the generic `varsets` records.

use std::sync::Arc;

use axum::extract::{Path, State};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::jsonapi::{self, QueryParams};
use crate::kinds::variable_sets::VARSET;
use crate::records::{self, Record};
use crate::sim::Sim;

const API: &str = "/api/v2";

fn name_matches(r: &Record, q: &QueryParams) -> bool {
    match q.non_empty("q").or_else(|| q.non_empty("search[name]")) {
        Some(n) => r.attributes.get("name").and_then(Value::as_str).is_some_and(|name| name.to_lowercase().contains(&n.to_lowercase())),
        None => true,
    }
}

pub async fn for_workspace(State(sim): State<Arc<Sim>>, Path(id): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    let ws = store.workspace(&id).ok_or_else(|| ApiError::not_found("Workspace not found."))?;
    let items: Vec<&Record> = store
        .records
        .iter()
        .filter(|r| r.type_ == VARSET.type_ && r.parent == ws.org)
        .filter(|r| {
            r.attributes.get("global").and_then(Value::as_bool) == Some(true)
                || r.rel_ids("workspaces").contains(&ws.id)
                || r.rel_ids("projects").contains(&ws.project_id)
        })
        .filter(|r| name_matches(r, &q))
        .collect();
    let path = format!("{API}/workspaces/{}/varsets", ws.id);
    Ok(jsonapi::ok(jsonapi::paginated(&sim, &path, &q, &items, |r| records::render(&VARSET, r, API))))
}

pub async fn for_project(State(sim): State<Arc<Sim>>, Path(id): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    let project = store.project(&id).ok_or_else(|| ApiError::not_found("Project not found."))?;
    let items: Vec<&Record> = store
        .records
        .iter()
        .filter(|r| r.type_ == VARSET.type_ && r.parent == project.org)
        .filter(|r| r.rel_ids("projects").contains(&project.id) || r.rel_ids("parent").contains(&project.id))
        .filter(|r| name_matches(r, &q))
        .collect();
    let path = format!("{API}/projects/{}/varsets", project.id);
    Ok(jsonapi::ok(jsonapi::paginated(&sim, &path, &q, &items, |r| records::render(&VARSET, r, API))))
}
