//! The run state machine. A background driver per run advances it one step
//! every `step-delay`:
//!
//! ```text
//! pending -> plan_queued -> planning -> planned --(apply)--> confirmed
//!         -> apply_queued -> applying -> applied (new state version)
//! plan-only:  planning -> planned_and_finished
//! auto-apply: planned -> confirmed without waiting
//! ```
//!
//! A run stays `pending` while its workspace is locked by someone else,
//! because locking a workspace "prevents new runs" (HCP Terraform docs), and
//! while an older run of the workspace is unfinished (runs queue). With
//! `run_locks` on, a run that will apply also holds the workspace lock from
//! leaving `pending` until it finishes, like HCP Terraform's run lock.
//! Speculative (plan-only) runs neither take nor wait for locks.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::error::ApiError;
use crate::ids;
use crate::sim::Sim;
use crate::store::{BlobRef, Lock, LockHolder, Phase, ResourceInstance, Run, RunStatus, StateResource, StateVersion, Store, Time};

/// Options of a new run, already validated.
#[derive(Debug, Clone, Default)]
pub struct NewRun {
    pub workspace_id: String,
    pub message: Option<String>,
    pub plan_only: bool,
    pub auto_apply: Option<bool>,
    pub is_destroy: bool,
    pub refresh: Option<bool>,
    pub refresh_only: bool,
    pub allow_empty_apply: bool,
    pub terraform_version: Option<String>,
    pub target_addrs: Vec<String>,
    pub replace_addrs: Vec<String>,
    pub created_by: Option<String>,
}

/// Adds a pending run to the store (no driver yet) and returns its id.
pub fn create(store: &mut Store, new: NewRun, now: Time) -> Result<String, ApiError> {
    let ws = store
        .workspace(&new.workspace_id)
        .ok_or_else(|| ApiError::not_found(format!("Workspace {} not found.", new.workspace_id)))?
        .clone();
    let id = ids::random_id("run");
    let plan_log = ids::random_alnum(40);
    let apply_log = ids::random_alnum(40);
    let plan_json = ids::random_alnum(40);
    store.blobs.insert(plan_log.clone(), BlobRef::PlanLog(id.clone()));
    store.blobs.insert(apply_log.clone(), BlobRef::ApplyLog(id.clone()));
    store.blobs.insert(plan_json.clone(), BlobRef::PlanJson(id.clone()));
    let run = Run {
        id: id.clone(),
        workspace_id: ws.id.clone(),
        status: RunStatus::Pending,
        message: new.message.unwrap_or_else(|| "Triggered via API".to_string()),
        plan_only: new.plan_only,
        auto_apply: new.auto_apply.unwrap_or(ws.auto_apply),
        is_destroy: new.is_destroy,
        refresh: new.refresh.unwrap_or(true),
        refresh_only: new.refresh_only,
        allow_empty_apply: new.allow_empty_apply,
        terraform_version: new.terraform_version.unwrap_or_else(|| ws.terraform_version.clone()),
        target_addrs: new.target_addrs,
        replace_addrs: new.replace_addrs,
        source: "tfe-api".to_string(),
        trigger_reason: "manual".to_string(),
        created_at: now,
        created_by: new.created_by,
        confirmed_by: None,
        status_timestamps: vec![(RunStatus::Pending.timestamp_key(), now)],
        plan: Phase::new(ids::random_id("plan"), plan_log, now),
        apply: Phase::new(ids::random_id("apply"), apply_log, now),
        plan_json_blob: plan_json,
        state_version_id: None,
    };
    store.runs.push(run);
    Ok(id)
}

