//! The executor and the HCP Terraform client against local mock servers:
//! credentials only to the API origin, 429 handling, conflict messages,
//! two-step state reads, flattening end to end.

mod support;

use support::canned::{Mock, serve};

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tfc_mcp_gateway::catalog::catalog;
use tfc_mcp_gateway::execute::{ToolError, ToolErrorKind, execute};
use tfc_mcp_gateway::route::Route;
use tfc_mcp_gateway::upstream::{RateLimitInfo, TfcClient, Upstream};

const TOKEN: &str = "tfc-secret-token.atlasv1.abcdef";

// ---- helpers -------------------------------------------------------------------

fn route(address: &str, extra: Value) -> Route {
    let r = support::overlay(
        json!({
            "version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": address,
            "methods": ["list", "get", "create", "update", "delete", "custom"],
        }),
        &extra,
    );
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

fn fixture(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn sample_response(file: &str, section: &str) -> Value {
    let doc: Value = serde_json::from_str(&fixture(&format!("tfc-api-samples/{file}"))).unwrap();
    doc["sections"].as_array().unwrap().iter().find(|s| s["section"] == section).unwrap()["responses"][0].clone()
}

fn assert_no_secret(e: &ToolError) {
    assert!(!e.message.contains(TOKEN) && !e.message.contains("atlasv1"), "token leaked: {}", e.message);
}

fn run_doc(id: &str, status: &str) -> Value {
    json!({"data": {"id": id, "type": "runs", "attributes": {"status": status, "actions": {"is-confirmable": status == "planned"}},
        "relationships": {"workspace": {"data": {"id": "ws-1", "type": "workspaces"}}}}})
}

fn state_version_doc(blob: &str) -> Value {
    json!({"data": {"id": "sv-1", "type": "state-versions", "attributes": {
        "serial": 3, "status": "finalized", "resources-processed": true, "terraform-version": "1.9.5",
        "hosted-state-download-url": format!("{blob}/v1/object/raw"),
        "hosted-json-state-download-url": format!("{blob}/v1/object/json"),
        "resources": [{"name": "a", "type": "null_resource", "count": 2, "module": "root", "provider": "p"},
                      {"name": "b", "type": "random_id", "count": 1, "module": "root", "provider": "p"}]},
        "relationships": {"outputs": {"data": [{"id": "wsout-1", "type": "state-version-outputs"}]}}}})
}

// ---- tests ---------------------------------------------------------------------

#[tokio::test]
async fn list_workspaces_end_to_end() {
    let api = Mock::default();
    api.on(
        "GET",
        "/api/v2/organizations/acme/workspaces",
        200,
        json!({
            "data": [{"id": "ws-1", "type": "workspaces", "attributes": {"name": "prod-net", "locked": false, "execution-mode": "remote"},
                      "relationships": {"organization": {"data": {"id": "acme", "type": "organizations"}},
                                        "current-run": {"data": {"id": "run-9", "type": "runs"}}},
                      "links": {"self": "/api/v2/organizations/acme/workspaces/prod-net", "self-html": "/app/acme/workspaces/prod-net"}}],
            "links": {"next": null},
            "meta": {"pagination": {"current-page": 2, "page-size": 1, "prev-page": 1, "next-page": 3, "total-pages": 5, "total-count": 5}}
        }),
    );
    let base = serve(api.clone()).await;
    let r = route(&base, json!({}));
    let out = call(
        &upstream(),
        &r,
        "list_all_hashicorp_terraform_cloud_workspaces",
        json!({"organization_name": "acme", "search_name": "prod", "page_number": 2, "page_size": 1}),
    )
    .await
    .unwrap();
    assert_eq!(
        out["results"][0],
        json!({
            "id": "ws-1", "type": "workspaces", "name": "prod-net", "locked": false, "execution_mode": "remote",
            "organization_id": "acme", "organization_name": "acme", "current_run_id": "run-9",
            "web_url": format!("{base}/app/acme/workspaces/prod-net"),
        })
    );
    assert_eq!(out["pagination"], json!({"page_number": 2, "page_size": 1, "total_count": 5, "total_pages": 5, "next_page": 3}));
    let cursor = out["next_cursor"].as_str().unwrap().to_owned();

    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].auth.as_deref(), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(seen[0].query, "search%5Bname%5D=prod&page%5Bnumber%5D=2&page%5Bsize%5D=1");

    // The cursor asks for page 3.
    call(&upstream(), &r, "list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "acme", "next_cursor": cursor}))
        .await
        .unwrap();
    assert!(api.seen()[1].query.contains("page%5Bnumber%5D=3"), "{}", api.seen()[1].query);
}

#[tokio::test]
async fn invalid_arguments_and_foreign_organizations_never_reach_upstream() {
    let api = Mock::default();
    let base = serve(api.clone()).await;
    let r = route(&base, json!({"organizations": ["acme"]}));
    let up = upstream();

    let e = call(&up, &r, "list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "other"})).await.unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::Forbidden);
    assert!(e.message.contains("404") && e.message.contains("not found"), "{e}");

    let e =
        call(&up, &r, "list_all_hashicorp_terraform_cloud_state_versions", json!({"organization_name": "other", "workspace_name": "w"}))
            .await
            .unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::Forbidden);

    let e = call(&up, &r, "create_a_hashicorp_terraform_cloud_run", json!({"workspace_id": 1})).await.unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::InvalidArguments);
    assert!(api.seen().is_empty(), "{:?}", api.seen());

    // The allowed organization passes, case-insensitively.
    api.on("GET", "/api/v2/organizations/ACME/workspaces", 200, json!({"data": []}));
    call(&up, &r, "list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "ACME"})).await.unwrap();
}

#[tokio::test]
async fn organization_listing_is_limited_to_the_allow_list() {
    let api = Mock::default();
    api.on("GET", "/api/v2/organizations", 200, sample_response("organizations.json", "List Organizations"));
    api.on(
        "GET",
        "/api/v2/workspaces/ws-x",
        200,
        json!({"data": {"id": "ws-x", "type": "workspaces", "attributes": {"name": "x"},
        "relationships": {"organization": {"data": {"id": "hashicorp-two", "type": "organizations"}}}}}),
    );
    let base = serve(api.clone()).await;
    let r = route(&base, json!({"organizations": ["hashicorp"]}));
    let out = call(&upstream(), &r, "list_all_hashicorp_terraform_cloud_organizations", json!({})).await.unwrap();
    let ids: Vec<&str> = out["results"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["hashicorp"]);
    let e =
        call(&upstream(), &r, "get_single_hashicorp_terraform_cloud_workspace_by_id", json!({"workspace_id": "ws-x"})).await.unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::Forbidden);
}

#[tokio::test]
async fn create_run_posts_the_documented_document() {
    let api = Mock::default();
    api.on("POST", "/api/v2/runs", 201, sample_response("run.json", "Create a Run"));
    let base = serve(api.clone()).await;
    let out = call(
        &upstream(),
        &route(&base, json!({})),
        "create_a_hashicorp_terraform_cloud_run",
        json!({"workspace_id": "ws-LLGHCr4SWy28wyGN", "message": "Custom message", "plan_only": true}),
    )
    .await
    .unwrap();
    assert_eq!(out["id"], json!("run-CZcmD7eagjhyX0vN"));
    assert_eq!(out["status"], json!("pending"));
    let seen = &api.seen()[0];
    assert_eq!(seen.content_type.as_deref(), Some("application/vnd.api+json"));
    let body: Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(
        body,
        json!({"data": {"type": "runs", "attributes": {"message": "Custom message", "plan-only": true},
        "relationships": {"workspace": {"data": {"type": "workspaces", "id": "ws-LLGHCr4SWy28wyGN"}}}}})
    );
}

#[tokio::test]
async fn apply_accepted_and_conflict_explained() {
    let api = Mock::default();
    api.on("POST", "/api/v2/runs/run-ok/actions/apply", 202, Value::Null);
    api.on("GET", "/api/v2/runs/run-ok", 200, run_doc("run-ok", "apply_queued"));
    api.on(
        "POST",
        "/api/v2/runs/run-done/actions/apply",
        409,
        json!({"errors": [{"status": "409", "title": "transition not allowed", "detail": "Run is not confirmable"}]}),
    );
    api.on("GET", "/api/v2/runs/run-done", 200, run_doc("run-done", "planned_and_finished"));
    let base = serve(api.clone()).await;
    let r = route(&base, json!({}));
    let up = upstream();

    let out = call(&up, &r, "hashicorp_terraform_cloud_runs_apply", json!({"run_id": "run-ok", "comment": "ship it"})).await.unwrap();
    assert_eq!(out, json!({"run_id": "run-ok", "action": "apply", "accepted": true, "status": "apply_queued"}));
    let post = &api.seen_path("POST", "/api/v2/runs/run-ok/actions/apply")[0];
    assert_eq!(serde_json::from_slice::<Value>(&post.body).unwrap(), json!({"comment": "ship it"}));

    let e = call(&up, &r, "hashicorp_terraform_cloud_runs_apply", json!({"run_id": "run-done"})).await.unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::Upstream);
    assert_eq!(e.status, Some(409));
    assert!(
        e.message.contains("the run is not in a confirmable state, current status planned_and_finished")
            || e.message.contains("The run is not in a confirmable state, current status planned_and_finished"),
        "{e}"
    );
    assert!(e.message.contains("transition not allowed: Run is not confirmable"), "{e}");
    assert_no_secret(&e);
    // No comment given: no body sent.
    assert!(api.seen_path("POST", "/api/v2/runs/run-done/actions/apply")[0].body.is_empty());
}

