//! Workspaces: list with search and pagination, read by id or name,
//! create, update, delete.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::jsonapi::{self, QueryParams, attr_bool, attr_string, attr_strings};
use crate::routes::tag_bindings;
use crate::sim::Sim;
use crate::store::{BlobRef, Store, Workspace};

fn ws_not_found(what: &str) -> ApiError {
    ApiError::not_found(format!("Workspace '{what}' not found."))
}

/// `search[wildcard-name]`: `*` at either end matches any prefix/suffix.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(rest), _) if rest.ends_with('*') => name.contains(rest.trim_end_matches('*')),
        (Some(suffix), _) => name.ends_with(suffix),
        (None, Some(prefix)) => name.starts_with(prefix),
        (None, None) => name == pattern,
    }
}

pub async fn list(State(sim): State<Arc<Sim>>, Path(org): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    store.organization(&org).ok_or_else(|| ApiError::not_found(format!("Organization '{org}' not found.")))?;
    let search = q.non_empty("search[name]").map(str::to_lowercase);
    let tags = q.list("search[tags]");
    let exclude = q.list("search[exclude-tags]");
    let wildcard = q.non_empty("search[wildcard-name]");
    let project = q.non_empty("filter[project][id]");
    let tagged = tag_bindings::tagged_filter(&q);
    let mut items: Vec<&Workspace> = store
        .workspaces
        .iter()
        .filter(|w| w.org == org)
        .filter(|w| search.as_deref().is_none_or(|s| w.name.to_lowercase().contains(s)))
        .filter(|w| tags.iter().all(|t| w.tags.contains(t)))
        .filter(|w| !exclude.iter().any(|t| w.tags.contains(t)))
        .filter(|w| wildcard.is_none_or(|p| wildcard_match(p, &w.name)))
        .filter(|w| project.is_none_or(|p| w.project_id == p))
        .filter(|w| tag_bindings::matches(&store, w, &tagged))
        .collect();
    match q.get("sort") {
        Some("-name") => items.sort_by(|a, b| b.name.cmp(&a.name)),
        _ => items.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    let path = format!("/api/v2/organizations/{org}/workspaces");
    let doc = jsonapi::paginated(&sim, &path, &q, &items, |w| jsonapi::workspace(w, &store));
    Ok(jsonapi::ok(crate::compound::shaped(doc, &q, &sim, &store)?))
}

pub async fn show(State(sim): State<Arc<Sim>>, Path(id): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    let ws = store.workspace(&id).ok_or_else(|| ws_not_found(&id))?;
    Ok(jsonapi::ok(crate::compound::shaped(json!({"data": jsonapi::workspace(ws, &store)}), &q, &sim, &store)?))
}

pub async fn show_by_name(State(sim): State<Arc<Sim>>, Path((org, name)): Path<(String, String)>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    let ws = store.workspace_by_name(&org, &name).ok_or_else(|| ws_not_found(&name))?;
    Ok(jsonapi::ok(crate::compound::shaped(json!({"data": jsonapi::workspace(ws, &store)}), &q, &sim, &store)?))
}

fn validate_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::unprocessable("Name can't be blank"));
    }
    let valid = name.len() <= 90 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(ApiError::unprocessable(
            "Name is invalid: use only letters, numbers, dashes (-) and underscores (_), at most 90 characters",
        ));
    }
    Ok(())
}

/// Applies the writable attributes of a create/update document to `ws`.
fn apply_attrs(store: &Store, ws: &mut Workspace, data: &Map<String, Value>) -> Result<(), ApiError> {
    let attrs = jsonapi::attributes(data)?;
    if let Some(name) = attr_string(&attrs, "name")? {
        validate_name(&name)?;
        if name != ws.name && store.workspace_by_name(&ws.org, &name).is_some() {
            return Err(ApiError::unprocessable("Name has already been taken"));
        }
        ws.name = name;
    }
    if attrs.contains_key("description") {
        ws.description = attr_string(&attrs, "description")?;
    }
    if let Some(v) = attr_bool(&attrs, "auto-apply")? {
        ws.auto_apply = v;
    }
    if let Some(v) = attr_bool(&attrs, "allow-destroy-plan")? {
        ws.allow_destroy_plan = v;
    }
    // The docs' own samples use both spellings.
    if let Some(v) = attr_string(&attrs, "terraform-version")?.or(attr_string(&attrs, "terraform_version")?) {
        ws.terraform_version = v;
    }
    if attrs.contains_key("working-directory") {
        ws.working_directory = attr_string(&attrs, "working-directory")?.filter(|s| !s.is_empty());
    }
    if let Some(mode) = attr_string(&attrs, "execution-mode")? {
        if !matches!(mode.as_str(), "remote" | "local" | "agent") {
            return Err(ApiError::unprocessable("Execution mode must be one of remote, local, agent"));
        }
        ws.execution_mode = mode;
    }
    if let Some(tags) = attr_strings(&attrs, "tag-names")? {
        ws.tags = tags;
    }
    if let Some(project) = jsonapi::relationship_id(data, "project") {
        match store.project(&project) {
            Some(p) if p.org == ws.org => ws.project_id = project,
            _ => {
                return Err(ApiError::unprocessable(format!("Project {project} not found")));
            }
        }
    }
    Ok(())
}

fn check_type(data: &Map<String, Value>, expected: &str) -> Result<(), ApiError> {
    match data.get("type").and_then(Value::as_str) {
        Some(t) if t != expected => Err(ApiError::unprocessable(format!("Expected type '{expected}', got '{t}'"))),
        _ => Ok(()),
    }
}

