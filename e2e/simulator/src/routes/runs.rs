//! Runs and their plan/apply phases.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use chrono::Utc;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::jsonapi::{self, QueryParams, attr_bool, attr_string, attr_strings};
use crate::middleware::CurrentUser;
use crate::runs::{self, Action, NewRun};
use crate::sim::Sim;
use crate::store::{Run, RunStatus};

fn run_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Run {id} not found."))
}

/// Parses a `POST /runs` document into [`NewRun`].
fn parse_new_run(doc: &Value) -> Result<NewRun, ApiError> {
    let data = jsonapi::primary_data(doc)?;
    if let Some(t) = data.get("type").and_then(Value::as_str)
        && t != "runs"
    {
        return Err(ApiError::unprocessable(format!("Expected type 'runs', got '{t}'")));
    }
    let workspace_id = jsonapi::relationship_id(data, "workspace")
        .ok_or_else(|| ApiError::unprocessable("A run needs a workspace: set data.relationships.workspace.data.id."))?;
    let attrs = jsonapi::attributes(data)?;
    Ok(NewRun {
        workspace_id,
        message: attr_string(&attrs, "message")?,
        plan_only: attr_bool(&attrs, "plan-only")?.unwrap_or(false),
        auto_apply: attr_bool(&attrs, "auto-apply")?,
        is_destroy: attr_bool(&attrs, "is-destroy")?.unwrap_or(false),
        refresh: attr_bool(&attrs, "refresh")?,
        refresh_only: attr_bool(&attrs, "refresh-only")?.unwrap_or(false),
        allow_empty_apply: attr_bool(&attrs, "allow-empty-apply")?.unwrap_or(false),
        terraform_version: attr_string(&attrs, "terraform-version")?,
        target_addrs: attr_strings(&attrs, "target-addrs")?.unwrap_or_default(),
        replace_addrs: attr_strings(&attrs, "replace-addrs")?.unwrap_or_default(),
        created_by: None,
    })
}

pub async fn create(State(sim): State<Arc<Sim>>, CurrentUser(user): CurrentUser, body: Bytes) -> ApiResult {
    let doc = jsonapi::parse_body(&body)?;
    let mut new = parse_new_run(&doc)?;
    if new.is_destroy && new.refresh_only {
        return Err(ApiError::unprocessable("A run cannot be both a destroy and a refresh-only run."));
    }
    new.created_by = Some(user.id.clone());
    let (id, body) = {
        let mut store = sim.store();
        let id = runs::create(&mut store, new, Utc::now())?;
        let run = store.run(&id).expect("just created");
        (id, json!({"data": jsonapi::run(run)}))
    };
    runs::spawn_driver(sim.clone(), id);
    Ok(jsonapi::respond(StatusCode::CREATED, body))
}

pub async fn show(State(sim): State<Arc<Sim>>, Path(id): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    let run = store.run(&id).ok_or_else(|| run_not_found(&id))?;
    Ok(jsonapi::ok(crate::compound::shaped(json!({"data": jsonapi::run(run)}), &q, &sim, &store)?))
}

