//! Workspace insights, the Explorer, the private registry and stacks,
//! in-process with `tower::ServiceExt::oneshot`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use tfc_sim::kinds::private_registry::NOCODE_BUCKET;
use tfc_sim::kinds::stacks::STACK_PLATFORM;
use tfc_sim::kinds::workspace_insights::ASMT_CORE_NETWORK;
use tfc_sim::seed::{WS_CORE_NETWORK, WS_FRONTEND_CDN, WS_GLOBEX_APP, WS_INTERNAL_VPN, WS_PAYMENT_GATEWAY};
use tfc_sim::{Sim, SimConfig, api_router, blob_router};

const TOKEN: &str = "sim-token";

struct H {
    api: Router,
    blob: Router,
    _sim: Arc<Sim>,
}

fn harness() -> H {
    let sim = Sim::new(SimConfig {
        tokens: vec![TOKEN.into()],
        step_delay_ms: 0,
        rate_limit: 0,
        run_locks: false,
        api_base: "http://api.test".into(),
        blob_base: "http://blob.test".into(),
    });
    H { api: api_router(sim.clone()), blob: blob_router(sim.clone()), _sim: sim }
}

async fn send(app: &Router, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value, String, Option<String>) {
    let mut req = Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/vnd.api+json");
    }
    let req = req.body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty)).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let location = resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), String::from_utf8_lossy(&bytes).into_owned(), location)
}

impl H {
    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let (s, b, _, _) = send(&self.api, Method::GET, uri, None).await;
        (s, b)
    }
}

fn ws_list(ids: &[&str]) -> Value {
    json!({"data": ids.iter().map(|i| json!({"type": "workspaces", "id": i})).collect::<Vec<_>>()})
}

#[tokio::test]
async fn managed_resources_page_through_500() {
    let h = harness();
    let (s, b) = h.get(&format!("/api/v2/workspaces/{WS_CORE_NETWORK}/resources?page[size]=100&page[number]=5")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["meta"]["pagination"]["total-count"], 500);
    assert_eq!(b["data"].as_array().unwrap().len(), 100);
    assert_eq!(b["data"][0]["type"], "resources");
    assert!(b["data"][0]["attributes"]["address"].is_string() && b["data"][0]["attributes"]["provider-type"].is_string());
    assert_eq!(b["meta"]["pagination"]["next-page"], Value::Null);
}

