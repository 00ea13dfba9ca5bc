//! Workspace insights (managed resources, remote state consumers, README,
//! assessment drift and logs), the Explorer, the private registry and
//! stacks: request shapes against the documented samples, argument checks,
//! and the handlers and the organization allow-list against a mock API.

mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tfc_mcp_gateway::catalog::catalog;
use tfc_mcp_gateway::execute::{Request, ToolError, ToolErrorKind, execute, prepare, query_cursor};
use tfc_mcp_gateway::route::Route;
use tfc_mcp_gateway::upstream::{TfcClient, Upstream};

const TOKEN: &str = "tfc-secret-token.atlasv1.abcdef";

fn args(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn build(tool: &str, a: Value) -> Result<Request, ToolError> {
    prepare(catalog().get(tool).unwrap_or_else(|| panic!("{tool}")), args(a))
}

fn sample(file: &str, section: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tfc-api-samples").join(file);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["sections"].as_array().unwrap().iter().find(|s| s["section"] == section).unwrap_or_else(|| panic!("{section}")).clone()
}

fn sample_path(s: &Value) -> (String, String) {
    let url = url::Url::parse(s["requests"][0]["url"].as_str().unwrap()).unwrap();
    (s["requests"][0]["method"].as_str().unwrap().to_owned(), url.path().strip_prefix("/api/v2").unwrap().to_owned())
}

// ---- request shapes --------------------------------------------------------------

#[test]
fn remote_state_consumer_changes_match_the_samples() {
    for (tool, section) in [
        ("hashicorp_terraform_cloud_workspaces_add_state_consumers", "Add Remote State Consumers"),
        ("hashicorp_terraform_cloud_workspaces_remove_state_consumers", "Delete Remote State Consumers"),
        ("hashicorp_terraform_cloud_workspaces_replace_state_consumers", "Replace Remote State Consumers"),
    ] {
        let s = sample("workspaces.json", section);
        let req = build(tool, json!({"workspace_id": "ws-UYv6RYM8fVhzeGG5", "workspace_ids": ["ws-7aiqKYf6ejMFdtWS"]})).unwrap();
        let (method, path) = sample_path(&s);
        let spec = catalog().get(tool).unwrap();
        assert_eq!((spec.verb.as_str(), req.path.as_str()), (method.as_str(), path.as_str()), "{tool}");
        assert_eq!(req.body.unwrap(), s["payloads"][0], "{tool}");
        let a = spec.annotations();
        assert_eq!(a.read_only_hint, Some(false), "{tool}");
        assert_eq!(a.destructive_hint, Some(!tool.contains("_add_")), "{tool}");
        // Consumers are workspace ids, checked like any id.
        let e = build(tool, json!({"workspace_id": "ws-UYv6RYM8fVhzeGG5", "workspace_ids": ["../ws-1"]})).unwrap_err();
        assert_eq!(e.kind, ToolErrorKind::InvalidArguments);
        assert!(build(tool, json!({"workspace_id": "ws-UYv6RYM8fVhzeGG5", "workspace_ids": []})).is_err());
    }
}

#[test]
fn no_code_workspace_carries_its_project_and_variables() {
    let s = sample("no-code-provisioning.json", "Create a no-code module workspace");
    let req = build(
        "create_a_hashicorp_terraform_cloud_no_code_workspace",
        json!({"no_code_module_id": "nocode-WGckovT2RQxupyt1", "name": "no-code-workspace",
               "description": "A workspace to enable the no-code provisioning workflow.",
               "project_id": "prj-yuEN6sJVra5t6XVy",
               "variables": [{"key": "region", "value": "eu-central-1"}, {"key": "ami", "value": "ami\u{2011}077062"}]}),
    )
    .unwrap();
    let (method, path) = sample_path(&s);
    assert_eq!(("POST", req.path.as_str()), (method.as_str(), path.as_str()));
    let body = req.body.unwrap();
    let mut payload = s["payloads"][0].clone();
    // Documentation quirks: the project's type is written `project`, and the
    // plain string values are flagged `hcl`; the tool sends `projects` and
    // plain strings.
    payload["data"]["relationships"]["project"]["data"]["type"] = json!("projects");
    for v in payload["data"]["relationships"]["vars"]["data"].as_array_mut().unwrap() {
        v["attributes"]["hcl"] = json!(false);
    }
    assert_eq!(body, payload);
}

#[test]
fn explorer_filters_use_the_documented_query_form() {
    let req = build(
        "list_all_hashicorp_terraform_cloud_explorer_results",
        json!({"organization_name": "acme-corp", "view_type": "workspaces",
               "filters": [{"field": "workspace_terraform_version", "operator": "contains", "value": "1.5"},
                           {"field": "drifted", "operator": "is", "value": true},
                           {"field": "vcs_repo_identifier", "operator": "is_empty"}],
               "sort": "-workspace_name", "fields": ["workspace_name", "drifted"], "page_size": 50}),
    )
    .unwrap();
    assert_eq!(req.path, "/organizations/acme-corp/explorer");
    let q: Vec<(&str, &str)> = req.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        q,
        vec![
            ("type", "workspaces"),
            ("filter[0][workspace_terraform_version][contains][0]", "1.5"),
            ("filter[1][drifted][is][0]", "true"),
            ("filter[2][vcs_repo_identifier][is_empty][0]", ""),
            ("sort", "-workspace_name"),
            ("page[size]", "50"),
        ]
    );
    // The sample's own filter, encoded as documented.
    let s = sample("explorer.json", "Execute a query");
    let documented = s["requests"][1]["url"].as_str().unwrap();
    assert!(documented.contains("filter%5B0%5D%5Bworkspace_name%5D%5Bcontains%5D%5B0%5D=test"));
    let req = build(
        "list_all_hashicorp_terraform_cloud_explorer_results",
        json!({"organization_name": "acme-corp", "view_type": "workspaces",
               "filters": [{"field": "workspace_name", "operator": "contains", "value": "test"}]}),
    )
    .unwrap();
    let url = url::Url::parse_with_params("https://x/", &req.query).unwrap();
    assert!(url.query().unwrap().contains("filter%5B0%5D%5Bworkspace_name%5D%5Bcontains%5D%5B0%5D=test"), "{url}");
}

