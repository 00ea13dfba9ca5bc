//! Variable sets with their variables and scopes, run tasks, task stages
//! with their override, policy evaluations, and state rollback, driven
//! in-process like `api.rs`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use tfc_sim::kinds::run_tasks::{ACME_HMAC_KEY, GLOBEX_HMAC_KEY, TASK_ACME, acme_workspace, awaiting_run};
use tfc_sim::kinds::state_history;
use tfc_sim::kinds::variable_sets::{AWS_SECRET_ACCESS_KEY, GLOBEX_API_TOKEN, VAR_AWS_SECRET, VARSET_ACME_PROJECT, VARSET_AWS};
use tfc_sim::seed::{ORG, SECOND_ORG, WS_FRONTEND_CDN, WS_GLOBEX_APP, WS_PAYMENT_GATEWAY};
use tfc_sim::{Sim, SimConfig, api_router};

const TOKEN: &str = "sim-token";
const OTHER_TOKEN: &str = "other-token";

struct Reply {
    status: StatusCode,
    body: Value,
    text: String,
}

fn api() -> (Arc<Sim>, Router) {
    let sim = Sim::new(SimConfig {
        tokens: vec![TOKEN.into(), OTHER_TOKEN.into()],
        step_delay_ms: 5,
        rate_limit: 0,
        run_locks: false,
        api_base: "http://api.test".into(),
        blob_base: "http://blob.test".into(),
    });
    (sim.clone(), api_router(sim))
}

async fn send(app: &Router, method: Method, uri: &str, token: &str, body: Option<Value>) -> Reply {
    let mut req = Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {token}"));
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/vnd.api+json");
    }
    let req = req.body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty)).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).to_string();
    Reply { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null), text }
}

async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Method::GET, uri, TOKEN, None).await
}

