//! The public Terraform Registry origin (`--registry-listen`): provider and
//! module search and details (v1), provider versions, provider documents and
//! policy libraries (v2), answering in the registry's own shapes with the data
//! of [`crate::registry_seed`].
//!
//! Like the real registry it needs no credentials; like the blob origin it
//! refuses any request that carries an `Authorization` header (400), so tests
//! catch a client that leaks its HCP Terraform token to it. Every request is
//! recorded in the test log with origin `registry`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::jsonapi::QueryParams;
use crate::registry_seed::{self as seed, BIG_DOC_BYTES, Doc, ENORMOUS_DOC_BYTES, Module, PolicyLibrary, Provider, ProviderVersion};
use crate::sim::{RequestRecord, Sim};

pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/v1/providers", get(search_providers))
        .route("/v1/providers/{ns}/{name}", get(provider_latest))
        .route("/v1/providers/{ns}/{name}/{version}", get(provider_version))
        .route("/v2/providers/{ns}/{name}", get(provider_v2))
        .route("/v2/provider-docs", get(provider_docs))
        .route("/v2/provider-docs/{id}", get(provider_doc))
        .route("/v1/modules/search", get(search_modules))
        .route("/v1/modules/{ns}/{name}/{provider}", get(module_latest))
        .route("/v1/modules/{ns}/{name}/{provider}/versions", get(module_versions))
        .route("/v1/modules/{ns}/{name}/{provider}/{version}", get(module_version))
        .route("/v2/policies", get(policies))
        .route("/v2/policies/{ns}/{name}/{version}", get(policy))
        .fallback(|| async { not_found() })
        .layer(middleware::from_fn_with_state(sim.clone(), guard))
        .with_state(sim)
}

/// Rejects credentials and records every request in the test log.
async fn guard(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let resp = if req.headers().contains_key(header::AUTHORIZATION) {
        tracing::warn!(%path, "registry request carried an Authorization header; rejected");
        (StatusCode::BAD_REQUEST, axum::Json(json!({"errors": ["The public registry takes no Authorization header."]}))).into_response()
    } else {
        next.run(req).await
    };
    sim.record(RequestRecord {
        method,
        path,
        query,
        status: resp.status().as_u16(),
        ts: crate::jsonapi::ts(chrono::Utc::now()),
        origin: "registry",
    });
    resp
}

/// The registry's error shape: `{"errors": ["Not Found"]}`.
fn not_found() -> Response {
    (StatusCode::NOT_FOUND, axum::Json(json!({"errors": ["Not Found"]}))).into_response()
}

