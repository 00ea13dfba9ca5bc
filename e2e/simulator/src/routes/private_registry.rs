//! Registry lookups by name (`/organizations/:org/registry-modules/:registry/:namespace/:name/:provider`,
//! `/registry-providers/:registry/:namespace/:name[/versions]`) and
//! creating a workspace from a no-code module (`POST /no-code-modules/:id/workspaces`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::jsonapi::{self, QueryParams};
use crate::kinds::private_registry::{NO_CODE_MODULE, PROVIDER_VERSION, REGISTRY_MODULE, REGISTRY_PROVIDER, VARIABLE_OPTIONS};
use crate::kinds::variables::WORKSPACE_VARIABLE;
use crate::records::{self, Kind, Record};
use crate::sim::Sim;
use crate::store::{Store, Workspace};

const API: &str = "/api/v2";

fn attr<'a>(r: &'a Record, k: &str) -> &'a str {
    r.attributes.get(k).and_then(Value::as_str).unwrap_or_default()
}

/// The record of `kind` in `org` with these registry, namespace and name
/// (and provider, for modules).
fn by_name<'a>(
    store: &'a Store,
    kind: &Kind,
    org: &str,
    registry: &str,
    namespace: &str,
    name: &str,
    provider: Option<&str>,
) -> ApiResult<&'a Record> {
    store
        .records
        .iter()
        .find(|r| {
            r.type_ == kind.type_
                && r.parent == org
                && attr(r, "registry-name") == registry
                && attr(r, "namespace") == namespace
                && attr(r, "name") == name
                && provider.is_none_or(|p| attr(r, "provider") == p)
        })
        .ok_or_else(|| ApiError::not_found("Registry resource not found."))
}

fn rendered(kind: &Kind, r: &Record, self_link: String) -> Value {
    let mut v = records::render(kind, r, API);
    v["links"]["self"] = json!(self_link);
    v
}

pub async fn module(
    State(sim): State<Arc<Sim>>,
    Path((org, registry, namespace, name, provider)): Path<(String, String, String, String, String)>,
) -> ApiResult {
    let store = sim.store();
    let r = by_name(&store, &REGISTRY_MODULE, &org, &registry, &namespace, &name, Some(&provider))?;
    let link = format!("{API}/organizations/{org}/registry-modules/{registry}/{namespace}/{name}/{provider}");
    Ok(jsonapi::ok(json!({"data": rendered(&REGISTRY_MODULE, r, link)})))
}

pub async fn provider(
    State(sim): State<Arc<Sim>>,
    Path((org, registry, namespace, name)): Path<(String, String, String, String)>,
) -> ApiResult {
    let store = sim.store();
    let r = by_name(&store, &REGISTRY_PROVIDER, &org, &registry, &namespace, &name, None)?;
    let link = format!("{API}/organizations/{org}/registry-providers/{registry}/{namespace}/{name}");
    Ok(jsonapi::ok(json!({"data": rendered(&REGISTRY_PROVIDER, r, link)})))
}

pub async fn provider_versions(
    State(sim): State<Arc<Sim>>,
    Path((org, registry, namespace, name)): Path<(String, String, String, String)>,
    q: QueryParams,
) -> ApiResult {
    let store = sim.store();
    if registry != "private" {
        return Err(ApiError::not_found("Only private providers have versions here."));
    }
    let p = by_name(&store, &REGISTRY_PROVIDER, &org, &registry, &namespace, &name, None)?;
    let items: Vec<&Record> = store.records.iter().filter(|r| r.type_ == PROVIDER_VERSION.type_ && r.parent == p.id).collect();
    let path = format!("{API}/organizations/{org}/registry-providers/{registry}/{namespace}/{name}/versions");
    Ok(jsonapi::ok(jsonapi::paginated(&sim, &path, &q, &items, |r| records::render(&PROVIDER_VERSION, r, API))))
}

