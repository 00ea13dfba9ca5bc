//! Team membership: `POST`/`DELETE /teams/:id/relationships/users` (items
//! name users by username, as HashiCorp's Go client sends them) and
//! `.../relationships/organization-memberships` (by membership id). A team's
//! `users` relationship and a membership's `teams` relationship stay in step.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::jsonapi;
use crate::sim::Sim;
use crate::store::Store;

fn short(s: &str) -> String {
    s.chars().take(64).collect()
}

/// The `id`s of `{"data": [{"type": item_type, "id"}]}`.
fn item_ids(body: &[u8], item_type: &str) -> Result<Vec<String>, ApiError> {
    let doc = jsonapi::parse_body(body)?;
    let items = doc.get("data").and_then(Value::as_array).ok_or_else(|| ApiError::unprocessable("'data' must be an array."))?;
    if items.is_empty() {
        return Err(ApiError::unprocessable("'data' must not be empty."));
    }
    items
        .iter()
        .map(|i| match (i.get("type").and_then(Value::as_str), i.get("id").and_then(Value::as_str)) {
            (Some(t), Some(id)) if t == item_type => Ok(id.to_string()),
            _ => Err(ApiError::unprocessable(format!("Every item needs type '{item_type}' and an 'id'."))),
        })
        .collect()
}

/// The organization of a team record.
fn team_org(store: &Store, team: &str) -> Result<String, ApiError> {
    store
        .records
        .iter()
        .find(|r| r.type_ == "teams" && r.id == team)
        .map(|r| r.parent.clone())
        .ok_or_else(|| ApiError::not_found(format!("Team '{}' not found.", short(team))))
}

/// (membership id, user id) of the people named, all in `org`.
fn resolve(store: &Store, org: &str, ids: &[String], by_username: bool) -> Result<Vec<(String, Option<String>)>, ApiError> {
    let memberships = || store.records.iter().filter(|r| r.type_ == "organization-memberships" && r.parent == org);
    ids.iter()
        .map(|id| {
            let found = if by_username {
                let user = store.users.iter().find(|u| &u.username == id);
                user.and_then(|u| memberships().find(|m| m.rel_ids("user").contains(&u.id)))
            } else {
                memberships().find(|m| &m.id == id)
            };
            let m = found.ok_or_else(|| {
                let what = if by_username { "User" } else { "Organization membership" };
                ApiError::not_found(format!("{what} '{}' not found in this organization.", short(id)))
            })?;
            Ok((m.id.clone(), m.rel_ids("user").into_iter().next()))
        })
        .collect()
}

fn change(sim: &Sim, team: &str, body: &[u8], by_username: bool, add: bool) -> ApiResult {
    let ids = item_ids(body, if by_username { "users" } else { "organization-memberships" })?;
    let mut store = sim.store();
    let org = team_org(&store, team)?;
    let people = resolve(&store, &org, &ids, by_username)?;
    for (membership, user) in &people {
        if let Some(m) = store.records.iter_mut().find(|r| r.type_ == "organization-memberships" && &r.id == membership) {
            let mut teams = m.rel_ids("teams");
            set_member(&mut teams, team, add);
            m.relationships.insert("teams".into(), json!(teams.iter().map(|t| json!({"id": t, "type": "teams"})).collect::<Vec<_>>()));
        }
        let Some(user) = user else { continue };
        if let Some(t) = store.records.iter_mut().find(|r| r.type_ == "teams" && r.id == team) {
            let mut users = t.rel_ids("users");
            set_member(&mut users, user, add);
            t.attributes.insert("users-count".into(), json!(users.len()));
            t.relationships.insert("users".into(), json!(users.iter().map(|u| json!({"id": u, "type": "users"})).collect::<Vec<_>>()));
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn set_member(list: &mut Vec<String>, id: &str, add: bool) {
    if add {
        if !list.iter().any(|x| x == id) {
            list.push(id.to_string());
        }
    } else {
        list.retain(|x| x != id);
    }
}

pub async fn add_users(State(sim): State<Arc<Sim>>, Path(team): Path<String>, body: Bytes) -> ApiResult {
    change(&sim, &team, &body, true, true)
}

pub async fn remove_users(State(sim): State<Arc<Sim>>, Path(team): Path<String>, body: Bytes) -> ApiResult {
    change(&sim, &team, &body, true, false)
}

pub async fn add_memberships(State(sim): State<Arc<Sim>>, Path(team): Path<String>, body: Bytes) -> ApiResult {
    change(&sim, &team, &body, false, true)
}

pub async fn remove_memberships(State(sim): State<Arc<Sim>>, Path(team): Path<String>, body: Bytes) -> ApiResult {
    change(&sim, &team, &body, false, false)
}

/// `GET /users/:id`: a user's public profile (username), as the team
/// member tools look user ids up.
pub async fn show_user(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> ApiResult {
    let store = sim.store();
    let u = store.user(&id).ok_or_else(|| ApiError::not_found(format!("User '{}' not found.", short(&id))))?;
    Ok(jsonapi::ok(json!({"data": jsonapi::user(u)})))
}
