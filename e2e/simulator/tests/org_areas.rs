//! Tag bindings, teams and their members, organization memberships, team
//! access to projects, VCS connections, GitHub App installations and SSH
//! keys of the simulator.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use tfc_sim::kinds::teams::{OU_ALICE, OU_GINA, TEAM_ACME_OWNERS, TEAM_ACME_PLATFORM, TEAM_GLOBEX_OWNERS, TPRJ_ACME_PLATFORM, USER_ALICE};
use tfc_sim::kinds::vcs::{
    GHAIN_OCTO, OAUTH_CLIENT_SECRET, OAUTH_TOKEN_STRING, OC_ACME, OT_ACME, SSH_PRIVATE_KEY, SSHKEY_ACME, SSHKEY_GLOBEX,
};
use tfc_sim::seed::{WS_CORE_NETWORK, WS_FRONTEND_CDN, WS_PAYMENT_GATEWAY};
use tfc_sim::{Sim, SimConfig, api_router};

const TOKEN: &str = "sim-token";

fn api() -> Router {
    let sim: Arc<Sim> = Sim::new(SimConfig {
        tokens: vec![TOKEN.into()],
        step_delay_ms: 10,
        rate_limit: 0,
        run_locks: false,
        api_base: "http://api.test".into(),
        blob_base: "http://blob.test".into(),
    });
    api_router(sim)
}

async fn send(app: &Router, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value, String) {
    let mut req = Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/vnd.api+json");
    }
    let req = req.body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty)).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), text)
}

fn keys(doc: &Value) -> Vec<String> {
    let mut k: Vec<String> = doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| format!("{}:{}", b["attributes"]["key"].as_str().unwrap(), b["attributes"]["value"].as_str().unwrap()))
        .collect();
    k.sort();
    k
}

