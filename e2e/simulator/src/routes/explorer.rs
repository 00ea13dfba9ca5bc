//! The Explorer (`GET /organizations/:org/explorer`), computed from the
//! store: views `workspaces`, `tf_versions`, `providers` and `modules`,
//! filters `filter[i][field][operator][0]=value` (all must hold), `sort`,
//! `fields` and paging, shaped like the explorer sample (kebab-case
//! attributes, `visibility-*` types). Which modules and providers each
//! workspace uses is seed data ([`USAGE`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};
use crate::ids::derived_id;
use crate::jsonapi::{self, QueryParams};
use crate::kinds::workspace_insights::{ASSESSMENT_RESULT, WORKSPACE_RESOURCE};
use crate::sim::Sim;
use crate::store::Store;

/// (workspace name, modules `(source, version, registry)`, providers `(source, version)`).
type Usage = (&'static str, &'static [(&'static str, &'static str, &'static str)], &'static [(&'static str, &'static str)]);

pub const USAGE: &[Usage] = &[
    ("core-network", &[("terraform-aws-modules/vpc/aws", "5.1.2", "public")], &[("hashicorp/aws", "5.80.0")]),
    ("internal-vpn", &[("app.terraform.io/acme-corp/vpc/aws", "3.1.0", "private")], &[("hashicorp/aws", "5.80.0")]),
    (
        "payment-gateway",
        &[("terraform-aws-modules/alb/aws", "9.4.0", "public")],
        &[("hashicorp/aws", "5.80.0"), ("hashicorp/random", "3.6.0")],
    ),
    ("prod-database-cluster", &[], &[("hashicorp/aws", "5.80.0"), ("hashicorp/random", "3.6.0")]),
    ("data-lake", &[("app.terraform.io/acme-corp/s3-bucket/aws", "1.4.0", "private")], &[("hashicorp/aws", "4.67.0")]),
    ("storage-buckets", &[("app.terraform.io/acme-corp/s3-bucket/aws", "1.4.0", "private")], &[("hashicorp/aws", "4.67.0")]),
    ("ci-runners", &[], &[("hashicorp/aws", "4.67.0")]),
    ("globex-app", &[("app.terraform.io/globex/app/aws", "0.9.0", "private")], &[("hashicorp/aws", "5.80.0")]),
];

/// Kebab-case attribute of a snake_case field.
fn attr_name(field: &str) -> String {
    field.replace('_', "-")
}

fn workspace_rows(store: &Store, org: &str) -> Vec<(String, Map<String, Value>)> {
    let mut out = Vec::new();
    let mut wss: Vec<_> = store.workspaces.iter().filter(|w| w.org == org).collect();
    wss.sort_by(|a, b| a.name.cmp(&b.name));
    for ws in wss {
        let usage = USAGE.iter().find(|(n, _, _)| *n == ws.name);
        let modules: Vec<String> = usage.map(|u| u.1.iter().map(|(s, v, _)| format!("{s}@{v}")).collect()).unwrap_or_default();
        let providers: Vec<String> = usage.map(|u| u.2.iter().map(|(s, v)| format!("{s}@{v}")).collect()).unwrap_or_default();
        let assessment =
            store.records.iter().filter(|r| r.type_ == ASSESSMENT_RESULT.type_ && r.parent == ws.id).max_by_key(|r| r.created_at);
        let drifted = assessment.and_then(|a| a.attributes.get("drifted")).and_then(Value::as_bool).unwrap_or(false);
        let resources = store.records.iter().filter(|r| r.type_ == WORKSPACE_RESOURCE.type_ && r.parent == ws.id).count();
        let resources_drifted = assessment.and_then(|a| a.attributes.get("resources-drifted")).and_then(Value::as_u64).unwrap_or(0);
        let run = store.latest_run(&ws.id);
        let sv = store.current_state_version(&ws.id);
        let project = store.project(&ws.project_id);
        let join = |v: &[String]| if v.is_empty() { Value::Null } else { json!(v.join(",")) };
        let row = json!({
            "all-checks-succeeded": !(drifted && ws.name == "core-network"),
            "checks-errored": 0, "checks-failed": if drifted && ws.name == "core-network" { 1 } else { 0 }, "checks-passed": 0, "checks-unknown": 0,
            "current-run-applied-at": run.and_then(|r| r.timestamp("applied-at")).map(jsonapi::ts),
            "current-run-external-id": run.map(|r| r.id.clone()),
            "current-run-status": run.map(|r| r.status.as_str()),
            "drifted": drifted,
            "external-id": ws.id,
            "module-count": modules.len(),
            "modules": join(&modules),
            "organization-name": ws.org,
            "project-external-id": ws.project_id,
            "project-name": project.map(|p| p.name.clone()),
            "provider-count": providers.len(),
            "providers": join(&providers),
            "resources-drifted": resources_drifted,
            "resources-undrifted": (resources as u64).saturating_sub(resources_drifted),
            "state-version-terraform-version": sv.map(|_| ws.terraform_version.clone()),
            "vcs-repo-identifier": null,
            "workspace-created-at": jsonapi::ts(ws.created_at),
            "workspace-name": ws.name,
            "workspace-terraform-version": ws.terraform_version,
            "workspace-updated-at": jsonapi::ts(ws.updated_at),
            "workspace-resource-count": resources,
        });
        out.push((ws.id.clone(), row.as_object().cloned().unwrap_or_default()));
    }
    out
}

/// One row per distinct key (a Terraform version, a provider or module at
/// a version), with the workspaces using it.
fn grouped(store: &Store, org: &str, view: &str) -> Vec<(String, Map<String, Value>)> {
    let mut groups: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    let mut wss: Vec<_> = store.workspaces.iter().filter(|w| w.org == org).collect();
    wss.sort_by(|a, b| a.name.cmp(&b.name));
    for ws in wss {
        let usage = USAGE.iter().find(|(n, _, _)| *n == ws.name);
        let keys: Vec<(String, String, String)> = match view {
            "tf_versions" => vec![(String::new(), ws.terraform_version.clone(), String::new())],
            "providers" => {
                usage.map(|u| u.2.iter().map(|(s, v)| (s.to_string(), v.to_string(), String::new())).collect()).unwrap_or_default()
            }
            _ => usage.map(|u| u.1.iter().map(|(s, v, r)| (s.to_string(), v.to_string(), r.to_string())).collect()).unwrap_or_default(),
        };
        for k in keys {
            groups.entry(k).or_default().push(ws.name.clone());
        }
    }
    groups
        .into_iter()
        .map(|((source, version, registry), workspaces)| {
            let mut row = json!({"version": version, "workspace-count": workspaces.len(), "workspaces": workspaces.join(",")});
            if view != "tf_versions" {
                let name = source.rsplit('/').nth(if view == "modules" { 1 } else { 0 }).unwrap_or(&source).to_string();
                row["name"] = json!(name);
                row["source"] = json!(source);
            }
            if view == "modules" {
                row["registry-type"] = json!(registry);
            }
            (derived_id("vis", &format!("{org}/{view}/{source}@{version}")), row.as_object().cloned().unwrap_or_default())
        })
        .collect()
}

/// `filter[i][field][operator][0]=value`, parsed.
fn filters(q: &QueryParams) -> ApiResult<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    for (k, v) in &q.0 {
        let Some(rest) = k.strip_prefix("filter[") else { continue };
        let parts: Vec<&str> = rest.trim_end_matches(']').split("][").collect();
        match parts.as_slice() {
            [i, field, op, "0"] if i.parse::<usize>().is_ok() => out.push((field.to_string(), op.to_string(), v.clone())),
            _ => return Err(ApiError::bad_request(format!("Invalid filter parameter: {}", k.chars().take(80).collect::<String>()))),
        }
    }
    Ok(out)
}

fn as_number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn holds(row: &Map<String, Value>, field: &str, op: &str, want: &str) -> ApiResult<bool> {
    let v = row.get(&attr_name(field)).unwrap_or(&Value::Null);
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let num = |w: &str| -> ApiResult<(f64, f64)> {
        match (as_number(v), w.parse::<f64>()) {
            (Some(a), Ok(b)) => Ok((a, b)),
            _ => Err(ApiError::bad_request(format!("Operator {op} needs a number field and value"))),
        }
    };
    Ok(match op {
        "is" => text == want,
        "is_not" => text != want,
        "contains" => text.contains(want),
        "does_not_contain" => !text.contains(want),
        "is_empty" => text.is_empty(),
        "is_not_empty" => !text.is_empty(),
        "gt" => num(want).map(|(a, b)| a > b)?,
        "lt" => num(want).map(|(a, b)| a < b)?,
        "gteq" => num(want).map(|(a, b)| a >= b)?,
        "lteq" => num(want).map(|(a, b)| a <= b)?,
        "is_before" => !text.is_empty() && text.as_str() < want,
        "is_after" => !text.is_empty() && text.as_str() > want,
        _ => return Err(ApiError::bad_request(format!("Unknown filter operator: {}", op.chars().take(40).collect::<String>()))),
    })
}

pub async fn query(State(sim): State<Arc<Sim>>, Path(org): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    store.organization(&org).ok_or_else(|| ApiError::not_found(format!("Organization '{org}' not found.")))?;
    let view = q.get("type").unwrap_or_default().to_string();
    let (type_, mut rows) = match view.as_str() {
        "workspaces" => ("visibility-workspace", workspace_rows(&store, &org)),
        "tf_versions" => ("visibility-tf-version", grouped(&store, &org, "tf_versions")),
        "providers" => ("visibility-provider", grouped(&store, &org, "providers")),
        "modules" => ("visibility-module", grouped(&store, &org, "modules")),
        _ => return Err(ApiError::bad_request("The 'type' parameter must be one of workspaces, tf_versions, providers, modules.")),
    };
    let columns: Vec<String> = rows.first().map(|(_, r)| r.keys().cloned().collect()).unwrap_or_default();
    let known = |field: &str| columns.is_empty() || columns.contains(&attr_name(field));
    let fs = filters(&q)?;
    if let Some((f, _, _)) = fs.iter().find(|(f, _, _)| !known(f)) {
        return Err(ApiError::bad_request(format!("Unknown field for {view}: {}", f.chars().take(64).collect::<String>())));
    }
    let mut kept = Vec::with_capacity(rows.len());
    for (id, row) in rows.drain(..) {
        let mut ok = true;
        for (f, op, want) in &fs {
            ok &= holds(&row, f, op, want)?;
        }
        if ok {
            kept.push((id, row));
        }
    }
    if let Some(sort) = q.non_empty("sort") {
        let (desc, field) = match sort.strip_prefix('-') {
            Some(f) => (true, f),
            None => (false, sort),
        };
        if !known(field) {
            return Err(ApiError::bad_request(format!("Unknown sort field: {}", field.chars().take(64).collect::<String>())));
        }
        let key = attr_name(field);
        kept.sort_by(|(_, a), (_, b)| {
            let (x, y) = (a.get(&key).unwrap_or(&Value::Null), b.get(&key).unwrap_or(&Value::Null));
            let ord = match (as_number(x), as_number(y)) {
                (Some(m), Some(n)) if !x.is_string() => m.partial_cmp(&n).unwrap_or(std::cmp::Ordering::Equal),
                _ => x.to_string().cmp(&y.to_string()),
            };
            if desc { ord.reverse() } else { ord }
        });
    }
    let fields: Vec<String> = q.list("fields").iter().map(|f| attr_name(f)).collect();
    let path = format!("/api/v2/organizations/{org}/explorer");
    Ok(jsonapi::ok(jsonapi::paginated(&sim, &path, &q, &kept, |(id, row)| {
        let attrs: Map<String, Value> =
            row.iter().filter(|(k, _)| fields.is_empty() || fields.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        json!({"id": id, "type": type_, "attributes": attrs})
    })))
}
