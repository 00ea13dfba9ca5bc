//! Human approval for destructive calls (`spec.approval`), driven in-process
//! through the axum Router against a mock HCP Terraform that counts what
//! reaches it: the 2026-07-28 input-required round trip (confirmed, declined,
//! tampered, replayed, expired, other route / tool / arguments), clients
//! that cannot be asked, elicitation over the legacy SSE transport, and the
//! Discovery meta tool.

mod support;

use support::harness::{Harness, MockedGateway, last_message, post_request};

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
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
use tfc_mcp_gateway::{approval::Approvals, http::HttpSettings, limits::Limits, mcp::Shared, metrics::Metrics, upstream::Upstream};
use tower::ServiceExt;

const APPLY: &str = "hashicorp_terraform_cloud_runs_apply";
const DISCARD: &str = "hashicorp_terraform_cloud_runs_discard";
const GET_RUN: &str = "get_single_hashicorp_terraform_cloud_run_by_id";
const KEY: &[u8] = b"approval-test-key-0123456789abcdef";
const MODERN: &str = "2026-07-28";

// ---- a mock HCP Terraform that counts calls ----------------------------------------

#[derive(Clone, Default)]
struct Mock {
    gets: Arc<AtomicUsize>,
    actions: Arc<AtomicUsize>,
}

async fn run(State(mock): State<Mock>, Path(id): Path<String>) -> Response {
    mock.gets.fetch_add(1, Ordering::SeqCst);
    let doc = json!({
        "data": {"id": id, "type": "runs", "attributes": {"status": "planned"},
                 "relationships": {"workspace": {"data": {"id": "ws-pay", "type": "workspaces"}}}},
        "included": [{"id": "ws-pay", "type": "workspaces", "attributes": {"name": "payment-gateway"},
                      "relationships": {"organization": {"data": {"id": "acme-corp", "type": "organizations"}}}}]
    });
    ([("content-type", "application/vnd.api+json")], doc.to_string()).into_response()
}

async fn action(State(mock): State<Mock>) -> StatusCode {
    mock.actions.fetch_add(1, Ordering::SeqCst);
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
                .route("/api/v2/runs/{id}/actions/{action}", post(action))
                .with_state(mock.clone());
            (support::serve_mock(app).await, mock)
        }
    };
    let shared = Shared::with_limits(Upstream::new("approval-test", Duration::from_secs(10)), Metrics::default(), Limits::default())
        .with_approvals(approvals);
    let g = Gateway { harness: Harness::new(upstream, shared, &HttpSettings::default()), mock };
    g.add("srv", "tfcmcp_good", json!({"approval": {"methods": ["custom"]}}));
    g
}

async fn gateway() -> Gateway {
    gateway_with(Approvals::from_keys(KEY, None).unwrap(), None).await
}

impl Gateway {
    fn actions(&self) -> usize {
        self.mock.actions.load(Ordering::SeqCst)
    }

    /// A 2026-07-28 `tools/call` (no session; version and capabilities in `_meta`).
    async fn modern_call(&self, token: &str, tool: &str, arguments: Value, elicitation: bool, retry: Option<(&str, Value)>) -> Value {
        let capabilities = if elicitation { json!({"elicitation": {}}) } else { json!({}) };
        let mut params = json!({
            "name": tool, "arguments": arguments,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": capabilities,
                "io.modelcontextprotocol/clientInfo": {"name": "approval-test", "version": "1"},
            }
        });
        if let Some((state, responses)) = retry {
            params["requestState"] = json!(state);
            params["inputResponses"] = responses;
        }
        let body = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": params});
        let request = post_request(
            &format!("/mcp/{token}"),
            body.to_string(),
            &[("mcp-protocol-version", MODERN), ("mcp-method", "tools/call"), ("mcp-name", tool)],
        );
        let (status, headers, bytes) = self.send(request).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
        last_message(&headers, &bytes)
    }

    /// A call on an older revision over stateless Streamable HTTP.
    async fn legacy_call(&self, tool: &str, arguments: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": tool, "arguments": arguments}});
        let request = post_request("/mcp/tfcmcp_good", body.to_string(), &[("mcp-protocol-version", "2025-11-25")]);
        let (status, headers, bytes) = self.send(request).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
        last_message(&headers, &bytes)
    }
}