#[test]
fn explorer_arguments_are_validated() {
    let tool = "list_all_hashicorp_terraform_cloud_explorer_results";
    let base = |filters: Value| json!({"organization_name": "acme-corp", "view_type": "workspaces", "filters": filters});
    for (filters, needle) in [
        (json!([{"field": "drifted", "operator": "like", "value": "x"}]), "operator"),
        (json!([{"field": "drifted]&type=x", "operator": "is", "value": "x"}]), "snake_case"),
        (json!([{"field": "drifted", "operator": "is", "value": "x", "extra": 1}]), "unknown key"),
        (json!([{"field": "drifted", "operator": "is"}]), "non-empty"),
        (json!([{"field": "drifted", "operator": "is", "value": "x".repeat(300)}]), "longer"),
        (json!((0..11).map(|_| json!({"field": "drifted", "operator": "is", "value": "x"})).collect::<Vec<_>>()), "at most"),
        (json!(["drifted is true"]), "filters"),
    ] {
        let e = build(tool, base(filters)).unwrap_err();
        assert_eq!(e.kind, ToolErrorKind::InvalidArguments);
        assert!(e.message.contains(needle), "{needle}: {e}");
    }
    let e = build(tool, json!({"organization_name": "acme-corp", "view_type": "resources"})).unwrap_err();
    assert!(e.message.contains("must be one of"), "{e}");
    // The cursor carries the filters: passing only the cursor repeats them.
    let a = base(json!([{"field": "drifted", "operator": "is", "value": "true"}]));
    let cursor = query_cursor(catalog().get(tool).unwrap(), args(a), 2, 20).unwrap();
    let req = build(tool, json!({"organization_name": "acme-corp", "next_cursor": cursor})).unwrap();
    assert!(req.query.contains(&("filter[0][drifted][is][0]".into(), "true".into())), "{:?}", req.query);
    assert!(req.query.contains(&("page[number]".into(), "2".into())));
    let other = base(json!([{"field": "drifted", "operator": "is", "value": "false"}]));
    let mut other = args(other);
    other.insert("next_cursor".into(), json!(cursor));
    assert!(prepare(catalog().get(tool).unwrap(), other).is_err(), "a cursor of another filter is refused");
}

