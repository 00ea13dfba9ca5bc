//! The HCP Terraform tool catalog, as data.
//!
//! Every MCP tool is one [`ToolSpec`] entry in [`data`]: its name, method,
//! tag, HTTP verb and path template, and its parameters with where each one
//! goes (path, query string, JSON:API attribute, relationship, plain body
//! field). The gateway's generic executor (`execute`) turns any entry into a
//! request and flattens the answer, so adding an endpoint is a few lines in
//! `data.rs`. Only a few tools need a dedicated [`Handler`] (two-step reads,
//! temporary blob URLs, friendlier conflict messages).

mod annotations;
mod data;
pub mod docs;
mod includes;
mod owners;
mod scope;

pub use annotations::ToolAnnotations;
pub use owners::{ID_ARGUMENTS, IdKind, Owner, OwnerLookup, Scan, id_argument, id_matches, id_prefix, nested_ids};
pub use scope::{OrganizationTool, SCOPED_ORGANIZATION_TOOLS, ScopeRule, organization_tool, refused_when_scoped};

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, OnceLock};

use serde_json::{Map, Value, json};

/// The 16 letters and digits after an id's prefix in schema examples.
const EXAMPLE_ID_TAIL: &str = "HRkJLSYWF97jucqQ";

/// Default and maximum page sizes of the HCP Terraform API.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// Operators of the Explorer's filter language (documented names).
pub const FILTER_OPERATORS: &[&str] =
    &["is", "is_not", "contains", "does_not_contain", "is_empty", "is_not_empty", "gt", "lt", "gteq", "lteq", "is_before", "is_after"];
/// Most filters one Explorer query may carry.
pub const MAX_FILTERS: usize = 10;
/// JSON Schema pattern of a name path segment ([`segment_ok`]).
pub const SEGMENT_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";

/// True for a registry name used as one path segment: 1 to 128 letters,
/// digits, `-`, `_` and `.`, not starting with `.` or `-` (so never `..`, a
/// `/`, `?`, `#` or `%`): what HCP Terraform accepts for namespaces, module
/// and provider names and versions.
pub fn segment_ok(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// The projection argument of every list and get tool.
pub const FIELDS_ARG: &str = "fields";
/// The related-records argument of the tools that declare [`Include`]s.
pub const INCLUDE_ARG: &str = "include";
/// Most names one `fields` argument may hold.
pub const MAX_FIELDS: usize = 64;
/// Shape of one `fields` name: a snake_case identifier, nothing that could
/// reach a query string or a path.
pub const FIELD_PATTERN: &str = "^[a-z][a-z0-9_]{0,63}$";

/// True when `name` matches [`FIELD_PATTERN`].
pub fn is_field_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// A related record a tool can return in `included`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Include {
    /// The name a model passes (snake_case).
    pub name: &'static str,
    /// The name HCP Terraform's `include=` takes (as go-tfe sends it).
    pub api: &'static str,
}

impl Include {
    pub const fn new(name: &'static str, api: &'static str) -> Self {
        Self { name, api }
    }
}

/// The method of a tool; servers allow tools by method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    List,
    Get,
    Create,
    Update,
    Delete,
    /// Actions that only read: wait for a run, read logs, list a plan's
    /// changes, download state. They change nothing upstream.
    Observe,
    /// Actions that change something: apply, discard, lock, force unlock...
    Custom,
}

