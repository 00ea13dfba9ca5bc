//! Key-value tags ("tag bindings") of workspaces and projects: list, add or
//! update by key (`PATCH .../tag-bindings`), the effective bindings of a
//! workspace (its own plus its project's, its own winning on the same key),
//! replacement through the `tag-bindings` relationship of a workspace
//! update, and the `filter[tagged][i][key|value]` workspace list filter.
//! Bindings are stored as generic records of type `tag-bindings` whose
//! parent is the workspace or project id.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::ids::random_id;
use crate::jsonapi::{self, QueryParams};
use crate::records::Record;
use crate::sim::Sim;
use crate::store::{Store, Time, Workspace};

const TYPE: &str = "tag-bindings";
const MAX_KEY: usize = 128;
const MAX_VALUE: usize = 256;
/// Most `filter[tagged][i]` entries read.
const MAX_FILTERS: usize = 100;

/// A binding as given: (key, value).
pub type Binding = (String, String);

fn bindings_of<'a>(store: &'a Store, parent: &str) -> Vec<&'a Record> {
    store.records.iter().filter(|r| r.type_ == TYPE && r.parent == parent).collect()
}

fn key_of(r: &Record) -> &str {
    r.attributes.get("key").and_then(Value::as_str).unwrap_or_default()
}

fn value_of(r: &Record) -> &str {
    r.attributes.get("value").and_then(Value::as_str).unwrap_or_default()
}

fn render(r: &Record, effective_from: Option<&str>) -> Value {
    match effective_from {
        None => {
            json!({"id": r.id, "type": TYPE, "attributes": {"key": key_of(r), "value": value_of(r), "created-at": jsonapi::ts(r.created_at)}})
        }
        Some(from) => {
            let mut v = json!({"id": r.id, "type": "effective-tag-bindings", "attributes": {"key": key_of(r), "value": value_of(r)}});
            if !from.is_empty() {
                v["links"] = json!({"inherited-from": from});
            }
            v
        }
    }
}

/// `[{"type": "tag-bindings", "attributes": {"key", "value"}}]`, checked.
fn parse_items(items: &Value) -> Result<Vec<Binding>, ApiError> {
    let items = items.as_array().ok_or_else(|| ApiError::unprocessable("Tag bindings must be a list."))?;
    let mut out: Vec<Binding> = Vec::with_capacity(items.len());
    for item in items {
        if item.get("type").and_then(Value::as_str) != Some(TYPE) {
            return Err(ApiError::unprocessable("Every item must be of type 'tag-bindings'."));
        }
        let attrs = item.get("attributes");
        let key = attrs.and_then(|a| a.get("key")).and_then(Value::as_str).unwrap_or_default().trim();
        let value = attrs.and_then(|a| a.get("value")).and_then(Value::as_str).unwrap_or_default();
        if key.is_empty() || key.len() > MAX_KEY || value.chars().count() > MAX_VALUE || key.chars().any(char::is_control) {
            return Err(ApiError::unprocessable("Tag binding keys must be 1 to 128 characters and values at most 256."));
        }
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.to_string(),
            None => out.push((key.to_string(), value.to_string())),
        }
    }
    Ok(out)
}

/// The `tag-bindings` relationship of a create/update document, if given.
pub fn from_relationship(data: &Map<String, Value>) -> Result<Option<Vec<Binding>>, ApiError> {
    match data.get("relationships").and_then(|r| r.get(TYPE)) {
        None => Ok(None),
        Some(rel) => parse_items(rel.get("data").unwrap_or(&Value::Null)).map(Some),
    }
}

/// Makes `bindings` the whole set of `parent`'s own bindings.
pub fn replace(store: &mut Store, parent: &str, bindings: &[Binding], now: Time) {
    store.records.retain(|r| !(r.type_ == TYPE && r.parent == parent && !bindings.iter().any(|(k, _)| k == key_of(r))));
    upsert(store, parent, bindings, now);
}

/// Adds bindings, or changes the value of keys `parent` already has.
fn upsert(store: &mut Store, parent: &str, bindings: &[Binding], now: Time) -> Vec<String> {
    let mut ids = Vec::new();
    for (key, value) in bindings {
        match store.records.iter_mut().find(|r| r.type_ == TYPE && r.parent == parent && key_of(r) == key) {
            Some(r) => {
                r.attributes.insert("value".into(), json!(value));
                ids.push(r.id.clone());
            }
            None => {
                let mut attributes = Map::new();
                attributes.insert("key".into(), json!(key));
                attributes.insert("value".into(), json!(value));
                let id = random_id("tb");
                ids.push(id.clone());
                store.records.push(Record {
                    type_: TYPE,
                    id,
                    parent: parent.to_string(),
                    attributes,
                    relationships: Map::new(),
                    created_at: now,
                });
            }
        }
    }
    ids
}

