//! Correctness of answers against local mock upstreams: cursors that carry
//! their query, `runs_wait` stops that say why and what to call next,
//! sensitive values that never come back (state attributes, variables), and
//! caps that are reported instead of silently cutting.

mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tfc_mcp_gateway::catalog::catalog;
use tfc_mcp_gateway::execute::{ToolError, ToolErrorKind, execute};
use tfc_mcp_gateway::route::Route;
use tfc_mcp_gateway::upstream::{TfcClient, Upstream};

const TOKEN: &str = "tfc-secret-token.atlasv1.abcdef";

// ---- a mock HCP Terraform -------------------------------------------------------

/// Answers by path, in turn (the last one repeats).
type Answers = HashMap<String, Vec<(u16, Value)>>;
/// (method, path, query) of each request.
type Seen = (String, String, HashMap<String, String>);

/// What the mock answers, by path; every request is recorded.
#[derive(Clone, Default)]
struct Mock {
    fixed: Arc<Mutex<Answers>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Workspace names listed by `/organizations/acme/workspaces`.
    workspaces: Arc<Vec<String>>,
}

impl Mock {
    fn with_workspaces(n: usize) -> Self {
        let names = (0..n).map(|i| if i % 3 == 0 { format!("db-{i:02}") } else { format!("app-{i:02}") }).collect();
        Mock { workspaces: Arc::new(names), ..Default::default() }
    }
    fn on(&self, path: &str, status: u16, body: Value) -> &Self {
        self.fixed.lock().unwrap().entry(path.to_owned()).or_default().push((status, body));
        self
    }
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn handle(State(mock): State<Mock>, method: axum::http::Method, uri: Uri, Query(q): Query<HashMap<String, String>>) -> Response {
    let path = uri.path().to_owned();
    mock.seen.lock().unwrap().push((method.to_string(), path.clone(), q.clone()));
    if path == "/api/v2/organizations/acme/workspaces" {
        return list_workspaces(&mock, &q);
    }
    let answer = {
        let mut fixed = mock.fixed.lock().unwrap();
        fixed.get_mut(&path).map(|answers| if answers.len() > 1 { answers.remove(0) } else { answers[0].clone() })
    };
    match answer {
        Some((status, body)) => {
            let mut r = (StatusCode::from_u16(status).unwrap(), body.to_string()).into_response();
            r.headers_mut().insert("content-type", "application/vnd.api+json".parse().unwrap());
            r
        }
        None => (StatusCode::NOT_FOUND, json!({"errors": [{"status": "404", "title": "not found"}]}).to_string()).into_response(),
    }
}

/// A paginated, filterable list like HCP Terraform's (`search[name]`).
fn list_workspaces(mock: &Mock, q: &HashMap<String, String>) -> Response {
    let num = |k: &str, d: usize| q.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    let (page, size) = (num("page[number]", 1), num("page[size]", 20));
    let matching: Vec<&String> = mock.workspaces.iter().filter(|n| q.get("search[name]").is_none_or(|s| n.contains(s.as_str()))).collect();
    let total_pages = matching.len().div_ceil(size).max(1);
    let data: Vec<Value> = matching
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|n| {
            json!({"id": format!("ws-{}", n.replace('-', "")), "type": "workspaces", "attributes": {"name": n},
            "relationships": {"organization": {"data": {"id": "acme", "type": "organizations"}}}})
        })
        .collect();
    let next = (page < total_pages).then_some(page + 1);
    let body = json!({"data": data, "meta": {"pagination": {"current-page": page, "page-size": size, "next-page": next,
        "prev-page": (page > 1).then_some(page - 1), "total-pages": total_pages, "total-count": matching.len()}}});
    let mut r = (StatusCode::OK, body.to_string()).into_response();
    r.headers_mut().insert("content-type", "application/vnd.api+json".parse().unwrap());
    r
}

async fn serve(mock: Mock) -> String {
    let app = Router::new().fallback(handle).with_state(mock);
    support::serve_mock(app).await
}

fn route(address: &str, extra: Value) -> Route {
    let r = support::overlay(
        json!({
            "version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": address,
            "methods": ["list", "get", "create", "update", "delete", "custom", "observe"],
        }),
        &extra,
    );
    serde_json::from_value(r).unwrap()
}

async fn call(route: &Route, tool: &str, a: Value) -> Result<Value, ToolError> {
    let up = Upstream::new("tfc-mcp-gateway-test", Duration::from_secs(10));
    let client = TfcClient::new(&up, route, TOKEN);
    let spec = catalog().get(tool).unwrap_or_else(|| panic!("{tool}"));
    let args: Map<String, Value> = a.as_object().unwrap().clone();
    execute(&client, route, spec, args).await
}

