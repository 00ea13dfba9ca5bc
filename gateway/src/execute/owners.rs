//! The organization allow-list for everything a tool call names.
//!
//! On a server with `tfc.organizations`, every id argument (declared in
//! [`crate::catalog::ID_ARGUMENTS`]) is resolved to its owning organization
//! before the tool's own request is sent, following the per-kind
//! [`crate::catalog::OwnerLookup`]: `GET` the resource and read its
//! `organization` relationship, or walk to a parent (run -> workspace), or
//! find the id in a list of an allowed organization. Owners are remembered
//! in the shared [`crate::upstream::OwnerCache`], so each id is looked up
//! once. A resource of another organization, or whose owner cannot be
//! established, is refused exactly like one that does not exist.
//!
//! Servers without an allow-list skip all of this (no extra requests).

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use super::{Args, Request, ToolError, encode_segment, org_allowed};
use crate::catalog::{IdKind, Kind, Owner, Scan, ToolSpec, Verb, id_argument, nested_ids};
use crate::jsonapi_parse::Skeleton;
use crate::route::Route;
use crate::upstream::TfcClient;

/// Most distinct ids one call may name on a server with an allow-list.
pub const MAX_CHECKED_IDS: usize = 100;
/// Longest walk from a resource to its organization (apply -> state version
/// -> workspace -> organization is the longest documented one).
const MAX_DEPTH: usize = 4;
/// Page size of scanned lists.
const SCAN_PAGE_SIZE: u64 = 100;

/// Resolve and check every resource the call names. Returns the one
/// organization the call is confined to, when there is exactly one (used to
/// remember the owners of what the answer contains).
pub(crate) async fn check(
    client: &TfcClient<'_>,
    route: &Route,
    tool: &ToolSpec,
    args: &Args,
    req: &Request,
) -> Result<Option<String>, ToolError> {
    if route.organizations.is_empty() {
        return Ok(None);
    }
    let refuse = || ToolError::organization_not_allowed(tool.verb, &req.path);
    let mut named: Vec<(IdKind, &str)> = Vec::new();
    for p in &tool.params {
        let Some(v) = args.get(p.name) else { continue };
        match p.owner {
            Owner::None => {}
            Owner::Within(sibling) => {
                // Checked through the sibling; never without it.
                if args.get(sibling).is_none() {
                    return Err(refuse());
                }
            }
            Owner::Of(kind) => {
                for id in ids_in(v) {
                    if !named.iter().any(|(k, i)| *k == kind && *i == id) {
                        named.push((kind, id));
                    }
                }
            }
        }
        // Ids inside object arguments (`vcs_repo.oauth_token_id`).
        if p.kind == Kind::Object {
            for (field, nv) in nested_ids(v) {
                match id_argument(&field) {
                    Some(Owner::Of(kind)) => {
                        for id in ids_in(nv) {
                            if !named.iter().any(|(k, i)| *k == kind && *i == id) {
                                named.push((kind, id));
                            }
                        }
                    }
                    Some(Owner::None) => {}
                    // Undeclared fields are refused by validation; a field
                    // only meaningful beside a sibling cannot be checked here.
                    _ => return Err(refuse()),
                }
            }
        }
    }
    if named.len() > MAX_CHECKED_IDS {
        return Err(ToolError::invalid(format!(
            "this server checks the organization of every id a call names; give at most {MAX_CHECKED_IDS} ids per call"
        )));
    }
    let mut orgs: Vec<String> = Vec::new();
    for (kind, id) in named {
        match owner_of(client, route, args, kind, id, 0).await? {
            Some(org) if org_allowed(route, &org) => {
                if !orgs.iter().any(|o| o.eq_ignore_ascii_case(&org)) {
                    orgs.push(org);
                }
            }
            _ => return Err(refuse()),
        }
    }
    Ok(if orgs.len() == 1 { orgs.pop() } else { None })
}

/// The non-empty, trimmed ids of a string or string-list argument.
pub(super) fn ids_in(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.trim()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::trim).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect()
}

type OwnerFuture<'f> = Pin<Box<dyn Future<Output = Result<Option<String>, ToolError>> + Send + 'f>>;

