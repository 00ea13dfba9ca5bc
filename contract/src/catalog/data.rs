//! The catalog entries: one declarative entry per tool.
//!
//! Conventions (tools.md): names follow the seed's pattern, path parameters
//! keep their API names, attributes are the snake_case form of the
//! kebab-case JSON:API attribute, a related resource is `{relationship}_id`.
//! Paths are below `/api/v2`. Names stay within 64 characters (a limit of
//! some MCP clients), so notification configurations are `..._notification...`.

mod private_registry;
mod stacks;
mod workspace_insights;

use super::{Body, Handler, Kind as K, Method as M, Param as P, ToolSpec, Verb as V, includes};

mod registry;

mod org_access;
mod tag_bindings;
mod vcs;

mod run_tasks;
mod state_rollback;
mod varset_variables;

// ---- shared parameters -------------------------------------------------------

fn org() -> P {
    P::path("organization_name", "Name of the HCP Terraform organization (e.g. `acme-corp`).")
}
fn ws_id() -> P {
    P::path("workspace_id", "Workspace id (`ws-...`). Find it with list_all_hashicorp_terraform_cloud_workspaces.")
}
fn run_id() -> P {
    P::path("run_id", "Run id (`run-...`).")
}
fn search_query() -> P {
    P::query("search_query", "q", K::String, "Optional search text matched against names.")
}
fn comment() -> P {
    P::body("comment", "comment", K::String, "Optional comment recorded with the action.")
}

const LOG_MAX_BYTES: &str = "Bytes of the raw log to read (default 32768, from 256 to 262144); never more than fits this server's result budget (64 KiB unless configured), and the answer says where it stopped (range, next_offset).";

const EXECUTION_MODES: &[&str] = &["remote", "local", "agent"];

/// Workspace settings shared by create and update.
fn workspace_settings(name_required: bool) -> Vec<P> {
    let name = P::attr("name", "name", K::String, "Workspace name (letters, numbers, `-` and `_`).");
    vec![
        if name_required { name.required() } else { name },
        P::attr("description", "description", K::String, "Description of the workspace."),
        P::attr("terraform_version", "terraform-version", K::String, "Terraform version or constraint (e.g. `1.9.5` or `~> 1.9`)."),
        P::attr("working_directory", "working-directory", K::String, "Directory of the configuration, relative to the repository root."),
        P::attr("auto_apply", "auto-apply", K::Boolean, "Apply successful plans automatically."),
        P::attr("auto_apply_run_trigger", "auto-apply-run-trigger", K::Boolean, "Apply runs created by run triggers automatically."),
        P::attr("execution_mode", "execution-mode", K::String, "Where runs execute.").one_of(EXECUTION_MODES),
        P::attr("agent_pool_id", "agent-pool-id", K::String, "Agent pool (`apool-...`) when execution_mode is `agent`."),
        P::attr("allow_destroy_plan", "allow-destroy-plan", K::Boolean, "Allow destroy plans."),
        P::attr("speculative_enabled", "speculative-enabled", K::Boolean, "Run speculative plans for pull requests."),
        P::attr("queue_all_runs", "queue-all-runs", K::Boolean, "Queue runs right after creation, before the first configuration upload."),
        P::attr(
            "global_remote_state",
            "global-remote-state",
            K::Boolean,
            "Share this workspace's state with every workspace of the organization.",
        ),
        P::attr(
            "file_triggers_enabled",
            "file-triggers-enabled",
            K::Boolean,
            "Only trigger runs for changes in trigger_prefixes/trigger_patterns.",
        ),
        P::attr("trigger_prefixes", "trigger-prefixes", K::StringList, "Path prefixes that trigger runs."),
        P::attr("trigger_patterns", "trigger-patterns", K::StringList, "Glob patterns that trigger runs."),
        P::attr("assessments_enabled", "assessments-enabled", K::Boolean, "Enable health assessments (drift detection)."),
        P::attr("auto_destroy_at", "auto-destroy-at", K::String, "Timestamp (RFC 3339) at which to queue a destroy run, or null."),
        P::attr(
            "vcs_repo",
            "vcs-repo",
            K::Object,
            "VCS settings: {identifier (`org/repo`), oauth_token_id (`ot-...`, from list_all_hashicorp_terraform_cloud_oauth_tokens) or github_app_installation_id (`ghain-...`, from list_all_hashicorp_terraform_cloud_github_app_installations), branch, ingress_submodules, tags_regex}.",
        ),
        P::rel("project_id", "project", "projects", "Project (`prj-...`) that holds the workspace."),
        tag_bindings::relationship("workspace"),
    ]
}

/// The arguments of every log tool (plan, apply and assessment logs).
pub(super) fn log_params() -> Vec<P> {
    vec![
        P::local("max_bytes", K::Integer, LOG_MAX_BYTES),
        P::local("from", K::String, "Which end to read: `end` (default) or `start`.").one_of(&["end", "start"]),
        P::local("offset", K::Integer, "Read max_bytes from this byte offset of the raw log (a previous answer's next_offset or range)."),
        P::local(
            "search",
            K::String,
            "Case-insensitive plain text (not a pattern, up to 200 characters): return the matching lines with their numbers.",
        ),
        P::local("max_matches", K::Integer, "With search: most matching lines returned (default 50, max 200)."),
    ]
}

fn run_action(name: &'static str, api: &'static str, title: &'static str, description: &'static str) -> ToolSpec {
    let path = match api {
        "apply" => "/runs/{run_id}/actions/apply",
        "discard" => "/runs/{run_id}/actions/discard",
        "cancel" => "/runs/{run_id}/actions/cancel",
        "force-cancel" => "/runs/{run_id}/actions/force-cancel",
        _ => "/runs/{run_id}/actions/force-execute",
    };
    let mut params = vec![run_id()];
    let mut body = Body::None;
    if api != "force-execute" {
        params.push(comment());
        body = Body::Plain;
    }
    ToolSpec::new(name, M::Custom, "runs", title, V::Post, path, description)
        .params(params)
        .body(body)
        .handler(Handler::RunAction(api))
        .destructive()
}

const ACCESS_LEVELS: &[&str] = &["read", "plan", "write", "admin", "custom"];

fn team_access_settings() -> Vec<P> {
    vec![
        P::attr("access", "access", K::String, "Access level; `custom` uses the detailed permissions below.").one_of(ACCESS_LEVELS),
        P::attr("runs", "runs", K::String, "Custom: run permission.").one_of(&["read", "plan", "apply"]),
        P::attr("variables", "variables", K::String, "Custom: variable permission.").one_of(&["none", "read", "write"]),
        P::attr("state_versions", "state-versions", K::String, "Custom: state permission.").one_of(&[
            "none",
            "read-outputs",
            "read",
            "write",
        ]),
        P::attr("plan_outputs", "plan-outputs", K::String, "Custom: permission to read plan outputs (JSON plans and logs).")
            .one_of(&["none", "read"]),
        P::attr("sentinel_mocks", "sentinel-mocks", K::String, "Custom: Sentinel mock download permission.").one_of(&["none", "read"]),
        P::attr("workspace_locking", "workspace-locking", K::Boolean, "Custom: may lock and unlock the workspace."),
        P::attr("run_tasks", "run-tasks", K::Boolean, "Custom: may manage run tasks."),
    ]
}

