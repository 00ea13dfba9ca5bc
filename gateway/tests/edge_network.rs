//! The edge's network rules: a route naming an upstream address off the
//! allow-list is answered exactly like an unknown token, and browser Origins
//! are checked fail closed (only the gateway's own public origin without a
//! configured list).

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use k8s_openapi::{ByteString, api::core::v1::Secret};
use serde_json::json;
use tfc_mcp_gateway::{
    egress::EgressPolicy,
    http::{HttpSettings, Shutdown, mcp_router},
    mcp::Shared,
    metrics::Metrics,
    route::sha256_hex,
    routes::RouteTable,
    tfc_address::TfcAddressPolicy,
    upstream::Upstream,
};
use tower::ServiceExt;

const ALLOWED: &str = "https://tfe.example.com";

fn route_secret(name: &str, url_token: &str, address: &str) -> Secret {
    let route = json!({
        "version": 1, "tokenSha256": sha256_hex(url_token), "server": format!("ns/{name}"),
        "tfcAddress": address, "methods": ["list", "get"],
    });
    let mut s = Secret::default();
    s.metadata.name = Some(name.into());
    s.data = Some(BTreeMap::from([
        ("route.json".to_owned(), ByteString(serde_json::to_vec(&route).unwrap())),
        ("tfc-token".to_owned(), ByteString(b"upstream-token".to_vec())),
    ]));
    s
}

fn gateway(settings: HttpSettings) -> Router {
    let tfc = TfcAddressPolicy::new(&[ALLOWED.to_owned()], false).unwrap();
    let upstream =
        Upstream::try_with_egress("edge-network-test", Duration::from_secs(5), EgressPolicy::new(tfc, &[], &[], &[]).unwrap()).unwrap();
    let routes = RouteTable::default();
    routes.apply(&route_secret("good", "tfcmcp_good", "https://TFE.example.com:443/"));
    for (i, address) in ["http://10.0.0.1", "http://tfe.example.com", "https://evil.example", "http://169.254.169.254"].iter().enumerate() {
        routes.apply(&route_secret(&format!("bad{i}"), &format!("tfcmcp_bad{i}"), address));
    }
    let shared = Arc::new(Shared::new(upstream, Metrics::default()));
    mcp_router(routes, shared, &settings, &Shutdown::default())
}

async fn post(router: &Router, token: &str, origin: Option<&str>) -> (StatusCode, Vec<(String, String)>, Vec<u8>) {
    let mut request = Request::post(format!("/mcp/{token}"))
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();
    let response = router.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
    let status = response.status();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(k, _)| *k != "date")
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    headers.sort();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap().to_vec();
    (status, headers, bytes)
}

#[tokio::test]
async fn routes_with_disallowed_addresses_answer_like_unknown_tokens() {
    let router = gateway(HttpSettings::default());
    assert_eq!(post(&router, "tfcmcp_good", None).await.0, StatusCode::OK, "the allowed address, written differently");
    let unknown = post(&router, "tfcmcp_never_minted", None).await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND);
    for i in 0..4 {
        assert_eq!(post(&router, &format!("tfcmcp_bad{i}"), None).await, unknown, "route bad{i}");
    }
}

#[tokio::test]
async fn origins_fail_closed() {
    // Neither a list nor a public URL: any Origin is refused, none passes.
    let router = gateway(HttpSettings::default());
    assert_eq!(post(&router, "tfcmcp_good", Some("https://evil.example")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(post(&router, "tfcmcp_good", None).await.0, StatusCode::OK);

    let router = gateway(HttpSettings { public_base_url: Some("https://mcp.example.com".into()), ..HttpSettings::default() });
    assert_eq!(post(&router, "tfcmcp_good", Some("https://mcp.example.com")).await.0, StatusCode::OK);
    for origin in ["https://evil.example", "http://mcp.example.com", "null", "http://localhost:6274"] {
        assert_eq!(post(&router, "tfcmcp_good", Some(origin)).await.0, StatusCode::FORBIDDEN, "{origin}");
    }

    let router = gateway(HttpSettings {
        public_base_url: Some("https://mcp.example.com".into()),
        allowed_origins: vec!["https://chat.example.com".into()],
        ..HttpSettings::default()
    });
    for origin in ["https://mcp.example.com", "https://chat.example.com"] {
        assert_eq!(post(&router, "tfcmcp_good", Some(origin)).await.0, StatusCode::OK, "{origin}");
    }
    assert_eq!(post(&router, "tfcmcp_good", Some("https://evil.example")).await.0, StatusCode::FORBIDDEN);
}