impl Method {
    pub const ALL: [Method; 7] =
        [Method::List, Method::Get, Method::Create, Method::Update, Method::Delete, Method::Observe, Method::Custom];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::List => "list",
            Method::Get => "get",
            Method::Create => "create",
            Method::Update => "update",
            Method::Delete => "delete",
            Method::Observe => "observe",
            Method::Custom => "custom",
        }
    }

    /// Parse one single method name (not a group), case-insensitively.
    pub fn parse(s: &str) -> Option<Method> {
        let s = s.trim();
        Method::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(s))
    }

    /// True for `list` and `get`.
    pub fn is_read(self) -> bool {
        matches!(self, Method::List | Method::Get)
    }

    /// True for the methods whose tools change nothing upstream (`list`,
    /// `get`, `observe`): annotated read-only.
    pub fn is_read_only(self) -> bool {
        self.is_read() || self == Method::Observe
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The method groups a spec may name, with the single methods each stands
/// for. `custom` includes `observe`: a server that may act on runs may also
/// watch them (and servers written before `observe` existed keep their
/// tools); `read` does not, so `[read]` stays list + get only.
pub const METHOD_GROUPS: &[(&str, &[Method])] = &[
    ("read", &[Method::List, Method::Get]),
    ("observe", &[Method::Observe]),
    ("write", &[Method::Create, Method::Update, Method::Delete]),
    ("custom", &[Method::Custom, Method::Observe]),
];

/// Expand a spec's methods (the groups of [`METHOD_GROUPS`] or single
/// methods) into the set of single method names. An unknown entry is an
/// error that names it.
pub fn expand_methods(spec: &[String]) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    for entry in spec {
        let e = entry.trim().to_ascii_lowercase();
        let methods: Vec<Method> = match METHOD_GROUPS.iter().find(|(g, _)| *g == e) {
            Some((_, methods)) => methods.to_vec(),
            None => match Method::parse(&e) {
                Some(m) => vec![m],
                None => {
                    return Err(format!(
                        "unknown method {:?}: expected one of read, observe, write, custom, list, get, create, update, delete",
                        truncate(entry, 40)
                    ));
                }
            },
        };
        out.extend(methods.iter().map(|m| m.as_str().to_owned()));
    }
    Ok(out)
}

/// At most `max` characters of `s` (with `...` when cut), for echoing
/// untrusted input in errors.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() > max { format!("{}...", s.chars().take(max).collect::<String>()) } else { s.to_owned() }
}

/// Every known tag: the resource groups of the catalog (kebab-case).
pub const TAGS: &[&str] = &[
    "organizations",
    "projects",
    "workspaces",
    "runs",
    "plans",
    "applies",
    "cost-estimates",
    "policy-checks",
    "state-versions",
    "variables",
    "variable-sets",
    "policies",
    "policy-sets",
    "teams",
    "team-access",
    "users",
    "ssh-keys",
    "organization-tokens",
    "tags",
    "configuration-versions",
    "agent-pools",
    "notification-configurations",
    "comments",
    "assessments",
    "run-triggers",
    "explorer",
    "private-registry",
    "stacks",
    REGISTRY_TAG,
    "organization-memberships",
    "vcs",
    "run-tasks",
    "task-stages",
    "policy-evaluations",
];

/// The tag of the public Terraform Registry tools (see [`crate::registry`]):
/// they never use the route's HCP Terraform token.
pub const REGISTRY_TAG: &str = "registry";

/// HTTP verb of the upstream request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Patch,
    Put,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
            Verb::Put => "PUT",
            Verb::Delete => "DELETE",
        }
    }
}

/// JSON type of a tool argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Boolean,
    /// Array of strings.
    StringList,
    /// A JSON object; when sent as an attribute its keys are kebab-cased
    /// recursively (`oauth_token_id` -> `oauth-token-id`).
    Object,
    /// Array of `{key, value}` string pairs (run variables), sent verbatim.
    KeyValueList,
    /// Array of `{field, operator, value}` filters (the Explorer's filter
    /// language), sent as `{api}[i][field][operator][0]=value`.
    FilterList,
}

impl Kind {
    fn json_type(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Integer => "integer",
            Kind::Boolean => "boolean",
            Kind::StringList | Kind::KeyValueList | Kind::FilterList => "array",
            Kind::Object => "object",
        }
    }
}