/// Starts the background driver of a run.
pub fn spawn_driver(sim: Arc<Sim>, run_id: String) {
    let generation = sim.generation();
    tokio::spawn(async move {
        let mut outcome = Step::Advanced;
        loop {
            // A queued run re-checks its lock at least every 10ms, not in a busy loop.
            let delay = match outcome {
                Step::Blocked => sim.step_delay().max(Duration::from_millis(10)),
                _ => sim.step_delay(),
            };
            tokio::time::sleep(delay).await;
            if sim.generation() != generation {
                return;
            }
            outcome = step(&mut sim.store(), &run_id, Utc::now(), sim.run_locks());
            if outcome == Step::Idle {
                tracing::debug!(run = %run_id, "run driver idle");
                return;
            }
        }
    });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The run moved to its next status.
    Advanced,
    /// The run is queued behind a lock or an older run; try again later.
    Blocked,
    /// Nothing to do: final, waiting for confirmation, or gone.
    Idle,
}

/// Advances `run_id` by one transition. `run_locks`: whether an active run
/// holds the workspace lock.
pub fn step(store: &mut Store, run_id: &str, now: Time, run_locks: bool) -> Step {
    let Some(run) = store.run(run_id) else {
        return Step::Idle;
    };
    match run.status {
        RunStatus::Pending => {
            if !can_start(store, run) {
                return Step::Blocked;
            }
            let (plan_only, ws_id) = (run.plan_only, run.workspace_id.clone());
            if run_locks
                && !plan_only
                && let Some(ws) = store.workspace_mut(&ws_id)
            {
                ws.lock = Some(Lock { holder: LockHolder::Run(run_id.to_string()), reason: String::new() });
            }
            let run = store.run_mut(run_id).expect("run exists");
            run.set_status(RunStatus::PlanQueued, now);
            run.plan.set("queued", "queued-at", now);
            Step::Advanced
        }
        RunStatus::PlanQueued => {
            let run = store.run_mut(run_id).expect("run exists");
            run.set_status(RunStatus::Planning, now);
            run.plan.set("running", "started-at", now);
            Step::Advanced
        }
        RunStatus::Planning => {
            let (adds, changes, destroys) = plan_counts(store, run);
            let run = store.run_mut(run_id).expect("run exists");
            run.plan.additions = adds;
            run.plan.changes = changes;
            run.plan.destructions = destroys;
            run.plan.set("finished", "finished-at", now);
            if run.plan_only {
                run.set_status(RunStatus::PlannedAndFinished, now);
                run.apply.status = "unreachable";
                let ws_id = run.workspace_id.clone();
                release_lock(store, &ws_id, run_id);
            } else {
                run.set_status(RunStatus::Planned, now);
            }
            Step::Advanced
        }
        RunStatus::Planned | RunStatus::PostPlanCompleted if run.auto_apply && !run.plan_only => {
            let run = store.run_mut(run_id).expect("run exists");
            run.set_status(RunStatus::Confirmed, now);
            Step::Advanced
        }
        RunStatus::Confirmed => {
            let run = store.run_mut(run_id).expect("run exists");
            run.set_status(RunStatus::ApplyQueued, now);
            run.apply.set("queued", "queued-at", now);
            Step::Advanced
        }
        RunStatus::ApplyQueued => {
            let run = store.run_mut(run_id).expect("run exists");
            run.set_status(RunStatus::Applying, now);
            run.apply.set("running", "started-at", now);
            Step::Advanced
        }
        RunStatus::Applying => {
            let sv_id = write_state_version(store, run_id, now);
            let run = store.run_mut(run_id).expect("run exists");
            run.apply.additions = run.plan.additions;
            run.apply.changes = run.plan.changes;
            run.apply.destructions = run.plan.destructions;
            run.apply.set("finished", "finished-at", now);
            run.state_version_id = sv_id;
            run.set_status(RunStatus::Applied, now);
            let ws_id = run.workspace_id.clone();
            release_lock(store, &ws_id, run_id);
            Step::Advanced
        }
        _ => Step::Idle,
    }
}

/// Whether a pending run may leave the queue now.
fn can_start(store: &Store, run: &Run) -> bool {
    if run.plan_only {
        return true;
    }
    let Some(ws) = store.workspace(&run.workspace_id) else {
        return false;
    };
    if let Some(lock) = &ws.lock
        && lock.holder != LockHolder::Run(run.id.clone())
    {
        return false;
    }
    // First in, first out, and one active run per workspace.
    let ahead = store
        .runs
        .iter()
        .take_while(|r| r.id != run.id)
        .any(|r| r.workspace_id == run.workspace_id && !r.plan_only && !r.status.is_final());
    !ahead
}

