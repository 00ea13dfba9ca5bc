//! The organization allow-list for tools addressed by an id, against local
//! mock servers: the owner of every named resource is established before
//! the tool's request is sent, a foreign one is refused like a missing one
//! with nothing written upstream, and owners are looked up once.

mod support;

use support::canned::{Mock, Seen, serve};

use std::time::Duration;

use serde_json::{Map, Value, json};
use tfc_mcp_gateway::catalog::catalog;
use tfc_mcp_gateway::execute::{ToolError, ToolErrorKind, execute};
use tfc_mcp_gateway::route::Route;
use tfc_mcp_gateway::upstream::{TfcClient, Upstream};

const TOKEN: &str = "tfc-secret-token.atlasv1.abcdef";

// ---- helpers -------------------------------------------------------------------

fn route(address: &str, organizations: &[&str]) -> Route {
    serde_json::from_value(json!({
        "version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": address,
        "methods": ["list", "get", "create", "update", "delete", "custom"],
        "organizations": organizations,
    }))
    .unwrap()
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

fn org_rel(org: &str) -> Value {
    json!({"data": {"id": org, "type": "organizations"}})
}

fn ws_resource(id: &str, org: &str) -> Value {
    json!({"id": id, "type": "workspaces", "attributes": {"name": format!("name-{id}"), "locked": true},
        "relationships": {"organization": org_rel(org), "project": {"data": {"id": "prj-1", "type": "projects"}}},
        "links": {"self": format!("/api/v2/workspaces/{id}")}})
}

fn ws_doc(id: &str, org: &str) -> Value {
    json!({"data": ws_resource(id, org)})
}

fn run_resource(id: &str, ws: &str, status: &str) -> Value {
    let suffix = id.trim_start_matches("run-");
    json!({"id": id, "type": "runs", "attributes": {"status": status, "actions": {"is-confirmable": status == "planned"}},
        "relationships": {
            "workspace": {"data": {"id": ws, "type": "workspaces"}},
            "plan": {"data": {"id": format!("plan-{suffix}"), "type": "plans"}},
            "apply": {"data": {"id": format!("apply-{suffix}"), "type": "applies"}},
            "configuration-version": {"data": {"id": format!("cv-{suffix}"), "type": "configuration-versions"}},
            "created-by": {"data": {"id": "user-1", "type": "users"}}}})
}

fn run_doc(id: &str, ws: &str, status: &str) -> Value {
    json!({"data": run_resource(id, ws, status)})
}

fn plan_doc(id: &str) -> Value {
    json!({"data": {"id": id, "type": "plans", "attributes": {"status": "finished", "has-changes": true},
        "relationships": {"state-versions": {"data": []}}}})
}

fn list(items: Vec<Value>) -> Value {
    let n = items.len();
    json!({"data": items, "meta": {"pagination": {"current-page": 1, "total-pages": 1, "total-count": n}}})
}

fn assert_refused(e: &ToolError, path: &str) {
    assert_eq!(e.kind, ToolErrorKind::Forbidden, "{e:?}");
    assert!(e.message.contains("HTTP 404 Not Found") && e.message.contains(path) && e.message.contains("not found"), "{e}");
    // Nothing about the owner or the allow-list beyond the request itself.
    let rest = e.message.replace(path, "");
    assert!(!rest.contains("globex") && !rest.contains("allow-list") && !rest.contains(TOKEN), "{e}");
}

/// The mock as seen from a server of acme only, with a workspace and a run
/// in each of acme and globex.
fn two_orgs() -> Mock {
    let api = Mock::default();
    api.on("GET", "/api/v2/workspaces/ws-acme", 200, ws_doc("ws-acme", "acme"));
    api.on("GET", "/api/v2/workspaces/ws-globex", 200, ws_doc("ws-globex", "globex"));
    api.on("GET", "/api/v2/runs/run-acme", 200, run_doc("run-acme", "ws-acme", "planned"));
    api.on("GET", "/api/v2/runs/run-globex", 200, run_doc("run-globex", "ws-globex", "planned"));
    // Writes the gateway must never send for globex; answered as if they worked.
    for (m, p) in [
        ("POST", "/api/v2/workspaces/ws-globex/actions/force-unlock"),
        ("POST", "/api/v2/workspaces/ws-globex/actions/lock"),
        ("POST", "/api/v2/workspaces/ws-acme/actions/force-unlock"),
        ("POST", "/api/v2/workspaces/ws-acme/actions/lock"),
    ] {
        let (id, org) = if p.contains("globex") { ("ws-globex", "globex") } else { ("ws-acme", "acme") };
        api.on(m, p, 200, ws_doc(id, org));
    }
    api.on("POST", "/api/v2/runs/run-globex/actions/apply", 202, Value::Null);
    api.on("POST", "/api/v2/runs/run-acme/actions/apply", 202, Value::Null);
    api
}

// ---- tests ---------------------------------------------------------------------

#[tokio::test]
async fn force_unlock_of_a_foreign_workspace_is_refused_and_nothing_is_posted() {
    let api = two_orgs();
    let base = serve(api.clone()).await;
    let r = route(&base, &["acme"]);
    let up = upstream();

    let e = call(&up, &r, "hashicorp_terraform_cloud_workspaces_force_unlock", json!({"workspace_id": "ws-globex"})).await.unwrap_err();
    assert_refused(&e, "POST /workspaces/ws-globex/actions/force-unlock");
    let e =
        call(&up, &r, "hashicorp_terraform_cloud_workspaces_lock", json!({"workspace_id": "ws-globex", "reason": "x"})).await.unwrap_err();
    assert_refused(&e, "POST /workspaces/ws-globex/actions/lock");
    assert!(api.writes().is_empty(), "{:?}", api.writes());
    // Looked up once; the second call used the remembered owner.
    assert_eq!(api.count("GET", "/api/v2/workspaces/ws-globex"), 1, "{:?}", api.seen());

    // A workspace that does not exist gets the same answer (no oracle).
    let missing = call(&up, &r, "hashicorp_terraform_cloud_workspaces_force_unlock", json!({"workspace_id": "ws-nope"})).await.unwrap_err();
    assert_eq!(missing.kind, e.kind);
    assert_eq!(
        missing.message.replace("ws-nope", "ID").replace("force-unlock", "A"),
        e.message.replace("ws-globex", "ID").replace("lock", "A")
    );
    assert!(api.writes().is_empty());
}

#[tokio::test]
async fn apply_of_a_run_in_a_foreign_workspace_is_refused_and_nothing_is_posted() {
    let api = two_orgs();
    let base = serve(api.clone()).await;
    let r = route(&base, &["acme"]);
    let up = upstream();

    let e = call(&up, &r, "hashicorp_terraform_cloud_runs_apply", json!({"run_id": "run-globex", "comment": "go"})).await.unwrap_err();
    assert_refused(&e, "POST /runs/run-globex/actions/apply");
    assert!(api.writes().is_empty(), "{:?}", api.writes());
    // run -> workspace -> organization.
    assert_eq!(api.count("GET", "/api/v2/runs/run-globex"), 1);
    assert_eq!(api.count("GET", "/api/v2/workspaces/ws-globex"), 1);

    // Every run action and every other run tool is refused the same way, without new lookups.
    for tool in
        ["hashicorp_terraform_cloud_runs_discard", "hashicorp_terraform_cloud_runs_cancel", "hashicorp_terraform_cloud_runs_force_execute"]
    {
        let e = call(&up, &r, tool, json!({"run_id": "run-globex"})).await.unwrap_err();
        assert_eq!(e.kind, ToolErrorKind::Forbidden, "{tool}: {e}");
    }
    let e = call(&up, &r, "create_a_hashicorp_terraform_cloud_comment", json!({"run_id": "run-globex", "body": "hi"})).await.unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::Forbidden);
    assert!(api.writes().is_empty(), "{:?}", api.writes());
    assert_eq!(api.count("GET", "/api/v2/runs/run-globex"), 1);
}

