//! Run tasks (`/organizations/:org/tasks`, `/tasks/:id`), their workspace
//! associations (`/workspaces/:id/tasks`), a run's task stages and task
//! results, overriding a stage, and the policy evaluations of a stage (OPA
//! and agent-mode Sentinel) with their policy-set outcomes. A run task's
//! HMAC key is write-only: the argument is secret and answers drop it.

use super::super::{Body, Handler, Kind as K, Method as M, Param as P, ToolSpec, Verb as V};

const STAGES: &str = "Stages the task runs in: any of pre_plan, post_plan, pre_apply, post_apply.";
const ENFORCEMENT: &[&str] = &["advisory", "mandatory"];

fn run_task_id() -> P {
    P::path("run_task_id", "Run task id (`task-...`). Find it with list_all_hashicorp_terraform_cloud_run_tasks.")
}

fn workspace_task_id() -> P {
    P::path("workspace_task_id", "Workspace run task id (`wstask-...`), from list_all_hashicorp_terraform_cloud_workspace_run_tasks.")
}

fn task_stage_id() -> P {
    P::path("task_stage_id", "Task stage id (`ts-...`), from list_all_hashicorp_terraform_cloud_run_task_stages.")
}

/// Settings of an organization run task shared by create and update.
fn task_settings(required: bool) -> Vec<P> {
    let req = |p: P| if required { p.required() } else { p };
    vec![
        req(P::attr("name", "name", K::String, "Run task name (letters, numbers, `-` and `_`).")),
        req(P::attr("url", "url", K::String, "URL of the service HCP Terraform calls for each run.")),
        req(P::attr("category", "category", K::String, "Always `task`.").one_of(&["task"])),
        P::attr("description", "description", K::String, "Description."),
        P::attr(
            "hmac_key",
            "hmac-key",
            K::String,
            "Optional HMAC key that signs the requests to the service (write-only, never returned).",
        )
        .secret(),
        P::attr("enabled", "enabled", K::Boolean, "Whether the task runs (default true)."),
        P::attr(
            "global_configuration",
            "global-configuration",
            K::Object,
            "Run the task in every workspace: {enabled, stages: [pre_plan|post_plan|pre_apply|post_apply], enforcement_level: advisory|mandatory}.",
        ),
        P::rel(
            "agent_pool_id",
            "agent-pool",
            "agent-pools",
            "Agent pool (`apool-...`) that reaches a private service (HCP Terraform Premium).",
        ),
    ]
}

