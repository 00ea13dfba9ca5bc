//! The project and workspace scope (`spec.scope`) against a local mock of
//! HCP Terraform: everything a call names is resolved to its workspace (or
//! project) first and refused like a missing resource when outside the
//! scope, with nothing written upstream; organization-level lists are
//! filtered; organization-wide tools are refused; no scope changes nothing.

mod support;

use support::canned::{Mock, serve};

use std::time::Duration;

use serde_json::{Map, Value, json};
use tfc_mcp_gateway::catalog::catalog;
use tfc_mcp_gateway::execute::{ToolError, ToolErrorKind, execute};
use tfc_mcp_gateway::filter::ToolFilter;
use tfc_mcp_gateway::route::Route;
use tfc_mcp_gateway::upstream::{TfcClient, Upstream};

const TOKEN: &str = "tfc-secret-token.atlasv1.abcdef";

// ---- helpers -------------------------------------------------------------------

fn route(address: &str, scope: Value) -> Route {
    let mut r = json!({
        "version": 2, "tokenSha256": "00", "server": "ns/s", "tfcAddress": address,
        "methods": ["list", "get", "create", "update", "delete", "custom", "observe"],
        "organizations": ["acme"],
    });
    if !scope.is_null() {
        r["scope"] = scope;
    }
    serde_json::from_value(r).unwrap()
}

fn upstream() -> Upstream {
    Upstream::new("tfc-mcp-gateway-test", Duration::from_secs(10))
}

async fn call(up: &Upstream, route: &Route, tool: &str, a: Value) -> Result<Value, ToolError> {
    let client = TfcClient::new(up, route, TOKEN);
    let spec = catalog().get(tool).unwrap_or_else(|| panic!("{tool}"));
    let args: Map<String, Value> = a.as_object().unwrap().clone();
    execute(&client, route, spec, args).await
}

fn rel(id: &str, type_: &str) -> Value {
    json!({"data": {"id": id, "type": type_}})
}

fn ws(id: &str, name: &str, project: &str, tags: &[&str]) -> Value {
    json!({"id": id, "type": "workspaces", "attributes": {"name": name, "locked": false, "tag-names": tags},
        "relationships": {"organization": rel("acme", "organizations"), "project": rel(project, "projects")}})
}

fn run(id: &str, ws: &str) -> Value {
    let s = id.trim_start_matches("run-");
    json!({"id": id, "type": "runs", "attributes": {"status": "planned", "actions": {"is-confirmable": true}},
        "relationships": {"workspace": rel(ws, "workspaces"), "plan": rel(&format!("plan-{s}"), "plans"),
            "apply": rel(&format!("apply-{s}"), "applies"), "configuration-version": rel(&format!("cv-{s}"), "configuration-versions")}})
}

fn project(id: &str, name: &str) -> Value {
    json!({"id": id, "type": "projects", "attributes": {"name": name}, "relationships": {"organization": rel("acme", "organizations")}})
}

fn list(items: Vec<Value>) -> Value {
    let n = items.len();
    json!({"data": items, "meta": {"pagination": {"current-page": 1, "total-pages": 1, "total-count": n}}})
}

