//! Answers shaped for a model, against a local mock HCP Terraform: `fields`
//! projection (and the sparse fieldset sent upstream), `include` of related
//! records (with the organization allow-list), the plan drill-down with
//! sensitive values masked, and logs read by part or searched, streamed
//! within the byte budget however big they are.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tfc_mcp_gateway::catalog::catalog;
use tfc_mcp_gateway::execute::{ToolError, ToolErrorKind, execute, execute_with_progress};
use tfc_mcp_gateway::limits::ByteBudget;
use tfc_mcp_gateway::route::Route;
use tfc_mcp_gateway::upstream::{TfcClient, Upstream};

const TOKEN: &str = "tfc-secret-token.atlasv1.abcdef";
const SECRET: &str = "MOCKSECRET";
/// Lines of the big log (about 9 MB).
const BIG_LINES: usize = 120_000;

/// A request the mock saw: path and query.
type Seen = (String, HashMap<String, String>);

#[derive(Clone, Default)]
struct Mock {
    base: Arc<Mutex<String>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Mock {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    fn count(&self, path: &str) -> usize {
        self.seen().iter().filter(|(p, _)| p == path).count()
    }
}

fn rel(type_: &str, id: &str) -> Value {
    json!({"data": {"type": type_, "id": id}})
}

fn workspace(id: &str, org: &str) -> Value {
    json!({"id": id, "type": "workspaces",
        "attributes": {"name": format!("name-{id}"), "terraform-version": "1.9.5", "locked": false, "description": "d"},
        "relationships": {"organization": rel("organizations", org), "current-run": rel("runs", "run-1")}})
}

fn run() -> Value {
    json!({"id": "run-1", "type": "runs", "attributes": {"status": "planned", "message": "m"},
        "relationships": {"workspace": rel("workspaces", "ws-1"), "plan": rel("plans", "plan-2"), "apply": rel("applies", "apply-2")}})
}

fn big_log() -> String {
    let mut s = String::from("\u{2}");
    for i in 0..BIG_LINES {
        if i == BIG_LINES / 2 {
            s.push_str("NEEDLE in the middle\n");
        }
        s.push_str(&format!("\u{1b}[1mnull_resource.bench[{i}]\u{1b}[0m: Refreshing state... [id={i:019}]\n"));
    }
    s.push_str("\u{1b}[1mPlan: 1 to add, 0 to change, 0 to destroy.\u{1b}[0m\n\u{3}");
    s
}

fn json_log() -> String {
    [
        r#"{"@level":"info","@message":"Terraform 1.9.5","@timestamp":"2024-05-01T10:00:00Z","type":"version"}"#,
        r#"{"@level":"error","@message":"Error: Invalid reference","@timestamp":"2024-05-01T10:00:01Z","type":"diagnostic","diagnostic":{"severity":"error","summary":"Invalid reference","detail":"Bad thing","range":{"filename":"main.tf","start":{"line":3}}}}"#,
    ]
    .join("\n")
}

fn plan_json() -> Value {
    json!({
        "format_version": "1.2", "terraform_version": "1.9.5",
        "resource_changes": [
            {"address": "aws_db_instance.main", "type": "aws_db_instance", "name": "main", "mode": "managed",
             "change": {"actions": ["update"],
                "before": {"password": format!("{SECRET}-before"), "instance_class": "db.t3.small", "nested": [{"k": format!("{SECRET}-nested")}]},
                "after": {"password": format!("{SECRET}-after"), "instance_class": "db.t3.large", "nested": [{"k": format!("{SECRET}-nested2")}]},
                "before_sensitive": {"password": true, "nested": [{"k": true}]}, "after_sensitive": {"password": true, "nested": [{"k": true}]}}},
            {"address": "null_resource.n", "type": "null_resource", "name": "n", "change": {"actions": ["no-op"]}}
        ],
        "resource_drift": [
            {"address": "aws_db_instance.main", "change": {"actions": ["update"], "before": {"password": format!("{SECRET}-drift")},
             "after": {"password": format!("{SECRET}-drift2")}, "before_sensitive": {"password": true}, "after_sensitive": {"password": true}}}
        ],
        "output_changes": {
            "db_password": {"actions": ["create"], "before": null, "after": format!("{SECRET}-out"), "before_sensitive": false, "after_sensitive": true},
            "endpoint": {"actions": ["create"], "before": null, "after": "db.example.com", "before_sensitive": false, "after_sensitive": false}
        }
    })
}

async fn handle(State(mock): State<Mock>, uri: Uri, Query(q): Query<HashMap<String, String>>) -> Response {
    mock.seen.lock().unwrap().push((uri.path().to_owned(), q.clone()));
    let base = mock.base.lock().unwrap().clone();
    let include: Vec<&str> = q.get("include").map(|s| s.split(',').collect()).unwrap_or_default();
    let doc = match uri.path() {
        "/api/v2/organizations/acme/workspaces" => {
            let data: Vec<Value> = (1..=3).map(|i| workspace(&format!("ws-{i}"), "acme")).collect();
            let page: u64 = q.get("page[number]").and_then(|p| p.parse().ok()).unwrap_or(1);
            json!({"data": data, "meta": {"pagination": {"current-page": page, "page-size": 3, "next-page": (page < 2).then_some(page + 1), "total-pages": 2, "total-count": 6}}})
        }
        "/api/v2/workspaces/ws-1" => {
            let mut doc = json!({"data": workspace("ws-1", "acme")});
            if include.contains(&"outputs") {
                doc["included"] = json!([
                    {"id": "wsout-1", "type": "workspace-outputs", "attributes": {"name": "pw", "sensitive": true, "value": format!("{SECRET}-included")}},
                    {"id": "wsout-2", "type": "workspace-outputs", "attributes": {"name": "region", "sensitive": false, "value": "eu"}}
                ]);
            }
            doc
        }
        "/api/v2/runs/run-1" => {
            let mut doc = json!({"data": run()});
            let mut included = Vec::new();
            if include.contains(&"plan") {
                included.push(json!({"id": "plan-2", "type": "plans", "attributes": {"status": "finished"}}));
            }
            if include.contains(&"apply") {
                included.push(json!({"id": "apply-2", "type": "applies", "attributes": {"status": "pending"}}));
            }
            if include.contains(&"workspace") {
                // A hostile or buggy upstream: a record of another organization.
                included.push(workspace("ws-evil", "evil-corp"));
            }
            if !included.is_empty() {
                doc["included"] = Value::Array(included);
            }
            doc
        }
        "/api/v2/plans/plan-2" => json!({"data": {"id": "plan-2", "type": "plans", "attributes": {"status": "finished"},
            "relationships": {"run": rel("runs", "run-1")}}}),
        "/api/v2/plans/plan-big" => json!({"data": {"id": "plan-big", "type": "plans",
            "attributes": {"status": "finished", "log-read-url": format!("{base}/blob/big")}}}),
        "/api/v2/plans/plan-jsonl" => json!({"data": {"id": "plan-jsonl", "type": "plans",
            "attributes": {"status": "finished", "log-read-url": format!("{base}/blob/jsonl")}}}),
        "/api/v2/plans/plan-1/json-output" => {
            let mut r = StatusCode::TEMPORARY_REDIRECT.into_response();
            r.headers_mut().insert("location", format!("{base}/blob/plan").parse().unwrap());
            return r;
        }
        "/blob/plan" => return (StatusCode::OK, plan_json().to_string()).into_response(),
        "/blob/big" => return (StatusCode::OK, big_log()).into_response(),
        "/blob/jsonl" => return (StatusCode::OK, json_log()).into_response(),
        _ => return (StatusCode::NOT_FOUND, json!({"errors": [{"status": "404"}]}).to_string()).into_response(),
    };
    let mut r = (StatusCode::OK, doc.to_string()).into_response();
    r.headers_mut().insert("content-type", "application/vnd.api+json".parse().unwrap());
    r
}

async fn serve(mock: Mock) -> String {
    let app = Router::new().fallback(handle).with_state(mock.clone());
    let base = support::serve_mock(app).await;
    *mock.base.lock().unwrap() = base.clone();
    base
}

fn route(address: &str, extra: Value) -> Route {
    let r = support::overlay(
        json!({"version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": address, "methods": ["list", "get", "observe"]}),
        &extra,
    );
    serde_json::from_value(r).unwrap()
}

async fn call_on(up: &Upstream, route: &Route, tool: &str, a: Value) -> Result<Value, ToolError> {
    let client = TfcClient::new(up, route, TOKEN);
    let args: Map<String, Value> = a.as_object().unwrap().clone();
    execute(&client, route, catalog().get(tool).unwrap_or_else(|| panic!("{tool}")), args).await
}

async fn call(route: &Route, tool: &str, a: Value) -> Result<Value, ToolError> {
    call_on(&Upstream::new("tfc-mcp-gateway-test", Duration::from_secs(20)), route, tool, a).await
}

fn invalid(r: Result<Value, ToolError>) -> String {
    let e = r.expect_err("an error");
    assert_eq!(e.kind, ToolErrorKind::InvalidArguments, "{}", e.message);
    e.message
}

// ---- fields ----------------------------------------------------------------------

#[tokio::test]
async fn fields_project_every_record_and_go_upstream_as_a_sparse_fieldset() {
    let mock = Mock::default();
    let base = serve(mock.clone()).await;
    let r = route(&base, json!({}));
    let list = "list_all_hashicorp_terraform_cloud_workspaces";
    let page = call(&r, list, json!({"organization_name": "acme", "fields": ["name", "terraform_version", "current_run_id", "nope"]}))
        .await
        .unwrap();
    let results = page["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(
        results[0],
        json!({"id": "ws-1", "type": "workspaces", "name": "name-ws-1", "terraform_version": "1.9.5", "current_run_id": "run-1"})
    );
    assert_eq!(page["fields_missing"], json!(["nope"]));
    assert!(page["next_cursor"].is_string() && page["pagination"].is_object());
    let (_, q) = mock.seen().last().unwrap().clone();
    let sparse = q.get("fields[workspaces]").expect("sparse fieldset sent");
    let names: Vec<&str> = sparse.split(',').collect();
    for n in ["name", "terraform-version", "current-run", "organization"] {
        assert!(names.contains(&n), "{sparse}");
    }

    // The cursor continues the same listing with other fields (or none).
    let next = call(&r, list, json!({"organization_name": "acme", "next_cursor": page["next_cursor"]})).await.unwrap();
    assert_eq!(next["results"][0]["description"], "d");

    // Included outputs follow the sensitive-output rule.
    let with_outputs =
        call(&r, "get_single_hashicorp_terraform_cloud_workspace_by_id", json!({"workspace_id": "ws-1", "include": ["outputs"]}))
            .await
            .unwrap();
    assert!(!with_outputs.to_string().contains(SECRET), "{with_outputs}");
    assert_eq!(with_outputs["included"][0]["value"], "<sensitive>");
    assert_eq!(with_outputs["included"][1]["value"], "eu");

    // A get tool projects its one record.
    let ws = call(&r, "get_single_hashicorp_terraform_cloud_workspace_by_id", json!({"workspace_id": "ws-1", "fields": ["locked"]}))
        .await
        .unwrap();
    assert_eq!(ws, json!({"id": "ws-1", "type": "workspaces", "locked": false}));
}

#[tokio::test]
async fn fields_that_are_not_names_are_refused_before_any_request() {
    let mock = Mock::default();
    let base = serve(mock.clone()).await;
    let r = route(&base, json!({}));
    let list = "list_all_hashicorp_terraform_cloud_workspaces";
    for bad in
        [json!(["name&filter[x]="]), json!(["../"]), json!(["Name"]), json!([""]), json!(["a b"]), json!([1]), json!("name"), json!([])]
    {
        let msg = invalid(call(&r, list, json!({"organization_name": "acme", "fields": bad})).await);
        assert!(msg.contains("fields"), "{msg}");
    }
    let many: Vec<String> = (0..65).map(|i| format!("f{i}")).collect();
    invalid(call(&r, list, json!({"organization_name": "acme", "fields": many})).await);
    // Not on tools that are not list or get.
    invalid(call(&r, "hashicorp_terraform_cloud_plans_logs", json!({"plan_id": "plan-big", "fields": ["log"]})).await);
    assert!(mock.seen().is_empty(), "{:?}", mock.seen());
}

// ---- include ---------------------------------------------------------------------

#[tokio::test]
async fn a_run_comes_with_its_plan_and_apply_in_one_call() {
    let mock = Mock::default();
    let base = serve(mock.clone()).await;
    let r = route(&base, json!({}));
    let get = "get_single_hashicorp_terraform_cloud_run_by_id";
    let run = call(&r, get, json!({"run_id": "run-1", "include": ["plan", "apply", "cost_estimate"]})).await.unwrap();
    let (_, q) = mock.seen().last().unwrap().clone();
    assert_eq!(q.get("include").map(String::as_str), Some("plan,apply,cost_estimate"));
    let included = run["included"].as_array().unwrap();
    assert_eq!(included.iter().map(|i| i["id"].as_str().unwrap()).collect::<Vec<_>>(), ["plan-2", "apply-2"]);
    assert_eq!(included[0]["status"], "finished");

    // With fields too: the run is projected, its included records stay.
    let slim = call(&r, get, json!({"run_id": "run-1", "include": ["plan"], "fields": ["status"]})).await.unwrap();
    assert_eq!(slim["status"], "planned");
    assert!(slim.get("message").is_none());
    assert_eq!(slim["included"][0]["id"], "plan-2");
}

#[tokio::test]
async fn include_names_come_from_the_tool_only() {
    let mock = Mock::default();
    let base = serve(mock.clone()).await;
    let r = route(&base, json!({}));
    let get = "get_single_hashicorp_terraform_cloud_run_by_id";
    for bad in [
        json!(["plan,apply"]),
        json!(["plan&fields[runs]=x"]),
        json!(["../workspaces"]),
        json!(["organization"]),
        json!("plan"),
        json!([7]),
    ] {
        let msg = invalid(call(&r, get, json!({"run_id": "run-1", "include": bad})).await);
        assert!(msg.contains("include"), "{msg}");
    }
    let huge: Vec<&str> = std::iter::repeat_n("plan", 10_000).collect();
    let msg = invalid(call(&r, get, json!({"run_id": "run-1", "include": huge})).await);
    assert!(msg.contains("offers only"), "{msg}");
    // A tool without includes has no such argument.
    invalid(call(&r, "get_single_hashicorp_terraform_cloud_plan_by_id", json!({"plan_id": "plan-2", "include": ["run"]})).await);
    assert!(mock.seen().is_empty());
}

#[tokio::test]
async fn included_records_follow_the_organization_allow_list_and_their_owners_are_remembered() {
    let mock = Mock::default();
    let base = serve(mock.clone()).await;
    let r = route(&base, json!({"organizations": ["acme"]}));
    let up = Upstream::new("tfc-mcp-gateway-test", Duration::from_secs(20));
    let run =
        call_on(&up, &r, "get_single_hashicorp_terraform_cloud_run_by_id", json!({"run_id": "run-1", "include": ["plan", "workspace"]}))
            .await
            .unwrap();
    let ids: Vec<&str> = run["included"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["plan-2"], "the other organization's record is dropped");
    assert!(!run.to_string().contains("evil-corp"));
    // The included plan's owner was learned: reading it needs no lookup first.
    let before = mock.count("/api/v2/plans/plan-2");
    call_on(&up, &r, "get_single_hashicorp_terraform_cloud_plan_by_id", json!({"plan_id": "plan-2"})).await.unwrap();
    assert_eq!(mock.count("/api/v2/plans/plan-2"), before + 1, "only the tool's own request");
}

// ---- plan drill-down -------------------------------------------------------------

#[tokio::test]
async fn one_resource_by_address_and_the_summary_never_show_a_sensitive_value() {
    let mock = Mock::default();
    let base = serve(mock.clone()).await;
    let r = route(&base, json!({}));
    let tool = "hashicorp_terraform_cloud_plans_resource_changes";
    let summary = call(&r, tool, json!({"plan_id": "plan-1"})).await.unwrap();
    assert_eq!(summary["drift"]["count"], 1);
    assert_eq!(summary["drift"]["resources"][0]["address"], "aws_db_instance.main");
    assert_eq!(summary["output_changes"]["db_password"]["after"], "<sensitive>");
    assert_eq!(summary["output_changes"]["endpoint"]["after"], "db.example.com");
    assert!(!summary.to_string().contains(SECRET), "{summary}");

    let one = call(&r, tool, json!({"plan_id": "plan-1", "address": "aws_db_instance.main"})).await.unwrap();
    assert!(!one.to_string().contains(SECRET), "{one}");
    assert_eq!(one["change"]["before"]["instance_class"], "db.t3.small");
    assert_eq!(one["change"]["after"]["instance_class"], "db.t3.large");
    assert_eq!(one["change"]["after"]["password"], "<sensitive>");
    assert_eq!(one["change"]["after"]["nested"][0]["k"], "<sensitive>");
    assert_eq!(one["drift"]["before"]["password"], "<sensitive>");

    let msg = invalid(call(&r, tool, json!({"plan_id": "plan-1", "address": "aws_db_instance.other"})).await);
    assert!(msg.contains("aws_db_instance.main"), "{msg}");
    let before = mock.seen().len();
    invalid(call(&r, tool, json!({"plan_id": "plan-1", "address": "a.".repeat(100_000)})).await);
    assert_eq!(mock.seen().len(), before, "refused before any request");
}

// ---- logs ------------------------------------------------------------------------

#[tokio::test]
async fn a_big_log_is_streamed_by_part_within_a_small_byte_budget() {
    let mock = Mock::default();
    let base = serve(mock.clone()).await;
    let r = route(&base, json!({}));
    // 1 MiB for the whole gateway, a 9 MB log: only what is kept is held.
    let up =
        Upstream::new("tfc-mcp-gateway-test", Duration::from_secs(30)).with_budget(ByteBudget::new(1 << 20, Duration::from_millis(200)));
    let logs = "hashicorp_terraform_cloud_plans_logs";
    let total = big_log().len();

    let tail = call_on(&up, &r, logs, json!({"plan_id": "plan-big"})).await.unwrap();
    let text = tail["log"].as_str().unwrap();
    assert!(text.ends_with("Plan: 1 to add, 0 to change, 0 to destroy.\n"), "{:?}", &text[text.len() - 80..]);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{3}'), "ANSI codes and framing removed");
    assert!(text.starts_with("null_resource.bench["), "starts at a line: {:?}", &text[..60]);
    assert_eq!(tail["total_bytes"], json!(total));
    assert_eq!(tail["truncated"], true);
    assert_eq!(tail["range"]["end"], json!(total));

    let head = call_on(&up, &r, logs, json!({"plan_id": "plan-big", "from": "start", "max_bytes": 4096})).await.unwrap();
    let text = head["log"].as_str().unwrap();
    assert!(text.starts_with("null_resource.bench[0]: Refreshing state"), "{:?}", &text[..60]);
    assert!(text.ends_with('\n') && text.len() <= 4096);
    let next = head["next_offset"].as_u64().unwrap();

    let range = call_on(&up, &r, logs, json!({"plan_id": "plan-big", "offset": next, "max_bytes": 1000})).await.unwrap();
    assert_eq!(range["range"], json!({"start": next, "end": next + 1000}));
    assert_eq!(range["next_offset"], json!(next + 1000));

    let past = call_on(&up, &r, logs, json!({"plan_id": "plan-big", "offset": total + 10})).await.unwrap();
    assert_eq!(past["log"], "");
    assert!(past["note"].as_str().unwrap().contains("past the end"), "{past}");

    let found = call_on(&up, &r, logs, json!({"plan_id": "plan-big", "search": "needle IN the"})).await.unwrap();
    assert_eq!(found["match_count"], 1);
    assert_eq!(found["matches"], json!([{"line": BIG_LINES / 2 + 1, "text": "NEEDLE in the middle"}]));
    assert_eq!(found["lines_scanned"], json!(BIG_LINES + 2));

    // Many matches are capped; a pattern-looking text is plain text.
    let many = call_on(&up, &r, logs, json!({"plan_id": "plan-big", "search": "refreshing", "max_matches": 3})).await.unwrap();
    assert_eq!(many["match_count"], json!(BIG_LINES));
    assert_eq!(many["matches"].as_array().unwrap().len(), 3);
    assert_eq!(many["matches_truncated"], true);
    let bomb = call_on(&up, &r, logs, json!({"plan_id": "plan-big", "search": "(a+)+$"})).await.unwrap();
    assert_eq!(bomb["match_count"], 0);

    for bad in [
        json!({"offset": -1}),
        json!({"offset": 1u64 << 40}),
        json!({"max_bytes": 0}),
        json!({"max_bytes": 1u64 << 31}),
        json!({"from": "start", "offset": 3}),
        json!({"search": ""}),
        json!({"search": "x".repeat(500)}),
    ] {
        let mut a = bad.as_object().unwrap().clone();
        a.insert("plan_id".into(), json!("plan-big"));
        invalid(call_on(&up, &r, logs, Value::Object(a)).await);
    }
}

#[tokio::test]
async fn json_lines_logs_are_rendered_and_fit_the_result_budget() {
    let mock = Mock::default();
    let base = serve(mock.clone()).await;
    let r = route(&base, json!({}));
    let logs = "hashicorp_terraform_cloud_plans_logs";
    let out = call(&r, logs, json!({"plan_id": "plan-jsonl"})).await.unwrap();
    assert_eq!(out["format"], "json-lines");
    assert_eq!(
        out["log"],
        "2024-05-01T10:00:00Z [info] Terraform 1.9.5\n2024-05-01T10:00:01Z [error] Error: Invalid reference: Bad thing (main.tf:3)"
    );
    // The largest max_bytes on a small result budget: the log is cut by the
    // tool itself, to whole lines, and says where it starts.
    let up = Upstream::new("tfc-mcp-gateway-test", Duration::from_secs(30));
    let client = TfcClient::new(&up, &r, TOKEN);
    let args: Map<String, Value> = json!({"plan_id": "plan-big", "max_bytes": 262144}).as_object().unwrap().clone();
    let small = execute_with_progress(&client, &r, catalog().get(logs).unwrap(), args, None, 8192).await.unwrap();
    assert!(serde_json::to_vec(&small).unwrap().len() <= 8192);
    assert!(small.get("truncation").is_none(), "the budget did not have to cut it: {small}");
    assert!(small["log"].as_str().unwrap().ends_with("to destroy.\n"));
    assert!(small["hint"].as_str().unwrap().contains("offset="), "{small}");
}
