//! The public Terraform Registry tools: provider and module search and
//! details, provider documentation, policy libraries.
//!
//! Every namespace, name, version, slug and document id is checked for its
//! shape (see [`crate::registry`]) before any request, and goes into the path
//! percent-encoded: what a model passes can never change the request's target
//! (`../../v2/...`, `aws?x=`, a full URL are refused). Requests go through
//! [`Upstream::registry_get`]: the gateway's registry address, no
//! credentials, the egress guard, a size cap. Answers are flattened into
//! small records a model can use (no logos, no full version or document
//! lists), and list tools page like the others (`next_cursor`).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{Cx, ToolError, ToolErrorKind, encode_segment};
use crate::catalog::{DEFAULT_PAGE_SIZE, RegistryOp};
use crate::registry::{is_doc_id, is_name, is_slug, is_version, version_key};
use crate::upstream::ApiResponse;

/// Versions listed in a provider's or module's details (newest first).
const RECENT_VERSIONS: usize = 10;
/// Pages of 100 policy libraries read at most for a search.
const POLICY_PAGES: u64 = 5;
/// Characters of a module's readme kept in its details.
const README_EXCERPT: usize = 2000;

pub(crate) async fn call(cx: &Cx<'_, '_>, op: RegistryOp) -> Result<Value, ToolError> {
    match op {
        RegistryOp::SearchProviders => search_providers(cx).await,
        RegistryOp::ProviderDetails => provider_details(cx).await,
        RegistryOp::ProviderDocs => provider_docs(cx).await,
        RegistryOp::ProviderDoc => provider_doc(cx).await,
        RegistryOp::SearchModules => search_modules(cx).await,
        RegistryOp::ModuleDetails => module_details(cx).await,
        RegistryOp::ModuleVersions => module_versions(cx).await,
        RegistryOp::SearchPolicies => search_policies(cx).await,
        RegistryOp::PolicyDetails => policy_details(cx).await,
    }
}

// ---- arguments -------------------------------------------------------------------------

/// A namespace or name argument, checked (`None` when not given).
fn name_arg<'a>(cx: &'a Cx<'_, '_>, arg: &str) -> Result<Option<&'a str>, ToolError> {
    let Some(v) = cx.args.str(arg).map(str::trim) else { return Ok(None) };
    if is_name(v) {
        Ok(Some(v))
    } else {
        Err(ToolError::invalid(format!(
            "argument `{arg}` must be a registry name: 1 to 64 letters, digits, `-` or `_`, starting with a letter or digit \
             (e.g. `hashicorp`, `aws`, `terraform-aws-modules`); no `/`, `.`, `?` or URLs"
        )))
    }
}

fn required_name<'a>(cx: &'a Cx<'_, '_>, arg: &str) -> Result<&'a str, ToolError> {
    name_arg(cx, arg)?.ok_or_else(|| ToolError::invalid(format!("missing required argument `{arg}`")))
}

/// The `version` argument: `None` for absent or `latest`.
fn version_arg<'a>(cx: &'a Cx<'_, '_>) -> Result<Option<&'a str>, ToolError> {
    match cx.args.str("version").map(str::trim) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("latest") => Ok(None),
        Some(v) if is_version(v) => Ok(Some(v)),
        Some(_) => {
            Err(ToolError::invalid("argument `version` must be a version `x.y.z` (e.g. `5.80.0`, `1.0.0-beta.1`) or `latest`".into()))
        }
    }
}

/// Page number and size of a list call (cursor or arguments).
fn page(cx: &Cx<'_, '_>) -> (u64, u64) {
    (cx.args.page_number.unwrap_or(1).max(1), cx.args.page_size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, crate::catalog::MAX_PAGE_SIZE))
}

/// Longest search text sent to the registry.
const MAX_QUERY_CHARS: usize = 256;

/// The search text (trimmed; at most [`MAX_QUERY_CHARS`]); it only ever goes into a query value.
fn query_arg(cx: &Cx<'_, '_>) -> Result<String, ToolError> {
    let q = cx.args.str("query").unwrap_or_default().trim();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ToolError::invalid(format!("argument `query` is longer than {MAX_QUERY_CHARS} characters; use a few words")));
    }
    Ok(q.to_owned())
}

