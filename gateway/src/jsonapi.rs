//! JSON:API translation: flat tool arguments -> request documents, and
//! response documents -> flat results (tools.md, "Flattening").
//!
//! Pure functions over `serde_json::Value`, no I/O, never panicking on any
//! input (the samples in the API docs have empty `{}` placeholders, null
//! relationship data, missing `meta`...).

use std::borrow::Cow;

use serde_json::{Map, Value, json};
use url::Url;

use crate::catalog::DEFAULT_PAGE_SIZE;

/// Media type of every HCP Terraform API request and response.
pub const MEDIA_TYPE: &str = "application/vnd.api+json";

/// Attribute names whose values are user data and are kept verbatim (an
/// output's value may be a map with any keys).
pub(crate) const VERBATIM_ATTRIBUTES: &[&str] = &["value", "detailed-type", "detailed_type"];

// ---- names ---------------------------------------------------------------------

/// `plan-only` -> `plan_only`. Only identifier-like keys are changed: keys
/// with other characters (`provider["registry.terraform.io/hashicorp/null"]`,
/// `module.vpc`) are data, not names, and stay as they are.
pub fn to_snake(key: &str) -> String {
    snake(key).into_owned()
}

/// [`to_snake`], borrowing `key` when nothing changes.
fn snake(key: &str) -> Cow<'_, str> {
    if renames_to_snake(key) { Cow::Owned(key.replace('-', "_")) } else { Cow::Borrowed(key) }
}

/// `plan_only` -> `plan-only` (same rule as [`to_snake`]).
pub fn to_kebab(key: &str) -> String {
    if is_identifier(key) { key.replace('_', "-") } else { key.to_owned() }
}

/// [`to_snake`] of a key the caller gives up: no allocation when nothing changes.
fn to_snake_owned(key: String) -> String {
    if renames_to_snake(&key) { key.replace('-', "_") } else { key }
}

/// True when [`to_snake`] changes `key`: an identifier with a `-`.
fn renames_to_snake(key: &str) -> bool {
    key.contains('-') && is_identifier(key)
}

fn is_identifier(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(is_name_byte)
}

/// A byte of an identifier-like key (see [`to_snake`]).
#[inline]
pub(crate) fn is_name_byte(b: u8) -> bool {
    NAME_BYTES[b as usize]
}

/// The bytes of an identifier-like key: ASCII letters, digits, `-` and `_`
/// (a table: every attribute name of every answer is checked).
static NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b == b'-' as usize || b == b'_' as usize;
        b += 1;
    }
    table
};

/// Snake-case every object key, recursively.
pub fn snake_keys(v: &Value) -> Value {
    convert_keys(v, &to_snake)
}

/// Kebab-case every object key, recursively (for object-valued attributes
/// such as `vcs_repo`).
pub fn kebab_keys(v: &Value) -> Value {
    convert_keys(v, &to_kebab)
}

/// [`snake_keys`] of a value the caller gives up: keys and values move, and
/// a map none of whose keys change is kept as it is (most nested values).
fn snake_keys_owned(mut v: Value) -> Value {
    snake_keys_in_place(&mut v);
    v
}

fn snake_keys_in_place(v: &mut Value) {
    match v {
        Value::Object(m) if m.keys().any(|k| renames_to_snake(k)) => {
            let renamed = std::mem::take(m).into_iter().map(|(k, v)| (to_snake_owned(k), snake_keys_owned(v))).collect();
            *m = renamed;
        }
        Value::Object(m) => m.values_mut().for_each(snake_keys_in_place),
        Value::Array(a) => a.iter_mut().for_each(snake_keys_in_place),
        _ => {}
    }
}

fn convert_keys(v: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (f(k), convert_keys(v, f))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(|v| convert_keys(v, f)).collect()),
        other => other.clone(),
    }
}

/// The singular of a plural name, as a stem and what follows it:
/// `outputs` -> `output`, `policies` -> `polic` + `y`, `vars` -> `var`.
pub(crate) fn singular_parts(name: &str) -> (&str, &str) {
    if let Some(stem) = name.strip_suffix("ies") {
        (stem, "y")
    } else if name.ends_with("ss") {
        (name, "")
    } else if let Some(stem) = name.strip_suffix('s') {
        (stem, "")
    } else {
        (name, "")
    }
}

// ---- requests ------------------------------------------------------------------

