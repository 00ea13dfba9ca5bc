//! Capabilities that must not escape the route's filters (issue 7):
//! temporary URLs in flattened results, credential-minting tools, the
//! read-only `observe` methods, and the documented shape of id arguments.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tfc_mcp_gateway::catalog::{Kind, Method, Verb, catalog};
use tfc_mcp_gateway::execute::{ToolErrorKind, execute, prepare};
use tfc_mcp_gateway::filter::ToolFilter;
use tfc_mcp_gateway::jsonapi::{Grants, flatten_document, flatten_document_with};
use tfc_mcp_gateway::mcp_tool::ToMcpTool;
use tfc_mcp_gateway::route::Route;
use tfc_mcp_gateway::upstream::{TfcClient, Upstream};
use url::Url;

const ORG_TOKEN: &str = "create_a_hashicorp_terraform_cloud_organization_token";
const PLAN_LOGS: &str = "hashicorp_terraform_cloud_plans_logs";
const APPLY_LOGS: &str = "hashicorp_terraform_cloud_applies_logs";

fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tfc-api-samples")
}

/// Every response of the section titled `section` in `file`.
fn responses(file: &str, section: &str) -> Vec<Value> {
    let path = samples_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    let s = doc["sections"].as_array().unwrap().iter().find(|s| s["section"] == section);
    s.unwrap_or_else(|| panic!("{file}: no section {section:?}"))["responses"].as_array().unwrap().clone()
}

fn route(methods: &[&str], extra: Value) -> Route {
    let r = support::overlay(
        json!({
            "version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": "https://app.terraform.io", "methods": methods,
        }),
        &extra,
    );
    serde_json::from_value(r).unwrap()
}

fn grants(methods: &[&str], extra: Value) -> Grants {
    ToolFilter::from_route(&route(methods, extra)).grants()
}

fn base() -> Url {
    Url::parse("https://app.terraform.io/").unwrap()
}

/// Keys anywhere in `v` whose name ends with one of `suffixes` (snake or kebab).
fn keys_ending(v: &Value, suffixes: &[&str], path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let norm = k.replace('-', "_");
                if suffixes.iter().any(|s| norm.ends_with(s)) {
                    out.push(format!("{path}/{k}"));
                }
                keys_ending(x, suffixes, &format!("{path}/{k}"), out);
            }
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| keys_ending(x, suffixes, &format!("{path}/{i}"), out)),
        _ => {}
    }
}

fn found(v: &Value, suffixes: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    keys_ending(v, suffixes, "", &mut out);
    out
}

/// The documented samples that carry temporary URLs: (file, section).
const URL_SAMPLES: &[(&str, &str)] = &[
    ("configuration-versions.json", "Create a Configuration Version"),
    ("tests.json", "Create a Configuration Version for a Test"),
    ("tests.json", "List Tests for a Module"),
    ("tests.json", "Get Test Details"),
    ("plans.json", "Show a plan"),
    ("applies.json", "Show an apply"),
    ("state-versions.json", "Create a State Version"),
    ("state-versions.json", "List State Versions for a Workspace"),
    ("state-versions.json", "Fetch the Current State Version for a Workspace"),
    ("state-versions.json", "Show a State Version"),
    ("state-versions.json", "Rollback to a Previous State Version"),
];

const ALL_URLS: &[&str] = &["upload_url", "log_read_url", "state_download_url"];

// ---- 1. read tools never hand out write capabilities ---------------------------------

#[test]
fn read_servers_get_no_temporary_urls_from_the_documented_samples() {
    let read = grants(&["read"], json!({}));
    assert_eq!(read, Grants::NONE);
    for (file, section) in URL_SAMPLES {
        for doc in responses(file, section) {
            // The raw sample does carry one (otherwise this proves nothing).
            assert!(!found(&doc, ALL_URLS).is_empty(), "{file} / {section} has no URL attribute");
            for flat in [flatten_document_with(&doc, Some(&base()), None, None, &read), flatten_document(&doc, Some(&base()), None, None)] {
                let left = found(&flat, ALL_URLS);
                assert!(left.is_empty(), "{file} / {section}: {left:?} in {flat:#}");
            }
        }
    }
}

