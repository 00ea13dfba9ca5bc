//! Generic JSON:API resources, declared as data.
//!
//! Most of the HCP Terraform API is plain CRUD below a parent (variable
//! sets of an organization, variables of a set, run tasks, OAuth clients...).
//! Rather than a hand-written handler per resource, each such resource is a
//! [`Kind`] row: its JSON:API type, id prefix, collection and item paths,
//! parent, required attributes and write-only attributes. [`crate::routes::records`]
//! serves every row (list with paging and `q`/`search[name]`, show, create,
//! update, delete) and every [`RelationshipList`] row (`POST`/`DELETE` of
//! `{"data": [{"type", "id"}]}`). Resources with behaviour of their own
//! (runs, state, locks) keep their typed modules.
//!
//! Areas add their rows in their own module under `kinds/` and list it in
//! [`KINDS`] / [`RELATIONSHIP_LISTS`] / [`seed_all`].

use serde_json::{Map, Value, json};

use crate::kinds;
use crate::store::{Store, Time};

/// What a resource lives below, i.e. what `{parent}` in its paths names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parent {
    /// An organization, by name.
    Organization,
    /// A typed workspace (`ws-...`).
    Workspace,
    /// A typed project (`prj-...`).
    Project,
    /// A record of another [`Kind`], by JSON:API type.
    Record(&'static str),
    /// A typed run (`run-...`).
    Run,
    /// Nothing: the collection path has no `{parent}` (GitHub App
    /// installations, seen by every token).
    Global,
}

impl Parent {
    /// JSON:API type of the parent, for the relationship rendered to it.
    pub fn api_type(self) -> &'static str {
        match self {
            Parent::Organization => "organizations",
            Parent::Workspace => "workspaces",
            Parent::Project => "projects",
            Parent::Run => "runs",
            Parent::Global => "",
            Parent::Record(t) => t,
        }
    }
}

/// Which operations a kind offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ops {
    pub list: bool,
    pub create: bool,
    pub show: bool,
    pub update: bool,
    pub delete: bool,
}

pub const CRUD: Ops = Ops { list: true, create: true, show: true, update: true, delete: true };
pub const READ_ONLY: Ops = Ops { list: true, create: false, show: true, update: false, delete: false };

/// One generic resource.
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    /// JSON:API type (`varsets`).
    pub type_: &'static str,
    /// Id prefix (`varset`).
    pub prefix: &'static str,
    /// List/create path below `/api/v2`, `{parent}` naming the parent.
    pub collection: &'static str,
    /// Show/update/delete path below `/api/v2`; `{id}` is the record,
    /// `{parent}` may appear too (nested items).
    pub item: &'static str,
    pub parent: Parent,
    /// Relationship rendered to the parent (`organization`), if any.
    pub parent_rel: Option<&'static str>,
    pub ops: Ops,
    /// Attributes a create must carry (422 otherwise).
    pub required: &'static [&'static str],
    /// Attribute unique among the parent's records (422 on a duplicate).
    pub unique: Option<&'static str>,
    /// Attributes never returned (tokens, secrets).
    pub write_only: &'static [&'static str],
    /// `(flag, attribute)`: the attribute is returned as `null` while the
    /// boolean flag attribute is true (a sensitive variable's `value`).
    pub masked_when: Option<(&'static str, &'static str)>,
    /// Attribute defaults of a created record.
    pub defaults: fn() -> Value,
    /// Attributes `q` / `search[name]` match (case-insensitive substring).
    pub search: &'static [&'static str],
    /// `(query parameter, attribute)`: list filters, comma-separated exact
    /// values (`filter[status]=invited,active`).
    pub filters: &'static [(&'static str, &'static str)],
    /// The collection path has no `{parent}`: a list takes the parent from
    /// this query parameter (`filter[project][id]`), a create from the
    /// `parent_rel` relationship of the document (`team-projects`).
    pub parent_query: Option<&'static str>,
}

impl Kind {
    /// A CRUD kind with no defaults and no secrets; adjust with struct update syntax.
    pub const fn new(
        type_: &'static str,
        prefix: &'static str,
        collection: &'static str,
        item: &'static str,
        parent: Parent,
        parent_rel: Option<&'static str>,
    ) -> Kind {
        Kind {
            type_,
            prefix,
            collection,
            item,
            parent,
            parent_rel,
            ops: CRUD,
            required: &[],
            unique: None,
            write_only: &[],
            masked_when: None,
            defaults: no_defaults,
            search: &["name"],
            filters: &[],
            parent_query: None,
        }
    }
}

pub fn no_defaults() -> Value {
    json!({})
}

/// `POST`/`DELETE {path}` with `{"data": [{"type", "id"}...]}` adds to or
/// removes from a relationship of a record (or of a typed resource).
#[derive(Clone, Copy, Debug)]
pub struct RelationshipList {
    /// Path below `/api/v2`, `{id}` naming the owner.
    pub path: &'static str,
    /// JSON:API type of the owner (`varsets`).
    pub owner_type: &'static str,
    /// Relationship name on the owner (`workspaces`).
    pub rel: &'static str,
    /// Type every listed item must have.
    pub item_type: &'static str,
}

/// A stored generic resource.
#[derive(Debug, Clone)]
pub struct Record {
    pub type_: &'static str,
    pub id: String,
    /// Id or name of the parent (see [`Kind::parent`]).
    pub parent: String,
    pub attributes: Map<String, Value>,
    /// Relationship name to its `data` (object, array or null).
    pub relationships: Map<String, Value>,
    pub created_at: Time,
}

