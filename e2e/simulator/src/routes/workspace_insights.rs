//! Remote state consumers (list, add, remove, replace: the workspaces
//! samples), assessment outputs (`json-output` / `log-output` answer 307 to
//! a temporary blob URL, like a plan's JSON output) and a workspace's
//! README for `?include=readme`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::jsonapi::{self, QueryParams};
use crate::kinds::workspace_insights::{ASSESSMENT_RESULT, CONSUMERS, readme};
use crate::records::Record;
use crate::sim::Sim;
use crate::store::{Store, Workspace};

fn ws_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Workspace '{}' not found.", id.chars().take(64).collect::<String>()))
}

fn consumer_ids(store: &Store, ws_id: &str) -> Vec<String> {
    store.records.iter().find(|r| r.type_ == CONSUMERS && r.parent == ws_id).map(|r| r.rel_ids("workspaces")).unwrap_or_default()
}

pub async fn list_consumers(State(sim): State<Arc<Sim>>, Path(id): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    store.workspace(&id).ok_or_else(|| ws_not_found(&id))?;
    let ids = consumer_ids(&store, &id);
    let items: Vec<&Workspace> = ids.iter().filter_map(|i| store.workspace(i)).collect();
    let path = format!("/api/v2/workspaces/{id}/relationships/remote-state-consumers");
    Ok(jsonapi::ok(jsonapi::paginated(&sim, &path, &q, &items, |w| jsonapi::workspace(w, &store))))
}

pub async fn add_consumers(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    change_consumers(&sim, &id, &body, |current, given| {
        for g in given {
            if !current.contains(&g) {
                current.push(g);
            }
        }
    })
}

pub async fn remove_consumers(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    change_consumers(&sim, &id, &body, |current, given| current.retain(|c| !given.contains(c)))
}

pub async fn replace_consumers(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    change_consumers(&sim, &id, &body, |current, given| *current = given)
}

/// `{"data": [{"type": "workspaces", "id"}]}`: every consumer must be
/// another workspace of the same organization (HCP Terraform shares state
/// only within an organization).
fn change_consumers(sim: &Sim, id: &str, body: &[u8], apply: impl FnOnce(&mut Vec<String>, Vec<String>)) -> ApiResult {
    let doc = jsonapi::parse_body(body)?;
    let items = doc.get("data").and_then(Value::as_array).ok_or_else(|| ApiError::unprocessable("'data' must be an array."))?;
    let mut given = Vec::with_capacity(items.len());
    for item in items {
        match (item.get("type").and_then(Value::as_str), item.get("id").and_then(Value::as_str)) {
            (Some("workspaces"), Some(i)) => given.push(i.to_string()),
            _ => return Err(ApiError::unprocessable("Every item needs \"type\": \"workspaces\" and an 'id'.")),
        }
    }
    let mut store = sim.store();
    let org = store.workspace(id).ok_or_else(|| ws_not_found(id))?.org.clone();
    for g in &given {
        let consumer = store.workspace(g).ok_or_else(|| ws_not_found(g))?;
        if consumer.org != org {
            return Err(ApiError::unprocessable("Remote state consumers must belong to the same organization."));
        }
        if g == id {
            return Err(ApiError::unprocessable("A workspace cannot be its own remote state consumer."));
        }
    }
    let mut current = consumer_ids(&store, id);
    apply(&mut current, given);
    store.records.retain(|r| !(r.type_ == CONSUMERS && r.parent == id));
    let ids: Vec<&str> = current.iter().map(String::as_str).collect();
    let record = Record {
        type_: CONSUMERS,
        id: format!("rsc-{id}"),
        parent: id.to_string(),
        attributes: Default::default(),
        relationships: Default::default(),
        created_at: chrono::Utc::now(),
    }
    .with_rels("workspaces", "workspaces", &ids);
    store.records.push(record);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn redirect_to_output(sim: &Sim, id: &str, which: &str) -> ApiResult {
    let store = sim.store();
    let r = store
        .records
        .iter()
        .find(|r| r.type_ == ASSESSMENT_RESULT.type_ && r.id == id)
        .ok_or_else(|| ApiError::not_found(format!("Assessment result '{}' not found.", id.chars().take(64).collect::<String>())))?;
    let blob = r.attributes.get(which).and_then(Value::as_str).unwrap_or_default();
    let mut resp = StatusCode::TEMPORARY_REDIRECT.into_response();
    if let Ok(v) = HeaderValue::from_str(&sim.blob_url(blob)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

pub async fn assessment_json_output(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    redirect_to_output(&sim, &id, "json-blob")
}

pub async fn assessment_log_output(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    redirect_to_output(&sim, &id, "log-blob")
}

/// Adds the README to a shown workspace when the request asks
/// `include=readme` (the relationship itself is always rendered).
pub fn include_readme(store: &Store, ws_id: &str, q: &QueryParams, doc: &mut Value) {
    let wanted = q.list("include").iter().any(|i| i == "readme");
    if let (true, Some(r)) = (wanted, readme(store, ws_id)) {
        doc["included"] = json!([{"id": r.id, "type": r.type_, "attributes": r.attributes}]);
    }
}

/// The `readme` and `current-assessment-result` relationships of a workspace.
pub fn workspace_relationships(store: &Store, ws_id: &str) -> (Value, Value) {
    let readme = readme(store, ws_id).map(|r| json!({"data": {"id": r.id, "type": r.type_}})).unwrap_or(json!({"data": null}));
    let assessment = crate::kinds::workspace_insights::current_assessment(store, ws_id)
        .map(|id| json!({"data": {"id": id, "type": "assessment-results"}, "links": {"related": format!("/api/v2/assessment-results/{id}")}}))
        .unwrap_or(json!({"data": null}));
    (readme, assessment)
}