pub async fn action(
    State(sim): State<Arc<Sim>>,
    CurrentUser(user): CurrentUser,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let action = Action::parse(&action).ok_or_else(|| ApiError::not_found(format!("Unknown run action '{action}'.")))?;
    // The optional `{"comment": ..}` body is accepted but not stored.
    jsonapi::parse_body(&body)?;
    let restart = runs::act(&mut sim.store(), &id, action, &user.id, Utc::now())?;
    if restart {
        runs::spawn_driver(sim.clone(), id);
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `filter[status]`, `filter[status_group]`, `filter[operation]` and `search[basic]`.
fn matches_filters(r: &Run, q: &QueryParams) -> bool {
    let statuses = q.list("filter[status]");
    if !statuses.is_empty() && !statuses.iter().any(|s| s == r.status.as_str()) {
        return false;
    }
    let group_ok = match q.non_empty("filter[status_group]") {
        Some("non_final") => !r.status.is_final(),
        Some("final") => r.status.is_final(),
        Some("discardable") => r.status == RunStatus::Pending || r.status.awaits_confirmation(),
        _ => true,
    };
    let operations = q.list("filter[operation]");
    let op = if r.plan_only {
        "plan_only"
    } else if r.is_destroy {
        "destroy"
    } else if r.refresh_only {
        "refresh_only"
    } else {
        "plan_and_apply"
    };
    let op_ok = operations.is_empty() || operations.iter().any(|o| o == op);
    let search_ok = q
        .non_empty("search[basic]")
        .map(str::to_lowercase)
        .is_none_or(|s| r.id.to_lowercase().contains(&s) || r.message.to_lowercase().contains(&s));
    group_ok && op_ok && search_ok
}

pub async fn list_for_workspace(State(sim): State<Arc<Sim>>, Path(id): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    store.workspace(&id).ok_or_else(|| ApiError::not_found(format!("Workspace '{id}' not found.")))?;
    let items: Vec<&Run> = store.workspace_runs(&id).into_iter().filter(|r| matches_filters(r, &q)).collect();
    let path = format!("/api/v2/workspaces/{id}/runs");
    let doc = jsonapi::paginated(&sim, &path, &q, &items, |r| jsonapi::run(r));
    Ok(jsonapi::ok(crate::compound::shaped(doc, &q, &sim, &store)?))
}

pub async fn list_for_organization(State(sim): State<Arc<Sim>>, Path(org): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    store.organization(&org).ok_or_else(|| ApiError::not_found(format!("Organization '{org}' not found.")))?;
    let items: Vec<&Run> = store
        .runs
        .iter()
        .rev()
        .filter(|r| store.workspace(&r.workspace_id).is_some_and(|w| w.org == org))
        .filter(|r| matches_filters(r, &q))
        .collect();
    let path = format!("/api/v2/organizations/{org}/runs");
    let doc = jsonapi::paginated(&sim, &path, &q, &items, |r| jsonapi::run(r));
    Ok(jsonapi::ok(crate::compound::shaped(doc, &q, &sim, &store)?))
}

pub async fn plan(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let store = sim.store();
    let run = store.run_by_plan(&id).ok_or_else(|| ApiError::not_found(format!("Plan {id} not found.")))?;
    Ok(jsonapi::ok(json!({"data": jsonapi::plan(run, &sim)})))
}

pub async fn apply(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let store = sim.store();
    let run = store.run_by_apply(&id).ok_or_else(|| ApiError::not_found(format!("Apply {id} not found.")))?;
    Ok(jsonapi::ok(json!({"data": jsonapi::apply(run, &sim)})))
}

pub async fn plan_of_run(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let store = sim.store();
    let run = store.run(&id).ok_or_else(|| run_not_found(&id))?;
    Ok(jsonapi::ok(json!({"data": jsonapi::plan(run, &sim)})))
}

pub async fn apply_of_run(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let store = sim.store();
    let run = store.run(&id).ok_or_else(|| run_not_found(&id))?;
    Ok(jsonapi::ok(json!({"data": jsonapi::apply(run, &sim)})))
}

/// 307 to the JSON plan on the blob origin, or 204 while the plan is not
/// finished, as documented.
pub async fn plan_json_output(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let store = sim.store();
    let run = store.run_by_plan(&id).ok_or_else(|| ApiError::not_found(format!("Plan {id} not found.")))?;
    if run.plan.status != "finished" {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let mut resp = StatusCode::TEMPORARY_REDIRECT.into_response();
    if let Ok(v) = HeaderValue::from_str(&sim.blob_url(&run.plan_json_blob)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_run_validation() {
        let ok = json!({"data": {"type": "runs", "attributes": {"plan-only": true},
            "relationships": {"workspace": {"data": {"type": "workspaces", "id": "ws-x"}}}}});
        let new = parse_new_run(&ok).unwrap();
        assert!(new.plan_only);
        assert_eq!(new.workspace_id, "ws-x");
        let missing_ws = json!({"data": {"type": "runs", "attributes": {}}});
        assert_eq!(parse_new_run(&missing_ws).unwrap_err().status, StatusCode::UNPROCESSABLE_ENTITY);
        let bad_attr = json!({"data": {"attributes": {"plan-only": "yes"},
            "relationships": {"workspace": {"data": {"id": "ws-x"}}}}});
        assert_eq!(parse_new_run(&bad_attr).unwrap_err().status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(parse_new_run(&json!([1])).unwrap_err().status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
