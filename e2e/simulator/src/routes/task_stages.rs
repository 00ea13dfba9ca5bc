//! `POST /task-stages/:id/actions/override`: a stage `awaiting_override`
//! (failed mandatory run tasks or policy evaluations) passes, its failed
//! policy evaluations become `overridden`, and its run, waiting at
//! `post_plan_awaiting_decision`, moves on to `post_plan_completed`, where
//! it waits for confirmation (or applies, with auto-apply). Anything else
//! is a 409 that changes nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use chrono::Utc;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::jsonapi;
use crate::kinds::run_tasks::{POLICY_EVALUATION, TASK_STAGE};
use crate::records;
use crate::runs;
use crate::sim::Sim;
use crate::store::RunStatus;

const API: &str = "/api/v2";

pub async fn override_stage(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    // The optional `{"comment": ..}` body is accepted but not stored.
    if !body.is_empty() {
        jsonapi::parse_body(&body)?;
    }
    let now = Utc::now();
    let (rendered, run_id, restart) = {
        let mut store = sim.store();
        let stage = store
            .records
            .iter()
            .find(|r| r.type_ == TASK_STAGE.type_ && r.id == id)
            .ok_or_else(|| ApiError::not_found("Task stage not found."))?;
        let status = stage.attributes.get("status").and_then(Value::as_str).unwrap_or("unknown").to_string();
        let run_id = stage.parent.clone();
        let run_status = store.run(&run_id).map(|r| r.status);
        if status != "awaiting_override" {
            return Err(ApiError::conflict(format!(
                "Task stage {id} is '{status}' and cannot be overridden: only a stage awaiting override can."
            )));
        }
        if run_status != Some(RunStatus::PostPlanAwaitingDecision) {
            let s = run_status.map(RunStatus::as_str).unwrap_or("gone");
            return Err(ApiError::conflict(format!("Task stage {id} cannot be overridden: its run is '{s}'.")));
        }
        let evaluations = stage.rel_ids("policy-evaluations");
        let ts = jsonapi::ts(now);
        for r in store.records.iter_mut() {
            if r.type_ == POLICY_EVALUATION.type_ && evaluations.contains(&r.id) && r.attributes.get("status") == Some(&json!("failed")) {
                r.attributes.insert("status".into(), json!("overridden"));
                stamp(&mut r.attributes, "overridden-at", &ts);
            }
        }
        let stage = store.records.iter_mut().find(|r| r.type_ == TASK_STAGE.type_ && r.id == id).expect("found above");
        stage.attributes.insert("status".into(), json!("passed"));
        stage.attributes.insert("actions".into(), json!({"is-overridable": false}));
        stage.attributes.insert("updated-at".into(), json!(ts));
        stamp(&mut stage.attributes, "passed-at", &ts);
        let rendered = records::render(&TASK_STAGE, stage, API);
        let run = store.run_mut(&run_id).expect("checked above");
        run.set_status(RunStatus::PostPlanCompleted, now);
        (rendered, run_id, run.auto_apply)
    };
    if restart {
        runs::spawn_driver(sim.clone(), run_id);
    }
    Ok(jsonapi::ok(json!({"data": rendered})))
}

fn stamp(attrs: &mut serde_json::Map<String, Value>, key: &str, ts: &str) {
    let entry = attrs.entry("status-timestamps").or_insert_with(|| json!({}));
    if let Value::Object(m) = entry {
        m.insert(key.into(), json!(ts));
    }
}