fn plan_counts(store: &Store, run: &Run) -> (u32, u32, u32) {
    let prior = store.current_state_version(&run.workspace_id);
    if run.is_destroy {
        let n = prior.map(|sv| sv.instance_count()).unwrap_or(0) as u32;
        (0, 0, n)
    } else if run.refresh_only {
        (0, 0, 0)
    } else if prior.map(|sv| sv.instance_count()).unwrap_or(0) == 0 {
        (1, 0, 0)
    } else {
        (0, 1, 0)
    }
}

fn release_lock(store: &mut Store, ws_id: &str, run_id: &str) {
    if let Some(ws) = store.workspace_mut(ws_id)
        && ws.lock.as_ref().map(|l| &l.holder) == Some(&LockHolder::Run(run_id.to_string()))
    {
        ws.lock = None;
    }
}

/// Writes the state an apply produces: the previous state with serial+1
/// (or an empty one for destroy runs) and makes it current.
fn write_state_version(store: &mut Store, run_id: &str, now: Time) -> Option<String> {
    let run = store.run(run_id)?.clone();
    if run.refresh_only && store.current_state_version(&run.workspace_id).is_none() {
        return None;
    }
    let prior = store.current_state_version(&run.workspace_id).cloned();
    let (outputs, resources) = match (&prior, run.is_destroy) {
        (_, true) => (Vec::new(), Vec::new()),
        (Some(p), false) => (
            p.outputs.iter().map(|o| crate::store::StateOutput { id: ids::random_id("wsout"), ..o.clone() }).collect(),
            p.resources.clone(),
        ),
        (None, false) => (
            Vec::new(),
            vec![StateResource {
                module: None,
                mode: "managed".into(),
                type_name: "null_resource".into(),
                name: "this".into(),
                provider: "provider[\"registry.terraform.io/hashicorp/null\"]".into(),
                instances: vec![ResourceInstance {
                    index_key: None,
                    attributes: serde_json::json!({"id": ids::random_alnum(19), "triggers": {"run": run.id}}),
                }],
            }],
        ),
    };
    let sv = StateVersion {
        id: ids::random_id("sv"),
        workspace_id: run.workspace_id.clone(),
        serial: prior.as_ref().map(|p| p.serial + 1).unwrap_or(1),
        lineage: prior.as_ref().map(|p| p.lineage.clone()).unwrap_or_else(ids::lineage),
        terraform_version: run.terraform_version.clone(),
        created_at: now,
        run_id: Some(run.id.clone()),
        created_by: run.confirmed_by.clone().or(run.created_by.clone()),
        outputs,
        resources,
        state_blob: ids::random_alnum(40),
        json_blob: ids::random_alnum(40),
    };
    let id = sv.id.clone();
    store.blobs.insert(sv.state_blob.clone(), BlobRef::State(id.clone()));
    store.blobs.insert(sv.json_blob.clone(), BlobRef::JsonState(id.clone()));
    store.state_versions.push(sv);
    if let Some(ws) = store.workspace_mut(&run.workspace_id) {
        ws.current_state_version = Some(id.clone());
        ws.updated_at = now;
    }
    Some(id)
}

// ------------------------------------------------------------------ actions

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Apply,
    Discard,
    Cancel,
    ForceCancel,
}

impl Action {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "apply" => Some(Action::Apply),
            "discard" => Some(Action::Discard),
            "cancel" => Some(Action::Cancel),
            "force-cancel" => Some(Action::ForceCancel),
            _ => None,
        }
    }
}

