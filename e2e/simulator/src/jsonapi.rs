//! JSON:API translation: query parsing, pagination, body helpers and one
//! document builder per resource type. Attribute names and relationship
//! shapes follow HashiCorp's documented samples; `type` strings must match
//! exactly or the official Go client fails to decode.

use std::collections::BTreeMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::sim::Sim;
use crate::store::{
    LockHolder, Organization, Phase, Policy, Project, Run, RunStatus, StateOutput, StateVersion, Store, Time, User, Workspace,
};

pub const MEDIA_TYPE: &str = "application/vnd.api+json";
pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

/// A JSON:API response with the right media type.
pub fn respond(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    resp
}

pub fn ok(body: Value) -> Response {
    respond(StatusCode::OK, body)
}

/// `created-at` style timestamps: millisecond precision with a `Z`, the only
/// form the Go client's `iso8601` decoder accepts.
pub fn ts(t: Time) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `status-timestamps` style: seconds with an explicit offset, as in the docs.
pub fn ts_status(t: Time) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

// ---------------------------------------------------------------- queries

/// Decoded query string. Never rejects: unknown or malformed parameters are
/// simply not found, like the real API ignores them.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(pub Vec<(String, String)>);

impl QueryParams {
    pub fn parse(raw: &str) -> Self {
        QueryParams(url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A non-empty value, trimmed.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Comma-separated list parameter (`filter[status]=planned,applied`).
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key).map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
    }

    pub fn page(&self) -> Page {
        let parse = |k: &str| self.get(k).and_then(|v| v.trim().parse::<usize>().ok()).filter(|n| *n > 0);
        Page { number: parse("page[number]").unwrap_or(1), size: parse("page[size]").unwrap_or(DEFAULT_PAGE_SIZE).min(MAX_PAGE_SIZE) }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(QueryParams::parse(parts.uri.query().unwrap_or("")))
    }
}

// ------------------------------------------------------------- pagination

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: usize,
    pub size: usize,
}

impl Page {
    pub fn total_pages(&self, total: usize) -> usize {
        total.div_ceil(self.size).max(1)
    }

    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = (self.number - 1).saturating_mul(self.size).min(items.len());
        let end = start.saturating_add(self.size).min(items.len());
        &items[start..end]
    }
}

/// A list document for one page of `items` (already rendered), with the
/// `links` and `meta.pagination` blocks that clients rely on.
pub fn paginated<T>(sim: &Sim, path: &str, query: &QueryParams, items: &[T], render: impl Fn(&T) -> Value) -> Value {
    let page = query.page();
    let total = items.len();
    let pages = page.total_pages(total);
    let data: Vec<Value> = page.slice(items).iter().map(render).collect();
    let link = |n: usize| page_link(sim, path, query, n, page.size);
    let prev = (page.number > 1).then(|| (page.number - 1).min(pages));
    let next = (page.number < pages).then_some(page.number + 1);
    json!({
        "data": data,
        "links": {
            "self": link(page.number),
            "first": link(1),
            "prev": prev.map(link),
            "next": next.map(link),
            "last": link(pages),
        },
        "meta": {
            "pagination": {
                "current-page": page.number,
                "page-size": page.size,
                "prev-page": prev,
                "next-page": next,
                "total-pages": pages,
                "total-count": total,
            }
        }
    })
}

fn page_link(sim: &Sim, path: &str, query: &QueryParams, number: usize, size: usize) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &query.0 {
        if k != "page[number]" && k != "page[size]" {
            ser.append_pair(k, v);
        }
    }
    ser.append_pair("page[number]", &number.to_string());
    ser.append_pair("page[size]", &size.to_string());
    format!("{}{}?{}", sim.api_base, path, ser.finish())
}

// ------------------------------------------------------------ request bodies

/// Parses a request body as JSON. An empty body is `Value::Null`.
pub fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("The request body is not valid JSON: {e}")))
}

/// `data` of a JSON:API document, which must be an object.
pub fn primary_data(doc: &Value) -> Result<&Map<String, Value>, ApiError> {
    doc.get("data").and_then(Value::as_object).ok_or_else(|| ApiError::unprocessable("The request document must have a 'data' object."))
}

/// `data.attributes`, empty when absent.
pub fn attributes(data: &Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    match data.get("attributes") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(ApiError::unprocessable("'data.attributes' must be an object.")),
    }
}

