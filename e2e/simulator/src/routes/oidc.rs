//! `/oidc/*`: the test OIDC issuer (see `crate::oidc`). Discovery and JWKS
//! are public, as at a real issuer; `/oidc/_control/*` mints tokens, rotates
//! keys and reports fetch counts for the tests.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::oidc::{ISSUER_PATH, MintRequest};
use crate::sim::Sim;

pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/oidc/.well-known/openid-configuration", get(discovery))
        .route("/oidc/jwks", get(jwks))
        .route("/oidc/_control/mint", post(mint))
        .route("/oidc/_control/rotate", post(rotate))
        .route("/oidc/_control/stats", get(stats))
}

fn issuer_url(sim: &Sim) -> String {
    format!("{}{ISSUER_PATH}", sim.api_base)
}

async fn discovery(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(sim.oidc.discovery(&issuer_url(&sim))).into_response()
}

async fn jwks(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(sim.oidc.jwks()).into_response()
}

async fn mint(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let request: MintRequest = if body.is_empty() {
        MintRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(request) => request,
            Err(e) => return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": e.to_string()}))).into_response(),
        }
    };
    match sim.oidc.mint(&issuer_url(&sim), request) {
        Ok(token) => axum::Json(json!({"token": token, "issuer": issuer_url(&sim)})).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, axum::Json(json!({"error": e}))).into_response(),
    }
}

async fn rotate(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let retire = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v.get("retire").and_then(Value::as_bool)).unwrap_or(false);
    axum::Json(json!({"kid": sim.oidc.rotate(retire)})).into_response()
}

async fn stats(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(sim.oidc.stats()).into_response()
}
