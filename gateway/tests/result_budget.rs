//! The result budget against a local mock HCP Terraform: a 100-item page over
//! a small budget keeps a prefix and a cursor that continues exactly after
//! it, a resource with a long array is summarised, a server's own budget
//! wins over the gateway's, and nothing is cut below the budget.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tfc_mcp_gateway::catalog::catalog;
use tfc_mcp_gateway::execute::budget::{DEFAULT_MAX_RESULT_BYTES, size_of};
use tfc_mcp_gateway::execute::{execute, execute_with_progress};
use tfc_mcp_gateway::route::Route;
use tfc_mcp_gateway::upstream::{TfcClient, Upstream};

const TOKEN: &str = "tfc-secret-token.atlasv1.abcdef";
const LIST: &str = "list_all_hashicorp_terraform_cloud_workspaces";
const WORKSPACES: usize = 250;

#[derive(Clone, Default)]
struct Mock {
    fixed: Arc<Mutex<HashMap<String, Value>>>,
}

async fn handle(State(mock): State<Mock>, uri: Uri, Query(q): Query<HashMap<String, String>>) -> Response {
    let body = if uri.path() == "/api/v2/organizations/acme/workspaces" {
        workspaces_page(&q)
    } else {
        match mock.fixed.lock().unwrap().get(uri.path()) {
            Some(v) => v.clone(),
            None => return (StatusCode::NOT_FOUND, json!({"errors": [{"status": "404"}]}).to_string()).into_response(),
        }
    };
    let mut r = (StatusCode::OK, body.to_string()).into_response();
    r.headers_mut().insert("content-type", "application/vnd.api+json".parse().unwrap());
    r
}

/// Realistic workspace records (about 1 KiB each), paged like HCP Terraform.
fn workspaces_page(q: &HashMap<String, String>) -> Value {
    let num = |k: &str, d: usize| q.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    let (page, size) = (num("page[number]", 1), num("page[size]", 20));
    let total_pages = WORKSPACES.div_ceil(size);
    let data: Vec<Value> = ((page - 1) * size..(page * size).min(WORKSPACES))
        .map(|i| {
            json!({"id": format!("ws-{i:05}"), "type": "workspaces", "attributes": {
                "name": format!("service-{i:05}"), "description": "x".repeat(250), "terraform-version": "1.9.5",
                "execution-mode": "remote", "auto-apply": false, "locked": false, "resource-count": i,
                "working-directory": "infra/prod", "tag-names": ["prod", "team-a"]},
             "relationships": {"organization": {"data": {"id": "acme", "type": "organizations"}}}})
        })
        .collect();
    json!({"data": data, "meta": {"pagination": {"current-page": page, "page-size": size,
        "next-page": (page < total_pages).then_some(page + 1), "total-pages": total_pages, "total-count": WORKSPACES}}})
}

async fn serve(mock: Mock) -> String {
    let app = Router::new().fallback(handle).with_state(mock);
    support::serve_mock(app).await
}

fn route(address: &str, extra: Value) -> Route {
    let r = support::overlay(
        json!({"version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": address, "methods": ["list", "get", "observe", "custom"],
        "state": {"allowRawStateDownload": true, "revealSensitiveOutputs": false}}),
        &extra,
    );
    serde_json::from_value(r).unwrap()
}

async fn call_with(route: &Route, tool: &str, a: Value, gateway_budget: usize) -> Value {
    let up = Upstream::new("tfc-mcp-gateway-test", Duration::from_secs(10));
    let client = TfcClient::new(&up, route, TOKEN);
    let spec = catalog().get(tool).unwrap();
    let args: Map<String, Value> = a.as_object().unwrap().clone();
    execute_with_progress(&client, route, spec, args, None, gateway_budget).await.unwrap()
}