#[tokio::test]
async fn an_allowed_id_works_and_its_owner_is_looked_up_once() {
    let api = two_orgs();
    let base = serve(api.clone()).await;
    let r = route(&base, &["acme"]);
    let up = upstream();

    let out = call(&up, &r, "hashicorp_terraform_cloud_workspaces_force_unlock", json!({"workspace_id": "ws-acme"})).await.unwrap();
    assert_eq!(out["id"], json!("ws-acme"));
    let out = call(&up, &r, "hashicorp_terraform_cloud_workspaces_lock", json!({"workspace_id": "ws-acme"})).await.unwrap();
    assert_eq!(out["id"], json!("ws-acme"));
    assert_eq!(api.count("POST", "/api/v2/workspaces/ws-acme/actions/force-unlock"), 1);
    assert_eq!(api.count("POST", "/api/v2/workspaces/ws-acme/actions/lock"), 1);
    assert_eq!(api.count("GET", "/api/v2/workspaces/ws-acme"), 1, "{:?}", api.seen());

    // A run of that workspace: one lookup of the run, none of the (known) workspace.
    let out = call(&up, &r, "hashicorp_terraform_cloud_runs_apply", json!({"run_id": "run-acme"})).await.unwrap();
    assert_eq!(out["accepted"], json!(true));
    let lookups_of_run = api.count("GET", "/api/v2/runs/run-acme");
    call(&up, &r, "hashicorp_terraform_cloud_runs_apply", json!({"run_id": "run-acme"})).await.unwrap();
    // The second apply only re-reads the run for its status (the handler's own GET), no lookup.
    assert_eq!(api.count("GET", "/api/v2/runs/run-acme"), lookups_of_run + 1);
    assert_eq!(api.count("POST", "/api/v2/runs/run-acme/actions/apply"), 2);
    assert_eq!(api.count("GET", "/api/v2/workspaces/ws-acme"), 1);

    // The allow-list is case-insensitive, like the organization_name check.
    let r2 = route(&base, &["ACME"]);
    call(&up, &r2, "hashicorp_terraform_cloud_workspaces_lock", json!({"workspace_id": "ws-acme"})).await.unwrap();
}

