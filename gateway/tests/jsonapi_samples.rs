//! Flattening of the real sample responses from HashiCorp's API docs
//! (`tests/fixtures/tfc-api-samples/`, copied from HashiCorp's API documentation).

use std::path::PathBuf;

use serde_json::{Value, json};
use tfc_mcp_gateway::jsonapi::{self, decode_cursor, flatten_document, flatten_list, flatten_single, parse_errors};
use url::Url;

fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tfc-api-samples")
}

/// The `index`-th response of the section titled `section` in `file`.
fn sample(file: &str, section: &str, index: usize) -> Value {
    let path = samples_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    let s = doc["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["section"] == section)
        .unwrap_or_else(|| panic!("{file}: no section {section:?}"));
    s["responses"][index].clone()
}

fn base() -> Url {
    Url::parse("https://app.terraform.io/").unwrap()
}

/// (file, section, response index, JSON pointer into the flat result, expected value)
const SINGLE_CASES: &[(&str, &str, usize, &str, &str)] = &[
    ("workspaces.json", "Create a Workspace", 0, "/id", r#""ws-HRkJLSYWF97jucqQ""#),
    ("workspaces.json", "Create a Workspace", 0, "/type", r#""workspaces""#),
    ("workspaces.json", "Create a Workspace", 0, "/name", r#""workspace-in-project""#),
    ("workspaces.json", "Create a Workspace", 0, "/auto_apply", "false"),
    ("workspaces.json", "Create a Workspace", 0, "/execution_mode", r#""remote""#),
    ("workspaces.json", "Create a Workspace", 0, "/terraform_version", r#""1.3.5""#),
    ("workspaces.json", "Create a Workspace", 0, "/permissions/can_force_unlock", "true"),
    ("workspaces.json", "Create a Workspace", 0, "/setting_overwrites/execution_mode", "false"),
    ("workspaces.json", "Create a Workspace", 0, "/organization_id", r#""my-organization""#),
    ("workspaces.json", "Create a Workspace", 0, "/organization_name", r#""my-organization""#),
    ("workspaces.json", "Create a Workspace", 0, "/project_id", r#""prj-jT92VLSFpv8FwKtc""#),
    ("workspaces.json", "Create a Workspace", 0, "/current_run_id", "null"),
    ("workspaces.json", "Create a Workspace", 0, "/output_ids", "[]"),
    ("workspaces.json", "Create a Workspace", 0, "/var_ids", "[]"),
    ("run.json", "Create a Run", 0, "/status", r#""pending""#),
    ("run.json", "Create a Run", 0, "/actions/is_cancelable", "true"),
    ("run.json", "Create a Run", 0, "/status_timestamps/plan_queueable_at", r#""2021-05-24T07:38:04+00:00""#),
    ("run.json", "Create a Run", 0, "/plan_only", "false"),
    ("run.json", "Create a Run", 0, "/permissions/can_override_policy_check", "true"),
    ("state-versions.json", "Show a State Version", 0, "/serial", "9"),
    ("state-versions.json", "Show a State Version", 0, "/resources_processed", "true"),
    ("state-versions.json", "Show a State Version", 0, "/run_id", r#""run-YfmFLWpgTv31VZsP""#),
    ("state-versions.json", "Show a State Version", 0, "/created_by_id", r#""user-onZs69ThPZjBK2wo""#),
    ("state-versions.json", "Show a State Version", 0, "/workspace_id", r#""ws-noZcaGXsac6aZSJR""#),
    (
        "state-versions.json",
        "Show a State Version",
        0,
        "/output_ids",
        r#"["wsout-V22qbeM92xb5mw9n","wsout-ymkuRnrNFeU5wGpV","wsout-v82BjkZnFEcscipg"]"#,
    ),
    ("state-versions.json", "Show a State Version", 0, "/modules/root/null_resource", "1"),
    ("state-versions.json", "Show a State Version", 0, "/resources/1/type", r#""null_resource""#),
    ("state-version-outputs.json", "Show a State Version Output", 0, "/name", r#""flavor""#),
    ("state-version-outputs.json", "Show a State Version Output", 0, "/value", r#""Peanut Butter""#),
    ("state-version-outputs.json", "Show a State Version Output", 0, "/detailed_type", r#""string""#),
    ("policies.json", "Show a Policy", 0, "/enforcement_level", r#""soft-mandatory""#),
    ("policies.json", "Show a Policy", 0, "/enforce/0/mode", r#""soft-mandatory""#),
    ("policies.json", "Show a Policy", 0, "/policy_set_ids", r#"["polset-3yVQZvHzf5j3WRJ1"]"#),
    ("policies.json", "Show a Policy", 0, "/policy_set_count", "1"),
    ("organizations.json", "Show an Organization", 0, "/id", r#""hashicorp""#),
    ("organizations.json", "Show an Organization", 0, "/entitlement_set_id", r#""org-WV6DfwfxxXvLfvfs""#),
    ("organizations.json", "Show an Organization", 0, "/default_agent_pool_id", "null"),
    ("plans.json", "Show a plan", 0, "/resource_changes", "1"),
    ("plans.json", "Show a plan", 1, "/execution_details/agent_pool_name", r#""first-pool""#),
    ("applies.json", "Show an apply", 0, "/type", r#""applies""#),
    ("projects.json", "Show project", 0, "/type", r#""projects""#),
];

#[test]
fn single_resources_flatten() {
    for (file, section, idx, pointer, want) in SINGLE_CASES {
        let doc = sample(file, section, *idx);
        let flat = flatten_single(&doc, Some(&base()));
        let want: Value = serde_json::from_str(want).unwrap();
        assert_eq!(flat.pointer(pointer), Some(&want), "{file} / {section} #{idx}: {pointer} in {flat:#}");
    }
}

#[test]
fn flat_results_have_no_json_api_structure_left() {
    for (file, section, idx, _, _) in SINGLE_CASES {
        let flat = flatten_single(&sample(file, section, *idx), Some(&base()));
        let m = flat.as_object().unwrap();
        for k in ["attributes", "relationships", "links", "data"] {
            assert!(!m.contains_key(k), "{file} / {section}: {k} left");
        }
        assert!(m.keys().all(|k| !k.contains('-')), "{file} / {section}: kebab key left: {:?}", m.keys().collect::<Vec<_>>());
    }
}

#[test]
fn data_keys_are_kept_verbatim() {
    let flat = flatten_single(&sample("state-versions.json", "Show a State Version", 0), None);
    // Provider addresses are data, not names.
    assert!(flat["providers"].get("provider[\"registry.terraform.io/hashicorp/null\"]").is_some(), "{:#}", flat["providers"]);
    // Output values are user data: never renamed.
    let doc = json!({"data": {"id": "wsout-1", "type": "state-version-outputs",
        "attributes": {"name": "m", "value": {"my-key": {"inner-key": 1}}, "detailed-type": ["map", "number"]}}});
    let flat = flatten_single(&doc, None);
    assert_eq!(flat["value"], json!({"my-key": {"inner-key": 1}}));
    assert_eq!(flat["detailed_type"], json!(["map", "number"]));
}

#[test]
fn web_url_is_absolute() {
    let doc = json!({"data": {"id": "ws-1", "type": "workspaces", "attributes": {"name": "a"},
        "links": {"self": "/api/v2/organizations/o/workspaces/a", "self-html": "/app/o/workspaces/a"}}});
    let flat = flatten_single(&doc, Some(&Url::parse("https://tfe.example.com/").unwrap()));
    assert_eq!(flat["web_url"], json!("https://tfe.example.com/app/o/workspaces/a"));
    let flat = flatten_single(&sample("workspaces.json", "Create a Workspace", 0), Some(&base()));
    assert!(flat.get("web_url").is_none(), "no self-html, no web_url");
}

#[test]
fn run_list_pagination_and_cursor() {
    let doc = sample("run.json", "List Runs in a Workspace", 0);
    let flat = flatten_list(&doc, Some(&base()), Some(2), None);
    let results = flat["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["id"], json!("run-CZcmD7eagjhyX0vN"));
    assert_eq!(results[1], json!({}), "the docs' `{{}}` placeholder stays harmless");
    assert_eq!(flat["pagination"], json!({"page_number": 2, "page_size": 20, "total_count": 384105, "total_pages": 19206, "next_page": 3}));
    assert_eq!(decode_cursor(flat["next_cursor"].as_str().unwrap()), Some(3));

    // Organization run listing: no totals in meta.
    let flat = flatten_list(&sample("run.json", "List Runs in an Organization", 0), None, None, Some(20));
    assert_eq!(flat["pagination"]["next_page"], json!(2));
    assert_eq!(flat["pagination"]["total_count"], Value::Null);
}

/// (file, section, index, result count, expected pagination)
const LIST_CASES: &[(&str, &str, usize, usize, &str)] = &[
    (
        "state-versions.json",
        "List State Versions for a Workspace",
        0,
        2,
        r#"{"page_number":1,"page_size":20,"total_count":10,"total_pages":1,"next_page":null}"#,
    ),
    (
        "state-version-outputs.json",
        "List State Version Outputs",
        0,
        2,
        r#"{"page_number":1,"page_size":20,"total_count":2,"total_pages":1,"next_page":null}"#,
    ),
    // No meta at all: everything is on this page.
    (
        "state-version-outputs.json",
        "Show Current State Version Outputs for a Workspace",
        0,
        2,
        r#"{"page_number":1,"page_size":20,"total_count":2,"total_pages":1,"next_page":null}"#,
    ),
    ("policies.json", "List Policies", 0, 2, r#"{"page_number":1,"page_size":20,"total_count":2,"total_pages":1,"next_page":null}"#),
    (
        "organizations.json",
        "List Organizations",
        0,
        2,
        r#"{"page_number":1,"page_size":20,"total_count":2,"total_pages":1,"next_page":null}"#,
    ),
    ("projects.json", "List projects", 0, 2, r#"{"page_number":1,"page_size":20,"total_count":2,"total_pages":1,"next_page":null}"#),
];

#[test]
fn lists_flatten() {
    for (file, section, idx, count, pagination) in LIST_CASES {
        let doc = sample(file, section, *idx);
        let flat = flatten_document(&doc, Some(&base()), None, None);
        let results = flat["results"].as_array().unwrap_or_else(|| panic!("{file} / {section}: {flat:#}"));
        if *count > 0 {
            assert_eq!(results.len(), *count, "{file} / {section}");
        }
        if !pagination.is_empty() {
            let want: Value = serde_json::from_str(pagination).unwrap();
            assert_eq!(flat["pagination"], want, "{file} / {section}");
            assert_eq!(flat["next_cursor"], Value::Null, "{file} / {section}");
        }
        for r in results {
            assert!(r.get("attributes").is_none());
        }
    }
}

#[test]
fn list_results_flatten_relationships() {
    let flat = flatten_document(&sample("policies.json", "List Policies", 0), None, None, None);
    let r = &flat["results"];
    assert_eq!(r[0]["organization_id"], json!("my-organization"));
    assert_eq!(r[0]["kind"], json!("sentinel"));
    assert_eq!(r[1]["policy_set_ids"], json!(["polset-FYu3k5WY5eecwwdt"]));
    assert_eq!(r[1]["query"], json!("data.terraform.rules.policy1.rule"));

    let flat = flatten_document(&sample("state-version-outputs.json", "List State Version Outputs", 0), None, None, None);
    assert_eq!(flat["results"][0]["value"], json!(["apple", "strawberry", "blueberry", "rasberry"]));
}

#[test]
fn included_resources_are_flattened() {
    let doc = sample("organizations.json", "Create an Organization", 0);
    let flat = flatten_single(&doc, None);
    let inc = flat["included"].as_array().unwrap();
    assert_eq!(inc[0]["type"], json!("entitlement-sets"));
    assert_eq!(inc[0]["private_module_registry"], json!(true));
}

#[test]
fn errors_parse() {
    let body = json!({"errors":[{"detail":"You have exceeded the API's rate limit.","status":429,"title":"Too many requests"}]});
    let e = parse_errors(&body);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].to_string(), "Too many requests: You have exceeded the API's rate limit.");
    let body = json!({"errors":[{"status":"422","title":"invalid attribute","detail":"Name has already been taken","source":{"pointer":"/data/attributes/name"}}]});
    assert_eq!(parse_errors(&body)[0].to_string(), "invalid attribute: Name has already been taken (at /data/attributes/name)");
    assert_eq!(parse_errors(&json!({"errors": ["not found"]}))[0].to_string(), "not found");
    assert!(parse_errors(&json!({"data": {}})).is_empty());
}

#[test]
fn request_documents() {
    let mut attrs = serde_json::Map::new();
    attrs.insert("message".into(), json!("Custom message"));
    let mut rels = serde_json::Map::new();
    rels.insert("workspace".into(), jsonapi::to_one("workspaces", "ws-LLGHCr4SWy28wyGN"));
    let doc = jsonapi::resource_document("runs", None, attrs, rels);
    assert_eq!(
        doc,
        json!({"data": {"type": "runs", "attributes": {"message": "Custom message"},
            "relationships": {"workspace": {"data": {"type": "workspaces", "id": "ws-LLGHCr4SWy28wyGN"}}}}})
    );
    assert_eq!(
        jsonapi::kebab_keys(&json!({"oauth_token_id": "ot-1", "tags_regex": null})),
        json!({"oauth-token-id": "ot-1", "tags-regex": null})
    );
}