// ---- requests --------------------------------------------------------------------------

/// GET a registry path and return the JSON body of a successful answer.
async fn get(cx: &Cx<'_, '_>, path: &str, query: &[(String, String)]) -> Result<Value, ToolError> {
    let resp = cx.client.upstream().registry_get(path, query).await?;
    if !resp.is_success() {
        return Err(error(&resp, path));
    }
    resp.body.clone().ok_or_else(|| ToolError::upstream_msg(&format!("the Terraform Registry's answer to GET {path} is not JSON"), None))
}

fn error(resp: &ApiResponse, path: &str) -> ToolError {
    let status = resp.status;
    let reason = reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
    let detail = resp
        .body
        .as_ref()
        .and_then(|b| b.get("errors"))
        .and_then(Value::as_array)
        .map(|e| e.iter().filter_map(|x| x.as_str().or_else(|| x.get("detail").and_then(Value::as_str))).collect::<Vec<_>>().join("; "))
        .filter(|d| !d.is_empty())
        .map(|d| format!(": {}", crate::catalog::truncate(&d, 200)))
        .unwrap_or_default();
    let hint = match status {
        404 => " It does not exist there; check the namespace, name and version (the registry search tools find them).",
        429 => " The registry is rate limiting; wait a little before the next registry call.",
        s if s >= 500 => " The registry had a temporary problem; retry later.",
        _ => "",
    };
    let kind = if status == 429 { ToolErrorKind::RateLimited } else { ToolErrorKind::Upstream };
    ToolError {
        message: format!("the Terraform Registry answered HTTP {status} {reason} to GET {path}{detail}.{hint}"),
        status: Some(status),
        rate_limit: (!resp.rate_limit.is_empty()).then(|| resp.rate_limit.clone()),
        kind,
    }
}

fn q(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

// ---- result shapes -----------------------------------------------------------------------

fn s(v: &Value, key: &str) -> Value {
    v.get(key).filter(|x| !x.is_null()).cloned().unwrap_or(Value::Null)
}

/// Keep the listed keys (renamed `from -> to`), dropping nulls.
fn pick(v: &Value, keys: &[(&str, &str)]) -> Map<String, Value> {
    let mut m = Map::new();
    for (from, to) in keys {
        let x = s(v, from);
        if !x.is_null() {
            m.insert((*to).to_owned(), x);
        }
    }
    m
}

/// Our list shape: `{results, pagination, next_cursor}` (the cursor carries the query).
fn list(cx: &Cx<'_, '_>, results: Vec<Value>, page: u64, size: u64, total: Option<u64>, has_next: bool) -> Map<String, Value> {
    let next = has_next.then_some(page + 1);
    let mut m = Map::new();
    m.insert("results".into(), Value::Array(results));
    m.insert(
        "pagination".into(),
        json!({
            "page_number": page,
            "page_size": size,
            "total_count": total,
            "total_pages": total.map(|t| t.div_ceil(size).max(1)),
            "next_page": next,
        }),
    );
    m.insert("next_cursor".into(), next.map(|n| json!(cx.args.cursor_for(cx.tool, n, size))).unwrap_or(Value::Null));
    m
}

/// One page of a list held whole.
fn local_page(cx: &Cx<'_, '_>, items: Vec<Value>) -> Map<String, Value> {
    let (page, size) = page(cx);
    let total = items.len() as u64;
    let start = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let kept: Vec<Value> = items.into_iter().skip(start).take(size as usize).collect();
    let has_next = (start as u64).saturating_add(size) < total;
    list(cx, kept, page, size, Some(total), has_next)
}

/// Versions newest first.
fn sorted_versions<'v>(versions: impl Iterator<Item = &'v str>) -> Vec<String> {
    let mut v: Vec<String> = versions.map(str::to_owned).collect();
    v.sort_by_key(|x| std::cmp::Reverse(version_key(x)));
    v.dedup();
    v
}

/// The newest release of versions sorted newest first (a pre-release only
/// when there is nothing else), as Terraform picks for `>=` constraints.
fn newest_release(sorted: &[String]) -> Option<String> {
    sorted.iter().find(|v| version_key(v).3).or_else(|| sorted.first()).cloned()
}