#[tokio::test]
async fn force_unlock_conflict_says_not_locked() {
    let api = Mock::default();
    api.on(
        "POST",
        "/api/v2/workspaces/ws-1/actions/force-unlock",
        409,
        json!({"errors": [{"status": "409", "title": "conflict", "detail": "Unable to unlock workspace. The workspace is not locked."}]}),
    );
    api.on(
        "POST",
        "/api/v2/workspaces/ws-2/actions/force-unlock",
        200,
        json!({"data": {"id": "ws-2", "type": "workspaces", "attributes": {"locked": false, "name": "two"}}}),
    );
    let base = serve(api.clone()).await;
    let r = route(&base, json!({}));
    let e = call(&upstream(), &r, "hashicorp_terraform_cloud_workspaces_force_unlock", json!({"workspace_id": "ws-1"})).await.unwrap_err();
    assert_eq!(e.status, Some(409));
    assert!(e.message.to_lowercase().contains("workspace is not locked"), "{e}");
    let ok = call(&upstream(), &r, "hashicorp_terraform_cloud_workspaces_force_unlock", json!({"workspace_id": "ws-2"})).await.unwrap();
    assert_eq!(ok, json!({"id": "ws-2", "type": "workspaces", "locked": false, "name": "two"}));
}

#[tokio::test]
async fn rate_limited_passes_normalised_info() {
    let api = Mock::default();
    api.on_with(
        "GET",
        "/api/v2/runs/run-1",
        429,
        &[("X-RateLimit-Limit", "30"), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "0.5")],
        json!({"errors": [{"detail": "You have exceeded the API's rate limit.", "status": 429, "title": "Too many requests"}]}).to_string(),
    );
    let base = serve(api.clone()).await;
    let e = call(&upstream(), &route(&base, json!({})), "get_single_hashicorp_terraform_cloud_run_by_id", json!({"run_id": "run-1"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::RateLimited);
    assert_eq!(e.status, Some(429));
    assert_eq!(e.rate_limit, Some(RateLimitInfo { limit: Some(30), remaining: Some(0), reset_secs: Some(0.5) }));
    assert!(e.message.contains("ratelimit-limit=30 ratelimit-remaining=0 ratelimit-reset=0.5"), "{e}");
    assert!(e.message.contains("Too many requests"), "{e}");
    assert_no_secret(&e);
    assert_eq!(api.seen().len(), 1, "no retry unless the route asks");
}

#[tokio::test]
async fn rate_limited_retries_when_enabled() {
    let api = Mock::default();
    let limited = json!({"errors": [{"status": 429, "title": "Too many requests"}]}).to_string();
    api.on_with("GET", "/api/v2/runs/run-1", 429, &[("X-RateLimit-Reset", "0.05")], limited.clone());
    api.on_with("GET", "/api/v2/runs/run-1", 429, &[("X-RateLimit-Reset", "0.05")], limited);
    api.on("GET", "/api/v2/runs/run-1", 200, run_doc("run-1", "planning"));
    let base = serve(api.clone()).await;
    let r = route(&base, json!({"upstream": {"maxRequestsPerSecond": 30, "retryOn429": true}}));
    let out = call(&upstream(), &r, "get_single_hashicorp_terraform_cloud_run_by_id", json!({"run_id": "run-1"})).await.unwrap();
    assert_eq!(out["status"], json!("planning"));
    assert_eq!(api.seen().len(), 3);

    // Bounded: 1 + 3 retries, then the 429 is passed on.
    let api = Mock::default();
    api.on_with("GET", "/api/v2/runs/run-2", 429, &[("X-RateLimit-Reset", "0.01")], "{}".into());
    let base = serve(api.clone()).await;
    let r = route(&base, json!({"upstream": {"maxRequestsPerSecond": 30, "retryOn429": true}}));
    let e = call(&upstream(), &r, "get_single_hashicorp_terraform_cloud_run_by_id", json!({"run_id": "run-2"})).await.unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::RateLimited);
    assert_eq!(api.seen().len(), 4);
}

