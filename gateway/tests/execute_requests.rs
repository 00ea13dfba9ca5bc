//! Argument validation and request building, without any I/O: the payloads
//! match the documented samples (`tests/fixtures/tfc-api-samples/`, copied from HashiCorp's API documentation).

use std::path::PathBuf;

use serde_json::{Map, Value, json};
use tfc_mcp_gateway::catalog::catalog;
use tfc_mcp_gateway::execute::{Request, ToolError, ToolErrorKind, prepare};
use tfc_mcp_gateway::jsonapi::encode_cursor;

fn sample_payload(file: &str, section: &str, index: usize) -> (String, String, Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tfc-api-samples").join(file);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let s = doc["sections"].as_array().unwrap().iter().find(|s| s["section"] == section).unwrap().clone();
    let req = &s["requests"][0];
    let url = url::Url::parse(req["url"].as_str().unwrap()).unwrap();
    let path = url.path().strip_prefix("/api/v2").unwrap().to_owned();
    (req["method"].as_str().unwrap().to_owned(), path, s["payloads"][index].clone())
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn build(tool: &str, a: Value) -> Result<Request, ToolError> {
    prepare(catalog().get(tool).unwrap_or_else(|| panic!("{tool}")), args(a))
}

/// (tool, arguments, sample file, sample section, payload index)
fn payload_cases() -> Vec<(&'static str, Value, &'static str, &'static str, usize)> {
    vec![
        (
            "create_a_hashicorp_terraform_cloud_run",
            json!({"workspace_id": "ws-LLGHCr4SWy28wyGN", "message": "Custom message", "configuration_version_id": "cv-n4XQPBa2QnecZJ4G"}),
            "run.json",
            "Create a Run",
            0,
        ),
        (
            "hashicorp_terraform_cloud_runs_apply",
            json!({"run_id": "run-DQGdmrWMX8z9yWQB", "comment": "Looks good to me"}),
            "run.json",
            "Apply a Run",
            0,
        ),
        (
            "hashicorp_terraform_cloud_workspaces_lock",
            json!({"workspace_id": "ws-SihZTyXKfNXUWuUa", "reason": "Locking workspace-1"}),
            "workspaces.json",
            "Lock a workspace",
            0,
        ),
        (
            "create_a_hashicorp_terraform_cloud_workspace",
            json!({"organization_name": "my-organization", "name": "workspace-in-project", "project_id": "prj-jT92VLSFpv8FwKtc"}),
            "workspaces.json",
            "Create a Workspace",
            7,
        ),
        (
            "create_a_hashicorp_terraform_cloud_organization_policy",
            json!({"organization_name": "my-organization", "name": "my-example-policy", "description": "An example policy.",
                   "kind": "sentinel", "enforcement_level": "hard-mandatory", "policy_set_ids": ["polset-3yVQZvHzf5j3WRJ1"]}),
            "policies.json",
            "Create a Policy",
            0,
        ),
        (
            "update_a_hashicorp_terraform_cloud_organization_policy_by_id",
            json!({"policy_id": "pol-u3S5p2Uwk21keu1s", "enforcement_level": "soft-mandatory"}),
            "policies.json",
            "Update a Policy",
            0,
        ),
        (
            "hashicorp_terraform_cloud_workspace_tags_add",
            json!({"workspace_id": "ws-workspace2", "tag_names": ["foo", "bar"]}),
            "workspaces.json",
            "Add flat string tags to a workspace",
            0,
        ),
        (
            "hashicorp_terraform_cloud_workspace_tags_remove",
            json!({"workspace_id": "ws-workspace2", "tag_ids": ["tag-Yfha4YpPievQ8wJw"]}),
            "workspaces.json",
            "Remove tags from workspace",
            0,
        ),
        (
            "update_a_hashicorp_terraform_cloud_organization_by_id",
            json!({"organization_name": "hashicorp", "email": "admin@example.com"}),
            "organizations.json",
            "Update an Organization",
            0,
        ),
    ]
}

#[test]
fn payloads_match_the_documented_samples() {
    for (tool, a, file, section, idx) in payload_cases() {
        let (method, path, payload) = sample_payload(file, section, idx);
        let spec = catalog().get(tool).unwrap();
        let req = build(tool, a).unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert_eq!(spec.verb.as_str(), method, "{tool}");
        // The tag samples use the placeholder `workspace-2`, which is not a
        // workspace id (`ws-...`) and so is refused before any call.
        let path = path.replace("/workspaces/workspace-2/", "/workspaces/ws-workspace2/");
        assert_eq!(req.path, path, "{tool}");
        assert_eq!(req.body.as_ref(), Some(&payload), "{tool}: body differs from {file} / {section} #{idx}");
    }
}

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

    // A cursor wins over page_number.
    let req = build(
        "list_all_hashicorp_terraform_cloud_organization_policies",
        json!({"organization_name": "acme", "page_number": 1, "next_cursor": encode_cursor(4), "search_name": "x"}),
    )
    .unwrap();
    assert!(req.query.contains(&("page[number]".into(), "4".into())), "{:?}", req.query);
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
            };
            a.insert(p.name.to_owned(), v);
        }
        let req = prepare(t, a).unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert!(req.path.starts_with('/'), "{}", t.name);
        assert!(!req.path.contains('{'), "{}: {}", t.name, req.path);
    }
}
