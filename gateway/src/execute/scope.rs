//! The project and workspace scope (`spec.scope`) for everything a tool
//! call names and everything its answer holds.
//!
//! On a scoped server, after the organization allow-list
//! ([`super::owners::check`]), every id argument is resolved to its anchor,
//! the one workspace or project it belongs to, following the per-kind
//! [`crate::catalog::ScopeRule`] and the same documented relationships as
//! its organization (run -> workspace, apply -> state version ->
//! workspace, stack -> project). The anchor must be in scope, otherwise the
//! call is refused exactly like a resource that does not exist.
//! Organization-wide kinds and organization-level tools not listed in
//! [`crate::catalog::SCOPED_ORGANIZATION_TOOLS`] are refused; listed
//! lists are filtered item by item ([`filter_result`]).
//!
//! Anchors never change (a run stays in its workspace) and are cached with
//! the organization owners; what makes a workspace in scope (its name,
//! project and tags) can change, so those facts are kept for
//! [`FACTS_TTL_SECS`] only.
//!
//! Servers without a scope skip all of this (no extra requests).

use std::future::Future;
use std::pin::Pin;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::owners::{get_doc, ids_in, mentions, rel_data, related, resources};
use super::{Args, Cx, Request, ToolError, encode_segment, org_allowed};
use crate::catalog::{
    IdKind, Kind, OrganizationTool, Owner, Scan, ScopeRule, ToolSpec, id_argument, id_matches, nested_ids, organization_tool,
};
use crate::route::{Route, Scope};
use crate::upstream::TfcClient;

/// How long the facts that put a workspace in scope (name, project, tags)
/// are trusted before they are read again.
pub const FACTS_TTL_SECS: u64 = 60;
/// Longest walk from a resource to its workspace (apply -> state version
/// -> workspace; policy set outcome -> policy evaluation -> task stage...).
const MAX_DEPTH: usize = 4;
/// Page size of scanned lists.
const SCAN_PAGE_SIZE: u64 = 100;

// Cache keys (never valid ids, so they cannot collide with organization owners).
const ANCHOR_KEY: &str = "scope-anchor:";
const WORKSPACE_KEY: &str = "scope-workspace:";
const PROJECT_KEY: &str = "scope-project:";

/// The workspace or project a resource belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Anchor {
    Workspace(String),
    Project(String),
}

impl Anchor {
    fn encode(&self) -> String {
        match self {
            Anchor::Workspace(id) => format!("workspace:{id}"),
            Anchor::Project(id) => format!("project:{id}"),
        }
    }
    fn decode(s: &str) -> Option<Self> {
        if let Some(id) = s.strip_prefix("workspace:") {
            return Some(Anchor::Workspace(id.to_owned()));
        }
        s.strip_prefix("project:").map(|id| Anchor::Project(id.to_owned()))
    }
}

/// What the check established about a call.
#[derive(Clone, Debug, Default)]
pub(crate) struct Confinement {
    /// The one workspace or project everything the call named belongs to.
    pub anchor: Option<Anchor>,
    /// An organization-level list: every item must show it is in scope.
    pub filter_all: bool,
}

/// What puts a workspace in scope, as last read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct WorkspaceFacts {
    name: String,
    organization: String,
    project: Option<String>,
    tags: Vec<String>,
    /// Unix seconds when read.
    at: u64,
}

/// A project's name and organization, as last read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ProjectFacts {
    name: String,
    organization: String,
    at: u64,
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn fresh(at: u64) -> bool {
    now_secs().saturating_sub(at) < FACTS_TTL_SECS
}

