//! Run tasks (`/organizations/:org/tasks`, `/tasks/:id`), workspace
//! associations (`/workspaces/:id/tasks`), a run's task stages and task
//! results, and the policy evaluations of a stage with their policy-set
//! outcomes, shaped like the run-tasks, run-task-stages-and-results and
//! policy-evaluations samples. A run task's HMAC key is write-only.
//!
//! The seed holds, in each organization, one run stopped at
//! `post_plan_awaiting_decision`: its post-plan stage is `awaiting_override`
//! with a failed mandatory task result and a failed OPA policy evaluation.
//! Overriding the stage is behaviour, in [`crate::routes::task_stages`].

use serde_json::{Value, json};

use crate::ids::{derived_id, random_alnum};
use crate::records::{Kind, Ops, Parent, READ_ONLY, Record};
use crate::seed::{DEPLOY_BOT_ID, ORG, SECOND_ORG, WS_GLOBEX_APP};
use crate::store::{BlobRef, Phase, Run, RunStatus, Store, Time};

pub const RUN_TASK: Kind = Kind {
    required: &["name", "url", "category"],
    unique: Some("name"),
    // The documentation's samples spell it both ways.
    write_only: &["hmac-key", "hmac_key"],
    defaults: run_task_defaults,
    ..Kind::new("tasks", "task", "/organizations/{parent}/tasks", "/tasks/{id}", Parent::Organization, Some("organization"))
};

pub const WORKSPACE_TASK: Kind = Kind {
    required: &["enforcement-level"],
    defaults: workspace_task_defaults,
    ..Kind::new(
        "workspace-tasks",
        "wstask",
        "/workspaces/{parent}/tasks",
        "/workspaces/{parent}/tasks/{id}",
        Parent::Workspace,
        Some("workspace"),
    )
};

pub const TASK_STAGE: Kind =
    Kind { ops: READ_ONLY, ..Kind::new("task-stages", "ts", "/runs/{parent}/task-stages", "/task-stages/{id}", Parent::Run, Some("run")) };

/// Task results are only shown by id (no documented list).
pub const TASK_RESULT: Kind = Kind {
    ops: Ops { list: false, create: false, show: true, update: false, delete: false },
    ..Kind::new(
        "task-results",
        "taskrs",
        "/task-stages/{parent}/task-results",
        "/task-results/{id}",
        Parent::Record("task-stages"),
        Some("task-stage"),
    )
};

/// Policy evaluations are only listed per task stage (no documented show).
pub const POLICY_EVALUATION: Kind = Kind {
    ops: Ops { list: true, create: false, show: false, update: false, delete: false },
    ..Kind::new(
        "policy-evaluations",
        "poleval",
        "/task-stages/{parent}/policy-evaluations",
        "/policy-evaluations/{id}",
        Parent::Record("task-stages"),
        Some("policy-attachable"),
    )
};

pub const POLICY_SET_OUTCOME: Kind = Kind {
    ops: READ_ONLY,
    ..Kind::new(
        "policy-set-outcomes",
        "psout",
        "/policy-evaluations/{parent}/policy-set-outcomes",
        "/policy-set-outcomes/{id}",
        Parent::Record("policy-evaluations"),
        Some("policy-evaluation"),
    )
};

pub const KINDS: &[Kind] = &[RUN_TASK, WORKSPACE_TASK, TASK_STAGE, TASK_RESULT, POLICY_EVALUATION, POLICY_SET_OUTCOME];

fn run_task_defaults() -> Value {
    json!({"category": "task", "description": null, "enabled": true,
           "global-configuration": {"enabled": false, "stages": ["post_plan"], "enforcement-level": "advisory"}})
}

fn workspace_task_defaults() -> Value {
    json!({"stages": ["post_plan"], "stage": "post_plan"})
}

/// Seeded ids and secrets, fixed so tests can name them.
pub const TASK_ACME: &str = "task-AcmeScanner000001";
pub const TASK_GLOBEX: &str = "task-GlobexScanner0001";
/// HMAC keys of the seeded run tasks: never in any answer.
pub const ACME_HMAC_KEY: &str = "hmac-key-3e8b1f6a0c9d2754";
pub const GLOBEX_HMAC_KEY: &str = "hmac-key-globex-91c4d7e2";

/// The ids of one seeded run waiting for a decision.
pub struct AwaitingRun {
    pub run: String,
    pub stage: String,
    pub result: String,
    pub evaluation: String,
    pub outcome: String,
    pub workspace_task: String,
}

/// The seeded waiting run of `org`'s workspace `ws_id` (ids derived from both).
pub fn awaiting_run(org: &str, ws_id: &str) -> AwaitingRun {
    let d = |prefix: &str, what: &str| derived_id(prefix, &format!("{org}/{ws_id}/{what}"));
    AwaitingRun {
        run: d("run", "awaiting-decision"),
        stage: d("ts", "post-plan"),
        result: d("taskrs", "scanner"),
        evaluation: d("poleval", "opa"),
        outcome: d("psout", "opa-set"),
        workspace_task: d("wstask", "scanner"),
    }
}

/// The acme-corp workspace of the waiting run (a filler no other test runs in).
pub fn acme_workspace() -> String {
    derived_id("ws", &format!("{ORG}/ml-training"))
}