fn strings<'v>(v: &'v Value, key: &str) -> impl Iterator<Item = &'v str> {
    v.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
}

fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max { text.to_owned() } else { format!("{}...", text.chars().take(max).collect::<String>()) }
}

// ---- providers ---------------------------------------------------------------------------

async fn search_providers(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let query = query_arg(cx)?;
    let namespace = name_arg(cx, "namespace")?;
    let (page, size) = page(cx);
    let mut pairs = vec![("q", query), ("offset", ((page - 1) * size).to_string()), ("limit", size.to_string())];
    if let Some(ns) = namespace {
        pairs.push(("namespace", ns.to_owned()));
    }
    let doc = get(cx, "/v1/providers", &q(&pairs)).await?;
    let results: Vec<Value> = doc
        .get("providers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let mut m = Map::new();
            if let (Some(ns), Some(name)) = (p.get("namespace").and_then(Value::as_str), p.get("name").and_then(Value::as_str)) {
                m.insert("full_name".into(), json!(format!("{ns}/{name}")));
            }
            m.extend(pick(
                p,
                &[
                    ("namespace", "namespace"),
                    ("name", "name"),
                    ("version", "latest_version"),
                    ("tier", "tier"),
                    ("description", "description"),
                    ("downloads", "downloads"),
                    ("published_at", "published_at"),
                    ("source", "source"),
                ],
            ));
            Value::Object(m)
        })
        .collect();
    let has_next = doc.get("meta").and_then(|m| m.get("next_offset")).is_some_and(|n| !n.is_null());
    Ok(Value::Object(list(cx, results, page, size, None, has_next)))
}

async fn provider_details(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let ns = required_name(cx, "namespace")?;
    let name = required_name(cx, "name")?;
    let version = version_arg(cx)?;
    let mut path = format!("/v1/providers/{}/{}", encode_segment(ns), encode_segment(name));
    if let Some(v) = version {
        path.push('/');
        path.push_str(&encode_segment(v));
    }
    let doc = get(cx, &path, &[]).await?;
    let versions = sorted_versions(strings(&doc, "versions"));
    let this = doc.get("version").and_then(Value::as_str).unwrap_or_default().to_owned();
    // Unpinned, the registry's answer is its latest version.
    let latest = if version.is_none() { this.clone() } else { newest_release(&versions).unwrap_or_else(|| this.clone()) };
    let mut docs_by_category: HashMap<String, u64> = HashMap::new();
    for d in doc.get("docs").and_then(Value::as_array).into_iter().flatten() {
        if d.get("language").and_then(Value::as_str).is_none_or(|l| l == "hcl")
            && let Some(c) = d.get("category").and_then(Value::as_str)
        {
            *docs_by_category.entry(c.to_owned()).or_default() += 1;
        }
    }
    let mut m = Map::new();
    m.insert("full_name".into(), json!(format!("{ns}/{name}")));
    m.extend(pick(
        &doc,
        &[
            ("namespace", "namespace"),
            ("name", "name"),
            ("version", "version"),
            ("tier", "tier"),
            ("description", "description"),
            ("source", "source"),
            ("published_at", "published_at"),
            ("downloads", "downloads"),
        ],
    ));
    m.insert("latest_version".into(), json!(latest));
    m.insert("is_latest".into(), json!(this == latest));
    m.insert("versions_count".into(), json!(versions.len()));
    m.insert("recent_versions".into(), json!(versions.iter().take(RECENT_VERSIONS).collect::<Vec<_>>()));
    let mut cats: Vec<(String, u64)> = docs_by_category.into_iter().collect();
    cats.sort();
    m.insert("docs_by_category".into(), Value::Object(cats.into_iter().map(|(k, v)| (k, json!(v))).collect()));
    let minor = this.split('.').take(2).collect::<Vec<_>>().join(".");
    m.insert(
        "required_providers".into(),
        json!(format!("{} = {{ source = \"{ns}/{name}\", version = \"~> {minor}\" }}", name.to_ascii_lowercase())),
    );
    m.insert(
        "hint".into(),
        json!("documentation pages: list_all_hashicorp_terraform_registry_provider_docs (category and slug), then get_single_hashicorp_terraform_registry_provider_doc_by_id"),
    );
    Ok(Value::Object(m))
}