/// Check everything the call names against the route's scope. Servers
/// without a scope get the default (nothing confined, nothing filtered).
pub(crate) async fn check(
    client: &TfcClient<'_>,
    route: &Route,
    tool: &ToolSpec,
    args: &Args,
    req: &Request,
) -> Result<Confinement, ToolError> {
    let Some(scope) = route.scope.as_ref() else { return Ok(Confinement::default()) };
    let refuse = || ToolError::organization_not_allowed(tool.verb, &req.path);
    // Names are only unique within one organization: a scope without
    // exactly one (which the operator never writes) confines nothing, so
    // nothing is allowed.
    if route.organizations.len() != 1 {
        return Err(ToolError {
            message: "this server's scope needs exactly one organization in tfc.organizations; ask its owner to fix the TfcMcpServer"
                .into(),
            status: None,
            rate_limit: None,
            kind: super::ToolErrorKind::Forbidden,
        });
    }
    let mut named: Vec<(IdKind, &str)> = Vec::new();
    for p in &tool.params {
        let Some(v) = args.get(p.name) else { continue };
        if let Owner::Of(kind) = p.owner {
            push(kind, v, &mut named);
        }
        if p.kind == Kind::Object {
            for (field, nv) in nested_ids(v) {
                if let Some(Owner::Of(kind)) = id_argument(&field) {
                    push(kind, nv, &mut named);
                }
            }
        }
    }
    let mut anchors: Vec<Anchor> = Vec::new();
    let mut by_organization = false;
    for (kind, id) in named {
        // The organization itself is confined by the tool table below.
        if kind == IdKind::Organization {
            by_organization = true;
            continue;
        }
        let anchor = match kind.scope_rule() {
            ScopeRule::Workspace => Some(Anchor::Workspace(id.to_owned())),
            ScopeRule::Project => Some(Anchor::Project(id.to_owned())),
            ScopeRule::Anchored => anchor_of(client, route, args, kind, id, 0).await?,
            ScopeRule::OrganizationWide => None,
        };
        match anchor {
            Some(a) if in_scope(client, route, scope, &a).await? => {
                if !anchors.contains(&a) {
                    anchors.push(a);
                }
            }
            _ => return Err(refuse()),
        }
    }
    let mut filter_all = false;
    if by_organization {
        match organization_tool(tool.name) {
            None => return Err(refuse()),
            Some(OrganizationTool::Filter) => filter_all = true,
            Some(OrganizationTool::CreateWorkspace) => {
                // `project_id`, when given, was checked above like any project.
                if args.get("project_id").is_none() {
                    return Err(ToolError::invalid(
                        "this server is limited to some projects and workspaces: give `project_id`, a project in its scope, to create a workspace"
                            .into(),
                    ));
                }
            }
            Some(OrganizationTool::WorkspaceByName) => {
                if let (Some(org), Some(name)) = (args.str("organization_name"), args.str("workspace_name")) {
                    let path = format!("/organizations/{}/workspaces/{}", encode_segment(org.trim()), encode_segment(name.trim()));
                    let Some(doc) = get_doc(client, &path, &[]).await? else { return Err(refuse()) };
                    learn(client, &doc, None);
                    let id = doc.pointer("/data/id").and_then(Value::as_str).unwrap_or_default();
                    let a = Anchor::Workspace(id.to_owned());
                    if id.is_empty() || !in_scope(client, route, scope, &a).await? {
                        return Err(refuse());
                    }
                    if !anchors.contains(&a) {
                        anchors.push(a);
                    }
                }
            }
        }
    }
    Ok(Confinement { anchor: if anchors.len() == 1 { anchors.pop() } else { None }, filter_all })
}

fn push<'a>(kind: IdKind, v: &'a Value, named: &mut Vec<(IdKind, &'a str)>) {
    for id in ids_in(v) {
        if !named.iter().any(|(k, i)| *k == kind && *i == id) {
            named.push((kind, id));
        }
    }
}

type AnchorFuture<'f> = Pin<Box<dyn Future<Output = Result<Option<Anchor>, ToolError>> + Send + 'f>>;

