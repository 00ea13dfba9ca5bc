//! The public Terraform Registry tools against a mock registry: answers are
//! flattened and paged, no request carries the HCP Terraform token (or any
//! Authorization header), what a model names cannot move the request
//! (`../`, `?`, full URLs), redirects are not followed, the egress guard
//! applies, oversized answers are bounded, and only servers whose tags allow
//! the registry may call it.

mod support;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tfc_mcp_gateway::catalog::catalog;
use tfc_mcp_gateway::egress::EgressPolicy;
use tfc_mcp_gateway::execute::{ToolError, ToolErrorKind, budget, execute, execute_with_progress};
use tfc_mcp_gateway::filter::ToolFilter;
use tfc_mcp_gateway::route::Route;
use tfc_mcp_gateway::tfc_address::TfcAddressPolicy;
use tfc_mcp_gateway::upstream::{TfcClient, Upstream};

const TOKEN: &str = "tfc-secret-token.atlasv1.registryleak";

/// Every request the mock saw: (path, query, authorization header if any).
type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

fn provider_versions() -> Value {
    json!({
        "data": {"type": "providers", "id": "323", "attributes": {"full-name": "hashicorp/aws", "name": "aws", "namespace": "hashicorp"}},
        "included": [
            {"type": "provider-versions", "id": "70700", "attributes": {"version": "5.79.0", "published-at": "2024-12-05T22:11:09Z"}},
            {"type": "provider-versions", "id": "70800", "attributes": {"version": "5.80.0", "published-at": "2024-12-12T20:44:41Z"}},
            {"type": "provider-versions", "id": "40100", "attributes": {"version": "4.67.0", "published-at": "2023-05-18T23:02:45Z"}},
        ]
    })
}