/// The registry's numeric id of a provider version (`version` or the latest).
async fn provider_version_id(cx: &Cx<'_, '_>, ns: &str, name: &str, version: Option<&str>) -> Result<(String, String), ToolError> {
    let path = format!("/v2/providers/{}/{}", encode_segment(ns), encode_segment(name));
    let doc = get(cx, &path, &q(&[("include", "provider-versions".into())])).await?;
    let found: Vec<(&str, &str)> = doc
        .get("included")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|i| i.get("type").and_then(Value::as_str) == Some("provider-versions"))
        .filter_map(|i| Some((i.get("id").and_then(Value::as_str)?, i.get("attributes")?.get("version").and_then(Value::as_str)?)))
        .collect();
    let wanted = match version {
        Some(v) => found.iter().find(|(_, x)| x.trim_start_matches('v') == v.trim_start_matches('v')),
        None => found
            .iter()
            .filter(|(_, x)| version_key(x).3)
            .max_by_key(|(_, x)| version_key(x))
            .or_else(|| found.iter().max_by_key(|(_, x)| version_key(x))),
    };
    match wanted {
        Some((id, v)) => Ok(((*id).to_owned(), (*v).to_owned())),
        None => Err(ToolError::upstream_msg(
            &format!(
                "the Terraform Registry has no version {} of provider {ns}/{name}; get_single_hashicorp_terraform_registry_provider_by_name lists its versions",
                version.unwrap_or("(any)")
            ),
            Some(404),
        )),
    }
}

async fn provider_docs(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let ns = required_name(cx, "namespace")?;
    let name = required_name(cx, "name")?;
    let version = version_arg(cx)?;
    let category = cx.args.str("category").unwrap_or("resources");
    let slug = match cx.args.str("slug").map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => {
            let lower = s.to_ascii_lowercase();
            let bare = lower.strip_prefix(&format!("{}_", name.to_ascii_lowercase())).map(str::to_owned).unwrap_or(lower);
            if !is_slug(&bare) {
                return Err(ToolError::invalid(
                    "argument `slug` must be a resource or data source name: letters, digits, `_` and `-` (e.g. `instance` or `aws_instance`)"
                        .into(),
                ));
            }
            Some(bare)
        }
    };
    let (version_id, version) = provider_version_id(cx, ns, name, version).await?;
    let (page, size) = page(cx);
    let mut pairs = vec![
        ("filter[provider-version]", version_id),
        ("filter[category]", category.to_owned()),
        ("filter[language]", "hcl".to_owned()),
        ("page[number]", page.to_string()),
        ("page[size]", size.to_string()),
    ];
    if let Some(slug) = &slug {
        pairs.push(("filter[slug]", slug.clone()));
    }
    let doc = get(cx, "/v2/provider-docs", &q(&pairs)).await?;
    let results: Vec<Value> = doc
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|d| {
            let mut m = Map::new();
            m.insert("provider_doc_id".into(), s(d, "id"));
            if let Some(a) = d.get("attributes") {
                m.extend(pick(
                    a,
                    &[("title", "title"), ("category", "category"), ("slug", "slug"), ("subcategory", "subcategory"), ("path", "path")],
                ));
            }
            Value::Object(m)
        })
        .collect();
    let meta = doc.get("meta").and_then(|m| m.get("pagination"));
    let total = meta.and_then(|p| p.get("total-count")).and_then(Value::as_u64);
    let has_next = match meta {
        Some(p) => p.get("next-page").is_some_and(|n| !n.is_null()),
        None => results.len() as u64 >= size,
    };
    let empty = results.is_empty();
    let mut m = list(cx, results, page, size, total, has_next);
    m.insert("provider".into(), json!({"full_name": format!("{ns}/{name}"), "version": version}));
    if empty {
        m.insert(
            "hint".into(),
            json!("no documents match; try another category (resources, data-sources, ...) or leave out slug to list them all"),
        );
    }
    Ok(Value::Object(m))
}