#[tokio::test]
async fn upstream_errors_carry_status_title_and_detail() {
    let api = Mock::default();
    api.on("POST", "/api/v2/organizations/acme/workspaces", 422,
        json!({"errors": [{"status": "422", "title": "invalid attribute", "detail": "Name has already been taken", "source": {"pointer": "/data/attributes/name"}}]}));
    api.on_with("GET", "/api/v2/workspaces/ws-html", 502, &[], "<html><body>Bad gateway</body></html>".into());
    let base = serve(api.clone()).await;
    let r = route(&base, json!({}));
    let e = call(&upstream(), &r, "create_a_hashicorp_terraform_cloud_workspace", json!({"organization_name": "acme", "name": "dup"}))
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.status), (ToolErrorKind::Upstream, Some(422)));
    assert!(
        e.message.contains("HTTP 422") && e.message.contains("invalid attribute: Name has already been taken (at /data/attributes/name)"),
        "{e}"
    );
    let e = call(&upstream(), &r, "get_single_hashicorp_terraform_cloud_workspace_by_id", json!({"workspace_id": "ws-html"}))
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(502));
    assert!(e.message.contains("Bad gateway") && e.message.contains("retry later"), "{e}");
    let e = call(&upstream(), &r, "get_single_hashicorp_terraform_cloud_workspace_by_id", json!({"workspace_id": "ws-none"}))
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(404));
    assert_no_secret(&e);
}

