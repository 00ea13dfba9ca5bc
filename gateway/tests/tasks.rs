//! Runs as tasks (`io.modelcontextprotocol/tasks`), driven in-process through
//! the axum Router against a mock HCP Terraform whose run moves
//! planning → planned → applying → applied, one step per read: a task
//! followed to completion with fresh requests (no session, another replica),
//! ids of another server, caller or key, tampered and expired ids (refused
//! before anything reaches upstream), cancellation, the methods SEP-2663
//! removed, and clients without the extension.

mod support;

use support::harness::{Harness, MockedGateway, last_message, post_request};

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::{Path, State},
    http::{Request, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use support::events::Events;
use tfc_mcp_gateway::{approval::Approvals, http::HttpSettings, limits::Limits, mcp::Shared, metrics::Metrics, tasks, upstream::Upstream};
use tower::ServiceExt;

const WAIT: &str = "hashicorp_terraform_cloud_runs_wait";
const KEY: &[u8] = b"tasks-test-key-0123456789abcdef-0123";
const MODERN: &str = "2026-07-28";
const LEGACY: &str = "2025-11-25";
const EXT: &str = "io.modelcontextprotocol/tasks";
/// The auto-apply run's life, one step per read.
const STEPS: &[&str] = &["planning", "planned", "applying", "applied"];

// ---- a mock HCP Terraform with runs that move ------------------------------------------

#[derive(Clone, Default)]
struct Mock {
    /// Reads of each run so far.
    reads: Arc<Mutex<HashMap<String, usize>>>,
    /// Cancel actions received, by run.
    cancels: Arc<Mutex<Vec<String>>>,
    /// Discard actions received, by run.
    discards: Arc<Mutex<Vec<String>>>,
}

impl Mock {
    fn reads(&self) -> usize {
        self.reads.lock().unwrap().values().sum()
    }

    fn cancels(&self) -> Vec<String> {
        self.cancels.lock().unwrap().clone()
    }
}

async fn run(State(mock): State<Mock>, Path(id): Path<String>) -> Response {
    let n = {
        let mut reads = mock.reads.lock().unwrap();
        let n = reads.entry(id.clone()).or_default();
        *n += 1;
        *n
    };
    let status = if mock.cancels.lock().unwrap().contains(&id) {
        "canceled"
    } else if mock.discards.lock().unwrap().contains(&id) {
        "discarded"
    } else if id == "run-pending" {
        "pending"
    } else if id == "run-stuck" {
        "planning"
    } else {
        STEPS[(n - 1).min(STEPS.len() - 1)]
    };
    let doc = json!({"data": {"id": id, "type": "runs", "attributes": {
        "status": status, "actions": {"is-confirmable": false, "is-cancelable": true},
    }}});
    ([("content-type", "application/vnd.api+json")], doc.to_string()).into_response()
}

async fn cancel(State(mock): State<Mock>, Path(id): Path<String>) -> StatusCode {
    mock.cancels.lock().unwrap().push(id);
    StatusCode::ACCEPTED
}

async fn discard(State(mock): State<Mock>, Path(id): Path<String>) -> StatusCode {
    mock.discards.lock().unwrap().push(id);
    StatusCode::ACCEPTED
}

type Gateway = MockedGateway<Mock>;

async fn gateway_with(approvals: Approvals, mock: Option<(String, Mock)>) -> Gateway {
    let (upstream, mock) = match mock {
        Some(m) => m,
        None => {
            let mock = Mock::default();
            let app = Router::new()
                .route("/api/v2/runs/{id}", get(run))
                .route("/api/v2/runs/{id}/actions/cancel", post(cancel))
                .route("/api/v2/runs/{id}/actions/discard", post(discard))
                .with_state(mock.clone());
            (support::serve_mock(app).await, mock)
        }
    };
    let shared = Shared::with_limits(Upstream::new("tasks-test", Duration::from_secs(10)), Metrics::default(), Limits::default())
        .with_approvals(approvals);
    let g = Gateway { harness: Harness::new(upstream, shared, &HttpSettings::default()), mock };
    g.add("srv", "tfcmcp_good", json!({}));
    g
}

async fn gateway() -> Gateway {
    gateway_with(Approvals::from_keys(KEY, None).unwrap(), None).await
}

fn meta(version: &str, tasks: bool) -> Value {
    let capabilities = if tasks { json!({"extensions": {EXT: {}}}) } else { json!({}) };
    json!({
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": capabilities,
        "io.modelcontextprotocol/clientInfo": {"name": "tasks-test", "version": "1"},
    })
}

impl Gateway {
    /// One JSON-RPC request as a fresh HTTP request (no session).
    async fn rpc(&self, token: &str, version: &str, method: &str, name: &str, mut params: Value, tasks: bool) -> Value {
        params["_meta"] = meta(version, tasks);
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
        let request = post_request(
            &format!("/mcp/{token}"),
            body.to_string(),
            &[("mcp-protocol-version", version), ("mcp-method", method), ("mcp-name", name)],
        );
        let (status, headers, bytes) = self.send(request).await;
        let message = last_message(&headers, &bytes);
        // Some JSON-RPC errors travel with an HTTP error status (e.g. 400 for -32021).
        assert!(status == StatusCode::OK || message.get("error").is_some(), "{status}: {message}");
        message
    }

    async fn call(&self, token: &str, version: &str, arguments: Value, tasks: bool) -> Value {
        self.rpc(token, version, "tools/call", WAIT, json!({"name": WAIT, "arguments": arguments}), tasks).await
    }

    async fn task(&self, token: &str, version: &str, method: &str, id: &str) -> Value {
        self.rpc(token, version, method, id, json!({"taskId": id}), true).await
    }
}

/// Starts a task on `run_id`; returns its id.
async fn start(g: &Gateway, version: &str, run_id: &str) -> String {
    start_on(g, "tfcmcp_good", version, run_id).await
}

async fn start_on(g: &Gateway, token: &str, version: &str, run_id: &str) -> String {
    let answer = g.call(token, version, json!({"run_id": run_id, "timeout_seconds": 120, "poll_interval_seconds": 2}), true).await;
    let result = &answer["result"];
    assert_eq!(result["resultType"], "task", "{answer}");
    assert_eq!(result["status"], "working", "{answer}");
    // SEP-2663 names: integer milliseconds, no legacy `ttl` / `pollInterval`, flat (no `task` wrapper).
    assert_eq!(result["pollIntervalMs"], 2000, "{answer}");
    assert_eq!(result["ttlMs"], (120 + tasks::RESULT_GRACE.as_secs()) * 1000, "{answer}");
    assert!(result.get("ttl").is_none() && result.get("pollInterval").is_none() && result.get("task").is_none(), "{answer}");
    assert!(result["statusMessage"].as_str().unwrap().contains("is planning"), "{answer}");
    assert!(result["createdAt"].as_str().unwrap().ends_with('Z'), "{answer}");
    result["taskId"].as_str().unwrap().to_owned()
}

fn error_code(answer: &Value) -> i64 {
    answer["error"]["code"].as_i64().unwrap_or_else(|| panic!("an error expected: {answer}"))
}

// ---- the task, followed to completion ------------------------------------------------------

#[tokio::test]
async fn a_task_follows_the_run_to_completion_from_any_request_and_replica() {
    let g = gateway().await;
    // Another replica with the same shared key and the same upstream.
    let b = gateway_with(Approvals::from_keys(KEY, None).unwrap(), Some((g.upstream.clone(), g.mock.clone()))).await;
    let id = start(&g, MODERN, "run-1").await;

    let mut seen = Vec::new();
    let mut last = Value::Null;
    for i in 0..10 {
        // Every poll a fresh HTTP request, alternately on each replica: no session, no memory.
        let replica = if i % 2 == 0 { &b } else { &g };
        let answer = replica.task("tfcmcp_good", MODERN, "tasks/get", &id).await;
        let result = answer["result"].clone();
        assert_eq!(result["resultType"], "complete", "{answer}");
        assert_eq!(result["taskId"], id.as_str());
        seen.push(result["status"].as_str().unwrap().to_owned());
        if result["status"] != "working" {
            last = result;
            break;
        }
        assert!(result["statusMessage"].as_str().unwrap().starts_with("run run-1 is "), "{answer}");
    }
    assert_eq!(seen, ["working", "working", "completed"], "planned (auto-apply), applying, applied");
    // The synchronous tool's answer, inlined.
    let result = &last["result"];
    assert_eq!(result["isError"], false, "{last}");
    assert_eq!(result["structuredContent"]["status"], "applied", "{last}");
    assert_eq!(result["structuredContent"]["wait"]["final"], true, "{last}");
    assert!(result["content"][0]["text"].as_str().unwrap().contains("applied"));
    assert!(result.get("_meta").is_none_or(|m| m.get("io.modelcontextprotocol/related-task").is_none()));
    assert!(last["statusMessage"].as_str().unwrap().contains("applied"), "{last}");

    // Completed stays completed (the run is the state) while the id lives.
    let again = g.task("tfcmcp_good", MODERN, "tasks/get", &id).await;
    assert_eq!(again["result"]["status"], "completed", "{again}");
}

#[tokio::test]
async fn the_2025_11_25_revision_follows_tasks_declared_in_the_request_meta() {
    let g = gateway().await;
    let id = start(&g, LEGACY, "run-1").await;
    let mut status = String::new();
    for _ in 0..5 {
        let answer = g.task("tfcmcp_good", LEGACY, "tasks/get", &id).await;
        status = answer["result"]["status"].as_str().unwrap().to_owned();
        if status != "working" {
            assert_eq!(answer["result"]["result"]["structuredContent"]["status"], "applied", "{answer}");
            break;
        }
    }
    assert_eq!(status, "completed");
}

#[tokio::test]
async fn a_finished_run_or_bad_arguments_are_answered_at_once() {
    let g = gateway().await;
    // The run reaches a status asked for on the first read: no task.
    let answer = g.call("tfcmcp_good", MODERN, json!({"run_id": "run-2", "wait_for_statuses": ["planning"]}), true).await;
    assert_eq!(answer["result"]["resultType"], "complete", "{answer}");
    assert_eq!(answer["result"]["structuredContent"]["status"], "planning", "{answer}");
    // An invalid run id: the tool error, no task and nothing upstream.
    let before = g.mock.reads();
    let answer = g.call("tfcmcp_good", MODERN, json!({"run_id": "../admin"}), true).await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert!(answer["result"].get("taskId").is_none());
    assert_eq!(g.mock.reads(), before);
}

// ---- ids that must not work --------------------------------------------------------------------

#[tokio::test]
async fn a_task_id_of_another_server_caller_or_key_is_refused_without_an_upstream_call() {
    let g = gateway().await;
    g.add("other", "tfcmcp_other", json!({}));
    let id = start(&g, MODERN, "run-1").await;
    let reads = g.mock.reads();

    // Another server's URL on the same replica.
    let answer = g.task("tfcmcp_other", MODERN, "tasks/get", &id).await;
    assert_eq!(error_code(&answer), -32602, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("task not found"), "{answer}");
    // A replica with another key.
    let stranger = gateway_with(
        Approvals::from_keys(b"another-key-entirely-0123456789abcdef", None).unwrap(),
        Some((g.upstream.clone(), g.mock.clone())),
    )
    .await;
    assert_eq!(error_code(&stranger.task("tfcmcp_good", MODERN, "tasks/get", &id).await), -32602);
    // Cancel and update refuse it too.
    assert_eq!(error_code(&g.task("tfcmcp_other", MODERN, "tasks/cancel", &id).await), -32602);
    let update = g.rpc("tfcmcp_other", MODERN, "tasks/update", &id, json!({"taskId": id, "inputResponses": {}}), true).await;
    assert_eq!(error_code(&update), -32602);
    assert_eq!(g.mock.reads(), reads, "nothing reached upstream");
    assert!(g.mock.cancels().is_empty());

    // The same id on its own server still works.
    let answer = g.task("tfcmcp_good", MODERN, "tasks/get", &id).await;
    assert_eq!(answer["result"]["taskId"], id.as_str(), "{answer}");
}

#[tokio::test]
async fn tampered_garbage_and_expired_ids_are_refused_without_an_upstream_call() {
    let g = gateway().await;
    let id = start(&g, MODERN, "run-1").await;
    let reads = g.mock.reads();
    let mut cases: Vec<String> = [0, id.len() / 2, id.len() - 2]
        .into_iter()
        .map(|i| {
            let mut bytes = id.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            String::from_utf8(bytes).unwrap()
        })
        .collect();
    cases.extend(["", "nonexistent-12345", "rs2.a.b.c"].map(str::to_owned));
    cases.push("A".repeat(5000));
    for case in &cases {
        let answer = g.task("tfcmcp_good", MODERN, "tasks/get", case).await;
        assert_eq!(error_code(&answer), -32602, "{case}: {answer}");
    }

    // An id whose lifetime is over, made with the server's own key.
    let approvals = Approvals::from_keys(KEY, None).unwrap();
    let route = g.routes.lookup("tfcmcp_good").unwrap();
    let arguments = json!({"run_id": "run-1"}).as_object().unwrap().clone();
    let started = chrono::Utc::now().timestamp_millis() - 3_600_000;
    let expired = tasks::issue(&approvals, &route.route, None, WAIT, arguments.clone(), started, Duration::from_millis(1)).unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let answer = g.task("tfcmcp_good", MODERN, "tasks/get", &expired).await;
    assert_eq!(error_code(&answer), -32602, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("expired"), "{answer}");
    assert_eq!(g.mock.reads(), reads, "nothing reached upstream");

    // The same, still alive, works: the id is the whole state.
    let alive = tasks::issue(&approvals, &route.route, None, WAIT, arguments, started, Duration::from_secs(60)).unwrap();
    let answer = g.task("tfcmcp_good", MODERN, "tasks/get", &alive).await;
    assert_eq!(answer["result"]["taskId"], alive.as_str(), "{answer}");
    // Started an hour ago with the default 60 s timeout: the wait is over.
    assert_eq!(answer["result"]["status"], "completed", "{answer}");
    assert_eq!(answer["result"]["result"]["structuredContent"]["wait"]["timed_out"], true, "{answer}");
}

#[tokio::test]
async fn a_task_id_is_no_confirmation_state_and_a_confirmation_state_no_task_id() {
    let g = gateway().await;
    g.add("gated", "tfcmcp_gated", json!({"approval": {"tools": ["hashicorp_terraform_cloud_runs_apply"]}}));
    let id = start_on(&g, "tfcmcp_gated", MODERN, "run-1").await;
    // An approval's request state offered as a task id.
    let mut params = json!({"name": "hashicorp_terraform_cloud_runs_apply", "arguments": {"run_id": "run-1"}});
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "extensions": {EXT: {}}},
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params});
    let request = post_request(
        "/mcp/tfcmcp_gated",
        body.to_string(),
        &[("mcp-protocol-version", MODERN), ("mcp-method", "tools/call"), ("mcp-name", "hashicorp_terraform_cloud_runs_apply")],
    );
    let (_, headers, bytes) = g.send(request).await;
    let asked = last_message(&headers, &bytes);
    let state = asked["result"]["requestState"].as_str().unwrap().to_owned();
    assert_eq!(error_code(&g.task("tfcmcp_gated", MODERN, "tasks/get", &state).await), -32602);

    // A task id offered as the approval's request state.
    params["requestState"] = json!(id);
    params["inputResponses"] = json!({"confirm": {"action": "accept", "content": {"confirm": true}}});
    let body = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": params});
    let request = post_request(
        "/mcp/tfcmcp_gated",
        body.to_string(),
        &[("mcp-protocol-version", MODERN), ("mcp-method", "tools/call"), ("mcp-name", "hashicorp_terraform_cloud_runs_apply")],
    );
    let (_, headers, bytes) = g.send(request).await;
    let refused = last_message(&headers, &bytes);
    assert_eq!(refused["result"]["structuredContent"]["error"]["kind"], "approval_state_invalid", "{refused}");
}