/// A document's YAML front matter (`---` ... `---`) split from its body;
/// its `description` is kept.
fn split_front_matter(content: &str) -> (Option<String>, &str) {
    let Some(rest) = content.strip_prefix("---\n") else { return (None, content) };
    let Some(end) = rest.find("\n---") else { return (None, content) };
    let front = &rest[..end];
    let body = rest[end + 4..].trim_start_matches(['-', '\n', '\r']);
    let mut description = Vec::new();
    let mut inside = false;
    for line in front.lines() {
        if let Some(v) = line.strip_prefix("description:") {
            inside = true;
            let v = v.trim().trim_start_matches("|-").trim_start_matches('|').trim().trim_matches('"');
            if !v.is_empty() {
                description.push(v.to_owned());
            }
        } else if inside && line.starts_with([' ', '\t']) {
            description.push(line.trim().to_owned());
        } else {
            inside = false;
        }
    }
    let description = description.join(" ");
    ((!description.is_empty()).then_some(description), body)
}

async fn provider_doc(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let id = cx.args.str("provider_doc_id").map(str::trim).unwrap_or_default();
    if !is_doc_id(id) {
        return Err(ToolError::invalid(
            "argument `provider_doc_id` must be the digits list_all_hashicorp_terraform_registry_provider_docs returned (e.g. `8814952`)"
                .into(),
        ));
    }
    let doc = get(cx, &format!("/v2/provider-docs/{}", encode_segment(id)), &[]).await?;
    let data = doc.get("data").cloned().unwrap_or(Value::Null);
    let attrs = data.get("attributes").cloned().unwrap_or(Value::Null);
    let mut m = Map::new();
    m.insert("provider_doc_id".into(), s(&data, "id"));
    m.extend(pick(
        &attrs,
        &[("title", "title"), ("category", "category"), ("slug", "slug"), ("subcategory", "subcategory"), ("path", "path")],
    ));
    if attrs.get("truncated").and_then(Value::as_bool) == Some(true) {
        m.insert("registry_truncated".into(), json!(true));
    }
    let content = attrs.get("content").and_then(Value::as_str).unwrap_or_default();
    let (description, body) = split_front_matter(content);
    if let Some(d) = description {
        m.insert("description".into(), json!(d));
    }
    m.insert("content".into(), json!(body));
    Ok(Value::Object(m))
}

// ---- modules ---------------------------------------------------------------------------------

fn module_record(v: &Value) -> Value {
    Value::Object(pick(
        v,
        &[
            ("id", "id"),
            ("namespace", "namespace"),
            ("name", "name"),
            ("provider", "provider"),
            ("version", "latest_version"),
            ("description", "description"),
            ("downloads", "downloads"),
            ("verified", "verified"),
            ("published_at", "published_at"),
            ("source", "source"),
        ],
    ))
}

async fn search_modules(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let query = query_arg(cx)?;
    let provider = name_arg(cx, "provider")?;
    let namespace = name_arg(cx, "namespace")?;
    let (page, size) = page(cx);
    let mut pairs = vec![("q", query), ("offset", ((page - 1) * size).to_string()), ("limit", size.to_string())];
    if let Some(p) = provider {
        pairs.push(("provider", p.to_owned()));
    }
    if let Some(ns) = namespace {
        pairs.push(("namespace", ns.to_owned()));
    }
    if cx.args.get("verified").and_then(Value::as_bool) == Some(true) {
        pairs.push(("verified", "true".to_owned()));
    }
    let doc = get(cx, "/v1/modules/search", &q(&pairs)).await?;
    let results: Vec<Value> = doc.get("modules").and_then(Value::as_array).into_iter().flatten().map(module_record).collect();
    let has_next = doc.get("meta").and_then(|m| m.get("next_offset")).is_some_and(|n| !n.is_null());
    Ok(Value::Object(list(cx, results, page, size, None, has_next)))
}