/// Reads an optional attribute; a present value of the wrong type is a 422.
pub fn attr_bool(attrs: &Map<String, Value>, key: &str) -> Result<Option<bool>, ApiError> {
    match attrs.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::unprocessable(format!("Attribute '{key}' must be a boolean."))),
    }
}

pub fn attr_string(attrs: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match attrs.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::unprocessable(format!("Attribute '{key}' must be a string."))),
    }
}

pub fn attr_strings(attrs: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match attrs.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| ApiError::unprocessable(format!("Attribute '{key}' must be a list of strings."))),
        Some(_) => Err(ApiError::unprocessable(format!("Attribute '{key}' must be a list of strings."))),
    }
}

/// `data.relationships.<name>.data.id`, if present.
pub fn relationship_id(data: &Map<String, Value>, name: &str) -> Option<String> {
    data.get("relationships")?.get(name)?.get("data")?.get("id")?.as_str().map(str::to_string)
}

// --------------------------------------------------------------- builders

fn rel(type_: &str, id: Option<&str>) -> Value {
    match id {
        Some(id) => json!({"data": {"id": id, "type": type_}}),
        None => json!({"data": null}),
    }
}

fn timestamps(entries: &[(&'static str, Time)]) -> Value {
    // Later entries win: a key recorded twice keeps its latest time.
    let map: BTreeMap<&str, String> = entries.iter().map(|(k, t)| (*k, ts_status(*t))).collect();
    json!(map)
}

pub fn organization(org: &Organization) -> Value {
    json!({
        "id": org.name,
        "type": "organizations",
        "attributes": {
            "external-id": org.external_id,
            "created-at": ts(org.created_at),
            "email": org.email,
            "session-timeout": null,
            "session-remember": null,
            "collaborator-auth-policy": "password",
            "plan-expired": false,
            "plan-expires-at": null,
            "plan-is-trial": false,
            "plan-is-enterprise": false,
            "plan-identifier": "standard",
            "cost-estimation-enabled": true,
            "send-passing-statuses-for-untriggered-speculative-plans": false,
            "aggregated-commit-status-enabled": true,
            "speculative-plan-management-enabled": true,
            "allow-force-delete-workspaces": false,
            "name": org.name,
            "permissions": {
                "can-update": true,
                "can-destroy": true,
                "can-access-via-teams": true,
                "can-create-module": true,
                "can-create-team": true,
                "can-create-workspace": true,
                "can-manage-users": true,
                "can-manage-subscription": true,
                "can-manage-sso": false,
                "can-update-oauth": true,
                "can-update-sentinel": true,
                "can-update-ssh-keys": true,
                "can-update-api-token": true,
                "can-traverse": true,
                "can-start-trial": false,
                "can-update-agent-pools": true,
                "can-manage-tags": true,
                "can-manage-varsets": true,
                "can-read-varsets": true,
                "can-manage-public-providers": false,
                "can-create-provider": true,
                "can-manage-public-modules": false,
                "can-manage-custom-providers": false,
                "can-manage-run-tasks": true,
                "can-read-run-tasks": true,
                "can-create-project": true
            },
            "fair-run-queuing-enabled": true,
            "saml-enabled": false,
            "owners-team-saml-role-id": null,
            "two-factor-conformant": false,
            "assessments-enforced": false,
            "default-execution-mode": "remote"
        },
        "relationships": {
            "default-agent-pool": {"data": null},
            "default-project": {"data": {"id": org.default_project_id, "type": "projects"}},
            "oauth-tokens": {"links": {"related": format!("/api/v2/organizations/{}/oauth-tokens", org.name)}},
            "authentication-token": {"links": {"related": format!("/api/v2/organizations/{}/authentication-token", org.name)}},
            "entitlement-set": {
                "data": {"id": org.external_id, "type": "entitlement-sets"},
                "links": {"related": format!("/api/v2/organizations/{}/entitlement-set", org.name)}
            },
            "subscription": {"links": {"related": format!("/api/v2/organizations/{}/subscription", org.name)}}
        },
        "links": {"self": format!("/api/v2/organizations/{}", org.name)}
    })
}

pub fn entitlement_set(org: &Organization) -> Value {
    json!({
        "id": org.external_id,
        "type": "entitlement-sets",
        "attributes": {
            "agents": true, "audit-logging": true, "configuration-designer": true,
            "cost-estimation": true, "global-run-tasks": true, "module-tests-generation": false,
            "operations": true, "policy-enforcement": true, "policy-limit": null,
            "policy-mandatory-enforcement-limit": null, "policy-set-limit": null,
            "private-module-registry": true, "private-policy-agents": false,
            "private-run-tasks": true, "private-vcs": false, "run-task-limit": null,
            "run-task-mandatory-enforcement-limit": null, "run-task-workspace-limit": null,
            "run-tasks": true, "self-serve-billing": false, "sentinel": true, "sso": true,
            "state-storage": true, "teams": true, "usage-reporting": true, "user-limit": null,
            "vcs-integrations": true, "versioned-policy-set-limit": null
        },
        "links": {"self": format!("/api/v2/entitlement-sets/{}", org.external_id)}
    })
}

pub fn project(p: &Project) -> Value {
    json!({
        "id": p.id,
        "type": "projects",
        "attributes": {
            "name": p.name,
            "description": p.description,
            "created-at": ts(p.created_at),
            "auto-destroy-activity-duration": null,
            "permissions": {
                "can-read": true, "can-update": true, "can-destroy": true,
                "can-create-workspace": true, "can-move-workspace": true
            }
        },
        "relationships": {"organization": {"data": {"id": p.org, "type": "organizations"}}},
        "links": {"self": format!("/api/v2/projects/{}", p.id)}
    })
}

pub fn user(u: &User) -> Value {
    json!({
        "id": u.id,
        "type": "users",
        "attributes": {
            "username": u.username,
            "email": u.email,
            "avatar-url": "",
            "is-service-account": false,
            "two-factor": {"enabled": false, "verified": false},
            "unconfirmed-email": null,
            "v2-only": false,
            "permissions": {"can-create-organizations": true, "can-change-email": true, "can-change-username": true}
        },
        "links": {"self": format!("/api/v2/users/{}", u.id)}
    })
}

pub fn workspace(ws: &Workspace, store: &Store) -> Value {
    let (readme_rel, assessment_rel) = crate::routes::workspace_insights::workspace_relationships(store, &ws.id);
    let sv = store.current_state_version(&ws.id);
    let latest = store.latest_run(&ws.id);
    let runs_count = store.runs.iter().filter(|r| r.workspace_id == ws.id).count();
    let locked_by = match ws.lock.as_ref().map(|l| &l.holder) {
        Some(LockHolder::User(id)) => json!({
            "data": {"id": id, "type": "users"},
            "links": {"related": format!("/api/v2/users/{id}")}
        }),
        Some(LockHolder::Run(id)) => json!({
            "data": {"id": id, "type": "runs"},
            "links": {"related": format!("/api/v2/runs/{id}")}
        }),
        None => json!({"data": null}),
    };
    let outputs: Vec<Value> =
        sv.map(|sv| sv.outputs.iter().map(|o| json!({"id": o.id, "type": "workspace-outputs"})).collect()).unwrap_or_default();
    let mut current_sv = rel("state-versions", sv.map(|s| s.id.as_str()));
    current_sv["links"] = json!({"related": format!("/api/v2/workspaces/{}/current-state-version", ws.id)});
    json!({
        "id": ws.id,
        "type": "workspaces",
        "attributes": {
            "actions": {"is-destroyable": true},
            "allow-destroy-plan": ws.allow_destroy_plan,
            "apply-duration-average": null,
            "assessments-enabled": false,
            "auto-apply": ws.auto_apply,
            "auto-apply-run-trigger": false,
            "auto-destroy-at": null,
            "auto-destroy-activity-duration": null,
            "can-queue-destroy-plan": ws.allow_destroy_plan,
            "created-at": ts(ws.created_at),
            "description": ws.description,
            "environment": "default",
            "execution-mode": ws.execution_mode,
            "file-triggers-enabled": true,
            "global-remote-state": false,
            "inherits-project-auto-destroy": true,
            "last-assessment-result-at": null,
            "latest-change-at": ts(ws.updated_at),
            "locked": ws.lock.is_some(),
            "locked-reason": ws.lock.as_ref().map(|l| l.reason.as_str()).unwrap_or(""),
            "name": ws.name,
            "operations": ws.execution_mode != "local",
            "permissions": {
                "can-update": true,
                "can-destroy": true,
                "can-queue-run": true,
                "can-read-variable": true,
                "can-update-variable": true,
                "can-read-state-versions": true,
                "can-read-state-outputs": true,
                "can-create-state-versions": true,
                "can-queue-apply": true,
                "can-lock": true,
                "can-unlock": true,
                "can-force-unlock": true,
                "can-read-settings": true,
                "can-manage-tags": true,
                "can-manage-run-tasks": true,
                "can-force-delete": true,
                "can-manage-assessments": true,
                "can-read-assessment-results": true,
                "can-queue-destroy": true
            },
            "plan-duration-average": null,
            "policy-check-failures": null,
            "project-remote-state": false,
            "queue-all-runs": false,
            "resource-count": sv.map(|s| s.instance_count()).unwrap_or(0),
            "run-failures": null,
            "setting-overwrites": {"execution-mode": false, "agent-pool": false},
            "source": "tfe-api",
            "source-name": null,
            "source-url": null,
            "speculative-enabled": true,
            "structured-run-output-enabled": true,
            "tag-names": ws.tags,
            "terraform-version": ws.terraform_version,
            "trigger-prefixes": [],
            "trigger-patterns": [],
            "updated-at": ts(ws.updated_at),
            "vcs-repo": null,
            "vcs-repo-identifier": null,
            "working-directory": ws.working_directory,
            "workspace-kpis-runs-count": runs_count
        },
        "relationships": {
            "organization": rel("organizations", Some(&ws.org)),
            "project": rel("projects", Some(&ws.project_id)),
            "current-run": rel("runs", latest.map(|r| r.id.as_str())),
            "latest-run": rel("runs", latest.map(|r| r.id.as_str())),
            "current-state-version": current_sv,
            "current-configuration-version": {"data": null},
            "current-assessment-result": assessment_rel,
            "locked-by": locked_by,
            "outputs": {"data": outputs},
            "agent-pool": {"data": null},
            "ssh-key": rel("ssh-keys", ws.ssh_key_id.as_deref()),
            "readme": readme_rel,
            "vars": {"data": []},
            "remote-state-consumers": {"links": {"related": format!("/api/v2/workspaces/{}/relationships/remote-state-consumers", ws.id)}},
            "tag-bindings": {"links": {"related": format!("/api/v2/workspaces/{}/tag-bindings", ws.id)}},
            "effective-tag-bindings": {"links": {"related": format!("/api/v2/workspaces/{}/effective-tag-bindings", ws.id)}}
        },
        "links": {
            "self": format!("/api/v2/organizations/{}/workspaces/{}", ws.org, ws.name),
            "self-html": format!("/app/{}/workspaces/{}", ws.org, ws.name)
        }
    })
}

pub fn run(r: &Run) -> Value {
    let s = r.status;
    // An auto-apply run goes on to apply by itself: never waiting for, nor
    // accepting, a confirmation (as in HCP Terraform).
    let confirmable = s.awaits_confirmation() && !r.plan_only && !r.auto_apply;
    let cancelable = matches!(s, RunStatus::Planning | RunStatus::Applying);
    let discardable = s == RunStatus::Pending || s.awaits_decision() || confirmable;
    let canceled_at = r.timestamp("canceled-at").map(ts);
    let mut rels = json!({
        "workspace": rel("workspaces", Some(&r.workspace_id)),
        "plan": rel("plans", Some(&r.plan.id)),
        "apply": rel("applies", Some(&r.apply.id)),
        "configuration-version": {"data": null},
        "cost-estimate": {"data": null},
        "created-by": rel("users", r.created_by.as_deref()),
        "confirmed-by": rel("users", r.confirmed_by.as_deref()),
        "input-state-version": {"data": null},
        "policy-checks": {"data": []},
        "run-events": {"data": []},
        "task-stages": {"data": []},
        "comments": {"data": []},
        "workspace-run-alerts": {"data": []}
    });
    rels["plan"]["links"] = json!({"related": format!("/api/v2/runs/{}/plan", r.id)});
    rels["apply"]["links"] = json!({"related": format!("/api/v2/runs/{}/apply", r.id)});
    json!({
        "id": r.id,
        "type": "runs",
        "attributes": {
            "actions": {
                "is-cancelable": cancelable,
                "is-confirmable": confirmable,
                "is-discardable": discardable,
                "is-force-cancelable": false
            },
            "allow-config-generation": false,
            "allow-empty-apply": r.allow_empty_apply,
            "auto-apply": r.auto_apply,
            "canceled-at": canceled_at,
            "created-at": ts(r.created_at),
            "force-cancel-available-at": null,
            "has-changes": r.plan.additions + r.plan.changes + r.plan.destructions > 0,
            "is-destroy": r.is_destroy,
            "message": r.message,
            "plan-only": r.plan_only,
            "position-in-queue": 0,
            "refresh": r.refresh,
            "refresh-only": r.refresh_only,
            "replace-addrs": if r.replace_addrs.is_empty() { Value::Null } else { json!(r.replace_addrs) },
            "save-plan": false,
            "source": r.source,
            "status": s.as_str(),
            "status-timestamps": timestamps(&r.status_timestamps),
            "target-addrs": if r.target_addrs.is_empty() { Value::Null } else { json!(r.target_addrs) },
            "terraform-version": r.terraform_version,
            "trigger-reason": r.trigger_reason,
            "variables": [],
            "permissions": {
                "can-apply": true,
                "can-cancel": true,
                "can-comment": true,
                "can-discard": true,
                "can-force-execute": true,
                "can-force-cancel": true,
                "can-override-policy-check": true
            }
        },
        "relationships": rels,
        "links": {"self": format!("/api/v2/runs/{}", r.id)}
    })
}

fn phase_common(p: &Phase, sim: &Sim) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("execution-details".into(), json!({"mode": "remote"}));
    m.insert("status".into(), json!(p.status));
    m.insert("status-timestamps".into(), timestamps(&p.timestamps));
    m.insert("log-read-url".into(), json!(sim.blob_url(&p.log_blob)));
    m.insert("resource-additions".into(), json!(p.additions));
    m.insert("resource-changes".into(), json!(p.changes));
    m.insert("resource-destructions".into(), json!(p.destructions));
    m.insert("resource-imports".into(), json!(0));
    m
}

pub fn plan(r: &Run, sim: &Sim) -> Value {
    let p = &r.plan;
    let mut attrs = phase_common(p, sim);
    attrs.insert("generated-configuration".into(), json!(false));
    attrs.insert("has-changes".into(), json!(p.additions + p.changes + p.destructions > 0));
    json!({
        "id": p.id,
        "type": "plans",
        "attributes": attrs,
        "relationships": {"state-versions": {"data": []}},
        "links": {
            "self": format!("/api/v2/plans/{}", p.id),
            "json-output": format!("/api/v2/plans/{}/json-output", p.id)
        }
    })
}

pub fn apply(r: &Run, sim: &Sim) -> Value {
    let a = &r.apply;
    let svs: Vec<Value> = r.state_version_id.iter().map(|id| json!({"id": id, "type": "state-versions"})).collect();
    json!({
        "id": a.id,
        "type": "applies",
        "attributes": phase_common(a, sim),
        "relationships": {"state-versions": {"data": svs}},
        "links": {"self": format!("/api/v2/applies/{}", a.id)}
    })
}

/// Resource summary type names as HCP Terraform reports them:
/// `null_resource` -> `null-resource`, data sources prefixed with `data.`.
fn summary_type(mode: &str, type_name: &str) -> String {
    let t = type_name.replace('_', "-");
    if mode == "data" { format!("data.{t}") } else { t }
}

pub fn state_version(sv: &StateVersion, sim: &Sim) -> Value {
    let mut modules: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut providers: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut resources = Vec::new();
    for r in &sv.resources {
        let module = r.module.clone().unwrap_or_else(|| "root".to_string());
        let kind = summary_type(&r.mode, &r.type_name);
        *modules.entry(module.clone()).or_default().entry(kind.clone()).or_default() += r.instances.len();
        *providers.entry(r.provider.clone()).or_default().entry(kind).or_default() += r.instances.len();
        let type_name = if r.mode == "data" { format!("data.{}", r.type_name) } else { r.type_name.clone() };
        resources.push(json!({
            "name": r.name,
            "type": type_name,
            "count": r.instances.len(),
            "module": module,
            "provider": r.provider
        }));
    }
    let size = crate::blob::raw_state(sv).to_string().len();
    let outputs: Vec<Value> = sv.outputs.iter().map(|o| json!({"id": o.id, "type": "state-version-outputs"})).collect();
    json!({
        "id": sv.id,
        "type": "state-versions",
        "attributes": {
            "billable-rum-count": sv.instance_count(),
            "created-at": ts(sv.created_at),
            "size": size,
            "hosted-state-download-url": sim.blob_url(&sv.state_blob),
            "hosted-state-upload-url": null,
            "hosted-json-state-download-url": sim.blob_url(&sv.json_blob),
            "hosted-json-state-upload-url": null,
            "status": "finalized",
            "intermediate": false,
            "modules": modules,
            "providers": providers,
            "resources": resources,
            "resources-processed": true,
            "serial": sv.serial,
            "state-version": 4,
            "terraform-version": sv.terraform_version,
            "vcs-commit-sha": null,
            "vcs-commit-url": null
        },
        "relationships": {
            "run": rel("runs", sv.run_id.as_deref()),
            "created-by": rel("users", sv.created_by.as_deref()),
            "workspace": rel("workspaces", Some(&sv.workspace_id)),
            "outputs": {"data": outputs}
        },
        "links": {"self": format!("/api/v2/state-versions/{}", sv.id)}
    })
}

/// The coarse `type` HCP Terraform reports next to `detailed-type`.
fn coarse_type(type_expr: &Value) -> &'static str {
    let head = match type_expr {
        Value::String(s) => s.as_str(),
        Value::Array(a) => a.first().and_then(Value::as_str).unwrap_or(""),
        _ => "",
    };
    match head {
        "string" => "string",
        "number" => "number",
        "bool" => "boolean",
        "list" | "tuple" | "set" => "array",
        "map" | "object" => "hash",
        _ => "string",
    }
}