async fn call(route: &Route, tool: &str, a: Value) -> Value {
    let up = Upstream::new("tfc-mcp-gateway-test", Duration::from_secs(10));
    let client = TfcClient::new(&up, route, TOKEN);
    let args: Map<String, Value> = a.as_object().unwrap().clone();
    execute(&client, route, catalog().get(tool).unwrap(), args).await.unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v["results"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_100_item_page_over_a_small_budget_keeps_a_prefix_and_the_cursor_continues_exactly() {
    let base = serve(Mock::default()).await;
    let small = route(&base, json!({"resultBudgetBytes": 16384}));
    // Page 2 of size 100: items 100..200.
    let first = call(&small, LIST, json!({"organization_name": "acme", "page_size": 100, "page_number": 2})).await;
    assert!(size_of(&first) <= 16384, "{} bytes", size_of(&first));
    assert_eq!(first["truncated"], json!(true));
    let kept = first["returned"].as_u64().unwrap() as usize;
    assert!(kept > 1 && kept < 100, "{kept}");
    assert_eq!(first["omitted"].as_u64().unwrap() as usize, 100 - kept);
    assert_eq!(ids(&first), (100..100 + kept).map(|i| format!("ws-{i:05}")).collect::<Vec<_>>());
    assert!(first["truncation"]["hint"].as_str().unwrap().contains("next_cursor"), "{first:#}");

    // Following the cursors alone visits every remaining workspace once, in order.
    let mut seen: Vec<String> = ids(&first);
    let mut cursor = first["next_cursor"].as_str().unwrap().to_owned();
    for _ in 0..100 {
        let next = call(&small, LIST, json!({"organization_name": "acme", "next_cursor": cursor})).await;
        assert!(size_of(&next) <= 16384);
        seen.extend(ids(&next));
        match next["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    let expected: Vec<String> = (100..WORKSPACES).map(|i| format!("ws-{i:05}")).collect();
    assert_eq!(seen, expected, "no duplicates, no gaps");
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), seen.len());
}

#[tokio::test]
async fn a_100_item_page_fits_the_default_budget_whole() {
    let base = serve(Mock::default()).await;
    let plain = route(&base, json!({}));
    let page = call(&plain, LIST, json!({"organization_name": "acme", "page_size": 100})).await;
    assert_eq!(page["results"].as_array().unwrap().len(), 100);
    assert!(page.get("truncated").is_none(), "{}", page["truncation"]);
    assert!(size_of(&page) <= DEFAULT_MAX_RESULT_BYTES);
}

#[tokio::test]
async fn a_large_state_is_summarised_within_the_budget() {
    let mock = Mock::default();
    let base = serve(mock.clone()).await;
    let resources: Vec<Value> = (0..500)
        .map(|i| {
            json!({"mode": "managed", "type": "null_resource", "name": format!("r{i}"), "provider": "provider[\"registry.terraform.io/hashicorp/null\"]",
            "instances": [{"schema_version": 0, "attributes": {"id": format!("{i}"), "triggers": {"k": "v".repeat(200)}}}]})
        })
        .collect();
    let state = json!({"version": 4, "terraform_version": "1.9.5", "serial": 7, "lineage": "l", "outputs": {}, "resources": resources});
    mock.fixed.lock().unwrap().insert(
        "/api/v2/state-versions/sv-big".into(),
        json!({"data": {"id": "sv-big", "type": "state-versions", "attributes": {"hosted-state-download-url": format!("{base}/blob/raw")}}}),
    );
    mock.fixed.lock().unwrap().insert("/blob/raw".into(), state);

    let out =
        call(&route(&base, json!({})), "hashicorp_terraform_cloud_state_versions_download", json!({"state_version_id": "sv-big"})).await;
    assert!(size_of(&out) <= DEFAULT_MAX_RESULT_BYTES, "{}", size_of(&out));
    assert_eq!(out["truncated"], json!(true));
    assert_eq!(out["state_version_id"], json!("sv-big"));
    assert_eq!(out["state"]["serial"], json!(7), "the resource's own fields stay");
    let cut = &out["truncation"]["summarised"][0];
    assert_eq!(cut["path"], json!("/state/resources"));
    assert_eq!(cut["total"], json!(500));
    assert_eq!(out["state"]["resources"].as_array().unwrap().len() as u64, cut["returned"].as_u64().unwrap());
}

#[tokio::test]
async fn a_servers_own_budget_wins_over_the_gateways() {
    let base = serve(Mock::default()).await;
    let args = json!({"organization_name": "acme", "page_size": 50});
    // The gateway allows only 4 KiB, the server 1 MiB: the page stays whole.
    let roomy = call_with(&route(&base, json!({"resultBudgetBytes": 1_048_576})), LIST, args.clone(), 4096).await;
    assert_eq!(roomy["results"].as_array().unwrap().len(), 50);
    assert!(roomy.get("truncated").is_none());
    // Without an override the gateway's 4 KiB applies.
    let tight = call_with(&route(&base, json!({})), LIST, args.clone(), 4096).await;
    assert!(size_of(&tight) <= 4096, "{}", size_of(&tight));
    assert_eq!(tight["truncated"], json!(true));
    // A server budget below the floor is raised to it, never to nothing.
    let tiny = call_with(&route(&base, json!({"resultBudgetBytes": 1})), LIST, args, DEFAULT_MAX_RESULT_BYTES).await;
    assert!(size_of(&tiny) <= 2048 && tiny["returned"].as_u64() >= Some(1), "{tiny:#}");
}
