//! Projects: create (the documented `POST /organizations/:org/projects`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::jsonapi::{self, attr_string};
use crate::sim::Sim;
use crate::store::Project;

/// HCP Terraform's project names: 3 to 40 letters, digits, spaces, `-` and `_`.
fn valid_name(name: &str) -> bool {
    (3..=40).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'-' | b'_'))
}

pub async fn create(State(sim): State<Arc<Sim>>, Path(org): Path<String>, body: Bytes) -> ApiResult {
    let doc = jsonapi::parse_body(&body)?;
    let mut store = sim.store();
    store.organization(&org).ok_or_else(|| ApiError::not_found(format!("Organization '{org}' not found.")))?;
    let data = jsonapi::primary_data(&doc)?;
    if data.get("type").and_then(|t| t.as_str()) != Some("projects") {
        return Err(ApiError::unprocessable("type must be projects"));
    }
    let attrs = jsonapi::attributes(data)?;
    let name = attr_string(&attrs, "name")?.unwrap_or_default();
    if !valid_name(&name) {
        return Err(ApiError::unprocessable("Name is invalid"));
    }
    if store.projects.iter().any(|p| p.org == org && p.name.eq_ignore_ascii_case(&name)) {
        return Err(ApiError::unprocessable("Name has already been taken"));
    }
    let p = Project {
        id: ids::random_id("prj"),
        org,
        name,
        description: attr_string(&attrs, "description")?.unwrap_or_default(),
        created_at: Utc::now(),
    };
    let body = json!({"data": jsonapi::project(&p)});
    store.projects.push(p);
    Ok(jsonapi::respond(StatusCode::CREATED, body))
}
