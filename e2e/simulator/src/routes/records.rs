//! Serves the generic resources of [`crate::records`]: the API router's
//! fallback matches the request path against every [`Kind`] and
//! [`RelationshipList`] row before answering 404.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::ids::random_id;
use crate::jsonapi::{self, QueryParams};
use crate::records::{self, Kind, Parent, Record, RelationshipList};
use crate::sim::Sim;
use crate::store::Store;

const API: &str = "/api/v2";

pub async fn dispatch(State(sim): State<Arc<Sim>>, method: Method, uri: Uri, q: QueryParams, body: Bytes) -> Response {
    match route(&sim, &method, uri.path(), &q, &body) {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

fn route(sim: &Sim, method: &Method, path: &str, q: &QueryParams, body: &[u8]) -> ApiResult {
    let not_found = || ApiError::not_found("No such endpoint.");
    let path = path.strip_prefix(API).ok_or_else(not_found)?;
    for rl in records::relationship_lists() {
        if let Some((_, Some(id))) = records::match_path(rl.path, path) {
            return match *method {
                Method::POST => relationship_change(sim, rl, &id, body, true),
                Method::DELETE => relationship_change(sim, rl, &id, body, false),
                _ => Err(ApiError::method_not_allowed()),
            };
        }
    }
    for kind in records::kinds() {
        if let Some((parent, Some(id))) = records::match_path(kind.item, path) {
            return match *method {
                Method::GET if kind.ops.show => show(sim, kind, parent.as_deref(), &id),
                Method::PATCH if kind.ops.update => update(sim, kind, parent.as_deref(), &id, body),
                Method::DELETE if kind.ops.delete => delete(sim, kind, parent.as_deref(), &id),
                _ => Err(ApiError::method_not_allowed()),
            };
        }
        if let Some((parent, None)) = records::match_path(kind.collection, path) {
            // A collection without `{parent}`: the parent is named by a
            // query filter or the created document, or there is none.
            let parent = match (parent, kind.parent_query) {
                (Some(p), _) => Some(p),
                (None, Some(param)) if *method == Method::GET => Some(
                    q.non_empty(param)
                        .map(str::to_owned)
                        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "bad request", format!("{param} is required.")))?,
                ),
                (None, _) if kind.parent == Parent::Global || kind.parent_query.is_some() => None,
                (None, _) => continue,
            };
            return match *method {
                Method::GET if kind.ops.list => list(sim, kind, parent.as_deref().unwrap_or_default(), path, q),
                Method::POST if kind.ops.create => create(sim, kind, parent.as_deref(), body),
                _ => Err(ApiError::method_not_allowed()),
            };
        }
    }
    Err(not_found())
}

fn parent_exists(store: &Store, parent: Parent, key: &str) -> bool {
    match parent {
        Parent::Organization => store.organization(key).is_some(),
        Parent::Workspace => store.workspace(key).is_some(),
        Parent::Project => store.project(key).is_some(),
        Parent::Run => store.runs.iter().any(|r| r.id == key),
        Parent::Global => true,
        Parent::Record(t) => store.records.iter().any(|r| r.type_ == t && r.id == key),
    }
}

fn parent_missing(kind: &Kind, key: &str) -> ApiError {
    let what = match kind.parent {
        Parent::Organization => "Organization",
        _ => "Resource",
    };
    ApiError::not_found(format!("{what} '{}' not found.", jsonapi_safe(key)))
}

/// Echoed ids are cut short: a client's garbage does not come back whole.
fn jsonapi_safe(s: &str) -> String {
    s.chars().take(64).collect()
}

fn find<'a>(store: &'a Store, kind: &Kind, parent: Option<&str>, id: &str) -> ApiResult<&'a Record> {
    store
        .records
        .iter()
        .find(|r| r.type_ == kind.type_ && r.id == id && parent.is_none_or(|p| r.parent == p))
        .ok_or_else(|| ApiError::not_found(format!("{} '{}' not found.", kind.type_, jsonapi_safe(id))))
}