#[tokio::test]
async fn reads_of_a_foreign_id_are_refused_before_the_read() {
    let api = two_orgs();
    api.on(
        "GET",
        "/api/v2/workspaces/ws-globex/current-state-version",
        200,
        json!({"data": {"id": "sv-g", "type": "state-versions", "attributes": {}}}),
    );
    api.on("GET", "/api/v2/workspaces/ws-globex/runs", 200, list(vec![run_resource("run-globex", "ws-globex", "planned")]));
    api.on("GET", "/api/v2/workspaces/ws-globex/vars", 200, list(vec![]));
    let base = serve(api.clone()).await;
    let r = route(&base, &["acme"]);
    let up = upstream();

    let e = call(&up, &r, "get_single_hashicorp_terraform_cloud_current_state_version_by_id", json!({"workspace_id": "ws-globex"}))
        .await
        .unwrap_err();
    assert_refused(&e, "GET /workspaces/ws-globex/current-state-version");
    let e = call(&up, &r, "list_all_hashicorp_terraform_cloud_runs", json!({"workspace_id": "ws-globex"})).await.unwrap_err();
    assert_refused(&e, "GET /workspaces/ws-globex/runs");
    let e =
        call(&up, &r, "list_all_hashicorp_terraform_cloud_workspace_variables", json!({"workspace_id": "ws-globex"})).await.unwrap_err();
    assert_refused(&e, "GET /workspaces/ws-globex/vars");
    let e = call(&up, &r, "get_single_hashicorp_terraform_cloud_run_by_id", json!({"run_id": "run-globex"})).await.unwrap_err();
    assert_refused(&e, "GET /runs/run-globex");
    // Only the lookups reached HCP Terraform, never the reads themselves.
    let paths: Vec<String> = api.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(paths, vec!["/api/v2/workspaces/ws-globex", "/api/v2/runs/run-globex"], "{paths:?}");

    // The plan of a foreign run (its owner was learned with the run) is refused without a request.
    api.clear();
    let e = call(&up, &r, "hashicorp_terraform_cloud_plans_logs", json!({"plan_id": "plan-globex"})).await.unwrap_err();
    assert_refused(&e, "GET /plans/plan-globex");
    assert!(api.seen().is_empty(), "{:?}", api.seen());
}

