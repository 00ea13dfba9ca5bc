//! Key-value tag bindings, organization memberships, team members, project
//! team access, VCS connections and workspace SSH keys: request bodies
//! against the documented samples, the `tagged` filter, write-only secrets,
//! and the organization allow-list (ids in paths, bodies and inside
//! `vcs_repo`) against a local mock server.

mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tfc_mcp_gateway::catalog::catalog;
use tfc_mcp_gateway::execute::{Request, ToolError, ToolErrorKind, execute, prepare};
use tfc_mcp_gateway::jsonapi::{Grants, flatten_document_with};
use tfc_mcp_gateway::route::Route;
use tfc_mcp_gateway::upstream::{TfcClient, Upstream};

const TOKEN: &str = "tfc-secret-token.atlasv1.abcdef";

fn sample(file: &str, section: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tfc-api-samples").join(file);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    doc["sections"].as_array().unwrap().iter().find(|s| s["section"] == section).unwrap_or_else(|| panic!("{file} / {section}")).clone()
}

fn build(tool: &str, a: Value) -> Result<Request, ToolError> {
    prepare(catalog().get(tool).unwrap_or_else(|| panic!("{tool}")), a.as_object().unwrap().clone())
}

/// (tool, arguments, sample file, section, path the tool must use)
/// The team-members samples name the team `257525`, not a team id.
fn action_cases() -> Vec<(&'static str, Value, &'static str, &'static str, &'static str)> {
    vec![
        (
            "hashicorp_terraform_cloud_tag_bindings_add_or_update",
            json!({"workspace_id": "ws-82d2281aa259ba09", "tag_bindings": [{"key": "costcenter", "value": "123"}, {"key": "bar", "value": "baz"}]}),
            "workspaces.json",
            "Add/update tag-bindings on a workspace",
            "/workspaces/ws-82d2281aa259ba09/tag-bindings",
        ),
        (
            "hashicorp_terraform_cloud_tag_bindings_add_or_update",
            json!({"project_id": "prj-82d2281aa259ba09", "tag_bindings": [{"key": "costcenter", "value": "123"}, {"key": "bar", "value": "baz"}]}),
            "projects.json",
            "Add or update tag bindings on a project",
            "/projects/prj-82d2281aa259ba09/tag-bindings",
        ),
        (
            "hashicorp_terraform_cloud_ssh_keys_attach_to_workspace",
            json!({"workspace_id": "ws-SihZTyXKfNXUWuUa", "ssh_key_id": "sshkey-GxrePWre1Ezug7aM"}),
            "workspaces.json",
            "Assign an SSH key to a workspace",
            "/workspaces/ws-SihZTyXKfNXUWuUa/relationships/ssh-key",
        ),
        (
            "hashicorp_terraform_cloud_ssh_keys_detach_from_workspace",
            json!({"workspace_id": "ws-SihZTyXKfNXUWuUa"}),
            "workspaces.json",
            "Unassign an SSH key from a workspace",
            "/workspaces/ws-SihZTyXKfNXUWuUa/relationships/ssh-key",
        ),
        (
            "hashicorp_terraform_cloud_teams_add_memberships",
            json!({"team_id": "team-257525", "organization_membership_ids": ["ou-nX7inDHhmC3quYgy", "ou-tTJph1AQVK5ZmdND"]}),
            "team-members.json",
            "Add a User to Team (With organization membership ID)",
            "/teams/team-257525/relationships/organization-memberships",
        ),
        (
            "hashicorp_terraform_cloud_teams_remove_memberships",
            json!({"team_id": "team-257525", "organization_membership_ids": ["ou-nX7inDHhmC3quYgy", "ou-tTJph1AQVK5ZmdND"]}),
            "team-members.json",
            "Delete a User from Team (With organization membership ID)",
            "/teams/team-257525/relationships/organization-memberships",
        ),
    ]
}

#[test]
fn action_payloads_match_the_documented_samples() {
    for (tool, a, file, section, path) in action_cases() {
        let s = sample(file, section);
        let req = build(tool, a).unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert_eq!(catalog().get(tool).unwrap().verb.as_str(), s["requests"][0]["method"], "{tool}");
        assert_eq!(req.path, path, "{tool}");
        assert_eq!(req.body.unwrap(), s["payloads"][0], "{tool}: {section}");
    }
}