fn notification_settings(required: bool) -> Vec<P> {
    let req = |p: P| if required { p.required() } else { p };
    vec![
        req(P::attr("name", "name", K::String, "Name of the notification configuration.")),
        req(P::attr("destination_type", "destination-type", K::String, "Kind of destination.").one_of(&[
            "generic",
            "email",
            "slack",
            "microsoft-teams",
        ])),
        req(P::attr("enabled", "enabled", K::Boolean, "Whether notifications are sent.")),
        P::attr("url", "url", K::String, "Webhook URL (generic, slack, microsoft-teams)."),
        P::attr("token", "token", K::String, "Optional HMAC token for generic webhooks (write-only).").secret(),
        P::attr(
            "triggers",
            "triggers",
            K::StringList,
            "Events that notify, e.g. run:created, run:planning, run:needs_attention, run:applying, run:completed, run:errored, assessment:drifted, assessment:failed, assessment:check_failure, workspace:auto_destroy_reminder, workspace:auto_destroy_run_results.",
        ),
        P::attr("email_addresses", "email-addresses", K::StringList, "Email addresses (email destinations, Terraform Enterprise)."),
        P::rels("email_user_ids", "users", "users", "Users (`user-...`) who receive email notifications."),
    ]
}

fn policy_set_settings(name_required: bool) -> Vec<P> {
    let name = P::attr("name", "name", K::String, "Policy set name.");
    vec![
        if name_required { name.required() } else { name },
        P::attr("description", "description", K::String, "Description."),
        P::attr("global", "global", K::Boolean, "Apply to every workspace of the organization."),
        P::attr("kind", "kind", K::String, "Policy framework.").one_of(&["sentinel", "opa"]),
        P::attr("overridable", "overridable", K::Boolean, "OPA: whether failed mandatory policies can be overridden."),
        P::attr("agent_enabled", "agent-enabled", K::Boolean, "Evaluate policies in the agent (policy evaluations)."),
        P::attr("policy_tool_version", "policy-tool-version", K::String, "Sentinel/OPA version when agent_enabled."),
        P::attr("policies_path", "policies-path", K::String, "Subdirectory of the VCS repository holding the policies."),
        P::attr(
            "vcs_repo",
            "vcs-repo",
            K::Object,
            "VCS settings: {identifier (`org/repo`), oauth_token_id (`ot-...`, from list_all_hashicorp_terraform_cloud_oauth_tokens) or github_app_installation_id (`ghain-...`), branch, ingress_submodules}.",
        ),
    ]
}

#[allow(clippy::too_many_arguments)] // one data row, spelled out
fn relationship_action(
    name: &'static str,
    tag: &'static str,
    title: &'static str,
    verb: V,
    path: &'static str,
    id_param: P,
    list_name: &'static str,
    list_type: &'static str,
    list_desc: &'static str,
    description: &'static str,
) -> ToolSpec {
    let t = ToolSpec::new(name, M::Custom, tag, title, verb, path, description)
        .params(vec![id_param, P::local(list_name, K::StringList, list_desc).required()])
        .body(Body::RelationshipList { type_: list_type, param: list_name });
    if verb == V::Delete { t.destructive() } else { t }
}

// ---- the catalog ---------------------------------------------------------------