fn list(sim: &Sim, kind: &Kind, parent: &str, path: &str, q: &QueryParams) -> ApiResult {
    let store = sim.store();
    if !parent_exists(&store, kind.parent, parent) {
        return Err(parent_missing(kind, parent));
    }
    let needle = q.non_empty("q").or_else(|| q.non_empty("search[name]")).map(str::to_lowercase);
    let filters: Vec<(&str, Vec<String>)> =
        kind.filters.iter().map(|(param, attr)| (*attr, q.list(param))).filter(|(_, values)| !values.is_empty()).collect();
    let items: Vec<&Record> = store
        .records
        .iter()
        .filter(|r| r.type_ == kind.type_ && r.parent == parent)
        .filter(|r| match &needle {
            Some(n) => {
                kind.search.iter().any(|a| r.attributes.get(*a).and_then(Value::as_str).is_some_and(|v| v.to_lowercase().contains(n)))
            }
            None => true,
        })
        .filter(|r| {
            filters
                .iter()
                .all(|(attr, values)| r.attributes.get(*attr).and_then(Value::as_str).is_some_and(|v| values.iter().any(|x| x == v)))
        })
        .collect();
    let full = format!("{API}{path}");
    Ok(jsonapi::ok(jsonapi::paginated(sim, &full, q, &items, |r| records::render(kind, r, API))))
}

fn show(sim: &Sim, kind: &Kind, parent: Option<&str>, id: &str) -> ApiResult {
    let store = sim.store();
    let r = find(&store, kind, parent, id)?;
    Ok(jsonapi::ok(json!({"data": records::render(kind, r, API)})))
}

/// `data.relationships.*.data`, which must be an object, an array or null.
fn relationships(data: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let mut out = Map::new();
    let Some(rels) = data.get("relationships") else { return Ok(out) };
    let rels = rels.as_object().ok_or_else(|| ApiError::unprocessable("'data.relationships' must be an object."))?;
    for (name, rel) in rels {
        match rel.get("data") {
            Some(v @ (Value::Object(_) | Value::Array(_) | Value::Null)) => {
                out.insert(name.clone(), v.clone());
            }
            _ => return Err(ApiError::unprocessable(format!("Relationship '{name}' must have a 'data' member."))),
        }
    }
    Ok(out)
}

fn check_type(kind: &Kind, data: &Map<String, Value>) -> ApiResult<()> {
    match data.get("type").and_then(Value::as_str) {
        Some(t) if t == kind.type_ => Ok(()),
        _ => Err(ApiError::new(StatusCode::CONFLICT, "conflict", format!("The resource type must be '{}'.", kind.type_))),
    }
}

fn check_unique(store: &Store, kind: &Kind, parent: &str, except: Option<&str>, attrs: &Map<String, Value>) -> ApiResult<()> {
    let Some(key) = kind.unique else { return Ok(()) };
    let Some(value) = attrs.get(key).filter(|v| !v.is_null()) else { return Ok(()) };
    let taken = store
        .records
        .iter()
        .any(|r| r.type_ == kind.type_ && r.parent == parent && Some(r.id.as_str()) != except && r.attributes.get(key) == Some(value));
    if taken { Err(ApiError::unprocessable(format!("{key} has already been taken"))) } else { Ok(()) }
}

fn create(sim: &Sim, kind: &Kind, parent: Option<&str>, body: &[u8]) -> ApiResult {
    let doc = jsonapi::parse_body(body)?;
    let data = jsonapi::primary_data(&doc)?;
    check_type(kind, data)?;
    let attrs = jsonapi::attributes(data)?;
    for req in kind.required {
        if attrs.get(*req).is_none_or(Value::is_null) {
            return Err(ApiError::unprocessable(format!("{req} can't be blank")));
        }
    }
    let rels = relationships(data)?;
    let from_doc = kind.parent_rel.and_then(|rel| rels.get(rel)).and_then(|d| d.get("id")).and_then(Value::as_str).map(str::to_owned);
    let parent = match (parent, kind.parent) {
        (Some(p), _) => p.to_owned(),
        (None, Parent::Global) => String::new(),
        (None, _) => from_doc.ok_or_else(|| ApiError::unprocessable(format!("{} can't be blank", kind.parent_rel.unwrap_or("parent"))))?,
    };
    let parent = parent.as_str();
    let mut store = sim.store();
    if !parent_exists(&store, kind.parent, parent) {
        return Err(parent_missing(kind, parent));
    }
    check_unique(&store, kind, parent, None, &attrs)?;
    let mut record = Record::seeded(kind, &random_id(kind.prefix), parent, Value::Object(attrs), Utc::now());
    record.relationships = rels;
    let rendered = records::render(kind, &record, API);
    store.records.push(record);
    Ok(jsonapi::respond(StatusCode::CREATED, json!({"data": rendered})))
}