fn answer(path: &str, query: &str) -> Response {
    let ok = |v: Value| axum::Json(v).into_response();
    match path {
        "/v1/providers" => ok(json!({
            "meta": {"limit": 2, "current_offset": 0, "next_offset": 2},
            "providers": [
                {"id": "hashicorp/aws/5.80.0", "namespace": "hashicorp", "name": "aws", "version": "5.80.0", "tier": "official",
                 "description": "AWS", "downloads": 10, "published_at": "2024-12-12T20:44:41Z", "source": "https://github.com/hashicorp/terraform-provider-aws",
                 "logo_url": "/images/providers/aws.png"},
                {"id": "acme/aws/1.0.0", "namespace": "acme", "name": "aws", "version": "1.0.0", "tier": "community", "downloads": 1}
            ]
        })),
        "/v1/providers/hashicorp/aws" => ok(json!({
            "id": "hashicorp/aws/5.80.0", "namespace": "hashicorp", "name": "aws", "version": "5.80.0", "tier": "official",
            "description": "AWS", "versions": ["4.67.0", "5.80.0", "5.79.0"],
            "docs": [
                {"id": "1", "title": "aws_instance", "slug": "instance", "category": "resources", "language": "hcl"},
                {"id": "2", "title": "aws_vpc", "slug": "vpc", "category": "resources", "language": "hcl"},
                {"id": "3", "title": "aws_ami", "slug": "ami", "category": "data-sources", "language": "hcl"},
                {"id": "4", "title": "aws_ami", "slug": "ami", "category": "data-sources", "language": "python"}
            ]
        })),
        "/v2/providers/hashicorp/aws" => ok(provider_versions()),
        "/v2/provider-docs" => ok(json!({
            "data": [{"type": "provider-docs", "id": "8814952", "attributes": {"category": "resources", "language": "hcl",
                      "path": "website/docs/r/instance.html.markdown", "slug": "instance", "subcategory": "EC2", "title": "aws_instance", "truncated": false}}],
            "meta": {"pagination": {"page-size": 20, "current-page": 1, "next-page": null, "total-pages": 1, "total-count": 1}},
            "echo": query,
        })),
        "/v2/provider-docs/8814952" => ok(json!({"data": {"type": "provider-docs", "id": "8814952", "attributes": {
            "category": "resources", "slug": "instance", "title": "aws_instance", "language": "hcl",
            "content": "---\nsubcategory: \"EC2\"\ndescription: |-\n  Provides an EC2 instance resource.\n---\n\n# Resource: aws_instance\n"}}})),
        // A document of 1 MiB: read, then cut by the result budget.
        "/v2/provider-docs/777" => ok(json!({"data": {"type": "provider-docs", "id": "777", "attributes": {
            "category": "resources", "slug": "big", "title": "big", "content": "x".repeat(1024 * 1024)}}})),
        // An answer of 20 MiB: refused while it is read.
        "/v2/provider-docs/999" => ok(json!({"data": {"id": "999", "attributes": {"content": "y".repeat(20 * 1024 * 1024)}}})),
        "/v2/provider-docs/302" => (StatusCode::FOUND, [("location", "http://169.254.169.254/latest/meta-data/")], "").into_response(),
        "/v1/modules/search" => ok(json!({
            "meta": {"limit": 20, "current_offset": 0},
            "modules": [{"id": "terraform-aws-modules/vpc/aws/5.17.0", "namespace": "terraform-aws-modules", "name": "vpc", "provider": "aws",
                         "version": "5.17.0", "downloads": 5, "verified": false, "provider_logo_url": "/x.png"}]
        })),
        "/v1/modules/terraform-aws-modules/vpc/aws" => ok(json!({
            "id": "terraform-aws-modules/vpc/aws/5.17.0", "namespace": "terraform-aws-modules", "name": "vpc", "provider": "aws",
            "version": "5.17.0", "versions": ["5.16.0", "5.17.0"],
            "root": {"readme": "# VPC", "inputs": [
                {"name": "cidr", "type": "string", "description": "CIDR", "default": "\"10.0.0.0/16\"", "required": false},
                {"name": "owner", "type": "string", "description": "Owner", "default": "", "required": true}],
                "outputs": [{"name": "vpc_id", "description": "The ID of the VPC"}],
                "provider_dependencies": [{"name": "aws", "namespace": "hashicorp", "source": "hashicorp/aws", "version": ">= 5.46"}],
                "resources": [{"name": "this", "type": "aws_vpc"}]},
            "submodules": [], "examples": []
        })),
        "/v1/modules/terraform-aws-modules/vpc/aws/versions" => {
            ok(json!({"modules": [{"source": "terraform-aws-modules/vpc/aws", "versions": [
                {"version": "5.16.0", "root": {"providers": [{"name": "aws", "source": "hashicorp/aws", "version": ">= 5.0"}]}},
                {"version": "5.17.0", "root": {"providers": []}},
                {"version": "4.0.2", "root": {"providers": []}}
            ]}]}))
        }
        "/v2/policies" => ok(json!({
            "data": [
                {"type": "policy-libraries", "id": "61", "attributes": {"full-name": "hashicorp/CIS-Policy-Set-for-AWS-Terraform", "name": "CIS-Policy-Set-for-AWS-Terraform",
                  "namespace": "hashicorp", "title": "CIS AWS", "verified": true, "downloads": 9},
                 "relationships": {"latest-version": {"data": {"type": "policy-library-versions", "id": "602"}, "links": {"related": "/v2/policies/hashicorp/CIS-Policy-Set-for-AWS-Terraform/1.0.1"}}}},
                {"type": "policy-libraries", "id": "62", "attributes": {"full-name": "hashicorp/FSBP", "name": "FSBP", "namespace": "hashicorp", "title": "FSBP"},
                 "relationships": {"latest-version": {"links": {"related": "/v2/policies/hashicorp/FSBP/0.3.0"}}}}
            ],
            "included": [{"type": "policy-library-versions", "id": "602", "attributes": {"version": "1.0.1"}}],
            "meta": {"pagination": {"next-page": null}}
        })),
        "/v2/policies/hashicorp/CIS-Policy-Set-for-AWS-Terraform/1.0.1" => ok(json!({
            "data": {"type": "policy-library-versions", "id": "602", "attributes": {"version": "1.0.1", "readme": "# CIS", "description": "CIS"}},
            "included": [
                {"type": "policies", "id": "1", "attributes": {"name": "s3-block-public-access", "title": "S3", "shasum": "00"}},
                {"type": "policy-modules", "id": "2", "attributes": {"name": "report", "title": "Report"}},
                {"type": "policy-libraries", "id": "61", "attributes": {"title": "CIS AWS", "verified": true}}
            ]
        })),
        _ => (StatusCode::NOT_FOUND, axum::Json(json!({"errors": ["Not Found"]}))).into_response(),
    }
}

