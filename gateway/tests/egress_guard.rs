//! The outbound connection guard against a hostile upstream: a fake HCP
//! Terraform hands back URLs that point into the gateway's own network (its
//! admin port, the cloud metadata address, a name resolving to loopback) as
//! log URLs, JSON plan redirects and redirect hops. The gateway must refuse
//! each without connecting, and still serve the legitimate blob origin.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tfc_mcp_gateway::catalog::catalog;
use tfc_mcp_gateway::egress::EgressPolicy;
use tfc_mcp_gateway::execute::{ToolError, execute};
use tfc_mcp_gateway::route::Route;
use tfc_mcp_gateway::tfc_address::TfcAddressPolicy;
use tfc_mcp_gateway::upstream::{TfcClient, Upstream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "tfc-secret-token.atlasv1.abcdef";

/// (status, headers, body) by path.
type Answers = Arc<HashMap<String, (u16, Vec<(String, String)>, String)>>;

/// A fake origin answering fixed responses by path.
async fn serve(answers: Answers) -> String {
    let app = Router::new().fallback(move |uri: Uri| {
        let answers = answers.clone();
        async move {
            match answers.get(uri.path()) {
                Some((status, headers, body)) => {
                    let mut resp = (StatusCode::from_u16(*status).unwrap(), body.clone()).into_response();
                    for (k, v) in headers {
                        resp.headers_mut().insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
                    }
                    resp
                }
                None => Response::builder().status(404).body(axum::body::Body::empty()).unwrap(),
            }
        }
    });
    support::serve_mock(app).await
}

/// Stands for the gateway's admin port: counts every TCP connection it accepts.
async fn admin_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 14\r\nconnection: close\r\n\r\nsecret-metrics").await;
        }
    });
    (port, seen)
}

/// (path, status, headers, body)
type Answer<'a> = (String, u16, Vec<(&'a str, String)>, String);

fn answers(list: Vec<Answer<'_>>) -> Answers {
    Arc::new(
        list.into_iter()
            .map(|(path, status, headers, body)| (path, (status, headers.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(), body)))
            .collect(),
    )
}

fn route(address: &str) -> Route {
    serde_json::from_value(json!({
        "version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": address,
        "methods": ["list", "get", "create", "update", "delete", "custom"],
    }))
    .unwrap()
}

fn socket_of(base: &str) -> String {
    base.trim_start_matches("http://").to_owned()
}

/// The gateway's production policy, with the fake API and blob origins allow-listed by exact ip:port.
fn guarded(api: &str, blob: &str, download_hosts: &[&str]) -> Upstream {
    let tfc = TfcAddressPolicy::new(&[api.to_owned()], true).unwrap();
    let allowed = vec![socket_of(api), socket_of(blob)];
    let hosts: Vec<String> = download_hosts.iter().map(|h| (*h).to_owned()).collect();
    let policy = EgressPolicy::new(tfc, &[], &allowed, &hosts).unwrap();
    Upstream::try_with_egress("egress-test", Duration::from_secs(5), policy).unwrap()
}

async fn call(up: &Upstream, route: &Route, tool: &str, args: Value) -> Result<Value, ToolError> {
    let client = TfcClient::new(up, route, TOKEN);
    let args: Map<String, Value> = args.as_object().unwrap().clone();
    execute(&client, route, catalog().get(tool).unwrap(), args).await
}

fn apply_doc(log_url: &str) -> String {
    json!({"data": {"id": "apply-1", "type": "applies", "attributes": {"status": "finished", "log-read-url": log_url}}}).to_string()
}