// ---- cancellation ------------------------------------------------------------------------------

#[tokio::test]
async fn cancel_cancels_the_run_only_where_the_server_allows_it() {
    let g = gateway().await;
    // methods list/get/observe: runs_wait yes, runs_cancel (custom) no.
    g.add("watch", "tfcmcp_watch", json!({"methods": ["list", "get", "observe"]}));
    let answer = g.call("tfcmcp_watch", MODERN, json!({"run_id": "run-stuck"}), true).await;
    let id = answer["result"]["taskId"].as_str().unwrap_or_else(|| panic!("{answer}")).to_owned();
    let refused = g.task("tfcmcp_watch", MODERN, "tasks/cancel", &id).await;
    assert_eq!(error_code(&refused), -32600, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("does not allow stopping runs"), "{refused}");
    assert!(g.mock.cancels().is_empty());

    // A server that asks a person before cancelling: refused too (never bypassed).
    g.add("gated", "tfcmcp_gated", json!({"approval": {"tools": ["hashicorp_terraform_cloud_runs_cancel"]}}));
    let answer = g.call("tfcmcp_gated", MODERN, json!({"run_id": "run-stuck"}), true).await;
    let id = answer["result"]["taskId"].as_str().unwrap_or_else(|| panic!("{answer}")).to_owned();
    let refused = g.task("tfcmcp_gated", MODERN, "tasks/cancel", &id).await;
    assert_eq!(error_code(&refused), -32600, "{refused}");
    assert!(g.mock.cancels().is_empty());

    // The default server (custom allowed): the run is canceled, and the task ends with the wait's answer.
    let answer = g.call("tfcmcp_good", MODERN, json!({"run_id": "run-stuck"}), true).await;
    let id = answer["result"]["taskId"].as_str().unwrap().to_owned();
    let ack = g.task("tfcmcp_good", MODERN, "tasks/cancel", &id).await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    assert_eq!(g.mock.cancels(), ["run-stuck"]);
    let done = g.task("tfcmcp_good", MODERN, "tasks/get", &id).await;
    assert_eq!(done["result"]["status"], "completed", "{done}");
    assert_eq!(done["result"]["result"]["structuredContent"]["status"], "canceled", "{done}");
    // Cancelling a finished task is acknowledged and sends nothing.
    let ack = g.task("tfcmcp_good", MODERN, "tasks/cancel", &id).await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    assert_eq!(g.mock.cancels().len(), 1);

    // A run that has not started (pending) is discarded instead.
    let answer = g.call("tfcmcp_good", MODERN, json!({"run_id": "run-pending"}), true).await;
    let id = answer["result"]["taskId"].as_str().unwrap_or_else(|| panic!("{answer}")).to_owned();
    let ack = g.task("tfcmcp_good", MODERN, "tasks/cancel", &id).await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    assert_eq!(g.mock.discards.lock().unwrap().clone(), ["run-pending"]);
    let done = g.task("tfcmcp_good", MODERN, "tasks/get", &id).await;
    assert_eq!(done["result"]["result"]["structuredContent"]["status"], "discarded", "{done}");
}