/// Where an argument goes in the upstream request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// `{name}` placeholder in the path template.
    Path,
    /// Query string parameter with this API name (`search[name]`).
    Query(&'static str),
    /// JSON:API attribute with this (kebab-case) name.
    Attr(&'static str),
    /// JSON:API relationship: `{rel: {data: {type, id}}}`, or a list of
    /// `{type, id}` when the argument is a [`Kind::StringList`].
    Rel { rel: &'static str, type_: &'static str },
    /// Top-level key of a plain JSON body (`{"comment": ...}` of run actions).
    Body(&'static str),
    /// Used by the tool's handler, not sent as is.
    Local,
    /// Key-value tag filter (`filter[tagged]`): each `key` or `key:value`
    /// item of a string list becomes `{api}[i][key]` (and `{api}[i][value]`).
    TagFilter(&'static str),
}

/// One tool argument.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub loc: Loc,
    pub required: bool,
    pub description: &'static str,
    /// Allowed values (strings), if the API restricts them.
    pub allowed: &'static [&'static str],
    /// Marks arguments that may carry secrets (variable values, keys), so
    /// callers never log them.
    pub secret: bool,
    /// What the argument names, for the organization allow-list; declared
    /// by argument name in [`ID_ARGUMENTS`].
    pub owner: Owner,
    /// Documented prefix of the ids it carries ([`id_prefix`]): every value
    /// is checked before any upstream call, wherever it goes.
    pub id_prefix: Option<&'static str>,
    /// A name used as a path segment (registry namespace, module or provider
    /// name): only letters, digits, `-`, `_` and `.` (see [`segment_ok`]).
    pub segment: bool,
    /// A JSON Schema `pattern` for string arguments whose shape the tool
    /// checks itself (public registry names, versions, document ids).
    pub pattern: Option<&'static str>,
}

impl Param {
    fn new(name: &'static str, kind: Kind, loc: Loc, description: &'static str) -> Self {
        let owner = id_argument(name).unwrap_or(Owner::None);
        Self {
            name,
            kind,
            loc,
            required: false,
            description,
            allowed: &[],
            secret: false,
            owner,
            id_prefix: id_prefix(name),
            segment: false,
            pattern: None,
        }
    }
    /// A path parameter (required unless the tool has alternative paths).
    pub fn path(name: &'static str, description: &'static str) -> Self {
        Self { required: true, ..Self::new(name, Kind::String, Loc::Path, description) }
    }
    pub fn query(name: &'static str, api: &'static str, kind: Kind, description: &'static str) -> Self {
        Self::new(name, kind, Loc::Query(api), description)
    }
    pub fn attr(name: &'static str, api: &'static str, kind: Kind, description: &'static str) -> Self {
        Self::new(name, kind, Loc::Attr(api), description)
    }
    pub fn rel(name: &'static str, rel: &'static str, type_: &'static str, description: &'static str) -> Self {
        Self::new(name, Kind::String, Loc::Rel { rel, type_ }, description)
    }
    pub fn rels(name: &'static str, rel: &'static str, type_: &'static str, description: &'static str) -> Self {
        Self::new(name, Kind::StringList, Loc::Rel { rel, type_ }, description)
    }
    pub fn body(name: &'static str, api: &'static str, kind: Kind, description: &'static str) -> Self {
        Self::new(name, kind, Loc::Body(api), description)
    }
    pub fn local(name: &'static str, kind: Kind, description: &'static str) -> Self {
        Self::new(name, kind, Loc::Local, description)
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }
    pub fn one_of(mut self, allowed: &'static [&'static str]) -> Self {
        self.allowed = allowed;
        self
    }
    pub fn pattern(mut self, pattern: &'static str) -> Self {
        self.pattern = Some(pattern);
        self
    }
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }
    /// A name path segment (see [`Param::segment`]).
    pub fn name_segment(mut self) -> Self {
        self.segment = true;
        self
    }
    /// The argument only means something inside the resource named by the
    /// sibling argument, whose organization is checked instead.
    pub fn within(mut self, sibling: &'static str) -> Self {
        self.owner = Owner::Within(sibling);
        self
    }
}

