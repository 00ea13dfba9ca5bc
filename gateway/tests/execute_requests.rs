//! Argument validation and request building, without any I/O: the payloads
//! match the documented samples (`tests/fixtures/tfc-api-samples/`, copied from HashiCorp's API documentation).

use std::path::PathBuf;

use serde_json::{Map, Value, json};
use tfc_mcp_gateway::catalog::Method;
use tfc_mcp_gateway::catalog::catalog;
use tfc_mcp_gateway::execute::{Request, ToolError, ToolErrorKind, prepare, query_cursor};

/// (method, path) of the section's first request, when it has one, and its
/// payload number `index`.
fn sample_payload(file: &str, section: &str, index: usize) -> (Option<(String, String)>, Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tfc-api-samples").join(file);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let s = doc["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["section"] == section)
        .unwrap_or_else(|| panic!("{file} / {section}"))
        .clone();
    let request = s["requests"].get(0).map(|req| {
        let url = url::Url::parse(req["url"].as_str().unwrap()).unwrap();
        (req["method"].as_str().unwrap().to_owned(), url.path().strip_prefix("/api/v2").unwrap().to_owned())
    });
    (request, s["payloads"][index].clone())
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn build(tool: &str, a: Value) -> Result<Request, ToolError> {
    prepare(catalog().get(tool).unwrap_or_else(|| panic!("{tool}")), args(a))
}

/// How a built body is compared with a documented payload.
#[derive(Clone, Copy)]
enum Match {
    /// Identical.
    Exact,
    /// Identical once these keys of the sample's `data.attributes` /
    /// `data.relationships`, which the tool does not send, are set aside
    /// (each one is checked to be in the sample, so the list stays honest).
    Without(&'static [&'static str]),
}