/// The organization that owns `id`, or `None` when HCP Terraform does not
/// show it to this token or no documented route leads to its owner.
fn owner_of<'f>(client: &'f TfcClient<'_>, route: &'f Route, args: &'f Args, kind: IdKind, id: &'f str, depth: usize) -> OwnerFuture<'f> {
    Box::pin(async move {
        if kind == IdKind::Organization {
            return Ok(Some(id.to_owned()));
        }
        if let Some(org) = client.cached_owner(id) {
            return Ok(Some(org));
        }
        if depth >= MAX_DEPTH {
            return Ok(None);
        }
        let lookup = kind.lookup();
        let mut found = None;
        if let Some(show) = lookup.show {
            let path = show.replace("{id}", &encode_segment(id));
            if let Some(doc) = get_doc(client, &path, &[]).await? {
                let data = doc.get("data").unwrap_or(&Value::Null);
                found = match own_organization(data) {
                    Some(org) => Some(org.to_owned()),
                    None => {
                        let parent = lookup.via.iter().find_map(|rel| related(data, rel).into_iter().next());
                        match parent.and_then(|(t, pid)| IdKind::from_api_type(t).map(|k| (k, pid))) {
                            Some((pkind, pid)) => owner_of(client, route, args, pkind, pid, depth + 1).await?,
                            None => None,
                        }
                    }
                };
                if let Some(org) = &found {
                    learn(client, &doc, Some(org));
                }
                // The same answer tells a scoped server the workspace (saves a second lookup).
                if route.scope.is_some() {
                    super::scope::learn(client, &doc, None);
                }
            } else {
                // Not visible to this token: no list of it will show it either.
                return Ok(None);
            }
        }
        if found.is_none() {
            for scan in lookup.scan {
                if let Some(org) = scan_for(client, route, args, *scan, id, depth).await? {
                    found = Some(org);
                    break;
                }
            }
        }
        if let Some(org) = &found {
            client.remember_owner(id, org);
        }
        Ok(found)
    })
}

/// Look for `id` in one list; the owner is the list's organization.
async fn scan_for(
    client: &TfcClient<'_>,
    route: &Route,
    args: &Args,
    scan: Scan,
    id: &str,
    depth: usize,
) -> Result<Option<String>, ToolError> {
    let query = [("page[size]".to_owned(), SCAN_PAGE_SIZE.to_string())];
    match scan {
        Scan::Organization(template) => {
            for org in route.organizations.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
                let path = template.replace("{org}", &encode_segment(org));
                let Some(doc) = get_doc(client, &path, &query).await? else { continue };
                learn(client, &doc, Some(org));
                if route.scope.is_some() {
                    super::scope::learn(client, &doc, None);
                }
                if mentions(&doc, id) {
                    return Ok(Some(org.to_owned()));
                }
            }
            Ok(None)
        }
        Scan::Sibling { arg, path } => {
            let (Some(sibling), Some(Owner::Of(kind))) = (args.str(arg).map(str::trim), id_argument(arg)) else {
                return Ok(None);
            };
            let Some(org) = owner_of(client, route, args, kind, sibling, depth + 1).await? else { return Ok(None) };
            if !org_allowed(route, &org) {
                return Ok(None);
            }
            let path = path.replace("{id}", &encode_segment(sibling));
            let Some(doc) = get_doc(client, &path, &query).await? else { return Ok(None) };
            learn(client, &doc, Some(&org));
            Ok(mentions(&doc, id).then_some(org))
        }
    }
}

/// GET a document; `None` for 403/404 (not visible to this token).
pub(super) async fn get_doc(client: &TfcClient<'_>, path: &str, query: &[(String, String)]) -> Result<Option<Value>, ToolError> {
    let resp = client.api(Verb::Get, path, query, None).await?;
    match resp.status {
        200..=299 => Ok(resp.body),
        403 | 404 => Ok(None),
        _ => Err(ToolError::from_response(&resp, Verb::Get, path, None)),
    }
}

/// `(type, id)` of a relationship's data (one or many).
pub(super) fn related<'v>(resource: &'v Value, rel: &str) -> Vec<(&'v str, &'v str)> {
    rel_data(resource.pointer(&format!("/relationships/{rel}")).unwrap_or(&Value::Null))
}

pub(super) fn rel_data(rel: &Value) -> Vec<(&str, &str)> {
    match rel.get("data") {
        Some(Value::Array(a)) => a.iter().filter_map(type_and_id).collect(),
        Some(d @ Value::Object(_)) => type_and_id(d).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn type_and_id(d: &Value) -> Option<(&str, &str)> {
    Some((d.get("type")?.as_str()?, d.get("id")?.as_str()?))
}

/// A resource's own `organization` relationship.
fn own_organization(resource: &Value) -> Option<&str> {
    first_organization(&related(resource, "organization"))
}

/// The organization an `organization` relationship names: its first
/// `organizations` identifier.
fn first_organization<'a>(pairs: &[(&str, &'a str)]) -> Option<&'a str> {
    pairs.iter().find(|(t, _)| *t == "organizations").map(|(_, id)| *id)
}

/// The resources (`data`, one or a list) of a document.
pub(super) fn resources(doc: &Value) -> Vec<&Value> {
    match doc.get("data") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    }
}

/// True when `id` is a resource of the document or one of their relationships.
pub(super) fn mentions(doc: &Value, id: &str) -> bool {
    resources(doc).into_iter().any(|r| {
        r.get("id").and_then(Value::as_str) == Some(id)
            || r.get("relationships")
                .and_then(Value::as_object)
                .is_some_and(|rels| rels.values().any(|rel| rel_data(rel).iter().any(|(_, i)| *i == id)))
    })
}