#[test]
fn documented_paths_of_read_tools() {
    for (tool, a, path) in [
        (
            "list_all_hashicorp_terraform_cloud_tag_bindings",
            json!({"workspace_id": "ws-db61c9eb5cab5ae2"}),
            "/workspaces/ws-db61c9eb5cab5ae2/tag-bindings",
        ),
        (
            "list_all_hashicorp_terraform_cloud_tag_bindings",
            json!({"project_id": "prj-WsVcWRr7SfxRci1v"}),
            "/projects/prj-WsVcWRr7SfxRci1v/tag-bindings",
        ),
        (
            "list_all_hashicorp_terraform_cloud_effective_tag_bindings",
            json!({"workspace_id": "ws-db61c9eb5cab5ae2"}),
            "/workspaces/ws-db61c9eb5cab5ae2/effective-tag-bindings",
        ),
        (
            "list_all_hashicorp_terraform_cloud_oauth_clients",
            json!({"organization_name": "my-organization"}),
            "/organizations/my-organization/oauth-clients",
        ),
        (
            "get_single_hashicorp_terraform_cloud_oauth_client_by_id",
            json!({"oauth_client_id": "oc-XKFwG6ggfA9n7t1K"}),
            "/oauth-clients/oc-XKFwG6ggfA9n7t1K",
        ),
        (
            "list_all_hashicorp_terraform_cloud_oauth_tokens",
            json!({"oauth_client_id": "oc-GhHqb5rkeK19mLB8"}),
            "/oauth-clients/oc-GhHqb5rkeK19mLB8/oauth-tokens",
        ),
        (
            "get_single_hashicorp_terraform_cloud_oauth_token_by_id",
            json!({"oauth_token_id": "ot-29t7xkUKiNC2XasL"}),
            "/oauth-tokens/ot-29t7xkUKiNC2XasL",
        ),
        ("list_all_hashicorp_terraform_cloud_github_app_installations", json!({}), "/github-app/installations"),
        (
            "get_single_hashicorp_terraform_cloud_github_installation_by_id",
            json!({"github_app_installation_id": "ghain-R4xmKTaxnhLFioUq"}),
            "/github-app/installation/ghain-R4xmKTaxnhLFioUq",
        ),
        (
            "list_all_hashicorp_terraform_cloud_organization_memberships",
            json!({"organization_name": "my-organization"}),
            "/organizations/my-organization/organization-memberships",
        ),
        (
            "get_single_hashicorp_terraform_cloud_org_membership_by_id",
            json!({"organization_membership_id": "ou-kit6GaMo3zPGCzWb"}),
            "/organization-memberships/ou-kit6GaMo3zPGCzWb",
        ),
        (
            "delete_a_hashicorp_terraform_cloud_organization_membership_by_id",
            json!({"organization_membership_id": "ou-kit6GaMo3zPGCzWb"}),
            "/organization-memberships/ou-kit6GaMo3zPGCzWb",
        ),
        (
            "get_single_hashicorp_terraform_cloud_project_team_access_by_id",
            json!({"project_team_access_id": "tprj-s68jV4FWCDwWvQq8"}),
            "/team-projects/tprj-s68jV4FWCDwWvQq8",
        ),
        (
            "delete_a_hashicorp_terraform_cloud_project_team_access_by_id",
            json!({"project_team_access_id": "tprj-s68jV4FWCDwWvQq8"}),
            "/team-projects/tprj-s68jV4FWCDwWvQq8",
        ),
    ] {
        let req = build(tool, a).unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert_eq!(req.path, path, "{tool}");
    }
    let req = build("list_all_hashicorp_terraform_cloud_project_team_accesses", json!({"project_id": "prj-ckZoJwdERaWcFHwi"})).unwrap();
    assert_eq!(
        (req.path.as_str(), req.query.clone()),
        ("/team-projects", vec![("filter[project][id]".into(), "prj-ckZoJwdERaWcFHwi".into())])
    );
    let req = build(
        "list_all_hashicorp_terraform_cloud_organization_memberships",
        json!({"organization_name": "o", "search_query": "alice", "filter_status": "invited", "filter_email": "a@x.example"}),
    )
    .unwrap();
    assert_eq!(
        req.query,
        vec![("q".into(), "alice".into()), ("filter[status]".into(), "invited".into()), ("filter[email]".into(), "a@x.example".into())]
    );
}

