//! Drives the API and blob routers in-process with `tower::ServiceExt::oneshot`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use tfc_sim::seed::{WS_FRONTEND_CDN, WS_INTERNAL_VPN, WS_PAYMENT_GATEWAY};
use tfc_sim::{Sim, SimConfig, api_router, blob_router};

const TOKEN: &str = "sim-token";
const OTHER_TOKEN: &str = "other-token";

struct Harness {
    sim: Arc<Sim>,
    api: Router,
    blob: Router,
}

fn harness(step_delay_ms: u64, rate_limit: u32) -> Harness {
    harness_with(step_delay_ms, rate_limit, false)
}

fn harness_with(step_delay_ms: u64, rate_limit: u32, run_locks: bool) -> Harness {
    let sim = Sim::new(SimConfig {
        tokens: vec![TOKEN.into(), OTHER_TOKEN.into()],
        step_delay_ms,
        rate_limit,
        run_locks,
        api_base: "http://api.test".into(),
        blob_base: "http://blob.test".into(),
    });
    Harness { api: api_router(sim.clone()), blob: blob_router(sim.clone()), sim }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    text: String,
}

async fn send(app: &Router, method: Method, uri: &str, token: Option<&str>, body: Option<&str>) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/vnd.api+json");
    }
    let req = req.body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty)).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply { status, headers, body, text }
}

impl Harness {
    async fn get(&self, uri: &str) -> Reply {
        send(&self.api, Method::GET, uri, Some(TOKEN), None).await
    }

    async fn post(&self, uri: &str, body: Option<Value>) -> Reply {
        let body = body.map(|b| b.to_string());
        send(&self.api, Method::POST, uri, Some(TOKEN), body.as_deref()).await
    }

    async fn post_as(&self, token: &str, uri: &str) -> Reply {
        send(&self.api, Method::POST, uri, Some(token), None).await
    }