fn confirm(yes: bool) -> Value {
    json!({"confirm": {"action": "accept", "content": {"confirm": yes}}})
}

fn error_kind(answer: &Value) -> &str {
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    answer["result"]["structuredContent"]["error"]["kind"].as_str().unwrap()
}

/// The first round: the input-required result; returns its request state.
async fn ask(g: &Gateway, token: &str, tool: &str, arguments: Value) -> String {
    let answer = g.modern_call(token, tool, arguments, true, None).await;
    let result = &answer["result"];
    assert_eq!(result["resultType"], "input_required", "{answer}");
    let request = &result["inputRequests"]["confirm"];
    assert_eq!(request["method"], "elicitation/create");
    assert_eq!(request["params"]["requestedSchema"]["properties"]["confirm"]["type"], "boolean");
    result["requestState"].as_str().unwrap().to_owned()
}

// ---- 2026-07-28 ------------------------------------------------------------------------------

#[tokio::test]
async fn a_confirmed_call_runs_once_and_only_after_the_confirmation() {
    let g = gateway().await;
    let answer = g.modern_call("tfcmcp_good", APPLY, json!({"run_id": "run-1"}), true, None).await;
    let message = answer["result"]["inputRequests"]["confirm"]["params"]["message"].as_str().unwrap();
    // In words: what, which run, which workspace of which organization.
    assert!(message.contains("apply a run") && message.contains("run-1"), "{message}");
    assert!(message.contains("in workspace payment-gateway of acme-corp"), "{message}");
    assert_eq!(g.actions(), 0, "asking runs nothing");
    let state = answer["result"]["requestState"].as_str().unwrap().to_owned();

    let done = g.modern_call("tfcmcp_good", APPLY, json!({"run_id": "run-1"}), true, Some((&state, confirm(true)))).await;
    assert_eq!(done["result"]["isError"], false, "{done}");
    assert_eq!(g.actions(), 1);

    // The same state again (a replay) is refused and runs nothing.
    let again = g.modern_call("tfcmcp_good", APPLY, json!({"run_id": "run-1"}), true, Some((&state, confirm(true)))).await;
    assert_eq!(error_kind(&again), "approval_state_invalid");
    assert_eq!(g.actions(), 1);
}

#[tokio::test]
async fn declined_or_unticked_confirmations_run_nothing() {
    let g = gateway().await;
    for answer in [
        json!({"confirm": {"action": "decline"}}),
        json!({"confirm": {"action": "cancel"}}),
        confirm(false),
        json!({"confirm": {"action": "accept", "content": {"confirm": "yes"}}}),
    ] {
        let state = ask(&g, "tfcmcp_good", APPLY, json!({"run_id": "run-1"})).await;
        let result = g.modern_call("tfcmcp_good", APPLY, json!({"run_id": "run-1"}), true, Some((&state, answer))).await;
        assert_eq!(error_kind(&result), "approval_declined");
    }
    // No answer at all: refused too.
    let state = ask(&g, "tfcmcp_good", APPLY, json!({"run_id": "run-1"})).await;
    let result = g.modern_call("tfcmcp_good", APPLY, json!({"run_id": "run-1"}), true, Some((&state, json!({})))).await;
    assert_eq!(error_kind(&result), "approval_state_invalid");
    assert_eq!(g.actions(), 0);
}

#[tokio::test]
async fn tampered_foreign_and_mismatched_states_are_refused() {
    let g = gateway().await;
    g.add("other", "tfcmcp_other", json!({"approval": {"methods": ["custom"]}}));
    let args = json!({"run_id": "run-1"});
    let state = ask(&g, "tfcmcp_good", APPLY, args.clone()).await;

    let mut tampered = state.clone().into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let cases = [
        ("tfcmcp_good", APPLY, args.clone(), tampered.as_str()),
        ("tfcmcp_good", APPLY, args.clone(), "not-a-state"),
        // Another server (route) with the same tool and arguments.
        ("tfcmcp_other", APPLY, args.clone(), state.as_str()),
        // Another tool.
        ("tfcmcp_good", DISCARD, args.clone(), state.as_str()),
        // Other arguments: another run, or one more argument.
        ("tfcmcp_good", APPLY, json!({"run_id": "run-2"}), state.as_str()),
        ("tfcmcp_good", APPLY, json!({"run_id": "run-1", "comment": "sneaky"}), state.as_str()),
    ];
    for (token, tool, arguments, state) in cases {
        let result = g.modern_call(token, tool, arguments.clone(), true, Some((state, confirm(true)))).await;
        assert_eq!(error_kind(&result), "approval_state_invalid", "{token} {tool} {arguments}");
    }
    assert_eq!(g.actions(), 0);
    // The genuine state still works for its own call.
    let done = g.modern_call("tfcmcp_good", APPLY, args, true, Some((&state, confirm(true)))).await;
    assert_eq!(done["result"]["isError"], false, "{done}");
    assert_eq!(g.actions(), 1);
}