fn update(sim: &Sim, kind: &Kind, parent: Option<&str>, id: &str, body: &[u8]) -> ApiResult {
    let doc = jsonapi::parse_body(body)?;
    let data = jsonapi::primary_data(&doc)?;
    check_type(kind, data)?;
    let attrs = jsonapi::attributes(data)?;
    let rels = relationships(data)?;
    let mut store = sim.store();
    let owner = find(&store, kind, parent, id)?.parent.clone();
    check_unique(&store, kind, &owner, Some(id), &attrs)?;
    let r = store.records.iter_mut().find(|r| r.type_ == kind.type_ && r.id == id).expect("found above");
    r.attributes.extend(attrs);
    r.relationships.extend(rels);
    Ok(jsonapi::ok(json!({"data": records::render(kind, r, API)})))
}

fn delete(sim: &Sim, kind: &Kind, parent: Option<&str>, id: &str) -> ApiResult {
    let mut store = sim.store();
    find(&store, kind, parent, id)?;
    // Children of the deleted record go with it (a set's variables).
    let children: Vec<&'static str> = records::kinds().filter(|k| k.parent == Parent::Record(kind.type_)).map(|k| k.type_).collect();
    let doomed = |r: &Record| (r.type_ == kind.type_ && r.id == id) || (children.contains(&r.type_) && r.parent == id);
    store.records.retain(|r| !doomed(r));
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn item_exists(store: &Store, type_: &str, id: &str) -> bool {
    match type_ {
        "workspaces" => store.workspace(id).is_some(),
        "projects" => store.project(id).is_some(),
        "users" => store.users.iter().any(|u| u.id == id),
        t => store.records.iter().any(|r| r.type_ == t && r.id == id),
    }
}

fn relationship_change(sim: &Sim, rl: &RelationshipList, id: &str, body: &[u8], add: bool) -> ApiResult {
    let doc = jsonapi::parse_body(body)?;
    let items = doc.get("data").and_then(Value::as_array).ok_or_else(|| ApiError::unprocessable("'data' must be an array."))?;
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let (Some(t), Some(i)) = (item.get("type").and_then(Value::as_str), item.get("id").and_then(Value::as_str)) else {
            return Err(ApiError::unprocessable("Every item needs a 'type' and an 'id'."));
        };
        if t != rl.item_type {
            return Err(ApiError::unprocessable(format!("Items must be of type '{}'.", rl.item_type)));
        }
        ids.push(i.to_string());
    }
    let mut store = sim.store();
    if !store.records.iter().any(|r| r.type_ == rl.owner_type && r.id == id) {
        return Err(ApiError::not_found(format!("{} '{}' not found.", rl.owner_type, jsonapi_safe(id))));
    }
    if let Some(missing) = ids.iter().find(|i| !item_exists(&store, rl.item_type, i)) {
        return Err(ApiError::not_found(format!("{} '{}' not found.", rl.item_type, jsonapi_safe(missing))));
    }
    let r = store.records.iter_mut().find(|r| r.type_ == rl.owner_type && r.id == id).expect("checked above");
    let mut current = r.rel_ids(rl.rel);
    if add {
        for i in ids {
            if !current.contains(&i) {
                current.push(i);
            }
        }
    } else {
        current.retain(|c| !ids.contains(c));
    }
    let data: Vec<Value> = current.iter().map(|i| json!({"id": i, "type": rl.item_type})).collect();
    r.relationships.insert(rl.rel.to_string(), Value::Array(data));
    Ok(StatusCode::NO_CONTENT.into_response())
}