pub fn seed(store: &mut Store, at: Time) {
    for (org, task, key, ws) in
        [(ORG, TASK_ACME, ACME_HMAC_KEY, acme_workspace()), (SECOND_ORG, TASK_GLOBEX, GLOBEX_HMAC_KEY, WS_GLOBEX_APP.into())]
    {
        store.records.push(Record::seeded(
            &RUN_TASK,
            task,
            org,
            json!({"name": "security-scanner", "url": "https://scanner.example/hooks/tfc",
                   "description": "Scans plans for risky changes", "hmac-key": key}),
            at,
        ));
        seed_awaiting_run(store, org, &ws, task, at);
    }
}

fn seed_awaiting_run(store: &mut Store, org: &str, ws_id: &str, task: &str, at: Time) {
    let ids = awaiting_run(org, ws_id);
    let ts = crate::jsonapi::ts(at);
    store.records.push(
        Record::seeded(&WORKSPACE_TASK, &ids.workspace_task, ws_id, json!({"enforcement-level": "mandatory"}), at)
            .with_rel("task", "tasks", task),
    );
    store.records.push(
        Record::seeded(
            &TASK_STAGE,
            &ids.stage,
            &ids.run,
            json!({"status": "awaiting_override", "stage": "post_plan",
                   "status-timestamps": {"running-at": ts, "awaiting-override-at": ts}, "updated-at": ts,
                   "permissions": {"can-override-policy": true, "can-override-tasks": true, "can-override": true},
                   "actions": {"is-overridable": true}}),
            at,
        )
        .with_rels("task-results", "task-results", &[&ids.result])
        .with_rels("policy-evaluations", "policy-evaluations", &[&ids.evaluation]),
    );
    store.records.push(Record::seeded(
        &TASK_RESULT,
        &ids.result,
        &ids.stage,
        json!({"message": "2 high severity findings: public S3 bucket, open security group.", "status": "failed",
               "status-timestamps": {"running-at": ts, "failed-at": ts}, "url": "https://scanner.example/results/42",
               "updated-at": ts, "task-id": task, "task-name": "security-scanner", "task-url": "https://scanner.example/hooks/tfc",
               "stage": "post_plan", "is-speculative": false, "workspace-task-id": ids.workspace_task,
               "workspace-task-enforcement-level": "mandatory"}),
        at,
    ));
    store.records.push(
        Record::seeded(
            &POLICY_EVALUATION,
            &ids.evaluation,
            &ids.stage,
            json!({"status": "failed", "policy-kind": "opa", "policy-tool-version": "0.54.0",
                   "result-count": {"advisory-failed": 0, "errored": 0, "mandatory-failed": 1, "passed": 1},
                   "status-timestamps": {"running-at": ts, "failed-at": ts}, "updated-at": ts}),
            at,
        )
        .with_rels("policy-set-outcomes", "policy-set-outcomes", &[&ids.outcome]),
    );
    store.records.push(Record::seeded(
        &POLICY_SET_OUTCOME,
        &ids.outcome,
        &ids.evaluation,
        json!({"outcomes": [
                   {"enforcement_level": "mandatory", "query": "data.terraform.policies.ingress.deny", "status": "failed",
                    "policy_name": "deny-public-ingress", "description": "Security groups must not allow ingress from 0.0.0.0/0."},
                   {"enforcement_level": "advisory", "query": "data.terraform.policies.tagging.deny", "status": "passed",
                    "policy_name": "tagging-standards", "description": ""}],
               "error": "", "overridable": true, "policy-set-name": "security-baseline", "policy-set-description": null,
               "result-count": {"advisory-failed": 0, "errored": 0, "mandatory-failed": 1, "passed": 1},
               "policy-tool-version": "0.54.0"}),
        at,
    ));

    let ws = store.workspace(ws_id).cloned();
    let Some(ws) = ws else { return };
    let mut plan = Phase::new(derived_id("plan", &ids.run), random_alnum(40), at);
    let apply = Phase::new(derived_id("apply", &ids.run), random_alnum(40), at);
    plan.additions = 2;
    plan.set("queued", "queued-at", at);
    plan.set("running", "started-at", at);
    plan.set("finished", "finished-at", at);
    let mut run = Run {
        id: ids.run.clone(),
        workspace_id: ws.id.clone(),
        status: RunStatus::Pending,
        message: "Add public bucket for marketing assets".into(),
        plan_only: false,
        auto_apply: false,
        is_destroy: false,
        refresh: true,
        refresh_only: false,
        allow_empty_apply: false,
        terraform_version: ws.terraform_version.clone(),
        target_addrs: vec![],
        replace_addrs: vec![],
        source: "tfe-api".into(),
        trigger_reason: "manual".into(),
        created_at: at,
        created_by: Some(DEPLOY_BOT_ID.into()),
        confirmed_by: None,
        status_timestamps: vec![(RunStatus::Pending.timestamp_key(), at)],
        plan,
        apply,
        plan_json_blob: random_alnum(40),
        state_version_id: None,
    };
    for status in [RunStatus::PlanQueued, RunStatus::Planning, RunStatus::Planned, RunStatus::PostPlanAwaitingDecision] {
        run.set_status(status, at);
    }
    store.blobs.insert(run.plan.log_blob.clone(), BlobRef::PlanLog(run.id.clone()));
    store.blobs.insert(run.apply.log_blob.clone(), BlobRef::ApplyLog(run.id.clone()));
    store.blobs.insert(run.plan_json_blob.clone(), BlobRef::PlanJson(run.id.clone()));
    store.runs.push(run);
}
