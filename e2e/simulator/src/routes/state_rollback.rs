//! `PATCH /workspaces/:id/state-versions` with a `rollback-state-version`
//! relationship: a copy of that earlier state version of the workspace
//! becomes its new current state (serial + 1). The caller must hold the
//! workspace lock (409 otherwise); nothing changes on any error.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::ids::{random_alnum, random_id};
use crate::jsonapi;
use crate::middleware::CurrentUser;
use crate::sim::Sim;
use crate::store::{BlobRef, LockHolder, StateOutput, StateVersion};

pub async fn rollback(State(sim): State<Arc<Sim>>, CurrentUser(user): CurrentUser, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let doc = jsonapi::parse_body(&body)?;
    let data = jsonapi::primary_data(&doc)?;
    if let Some(t) = data.get("type").and_then(Value::as_str)
        && t != "state-versions"
    {
        return Err(ApiError::conflict("The resource type must be 'state-versions'."));
    }
    let target = jsonapi::relationship_id(data, "rollback-state-version")
        .ok_or_else(|| ApiError::unprocessable("data.relationships.rollback-state-version is required."))?;
    let now = Utc::now();
    let mut store = sim.store();
    let ws = store.workspace(&id).ok_or_else(|| ApiError::not_found("Workspace not found."))?.clone();
    match &ws.lock {
        Some(l) if l.holder == LockHolder::User(user.id.clone()) => {}
        Some(l) => {
            let holder = store.describe_holder(&l.holder);
            return Err(ApiError::conflict(format!(
                "The workspace is locked by {holder}; it must be locked by you to roll back its state."
            )));
        }
        None => return Err(ApiError::conflict("The workspace must be locked before its state can be rolled back.")),
    }
    let source = store
        .state_version(&target)
        .filter(|sv| sv.workspace_id == ws.id)
        .ok_or_else(|| ApiError::unprocessable("rollback-state-version must be a state version of this workspace."))?
        .clone();
    let serial = store.current_state_version(&ws.id).map(|c| c.serial).unwrap_or(0).max(source.serial) + 1;
    // Outputs are new records of the new version.
    let outputs = source.outputs.iter().map(|o| StateOutput { id: random_id("wsout"), ..o.clone() }).collect();
    let sv = StateVersion {
        id: random_id("sv"),
        outputs,
        serial,
        created_at: now,
        run_id: None,
        created_by: Some(user.id.clone()),
        state_blob: random_alnum(40),
        json_blob: random_alnum(40),
        ..source
    };
    store.blobs.insert(sv.state_blob.clone(), BlobRef::State(sv.id.clone()));
    store.blobs.insert(sv.json_blob.clone(), BlobRef::JsonState(sv.id.clone()));
    let mut rendered = jsonapi::state_version(&sv, &sim);
    rendered["relationships"]["rollback-state-version"] = json!({"data": {"id": target, "type": "state-versions"}});
    if let Some(w) = store.workspace_mut(&ws.id) {
        w.current_state_version = Some(sv.id.clone());
        w.updated_at = now;
    }
    store.state_versions.push(sv);
    Ok(jsonapi::respond(StatusCode::OK, json!({"data": rendered})))
}
