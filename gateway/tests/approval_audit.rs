//! The approval decisions' audit lines (`spec.approval`): they name the
//! caller like the tool-call lines do, and fingerprint the arguments with a
//! key (HMAC, from the shared approval key), so a low-entropy argument
//! cannot be found from the log by hashing guesses. And an older revision
//! over stateless Streamable HTTP that claims elicitation is refused at once
//! (it has no channel back to the client), not after the confirmation's
//! lifetime. In-process, with a fake TokenReview and the log captured.

mod support;

use std::{
    future::Future,
    io::Write,
    pin::Pin,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
    response::IntoResponse,
    routing::get,
};
use serde_json::{Map, Value, json};
use tfc_mcp_gateway::{
    approval::{self, Approvals},
    http::{HttpSettings, Shutdown, mcp_router},
    limits::Limits,
    mcp::Shared,
    metrics::Metrics,
    routes::RouteTable,
    service_account_auth::{Review, ServiceAccountAuth, ServiceAccountAuthSettings, TokenReviewer},
    upstream::Upstream,
};
use tower::ServiceExt;
use tracing_subscriber::fmt::MakeWriter;

const KEY: &[u8] = b"approval-audit-test-key-0123456789abcdef";
const AGENT_TOKEN: &str = "aaaa.agent.zzzz";
const AGENT: &str = "system:serviceaccount:team-a:agent";
const APPLY: &str = "hashicorp_terraform_cloud_runs_apply";

struct Reviewer;

impl TokenReviewer for Reviewer {
    fn review<'a>(&'a self, token: &'a str, _audience: &'a str) -> Pin<Box<dyn Future<Output = Result<Review, String>> + Send + 'a>> {
        let answer = if token == AGENT_TOKEN {
            Review::Authenticated {
                username: AGENT.to_owned(),
                groups: vec!["system:serviceaccounts".into(), "system:serviceaccounts:team-a".into()],
            }
        } else {
            Review::Refused
        };
        Box::pin(async move { Ok(answer) })
    }
}

/// The log, as JSON lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn approval_lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(|l| l["message"] == "approval").collect()
    }
}

async fn router() -> Router {
    let app = Router::new().route(
        "/api/v2/runs/{id}",
        get(|| async {
            let doc = json!({"data": {"id": "run-1", "type": "runs", "attributes": {"status": "planned"}}});
            ([("content-type", "application/vnd.api+json")], doc.to_string()).into_response()
        }),
    );
    let upstream = support::serve_mock(app).await;
    let shared = Shared::with_limits(Upstream::new("audit-test", Duration::from_secs(10)), Metrics::default(), Limits::default())
        .with_approvals(Approvals::from_keys(KEY, None).unwrap())
        .with_service_account_auth(ServiceAccountAuth::new(Arc::new(Reviewer), ServiceAccountAuthSettings::default()));
    let routes = RouteTable::default();
    routes.apply(&support::route_secret(
        "srv",
        "tfcmcp_sa",
        &upstream,
        json!({"serviceAccounts": [{"namespace": "team-a", "name": "agent"}], "approval": {"methods": ["custom"]}}),
    ));
    routes.apply(&support::route_secret("plain", "tfcmcp_plain", &upstream, json!({"approval": {"methods": ["custom"]}})));
    mcp_router(routes, Arc::new(shared), &HttpSettings::default(), &Shutdown::default())
}

async fn post(router: &Router, path: &str, version: &str, body: Value, bearer: Option<&str>) -> Value {
    let mut request = Request::post(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", version)
        .body(Body::from(body.to_string()))
        .unwrap();
    if let Some(token) = bearer {
        request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    if version == "2026-07-28" {
        request.headers_mut().insert("mcp-method", "tools/call".parse().unwrap());
        request.headers_mut().insert("mcp-name", APPLY.parse().unwrap());
    }
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let data = text.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).rfind(|d| !d.is_empty());
    serde_json::from_str(data.unwrap_or(&text)).unwrap()
}

fn call(version: &str, elicitation: bool, run_id: &str) -> Value {
    let capabilities = if elicitation { json!({"elicitation": {}}) } else { json!({}) };
    let mut meta = json!({"io.modelcontextprotocol/clientCapabilities": capabilities});
    if version == "2026-07-28" {
        meta["io.modelcontextprotocol/protocolVersion"] = json!(version);
        meta["io.modelcontextprotocol/clientInfo"] = json!({"name": "audit-test", "version": "1"});
    }
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
           "params": {"name": APPLY, "arguments": {"run_id": run_id}, "_meta": meta}})
}

#[tokio::test]
async fn approval_lines_name_the_caller_and_key_the_argument_fingerprint() {
    let log = Captured::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::fmt().json().flatten_event(true).with_writer(log.clone()).finish());
    let router = router().await;

    let asked = post(&router, "/mcp/tfcmcp_sa", "2026-07-28", call("2026-07-28", true, "run-1"), Some(AGENT_TOKEN)).await;
    assert_eq!(asked["result"]["resultType"], "input_required", "{asked}");
    let refused = post(&router, "/mcp/tfcmcp_sa", "2026-07-28", call("2026-07-28", false, "run-1"), Some(AGENT_TOKEN)).await;
    assert_eq!(refused["result"]["structuredContent"]["error"]["kind"], "approval_required", "{refused}");

    let lines = log.approval_lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let arguments: Map<String, Value> = json!({"run_id": "run-1"}).as_object().unwrap().clone();
    let keyed = Approvals::from_keys(KEY, None).unwrap().arguments_fingerprint(&arguments);
    let unkeyed = tfc_mcp_gateway::route::sha256_hex(&approval::canonical_arguments(&arguments));
    for line in &lines {
        // The caller, as the tool-call lines name it.
        assert_eq!(line["caller"], AGENT, "{line}");
        // Keyed: what the shared key gives, not the plain digest anyone can compute from a guess.
        assert_eq!(line["arguments"], keyed.as_str(), "{line}");
        assert!(!unkeyed.starts_with(line["arguments"].as_str().unwrap()), "{line}");
        let text = line.to_string();
        assert!(!text.contains("run-1") && !text.contains(AGENT_TOKEN) && !text.contains("tfcmcp_sa"), "{text}");
    }
    // Another argument, another fingerprint.
    post(&router, "/mcp/tfcmcp_sa", "2026-07-28", call("2026-07-28", false, "run-2"), Some(AGENT_TOKEN)).await;
    let lines = log.approval_lines();
    assert_ne!(lines[2]["arguments"], keyed.as_str());
}

#[tokio::test]
async fn an_older_revision_over_streamable_http_claiming_elicitation_is_refused_at_once() {
    let log = Captured::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::fmt().json().flatten_event(true).with_writer(log.clone()).finish());
    let router = router().await;
    let started = Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(20),
        post(&router, "/mcp/tfcmcp_plain", "2025-11-25", call("2025-11-25", true, "run-1"), None),
    )
    .await
    .expect("answered at once, not after the confirmation's lifetime");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(answer["result"]["structuredContent"]["error"]["kind"], "approval_required", "{answer}");
    let lines = log.approval_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["reason"], "no_channel_to_client", "{lines:?}");
    // No caller on a server without authentication: the field is absent, not made up.
    assert!(lines[0].get("caller").is_none(), "{lines:?}");
}