/// A workspace's effective bindings with where each comes from (`""` for
/// its own, the project's path for inherited ones).
fn effective<'a>(store: &'a Store, ws: &Workspace) -> Vec<(&'a Record, String)> {
    let own = bindings_of(store, &ws.id);
    let mut out: Vec<(&Record, String)> = own.iter().map(|r| (*r, String::new())).collect();
    for r in bindings_of(store, &ws.project_id) {
        if !own.iter().any(|o| key_of(o) == key_of(r)) {
            out.push((r, format!("/api/v2/projects/{}", ws.project_id)));
        }
    }
    out
}

/// `filter[tagged][i][key]` / `[value]`: (key, value if given), in order.
pub fn tagged_filter(q: &QueryParams) -> Vec<(String, Option<String>)> {
    (0..MAX_FILTERS)
        .map_while(|i| {
            let key = q.get(&format!("filter[tagged][{i}][key]"))?;
            Some((key.to_string(), q.get(&format!("filter[tagged][{i}][value]")).map(str::to_string)))
        })
        .collect()
}

/// True when the workspace's effective bindings have every filtered key
/// (with the filtered value, when one is given).
pub fn matches(store: &Store, ws: &Workspace, filter: &[(String, Option<String>)]) -> bool {
    if filter.is_empty() {
        return true;
    }
    let eff = effective(store, ws);
    filter.iter().all(|(k, v)| eff.iter().any(|(r, _)| key_of(r) == k && v.as_deref().is_none_or(|v| value_of(r) == v)))
}

fn ws_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Workspace '{}' not found.", id.chars().take(64).collect::<String>()))
}

fn project_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Project '{}' not found.", id.chars().take(64).collect::<String>()))
}

fn list_doc(sim: &Sim, path: &str, q: &QueryParams, items: Vec<Value>) -> Value {
    jsonapi::paginated(sim, path, q, &items, Clone::clone)
}

pub async fn workspace_list(State(sim): State<Arc<Sim>>, Path(id): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    store.workspace(&id).ok_or_else(|| ws_not_found(&id))?;
    let items = bindings_of(&store, &id).into_iter().map(|r| render(r, None)).collect();
    Ok(jsonapi::ok(list_doc(&sim, &format!("/api/v2/workspaces/{id}/tag-bindings"), &q, items)))
}

pub async fn workspace_effective(State(sim): State<Arc<Sim>>, Path(id): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    let ws = store.workspace(&id).ok_or_else(|| ws_not_found(&id))?;
    let items = effective(&store, ws).into_iter().map(|(r, from)| render(r, Some(&from))).collect();
    Ok(jsonapi::ok(list_doc(&sim, &format!("/api/v2/workspaces/{id}/effective-tag-bindings"), &q, items)))
}

pub async fn project_list(State(sim): State<Arc<Sim>>, Path(id): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    store.project(&id).ok_or_else(|| project_not_found(&id))?;
    let items = bindings_of(&store, &id).into_iter().map(|r| render(r, None)).collect();
    Ok(jsonapi::ok(list_doc(&sim, &format!("/api/v2/projects/{id}/tag-bindings"), &q, items)))
}

/// Projects inherit nothing: their effective bindings are their own.
pub async fn project_effective(State(sim): State<Arc<Sim>>, Path(id): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    store.project(&id).ok_or_else(|| project_not_found(&id))?;
    let items = bindings_of(&store, &id).into_iter().map(|r| render(r, Some(""))).collect();
    Ok(jsonapi::ok(list_doc(&sim, &format!("/api/v2/projects/{id}/effective-tag-bindings"), &q, items)))
}

fn add_or_update(sim: &Sim, parent: &str, body: &[u8]) -> ApiResult {
    let doc = jsonapi::parse_body(body)?;
    let bindings = parse_items(doc.get("data").unwrap_or(&Value::Null))?;
    if bindings.is_empty() {
        return Err(ApiError::unprocessable("Give at least one tag binding."));
    }
    let mut store = sim.store();
    let ids = upsert(&mut store, parent, &bindings, Utc::now());
    let items: Vec<Value> =
        ids.iter().filter_map(|id| store.records.iter().find(|r| r.type_ == TYPE && &r.id == id)).map(|r| render(r, None)).collect();
    Ok(jsonapi::ok(json!({"data": items})))
}

pub async fn workspace_patch(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    sim.store().workspace(&id).ok_or_else(|| ws_not_found(&id))?;
    add_or_update(&sim, &id, &body)
}

pub async fn project_patch(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    sim.store().project(&id).ok_or_else(|| project_not_found(&id))?;
    add_or_update(&sim, &id, &body)
}