fn names(doc: &Value) -> Vec<String> {
    doc["data"].as_array().unwrap().iter().map(|w| w["attributes"]["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn tag_bindings_effective_bindings_and_the_tagged_filter() {
    let app = api();
    let ws = |p: &str| format!("/api/v2/workspaces/{WS_PAYMENT_GATEWAY}/{p}");
    let (s, doc, _) = send(&app, Method::GET, &ws("tag-bindings"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(keys(&doc), ["costcenter:123", "env:prod"]);
    assert_eq!(doc["data"][0]["type"], "tag-bindings");
    let (_, doc, _) = send(&app, Method::GET, &ws("effective-tag-bindings"), None).await;
    assert_eq!(keys(&doc), ["costcenter:123", "dept:r+d", "env:prod"]);
    let inherited = doc["data"].as_array().unwrap().iter().find(|b| b["attributes"]["key"] == "dept").unwrap();
    assert_eq!(inherited["type"], "effective-tag-bindings");
    assert_eq!(inherited["links"]["inherited-from"], "/api/v2/projects/prj-AcmeDefault0001");

    // Add or update by key; other bindings stay.
    let body = json!({"data": [{"type": "tag-bindings", "attributes": {"key": "env", "value": "production"}},
                               {"type": "tag-bindings", "attributes": {"key": "team", "value": ""}}]});
    let (s, doc, _) = send(&app, Method::PATCH, &ws("tag-bindings"), Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert_eq!(keys(&doc), ["env:production", "team:"]);
    let (_, doc, _) = send(&app, Method::GET, &ws("tag-bindings"), None).await;
    assert_eq!(keys(&doc), ["costcenter:123", "env:production", "team:"]);
    let bad = json!({"data": [{"type": "tags", "attributes": {"key": "x"}}]});
    assert_eq!(send(&app, Method::PATCH, &ws("tag-bindings"), Some(bad)).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    // filter[tagged]: every filter must match an effective binding.
    let list = |q: &str| format!("/api/v2/organizations/acme-corp/workspaces?page%5Bsize%5D=100&{q}");
    let (_, doc, _) =
        send(&app, Method::GET, &list("filter%5Btagged%5D%5B0%5D%5Bkey%5D=env&filter%5Btagged%5D%5B0%5D%5Bvalue%5D=staging"), None).await;
    assert_eq!(names(&doc), ["core-network"]);
    let (_, doc, _) = send(&app, Method::GET, &list("filter%5Btagged%5D%5B0%5D%5Bkey%5D=env"), None).await;
    assert_eq!(names(&doc), ["core-network", "payment-gateway"]);
    let (_, doc, _) = send(
        &app,
        Method::GET,
        &list("filter%5Btagged%5D%5B0%5D%5Bkey%5D=team&filter%5Btagged%5D%5B1%5D%5Bkey%5D=dept&filter%5Btagged%5D%5B1%5D%5Bvalue%5D=r%2Bd"),
        None,
    )
    .await;
    assert_eq!(names(&doc), ["payment-gateway"]);
    let (_, doc, _) =
        send(&app, Method::GET, &list("filter%5Btagged%5D%5B0%5D%5Bkey%5D=dept&filter%5Btagged%5D%5B0%5D%5Bvalue%5D=r%2Bd"), None).await;
    assert!(doc["meta"]["pagination"]["total-count"].as_u64().unwrap() > 20, "inherited by every acme workspace");

    // The workspace update's relationship replaces the workspace's own bindings.
    let patch = json!({"data": {"type": "workspaces", "attributes": {},
        "relationships": {"tag-bindings": {"data": [{"type": "tag-bindings", "attributes": {"key": "tier", "value": "1"}}]}}}});
    let (s, _, text) = send(&app, Method::PATCH, &format!("/api/v2/workspaces/{WS_PAYMENT_GATEWAY}"), Some(patch)).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let (_, doc, _) = send(&app, Method::GET, &ws("tag-bindings"), None).await;
    assert_eq!(keys(&doc), ["tier:1"]);
    let clear = json!({"data": {"type": "workspaces", "relationships": {"tag-bindings": {"data": []}}}});
    send(&app, Method::PATCH, &format!("/api/v2/workspaces/{WS_PAYMENT_GATEWAY}"), Some(clear)).await;
    let (_, doc, _) = send(&app, Method::GET, &ws("tag-bindings"), None).await;
    assert!(keys(&doc).is_empty());

    // Projects: their own bindings, nothing inherited.
    let (s, _, _) = send(
        &app,
        Method::PATCH,
        "/api/v2/projects/prj-AcmeDefault0001/tag-bindings",
        Some(json!({"data": [{"type": "tag-bindings", "attributes": {"key": "owner", "value": "platform"}}]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, doc, _) = send(&app, Method::GET, "/api/v2/projects/prj-AcmeDefault0001/effective-tag-bindings", None).await;
    assert_eq!(keys(&doc), ["dept:r+d", "owner:platform"]);
    assert!(doc["data"][0].get("links").is_none());
    let (_, doc, _) = send(&app, Method::GET, &format!("/api/v2/workspaces/{WS_CORE_NETWORK}/effective-tag-bindings"), None).await;
    assert_eq!(keys(&doc), ["dept:r+d", "env:staging", "owner:platform"]);
    assert_eq!(send(&app, Method::GET, "/api/v2/workspaces/ws-nope/tag-bindings", None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn teams_members_and_memberships() {
    let app = api();
    let (s, doc, _) = send(&app, Method::GET, "/api/v2/organizations/acme-corp/teams", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["meta"]["pagination"]["total-count"], 2);
    assert_eq!(
        send(&app, Method::GET, &format!("/api/v2/teams/{TEAM_GLOBEX_OWNERS}"), None).await.1["data"]["relationships"]["organization"]["data"]
            ["id"],
        "globex"
    );

    // Add alice to owners by username; her membership lists the team too.
    let users = |names: &[&str]| json!({"data": names.iter().map(|n| json!({"type": "users", "id": n})).collect::<Vec<_>>()});
    let path = format!("/api/v2/teams/{TEAM_ACME_OWNERS}/relationships/users");
    let (s, _, text) = send(&app, Method::POST, &path, Some(users(&["alice"]))).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{text}");
    let (_, team, _) = send(&app, Method::GET, &format!("/api/v2/teams/{TEAM_ACME_OWNERS}"), None).await;
    let ids: Vec<&str> =
        team["data"]["relationships"]["users"]["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&USER_ALICE), "{team}");
    assert_eq!(team["data"]["attributes"]["users-count"], 2);
    let (_, m, _) = send(&app, Method::GET, &format!("/api/v2/organization-memberships/{OU_ALICE}"), None).await;
    assert_eq!(m["data"]["relationships"]["teams"]["data"].as_array().unwrap().len(), 2);
    // A globex member cannot be added to an acme team, nor an unknown name.
    assert_eq!(send(&app, Method::POST, &path, Some(users(&["gina"]))).await.0, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, Method::POST, &path, Some(users(&["nobody"]))).await.0, StatusCode::NOT_FOUND);
    let by_id = json!({"data": [{"type": "organization-memberships", "id": OU_GINA}]});
    let mpath = format!("/api/v2/teams/{TEAM_ACME_PLATFORM}/relationships/organization-memberships");
    assert_eq!(send(&app, Method::POST, &mpath, Some(by_id)).await.0, StatusCode::NOT_FOUND);
    // Remove again.
    assert_eq!(send(&app, Method::DELETE, &path, Some(users(&["alice"]))).await.0, StatusCode::NO_CONTENT);
    let (_, team, _) = send(&app, Method::GET, &format!("/api/v2/teams/{TEAM_ACME_OWNERS}"), None).await;
    assert_eq!(team["data"]["attributes"]["users-count"], 1);

    // Invite by email, find it by status and email, add it to a team, remove it.
    let invite = json!({"data": {"type": "organization-memberships", "attributes": {"email": "new@acme-corp.example"},
        "relationships": {"teams": {"data": [{"type": "teams", "id": TEAM_ACME_PLATFORM}]}}}});
    let (s, doc, _) = send(&app, Method::POST, "/api/v2/organizations/acme-corp/organization-memberships", Some(invite.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{doc}");
    let ou = doc["data"]["id"].as_str().unwrap().to_string();
    assert!(ou.starts_with("ou-") && doc["data"]["attributes"]["status"] == "invited");
    assert_eq!(
        send(&app, Method::POST, "/api/v2/organizations/acme-corp/organization-memberships", Some(invite)).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (_, doc, _) =
        send(&app, Method::GET, "/api/v2/organizations/acme-corp/organization-memberships?filter%5Bstatus%5D=invited", None).await;
    assert_eq!(doc["data"].as_array().unwrap().len(), 1);
    let (_, doc, _) = send(&app, Method::GET, "/api/v2/organizations/acme-corp/organization-memberships?q=alice", None).await;
    assert_eq!(doc["data"][0]["id"], OU_ALICE);
    let (_, doc, _) = send(
        &app,
        Method::GET,
        "/api/v2/organizations/acme-corp/organization-memberships?filter%5Bemail%5D=alice%40acme-corp.example",
        None,
    )
    .await;
    assert_eq!(doc["data"].as_array().unwrap().len(), 1);
    let by_id = json!({"data": [{"type": "organization-memberships", "id": ou}]});
    assert_eq!(
        send(&app, Method::POST, &format!("/api/v2/teams/{TEAM_ACME_OWNERS}/relationships/organization-memberships"), Some(by_id)).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(send(&app, Method::DELETE, &format!("/api/v2/organization-memberships/{ou}"), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(send(&app, Method::GET, &format!("/api/v2/organization-memberships/{ou}"), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        send(&app, Method::PATCH, &format!("/api/v2/organization-memberships/{OU_ALICE}"), Some(json!({}))).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn project_team_access() {
    let app = api();
    let (s, doc, _) = send(&app, Method::GET, "/api/v2/team-projects?filter%5Bproject%5D%5Bid%5D=prj-AcmeDefault0001", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["data"][0]["id"], TPRJ_ACME_PLATFORM);
    assert_eq!(doc["data"][0]["relationships"]["project"]["data"]["id"], "prj-AcmeDefault0001");
    assert_eq!(doc["data"][0]["relationships"]["team"]["data"]["id"], TEAM_ACME_PLATFORM);
    assert_eq!(send(&app, Method::GET, "/api/v2/team-projects", None).await.0, StatusCode::BAD_REQUEST);

    let create = json!({"data": {"type": "team-projects", "attributes": {"access": "read"}, "relationships": {
        "project": {"data": {"type": "projects", "id": "prj-AcmeDefault0001"}},
        "team": {"data": {"type": "teams", "id": TEAM_ACME_OWNERS}}}}});
    let (s, doc, _) = send(&app, Method::POST, "/api/v2/team-projects", Some(create)).await;
    assert_eq!(s, StatusCode::CREATED, "{doc}");
    let id = doc["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(doc["data"]["attributes"]["workspace-access"]["runs"], "read");
    let patch = json!({"data": {"type": "team-projects", "attributes": {"access": "custom", "project-access": {"settings": "update", "teams": "read"}}}});
    let (s, doc, _) = send(&app, Method::PATCH, &format!("/api/v2/team-projects/{id}"), Some(patch)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["data"]["attributes"]["project-access"]["settings"], "update");
    assert_eq!(send(&app, Method::DELETE, &format!("/api/v2/team-projects/{id}"), None).await.0, StatusCode::NO_CONTENT);
    let no_project = json!({"data": {"type": "team-projects", "attributes": {"access": "read"}}});
    assert_eq!(send(&app, Method::POST, "/api/v2/team-projects", Some(no_project)).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_project = json!({"data": {"type": "team-projects", "attributes": {"access": "read"}, "relationships": {"project": {"data": {"type": "projects", "id": "prj-nope"}}}}});
    assert_eq!(send(&app, Method::POST, "/api/v2/team-projects", Some(bad_project)).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn vcs_connections_and_ssh_keys_never_return_secrets() {
    let app = api();
    let mut all = String::new();
    for path in [
        "/api/v2/organizations/acme-corp/oauth-clients".to_string(),
        format!("/api/v2/oauth-clients/{OC_ACME}"),
        format!("/api/v2/oauth-clients/{OC_ACME}/oauth-tokens"),
        format!("/api/v2/oauth-tokens/{OT_ACME}"),
        "/api/v2/github-app/installations".to_string(),
        format!("/api/v2/github-app/installation/{GHAIN_OCTO}"),
        "/api/v2/organizations/acme-corp/ssh-keys".to_string(),
        format!("/api/v2/ssh-keys/{SSHKEY_ACME}"),
    ] {
        let (s, _, text) = send(&app, Method::GET, &path, None).await;
        assert_eq!(s, StatusCode::OK, "{path}: {text}");
        all.push_str(&text);
    }
    for secret in [OAUTH_TOKEN_STRING, OAUTH_CLIENT_SECRET, SSH_PRIVATE_KEY, "sim-ssh-private-key"] {
        assert!(!all.contains(secret), "{secret} leaked");
    }
    let (_, doc, _) = send(&app, Method::GET, &format!("/api/v2/oauth-tokens/{OT_ACME}"), None).await;
    assert_eq!(doc["data"]["relationships"]["oauth-client"]["data"]["id"], OC_ACME);
    assert_eq!(doc["data"]["attributes"]["has-ssh-key"], true);
    let (_, doc, _) = send(&app, Method::GET, &format!("/api/v2/oauth-clients/{OC_ACME}"), None).await;
    assert_eq!(doc["data"]["relationships"]["organization"]["data"]["id"], "acme-corp");
    let (_, doc, _) = send(&app, Method::GET, &format!("/api/v2/ssh-keys/{SSHKEY_ACME}"), None).await;
    assert!(doc["data"]["relationships"].get("organization").is_none(), "documented without one");

    // SSH key CRUD: the value is write-only.
    let create = json!({"data": {"type": "ssh-keys", "attributes": {"name": "k2", "value": "-----BEGIN KEY-----zzz"}}});
    let (s, doc, text) = send(&app, Method::POST, "/api/v2/organizations/acme-corp/ssh-keys", Some(create)).await;
    assert_eq!(s, StatusCode::CREATED);
    assert!(!text.contains("zzz"));
    let key = doc["data"]["id"].as_str().unwrap().to_string();

    // Attach to a workspace, replace, detach; only keys of its organization.
    let path = format!("/api/v2/workspaces/{WS_FRONTEND_CDN}/relationships/ssh-key");
    let assign = |k: Value| json!({"data": {"type": "workspaces", "attributes": {"id": k}}});
    let (s, doc, _) = send(&app, Method::PATCH, &path, Some(assign(json!(key)))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["data"]["relationships"]["ssh-key"]["data"]["id"], key.as_str());
    assert_eq!(send(&app, Method::PATCH, &path, Some(assign(json!(SSHKEY_GLOBEX)))).await.0, StatusCode::NOT_FOUND);
    let (_, doc, _) = send(&app, Method::GET, &format!("/api/v2/workspaces/{WS_FRONTEND_CDN}"), None).await;
    assert_eq!(doc["data"]["relationships"]["ssh-key"]["data"]["id"], key.as_str());
    let (s, doc, _) = send(&app, Method::PATCH, &path, Some(assign(Value::Null))).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["data"]["relationships"]["ssh-key"]["data"], Value::Null);
    assert_eq!(send(&app, Method::PATCH, &path, Some(assign(json!(5)))).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        send(&app, Method::POST, "/api/v2/organizations/acme-corp/oauth-clients", Some(json!({}))).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}