/// A no-code module; `include=variable_options` adds the allowed values of its variables.
pub async fn no_code_module(State(sim): State<Arc<Sim>>, Path(id): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    let r = store
        .records
        .iter()
        .find(|r| r.type_ == NO_CODE_MODULE.type_ && r.id == id)
        .ok_or_else(|| ApiError::not_found(format!("No-code module '{}' not found.", id.chars().take(64).collect::<String>())))?;
    let mut doc = json!({"data": records::render(&NO_CODE_MODULE, r, API)});
    if q.list("include").iter().any(|i| i == "variable_options") {
        let included: Vec<Value> = store
            .records
            .iter()
            .filter(|o| o.type_ == VARIABLE_OPTIONS && o.parent == id)
            .map(|o| {
                json!({"id": o.id, "type": o.type_, "attributes": o.attributes,
                            "relationships": {"no-code-allowed-module": {"data": {"id": id, "type": "no-code-allowed-modules"}}}})
            })
            .collect();
        doc["included"] = json!(included);
    }
    Ok(jsonapi::ok(doc))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 90 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// One variable of the request: `{type: vars, attributes: {key, value, category, hcl, sensitive}}`.
fn variable(item: &Value) -> ApiResult<Value> {
    let a = item.get("attributes").and_then(Value::as_object).ok_or_else(|| ApiError::unprocessable("Every variable needs attributes."))?;
    let key = a
        .get("key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::unprocessable("Variable key can't be blank"))?;
    Ok(json!({"key": key, "value": a.get("value").cloned().unwrap_or(json!("")),
              "category": a.get("category").and_then(Value::as_str).unwrap_or("terraform"),
              "hcl": a.get("hcl").and_then(Value::as_bool).unwrap_or(false),
              "sensitive": a.get("sensitive").and_then(Value::as_bool).unwrap_or(false)}))
}

pub async fn create_no_code_workspace(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let doc = jsonapi::parse_body(&body)?;
    let data = jsonapi::primary_data(&doc)?;
    if data.get("type").and_then(Value::as_str) != Some("workspaces") {
        return Err(ApiError::conflict("The resource type must be 'workspaces'."));
    }
    let attrs = jsonapi::attributes(data)?;
    let name = attrs.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
    if !valid_name(&name) {
        return Err(ApiError::unprocessable("Name is invalid: use only letters, numbers, dashes (-) and underscores (_)"));
    }
    let vars: Vec<Value> = match data.get("relationships").and_then(|r| r.pointer("/vars/data")) {
        Some(Value::Array(items)) => items.iter().map(variable).collect::<ApiResult<_>>()?,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(ApiError::unprocessable("'vars' must be a list.")),
    };
    let mut store = sim.store();
    let module = store
        .records
        .iter()
        .find(|r| r.type_ == NO_CODE_MODULE.type_ && r.id == id)
        .ok_or_else(|| ApiError::not_found(format!("No-code module '{}' not found.", id.chars().take(64).collect::<String>())))?;
    let org = module.parent.clone();
    let source = module.rel_ids("registry-module").first().cloned().unwrap_or_default();
    let default_project = store.organization(&org).map(|o| o.default_project_id.clone()).unwrap_or_default();
    let project_id = match data.get("relationships").and_then(|r| r.pointer("/project/data/id")).and_then(Value::as_str) {
        Some(p) => {
            if store.project(p).is_none_or(|prj| prj.org != org) {
                return Err(ApiError::not_found(format!("Project '{}' not found.", p.chars().take(64).collect::<String>())));
            }
            p.to_string()
        }
        None => default_project,
    };
    if store.workspace_by_name(&org, &name).is_some() {
        return Err(ApiError::unprocessable("Name has already been taken"));
    }
    let now = Utc::now();
    let ws = Workspace {
        id: ids::random_id("ws"),
        org: org.clone(),
        name,
        description: attrs.get("description").and_then(Value::as_str).map(str::to_string),
        project_id,
        created_at: now,
        updated_at: now,
        tags: vec![],
        terraform_version: "1.9.8".into(),
        auto_apply: attrs.get("auto-apply").and_then(Value::as_bool).unwrap_or(false),
        execution_mode: "remote".into(),
        working_directory: None,
        allow_destroy_plan: true,
        lock: None,
        current_state_version: None,
        ssh_key_id: None,
    };
    for v in vars {
        store.records.push(Record::seeded(&WORKSPACE_VARIABLE, &ids::random_id("var"), &ws.id, v, now));
    }
    let mut rendered = jsonapi::workspace(&ws, &store);
    rendered["attributes"]["source"] = json!("tfe-module");
    rendered["attributes"]["source-module-id"] = json!(source);
    store.workspaces.push(ws);
    Ok(jsonapi::respond(StatusCode::CREATED, json!({"data": rendered})))
}
