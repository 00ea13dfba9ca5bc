//! Helpers shared by the gateway's integration tests (`mod support;`).
#![allow(dead_code)] // each test binary uses its own subset

pub mod canned;
pub mod events;
pub mod harness;

use axum::Router;
use serde_json::Value;

/// Serves `app` (a mock HCP Terraform) on a free loopback port; its base URL.
pub async fn serve_mock(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// `base` with the fields of `extra` (an object) laid over it.
pub fn overlay(mut base: Value, extra: &Value) -> Value {
    for (k, v) in extra.as_object().expect("extra is a JSON object") {
        base[k] = v.clone();
    }
    base
}

/// A route Secret as the operator writes it: `ns/{secret_name}` on `upstream`,
/// methods list, get and custom, with `extra`'s route fields laid over.
pub fn route_secret(secret_name: &str, url_token: &str, upstream: &str, extra: Value) -> k8s_openapi::api::core::v1::Secret {
    use k8s_openapi::ByteString;
    let route = overlay(
        serde_json::json!({
            "version": 1, "tokenSha256": tfc_mcp_gateway::route::sha256_hex(url_token), "server": format!("ns/{secret_name}"),
            "tfcAddress": upstream, "methods": ["list", "get", "custom"],
        }),
        &extra,
    );
    let mut s = k8s_openapi::api::core::v1::Secret::default();
    s.metadata.name = Some(secret_name.into());
    s.data = Some(std::collections::BTreeMap::from([
        ("route.json".to_owned(), ByteString(serde_json::to_vec(&route).unwrap())),
        ("tfc-token".to_owned(), ByteString(b"upstream-token".to_vec())),
    ]));
    s
}