async fn mock_registry() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = Router::new().fallback(move |req: Request| {
        let log = log.clone();
        async move {
            let path = req.uri().path().to_owned();
            let query = req.uri().query().unwrap_or("").to_owned();
            let auth = req.headers().get("authorization").map(|v| v.to_str().unwrap_or("?").to_owned());
            log.lock().unwrap().push((path.clone(), query.clone(), auth));
            answer(&path, &query)
        }
    });
    (support::serve_mock(app).await, seen)
}

fn route(address: &str, tags: &[&str]) -> Route {
    serde_json::from_value(json!({
        "version": 1, "tokenSha256": "00", "server": "ns/reg", "tfcAddress": address, "methods": ["list", "get"], "tags": tags,
    }))
    .unwrap()
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

async fn call(upstream: &Upstream, route: &Route, tool: &str, a: Value) -> Result<Value, ToolError> {
    let client = TfcClient::new(upstream, route, TOKEN);
    execute(&client, route, catalog().get(tool).unwrap_or_else(|| panic!("no tool {tool}")), args(a)).await
}

fn upstream(registry: &str) -> Upstream {
    Upstream::new("test", std::time::Duration::from_secs(10)).with_registry(Some(format!("{registry}/").parse().unwrap()))
}

const PUBLIC: &str = "https://app.terraform.io";

#[tokio::test]
async fn every_registry_tool_answers_flat_and_never_sends_a_credential() {
    let (base, seen) = mock_registry().await;
    let up = upstream(&base);
    let r = route(PUBLIC, &[]);

    let v = call(&up, &r, "list_all_hashicorp_terraform_registry_providers", json!({"query": "aws", "page_size": 2})).await.unwrap();
    assert_eq!(v["results"][0]["full_name"], "hashicorp/aws");
    assert_eq!(v["results"][0]["latest_version"], "5.80.0");
    assert!(v["results"][0].get("logo_url").is_none(), "logos are dropped: {v}");
    assert_eq!(v["pagination"]["next_page"], 2);
    let cursor = v["next_cursor"].as_str().unwrap().to_owned();
    call(&up, &r, "list_all_hashicorp_terraform_registry_providers", json!({"next_cursor": cursor})).await.unwrap();
    {
        let seen = seen.lock().unwrap();
        let (_, q0, _) = &seen[0];
        assert!(q0.contains("q=aws") && q0.contains("offset=0") && q0.contains("limit=2"), "{q0}");
        let (_, q1, _) = &seen[1];
        assert!(q1.contains("q=aws") && q1.contains("offset=2") && q1.contains("limit=2"), "the cursor carries the query: {q1}");
    }

    let v = call(&up, &r, "get_single_hashicorp_terraform_registry_provider_by_name", json!({"namespace": "hashicorp", "name": "aws"}))
        .await
        .unwrap();
    assert_eq!(v["latest_version"], "5.80.0");
    assert_eq!(v["recent_versions"], json!(["5.80.0", "5.79.0", "4.67.0"]));
    assert_eq!(v["docs_by_category"], json!({"data-sources": 1, "resources": 2}));
    assert!(v["required_providers"].as_str().unwrap().contains("hashicorp/aws"));

    let v = call(
        &up,
        &r,
        "list_all_hashicorp_terraform_registry_provider_docs",
        json!({"namespace": "hashicorp", "name": "aws", "version": "5.79.0", "slug": "aws_instance"}),
    )
    .await
    .unwrap();
    assert_eq!(v["results"][0]["provider_doc_id"], "8814952");
    assert_eq!(v["provider"]["version"], "5.79.0");
    {
        let seen = seen.lock().unwrap();
        let (path, q, _) = seen.last().unwrap();
        assert_eq!(path, "/v2/provider-docs");
        for part in ["filter%5Bprovider-version%5D=70700", "filter%5Bcategory%5D=resources", "filter%5Bslug%5D=instance"] {
            assert!(q.contains(part), "{part} in {q}");
        }
    }
    // Without a version: the newest one.
    let v = call(&up, &r, "list_all_hashicorp_terraform_registry_provider_docs", json!({"namespace": "hashicorp", "name": "aws"}))
        .await
        .unwrap();
    assert_eq!(v["provider"]["version"], "5.80.0");

    let v =
        call(&up, &r, "get_single_hashicorp_terraform_registry_provider_doc_by_id", json!({"provider_doc_id": "8814952"})).await.unwrap();
    assert_eq!(v["description"], "Provides an EC2 instance resource.");
    assert_eq!(v["content"], "# Resource: aws_instance\n");

    let v = call(&up, &r, "list_all_hashicorp_terraform_registry_modules", json!({"query": "vpc", "provider": "aws", "verified": true}))
        .await
        .unwrap();
    assert_eq!(v["results"][0]["id"], "terraform-aws-modules/vpc/aws/5.17.0");
    assert!(v["next_cursor"].is_null());

    let v = call(
        &up,
        &r,
        "get_single_hashicorp_terraform_registry_module_by_name",
        json!({"namespace": "terraform-aws-modules", "name": "vpc", "provider": "aws"}),
    )
    .await
    .unwrap();
    assert_eq!(v["required_inputs"], json!(["owner"]));
    assert_eq!(v["inputs"][0]["default"], "\"10.0.0.0/16\"");
    assert!(v["inputs"][1].get("default").is_none(), "a required input has no default: {v}");
    assert_eq!(v["resources"], json!(["aws_vpc.this"]));
    assert_eq!(v["latest_version"], "5.17.0");

    let v = call(
        &up,
        &r,
        "list_all_hashicorp_terraform_registry_module_versions",
        json!({"namespace": "terraform-aws-modules", "name": "vpc", "provider": "aws", "page_size": 2}),
    )
    .await
    .unwrap();
    assert_eq!(v["results"], json!([{"version": "5.17.0", "providers": []}, {"version": "5.16.0", "providers": ["hashicorp/aws >= 5.0"]}]));
    assert_eq!(v["pagination"]["total_count"], 3);
    let next = call(
        &up,
        &r,
        "list_all_hashicorp_terraform_registry_module_versions",
        json!({"namespace": "terraform-aws-modules", "name": "vpc", "provider": "aws", "next_cursor": v["next_cursor"]}),
    )
    .await
    .unwrap();
    assert_eq!(next["results"], json!([{"version": "4.0.2", "providers": []}]));

    let v = call(&up, &r, "list_all_hashicorp_terraform_registry_policy_libraries", json!({"query": "cis"})).await.unwrap();
    assert_eq!(v["results"].as_array().unwrap().len(), 1);
    assert_eq!(v["results"][0]["latest_version"], "1.0.1");
    let v = call(&up, &r, "list_all_hashicorp_terraform_registry_policy_libraries", json!({})).await.unwrap();
    assert_eq!(v["results"][1]["latest_version"], "0.3.0", "from the related link");

    let v = call(
        &up,
        &r,
        "get_single_hashicorp_terraform_registry_policy_library_by_name",
        json!({"namespace": "hashicorp", "name": "CIS-Policy-Set-for-AWS-Terraform"}),
    )
    .await
    .unwrap();
    assert_eq!(v["version"], "1.0.1");
    assert_eq!(v["policies"], json!([{"name": "s3-block-public-access", "title": "S3"}]));
    assert_eq!(v["policy_modules"][0]["name"], "report");
    assert_eq!(v["title"], "CIS AWS");

    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 14, "{seen:?}");
    for (path, _, auth) in seen.iter() {
        assert_eq!(auth, &None, "{path} carried an Authorization header");
    }
}