#[tokio::test]
async fn plans_are_found_through_runs_seen_or_the_allowed_organizations_runs() {
    let api = two_orgs();
    api.on("GET", "/api/v2/plans/plan-acme", 200, plan_doc("plan-acme"));
    api.on("GET", "/api/v2/plans/plan-old", 200, plan_doc("plan-old"));
    api.on("GET", "/api/v2/organizations/acme/runs", 200, list(vec![run_resource("run-recent", "ws-acme", "applied")]));
    api.on("GET", "/api/v2/plans/plan-recent", 200, plan_doc("plan-recent"));
    api.on("GET", "/api/v2/runs/run-recent", 200, run_doc("run-recent", "ws-acme", "apply_queued"));
    api.on("POST", "/api/v2/runs/run-recent/actions/apply", 202, Value::Null);
    let base = serve(api.clone()).await;
    let r = route(&base, &["acme"]);

    // Reading the run teaches the gateway its plan: no lookup for the plan.
    let up = upstream();
    let run = call(&up, &r, "get_single_hashicorp_terraform_cloud_run_by_id", json!({"run_id": "run-acme"})).await.unwrap();
    assert_eq!(run["plan_id"], json!("plan-acme"));
    api.clear();
    let plan = call(&up, &r, "get_single_hashicorp_terraform_cloud_plan_by_id", json!({"plan_id": "plan-acme"})).await.unwrap();
    assert_eq!(plan["id"], json!("plan-acme"));
    assert_eq!(api.seen().len(), 1, "{:?}", api.seen());

    // Another replica (fresh cache): the plan is found among the allowed organization's recent runs.
    let other = upstream();
    api.clear();
    call(&other, &r, "get_single_hashicorp_terraform_cloud_plan_by_id", json!({"plan_id": "plan-recent"})).await.unwrap();
    let scans: Vec<Seen> = api.seen().into_iter().filter(|s| s.path == "/api/v2/organizations/acme/runs").collect();
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0].query, "page%5Bsize%5D=100");
    // ... and that scan taught it the run and its workspace's organization.
    api.clear();
    call(&other, &r, "hashicorp_terraform_cloud_runs_apply", json!({"run_id": "run-recent"})).await.unwrap();
    assert_eq!(api.count("GET", "/api/v2/workspaces/ws-acme"), 0, "{:?}", api.seen());

    // A plan the allowed organizations' runs do not show is refused, unread.
    api.clear();
    let e = call(&other, &r, "get_single_hashicorp_terraform_cloud_plan_by_id", json!({"plan_id": "plan-old"})).await.unwrap_err();
    assert_refused(&e, "GET /plans/plan-old");
    assert_eq!(api.count("GET", "/api/v2/plans/plan-old"), 0);
}

