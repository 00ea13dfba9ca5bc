//! The public edge, driven in-process through the axum Router: Streamable
//! HTTP conformance details, the legacy SSE transport, token refusal without
//! an oracle, API tokens, Host/Origin, rate/body/in-flight limits, timeouts,
//! Discovery mode, progress notifications, upstream rate-limit headers,
//! metrics and draining. The upstream is a tiny local mock of HCP Terraform.

mod support;

use support::harness::{ACCEPT_BOTH, Harness, MockedGateway, messages, post_request};

use std::{
    future::IntoFuture,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Path, State},
    http::{HeaderMap, Request, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use futures::StreamExt;
use serde_json::{Value, json};
use tfc_mcp_gateway::{
    http::{HttpSettings, admin_router},
    limits::Limits,
    mcp::Shared,
    metrics::Metrics,
    route::sha256_hex,
    sse::SseSettings,
    upstream::Upstream,
};
use tower::ServiceExt;

const LIST_WS: &str = "list_all_hashicorp_terraform_cloud_workspaces";
const RUN_WAIT: &str = "hashicorp_terraform_cloud_runs_wait";
const CREATE_RUN: &str = "create_a_hashicorp_terraform_cloud_run";

// ---- a mock HCP Terraform ------------------------------------------------------

#[derive(Clone, Default)]
struct Mock {
    run_polls: Arc<AtomicUsize>,
}

async fn workspaces(Path(org): Path<String>) -> Response {
    match org.as_str() {
        "slow" => tokio::time::sleep(Duration::from_secs(3)).await,
        "limited" => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    ("x-ratelimit-limit", "30"),
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "0.7"),
                    ("content-type", "application/vnd.api+json"),
                ],
                json!({"errors": [{"status": "429", "title": "Too many requests"}]}).to_string(),
            )
                .into_response();
        }
        _ => {}
    }
    let doc = json!({
        "data": [{"id": "ws-1", "type": "workspaces", "attributes": {"name": "alpha", "locked": false}}],
        "meta": {"pagination": {"current-page": 1, "page-size": 20, "total-count": 1, "total-pages": 1, "next-page": null}}
    });
    ([("content-type", "application/vnd.api+json")], doc.to_string()).into_response()
}

async fn run(State(mock): State<Mock>, Path(id): Path<String>) -> Response {
    let n = mock.run_polls.fetch_add(1, Ordering::SeqCst);
    let status = if n < 2 { "planning" } else { "applied" };
    let doc = json!({"data": {"id": id, "type": "runs", "attributes": {"status": status, "actions": {"is-confirmable": false}}}});
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

async fn gateway(limits: Limits, settings: HttpSettings) -> Gateway {
    let (upstream, mock) = start_mock().await;
    let shared = Shared::with_limits(Upstream::new("edge-test", Duration::from_secs(10)), Metrics::default(), limits);
    let g = Gateway { harness: Harness::new(upstream, shared, &settings), mock };
    g.add("srv", "tfcmcp_good", json!({}));
    g
}

async fn default_gateway() -> Gateway {
    gateway(Limits::default(), HttpSettings::default()).await
}

impl Gateway {
    /// One JSON-RPC request over Streamable HTTP; the JSON-RPC messages of the answer.
    async fn rpc(&self, token: &str, body: Value) -> Vec<Value> {
        let (status, headers, bytes) = self.post(token, body, &[]).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
        messages(&headers, &bytes)
    }

    async fn call(&self, token: &str, tool: &str, arguments: Value) -> Value {
        let answer = self
            .rpc(token, json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}))
            .await;
        answer.into_iter().last().unwrap()
    }
}

fn get_request(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::get(path).header("host", "localhost");
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    builder.body(Body::empty()).unwrap()
}

/// JSON-RPC messages of a JSON or SSE answer.
fn init(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "edge-test", "version": "1"}}})
}

fn list_tools() -> Value {
    json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
}

fn tool_names(answer: &Value) -> Vec<String> {
    answer["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

fn without_date(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut v: Vec<_> =
        headers.iter().filter(|(k, _)| *k != "date").map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned())).collect();
    v.sort();
    v
}

// ---- Streamable HTTP -------------------------------------------------------------