fn fixture(rel: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

const LIST: &str = "list_all_hashicorp_terraform_cloud_workspaces";

fn names(out: &Value) -> Vec<String> {
    out["results"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
}

// ---- cursors ---------------------------------------------------------------------

/// Follow `next_cursor` alone (with the path argument) to the end.
async fn page_through(r: &Route, first: Value) -> Vec<String> {
    let mut out = call(r, LIST, first).await.unwrap();
    let mut all = names(&out);
    let mut guard = 0;
    while let Some(c) = out["next_cursor"].as_str().map(str::to_owned) {
        out = call(r, LIST, json!({"organization_name": "acme", "next_cursor": c})).await.unwrap();
        all.extend(names(&out));
        guard += 1;
        assert!(guard < 50, "cursor loop");
    }
    all
}

#[tokio::test]
async fn a_cursor_alone_fetches_exactly_the_next_page_of_the_same_query() {
    let mock = Mock::with_workspaces(23);
    let r = route(&serve(mock.clone()).await, json!({}));

    // Every workspace exactly once, in order, seven at a time.
    let all = page_through(&r, json!({"organization_name": "acme", "page_size": 7})).await;
    assert_eq!(all, *mock.workspaces, "no duplicates, no gaps");
    let sizes: Vec<_> = mock.seen().iter().map(|(_, _, q)| q.get("page[size]").cloned()).collect();
    assert_eq!(sizes, vec![Some("7".to_owned()); 4], "the page size travels in the cursor");

    // A filter travels too: every page of the filtered listing is filtered.
    let before = mock.seen().len();
    let filtered = page_through(&r, json!({"organization_name": "acme", "page_size": 5, "search_name": "app"})).await;
    let expected: Vec<String> = mock.workspaces.iter().filter(|n| n.contains("app")).cloned().collect();
    assert_eq!(filtered, expected);
    assert!(mock.seen()[before..].iter().all(|(_, _, q)| q.get("search[name]").map(String::as_str) == Some("app")));

    // Repeating the same filter with the cursor is fine.
    let out = call(&r, LIST, json!({"organization_name": "acme", "page_size": 5, "search_name": "app"})).await.unwrap();
    let c = out["next_cursor"].as_str().unwrap();
    let again = call(&r, LIST, json!({"organization_name": "acme", "search_name": "app", "page_size": 5, "next_cursor": c})).await.unwrap();
    assert_eq!(names(&again), expected[5..10].to_vec());
}

#[tokio::test]
async fn a_cursor_used_for_another_query_is_refused_before_any_call() {
    let mock = Mock::with_workspaces(23);
    let r = route(&serve(mock.clone()).await, json!({}));
    let out = call(&r, LIST, json!({"organization_name": "acme", "page_size": 7, "search_name": "app"})).await.unwrap();
    let c = out["next_cursor"].as_str().unwrap().to_owned();
    let sent = mock.seen().len();

    for (args, words) in [
        (json!({"organization_name": "acme", "search_name": "db", "next_cursor": c}), "`search_name`"),
        (json!({"organization_name": "acme", "search_tags": "x", "next_cursor": c}), "`search_tags`"),
        (json!({"organization_name": "acme", "page_size": 20, "next_cursor": c}), "page_size 7"),
        (json!({"organization_name": "other", "next_cursor": c}), "another query"),
        (json!({"organization_name": "acme", "next_cursor": format!("{c}x")}), "not a cursor"),
        (json!({"organization_name": "acme", "next_cursor": c.replace("tfcp2.", "tfcp1.")}), "not a cursor"),
    ] {
        let e = call(&r, LIST, args.clone()).await.unwrap_err();
        assert_eq!(e.kind, ToolErrorKind::InvalidArguments, "{args}: {e}");
        assert!(e.message.contains("`next_cursor`") && e.message.contains(words), "{args}: {e}");
    }
    // Another list tool with the same path argument.
    let e =
        call(&r, "list_all_hashicorp_terraform_cloud_projects", json!({"organization_name": "acme", "next_cursor": c})).await.unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::InvalidArguments, "{e}");
    assert!(e.message.contains("`next_cursor`"), "{e}");
    assert_eq!(mock.seen().len(), sent, "nothing was sent");
}

// ---- runs_wait -------------------------------------------------------------------

fn run_doc(status: &str, confirmable: bool) -> Value {
    json!({"data": {"id": "run-1", "type": "runs", "attributes": {"status": status, "actions": {"is-confirmable": confirmable}},
        "relationships": {"workspace": {"data": {"id": "ws-1", "type": "workspaces"}}}}})
}

async fn wait_for(route_extra: Value, statuses: &[(&str, bool)]) -> Value {
    let mock = Mock::default();
    for (s, c) in statuses {
        mock.on("/api/v2/runs/run-1", 200, run_doc(s, *c));
    }
    let r = route(&serve(mock).await, route_extra);
    call(&r, "hashicorp_terraform_cloud_runs_wait", json!({"run_id": "run-1", "poll_interval_seconds": 1, "timeout_seconds": 30}))
        .await
        .unwrap()
}

#[tokio::test]
async fn runs_wait_stops_where_a_human_or_another_system_must_act() {
    const APPLY: &str = "hashicorp_terraform_cloud_runs_apply";
    const DISCARD: &str = "hashicorp_terraform_cloud_runs_discard";
    const OVERRIDE: &str = "hashicorp_terraform_cloud_policy_checks_override";
    for (status, confirmable, words, tools) in [
        ("planned", true, "confirmation", &[APPLY, DISCARD][..]),
        ("cost_estimated", true, "confirmation", &[APPLY, DISCARD][..]),
        ("policy_checked", true, "confirmation", &[APPLY, DISCARD][..]),
        ("policy_override", false, "override", &[OVERRIDE, DISCARD][..]),
        ("post_plan_awaiting_decision", false, "run task", &[DISCARD][..]),
        ("pre_plan_awaiting_decision", false, "run task", &[DISCARD][..]),
        ("pre_apply_awaiting_decision", false, "run task", &[DISCARD][..]),
    ] {
        let out = wait_for(json!({}), &[("planning", false), (status, confirmable)]).await;
        assert_eq!(out["status"], json!(status));
        let why = out["stopped_because"].as_str().unwrap();
        assert!(why.contains(words), "{status}: {why}");
        assert_eq!(out["wait"]["needs_action"], json!(true), "{status}");
        assert_eq!(out["wait"]["timed_out"], json!(false), "{status}");
        let next: Vec<&str> = out["next_tools"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        for t in tools {
            assert!(next.contains(t), "{status}: {next:?}");
        }
    }
    // Errored stages end the wait too.
    let out = wait_for(json!({}), &[("pre_plan_errored", false)]).await;
    assert_eq!(out["wait"]["final"], json!(true));
    assert!(out["stopped_because"].as_str().unwrap().contains("errored"));
}

#[tokio::test]
async fn runs_wait_names_only_tools_the_server_exposes() {
    let out = wait_for(json!({"methods": ["list", "get", "observe"]}), &[("planned", true)]).await;
    assert!(out["stopped_because"].as_str().unwrap().contains("confirmation"));
    assert_eq!(out["next_tools"], json!([]), "apply and discard are not exposed here");
}

// ---- sensitive values --------------------------------------------------------------

const SECRET: &str = "hunter2-very-secret";

fn state_version(base: &str) -> Value {
    json!({"data": {"id": "sv-1", "type": "state-versions", "attributes": {"serial": 3, "status": "finalized",
        "hosted-state-download-url": format!("{base}/blob/raw"),
        "hosted-json-state-download-url": format!("{base}/blob/json")}}})
}

/// The documented JSON state with a provider-marked sensitive attribute.
fn json_state() -> Value {
    let mut s = fixture("tfc-state-fixtures/json-state--state.json");
    let res = &mut s["values"]["root_module"]["resources"][0];
    res["values"]["triggers"]["password"] = json!(SECRET);
    res["sensitive_values"]["triggers"]["password"] = json!(true);
    s
}

/// The documented raw state with a sensitive attribute path.
fn raw_state() -> Value {
    let mut s = fixture("tfc-state-fixtures/state-version--terraform.tfstate");
    let inst = &mut s["resources"][0]["instances"][0];
    inst["attributes"]["password"] = json!(SECRET);
    inst["sensitive_attributes"] = json!([[{"type": "get_attr", "value": "password"}]]);
    s
}

#[tokio::test]
async fn raw_state_download_masks_sensitive_resource_attributes() {
    for (state, format) in [(json_state(), "json"), (raw_state(), "raw")] {
        let mock = Mock::default();
        let base = serve(mock.clone()).await;
        let mut sv = state_version(&base);
        if format == "raw" {
            sv["data"]["attributes"].as_object_mut().unwrap().remove("hosted-json-state-download-url");
        }
        mock.on("/api/v2/state-versions/sv-1", 200, sv);
        mock.on(&format!("/blob/{format}"), 200, state);

        let masked = route(&base, json!({"state": {"allowRawStateDownload": true, "revealSensitiveOutputs": false}}));
        let out = call(&masked, "hashicorp_terraform_cloud_state_versions_download", json!({"state_version_id": "sv-1"})).await.unwrap();
        assert_eq!(out["format"], json!(format));
        let text = out.to_string();
        assert!(!text.contains(SECRET), "{format}: sensitive attribute leaked");
        assert!(text.contains("<sensitive>"), "{format}");
        assert!(out["sensitive_values_masked"].as_u64().unwrap() >= 1, "{format}");

        let reveal = route(&base, json!({"state": {"allowRawStateDownload": true, "revealSensitiveOutputs": true}}));
        let out = call(&reveal, "hashicorp_terraform_cloud_state_versions_download", json!({"state_version_id": "sv-1"})).await.unwrap();
        assert!(out.to_string().contains(SECRET), "{format}: revealing is the owner's choice");
    }
}

#[tokio::test]
async fn sensitive_variables_never_carry_a_value() {
    let mock = Mock::default();
    let base = serve(mock.clone()).await;
    // A misbehaving upstream that echoes the value it was sent.
    let echo = json!({"data": {"id": "var-1", "type": "vars", "attributes": {"key": "db_password", "value": SECRET, "sensitive": true,
        "category": "terraform", "hcl": false}, "relationships": {"configurable": {"data": {"id": "ws-1", "type": "workspaces"}}}}});
    mock.on("/api/v2/workspaces/ws-1/vars", 201, echo.clone());
    mock.on("/api/v2/workspaces/ws-1/vars/var-1", 200, echo.clone());
    let mut list = echo.clone();
    list["data"] = json!([echo["data"].clone()]);
    mock.on("/api/v2/workspaces/ws-1/vars", 200, list);
    let r = route(&base, json!({}));

    let out = call(
        &r,
        "create_a_hashicorp_terraform_cloud_workspace_variable",
        json!({"workspace_id": "ws-1", "key": "db_password", "value": SECRET, "sensitive": true, "category": "terraform"}),
    )
    .await
    .unwrap();
    assert!(!out.to_string().contains(SECRET), "{out}");
    assert_eq!(out["value"], Value::Null);
    assert_eq!(out["sensitive"], json!(true));

    let out = call(
        &r,
        "update_a_hashicorp_terraform_cloud_workspace_variable_by_id",
        json!({"workspace_id": "ws-1", "variable_id": "var-1", "value": SECRET}),
    )
    .await
    .unwrap();
    assert!(!out.to_string().contains(SECRET), "{out}");
}

#[tokio::test]
async fn the_outputs_cap_is_reported() {
    let mock = Mock::default();
    let base = serve(mock.clone()).await;
    mock.on("/api/v2/workspaces/ws-1/current-state-version", 200, state_version(&base));
    // Every page says there is another one: 1500 outputs in all.
    let page: Vec<Value> = (0..100)
        .map(|i| json!({"id": format!("wsout-{i}"), "type": "state-version-outputs", "attributes": {"name": format!("o{i}"), "sensitive": false, "value": i}}))
        .collect();
    let mut pages = Vec::new();
    for n in 1..=15 {
        pages.push(json!({"data": page.iter().map(|o| { let mut o = o.clone(); o["id"] = json!(format!("wsout-{n}-{}", o["id"])); o["attributes"]["name"] = json!(format!("p{n}-{}", o["attributes"]["name"].as_str().unwrap())); o }).collect::<Vec<_>>(),
            "meta": {"pagination": {"current-page": n, "next-page": if n < 15 { json!(n + 1) } else { Value::Null }, "total-count": 1500, "total-pages": 15}}}));
    }
    for p in pages {
        mock.on("/api/v2/workspaces/ws-1/current-state-version-outputs", 200, p);
    }
    let out =
        call(&route(&base, json!({})), "get_single_hashicorp_terraform_cloud_current_state_version_by_id", json!({"workspace_id": "ws-1"}))
            .await
            .unwrap();
    assert_eq!(out["outputs_truncated"], json!(true));
    assert_eq!(out["outputs_cap"]["returned"], json!(1000));
    assert_eq!(out["outputs_cap"]["total_count"], json!(1500));
    assert_eq!(out["outputs"].as_object().unwrap().len(), 1000);
}