#[allow(clippy::vec_init_then_push)] // one `push` per catalog entry reads best
pub(super) fn tools() -> Vec<ToolSpec> {
    let mut t = Vec::new();

    // ---- organizations
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_organizations",
            M::List,
            "organizations",
            "List organizations",
            V::Get,
            "/organizations",
            "List the HCP Terraform organizations the token can see (limited to the server's allowed organizations).",
        )
        .params(vec![search_query()]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_organization_by_id",
            M::Get,
            "organizations",
            "Show an organization",
            V::Get,
            "/organizations/{organization_name}",
            "Show one organization's settings and the token's permissions in it.",
        )
        .params(vec![org()]),
    );
    t.push(
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_organization_by_id",
            M::Update,
            "organizations",
            "Update an organization",
            V::Patch,
            "/organizations/{organization_name}",
            "Update an organization's settings. Only the given settings change.",
        )
        .params(vec![
            org(),
            P::attr("email", "email", K::String, "Admin notification email."),
            P::attr("session_timeout", "session-timeout", K::Integer, "Session timeout after inactivity, in minutes."),
            P::attr("session_remember", "session-remember", K::Integer, "Session expiration, in minutes."),
            P::attr("collaborator_auth_policy", "collaborator-auth-policy", K::String, "Authentication policy for members.")
                .one_of(&["password", "two_factor_mandatory"]),
            P::attr("cost_estimation_enabled", "cost-estimation-enabled", K::Boolean, "Enable cost estimation."),
            P::attr("assessments_enforced", "assessments-enforced", K::Boolean, "Enforce health assessments on every workspace."),
            P::attr(
                "allow_force_delete_workspaces",
                "allow-force-delete-workspaces",
                K::Boolean,
                "Let workspace admins force-delete workspaces that manage resources.",
            ),
            P::attr("default_execution_mode", "default-execution-mode", K::String, "Default execution mode of new workspaces.")
                .one_of(EXECUTION_MODES),
            P::attr(
                "speculative_plan_management_enabled",
                "speculative-plan-management-enabled",
                K::Boolean,
                "Cancel outdated speculative plans automatically.",
            ),
        ])
        .body(Body::Resource("organizations")),
    );

    // ---- projects
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_projects",
            M::List,
            "projects",
            "List projects",
            V::Get,
            "/organizations/{organization_name}/projects",
            "List the projects of an organization.",
        )
        .params(vec![
            org(),
            search_query(),
            P::query("filter_names", "filter[names]", K::String, "Comma-separated exact project names."),
        ]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_project_by_id",
            M::Get,
            "projects",
            "Show a project",
            V::Get,
            "/projects/{project_id}",
            "Show one project.",
        )
        .params(vec![P::path("project_id", "Project id (`prj-...`).")]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_project",
            M::Create,
            "projects",
            "Create a project",
            V::Post,
            "/organizations/{organization_name}/projects",
            "Create a project in an organization.",
        )
        .params(vec![
            org(),
            P::attr("name", "name", K::String, "Project name.").required(),
            P::attr("description", "description", K::String, "Description."),
            P::attr(
                "auto_destroy_activity_duration",
                "auto-destroy-activity-duration",
                K::String,
                "Default inactivity period before workspaces auto-destroy, e.g. `14d` or `2h`.",
            ),
            tag_bindings::relationship("project"),
        ])
        .body(Body::Resource("projects")),
    );
    t.push(
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_project_by_id",
            M::Update,
            "projects",
            "Update a project",
            V::Patch,
            "/projects/{project_id}",
            "Rename a project or change its settings.",
        )
        .params(vec![
            P::path("project_id", "Project id (`prj-...`)."),
            P::attr("name", "name", K::String, "New name."),
            P::attr("description", "description", K::String, "Description."),
            P::attr(
                "auto_destroy_activity_duration",
                "auto-destroy-activity-duration",
                K::String,
                "Default inactivity period before workspaces auto-destroy, e.g. `14d`.",
            ),
            tag_bindings::relationship("project"),
        ])
        .body(Body::Resource("projects")),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_project_by_id",
            M::Delete,
            "projects",
            "Delete a project",
            V::Delete,
            "/projects/{project_id}",
            "Delete an empty project (it must not hold workspaces or stacks).",
        )
        .params(vec![P::path("project_id", "Project id (`prj-...`).")]),
    );

    // ---- workspaces
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_workspaces",
            M::List, "workspaces", "List workspaces", V::Get, "/organizations/{organization_name}/workspaces",
            "List the workspaces of an organization, optionally filtered by name, tags or project. Returns flat workspaces (id, name, locked, execution_mode, terraform_version, current_run_id, project_id, web_url, ...).",
        )
        .params(vec![
            org(),
            P::query("search_name", "search[name]", K::String, "Fuzzy search on the workspace name."),
            P::query("search_wildcard_name", "search[wildcard-name]", K::String, "Wildcard name match: `prod-*`, `*-web`, `*net*`."),
            P::query("search_tags", "search[tags]", K::String, "Comma-separated tags; only workspaces with all of them."),
            P::query("search_exclude_tags", "search[exclude-tags]", K::String, "Comma-separated tags to exclude."),
            tag_bindings::tagged_filter(),
            P::query("project_id", "filter[project][id]", K::String, "Only workspaces of this project (`prj-...`)."),
            P::query("current_run_status", "filter[current-run][status]", K::String, "Only workspaces whose current run has this status."),
            P::query("sort", "sort", K::String, "Sort by `name`, `current-run.created-at` or `latest-change-at`; prefix `-` for descending."),
        ])
        .includes(includes::WORKSPACE)
        .sparse("workspaces"),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_workspace_by_id",
            M::Get,
            "workspaces",
            "Show a workspace",
            V::Get,
            "/workspaces/{workspace_id}",
            "Show one workspace, either by workspace_id, or by organization_name plus workspace_name.",
        )
        .alt_path("/organizations/{organization_name}/workspaces/{workspace_name}")
        .params(vec![
            ws_id().optional(),
            P::path("organization_name", "Organization name (with workspace_name, instead of workspace_id).").optional(),
            P::path("workspace_name", "Workspace name (with organization_name, instead of workspace_id).").optional(),
        ])
        .includes(includes::WORKSPACE)
        .sparse("workspaces"),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_workspace",
            M::Create,
            "workspaces",
            "Create a workspace",
            V::Post,
            "/organizations/{organization_name}/workspaces",
            "Create a workspace in an organization (optionally in a project and connected to a VCS repository).",
        )
        .params([vec![org()], workspace_settings(true)].concat())
        .body(Body::Resource("workspaces")),
    );
    t.push(
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_workspace_by_id",
            M::Update, "workspaces", "Update a workspace", V::Patch, "/workspaces/{workspace_id}",
            "Update a workspace's settings (rename, move to a project, change Terraform version, execution mode, VCS...). Only the given settings change.",
        )
        .params([vec![ws_id()], workspace_settings(false)].concat())
        .body(Body::Resource("workspaces")),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_workspace_by_id",
            M::Delete, "workspaces", "Safely delete a workspace", V::Post, "/workspaces/{workspace_id}/actions/safe-delete",
            "Safe delete: deletes the workspace only if it manages no resources (destroy them first). See hashicorp_terraform_cloud_workspaces_force_delete for the unsafe variant.",
        )
        .params(vec![ws_id()])
        .handler(Handler::WorkspaceSafeDelete),
    );
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_workspaces_force_delete",
            M::Custom, "workspaces", "Force delete a workspace", V::Delete, "/workspaces/{workspace_id}",
            "Delete a workspace even if it still manages resources: they are NOT destroyed and their state is lost. Prefer delete_a_hashicorp_terraform_cloud_workspace_by_id (safe delete).",
        )
        .params(vec![ws_id()])
        .destructive(),
    );
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_workspaces_lock",
            M::Custom,
            "workspaces",
            "Lock a workspace",
            V::Post,
            "/workspaces/{workspace_id}/actions/lock",
            "Lock a workspace so no run can start. Fails if it is already locked.",
        )
        .params(vec![ws_id(), P::body("reason", "reason", K::String, "Why the workspace is locked.")])
        .body(Body::Plain)
        .handler(Handler::WorkspaceLock("lock")),
    );
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_workspaces_unlock",
            M::Custom,
            "workspaces",
            "Unlock a workspace",
            V::Post,
            "/workspaces/{workspace_id}/actions/unlock",
            "Unlock a workspace locked by this token's user or team. A lock held by a run or someone else needs force_unlock.",
        )
        .params(vec![ws_id()])
        .handler(Handler::WorkspaceLock("unlock")),
    );
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_workspaces_force_unlock",
            M::Custom,
            "workspaces",
            "Force unlock a workspace",
            V::Post,
            "/workspaces/{workspace_id}/actions/force-unlock",
            "Remove a workspace lock held by anyone (admin permission). Use only when the lock holder cannot unlock it.",
        )
        .params(vec![ws_id()])
        .handler(Handler::WorkspaceLock("force-unlock"))
        .destructive(),
    );

    // ---- runs
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_runs",
            M::List,
            "runs",
            "List runs",
            V::Get,
            "/workspaces/{workspace_id}/runs",
            "List runs, newest first: of one workspace (workspace_id) or of a whole organization (organization_name).",
        )
        .alt_path("/organizations/{organization_name}/runs")
        .params(vec![
            ws_id().optional(),
            P::path("organization_name", "Organization name, to list runs across all its workspaces (instead of workspace_id).").optional(),
            P::query("filter_status", "filter[status]", K::String, "Comma-separated run statuses, e.g. `planned,policy_checked`."),
            P::query("filter_status_group", "filter[status_group]", K::String, "Status group.").one_of(&[
                "non_final",
                "final",
                "discardable",
            ]),
            P::query(
                "filter_operation",
                "filter[operation]",
                K::String,
                "Comma-separated operations: plan_only, plan_and_apply, save_plan, refresh_only, destroy, empty_apply.",
            ),
            P::query("filter_source", "filter[source]", K::String, "Comma-separated sources: tfe-ui, tfe-api, tfe-configuration-version."),
            P::query("search_basic", "search[basic]", K::String, "Search run id, message, commit sha or VCS user."),
        ])
        .includes(includes::RUN)
        .sparse("runs"),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_run_by_id",
            M::Get,
            "runs",
            "Show a run",
            V::Get,
            "/runs/{run_id}",
            "Show one run: status, status timestamps, what actions are possible (actions.is_confirmable...), plan_id, apply_id; include [\"plan\", \"apply\", \"cost_estimate\"] brings those records in the same call.",
        )
        .params(vec![run_id()])
        .includes(includes::RUN)
        .sparse("runs"),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_run",
            M::Create, "runs", "Create a run", V::Post, "/runs",
            "Queue a run (plan, and apply if confirmed or auto-applied) in a workspace with its latest configuration, or a given configuration version.",
        )
        .params(vec![
            P::rel("workspace_id", "workspace", "workspaces", "Workspace (`ws-...`) to run in.").required(),
            P::attr("message", "message", K::String, "Message shown with the run."),
            P::attr("plan_only", "plan-only", K::Boolean, "Speculative plan that can never be applied."),
            P::attr("auto_apply", "auto-apply", K::Boolean, "Apply automatically after a successful plan (defaults to the workspace setting)."),
            P::attr("is_destroy", "is-destroy", K::Boolean, "Plan to destroy every resource of the workspace."),
            P::attr("refresh", "refresh", K::Boolean, "Refresh state before planning (default true)."),
            P::attr("refresh_only", "refresh-only", K::Boolean, "Only refresh state, propose no changes."),
            P::attr("target_addrs", "target-addrs", K::StringList, "Resource addresses to target (exceptional use)."),
            P::attr("replace_addrs", "replace-addrs", K::StringList, "Resource addresses to replace."),
            P::attr("allow_empty_apply", "allow-empty-apply", K::Boolean, "Allow applying a plan with no changes."),
            P::attr("allow_config_generation", "allow-config-generation", K::Boolean, "Allow generating configuration for import blocks."),
            P::attr("save_plan", "save-plan", K::Boolean, "Saved-plan run: plan now, apply later."),
            P::attr("terraform_version", "terraform-version", K::String, "Terraform version for a plan-only run."),
            P::attr("debugging_mode", "debugging-mode", K::Boolean, "Run Terraform with TF_LOG=TRACE."),
            P::attr("variables", "variables", K::KeyValueList, "Run variables: [{key, value}] where value is an HCL literal (strings quoted, e.g. \"\\\"eu-west-1\\\"\").").secret(),
            P::rel("configuration_version_id", "configuration-version", "configuration-versions", "Configuration version (`cv-...`) to use instead of the latest."),
        ])
        .body(Body::Resource("runs")),
    );
    t.push(run_action(
        "hashicorp_terraform_cloud_runs_apply", "apply", "Apply a run",
        "Confirm and apply a run that waits for confirmation (status planned, cost_estimated or policy_checked; actions.is_confirmable true). This changes real infrastructure.",
    ));
    t.push(run_action(
        "hashicorp_terraform_cloud_runs_discard",
        "discard",
        "Discard a run",
        "Discard a run that waits for confirmation or a policy override (or is pending). The run will not be applied.",
    ));
    t.push(run_action(
        "hashicorp_terraform_cloud_runs_cancel",
        "cancel",
        "Cancel a run",
        "Interrupt a run that is planning or applying (like Ctrl-C). Pending runs are discarded instead.",
    ));
    t.push(run_action(
        "hashicorp_terraform_cloud_runs_force_cancel", "force-cancel", "Force cancel a run",
        "Force a run to stop after a cancel did not finish it (only after the cool-off in force_cancel_available_at). The workspace is unlocked.",
    ));
    t.push(run_action(
        "hashicorp_terraform_cloud_runs_force_execute",
        "force-execute",
        "Force execute a run",
        "Start a pending run now, cancelling or discarding the runs that block it in the queue.",
    ));
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_runs_wait",
            M::Observe, "runs", "Wait for a run", V::Get, "/runs/{run_id}",
            "Poll a run until it reaches one of wait_for_statuses, a final status (applied, planned_and_finished, errored, discarded, canceled...), or a status that needs a human or another system (confirmation, policy override, a run task awaiting a decision, an errored stage), or until timeout_seconds. Returns the run with stopped_because (why, in plain words) and next_tools (the tools that move it on).",
        )
        .params(vec![
            run_id(),
            P::local("wait_for_statuses", K::StringList, "Extra statuses to stop at, e.g. [\"planned\"]."),
            P::local("timeout_seconds", K::Integer, "Maximum wait in seconds (default 60, max 600)."),
            P::local("poll_interval_seconds", K::Integer, "Seconds between polls (default 5, min 1)."),
        ])
        .handler(Handler::RunWait),
    );

    // ---- plans, applies, cost estimates
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_plan_by_id",
            M::Get,
            "plans",
            "Show a plan",
            V::Get,
            "/plans/{plan_id}",
            "Show a plan: status, has_changes, resource additions/changes/destructions/imports.",
        )
        .params(vec![P::path("plan_id", "Plan id (`plan-...`, the run's plan_id).")]),
    );
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_plans_logs",
            M::Observe,
            "plans",
            "Read plan logs",
            V::Get,
            "/plans/{plan_id}",
            "Read a plan's log as plain text (ANSI codes removed, JSON-lines output rendered as lines): the end (default), the start (from=\"start\"), a byte range (offset), or the lines matching a search, with line numbers.",
        )
        .params([vec![P::path("plan_id", "Plan id (`plan-...`).")], log_params()].concat())
        .handler(Handler::Logs("plans")),
    );
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_plans_resource_changes",
            M::Observe, "plans", "List a plan's resource changes", V::Get, "/plans/{plan_id}/json-output",
            "List the resource changes of a finished plan from its JSON output (address, actions such as create/update/delete, reason) with a summary, the drift detected and the output changes; with address, one resource's before/after (sensitive values masked). Needs permission to read the JSON plan.",
        )
        .params(vec![
            P::path("plan_id", "Plan id (`plan-...`)."),
            P::local("address", K::String, "Resource address (e.g. `aws_instance.web` or `module.db.aws_db_instance.main[0]`): return only its change, before and after, and its drift."),
        ])
        .handler(Handler::PlanResourceChanges),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_apply_by_id",
            M::Get,
            "applies",
            "Show an apply",
            V::Get,
            "/applies/{apply_id}",
            "Show an apply: status and resource additions/changes/destructions/imports.",
        )
        .params(vec![P::path("apply_id", "Apply id (`apply-...`, the run's apply_id).")]),
    );
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_applies_logs",
            M::Observe,
            "applies",
            "Read apply logs",
            V::Get,
            "/applies/{apply_id}",
            "Read an apply's log as plain text (ANSI codes removed, JSON-lines output rendered as lines): the end (default), the start (from=\"start\"), a byte range (offset), or the lines matching a search, with line numbers.",
        )
        .params([vec![P::path("apply_id", "Apply id (`apply-...`).")], log_params()].concat())
        .handler(Handler::Logs("applies")),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_cost_estimate_by_id",
            M::Get,
            "cost-estimates",
            "Show a cost estimate",
            V::Get,
            "/cost-estimates/{cost_estimate_id}",
            "Show a run's cost estimate: prior, proposed and delta monthly cost.",
        )
        .params(vec![P::path("cost_estimate_id", "Cost estimate id (`ce-...`, the run's cost_estimate_id).")]),
    );

    // ---- policy checks
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_policy_checks",
            M::List,
            "policy-checks",
            "List policy checks",
            V::Get,
            "/runs/{run_id}/policy-checks",
            "List the Sentinel policy checks of a run, with their results.",
        )
        .params(vec![run_id()]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_policy_check_by_id",
            M::Get,
            "policy-checks",
            "Show a policy check",
            V::Get,
            "/policy-checks/{policy_check_id}",
            "Show one policy check and its result.",
        )
        .params(vec![P::path("policy_check_id", "Policy check id (`polchk-...`).")]),
    );
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_policy_checks_override",
            M::Custom,
            "policy-checks",
            "Override a policy check",
            V::Post,
            "/policy-checks/{policy_check_id}/actions/override",
            "Override a soft-failed policy check so the run can continue (needs override permission).",
        )
        .params(vec![P::path("policy_check_id", "Policy check id (`polchk-...`).")])
        .destructive(),
    );

    // ---- state
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_current_state_version_by_id",
            M::Get, "state-versions", "Show a workspace's current state", V::Get, "/workspaces/{workspace_id}/current-state-version",
            "Show the current state version of a workspace (serial, Terraform version, resource summary) with its outputs as {name: {value, type, sensitive}}. Sensitive values are hidden unless this server allows revealing them.",
        )
        .params(vec![ws_id()])
        .handler(Handler::CurrentStateVersion),
    );
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_state_versions",
            M::List,
            "state-versions",
            "List state versions",
            V::Get,
            "/state-versions",
            "List the state versions of a workspace, newest first.",
        )
        .params(vec![
            P::query("organization_name", "filter[organization][name]", K::String, "Organization name.").required(),
            P::query("workspace_name", "filter[workspace][name]", K::String, "Workspace name (not id).").required(),
        ]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_state_version_by_id",
            M::Get,
            "state-versions",
            "Show a state version",
            V::Get,
            "/state-versions/{state_version_id}",
            "Show one state version (serial, Terraform version, resources, output ids).",
        )
        .params(vec![P::path("state_version_id", "State version id (`sv-...`).")]),
    );
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_state_versions_download",
            M::Observe, "state-versions", "Download a state version", V::Get, "/state-versions/{state_version_id}",
            "Download the full state of a state version (JSON state format when available). Raw state can contain secrets; this tool exists only on servers that allow it.",
        )
        .params(vec![P::path("state_version_id", "State version id (`sv-...`).")])
        .handler(Handler::StateDownload)
        .raw_state(),
    );
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_state_version_outputs",
            M::List,
            "state-versions",
            "List state version outputs",
            V::Get,
            "/state-versions/{state_version_id}/outputs",
            "List the outputs of a state version (sensitive values hidden unless the server allows revealing them).",
        )
        .params(vec![P::path("state_version_id", "State version id (`sv-...`).")]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_state_version_output_by_id",
            M::Get,
            "state-versions",
            "Show a state version output",
            V::Get,
            "/state-version-outputs/{state_version_output_id}",
            "Show one state output (sensitive values hidden unless the server allows revealing them).",
        )
        .params(vec![P::path("state_version_output_id", "State version output id (`wsout-...`).")]),
    );

    // ---- workspace variables
    let var_id = || P::path("variable_id", "Variable id (`var-...`).");
    let var_settings = |required: bool| {
        let req = |p: P| if required { p.required() } else { p };
        vec![
            req(P::attr("key", "key", K::String, "Variable name.")),
            P::attr("value", "value", K::String, "Value (an HCL expression when hcl is true).").secret(),
            P::attr("description", "description", K::String, "Description."),
            req(P::attr("category", "category", K::String, "Terraform input variable or environment variable.")
                .one_of(&["terraform", "env"])),
            P::attr("hcl", "hcl", K::Boolean, "Parse the value as HCL."),
            P::attr("sensitive", "sensitive", K::Boolean, "Write-only: the value can never be read back."),
        ]
    };
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_workspace_variables",
            M::List,
            "variables",
            "List workspace variables",
            V::Get,
            "/workspaces/{workspace_id}/vars",
            "List a workspace's variables (sensitive values are never returned).",
        )
        .params(vec![ws_id()]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_workspace_variable",
            M::Create,
            "variables",
            "Create a workspace variable",
            V::Post,
            "/workspaces/{workspace_id}/vars",
            "Create a Terraform or environment variable on a workspace.",
        )
        .params([vec![ws_id()], var_settings(true)].concat())
        .body(Body::Resource("vars")),
    );
    t.push(
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_workspace_variable_by_id",
            M::Update,
            "variables",
            "Update a workspace variable",
            V::Patch,
            "/workspaces/{workspace_id}/vars/{variable_id}",
            "Update a workspace variable. Only the given fields change.",
        )
        .params([vec![ws_id(), var_id()], var_settings(false)].concat())
        .body(Body::Resource("vars"))
        .body_id("variable_id"),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_workspace_variable_by_id",
            M::Delete,
            "variables",
            "Delete a workspace variable",
            V::Delete,
            "/workspaces/{workspace_id}/vars/{variable_id}",
            "Delete a workspace variable.",
        )
        .params(vec![ws_id(), var_id()]),
    );

    // ---- variable sets
    let varset_id = || P::path("varset_id", "Variable set id (`varset-...`).");
    let varset_settings = |required: bool| {
        let name = P::attr("name", "name", K::String, "Variable set name.");
        vec![
            if required { name.required() } else { name },
            P::attr("description", "description", K::String, "Description."),
            P::attr("global", "global", K::Boolean, "Apply to every workspace of the organization."),
            P::attr("priority", "priority", K::Boolean, "Override variables of the same name set elsewhere."),
        ]
    };
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_variable_sets",
            M::List,
            "variable-sets",
            "List variable sets",
            V::Get,
            "/organizations/{organization_name}/varsets",
            "List the variable sets of an organization.",
        )
        .params(vec![org(), search_query()]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_variable_set_by_id",
            M::Get,
            "variable-sets",
            "Show a variable set",
            V::Get,
            "/varsets/{varset_id}",
            "Show a variable set with the workspaces and projects it applies to.",
        )
        .params(vec![varset_id()]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_variable_set",
            M::Create,
            "variable-sets",
            "Create a variable set",
            V::Post,
            "/organizations/{organization_name}/varsets",
            "Create a variable set (organization-owned, or owned by parent_project_id), optionally applied to workspaces and projects; add its variables with create_a_hashicorp_terraform_cloud_variable_set_variable.",
        )
        .params(
            [
                vec![org()],
                varset_settings(true),
                vec![
                    P::rels("workspace_ids", "workspaces", "workspaces", "Workspaces (`ws-...`) to apply it to."),
                    P::rels("project_ids", "projects", "projects", "Projects (`prj-...`) to apply it to."),
                    P::rel(
                        "parent_project_id",
                        "parent",
                        "projects",
                        "Project (`prj-...`) that owns the set (a project-owned set is managed by the project's admins); omit for an organization-owned set.",
                    ),
                ],
            ]
            .concat(),
        )
        .body(Body::Resource("varsets")),
    );
    t.push(
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_variable_set_by_id",
            M::Update,
            "variable-sets",
            "Update a variable set",
            V::Patch,
            "/varsets/{varset_id}",
            "Update a variable set's settings.",
        )
        .params([vec![varset_id()], varset_settings(false)].concat())
        .body(Body::Resource("varsets")),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_variable_set_by_id",
            M::Delete,
            "variable-sets",
            "Delete a variable set",
            V::Delete,
            "/varsets/{varset_id}",
            "Delete a variable set and its variables.",
        )
        .params(vec![varset_id()]),
    );
    for (name, title, verb, path, list, ty, desc) in [
        (
            "hashicorp_terraform_cloud_variable_sets_apply_to_workspaces",
            "Apply a variable set to workspaces",
            V::Post,
            "/varsets/{varset_id}/relationships/workspaces",
            "workspace_ids",
            "workspaces",
            "Apply a variable set to workspaces.",
        ),
        (
            "hashicorp_terraform_cloud_variable_sets_remove_from_workspaces",
            "Remove a variable set from workspaces",
            V::Delete,
            "/varsets/{varset_id}/relationships/workspaces",
            "workspace_ids",
            "workspaces",
            "Stop applying a variable set to workspaces.",
        ),
        (
            "hashicorp_terraform_cloud_variable_sets_apply_to_projects",
            "Apply a variable set to projects",
            V::Post,
            "/varsets/{varset_id}/relationships/projects",
            "project_ids",
            "projects",
            "Apply a variable set to projects (and so their workspaces).",
        ),
        (
            "hashicorp_terraform_cloud_variable_sets_remove_from_projects",
            "Remove a variable set from projects",
            V::Delete,
            "/varsets/{varset_id}/relationships/projects",
            "project_ids",
            "projects",
            "Stop applying a variable set to projects.",
        ),
    ] {
        t.push(relationship_action(name, "variable-sets", title, verb, path, varset_id(), list, ty, "Ids to (un)link.", desc));
    }

    // ---- organization policies
    let policy_id = || P::path("policy_id", "Policy id (`pol-...`).");
    let policy_code = || P::local("policy_code", K::String, "Policy source code (Sentinel or Rego) to upload.");
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_organization_policies",
            M::List,
            "policies",
            "List policies",
            V::Get,
            "/organizations/{organization_name}/policies",
            "List the Sentinel and OPA policies of an organization.",
        )
        .params(vec![org(), P::query("search_name", "search[name]", K::String, "Search policies by name.")]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_organization_policy_by_id",
            M::Get,
            "policies",
            "Show a policy",
            V::Get,
            "/policies/{policy_id}",
            "Show one policy (enforcement level, policy sets).",
        )
        .params(vec![policy_id()]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_organization_policy",
            M::Create,
            "policies",
            "Create a policy",
            V::Post,
            "/organizations/{organization_name}/policies",
            "Create a policy and, when policy_code is given, upload its code.",
        )
        .params(vec![
            org(),
            P::attr("name", "name", K::String, "Policy name (letters, numbers, `-`, `_`).").required(),
            P::attr("description", "description", K::String, "Description."),
            P::attr("kind", "kind", K::String, "Policy framework (default sentinel).").one_of(&["sentinel", "opa"]),
            P::attr("query", "query", K::String, "OPA: the rule query, e.g. `data.terraform.main.deny`."),
            P::attr("enforcement_level", "enforcement-level", K::String, "Enforcement level (OPA: advisory or mandatory).").one_of(&[
                "advisory",
                "soft-mandatory",
                "hard-mandatory",
                "mandatory",
            ]),
            P::rels("policy_set_ids", "policy-sets", "policy-sets", "Policy sets (`polset-...`) to add it to."),
            policy_code(),
        ])
        .body(Body::Resource("policies"))
        .handler(Handler::CreatePolicy),
    );
    t.push(
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_organization_policy_by_id",
            M::Update,
            "policies",
            "Update a policy",
            V::Patch,
            "/policies/{policy_id}",
            "Update a policy's settings and, when policy_code is given, upload new code.",
        )
        .params(vec![
            policy_id(),
            P::attr("description", "description", K::String, "Description."),
            P::attr("query", "query", K::String, "OPA: the rule query."),
            P::attr("enforcement_level", "enforcement-level", K::String, "Enforcement level.").one_of(&[
                "advisory",
                "soft-mandatory",
                "hard-mandatory",
                "mandatory",
            ]),
            policy_code(),
        ])
        .body(Body::Resource("policies"))
        .handler(Handler::CreatePolicy),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_organization_policy_by_id",
            M::Delete,
            "policies",
            "Delete a policy",
            V::Delete,
            "/policies/{policy_id}",
            "Delete a policy.",
        )
        .params(vec![policy_id()]),
    );

    // ---- policy sets
    let polset_id = || P::path("policy_set_id", "Policy set id (`polset-...`).");
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_policy_sets",
            M::List,
            "policy-sets",
            "List policy sets",
            V::Get,
            "/organizations/{organization_name}/policy-sets",
            "List the policy sets of an organization.",
        )
        .params(vec![org(), P::query("search_name", "search[name]", K::String, "Search policy sets by name.")]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_policy_set_by_id",
            M::Get,
            "policy-sets",
            "Show a policy set",
            V::Get,
            "/policy-sets/{policy_set_id}",
            "Show a policy set with its policies, workspaces and projects.",
        )
        .params(vec![polset_id()]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_policy_set",
            M::Create,
            "policy-sets",
            "Create a policy set",
            V::Post,
            "/organizations/{organization_name}/policy-sets",
            "Create a policy set, optionally with policies and attached workspaces/projects.",
        )
        .params(
            [
                vec![org()],
                policy_set_settings(true),
                vec![
                    P::rels("policy_ids", "policies", "policies", "Policies (`pol-...`) in the set (non-VCS sets)."),
                    P::rels("workspace_ids", "workspaces", "workspaces", "Workspaces (`ws-...`) it applies to."),
                    P::rels("project_ids", "projects", "projects", "Projects (`prj-...`) it applies to."),
                    P::rels(
                        "excluded_workspace_ids",
                        "workspace-exclusions",
                        "workspaces",
                        "Workspaces (`ws-...`) excluded from a global or project-scoped set.",
                    ),
                ],
            ]
            .concat(),
        )
        .body(Body::Resource("policy-sets")),
    );
    t.push(
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_policy_set_by_id",
            M::Update,
            "policy-sets",
            "Update a policy set",
            V::Patch,
            "/policy-sets/{policy_set_id}",
            "Update a policy set's settings.",
        )
        .params([vec![polset_id()], policy_set_settings(false)].concat())
        .body(Body::Resource("policy-sets")),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_policy_set_by_id",
            M::Delete,
            "policy-sets",
            "Delete a policy set",
            V::Delete,
            "/policy-sets/{policy_set_id}",
            "Delete a policy set (its policies are kept).",
        )
        .params(vec![polset_id()]),
    );
    for (name, title, verb, path, list, ty, desc) in [
        (
            "hashicorp_terraform_cloud_policy_sets_attach_workspaces",
            "Attach a policy set to workspaces",
            V::Post,
            "/policy-sets/{policy_set_id}/relationships/workspaces",
            "workspace_ids",
            "workspaces",
            "Enforce a policy set on workspaces.",
        ),
        (
            "hashicorp_terraform_cloud_policy_sets_detach_workspaces",
            "Detach a policy set from workspaces",
            V::Delete,
            "/policy-sets/{policy_set_id}/relationships/workspaces",
            "workspace_ids",
            "workspaces",
            "Stop enforcing a policy set on workspaces.",
        ),
        (
            "hashicorp_terraform_cloud_policy_sets_attach_projects",
            "Attach a policy set to projects",
            V::Post,
            "/policy-sets/{policy_set_id}/relationships/projects",
            "project_ids",
            "projects",
            "Enforce a policy set on projects.",
        ),
        (
            "hashicorp_terraform_cloud_policy_sets_detach_projects",
            "Detach a policy set from projects",
            V::Delete,
            "/policy-sets/{policy_set_id}/relationships/projects",
            "project_ids",
            "projects",
            "Stop enforcing a policy set on projects.",
        ),
    ] {
        t.push(relationship_action(name, "policy-sets", title, verb, path, polset_id(), list, ty, "Ids to (un)link.", desc));
    }

    // ---- teams
    let team_id = || P::path("team_id", "Team id (`team-...`).");
    let team_settings = |required: bool| {
        let name = P::attr("name", "name", K::String, "Team name.");
        vec![
            if required { name.required() } else { name },
            P::attr("visibility", "visibility", K::String, "Who can see the team.").one_of(&["secret", "organization"]),
            P::attr("sso_team_id", "sso-team-id", K::String, "SSO team identifier."),
            P::attr("allow_member_token_management", "allow-member-token-management", K::Boolean, "Let members manage the team token."),
            P::attr(
                "organization_access",
                "organization-access",
                K::Object,
                "Organization permissions, e.g. {manage_workspaces: true, read_projects: true}.",
            ),
        ]
    };
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_teams",
            M::List,
            "teams",
            "List teams",
            V::Get,
            "/organizations/{organization_name}/teams",
            "List the teams of an organization.",
        )
        .params(vec![
            org(),
            search_query(),
            P::query("filter_names", "filter[names]", K::String, "Comma-separated exact team names."),
        ]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_team_by_id",
            M::Get,
            "teams",
            "Show a team",
            V::Get,
            "/teams/{team_id}",
            "Show a team and its organization permissions.",
        )
        .params(vec![team_id()]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_team",
            M::Create,
            "teams",
            "Create a team",
            V::Post,
            "/organizations/{organization_name}/teams",
            "Create a team.",
        )
        .params([vec![org()], team_settings(true)].concat())
        .body(Body::Resource("teams")),
    );
    t.push(
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_team_by_id",
            M::Update,
            "teams",
            "Update a team",
            V::Patch,
            "/teams/{team_id}",
            "Update a team's settings.",
        )
        .params([vec![team_id()], team_settings(false)].concat())
        .body(Body::Resource("teams")),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_team_by_id",
            M::Delete,
            "teams",
            "Delete a team",
            V::Delete,
            "/teams/{team_id}",
            "Delete a team.",
        )
        .params(vec![team_id()]),
    );

    // ---- team access (team-workspaces)
    let ta_id = || P::path("team_access_id", "Team access id (`tws-...`).");
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_team_accesses",
            M::List,
            "team-access",
            "List team access",
            V::Get,
            "/team-workspaces",
            "List which teams can access a workspace, and how.",
        )
        .params(vec![P::query("workspace_id", "filter[workspace][id]", K::String, "Workspace id (`ws-...`).").required()]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_team_access_by_id",
            M::Get,
            "team-access",
            "Show team access",
            V::Get,
            "/team-workspaces/{team_access_id}",
            "Show one team's access to a workspace.",
        )
        .params(vec![ta_id()]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_team_access",
            M::Create,
            "team-access",
            "Grant team access",
            V::Post,
            "/team-workspaces",
            "Give a team access to a workspace.",
        )
        .params(
            [
                vec![
                    P::rel("workspace_id", "workspace", "workspaces", "Workspace (`ws-...`).").required(),
                    P::rel("team_id", "team", "teams", "Team (`team-...`).").required(),
                ],
                team_access_settings().into_iter().map(|p| if p.name == "access" { p.required() } else { p }).collect(),
            ]
            .concat(),
        )
        .body(Body::Resource("team-workspaces")),
    );
    t.push(
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_team_access_by_id",
            M::Update,
            "team-access",
            "Update team access",
            V::Patch,
            "/team-workspaces/{team_access_id}",
            "Change a team's access to a workspace.",
        )
        .params([vec![ta_id()], team_access_settings()].concat())
        .body(Body::Resource("team-workspaces")),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_team_access_by_id",
            M::Delete,
            "team-access",
            "Revoke team access",
            V::Delete,
            "/team-workspaces/{team_access_id}",
            "Remove a team's access to a workspace.",
        )
        .params(vec![ta_id()]),
    );

    // ---- SSH keys
    let key_id = || P::path("ssh_key_id", "SSH key id (`sshkey-...`).");
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_ssh_keys",
            M::List,
            "ssh-keys",
            "List SSH keys",
            V::Get,
            "/organizations/{organization_name}/ssh-keys",
            "List the SSH keys of an organization (names only; key material is never returned).",
        )
        .params(vec![org()]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_ssh_key_by_id",
            M::Get,
            "ssh-keys",
            "Show an SSH key",
            V::Get,
            "/ssh-keys/{ssh_key_id}",
            "Show an SSH key's name.",
        )
        .params(vec![key_id()]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_ssh_key",
            M::Create,
            "ssh-keys",
            "Create an SSH key",
            V::Post,
            "/organizations/{organization_name}/ssh-keys",
            "Store a private SSH key for fetching Terraform modules from private Git repositories.",
        )
        .params(vec![
            org(),
            P::attr("name", "name", K::String, "Key name.").required(),
            P::attr("value", "value", K::String, "The private key (PEM).").required().secret(),
        ])
        .body(Body::Resource("ssh-keys")),
    );
    t.push(
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_ssh_key_by_id",
            M::Update,
            "ssh-keys",
            "Rename an SSH key",
            V::Patch,
            "/ssh-keys/{ssh_key_id}",
            "Rename an SSH key (the key itself cannot be changed).",
        )
        .params(vec![key_id(), P::attr("name", "name", K::String, "New name.").required()])
        .body(Body::Resource("ssh-keys")),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_ssh_key_by_id",
            M::Delete,
            "ssh-keys",
            "Delete an SSH key",
            V::Delete,
            "/ssh-keys/{ssh_key_id}",
            "Delete an SSH key.",
        )
        .params(vec![key_id()]),
    );

    // ---- organization tokens
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_organization_token_by_id",
            M::Get,
            "organization-tokens",
            "Show the organization token",
            V::Get,
            "/organizations/{organization_name}/authentication-token",
            "Show the organization API token's metadata (created, last used, expiry; never the secret).",
        )
        .params(vec![org()]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_organization_token",
            M::Create,
            "organization-tokens",
            "Create the organization token",
            V::Post,
            "/organizations/{organization_name}/authentication-token",
            "Generate a new organization API token, replacing the existing one. The answer contains the secret token once; it outlives this MCP server, so the tool exists only on servers that name it in tools.include.",
        )
        .params(vec![org(), P::attr("expired_at", "expired-at", K::String, "Expiry (RFC 3339 timestamp); none means it never expires.")])
        .body(Body::Resource("authentication-token"))
        .mints_credential(),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_organization_token_by_id",
            M::Delete,
            "organization-tokens",
            "Delete the organization token",
            V::Delete,
            "/organizations/{organization_name}/authentication-token",
            "Revoke the organization API token.",
        )
        .params(vec![org()]),
    );

    // ---- users
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_user_by_id",
            M::Get,
            "users",
            "Show a user or the current account",
            V::Get,
            "/users/{user_id}",
            "Show a user by user_id, or without user_id the account that owns this server's HCP Terraform token.",
        )
        .alt_path("/account/details")
        .params(vec![P::path("user_id", "User id (`user-...`); omit for the current account.").optional()]),
    );

    // ---- workspace tags
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_workspace_tags",
            M::List,
            "tags",
            "List workspace tags",
            V::Get,
            "/workspaces/{workspace_id}/relationships/tags",
            "List the (flat string) tags of a workspace.",
        )
        .params(vec![ws_id()]),
    );
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_workspace_tags_add",
            M::Custom,
            "tags",
            "Add workspace tags",
            V::Post,
            "/workspaces/{workspace_id}/relationships/tags",
            "Add flat string tags to a workspace (created in the organization if new).",
        )
        .params(vec![ws_id(), P::local("tag_names", K::StringList, "Tag names to add.").required()])
        .body(Body::Tags),
    );
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_workspace_tags_remove",
            M::Custom,
            "tags",
            "Remove workspace tags",
            V::Delete,
            "/workspaces/{workspace_id}/relationships/tags",
            "Remove tags from a workspace, by name or by id.",
        )
        .params(vec![
            ws_id(),
            P::local("tag_names", K::StringList, "Tag names to remove."),
            P::local("tag_ids", K::StringList, "Tag ids (`tag-...`) to remove."),
        ])
        .body(Body::Tags)
        .destructive(),
    );

    // ---- configuration versions, agent pools
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_configuration_versions",
            M::List,
            "configuration-versions",
            "List configuration versions",
            V::Get,
            "/workspaces/{workspace_id}/configuration-versions",
            "List the configuration versions (uploaded or VCS-ingressed configurations) of a workspace.",
        )
        .params(vec![ws_id()]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_configuration_version_by_id",
            M::Get,
            "configuration-versions",
            "Show a configuration version",
            V::Get,
            "/configuration-versions/{configuration_version_id}",
            "Show a configuration version (status, source, speculative).",
        )
        .params(vec![P::path("configuration_version_id", "Configuration version id (`cv-...`).")]),
    );
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_agent_pools",
            M::List,
            "agent-pools",
            "List agent pools",
            V::Get,
            "/organizations/{organization_name}/agent-pools",
            "List the agent pools of an organization.",
        )
        .params(vec![org(), search_query()]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_agent_pool_by_id",
            M::Get,
            "agent-pools",
            "Show an agent pool",
            V::Get,
            "/agent-pools/{agent_pool_id}",
            "Show an agent pool and the workspaces that use it.",
        )
        .params(vec![P::path("agent_pool_id", "Agent pool id (`apool-...`).")]),
    );

    // ---- notification configurations
    let nc_id = || P::path("notification_configuration_id", "Notification configuration id (`nc-...`).");
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_notifications",
            M::List,
            "notification-configurations",
            "List notification configurations",
            V::Get,
            "/workspaces/{workspace_id}/notification-configurations",
            "List a workspace's notification configurations.",
        )
        .params(vec![ws_id()]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_notification_by_id",
            M::Get,
            "notification-configurations",
            "Show a notification configuration",
            V::Get,
            "/notification-configurations/{notification_configuration_id}",
            "Show a notification configuration and its delivery responses.",
        )
        .params(vec![nc_id()]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_notification",
            M::Create,
            "notification-configurations",
            "Create a notification configuration",
            V::Post,
            "/workspaces/{workspace_id}/notification-configurations",
            "Create a notification configuration (webhook, Slack, Microsoft Teams or email) on a workspace.",
        )
        .params([vec![ws_id()], notification_settings(true)].concat())
        .body(Body::Resource("notification-configurations")),
    );
    t.push(
        ToolSpec::new(
            "update_a_hashicorp_terraform_cloud_notification_by_id",
            M::Update,
            "notification-configurations",
            "Update a notification configuration",
            V::Patch,
            "/notification-configurations/{notification_configuration_id}",
            "Update a notification configuration.",
        )
        .params([vec![nc_id()], notification_settings(false)].concat())
        .body(Body::Resource("notification-configurations"))
        .body_id("notification_configuration_id"),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_notification_by_id",
            M::Delete,
            "notification-configurations",
            "Delete a notification configuration",
            V::Delete,
            "/notification-configurations/{notification_configuration_id}",
            "Delete a notification configuration.",
        )
        .params(vec![nc_id()]),
    );
    t.push(
        ToolSpec::new(
            "hashicorp_terraform_cloud_notifications_verify",
            M::Custom,
            "notification-configurations",
            "Verify a notification configuration",
            V::Post,
            "/notification-configurations/{notification_configuration_id}/actions/verify",
            "Send a test notification and return the delivery response.",
        )
        .params(vec![nc_id()]),
    );

    // ---- comments
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_comments",
            M::List,
            "comments",
            "List run comments",
            V::Get,
            "/runs/{run_id}/comments",
            "List the comments on a run.",
        )
        .params(vec![run_id()]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_comment",
            M::Create,
            "comments",
            "Comment on a run",
            V::Post,
            "/runs/{run_id}/comments",
            "Add a comment to a run.",
        )
        .params(vec![run_id(), P::attr("body", "body", K::String, "Comment text.").required()])
        .body(Body::Resource("comments")),
    );

    // ---- assessments
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_assessment_result_by_id",
            M::Get,
            "assessments",
            "Show an assessment result",
            V::Get,
            "/assessment-results/{assessment_result_id}",
            "Show a health assessment result (drift, continuous validation). A workspace's latest one is its current_assessment_result_id.",
        )
        .params(vec![P::path("assessment_result_id", "Assessment result id (`asmtres-...`).")]),
    );

    // ---- run triggers
    let rt_id = || P::path("run_trigger_id", "Run trigger id (`rt-...`).");
    t.push(
        ToolSpec::new(
            "list_all_hashicorp_terraform_cloud_run_triggers",
            M::List,
            "run-triggers",
            "List run triggers",
            V::Get,
            "/workspaces/{workspace_id}/run-triggers",
            "List a workspace's run triggers: inbound (source workspaces that trigger it) or outbound (workspaces it triggers).",
        )
        .params(vec![
            ws_id(),
            P::query("trigger_type", "filter[run-trigger][type]", K::String, "Direction.").one_of(&["inbound", "outbound"]).required(),
        ]),
    );
    t.push(
        ToolSpec::new(
            "get_single_hashicorp_terraform_cloud_run_trigger_by_id",
            M::Get,
            "run-triggers",
            "Show a run trigger",
            V::Get,
            "/run-triggers/{run_trigger_id}",
            "Show a run trigger.",
        )
        .params(vec![rt_id()]),
    );
    t.push(
        ToolSpec::new(
            "create_a_hashicorp_terraform_cloud_run_trigger",
            M::Create,
            "run-triggers",
            "Create a run trigger",
            V::Post,
            "/workspaces/{workspace_id}/run-triggers",
            "Make successful applies in a source workspace queue runs in this workspace.",
        )
        .params(vec![ws_id(), P::rel("sourceable_id", "sourceable", "workspaces", "Source workspace (`ws-...`).").required()])
        .body(Body::Resource("run-triggers")),
    );
    t.push(
        ToolSpec::new(
            "delete_a_hashicorp_terraform_cloud_run_trigger_by_id",
            M::Delete,
            "run-triggers",
            "Delete a run trigger",
            V::Delete,
            "/run-triggers/{run_trigger_id}",
            "Delete a run trigger.",
        )
        .params(vec![rt_id()]),
    );

    t.extend(workspace_insights::tools());
    t.extend(private_registry::tools());
    t.extend(stacks::tools());
    t.extend(registry::tools());
    t.extend(tag_bindings::tools());
    t.extend(org_access::tools());
    t.extend(vcs::tools());
    t.extend(varset_variables::tools());
    t.extend(run_tasks::tools());
    t.extend(state_rollback::tools());
    t
}