/// (tool, arguments, sample file, sample section, payload index, match)
/// One row per create/update tool payload the API documentation shows.
fn payload_cases() -> Vec<(&'static str, Value, &'static str, &'static str, usize, Match)> {
    use Match::*;
    vec![
        (
            "create_a_hashicorp_terraform_cloud_run",
            json!({"workspace_id": "ws-LLGHCr4SWy28wyGN", "message": "Custom message", "configuration_version_id": "cv-n4XQPBa2QnecZJ4G"}),
            "run.json",
            "Create a Run",
            0,
            Exact,
        ),
        (
            "hashicorp_terraform_cloud_runs_apply",
            json!({"run_id": "run-DQGdmrWMX8z9yWQB", "comment": "Looks good to me"}),
            "run.json",
            "Apply a Run",
            0,
            Exact,
        ),
        (
            "hashicorp_terraform_cloud_workspaces_lock",
            json!({"workspace_id": "ws-SihZTyXKfNXUWuUa", "reason": "Locking workspace-1"}),
            "workspaces.json",
            "Lock a workspace",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_workspace",
            json!({"organization_name": "my-organization", "name": "workspace-1"}),
            "workspaces.json",
            "Create a Workspace",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_workspace",
            json!({"organization_name": "my-organization", "name": "workspace-2", "working_directory": "",
                   "vcs_repo": {"identifier": "example/terraform-test-proj", "oauth_token_id": "ot-hmAyP66qk2AMVdbJ", "branch": "", "tags_regex": null}}),
            "workspaces.json",
            "Create a Workspace",
            2,
            // The sample spells `terraform_version` in snake case (a typo of
            // the documentation; the API attribute is `terraform-version`).
            Without(&["terraform_version"]),
        ),
        (
            "create_a_hashicorp_terraform_cloud_workspace",
            json!({"organization_name": "my-organization", "name": "workspace-3", "file_triggers_enabled": true,
                   "trigger_prefixes": ["/modules", "/vendor"], "working_directory": "/networking",
                   "vcs_repo": {"identifier": "example/terraform-test-proj-monorepo", "oauth_token_id": "ot-hmAyP66qk2AMVdbJ", "branch": ""}}),
            "workspaces.json",
            "Create a Workspace",
            3,
            // `updated-at` is read-only.
            Without(&["terraform_version", "updated-at"]),
        ),
        (
            "create_a_hashicorp_terraform_cloud_workspace",
            json!({"organization_name": "my-organization", "name": "workspace-4", "file_triggers_enabled": true,
                   "trigger_patterns": ["/**/networking/*.tf", "/base/*", "/submodule/**/*"],
                   "vcs_repo": {"identifier": "example/terraform-test-proj-monorepo", "oauth_token_id": "ot-hmAyP66qk2AMVdbJ", "branch": ""}}),
            "workspaces.json",
            "Create a Workspace",
            4,
            Without(&["terraform_version", "updated-at"]),
        ),
        (
            "create_a_hashicorp_terraform_cloud_workspace",
            json!({"organization_name": "my-organization", "name": "workspace-in-project", "project_id": "prj-jT92VLSFpv8FwKtc"}),
            "workspaces.json",
            "Create a Workspace",
            7,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_workspace",
            json!({"organization_name": "my-organization", "name": "workspace-in-project"}),
            "workspaces.json",
            "Create a Workspace",
            8,
            Exact,
        ),
        (
            "update_a_hashicorp_terraform_cloud_workspace_by_id",
            json!({"workspace_id": "ws-workspace2", "name": "workspace-2", "working_directory": "",
                   "vcs_repo": {"identifier": "example/terraform-test-proj", "branch": "", "ingress_submodules": false, "oauth_token_id": "ot-hmAyP66qk2AMVdbJ"},
                   "project_id": "prj-7HWWPGY3fYxztELU", "tag_bindings": [{"key": "environment", "value": "development"}]}),
            "workspaces.json",
            "Update a Workspace",
            0,
            // Read-only counters and timestamps.
            Without(&["resource-count", "updated-at", "terraform_version"]),
        ),
        (
            "hashicorp_terraform_cloud_workspace_tags_add",
            json!({"workspace_id": "ws-workspace2", "tag_names": ["foo", "bar"]}),
            "workspaces.json",
            "Add flat string tags to a workspace",
            0,
            Exact,
        ),
        (
            "hashicorp_terraform_cloud_workspace_tags_remove",
            json!({"workspace_id": "ws-workspace2", "tag_ids": ["tag-Yfha4YpPievQ8wJw"]}),
            "workspaces.json",
            "Remove tags from workspace",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_organization_policy",
            json!({"organization_name": "my-organization", "name": "my-example-policy", "description": "An example policy.",
                   "kind": "sentinel", "enforcement_level": "hard-mandatory", "policy_set_ids": ["polset-3yVQZvHzf5j3WRJ1"]}),
            "policies.json",
            "Create a Policy",
            0,
            Exact,
        ),
        (
            "update_a_hashicorp_terraform_cloud_organization_policy_by_id",
            json!({"policy_id": "pol-u3S5p2Uwk21keu1s", "enforcement_level": "soft-mandatory"}),
            "policies.json",
            "Update a Policy",
            0,
            Exact,
        ),
        (
            "update_a_hashicorp_terraform_cloud_organization_by_id",
            json!({"organization_name": "hashicorp", "email": "admin@example.com"}),
            "organizations.json",
            "Update an Organization",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_workspace_variable",
            json!({"workspace_id": "ws-4j8p6jX1w33MiDC7", "key": "some_key", "value": "some_value", "description": "some description",
                   "category": "terraform", "hcl": false, "sensitive": false}),
            "workspace-variables.json",
            "Create a Variable",
            0,
            Exact,
        ),
        (
            "update_a_hashicorp_terraform_cloud_workspace_variable_by_id",
            json!({"workspace_id": "ws-4j8p6jX1w33MiDC7", "variable_id": "var-yRmifb4PJj7cLkMG", "key": "name", "value": "mars",
                   "description": "some description", "category": "terraform", "hcl": false, "sensitive": false}),
            "workspace-variables.json",
            "Update Variables",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_variable_set",
            json!({"organization_name": "my-organization", "name": "MyVarset", "description": "Full of vars and such for mass reuse",
                   "global": false, "priority": false, "workspace_ids": ["ws-z6YvbWEYoE168kpq"]}),
            "variable-sets.json",
            "Create a Variable Set",
            0,
            // Variables are added with the variable-set variable tools;
            // project-owned sets (`parent`) are not created by this tool.
            Without(&["vars", "parent"]),
        ),
        (
            "update_a_hashicorp_terraform_cloud_variable_set_by_id",
            json!({"varset_id": "varset-kjkN545LH2Sfercv", "name": "MyVarset", "description": "Full of vars and such for mass reuse. Now global!",
                   "global": true, "priority": true}),
            "variable-sets.json",
            "Update a Variable Set",
            0,
            // Applying to workspaces and projects has its own tools.
            Without(&["workspaces", "projects", "vars"]),
        ),
        (
            "hashicorp_terraform_cloud_variable_sets_apply_to_workspaces",
            json!({"varset_id": "varset-kjkN545LH2Sfercv", "workspace_ids": ["ws-YwfuBJZkdai4xj9w"]}),
            "variable-sets.json",
            "Apply Variable Set to Workspaces",
            0,
            Exact,
        ),
        (
            "hashicorp_terraform_cloud_variable_sets_remove_from_workspaces",
            json!({"varset_id": "varset-kjkN545LH2Sfercv", "workspace_ids": ["ws-YwfuBJZkdai4xj9w", "ws-YwfuBJZkdai4xj9w"]}),
            "variable-sets.json",
            "Remove a Variable Set from Workspaces",
            0,
            Exact,
        ),
        (
            "hashicorp_terraform_cloud_variable_sets_apply_to_projects",
            json!({"varset_id": "varset-kjkN545LH2Sfercv", "project_ids": ["prj-YwfuBJZkdai4xj9w"]}),
            "variable-sets.json",
            "Apply Variable Set to Projects",
            0,
            Exact,
        ),
        // ---- variables in sets, project-owned sets, run tasks, state rollback
        (
            "create_a_hashicorp_terraform_cloud_variable_set",
            json!({"organization_name": "my-organization", "name": "MyVarset", "description": "Full of vars and such for mass reuse",
                   "global": false, "priority": false, "workspace_ids": ["ws-z6YvbWEYoE168kpq"], "parent_project_id": "prj-kFjgSzcZSr5c3imE"}),
            "variable-sets.json",
            "Create a Variable Set",
            0,
            Without(&["vars"]),
        ),
        (
            "create_a_hashicorp_terraform_cloud_variable_set_variable",
            json!({"varset_id": "varset-4q8f7H0NHG733bBH", "key": "g6e45ae7564a17e81ef62fd1c7fa86138", "value": "61e400d5ccffb3782f215344481e6c82",
                   "description": "cheeeese", "sensitive": false, "category": "terraform", "hcl": false}),
            "variable-sets.json",
            "Add Variable",
            0,
            Exact,
        ),
        (
            "update_a_hashicorp_terraform_cloud_variable_set_variable_by_id",
            json!({"varset_id": "varset-4q8f7H0NHG733bBH", "varset_variable_id": "var-EavQ1LztoRTQHSNT",
                   "key": "g6e45ae7564a17e81ef62fd1c7fa86138", "value": "61e400d5ccffb3782f215344481e6c82",
                   "description": "new cheeeese", "sensitive": false, "category": "terraform", "hcl": false}),
            "variable-sets.json",
            "Update a Variable in a Variable Set",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_run_task",
            json!({"organization_name": "my-organization", "name": "example", "url": "http://example.com", "description": "Simple description",
                   "category": "task", "global_configuration": {"enabled": true, "stages": ["pre_plan"], "enforcement_level": "mandatory"},
                   "agent_pool_id": "apool-yoGUFz5zcRMMz53i"}),
            "run-tasks.json",
            "Create a Run Task",
            0,
            // The sample spells the key `hmac_key` and the boolean `enabled`
            // as a string; the tool sends the documented `hmac-key` and a
            // boolean (checked in run_task_hmac_key_and_enabled).
            Without(&["hmac_key", "enabled"]),
        ),
        (
            "update_a_hashicorp_terraform_cloud_run_task_by_id",
            json!({"run_task_id": "task-7oD7doVTQdAFnMLV", "name": "new-example", "url": "http://new-example.com",
                   "description": "New description", "category": "task", "global_configuration": {"enabled": false}}),
            "run-tasks.json",
            "Update a Run Task",
            0,
            Without(&["hmac_key", "enabled"]),
        ),
        (
            "create_a_hashicorp_terraform_cloud_workspace_run_task",
            json!({"workspace_id": "ws-PphL7ix3yGasYGrq", "run_task_id": "task-7oD7doVTQdAFnMLV", "enforcement_level": "advisory",
                   "stages": ["post_plan"]}),
            "run-tasks.json",
            "Associate a Run Task to a Workspace",
            0,
            Exact,
        ),
        (
            "update_a_hashicorp_terraform_cloud_workspace_run_task_by_id",
            json!({"workspace_id": "ws-kRsDRPtTmtcEme4t", "workspace_task_id": "wstask-tBXYu8GVAFBpcmPm", "enforcement_level": "mandatory",
                   "stages": ["post_plan"]}),
            "run-tasks.json",
            "Update Workspace Run Task",
            0,
            Exact,
        ),
        (
            "hashicorp_terraform_cloud_state_versions_rollback",
            json!({"workspace_id": "ws-6fHMCom98SDXSQUv", "state_version_id": "sv-bWfq4Y1YpRKW4mx7"}),
            "state-versions.json",
            "Rollback to a Previous State Version",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_project",
            json!({"organization_name": "my-organization", "name": "Test Project", "description": "An example project for documentation.",
                   "tag_bindings": [{"key": "environment", "value": "development"}]}),
            "projects.json",
            "Create a Project",
            0,
            Exact,
        ),
        (
            "update_a_hashicorp_terraform_cloud_project_by_id",
            json!({"project_id": "prj-WsVcWRr7SfxRci1v", "name": "Infrastructure Project", "tag_bindings": [{"key": "environment", "value": "staging"}]}),
            "projects.json",
            "Update a Project",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_policy_set",
            json!({"organization_name": "my-organization", "name": "production",
                   "description": "This set contains policies that should be checked on all production infrastructure workspaces.",
                   "global": false, "kind": "sentinel", "agent_enabled": true, "policy_tool_version": "0.23.0", "overridable": true,
                   "policies_path": "/policy-sets/foo",
                   "vcs_repo": {"branch": "main", "identifier": "hashicorp/my-policy-sets", "ingress_submodules": false, "oauth_token_id": "ot-7Fr9d83jWsi8u23A"},
                   "project_ids": ["prj-AwfuCJTkdai4xj9w"], "workspace_ids": ["ws-2HRvNs49EWPjDqT1"], "excluded_workspace_ids": ["ws-FVVvzCDaykN1oHiw"]}),
            "policy-sets.json",
            "Create a policy set",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_policy_set",
            json!({"organization_name": "my-organization", "name": "production",
                   "description": "This set contains policies that should be checked on all production infrastructure workspaces.",
                   "kind": "sentinel", "global": false, "agent_enabled": true, "policy_tool_version": "0.23.0", "overridable": true,
                   "policy_ids": ["pol-u3S5p2Uwk21keu1s"], "workspace_ids": ["ws-2HRvNs49EWPjDqT1"]}),
            "policy-sets.json",
            "Create a policy set",
            1,
            Exact,
        ),
        (
            "update_a_hashicorp_terraform_cloud_policy_set_by_id",
            json!({"policy_set_id": "polset-3yVQZvHzf5j3WRJ1", "name": "workspace-scoped-policy-set",
                   "description": "Policies added to this policy set will be enforced on specified workspaces",
                   "global": false, "agent_enabled": true, "policy_tool_version": "0.23.0"}),
            "policy-sets.json",
            "Update a policy set",
            0,
            // Attaching and detaching have their own tools.
            Without(&["projects", "workspaces", "workspace-exclusions"]),
        ),
        (
            "hashicorp_terraform_cloud_policy_sets_attach_projects",
            json!({"policy_set_id": "polset-3yVQZvHzf5j3WRJ1", "project_ids": ["prj-AwfuCJTkdai4xj9w", "prj-2HRvNs49EWPjDqT1"]}),
            "policy-sets.json",
            "Attach a policy set to projects",
            0,
            Exact,
        ),
        (
            "hashicorp_terraform_cloud_policy_sets_attach_workspaces",
            json!({"policy_set_id": "polset-3yVQZvHzf5j3WRJ1", "workspace_ids": ["ws-u3S5p2Uwk21keu1s", "ws-2HRvNs49EWPjDqT1"]}),
            "policy-sets.json",
            "Attach a policy set to workspaces",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_team",
            json!({"organization_name": "my-organization", "name": "team-creation-test", "sso_team_id": "cb265c8e41bddf3f9926b2cf3d190f0e1627daa4",
                   "organization_access": {"manage_workspaces": true}}),
            "teams.json",
            "Create a Team",
            0,
            Exact,
        ),
        (
            "update_a_hashicorp_terraform_cloud_team_by_id",
            json!({"team_id": "team-6p5jTwJQXwqZBncC", "visibility": "organization", "allow_member_token_management": true,
                   "organization_access": {"manage_vcs_settings": true}}),
            "teams.json",
            "Update a Team",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_team_access",
            json!({"workspace_id": "ws-XGA52YVykdTgryTN", "team_id": "team-DBycxkdQrGFf5zEM", "access": "custom", "runs": "apply",
                   "variables": "none", "state_versions": "read-outputs", "plan_outputs": "none", "sentinel_mocks": "read",
                   "workspace_locking": false, "run_tasks": false}),
            "team-access.json",
            "Add Team Access to a Workspace",
            0,
            Exact,
        ),
        (
            "update_a_hashicorp_terraform_cloud_team_access_by_id",
            json!({"team_access_id": "tws-s68jV4FWCDwWvQq8", "access": "custom", "state_versions": "none"}),
            "team-access.json",
            "Update Team Access to a Workspace",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_ssh_key",
            json!({"organization_name": "my-organization", "name": "SSH Key", "value": "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAm6+JVgl..."}),
            "ssh-keys.json",
            "Create an SSH Key",
            0,
            Exact,
        ),
        (
            "update_a_hashicorp_terraform_cloud_ssh_key_by_id",
            json!({"ssh_key_id": "sshkey-GxrePWre1Ezug7aM", "name": "SSH Key for GitHub"}),
            "ssh-keys.json",
            "Update an SSH Key",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_organization_token",
            json!({"organization_name": "my-organization", "expired_at": "2023-04-06T12:00:00.000Z"}),
            "organization-tokens.json",
            "Generate a new organization token",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_notification",
            json!({"workspace_id": "ws-XdeUVMWShTesDMME", "destination_type": "email", "enabled": true, "name": "Notify organization users about run",
                   "triggers": ["run:applying", "run:completed", "run:created", "run:errored", "run:needs_attention", "run:planning"],
                   "email_user_ids": ["user-organizationuserid"]}),
            "notification-configurations.json",
            "Create a notification configuration",
            1,
            Exact,
        ),
        (
            "update_a_hashicorp_terraform_cloud_notification_by_id",
            json!({"notification_configuration_id": "nc-W6VGEi8A7Cfoaf4K", "enabled": false, "name": "Slack: #devops",
                   "url": "https://hooks.slack.com/services/T00000001/BC012345/0PWCpQmYyD4bTTRYZ53q4w", "destination_type": "slack",
                   "triggers": ["run:created", "run:errored", "run:needs_attention"]}),
            "notification-configurations.json",
            "Update a notification configuration",
            0,
            // An explicit null argument means "not given", so a token is
            // never sent as null (leaving it unset keeps the current one).
            Without(&["token"]),
        ),
        (
            "create_a_hashicorp_terraform_cloud_comment",
            json!({"run_id": "run-KTuq99JSzgmDSvYj", "body": "A comment about the run"}),
            "comments.json",
            "Create Comment",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_run_trigger",
            json!({"workspace_id": "ws-XdeUVMWShTesDMME", "sourceable_id": "ws-2HRvNs49EWPjDqT1"}),
            "run-triggers.json",
            "Create a Run Trigger",
            0,
            Exact,
        ),
        // The project and the inline variables are compared in tests/areas_ws.rs (the sample's
        // `"type": "project"` and `"hcl": true` on plain strings are documentation quirks).
        (
            "create_a_hashicorp_terraform_cloud_no_code_workspace",
            json!({"no_code_module_id": "nocode-WGckovT2RQxupyt1", "name": "no-code-workspace",
                   "description": "A workspace to enable the no-code provisioning workflow."}),
            "no-code-provisioning.json",
            "Create a no-code module workspace",
            0,
            Without(&["project", "vars"]),
        ),
        // ---- organization memberships, project team access, tag bindings
        (
            "create_a_hashicorp_terraform_cloud_workspace",
            json!({"organization_name": "my-organization", "name": "workspace-1", "tag_bindings": [{"key": "env", "value": "test"}]}),
            "workspaces.json",
            "Create a Workspace",
            1,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_organization_membership",
            json!({"organization_name": "my-organization", "email": "test@example.com", "team_ids": ["team-GeLZkdnK6xAVjA5H"]}),
            "organization-memberships.json",
            "Invite a User to an Organization",
            0,
            Exact,
        ),
        (
            "create_a_hashicorp_terraform_cloud_project_team_access",
            json!({"project_id": "prj-ckZoJwdERaWcFHwi", "team_id": "team-xMGyoUhKmTkTzmAy", "access": "read"}),
            "project-team-access.json",
            "Add Team Access to a Project",
            0,
            Exact,
        ),
    ]
}

