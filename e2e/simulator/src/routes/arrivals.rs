//! `/_sim/arrivals`: when API requests arrived (ms since start, monotonic),
//! for rate checks over sliding windows. `?path_prefix=` narrows them;
//! DELETE forgets them. A test control: unauthenticated, not logged.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    extract::{Query, State},
    http::StatusCode,
};
use serde_json::{Value, json};

use crate::sim::Sim;

pub fn router() -> Router<Arc<Sim>> {
    Router::new().route("/_sim/arrivals", axum::routing::get(list).delete(clear))
}

async fn list(State(sim): State<Arc<Sim>>, Query(query): Query<HashMap<String, String>>) -> Json<Value> {
    let prefix = query.get("path_prefix").map(String::as_str).unwrap_or("");
    Json(json!({ "now_ms": sim.arrivals.now_ms(), "arrivals_ms": sim.arrivals.times(prefix) }))
}

async fn clear(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.arrivals.clear();
    StatusCode::NO_CONTENT
}
