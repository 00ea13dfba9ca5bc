//! Team members by username or by user id. The API's `users` relationship
//! takes usernames; a user id (`user-...`) is turned into its username with
//! `GET /users/:id` first, so a model holding either can use one tool.

use serde_json::{Value, json};

use super::{Cx, ToolError, empty_success, encode_segment};
use crate::jsonapi;

/// Most users one call may name (each user id costs a lookup).
const MAX_USERS: usize = 50;

pub(super) async fn team_users(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let mut names: Vec<String> = cx.args.strings("usernames").into_iter().map(|s| s.trim().to_owned()).collect();
    let ids = cx.args.strings("user_ids");
    if names.iter().any(String::is_empty) {
        return Err(ToolError::invalid("argument `usernames` must not hold empty names".into()));
    }
    if names.is_empty() && ids.is_empty() {
        return Err(ToolError::invalid("give at least one user in `usernames` or `user_ids`".into()));
    }
    if names.len() + ids.len() > MAX_USERS {
        return Err(ToolError::invalid(format!("give at most {MAX_USERS} users per call")));
    }
    for id in ids {
        let resp = cx.get_ok(&format!("/users/{}", encode_segment(id.trim())), &[]).await?;
        let name = resp.body.as_ref().and_then(|d| d.pointer("/data/attributes/username")).and_then(Value::as_str);
        match name.filter(|n| !n.is_empty()) {
            Some(n) => names.push(n.to_owned()),
            None => {
                return Err(ToolError::upstream_msg(
                    &format!(
                        "user {} has no username yet (an invitation not accepted): add them with hashicorp_terraform_cloud_teams_add_memberships and their organization membership id (`ou-...`)",
                        crate::catalog::truncate(id, 40)
                    ),
                    None,
                ));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    let body = jsonapi::to_many("users", names.iter().map(String::as_str));
    let resp = cx.client.api(cx.tool.verb, &cx.req.path, &cx.req.query, Some(&body)).await?;
    if !resp.is_success() {
        return Err(cx.error(&resp, None));
    }
    let mut v = empty_success(cx);
    v["usernames"] = json!(names);
    Ok(v)
}