fn ok(v: Value) -> Response {
    let mut resp = (StatusCode::OK, v.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn number(q: &QueryParams, key: &str, default: usize) -> usize {
    q.get(key).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn matches(text: &[&str], query: &str) -> bool {
    let query = query.trim().to_lowercase();
    query.is_empty() || text.iter().any(|t| t.to_lowercase().contains(&query))
}

/// v1 `meta` of an offset page.
fn offset_meta(offset: usize, limit: usize, total: usize) -> Value {
    let mut meta = json!({"limit": limit, "current_offset": offset});
    if offset + limit < total {
        meta["next_offset"] = json!(offset + limit);
    }
    if offset > 0 {
        meta["prev_offset"] = json!(offset.saturating_sub(limit));
    }
    meta
}

// ---- providers -----------------------------------------------------------------------------

fn find_provider<'p>(providers: &'p [Provider], ns: &str, name: &str) -> Option<&'p Provider> {
    providers.iter().find(|p| p.namespace.eq_ignore_ascii_case(ns) && p.name.eq_ignore_ascii_case(name))
}

fn latest(p: &Provider) -> &ProviderVersion {
    p.versions.last().expect("every seeded provider has a version")
}

fn provider_summary(p: &Provider, v: &ProviderVersion) -> Value {
    json!({
        "id": format!("{}/{}/{}", p.namespace, p.name, v.version),
        "owner": "",
        "namespace": p.namespace,
        "name": p.name,
        "alias": p.name,
        "version": v.version,
        "tag": format!("v{}", v.version),
        "description": p.description,
        "source": p.source,
        "published_at": v.published_at,
        "downloads": p.downloads,
        "tier": p.tier,
        "logo_url": format!("/images/providers/{}.png", p.name),
    })
}

async fn search_providers(q: QueryParams) -> Response {
    let providers = seed::providers();
    let query = q.get("q").unwrap_or("");
    let hits: Vec<&Provider> = providers
        .iter()
        .filter(|p| matches(&[p.name, p.namespace, p.description], query))
        .filter(|p| q.non_empty("namespace").is_none_or(|ns| ns.eq_ignore_ascii_case(p.namespace)))
        .collect();
    let (offset, limit) = (number(&q, "offset", 0), number(&q, "limit", 15).clamp(1, 100));
    let page: Vec<Value> = hits.iter().skip(offset).take(limit).map(|p| provider_summary(p, latest(p))).collect();
    ok(json!({"meta": offset_meta(offset, limit, hits.len()), "providers": page}))
}

fn provider_detail(p: &Provider, v: &ProviderVersion) -> Value {
    let mut out = provider_summary(p, v);
    out["versions"] = json!(p.versions.iter().map(|v| v.version).collect::<Vec<_>>());
    out["docs"] = json!(
        v.docs
            .iter()
            .map(|d| json!({
                "id": d.id.to_string(),
                "title": d.title,
                "path": doc_path(p, d),
                "slug": d.slug,
                "category": d.category,
                "subcategory": d.subcategory,
                "language": "hcl",
            }))
            .collect::<Vec<_>>()
    );
    out
}

fn doc_path(p: &Provider, d: &Doc) -> String {
    let dir = match d.category {
        "resources" => "r",
        "data-sources" => "d",
        other => other,
    };
    format!("website/docs/{dir}/{}.html.markdown", d.slug.trim_start_matches(&format!("{}_", p.name)))
}

async fn provider_latest(Path((ns, name)): Path<(String, String)>) -> Response {
    let providers = seed::providers();
    match find_provider(&providers, &ns, &name) {
        Some(p) => ok(provider_detail(p, latest(p))),
        None => not_found(),
    }
}

async fn provider_version(Path((ns, name, version)): Path<(String, String, String)>) -> Response {
    let providers = seed::providers();
    let found = find_provider(&providers, &ns, &name).and_then(|p| Some((p, p.versions.iter().find(|v| v.version == version)?)));
    match found {
        Some((p, v)) => ok(provider_detail(p, v)),
        None => not_found(),
    }
}

/// `GET /v2/providers/:ns/:name?include=provider-versions`.
async fn provider_v2(Path((ns, name)): Path<(String, String)>, q: QueryParams) -> Response {
    let providers = seed::providers();
    let Some(p) = find_provider(&providers, &ns, &name) else { return not_found() };
    let mut doc = json!({
        "data": {
            "type": "providers",
            "id": p.id.to_string(),
            "attributes": {
                "alias": p.name, "description": p.description, "downloads": p.downloads, "featured": false,
                "full-name": format!("{}/{}", p.namespace, p.name), "logo-url": format!("/images/providers/{}.png", p.name),
                "name": p.name, "namespace": p.namespace, "owner-name": "", "robots-noindex": false, "source": p.source,
                "tier": p.tier, "unlisted": false, "warning": "",
            },
            "relationships": {"provider-versions": {
                "data": p.versions.iter().map(|v| json!({"type": "provider-versions", "id": v.id.to_string()})).collect::<Vec<_>>(),
                "links": {"related": format!("/v2/providers/{}/provider-versions", p.id)},
            }},
            "links": {"self": format!("/v2/providers/{}", p.id)},
        }
    });
    if q.get("include").is_some_and(|i| i.split(',').any(|x| x == "provider-versions")) {
        doc["included"] = json!(
            p.versions
                .iter()
                .map(|v| json!({
                    "type": "provider-versions",
                    "id": v.id.to_string(),
                    "attributes": {"description": p.description, "downloads": 1000, "published-at": v.published_at,
                                   "tag": format!("v{}", v.version), "version": v.version},
                    "links": {"self": format!("/v2/provider-versions/{}", v.id)},
                }))
                .collect::<Vec<_>>()
        );
    }
    ok(doc)
}

fn doc_attributes(p: &Provider, d: &Doc) -> Value {
    json!({
        "category": d.category, "language": "hcl", "path": doc_path(p, d), "slug": d.slug,
        "subcategory": if d.subcategory.is_empty() { Value::Null } else { json!(d.subcategory) },
        "title": d.title, "truncated": false,
    })
}

/// `GET /v2/provider-docs?filter[provider-version]=&filter[category]=&filter[slug]=&filter[language]=&page[...]`.
async fn provider_docs(q: QueryParams) -> Response {
    let providers = seed::providers();
    let Some(version_id) = q.non_empty("filter[provider-version]").and_then(|v| v.parse::<u64>().ok()) else {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"errors": ["filter[provider-version] is required"]}))).into_response();
    };
    let Some((p, v)) = providers.iter().find_map(|p| Some((p, p.versions.iter().find(|v| v.id == version_id)?))) else {
        return ok(
            json!({"data": [], "links": {}, "meta": {"pagination": {"page-size": 15, "current-page": 1, "next-page": null, "prev-page": null, "total-pages": 0, "total-count": 0}}}),
        );
    };
    let docs: Vec<&Doc> = v
        .docs
        .iter()
        .filter(|d| q.non_empty("filter[category]").is_none_or(|c| c == d.category))
        .filter(|d| q.non_empty("filter[slug]").is_none_or(|s| s == d.slug))
        .filter(|_| q.non_empty("filter[language]").is_none_or(|l| l == "hcl"))
        .collect();
    let size = number(&q, "page[size]", 15).clamp(1, 100);
    let page = number(&q, "page[number]", 1).max(1);
    let total_pages = docs.len().div_ceil(size);
    let data: Vec<Value> = docs
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|d| json!({"type": "provider-docs", "id": d.id.to_string(), "attributes": doc_attributes(p, d), "links": {"self": format!("/v2/provider-docs/{}", d.id)}}))
        .collect();
    ok(json!({
        "data": data,
        "links": {},
        "meta": {"pagination": {
            "page-size": size, "current-page": page,
            "next-page": if page < total_pages { json!(page + 1) } else { Value::Null },
            "prev-page": if page > 1 { json!(page - 1) } else { Value::Null },
            "total-pages": total_pages, "total-count": docs.len(),
        }},
    }))
}