fn module_path(cx: &Cx<'_, '_>) -> Result<(String, String), ToolError> {
    let ns = required_name(cx, "namespace")?;
    let name = required_name(cx, "name")?;
    let provider = required_name(cx, "provider")?;
    Ok((
        format!("{ns}/{name}/{provider}"),
        format!("/v1/modules/{}/{}/{}", encode_segment(ns), encode_segment(name), encode_segment(provider)),
    ))
}

fn inputs(part: &Value) -> Vec<Value> {
    part.get("inputs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|i| {
            let mut m = pick(i, &[("name", "name"), ("type", "type"), ("description", "description"), ("required", "required")]);
            // A default is meaningful even when it is `null`-like text; the registry sends it as a JSON string.
            if let Some(d) = i.get("default").filter(|d| !d.is_null() && d.as_str() != Some(""))
                && i.get("required").and_then(Value::as_bool) != Some(true)
            {
                m.insert("default".into(), d.clone());
            }
            Value::Object(m)
        })
        .collect()
}

fn outputs(part: &Value) -> Vec<Value> {
    part.get("outputs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|o| Value::Object(pick(o, &[("name", "name"), ("description", "description")])))
        .collect()
}

async fn module_details(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let (full_name, mut path) = module_path(cx)?;
    let pinned = version_arg(cx)?;
    if let Some(v) = pinned {
        path.push('/');
        path.push_str(&encode_segment(v));
    }
    let doc = get(cx, &path, &[]).await?;
    let root = doc.get("root").cloned().unwrap_or(Value::Null);
    let versions = sorted_versions(strings(&doc, "versions"));
    let this = doc.get("version").and_then(Value::as_str).unwrap_or_default().to_owned();
    let latest = if pinned.is_none() { this.clone() } else { newest_release(&versions).unwrap_or_else(|| this.clone()) };
    let mut m = pick(
        &doc,
        &[
            ("id", "id"),
            ("namespace", "namespace"),
            ("name", "name"),
            ("provider", "provider"),
            ("version", "version"),
            ("description", "description"),
            ("source", "source"),
            ("published_at", "published_at"),
            ("downloads", "downloads"),
            ("verified", "verified"),
        ],
    );
    m.insert("latest_version".into(), json!(latest));
    m.insert("is_latest".into(), json!(this == latest));
    m.insert("versions_count".into(), json!(versions.len()));
    m.insert("recent_versions".into(), json!(versions.iter().take(RECENT_VERSIONS).collect::<Vec<_>>()));
    m.insert(
        "usage".into(),
        json!(format!(
            "module \"{}\" {{\n  source  = \"{full_name}\"\n  version = \"{this}\"\n}}",
            doc.get("name").and_then(Value::as_str).unwrap_or("this")
        )),
    );
    let ins = inputs(&root);
    let required: Vec<Value> =
        ins.iter().filter(|i| i.get("required").and_then(Value::as_bool) == Some(true)).filter_map(|i| i.get("name").cloned()).collect();
    m.insert("required_inputs".into(), Value::Array(required));
    m.insert("inputs".into(), Value::Array(ins));
    m.insert("outputs".into(), Value::Array(outputs(&root)));
    m.insert(
        "provider_dependencies".into(),
        Value::Array(
            root.get("provider_dependencies")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| {
                    Value::Object(pick(p, &[("name", "name"), ("namespace", "namespace"), ("source", "source"), ("version", "version")]))
                })
                .collect(),
        ),
    );
    m.insert(
        "resources".into(),
        Value::Array(
            root.get("resources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| Some(json!(format!("{}.{}", r.get("type")?.as_str()?, r.get("name")?.as_str()?))))
                .collect(),
        ),
    );
    let parts = |key: &str| -> Vec<Value> {
        doc.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| {
                json!({
                    "path": s(p, "path"),
                    "inputs": p.get("inputs").and_then(Value::as_array).map_or(0, Vec::len),
                    "outputs": p.get("outputs").and_then(Value::as_array).map_or(0, Vec::len),
                })
            })
            .collect()
    };
    m.insert("submodules".into(), Value::Array(parts("submodules")));
    m.insert("examples".into(), Value::Array(parts("examples")));
    if let Some(readme) = root.get("readme").and_then(Value::as_str).filter(|r| !r.trim().is_empty()) {
        m.insert("readme_excerpt".into(), json!(excerpt(readme, README_EXCERPT)));
    }
    Ok(Value::Object(m))
}