/// The workspace or project `id` belongs to, or `None` when HCP Terraform
/// does not show it to this token or no documented route leads there.
fn anchor_of<'f>(client: &'f TfcClient<'_>, route: &'f Route, args: &'f Args, kind: IdKind, id: &'f str, depth: usize) -> AnchorFuture<'f> {
    Box::pin(async move {
        match kind.scope_rule() {
            ScopeRule::Workspace => return Ok(Some(Anchor::Workspace(id.to_owned()))),
            ScopeRule::Project => return Ok(Some(Anchor::Project(id.to_owned()))),
            ScopeRule::OrganizationWide => return Ok(None),
            ScopeRule::Anchored => {}
        }
        if let Some(a) = cached_anchor(client, id) {
            return Ok(Some(a));
        }
        if depth >= MAX_DEPTH {
            return Ok(None);
        }
        let lookup = kind.lookup();
        let mut found = None;
        if let Some(show) = lookup.show {
            let path = show.replace("{id}", &encode_segment(id));
            let Some(doc) = get_doc(client, &path, &[]).await? else { return Ok(None) };
            learn(client, &doc, None);
            let data = doc.get("data").unwrap_or(&Value::Null);
            for rel in lookup.via {
                let Some((t, pid)) = related(data, rel).into_iter().next() else { continue };
                let Some(pkind) = IdKind::from_api_type(t) else { continue };
                found = anchor_of(client, route, args, pkind, pid, depth + 1).await?;
                if found.is_some() {
                    break;
                }
            }
        }
        if found.is_none() {
            for scan in lookup.scan {
                found = scan_for(client, route, args, *scan, id, depth).await?;
                if found.is_some() {
                    break;
                }
            }
        }
        if let Some(a) = &found {
            remember_anchor(client, id, a);
        }
        Ok(found)
    })
}

/// Look for `id` in one list; the anchor is that of the item naming it.
async fn scan_for(
    client: &TfcClient<'_>,
    route: &Route,
    args: &Args,
    scan: Scan,
    id: &str,
    depth: usize,
) -> Result<Option<Anchor>, ToolError> {
    let query = [("page[size]".to_owned(), SCAN_PAGE_SIZE.to_string())];
    match scan {
        Scan::Organization(template) => {
            for org in route.organizations.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
                let path = template.replace("{org}", &encode_segment(org));
                let Some(doc) = get_doc(client, &path, &query).await? else { continue };
                learn(client, &doc, None);
                for item in resources(&doc) {
                    let item_doc = serde_json::json!({ "data": item });
                    if mentions(&item_doc, id)
                        && let Some(a) = own_anchor(item)
                    {
                        return Ok(Some(a));
                    }
                }
            }
            Ok(None)
        }
        Scan::Sibling { arg, path } => {
            let (Some(sibling), Some(Owner::Of(kind))) = (args.str(arg).map(str::trim), id_argument(arg)) else {
                return Ok(None);
            };
            let Some(anchor) = anchor_of(client, route, args, kind, sibling, depth + 1).await? else { return Ok(None) };
            let path = path.replace("{id}", &encode_segment(sibling));
            let Some(doc) = get_doc(client, &path, &query).await? else { return Ok(None) };
            Ok(mentions(&doc, id).then_some(anchor))
        }
    }
}

/// A resource's own workspace or project: itself, or its `workspace`
/// (`project` for project-level kinds) relationship.
fn own_anchor(r: &Value) -> Option<Anchor> {
    let t = r.get("type").and_then(Value::as_str)?;
    let id = r.get("id").and_then(Value::as_str)?;
    match t {
        "workspaces" => return Some(Anchor::Workspace(id.to_owned())),
        "projects" => return Some(Anchor::Project(id.to_owned())),
        _ => {}
    }
    if let Some((_, ws)) = related(r, "workspace").into_iter().find(|(t, _)| *t == "workspaces") {
        return Some(Anchor::Workspace(ws.to_owned()));
    }
    // Project-level kinds (stacks, team access to projects) name their project.
    if IdKind::from_api_type(t).is_some_and(|k| k.scope_rule() == ScopeRule::Anchored)
        && let Some((_, p)) = related(r, "project").into_iter().find(|(t, _)| *t == "projects")
    {
        return Some(Anchor::Project(p.to_owned()));
    }
    None
}

fn cached_anchor(client: &TfcClient<'_>, id: &str) -> Option<Anchor> {
    client.cached_owner(&format!("{ANCHOR_KEY}{id}")).and_then(|s| Anchor::decode(&s))
}

