//! `PATCH /workspaces/:id/relationships/ssh-key` with
//! `{"data": {"type": "workspaces", "attributes": {"id": "sshkey-..." | null}}}`:
//! assigns an SSH key of the workspace's organization, or unassigns it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::jsonapi;
use crate::sim::Sim;

pub async fn assign(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let doc = jsonapi::parse_body(&body)?;
    let data = jsonapi::primary_data(&doc)?;
    if data.get("type").and_then(Value::as_str) != Some("workspaces") {
        return Err(ApiError::unprocessable("The resource type must be 'workspaces'."));
    }
    let key = match data.get("attributes").and_then(|a| a.get("id")) {
        Some(Value::String(k)) => Some(k.clone()),
        Some(Value::Null) => None,
        _ => return Err(ApiError::unprocessable("'data.attributes.id' must be an SSH key id or null.")),
    };
    let mut store = sim.store();
    let org = store.workspace(&id).map(|w| w.org.clone()).ok_or_else(|| ApiError::not_found("Workspace not found."))?;
    if let Some(k) = &key
        && !store.records.iter().any(|r| r.type_ == "ssh-keys" && &r.id == k && r.parent == org)
    {
        return Err(ApiError::not_found("SSH key not found."));
    }
    let ws = store.workspace_mut(&id).expect("checked above");
    ws.ssh_key_id = key;
    let ws = ws.clone();
    Ok(jsonapi::ok(json!({"data": jsonapi::workspace(&ws, &store)})))
}