/// Build `{"data": {"type", "id"?, "attributes", "relationships"?}}`.
pub fn resource_document(type_: &str, id: Option<&str>, attributes: Map<String, Value>, relationships: Map<String, Value>) -> Value {
    let mut data = Map::new();
    data.insert("type".into(), json!(type_));
    if let Some(id) = id {
        data.insert("id".into(), json!(id));
    }
    data.insert("attributes".into(), Value::Object(attributes));
    if !relationships.is_empty() {
        data.insert("relationships".into(), Value::Object(relationships));
    }
    json!({ "data": data })
}

/// A to-one relationship value: `{"data": {"type", "id"}}`.
pub fn to_one(type_: &str, id: &str) -> Value {
    json!({"data": {"type": type_, "id": id}})
}

/// A to-many relationship value: `{"data": [{"type", "id"}...]}`.
pub fn to_many<'a>(type_: &str, ids: impl IntoIterator<Item = &'a str>) -> Value {
    json!({"data": ids.into_iter().map(|id| json!({"type": type_, "id": id})).collect::<Vec<_>>()})
}

// ---- capabilities --------------------------------------------------------------

/// Which temporary URLs a server may hand out (see [`CAPABILITY_ATTRIBUTES`]);
/// the tool filter derives it, so it lives with the filter in the contract crate.
pub use tfc_mcp_contract::filter::Grants;

/// What a server must grant for a capability attribute to be kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Never kept: a write capability (an upload URL lets whoever holds it
    /// replace a configuration or a state, without any API token).
    Never,
    /// The log tool of the resource's type.
    LogRead,
    /// Raw state downloads.
    RawState,
}

/// How an attribute name is matched (kebab-case, as HCP Terraform spells it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameMatch {
    Exact(&'static str),
    Suffix(&'static str),
}

/// Attributes that are bearer capabilities, not data: temporary URLs that
/// read or write without the API token. Flattening drops each one unless the
/// server grants what it needs, in every resource (lists, gets, `included`
/// records, create answers), whatever the tool.
pub const CAPABILITY_ATTRIBUTES: &[(NameMatch, Needs)] = &[
    // `upload-url` (configuration versions, test configurations),
    // `hosted-state-upload-url`, `hosted-json-state-upload-url`, ...
    (NameMatch::Suffix("upload-url"), Needs::Never),
    // Plans and applies; module test runs have one too (no log tool).
    (NameMatch::Exact("log-read-url"), Needs::LogRead),
    // `hosted-state-download-url`, `hosted-json-state-download-url`,
    // `sanitized-state-download-url`.
    (NameMatch::Suffix("state-download-url"), Needs::RawState),
];

/// What an attribute needs to be kept; `None` for ordinary data.
pub fn capability_of(attribute: &str) -> Option<Needs> {
    capability_of_name(&KebabName::of(attribute))
}

fn capability_of_name(name: &KebabName<'_>) -> Option<Needs> {
    CAPABILITY_ATTRIBUTES
        .iter()
        .find(|(m, _)| match m {
            NameMatch::Exact(n) => name.is(n),
            NameMatch::Suffix(s) => name.ends_with(s),
        })
        .map(|(_, needs)| *needs)
}

/// An attribute name compared as `to_kebab(name).to_ascii_lowercase()`
/// would be, without building that string: every attribute of every record
/// of an answer is compared, so this runs thousands of times per page.
struct KebabName<'a> {
    name: &'a str,
    /// `to_kebab` changes `_` to `-` only in identifier-like names: learnt
    /// when a `_` is first compared (most names have none), then kept, so
    /// the comparisons stay linear in the name's length, however long.
    dashes: std::cell::OnceCell<bool>,
}

impl<'a> KebabName<'a> {
    fn of(name: &'a str) -> Self {
        Self { name, dashes: std::cell::OnceCell::new() }
    }

    fn byte(&self, b: u8) -> u8 {
        match b.to_ascii_lowercase() {
            b'_' if *self.dashes.get_or_init(|| is_identifier(self.name)) => b'-',
            b => b,
        }
    }

    /// Equal to `target` (kebab-case, lowercase).
    fn is(&self, target: &str) -> bool {
        self.name.len() == target.len() && self.ends_with(target)
    }

    /// Ends with `suffix` (kebab-case, lowercase).
    fn ends_with(&self, suffix: &str) -> bool {
        let name = self.name.as_bytes();
        name.len() >= suffix.len() && name[name.len() - suffix.len()..].iter().zip(suffix.bytes()).all(|(&a, t)| self.byte(a) == t)
    }
}