fn remember_anchor(client: &TfcClient<'_>, id: &str, a: &Anchor) {
    client.remember_owner(&format!("{ANCHOR_KEY}{id}"), &a.encode());
}

fn anchorable(type_: &str) -> bool {
    IdKind::from_api_type(type_).is_some_and(|k| k.scope_rule() == ScopeRule::Anchored)
}

/// Remember what a document tells about anchors and workspace facts: each
/// resource's own anchor (or `call_anchor`, the one workspace or project
/// the call was confined to) for the resource and the resources it
/// relates to (a run's plan and apply are in the run's workspace), and the
/// name, project and tags of complete workspace records.
pub(crate) fn learn(client: &TfcClient<'_>, doc: &Value, call_anchor: Option<&Anchor>) {
    let included = doc.get("included").and_then(Value::as_array).into_iter().flatten();
    for r in resources(doc).into_iter().chain(included) {
        let t = r.get("type").and_then(Value::as_str).unwrap_or_default();
        let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
        if id.is_empty() {
            continue;
        }
        match t {
            "workspaces" => remember_workspace_facts(client, id, r),
            "projects" => remember_project_facts(client, id, r),
            _ => {}
        }
        // A project's relationships are organization-wide; only
        // workspace-level records lend their anchor to related ones.
        if t == "projects" {
            continue;
        }
        let Some(anchor) = own_anchor(r).or_else(|| call_anchor.cloned()) else { continue };
        if anchorable(t) {
            remember_anchor(client, id, &anchor);
        }
        if let Some(rels) = r.get("relationships").and_then(Value::as_object) {
            for (name, rel) in rels {
                if matches!(name.as_str(), "workspace" | "project" | "organization") {
                    continue;
                }
                for (rt, rid) in rel_data(rel) {
                    if anchorable(rt) {
                        remember_anchor(client, rid, &anchor);
                    }
                }
            }
        }
    }
}

fn organization_of(r: &Value) -> Option<&str> {
    related(r, "organization").into_iter().find(|(t, _)| *t == "organizations").map(|(_, id)| id)
}

/// The facts of a complete workspace record (sparse fieldsets leave some out).
fn workspace_facts_from(r: &Value) -> Option<WorkspaceFacts> {
    let attrs = r.get("attributes")?;
    let name = attrs.get("name")?.as_str()?.to_owned();
    let tags = attrs.get("tag-names")?.as_array()?.iter().filter_map(Value::as_str).map(str::to_owned).collect();
    let organization = organization_of(r)?.to_owned();
    let rels = r.get("relationships")?;
    // No `project` relationship at all (older Terraform Enterprise): no project.
    let project = rels.get("project").map(|_| related(r, "project").into_iter().next().map(|(_, p)| p.to_owned())).unwrap_or(None);
    Some(WorkspaceFacts { name, organization, project, tags, at: now_secs() })
}

fn remember_workspace_facts(client: &TfcClient<'_>, id: &str, r: &Value) {
    if let Some(f) = workspace_facts_from(r)
        && let Ok(s) = serde_json::to_string(&f)
    {
        client.remember_owner(&format!("{WORKSPACE_KEY}{id}"), &s);
    }
}

fn remember_project_facts(client: &TfcClient<'_>, id: &str, r: &Value) {
    let Some(name) = r.pointer("/attributes/name").and_then(Value::as_str) else { return };
    let Some(organization) = organization_of(r) else { return };
    let f = ProjectFacts { name: name.to_owned(), organization: organization.to_owned(), at: now_secs() };
    if let Ok(s) = serde_json::to_string(&f) {
        client.remember_owner(&format!("{PROJECT_KEY}{id}"), &s);
    }
}

async fn workspace_facts(client: &TfcClient<'_>, id: &str) -> Result<Option<WorkspaceFacts>, ToolError> {
    let key = format!("{WORKSPACE_KEY}{id}");
    if let Some(f) = client.cached_owner(&key).and_then(|s| serde_json::from_str::<WorkspaceFacts>(&s).ok()).filter(|f| fresh(f.at)) {
        return Ok(Some(f));
    }
    if !id_matches("ws", id) {
        return Ok(None);
    }
    let Some(doc) = get_doc(client, &format!("/workspaces/{}", encode_segment(id)), &[]).await? else { return Ok(None) };
    let data = doc.get("data").unwrap_or(&Value::Null);
    if data.get("id").and_then(Value::as_str) != Some(id) {
        return Ok(None);
    }
    let f = workspace_facts_from(data);
    if f.is_some() {
        remember_workspace_facts(client, id, data);
    }
    Ok(f)
}