/// A document's markdown with its front matter, as the registry stores it.
fn doc_content(d: &Doc) -> String {
    let front = format!(
        "---\nsubcategory: \"{}\"\nlayout: \"provider\"\npage_title: \"{}\"\ndescription: |-\n  {}\n---\n\n",
        d.subcategory, d.title, d.description
    );
    match d.body {
        Some(body) => format!("{front}{body}"),
        None => {
            let size = if d.slug == "enormous" { ENORMOUS_DOC_BYTES } else { BIG_DOC_BYTES };
            let line = "* `argument` - (Optional) An argument of a very large resource.\n";
            let mut text = format!("{front}# Resource: {}\n\n", d.title);
            while text.len() < size {
                text.push_str(line);
            }
            text
        }
    }
}

async fn provider_doc(Path(id): Path<String>) -> Response {
    let providers = seed::providers();
    let Ok(id) = id.parse::<u64>() else { return not_found() };
    let found = providers.iter().find_map(|p| p.versions.iter().flat_map(|v| &v.docs).find(|d| d.id == id).map(|d| (p, d)));
    let Some((p, d)) = found else { return not_found() };
    let mut attributes = doc_attributes(p, d);
    attributes["content"] = json!(doc_content(d));
    ok(
        json!({"data": {"type": "provider-docs", "id": d.id.to_string(), "attributes": attributes, "links": {"self": format!("/v2/provider-docs/{}", d.id)}}}),
    )
}

// ---- modules --------------------------------------------------------------------------------

fn module_summary(m: &Module, version: &str) -> Value {
    json!({
        "id": format!("{}/{}/{}/{version}", m.namespace, m.name, m.provider),
        "owner": "",
        "namespace": m.namespace,
        "name": m.name,
        "version": version,
        "provider": m.provider,
        "provider_logo_url": format!("/images/providers/{}.png", m.provider),
        "description": m.description,
        "source": m.source,
        "tag": format!("v{version}"),
        "published_at": "2024-12-01T12:00:00.000000Z",
        "downloads": m.downloads,
        "verified": m.verified,
    })
}

fn latest_version(m: &Module) -> &'static str {
    m.versions.last().copied().unwrap_or("0.0.0")
}

async fn search_modules(q: QueryParams) -> Response {
    let modules = seed::modules();
    let query = q.get("q").unwrap_or("");
    let hits: Vec<&Module> = modules
        .iter()
        .filter(|m| matches(&[m.name, m.namespace, m.description], query))
        .filter(|m| q.non_empty("provider").is_none_or(|p| p == m.provider))
        .filter(|m| q.non_empty("namespace").is_none_or(|ns| ns == m.namespace))
        .filter(|m| q.get("verified") != Some("true") || m.verified)
        .collect();
    let (offset, limit) = (number(&q, "offset", 0), number(&q, "limit", 15).clamp(1, 100));
    let page: Vec<Value> = hits.iter().skip(offset).take(limit).map(|m| module_summary(m, latest_version(m))).collect();
    ok(json!({"meta": offset_meta(offset, limit, hits.len()), "modules": page}))
}