#[test]
fn project_team_access_update_sends_custom_permissions_kebab_cased() {
    let req = build(
        "update_a_hashicorp_terraform_cloud_project_team_access_by_id",
        json!({"project_team_access_id": "tprj-1", "access": "custom",
               "project_access": {"settings": "read", "teams": "none", "variable_sets": "read"},
               "workspace_access": {"runs": "apply", "state_versions": "read-outputs", "sentinel_mocks": "none", "run_tasks": false}}),
    )
    .unwrap();
    assert_eq!(req.path, "/team-projects/tprj-1");
    assert_eq!(
        req.body.unwrap(),
        json!({"data": {"type": "team-projects", "attributes": {"access": "custom",
            "project-access": {"settings": "read", "teams": "none", "variable-sets": "read"},
            "workspace-access": {"runs": "apply", "state-versions": "read-outputs", "sentinel-mocks": "none", "run-tasks": false}}}})
    );
}

#[test]
fn tagged_filter_becomes_indexed_query_parameters() {
    let req = build(
        "list_all_hashicorp_terraform_cloud_workspaces",
        json!({"organization_name": "acme", "tagged": ["env:prod", "team", "dept:r+d", "url:a:b"]}),
    )
    .unwrap();
    let q: Vec<(&str, &str)> = req.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        q,
        vec![
            ("filter[tagged][0][key]", "env"),
            ("filter[tagged][0][value]", "prod"),
            ("filter[tagged][1][key]", "team"),
            ("filter[tagged][2][key]", "dept"),
            ("filter[tagged][2][value]", "r+d"),
            ("filter[tagged][3][key]", "url"),
            ("filter[tagged][3][value]", "a:b"),
        ]
    );
    // Nothing that could end this parameter or start another one.
    for bad in [
        "env&search[name]=x",
        "env:prod&filter[project][id]=prj-1",
        "env=prod",
        "env[0]",
        "env:a]b",
        "env:a\nb",
        "env\r\n:x",
        ":prod",
        "",
        "env:100%",
        "env:a#b",
        "env:a?b",
    ] {
        let e = build("list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "acme", "tagged": [bad]})).unwrap_err();
        assert_eq!(e.kind, ToolErrorKind::InvalidArguments, "{bad:?}");
        assert!(e.message.contains("`tagged`"), "{e}");
    }
    let many: Vec<String> = (0..51).map(|i| format!("k{i}")).collect();
    assert!(build("list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "acme", "tagged": many})).is_err());
    // Bindings are checked the same way.
    let e = build(
        "hashicorp_terraform_cloud_tag_bindings_add_or_update",
        json!({"workspace_id": "ws-1", "tag_bindings": [{"key": "a&b", "value": "x"}]}),
    )
    .unwrap_err();
    assert!(e.message.contains("`tag_bindings`"), "{e}");
    let e = build("hashicorp_terraform_cloud_tag_bindings_add_or_update", json!({"workspace_id": "ws-1", "tag_bindings": []})).unwrap_err();
    assert!(e.message.contains("at least one"), "{e}");
    // [] on update removes every binding (the relationship is replaced).
    let req = build("update_a_hashicorp_terraform_cloud_workspace_by_id", json!({"workspace_id": "ws-1", "tag_bindings": []})).unwrap();
    assert_eq!(req.body.unwrap()["data"]["relationships"], json!({"tag-bindings": {"data": []}}));
}

#[test]
fn ids_inside_vcs_repo_are_checked_like_arguments() {
    let t = "create_a_hashicorp_terraform_cloud_workspace";
    for ok in [
        json!({"identifier": "o/r", "oauth_token_id": "ot-hmAyP66qk2AMVdbJ"}),
        json!({"identifier": "o/r", "oauth-token-id": "ot-hmAyP66qk2AMVdbJ"}),
        json!({"identifier": "o/r", "github_app_installation_id": "ghain-R4xmKTaxnhLFioUq"}),
    ] {
        build(t, json!({"organization_name": "o", "name": "w", "vcs_repo": ok})).unwrap();
    }
    for (bad, word) in [
        (json!({"identifier": "o/r", "oauth_token_id": "../ot-1"}), "vcs_repo.oauth_token_id"),
        (json!({"identifier": "o/r", "oauth-token-id": "ws-1"}), "vcs_repo.oauth_token_id"),
        (json!({"identifier": "o/r", "github_app_installation_id": "ot-1"}), "vcs_repo.github_app_installation_id"),
        (json!({"identifier": "o/r", "agent_pool_secret_id": "x"}), "agent_pool_secret_id"),
        (json!({"identifier": "o/r", "nested": {"foo_ids": ["x"]}}), "foo_ids"),
    ] {
        let e = build(t, json!({"organization_name": "o", "name": "w", "vcs_repo": bad})).unwrap_err();
        assert_eq!(e.kind, ToolErrorKind::InvalidArguments);
        assert!(e.message.contains(word), "{e}");
    }
}

#[test]
fn vcs_and_ssh_secrets_never_come_back() {
    let doc = json!({"data": [
        {"id": "oc-1", "type": "oauth-clients", "attributes": {"name": "gh", "service-provider": "github",
            "oauth-token-string": "ghp_SECRET1", "secret": "SECRET2", "private-key": "-----BEGIN RSA PRIVATE KEY----- SECRET3", "key": "client-id"}},
        {"id": "ot-1", "type": "oauth-tokens", "attributes": {"service-provider-user": "me", "has-ssh-key": true,
            "ssh-key": "-----BEGIN OPENSSH PRIVATE KEY----- SECRET4", "token": "SECRET5"}},
        {"id": "sshkey-1", "type": "ssh-keys", "attributes": {"name": "deploy", "value": "-----BEGIN RSA PRIVATE KEY----- SECRET6"}}
    ], "included": [{"id": "oc-2", "type": "oauth-clients", "attributes": {"oauth-token-string": "SECRET7"}}]});
    let flat = flatten_document_with(&doc, None, None, None, &Grants::default());
    let text = flat.to_string();
    assert!(!text.contains("SECRET"), "{text}");
    assert_eq!(flat["results"][0]["service_provider"], "github");
    assert_eq!(flat["results"][1]["has_ssh_key"], true);
    assert_eq!(flat["results"][2]["name"], "deploy");
    // A variable's `value` is not an SSH key: only the secret attributes of each type go.
    let vars = json!({"data": {"id": "var-1", "type": "vars", "attributes": {"key": "k", "value": "v", "sensitive": false}}});
    assert_eq!(flatten_document_with(&vars, None, None, None, &Grants::default())["value"], "v");
}

#[test]
fn effective_bindings_say_where_they_come_from() {
    let s = sample("workspaces.json", "List workspace tag bindings");
    let flat = flatten_document_with(&s["responses"][1], None, None, None, &Grants::default());
    assert_eq!(flat["results"][0]["key"], "costcenter");
    assert!(flat["results"][0].get("inherited_from").is_none());
    assert_eq!(flat["results"][1]["inherited_from"], "/api/v2/projects/prj-Lg4wmRZEpDUf8ZhB");
}

// ---- the organization allow-list, against a mock ---------------------------------

/// (method, path, status, body)
type Canned = (String, String, u16, String);

#[derive(Clone, Default)]
struct Mock {
    routes: Arc<Mutex<Vec<Canned>>>,
    seen: Arc<Mutex<Vec<(String, String)>>>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Mock {
    fn on(&self, method: &str, path: &str, status: u16, body: Value) {
        let body = if body.is_null() { String::new() } else { body.to_string() };
        self.routes.lock().unwrap().push((method.into(), path.into(), status, body));
    }
    fn writes(&self) -> Vec<(String, String)> {
        self.seen.lock().unwrap().iter().filter(|(m, _)| m != "GET").cloned().collect()
    }
}

async fn handle(State(mock): State<Mock>, method: Method, uri: Uri, body: Bytes) -> Response {
    mock.seen.lock().unwrap().push((method.to_string(), uri.path().to_owned()));
    if let Ok(v) = serde_json::from_slice::<Value>(&body) {
        mock.bodies.lock().unwrap().push(v);
    }
    let canned =
        mock.routes.lock().unwrap().iter().find(|(m, p, _, _)| *m == method.as_str() && *p == uri.path()).map(|r| (r.2, r.3.clone()));
    let (status, body) = canned.unwrap_or((404, json!({"errors": [{"status": "404", "title": "not found"}]}).to_string()));
    let mut resp = (StatusCode::from_u16(status).unwrap(), body).into_response();
    resp.headers_mut().insert("content-type", "application/vnd.api+json".parse().unwrap());
    resp
}

fn org_rel(org: &str) -> Value {
    json!({"data": {"id": org, "type": "organizations"}})
}

/// acme and globex, each with a workspace, a team, a membership, a VCS
/// connection with a token, a project with team access and an SSH key.
fn two_orgs() -> Mock {
    let m = Mock::default();
    for org in ["acme", "globex"] {
        m.on("GET", &format!("/api/v2/workspaces/ws-{org}"), 200, json!({"data": {"id": format!("ws-{org}"), "type": "workspaces", "attributes": {"name": org}, "relationships": {"organization": org_rel(org)}}}));
        m.on("GET", &format!("/api/v2/teams/team-{org}"), 200, json!({"data": {"id": format!("team-{org}"), "type": "teams", "attributes": {"name": "ops"}, "relationships": {"organization": org_rel(org)}}}));
        m.on("GET", &format!("/api/v2/organization-memberships/ou-{org}"), 200, json!({"data": {"id": format!("ou-{org}"), "type": "organization-memberships", "attributes": {"status": "active"}, "relationships": {"organization": org_rel(org)}}}));
        m.on("GET", &format!("/api/v2/oauth-clients/oc-{org}"), 200, json!({"data": {"id": format!("oc-{org}"), "type": "oauth-clients", "attributes": {"service-provider": "github"}, "relationships": {"organization": org_rel(org)}}}));
        m.on("GET", &format!("/api/v2/oauth-tokens/ot-{org}"), 200, json!({"data": {"id": format!("ot-{org}"), "type": "oauth-tokens", "attributes": {"has-ssh-key": false, "ssh-key": "SECRET"}, "relationships": {"oauth-client": {"data": {"id": format!("oc-{org}"), "type": "oauth-clients"}}}}}));
        m.on("GET", &format!("/api/v2/projects/prj-{org}"), 200, json!({"data": {"id": format!("prj-{org}"), "type": "projects", "attributes": {"name": org}, "relationships": {"organization": org_rel(org)}}}));
        m.on("GET", &format!("/api/v2/team-projects/tprj-{org}"), 200, json!({"data": {"id": format!("tprj-{org}"), "type": "team-projects", "attributes": {"access": "read"}, "relationships": {"project": {"data": {"id": format!("prj-{org}"), "type": "projects"}}, "team": {"data": {"id": format!("team-{org}"), "type": "teams"}}}}}));
        m.on("GET", &format!("/api/v2/organizations/{org}/ssh-keys"), 200, json!({"data": [{"id": format!("sshkey-{org}"), "type": "ssh-keys", "attributes": {"name": "k"}}], "meta": {"pagination": {"current-page": 1, "total-pages": 1, "total-count": 1}}}));
        m.on(
            "GET",
            &format!("/api/v2/organizations/{org}/organization-memberships"),
            200,
            json!({"data": [], "meta": {"pagination": {"current-page": 1, "total-pages": 1, "total-count": 0}}}),
        );
        // Writes that must never be sent for globex (answered as if they worked).
        m.on("POST", &format!("/api/v2/teams/team-{org}/relationships/users"), 204, Value::Null);
        m.on("POST", &format!("/api/v2/teams/team-{org}/relationships/organization-memberships"), 204, Value::Null);
        m.on("PATCH", &format!("/api/v2/workspaces/ws-{org}/relationships/ssh-key"), 200, json!({"data": {"id": format!("ws-{org}"), "type": "workspaces", "attributes": {}, "relationships": {"organization": org_rel(org)}}}));
        m.on("PATCH", &format!("/api/v2/workspaces/ws-{org}/tag-bindings"), 200, json!({"data": []}));
        m.on("PATCH", &format!("/api/v2/workspaces/ws-{org}"), 200, json!({"data": {"id": format!("ws-{org}"), "type": "workspaces", "attributes": {}, "relationships": {"organization": org_rel(org)}}}));
        m.on("DELETE", &format!("/api/v2/organization-memberships/ou-{org}"), 204, Value::Null);
        m.on("DELETE", &format!("/api/v2/team-projects/tprj-{org}"), 204, Value::Null);
        m.on(
            "POST",
            "/api/v2/team-projects",
            201,
            json!({"data": {"id": "tprj-new", "type": "team-projects", "attributes": {"access": "read"}}}),
        );
        m.on(
            "POST",
            &format!("/api/v2/organizations/{org}/workspaces"),
            201,
            json!({"data": {"id": "ws-new", "type": "workspaces", "attributes": {}, "relationships": {"organization": org_rel(org)}}}),
        );
    }
    m
}

async fn call(address: &str, tool: &str, a: Value) -> Result<Value, ToolError> {
    let route: Route = serde_json::from_value(json!({
        "version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": address,
        "methods": ["list", "get", "create", "update", "delete", "custom"], "organizations": ["acme"],
    }))
    .unwrap();
    let up = Upstream::new("tfc-mcp-gateway-test", Duration::from_secs(10));
    let client = TfcClient::new(&up, &route, TOKEN);
    let args: Map<String, Value> = a.as_object().unwrap().clone();
    execute(&client, &route, catalog().get(tool).unwrap(), args).await
}

#[tokio::test]
async fn foreign_ids_are_refused_everywhere_and_nothing_is_written() {
    let mock = two_orgs();
    let addr = support::serve_mock(Router::new().fallback(handle).with_state(mock.clone())).await;
    let foreign = [
        ("list_all_hashicorp_terraform_cloud_organization_memberships", json!({"organization_name": "globex"})),
        ("get_single_hashicorp_terraform_cloud_org_membership_by_id", json!({"organization_membership_id": "ou-globex"})),
        ("delete_a_hashicorp_terraform_cloud_organization_membership_by_id", json!({"organization_membership_id": "ou-globex"})),
        ("get_single_hashicorp_terraform_cloud_oauth_token_by_id", json!({"oauth_token_id": "ot-globex"})),
        ("list_all_hashicorp_terraform_cloud_oauth_tokens", json!({"oauth_client_id": "oc-globex"})),
        ("hashicorp_terraform_cloud_teams_add_users", json!({"team_id": "team-globex", "usernames": ["mallory"]})),
        ("hashicorp_terraform_cloud_teams_add_memberships", json!({"team_id": "team-acme", "organization_membership_ids": ["ou-globex"]})),
        ("hashicorp_terraform_cloud_ssh_keys_attach_to_workspace", json!({"workspace_id": "ws-acme", "ssh_key_id": "sshkey-globex"})),
        ("hashicorp_terraform_cloud_ssh_keys_detach_from_workspace", json!({"workspace_id": "ws-globex"})),
        (
            "hashicorp_terraform_cloud_tag_bindings_add_or_update",
            json!({"workspace_id": "ws-globex", "tag_bindings": [{"key": "a", "value": "b"}]}),
        ),
        (
            "create_a_hashicorp_terraform_cloud_project_team_access",
            json!({"project_id": "prj-acme", "team_id": "team-globex", "access": "read"}),
        ),
        ("delete_a_hashicorp_terraform_cloud_project_team_access_by_id", json!({"project_team_access_id": "tprj-globex"})),
        (
            "create_a_hashicorp_terraform_cloud_organization_membership",
            json!({"organization_name": "acme", "email": "m@x.example", "team_ids": ["team-globex"]}),
        ),
        // Connecting an acme workspace through globex's VCS credentials.
        (
            "create_a_hashicorp_terraform_cloud_workspace",
            json!({"organization_name": "acme", "name": "w", "vcs_repo": {"identifier": "o/r", "oauth_token_id": "ot-globex"}}),
        ),
        (
            "update_a_hashicorp_terraform_cloud_workspace_by_id",
            json!({"workspace_id": "ws-acme", "vcs_repo": {"identifier": "o/r", "oauth-token-id": "ot-globex"}}),
        ),
    ];
    for (tool, a) in foreign {
        let e = call(&addr, tool, a.clone()).await.expect_err(tool);
        assert_eq!(e.kind, ToolErrorKind::Forbidden, "{tool} {a}: {e}");
        assert!(e.message.contains("HTTP 404 Not Found") && !e.message.contains("allow-list"), "{tool}: {e}");
    }
    assert!(mock.writes().is_empty(), "{:?}", mock.writes());

    // The same calls within acme go through, and answers carry no secret.
    for (tool, a) in [
        ("get_single_hashicorp_terraform_cloud_oauth_token_by_id", json!({"oauth_token_id": "ot-acme"})),
        ("hashicorp_terraform_cloud_teams_add_users", json!({"team_id": "team-acme", "usernames": ["alice"]})),
        ("hashicorp_terraform_cloud_ssh_keys_attach_to_workspace", json!({"workspace_id": "ws-acme", "ssh_key_id": "sshkey-acme"})),
        (
            "create_a_hashicorp_terraform_cloud_workspace",
            json!({"organization_name": "acme", "name": "w", "vcs_repo": {"identifier": "o/r", "oauth_token_id": "ot-acme"}}),
        ),
        ("delete_a_hashicorp_terraform_cloud_organization_membership_by_id", json!({"organization_membership_id": "ou-acme"})),
    ] {
        let v = call(&addr, tool, a).await.unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert!(!v.to_string().contains("SECRET"), "{tool}: {v}");
    }
    assert_eq!(mock.writes().len(), 4, "{:?}", mock.writes());
}

#[tokio::test]
async fn team_users_by_username_or_user_id_send_the_documented_payload() {
    let mock = two_orgs();
    mock.on(
        "GET",
        "/api/v2/users/user-myuser2",
        200,
        json!({"data": {"id": "user-myuser2", "type": "users", "attributes": {"username": "myuser2"}}}),
    );
    mock.on(
        "GET",
        "/api/v2/users/user-invited",
        200,
        json!({"data": {"id": "user-invited", "type": "users", "attributes": {"username": null}}}),
    );
    mock.on("DELETE", "/api/v2/teams/team-acme/relationships/users", 204, Value::Null);
    let addr = support::serve_mock(Router::new().fallback(handle).with_state(mock.clone())).await;
    let documented = sample("team-members.json", "Add a User to Team (With user ID)")["payloads"][0].clone();
    for tool in ["hashicorp_terraform_cloud_teams_add_users", "hashicorp_terraform_cloud_teams_remove_users"] {
        mock.bodies.lock().unwrap().clear();
        let v = call(&addr, tool, json!({"team_id": "team-acme", "usernames": ["myuser1"], "user_ids": ["user-myuser2"]})).await.unwrap();
        assert_eq!(v["usernames"], json!(["myuser1", "myuser2"]), "{tool}");
        assert_eq!(mock.bodies.lock().unwrap().clone(), vec![documented.clone()], "{tool}");
    }
    let e = call(&addr, "hashicorp_terraform_cloud_teams_add_users", json!({"team_id": "team-acme"})).await.unwrap_err();
    assert!(e.message.contains("`usernames` or `user_ids`"), "{e}");
    let e = call(&addr, "hashicorp_terraform_cloud_teams_add_users", json!({"team_id": "team-acme", "user_ids": ["user-invited"]}))
        .await
        .unwrap_err();
    assert!(e.message.contains("hashicorp_terraform_cloud_teams_add_memberships"), "{e}");
    let e =
        call(&addr, "hashicorp_terraform_cloud_teams_add_users", json!({"team_id": "team-acme", "user_ids": ["alice"]})).await.unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::InvalidArguments, "{e}");
    assert_eq!(mock.writes().len(), 2);
}