/// Write-only secrets, by resource type (`None`: any type) and kebab-case
/// attribute: HCP Terraform does not return them, and no answer that echoes
/// one (an upstream bug, a proxy) passes the flattening. OAuth clients take a
/// VCS provider's token, secret and private key; OAuth tokens an SSH key;
/// SSH keys their private key.
pub const SECRET_ATTRIBUTES: &[(Option<&str>, &str)] = &[
    (None, "oauth-token-string"),
    (None, "private-key"),
    (Some("oauth-clients"), "secret"),
    (Some("oauth-tokens"), "ssh-key"),
    (Some("oauth-tokens"), "token"),
    (Some("ssh-keys"), "value"),
];

/// True for an attribute of [`SECRET_ATTRIBUTES`].
pub fn is_secret_attribute(type_: Option<&str>, attribute: &str) -> bool {
    is_secret_name(type_, &KebabName::of(attribute))
}

fn is_secret_name(type_: Option<&str>, name: &KebabName<'_>) -> bool {
    // The type first: most entries are of one type, and most names are of none.
    SECRET_ATTRIBUTES.iter().any(|(t, a)| t.is_none_or(|t| Some(t) == type_) && name.is(a))
}

/// What a [`Grants`] lets a flattened resource keep.
pub trait Keeps {
    /// True when a resource of `type_` may keep `attribute`.
    fn keeps(&self, type_: Option<&str>, attribute: &str) -> bool;
}

impl Keeps for Grants {
    fn keeps(&self, type_: Option<&str>, attribute: &str) -> bool {
        let name = KebabName::of(attribute);
        if is_secret_name(type_, &name) {
            return false;
        }
        match capability_of_name(&name) {
            None => true,
            Some(Needs::Never) => false,
            Some(Needs::LogRead) => type_.is_some_and(|t| self.log_read_types.contains(&t)),
            Some(Needs::RawState) => self.raw_state,
        }
    }
}

// ---- responses -----------------------------------------------------------------

/// Flatten one resource object: `id`, `type`, attributes with snake_case
/// keys (recursively), `{relationship}_id` / `{relationship}_ids`, and
/// `web_url` from `links.self-html` made absolute against `base`.
/// Capability attributes are dropped (nothing granted); see
/// [`flatten_resource_with`].
pub fn flatten_resource(resource: &Value, base: Option<&Url>) -> Value {
    flatten_resource_with(resource, base, &Grants::NONE)
}

/// [`flatten_resource`], keeping the capability attributes `grants` allows.
pub fn flatten_resource_with(resource: &Value, base: Option<&Url>, grants: &Grants) -> Value {
    flatten_resource_owned(resource.clone(), base, grants)
}

/// The flattening itself, on an answer the caller gives up: values move
/// into the result instead of being copied (a 57 KB page is thousands of
/// strings).
fn flatten_resource_owned(resource: Value, base: Option<&Url>, grants: &Grants) -> Value {
    let Value::Object(obj) = resource else { return resource };
    let (mut id, mut type_, mut attributes, mut relationships, mut links) = (None, None, None, None, None);
    for (k, v) in obj {
        match k.as_str() {
            "id" => id = Some(v),
            "type" => type_ = Some(v),
            "attributes" => attributes = Some(v),
            "relationships" => relationships = Some(v),
            "links" => links = Some(v),
            _ => {}
        }
    }
    // The fields in order of precedence: of two with one name, the first
    // wins. The links' fields, then the resource's type (over an attribute
    // named `type`) and id, then attributes, then relationship ids. Sorted
    // once at the end, the map is built in one go, not key by key.
    let mut fields: Vec<(String, Value)> = Vec::new();
    if let Some(links) = &links {
        link_fields(links, base, |k, v| fields.push((k, v)));
    }
    let kind = type_.as_ref().and_then(Value::as_str).map(str::to_owned);
    if let Some(t) = type_ {
        fields.push(("type".into(), t));
    }
    if let Some(id) = id {
        fields.push(("id".into(), id));
    }
    if let Some(Value::Object(attrs)) = attributes {
        fields.reserve(attrs.len());
        for (k, v) in attrs {
            if !grants.keeps(kind.as_deref(), &k) {
                continue;
            }
            let value = if VERBATIM_ATTRIBUTES.contains(&k.as_str()) { v } else { snake_keys_owned(v) };
            fields.push((to_snake_owned(k), value));
        }
    }
    if let Some(Value::Object(rels)) = relationships {
        for (name, rel) in rels {
            let Value::Object(rel) = rel else { continue };
            let Some(data) = rel.into_iter().find_map(|(k, v)| (k == "data").then_some(v)) else { continue };
            relationship_fields(&name, Linkage::of(data), |k, v| fields.push((k, v)));
        }
    }
    // Stable: the first of each name stays first, and is the one kept.
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields.dedup_by(|later, first| later.0 == first.0);
    Value::Object(fields.into_iter().collect())
}