pub async fn create(State(sim): State<Arc<Sim>>, Path(org): Path<String>, body: Bytes) -> ApiResult {
    let doc = jsonapi::parse_body(&body)?;
    let mut store = sim.store();
    let o = store.organization(&org).ok_or_else(|| ApiError::not_found(format!("Organization '{org}' not found.")))?;
    let data = jsonapi::primary_data(&doc)?;
    check_type(data, "workspaces")?;
    let attrs = jsonapi::attributes(data)?;
    let name = attr_string(&attrs, "name")?.unwrap_or_default();
    validate_name(&name)?;
    if store.workspace_by_name(&org, &name).is_some() {
        return Err(ApiError::unprocessable("Name has already been taken"));
    }
    let now = Utc::now();
    let mut ws = Workspace {
        id: ids::random_id("ws"),
        org: org.clone(),
        name,
        description: None,
        project_id: o.default_project_id.clone(),
        created_at: now,
        updated_at: now,
        tags: vec![],
        terraform_version: "1.9.8".into(),
        auto_apply: false,
        execution_mode: "remote".into(),
        working_directory: None,
        allow_destroy_plan: true,
        lock: None,
        current_state_version: None,
        ssh_key_id: None,
    };
    apply_attrs(&store, &mut ws, data)?;
    let bindings = tag_bindings::from_relationship(data)?;
    let body = json!({"data": jsonapi::workspace(&ws, &store)});
    if let Some(b) = bindings {
        tag_bindings::replace(&mut store, &ws.id, &b, now);
    }
    store.workspaces.push(ws);
    Ok(jsonapi::respond(StatusCode::CREATED, body))
}

fn update_workspace(sim: &Sim, id: Option<String>, by_name: Option<(String, String)>, body: &[u8]) -> ApiResult {
    let doc = jsonapi::parse_body(body)?;
    let mut store = sim.store();
    let current = match (&id, &by_name) {
        (Some(id), _) => store.workspace(id).ok_or_else(|| ws_not_found(id))?,
        (None, Some((org, name))) => store.workspace_by_name(org, name).ok_or_else(|| ws_not_found(name))?,
        (None, None) => return Err(ApiError::not_found("Workspace not found.")),
    }
    .clone();
    let data = jsonapi::primary_data(&doc)?;
    check_type(data, "workspaces")?;
    let mut ws = current.clone();
    apply_attrs(&store, &mut ws, data)?;
    // The relationship replaces every binding of the workspace.
    if let Some(b) = tag_bindings::from_relationship(data)? {
        tag_bindings::replace(&mut store, &ws.id, &b, Utc::now());
    }
    ws.updated_at = Utc::now();
    let body = json!({"data": jsonapi::workspace(&ws, &store)});
    if let Some(slot) = store.workspace_mut(&current.id) {
        *slot = ws;
    }
    Ok(jsonapi::ok(body))
}

pub async fn update(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    update_workspace(&sim, Some(id), None, &body)
}

pub async fn update_by_name(State(sim): State<Arc<Sim>>, Path(key): Path<(String, String)>, body: Bytes) -> ApiResult {
    update_workspace(&sim, None, Some(key), &body)
}

/// Removes a workspace with its runs, state versions and their blobs.
fn remove(store: &mut Store, id: &str) {
    store.workspaces.retain(|w| w.id != id);
    let runs: Vec<String> = store.runs.iter().filter(|r| r.workspace_id == id).map(|r| r.id.clone()).collect();
    let svs: Vec<String> = store.state_versions.iter().filter(|s| s.workspace_id == id).map(|s| s.id.clone()).collect();
    store.runs.retain(|r| r.workspace_id != id);
    store.state_versions.retain(|s| s.workspace_id != id);
    store.blobs.retain(|_, b| match b {
        BlobRef::State(x) | BlobRef::JsonState(x) => !svs.contains(x),
        BlobRef::PlanLog(x) | BlobRef::ApplyLog(x) | BlobRef::PlanJson(x) => !runs.contains(x),
        BlobRef::Fixed { .. } => true,
    });
}

pub async fn delete(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let mut store = sim.store();
    store.workspace(&id).ok_or_else(|| ws_not_found(&id))?;
    remove(&mut store, &id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn delete_by_name(State(sim): State<Arc<Sim>>, Path((org, name)): Path<(String, String)>) -> ApiResult {
    let mut store = sim.store();
    let id = store.workspace_by_name(&org, &name).ok_or_else(|| ws_not_found(&name))?.id.clone();
    remove(&mut store, &id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Deletes only a workspace that is unlocked and manages no resources.
pub async fn safe_delete(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let mut store = sim.store();
    let ws = store.workspace(&id).ok_or_else(|| ws_not_found(&id))?;
    if ws.lock.is_some() {
        return Err(ApiError::conflict("Unable to safe-delete workspace: the workspace is locked."));
    }
    if store.current_state_version(&id).is_some_and(|sv| sv.instance_count() > 0) {
        return Err(ApiError::conflict("Unable to safe-delete workspace: the workspace is currently managing resources."));
    }
    remove(&mut store, &id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("prod-*", "prod-database-cluster"));
        assert!(wildcard_match("*-cdn", "frontend-cdn"));
        assert!(wildcard_match("*network*", "core-network"));
        assert!(!wildcard_match("prod-*", "core-network"));
        assert!(wildcard_match("internal-vpn", "internal-vpn"));
    }
}