#[tokio::test]
async fn streamable_http_answers_like_the_specification() {
    let g = default_gateway().await;
    // Every revision rmcp 3.11 knows is negotiated as asked (2026-07-28 has no initialize handshake).
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let answer = g.rpc("tfcmcp_good", init(version)).await;
        assert_eq!(answer[0]["result"]["protocolVersion"], version);
        assert_eq!(answer[0]["result"]["serverInfo"]["name"], "tfc-mcp");
    }
    assert!(tool_names(&g.rpc("tfcmcp_good", list_tools()).await[0]).contains(&LIST_WS.to_owned()));

    // Stateless: no server stream and no session to end.
    let (status, headers, _) = g.send(get_request("/mcp/tfcmcp_good", &[("accept", "text/event-stream")])).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "POST");
    let (status, _, _) = g.send(Request::delete("/mcp/tfcmcp_good").header("host", "localhost").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    // Accept must list both media types.
    let (status, _, _) = g.post("tfcmcp_good", list_tools(), &[("accept", "application/json")]).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    // An unknown protocol revision.
    let (status, _, _) = g.post("tfcmcp_good", list_tools(), &[("mcp-protocol-version", "1999-01-01")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A known one is fine.
    let (status, _, _) = g.post("tfcmcp_good", list_tools(), &[("mcp-protocol-version", "2025-06-18")]).await;
    assert_eq!(status, StatusCode::OK);
    // Notifications get 202 and no body.
    let (status, _, body) = g.post("tfcmcp_good", json!({"jsonrpc": "2.0", "method": "notifications/initialized"}), &[]).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(body.is_empty());
    // Not JSON, and JSON that is not JSON-RPC: 400 with a JSON-RPC error.
    let (status, _, body) = g.send(post_request("/mcp/tfcmcp_good", "{nope", &[])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"], -32700);
    let (status, _, body) = g.send(post_request("/mcp/tfcmcp_good", r#"{"hello": 1}"#, &[])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"], -32600);
    // A wrong Content-Type stays 415.
    let (status, _, _) = g.post("tfcmcp_good", list_tools(), &[("content-type", "text/plain")]).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn tool_call_and_upstream_429_become_headers() {
    let g = default_gateway().await;
    let ok = g.call("tfcmcp_good", LIST_WS, json!({"organization_name": "acme"})).await;
    assert_eq!(ok["result"]["isError"], false, "{ok}");
    assert_eq!(ok["result"]["structuredContent"]["results"][0]["id"], "ws-1");

    let (status, headers, bytes) = g
        .post("tfcmcp_good", json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": LIST_WS, "arguments": {"organization_name": "limited"}}}), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["ratelimit-limit"], "30");
    assert_eq!(headers["ratelimit-remaining"], "0");
    assert_eq!(headers["ratelimit-reset"], "1");
    let answer = &messages(&headers, &bytes)[0];
    assert_eq!(answer["result"]["isError"], true);
    assert_eq!(answer["result"]["structuredContent"]["error"]["status"], 429);

    // A hidden tool (methods exclude create) is refused exactly like a tool that does not exist.
    let hidden = g.call("tfcmcp_good", CREATE_RUN, json!({"workspace_id": "ws-1"})).await;
    let unknown = g.call("tfcmcp_good", "no_such_tool", json!({})).await;
    assert_eq!(hidden["error"]["code"], unknown["error"]["code"]);
    assert_eq!(
        hidden["error"]["message"].as_str().unwrap().replace(CREATE_RUN, "X"),
        unknown["error"]["message"].as_str().unwrap().replace("no_such_tool", "X")
    );
}

/// A plain `tools/call` on a revision before 2026-07-28 is answered without
/// rmcp's per-request service (`direct_call`); the answer must be the one
/// rmcp gives: the same request with an `Accept` that carries a quality goes
/// through rmcp, and both answers are compared byte for byte.
#[tokio::test]
async fn direct_tool_calls_answer_exactly_as_rmcp() {
    // 48 calls: above the default request rate of one server.
    let g = gateway(Limits { rate_per_second: 0.0, ..Limits::default() }, HttpSettings::default()).await;
    g.add("destructive", "tfcmcp_destructive", json!({"methods": ["read", "create"], "approval": {"methods": ["create"]}}));
    let calls = [
        ("tfcmcp_good", json!({"name": LIST_WS, "arguments": {"organization_name": "acme"}})),
        ("tfcmcp_good", json!({"name": LIST_WS, "arguments": {"organization_name": "limited"}})),
        ("tfcmcp_good", json!({"name": LIST_WS, "arguments": {"organization_name": 7}})),
        ("tfcmcp_good", json!({"name": LIST_WS})),
        ("tfcmcp_good", json!({"name": CREATE_RUN, "arguments": {"workspace_id": "ws-1"}})),
        ("tfcmcp_good", json!({"name": "no_such_tool", "arguments": {}})),
        ("tfcmcp_good", json!({"name": LIST_WS, "arguments": {"organization_name": "acme"}, "_meta": {}})),
        ("tfcmcp_destructive", json!({"name": CREATE_RUN, "arguments": {"workspace_id": "ws-1"}})),
    ];
    for version in ["2025-03-26", "2025-06-18", "2025-11-25"] {
        let ids = [json!(0), json!(1.0), json!("req-1"), json!(-3), json!(i64::MAX), json!(""), json!(4), json!(5)];
        for (id, (token, params)) in ids.iter().zip(calls.iter()) {
            let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
            let direct = g.post(token, body.clone(), &[("mcp-protocol-version", version)]).await;
            let rmcp =
                g.post(token, body, &[("mcp-protocol-version", version), ("accept", "application/json;q=1, text/event-stream")]).await;
            assert_eq!(direct.0, rmcp.0, "{version} {params}");
            assert_eq!(without_date(&direct.1), without_date(&rmcp.1), "{version} {params}");
            assert_eq!(
                String::from_utf8_lossy(&direct.2),
                String::from_utf8_lossy(&rmcp.2),
                "{version} {params}: the direct answer differs from rmcp's"
            );
        }
    }
}

/// The same on 2026-07-28, where the client's version, capabilities and info
/// travel in each call's `_meta` and the `Mcp-Method` / `Mcp-Name` headers
/// must match the body: every call below, served directly or left to rmcp,
/// gets rmcp's answer (status, headers and bytes), errors and refusals
/// included.
#[tokio::test]
async fn direct_tool_calls_answer_exactly_as_rmcp_on_2026_07_28() {
    const MODERN: &str = "2026-07-28";
    let g = gateway(Limits { rate_per_second: 0.0, ..Limits::default() }, HttpSettings::default()).await;
    g.add("destructive", "tfcmcp_destructive", json!({"methods": ["read", "create"], "approval": {"methods": ["create"]}}));
    let meta = |capabilities: Value| {
        json!({
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": capabilities,
            "io.modelcontextprotocol/clientInfo": {"name": "edge-test", "version": "1"},
        })
    };
    let with = |mut params: Value, key: &str, value: Value| {
        params["_meta"][key] = value;
        params
    };
    let plain = |name: &str, arguments: Value| json!({"name": name, "arguments": arguments, "_meta": meta(json!({}))});
    let acme = json!({"organization_name": "acme"});
    let calls = [
        ("tfcmcp_good", plain(LIST_WS, acme.clone()), None),
        ("tfcmcp_good", plain(LIST_WS, json!({"organization_name": "limited"})), None),
        ("tfcmcp_good", plain(LIST_WS, json!({"organization_name": 7})), None),
        ("tfcmcp_good", plain(LIST_WS, json!({})), None),
        ("tfcmcp_good", plain(CREATE_RUN, json!({"workspace_id": "ws-1"})), None),
        ("tfcmcp_good", plain("no_such_tool", json!({})), None),
        // A destructive call: refused without elicitation, asked for with it.
        ("tfcmcp_destructive", plain(CREATE_RUN, json!({"workspace_id": "ws-1"})), None),
        (
            "tfcmcp_destructive",
            json!({"name": CREATE_RUN, "arguments": {"workspace_id": "ws-1"}, "_meta": meta(json!({"elicitation": {}}))}),
            None,
        ),
        // Left to rmcp: the metadata or the headers are not the plain ones.
        ("tfcmcp_good", json!({"name": LIST_WS, "arguments": acme.clone()}), None),
        ("tfcmcp_good", with(plain(LIST_WS, acme.clone()), "io.modelcontextprotocol/protocolVersion", json!("2025-11-25")), None),
        ("tfcmcp_good", with(plain(LIST_WS, acme.clone()), "io.modelcontextprotocol/protocolVersion", json!("2099-01-01")), None),
        ("tfcmcp_good", with(plain(LIST_WS, acme.clone()), "io.modelcontextprotocol/clientCapabilities", json!("none")), None),
        ("tfcmcp_good", with(plain(LIST_WS, acme.clone()), "io.modelcontextprotocol/logLevel", json!("debug")), None),
        ("tfcmcp_good", plain(LIST_WS, acme.clone()), Some(("mcp-name", "other_tool"))),
        ("tfcmcp_good", plain(LIST_WS, acme.clone()), Some(("mcp-method", "tools/list"))),
        ("tfcmcp_good", plain(LIST_WS, acme.clone()), Some(("mcp-param-region", "eu"))),
    ];
    let ids = [json!(0), json!(1.0), json!("req-1"), json!(-3), json!(i64::MAX), json!(""), json!(4), json!(5)];
    for (i, (token, params, extra)) in calls.iter().enumerate() {
        let id = &ids[i % ids.len()];
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
        let name = params["name"].as_str().unwrap();
        let mut headers = vec![("mcp-protocol-version", MODERN), ("mcp-method", "tools/call"), ("mcp-name", name)];
        if let Some((header, value)) = extra {
            headers.retain(|(h, _)| h != header);
            headers.push((header, value));
        }
        let direct = g.post(token, body.clone(), &headers).await;
        headers.push(("accept", "application/json;q=1, text/event-stream"));
        let rmcp = g.post(token, body, &headers).await;
        assert_eq!(direct.0, rmcp.0, "{params}");
        assert_eq!(without_date(&direct.1), without_date(&rmcp.1), "{params}");
        // A confirmation's request state is sealed afresh for each answer.
        let unsealed = |bytes: &Bytes| {
            let text = String::from_utf8_lossy(bytes).into_owned();
            match serde_json::from_str::<Value>(&text).ok().and_then(|v| v["result"]["requestState"].as_str().map(str::to_owned)) {
                Some(state) => text.replace(&state, "<sealed>"),
                None => text,
            }
        };
        assert_eq!(unsealed(&direct.2), unsealed(&rmcp.2), "{params}: the direct answer differs from rmcp's");
    }
}

/// A client that uses the direct path to get around the edge: its calls take
/// the same slots, rate and timeout, and a hard shutdown stops them.
#[tokio::test]
async fn direct_tool_calls_hold_the_same_caps() {
    const DIRECT: &[(&str, &str)] = &[("mcp-protocol-version", "2025-11-25")];
    let slow_call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                           "params": {"name": LIST_WS, "arguments": {"organization_name": "slow"}}});

    // One slot: a slow direct call holds it, the next direct call is refused, the timeout ends the first.
    let limits = Limits { max_inflight: 1, request_timeout: Duration::from_secs(1), ..Limits::default() };
    let g = Arc::new(gateway(limits, HttpSettings::default()).await);
    let slow = {
        let (g, body) = (g.clone(), slow_call.clone());
        tokio::spawn(async move { g.post("tfcmcp_good", body, DIRECT).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(g.post("tfcmcp_good", slow_call.clone(), DIRECT).await.0, StatusCode::SERVICE_UNAVAILABLE);
    let (status, headers, bytes) = slow.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(messages(&headers, &bytes)[0]["result"]["structuredContent"]["error"]["kind"], "timeout");
    assert_eq!(g.shared.inflight.in_use(), 0);

    // The server's request rate.
    let g = gateway(Limits { rate_per_second: 1.0, rate_burst: 2.0, ..Limits::default() }, HttpSettings::default()).await;
    let call =
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": LIST_WS, "arguments": {"organization_name": "acme"}}});
    for _ in 0..2 {
        assert_eq!(g.post("tfcmcp_good", call.clone(), DIRECT).await.0, StatusCode::OK);
    }
    assert_eq!(g.post("tfcmcp_good", call, DIRECT).await.0, StatusCode::TOO_MANY_REQUESTS);

    // A hard shutdown cancels a running direct call.
    let g = Arc::new(default_gateway().await);
    let slow = {
        let (g, body) = (g.clone(), slow_call);
        tokio::spawn(async move { g.post("tfcmcp_good", body, DIRECT).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    g.shutdown.hard.cancel();
    let (_, headers, bytes) = tokio::time::timeout(Duration::from_secs(2), slow).await.expect("cancelled at once").unwrap();
    let answer = &messages(&headers, &bytes)[0];
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert_eq!(answer["result"]["content"][0]["text"], "cancelled by the client");
}

// ---- refusing tokens without an oracle ----------------------------------------------

#[tokio::test]
async fn unknown_revoked_and_expired_tokens_look_the_same() {
    let g = default_gateway().await;
    g.add("expired", "tfcmcp_expired", json!({"expiresAt": "2020-01-01T00:00:00Z"}));
    g.add("revoked", "tfcmcp_revoked", json!({}));
    g.add("locked", "tfcmcp_locked", json!({"requireApiToken": true, "apiTokenSha256": [sha256_hex("k")]}));
    assert_eq!(g.rpc("tfcmcp_revoked", list_tools()).await.len(), 1);
    g.routes.delete("revoked");

    let mut answers = Vec::new();
    for token in ["tfcmcp_unknown", "tfcmcp_expired", "tfcmcp_revoked", "", "%00%ff", &"x".repeat(5000)] {
        for path in [format!("/mcp/{token}"), format!("/mcp/{token}/sse"), format!("/mcp/{token}/messages?sessionId=abc")] {
            let (status, headers, body) = g.post_raw(&path).await;
            answers.push((path.clone(), status, without_date(&headers), body));
            let (status, headers, body) = g.send(get_request(&path, &[("accept", "text/event-stream")])).await;
            answers.push((format!("GET {path}"), status, without_date(&headers), body));
        }
    }
    // An expired route that also wants an API token still says 404, not 401.
    g.add(
        "locked",
        "tfcmcp_locked",
        json!({"requireApiToken": true, "apiTokenSha256": [sha256_hex("k")], "expiresAt": "2020-01-01T00:00:00Z"}),
    );
    let (status, headers, body) = g.post_raw("/mcp/tfcmcp_locked").await;
    answers.push(("locked".into(), status, without_date(&headers), body));

    let (_, status0, headers0, body0) = &answers[0];
    assert_eq!(*status0, StatusCode::NOT_FOUND);
    for (what, status, headers, body) in &answers {
        assert_eq!((status, headers, body), (status0, headers0, body0), "{what}");
    }
}

impl Gateway {
    async fn post_raw(&self, path: &str) -> (StatusCode, HeaderMap, Bytes) {
        self.send(post_request(path, list_tools().to_string(), &[])).await
    }
}

// ---- API tokens, Host, Origin ------------------------------------------------------

#[tokio::test]
async fn api_token_is_required_when_the_route_says_so() {
    let g = default_gateway().await;
    g.add(
        "locked",
        "tfcmcp_locked",
        json!({"requireApiToken": true, "apiTokenSha256": [sha256_hex("client-key-1"), sha256_hex("client-key-2")]}),
    );
    let (status, headers, _) = g.post("tfcmcp_locked", list_tools(), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let (status, headers, _) = g.post("tfcmcp_locked", list_tools(), &[("authorization", "Bearer wrong")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    for key in ["client-key-1", "client-key-2"] {
        let (status, _, _) = g.post("tfcmcp_locked", list_tools(), &[("authorization", &format!("Bearer {key}"))]).await;
        assert_eq!(status, StatusCode::OK);
    }
    // The legacy SSE stream is guarded the same way.
    let (status, _, _) = g.send(get_request("/mcp/tfcmcp_locked/sse", &[])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn host_and_origin_allow_lists() {
    let settings = HttpSettings {
        allowed_hosts: vec!["mcp.example.com".into()],
        allowed_origins: vec!["https://chat.example.com".into()],
        ..HttpSettings::default()
    };
    let g = gateway(Limits::default(), settings).await;
    let (status, _, _) = g.post("tfcmcp_good", list_tools(), &[("origin", "https://evil.example")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Checked before the token: an unknown token gets the same 403 (no oracle).
    let (status, _, _) = g.post("tfcmcp_nope", list_tools(), &[("origin", "https://evil.example")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = g.send(get_request("/mcp/tfcmcp_good/sse", &[("origin", "https://evil.example")])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = g.post("tfcmcp_good", list_tools(), &[("origin", "https://chat.example.com")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = g.post("tfcmcp_good", list_tools(), &[]).await;
    assert_eq!(status, StatusCode::OK);

    let mut request = post_request("/mcp/tfcmcp_good", list_tools().to_string(), &[]);
    request.headers_mut().insert("host", "mcp.example.com".parse().unwrap());
    assert_eq!(g.send(request).await.0, StatusCode::OK);
    let mut request = post_request("/mcp/tfcmcp_good", list_tools().to_string(), &[]);
    request.headers_mut().insert("host", "rebound.attacker.example".parse().unwrap());
    assert_eq!(g.send(request).await.0, StatusCode::FORBIDDEN);
}

// ---- limits ----------------------------------------------------------------------------

#[tokio::test]
async fn per_server_rate_limit_answers_429_with_retry_after() {
    let limits = Limits { rate_per_second: 1.0, rate_burst: 3.0, ..Limits::default() };
    let g = gateway(limits, HttpSettings::default()).await;
    g.add("other", "tfcmcp_other", json!({}));
    for _ in 0..3 {
        assert_eq!(g.post("tfcmcp_good", list_tools(), &[]).await.0, StatusCode::OK);
    }
    let (status, headers, _) = g.post("tfcmcp_good", list_tools(), &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "1");
    // Another server has its own budget.
    assert_eq!(g.post("tfcmcp_other", list_tools(), &[]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn body_limit_answers_413() {
    let limits = Limits { max_body_bytes: 1024, ..Limits::default() };
    let g = gateway(limits, HttpSettings::default()).await;
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"pad": "x".repeat(4096)}}).to_string();
    // With Content-Length...
    let (status, _, _) = g.send(post_request("/mcp/tfcmcp_good", big.clone(), &[("content-length", &big.len().to_string())])).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // ...and streamed without it.
    let chunks = big.as_bytes().chunks(100).map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c))).collect::<Vec<_>>();
    let (status, _, _) = g.send(post_request("/mcp/tfcmcp_good", Body::from_stream(futures::stream::iter(chunks)), &[])).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _, _) = g.send(post_request("/mcp/tfcmcp_good/messages?sessionId=x", big, &[])).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn in_flight_cap_answers_503_and_tool_timeout_is_a_tool_error() {
    let limits = Limits { max_inflight: 1, request_timeout: Duration::from_secs(1), ..Limits::default() };
    let g = Arc::new(gateway(limits, HttpSettings::default()).await);
    let slow = {
        let g = g.clone();
        tokio::spawn(async move { g.call("tfcmcp_good", LIST_WS, json!({"organization_name": "slow"})).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, headers, _) = g.post("tfcmcp_good", list_tools(), &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "1");

    let timed_out = slow.await.unwrap();
    assert_eq!(timed_out["result"]["isError"], true, "{timed_out}");
    assert_eq!(timed_out["result"]["structuredContent"]["error"]["kind"], "timeout");
    // The permit is back.
    assert_eq!(g.post("tfcmcp_good", list_tools(), &[]).await.0, StatusCode::OK);
    assert_eq!(g.shared.inflight.in_use(), 0);
}

// ---- Discovery ------------------------------------------------------------------------

#[tokio::test]
async fn discovery_mode_serves_three_meta_tools_under_the_same_filter() {
    let g = default_gateway().await;
    g.add("disc", "tfcmcp_disc", json!({"toolExposure": "Discovery", "methods": ["list", "get"], "excludeTools": ["get_single_hashicorp_terraform_cloud_run_by_id"]}));
    let listed = tool_names(&g.rpc("tfcmcp_disc", list_tools()).await[0]);
    assert_eq!(listed, ["search_tools", "get_tool_schema", "call_tool"]);

    let found = g.call("tfcmcp_disc", "search_tools", json!({"query": "list workspaces"})).await;
    let first = &found["result"]["structuredContent"]["tools"][0];
    assert_eq!(first["name"], LIST_WS, "{found}");
    let names: Vec<&str> =
        found["result"]["structuredContent"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(!names.contains(&"get_single_hashicorp_terraform_cloud_run_by_id"));

    let schema = g.call("tfcmcp_disc", "get_tool_schema", json!({"name": LIST_WS})).await;
    assert_eq!(schema["result"]["structuredContent"]["inputSchema"]["type"], "object");

    let called = g.call("tfcmcp_disc", "call_tool", json!({"name": LIST_WS, "arguments": {"organization_name": "acme"}})).await;
    assert_eq!(called["result"]["isError"], false, "{called}");
    assert_eq!(called["result"]["structuredContent"]["results"][0]["id"], "ws-1");

    // Hidden (excluded, or a method not allowed) and unknown: the same answer.
    for tool in ["get_tool_schema", "call_tool"] {
        let hidden = g.call("tfcmcp_disc", tool, json!({"name": "get_single_hashicorp_terraform_cloud_run_by_id"})).await;
        let write = g.call("tfcmcp_disc", tool, json!({"name": CREATE_RUN})).await;
        let unknown = g.call("tfcmcp_disc", tool, json!({"name": "no_such_tool"})).await;
        for v in [&hidden, &write, &unknown] {
            assert_eq!(v["result"]["isError"], true, "{v}");
            assert!(v["result"]["content"][0]["text"].as_str().unwrap().starts_with("Unknown tool: "), "{v}");
            assert_eq!(v["result"]["structuredContent"]["error"]["kind"], "unknown_tool");
        }
    }
    // In Discovery mode the catalog tools are not called directly.
    let direct = g.call("tfcmcp_disc", LIST_WS, json!({"organization_name": "acme"})).await;
    assert!(direct["error"]["message"].as_str().unwrap().starts_with("Unknown tool"), "{direct}");
}

// ---- progress -----------------------------------------------------------------------------

#[tokio::test]
async fn progress_notifications_while_a_run_is_awaited() {
    let g = default_gateway().await;
    let body = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {
        "name": RUN_WAIT, "arguments": {"run_id": "run-1", "poll_interval_seconds": 1, "timeout_seconds": 30},
        "_meta": {"progressToken": "p-1"}}});
    let answer = g.rpc("tfcmcp_good", body).await;
    let progress: Vec<&Value> = answer.iter().filter(|m| m["method"] == "notifications/progress").collect();
    assert!(progress.len() >= 3, "{answer:?}");
    assert!(progress.iter().all(|p| p["params"]["progressToken"] == "p-1"));
    let values: Vec<f64> = progress.iter().map(|p| p["params"]["progress"].as_f64().unwrap()).collect();
    assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
    assert!(progress.iter().any(|p| p["params"]["message"].as_str().unwrap_or_default().contains("planning")));
    let result = answer.last().unwrap();
    assert_eq!(result["id"], 9);
    assert_eq!(result["result"]["structuredContent"]["status"], "applied");
    assert!(g.mock.run_polls.load(Ordering::SeqCst) >= 3);

    // Without a progress token the answer is plain JSON.
    let (_, headers, _) = g
        .post(
            "tfcmcp_good",
            json!({"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": {"name": RUN_WAIT, "arguments": {"run_id": "run-2"}}}),
            &[],
        )
        .await;
    assert_eq!(headers["content-type"], "application/json");
}

// ---- legacy HTTP+SSE ----------------------------------------------------------------------

struct EventReader {
    stream: futures::stream::BoxStream<'static, Result<Bytes, axum::Error>>,
    buffer: String,
}

impl EventReader {
    async fn open(g: &Gateway, path: &str) -> (StatusCode, Option<Self>) {
        let response = g.router.clone().oneshot(get_request(path, &[("accept", "text/event-stream")])).await.unwrap();
        let status = response.status();
        if status != StatusCode::OK {
            return (status, None);
        }
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        (status, Some(Self { stream: response.into_body().into_data_stream().boxed(), buffer: String::new() }))
    }

    /// The next event (name, data), skipping comments; `None` when the stream ends.
    async fn next(&mut self) -> Option<(String, String)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = Vec::new();
                for line in raw.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.trim_start().to_owned());
                    }
                }
                if data.is_empty() {
                    continue; // a comment (keep-alive)
                }
                return Some((name, data.join("\n")));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.stream.next()).await.expect("an SSE event within 10 s")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk.ok()?));
        }
    }

    async fn message(&mut self) -> Value {
        let (name, data) = self.next().await.expect("a message event");
        assert_eq!(name, "message");
        serde_json::from_str(&data).unwrap()
    }
}

#[tokio::test]
async fn legacy_sse_session_lists_and_calls_tools() {
    let g = default_gateway().await;
    let (_, events) = EventReader::open(&g, "/mcp/tfcmcp_good/sse").await;
    let mut events = events.unwrap();
    let (name, endpoint) = events.next().await.unwrap();
    assert_eq!(name, "endpoint");
    assert!(endpoint.starts_with("/mcp/tfcmcp_good/messages?sessionId="), "{endpoint}");

    let post = |body: Value| g.send(post_request(&endpoint, body.to_string(), &[]));
    assert_eq!(post(init("2024-11-05")).await.0, StatusCode::ACCEPTED);
    let initialized = events.message().await;
    assert_eq!(initialized["result"]["protocolVersion"], "2024-11-05");
    assert_eq!(post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await.0, StatusCode::ACCEPTED);
    assert_eq!(post(list_tools()).await.0, StatusCode::ACCEPTED);
    assert!(tool_names(&events.message().await).contains(&LIST_WS.to_owned()));
    assert_eq!(post(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": LIST_WS, "arguments": {"organization_name": "acme"}}})).await.0, StatusCode::ACCEPTED);
    let called = events.message().await;
    assert_eq!(called["id"], 3);
    assert_eq!(called["result"]["structuredContent"]["results"][0]["id"], "ws-1");
    assert_eq!(
        g.shared.metrics.render().lines().find(|l| l.starts_with("tfcmcp_gateway_sse_sessions ")),
        Some("tfcmcp_gateway_sse_sessions 1")
    );

    // Progress notifications come as message events before the result.
    let wait = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
        "name": RUN_WAIT, "arguments": {"run_id": "run-1", "poll_interval_seconds": 1}, "_meta": {"progressToken": 42}}});
    assert_eq!(post(wait).await.0, StatusCode::ACCEPTED);
    let mut progress = 0;
    let done = loop {
        let m = events.message().await;
        if m["method"] == "notifications/progress" {
            assert_eq!(m["params"]["progressToken"], 42);
            progress += 1;
        } else {
            break m;
        }
    };
    assert!(progress >= 3, "{progress}");
    assert_eq!(done["id"], 4);
    assert_eq!(done["result"]["structuredContent"]["status"], "applied");

    // A malformed message, an unknown session, and a session of another server.
    assert_eq!(post(json!("nope")).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        g.send(post_request("/mcp/tfcmcp_good/messages?sessionId=unknown", list_tools().to_string(), &[])).await.0,
        StatusCode::NOT_FOUND
    );
    g.add("other", "tfcmcp_other", json!({}));
    let session = endpoint.split("sessionId=").nth(1).unwrap();
    let foreign = format!("/mcp/tfcmcp_other/messages?sessionId={session}");
    assert_eq!(g.send(post_request(&foreign, list_tools().to_string(), &[])).await.0, StatusCode::NOT_FOUND);

    // Revoking the route closes the stream and refuses its POSTs.
    g.routes.delete("srv");
    assert_eq!(post(list_tools()).await.0, StatusCode::NOT_FOUND);
    assert!(events.next().await.is_none(), "the stream must end");
}

#[tokio::test]
async fn legacy_sse_expiry_closes_the_stream_and_sessions_are_capped() {
    let settings = HttpSettings { sse: SseSettings { max_sessions: 1, ..SseSettings::default() }, ..HttpSettings::default() };
    let g = gateway(Limits::default(), settings).await;
    let expires = chrono::Utc::now() + chrono::Duration::seconds(2);
    g.add("short", "tfcmcp_short", json!({"expiresAt": expires.to_rfc3339()}));
    let (_, events) = EventReader::open(&g, "/mcp/tfcmcp_short/sse").await;
    let mut events = events.unwrap();
    assert_eq!(events.next().await.unwrap().0, "endpoint");
    // The one session slot is taken.
    let (status, _) = EventReader::open(&g, "/mcp/tfcmcp_good/sse").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // At expiry the stream ends by the gateway's own clock, and the slot is free again.
    assert!(events.next().await.is_none());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, _) = EventReader::open(&g, "/mcp/tfcmcp_good/sse").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn legacy_sse_sessions_are_capped_per_server() {
    let settings = HttpSettings { sse: SseSettings { max_sessions_per_server: 2, ..SseSettings::default() }, ..HttpSettings::default() };
    let g = gateway(Limits::default(), settings).await;
    g.add("other", "tfcmcp_other", json!({}));
    let (_, a) = EventReader::open(&g, "/mcp/tfcmcp_good/sse").await;
    let (_, b) = EventReader::open(&g, "/mcp/tfcmcp_good/sse").await;
    assert!(a.is_some() && b.is_some());
    assert_eq!(EventReader::open(&g, "/mcp/tfcmcp_good/sse").await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(EventReader::open(&g, "/mcp/tfcmcp_other/sse").await.0, StatusCode::OK);
}

#[tokio::test]
async fn legacy_sse_can_be_switched_off() {
    let g = gateway(Limits::default(), HttpSettings { legacy_sse: false, ..HttpSettings::default() }).await;
    let (status, _, body) = g.send(get_request("/mcp/tfcmcp_good/sse", &[])).await;
    let (unknown_status, _, unknown_body) = g.send(get_request("/mcp/tfcmcp_unknown/sse", &[])).await;
    assert_eq!((status, body), (unknown_status, unknown_body));
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn legacy_sse_idle_sessions_are_closed() {
    let settings =
        HttpSettings { sse: SseSettings { idle_timeout: Duration::from_millis(600), ..SseSettings::default() }, ..HttpSettings::default() };
    let g = gateway(Limits::default(), settings).await;
    let (_, events) = EventReader::open(&g, "/mcp/tfcmcp_good/sse").await;
    let mut events = events.unwrap();
    assert_eq!(events.next().await.unwrap().0, "endpoint");
    assert!(events.next().await.is_none());
}

// ---- shutdown and admin ---------------------------------------------------------------------

#[tokio::test]
async fn draining_lets_calls_finish_closes_sse_streams_and_fails_readiness() {
    let g = Arc::new(default_gateway().await);
    let (synced_tx, synced_rx) = tokio::sync::watch::channel(true);
    let admin = admin_router(g.shared.clone(), g.routes.clone(), synced_rx, g.shutdown.draining.clone());
    let ready = |admin: Router| async move { admin.oneshot(get_request("/readyz", &[])).await.unwrap().status() };
    assert_eq!(ready(admin.clone()).await, StatusCode::OK);

    // A real listener, shut down the way main does it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(
        axum::serve(listener, g.router.clone()).with_graceful_shutdown(g.shutdown.draining.clone().cancelled_owned()).into_future(),
    );

    let (_, events) = EventReader::open(&g, "/mcp/tfcmcp_good/sse").await;
    let mut events = events.unwrap();
    assert_eq!(events.next().await.unwrap().0, "endpoint");

    let slow = tokio::spawn(async move {
        let client = reqwest::Client::new();
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": LIST_WS, "arguments": {"organization_name": "slow"}}});
        let response =
            client.post(format!("http://{addr}/mcp/tfcmcp_good")).header("accept", ACCEPT_BOTH).json(&body).send().await.unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    g.shutdown.draining.cancel();
    assert_eq!(ready(admin).await, StatusCode::SERVICE_UNAVAILABLE);
    assert!(events.next().await.is_none(), "idle SSE streams close when draining starts");

    let (status, answer) = slow.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("the server stops once drained").unwrap().unwrap();
    drop(synced_tx);
}

#[tokio::test]
async fn metrics_count_requests_by_server_method_tool_and_outcome() {
    let g = default_gateway().await;
    g.rpc("tfcmcp_good", list_tools()).await;
    g.call("tfcmcp_good", LIST_WS, json!({"organization_name": "acme"})).await;
    g.call("tfcmcp_good", LIST_WS, json!({"organization_name": "limited"})).await;
    g.call("tfcmcp_good", "made_up_tool_name", json!({})).await;
    g.post("tfcmcp_missing", list_tools(), &[]).await;
    let text = g.shared.metrics.render();
    for needle in [
        r#"tfcmcp_gateway_requests_total{server="ns/srv",method="tools/list",tool="",outcome="ok"} 1"#,
        r#"tfcmcp_gateway_requests_total{server="ns/srv",method="tools/call",tool="list_all_hashicorp_terraform_cloud_workspaces",outcome="ok"} 1"#,
        r#"tfcmcp_gateway_requests_total{server="ns/srv",method="tools/call",tool="list_all_hashicorp_terraform_cloud_workspaces",outcome="rate_limited"} 1"#,
        r#"tfcmcp_gateway_requests_total{server="ns/srv",method="tools/call",tool="unknown",outcome="unknown_tool"} 1"#,
        r#"tfcmcp_gateway_upstream_rate_limited_total{server="ns/srv"} 1"#,
        r#"tfcmcp_gateway_rejected_requests_total{server="",reason="not_found"} 1"#,
        r#"tfcmcp_gateway_http_requests_total{transport="streamable_http",status="404"} 1"#,
        r#"tfcmcp_gateway_tool_duration_seconds_count{tool="list_all_hashicorp_terraform_cloud_workspaces"} 2"#,
    ] {
        assert!(text.contains(needle), "{needle} missing in\n{text}");
    }
    assert!(!text.contains("made_up_tool_name") && !text.contains("tfcmcp_good"));
}