#[tokio::test]
async fn delete_and_actions_without_body() {
    let api = Mock::default();
    api.on("DELETE", "/api/v2/projects/prj-1", 204, Value::Null);
    api.on("POST", "/api/v2/workspaces/ws-1/relationships/tags", 204, Value::Null);
    let base = serve(api.clone()).await;
    let r = route(&base, json!({}));
    let out = call(&upstream(), &r, "delete_a_hashicorp_terraform_cloud_project_by_id", json!({"project_id": "prj-1"})).await.unwrap();
    assert_eq!(out, json!({"project_id": "prj-1", "deleted": true}));
    let out = call(&upstream(), &r, "hashicorp_terraform_cloud_workspace_tags_add", json!({"workspace_id": "ws-1", "tag_names": ["a"]}))
        .await
        .unwrap();
    assert_eq!(out, json!({"workspace_id": "ws-1", "action": "workspace_tags_add", "accepted": true}));
}

#[tokio::test]
async fn current_state_version_with_outputs_endpoint() {
    let api = Mock::default();
    let blob = Mock::default();
    let blob_base = serve(blob.clone()).await;
    api.on("GET", "/api/v2/workspaces/ws-1/current-state-version", 200, state_version_doc(&blob_base));
    api.on("GET", "/api/v2/workspaces/ws-1/current-state-version-outputs", 200, json!({"data": [
        {"id": "wsout-1", "type": "state-version-outputs", "attributes": {"name": "region", "sensitive": false, "type": "string", "value": "eu-west-1", "detailed-type": "string"}},
        {"id": "wsout-2", "type": "state-version-outputs", "attributes": {"name": "db-password", "sensitive": true, "type": "string", "value": null, "detailed-type": "string"}},
        {"id": "wsout-3", "type": "state-version-outputs", "attributes": {"name": "tags", "sensitive": false, "type": "object", "value": {"cost-center": "1"}, "detailed-type": ["object", {"cost-center": "string"}]}}
    ]}));
    api.on(
        "GET",
        "/api/v2/state-version-outputs/wsout-2",
        200,
        json!({"data": {"id": "wsout-2", "type": "state-version-outputs",
        "attributes": {"name": "db-password", "sensitive": true, "value": "hunter2"}}}),
    );
    let base = serve(api.clone()).await;

    let tool = "get_single_hashicorp_terraform_cloud_current_state_version_by_id";
    let out = call(&upstream(), &route(&base, json!({})), tool, json!({"workspace_id": "ws-1"})).await.unwrap();
    assert_eq!(out["id"], json!("sv-1"));
    assert_eq!(out["serial"], json!(3));
    assert_eq!(out["outputs_source"], json!("outputs-endpoint"));
    assert_eq!(out["outputs"]["region"], json!({"value": "eu-west-1", "type": "string", "sensitive": false}));
    assert_eq!(out["outputs"]["db-password"], json!({"value": "<sensitive>", "type": "string", "sensitive": true}));
    assert_eq!(out["outputs"]["tags"]["value"], json!({"cost-center": "1"}), "output values are verbatim");
    assert_eq!(out["resource_summary"]["total"], json!(3));
    assert_eq!(out["resource_summary"]["by_type"]["null_resource"], json!(2));
    for k in ["hosted_state_download_url", "hosted_json_state_download_url"] {
        assert!(out.get(k).is_none(), "{k} must be stripped");
    }
    assert!(api.seen_path("GET", "/api/v2/state-version-outputs/wsout-2").is_empty(), "not revealed");
    assert!(blob.seen().is_empty());

    // Revealing and raw download allowed.
    let r = route(&base, json!({"state": {"revealSensitiveOutputs": true, "allowRawStateDownload": true}}));
    let out = call(&upstream(), &r, tool, json!({"workspace_id": "ws-1"})).await.unwrap();
    assert_eq!(out["outputs"]["db-password"]["value"], json!("hunter2"));
    assert_eq!(out["hosted_json_state_download_url"], json!(format!("{blob_base}/v1/object/json")));
    assert_eq!(api.seen_path("GET", "/api/v2/state-version-outputs/wsout-2").len(), 1);
}

