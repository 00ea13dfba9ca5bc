//! Hostile tenants at the edge, driven in-process through the axum Router
//! (and, for connection timeouts, over real sockets): slow bodies, caps per
//! server and namespace, the byte budget, oversized discovery queries,
//! non-reading SSE clients, calls cancelled by route revocation, failed API
//! tokens and the rate limit, echoed names, route-watch readiness, newer
//! route formats and duplicated token hashes.

mod support;

use support::{
    harness::{ACCEPT_BOTH, Harness, MockedGateway, post_request},
    route_secret,
};

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Path, State},
    http::{Request, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use serde_json::{Value, json};
use tfc_mcp_gateway::{
    http::{HttpSettings, admin_router},
    limits::Limits,
    mcp::Shared,
    metrics::Metrics,
    route::sha256_hex,
    routes::RouteTable,
    serve::{ConnectionSettings, LINGER, LINGER_BYTES, serve},
    sse::SseSettings,
    upstream::Upstream,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

const LIST_WS: &str = "list_all_hashicorp_terraform_cloud_workspaces";
const RUN_WAIT: &str = "hashicorp_terraform_cloud_runs_wait";

// ---- a mock HCP Terraform ------------------------------------------------------

#[derive(Clone, Default)]
struct Mock {
    run_polls: Arc<AtomicUsize>,
}

async fn workspaces(Path(org): Path<String>) -> Response {
    match org.as_str() {
        "slow" => tokio::time::sleep(Duration::from_secs(3)).await,
        "huge" => {
            // 512 KiB of workspaces: more than a small byte budget.
            let data: Vec<Value> = (0..2048)
                .map(|i| json!({"id": format!("ws-{i}"), "type": "workspaces", "attributes": {"name": "x".repeat(200)}}))
                .collect();
            let doc = json!({"data": data, "meta": {"pagination": {"current-page": 1, "total-pages": 1}}});
            return ([("content-type", "application/vnd.api+json")], doc.to_string()).into_response();
        }
        _ => {}
    }
    let doc = json!({
        "data": [{"id": "ws-1", "type": "workspaces", "attributes": {"name": "alpha"}}],
        "meta": {"pagination": {"current-page": 1, "page-size": 20, "total-count": 1, "total-pages": 1, "next-page": null}}
    });
    ([("content-type", "application/vnd.api+json")], doc.to_string()).into_response()
}

/// A run that never finishes: `runs_wait` polls it until stopped.
async fn run(State(mock): State<Mock>, Path(id): Path<String>) -> Response {
    mock.run_polls.fetch_add(1, Ordering::SeqCst);
    let doc = json!({"data": {"id": id, "type": "runs", "attributes": {"status": "planning", "actions": {"is-confirmable": false}}}});
    ([("content-type", "application/vnd.api+json")], doc.to_string()).into_response()
}

async fn start_mock() -> (String, Mock) {
    let mock = Mock::default();
    let app = Router::new()
        .route("/api/v2/organizations/{org}/workspaces", get(workspaces))
        .route("/api/v2/runs/{id}", get(run))
        .with_state(mock.clone());
    (support::serve_mock(app).await, mock)
}

// ---- the gateway under test ------------------------------------------------------

type Gateway = MockedGateway<Mock>;

fn created(mut secret: Secret, rfc3339: &str) -> Secret {
    secret.metadata.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(rfc3339.parse().unwrap()));
    secret
}

async fn gateway(limits: Limits, settings: HttpSettings) -> Gateway {
    let (upstream, mock) = start_mock().await;
    let shared = Shared::with_limits(Upstream::new("edge-test", Duration::from_secs(10)), Metrics::default(), limits);
    let g = Gateway { harness: Harness::new(upstream, shared, &settings), mock };
    g.add("srv", "tfcmcp_good", json!({}));
    g
}

impl Gateway {
    async fn call(&self, token: &str, tool: &str, arguments: Value) -> Value {
        let (status, _, bytes) = self.post(token, call_body(tool, arguments), &[]).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
        serde_json::from_slice(&bytes).unwrap()
    }
}

fn call_body(tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
}

fn list_tools() -> Value {
    json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
}

/// A body that sends `first` and then never ends (a slowloris client).
fn endless_body(first: &'static str) -> Body {
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from_static(first.as_bytes())) })
        .chain(futures::stream::pending());
    Body::from_stream(stream)
}