#[test]
fn registry_names_are_single_checked_segments() {
    let tool = "get_single_hashicorp_terraform_cloud_registry_module_by_id";
    let ok = build(
        tool,
        json!({"organization_name": "my-organization", "registry_name": "private", "namespace": "my-organization",
               "module_name": "my-module", "module_provider": "aws"}),
    )
    .unwrap();
    let s = sample("modules.json", "Get a Module");
    assert_eq!(ok.path, sample_path(&s).1);
    for bad in ["..", "../../workspaces", "a/b", "a?b=1", "a#b", "%2e%2e", ".hidden", "-x", "", "a b"] {
        let e = build(
            tool,
            json!({"organization_name": "my-organization", "registry_name": "private", "namespace": bad,
                   "module_name": "m", "module_provider": "aws"}),
        )
        .unwrap_err();
        assert_eq!(e.kind, ToolErrorKind::InvalidArguments, "{bad:?}");
    }
    let e = build(
        tool,
        json!({"organization_name": "o", "registry_name": "../private", "namespace": "n", "module_name": "m", "module_provider": "p"}),
    )
    .unwrap_err();
    assert!(e.message.contains("must be one of"), "{e}");
    let p = build(
        "list_all_hashicorp_terraform_cloud_registry_provider_versions",
        json!({"organization_name": "hashicorp", "namespace": "hashicorp", "provider_name": "aws"}),
    )
    .unwrap();
    assert_eq!(p.path, sample_path(&sample("provider-versions-platforms.json", "Get All Versions for a Single Provider")).1);
    let p = build(
        "get_single_hashicorp_terraform_cloud_registry_provider_by_id",
        json!({"organization_name": "hashicorp", "registry_name": "private", "namespace": "hashicorp", "provider_name": "aws"}),
    )
    .unwrap();
    assert_eq!(p.path, sample_path(&sample("providers.json", "Get a Provider")).1);
    let r = build("list_all_hashicorp_terraform_cloud_workspace_resources", json!({"workspace_id": "ws-DiTzUDRpjrArAfSS"})).unwrap();
    assert_eq!(r.path, sample_path(&sample("workspace-resources.json", "List Workspace Resources")).1);
    let d = build(
        "list_all_hashicorp_terraform_cloud_stack_deployment_runs",
        json!({"stack_id": "st-MWvJsvy1FCg3bnXY", "deployment_name": "../../organizations"}),
    )
    .unwrap_err();
    assert_eq!(d.kind, ToolErrorKind::InvalidArguments);
}

#[test]
fn read_tools_are_read_only() {
    for t in catalog().iter().filter(|t| matches!(t.tag, "explorer" | "private-registry" | "stacks")) {
        let ro = t.annotations().read_only_hint == Some(true);
        assert_eq!(ro, t.name != "create_a_hashicorp_terraform_cloud_no_code_workspace", "{}", t.name);
    }
}

// ---- against a mock API ----------------------------------------------------------

/// (method, path, status, headers, body)
type Canned = (String, String, u16, Vec<(String, String)>, String);

/// A mock API: (method, path) -> (status, headers, body); every request is recorded.
#[derive(Clone, Default)]
struct Mock {
    routes: Arc<Mutex<Vec<Canned>>>,
    seen: Arc<Mutex<Vec<(String, String, String)>>>,
}

impl Mock {
    fn on(&self, method: &str, path: &str, status: u16, headers: &[(&str, &str)], body: impl Into<String>) -> &Self {
        let h = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.routes.lock().unwrap().push((method.into(), path.into(), status, h, body.into()));
        self
    }
    fn json(&self, path: &str, body: Value) -> &Self {
        self.on("GET", path, 200, &[], body.to_string())
    }
    fn seen(&self) -> Vec<(String, String, String)> {
        self.seen.lock().unwrap().clone()
    }
}