#[test]
fn upload_urls_are_dropped_whatever_the_server_allows() {
    let everything =
        grants(&["read", "write", "custom"], json!({"state": {"allowRawStateDownload": true, "revealSensitiveOutputs": false}}));
    assert!(everything.raw_state && everything.log_read_types.contains(&"plans"));
    for (file, section) in URL_SAMPLES {
        for doc in responses(file, section) {
            let flat = flatten_document_with(&doc, Some(&base()), None, None, &everything);
            let left = found(&flat, &["upload_url"]);
            assert!(left.is_empty(), "{file} / {section}: {left:?}");
        }
    }
    // ... while what the server does allow stays.
    let sv = &responses("state-versions.json", "Show a State Version")[0];
    let flat = flatten_document_with(sv, None, None, None, &everything);
    assert!(flat["hosted_state_download_url"].is_string() && flat["hosted_json_state_download_url"].is_string(), "{flat:#}");
    let cv = &responses("configuration-versions.json", "Create a Configuration Version")[0];
    let flat = flatten_document_with(cv, None, None, None, &everything);
    assert_eq!(flat["status"], json!("pending"));
    assert!(flat.get("upload_url").is_none());
}

#[test]
fn log_urls_follow_the_log_tools() {
    let plan = &responses("plans.json", "Show a plan")[0];
    let apply = &responses("applies.json", "Show an apply")[0];
    let test_run = &responses("tests.json", "Get Test Details")[0];
    let has_log = |doc: &Value, g: &Grants| flatten_document_with(doc, None, None, None, g).get("log_read_url").is_some();

    let observe = grants(&["read", "observe"], json!({}));
    assert!(has_log(plan, &observe) && has_log(apply, &observe));
    assert!(!has_log(test_run, &observe), "module test runs have no log tool");

    // Only the log tool of the resource's own type grants its URL.
    let plans_only = grants(&["read", "observe"], json!({"excludeTools": [APPLY_LOGS]}));
    assert!(has_log(plan, &plans_only) && !has_log(apply, &plans_only));
    let by_tag = grants(&["read", "observe"], json!({"tags": ["runs", "applies"]}));
    assert!(!has_log(plan, &by_tag) && has_log(apply, &by_tag));
    let include = grants(&["read", "observe"], json!({"includeTools": [PLAN_LOGS]}));
    assert!(has_log(plan, &include) && !has_log(apply, &include));
    assert!(!has_log(plan, &grants(&["read", "write"], json!({}))));
}

#[test]
fn included_records_and_lists_are_stripped_too() {
    let plan = responses("plans.json", "Show a plan")[0]["data"].clone();
    let sv = responses("state-versions.json", "Show a State Version")[0]["data"].clone();
    let cv = responses("configuration-versions.json", "Create a Configuration Version")[0]["data"].clone();
    let run = json!({"data": {"id": "run-1", "type": "runs", "attributes": {"status": "planned"},
        "relationships": {"plan": {"data": {"id": plan["id"], "type": "plans"}}}},
        "included": [plan, sv.clone(), cv.clone()]});
    let list = json!({"data": [sv, cv], "included": [plan]});
    let read = grants(&["read"], json!({}));
    for doc in [run, list] {
        let flat = flatten_document_with(&doc, None, None, None, &read);
        assert!(found(&flat, ALL_URLS).is_empty(), "{flat:#}");
        assert!(flat["included"][0]["id"].is_string(), "the records themselves stay: {flat:#}");
    }
}

// ---- 2. credential-minting tools need an explicit include ----------------------------