#[tokio::test]
async fn current_state_version_falls_back_to_json_state_without_token() {
    let api = Mock::default();
    let blob = Mock::default();
    blob.on_with("GET", "/v1/object/json", 200, &[], fixture("tfc-state-fixtures/json-state--state.json"));
    let blob_base = serve(blob.clone()).await;
    api.on("GET", "/api/v2/workspaces/ws-1/current-state-version", 200, state_version_doc(&blob_base));
    api.on(
        "GET",
        "/api/v2/workspaces/ws-1/current-state-version-outputs",
        503,
        json!({"errors": [{"status": "503", "title": "outputs are being processed"}]}),
    );
    let base = serve(api.clone()).await;

    let out = call(
        &upstream(),
        &route(&base, json!({})),
        "get_single_hashicorp_terraform_cloud_current_state_version_by_id",
        json!({"workspace_id": "ws-1"}),
    )
    .await
    .unwrap();
    assert_eq!(out["outputs_source"], json!("json-state"));
    assert_eq!(out["outputs"]["a-string"], json!({"value": "example string", "type": "string", "sensitive": false}));
    assert_eq!(out["outputs"]["a-sensitive-value"]["value"], json!("<sensitive>"));
    assert_eq!(out["outputs"]["a-decimal"]["value"], json!(1000.1));
    assert!(out.get("hosted_json_state_download_url").is_none());

    // The API got the token; the blob service did not.
    assert!(api.seen().iter().all(|s| s.auth.as_deref() == Some(&format!("Bearer {TOKEN}"))));
    let blob_seen = blob.seen();
    assert_eq!(blob_seen.len(), 1);
    assert_eq!(blob_seen[0].auth, None, "Authorization must not go to the blob origin");
}

