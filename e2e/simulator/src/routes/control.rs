//! `/_sim/*`: unauthenticated test controls. They are not part of the
//! simulated API, are not rate limited and do not appear in the request log.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::jsonapi;
use crate::sim::Sim;

pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/_sim/requests", get(requests).delete(clear_requests))
        .route("/_sim/reset", post(reset))
        .route("/_sim/rate-limit", put(set_rate_limit))
        .route("/_sim/step-delay", put(set_step_delay))
        .route("/_sim/run-locks", put(set_run_locks))
        .route("/_sim/state-resources", put(set_state_resources))
}

fn json_response(v: Value) -> Response {
    axum::Json(v).into_response()
}

async fn requests(State(sim): State<Arc<Sim>>) -> Response {
    json_response(json!(sim.requests()))
}

async fn clear_requests(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.clear_requests();
    StatusCode::NO_CONTENT
}

async fn reset(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.reset();
    tracing::info!("state reset to seed");
    StatusCode::NO_CONTENT
}

/// Reads a non-negative integer field from a JSON body.
fn number_field(body: &[u8], field: &str) -> Result<u64, ApiError> {
    jsonapi::parse_body(body)?
        .get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| ApiError::unprocessable(format!("Body must be {{\"{field}\": <non-negative integer>}}.")))
}

async fn set_rate_limit(State(sim): State<Arc<Sim>>, body: Bytes) -> ApiResult {
    let limit = number_field(&body, "limit")?;
    let limit = u32::try_from(limit).map_err(|_| ApiError::unprocessable("limit is too large"))?;
    sim.limiter.set_limit(limit);
    tracing::info!(limit, "rate limit changed");
    Ok(json_response(json!({"limit": limit})))
}

async fn set_step_delay(State(sim): State<Arc<Sim>>, body: Bytes) -> ApiResult {
    let ms = number_field(&body, "ms")?;
    sim.set_step_delay_ms(ms);
    tracing::info!(ms, "step delay changed");
    Ok(json_response(json!({"ms": ms})))
}

async fn set_run_locks(State(sim): State<Arc<Sim>>, body: Bytes) -> ApiResult {
    let enabled = jsonapi::parse_body(&body)?
        .get("enabled")
        .and_then(Value::as_bool)
        .ok_or_else(|| ApiError::unprocessable("Body must be {\"enabled\": true|false}."))?;
    sim.set_run_locks(enabled);
    tracing::info!(enabled, "run locks changed");
    Ok(json_response(json!({"enabled": enabled})))
}

/// Gives a state version `count` extra synthetic resources (for benchmarks
/// of big states; `/_sim/reset` restores the seed).
async fn set_state_resources(State(sim): State<Arc<Sim>>, body: Bytes) -> ApiResult {
    let count = number_field(&body, "count")?.min(10_000) as usize;
    let id = jsonapi::parse_body(&body)?
        .get("state_version_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::unprocessable("Body must name a \"state_version_id\"."))?;
    let mut store = sim.store();
    let sv = store.state_versions.iter_mut().find(|s| s.id == id).ok_or_else(|| ApiError::unprocessable("no such state version"))?;
    for i in 0..count {
        sv.resources.push(crate::store::StateResource {
            module: None,
            mode: "managed".into(),
            type_name: "null_resource".into(),
            name: format!("bench_{i}"),
            provider: "provider[\"registry.terraform.io/hashicorp/null\"]".into(),
            instances: vec![crate::store::ResourceInstance {
                index_key: None,
                attributes: json!({"id": format!("{}", 7_000_000_000u64 + i as u64), "triggers": {"version": format!("v{i}"), "owner": "platform-team"}}),
            }],
        });
    }
    let total = sv.resources.len();
    tracing::info!(count, total, "state resources added");
    Ok(json_response(json!({"state_version_id": id, "resources": total})))
}