#[test]
fn credential_minting_tools_need_an_explicit_include() {
    let c = catalog();
    let minting: Vec<&str> = c.iter().filter(|t| t.mints_credential).map(|t| t.name).collect();
    assert_eq!(minting, vec![ORG_TOKEN]);
    // Any tool creating a token is declared as minting one (a new catalog
    // entry cannot forget it).
    for t in c.iter() {
        if t.method == Method::Create && (t.name.contains("token") || t.tag.contains("token")) {
            assert!(t.mints_credential, "{} creates a token but is not marked mints_credential", t.name);
        }
    }

    let all = ToolFilter::from_route(&route(&["read", "write", "custom"], json!({})));
    assert!(all.get(ORG_TOKEN).is_none(), "exposed by methods alone");
    assert!(all.tools().all(|t| t.name != ORG_TOKEN));
    let singles = ToolFilter::from_route(&route(&["list", "get", "create", "update", "delete", "observe", "custom"], json!({})));
    assert!(singles.get(ORG_TOKEN).is_none());
    let tagged = ToolFilter::from_route(&route(&["create"], json!({"tags": ["organization-tokens"]})));
    assert!(tagged.get(ORG_TOKEN).is_none());

    let included = ToolFilter::from_route(&route(&["read", "write"], json!({"includeTools": [ORG_TOKEN]})));
    let tool = included.get(ORG_TOKEN).expect("included explicitly");
    let a = tool.to_mcp_tool().annotations.unwrap();
    assert_eq!((a.destructive_hint, a.read_only_hint), (Some(true), Some(false)));
    // The include does not override the methods.
    assert!(ToolFilter::from_route(&route(&["read"], json!({"includeTools": [ORG_TOKEN]}))).get(ORG_TOKEN).is_none());
}

#[tokio::test]
async fn executing_a_hidden_minting_tool_is_refused_before_any_call() {
    // Nothing listens on port 1: a request would be a transport error.
    let r = route(&["read", "write", "custom"], json!({"tfcAddress": "http://127.0.0.1:1"}));
    let up = Upstream::new("test", Duration::from_secs(2));
    let client = TfcClient::new(&up, &r, "t");
    let args: Map<String, Value> = json!({"organization_name": "acme"}).as_object().unwrap().clone();
    let e = execute(&client, &r, catalog().get(ORG_TOKEN).unwrap(), args).await.unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::Forbidden, "{e:?}");
    assert!(e.message.contains("does not expose"), "{}", e.message);
}

// ---- 3. observe: read-only actions apart from state-changing ones --------------------

#[test]
fn observe_tools_only_read_and_custom_tools_act() {
    for t in catalog().iter() {
        let a = t.to_mcp_tool().annotations.unwrap();
        match t.method {
            Method::Observe => {
                assert_eq!(t.verb, Verb::Get, "{} observes with {}", t.name, t.verb.as_str());
                assert_eq!(a.read_only_hint, Some(true), "{}", t.name);
            }
            Method::Custom => {
                assert_ne!(t.verb, Verb::Get, "{} only reads: it belongs in observe", t.name);
                assert_eq!(a.read_only_hint, Some(false), "{}", t.name);
            }
            _ => {}
        }
    }
}

#[test]
fn read_and_observe_allows_watching_runs_without_destruction() {
    let f = ToolFilter::from_route(&route(&["read", "observe"], json!({})));
    for name in ["hashicorp_terraform_cloud_runs_wait", PLAN_LOGS, APPLY_LOGS, "hashicorp_terraform_cloud_plans_resource_changes"] {
        assert!(f.get(name).is_some(), "{name}");
    }
    for t in f.tools() {
        let a = t.to_mcp_tool().annotations.unwrap();
        assert_eq!(a.read_only_hint, Some(true), "{} is not read-only", t.name);
        assert!(matches!(t.method, Method::List | Method::Get | Method::Observe), "{}", t.name);
    }
    for name in [
        "hashicorp_terraform_cloud_runs_apply",
        "hashicorp_terraform_cloud_runs_discard",
        "hashicorp_terraform_cloud_runs_cancel",
        "hashicorp_terraform_cloud_workspaces_force_unlock",
        "hashicorp_terraform_cloud_workspaces_force_delete",
    ] {
        assert!(f.get(name).is_none(), "{name}");
    }
    // `read` alone is list + get, as before `observe` existed; `custom` keeps
    // the observers it always had.
    let read = ToolFilter::from_route(&route(&["read"], json!({})));
    assert!(read.tools().all(|t| t.method.is_read()));
    let custom = ToolFilter::from_route(&route(&["custom"], json!({})));
    assert!(custom.get("hashicorp_terraform_cloud_runs_wait").is_some() && custom.get(PLAN_LOGS).is_some());
    // A route written by an older operator (`custom` as a single method)
    // means the same.
    let mut legacy = route(&[], json!({}));
    legacy.methods = ["list", "get", "custom"].iter().map(|s| s.to_string()).collect();
    assert!(ToolFilter::from_route(&legacy).get("hashicorp_terraform_cloud_runs_wait").is_some());
}

// ---- 4. id arguments have their documented shape, wherever they go -------------------