async fn module_versions(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let (full_name, path) = module_path(cx)?;
    let doc = get(cx, &format!("{path}/versions"), &[]).await?;
    let mut by_version: Vec<(String, Value)> = Vec::new();
    for module in doc.get("modules").and_then(Value::as_array).into_iter().flatten() {
        for v in module.get("versions").and_then(Value::as_array).into_iter().flatten() {
            let Some(version) = v.get("version").and_then(Value::as_str) else { continue };
            let providers: Vec<Value> = v
                .get("root")
                .and_then(|r| r.get("providers"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let src = p.get("source").and_then(Value::as_str).filter(|s| !s.is_empty()).or_else(|| p.get("name")?.as_str())?;
                    let constraint = p.get("version").and_then(Value::as_str).unwrap_or_default();
                    Some(json!(if constraint.is_empty() { src.to_owned() } else { format!("{src} {constraint}") }))
                })
                .collect();
            by_version.push((version.to_owned(), json!({"version": version, "providers": providers})));
        }
    }
    by_version.sort_by_key(|(v, _)| std::cmp::Reverse(version_key(v)));
    by_version.dedup_by(|a, b| a.0 == b.0);
    let sorted: Vec<String> = by_version.iter().map(|(v, _)| v.clone()).collect();
    let latest = newest_release(&sorted);
    let mut m = local_page(cx, by_version.into_iter().map(|(_, v)| v).collect());
    m.insert("module".into(), json!(full_name));
    m.insert("latest_version".into(), json!(latest));
    Ok(Value::Object(m))
}

// ---- policy libraries --------------------------------------------------------------------------

/// Every policy library (a few pages of 100), as flat records.
async fn all_policy_libraries(cx: &Cx<'_, '_>) -> Result<Vec<Value>, ToolError> {
    let mut out = Vec::new();
    for page in 1..=POLICY_PAGES {
        let doc = get(
            cx,
            "/v2/policies",
            &q(&[("page[size]", "100".into()), ("page[number]", page.to_string()), ("include", "latest-version".into())]),
        )
        .await?;
        let versions: HashMap<&str, &Value> = doc
            .get("included")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|i| Some((i.get("id")?.as_str()?, i.get("attributes")?)))
            .collect();
        let data = doc.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
        for d in &data {
            let Some(a) = d.get("attributes") else { continue };
            let mut m = pick(
                a,
                &[
                    ("full-name", "full_name"),
                    ("namespace", "namespace"),
                    ("name", "name"),
                    ("title", "title"),
                    ("verified", "verified"),
                    ("downloads", "downloads"),
                    ("source", "source"),
                ],
            );
            let latest = d.get("relationships").and_then(|r| r.get("latest-version"));
            let version = latest
                .and_then(|l| l.get("data"))
                .and_then(|d| d.get("id"))
                .and_then(Value::as_str)
                .and_then(|id| versions.get(id))
                .and_then(|a| a.get("version"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    let link = latest?.get("links")?.get("related")?.as_str()?;
                    link.rsplit('/').next().filter(|v| is_version(v)).map(str::to_owned)
                });
            if let Some(v) = version {
                m.insert("latest_version".into(), json!(v));
            }
            out.push(Value::Object(m));
        }
        let next = doc.get("meta").and_then(|m| m.get("pagination")).and_then(|p| p.get("next-page")).is_some_and(|n| !n.is_null())
            || doc.get("links").and_then(|l| l.get("next")).is_some_and(|n| !n.is_null());
        if !next || data.is_empty() {
            break;
        }
    }
    Ok(out)
}