/// The sample with `without` set aside, and the built body made comparable
/// with the documentation's shorthand: samples that leave out `data.type`
/// (required by JSON:API, always sent) or an empty `attributes`.
fn comparable(built: &Value, sample: &Value, m: Match, what: &str) -> (Value, Value) {
    let mut built = built.clone();
    let mut sample = sample.clone();
    if let Match::Without(keys) = m {
        for k in keys {
            let removed = ["attributes", "relationships"]
                .iter()
                .filter_map(|section| sample["data"].get_mut(*section).and_then(Value::as_object_mut).and_then(|o| o.remove(*k)))
                .count();
            assert_eq!(removed, 1, "{what}: `{k}` is not in the sample");
        }
        if sample["data"].get("relationships").and_then(Value::as_object).is_some_and(|o| o.is_empty()) {
            sample["data"].as_object_mut().unwrap().remove("relationships");
        }
    }
    if let (Some(b), Some(s)) = (built.get_mut("data").and_then(Value::as_object_mut), sample["data"].as_object()) {
        if !s.contains_key("type") {
            b.remove("type");
        }
        if !s.contains_key("attributes") && b.get("attributes").and_then(Value::as_object).is_some_and(|a| a.is_empty()) {
            b.remove("attributes");
        }
    }
    (built, sample)
}