fn prep(tool: &str, a: Value) -> Result<tfc_mcp_gateway::execute::Request, tfc_mcp_gateway::execute::ToolError> {
    prepare(catalog().get(tool).unwrap_or_else(|| panic!("{tool}")), a.as_object().unwrap().clone())
}

#[test]
fn ids_outside_the_path_are_checked() {
    let run = "create_a_hashicorp_terraform_cloud_run";
    assert!(prep(run, json!({"workspace_id": "ws-HRkJLSYWF97jucqQ", "configuration_version_id": "cv-UYwHEakurukz85nW"})).is_ok());

    // (tool, arguments, the argument the error must name)
    let cases: &[(&str, Value, &str)] = &[
        (run, json!({"workspace_id": "ws-1", "configuration_version_id": "run-YfmFLWpgTv31VZsP"}), "configuration_version_id"),
        (run, json!({"workspace_id": "run-YfmFLWpgTv31VZsP"}), "workspace_id"),
        (run, json!({"workspace_id": "ws-1/../../organizations/other"}), "workspace_id"),
        (run, json!({"workspace_id": "ws-1", "configuration_version_id": "cv-"}), "configuration_version_id"),
        (
            "create_a_hashicorp_terraform_cloud_workspace",
            json!({"organization_name": "o", "name": "w", "project_id": "ws-1"}),
            "project_id",
        ),
        (
            "create_a_hashicorp_terraform_cloud_workspace",
            json!({"organization_name": "o", "name": "w", "agent_pool_id": "pool-1"}),
            "agent_pool_id",
        ),
        (
            "create_a_hashicorp_terraform_cloud_organization_policy",
            json!({"organization_name": "o", "name": "p", "policy_set_ids": ["polset-1", "ws-2"]}),
            "policy_set_ids",
        ),
        (
            "hashicorp_terraform_cloud_variable_sets_apply_to_workspaces",
            json!({"varset_id": "varset-1", "workspace_ids": ["prj-1"]}),
            "workspace_ids",
        ),
        ("hashicorp_terraform_cloud_workspace_tags_remove", json!({"workspace_id": "ws-1", "tag_ids": ["x"]}), "tag_ids"),
        ("create_a_hashicorp_terraform_cloud_run_trigger", json!({"workspace_id": "ws-1", "sourceable_id": "sv-1"}), "sourceable_id"),
        // Path ids too.
        ("get_single_hashicorp_terraform_cloud_run_by_id", json!({"run_id": "run-1?x=1#f"}), "run_id"),
        ("get_single_hashicorp_terraform_cloud_state_version_by_id", json!({"state_version_id": "ws-1"}), "state_version_id"),
    ];
    for (tool, a, arg) in cases {
        let e = prep(tool, a.clone()).unwrap_err();
        assert_eq!(e.kind, ToolErrorKind::InvalidArguments, "{tool} {a}");
        assert!(e.message.contains(&format!("`{arg}`")), "{tool} {a}: {}", e.message);
    }
}

#[test]
fn id_errors_quote_only_the_start_of_the_value() {
    let long = format!("run-{}", "A".repeat(100_000));
    let e = prep("create_a_hashicorp_terraform_cloud_run", json!({"workspace_id": "ws-1", "configuration_version_id": long})).unwrap_err();
    assert!(e.message.len() < 300, "{} bytes", e.message.len());
    assert!(e.message.contains("`configuration_version_id`") && e.message.contains("`cv-`"), "{}", e.message);
    let e = prep("get_single_hashicorp_terraform_cloud_run_by_id", json!({"run_id": "run-\u{1b}[31mred\n"})).unwrap_err();
    assert!(!e.message.contains('\u{1b}') && !e.message.contains('\n'), "{:?}", e.message);
}

#[test]
fn every_id_argument_advertises_its_pattern() {
    for t in catalog().iter() {
        let schema = t.input_schema();
        for p in &t.params {
            let Some(prefix) = p.id_prefix else { continue };
            let prop = &schema["properties"][p.name];
            let pattern = if p.kind == Kind::StringList { &prop["items"]["pattern"] } else { &prop["pattern"] };
            assert_eq!(pattern, &json!(format!("^{prefix}-[A-Za-z0-9]{{1,64}}$")), "{}.{}", t.name, p.name);
        }
    }
}