#[tokio::test]
async fn expired_states_are_refused() {
    let g = gateway_with(Approvals::from_keys(KEY, None).unwrap().with_ttl(Duration::from_millis(50)), None).await;
    let state = ask(&g, "tfcmcp_good", APPLY, json!({"run_id": "run-1"})).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    let result = g.modern_call("tfcmcp_good", APPLY, json!({"run_id": "run-1"}), true, Some((&state, confirm(true)))).await;
    assert_eq!(error_kind(&result), "approval_state_invalid");
    assert_eq!(g.actions(), 0);
}

#[tokio::test]
async fn any_replica_with_the_shared_key_accepts_the_state_and_the_previous_key_too() {
    let a = gateway().await;
    let b = gateway_with(Approvals::from_keys(KEY, None).unwrap(), Some((a.upstream.clone(), a.mock.clone()))).await;
    let state = ask(&a, "tfcmcp_good", APPLY, json!({"run_id": "run-1"})).await;
    let done = b.modern_call("tfcmcp_good", APPLY, json!({"run_id": "run-1"}), true, Some((&state, confirm(true)))).await;
    assert_eq!(done["result"]["isError"], false, "{done}");
    assert_eq!(a.actions(), 1);

    // After a rotation (new current key, old one as previous) the old state still opens...
    let rotated = gateway_with(Approvals::from_keys(b"a-brand-new-approval-key-0123456789", Some(KEY)).unwrap(), None).await;
    let state = ask(&a, "tfcmcp_good", APPLY, json!({"run_id": "run-1"})).await;
    let done = rotated.modern_call("tfcmcp_good", APPLY, json!({"run_id": "run-1"}), true, Some((&state, confirm(true)))).await;
    assert_eq!(done["result"]["isError"], false, "{done}");
    // ...and a replica with another key refuses it.
    let stranger = gateway_with(Approvals::from_keys(b"a-completely-different-key-012345678", None).unwrap(), None).await;
    let state = ask(&a, "tfcmcp_good", APPLY, json!({"run_id": "run-1"})).await;
    let refused = stranger.modern_call("tfcmcp_good", APPLY, json!({"run_id": "run-1"}), true, Some((&state, confirm(true)))).await;
    assert_eq!(error_kind(&refused), "approval_state_invalid");
    assert_eq!(stranger.actions(), 0);
}

