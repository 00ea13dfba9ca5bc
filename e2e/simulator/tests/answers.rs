//! Compound documents, sparse fieldsets, the JSON plan's drift, output
//! changes and sensitive markers, and the log variants, in-process.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use tfc_sim::plan_output::SECRET_PREFIX;
use tfc_sim::seed::{WS_FRONTEND_CDN, WS_INTERNAL_VPN};
use tfc_sim::{Sim, SimConfig, api_router, blob_router};

const TOKEN: &str = "sim-token";

struct Harness {
    _sim: Arc<Sim>,
    api: Router,
    blob: Router,
}

fn harness() -> Harness {
    let sim = Sim::new(SimConfig {
        tokens: vec![TOKEN.into()],
        step_delay_ms: 1,
        rate_limit: 0,
        run_locks: false,
        api_base: "http://api.test".into(),
        blob_base: "http://blob.test".into(),
    });
    Harness { api: api_router(sim.clone()), blob: blob_router(sim.clone()), _sim: sim }
}

async fn send(app: &Router, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Option<String>, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if app_is_api(uri) {
        req = req.header(header::AUTHORIZATION, format!("Bearer {TOKEN}")).header(header::CONTENT_TYPE, "application/vnd.api+json");
    }
    let req = req.body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty)).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let location = resp.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, location, String::from_utf8_lossy(&bytes).into_owned())
}

fn app_is_api(uri: &str) -> bool {
    uri.starts_with("/api/")
}

async fn get_json(h: &Harness, uri: &str) -> (StatusCode, Value) {
    let (status, _, text) = send(&h.api, Method::GET, uri, None).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A finished plan-only run with `message`: `(run, plan JSON, plan log)`.
async fn planned(h: &Harness, message: &str) -> (Value, Value, String) {
    let body = json!({"data": {"type": "runs", "attributes": {"plan-only": true, "message": message},
        "relationships": {"workspace": {"data": {"type": "workspaces", "id": WS_FRONTEND_CDN}}}}});
    let (status, _, text) = send(&h.api, Method::POST, "/api/v2/runs", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let id = serde_json::from_str::<Value>(&text).unwrap()["data"]["id"].as_str().unwrap().to_owned();
    let mut run = Value::Null;
    for _ in 0..1000 {
        run = get_json(h, &format!("/api/v2/runs/{id}?include=plan")).await.1;
        if run["data"]["attributes"]["status"] == "planned_and_finished" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(run["data"]["attributes"]["status"], "planned_and_finished");
    let plan_id = run["data"]["relationships"]["plan"]["data"]["id"].as_str().unwrap().to_owned();
    let (status, location, _) = send(&h.api, Method::GET, &format!("/api/v2/plans/{plan_id}/json-output"), None).await;
    assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
    let blob_path = |url: &str| url.strip_prefix("http://blob.test").unwrap().to_owned();
    let (_, _, plan) = send(&h.blob, Method::GET, &blob_path(&location.unwrap()), None).await;
    let log_url = run["included"][0]["attributes"]["log-read-url"].as_str().unwrap().to_owned();
    let (_, _, log) = send(&h.blob, Method::GET, &blob_path(&log_url), None).await;
    (run, serde_json::from_str(&plan).unwrap(), log)
}

#[tokio::test]
async fn include_and_sparse_fieldsets() {
    let h = harness();
    let (status, doc) = get_json(
        &h,
        &format!(
            "/api/v2/workspaces/{WS_INTERNAL_VPN}?include=current_run,current-state-version,project&fields%5Bworkspaces%5D=name,current-run"
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let attrs = doc["data"]["attributes"].as_object().unwrap();
    assert_eq!(attrs.keys().collect::<Vec<_>>(), ["name"]);
    assert_eq!(doc["data"]["relationships"].as_object().unwrap().keys().collect::<Vec<_>>(), ["current-run"]);
    let mut types: Vec<&str> = doc["included"].as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
    types.sort();
    assert_eq!(types, ["projects", "runs", "state-versions"]);

    let (status, list) = get_json(&h, "/api/v2/organizations/acme-corp/workspaces?include=project&page%5Bsize%5D=100").await;
    assert_eq!(status, StatusCode::OK);
    let projects = list["included"].as_array().unwrap();
    assert!(!projects.is_empty() && projects.iter().all(|p| p["type"] == "projects"));
    let mut ids: Vec<&str> = projects.iter().map(|p| p["id"].as_str().unwrap()).collect();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "each included record once");

    let (status, _) = get_json(&h, &format!("/api/v2/workspaces/{WS_INTERNAL_VPN}?include=vars")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn plans_carry_drift_outputs_and_sensitive_markers_and_logs_have_variants() {
    let h = harness();
    let (run, plan, log) = planned(&h, "colored").await;
    assert_eq!(run["included"][0]["type"], "plans");
    assert_eq!(plan["resource_drift"][0]["address"], "null_resource.drifted");
    assert_eq!(plan["resource_drift"][0]["change"]["after_sensitive"], json!({"triggers": {"secret": true}}));
    assert_eq!(plan["output_changes"]["admin_password"]["after_sensitive"], true);
    let change = &plan["resource_changes"][0]["change"];
    assert_eq!(change["after_sensitive"], json!({"triggers": {"token": true}}));
    assert!(change["after"]["triggers"]["token"].as_str().unwrap().starts_with(SECRET_PREFIX));
    assert!(log.contains("\u{1b}[1m") && log.contains("Plan: ") && log.starts_with('\u{2}'), "{log:?}");

    let (_, _, json_log) = planned(&h, "[sim-log:json] x").await;
    let body = json_log.trim_matches(|c| c == '\u{2}' || c == '\u{3}');
    for line in body.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert!(v["@message"].is_string() && v["@level"].is_string(), "{line}");
    }

    let (_, _, big) = planned(&h, "[sim-log:big] x").await;
    assert!(big.len() > 5_000_000 && big.contains("NEEDLE-IN-THE-MIDDLE"));
}