async fn handle(State(mock): State<Mock>, method: Method, uri: Uri) -> Response {
    mock.seen.lock().unwrap().push((method.to_string(), uri.path().to_owned(), uri.query().unwrap_or_default().to_owned()));
    let found = mock.routes.lock().unwrap().iter().find(|r| r.0 == method.as_str() && r.1 == uri.path()).cloned();
    match found {
        Some((_, _, status, headers, body)) => {
            let mut resp = (StatusCode::from_u16(status).unwrap(), body).into_response();
            resp.headers_mut().insert("content-type", "application/vnd.api+json".parse().unwrap());
            for (k, v) in headers {
                resp.headers_mut().insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
            }
            resp
        }
        None => (StatusCode::NOT_FOUND, json!({"errors": [{"status": "404", "title": "not found"}]}).to_string()).into_response(),
    }
}

async fn serve(mock: Mock) -> String {
    support::serve_mock(Router::new().fallback(handle).with_state(mock)).await
}

fn route(address: &str, orgs: &[&str]) -> Route {
    serde_json::from_value(json!({
        "version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": address,
        "methods": ["list", "get", "create", "update", "delete", "custom", "observe"], "organizations": orgs,
    }))
    .unwrap()
}

async fn call(up: &Upstream, route: &Route, tool: &str, a: Value) -> Result<Value, ToolError> {
    let client = TfcClient::new(up, route, TOKEN);
    execute(&client, route, catalog().get(tool).unwrap(), args(a)).await
}

fn upstream() -> Upstream {
    Upstream::new("tfc-mcp-gateway-test", Duration::from_secs(10))
}

fn workspace(id: &str, org: &str) -> Value {
    json!({"data": {"id": id, "type": "workspaces", "attributes": {"name": id},
        "relationships": {"organization": {"data": {"id": org, "type": "organizations"}}}}})
}

#[tokio::test]
async fn drift_and_logs_follow_the_temporary_url() {
    let api = Mock::default();
    let blob = Mock::default();
    let plan = json!({"terraform_version": "1.9.8", "resource_drift": [
        {"address": "aws_security_group.web", "type": "aws_security_group", "change": {"actions": ["update"],
         "before": {"ingress": [], "description": "web"}, "after": {"ingress": ["0.0.0.0/0"], "description": "web"}}}]});
    blob.on("GET", "/v1/object/plan", 200, &[], plan.to_string());
    let log = "{\"@level\":\"info\",\"@message\":\"Terraform 1.9.8\"}\n{\"@level\":\"warn\",\"@message\":\"Objects have changed outside of Terraform\"}\n";
    blob.on("GET", "/v1/object/log", 200, &[], log);
    let blob_base = serve(blob.clone()).await;
    api.on("GET", "/api/v2/assessment-results/asmtres-1/json-output", 307, &[("location", &format!("{blob_base}/v1/object/plan"))], "");
    api.on("GET", "/api/v2/assessment-results/asmtres-1/log-output", 307, &[("location", &format!("{blob_base}/v1/object/log"))], "");
    let base = serve(api.clone()).await;
    let r = route(&base, &[]);
    let up = upstream();
    let d = call(&up, &r, "hashicorp_terraform_cloud_assessments_drift", json!({"assessment_result_id": "asmtres-1"})).await.unwrap();
    assert_eq!(d["drifted"], true);
    assert_eq!(d["resource_drift"][0]["changed_attributes"], json!(["ingress"]));
    assert!(!d.to_string().contains("0.0.0.0/0"), "no values");
    let l = call(&up, &r, "hashicorp_terraform_cloud_assessments_logs", json!({"assessment_result_id": "asmtres-1"})).await.unwrap();
    let log = l["log"].as_str().unwrap();
    assert!(log.contains("Terraform 1.9.8\n[warn] Objects have changed outside of Terraform"), "{log}");
    // The blob host never sees the token (checked by the client), and a 403 explains the token kind.
    api.on("GET", "/api/v2/assessment-results/asmtres-2/json-output", 403, &[], json!({"errors": [{"status": "403"}]}).to_string());
    let e = call(&up, &r, "hashicorp_terraform_cloud_assessments_drift", json!({"assessment_result_id": "asmtres-2"})).await.unwrap_err();
    assert!(e.message.contains("organization token"), "{e}");
    assert!(!e.message.contains(TOKEN));
}