/// Organization acme: workspace `app` (ws-in, project payments) and
/// `other` (ws-out, project infra, tagged `team:pay`), a run in each.
fn acme() -> Mock {
    let api = Mock::default();
    let ws_in = ws("ws-in", "app", "prj-pay", &[]);
    let ws_out = ws("ws-out", "other", "prj-infra", &["team:pay"]);
    api.on("GET", "/api/v2/organizations/acme", 200, json!({"data": {"id": "acme", "type": "organizations"}}));
    api.on("GET", "/api/v2/workspaces/ws-in", 200, json!({"data": ws_in}));
    api.on("GET", "/api/v2/workspaces/ws-out", 200, json!({"data": ws_out}));
    api.on("GET", "/api/v2/organizations/acme/workspaces/app", 200, json!({"data": ws_in}));
    api.on("GET", "/api/v2/organizations/acme/workspaces/other", 200, json!({"data": ws_out}));
    api.on("GET", "/api/v2/organizations/acme/workspaces", 200, list(vec![ws_in.clone(), ws_out.clone()]));
    api.on("GET", "/api/v2/projects/prj-pay", 200, json!({"data": project("prj-pay", "payments")}));
    api.on("GET", "/api/v2/projects/prj-infra", 200, json!({"data": project("prj-infra", "infra")}));
    api.on("GET", "/api/v2/organizations/acme/projects", 200, list(vec![project("prj-pay", "payments"), project("prj-infra", "infra")]));
    api.on("GET", "/api/v2/runs/run-in", 200, json!({"data": run("run-in", "ws-in")}));
    api.on("GET", "/api/v2/runs/run-out", 200, json!({"data": run("run-out", "ws-out")}));
    api.on("GET", "/api/v2/organizations/acme/runs", 200, list(vec![run("run-in", "ws-in"), run("run-out", "ws-out")]));
    api.on("GET", "/api/v2/workspaces/ws-out/runs", 200, list(vec![run("run-out", "ws-out")]));
    api.on("GET", "/api/v2/workspaces/ws-in/runs", 200, list(vec![run("run-in", "ws-in")]));
    for sv in ["in", "out"] {
        api.on(
            "GET",
            &format!("/api/v2/state-versions/sv-{sv}"),
            200,
            json!({"data": {"id": format!("sv-{sv}"), "type": "state-versions",
            "attributes": {"serial": 1}, "relationships": {"workspace": rel(&format!("ws-{sv}"), "workspaces")}}}),
        );
        api.on(
            "GET",
            &format!("/api/v2/plans/plan-{sv}"),
            200,
            json!({"data": {"id": format!("plan-{sv}"), "type": "plans", "attributes": {"status": "finished"}}}),
        );
        api.on("GET", &format!("/api/v2/notification-configurations/nc-{sv}"), 200, json!({"data": {"id": format!("nc-{sv}"),
            "type": "notification-configurations", "attributes": {"name": "n"}, "relationships": {"subscribable": rel(&format!("ws-{sv}"), "workspaces")}}}));
    }
    // Writes a scoped server must never send outside its scope; answered as if they worked.
    for (wsid, doc) in [("ws-in", &ws_in), ("ws-out", &ws_out)] {
        api.on("POST", &format!("/api/v2/workspaces/{wsid}/actions/lock"), 200, json!({"data": doc}));
        api.on("PATCH", &format!("/api/v2/workspaces/{wsid}"), 200, json!({"data": doc}));
        api.on(
            "PATCH",
            &format!("/api/v2/workspaces/{wsid}/vars/var-1"),
            200,
            json!({"data": {"id": "var-1", "type": "vars", "attributes": {"key": "k"}}}),
        );
        api.on("POST", &format!("/api/v2/workspaces/{wsid}/runs"), 201, json!({"data": run("run-new", wsid)}));
    }
    api.on("POST", "/api/v2/runs", 201, json!({"data": run("run-new", "ws-in")}));
    api.on("POST", "/api/v2/runs/run-out/actions/apply", 202, Value::Null);
    api.on("POST", "/api/v2/runs/run-in/actions/apply", 202, Value::Null);
    api.on("POST", "/api/v2/organizations/acme/workspaces", 201, json!({"data": ws("ws-new", "new", "prj-pay", &[])}));
    api.on("GET", "/api/v2/organizations/acme/policies", 200, list(vec![]));
    api
}

fn assert_not_found(e: &ToolError) {
    assert_eq!(e.kind, ToolErrorKind::Forbidden, "{e:?}");
    assert!(e.message.contains("HTTP 404 Not Found") && e.message.contains("not found"), "{e}");
    assert!(!e.message.contains("scope") && !e.message.contains(TOKEN), "{e}");
}

// ---- tests ---------------------------------------------------------------------