impl Record {
    /// A seeded record; `attributes` must be a JSON object.
    pub fn seeded(kind: &Kind, id: &str, parent: &str, attributes: Value, created_at: Time) -> Record {
        let mut attrs = match (kind.defaults)() {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        if let Value::Object(m) = attributes {
            attrs.extend(m);
        }
        Record {
            type_: kind.type_,
            id: id.to_string(),
            parent: parent.to_string(),
            attributes: attrs,
            relationships: Map::new(),
            created_at,
        }
    }

    /// Sets a to-one relationship.
    pub fn with_rel(mut self, name: &str, type_: &str, id: &str) -> Record {
        self.relationships.insert(name.to_string(), json!({"id": id, "type": type_}));
        self
    }

    /// Sets a to-many relationship.
    pub fn with_rels(mut self, name: &str, type_: &str, ids: &[&str]) -> Record {
        let items: Vec<Value> = ids.iter().map(|id| json!({"id": id, "type": type_})).collect();
        self.relationships.insert(name.to_string(), Value::Array(items));
        self
    }

    /// Ids in a to-many relationship.
    pub fn rel_ids(&self, name: &str) -> Vec<String> {
        match self.relationships.get(name) {
            Some(Value::Array(items)) => items.iter().filter_map(|i| i["id"].as_str().map(str::to_string)).collect(),
            Some(Value::Object(o)) => o.get("id").and_then(Value::as_str).map(|s| vec![s.to_string()]).unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// Every generic kind.
pub fn kinds() -> impl Iterator<Item = &'static Kind> {
    KINDS.iter().flat_map(|k| k.iter())
}

/// Every relationship list.
pub fn relationship_lists() -> impl Iterator<Item = &'static RelationshipList> {
    RELATIONSHIP_LISTS.iter().flat_map(|k| k.iter())
}

pub fn kind(type_: &str) -> Option<&'static Kind> {
    kinds().find(|k| k.type_ == type_)
}

/// One slice per area module (see [`crate::kinds`]).
const KINDS: &[&[Kind]] = &[
    kinds::variables::KINDS,
    kinds::workspace_insights::KINDS,
    kinds::private_registry::KINDS,
    kinds::stacks::KINDS,
    kinds::teams::KINDS,
    kinds::vcs::KINDS,
    kinds::variable_sets::KINDS,
    kinds::run_tasks::KINDS,
    kinds::state_history::KINDS,
];
const RELATIONSHIP_LISTS: &[&[RelationshipList]] = &[kinds::variable_sets::RELATIONSHIP_LISTS];

/// Seeds every area's records (called by [`crate::seed::seed`]).
pub fn seed_all(store: &mut Store, at: Time) {
    kinds::variables::seed(store, at);
    kinds::workspace_insights::seed(store, at);
    kinds::private_registry::seed(store, at);
    kinds::stacks::seed(store, at);
    kinds::teams::seed(store, at);
    kinds::vcs::seed(store, at);
    kinds::tag_bindings::seed(store, at);
    kinds::variable_sets::seed(store, at);
    kinds::run_tasks::seed(store, at);
    kinds::state_history::seed(store, at);
}

/// Renders a record as a JSON:API resource object.
pub fn render(kind: &Kind, r: &Record, api_prefix: &str) -> Value {
    let mut attrs = r.attributes.clone();
    for w in kind.write_only {
        attrs.remove(*w);
    }
    if let Some((flag, attr)) = kind.masked_when
        && attrs.get(flag).and_then(Value::as_bool) == Some(true)
    {
        attrs.insert(attr.to_string(), Value::Null);
    }
    attrs.entry("created-at").or_insert_with(|| json!(crate::jsonapi::ts(r.created_at)));
    let mut rels = Map::new();
    if let Some(name) = kind.parent_rel.filter(|_| kind.parent != Parent::Global) {
        rels.insert(name.to_string(), json!({"data": {"id": r.parent, "type": kind.parent.api_type()}}));
    }
    for (name, data) in &r.relationships {
        rels.insert(name.clone(), json!({"data": data}));
    }
    let self_link = format!("{api_prefix}{}", fill(kind.item, &r.parent, &r.id));
    json!({"id": r.id, "type": kind.type_, "attributes": attrs, "relationships": rels, "links": {"self": self_link}})
}

/// A path template with `{parent}` and `{id}` filled in.
pub fn fill(template: &str, parent: &str, id: &str) -> String {
    template.replace("{parent}", parent).replace("{id}", id)
}

/// Matches `path` against a template: the captured `{parent}` and `{id}`.
pub fn match_path(template: &str, path: &str) -> Option<(Option<String>, Option<String>)> {
    let mut t = template.trim_matches('/').split('/');
    let mut p = path.trim_matches('/').split('/');
    let (mut parent, mut id) = (None, None);
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some((parent, id)),
            (Some(ts), Some(ps)) => {
                if ps.is_empty() {
                    return None;
                }
                match ts {
                    "{parent}" => parent = Some(ps.to_string()),
                    "{id}" => id = Some(ps.to_string()),
                    lit if lit == ps => {}
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_only_their_template() {
        let m = |t, p| match_path(t, p);
        assert_eq!(m("/varsets/{id}", "/varsets/varset-1"), Some((None, Some("varset-1".into()))));
        assert_eq!(
            m("/varsets/{parent}/relationships/vars/{id}", "/varsets/v/relationships/vars/var-1"),
            Some((Some("v".into()), Some("var-1".into())))
        );
        assert_eq!(m("/varsets/{id}", "/varsets/a/b"), None);
        assert_eq!(m("/varsets/{id}", "/varsets/"), None);
        assert_eq!(m("/organizations/{parent}/varsets", "/organizations/acme/varsets"), Some((Some("acme".into()), None)));
    }
}