async fn project_facts(client: &TfcClient<'_>, id: &str) -> Result<Option<ProjectFacts>, ToolError> {
    let key = format!("{PROJECT_KEY}{id}");
    if let Some(f) = client.cached_owner(&key).and_then(|s| serde_json::from_str::<ProjectFacts>(&s).ok()).filter(|f| fresh(f.at)) {
        return Ok(Some(f));
    }
    if !id_matches("prj", id) {
        return Ok(None);
    }
    let Some(doc) = get_doc(client, &format!("/projects/{}", encode_segment(id)), &[]).await? else { return Ok(None) };
    let data = doc.get("data").unwrap_or(&Value::Null);
    if data.get("id").and_then(Value::as_str) != Some(id) {
        return Ok(None);
    }
    remember_project_facts(client, id, data);
    Ok(client.cached_owner(&key).and_then(|s| serde_json::from_str(&s).ok()))
}

/// True when the scope names this project, by id or (in the route's
/// organization) by name.
async fn project_in_scope(client: &TfcClient<'_>, route: &Route, scope: &Scope, id: &str) -> Result<bool, ToolError> {
    if scope.projects.iter().any(|p| p.trim() == id) {
        return Ok(true);
    }
    if !scope.projects.iter().any(|p| !id_matches("prj", p.trim())) {
        return Ok(false);
    }
    let Some(f) = project_facts(client, id).await? else { return Ok(false) };
    Ok(org_allowed(route, &f.organization) && scope.projects.iter().any(|p| p.trim().eq_ignore_ascii_case(&f.name)))
}

/// True when the workspace or project is in the route's scope.
pub(crate) async fn in_scope(client: &TfcClient<'_>, route: &Route, scope: &Scope, anchor: &Anchor) -> Result<bool, ToolError> {
    match anchor {
        Anchor::Project(id) => project_in_scope(client, route, scope, id).await,
        Anchor::Workspace(id) => {
            let Some(f) = workspace_facts(client, id).await? else { return Ok(false) };
            if !org_allowed(route, &f.organization) {
                return Ok(false);
            }
            if workspace_matches(scope, id, &f) {
                return Ok(true);
            }
            match &f.project {
                Some(p) if !scope.projects.is_empty() => project_in_scope(client, route, scope, p).await,
                _ => Ok(false),
            }
        }
    }
}

/// The entries that match a workspace by itself: its id or name, or one of its tags.
fn workspace_matches(scope: &Scope, id: &str, f: &WorkspaceFacts) -> bool {
    scope.workspaces.iter().map(|w| w.trim()).any(|w| w == id || w.eq_ignore_ascii_case(&f.name))
        || scope.workspace_tags.iter().any(|t| f.tags.iter().any(|have| have.eq_ignore_ascii_case(t.trim())))
}

/// Apply the scope to a read tool's flat answer: list items and `included`
/// records outside the scope are dropped, a single record outside it is
/// refused as not found. On organization-level lists, items that do not
/// show their workspace or project are dropped too, and totals are removed
/// (they would count what is hidden).
pub(crate) async fn filter_result(cx: &Cx<'_, '_>, v: &mut Value) -> Result<(), ToolError> {
    let Some(scope) = cx.route.scope.as_ref() else { return Ok(()) };
    if !cx.tool.method.is_read_only() {
        return Ok(());
    }
    let filter_all = cx.confinement.filter_all;
    for key in ["included", "results"] {
        if let Some(Value::Array(items)) = v.get_mut(key) {
            let mut kept = Vec::with_capacity(items.len());
            for item in std::mem::take(items) {
                if keep(cx, scope, &item, filter_all).await? {
                    kept.push(item);
                }
            }
            *items = kept;
        }
    }
    if v.get("results").is_some() {
        if filter_all && let Some(Value::Object(p)) = v.get_mut("pagination") {
            p.remove("total_count");
            p.remove("total_pages");
        }
        return Ok(());
    }
    if !keep(cx, scope, v, false).await? {
        return Err(ToolError::organization_not_allowed(cx.tool.verb, &cx.req.path));
    }
    Ok(())
}