/// A state version output. Listings hide sensitive values (`reveal`=false);
/// `GET /state-version-outputs/:id` reveals them.
pub fn output(o: &StateOutput, reveal: bool) -> Value {
    let value = if o.sensitive && !reveal { Value::Null } else { o.value.clone() };
    json!({
        "id": o.id,
        "type": "state-version-outputs",
        "attributes": {
            "name": o.name,
            "sensitive": o.sensitive,
            "type": coarse_type(&o.type_expr),
            "value": value,
            "detailed-type": o.type_expr
        },
        "links": {"self": format!("/api/v2/state-version-outputs/{}", o.id)}
    })
}

pub fn policy(p: &Policy) -> Value {
    let ext = if p.kind == "opa" { "rego" } else { "sentinel" };
    let sets: Vec<Value> = p.policy_set_ids.iter().map(|id| json!({"id": id, "type": "policy-sets"})).collect();
    json!({
        "id": p.id,
        "type": "policies",
        "attributes": {
            "name": p.name,
            "description": p.description,
            "kind": p.kind,
            "query": p.query,
            "enforcement-level": p.enforcement_level,
            "enforce": [{"path": format!("{}.{ext}", p.name), "mode": p.enforcement_level}],
            "policy-set-count": p.policy_set_ids.len(),
            "updated-at": ts(p.updated_at)
        },
        "relationships": {
            "organization": rel("organizations", Some(&p.org)),
            "policy-sets": {"data": sets}
        },
        "links": {
            "self": format!("/api/v2/policies/{}", p.id),
            "upload": format!("/api/v2/policies/{}/upload", p.id),
            "download": format!("/api/v2/policies/{}/download", p.id)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_parsing_clamps() {
        let q = QueryParams::parse("page%5Bnumber%5D=2&page%5Bsize%5D=500");
        assert_eq!(q.page(), Page { number: 2, size: MAX_PAGE_SIZE });
        let q = QueryParams::parse("page[number]=0&page[size]=abc");
        assert_eq!(q.page(), Page { number: 1, size: DEFAULT_PAGE_SIZE });
    }

    #[test]
    fn page_slicing() {
        let items: Vec<u32> = (0..25).collect();
        let p = Page { number: 2, size: 20 };
        assert_eq!(p.slice(&items), &items[20..25]);
        assert_eq!(p.total_pages(25), 2);
        assert!(Page { number: 9, size: 20 }.slice(&items).is_empty());
        assert_eq!(p.total_pages(0), 1);
    }

    #[test]
    fn coarse_types() {
        assert_eq!(coarse_type(&json!("string")), "string");
        assert_eq!(coarse_type(&json!(["tuple", ["string"]])), "array");
        assert_eq!(coarse_type(&json!(["object", {"a": "string"}])), "hash");
        assert_eq!(coarse_type(&json!("bool")), "boolean");
    }

    #[test]
    fn timestamps_are_go_tfe_compatible() {
        let t = chrono::DateTime::parse_from_rfc3339("2024-05-01T10:20:30.123456Z").unwrap().to_utc();
        assert_eq!(ts(t), "2024-05-01T10:20:30.123Z");
        assert_eq!(ts_status(t), "2024-05-01T10:20:30+00:00");
    }
}