    /// Polls a run until `pred` holds on its document.
    async fn wait_run(&self, id: &str, pred: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..500 {
            let r = self.get(&format!("/api/v2/runs/{id}")).await;
            assert_eq!(r.status, StatusCode::OK);
            if pred(&r.body["data"]) {
                return r.body["data"].clone();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("run {id} never reached the expected state");
    }
}

fn error_detail(r: &Reply) -> &str {
    r.body["errors"][0]["detail"].as_str().unwrap_or("")
}

fn new_run(ws: &str, attrs: Value) -> Value {
    json!({"data": {"type": "runs", "attributes": attrs,
        "relationships": {"workspace": {"data": {"type": "workspaces", "id": ws}}}}})
}

#[tokio::test]
async fn ping_and_discovery() {
    let h = harness(10, 0);
    let r = send(&h.api, Method::GET, "/api/v2/ping", None, None).await;
    assert!(r.status.is_success());
    assert_eq!(r.headers["tfp-api-version"], "2.6");
    assert_eq!(r.headers["x-ratelimit-limit"], "30");
    assert_eq!(r.headers["tfp-appname"], "HCP Terraform");
    assert!(r.headers.contains_key("x-tfe-version"));
    let r = send(&h.api, Method::GET, "/.well-known/terraform.json", None, None).await;
    assert_eq!(r.body["tfe.v2"], "/api/v2/");
}

#[tokio::test]
async fn tokens_are_required() {
    let h = harness(10, 0);
    for token in [None, Some("wrong")] {
        let r = send(&h.api, Method::GET, "/api/v2/organizations", token, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body["errors"][0]["status"], "401");
        assert_eq!(r.headers[header::CONTENT_TYPE], "application/vnd.api+json");
    }
    let r = h.get("/api/v2/account/details").await;
    assert_eq!(r.body["data"]["attributes"]["username"], "sim-user");
}

#[tokio::test]
async fn organizations() {
    let h = harness(10, 0);
    let r = h.get("/api/v2/organizations").await;
    let names: Vec<&str> = r.body["data"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(names, ["acme-corp", "globex"]);
    assert_eq!(r.body["meta"]["pagination"]["total-count"], 2);
    assert_eq!(h.get("/api/v2/organizations/acme-corp").await.body["data"]["type"], "organizations");
    let r = h.get("/api/v2/organizations/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["errors"][0]["title"], "not found");
}

#[tokio::test]
async fn workspace_pagination_and_search() {
    let h = harness(10, 0);
    let base = "/api/v2/organizations/acme-corp/workspaces";
    let p1 = h.get(base).await;
    assert_eq!(p1.status, StatusCode::OK);
    assert_eq!(p1.body["data"].as_array().unwrap().len(), 20);
    let meta = &p1.body["meta"]["pagination"];
    assert_eq!(meta["total-count"], 25);
    assert_eq!(meta["total-pages"], 2);
    assert_eq!(meta["next-page"], 2);
    assert_eq!(meta["prev-page"], Value::Null);
    assert!(p1.body["links"]["next"].as_str().unwrap().contains("page%5Bnumber%5D=2"));

    let p2 = h.get(&format!("{base}?page%5Bnumber%5D=2")).await;
    assert_eq!(p2.body["data"].as_array().unwrap().len(), 5);
    assert_eq!(p2.body["meta"]["pagination"]["next-page"], Value::Null);
    assert_eq!(p2.body["meta"]["pagination"]["prev-page"], 1);

    let all = h.get(&format!("{base}?page[size]=500")).await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 25);
    assert_eq!(all.body["meta"]["pagination"]["page-size"], 100);

    let names = |r: &Reply| -> Vec<String> {
        r.body["data"].as_array().unwrap().iter().map(|w| w["attributes"]["name"].as_str().unwrap().to_string()).collect()
    };
    let found = h.get(&format!("{base}?search%5Bname%5D=vpn")).await;
    assert_eq!(names(&found), ["internal-vpn"]);
    let tagged = h.get(&format!("{base}?search%5Btags%5D=network,prod")).await;
    assert!(names(&tagged).contains(&"core-network".to_string()));
    assert!(names(&tagged).contains(&"internal-vpn".to_string()));
    assert!(!names(&tagged).contains(&"dns-zones".to_string()));
    let other_org = h.get("/api/v2/organizations/globex/workspaces").await;
    assert_eq!(names(&other_org), ["globex-app"]);
}

#[tokio::test]
async fn workspace_documents() {
    let h = harness(10, 0);
    let r = h.get("/api/v2/organizations/acme-corp/workspaces/payment-gateway").await;
    let ws = &r.body["data"];
    assert_eq!(ws["id"], WS_PAYMENT_GATEWAY);
    assert_eq!(ws["attributes"]["locked"], true);
    assert_eq!(ws["attributes"]["locked-reason"], "Stuck pipeline");
    assert_eq!(ws["relationships"]["locked-by"]["data"]["type"], "users");
    assert_eq!(ws["attributes"]["actions"]["is-destroyable"], true);
    assert_eq!(ws["attributes"]["permissions"]["can-force-unlock"], true);
    let by_id = h.get(&format!("/api/v2/workspaces/{WS_INTERNAL_VPN}")).await;
    assert_eq!(by_id.body["data"]["attributes"]["name"], "internal-vpn");
    assert_eq!(by_id.body["data"]["relationships"]["locked-by"]["data"], Value::Null);
    assert_eq!(h.get("/api/v2/workspaces/ws-missing").await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.get("/api/v2/organizations/acme-corp/workspaces/missing").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn workspace_create_update_delete() {
    let h = harness(10, 0);
    let url = "/api/v2/organizations/acme-corp/workspaces";
    let doc = json!({"data": {"type": "workspaces", "attributes": {"name": "new-ws", "tag-names": ["dev"]}}});
    let r = h.post(url, Some(doc.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.body["data"]["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("ws-") && id.len() == 19);

    assert_eq!(h.post(url, Some(doc)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = h.post(url, Some(json!({"data": {"type": "workspaces", "attributes": {}}}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_detail(&r).contains("blank"));
    let r = send(&h.api, Method::POST, url, Some(TOKEN), Some("{not json")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["errors"][0]["status"], "400");
    let r = h.post("/api/v2/organizations/nope/workspaces", Some(json!({"data": {"attributes": {"name": "x"}}}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let patch = json!({"data": {"type": "workspaces", "attributes": {"name": "renamed-ws", "auto-apply": true}}}).to_string();
    let r = send(&h.api, Method::PATCH, &format!("/api/v2/workspaces/{id}"), Some(TOKEN), Some(&patch)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"]["attributes"]["name"], "renamed-ws");
    assert_eq!(r.body["data"]["attributes"]["auto-apply"], true);
    let clash = json!({"data": {"attributes": {"name": "internal-vpn"}}}).to_string();
    let r = send(&h.api, Method::PATCH, &format!("/api/v2/workspaces/{id}"), Some(TOKEN), Some(&clash)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    let r = send(&h.api, Method::DELETE, &format!("/api/v2/workspaces/{id}"), Some(TOKEN), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(h.get(&format!("/api/v2/workspaces/{id}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn lock_conflicts() {
    let h = harness(10, 0);
    let ws = WS_FRONTEND_CDN;
    let lock = format!("/api/v2/workspaces/{ws}/actions/lock");
    let unlock = format!("/api/v2/workspaces/{ws}/actions/unlock");
    let force = format!("/api/v2/workspaces/{ws}/actions/force-unlock");

    let r = h.post(&lock, Some(json!({"reason": "maintenance"}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"]["attributes"]["locked"], true);
    assert_eq!(r.body["data"]["attributes"]["locked-reason"], "maintenance");
    assert_eq!(r.body["data"]["relationships"]["locked-by"]["data"]["type"], "users");

    let r = h.post(&lock, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["errors"][0]["status"], "409");

    // Another token's user may not unlock it.
    let r = h.post_as(OTHER_TOKEN, &unlock).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(error_detail(&r).contains("is locked by User sim-user"), "{}", r.text);

    let r = h.post(&unlock, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"]["attributes"]["locked"], false);
    let r = h.post(&unlock, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(error_detail(&r).contains("not locked"));

    let r = h.post(&force, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    h.post(&lock, None).await;
    assert_eq!(h.post_as(OTHER_TOKEN, &force).await.status, StatusCode::OK);

    // The seeded lock belongs to deploy-bot.
    let r = h.post(&format!("/api/v2/workspaces/{WS_PAYMENT_GATEWAY}/actions/unlock"), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(error_detail(&r), "Unable to unlock workspace. The workspace is locked by User deploy-bot.");

    let r = send(&h.api, Method::POST, &lock, Some(TOKEN), Some("{oops")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(h.post("/api/v2/workspaces/ws-nope/actions/lock", None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn run_state_machine() {
    let h = harness_with(5, 0, true);
    let before = h.get(&format!("/api/v2/workspaces/{WS_INTERNAL_VPN}/current-state-version")).await;
    let serial_before = before.body["data"]["attributes"]["serial"].as_u64().unwrap();

    let r = h.post("/api/v2/runs", Some(new_run(WS_INTERNAL_VPN, json!({"message": "rotate keys"})))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let run = &r.body["data"];
    assert_eq!(run["attributes"]["status"], "pending");
    assert_eq!(run["relationships"]["workspace"]["data"]["id"], WS_INTERNAL_VPN);
    let id = run["id"].as_str().unwrap().to_string();
    let plan_id = run["relationships"]["plan"]["data"]["id"].as_str().unwrap().to_string();
    let apply_id = run["relationships"]["apply"]["data"]["id"].as_str().unwrap().to_string();

    // Applying too early is refused with the run's status.
    let early = h.post(&format!("/api/v2/runs/{id}/actions/apply"), None).await;
    if early.status == StatusCode::CONFLICT {
        assert!(error_detail(&early).contains("the run is '"));
    }

    let planned = h.wait_run(&id, |r| r["attributes"]["actions"]["is-confirmable"] == true).await;
    assert_eq!(planned["attributes"]["status"], "planned");
    assert!(planned["attributes"]["status-timestamps"]["planned-at"].is_string());
    let ws = h.get(&format!("/api/v2/workspaces/{WS_INTERNAL_VPN}")).await;
    assert_eq!(ws.body["data"]["relationships"]["locked-by"]["data"]["id"], id.as_str());
    let r = h.post(&format!("/api/v2/workspaces/{WS_INTERNAL_VPN}/actions/unlock"), None).await;
    assert!(error_detail(&r).contains(&format!("is locked by Run {id}")));

    let r = h.post(&format!("/api/v2/runs/{id}/actions/apply"), Some(json!({"comment": "ok"}))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert!(r.text.is_empty());

    let applied = h.wait_run(&id, |r| r["attributes"]["status"] == "applied").await;
    let ts = &applied["attributes"]["status-timestamps"];
    for key in ["plan-queued-at", "planning-at", "planned-at", "confirmed-at", "apply-queued-at", "applying-at", "applied-at"] {
        assert!(ts[key].is_string(), "missing {key}");
    }

    let r = h.post(&format!("/api/v2/runs/{id}/actions/apply"), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(error_detail(&r).contains("applied"));
    assert_eq!(h.post(&format!("/api/v2/runs/{id}/actions/discard"), None).await.status, StatusCode::CONFLICT);
    assert_eq!(h.post(&format!("/api/v2/runs/{id}/actions/cancel"), None).await.status, StatusCode::CONFLICT);

    let plan = h.get(&format!("/api/v2/plans/{plan_id}")).await;
    let log_url = plan.body["data"]["attributes"]["log-read-url"].as_str().unwrap();
    let log = send(&h.blob, Method::GET, log_url.trim_start_matches("http://blob.test"), None, None).await;
    assert!(log.text.starts_with('\u{2}') && log.text.ends_with('\u{3}'), "{:?}", log.text);
    let json_plan = h.get(&format!("/api/v2/plans/{plan_id}/json-output")).await;
    assert_eq!(json_plan.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(plan.body["data"]["type"], "plans");
    assert_eq!(plan.body["data"]["attributes"]["status"], "finished");
    let apply = h.get(&format!("/api/v2/applies/{apply_id}")).await;
    assert_eq!(apply.body["data"]["attributes"]["status"], "finished");

    let after = h.get(&format!("/api/v2/workspaces/{WS_INTERNAL_VPN}/current-state-version")).await;
    assert_eq!(after.body["data"]["attributes"]["serial"].as_u64().unwrap(), serial_before + 1);
    assert_eq!(after.body["data"]["relationships"]["run"]["data"]["id"], id.as_str());
    let outputs = h.get(&format!("/api/v2/workspaces/{WS_INTERNAL_VPN}/current-state-version-outputs")).await;
    assert_eq!(outputs.body["data"].as_array().unwrap().len(), 3);
    let ws = h.get(&format!("/api/v2/workspaces/{WS_INTERNAL_VPN}")).await;
    assert_eq!(ws.body["data"]["attributes"]["locked"], false);

    let listed = h.get(&format!("/api/v2/workspaces/{WS_INTERNAL_VPN}/runs?filter%5Bstatus%5D=applied")).await;
    assert_eq!(listed.body["data"][0]["id"], id.as_str());
    let org_runs = h.get("/api/v2/organizations/acme-corp/runs?filter%5Bstatus%5D=planning").await;
    assert_eq!(org_runs.body["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn plan_only_auto_apply_and_locked_workspaces() {
    let h = harness(5, 0);
    let r = h.post("/api/v2/runs", Some(new_run(WS_FRONTEND_CDN, json!({"plan-only": true})))).await;
    let id = r.body["data"]["id"].as_str().unwrap().to_string();
    let done = h.wait_run(&id, |r| r["attributes"]["status"] == "planned_and_finished").await;
    assert_eq!(done["attributes"]["actions"]["is-confirmable"], false);

    let r = h.post("/api/v2/runs", Some(new_run(WS_FRONTEND_CDN, json!({"auto-apply": true})))).await;
    let id = r.body["data"]["id"].as_str().unwrap().to_string();
    h.wait_run(&id, |r| r["attributes"]["status"] == "applied").await;
    let sv = h.get(&format!("/api/v2/workspaces/{WS_FRONTEND_CDN}/current-state-version")).await;
    assert_eq!(sv.body["data"]["attributes"]["serial"], 1);

    // A run on a user-locked workspace waits in pending and can be discarded.
    let r = h.post("/api/v2/runs", Some(new_run(WS_PAYMENT_GATEWAY, json!({})))).await;
    let id = r.body["data"]["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(h.get(&format!("/api/v2/runs/{id}")).await.body["data"]["attributes"]["status"], "pending");
    assert_eq!(h.post(&format!("/api/v2/runs/{id}/actions/discard"), None).await.status, StatusCode::ACCEPTED);
    assert_eq!(h.get(&format!("/api/v2/runs/{id}")).await.body["data"]["attributes"]["status"], "discarded");
}

#[tokio::test]
async fn run_creation_errors() {
    let h = harness(5, 0);
    let r = h.post("/api/v2/runs", Some(new_run("ws-doesNotExist0000", json!({})))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h.post("/api/v2/runs", Some(json!({"data": {"type": "runs", "attributes": {"message": "x"}}}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = h.post("/api/v2/runs", Some(new_run(WS_FRONTEND_CDN, json!({"plan-only": "yes"})))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = send(&h.api, Method::POST, "/api/v2/runs", Some(TOKEN), Some("[")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = h.post("/api/v2/runs", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(h.get("/api/v2/runs/run-nope").await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.post("/api/v2/runs/run-nope/actions/apply", None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn state_outputs_and_blobs() {
    let h = harness(10, 0);
    let sv = h.get(&format!("/api/v2/workspaces/{WS_INTERNAL_VPN}/current-state-version")).await;
    let attrs = &sv.body["data"]["attributes"];
    assert_eq!(attrs["status"], "finalized");
    assert_eq!(attrs["resources-processed"], true);
    let json_url = attrs["hosted-json-state-download-url"].as_str().unwrap().to_string();
    let raw_url = attrs["hosted-state-download-url"].as_str().unwrap().to_string();
    assert!(json_url.starts_with("http://blob.test/v1/object/"));
    let sv_id = sv.body["data"]["id"].as_str().unwrap().to_string();

    let listed = h.get(&format!("/api/v2/state-versions/{sv_id}/outputs")).await;
    let outputs = listed.body["data"].as_array().unwrap();
    let by_name = |n: &str| outputs.iter().find(|o| o["attributes"]["name"] == n).unwrap().clone();
    assert_eq!(by_name("vpn_encryption_algorithm")["attributes"]["value"], "AES-128");
    assert_eq!(by_name("vpn_gateway_ip")["attributes"]["value"], "10.20.0.1");
    let psk = by_name("vpn_psk");
    assert_eq!(psk["attributes"]["sensitive"], true);
    assert_eq!(psk["attributes"]["value"], Value::Null);
    assert_eq!(psk["attributes"]["detailed-type"], "string");
    assert!(listed.body["meta"]["pagination"].is_object());
    let revealed = h.get(&format!("/api/v2/state-version-outputs/{}", psk["id"].as_str().unwrap())).await;
    let secret = revealed.body["data"]["attributes"]["value"].as_str().unwrap().to_string();
    assert!(!secret.is_empty());

    // The blob origin serves the states without credentials, refuses them with.
    let path = |u: &str| u.trim_start_matches("http://blob.test").to_string();
    let r = send(&h.blob, Method::GET, &path(&json_url), None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["values"]["outputs"]["vpn_encryption_algorithm"]["value"], "AES-128");
    assert_eq!(r.body["values"]["outputs"]["vpn_psk"]["value"], secret.as_str());
    assert!(!r.body["values"]["root_module"]["resources"].as_array().unwrap().is_empty());
    let raw = send(&h.blob, Method::GET, &path(&raw_url), None, None).await;
    assert_eq!(raw.body["version"], 4);
    assert_eq!(raw.body["serial"], attrs["serial"]);
    assert_eq!(raw.body["outputs"]["vpn_psk"]["sensitive"], true);
    let r = send(&h.blob, Method::GET, &path(&json_url), Some(TOKEN), None).await;
    assert!(r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::UNAUTHORIZED);
    assert_eq!(send(&h.blob, Method::GET, "/v1/object/unknown", None, None).await.status, StatusCode::NOT_FOUND);

    let none = h.get(&format!("/api/v2/workspaces/{WS_FRONTEND_CDN}/current-state-version")).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(h.get("/api/v2/state-versions/sv-nope").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn policies() {
    let h = harness(10, 0);
    let r = h.get("/api/v2/organizations/acme-corp/policies").await;
    let items = r.body["data"].as_array().unwrap();
    let level = |n: &str| items.iter().find(|p| p["attributes"]["name"] == n).unwrap()["attributes"]["enforcement-level"].clone();
    assert_eq!(level("require-encryption-aes256"), "hard-mandatory");
    assert_eq!(level("restrict-instance-types"), "soft-mandatory");
    assert_eq!(level("tagging-standards"), "advisory");
    let found = h.get("/api/v2/organizations/acme-corp/policies?search%5Bname%5D=tagging").await;
    assert_eq!(found.body["data"].as_array().unwrap().len(), 1);
    let id = found.body["data"][0]["id"].as_str().unwrap();
    let p = h.get(&format!("/api/v2/policies/{id}")).await;
    assert_eq!(p.body["data"]["attributes"]["kind"], "opa");
    assert_eq!(h.get("/api/v2/organizations/globex/policies").await.body["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn rate_limit_429() {
    let h = harness(10, 2);
    let first = h.get("/api/v2/organizations").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.headers["x-ratelimit-limit"], "2");
    // Windows are one second long; a burst of requests must hit the limit
    // even on a slow machine.
    let mut limited = None;
    for _ in 0..20 {
        let r = h.get("/api/v2/organizations").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("no 429 within 20 requests at 2 per second");
    assert_eq!(r.headers["x-ratelimit-limit"], "2");
    let reset: f64 = r.headers["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert!(reset > 0.0 && reset <= 1.0);
    assert_eq!(r.body, json!({"errors":[{"detail":"You have exceeded the API's rate limit.","status":429,"title":"Too many requests"}]}));
    // Each token has its own budget.
    let other = send(&h.api, Method::GET, "/api/v2/organizations", Some(OTHER_TOKEN), None).await;
    assert_eq!(other.status, StatusCode::OK);

    // Runtime control: switching off clears the limit.
    let r = send(&h.api, Method::PUT, "/_sim/rate-limit", None, Some(r#"{"limit": 0}"#)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(h.get("/api/v2/organizations").await.status, StatusCode::OK);
    assert_eq!(h.get("/api/v2/organizations").await.headers["x-ratelimit-limit"], "30");
    let r = send(&h.api, Method::PUT, "/_sim/rate-limit", None, Some(r#"{"limit": "x"}"#)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn sim_controls() {
    let h = harness(10, 0);
    send(&h.api, Method::DELETE, "/_sim/requests", None, None).await;
    h.get("/api/v2/organizations?page%5Bsize%5D=1").await;
    send(&h.api, Method::GET, "/api/v2/organizations", None, None).await;
    let log = send(&h.api, Method::GET, "/_sim/requests", None, None).await;
    let entries = log.body.as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", log.text);
    assert_eq!(entries[0]["method"], "GET");
    assert_eq!(entries[0]["path"], "/api/v2/organizations");
    assert_eq!(entries[0]["query"], "page%5Bsize%5D=1");
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(entries[1]["status"], 401);
    assert!(entries[0]["ts"].is_string());
    assert!(!log.text.contains(TOKEN));
    send(&h.api, Method::DELETE, "/_sim/requests", None, None).await;
    assert!(send(&h.api, Method::GET, "/_sim/requests", None, None).await.body.as_array().unwrap().is_empty());

    // Reset restores the seeded lock.
    h.post(&format!("/api/v2/workspaces/{WS_PAYMENT_GATEWAY}/actions/force-unlock"), None).await;
    assert_eq!(send(&h.api, Method::POST, "/_sim/reset", None, None).await.status, StatusCode::NO_CONTENT);
    let ws = h.get(&format!("/api/v2/workspaces/{WS_PAYMENT_GATEWAY}")).await;
    assert_eq!(ws.body["data"]["attributes"]["locked"], true);

    let r = send(&h.api, Method::PUT, "/_sim/step-delay", None, Some(r#"{"ms": 1}"#)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(h.sim.step_delay(), Duration::from_millis(1));
}

#[tokio::test]
async fn unknown_routes_are_json_api_errors() {
    let h = harness(10, 0);
    let r = h.get("/api/v2/nothing-here").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["errors"][0]["status"], "404");
    let r = send(&h.api, Method::PUT, "/api/v2/organizations", Some(TOKEN), None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.body["errors"].is_array());
}

#[tokio::test]
async fn generic_records_crud_paging_and_masking() {
    use tfc_sim::kinds::variables::{VAR_REGION, VAR_VPN_PSK};
    let h = harness(10, 0);
    let vars = |ws: &str| format!("/api/v2/workspaces/{ws}/vars");

    // Seeded: a sensitive variable's value never comes back.
    let r = h.get(&vars(WS_INTERNAL_VPN)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"][0]["id"], VAR_VPN_PSK);
    assert_eq!(r.body["data"][0]["attributes"]["value"], Value::Null);
    assert!(!r.text.contains(tfc_sim::seed::VPN_PSK));
    assert_eq!(r.body["data"][0]["relationships"]["configurable"]["data"]["id"], WS_INTERNAL_VPN);
    assert_eq!(r.body["meta"]["pagination"]["total-count"], 1);

    // Create: type checked, required attributes, unique key, 201.
    let body = |key: &str| json!({"data": {"type": "vars", "attributes": {"key": key, "value": "v", "category": "env"}}}).to_string();
    let r = send(&h.api, Method::POST, &vars(WS_FRONTEND_CDN), Some(TOKEN), Some(&body("A"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["data"]["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("var-"));
    assert_eq!(r.body["data"]["attributes"]["hcl"], false);
    let r = send(&h.api, Method::POST, &vars(WS_FRONTEND_CDN), Some(TOKEN), Some(&body("A"))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r =
        send(&h.api, Method::POST, &vars(WS_FRONTEND_CDN), Some(TOKEN), Some(r#"{"data":{"type":"vars","attributes":{"key":"B"}}}"#)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_detail(&r).contains("category"));
    let r = send(&h.api, Method::POST, &vars(WS_FRONTEND_CDN), Some(TOKEN), Some(r#"{"data":{"type":"workspaces"}}"#)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = send(&h.api, Method::POST, &vars("ws-doesnotexist"), Some(TOKEN), Some(&body("C"))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Update merges; the item is only reachable below its own workspace.
    let patch = json!({"data": {"type": "vars", "id": id, "attributes": {"value": "secret", "sensitive": true}}}).to_string();
    let item = format!("{}/{id}", vars(WS_FRONTEND_CDN));
    let r = send(&h.api, Method::PATCH, &item, Some(TOKEN), Some(&patch)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"]["attributes"]["key"], "A");
    assert_eq!(r.body["data"]["attributes"]["value"], Value::Null);
    let r = h.get(&format!("{}/{id}", vars(WS_PAYMENT_GATEWAY))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = h.get(&format!("{}/{VAR_REGION}", vars(WS_PAYMENT_GATEWAY))).await;
    assert_eq!(r.body["data"]["attributes"]["value"], "eu-west-1");

    // Delete, then gone; unknown verbs are 405; tokens still required.
    let r = send(&h.api, Method::DELETE, &item, Some(TOKEN), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(h.get(&item).await.status, StatusCode::NOT_FOUND);
    let r = send(&h.api, Method::PUT, &vars(WS_FRONTEND_CDN), Some(TOKEN), None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = send(&h.api, Method::GET, &vars(WS_FRONTEND_CDN), None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