#[tokio::test]
async fn redirects_to_another_origin_drop_the_token() {
    let api = Mock::default();
    let blob = Mock::default();
    blob.on("GET", "/v1/object/plan", 200, json!({"terraform_version": "1.9.5", "resource_changes": [
        {"address": "null_resource.a", "type": "null_resource", "name": "a", "change": {"actions": ["create"]}},
        {"address": "null_resource.b", "type": "null_resource", "name": "b", "change": {"actions": ["delete", "create"]}, "action_reason": "replace_because_tainted"},
        {"address": "null_resource.c", "type": "null_resource", "name": "c", "change": {"actions": ["no-op"]}}
    ]}));
    let blob_base = serve(blob.clone()).await;
    api.on_with("GET", "/api/v2/plans/plan-1/json-output", 307, &[("location", &format!("{blob_base}/v1/object/plan"))], String::new());
    api.on("GET", "/api/v2/plans/plan-2/json-output", 204, Value::Null);
    let base = serve(api.clone()).await;
    let r = route(&base, json!({}));

    let out = call(&upstream(), &r, "hashicorp_terraform_cloud_plans_resource_changes", json!({"plan_id": "plan-1"})).await.unwrap();
    assert_eq!(out["summary"], json!({"create": 1, "update": 0, "delete": 0, "replace": 1, "read": 0, "no_op": 1}));
    assert_eq!(out["resource_changes"].as_array().unwrap().len(), 2);
    assert_eq!(out["resource_changes"][1]["action_reason"], json!("replace_because_tainted"));
    assert_eq!(blob.seen()[0].auth, None);
    assert!(api.seen()[0].auth.is_some());

    let e = call(&upstream(), &r, "hashicorp_terraform_cloud_plans_resource_changes", json!({"plan_id": "plan-2"})).await.unwrap_err();
    assert!(e.message.contains("not finished"), "{e}");

    // A same-origin URL keeps the token; a hop to another origin loses it.
    let client_route = route(&base, json!({}));
    let up = upstream();
    let client = TfcClient::new(&up, &client_route, TOKEN);
    api.on_with("GET", "/hop", 302, &[("location", &format!("{blob_base}/v1/object/plan"))], String::new());
    let f = client.fetch_url(&format!("{base}/hop"), 1 << 20).await.unwrap();
    assert_eq!(f.status, 200);
    assert!(api.seen_path("GET", "/hop")[0].auth.is_some());
    assert!(blob.seen().iter().all(|s| s.auth.is_none()));
}