/// Remember the owners of the resources of a document and of the resources
/// they relate to: a resource's own `organization` relationship when it has
/// one, otherwise `scope` (the organization the request was confined to).
/// Related resources share their resource's organization (HCP Terraform
/// has no relationship across organizations among these kinds).
pub(crate) fn learn(client: &TfcClient<'_>, doc: &Value, scope: Option<&str>) {
    client.remember_owners(&owners_in(doc, scope));
}

/// [`learn`], from the skeletons of a document's resources
/// (`jsonapi_parse::flatten_text_with_skeleton`).
pub(crate) fn learn_from_skeletons<S: AsRef<str>>(client: &TfcClient<'_>, skeletons: &[Skeleton<S>], scope: Option<&str>) {
    client.remember_owners(&owners_of(skeletons, scope));
}

/// What [`learn`] remembers of `doc`: (resource id, its organization), in order.
pub(crate) fn owners_in<'d>(doc: &'d Value, scope: Option<&'d str>) -> Vec<(&'d str, &'d str)> {
    // `included` records (`include=`) are related to the primary ones, so
    // they share their organization just the same.
    let included = doc.get("included").and_then(Value::as_array).into_iter().flatten();
    owners_of(resources(doc).into_iter().chain(included), scope)
}

/// What remembering owners reads of one resource: a tree's, or its skeleton.
pub(crate) trait OwnerView {
    /// Its `type` and `id`, when both are strings.
    fn type_and_id(&self) -> Option<(&str, &str)>;
    /// Each relationship in name order: its name and the `(type, id)` of its `data`.
    fn relations(&self) -> Vec<(&str, Vec<(&str, &str)>)>;
}

impl OwnerView for Value {
    fn type_and_id(&self) -> Option<(&str, &str)> {
        type_and_id(self)
    }
    fn relations(&self) -> Vec<(&str, Vec<(&str, &str)>)> {
        let rels = self.get("relationships").and_then(Value::as_object).into_iter().flatten();
        rels.map(|(name, rel)| (name.as_str(), rel_data(rel))).collect()
    }
}

impl<S: AsRef<str>> OwnerView for Skeleton<S> {
    fn type_and_id(&self) -> Option<(&str, &str)> {
        self.own.as_ref().map(|(t, id)| (t.as_ref(), id.as_ref()))
    }
    fn relations(&self) -> Vec<(&str, Vec<(&str, &str)>)> {
        self.relations
            .iter()
            .map(|(name, pairs)| (name.as_ref(), pairs.iter().map(|(t, id)| (t.as_ref(), id.as_ref())).collect()))
            .collect()
    }
}

/// (resource id, its organization) of `resources` and of what they relate to, in order.
pub(crate) fn owners_of<'d, R: OwnerView + 'd>(
    resources: impl IntoIterator<Item = &'d R>,
    scope: Option<&'d str>,
) -> Vec<(&'d str, &'d str)> {
    let mut owners = Vec::new();
    for r in resources {
        let relations = r.relations();
        let own = relations.iter().find(|(name, _)| *name == "organization").and_then(|(_, pairs)| first_organization(pairs));
        let Some(org) = own.or(scope) else { continue };
        if let Some((t, id)) = r.type_and_id()
            && learnable(t)
        {
            owners.push((id, org));
        }
        for (name, pairs) in relations {
            if name == "organization" {
                continue;
            }
            for (t, id) in pairs {
                if learnable(t) {
                    owners.push((id, org));
                }
            }
        }
    }
    owners
}

fn learnable(type_: &str) -> bool {
    IdKind::from_api_type(type_).is_some_and(|k| k != IdKind::Organization)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relationships_and_mentions() {
        let doc = json!({"data": [{"id": "run-1", "type": "runs", "relationships": {
            "plan": {"data": {"id": "plan-1", "type": "plans"}},
            "workspace": {"data": {"id": "ws-1", "type": "workspaces"}},
            "created-by": {"data": {"id": "user-1", "type": "users"}},
            "policy-checks": {"data": [{"id": "polchk-1", "type": "policy-checks"}]},
            "comments": {}}}]});
        assert!(mentions(&doc, "plan-1") && mentions(&doc, "run-1") && mentions(&doc, "polchk-1"));
        assert!(!mentions(&doc, "plan-2"));
        let r = &doc["data"][0];
        assert_eq!(related(r, "workspace"), vec![("workspaces", "ws-1")]);
        assert!(related(r, "comments").is_empty() && related(r, "missing").is_empty());
        assert_eq!(
            own_organization(&json!({"relationships": {"organization": {"data": {"id": "acme", "type": "organizations"}}}})),
            Some("acme")
        );
        assert!(learnable("plans") && !learnable("users") && !learnable("organizations"));
        assert_eq!(ids_in(&json!([" ws-1 ", "", "ws-2"])), vec!["ws-1", "ws-2"]);
    }
}