/// Whether one flat record may be shown.
async fn keep(cx: &Cx<'_, '_>, scope: &Scope, item: &Value, filter_all: bool) -> Result<bool, ToolError> {
    let s = |k: &str| item.get(k).and_then(Value::as_str);
    let anchor = match s("type") {
        Some("workspaces") => s("id").map(|id| Anchor::Workspace(id.to_owned())),
        Some("projects") => s("id").map(|id| Anchor::Project(id.to_owned())),
        _ => s("workspace_id")
            .map(|id| Anchor::Workspace(id.to_owned()))
            .or_else(|| s("project_id").map(|id| Anchor::Project(id.to_owned()))),
    };
    match anchor {
        Some(a) => in_scope(cx.client, cx.route, scope, &a).await,
        None => Ok(!filter_all),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts(name: &str, tags: &[&str]) -> WorkspaceFacts {
        WorkspaceFacts {
            name: name.into(),
            organization: "acme".into(),
            project: Some("prj-1".into()),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            at: now_secs(),
        }
    }

    #[test]
    fn workspaces_match_by_id_name_or_tag() {
        let scope =
            Scope { workspaces: vec!["ws-a1".into(), "App-Prod".into()], workspace_tags: vec!["team:pay".into()], ..Default::default() };
        assert!(workspace_matches(&scope, "ws-a1", &facts("x", &[])));
        assert!(workspace_matches(&scope, "ws-b2", &facts("app-prod", &[])));
        assert!(workspace_matches(&scope, "ws-c3", &facts("other", &["env", "team:pay"])));
        assert!(!workspace_matches(&scope, "ws-c3", &facts("other", &["team:payments", "team"])));
        assert!(!workspace_matches(&scope, "ws-a", &facts("app-prod-2", &[])));
    }

    #[test]
    fn anchors_of_records() {
        let run = json!({"id": "run-1", "type": "runs", "relationships": {
            "workspace": {"data": {"id": "ws-1", "type": "workspaces"}},
            "plan": {"data": {"id": "plan-1", "type": "plans"}}}});
        assert_eq!(own_anchor(&run), Some(Anchor::Workspace("ws-1".into())));
        let stack = json!({"id": "st-1", "type": "stacks", "relationships": {"project": {"data": {"id": "prj-1", "type": "projects"}}}});
        assert_eq!(own_anchor(&stack), Some(Anchor::Project("prj-1".into())));
        // A policy set names projects, but is organization-wide: no anchor.
        let ps =
            json!({"id": "polset-1", "type": "policy-sets", "relationships": {"project": {"data": {"id": "prj-1", "type": "projects"}}}});
        assert_eq!(own_anchor(&ps), None);
        assert_eq!(Anchor::decode(&Anchor::Project("prj-9".into()).encode()), Some(Anchor::Project("prj-9".into())));
        assert_eq!(Anchor::decode("ws-1"), None);
    }

    #[test]
    fn facts_need_a_complete_record() {
        let full = json!({"id": "ws-1", "type": "workspaces", "attributes": {"name": "a", "tag-names": ["t"]},
            "relationships": {"organization": {"data": {"id": "acme", "type": "organizations"}},
                              "project": {"data": {"id": "prj-1", "type": "projects"}}}});
        let f = workspace_facts_from(&full).unwrap();
        assert_eq!((f.name.as_str(), f.project.as_deref(), f.tags.len()), ("a", Some("prj-1"), 1));
        // A sparse fieldset without tags or organization tells nothing.
        let sparse = json!({"id": "ws-1", "type": "workspaces", "attributes": {"name": "a"}});
        assert!(workspace_facts_from(&sparse).is_none());
    }
}