#[tokio::test]
async fn hostile_names_never_move_the_request() {
    let (base, seen) = mock_registry().await;
    let up = upstream(&base);
    let r = route(PUBLIC, &[]);
    let hostile = [
        "../../v2/provider-docs/8814952",
        "hashicorp/aws?x=",
        "hashicorp%2Faws",
        "https://evil.example/x",
        "..",
        "aws#frag",
        "a\nws",
        " ",
        "hashicorp\\aws",
    ];
    for bad in hostile {
        for (tool, a) in [
            ("get_single_hashicorp_terraform_registry_provider_by_name", json!({"namespace": bad, "name": "aws"})),
            ("get_single_hashicorp_terraform_registry_provider_by_name", json!({"namespace": "hashicorp", "name": bad})),
            ("list_all_hashicorp_terraform_registry_provider_docs", json!({"namespace": bad, "name": "aws"})),
            ("get_single_hashicorp_terraform_registry_module_by_name", json!({"namespace": "a", "name": "b", "provider": bad})),
            ("list_all_hashicorp_terraform_registry_module_versions", json!({"namespace": bad, "name": "b", "provider": "aws"})),
            ("get_single_hashicorp_terraform_registry_policy_library_by_name", json!({"namespace": "hashicorp", "name": bad})),
            ("list_all_hashicorp_terraform_registry_modules", json!({"query": "vpc", "namespace": bad})),
            ("get_single_hashicorp_terraform_registry_provider_doc_by_id", json!({"provider_doc_id": bad})),
        ] {
            let err = call(&up, &r, tool, a).await.unwrap_err();
            assert_eq!(err.kind, ToolErrorKind::InvalidArguments, "{tool} {bad:?}: {err}");
            assert!(!err.message.contains("evil.example"), "the value is not echoed: {err}");
        }
    }
    for bad in ["1.2.3/../../x", "1.2.3?x=1", "../5.80.0", "5.80", "https://x/1.2.3"] {
        let err = call(
            &up,
            &r,
            "get_single_hashicorp_terraform_registry_provider_by_name",
            json!({"namespace": "hashicorp", "name": "aws", "version": bad}),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, ToolErrorKind::InvalidArguments, "{bad}: {err}");
    }
    let err = call(
        &up,
        &r,
        "list_all_hashicorp_terraform_registry_provider_docs",
        json!({"namespace": "hashicorp", "name": "aws", "slug": "../x"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ToolErrorKind::InvalidArguments, "{err}");
    let err = call(&up, &r, "list_all_hashicorp_terraform_registry_modules", json!({"query": "vpc ".repeat(1000)})).await.unwrap_err();
    assert!(err.message.contains("longer than 256"), "{err}");
    assert!(seen.lock().unwrap().is_empty(), "nothing was sent: {:?}", seen.lock().unwrap());

    // A query is a query value, percent-encoded: it cannot add parameters.
    call(&up, &r, "list_all_hashicorp_terraform_registry_modules", json!({"query": "vpc&namespace=evil&limit=100000"})).await.unwrap();
    let seen = seen.lock().unwrap();
    let (path, q, _) = seen.last().unwrap();
    assert_eq!(path, "/v1/modules/search");
    assert!(q.starts_with("q=vpc%26namespace%3Devil%26limit%3D100000&"), "{q}");
}

#[tokio::test]
async fn huge_answers_are_bounded_and_redirects_not_followed() {
    let (base, _seen) = mock_registry().await;
    let up = upstream(&base);
    let r = route(PUBLIC, &[]);
    let tool = "get_single_hashicorp_terraform_registry_provider_doc_by_id";

    let err = call(&up, &r, tool, json!({"provider_doc_id": "999"})).await.unwrap_err();
    assert!(err.message.contains("larger than 4 MiB"), "{err}");

    let client = TfcClient::new(&up, &r, TOKEN);
    let v = execute_with_progress(&client, &r, catalog().get(tool).unwrap(), args(json!({"provider_doc_id": "777"})), None, 64 * 1024)
        .await
        .unwrap();
    assert!(budget::size_of(&v) <= 64 * 1024, "{}", budget::size_of(&v));
    assert_eq!(v["truncated"], true);
    assert_eq!(v["truncation"]["shortened"]["path"], "/content");
    assert_eq!(v["title"], "big", "the rest of the document is kept");

    let err = call(&up, &r, tool, json!({"provider_doc_id": "302"})).await.unwrap_err();
    assert!(err.message.contains("redirect") && !err.message.contains("169.254"), "{err}");
}

#[tokio::test]
async fn the_egress_guard_applies_to_the_registry() {
    let (base, seen) = mock_registry().await;
    // A restricted policy: the loopback mock is not allow-listed.
    let policy = EgressPolicy::new(TfcAddressPolicy::unrestricted(), &[], &[], &[]).unwrap();
    let up = Upstream::try_with_egress("test", std::time::Duration::from_secs(5), policy)
        .unwrap()
        .with_registry(Some(format!("{base}/").parse().unwrap()));
    let r = route(PUBLIC, &[]);
    let err = call(&up, &r, "list_all_hashicorp_terraform_registry_providers", json!({"query": "aws"})).await.unwrap_err();
    assert!(err.message.contains("network policy") && err.message.contains("loopback"), "{err}");
    assert!(seen.lock().unwrap().is_empty());

    // Allow-listed by ip:port, it is reached.
    let socket = base.trim_start_matches("http://").to_owned();
    let policy = EgressPolicy::new(TfcAddressPolicy::unrestricted(), &[], &[socket], &[]).unwrap();
    let up = Upstream::try_with_egress("test", std::time::Duration::from_secs(5), policy)
        .unwrap()
        .with_registry(Some(format!("{base}/").parse().unwrap()));
    call(&up, &r, "list_all_hashicorp_terraform_registry_providers", json!({"query": "aws"})).await.unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn tags_and_addresses_decide_who_gets_the_registry() {
    let (base, seen) = mock_registry().await;
    let up = upstream(&base);
    let tool = catalog().get("list_all_hashicorp_terraform_registry_providers").unwrap();

    assert!(ToolFilter::from_route(&route(PUBLIC, &[])).allows(tool), "public HCP Terraform, all tags");
    assert!(ToolFilter::from_route(&route("https://app.eu.terraform.io", &[])).allows(tool));
    assert!(!ToolFilter::from_route(&route("https://tfe.example.com", &[])).allows(tool), "Terraform Enterprise, all tags");
    assert!(ToolFilter::from_route(&route("https://tfe.example.com", &["registry"])).allows(tool), "named explicitly");
    let other = route(PUBLIC, &["workspaces", "runs"]);
    assert!(!ToolFilter::from_route(&other).allows(tool), "tags without registry");
    // Other tags are unaffected by the rule.
    let ws = catalog().get("list_all_hashicorp_terraform_cloud_workspaces").unwrap();
    assert!(ToolFilter::from_route(&route("https://tfe.example.com", &[])).allows(ws));

    // A server whose tags exclude the registry cannot call it, whatever the entry point.
    let err = call(&up, &other, tool.name, json!({"query": "aws"})).await.unwrap_err();
    assert_eq!(err.kind, ToolErrorKind::Forbidden, "{err}");
    let err = call(&up, &route("https://tfe.example.com", &[]), tool.name, json!({"query": "aws"})).await.unwrap_err();
    assert_eq!(err.kind, ToolErrorKind::Forbidden, "{err}");
    assert!(seen.lock().unwrap().is_empty());

    // Named on a gateway without a registry: a clear refusal.
    let none = Upstream::new("test", std::time::Duration::from_secs(5)).with_registry(None);
    let err = call(&none, &route(PUBLIC, &["registry"]), tool.name, json!({"query": "aws"})).await.unwrap_err();
    assert!(err.message.contains("no Terraform Registry configured"), "{err}");

    // Read-only, and every registry tool is list or get; names, versions and
    // document ids advertise their shape in the input schema.
    for t in catalog().iter().filter(|t| t.tag == "registry") {
        assert!(t.method.is_read(), "{}", t.name);
        assert_eq!(t.annotations().read_only_hint, Some(true), "{}", t.name);
        let schema = t.input_schema();
        for (arg, pattern) in [
            ("namespace", tfc_mcp_gateway::registry::NAME_PATTERN),
            ("name", tfc_mcp_gateway::registry::NAME_PATTERN),
            ("provider", tfc_mcp_gateway::registry::NAME_PATTERN),
            ("version", tfc_mcp_gateway::registry::VERSION_PATTERN),
            ("provider_doc_id", tfc_mcp_gateway::registry::DOC_ID_PATTERN),
        ] {
            if let Some(p) = schema["properties"].get(arg) {
                assert_eq!(p["pattern"], pattern, "{} {arg}", t.name);
            }
        }
    }
}

#[tokio::test]
async fn registry_errors_are_phrased_for_the_model() {
    let (base, _seen) = mock_registry().await;
    let up = upstream(&base);
    let r = route(PUBLIC, &[]);
    let err = call(&up, &r, "get_single_hashicorp_terraform_registry_provider_by_name", json!({"namespace": "nobody", "name": "nothing"}))
        .await
        .unwrap_err();
    assert_eq!(err.status, Some(404));
    assert!(err.message.contains("Terraform Registry answered HTTP 404") && err.message.contains("search tools"), "{err}");
    assert!(!err.message.contains(TOKEN));
    let err = call(
        &up,
        &r,
        "list_all_hashicorp_terraform_registry_provider_docs",
        json!({"namespace": "hashicorp", "name": "aws", "version": "9.9.9"}),
    )
    .await
    .unwrap_err();
    assert!(err.message.contains("no version 9.9.9"), "{err}");
}
