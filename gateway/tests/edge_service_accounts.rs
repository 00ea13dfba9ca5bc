//! `spec.auth.serviceAccounts` at the edge, in-process: a route listing
//! ServiceAccounts wants a reviewed Bearer token of one of them (on both
//! transports) before anything reaches HCP Terraform; refusals are 401 or,
//! when the TokenReview budget is spent, 503 with `Retry-After`. The
//! TokenReview API is a fake here; e2e/tests/test_sa_auth.py uses the real one.

mod support;

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, Request, StatusCode},
    response::IntoResponse,
    routing::get,
};
use serde_json::{Value, json};
use tfc_mcp_gateway::{
    http::{HttpSettings, Shutdown, mcp_router},
    limits::Limits,
    mcp::Shared,
    metrics::Metrics,
    routes::RouteTable,
    service_account_auth::{Review, ServiceAccountAuth, ServiceAccountAuthSettings, TokenReviewer},
    upstream::Upstream,
};
use tower::ServiceExt;

const AGENT: &str = "aaaa.agent.zzzz";
const INTRUDER: &str = "aaaa.intruder.zzzz";

struct FakeReviewer {
    calls: AtomicUsize,
    users: HashMap<&'static str, &'static str>,
}

impl TokenReviewer for FakeReviewer {
    fn review<'a>(&'a self, token: &'a str, _audience: &'a str) -> Pin<Box<dyn Future<Output = Result<Review, String>> + Send + 'a>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = match self.users.get(token) {
            Some(user) => Review::Authenticated {
                username: (*user).to_owned(),
                groups: vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{}", user.split(':').nth(2).unwrap())],
            },
            None => Review::Refused,
        };
        Box::pin(async move { Ok(answer) })
    }
}

struct Gateway {
    router: Router,
    reviewer: Arc<FakeReviewer>,
    upstream_calls: Arc<AtomicUsize>,
}

async fn gateway(with_auth: bool) -> Gateway {
    let upstream_calls = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route(
            "/api/v2/organizations/{org}/workspaces",
            get(|State(calls): State<Arc<AtomicUsize>>| async move {
                calls.fetch_add(1, Ordering::SeqCst);
                let doc =
                    json!({"data": [], "meta": {"pagination": {"current-page": 1, "page-size": 20, "total-count": 0, "total-pages": 1}}});
                ([("content-type", "application/vnd.api+json")], doc.to_string()).into_response()
            }),
        )
        .with_state(upstream_calls.clone());
    let upstream = support::serve_mock(app).await;
    let reviewer = Arc::new(FakeReviewer {
        calls: AtomicUsize::new(0),
        users: HashMap::from([(AGENT, "system:serviceaccount:team-a:agent"), (INTRUDER, "system:serviceaccount:team-a:intruder")]),
    });
    let mut shared = Shared::with_limits(Upstream::new("sa-test", Duration::from_secs(10)), Metrics::default(), Limits::default());
    if with_auth {
        let settings = ServiceAccountAuthSettings {
            reviews_per_second: 1.0,
            reviews_per_second_per_server: 1.0,
            ..ServiceAccountAuthSettings::default()
        };
        shared = shared.with_service_account_auth(ServiceAccountAuth::new(reviewer.clone(), settings));
    }
    let routes = RouteTable::default();
    routes.apply(&support::route_secret(
        "srv",
        "tfcmcp_sa",
        &upstream,
        json!({"serviceAccounts": [{"namespace": "team-a", "name": "agent"}]}),
    ));
    let router = mcp_router(routes, Arc::new(shared), &HttpSettings::default(), &Shutdown::default());
    Gateway { router, reviewer, upstream_calls }
}

impl Gateway {
    async fn post(&self, path: &str, body: Value, bearer: Option<&str>) -> (StatusCode, HeaderMap, Bytes) {
        let mut request = Request::post(path)
            .header("host", "localhost")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(Body::from(body.to_string()))
            .unwrap();
        if let Some(token) = bearer {
            request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        (parts.status, parts.headers, axum::body::to_bytes(body, usize::MAX).await.unwrap())
    }
}

fn list_workspaces() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
           "params": {"name": "list_all_hashicorp_terraform_cloud_workspaces", "arguments": {"organization_name": "acme"}}})
}

#[tokio::test]
async fn only_a_listed_service_account_reaches_upstream() {
    let g = gateway(true).await;
    let (status, headers, _) = g.post("/mcp/tfcmcp_sa", list_workspaces(), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["www-authenticate"], r#"Bearer realm="tfc-mcp""#);

    let (status, headers, body) = g.post("/mcp/tfcmcp_sa", list_workspaces(), Some(INTRUDER)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    assert!(!String::from_utf8_lossy(&body).contains(INTRUDER));
    assert_eq!(g.upstream_calls.load(Ordering::SeqCst), 0);

    let (status, _, body) = g.post("/mcp/tfcmcp_sa", list_workspaces(), Some(AGENT)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(g.upstream_calls.load(Ordering::SeqCst), 1);

    // The legacy SSE transport wants it too.
    let sse =
        Request::get("/mcp/tfcmcp_sa/sse").header("host", "localhost").header("accept", "text/event-stream").body(Body::empty()).unwrap();
    assert_eq!(g.router.clone().oneshot(sse).await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unknown_url_costs_no_token_review_and_a_spent_budget_is_503() {
    let g = gateway(true).await;
    // The URL token comes first: a stranger cannot make the gateway call the API server.
    for _ in 0..5 {
        assert_eq!(g.post("/mcp/tfcmcp_unknown", list_workspaces(), Some("aaaa.random.zzzz")).await.0, StatusCode::NOT_FOUND);
    }
    assert_eq!(g.reviewer.calls.load(Ordering::SeqCst), 0);

    // Burst 2 at 1/s: the third new token in a row waits.
    let mut statuses = Vec::new();
    for i in 0..5 {
        let (status, headers, _) = g.post("/mcp/tfcmcp_sa", list_workspaces(), Some(&format!("aaaa.r{i}.zzzz"))).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(headers.contains_key("retry-after"));
        }
        statuses.push(status);
    }
    assert_eq!(&statuses[..2], &[StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED]);
    assert!(statuses[2..].iter().all(|s| *s == StatusCode::SERVICE_UNAVAILABLE), "{statuses:?}");
    assert_eq!(g.reviewer.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_gateway_without_token_review_refuses_such_routes() {
    let g = gateway(false).await;
    assert_eq!(g.post("/mcp/tfcmcp_sa", list_workspaces(), Some(AGENT)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(g.upstream_calls.load(Ordering::SeqCst), 0);
}