#[test]
fn payloads_match_the_documented_samples() {
    let cases = payload_cases();
    for (tool, a, file, section, idx, m) in &cases {
        let what = format!("{tool}: {file} / {section} #{idx}");
        let (request, payload) = sample_payload(file, section, *idx);
        let spec = catalog().get(tool).unwrap();
        let req = build(tool, a.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
        if let Some((method, path)) = request {
            assert_eq!(spec.verb.as_str(), method, "{what}");
            // The tag samples use the placeholder `workspace-2`, which is not
            // a workspace id (`ws-...`) and so is refused before any call.
            // The update sample names the workspace by organization and name;
            // the tool uses the equivalent documented path by id.
            let path = path
                .replace("/workspaces/workspace-2/", "/workspaces/ws-workspace2/")
                .replace("/organizations/my-organization/workspaces/workspace-2", "/workspaces/ws-workspace2");
            assert_eq!(req.path, path, "{what}");
        }
        // The email sample's user is a placeholder, not a user id (`user-...`).
        let payload: Value =
            serde_json::from_str(&payload.to_string().replace("\"organization-user-id\"", "\"user-organizationuserid\"")).unwrap();
        let body = req.body.unwrap_or_else(|| panic!("{what}: no body"));
        let (built, sample) = comparable(&body, &payload, *m, &what);
        assert_eq!(built, sample, "{what}: body differs");
    }
    // Every create/update tool with a documented payload is in the table.
    let covered: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.0).collect();
    for t in catalog().iter().filter(|t| matches!(t.method, Method::Create | Method::Update)) {
        assert!(covered.contains(t.name) || UNDOCUMENTED_PAYLOADS.contains(&t.name), "{} has no payload case", t.name);
    }
}

