//! Service discovery, ping and the token's own account.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::jsonapi;
use crate::middleware::CurrentUser;

/// The official Go client pings on start-up to read the API headers, which
/// the API middleware adds to every response.
pub async fn ping() -> StatusCode {
    StatusCode::NO_CONTENT
}

pub async fn well_known() -> Response {
    let body = json!({
        "modules.v1": "/api/registry/v1/modules/",
        "motd.v1": "/api/terraform/motd",
        "state.v2": "/api/v2/",
        "tfe.v2": "/api/v2/",
        "tfe.v2.1": "/api/v2/",
        "tfe.v2.2": "/api/v2/",
        "versions.v1": "/api/versions/v1/"
    });
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

pub async fn account(CurrentUser(user): CurrentUser) -> Response {
    jsonapi::ok(json!({"data": jsonapi::user(&user)}))
}