fn find_module<'m>(modules: &'m [Module], ns: &str, name: &str, provider: &str) -> Option<&'m Module> {
    modules.iter().find(|m| m.namespace == ns && m.name == name && m.provider == provider)
}

fn module_detail(m: &Module, version: &str) -> Value {
    let mut out = module_summary(m, version);
    let inputs: Vec<Value> = m
        .inputs
        .iter()
        .map(|i| json!({"name": i.name, "type": i.type_, "description": i.description, "default": i.default.unwrap_or(""), "required": i.default.is_none()}))
        .collect();
    out["root"] = json!({
        "path": "",
        "name": m.name,
        "readme": format!("# {}\n\n{}\n\n## Usage\n\n```hcl\nmodule \"{}\" {{\n  source = \"{}/{}/{}\"\n}}\n```\n", m.name, m.description, m.name, m.namespace, m.name, m.provider),
        "empty": false,
        "inputs": inputs,
        "outputs": m.outputs.iter().map(|(n, d)| json!({"name": n, "description": d})).collect::<Vec<_>>(),
        "dependencies": [],
        "provider_dependencies": [{"name": m.provider, "namespace": "hashicorp", "source": format!("hashicorp/{}", m.provider), "version": m.provider_constraint}],
        "resources": m.resources.iter().map(|(t, n)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
    });
    out["submodules"] = json!([{"path": "modules/vpc-endpoints", "name": "vpc-endpoints", "readme": "", "empty": false,
                                "inputs": [{"name": "vpc_id", "type": "string", "description": "The ID of the VPC", "default": "", "required": true}],
                                "outputs": [], "dependencies": [], "provider_dependencies": [], "resources": []}]);
    out["examples"] = json!([{"path": "examples/simple", "name": "simple", "readme": "", "empty": false, "inputs": [], "outputs": [],
                              "dependencies": [], "provider_dependencies": [], "resources": []}]);
    out["providers"] = json!([m.provider]);
    out["versions"] = json!(m.versions);
    out
}

async fn module_latest(Path((ns, name, provider)): Path<(String, String, String)>) -> Response {
    let modules = seed::modules();
    match find_module(&modules, &ns, &name, &provider) {
        Some(m) => ok(module_detail(m, latest_version(m))),
        None => not_found(),
    }
}

async fn module_version(Path((ns, name, provider, version)): Path<(String, String, String, String)>) -> Response {
    let modules = seed::modules();
    match find_module(&modules, &ns, &name, &provider).filter(|m| m.versions.contains(&version.as_str())) {
        Some(m) => ok(module_detail(m, &version)),
        None => not_found(),
    }
}

async fn module_versions(Path((ns, name, provider)): Path<(String, String, String)>) -> Response {
    let modules = seed::modules();
    let Some(m) = find_module(&modules, &ns, &name, &provider) else { return not_found() };
    let versions: Vec<Value> = m
        .versions
        .iter()
        .map(|v| json!({
            "version": v,
            "root": {"providers": [{"name": m.provider, "namespace": "", "source": format!("hashicorp/{}", m.provider), "version": m.provider_constraint}], "dependencies": []},
            "submodules": [],
        }))
        .collect();
    ok(json!({"modules": [{"source": format!("{}/{}/{}", m.namespace, m.name, m.provider), "versions": versions}]}))
}

// ---- policy libraries ------------------------------------------------------------------------------

fn library_version_attributes(l: &PolicyLibrary, version: &str) -> Value {
    json!({
        "description": l.title,
        "downloads": l.downloads,
        "published-at": "2024-06-01T00:00:00Z",
        "readme": format!("# {}\n\nUse this policy set in HCP Terraform:\n\n```hcl\npolicy \"{}\" {{\n  source = \"./{}.sentinel\"\n}}\n```\n", l.title, l.policies.first().map_or("p", |p| p.0), l.policies.first().map_or("p", |p| p.0)),
        "source": format!("https://github.com/hashicorp/policy-library-{}", l.name.to_lowercase()),
        "tag": format!("v{version}"),
        "version": version,
    })
}

/// `GET /v2/policies?page[size]=&page[number]=&include=latest-version`.
async fn policies(q: QueryParams) -> Response {
    let libraries = seed::policy_libraries();
    let size = number(&q, "page[size]", 15).clamp(1, 100);
    let page = number(&q, "page[number]", 1).max(1);
    let total_pages = libraries.len().div_ceil(size);
    let include = q.get("include").is_some_and(|i| i.split(',').any(|x| x == "latest-version"));
    let mut data = Vec::new();
    let mut included = Vec::new();
    for l in libraries.iter().skip((page - 1) * size).take(size) {
        let (latest_id, latest) = *l.versions.last().expect("every seeded library has a version");
        data.push(json!({
            "type": "policy-libraries",
            "id": l.id.to_string(),
            "attributes": {"downloads": l.downloads, "full-name": format!("{}/{}", l.namespace, l.name), "ingress": l.ingress,
                           "name": l.name, "namespace": l.namespace, "owner-name": "", "source": format!("https://github.com/hashicorp/policy-library-{}", l.name.to_lowercase()),
                           "title": l.title, "verified": l.verified},
            "relationships": {"latest-version": {
                "data": {"type": "policy-library-versions", "id": latest_id.to_string()},
                "links": {"related": format!("/v2/policies/{}/{}/{latest}", l.namespace, l.name)},
            }},
            "links": {"self": format!("/v2/policy-libraries/{}", l.id)},
        }));
        if include {
            included.push(
                json!({"type": "policy-library-versions", "id": latest_id.to_string(), "attributes": library_version_attributes(l, latest),
                                 "links": {"self": format!("/v2/policy-library-versions/{latest_id}")}}),
            );
        }
    }
    let mut doc = json!({
        "data": data,
        "links": {"first": "/v2/policies?page[number]=1", "last": format!("/v2/policies?page[number]={}", total_pages.max(1)),
                  "next": if page < total_pages { json!(format!("/v2/policies?page[number]={}", page + 1)) } else { Value::Null }, "prev": Value::Null},
        "meta": {"pagination": {"page-size": size, "current-page": page,
                                "next-page": if page < total_pages { json!(page + 1) } else { Value::Null },
                                "prev-page": if page > 1 { json!(page - 1) } else { Value::Null },
                                "total-pages": total_pages, "total-count": libraries.len()}},
    });
    if include {
        doc["included"] = Value::Array(included);
    }
    ok(doc)
}

/// `GET /v2/policies/:ns/:name/:version?include=policies,policy-modules,policy-library`.
async fn policy(Path((ns, name, version)): Path<(String, String, String)>) -> Response {
    let libraries = seed::policy_libraries();
    let found = libraries
        .iter()
        .find(|l| l.namespace == ns && l.name == name)
        .and_then(|l| Some((l, l.versions.iter().find(|(_, v)| *v == version)?)));
    let Some((l, (version_id, version))) = found else { return not_found() };
    let mut included: Vec<Value> = l
        .policies
        .iter()
        .enumerate()
        .map(|(i, (n, t, d))| json!({"type": "policies", "id": format!("{version_id}{i}"),
                                    "attributes": {"description": d, "downloads": 10, "full-name": format!("{}/{}/{n}", l.namespace, l.name), "name": n,
                                                   "shasum": "0".repeat(64), "shasum-type": "sha256", "title": t}}))
        .collect();
    included.extend(l.modules.iter().enumerate().map(|(i, (n, t))| {
        json!({"type": "policy-modules", "id": format!("m{version_id}{i}"),
               "attributes": {"description": t, "downloads": 5, "full-name": format!("{}/{}/{n}", l.namespace, l.name), "name": n,
                              "shasum": "0".repeat(64), "shasum-type": "sha256", "title": t}})
    }));
    included.push(json!({"type": "policy-libraries", "id": l.id.to_string(),
                         "attributes": {"full-name": format!("{}/{}", l.namespace, l.name), "ingress": l.ingress, "name": l.name,
                                        "namespace": l.namespace, "title": l.title, "verified": l.verified, "downloads": l.downloads}}));
    ok(json!({
        "data": {
            "type": "policy-library-versions",
            "id": version_id.to_string(),
            "attributes": library_version_attributes(l, version),
            "relationships": {
                "policies": {"data": l.policies.iter().enumerate().map(|(i, _)| json!({"type": "policies", "id": format!("{version_id}{i}")})).collect::<Vec<_>>()},
                "policy-library": {"data": {"type": "policy-libraries", "id": l.id.to_string()}},
                "policy-modules": {"data": l.modules.iter().enumerate().map(|(i, _)| json!({"type": "policy-modules", "id": format!("m{version_id}{i}")})).collect::<Vec<_>>()},
            },
            "links": {"self": format!("/v2/policies/{}/{}/{version}", l.namespace, l.name)},
        },
        "included": included,
    }))
}