// ---- the surface --------------------------------------------------------------------------------

#[tokio::test]
async fn the_extension_is_advertised_and_clients_without_it_keep_the_plain_call() {
    let g = gateway().await;
    let discover = g.rpc("tfcmcp_good", MODERN, "server/discover", "", json!({}), false).await;
    assert!(discover["result"]["capabilities"]["extensions"][EXT].is_object(), "{discover}");
    assert!(discover["result"]["capabilities"].get("tasks").is_none(), "no 2025-11-25 `tasks` slot");
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let (_, headers, bytes) = g.send(post_request("/mcp/tfcmcp_good", init.to_string(), &[])).await;
    let init = last_message(&headers, &bytes);
    assert!(init["result"]["capabilities"]["extensions"][EXT].is_object(), "{init}");

    // Without the extension: the synchronous call, as before (a legacy `task` hint is ignored).
    let mut params = json!({"name": WAIT, "arguments": {"run_id": "run-3", "wait_for_statuses": ["planned"], "poll_interval_seconds": 1}});
    params["task"] = json!({"ttl": 60000});
    let answer = g.rpc("tfcmcp_good", MODERN, "tools/call", WAIT, params, false).await;
    assert_eq!(answer["result"]["resultType"], "complete", "{answer}");
    assert_eq!(answer["result"]["structuredContent"]["status"], "planned", "{answer}");
    // tasks/* without the extension: -32021 naming it.
    let answer = g.rpc("tfcmcp_good", MODERN, "tasks/get", "x", json!({"taskId": "x"}), false).await;
    assert_eq!(error_code(&answer), -32021, "{answer}");
    // Removed by SEP-2663: tasks/result and tasks/list.
    for method in ["tasks/result", "tasks/list"] {
        let answer = g.rpc("tfcmcp_good", MODERN, method, "x", json!({"taskId": "x"}), true).await;
        assert_eq!(error_code(&answer), -32601, "{method}: {answer}");
    }
    // Other tools never become tasks.
    let answer = g
        .rpc(
            "tfcmcp_good",
            MODERN,
            "tools/call",
            "get_single_hashicorp_terraform_cloud_run_by_id",
            json!({"name": "get_single_hashicorp_terraform_cloud_run_by_id", "arguments": {"run_id": "run-4"}}),
            true,
        )
        .await;
    assert_eq!(answer["result"]["resultType"], "complete", "{answer}");
}