/// Shape of the request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    None,
    /// `{"data": {"type", "attributes", "relationships"}}` from `Attr`/`Rel` params.
    Resource(&'static str),
    /// A plain JSON object from `Body` params (omitted when empty).
    Plain,
    /// `{"data": [{"type", "id"}...]}` from the named string-list argument.
    RelationshipList {
        type_: &'static str,
        param: &'static str,
    },
    /// `{"data": [{"type": "tags", "attributes": {"name"}} | {"type": "tags", "id"}]}`
    /// from the `tag_names` / `tag_ids` arguments.
    Tags,
    /// `{"data": [{"type": "tag-bindings", "attributes": {"key", "value"}}]}`
    /// from the `tag_bindings` argument (a [`Kind::KeyValueList`]).
    TagBindings,
    /// A fixed JSON document (the documented payload of an action without
    /// arguments, e.g. detaching an SSH key: `{"id": null}`).
    Fixed(&'static str),
}

/// How a tool's response is handled beyond the generic flattening.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handler {
    /// Send the request, flatten the answer (resource, list, or empty success).
    Standard,
    /// `POST /runs/:id/actions/{action}`: 202 -> accepted (+ current status);
    /// 409 -> explain with the run's current status.
    RunAction(&'static str),
    /// Workspace lock actions (`lock`, `unlock`, `force-unlock`) with their 409 meanings.
    WorkspaceLock(&'static str),
    /// Workspace safe delete (409 -> the workspace still manages resources).
    WorkspaceSafeDelete,
    /// Current state version of a workspace, with outputs and a resource summary.
    CurrentStateVersion,
    /// Download a state version's state (only when the route allows raw state).
    StateDownload,
    /// Poll a run until a wanted or final status.
    RunWait,
    /// Plan or apply logs through the temporary log URL (`plans` / `applies`).
    Logs(&'static str),
    /// Resource changes from a plan's JSON output.
    PlanResourceChanges,
    /// Create a policy, then upload its code when given.
    CreatePolicy,
    /// [`Handler::Standard`], with this explanation of a 409 (a stage not
    /// awaiting override, a rollback without the workspace lock).
    Conflict(&'static str),
    /// Add or remove team members by `usernames` or `user_ids` (looked up
    /// to usernames, which the API's `users` relationship takes).
    TeamUsers,
    /// A workspace's README (`?include=readme`), as markdown.
    WorkspaceReadme,
    /// Drift and check results from an assessment result's JSON plan.
    AssessmentDrift,
    /// An assessment's JSON log, rendered as readable lines.
    AssessmentLogs,
    /// An Explorer query: field names checked against the chosen view.
    Explorer,
    /// A read of the public Terraform Registry (never with the HCP Terraform token).
    Registry(RegistryOp),
}

/// The public Terraform Registry reads (see `execute::registry`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryOp {
    SearchProviders,
    ProviderDetails,
    ProviderDocs,
    ProviderDoc,
    SearchModules,
    ModuleDetails,
    ModuleVersions,
    SearchPolicies,
    PolicyDetails,
}

/// One tool of the catalog.
#[derive(Debug)]
pub struct ToolSpec {
    pub name: &'static str,
    pub method: Method,
    pub tag: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub verb: Verb,
    /// Path templates below `/api/v2`, `{param}` placeholders. When there are
    /// several, the first one whose placeholders are all given is used.
    pub paths: Vec<&'static str>,
    pub params: Vec<Param>,
    pub body: Body,
    pub handler: Handler,
    /// Destructive custom action (annotation `destructiveHint`).
    pub destructive: bool,
    /// Custom action that sets something to a given value (annotation
    /// `idempotentHint`; see [`ToolSpec::is_idempotent`] for the rule).
    pub sets_value: bool,
    /// Only exposed when the route allows raw state downloads.
    pub requires_raw_state: bool,
    /// Mints a credential that can outlive the server's `expiresAt` (an
    /// organization token): never exposed by a method group alone, only when
    /// `tools.include` names it; always destructive.
    pub mints_credential: bool,
    /// Path parameter repeated as the request document's `data.id` (updates
    /// whose documented payload names the resource, e.g. variables).
    pub body_id: Option<&'static str>,
    /// Related records the API can return in `included` (`include=`), by
    /// the name a model passes.
    pub includes: &'static [Include],
    /// JSON:API type whose sparse fieldset (`fields[type]=`) HCP Terraform
    /// honours for this tool; `fields` is applied by the gateway either way.
    pub sparse_type: Option<&'static str>,
    schema: OnceLock<Arc<Map<String, Value>>>,
}

impl ToolSpec {
    fn new(
        name: &'static str,
        method: Method,
        tag: &'static str,
        title: &'static str,
        verb: Verb,
        path: &'static str,
        description: &'static str,
    ) -> Self {
        Self {
            name,
            method,
            tag,
            title,
            description,
            verb,
            paths: vec![path],
            params: Vec::new(),
            body: Body::None,
            handler: Handler::Standard,
            destructive: method == Method::Delete,
            sets_value: false,
            requires_raw_state: false,
            mints_credential: false,
            body_id: None,
            includes: &[],
            sparse_type: None,
            schema: OnceLock::new(),
        }
    }
    fn params(mut self, params: Vec<Param>) -> Self {
        self.params = params;
        self
    }
    fn alt_path(mut self, path: &'static str) -> Self {
        self.paths.push(path);
        self
    }
    fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }
    fn body_id(mut self, param: &'static str) -> Self {
        self.body_id = Some(param);
        self
    }
    fn includes(mut self, includes: &'static [Include]) -> Self {
        self.includes = includes;
        self
    }
    fn sparse(mut self, type_: &'static str) -> Self {
        self.sparse_type = Some(type_);
        self
    }
    fn handler(mut self, handler: Handler) -> Self {
        self.handler = handler;
        self
    }
    /// A custom action that sets a value: repeating it changes nothing.
    pub(crate) fn idempotent(mut self) -> Self {
        self.sets_value = true;
        self
    }
    fn destructive(mut self) -> Self {
        self.destructive = true;
        self
    }
    fn raw_state(mut self) -> Self {
        self.requires_raw_state = true;
        self
    }
    fn mints_credential(mut self) -> Self {
        self.mints_credential = true;
        self.destructive = true;
        self
    }

    /// The parameter with this name.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Paging arguments every list tool accepts, beside its own parameters.
    pub fn is_paged(&self) -> bool {
        self.method == Method::List
    }

    /// Every list and get tool accepts `fields` (projection of its records).
    pub fn is_projectable(&self) -> bool {
        self.method.is_read()
    }

    /// The include a model names, if this tool offers it.
    pub fn include(&self, name: &str) -> Option<&Include> {
        self.includes.iter().find(|i| i.name == name)
    }

    /// Flat JSON Schema of the arguments (built once, then shared).
    pub fn input_schema(&self) -> Arc<Map<String, Value>> {
        self.schema.get_or_init(|| Arc::new(self.build_schema())).clone()
    }

    fn build_schema(&self) -> Map<String, Value> {
        let mut props = Map::new();
        let mut required = Vec::new();
        for p in &self.params {
            let mut s = Map::new();
            s.insert("type".into(), json!(p.kind.json_type()));
            match p.kind {
                Kind::StringList => {
                    s.insert("items".into(), json!({"type": "string"}));
                }
                Kind::KeyValueList => {
                    s.insert(
                        "items".into(),
                        json!({
                            "type": "object",
                            "properties": {"key": {"type": "string"}, "value": {"type": "string"}},
                            "required": ["key", "value"],
                            "additionalProperties": false
                        }),
                    );
                }
                Kind::FilterList => {
                    s.insert(
                        "items".into(),
                        json!({
                            "type": "object",
                            "properties": {
                                "field": {"type": "string", "description": "Field of the view, snake_case (e.g. `workspace_terraform_version`)."},
                                "operator": {"type": "string", "enum": FILTER_OPERATORS},
                                "value": {"type": ["string", "number", "boolean"], "description": "Value compared with (omit for is_empty / is_not_empty)."}
                            },
                            "required": ["field", "operator"],
                            "additionalProperties": false
                        }),
                    );
                    s.insert("maxItems".into(), json!(MAX_FILTERS));
                }
                _ => {}
            }
            if p.segment {
                s.insert("pattern".into(), json!(SEGMENT_PATTERN));
            }
            if !p.allowed.is_empty() {
                s.insert("enum".into(), json!(p.allowed));
            }
            if (p.loc == Loc::Path || p.required) && p.kind == Kind::String {
                s.insert("minLength".into(), json!(1));
            }
            if let Some(prefix) = p.id_prefix {
                let pattern = json!(format!("^{prefix}-[A-Za-z0-9]{{1,64}}$"));
                // A well-formed example: models copy the shape, not the value.
                let example = format!("{prefix}-{EXAMPLE_ID_TAIL}");
                match p.kind {
                    Kind::StringList => {
                        s.insert("items".into(), json!({"type": "string", "pattern": pattern}));
                        s.insert("examples".into(), json!([[example]]));
                    }
                    _ => {
                        s.insert("pattern".into(), pattern);
                        s.insert("examples".into(), json!([example]));
                    }
                }
            }
            if let Some(pattern) = p.pattern {
                s.insert("pattern".into(), json!(pattern));
            }
            s.insert("description".into(), json!(p.description));
            props.insert(p.name.into(), Value::Object(s));
            if p.required {
                required.push(json!(p.name));
            }
        }
        if self.is_paged() {
            props.insert(
                "page_number".into(),
                json!({"type": "integer", "minimum": 1, "description": "Page to return, starting at 1 (default 1)."}),
            );
            props.insert(
                "page_size".into(),
                json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE,
                       "description": "Results per page (default 20, max 100)."}),
            );
            props.insert(
                "next_cursor".into(),
                json!({"type": "string",
                       "description": "The next_cursor of a previous answer of this tool: returns the following page of the same query (its filters and page size come with the cursor; pass the same path arguments)."}),
            );
        }
        if self.is_projectable() {
            props.insert(
                FIELDS_ARG.into(),
                json!({"type": "array", "maxItems": MAX_FIELDS, "uniqueItems": true,
                       "items": {"type": "string", "pattern": FIELD_PATTERN},
                       "examples": [["name", "status", "created_at"]],
                       "description": "Only return these attributes of each record, as named in the answer (snake_case, e.g. [\"name\", \"terraform_version\"]); id and type are always returned. Names no record has are listed in fields_missing."}),
            );
        }
        if !self.includes.is_empty() {
            let names: Vec<&str> = self.includes.iter().map(|i| i.name).collect();
            props.insert(
                INCLUDE_ARG.into(),
                json!({"type": "array", "maxItems": names.len(), "uniqueItems": true,
                       "items": {"type": "string", "enum": names},
                       "examples": [names.iter().take(2).collect::<Vec<_>>()],
                       "description": format!("Related records to return in `included` in the same call: {}.", names.join(", "))}),
            );
        }
        let mut schema = Map::new();
        schema.insert("type".into(), json!("object"));
        schema.insert("properties".into(), Value::Object(props));
        if !required.is_empty() {
            schema.insert("required".into(), Value::Array(required));
        }
        schema.insert("additionalProperties".into(), json!(false));
        schema
    }

    /// MCP annotations from the method: read and observe tools are
    /// read-only, deletes, destructive custom actions and credential minting
    /// are destructive, everything is open-world.
    pub fn annotations(&self) -> ToolAnnotations {
        let a = ToolAnnotations { title: self.title, open_world_hint: Some(true), ..ToolAnnotations::default() };
        if self.method.is_read_only() {
            ToolAnnotations { read_only_hint: Some(true), ..a }
        } else {
            ToolAnnotations {
                read_only_hint: Some(false),
                destructive_hint: Some(self.destructive),
                idempotent_hint: Some(self.is_idempotent()),
                ..a
            }
        }
    }

    /// True when repeating the call has no further effect: updates and
    /// deletes, and custom actions that set a relationship to the given
    /// members (adding members already there, removing absent ones or
    /// setting the same list again changes nothing). Actions that start,
    /// stop or override something are not: the second call fails or acts again.
    pub fn is_idempotent(&self) -> bool {
        match self.method {
            Method::Update | Method::Delete => true,
            Method::Custom => {
                matches!(self.body, Body::RelationshipList { .. } | Body::Tags | Body::TagBindings | Body::Fixed(_))
                    || self.handler == Handler::TeamUsers
                    || self.sets_value
            }
            _ => false,
        }
    }
}