#[tokio::test]
async fn logs_are_unframed_and_trimmed() {
    let api = Mock::default();
    let blob = Mock::default();
    let log = format!("\u{2}{}Apply complete! Resources: 1 added.\n\u{3}", "x".repeat(5000));
    blob.on_with("GET", "/v1/object/log", 200, &[], log);
    let blob_base = serve(blob.clone()).await;
    api.on(
        "GET",
        "/api/v2/applies/apply-1",
        200,
        json!({"data": {"id": "apply-1", "type": "applies",
        "attributes": {"status": "finished", "log-read-url": format!("{blob_base}/v1/object/log")}}}),
    );
    let base = serve(api.clone()).await;
    let out = call(
        &upstream(),
        &route(&base, json!({})),
        "hashicorp_terraform_cloud_applies_logs",
        json!({"apply_id": "apply-1", "max_bytes": 1000}),
    )
    .await
    .unwrap();
    let text = out["log"].as_str().unwrap();
    assert!(text.ends_with("Apply complete! Resources: 1 added.\n"), "{text:?}");
    assert!(!text.contains('\u{2}') && !text.contains('\u{3}'));
    assert!(text.len() <= 1000);
    assert_eq!(out["truncated"], json!(true));
    assert_eq!(blob.seen()[0].auth, None);
}

#[tokio::test]
async fn run_wait_stops_at_confirmation() {
    let api = Mock::default();
    api.on("GET", "/api/v2/runs/run-1", 200, run_doc("run-1", "planning"));
    api.on("GET", "/api/v2/runs/run-1", 200, run_doc("run-1", "planned"));
    let base = serve(api.clone()).await;
    let out = call(
        &upstream(),
        &route(&base, json!({})),
        "hashicorp_terraform_cloud_runs_wait",
        json!({"run_id": "run-1", "poll_interval_seconds": 1, "timeout_seconds": 20}),
    )
    .await
    .unwrap();
    assert_eq!(out["status"], json!("planned"));
    assert_eq!(out["wait"]["timed_out"], json!(false));
    assert_eq!(api.seen().len(), 2);
}

#[tokio::test]
async fn results_keep_only_the_temporary_urls_the_server_allows() {
    let api = Mock::default();
    let plan = sample_response("plans.json", "Show a plan");
    let plan_id = plan["data"]["id"].as_str().unwrap().to_owned();
    api.on("GET", &format!("/api/v2/plans/{plan_id}"), 200, plan);
    let mut sv = state_version_doc("https://archivist.example");
    sv["data"]["attributes"]["hosted-state-upload-url"] = json!("https://archivist.example/v1/object/upload-raw");
    sv["data"]["attributes"]["hosted-json-state-upload-url"] = json!("https://archivist.example/v1/object/upload-json");
    api.on("GET", "/api/v2/state-versions/sv-1", 200, sv);
    let base = serve(api.clone()).await;
    let up = upstream();

    // A read-only server: no log URL, no state URL, no upload URL.
    let read = route(&base, json!({"methods": ["list", "get"]}));
    let out = call(&up, &read, "get_single_hashicorp_terraform_cloud_plan_by_id", json!({"plan_id": plan_id})).await.unwrap();
    assert_eq!(out["status"], json!("finished"));
    assert!(out.get("log_read_url").is_none(), "{out:#}");
    let out =
        call(&up, &read, "get_single_hashicorp_terraform_cloud_state_version_by_id", json!({"state_version_id": "sv-1"})).await.unwrap();
    assert!(!out.to_string().contains("archivist"), "{out:#}");

    // Read + observe: the plan log tool is allowed, so is its URL.
    let observe = route(&base, json!({"methods": ["list", "get", "observe"]}));
    let out = call(&up, &observe, "get_single_hashicorp_terraform_cloud_plan_by_id", json!({"plan_id": plan_id})).await.unwrap();
    assert!(out["log_read_url"].as_str().is_some_and(|u| u.starts_with("https://archivist.terraform.io/")), "{out:#}");

    // Raw state allowed: download URLs, never upload URLs.
    let raw = route(&base, json!({"state": {"allowRawStateDownload": true, "revealSensitiveOutputs": false}}));
    let out =
        call(&up, &raw, "get_single_hashicorp_terraform_cloud_state_version_by_id", json!({"state_version_id": "sv-1"})).await.unwrap();
    assert!(out["hosted_state_download_url"].is_string(), "{out:#}");
    assert!(!out.to_string().contains("upload"), "{out:#}");
}