#[tokio::test]
async fn remote_state_consumers_add_remove_replace() {
    let h = harness();
    let path = format!("/api/v2/workspaces/{WS_PAYMENT_GATEWAY}/relationships/remote-state-consumers");
    let ids = |b: &Value| b["data"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(ids(&h.get(&path).await.1), vec![WS_FRONTEND_CDN]);
    assert_eq!(send(&h.api, Method::POST, &path, Some(ws_list(&[WS_INTERNAL_VPN]))).await.0, StatusCode::NO_CONTENT);
    assert_eq!(ids(&h.get(&path).await.1), vec![WS_FRONTEND_CDN, WS_INTERNAL_VPN]);
    assert_eq!(send(&h.api, Method::DELETE, &path, Some(ws_list(&[WS_FRONTEND_CDN]))).await.0, StatusCode::NO_CONTENT);
    assert_eq!(ids(&h.get(&path).await.1), vec![WS_INTERNAL_VPN]);
    assert_eq!(send(&h.api, Method::PATCH, &path, Some(ws_list(&[WS_CORE_NETWORK]))).await.0, StatusCode::NO_CONTENT);
    assert_eq!(ids(&h.get(&path).await.1), vec![WS_CORE_NETWORK]);
    // Another organization's workspace, itself, or nonsense: refused, nothing changes.
    assert_eq!(send(&h.api, Method::POST, &path, Some(ws_list(&[WS_GLOBEX_APP]))).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(send(&h.api, Method::POST, &path, Some(ws_list(&[WS_PAYMENT_GATEWAY]))).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        send(&h.api, Method::POST, &path, Some(json!({"data": [{"type": "runs", "id": "run-1"}]}))).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(ids(&h.get(&path).await.1), vec![WS_CORE_NETWORK]);
}

#[tokio::test]
async fn readme_and_assessment_outputs() {
    let h = harness();
    let (_, ws) = h.get(&format!("/api/v2/workspaces/{WS_CORE_NETWORK}?include=readme")).await;
    assert_eq!(ws["data"]["relationships"]["current-assessment-result"]["data"]["id"], ASMT_CORE_NETWORK);
    assert_eq!(ws["included"][0]["type"], "workspace-readme");
    assert!(ws["included"][0]["attributes"]["raw-markdown"].as_str().unwrap().starts_with("# core-network"));
    let (_, plain) = h.get(&format!("/api/v2/workspaces/{WS_CORE_NETWORK}")).await;
    assert!(plain.get("included").is_none());
    let (_, a) = h.get(&format!("/api/v2/assessment-results/{ASMT_CORE_NETWORK}")).await;
    assert_eq!(a["data"]["attributes"]["drifted"], true);
    assert!(a["data"]["attributes"].get("json-blob").is_none(), "bookkeeping is not rendered");
    for (which, needle) in [("json-output", "resource_drift"), ("log-output", "Objects have changed")] {
        let (s, _, _, loc) = send(&h.api, Method::GET, &format!("/api/v2/assessment-results/{ASMT_CORE_NETWORK}/{which}"), None).await;
        assert_eq!(s, StatusCode::TEMPORARY_REDIRECT);
        let loc = loc.unwrap();
        let path = loc.strip_prefix("http://blob.test").unwrap();
        let req = Request::builder().uri(path).body(Body::empty()).unwrap();
        let resp = h.blob.clone().oneshot(req).await.unwrap();
        let text = String::from_utf8_lossy(&axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap()).into_owned();
        assert!(text.contains(needle), "{which}: {text}");
    }
}

#[tokio::test]
async fn explorer_views_filters_sort_and_fields() {
    let h = harness();
    let q = "/api/v2/organizations/acme-corp/explorer?type=workspaces&filter%5B0%5D%5Bworkspace_terraform_version%5D%5Bcontains%5D%5B0%5D=1.5&fields=workspace_name,workspace_terraform_version";
    let (s, b) = h.get(q).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let names: Vec<&str> = b["data"].as_array().unwrap().iter().map(|r| r["attributes"]["workspace-name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["ci-runners", "search-cluster"]);
    assert_eq!(b["data"][0]["type"], "visibility-workspace");
    assert_eq!(b["data"][0]["attributes"].as_object().unwrap().len(), 2);
    let (_, drift) = h.get("/api/v2/organizations/acme-corp/explorer?type=workspaces&filter[0][drifted][is][0]=true").await;
    assert_eq!(drift["data"].as_array().unwrap().len(), 1);
    assert_eq!(drift["data"][0]["attributes"]["workspace-name"], "core-network");
    let (_, v) = h.get("/api/v2/organizations/acme-corp/explorer?type=tf_versions&sort=-workspace_count").await;
    assert_eq!(v["data"][0]["attributes"]["version"], "1.9.8");
    let (_, m) = h.get("/api/v2/organizations/acme-corp/explorer?type=modules&filter[0][name][contains][0]=s3").await;
    assert_eq!(m["data"][0]["attributes"]["workspaces"], "data-lake,storage-buckets");
    let (_, g) = h.get("/api/v2/organizations/globex/explorer?type=workspaces").await;
    assert!(g["data"].as_array().unwrap().iter().all(|r| r["attributes"]["organization-name"] == "globex"));
    assert_eq!(h.get("/api/v2/organizations/acme-corp/explorer?type=nope").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        h.get("/api/v2/organizations/acme-corp/explorer?type=tf_versions&filter[0][drifted][is][0]=true").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn registry_and_no_code_workspace() {
    let h = harness();
    let (_, list) = h.get("/api/v2/organizations/acme-corp/registry-modules?filter[registry_name]=private").await;
    assert_eq!(list["meta"]["pagination"]["total-count"], 2);
    let (s, m) = h.get("/api/v2/organizations/acme-corp/registry-modules/private/acme-corp/vpc/aws").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(m["data"]["attributes"]["version-statuses"][0]["version"], "3.2.0");
    assert_eq!(h.get("/api/v2/organizations/acme-corp/registry-modules/private/globex/app/aws").await.0, StatusCode::NOT_FOUND);
    let (_, v) = h.get("/api/v2/organizations/acme-corp/registry-providers/private/acme-corp/internal/versions").await;
    assert_eq!(v["meta"]["pagination"]["total-count"], 3);
    let (s, nc) = h.get(&format!("/api/v2/no-code-modules/{NOCODE_BUCKET}?include=variable_options")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(nc["data"]["relationships"]["organization"]["data"]["id"], "acme-corp");
    assert_eq!(nc["included"][0]["attributes"]["variable-name"], "region");
    let body = json!({"data": {"type": "workspaces", "attributes": {"name": "team-bucket"},
        "relationships": {"vars": {"data": [{"type": "vars", "attributes": {"key": "bucket_name", "value": "team-b", "category": "terraform"}}]}}}});
    let (s, ws, _, _) = send(&h.api, Method::POST, &format!("/api/v2/no-code-modules/{NOCODE_BUCKET}/workspaces"), Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{ws}");
    assert_eq!(ws["data"]["relationships"]["organization"]["data"]["id"], "acme-corp");
    let id = ws["data"]["id"].as_str().unwrap();
    let (_, vars) = h.get(&format!("/api/v2/workspaces/{id}/vars")).await;
    assert_eq!(vars["data"][0]["attributes"]["key"], "bucket_name");
}

#[tokio::test]
async fn stacks_deployments_and_runs() {
    let h = harness();
    let (_, list) = h.get("/api/v2/organizations/acme-corp/stacks").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (_, st) = h.get(&format!("/api/v2/stacks/{STACK_PLATFORM}")).await;
    assert_eq!(st["data"]["relationships"]["project"]["data"]["type"], "projects");
    assert!(st["data"]["relationships"].get("organization").is_none(), "a stack names its project only");
    let (_, deps) = h.get(&format!("/api/v2/stacks/{STACK_PLATFORM}/stack-deployments")).await;
    assert_eq!(deps["data"].as_array().unwrap().len(), 2);
    let (_, runs) = h.get(&format!("/api/v2/stacks/{STACK_PLATFORM}/stack-deployments/production/stack-deployment-runs")).await;
    assert_eq!(runs["data"][0]["attributes"]["status"], "pending_approval");
    assert_eq!(
        h.get(&format!("/api/v2/stacks/{STACK_PLATFORM}/stack-deployments/nope/stack-deployment-runs")).await.0,
        StatusCode::NOT_FOUND
    );
}