/// The static tool catalog.
#[derive(Debug)]
pub struct Catalog {
    tools: Vec<ToolSpec>,
    index: HashMap<&'static str, usize>,
    tags: BTreeSet<&'static str>,
}

impl Catalog {
    fn new(tools: Vec<ToolSpec>) -> Self {
        let index = tools.iter().enumerate().map(|(i, t)| (t.name, i)).collect();
        let tags = tools.iter().map(|t| t.tag).collect();
        Self { tools, index, tags }
    }
    pub fn get(&self, name: &str) -> Option<&ToolSpec> {
        self.index.get(name).map(|&i| &self.tools[i])
    }
    pub fn iter(&self) -> impl Iterator<Item = &ToolSpec> {
        self.tools.iter()
    }
    pub fn len(&self) -> usize {
        self.tools.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
    /// True when the tag is known (listed in [`TAGS`] and used by a tool).
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.contains(tag) && TAGS.contains(&tag)
    }
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog::new(data::tools()));

/// The catalog, built once.
pub fn catalog() -> &'static Catalog {
    &CATALOG
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_and_get_tool_declares_fields_and_its_includes() {
        for t in catalog().iter() {
            let schema = t.input_schema();
            let props = schema["properties"].as_object().unwrap();
            assert_eq!(props.contains_key(FIELDS_ARG), t.method.is_read(), "{}", t.name);
            if let Some(f) = props.get(FIELDS_ARG) {
                assert_eq!(f["items"]["pattern"], FIELD_PATTERN, "{}", t.name);
                assert!(f["examples"].as_array().is_some_and(|e| !e.is_empty()), "{}", t.name);
            }
            assert_eq!(props.contains_key(INCLUDE_ARG), !t.includes.is_empty(), "{}", t.name);
            assert!(t.params.iter().all(|p| p.name != FIELDS_ARG && p.name != INCLUDE_ARG), "{}", t.name);
            for i in t.includes {
                assert!(is_field_name(i.name), "{}: {}", t.name, i.name);
                assert!(i.api.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-' || b == b'.'), "{}", i.api);
            }
        }
        let run = catalog().get("get_single_hashicorp_terraform_cloud_run_by_id").unwrap();
        let names = &run.input_schema()["properties"][INCLUDE_ARG]["items"]["enum"];
        assert!(["plan", "apply", "cost_estimate"].iter().all(|n| names.as_array().unwrap().contains(&json!(n))), "{names}");
        for (name, ok) in [
            ("name", true),
            ("terraform_version", true),
            ("a1_b", true),
            ("", false),
            ("Name", false),
            ("1a", false),
            ("name&x", false),
            ("../", false),
            ("a-b", false),
        ] {
            assert_eq!(is_field_name(name), ok, "{name:?}");
        }
        assert!(!is_field_name(&"a".repeat(65)));
    }

    #[test]
    fn methods_parse_and_expand() {
        assert_eq!(Method::parse("GET"), Some(Method::Get));
        assert_eq!(Method::parse("read"), None);
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let set = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(expand_methods(&s(&["read"])).unwrap(), set(&["get", "list"]));
        assert_eq!(expand_methods(&s(&["write", "custom"])).unwrap(), set(&["create", "update", "delete", "custom", "observe"]));
        assert_eq!(expand_methods(&s(&["read", "observe"])).unwrap(), set(&["get", "list", "observe"]));
        assert_eq!(expand_methods(&s(&["list", "delete"])).unwrap(), set(&["list", "delete"]));
        assert_eq!(expand_methods(&[]).unwrap(), BTreeSet::new());
        let err = expand_methods(&s(&["read", "admin"])).unwrap_err();
        assert!(err.contains("\"admin\""), "{err}");
    }
}