#[tokio::test]
async fn log_urls_and_plan_redirects_into_the_cluster_are_refused_without_connecting() {
    let (admin_port, admin_seen) = admin_listener().await;
    let admin_metrics = format!("http://127.0.0.1:{admin_port}/metrics");
    let metadata = "http://169.254.169.254/latest/meta-data/".to_owned();
    let blob = serve(answers(vec![
        ("/v1/object/log".into(), 200, vec![], "\u{2}Apply complete!\n\u{3}".into()),
        ("/v1/object/hop".into(), 302, vec![("location", admin_metrics.clone())], String::new()),
    ]))
    .await;
    let api = serve(answers(vec![
        ("/api/v2/applies/apply-admin".into(), 200, vec![], apply_doc(&admin_metrics)),
        ("/api/v2/applies/apply-meta".into(), 200, vec![], apply_doc(&metadata)),
        ("/api/v2/applies/apply-hop".into(), 200, vec![], apply_doc(&format!("{blob}/v1/object/hop"))),
        ("/api/v2/applies/apply-ok".into(), 200, vec![], apply_doc(&format!("{blob}/v1/object/log"))),
        ("/api/v2/plans/plan-admin/json-output".into(), 307, vec![("location", admin_metrics.clone())], String::new()),
        ("/api/v2/plans/plan-meta/json-output".into(), 307, vec![("location", metadata.clone())], String::new()),
        (
            "/api/v2/plans/plan-named/json-output".into(),
            307,
            vec![("location", format!("http://localhost:{admin_port}/metrics"))],
            String::new(),
        ),
    ]))
    .await;
    let r = route(&api);
    // `localhost` is a download host here, so only the resolver stands between it and loopback.
    let up = guarded(&api, &blob, &["archivist.terraform.io", "localhost"]);
    let refusals = Arc::new(AtomicUsize::new(0));
    let counted = refusals.clone();
    let up = up.with_egress_observer(Arc::new(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
    }));

    for (tool, args) in [
        ("hashicorp_terraform_cloud_applies_logs", json!({"apply_id": "apply-admin"})),
        ("hashicorp_terraform_cloud_applies_logs", json!({"apply_id": "apply-meta"})),
        ("hashicorp_terraform_cloud_applies_logs", json!({"apply_id": "apply-hop"})),
        ("hashicorp_terraform_cloud_plans_resource_changes", json!({"plan_id": "plan-admin"})),
        ("hashicorp_terraform_cloud_plans_resource_changes", json!({"plan_id": "plan-meta"})),
        ("hashicorp_terraform_cloud_plans_resource_changes", json!({"plan_id": "plan-named"})),
    ] {
        let started = std::time::Instant::now();
        let e = call(&up, &r, tool, args.clone()).await.expect_err(&format!("{tool} {args} must be refused"));
        assert!(started.elapsed() < Duration::from_secs(3), "refused at once, not after a connect timeout: {args}");
        assert!(!e.message.contains(TOKEN) && !e.message.contains("atlasv1"), "token leaked: {}", e.message);
        assert!(!e.message.contains("/metrics") && !e.message.contains("meta-data"), "the URL is not echoed: {}", e.message);
        assert!(
            e.message.contains("not on the gateway's egress allow-list")
                || e.message.contains("host 169.254.169.254 is not allowed")
                || e.message.contains("may not reach")
                || e.message.contains("refusing to connect"),
            "{args}: {}",
            e.message
        );
    }
    assert_eq!(admin_seen.load(Ordering::SeqCst), 0, "the admin listener must not see a single connection");
    assert_eq!(refusals.load(Ordering::SeqCst), 6, "every refusal is counted");

    // The legitimate blob origin still works.
    let out = call(&up, &r, "hashicorp_terraform_cloud_applies_logs", json!({"apply_id": "apply-ok"})).await.unwrap();
    assert_eq!(out["log"], json!("Apply complete!\n"));
}

#[tokio::test]
async fn the_same_attack_succeeds_without_the_guard() {
    // Control: with an unrestricted client (the behaviour before the guard) the
    // log URL pointing at the admin port is fetched, proving the test's fixture reaches it.
    let (admin_port, admin_seen) = admin_listener().await;
    let api = serve(answers(vec![(
        "/api/v2/applies/apply-admin".into(),
        200,
        vec![],
        apply_doc(&format!("http://127.0.0.1:{admin_port}/metrics")),
    )]))
    .await;
    let up = Upstream::new("egress-test", Duration::from_secs(5));
    let out = call(&up, &route(&api), "hashicorp_terraform_cloud_applies_logs", json!({"apply_id": "apply-admin"})).await.unwrap();
    assert_eq!(out["log"], json!("secret-metrics"));
    assert_eq!(admin_seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn downloads_to_foreign_hosts_and_disallowed_routes_are_refused() {
    let blob = serve(answers(vec![])).await;
    let api =
        serve(answers(vec![("/api/v2/applies/apply-evil".into(), 200, vec![], apply_doc("https://evil.example/v1/object/log"))])).await;
    let up = guarded(&api, &blob, &[]);
    let e = call(&up, &route(&api), "hashicorp_terraform_cloud_applies_logs", json!({"apply_id": "apply-evil"})).await.unwrap_err();
    assert!(e.message.contains("the download URL's host evil.example is not allowed"), "{}", e.message);

    // A route naming an address off the allow-list never leaves the gateway, even past the edge.
    let by_name = format!("{api}/").replace("127.0.0.1", "localhost");
    for address in ["http://10.0.0.1", "https://evil.example", by_name.as_str()] {
        let e = call(&up, &route(address), "list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "acme"}))
            .await
            .unwrap_err();
        assert!(e.message.contains("address is invalid") && e.message.contains("allow-list"), "{address}: {}", e.message);
    }
}

#[tokio::test]
async fn api_calls_to_forbidden_ip_literals_are_refused() {
    // An address on the TFC allow-list but not on the egress allow-list (a
    // misconfiguration) still cannot reach a private socket.
    let (admin_port, admin_seen) = admin_listener().await;
    let address = format!("http://127.0.0.1:{admin_port}");
    let tfc = TfcAddressPolicy::new(std::slice::from_ref(&address), true).unwrap();
    let up = Upstream::try_with_egress("egress-test", Duration::from_secs(5), EgressPolicy::new(tfc, &[], &[], &[]).unwrap()).unwrap();
    let e = call(&up, &route(&address), "list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "acme"}))
        .await
        .unwrap_err();
    assert!(e.message.contains("loopback"), "{}", e.message);
    assert_eq!(admin_seen.load(Ordering::SeqCst), 0);
}