async fn search_policies(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let words: Vec<String> = query_arg(cx)?.split_whitespace().take(16).map(str::to_ascii_lowercase).collect();
    let mut libraries = all_policy_libraries(cx).await?;
    libraries.retain(|l| {
        let text = ["full_name", "title"]
            .iter()
            .filter_map(|k| l.get(*k).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase();
        words.iter().all(|w| text.contains(w.as_str()))
    });
    Ok(Value::Object(local_page(cx, libraries)))
}

async fn policy_details(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let ns = required_name(cx, "namespace")?;
    let name = required_name(cx, "name")?;
    let full_name = format!("{ns}/{name}");
    let version = match version_arg(cx)? {
        Some(v) => v.to_owned(),
        None => all_policy_libraries(cx)
            .await?
            .iter()
            .find(|l| l.get("full_name").and_then(Value::as_str).is_some_and(|f| f.eq_ignore_ascii_case(&full_name)))
            .and_then(|l| l.get("latest_version").and_then(Value::as_str).map(str::to_owned))
            .ok_or_else(|| {
                ToolError::upstream_msg(
                    &format!("the Terraform Registry has no policy library {full_name}; list_all_hashicorp_terraform_registry_policy_libraries finds them"),
                    Some(404),
                )
            })?,
    };
    let path = format!("/v2/policies/{}/{}/{}", encode_segment(ns), encode_segment(name), encode_segment(&version));
    let doc = get(cx, &path, &q(&[("include", "policies,policy-modules,policy-library".into())])).await?;
    let data = doc.get("data").cloned().unwrap_or(Value::Null);
    let attrs = data.get("attributes").cloned().unwrap_or(Value::Null);
    let mut m = Map::new();
    m.insert("full_name".into(), json!(full_name));
    m.insert("namespace".into(), json!(ns));
    m.insert("name".into(), json!(name));
    m.extend(pick(
        &attrs,
        &[
            ("version", "version"),
            ("description", "description"),
            ("source", "source"),
            ("published_at", "published_at"),
            ("downloads", "downloads"),
        ],
    ));
    let mut policies = Vec::new();
    let mut modules = Vec::new();
    for i in doc.get("included").and_then(Value::as_array).into_iter().flatten() {
        let a = i.get("attributes").cloned().unwrap_or(Value::Null);
        match i.get("type").and_then(Value::as_str) {
            Some("policies") => {
                policies.push(Value::Object(pick(&a, &[("name", "name"), ("title", "title"), ("description", "description")])))
            }
            Some("policy-modules") => {
                modules.push(Value::Object(pick(&a, &[("name", "name"), ("title", "title"), ("description", "description")])))
            }
            Some("policy-libraries") => {
                for (k, v) in pick(&a, &[("title", "title"), ("verified", "verified"), ("ingress", "ingress")]) {
                    m.insert(k, v);
                }
            }
            _ => {}
        }
    }
    m.insert("policies_count".into(), json!(policies.len()));
    m.insert("policies".into(), Value::Array(policies));
    m.insert("policy_modules".into(), Value::Array(modules));
    if let Some(readme) = attrs.get("readme").and_then(Value::as_str) {
        m.insert("readme".into(), json!(readme));
    }
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_split_and_its_description_kept() {
        let content = "---\nsubcategory: \"EC2\"\nlayout: \"aws\"\ndescription: |-\n  Provides an EC2 instance resource.\n  It can be created.\n---\n\n# Resource: aws_instance\n";
        let (d, body) = split_front_matter(content);
        assert_eq!(d.as_deref(), Some("Provides an EC2 instance resource. It can be created."));
        assert_eq!(body, "# Resource: aws_instance\n");
        assert_eq!(split_front_matter("# no front matter"), (None, "# no front matter"));
        assert_eq!(split_front_matter("---\nunterminated"), (None, "---\nunterminated"));
    }

    #[test]
    fn the_newest_release_wins_over_a_newer_pre_release() {
        let sorted = sorted_versions(["5.80.0", "6.0.0-beta1", "5.79.0"].into_iter());
        assert_eq!(newest_release(&sorted).as_deref(), Some("5.80.0"));
        assert_eq!(newest_release(&sorted_versions(["1.0.0-rc1"].into_iter())).as_deref(), Some("1.0.0-rc1"));
        assert_eq!(newest_release(&[]), None);
    }

    #[test]
    fn versions_sorted_and_deduplicated() {
        assert_eq!(sorted_versions(["1.0.0", "1.10.0", "1.2.0", "1.10.0"].into_iter()), ["1.10.0", "1.2.0", "1.0.0"]);
    }
}