#[tokio::test]
async fn a_server_pinned_to_one_workspace_reaches_nothing_else() {
    let api = acme();
    let base = serve(api.clone()).await;
    let r = route(&base, json!({"workspaces": ["app"]}));
    let up = upstream();

    // Outside: by id, by name, through a run, plan, state version, notification configuration.
    let refused: Vec<(&str, Value)> = vec![
        ("get_single_hashicorp_terraform_cloud_workspace_by_id", json!({"workspace_id": "ws-out"})),
        ("get_single_hashicorp_terraform_cloud_workspace_by_id", json!({"organization_name": "acme", "workspace_name": "other"})),
        ("hashicorp_terraform_cloud_workspaces_lock", json!({"workspace_id": "ws-out", "reason": "x"})),
        ("update_a_hashicorp_terraform_cloud_workspace_by_id", json!({"workspace_id": "ws-out", "description": "x"})),
        (
            "update_a_hashicorp_terraform_cloud_workspace_variable_by_id",
            json!({"workspace_id": "ws-out", "variable_id": "var-1", "value": "v"}),
        ),
        ("create_a_hashicorp_terraform_cloud_run", json!({"workspace_id": "ws-out"})),
        ("list_all_hashicorp_terraform_cloud_runs", json!({"workspace_id": "ws-out"})),
        ("get_single_hashicorp_terraform_cloud_run_by_id", json!({"run_id": "run-out"})),
        ("hashicorp_terraform_cloud_runs_apply", json!({"run_id": "run-out"})),
        ("get_single_hashicorp_terraform_cloud_plan_by_id", json!({"plan_id": "plan-out"})),
        ("get_single_hashicorp_terraform_cloud_state_version_by_id", json!({"state_version_id": "sv-out"})),
        ("list_all_hashicorp_terraform_cloud_state_versions", json!({"organization_name": "acme", "workspace_name": "other"})),
        ("get_single_hashicorp_terraform_cloud_notification_by_id", json!({"notification_configuration_id": "nc-out"})),
        // A project is not in a workspace-only scope.
        ("get_single_hashicorp_terraform_cloud_project_by_id", json!({"project_id": "prj-pay"})),
        // Organization-wide ids beside a workspace in scope.
        ("update_a_hashicorp_terraform_cloud_workspace_by_id", json!({"workspace_id": "ws-in", "agent_pool_id": "apool-1"})),
    ];
    for (tool, a) in &refused {
        let e = call(&up, &r, tool, a.clone()).await.expect_err(tool);
        assert_not_found(&e);
    }
    // Organization-wide and organization-level tools are not even listed.
    let filter = ToolFilter::from_route(&r);
    for (tool, a) in [
        ("list_all_hashicorp_terraform_cloud_organization_policies", json!({"organization_name": "acme"})),
        ("get_single_hashicorp_terraform_cloud_organization_by_id", json!({"organization_name": "acme"})),
        ("get_single_hashicorp_terraform_cloud_variable_set_by_id", json!({"varset_id": "varset-1"})),
        ("list_all_hashicorp_terraform_cloud_explorer_results", json!({"organization_name": "acme", "view_type": "workspaces"})),
        ("hashicorp_terraform_cloud_ssh_keys_attach_to_workspace", json!({"workspace_id": "ws-in", "ssh_key_id": "sshkey-1"})),
    ] {
        assert!(filter.get(tool).is_none(), "{tool}");
        let e = call(&up, &r, tool, a).await.expect_err(tool);
        assert_eq!(e.kind, ToolErrorKind::Forbidden, "{e:?}");
    }
    assert!(filter.get("list_all_hashicorp_terraform_cloud_workspaces").is_some());
    assert!(ToolFilter::from_route(&route(&base, Value::Null)).get("list_all_hashicorp_terraform_cloud_organization_policies").is_some());
    assert!(api.writes().is_empty(), "{:?}", api.writes());
    // Only lookups reached HCP Terraform: no list of runs, no policies.
    assert_eq!(api.count("GET", "/api/v2/workspaces/ws-out/runs"), 0);
    assert_eq!(api.count("GET", "/api/v2/organizations/acme/policies"), 0);

    // Creating a workspace needs a project in scope: a workspace-only scope has none.
    let e =
        call(&up, &r, "create_a_hashicorp_terraform_cloud_workspace", json!({"organization_name": "acme", "name": "n"})).await.unwrap_err();
    assert!(e.message.contains("project_id"), "{e}");
    let e = call(
        &up,
        &r,
        "create_a_hashicorp_terraform_cloud_workspace",
        json!({"organization_name": "acme", "name": "n", "project_id": "prj-pay"}),
    )
    .await
    .unwrap_err();
    assert_not_found(&e);
    assert!(api.writes().is_empty(), "{:?}", api.writes());

    // Inside: by id, by name, its runs.
    let out = call(&up, &r, "get_single_hashicorp_terraform_cloud_workspace_by_id", json!({"workspace_id": "ws-in"})).await.unwrap();
    assert_eq!(out["id"], "ws-in");
    let out = call(
        &up,
        &r,
        "get_single_hashicorp_terraform_cloud_workspace_by_id",
        json!({"organization_name": "acme", "workspace_name": "app"}),
    )
    .await
    .unwrap();
    assert_eq!(out["id"], "ws-in");
    call(&up, &r, "hashicorp_terraform_cloud_workspaces_lock", json!({"workspace_id": "ws-in"})).await.unwrap();
    call(&up, &r, "hashicorp_terraform_cloud_runs_apply", json!({"run_id": "run-in"})).await.unwrap();
    call(&up, &r, "get_single_hashicorp_terraform_cloud_state_version_by_id", json!({"state_version_id": "sv-in"})).await.unwrap();
    assert_eq!(api.count("POST", "/api/v2/workspaces/ws-in/actions/lock"), 1);
    assert_eq!(api.count("POST", "/api/v2/runs/run-in/actions/apply"), 1);
    assert!(api.writes().iter().all(|w| w.path.contains("-in")), "{:?}", api.writes());

    // A plan is found through the organization's runs; then its workspace is known.
    call(&up, &r, "get_single_hashicorp_terraform_cloud_plan_by_id", json!({"plan_id": "plan-in"})).await.unwrap();

    // Lists show only the scope, without totals that would count the rest.
    let out = call(&up, &r, "list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "acme"})).await.unwrap();
    let ids: Vec<&str> = out["results"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["ws-in"]);
    assert!(out["pagination"].get("total_count").is_none(), "{out}");
    let out = call(&up, &r, "list_all_hashicorp_terraform_cloud_runs", json!({"organization_name": "acme"})).await.unwrap();
    let ids: Vec<&str> = out["results"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["run-in"]);
    let out = call(&up, &r, "list_all_hashicorp_terraform_cloud_projects", json!({"organization_name": "acme"})).await.unwrap();
    assert_eq!(out["results"].as_array().unwrap().len(), 0, "{out}");
}

#[tokio::test]
async fn a_server_pinned_to_a_project_creates_workspaces_only_there() {
    let api = acme();
    let base = serve(api.clone()).await;
    let r = route(&base, json!({"projects": ["Payments"]}));
    let up = upstream();

    let e = call(
        &up,
        &r,
        "create_a_hashicorp_terraform_cloud_workspace",
        json!({"organization_name": "acme", "name": "n", "project_id": "prj-infra"}),
    )
    .await
    .unwrap_err();
    assert_not_found(&e);
    let e =
        call(&up, &r, "update_a_hashicorp_terraform_cloud_workspace_by_id", json!({"workspace_id": "ws-in", "project_id": "prj-infra"}))
            .await
            .unwrap_err();
    assert_not_found(&e);
    assert!(api.writes().is_empty(), "{:?}", api.writes());
    let out = call(
        &up,
        &r,
        "create_a_hashicorp_terraform_cloud_workspace",
        json!({"organization_name": "acme", "name": "n", "project_id": "prj-pay"}),
    )
    .await
    .unwrap();
    assert_eq!(out["id"], "ws-new");
    assert_eq!(api.count("POST", "/api/v2/organizations/acme/workspaces"), 1);

    let out = call(&up, &r, "list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "acme"})).await.unwrap();
    let ids: Vec<&str> = out["results"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["ws-in"]);
    let out = call(&up, &r, "list_all_hashicorp_terraform_cloud_projects", json!({"organization_name": "acme"})).await.unwrap();
    let ids: Vec<&str> = out["results"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["prj-pay"]);
    call(&up, &r, "get_single_hashicorp_terraform_cloud_project_by_id", json!({"project_id": "prj-pay"})).await.unwrap();
    let e = call(&up, &r, "get_single_hashicorp_terraform_cloud_run_by_id", json!({"run_id": "run-out"})).await.unwrap_err();
    assert_not_found(&e);
}

#[tokio::test]
async fn a_tag_selector_scopes_by_the_workspace_tags() {
    let api = acme();
    let base = serve(api.clone()).await;
    let r = route(&base, json!({"workspaceTags": ["team:pay"]}));
    let up = upstream();
    call(&up, &r, "get_single_hashicorp_terraform_cloud_run_by_id", json!({"run_id": "run-out"})).await.unwrap();
    let e = call(&up, &r, "get_single_hashicorp_terraform_cloud_run_by_id", json!({"run_id": "run-in"})).await.unwrap_err();
    assert_not_found(&e);
    let out = call(&up, &r, "list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "acme"})).await.unwrap();
    let ids: Vec<&str> = out["results"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["ws-out"]);
}

#[tokio::test]
async fn no_scope_changes_nothing_and_a_scope_without_one_organization_allows_nothing() {
    let api = acme();
    let base = serve(api.clone()).await;
    let r = route(&base, Value::Null);
    let up = upstream();
    call(&up, &r, "get_single_hashicorp_terraform_cloud_run_by_id", json!({"run_id": "run-out"})).await.unwrap();
    let out = call(&up, &r, "list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "acme"})).await.unwrap();
    assert_eq!(out["results"].as_array().unwrap().len(), 2);
    assert_eq!(out["pagination"]["total_count"], 2);
    call(&up, &r, "list_all_hashicorp_terraform_cloud_organization_policies", json!({"organization_name": "acme"})).await.unwrap();
    // No lookups of projects without a scope.
    assert_eq!(api.count("GET", "/api/v2/projects/prj-infra"), 0);

    let mut bad = route(&base, json!({"workspaces": ["app"]}));
    bad.organizations.clear();
    let e = call(&up, &bad, "get_single_hashicorp_terraform_cloud_workspace_by_id", json!({"workspace_id": "ws-in"})).await.unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::Forbidden);
}
