//! Compound documents and sparse fieldsets (JSON:API `include=` and
//! `fields[type]=`) for the endpoints that document them: a run with its
//! plan, apply... and a workspace with its current run, state version,
//! project...
//!
//! Applied to a rendered document after the fact: related records are
//! looked up by the relationship linkage of the primary data, rendered with
//! the same builders as their own endpoints, and de-duplicated.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::jsonapi::{self, QueryParams};
use crate::sim::Sim;
use crate::store::Store;

/// Include paths a resource type accepts (the names go-tfe sends), each
/// as the relationship names it follows.
fn known_includes(type_: &str) -> &'static [(&'static str, &'static [&'static str])] {
    match type_ {
        "runs" => &[
            ("plan", &["plan"]),
            ("apply", &["apply"]),
            ("cost_estimate", &["cost-estimate"]),
            ("configuration_version", &["configuration-version"]),
            ("created_by", &["created-by"]),
            ("workspace", &["workspace"]),
            ("task_stages", &["task-stages"]),
        ],
        "workspaces" => &[
            ("organization", &["organization"]),
            ("project", &["project"]),
            ("current_run", &["current-run"]),
            ("current_run.plan", &["current-run", "plan"]),
            ("current-state-version", &["current-state-version"]),
            ("current_state_version", &["current-state-version"]),
            ("current_configuration_version", &["current-configuration-version"]),
            ("locked_by", &["locked-by"]),
            ("outputs", &["outputs"]),
            ("readme", &["readme"]),
        ],
        _ => &[],
    }
}

/// Add `included` and apply sparse fieldsets as `q` asks. An include path
/// the type does not document is a 400, as HCP Terraform answers.
pub fn shape(doc: &mut Value, q: &QueryParams, sim: &Sim, store: &Store) -> Result<(), ApiError> {
    let primary: Vec<Value> = match doc.get("data") {
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        _ => Vec::new(),
    };
    let type_ = primary.first().and_then(|r| r.get("type")).and_then(Value::as_str).unwrap_or("").to_owned();
    let includes = q.list("include");
    if !includes.is_empty() {
        let known = known_includes(&type_);
        let mut included: Vec<Value> = Vec::new();
        for name in &includes {
            let Some((_, path)) = known.iter().find(|(n, _)| n == name) else {
                return Err(ApiError::bad_request(format!("Invalid include parameter: {name}")));
            };
            let mut at: Vec<Value> = primary.clone();
            for rel in path.iter() {
                let mut next = Vec::new();
                for r in &at {
                    for (t, id) in linkage(r, rel) {
                        if let Some(rendered) = render(&t, &id, sim, store) {
                            next.push(rendered);
                        }
                    }
                }
                at = next;
            }
            for r in at {
                let key = (r.get("type").cloned(), r.get("id").cloned());
                if !included.iter().any(|i| (i.get("type").cloned(), i.get("id").cloned()) == key) {
                    included.push(r);
                }
            }
        }
        doc["included"] = Value::Array(included);
    }
    // Sparse fieldsets: `fields[type]=a,b` keeps those attributes and
    // relationships of every resource of that type.
    for (k, v) in &q.0 {
        let Some(t) = k.strip_prefix("fields[").and_then(|s| s.strip_suffix(']')) else { continue };
        let keep: Vec<&str> = v.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        let apply = |r: &mut Value| {
            if r.get("type").and_then(Value::as_str) == Some(t) {
                for section in ["attributes", "relationships"] {
                    if let Some(Value::Object(m)) = r.get_mut(section) {
                        m.retain(|name, _| keep.contains(&name.as_str()));
                    }
                }
            }
        };
        match doc.get_mut("data") {
            Some(Value::Array(a)) => a.iter_mut().for_each(apply),
            Some(o @ Value::Object(_)) => apply(o),
            _ => {}
        }
        if let Some(Value::Array(a)) = doc.get_mut("included") {
            a.iter_mut().for_each(apply);
        }
    }
    Ok(())
}

/// `(type, id)` pairs of a relationship's data.
fn linkage(r: &Value, rel: &str) -> Vec<(String, String)> {
    let pair = |d: &Value| Some((d.get("type")?.as_str()?.to_owned(), d.get("id")?.as_str()?.to_owned()));
    match r.pointer(&format!("/relationships/{rel}/data")) {
        Some(Value::Array(a)) => a.iter().filter_map(pair).collect(),
        Some(d @ Value::Object(_)) => pair(d).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn render(type_: &str, id: &str, sim: &Sim, store: &Store) -> Option<Value> {
    Some(match type_ {
        "runs" => jsonapi::run(store.run(id)?),
        "plans" => jsonapi::plan(store.run_by_plan(id)?, sim),
        "applies" => jsonapi::apply(store.run_by_apply(id)?, sim),
        "workspaces" => jsonapi::workspace(store.workspace(id)?, store),
        "state-versions" => jsonapi::state_version(store.state_version(id)?, sim),
        "projects" => jsonapi::project(store.project(id)?),
        "organizations" => jsonapi::organization(store.organization(id)?),
        "users" => jsonapi::user(store.user(id)?),
        "workspace-outputs" | "state-version-outputs" => {
            let (_, o) = store.output(id)?;
            let mut v = jsonapi::output(o, false);
            v["type"] = Value::String("workspace-outputs".into());
            v
        }
        // Generic records (a workspace's README...).
        t => {
            let r = store.records.iter().find(|r| r.type_ == t && r.id == id)?;
            match crate::records::kind(t) {
                Some(kind) => crate::records::render(kind, r, "/api/v2"),
                None => json!({"id": r.id, "type": r.type_, "attributes": r.attributes}),
            }
        }
    })
}

/// The query of a document endpoint, for handlers that only need `shape`.
pub fn shaped(mut doc: Value, q: &QueryParams, sim: &Sim, store: &Store) -> Result<Value, ApiError> {
    shape(&mut doc, q, sim, store)?;
    Ok(doc)
}