/// Create/update tools whose request the samples do not show.
/// (The project team access update is checked in `execute_requests_org_areas.rs`.)
const UNDOCUMENTED_PAYLOADS: &[&str] = &["update_a_hashicorp_terraform_cloud_project_team_access_by_id"];

#[test]
fn create_run_kebab_attributes_and_relationship() {
    let req = build(
        "create_a_hashicorp_terraform_cloud_run",
        json!({"workspace_id": "ws-1", "plan_only": true, "auto_apply": false, "is_destroy": false, "refresh_only": true,
               "target_addrs": ["aws_instance.a"], "replace_addrs": [], "variables": [{"key": "region", "value": "\"eu-west-1\""}]}),
    )
    .unwrap();
    assert_eq!(req.path, "/runs");
    assert_eq!(
        req.body.unwrap(),
        json!({"data": {"type": "runs",
            "attributes": {"plan-only": true, "auto-apply": false, "is-destroy": false, "refresh-only": true,
                           "target-addrs": ["aws_instance.a"], "replace-addrs": [],
                           "variables": [{"key": "region", "value": "\"eu-west-1\""}]},
            "relationships": {"workspace": {"data": {"type": "workspaces", "id": "ws-1"}}}}})
    );
}

#[test]
fn run_task_hmac_key_and_enabled() {
    let req = build(
        "update_a_hashicorp_terraform_cloud_run_task_by_id",
        json!({"run_task_id": "task-7oD7doVTQdAFnMLV", "hmac_key": "new-secret", "enabled": false}),
    )
    .unwrap();
    assert_eq!(req.path, "/tasks/task-7oD7doVTQdAFnMLV");
    assert_eq!(req.body.unwrap()["data"]["attributes"], json!({"hmac-key": "new-secret", "enabled": false}));
    let spec = catalog().get("create_a_hashicorp_terraform_cloud_run_task").unwrap();
    assert!(spec.param("hmac_key").unwrap().secret);
    for (tool, arg) in [
        ("create_a_hashicorp_terraform_cloud_variable_set_variable", "value"),
        ("update_a_hashicorp_terraform_cloud_variable_set_variable_by_id", "value"),
    ] {
        assert!(catalog().get(tool).unwrap().param(arg).unwrap().secret, "{tool}");
    }
    // Overriding a stage: POST with an optional comment, nothing else.
    let t = "hashicorp_terraform_cloud_task_stages_override";
    let req = build(t, json!({"task_stage_id": "ts-rL5ZsuwfjqfPJcdi"})).unwrap();
    assert_eq!((req.path.as_str(), req.body), ("/task-stages/ts-rL5ZsuwfjqfPJcdi/actions/override", None));
    let req = build(t, json!({"task_stage_id": "ts-rL5ZsuwfjqfPJcdi", "comment": "accepted risk"})).unwrap();
    assert_eq!(req.body, Some(json!({"comment": "accepted risk"})));
    assert!(catalog().get(t).unwrap().destructive);
    assert!(catalog().get("hashicorp_terraform_cloud_state_versions_rollback").unwrap().destructive);
    // Ids of the wrong kind never leave the gateway.
    for (tool, a) in [
        (t, json!({"task_stage_id": "run-rL5ZsuwfjqfPJcdi"})),
        ("hashicorp_terraform_cloud_state_versions_rollback", json!({"workspace_id": "ws-1", "state_version_id": "ws-2"})),
        ("hashicorp_terraform_cloud_state_versions_rollback", json!({"workspace_id": "ws-1"})),
        ("delete_a_hashicorp_terraform_cloud_variable_set_variable_by_id", json!({"varset_id": "varset-1", "varset_variable_id": "../x"})),
        ("get_single_hashicorp_terraform_cloud_workspace_run_task_by_id", json!({"workspace_id": "ws-1", "workspace_task_id": "task-1"})),
        ("list_all_hashicorp_terraform_cloud_policy_set_outcomes", json!({"policy_evaluation_id": "ts-1"})),
    ] {
        let e = build(tool, a.clone()).unwrap_err();
        assert_eq!(e.kind, ToolErrorKind::InvalidArguments, "{tool} {a}");
    }
}