#[tokio::test]
async fn readme_comes_from_the_included_record() {
    let api = Mock::default();
    let mut doc = workspace("ws-1", "acme-corp");
    doc["data"]["relationships"]["readme"] = json!({"data": {"id": "227247", "type": "workspace-readme"}});
    doc["included"] = json!([{"id": "227247", "type": "workspace-readme", "attributes": {"raw-markdown": "# Core network\n"}}]);
    api.json("/api/v2/workspaces/ws-1", doc);
    let base = serve(api.clone()).await;
    let out = call(
        &upstream(),
        &route(&base, &[]),
        "get_single_hashicorp_terraform_cloud_workspace_readme_by_id",
        json!({"workspace_id": "ws-1"}),
    )
    .await
    .unwrap();
    assert_eq!(out["readme_markdown"], "# Core network\n");
    assert!(api.seen().iter().any(|(_, p, q)| p == "/api/v2/workspaces/ws-1" && q == "include=readme"), "{:?}", api.seen());
}

#[tokio::test]
async fn explorer_fields_outside_the_view_never_reach_upstream() {
    let api = Mock::default();
    let base = serve(api.clone()).await;
    let e = call(
        &upstream(),
        &route(&base, &[]),
        "list_all_hashicorp_terraform_cloud_explorer_results",
        json!({"organization_name": "acme-corp", "view_type": "tf_versions", "filters": [{"field": "drifted", "operator": "is", "value": "true"}]}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ToolErrorKind::InvalidArguments);
    assert!(e.message.contains("workspace_count"), "{e}");
    assert!(api.seen().is_empty());
}

#[tokio::test]
async fn allow_list_holds_for_every_new_area() {
    let api = Mock::default();
    api.json("/api/v2/workspaces/ws-acme1", workspace("ws-acme1", "acme-corp"));
    api.json("/api/v2/workspaces/ws-globex1", workspace("ws-globex1", "globex"));
    api.json(
        "/api/v2/stacks/st-globex1",
        json!({"data": {"id": "st-globex1", "type": "stacks", "attributes": {"name": "g"},
        "relationships": {"project": {"data": {"id": "prj-globex1", "type": "projects"}}}}}),
    );
    api.json(
        "/api/v2/stacks/st-acme1",
        json!({"data": {"id": "st-acme1", "type": "stacks", "attributes": {"name": "a"},
        "relationships": {"project": {"data": {"id": "prj-acme1", "type": "projects"}}}}}),
    );
    for (prj, org) in [("prj-globex1", "globex"), ("prj-acme1", "acme-corp")] {
        api.json(
            &format!("/api/v2/projects/{prj}"),
            json!({"data": {"id": prj, "type": "projects",
            "relationships": {"organization": {"data": {"id": org, "type": "organizations"}}}}}),
        );
    }
    api.json(
        "/api/v2/stacks/st-acme1/stack-deployments",
        json!({"data": [], "meta": {"pagination": {"current-page": 1, "total-count": 0}}}),
    );
    api.json(
        "/api/v2/no-code-modules/nocode-globex1",
        json!({"data": {"id": "nocode-globex1", "type": "no-code-modules",
        "relationships": {"organization": {"data": {"id": "globex", "type": "organizations"}}}}}),
    );
    let base = serve(api.clone()).await;
    let r = route(&base, &["acme-corp"]);
    let up = upstream();
    let refused = [
        ("list_all_hashicorp_terraform_cloud_explorer_results", json!({"organization_name": "globex", "view_type": "workspaces"})),
        ("list_all_hashicorp_terraform_cloud_registry_modules", json!({"organization_name": "globex"})),
        ("list_all_hashicorp_terraform_cloud_stacks", json!({"organization_name": "globex"})),
        ("hashicorp_terraform_cloud_workspaces_add_state_consumers", json!({"workspace_id": "ws-acme1", "workspace_ids": ["ws-globex1"]})),
        ("hashicorp_terraform_cloud_workspaces_add_state_consumers", json!({"workspace_id": "ws-globex1", "workspace_ids": ["ws-acme1"]})),
        (
            "hashicorp_terraform_cloud_workspaces_replace_state_consumers",
            json!({"workspace_id": "ws-acme1", "workspace_ids": ["ws-acme1", "ws-globex1"]}),
        ),
        ("get_single_hashicorp_terraform_cloud_stack_by_id", json!({"stack_id": "st-globex1"})),
        ("list_all_hashicorp_terraform_cloud_stack_deployments", json!({"stack_id": "st-globex1"})),
        ("get_single_hashicorp_terraform_cloud_no_code_module_by_id", json!({"no_code_module_id": "nocode-globex1"})),
        ("create_a_hashicorp_terraform_cloud_no_code_workspace", json!({"no_code_module_id": "nocode-globex1", "name": "x"})),
        ("list_all_hashicorp_terraform_cloud_workspace_resources", json!({"workspace_id": "ws-globex1"})),
        ("get_single_hashicorp_terraform_cloud_workspace_readme_by_id", json!({"workspace_id": "ws-globex1"})),
        // Never seen through its workspace: its owner is unknown, so refused.
        ("hashicorp_terraform_cloud_assessments_drift", json!({"assessment_result_id": "asmtres-unseen"})),
    ];
    for (tool, a) in refused {
        let e = call(&up, &r, tool, a.clone()).await.unwrap_err();
        assert_eq!(e.kind, ToolErrorKind::Forbidden, "{tool} {a}: {e}");
        assert!(e.message.contains("404 Not Found"), "{tool}: {e}");
    }
    // Nothing but owner lookups (GETs) reached the API, and never a globex listing.
    for (method, path, _) in api.seen() {
        assert_eq!(method, "GET", "{path}");
        assert!(!path.contains("/organizations/globex"), "{path}");
        assert!(!path.contains("json-output") && !path.ends_with("/stack-deployments") || path.contains("acme"), "{path}");
    }
    // The allowed organization's stack works (stack -> project -> organization).
    let ok = call(&up, &r, "list_all_hashicorp_terraform_cloud_stack_deployments", json!({"stack_id": "st-acme1"})).await.unwrap();
    assert_eq!(ok["results"], json!([]));
}

#[test]
fn schemas_describe_filters_and_name_segments() {
    let explorer = catalog().get("list_all_hashicorp_terraform_cloud_explorer_results").unwrap().input_schema();
    let filters = &explorer["properties"]["filters"];
    assert_eq!(filters["type"], "array");
    assert_eq!(filters["maxItems"], 10);
    assert_eq!(filters["items"]["required"], json!(["field", "operator"]));
    assert!(filters["items"]["properties"]["operator"]["enum"].as_array().unwrap().contains(&json!("is_not_empty")));
    assert_eq!(explorer["required"], json!(["organization_name", "view_type"]));
    let module = catalog().get("get_single_hashicorp_terraform_cloud_registry_module_by_id").unwrap().input_schema();
    for arg in ["namespace", "module_name", "module_provider"] {
        assert_eq!(module["properties"][arg]["pattern"], tfc_mcp_gateway::catalog::SEGMENT_PATTERN, "{arg}");
    }
    let stack = catalog().get("get_single_hashicorp_terraform_cloud_stack_by_id").unwrap().input_schema();
    assert_eq!(stack["properties"]["stack_id"]["pattern"], "^st-[A-Za-z0-9]{1,64}$");
    let nocode = catalog().get("create_a_hashicorp_terraform_cloud_no_code_workspace").unwrap().input_schema();
    assert_eq!(nocode["properties"]["variables"]["type"], "array");
    assert_eq!(nocode["properties"]["no_code_module_id"]["pattern"], "^nocode-[A-Za-z0-9]{1,64}$");
}

#[test]
fn segments_accept_registry_names_only() {
    use tfc_mcp_gateway::catalog::segment_ok;
    for ok in ["acme-corp", "terraform-aws-modules", "vpc", "aws", "s3_bucket", "1.2.0", "v2"] {
        assert!(segment_ok(ok), "{ok}");
    }
    for bad in ["", ".", "..", ".x", "-x", "a/b", "a?b", "a#b", "a%2Fb", "a b", "é", &"a".repeat(129)] {
        assert!(!segment_ok(bad), "{bad:?}");
    }
}