#[tokio::test]
async fn discovery_call_tool_runs_the_wait_as_a_task_too() {
    let g = gateway().await;
    g.add("disc", "tfcmcp_disc", json!({"toolExposure": "Discovery"}));
    let params = json!({"name": "call_tool", "arguments": {"name": WAIT, "arguments": {"run_id": "run-9"}}});
    let answer = g.rpc("tfcmcp_disc", MODERN, "tools/call", "call_tool", params, true).await;
    assert_eq!(answer["result"]["resultType"], "task", "{answer}");
    let id = answer["result"]["taskId"].as_str().unwrap().to_owned();
    let mut status = String::new();
    for _ in 0..5 {
        let answer = g.task("tfcmcp_disc", MODERN, "tasks/get", &id).await;
        status = answer["result"]["status"].as_str().unwrap().to_owned();
        if status == "completed" {
            assert_eq!(answer["result"]["result"]["structuredContent"]["status"], "applied", "{answer}");
            break;
        }
    }
    assert_eq!(status, "completed");
    // Not readable through the plain server of the same organization: ids are bound to their server.
    assert_eq!(error_code(&g.task("tfcmcp_good", MODERN, "tasks/get", &id).await), -32602);
}

// ---- a session that declared the extension at initialize (legacy SSE) -----------------------