#[test]
fn read_paths_of_the_run_task_and_varset_areas() {
    for (tool, a, path) in [
        (
            "list_all_hashicorp_terraform_cloud_variable_set_variables",
            json!({"varset_id": "varset-1"}),
            "/varsets/varset-1/relationships/vars",
        ),
        ("list_all_hashicorp_terraform_cloud_workspace_variable_sets", json!({"workspace_id": "ws-1"}), "/workspaces/ws-1/varsets"),
        ("list_all_hashicorp_terraform_cloud_project_variable_sets", json!({"project_id": "prj-1"}), "/projects/prj-1/varsets"),
        ("list_all_hashicorp_terraform_cloud_run_tasks", json!({"organization_name": "acme"}), "/organizations/acme/tasks"),
        ("list_all_hashicorp_terraform_cloud_workspace_run_tasks", json!({"workspace_id": "ws-1"}), "/workspaces/ws-1/tasks"),
        ("list_all_hashicorp_terraform_cloud_run_task_stages", json!({"run_id": "run-1"}), "/runs/run-1/task-stages"),
        ("get_single_hashicorp_terraform_cloud_run_task_stage_by_id", json!({"task_stage_id": "ts-1"}), "/task-stages/ts-1"),
        ("get_single_hashicorp_terraform_cloud_run_task_result_by_id", json!({"task_result_id": "taskrs-1"}), "/task-results/taskrs-1"),
        ("list_all_hashicorp_terraform_cloud_policy_evaluations", json!({"task_stage_id": "ts-1"}), "/task-stages/ts-1/policy-evaluations"),
        (
            "list_all_hashicorp_terraform_cloud_policy_set_outcomes",
            json!({"policy_evaluation_id": "poleval-1"}),
            "/policy-evaluations/poleval-1/policy-set-outcomes",
        ),
        (
            "get_single_hashicorp_terraform_cloud_policy_set_outcome_by_id",
            json!({"policy_set_outcome_id": "psout-1"}),
            "/policy-set-outcomes/psout-1",
        ),
    ] {
        let req = build(tool, a).unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert_eq!(req.path, path, "{tool}");
        assert!(req.body.is_none(), "{tool}");
    }
}

