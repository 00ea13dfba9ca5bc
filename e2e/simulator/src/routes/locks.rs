//! Workspace locks. 409 details name the holder the way HCP Terraform does
//! ("... is locked by Run run-xxx" / "... by User name"); the official Go
//! client maps those phrases to distinct errors.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::Utc;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::jsonapi;
use crate::middleware::CurrentUser;
use crate::sim::Sim;
use crate::store::{Lock, LockHolder, Store};

/// The lock reason, from either `{"reason": ..}` or a JSON:API document
/// (`{"data":{"attributes":{"reason": ..}}}`, which go-tfe sends).
fn reason(body: &[u8]) -> Result<String, ApiError> {
    let doc = jsonapi::parse_body(body)?;
    let reason = doc.get("reason").or_else(|| doc.get("data").and_then(|d| d.get("attributes")).and_then(|a| a.get("reason")));
    match reason {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ApiError::unprocessable("Attribute 'reason' must be a string.")),
    }
}

fn workspace_doc(store: &Store, id: &str) -> ApiResult {
    let ws = store.workspace(id).ok_or_else(|| ApiError::not_found(format!("Workspace '{id}' not found.")))?;
    Ok(jsonapi::ok(json!({"data": jsonapi::workspace(ws, store)})))
}

pub async fn lock(State(sim): State<Arc<Sim>>, CurrentUser(user): CurrentUser, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let reason = reason(&body)?;
    let mut store = sim.store();
    let ws = store.workspace(&id).ok_or_else(|| ApiError::not_found(format!("Workspace '{id}' not found.")))?;
    if let Some(lock) = &ws.lock {
        let holder = store.describe_holder(&lock.holder);
        return Err(ApiError::conflict(format!("Unable to lock workspace. The workspace is already locked by {holder}.")));
    }
    let ws = store.workspace_mut(&id).expect("workspace exists");
    ws.lock = Some(Lock { holder: LockHolder::User(user.id.clone()), reason });
    ws.updated_at = Utc::now();
    workspace_doc(&store, &id)
}

pub async fn unlock(State(sim): State<Arc<Sim>>, CurrentUser(user): CurrentUser, Path(id): Path<String>) -> ApiResult {
    let mut store = sim.store();
    let ws = store.workspace(&id).ok_or_else(|| ApiError::not_found(format!("Workspace '{id}' not found.")))?;
    match &ws.lock {
        None => {
            return Err(ApiError::conflict("Unable to unlock workspace. The workspace is not locked."));
        }
        Some(lock) if lock.holder != LockHolder::User(user.id.clone()) => {
            let holder = store.describe_holder(&lock.holder);
            return Err(ApiError::conflict(format!("Unable to unlock workspace. The workspace is locked by {holder}.")));
        }
        Some(_) => {}
    }
    let ws = store.workspace_mut(&id).expect("workspace exists");
    ws.lock = None;
    ws.updated_at = Utc::now();
    workspace_doc(&store, &id)
}

pub async fn force_unlock(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let mut store = sim.store();
    let ws = store.workspace_mut(&id).ok_or_else(|| ApiError::not_found(format!("Workspace '{id}' not found.")))?;
    if ws.lock.is_none() {
        return Err(ApiError::conflict("Unable to force-unlock workspace. The workspace is not locked."));
    }
    ws.lock = None;
    ws.updated_at = Utc::now();
    workspace_doc(&store, &id)
}

#[cfg(test)]
mod tests {
    use super::reason;

    #[test]
    fn reason_shapes() {
        assert_eq!(reason(b"").unwrap(), "");
        assert_eq!(reason(br#"{"reason":"maintenance"}"#).unwrap(), "maintenance");
        assert_eq!(reason(br#"{"data":{"type":"","attributes":{"reason":"x"}}}"#).unwrap(), "x");
        assert!(reason(b"{not json").is_err());
        assert!(reason(br#"{"reason":5}"#).is_err());
    }
}