fn ids(r: &Reply) -> Vec<String> {
    r.body["data"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn variable_sets_their_variables_and_scopes() {
    let (_sim, app) = api();
    let r = get(&app, &format!("/api/v2/organizations/{ORG}/varsets")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ids(&r), [VARSET_AWS, VARSET_ACME_PROJECT]);
    assert_eq!(r.body["data"][1]["relationships"]["parent"]["data"]["type"], "projects");

    // Variables: a sensitive value never comes back.
    let vars = format!("/api/v2/varsets/{VARSET_AWS}/relationships/vars");
    let r = get(&app, &vars).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
    assert!(!r.text.contains(AWS_SECRET_ACCESS_KEY), "{}", r.text);
    assert_eq!(r.body["data"][1]["relationships"]["varset"]["data"]["id"], VARSET_AWS);
    let body =
        json!({"data": {"type": "vars", "attributes": {"key": "TOKEN", "value": "s3cr3t-value-1", "category": "env", "sensitive": true}}});
    let r = send(&app, Method::POST, &vars, TOKEN, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(!r.text.contains("s3cr3t-value-1"));
    let id = r.body["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(send(&app, Method::POST, &vars, TOKEN, Some(body)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = send(
        &app,
        Method::PATCH,
        &format!("{vars}/{id}"),
        TOKEN,
        Some(json!({"data": {"type": "vars", "attributes": {"description": "d"}}})),
    )
    .await;
    assert_eq!((r.status, &r.body["data"]["attributes"]["value"]), (StatusCode::OK, &Value::Null));
    // Another set's variable is not reachable below this set.
    let other = format!("/api/v2/varsets/{VARSET_ACME_PROJECT}/relationships/vars/{VAR_AWS_SECRET}");
    assert_eq!(get(&app, &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, Method::DELETE, &format!("{vars}/{id}"), TOKEN, None).await.status, StatusCode::NO_CONTENT);

    // Scopes: payment-gateway gets the set applied to it and the one applied to its project.
    let ws_sets = format!("/api/v2/workspaces/{WS_PAYMENT_GATEWAY}/varsets");
    assert_eq!(ids(&get(&app, &ws_sets).await), [VARSET_AWS, VARSET_ACME_PROJECT]);
    let r = get(&app, "/api/v2/projects/prj-AcmeDefault0001/varsets").await;
    assert_eq!(ids(&r), [VARSET_ACME_PROJECT]);
    assert_eq!(get(&app, "/api/v2/workspaces/ws-nope/varsets").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/api/v2/projects/prj-nope/varsets").await.status, StatusCode::NOT_FOUND);

    // Apply to and remove from a workspace.
    let rel = format!("/api/v2/varsets/{VARSET_AWS}/relationships/workspaces");
    let list = |ws: &str| json!({"data": [{"type": "workspaces", "id": ws}]});
    assert_eq!(send(&app, Method::POST, &rel, TOKEN, Some(list(WS_FRONTEND_CDN))).await.status, StatusCode::NO_CONTENT);
    assert!(ids(&get(&app, &format!("/api/v2/workspaces/{WS_FRONTEND_CDN}/varsets")).await).contains(&VARSET_AWS.to_string()));
    assert_eq!(send(&app, Method::DELETE, &rel, TOKEN, Some(list(WS_PAYMENT_GATEWAY))).await.status, StatusCode::NO_CONTENT);
    assert_eq!(ids(&get(&app, &ws_sets).await), [VARSET_ACME_PROJECT]);
    assert_eq!(send(&app, Method::POST, &rel, TOKEN, Some(list("ws-nope"))).await.status, StatusCode::NOT_FOUND);

    // A project-owned set, created with its parent; deleting a set deletes its variables.
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v2/organizations/{ORG}/varsets"),
        TOKEN,
        Some(json!({"data": {"type": "varsets", "attributes": {"name": "owned"},
            "relationships": {"parent": {"data": {"type": "projects", "id": "prj-AcmeDefault0001"}}}}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let owned = r.body["data"]["id"].as_str().unwrap().to_string();
    assert!(ids(&get(&app, "/api/v2/projects/prj-AcmeDefault0001/varsets").await).contains(&owned));
    assert_eq!(send(&app, Method::DELETE, &format!("/api/v2/varsets/{VARSET_AWS}"), TOKEN, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(get(&app, &vars).await.status, StatusCode::NOT_FOUND);

    // The other organization's secrets never show either.
    let r = get(&app, &format!("/api/v2/organizations/{SECOND_ORG}/varsets")).await;
    let globex_set = ids(&r)[0].clone();
    let r = get(&app, &format!("/api/v2/varsets/{globex_set}/relationships/vars")).await;
    assert!(!r.text.contains(GLOBEX_API_TOKEN) && r.status == StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn run_tasks_never_return_their_hmac_key() {
    let (_sim, app) = api();
    let r = get(&app, &format!("/api/v2/organizations/{ORG}/tasks")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ids(&r), [TASK_ACME]);
    assert!(!r.text.contains(ACME_HMAC_KEY) && !r.text.contains("hmac"), "{}", r.text);
    let r = get(&app, &format!("/api/v2/organizations/{SECOND_ORG}/tasks")).await;
    assert!(!r.text.contains(GLOBEX_HMAC_KEY));
    let r = send(
        &app,
        Method::POST,
        &format!("/api/v2/organizations/{ORG}/tasks"),
        TOKEN,
        Some(json!({"data": {"type": "tasks", "attributes": {"name": "cost-check", "url": "https://c.example", "category": "task",
            "hmac-key": "brand-new-hmac-key"}}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(!r.text.contains("brand-new-hmac-key"));
    let task = r.body["data"]["id"].as_str().unwrap().to_string();
    let r = get(&app, &format!("/api/v2/tasks/{task}")).await;
    assert!(!r.text.contains("brand-new-hmac-key") && r.body["data"]["attributes"]["enabled"] == json!(true), "{}", r.text);

    // Associate with a workspace, update, remove.
    let coll = format!("/api/v2/workspaces/{WS_FRONTEND_CDN}/tasks");
    let r = send(
        &app,
        Method::POST,
        &coll,
        TOKEN,
        Some(json!({"data": {"type": "workspace-tasks", "attributes": {"enforcement-level": "advisory", "stages": ["pre_plan"]},
            "relationships": {"task": {"data": {"type": "tasks", "id": task}}}}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let wst = r.body["data"]["id"].as_str().unwrap().to_string();
    assert!(wst.starts_with("wstask-"));
    assert_eq!(r.body["data"]["relationships"]["task"]["data"]["id"], task.as_str());
    let r = send(
        &app,
        Method::PATCH,
        &format!("{coll}/{wst}"),
        TOKEN,
        Some(json!({"data": {"type": "workspace-tasks", "attributes": {"enforcement-level": "mandatory"}}})),
    )
    .await;
    assert_eq!(r.body["data"]["attributes"]["enforcement-level"], "mandatory");
    assert_eq!(get(&app, &format!("/api/v2/workspaces/{WS_PAYMENT_GATEWAY}/tasks/{wst}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, Method::DELETE, &format!("{coll}/{wst}"), TOKEN, None).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn overriding_a_task_stage_lets_the_run_continue() {
    let (_sim, app) = api();
    let ids_ = awaiting_run(ORG, &acme_workspace());
    let r = get(&app, &format!("/api/v2/runs/{}", ids_.run)).await;
    assert_eq!(r.body["data"]["attributes"]["status"], "post_plan_awaiting_decision", "{}", r.text);
    assert_eq!(r.body["data"]["attributes"]["actions"]["is-confirmable"], false);
    assert_eq!(r.body["data"]["attributes"]["actions"]["is-discardable"], true);

    let r = get(&app, &format!("/api/v2/runs/{}/task-stages", ids_.run)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let stage = &r.body["data"][0];
    assert_eq!((stage["id"].as_str().unwrap(), &stage["attributes"]["status"]), (ids_.stage.as_str(), &json!("awaiting_override")));
    assert_eq!(stage["relationships"]["task-results"]["data"][0]["id"], ids_.result.as_str());
    let r = get(&app, &format!("/api/v2/task-results/{}", ids_.result)).await;
    assert_eq!(r.body["data"]["attributes"]["status"], "failed");
    assert_eq!(r.body["data"]["attributes"]["workspace-task-enforcement-level"], "mandatory");
    let r = get(&app, &format!("/api/v2/task-stages/{}/policy-evaluations", ids_.stage)).await;
    assert_eq!(
        (r.body["data"][0]["attributes"]["status"].as_str(), r.body["data"][0]["attributes"]["policy-kind"].as_str()),
        (Some("failed"), Some("opa"))
    );
    let r = get(&app, &format!("/api/v2/policy-evaluations/{}/policy-set-outcomes", ids_.evaluation)).await;
    assert_eq!(r.body["data"][0]["attributes"]["outcomes"][0]["status"], "failed", "{}", r.text);
    assert_eq!(get(&app, &format!("/api/v2/policy-set-outcomes/{}", ids_.outcome)).await.status, StatusCode::OK);

    // Apply is refused while the stage waits.
    assert_eq!(
        send(&app, Method::POST, &format!("/api/v2/runs/{}/actions/apply", ids_.run), TOKEN, None).await.status,
        StatusCode::CONFLICT
    );

    let over = format!("/api/v2/task-stages/{}/actions/override", ids_.stage);
    let r = send(&app, Method::POST, &over, TOKEN, Some(json!({"comment": "accepted risk"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"]["attributes"]["status"], "passed");
    assert_eq!(r.body["data"]["attributes"]["actions"]["is-overridable"], false);
    let r = get(&app, &format!("/api/v2/task-stages/{}/policy-evaluations", ids_.stage)).await;
    assert_eq!(r.body["data"][0]["attributes"]["status"], "overridden");
    let r = get(&app, &format!("/api/v2/runs/{}", ids_.run)).await;
    assert_eq!(r.body["data"]["attributes"]["status"], "post_plan_completed");
    assert_eq!(r.body["data"]["attributes"]["actions"]["is-confirmable"], true);

    // A second override is a clear conflict that changes nothing.
    let r = send(&app, Method::POST, &over, TOKEN, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text.contains("passed") && r.text.contains("cannot be overridden"), "{}", r.text);
    assert_eq!(get(&app, &format!("/api/v2/runs/{}", ids_.run)).await.body["data"]["attributes"]["status"], "post_plan_completed");
    assert_eq!(send(&app, Method::POST, "/api/v2/task-stages/ts-nope/actions/override", TOKEN, None).await.status, StatusCode::NOT_FOUND);

    // The run applies.
    assert_eq!(
        send(&app, Method::POST, &format!("/api/v2/runs/{}/actions/apply", ids_.run), TOKEN, None).await.status,
        StatusCode::ACCEPTED
    );
    for _ in 0..400 {
        if get(&app, &format!("/api/v2/runs/{}", ids_.run)).await.body["data"]["attributes"]["status"] == "applied" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(get(&app, &format!("/api/v2/runs/{}", ids_.run)).await.body["data"]["attributes"]["status"], "applied");

    // The other organization's waiting run can be discarded; its stage then cannot be overridden.
    let g = awaiting_run(SECOND_ORG, WS_GLOBEX_APP);
    assert_eq!(
        send(&app, Method::POST, &format!("/api/v2/runs/{}/actions/discard", g.run), TOKEN, None).await.status,
        StatusCode::ACCEPTED
    );
    let r = send(&app, Method::POST, &format!("/api/v2/task-stages/{}/actions/override", g.stage), TOKEN, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(get(&app, &format!("/api/v2/task-stages/{}", g.stage)).await.body["data"]["attributes"]["status"], "awaiting_override");
}

#[tokio::test]
async fn state_rollback_needs_the_callers_lock() {
    let (_sim, app) = api();
    let ws = state_history::workspace();
    let old = state_history::state_version_id(1);
    let path = format!("/api/v2/workspaces/{ws}/state-versions");
    let body = |sv: &str| json!({"data": {"type": "state-versions", "relationships": {"rollback-state-version": {"data": {"type": "state-versions", "id": sv}}}}});
    let current = || async { get(&app, &format!("/api/v2/workspaces/{ws}/current-state-version")).await.body["data"]["id"].clone() };
    assert_eq!(current().await, json!(state_history::state_version_id(2)));

    let r = send(&app, Method::PATCH, &path, TOKEN, Some(body(&old))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.text.contains("must be locked"), "{}", r.text);
    // Locked by someone else: still refused.
    assert_eq!(
        send(&app, Method::POST, &format!("/api/v2/workspaces/{ws}/actions/lock"), OTHER_TOKEN, Some(json!({}))).await.status,
        StatusCode::OK
    );
    assert_eq!(send(&app, Method::PATCH, &path, TOKEN, Some(body(&old))).await.status, StatusCode::CONFLICT);
    assert_eq!(
        send(&app, Method::POST, &format!("/api/v2/workspaces/{ws}/actions/unlock"), OTHER_TOKEN, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, Method::POST, &format!("/api/v2/workspaces/{ws}/actions/lock"), TOKEN, Some(json!({}))).await.status,
        StatusCode::OK
    );
    // A state version of another workspace, or none: 422, nothing changes.
    let foreign =
        get(&app, &format!("/api/v2/workspaces/{}/current-state-version", tfc_sim::seed::WS_INTERNAL_VPN)).await.body["data"]["id"]
            .as_str()
            .unwrap()
            .to_string();
    assert_eq!(send(&app, Method::PATCH, &path, TOKEN, Some(body(&foreign))).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        send(&app, Method::PATCH, &path, TOKEN, Some(json!({"data": {"type": "state-versions"}}))).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(current().await, json!(state_history::state_version_id(2)));

    let r = send(&app, Method::PATCH, &path, TOKEN, Some(body(&old))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"]["attributes"]["serial"], 3);
    assert_eq!(r.body["data"]["relationships"]["rollback-state-version"]["data"]["id"], old.as_str());
    assert_eq!(current().await, r.body["data"]["id"]);
    let r = get(&app, &format!("/api/v2/workspaces/{ws}/current-state-version")).await;
    assert_eq!(r.body["data"]["attributes"]["resources"][0]["type"], "aws_eks_node_group");
    assert_eq!(
        send(&app, Method::PATCH, "/api/v2/workspaces/ws-nope/state-versions", TOKEN, Some(body(&old))).await.status,
        StatusCode::NOT_FOUND
    );
}