#[tokio::test]
async fn a_session_that_declared_the_extension_at_initialize_gets_tasks() {
    let g = gateway().await;
    let request =
        Request::get("/mcp/tfcmcp_good/sse").header("host", "localhost").header("accept", "text/event-stream").body(Body::empty()).unwrap();
    let response = g.router.clone().oneshot(request).await.unwrap();
    let mut events = Events::of(response.into_body());
    let (_, endpoint) = events.next().await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": LEGACY, "capabilities": {"extensions": {EXT: {}}}, "clientInfo": {"name": "t", "version": "1"}}});
    assert_eq!(g.send(post_request(&endpoint, init.to_string(), &[])).await.0, StatusCode::ACCEPTED);
    let init = events.message().await;
    assert!(init["result"]["capabilities"]["extensions"][EXT].is_object(), "{init}");
    g.send(post_request(&endpoint, json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(), &[])).await;

    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": WAIT, "arguments": {"run_id": "run-5"}}});
    g.send(post_request(&endpoint, call.to_string(), &[])).await;
    let created = events.message().await;
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    let id = created["result"]["taskId"].as_str().unwrap().to_owned();

    let get = json!({"jsonrpc": "2.0", "id": 3, "method": "tasks/get", "params": {"taskId": id}});
    g.send(post_request(&endpoint, get.to_string(), &[])).await;
    let polled = events.message().await;
    assert_eq!(polled["result"]["taskId"], id.as_str(), "{polled}");
    // The id is not tied to the session: a stateless request reads it as well.
    let answer = g.task("tfcmcp_good", MODERN, "tasks/get", &id).await;
    assert_eq!(answer["result"]["taskId"], id.as_str(), "{answer}");
}
