//! The blob origin ("archivist"): serves state files, logs and JSON plans at
//! opaque URLs handed out by the API. Like a presigned-URL store it needs no
//! credentials, and it refuses any request that carries an `Authorization`
//! header so that tests catch clients leaking their API token to it.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::sim::{RequestRecord, Sim};
use crate::store::{BlobRef, Run, RunStatus, StateVersion, Store};

pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/v1/object/{key}", get(object))
        .fallback(|| async { ApiError::not_found("No such object.") })
        .layer(middleware::from_fn_with_state(sim.clone(), guard))
        .with_state(sim)
}

/// Rejects credentials and records every request in the test log.
async fn guard(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let resp = if req.headers().contains_key(header::AUTHORIZATION) {
        tracing::warn!(%path, "blob request carried an Authorization header; rejected");
        ApiError::bad_request("Requests to the blob storage must not carry an Authorization header; the URL itself grants access.")
            .into_response()
    } else {
        next.run(req).await
    };
    sim.record(RequestRecord {
        method,
        path,
        query,
        status: resp.status().as_u16(),
        ts: crate::jsonapi::ts(chrono::Utc::now()),
        origin: "blob",
    });
    resp
}

async fn object(State(sim): State<Arc<Sim>>, Path(key): Path<String>) -> Response {
    let store = sim.store();
    let Some(blob) = store.blobs.get(&key) else {
        return ApiError::not_found("No such object.").into_response();
    };
    let rendered = match blob {
        BlobRef::State(id) => store.state_version(id).map(|sv| json_body(raw_state(sv))),
        BlobRef::JsonState(id) => store.state_version(id).map(|sv| json_body(json_state(sv))),
        BlobRef::PlanLog(id) => store.run(id).map(|r| log_body(plan_log(r))),
        BlobRef::ApplyLog(id) => store.run(id).map(|r| log_body(apply_log(r))),
        BlobRef::PlanJson(id) => store.run(id).map(|r| json_body(plan_json(r, &store))),
        BlobRef::Fixed { content_type, body } => Some(fixed_body(content_type, body.clone())),
    };
    rendered.unwrap_or_else(|| ApiError::not_found("No such object.").into_response())
}