/// Applies a run action. `Ok(true)` means the run needs its driver restarted.
pub fn act(store: &mut Store, run_id: &str, action: Action, user_id: &str, now: Time) -> Result<bool, ApiError> {
    let run = store.run(run_id).ok_or_else(|| ApiError::not_found(format!("Run {run_id} not found.")))?;
    let status = run.status;
    let ws_id = run.workspace_id.clone();
    match action {
        Action::Apply => {
            if !status.awaits_confirmation() || run.plan_only {
                return Err(ApiError::conflict(format!(
                    "Unable to apply run {run_id}: the run is '{}'. Only a run waiting for confirmation \
                     (planned, cost_estimated, policy_checked) can be applied.",
                    status.as_str()
                )));
            }
            let run = store.run_mut(run_id).expect("run exists");
            run.confirmed_by = Some(user_id.to_string());
            run.set_status(RunStatus::Confirmed, now);
            Ok(true)
        }
        Action::Discard => {
            if !(status == RunStatus::Pending || status.awaits_decision() || (status.awaits_confirmation() && !run.plan_only)) {
                return Err(ApiError::conflict(format!(
                    "Unable to discard run {run_id}: the run is '{}'. Only a pending run or one waiting \
                     for confirmation can be discarded.",
                    status.as_str()
                )));
            }
            let run = store.run_mut(run_id).expect("run exists");
            if run.plan.status == "pending" {
                run.plan.status = "unreachable";
            }
            run.apply.status = "unreachable";
            run.set_status(RunStatus::Discarded, now);
            release_lock(store, &ws_id, run_id);
            Ok(false)
        }
        Action::Cancel => {
            if !matches!(status, RunStatus::Planning | RunStatus::Applying) {
                return Err(ApiError::conflict(format!(
                    "Unable to cancel run {run_id}: the run is '{}'. Only a planning or applying run \
                     can be canceled.",
                    status.as_str()
                )));
            }
            let run = store.run_mut(run_id).expect("run exists");
            if status == RunStatus::Planning {
                run.plan.set("canceled", "canceled-at", now);
                run.apply.status = "unreachable";
            } else {
                run.apply.set("canceled", "canceled-at", now);
            }
            run.set_status(RunStatus::Canceled, now);
            release_lock(store, &ws_id, run_id);
            Ok(false)
        }
        Action::ForceCancel => Err(ApiError::conflict(format!(
            "Unable to force-cancel run {run_id}: the run is '{}'. Force-cancel is only available \
             after a cancel request and its cool-off period.",
            status.as_str()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_ws() -> (Store, String) {
        let store = crate::seed::seed(&[]);
        let id = store.workspace_by_name("acme-corp", "frontend-cdn").unwrap().id.clone();
        (store, id)
    }

    fn drive(store: &mut Store, id: &str) -> RunStatus {
        while step(store, id, Utc::now(), true) == Step::Advanced {}
        store.run(id).unwrap().status
    }

    #[test]
    fn normal_run_waits_for_confirmation_then_applies() {
        let (mut store, ws) = store_with_ws();
        let id = create(&mut store, NewRun { workspace_id: ws.clone(), ..Default::default() }, Utc::now()).unwrap();
        assert_eq!(drive(&mut store, &id), RunStatus::Planned);
        // The run holds the workspace lock while it is active.
        assert_eq!(store.workspace(&ws).unwrap().lock.as_ref().unwrap().holder, LockHolder::Run(id.clone()));
        assert!(act(&mut store, &id, Action::Apply, "user-x", Utc::now()).unwrap());
        assert_eq!(drive(&mut store, &id), RunStatus::Applied);
        let run = store.run(&id).unwrap();
        for key in ["plan-queued-at", "planning-at", "planned-at", "confirmed-at", "apply-queued-at", "applying-at", "applied-at"] {
            assert!(run.timestamp(key).is_some(), "{key}");
        }
        let sv = store.current_state_version(&ws).unwrap();
        assert_eq!(sv.serial, 1);
        assert!(store.workspace(&ws).unwrap().lock.is_none());
    }

    #[test]
    fn without_run_locks_runs_still_queue() {
        let (mut store, ws) = store_with_ws();
        let first = create(&mut store, NewRun { workspace_id: ws.clone(), ..Default::default() }, Utc::now()).unwrap();
        while step(&mut store, &first, Utc::now(), false) == Step::Advanced {}
        assert_eq!(store.run(&first).unwrap().status, RunStatus::Planned);
        assert!(store.workspace(&ws).unwrap().lock.is_none());
        let second = create(&mut store, NewRun { workspace_id: ws, ..Default::default() }, Utc::now()).unwrap();
        assert_eq!(step(&mut store, &second, Utc::now(), false), Step::Blocked);
    }

    #[test]
    fn plan_only_and_auto_apply() {
        let (mut store, ws) = store_with_ws();
        let po = create(&mut store, NewRun { workspace_id: ws.clone(), plan_only: true, ..Default::default() }, Utc::now()).unwrap();
        assert_eq!(drive(&mut store, &po), RunStatus::PlannedAndFinished);
        let aa = create(&mut store, NewRun { workspace_id: ws.clone(), auto_apply: Some(true), ..Default::default() }, Utc::now()).unwrap();
        assert_eq!(drive(&mut store, &aa), RunStatus::Applied);
    }

    #[test]
    fn an_auto_apply_run_is_never_confirmable() {
        let (mut store, ws) = store_with_ws();
        let id = create(&mut store, NewRun { workspace_id: ws, auto_apply: Some(true), ..Default::default() }, Utc::now()).unwrap();
        let mut seen = Vec::new();
        loop {
            let run = store.run(&id).unwrap();
            seen.push(run.status);
            let doc = crate::jsonapi::run(run);
            assert_eq!(doc["attributes"]["actions"]["is-confirmable"], false, "{:?}", run.status);
            if step(&mut store, &id, Utc::now(), true) != Step::Advanced {
                break;
            }
        }
        assert!(seen.contains(&RunStatus::Planned), "{seen:?}");
        assert_eq!(store.run(&id).unwrap().status, RunStatus::Applied);
        // A normal run in `planned` is.
        let (mut store, ws) = store_with_ws();
        let id = create(&mut store, NewRun { workspace_id: ws, ..Default::default() }, Utc::now()).unwrap();
        assert_eq!(drive(&mut store, &id), RunStatus::Planned);
        assert_eq!(crate::jsonapi::run(store.run(&id).unwrap())["attributes"]["actions"]["is-confirmable"], true);
    }

    #[test]
    fn apply_is_refused_unless_planned() {
        let (mut store, ws) = store_with_ws();
        let id = create(&mut store, NewRun { workspace_id: ws, ..Default::default() }, Utc::now()).unwrap();
        let err = act(&mut store, &id, Action::Apply, "u", Utc::now()).unwrap_err();
        assert_eq!(err.status, axum::http::StatusCode::CONFLICT);
        assert!(err.detail.contains("pending"));
        assert!(act(&mut store, &id, Action::Cancel, "u", Utc::now()).is_err());
        assert!(!act(&mut store, &id, Action::Discard, "u", Utc::now()).unwrap());
        assert_eq!(store.run(&id).unwrap().status, RunStatus::Discarded);
    }

    #[test]
    fn user_lock_keeps_runs_pending() {
        let (mut store, ws) = store_with_ws();
        store.workspace_mut(&ws).unwrap().lock = Some(Lock { holder: LockHolder::User("u".into()), reason: String::new() });
        let id = create(&mut store, NewRun { workspace_id: ws.clone(), ..Default::default() }, Utc::now()).unwrap();
        assert_eq!(step(&mut store, &id, Utc::now(), true), Step::Blocked);
        store.workspace_mut(&ws).unwrap().lock = None;
        assert_eq!(drive(&mut store, &id), RunStatus::Planned);
        // A second run queues behind the first.
        let second = create(&mut store, NewRun { workspace_id: ws, ..Default::default() }, Utc::now()).unwrap();
        assert_eq!(step(&mut store, &second, Utc::now(), true), Step::Blocked);
        act(&mut store, &id, Action::Discard, "u", Utc::now()).unwrap();
        assert_eq!(drive(&mut store, &second), RunStatus::Planned);
    }
}