#[test]
fn object_attributes_are_kebab_cased() {
    let req = build(
        "update_a_hashicorp_terraform_cloud_workspace_by_id",
        json!({"workspace_id": "ws-1", "vcs_repo": {"identifier": "org/repo", "oauth_token_id": "ot-1", "ingress_submodules": false}}),
    )
    .unwrap();
    assert_eq!(req.path, "/workspaces/ws-1");
    assert_eq!(
        req.body.unwrap()["data"]["attributes"]["vcs-repo"],
        json!({"identifier": "org/repo", "oauth-token-id": "ot-1", "ingress-submodules": false})
    );
}

#[test]
fn list_query_and_paging() {
    let req = build(
        "list_all_hashicorp_terraform_cloud_workspaces",
        json!({"organization_name": "acme", "search_name": "prod", "search_tags": "a,b", "page_number": 2, "page_size": 50}),
    )
    .unwrap();
    assert_eq!(req.path, "/organizations/acme/workspaces");
    assert!(req.body.is_none());
    let q: Vec<(&str, &str)> = req.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(q, vec![("search[name]", "prod"), ("search[tags]", "a,b"), ("page[number]", "2"), ("page[size]", "50")]);

    // A cursor wins over page_number, and brings back its page size and filters.
    let t = "list_all_hashicorp_terraform_cloud_organization_policies";
    let cursor = query_cursor(catalog().get(t).unwrap(), args(json!({"organization_name": "acme", "search_name": "x"})), 4, 7).unwrap();
    let req = build(t, json!({"organization_name": "acme", "page_number": 1, "next_cursor": cursor})).unwrap();
    assert!(req.query.contains(&("page[number]".into(), "4".into())), "{:?}", req.query);
    assert!(req.query.contains(&("page[size]".into(), "7".into())), "{:?}", req.query);
    assert!(req.query.contains(&("search[name]".into(), "x".into())));

    let req = build("list_all_hashicorp_terraform_cloud_state_versions", json!({"organization_name": "o", "workspace_name": "w"})).unwrap();
    assert_eq!(req.path, "/state-versions");
    assert_eq!(req.query, vec![("filter[organization][name]".into(), "o".into()), ("filter[workspace][name]".into(), "w".into())]);
}

#[test]
fn alternative_paths() {
    let t = "get_single_hashicorp_terraform_cloud_workspace_by_id";
    assert_eq!(build(t, json!({"workspace_id": "ws-1"})).unwrap().path, "/workspaces/ws-1");
    assert_eq!(build(t, json!({"organization_name": "o", "workspace_name": "w"})).unwrap().path, "/organizations/o/workspaces/w");
    let e = build(t, json!({"organization_name": "o"})).unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::InvalidArguments);
    assert!(e.message.contains("`workspace_id`") && e.message.contains("`organization_name` and `workspace_name`"), "{e}");

    let t = "list_all_hashicorp_terraform_cloud_runs";
    assert_eq!(build(t, json!({"workspace_id": "ws-1"})).unwrap().path, "/workspaces/ws-1/runs");
    assert_eq!(build(t, json!({"organization_name": "o", "filter_status": "planned"})).unwrap().path, "/organizations/o/runs");

    let t = "get_single_hashicorp_terraform_cloud_user_by_id";
    assert_eq!(build(t, json!({})).unwrap().path, "/account/details");
    assert_eq!(build(t, json!({"user_id": "user-1"})).unwrap().path, "/users/user-1");
}

#[test]
fn path_values_are_encoded() {
    let req =
        build("get_single_hashicorp_terraform_cloud_workspace_by_id", json!({"organization_name": "o", "workspace_name": "a/../b c"}))
            .unwrap();
    assert_eq!(req.path, "/organizations/o/workspaces/a%2F..%2Fb%20c");
    let req = build("list_all_hashicorp_terraform_cloud_workspaces", json!({"organization_name": "a?x=1#f"})).unwrap();
    assert_eq!(req.path, "/organizations/a%3Fx%3D1%23f/workspaces");
}

