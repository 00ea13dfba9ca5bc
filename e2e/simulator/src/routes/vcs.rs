//! `GET /organizations/:org/oauth-tokens`: every OAuth token of an
//! organization's VCS connections (what HashiCorp's Go client lists; the
//! documented per-connection list is a generic record route).

use std::sync::Arc;

use axum::extract::{Path, State};

use crate::error::{ApiError, ApiResult};
use crate::jsonapi::{self, QueryParams};
use crate::kinds::vcs::OAUTH_TOKEN;
use crate::records::{self, Record};
use crate::sim::Sim;

pub async fn organization_oauth_tokens(State(sim): State<Arc<Sim>>, Path(org): Path<String>, q: QueryParams) -> ApiResult {
    let store = sim.store();
    store.organization(&org).ok_or_else(|| ApiError::not_found("Organization not found."))?;
    let clients: Vec<&str> =
        store.records.iter().filter(|r| r.type_ == "oauth-clients" && r.parent == org).map(|r| r.id.as_str()).collect();
    let items: Vec<&Record> =
        store.records.iter().filter(|r| r.type_ == OAUTH_TOKEN.type_ && clients.contains(&r.parent.as_str())).collect();
    let path = format!("/api/v2/organizations/{org}/oauth-tokens");
    Ok(jsonapi::ok(jsonapi::paginated(&sim, &path, &q, &items, |r| records::render(&OAUTH_TOKEN, r, "/api/v2"))))
}