/// The fields a resource's `links` give: `web_url` from `self-html` made
/// absolute against `base`, and `inherited_from` (where an effective tag
/// binding comes from: its project, as a path).
pub(crate) fn link_fields(links: &Value, base: Option<&Url>, push: impl FnMut(String, Value)) {
    let link = |name: &str| links.get(name).and_then(Value::as_str);
    link_fields_of(link("self-html"), link("inherited-from"), base, push);
}

/// [`link_fields`] of the links' `self-html` and `inherited-from`, when strings.
pub(crate) fn link_fields_of(
    self_html: Option<&str>,
    inherited_from: Option<&str>,
    base: Option<&Url>,
    mut push: impl FnMut(String, Value),
) {
    if let Some(html) = self_html {
        let url = match base {
            Some(b) => joined(b, html),
            None => html.to_owned(),
        };
        push("web_url".into(), Value::String(url));
    }
    if let Some(from) = inherited_from {
        push("inherited_from".into(), Value::String(from.to_owned()));
    }
}

/// `html` made absolute against `base` (as sent when it cannot be). The
/// usual link, an absolute path of plain segments, is the base's origin
/// and the path, as the URL parser joins it (the test checks): its general
/// join cost about 2,300 instructions for every resource of every page.
fn joined(base: &Url, html: &str) -> String {
    // Plain: no segment starts with a dot (so none is `.` or `..`), and
    // nothing the parser would encode or read as a query or a host.
    let mut previous = 0u8;
    let plain_path = html.starts_with('/')
        && !html.starts_with("//")
        && html.bytes().all(|b| {
            let plain = (b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~')) && !(previous == b'/' && b == b'.');
            previous = b;
            plain
        });
    if plain_path && base.has_host() && matches!(base.scheme(), "https" | "http") {
        return [&base[..url::Position::BeforePath], html].concat();
    }
    base.join(html).map(String::from).unwrap_or_else(|_| html.to_owned())
}

/// A relationship's `data` as flattening reads it: the ids of a list
/// (items without one left out), the id of one (null without), or neither.
pub(crate) enum Linkage {
    Many(Vec<Value>),
    One(Value),
    Other,
}

impl Linkage {
    pub(crate) fn of(data: Value) -> Self {
        match data {
            Value::Array(items) => Linkage::Many(
                items
                    .into_iter()
                    .filter_map(|i| match i {
                        Value::Object(mut o) => o.remove("id"),
                        _ => None,
                    })
                    .collect(),
            ),
            Value::Object(mut o) => Linkage::One(o.remove("id").unwrap_or(Value::Null)),
            _ => Linkage::Other,
        }
    }
}

/// The fields of relationship `name`: `{singular}_ids` of a list,
/// `{name}_id` otherwise, and `organization_name` for the organization.
pub(crate) fn relationship_fields(name: &str, linkage: Linkage, mut push: impl FnMut(String, Value)) {
    // Each field name is made in one allocation of its exact size.
    let snake = snake(name);
    match linkage {
        Linkage::Many(ids) => {
            let (stem, y) = singular_parts(&snake);
            push([stem, y, "_ids"].concat(), Value::Array(ids));
        }
        Linkage::One(id) => {
            if name == "organization" {
                push("organization_name".to_owned(), id.clone());
            }
            push([&*snake, "_id"].concat(), id);
        }
        Linkage::Other => push([&*snake, "_id"].concat(), Value::Null),
    }
}

/// Flattened `included` resources, if the document has any.
pub fn flatten_included(doc: &Value, base: Option<&Url>) -> Option<Vec<Value>> {
    let inc = doc.get("included")?.as_array()?;
    Some(inc.iter().map(|r| flatten_resource_owned(r.clone(), base, &Grants::NONE)).collect())
}

/// The `included` resources, moved out of `doc` and flattened.
fn take_included(doc: &mut Value, base: Option<&Url>, grants: &Grants) -> Option<Vec<Value>> {
    let Value::Array(inc) = doc.get_mut("included")?.take() else { return None };
    Some(inc.into_iter().map(|r| flatten_resource_owned(r, base, grants)).collect())
}

/// Flatten a single-resource document: the resource, plus `included` when present.
pub fn flatten_single(doc: &Value, base: Option<&Url>) -> Value {
    flatten_single_with(doc, base, &Grants::NONE)
}

/// [`flatten_single`], keeping the capability attributes `grants` allows.
pub fn flatten_single_with(doc: &Value, base: Option<&Url>, grants: &Grants) -> Value {
    flatten_single_owned(doc.clone(), base, grants)
}

fn flatten_single_owned(mut doc: Value, base: Option<&Url>, grants: &Grants) -> Value {
    let data = doc.get_mut("data").map(Value::take).unwrap_or(Value::Null);
    let included = take_included(&mut doc, base, grants);
    single_result(flatten_resource_owned(data, base, grants), included)
}

/// A flattened resource with its flattened `included` (when it is an object).
pub(crate) fn single_result(mut flat: Value, included: Option<Vec<Value>>) -> Value {
    if let (Value::Object(m), Some(inc)) = (&mut flat, included) {
        m.insert("included".into(), Value::Array(inc));
    }
    flat
}

/// Flatten a list document into `{results, pagination, next_cursor}` (plus
/// `included` when present). `requested_page`/`requested_size` fill in what
/// `meta.pagination` leaves out.
pub fn flatten_list(doc: &Value, base: Option<&Url>, requested_page: Option<u64>, requested_size: Option<u64>) -> Value {
    flatten_list_owned(doc.clone(), base, requested_page, requested_size, &Grants::NONE)
}

fn flatten_list_owned(
    mut doc: Value,
    base: Option<&Url>,
    requested_page: Option<u64>,
    requested_size: Option<u64>,
    grants: &Grants,
) -> Value {
    let data = doc.get_mut("data").map(Value::take);
    let count = match &data {
        Some(Value::Array(items)) => items.len(),
        Some(Value::Null) | None => 0,
        Some(_) => 1,
    };
    let pagination = pagination(&doc, requested_page, requested_size, count);
    let results: Vec<Value> = match data {
        Some(Value::Array(items)) => items.into_iter().map(|r| flatten_resource_owned(r, base, grants)).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(single) => vec![flatten_resource_owned(single, base, grants)],
    };
    list_result(results, pagination, take_included(&mut doc, base, grants))
}

/// `{results, pagination, next_cursor}` (plus `included` when present) of
/// flattened results and their [`pagination`].
pub(crate) fn list_result(results: Vec<Value>, pagination: Value, included: Option<Vec<Value>>) -> Value {
    let next_cursor = pagination.get("next_page").and_then(Value::as_u64).map(encode_cursor);
    let mut out = Map::new();
    out.insert("results".into(), Value::Array(results));
    out.insert("pagination".into(), pagination);
    out.insert("next_cursor".into(), next_cursor.map(Value::String).unwrap_or(Value::Null));
    if let Some(inc) = included {
        out.insert("included".into(), Value::Array(inc));
    }
    Value::Object(out)
}

/// Flatten any document: a list when `data` is an array, a resource otherwise.
pub fn flatten_document(doc: &Value, base: Option<&Url>, requested_page: Option<u64>, requested_size: Option<u64>) -> Value {
    flatten_document_with(doc, base, requested_page, requested_size, &Grants::NONE)
}

/// [`flatten_document`], keeping the capability attributes `grants` allows.
pub fn flatten_document_with(
    doc: &Value,
    base: Option<&Url>,
    requested_page: Option<u64>,
    requested_size: Option<u64>,
    grants: &Grants,
) -> Value {
    flatten_document_owned(doc.clone(), base, requested_page, requested_size, grants)
}

/// [`flatten_document_with`] on a document the caller gives up (no copy).
pub fn flatten_document_owned(
    doc: Value,
    base: Option<&Url>,
    requested_page: Option<u64>,
    requested_size: Option<u64>,
    grants: &Grants,
) -> Value {
    if doc.get("data").is_some_and(Value::is_array) {
        flatten_list_owned(doc, base, requested_page, requested_size, grants)
    } else {
        flatten_single_owned(doc, base, grants)
    }
}

/// `{page_number, page_size, total_count, total_pages, next_page}` from
/// `meta.pagination`, falling back to `links.next` and the request.
pub fn pagination(doc: &Value, requested_page: Option<u64>, requested_size: Option<u64>, count: usize) -> Value {
    let meta = doc.get("meta").and_then(|m| m.get("pagination"));
    let num = |k: &str| meta.and_then(|m| m.get(k)).and_then(as_u64_lenient);
    let page_number = num("current-page").or(requested_page).unwrap_or(1);
    let page_size = num("page-size").or(requested_size).unwrap_or(DEFAULT_PAGE_SIZE);
    let next_page = match meta {
        Some(m) if m.get("next-page").is_some() => num("next-page"),
        _ => doc.get("links").and_then(|l| l.get("next")).and_then(Value::as_str).and_then(page_number_of_link),
    };
    let (total_count, total_pages) = match meta {
        Some(_) => (num("total-count").map(Value::from), num("total-pages").map(Value::from)),
        // No pagination at all (unpaginated endpoints): everything is here.
        None if next_page.is_none() && requested_page.unwrap_or(1) == 1 => (Some(json!(count)), Some(json!(1))),
        None => (None, None),
    };
    json!({
        "page_number": page_number,
        "page_size": page_size,
        "total_count": total_count,
        "total_pages": total_pages,
        "next_page": next_page,
    })
}

fn as_u64_lenient(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `page[number]` of a pagination link (absolute or relative, encoded or not).
fn page_number_of_link(link: &str) -> Option<u64> {
    let url = Url::parse(link).or_else(|_| Url::parse("http://x/").and_then(|b| b.join(link))).ok()?;
    url.query_pairs().find(|(k, _)| k == "page[number]").and_then(|(_, v)| v.parse().ok())
}

// ---- cursors -------------------------------------------------------------------

/// Prefix of the cursors this version makes (`tfcp1.` cursors carried only a
/// page number and are refused: they could not tell a different query).
const CURSOR_PREFIX: &str = "tfcp2.";
/// Longest cursor accepted (filters are short strings; this bounds decoding).
const MAX_CURSOR_LEN: usize = 4096;

/// Everything needed to fetch the next page of one query: the page, the page
/// size, the query's filters (so a follow-up call may pass only the cursor)
/// and a fingerprint of the tool, its path arguments and those filters (so a
/// cursor used for another query is refused instead of returning a page of
/// something else). Not a secret and not a capability: decoded arguments are
/// validated like any others.
#[derive(Clone, Debug, PartialEq)]
pub struct Cursor {
    pub page: u64,
    pub page_size: u64,
    /// The optional (non-path) arguments of the query, by argument name.
    pub filters: Map<String, Value>,
    /// [`query_fingerprint`] of the query.
    pub fingerprint: String,
}

impl Cursor {
    /// Opaque, URL-safe text: `tfcp2.` + base64url(JSON).
    pub fn encode(&self) -> String {
        use base64::Engine;
        let doc = json!({"p": self.page, "s": self.page_size, "f": self.filters, "h": self.fingerprint});
        format!("{CURSOR_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(doc.to_string()))
    }

    /// The cursor `text` stands for, or `None` when it is not one of ours.
    pub fn decode(text: &str) -> Option<Cursor> {
        use base64::Engine;
        let text = text.trim();
        if text.len() > MAX_CURSOR_LEN {
            return None;
        }
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text.strip_prefix(CURSOR_PREFIX)?).ok()?;
        let doc: Value = serde_json::from_slice(&raw).ok()?;
        let page = doc.get("p")?.as_u64().filter(|p| *p >= 1)?;
        let page_size = doc.get("s")?.as_u64().filter(|s| (1..=crate::catalog::MAX_PAGE_SIZE).contains(s))?;
        let filters = doc.get("f")?.as_object()?.clone();
        let fingerprint = doc.get("h")?.as_str()?.to_owned();
        Some(Cursor { page, page_size, filters, fingerprint })
    }
}

/// Short, stable fingerprint of a query: the tool and every argument that
/// selects what is listed (path arguments and filters), whatever the order
/// the arguments came in.
pub fn query_fingerprint(tool: &str, args: &Map<String, Value>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(tool.as_bytes());
    h.update([0]);
    let mut canonical = String::new();
    write_canonical(&Value::Object(args.clone()), &mut canonical);
    h.update(canonical.as_bytes());
    hex::encode(&h.finalize()[..8])
}

/// JSON with object keys sorted at every level, whatever order the map
/// keeps (serde_json's `preserve_order` feature may be enabled by any crate).
pub(crate) fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A cursor for `page` of an unnamed query (what [`flatten_list`] returns
/// before the executor binds the cursor to the tool call's query).
pub fn encode_cursor(page: u64) -> String {
    Cursor { page, page_size: DEFAULT_PAGE_SIZE, filters: Map::new(), fingerprint: String::new() }.encode()
}

/// The page a cursor stands for, or `None` when it is not one of ours.
pub fn decode_cursor(cursor: &str) -> Option<u64> {
    Cursor::decode(cursor).map(|c| c.page)
}

// ---- errors --------------------------------------------------------------------

/// One JSON:API error: title and detail (either may be missing).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiError {
    pub title: Option<String>,
    pub detail: Option<String>,
    /// `source.pointer` (e.g. `/data/attributes/name`).
    pub pointer: Option<String>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.title, &self.detail) {
            (Some(t), Some(d)) if !d.is_empty() => write!(f, "{t}: {d}")?,
            (Some(t), _) => write!(f, "{t}")?,
            (None, Some(d)) => write!(f, "{d}")?,
            (None, None) => write!(f, "error")?,
        }
        if let Some(p) = &self.pointer {
            write!(f, " (at {p})")?;
        }
        Ok(())
    }
}