pub(super) fn tools() -> Vec<ToolSpec> {
    vec![
        // ---- organization run tasks
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_run_tasks",
            M::List,
            "run-tasks",
            "List run tasks",
            V::Get,
            "/organizations/{organization_name}/tasks",
            "List the run tasks (external checks called during runs) of an organization.",
        )
        .params(vec![super::org()]),
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_run_task_by_id",
            M::Get,
            "run-tasks",
            "Show a run task",
            V::Get,
            "/tasks/{run_task_id}",
            "Show a run task: URL, category, enabled, global configuration (the HMAC key is never returned).",
        )
        .params(vec![run_task_id()]),
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_run_task",
            M::Create,
            "run-tasks",
            "Create a run task",
            V::Post,
            "/organizations/{organization_name}/tasks",
            "Create a run task in an organization; associate it with workspaces with create_a_hashicorp_terraform_cloud_workspace_run_task.",
        )
        .params([vec![super::org()], task_settings(true)].concat())
        .body(Body::Resource("tasks")),
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_run_task_by_id",
            M::Update,
            "run-tasks",
            "Update a run task",
            V::Patch,
            "/tasks/{run_task_id}",
            "Update a run task. Only the given fields change.",
        )
        .params([vec![run_task_id()], task_settings(false)].concat())
        .body(Body::Resource("tasks")),
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_run_task_by_id",
            M::Delete,
            "run-tasks",
            "Delete a run task",
            V::Delete,
            "/tasks/{run_task_id}",
            "Delete a run task and its workspace associations.",
        )
        .params(vec![run_task_id()]),
        // ---- workspace associations
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_workspace_run_tasks",
            M::List,
            "run-tasks",
            "List a workspace's run tasks",
            V::Get,
            "/workspaces/{workspace_id}/tasks",
            "List the run tasks associated with a workspace, with their stages and enforcement levels.",
        )
        .params(vec![super::ws_id()]),
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_workspace_run_task_by_id",
            M::Get,
            "run-tasks",
            "Show a workspace run task",
            V::Get,
            "/workspaces/{workspace_id}/tasks/{workspace_task_id}",
            "Show one run task association of a workspace.",
        )
        .params(vec![super::ws_id(), workspace_task_id()]),
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_workspace_run_task",
            M::Create,
            "run-tasks",
            "Associate a run task with a workspace",
            V::Post,
            "/workspaces/{workspace_id}/tasks",
            "Make a workspace's runs call a run task at the given stages (mandatory: a failure stops the run).",
        )
        .params(vec![
            super::ws_id(),
            P::rel("run_task_id", "task", "tasks", "Run task (`task-...`) to associate.").required(),
            P::attr("enforcement_level", "enforcement-level", K::String, "Whether a failure stops the run.").one_of(ENFORCEMENT).required(),
            P::attr("stages", "stages", K::StringList, STAGES),
        ])
        .body(Body::Resource("workspace-tasks")),
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_workspace_run_task_by_id",
            M::Update,
            "run-tasks",
            "Update a workspace run task",
            V::Patch,
            "/workspaces/{workspace_id}/tasks/{workspace_task_id}",
            "Change the stages or enforcement level of a workspace's run task.",
        )
        .params(vec![
            super::ws_id(),
            workspace_task_id(),
            P::attr("enforcement_level", "enforcement-level", K::String, "Whether a failure stops the run.").one_of(ENFORCEMENT),
            P::attr("stages", "stages", K::StringList, STAGES),
        ])
        .body(Body::Resource("workspace-tasks")),
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_workspace_run_task_by_id",
            M::Delete,
            "run-tasks",
            "Remove a run task from a workspace",
            V::Delete,
            "/workspaces/{workspace_id}/tasks/{workspace_task_id}",
            "Stop calling a run task in a workspace's runs (the organization run task stays).",
        )
        .params(vec![super::ws_id(), workspace_task_id()]),
        // ---- a run's task stages and results
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_run_task_stages",
            M::List,
            "task-stages",
            "List a run's task stages",
            V::Get,
            "/runs/{run_id}/task-stages",
            "List the task stages of a run (pre_plan, post_plan...) with their status (awaiting_override means a decision is needed) and task result and policy evaluation ids.",
        )
        .params(vec![super::run_id()]),
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_run_task_stage_by_id",
            M::Get,
            "task-stages",
            "Show a task stage",
            V::Get,
            "/task-stages/{task_stage_id}",
            "Show a task stage: status, whether it can be overridden (actions.is_overridable), task result and policy evaluation ids.",
        )
        .params(vec![task_stage_id()]),
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_run_task_result_by_id",
            M::Get,
            "task-stages",
            "Show a run task result",
            V::Get,
            "/task-results/{task_result_id}",
            "Show one run task result: status, the service's message and details URL, enforcement level.",
        )
        .params(vec![P::path("task_result_id", "Task result id (`taskrs-...`), from a task stage's task_result_ids.")]),
        ToolSpec::new(
            "hashicorp_terraform_cloud_task_stages_override",
            M::Custom,
            "task-stages",
            "Override a task stage",
            V::Post,
            "/task-stages/{task_stage_id}/actions/override",
            "Override a task stage awaiting override (failed mandatory run tasks or policy evaluations) so the run continues. Needs override permission.",
        )
        .params(vec![task_stage_id(), super::comment()])
        .body(Body::Plain)
        .handler(Handler::Conflict(
            "Only a task stage with status awaiting_override can be overridden; read it with get_single_hashicorp_terraform_cloud_run_task_stage_by_id (status, actions.is_overridable).",
        ))
        .destructive(),
        // ---- policy evaluations (OPA and agent-mode Sentinel)
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_policy_evaluations",
            M::List,
            "policy-evaluations",
            "List a task stage's policy evaluations",
            V::Get,
            "/task-stages/{task_stage_id}/policy-evaluations",
            "List the policy evaluations (OPA, agent-mode Sentinel) of a task stage with their result counts. Failed mandatory policies are overridden with hashicorp_terraform_cloud_task_stages_override.",
        )
        .params(vec![task_stage_id()]),
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_policy_set_outcomes",
            M::List,
            "policy-evaluations",
            "List policy set outcomes",
            V::Get,
            "/policy-evaluations/{policy_evaluation_id}/policy-set-outcomes",
            "List the outcome of every policy set of a policy evaluation: each policy's status and enforcement level.",
        )
        .params(vec![P::path("policy_evaluation_id", "Policy evaluation id (`poleval-...`), from list_all_hashicorp_terraform_cloud_policy_evaluations.")]),
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_policy_set_outcome_by_id",
            M::Get,
            "policy-evaluations",
            "Show a policy set outcome",
            V::Get,
            "/policy-set-outcomes/{policy_set_outcome_id}",
            "Show one policy set outcome: each policy's status, enforcement level and description.",
        )
        .params(vec![P::path("policy_set_outcome_id", "Policy set outcome id (`psout-...`).")]),
    ]
}