// ---- bodies, slots and caps --------------------------------------------------------

#[tokio::test]
async fn a_slow_body_holds_no_slot_and_times_out() {
    let limits = Limits { max_inflight: 1, body_read_timeout: Duration::from_millis(700), ..Limits::default() };
    let g = Arc::new(gateway(limits, HttpSettings::default()).await);
    let slow = {
        let g = g.clone();
        tokio::spawn(async move { g.send(post_request("/mcp/tfcmcp_good", endless_body("{\"jsonrpc\":"), &[])).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The only in-flight slot is free while the slow body trickles in.
    let (status, _, _) = g.post("tfcmcp_good", list_tools(), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let started = Instant::now();
    let (status, _, body) = slow.await.unwrap();
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{}", String::from_utf8_lossy(&body));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(g.shared.inflight.in_use(), 0);
}

#[tokio::test]
async fn one_server_at_its_cap_leaves_other_servers_and_namespaces_answering() {
    let limits = Limits { max_inflight_per_server: 2, max_inflight_per_namespace: 3, ..Limits::default() };
    let g = Arc::new(gateway(limits, HttpSettings::default()).await);
    g.add("neighbour", "tfcmcp_neighbour", json!({}));
    g.add("elsewhere", "tfcmcp_elsewhere", json!({"server": "other-ns/elsewhere"}));
    let mut slow = Vec::new();
    for _ in 0..2 {
        let g = g.clone();
        slow.push(tokio::spawn(async move { g.call("tfcmcp_good", LIST_WS, json!({"organization_name": "slow"})).await }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, headers, body) = g.post("tfcmcp_good", list_tools(), &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["retry-after"], "1");
    assert!(String::from_utf8_lossy(&body).contains("this server has too many requests in flight"));
    // Same namespace, another server: one more slot in the namespace...
    let neighbour = {
        let g = g.clone();
        tokio::spawn(async move { g.call("tfcmcp_neighbour", LIST_WS, json!({"organization_name": "slow"})).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ...and then the namespace is full.
    let (status, _, body) = g.post("tfcmcp_neighbour", list_tools(), &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(String::from_utf8_lossy(&body).contains("this namespace"));
    // Another namespace answers at once.
    let started = Instant::now();
    let answer = g.call("tfcmcp_elsewhere", LIST_WS, json!({"organization_name": "acme"})).await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert!(started.elapsed() < Duration::from_secs(1));
    for call in slow {
        assert_eq!(call.await.unwrap()["result"]["isError"], false);
    }
    neighbour.await.unwrap();
    assert_eq!(g.shared.tenants.in_use("ns/srv"), 0);
    assert_eq!(g.post("tfcmcp_good", list_tools(), &[]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_byte_budget_refuses_bodies_and_upstream_answers_beyond_it() {
    let limits = Limits { memory_budget_bytes: 64 * 1024, budget_wait: Duration::from_millis(200), ..Limits::default() };
    let g = Arc::new(gateway(limits, HttpSettings::default()).await);
    // A declared body larger than the whole budget: refused before a byte is read.
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"pad": "x".repeat(100 * 1024)}}).to_string();
    let (status, headers, _) = g.send(post_request("/mcp/tfcmcp_good", big.clone(), &[("content-length", &big.len().to_string())])).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.contains_key("retry-after"));
    // Streamed without a length: refused as it grows past the budget.
    let chunks = big.as_bytes().chunks(8 * 1024).map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c))).collect::<Vec<_>>();
    let (status, _, _) = g.send(post_request("/mcp/tfcmcp_good", Body::from_stream(futures::stream::iter(chunks)), &[])).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // An upstream answer too large for the budget is a clear tool error.
    let answer = g.call("tfcmcp_good", LIST_WS, json!({"organization_name": "huge"})).await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    let text = answer["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("too much data"), "{text}");
    // Everything is given back; normal calls go on.
    assert_eq!(g.shared.budget.in_use_kib(), 0);
    let answer = g.call("tfcmcp_good", LIST_WS, json!({"organization_name": "acme"})).await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    assert_eq!(g.shared.budget.in_use_kib(), 0);
}

#[tokio::test]
async fn one_namespace_cannot_spend_the_whole_byte_budget_with_slow_bodies() {
    // 4 MiB budget: one namespace may hold 1 MiB of it.
    let limits = Limits {
        memory_budget_bytes: 4 * 1024 * 1024,
        budget_wait: Duration::from_millis(200),
        body_read_timeout: Duration::from_secs(3),
        ..Limits::default()
    };
    let g = Arc::new(gateway(limits, HttpSettings::default()).await);
    g.add("elsewhere", "tfcmcp_elsewhere", json!({"server": "other-ns/elsewhere"}));
    let declared = (400 * 1024).to_string();
    // Two slow 400 KiB bodies fit in the namespace's share and are held...
    let mut slow = Vec::new();
    for _ in 0..2 {
        let (g, declared) = (g.clone(), declared.clone());
        slow.push(tokio::spawn(async move {
            g.send(post_request("/mcp/tfcmcp_good", endless_body("{\"jsonrpc\":"), &[("content-length", &declared)])).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ...a third would pass its share: refused at once, not after a wait.
    let started = Instant::now();
    let (status, _, _) = g.send(post_request("/mcp/tfcmcp_good", endless_body("{"), &[("content-length", &declared)])).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_millis(150), "{:?}", started.elapsed());
    // Another namespace still has the rest of the budget.
    let answer = g.call("tfcmcp_elsewhere", LIST_WS, json!({"organization_name": "acme"})).await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    for body in slow {
        assert_eq!(body.await.unwrap().0, StatusCode::REQUEST_TIMEOUT);
    }
    assert_eq!(g.shared.budget.in_use_kib(), 0);
}

#[tokio::test]
async fn a_body_counts_for_its_parsed_form_for_the_whole_call() {
    // 8 MiB budget, 2 MiB per namespace: a 400 KiB message counts 3.2 MiB once parsed.
    let limits = Limits { memory_budget_bytes: 8 * 1024 * 1024, budget_wait: Duration::from_millis(100), ..Limits::default() };
    let g = gateway(limits, HttpSettings::default()).await;
    let padded = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                        "params": {"name": RUN_WAIT, "arguments": {"run_id": "run-1"}, "_meta": {"pad": vec![0; 200 * 1024]}}});
    let (status, _, _) = g.post("tfcmcp_good", padded, &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(g.shared.budget.in_use_kib(), 0);
    assert_eq!(g.post("tfcmcp_good", list_tools(), &[]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_one_mib_search_query_is_a_clear_error_at_once() {
    let limits = Limits { max_body_bytes: 4 * 1024 * 1024, ..Limits::default() };
    let g = gateway(limits, HttpSettings::default()).await;
    g.add("disc", "tfcmcp_disc", json!({"toolExposure": "Discovery"}));
    let started = Instant::now();
    let answer = g.call("tfcmcp_disc", "search_tools", json!({"query": "run ".repeat(256 * 1024)})).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(answer["result"]["isError"], true);
    let text = answer["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("longer than 256 characters"), "{text}");
    assert!(text.len() < 200);
    let answer = g.call("tfcmcp_disc", "search_tools", json!({"query": "a b c d e f g h i j k l m n o p q r"})).await;
    assert!(answer["result"]["content"][0]["text"].as_str().unwrap().contains("more than 16 words"));
    let answer = g.call("tfcmcp_disc", "search_tools", json!({"query": "list workspaces"})).await;
    assert_eq!(answer["result"]["isError"], false);
}

// ---- revocation cancels calls ---------------------------------------------------------

async fn start_wait(g: &Arc<Gateway>, token: &'static str) -> tokio::task::JoinHandle<(Value, Duration)> {
    let g = g.clone();
    let task = tokio::spawn(async move {
        let answer = g.call(token, RUN_WAIT, json!({"run_id": "run-forever", "poll_interval_seconds": 1, "timeout_seconds": 600})).await;
        (answer, Duration::ZERO)
    });
    // Let it poll a couple of times.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    task
}

async fn assert_cancelled_and_quiet(g: &Gateway, task: tokio::task::JoinHandle<(Value, Duration)>) {
    let started = Instant::now();
    let (answer, _) = tokio::time::timeout(Duration::from_secs(3), task).await.expect("the call ends soon after revocation").unwrap();
    assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
    assert_eq!(answer["result"]["structuredContent"]["error"]["kind"], "revoked", "{answer}");
    let polls = g.mock.run_polls.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(g.mock.run_polls.load(Ordering::SeqCst), polls, "no upstream call after the revocation");
}

#[tokio::test]
async fn deleting_a_route_cancels_its_runs_wait() {
    let g = Arc::new(gateway(Limits::default(), HttpSettings::default()).await);
    let task = start_wait(&g, "tfcmcp_good").await;
    assert!(g.mock.run_polls.load(Ordering::SeqCst) >= 1);
    g.routes.delete("srv");
    assert_cancelled_and_quiet(&g, task).await;
}

#[tokio::test]
async fn rotating_a_route_cancels_its_calls_but_an_unrelated_update_does_not() {
    let g = Arc::new(gateway(Limits::default(), HttpSettings::default()).await);
    let task = start_wait(&g, "tfcmcp_good").await;
    // Same token, another display name: the call goes on.
    g.add("srv", "tfcmcp_good", json!({"displayName": "renamed"}));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!task.is_finished());
    // The token is rotated: the call stops.
    g.add("srv", "tfcmcp_rotated", json!({}));
    assert_cancelled_and_quiet(&g, task).await;
}

#[tokio::test]
async fn narrowing_a_route_cancels_the_calls_running_under_its_wider_grant() {
    let g = Arc::new(gateway(Limits::default(), HttpSettings::default()).await);
    let task = start_wait(&g, "tfcmcp_good").await;
    // Same URL and upstream token, but the server may no longer observe runs.
    g.add("srv", "tfcmcp_good", json!({"methods": ["list", "get"]}));
    assert_cancelled_and_quiet(&g, task).await;
}

#[tokio::test]
async fn a_route_expiring_mid_call_cancels_it() {
    let g = Arc::new(gateway(Limits::default(), HttpSettings::default()).await);
    let expires = chrono::Utc::now() + chrono::Duration::milliseconds(2500);
    g.add("short", "tfcmcp_short", json!({"expiresAt": expires.to_rfc3339()}));
    let task = start_wait(&g, "tfcmcp_short").await;
    let (answer, _) = tokio::time::timeout(Duration::from_secs(3), task).await.expect("ends at expiry").unwrap();
    assert!(chrono::Utc::now() < expires + chrono::Duration::seconds(1));
    assert_eq!(answer["result"]["structuredContent"]["error"]["kind"], "revoked", "{answer}");
}

// ---- API tokens and echoed names --------------------------------------------------------

#[tokio::test]
async fn failed_api_tokens_count_against_the_rate_limit() {
    let limits = Limits { rate_per_second: 0.1, rate_burst: 3.0, ..Limits::default() };
    let g = gateway(limits, HttpSettings::default()).await;
    g.add("locked", "tfcmcp_locked", json!({"requireApiToken": true, "apiTokenSha256": [sha256_hex("right")]}));
    for _ in 0..3 {
        let (status, _, _) = g.post("tfcmcp_locked", list_tools(), &[("authorization", "Bearer guess")]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Guessing spent the server's budget: more guesses (and the right token) now wait.
    let (status, headers, _) = g.post("tfcmcp_locked", list_tools(), &[("authorization", "Bearer guess")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    let (status, _, _) = g.post("tfcmcp_locked", list_tools(), &[("authorization", "Bearer right")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn names_echoed_in_errors_are_truncated() {
    let g = gateway(Limits::default(), HttpSettings::default()).await;
    let long = "n".repeat(10_000);
    let (_, _, bytes) = g.post("tfcmcp_good", call_body(&long, json!({})), &[]).await;
    let answer: Value = serde_json::from_slice(&bytes).unwrap();
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Unknown tool: nnn") && message.ends_with('…'), "{message}");
    assert!(message.len() < 120, "{}", message.len());

    let mut arguments = serde_json::Map::new();
    arguments.insert("organization_name".into(), json!("acme"));
    arguments.insert(long.clone(), json!(1));
    let answer = g.call("tfcmcp_good", LIST_WS, Value::Object(arguments)).await;
    let text = answer["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("unknown argument") && text.contains('…'), "{text}");
    assert!(!text.contains(&"n".repeat(65)));

    g.add("disc", "tfcmcp_disc", json!({"toolExposure": "Discovery"}));
    let answer = g.call("tfcmcp_disc", "get_tool_schema", json!({"name": long})).await;
    let text = answer["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.len() < 120, "{text}");
}

// ---- legacy SSE: a client that does not read ------------------------------------------------

#[tokio::test]
async fn one_namespace_with_many_servers_cannot_take_every_sse_session() {
    let settings = HttpSettings {
        sse: SseSettings { max_sessions: 10, max_sessions_per_server: 2, max_sessions_per_namespace: 3, ..SseSettings::default() },
        ..HttpSettings::default()
    };
    let g = gateway(Limits::default(), settings).await;
    g.add("second", "tfcmcp_second", json!({}));
    g.add("elsewhere", "tfcmcp_elsewhere", json!({"server": "other-ns/elsewhere"}));
    let open = |token: &str| {
        let request = Request::get(format!("/mcp/{token}/sse")).header("host", "localhost").body(Body::empty()).unwrap();
        g.router.clone().oneshot(request)
    };
    let mut held = Vec::new();
    for token in ["tfcmcp_good", "tfcmcp_good", "tfcmcp_second"] {
        let response = open(token).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{token}");
        held.push(response);
    }
    // The namespace has its 3 sessions, though "second" has used only one of its own 2.
    assert_eq!(open("tfcmcp_second").await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    // Another namespace opens sessions as usual.
    assert_eq!(open("tfcmcp_elsewhere").await.unwrap().status(), StatusCode::OK);
    drop(held);
}

#[tokio::test]
async fn an_sse_session_whose_client_does_not_read_is_closed() {
    let settings = HttpSettings {
        sse: SseSettings { queue: 2, stall_timeout: Duration::from_millis(600), ..SseSettings::default() },
        ..HttpSettings::default()
    };
    let g = gateway(Limits::default(), settings).await;
    let response = g.router.clone().oneshot(Request::get("/mcp/tfcmcp_good/sse").header("host", "localhost").body(Body::empty()).unwrap());
    let response = response.await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Read only the endpoint event, then never read again (the body is kept, not polled).
    let mut body = response.into_body().into_data_stream();
    let first = String::from_utf8_lossy(&body.next().await.unwrap().unwrap()).to_string();
    let endpoint = first.lines().find_map(|l| l.strip_prefix("data:")).unwrap().trim().to_owned();
    assert!(g.shared.metrics.render().contains("tfcmcp_gateway_sse_sessions 1"));

    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                      "params": {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    assert_eq!(g.send(post_request(&endpoint, init.to_string(), &[])).await.0, StatusCode::ACCEPTED);
    let mut last = StatusCode::ACCEPTED;
    let started = Instant::now();
    // Keep asking for answers the client never reads: the session is closed, not kept forever.
    while started.elapsed() < Duration::from_secs(5) {
        let request = json!({"jsonrpc": "2.0", "id": 100, "method": "tools/list"});
        last = g.send(post_request(&endpoint, request.to_string(), &[])).await.0;
        if last == StatusCode::NOT_FOUND {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(last, StatusCode::NOT_FOUND, "the session of a client that does not read is closed");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(g.shared.metrics.render().contains("tfcmcp_gateway_sse_sessions 0"));
    drop(body);
}

#[tokio::test]
async fn an_sse_session_that_does_not_read_still_ends_when_its_route_is_deleted() {
    let settings = HttpSettings {
        sse: SseSettings { queue: 1, stall_timeout: Duration::from_secs(3600), ..SseSettings::default() },
        ..HttpSettings::default()
    };
    let g = gateway(Limits::default(), settings).await;
    let response = g.router.clone().oneshot(Request::get("/mcp/tfcmcp_good/sse").header("host", "localhost").body(Body::empty()).unwrap());
    let mut body = response.await.unwrap().into_body().into_data_stream();
    let first = String::from_utf8_lossy(&body.next().await.unwrap().unwrap()).to_string();
    let endpoint = first.lines().find_map(|l| l.strip_prefix("data:")).unwrap().trim().to_owned();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                      "params": {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    g.send(post_request(&endpoint, init.to_string(), &[])).await;
    for _ in 0..4 {
        g.send(post_request(&endpoint, list_tools().to_string(), &[])).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    g.routes.delete("srv");
    let started = Instant::now();
    while g.shared.metrics.render().contains("tfcmcp_gateway_sse_sessions 1") && started.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(g.shared.metrics.render().contains("tfcmcp_gateway_sse_sessions 0"), "closed within the route check interval");
    drop(body);
}

// ---- connections ------------------------------------------------------------------------------

async fn listening(g: &Gateway, settings: ConnectionSettings) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener, g.router.clone(), settings, g.shutdown.draining.clone()));
    (addr, server)
}

/// Reads until the peer closes; the time it took.
async fn closed_after(stream: &mut tokio::net::TcpStream) -> Duration {
    let started = Instant::now();
    let mut buf = vec![0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await.expect("closed within 10 s") {
            Ok(0) | Err(_) => return started.elapsed(),
            Ok(_) => {}
        }
    }
}

/// The head of a raw MCP POST whose body is `length` bytes.
fn post_head(length: u64) -> String {
    format!(
        "POST /mcp/tfcmcp_good HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: {ACCEPT_BOTH}\r\nContent-Length: {length}\r\n\r\n"
    )
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed_and_draining_ends_serving() {
    let g = gateway(Limits::default(), HttpSettings::default()).await;
    let settings = ConnectionSettings {
        header_read_timeout: Duration::from_millis(500),
        idle_timeout: Duration::from_millis(800),
        write_stall_timeout: Duration::from_secs(5),
    };
    let (addr, server) = listening(&g, settings).await;

    // Headers that never end.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /mcp/tfcmcp_good HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    let took = closed_after(&mut slow).await;
    assert!(took < Duration::from_secs(2), "{took:?}");

    // A connection that says nothing at all.
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let took = closed_after(&mut silent).await;
    assert!(took < Duration::from_secs(2), "{took:?}");

    // A kept-alive connection after one answer.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = list_tools().to_string();
    let request = format!("{}{body}", post_head(body.len() as u64));
    idle.write_all(request.as_bytes()).await.unwrap();
    let took = closed_after(&mut idle).await;
    assert!(took < Duration::from_secs(3), "{took:?}");

    // A real client still works; draining ends the server.
    let client = reqwest::Client::new();
    let answer = client
        .post(format!("http://{addr}/mcp/tfcmcp_good"))
        .header("accept", ACCEPT_BOTH)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    g.shutdown.draining.cancel();
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("serving ends once drained").unwrap();
}

#[tokio::test]
async fn a_long_call_is_not_an_idle_connection() {
    let g = gateway(Limits::default(), HttpSettings::default()).await;
    let settings = ConnectionSettings { idle_timeout: Duration::from_millis(500), ..ConnectionSettings::default() };
    let (addr, _server) = listening(&g, settings).await;
    let answer = reqwest::Client::new()
        .post(format!("http://{addr}/mcp/tfcmcp_good"))
        .header("accept", ACCEPT_BOTH)
        .json(&call_body(LIST_WS, json!({"organization_name": "slow"})))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["result"]["isError"], false, "{answer}");
}

/// A client sending a body over the limit reads the 413 rather than a reset:
/// the connection reads and drops what is still coming before it closes
/// (a socket closed with unread data sends RST, and the client's write fails).
#[tokio::test]
async fn a_body_over_the_limit_is_answered_413_not_reset() {
    let limits = Limits { max_body_bytes: 1024, ..Limits::default() };
    let g = gateway(limits, HttpSettings::default()).await;
    let (addr, _server) = listening(&g, ConnectionSettings::default()).await;
    for _ in 0..3 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let body = vec![b' '; 3 * 1024 * 1024];
        stream.write_all(post_head(body.len() as u64).as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        stream.write_all(&body).await.expect("the whole body is taken, not reset");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.expect("the answer is readable");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    }
}

/// Lingering is bounded: a client that keeps sending after the answer is cut
/// off after a few MiB, and one that sends nothing and never closes holds its
/// connection (and draining) for [`LINGER`] only.
#[tokio::test]
async fn lingering_after_an_answer_is_bounded() {
    let limits = Limits { max_body_bytes: 1024, ..Limits::default() };
    let g = gateway(limits, HttpSettings::default()).await;
    let (addr, server) = listening(&g, ConnectionSettings::default()).await;
    // Keeps sending a body declared at 2^62 bytes: cut off near LINGER_BYTES
    // (plus socket buffers), not after seconds of loopback speed.
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write.write_all(post_head(1 << 62).as_bytes()).await.unwrap();
    let writer = tokio::spawn(async move {
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0usize;
        while write.write_all(&chunk).await.is_ok() && sent < 1 << 30 {
            sent += chunk.len();
        }
        sent
    });
    let mut answer = Vec::new();
    let _ = read.read_to_end(&mut answer).await;
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 413"));
    let sent = tokio::time::timeout(Duration::from_secs(15), writer).await.expect("cut off").unwrap();
    // Measured: about 8 MiB with the 4 MiB cap; 1 GiB (this loop's own end) without it.
    assert!(LINGER_BYTES <= 4 << 20 && sent < 64 << 20, "sent {sent} bytes before being cut off");

    // Reads its 413 and then neither sends nor closes: draining still ends
    // within LINGER, not the idle timeout.
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    silent.write_all(post_head(1 << 20).as_bytes()).await.unwrap();
    let mut answer = [0u8; 12];
    silent.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 413");
    let started = Instant::now();
    g.shutdown.draining.cancel();
    tokio::time::timeout(LINGER * 3, server).await.expect("draining ends after the linger").unwrap();
    assert!(started.elapsed() < LINGER * 3);
    drop(silent);
}

// ---- route table: readiness, versions, duplicates ----------------------------------------------

#[tokio::test]
async fn readiness_fails_when_the_route_watch_has_been_failing_and_the_age_is_a_metric() {
    let limits = Limits { route_sync_stale_after: Duration::from_millis(300), ..Limits::default() };
    let g = gateway(limits, HttpSettings::default()).await;
    let (_synced_tx, synced_rx) = tokio::sync::watch::channel(true);
    let admin = admin_router(g.shared.clone(), g.routes.clone(), synced_rx, g.shutdown.draining.clone());
    let get = |admin: Router, path: &'static str| async move {
        let response = admin.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        (status, String::from_utf8_lossy(&axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap()).to_string())
    };
    let health = g.routes.health();
    health.watch_ok(tokio::time::Instant::now());
    assert_eq!(get(admin.clone(), "/readyz").await.0, StatusCode::OK);
    health.watch_failed(tokio::time::Instant::now());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, text) = get(admin.clone(), "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(text.contains("route watch failing"), "{text}");
    // A probe right after an error does not count: the watch may still be failing.
    health.probe_ok(tokio::time::Instant::now());
    assert_eq!(get(admin.clone(), "/readyz").await.0, StatusCode::SERVICE_UNAVAILABLE);
    let (_, metrics) = get(admin.clone(), "/metrics").await;
    let age: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("tfcmcp_gateway_route_sync_age_seconds "))
        .expect("route sync age metric")
        .parse()
        .unwrap();
    assert!(age >= 0.5, "{age}");
    health.watch_ok(tokio::time::Instant::now());
    assert_eq!(get(admin, "/readyz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_route_document_of_a_newer_format_is_not_served() {
    let g = gateway(Limits::default(), HttpSettings::default()).await;
    let newer = tfc_mcp_gateway::route::ROUTE_FORMAT_VERSION + 1;
    g.add("future", "tfcmcp_future", json!({"version": newer}));
    assert_eq!(g.post("tfcmcp_future", list_tools(), &[]).await.0, StatusCode::NOT_FOUND);
    // An existing route upgraded to a newer format stops being served (fail closed).
    g.add("srv", "tfcmcp_good", json!({"version": newer}));
    assert_eq!(g.post("tfcmcp_good", list_tools(), &[]).await.0, StatusCode::NOT_FOUND);
    g.routes.replace_all(&[route_secret("srv", "tfcmcp_good", &g.upstream, json!({"version": newer}))]);
    assert!(g.routes.is_empty());
}

#[tokio::test]
async fn a_second_secret_with_a_served_token_hash_is_refused() {
    let g = gateway(Limits::default(), HttpSettings::default()).await;
    let victim = || created(route_secret("victim", "tfcmcp_victim", &g.upstream, json!({})), "2026-01-01T00:00:00Z");
    let thief = || {
        created(
            route_secret(
                "thief",
                "tfcmcp_victim",
                &g.upstream,
                json!({"server": "evil/thief", "methods": ["list", "get", "create", "update", "delete", "custom"]}),
            ),
            "2026-02-01T00:00:00Z",
        )
    };
    let served = |g: &Gateway| g.routes.lookup("tfcmcp_victim").map(|r| r.route.server.clone());

    g.routes.apply(&victim());
    g.routes.apply(&thief());
    assert_eq!(served(&g).as_deref(), Some("ns/victim"));
    // A relist in any order gives the same answer.
    g.routes.replace_all(&[thief(), victim(), route_secret("srv", "tfcmcp_good", &g.upstream, json!({}))]);
    assert_eq!(served(&g).as_deref(), Some("ns/victim"));
    g.routes.replace_all(&[victim(), thief()]);
    assert_eq!(served(&g).as_deref(), Some("ns/victim"));
    // An update of the refused Secret changes nothing.
    g.routes.apply(&thief());
    assert_eq!(served(&g).as_deref(), Some("ns/victim"));
    // The victim rotates its own token: its new token is served, the old one is not handed to the thief.
    g.routes.apply(&created(route_secret("victim", "tfcmcp_victim2", &g.upstream, json!({})), "2026-01-01T00:00:00Z"));
    assert_eq!(g.routes.lookup("tfcmcp_victim2").map(|r| r.route.server.clone()).as_deref(), Some("ns/victim"));
    // With the victim's old token free, the one Secret claiming it is served, as a relist would.
    assert_eq!(served(&g).as_deref(), Some("evil/thief"));
    let relisted = RouteTable::default();
    relisted.replace_all(&[thief(), created(route_secret("victim", "tfcmcp_victim2", &g.upstream, json!({})), "2026-01-01T00:00:00Z")]);
    assert_eq!(relisted.lookup("tfcmcp_victim").map(|r| r.route.server.clone()).as_deref(), Some("evil/thief"));
}