#[tokio::test]
async fn applies_are_found_through_their_state_versions() {
    let api = Mock::default();
    api.on(
        "GET",
        "/api/v2/applies/apply-1",
        200,
        json!({"data": {"id": "apply-1", "type": "applies", "attributes": {"status": "finished"},
        "relationships": {"state-versions": {"data": [{"id": "sv-1", "type": "state-versions"}]}}}}),
    );
    api.on(
        "GET",
        "/api/v2/state-versions/sv-1",
        200,
        json!({"data": {"id": "sv-1", "type": "state-versions", "attributes": {},
        "relationships": {"workspace": {"data": {"id": "ws-g", "type": "workspaces"}},
                          "outputs": {"data": [{"id": "wsout-1", "type": "state-version-outputs"}]}}}}),
    );
    api.on("GET", "/api/v2/workspaces/ws-g", 200, ws_doc("ws-g", "globex"));
    api.on("GET", "/api/v2/organizations/acme/runs", 200, list(vec![]));
    let base = serve(api.clone()).await;
    let up = upstream();

    let e = call(&up, &route(&base, &["acme"]), "get_single_hashicorp_terraform_cloud_apply_by_id", json!({"apply_id": "apply-1"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::Forbidden);
    assert_eq!(api.count("GET", "/api/v2/workspaces/ws-g"), 1);

    // The same chain for a server of globex; the outputs of that state version are learned on the way.
    let r = route(&base, &["globex"]);
    let out = call(&up, &r, "get_single_hashicorp_terraform_cloud_apply_by_id", json!({"apply_id": "apply-1"})).await.unwrap();
    assert_eq!(out["id"], json!("apply-1"));
    api.on(
        "GET",
        "/api/v2/state-version-outputs/wsout-1",
        200,
        json!({"data": {"id": "wsout-1", "type": "state-version-outputs",
        "attributes": {"name": "x", "sensitive": false, "value": 1}}}),
    );
    call(&up, &r, "get_single_hashicorp_terraform_cloud_state_version_output_by_id", json!({"state_version_output_id": "wsout-1"}))
        .await
        .unwrap();
    // An output never seen cannot be placed in an organization: refused.
    let e = call(&up, &r, "get_single_hashicorp_terraform_cloud_state_version_output_by_id", json!({"state_version_output_id": "wsout-2"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::Forbidden);
    assert_eq!(api.count("GET", "/api/v2/state-version-outputs/wsout-2"), 0);
}

#[tokio::test]
async fn every_id_of_a_call_is_checked_including_lists_and_relationships() {
    let api = two_orgs();
    api.on(
        "GET",
        "/api/v2/policy-sets/polset-a",
        200,
        json!({"data": {"id": "polset-a", "type": "policy-sets", "attributes": {},
        "relationships": {"organization": org_rel("acme")}}}),
    );
    api.on("POST", "/api/v2/policy-sets/polset-a/relationships/workspaces", 204, Value::Null);
    api.on("POST", "/api/v2/runs", 201, run_doc("run-new", "ws-acme", "pending"));
    api.on(
        "GET",
        "/api/v2/workspaces/ws-acme/configuration-versions",
        200,
        list(vec![json!({"id": "cv-mine", "type": "configuration-versions", "attributes": {"status": "uploaded"}})]),
    );
    let base = serve(api.clone()).await;
    let r = route(&base, &["acme"]);
    let up = upstream();

    // A policy set of acme attached to a workspace of globex: refused.
    let e = call(
        &up,
        &r,
        "hashicorp_terraform_cloud_policy_sets_attach_workspaces",
        json!({"policy_set_id": "polset-a", "workspace_ids": ["ws-acme", "ws-globex"]}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::Forbidden);
    call(
        &up,
        &r,
        "hashicorp_terraform_cloud_policy_sets_attach_workspaces",
        json!({"policy_set_id": "polset-a", "workspace_ids": ["ws-acme"]}),
    )
    .await
    .unwrap();

    // A run in an allowed workspace, but from a configuration version that is not that workspace's: refused.
    let e = call(
        &up,
        &r,
        "create_a_hashicorp_terraform_cloud_run",
        json!({"workspace_id": "ws-acme", "configuration_version_id": "cv-foreign"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::Forbidden);
    // Its own configuration version is found in the workspace's list.
    let run =
        call(&up, &r, "create_a_hashicorp_terraform_cloud_run", json!({"workspace_id": "ws-acme", "configuration_version_id": "cv-mine"}))
            .await
            .unwrap();
    assert_eq!(run["id"], json!("run-new"));
    // A run in a foreign workspace: refused.
    let e = call(&up, &r, "create_a_hashicorp_terraform_cloud_run", json!({"workspace_id": "ws-globex"})).await.unwrap_err();
    assert_refused(&e, "POST /runs");

    let writes: Vec<String> = api.writes().into_iter().map(|s| format!("{} {}", s.method, s.path)).collect();
    assert_eq!(writes, vec!["POST /api/v2/policy-sets/polset-a/relationships/workspaces", "POST /api/v2/runs"]);
}

#[tokio::test]
async fn listed_resources_need_no_lookup_afterwards() {
    let api = two_orgs();
    api.on("GET", "/api/v2/organizations/acme/workspaces", 200, list(vec![ws_resource("ws-listed", "acme")]));
    api.on("POST", "/api/v2/workspaces/ws-listed/actions/lock", 200, ws_doc("ws-listed", "acme"));
    let base = serve(api.clone()).await;
    let r = route(&base, &["acme"]);
    let up = upstream();

    call(&up, &r, "list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "acme"})).await.unwrap();
    call(&up, &r, "hashicorp_terraform_cloud_workspaces_lock", json!({"workspace_id": "ws-listed"})).await.unwrap();
    let paths: Vec<String> = api.seen().into_iter().map(|s| format!("{} {}", s.method, s.path)).collect();
    assert_eq!(paths, vec!["GET /api/v2/organizations/acme/workspaces", "POST /api/v2/workspaces/ws-listed/actions/lock"]);

    // The organization_name check still refuses before any request.
    api.clear();
    let e = call(&up, &r, "list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "globex"})).await.unwrap_err();
    assert_refused(&e, "GET /organizations/globex/workspaces");
    assert!(api.seen().is_empty());
}

#[tokio::test]
async fn servers_without_an_allow_list_send_no_lookups() {
    let api = two_orgs();
    let base = serve(api.clone()).await;
    let r = route(&base, &[]);
    call(&upstream(), &r, "hashicorp_terraform_cloud_workspaces_force_unlock", json!({"workspace_id": "ws-globex"})).await.unwrap();
    let paths: Vec<String> = api.seen().into_iter().map(|s| format!("{} {}", s.method, s.path)).collect();
    assert_eq!(paths, vec!["POST /api/v2/workspaces/ws-globex/actions/force-unlock"]);
}

#[tokio::test]
async fn lookup_failures_stop_the_call() {
    let api = Mock::default();
    api.on("GET", "/api/v2/workspaces/ws-500", 500, json!({"errors": [{"status": "500", "title": "internal error"}]}));
    api.on("GET", "/api/v2/workspaces/ws-429", 429, json!({"errors": [{"status": 429, "title": "Too many requests"}]}));
    let base = serve(api.clone()).await;
    let r = route(&base, &["acme"]);
    let up = upstream();

    let e = call(&up, &r, "hashicorp_terraform_cloud_workspaces_force_unlock", json!({"workspace_id": "ws-500"})).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ToolErrorKind::Upstream, Some(500)), "{e}");
    let e = call(&up, &r, "hashicorp_terraform_cloud_workspaces_force_unlock", json!({"workspace_id": "ws-429"})).await.unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::RateLimited, "{e}");
    assert!(api.writes().is_empty());
    // Failures are not remembered: the next call asks again.
    call(&up, &r, "hashicorp_terraform_cloud_workspaces_force_unlock", json!({"workspace_id": "ws-500"})).await.unwrap_err();
    assert_eq!(api.count("GET", "/api/v2/workspaces/ws-500"), 2);
}

#[tokio::test]
async fn owners_are_remembered_per_address() {
    // The same id at two HCP Terraform addresses, in different organizations.
    let a = Mock::default();
    a.on("GET", "/api/v2/workspaces/ws-1", 200, ws_doc("ws-1", "acme"));
    a.on("POST", "/api/v2/workspaces/ws-1/actions/lock", 200, ws_doc("ws-1", "acme"));
    let b = Mock::default();
    b.on("GET", "/api/v2/workspaces/ws-1", 200, ws_doc("ws-1", "globex"));
    b.on("POST", "/api/v2/workspaces/ws-1/actions/lock", 200, ws_doc("ws-1", "globex"));
    let (ra, rb) = (route(&serve(a.clone()).await, &["acme"]), route(&serve(b.clone()).await, &["acme"]));
    let up = upstream();

    call(&up, &ra, "hashicorp_terraform_cloud_workspaces_lock", json!({"workspace_id": "ws-1"})).await.unwrap();
    let e = call(&up, &rb, "hashicorp_terraform_cloud_workspaces_lock", json!({"workspace_id": "ws-1"})).await.unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::Forbidden);
    assert!(b.writes().is_empty());
    assert_eq!((a.count("GET", "/api/v2/workspaces/ws-1"), b.count("GET", "/api/v2/workspaces/ws-1")), (1, 1));
    assert_eq!(up.owners().get(&format!("{}/", ra.tfc_address), "ws-1").as_deref(), Some("acme"));
}

#[tokio::test]
async fn remembered_owners_expire() {
    let api = two_orgs();
    let base = serve(api.clone()).await;
    let r = route(&base, &["acme"]);
    let up = upstream().with_owner_cache(100, Duration::ZERO);
    for _ in 0..2 {
        call(&up, &r, "hashicorp_terraform_cloud_workspaces_lock", json!({"workspace_id": "ws-acme"})).await.unwrap();
    }
    assert_eq!(api.count("GET", "/api/v2/workspaces/ws-acme"), 2);
}

#[tokio::test]
async fn too_many_ids_in_one_call_are_refused_up_front() {
    let api = Mock::default();
    let base = serve(api.clone()).await;
    let ids: Vec<String> = (0..=tfc_mcp_gateway::execute::MAX_CHECKED_IDS).map(|i| format!("ws-{i}")).collect();
    let e = call(
        &upstream(),
        &route(&base, &["acme"]),
        "hashicorp_terraform_cloud_variable_sets_apply_to_workspaces",
        json!({"varset_id": "varset-1", "workspace_ids": ids}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::InvalidArguments, "{e}");
    assert!(api.seen().is_empty());
}
