//! Cross-cutting behaviour of the API origin: bearer-token authentication,
//! per-token rate limiting, the headers every response carries, and the
//! request log that tests read from `/_sim/requests`. Tokens are never
//! logged: only method, path, query and status are recorded.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::ratelimit::too_many_requests;
use crate::sim::{RequestRecord, Sim};
use crate::store::User;

pub const API_VERSION: &str = "2.6";
pub const TFE_VERSION: &str = "v202510-1";
pub const APP_NAME: &str = "HCP Terraform";

/// The user behind the request's token.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CurrentUser>().cloned().ok_or_else(ApiError::unauthorized)
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Endpoints the real service answers without a token.
fn is_public(path: &str) -> bool {
    path == "/api/v2/ping" || path.starts_with("/.well-known/")
}

pub async fn api(State(sim): State<Arc<Sim>>, mut req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    sim.arrivals.note(&path);

    let user = bearer(req.headers()).and_then(|t| sim.user_for_token(t)).cloned();
    let mut resp = if user.is_none() && !is_public(&path) {
        ApiError::unauthorized().into_response()
    } else {
        // Unauthenticated public calls share one budget, like per-IP limits.
        let key = user.as_ref().map(|u| u.id.clone()).unwrap_or_else(|| "anonymous".to_string());
        match sim.limiter.check(&key) {
            Err(reset) => too_many_requests(sim.limiter.advertised(), reset),
            Ok(()) => {
                if let Some(u) = user {
                    req.extensions_mut().insert(CurrentUser(u));
                }
                next.run(req).await
            }
        }
    };

    let h = resp.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(sim.limiter.advertised()));
    h.insert("tfp-api-version", HeaderValue::from_static(API_VERSION));
    h.insert("x-tfe-version", HeaderValue::from_static(TFE_VERSION));
    h.insert("tfp-appname", HeaderValue::from_static(APP_NAME));

    let status = resp.status().as_u16();
    tracing::info!(%method, %path, status, "api request");
    sim.record(RequestRecord { method, path, query, status, ts: crate::jsonapi::ts(chrono::Utc::now()), origin: "api" });
    resp
}