#[tokio::test]
async fn clients_that_cannot_be_asked_are_refused_and_nothing_reaches_upstream() {
    let g = gateway().await;
    // 2026-07-28 without the elicitation capability.
    let result = g.modern_call("tfcmcp_good", APPLY, json!({"run_id": "run-1"}), false, None).await;
    assert_eq!(error_kind(&result), "approval_required");
    let text = result["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("requires a person to confirm") && text.contains("Nothing was executed"), "{text}");
    // An older revision over stateless Streamable HTTP: no way to ask.
    let result = g.legacy_call(APPLY, json!({"run_id": "run-1"})).await;
    assert_eq!(error_kind(&result), "approval_required");
    assert_eq!(g.actions(), 0);
    assert_eq!(g.mock.gets.load(Ordering::SeqCst), 0, "not even the GET for the names");

    // Tools outside spec.approval run as before.
    let result = g.legacy_call(GET_RUN, json!({"run_id": "run-1"})).await;
    assert_eq!(result["result"]["isError"], false, "{result}");
    // A server without spec.approval runs destructive calls at once, as before.
    g.add("plain", "tfcmcp_plain", json!({}));
    let result = g.modern_call("tfcmcp_plain", APPLY, json!({"run_id": "run-1"}), false, None).await;
    assert_eq!(result["result"]["isError"], false, "{result}");
    assert_eq!(g.actions(), 1);
}

#[tokio::test]
async fn names_outside_the_organization_allow_list_are_not_shown() {
    let g = gateway().await;
    g.add("fenced", "tfcmcp_fenced", json!({"organizations": ["other-org"], "approval": {"tools": [APPLY]}}));
    let answer = g.modern_call("tfcmcp_fenced", APPLY, json!({"run_id": "run-1"}), true, None).await;
    let message = answer["result"]["inputRequests"]["confirm"]["params"]["message"].as_str().unwrap();
    assert!(message.contains("run-1") && !message.contains("payment-gateway") && !message.contains("acme-corp"), "{message}");
}

#[tokio::test]
async fn discovery_call_tool_asks_for_the_tool_it_runs() {
    let g = gateway().await;
    g.add("disc", "tfcmcp_disc", json!({"toolExposure": "Discovery", "approval": {"methods": ["custom"]}}));
    let args = json!({"name": APPLY, "arguments": {"run_id": "run-1"}});
    let state = ask(&g, "tfcmcp_disc", "call_tool", args.clone()).await;
    assert_eq!(g.actions(), 0);
    let done = g.modern_call("tfcmcp_disc", "call_tool", args, true, Some((&state, confirm(true)))).await;
    assert_eq!(done["result"]["isError"], false, "{done}");
    assert_eq!(g.actions(), 1);
}

// ---- legacy SSE: elicitation/create through the session ----------------------------------

async fn sse_session(g: &Gateway, capabilities: Value) -> (Events, String) {
    let request =
        Request::get("/mcp/tfcmcp_good/sse").header("host", "localhost").header("accept", "text/event-stream").body(Body::empty()).unwrap();
    let response = g.router.clone().oneshot(request).await.unwrap();
    let mut events = Events::of(response.into_body());
    let (_, endpoint) = events.next().await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": capabilities, "clientInfo": {"name": "t", "version": "1"}}});
    assert_eq!(g.send(post_request(&endpoint, init.to_string(), &[])).await.0, StatusCode::ACCEPTED);
    events.message().await;
    g.send(post_request(&endpoint, json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(), &[])).await;
    (events, endpoint)
}

#[tokio::test]
async fn legacy_sse_asks_through_elicitation() {
    let g = gateway().await;
    let (mut events, endpoint) = sse_session(&g, json!({"elicitation": {}})).await;
    for (answer, runs) in [(json!({"action": "accept", "content": {"confirm": true}}), true), (json!({"action": "decline"}), false)] {
        let call = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": APPLY, "arguments": {"run_id": "run-1"}}});
        let before = g.actions();
        assert_eq!(g.send(post_request(&endpoint, call.to_string(), &[])).await.0, StatusCode::ACCEPTED);
        let ask = events.message().await;
        assert_eq!(ask["method"], "elicitation/create", "{ask}");
        assert!(ask["params"]["message"].as_str().unwrap().contains("payment-gateway"), "{ask}");
        assert_eq!(g.actions(), before, "nothing runs before the answer");
        let reply = json!({"jsonrpc": "2.0", "id": ask["id"], "result": answer});
        assert_eq!(g.send(post_request(&endpoint, reply.to_string(), &[])).await.0, StatusCode::ACCEPTED);
        let result = events.message().await;
        assert_eq!(result["id"], 5);
        if runs {
            assert_eq!(result["result"]["isError"], false, "{result}");
            assert_eq!(g.actions(), before + 1);
        } else {
            assert_eq!(error_kind(&result), "approval_declined");
            assert_eq!(g.actions(), before);
        }
    }
}

#[tokio::test]
async fn legacy_sse_without_elicitation_is_refused() {
    let g = gateway().await;
    let (mut events, endpoint) = sse_session(&g, json!({})).await;
    let call = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": APPLY, "arguments": {"run_id": "run-1"}}});
    g.send(post_request(&endpoint, call.to_string(), &[])).await;
    let result = events.message().await;
    assert_eq!(error_kind(&result), "approval_required");
    assert_eq!(g.actions(), 0);
}