/// (tool, arguments, words the error must contain)
const INVALID: &[(&str, &str, &[&str])] = &[
    ("list_all_hashicorp_terraform_cloud_workspaces", r#"{}"#, &["missing required argument `organization_name`"]),
    ("list_all_hashicorp_terraform_cloud_workspaces", r#"{"organization_name": null}"#, &["missing required argument `organization_name`"]),
    (
        "list_all_hashicorp_terraform_cloud_workspaces",
        r#"{"organization_name": "o", "search": "x"}"#,
        &["unknown argument `search`", "search_name"],
    ),
    ("list_all_hashicorp_terraform_cloud_workspaces", r#"{"organization_name": 5}"#, &["`organization_name` must be a string"]),
    ("list_all_hashicorp_terraform_cloud_workspaces", r#"{"organization_name": ""}"#, &["`organization_name` must not be empty"]),
    ("list_all_hashicorp_terraform_cloud_workspaces", r#"{"organization_name": ".."}"#, &["`organization_name` is not a valid"]),
    ("list_all_hashicorp_terraform_cloud_workspaces", r#"{"organization_name": "o", "page_size": 101}"#, &["`page_size`", "1 to 100"]),
    ("list_all_hashicorp_terraform_cloud_workspaces", r#"{"organization_name": "o", "page_size": "20"}"#, &["`page_size`"]),
    ("list_all_hashicorp_terraform_cloud_workspaces", r#"{"organization_name": "o", "page_number": 0}"#, &["`page_number`"]),
    ("list_all_hashicorp_terraform_cloud_workspaces", r#"{"organization_name": "o", "next_cursor": "3"}"#, &["`next_cursor`"]),
    ("create_a_hashicorp_terraform_cloud_run", r#"{"message": "x"}"#, &["missing required argument `workspace_id`"]),
    ("create_a_hashicorp_terraform_cloud_run", r#"{"workspace_id": "ws-1", "plan_only": "yes"}"#, &["`plan_only` must be a boolean"]),
    (
        "create_a_hashicorp_terraform_cloud_run",
        r#"{"workspace_id": "ws-1", "target_addrs": "a.b"}"#,
        &["`target_addrs` must be an array of strings"],
    ),
    ("create_a_hashicorp_terraform_cloud_run", r#"{"workspace_id": "ws-1", "variables": [{"key": "a", "value": 1}]}"#, &["`variables`"]),
    ("create_a_hashicorp_terraform_cloud_run", r#"{"workspace_id": "ws-1", "page_size": 5}"#, &["unknown argument `page_size`"]),
    ("hashicorp_terraform_cloud_runs_apply", r#"{"run_id": "run-1", "comment": 3}"#, &["`comment` must be a string"]),
    (
        "hashicorp_terraform_cloud_workspaces_force_unlock",
        r#"{"workspace_id": "ws-1", "force": true}"#,
        &["unknown argument `force`", "workspace_id"],
    ),
    (
        "create_a_hashicorp_terraform_cloud_workspace",
        r#"{"organization_name": "o", "name": "w", "execution_mode": "cloud"}"#,
        &["`execution_mode` must be one of remote, local, agent"],
    ),
    (
        "create_a_hashicorp_terraform_cloud_workspace",
        r#"{"organization_name": "o", "name": "w", "vcs_repo": "org/repo"}"#,
        &["`vcs_repo` must be an object"],
    ),
    ("hashicorp_terraform_cloud_workspace_tags_remove", r#"{"workspace_id": "ws-1"}"#, &["`tag_names` or `tag_ids`"]),
    (
        "hashicorp_terraform_cloud_variable_sets_apply_to_workspaces",
        r#"{"varset_id": "varset-1", "workspace_ids": []}"#,
        &["`workspace_ids`", "at least one"],
    ),
    ("hashicorp_terraform_cloud_runs_wait", r#"{"run_id": "run-1", "timeout_seconds": 1.5}"#, &["`timeout_seconds` must be an integer"]),
];

#[test]
fn invalid_arguments_are_named() {
    for (tool, a, words) in INVALID {
        let e = build(tool, serde_json::from_str(a).unwrap()).unwrap_err();
        assert_eq!(e.kind, ToolErrorKind::InvalidArguments, "{tool} {a}");
        assert_eq!(e.status, None);
        for w in *words {
            assert!(e.message.contains(w), "{tool} {a}: {:?} lacks {w:?}", e.message);
        }
        assert_eq!(e.to_string(), e.message);
    }
}

#[test]
fn every_tool_survives_hostile_arguments() {
    let hostile = [
        json!({}),
        json!({"organization_name": {"a": 1}}),
        json!({"workspace_id": [1, 2]}),
        json!({"page_number": -1, "page_size": 1e300, "next_cursor": null}),
        json!({"x": "\u{0000}"}),
    ];
    for t in catalog().iter() {
        for h in &hostile {
            let _ = prepare(t, h.as_object().unwrap().clone());
        }
        // All required arguments given as strings of the right shape: never a panic.
        let mut a = Map::new();
        for p in &t.params {
            let v = match p.kind {
                _ if p.id_prefix.is_some() => {
                    let id = format!("{}-abc", p.id_prefix.unwrap_or_default());
                    if p.kind == tfc_mcp_gateway::catalog::Kind::StringList { json!([id]) } else { json!(id) }
                }
                tfc_mcp_gateway::catalog::Kind::String => json!(p.allowed.first().copied().unwrap_or("x")),
                tfc_mcp_gateway::catalog::Kind::Integer => json!(1),
                tfc_mcp_gateway::catalog::Kind::Boolean => json!(true),
                tfc_mcp_gateway::catalog::Kind::StringList => json!(["x"]),
                tfc_mcp_gateway::catalog::Kind::Object => json!({"a_b": 1}),
                tfc_mcp_gateway::catalog::Kind::KeyValueList => json!([{"key": "k", "value": "\"v\""}]),
                tfc_mcp_gateway::catalog::Kind::FilterList => json!([{"field": "drifted", "operator": "is", "value": "true"}]),
            };
            a.insert(p.name.to_owned(), v);
        }
        let req = prepare(t, a).unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert!(req.path.starts_with('/'), "{}", t.name);
        assert!(!req.path.contains('{'), "{}: {}", t.name, req.path);
    }
}