/// The `errors` of an error document (also accepts `{"errors": ["text"]}`).
pub fn parse_errors(body: &Value) -> Vec<ApiError> {
    let Some(errors) = body.get("errors").and_then(Value::as_array) else { return Vec::new() };
    errors
        .iter()
        .filter_map(|e| match e {
            Value::String(s) => Some(ApiError { detail: Some(s.clone()), ..Default::default() }),
            Value::Object(o) => {
                let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
                Some(ApiError {
                    title: s("title"),
                    detail: s("detail"),
                    pointer: o.get("source").and_then(|src| src.get("pointer")).and_then(Value::as_str).map(str::to_owned),
                })
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_joined_as_the_url_parser_joins_them() {
        let bases = [
            "https://app.terraform.io",
            "https://app.terraform.io/",
            "https://tfe.example.com:8443/prefix/api?x=1#f",
            "http://user:pw@127.0.0.1:9/",
            "https://[::1]/",
            "https://Example.COM/",
        ];
        let links = [
            "/app/acme-corp/workspaces/ws-1",
            "/app/acme/workspaces/a.b~c_d",
            "/",
            "",
            "//evil.example/x",
            "/a/./b",
            "/a/../b",
            "/a/..",
            "/a/.",
            "/.hidden/..x/x..",
            "/a//b",
            "/a b",
            "/a%2e%2e/b",
            "/a?b#c",
            "/a\\b",
            "/É",
            "relative/path",
            "https://other.example/x",
            "javascript:alert(1)",
        ];
        for base in bases {
            let base = Url::parse(base).expect("base");
            for html in links {
                let general = base.join(html).map(String::from).unwrap_or_else(|_| html.to_owned());
                assert_eq!(joined(&base, html), general, "{base} + {html}");
            }
        }
    }

    #[test]
    fn owned_snake_keys_match_the_borrowed_conversion() {
        let samples = [
            json!({"plan-only": true, "vcs-repo": {"oauth-token-id": "ot-1", "branch": "main", "nested": [{"a-b": 1}, {"c": {"d-e": null}}]}}),
            json!({"unchanged": {"deep": {"deeper": [1, "x-y", {"still": "same"}]}}, "list": [{"k-v": 2}]}),
            json!({"provider[\"registry.terraform.io/hashicorp/null\"]": {"x-y": 1}, "module.vpc-a": 2, "-": 3, "": {"a-": 4}}),
            json!({"a-b": 1, "a_b": 2, "c": {"a_b": 3, "a-b": 4}}),
            json!([{"x-y": [{"z-w": {}}]}, "s-t", 1.5, null]),
        ];
        for v in samples {
            assert_eq!(snake_keys_owned(v.clone()), snake_keys(&v), "{v}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(to_snake("plan-only"), "plan_only");
        assert_eq!(to_snake("provider[\"registry.terraform.io/hashicorp/null\"]"), "provider[\"registry.terraform.io/hashicorp/null\"]");
        assert_eq!(to_kebab("oauth_token_id"), "oauth-token-id");
        assert_eq!(singular_parts("outputs"), ("output", ""));
        assert_eq!(singular_parts("policies"), ("polic", "y"));
        assert_eq!(singular_parts("vars"), ("var", ""));
        assert_eq!(singular_parts("address"), ("address", ""));
        // The in-place conversion of keys the flattening owns agrees with `to_snake`.
        for key in ["plan-only", "a--b-", "-", "", "plain", "module.vpc-a", "naïve-key", "x_y-z", "provider[\"a-b\"]"] {
            assert_eq!(to_snake_owned(key.to_owned()), to_snake(key), "{key}");
        }
    }

    #[test]
    fn attribute_names_match_as_their_lowercase_kebab_case() {
        // The definition the allocation-free comparison must agree with.
        let kebab = |n: &str| to_kebab(n).to_ascii_lowercase();
        let names = [
            "log-read-url",
            "log_read_url",
            "Log_Read_URL",
            "log.read_url",
            "x.upload_url",
            "hosted_state_upload_url",
            "upload-url",
            "pload-url",
            "",
            "-",
            "_",
            "private_key",
            "Private-Key",
            "private_key ",
            "ssh_key",
            "sanitized_state_download_url",
            "état-upload-url",
            "upload-url-",
            "url",
        ];
        for name in names {
            let k = KebabName::of(name);
            for (m, _) in CAPABILITY_ATTRIBUTES {
                let (expected, got) = match m {
                    NameMatch::Exact(t) => (kebab(name) == *t, k.is(t)),
                    NameMatch::Suffix(t) => (kebab(name).ends_with(t), k.ends_with(t)),
                };
                assert_eq!(expected, got, "{name:?} against {m:?}");
            }
            for (_, a) in SECRET_ATTRIBUTES {
                assert_eq!(kebab(name) == *a, k.is(a), "{name:?} against {a:?}");
            }
        }
        assert!(is_secret_attribute(Some("ssh-keys"), "Value") && !is_secret_attribute(Some("vars"), "value"));
    }

    #[test]
    fn cursor_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(7)), Some(7));
        assert_eq!(decode_cursor("7"), None);
        assert_eq!(decode_cursor("tfcp2.zz"), None);
        assert_eq!(decode_cursor(&format!("tfcp1.{}", hex::encode("page=3"))), None);
        let c =
            Cursor { page: 3, page_size: 7, filters: json!({"search_name": "a b"}).as_object().unwrap().clone(), fingerprint: "ab".into() };
        assert_eq!(Cursor::decode(&c.encode()), Some(c.clone()));
        assert!(c.encode().bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        // Out-of-range page sizes or pages are not ours.
        assert_eq!(Cursor::decode(&Cursor { page_size: 1000, ..c.clone() }.encode()), None);
        assert_eq!(Cursor::decode(&Cursor { page: 0, ..c }.encode()), None);
    }

    #[test]
    fn fingerprints_ignore_argument_order_and_tell_queries_apart() {
        let a: Map<String, Value> = serde_json::from_str(r#"{"o": "acme", "f": {"x": 1, "y": [2]}}"#).unwrap();
        let b: Map<String, Value> = serde_json::from_str(r#"{"f": {"y": [2], "x": 1}, "o": "acme"}"#).unwrap();
        assert_eq!(query_fingerprint("t", &a), query_fingerprint("t", &b));
        assert_ne!(query_fingerprint("t", &a), query_fingerprint("u", &a));
        let c: Map<String, Value> = serde_json::from_str(r#"{"o": "acme", "f": {"x": 1, "y": [3]}}"#).unwrap();
        assert_ne!(query_fingerprint("t", &a), query_fingerprint("t", &c));
    }

    #[test]
    fn next_page_from_links_when_no_meta() {
        let doc = json!({"data": [], "links": {"next": "https://app.terraform.io/api/v2/x?page%5Bnumber%5D=3&page%5Bsize%5D=20"}});
        let p = pagination(&doc, Some(2), None, 0);
        assert_eq!(p["next_page"], json!(3));
        assert_eq!(p["page_number"], json!(2));
    }

    #[test]
    fn capability_attributes_are_matched_by_name() {
        assert_eq!(capability_of("upload-url"), Some(Needs::Never));
        assert_eq!(capability_of("hosted_json_state_upload_url"), Some(Needs::Never));
        assert_eq!(capability_of("Hosted-State-Upload-URL"), Some(Needs::Never));
        assert_eq!(capability_of("log-read-url"), Some(Needs::LogRead));
        assert_eq!(capability_of("hosted-state-download-url"), Some(Needs::RawState));
        assert_eq!(capability_of("vcs-commit-url"), None);
        assert_eq!(capability_of("url"), None);
        let logs = Grants { log_read_types: vec!["plans"], raw_state: false };
        assert!(logs.keeps(Some("plans"), "log-read-url"));
        assert!(!logs.keeps(Some("applies"), "log-read-url"));
        assert!(!logs.keeps(None, "log-read-url"));
        assert!(!Grants { log_read_types: vec!["plans"], raw_state: true }.keeps(Some("state-versions"), "hosted-state-upload-url"));
    }

    #[test]
    fn garbage_never_panics() {
        for v in [json!(null), json!(1), json!("x"), json!([]), json!({"data": 5}), json!({"data": [1, null, {}]}), json!({"errors": 3})] {
            let _ = flatten_document(&v, None, None, None);
            let _ = flatten_list(&v, None, None, None);
            let _ = parse_errors(&v);
        }
    }
}