fn json_body(v: Value) -> Response {
    let mut resp = (StatusCode::OK, serde_json::to_string_pretty(&v).unwrap_or_default()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn fixed_body(content_type: &'static str, body: String) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

fn log_body(text: String) -> Response {
    let mut resp = (StatusCode::OK, text).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}

/// `provider["registry.terraform.io/hashicorp/aws"]` -> `registry.terraform.io/hashicorp/aws`.
fn provider_name(provider: &str) -> &str {
    provider.strip_prefix("provider[\"").and_then(|s| s.strip_suffix("\"]")).unwrap_or(provider)
}

/// The raw `terraform.tfstate` (format version 4).
/// Attributes the providers' schemas mark sensitive, by resource type: the
/// state records them (`sensitive_attributes` paths in the raw state,
/// `sensitive_values` in the JSON state) so readers can hide them.
const SENSITIVE_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("aws_rds_cluster", &["master_password"]),
    ("aws_vpn_connection", &["tunnel1_preshared_key", "tunnel2_preshared_key"]),
    ("aws_db_instance", &["password"]),
];

/// The sensitive attributes an instance of `type_name` actually has.
fn sensitive_attributes<'a>(type_name: &str, attributes: &'a Value) -> impl Iterator<Item = &'static str> + 'a {
    let names = SENSITIVE_ATTRIBUTES.iter().find(|(t, _)| *t == type_name).map(|(_, n)| *n).unwrap_or(&[]);
    names.iter().copied().filter(move |n| attributes.get(*n).is_some())
}

pub fn raw_state(sv: &StateVersion) -> Value {
    let mut outputs = Map::new();
    for o in &sv.outputs {
        let mut entry = json!({"value": o.value, "type": o.type_expr});
        if o.sensitive {
            entry["sensitive"] = json!(true);
        }
        outputs.insert(o.name.clone(), entry);
    }
    let resources: Vec<Value> = sv
        .resources
        .iter()
        .map(|r| {
            let instances: Vec<Value> = r
                .instances
                .iter()
                .map(|i| {
                    let mut inst = Map::new();
                    if let Some(k) = &i.index_key {
                        inst.insert("index_key".into(), k.clone());
                    }
                    inst.insert("schema_version".into(), json!(0));
                    inst.insert("attributes".into(), i.attributes.clone());
                    let paths: Vec<Value> =
                        sensitive_attributes(&r.type_name, &i.attributes).map(|n| json!([{"type": "get_attr", "value": n}])).collect();
                    inst.insert("sensitive_attributes".into(), json!(paths));
                    Value::Object(inst)
                })
                .collect();
            let mut res = Map::new();
            if let Some(m) = &r.module {
                res.insert("module".into(), json!(m));
            }
            res.insert("mode".into(), json!(r.mode));
            res.insert("type".into(), json!(r.type_name));
            res.insert("name".into(), json!(r.name));
            res.insert("provider".into(), json!(r.provider));
            res.insert("instances".into(), json!(instances));
            Value::Object(res)
        })
        .collect();
    json!({
        "version": 4,
        "terraform_version": sv.terraform_version,
        "serial": sv.serial,
        "lineage": sv.lineage,
        "outputs": outputs,
        "resources": resources,
        "check_results": null
    })
}

/// The `terraform show -json` rendering of a state.
pub fn json_state(sv: &StateVersion) -> Value {
    let mut outputs = Map::new();
    for o in &sv.outputs {
        outputs.insert(o.name.clone(), json!({"sensitive": o.sensitive, "value": o.value, "type": o.type_expr}));
    }
    let mut root = Vec::new();
    let mut children: Vec<(String, Vec<Value>)> = Vec::new();
    for r in &sv.resources {
        for i in &r.instances {
            let prefix = if r.mode == "data" { format!("data.{}", r.type_name) } else { r.type_name.clone() };
            let mut address = format!("{prefix}.{}", r.name);
            if let Some(k) = &i.index_key {
                address.push_str(&format!("[{k}]"));
            }
            if let Some(m) = &r.module {
                address = format!("{m}.{address}");
            }
            let mut res = json!({
                "address": address,
                "mode": r.mode,
                "type": r.type_name,
                "name": r.name,
                "provider_name": provider_name(&r.provider),
                "schema_version": 0,
                "values": i.attributes,
                "sensitive_values": sensitive_attributes(&r.type_name, &i.attributes).map(|n| (n.to_owned(), json!(true))).collect::<Map<String, Value>>()
            });
            if let Some(k) = &i.index_key {
                res["index"] = k.clone();
            }
            match &r.module {
                None => root.push(res),
                Some(m) => match children.iter_mut().find(|(name, _)| name == m) {
                    Some((_, list)) => list.push(res),
                    None => children.push((m.clone(), vec![res])),
                },
            }
        }
    }
    let mut root_module = json!({"resources": root});
    if !children.is_empty() {
        root_module["child_modules"] =
            json!(children.into_iter().map(|(address, resources)| json!({"address": address, "resources": resources})).collect::<Vec<_>>());
    }
    json!({
        "format_version": "1.0",
        "terraform_version": sv.terraform_version,
        "values": {"outputs": outputs, "root_module": root_module}
    })
}

/// Logs are framed with STX ... ETX like archivist's, which the Go client expects.
fn framed(body: String) -> String {
    format!("\u{2}{body}\u{3}")
}

pub fn plan_log(r: &Run) -> String {
    let p = &r.plan;
    if matches!(p.status, "pending" | "queued" | "unreachable") {
        return framed(String::new());
    }
    let mut s = format!("Terraform v{}\non linux_amd64\nInitializing plugins and modules...\n\n", r.terraform_version);
    if p.status == "running" {
        s.push_str("Refreshing state...\n");
        return framed(s);
    }
    framed(crate::plan_output::finished_plan_log(r))
}

pub fn apply_log(r: &Run) -> String {
    let a = &r.apply;
    match a.status {
        "finished" => framed(crate::plan_output::finished_apply_log(r)),
        "running" => framed(format!("Terraform v{}\non linux_amd64\n\nApplying...\n", r.terraform_version)),
        _ => framed(String::new()),
    }
}

/// A minimal `terraform show -json` plan consistent with the plan's counts.
pub fn plan_json(r: &Run, store: &Store) -> Value {
    let prior = store.current_state_version(&r.workspace_id);
    let mut changes = Vec::new();
    if r.is_destroy {
        if let Some(sv) = prior {
            for res in sv.resources.iter().filter(|res| res.mode == "managed") {
                changes.push(json!({
                    "address": format!("{}.{}", res.type_name, res.name),
                    "mode": "managed", "type": res.type_name, "name": res.name,
                    "provider_name": provider_name(&res.provider),
                    "change": {"actions": ["delete"], "before": res.instances.first().map(|i| i.attributes.clone()), "after": null}
                }));
            }
        }
    } else if r.plan.additions + r.plan.changes > 0 {
        let action = if r.plan.additions > 0 { "create" } else { "update" };
        changes.push(crate::plan_output::this_change(r, action));
    }
    let (drift, outputs) =
        if r.is_destroy { (json!([]), json!({})) } else { (crate::plan_output::resource_drift(), crate::plan_output::output_changes(r)) };
    json!({
        "format_version": "1.2",
        "terraform_version": r.terraform_version,
        "resource_changes": changes,
        "resource_drift": drift,
        "output_changes": outputs,
        "applyable": r.status == RunStatus::Planned,
        "complete": true,
        "errored": false
    })
}
