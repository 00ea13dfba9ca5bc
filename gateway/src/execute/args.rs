//! Argument validation against a tool's parameters, before any upstream call.

use serde_json::{Map, Value};

use super::ToolError;
use crate::catalog::{
    FIELDS_ARG, FILTER_OPERATORS, INCLUDE_ARG, Include, Kind, Loc, MAX_FIELDS, MAX_FILTERS, MAX_PAGE_SIZE, ToolSpec, id_matches,
    is_field_name, segment_ok, truncate,
};
use crate::jsonapi;

/// Validated arguments of one call (nulls dropped).
#[derive(Debug)]
pub(crate) struct Args {
    map: Map<String, Value>,
    /// Page requested by `page_number` or `next_cursor`.
    pub page_number: Option<u64>,
    pub page_size: Option<u64>,
    /// `fields`: the attributes to keep of each record (deduplicated).
    pub fields: Option<Vec<String>>,
    /// `include`: the related records asked for (deduplicated, in order).
    pub include: Vec<&'static Include>,
}

impl Args {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name)
    }
    pub fn str(&self, name: &str) -> Option<&str> {
        self.map.get(name).and_then(Value::as_str)
    }
    pub fn int(&self, name: &str) -> Option<i64> {
        self.map.get(name).and_then(as_integer)
    }
    pub fn strings(&self, name: &str) -> Vec<&str> {
        self.map.get(name).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
    }

    /// The cursor for `page` of this call's query (see [`jsonapi::Cursor`]).
    pub fn cursor_for(&self, tool: &ToolSpec, page: u64, page_size: u64) -> String {
        let filters = self
            .map
            .iter()
            .filter(|(k, _)| tool.param(k).is_some_and(|p| p.loc != Loc::Path))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let fingerprint = jsonapi::query_fingerprint(tool.name, &query_args(tool, &self.map));
        jsonapi::Cursor { page, page_size, filters, fingerprint }.encode()
    }
}

const PAGING: &[&str] = &["page_number", "page_size", "next_cursor"];
/// Arguments that shape an answer, not what it selects: never part of a
/// cursor's query, so a next page may ask for other fields.
const SHAPING: &[&str] = &[FIELDS_ARG, INCLUDE_ARG];

/// True when `name` is a shaping argument `tool` accepts.
fn is_shaping(tool: &ToolSpec, name: &str) -> bool {
    (name == FIELDS_ARG && tool.is_projectable()) || (name == INCLUDE_ARG && !tool.includes.is_empty())
}

/// Check unknown arguments, missing required ones, types and allowed values.
pub(crate) fn validate(tool: &ToolSpec, args: Map<String, Value>) -> Result<Args, ToolError> {
    let mut map = Map::new();
    for (k, v) in args {
        if v.is_null() {
            continue; // an explicit null means "not given"
        }
        map.insert(k, v);
    }

    for k in map.keys() {
        let known = tool.param(k).is_some() || (tool.is_paged() && PAGING.contains(&k.as_str())) || is_shaping(tool, k);
        if !known {
            let mut allowed: Vec<&str> = tool.params.iter().map(|p| p.name).collect();
            if tool.is_paged() {
                allowed.extend_from_slice(PAGING);
            }
            allowed.extend(SHAPING.iter().filter(|s| is_shaping(tool, s)));
            return Err(ToolError::invalid(format!(
                "unknown argument `{}` for {}; allowed arguments: {}",
                crate::limits::truncate_name(k, crate::limits::MAX_ECHOED_NAME),
                tool.name,
                if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") }
            )));
        }
    }

    let cursor =
        if tool.is_paged() { map.get("next_cursor").cloned().map(|v| restore_query(tool, &v, &mut map)).transpose()? } else { None };

    for p in &tool.params {
        let Some(v) = map.get(p.name) else {
            if p.required {
                return Err(ToolError::invalid(format!("missing required argument `{}` ({})", p.name, p.description)));
            }
            continue;
        };
        check_kind(p.name, p.kind, v)?;
        if let Some(s) = v.as_str()
            && !p.allowed.is_empty()
            && !p.allowed.contains(&s)
        {
            let s = crate::limits::truncate_name(s, crate::limits::MAX_ECHOED_NAME);
            return Err(ToolError::invalid(format!("argument `{}` must be one of {}, not {s:?}", p.name, p.allowed.join(", "))));
        }
        if (p.loc == Loc::Path || p.required)
            && let Some(s) = v.as_str()
        {
            let t = s.trim();
            if t.is_empty() {
                return Err(ToolError::invalid(format!("argument `{}` must not be empty", p.name)));
            }
            if p.loc == Loc::Path && (t == "." || t == ".." || s.len() > 512) {
                return Err(ToolError::invalid(format!("argument `{}` is not a valid id or name", p.name)));
            }
        }
        if let Some(prefix) = p.id_prefix {
            check_ids(p.name, prefix, v)?;
        }
        if p.segment
            && let Some(s) = v.as_str()
            && !segment_ok(s.trim())
        {
            return Err(ToolError::invalid(format!(
                "argument `{}` must be a name of letters, digits, `-`, `_` and `.` (at most 128, not starting with `.` or `-`), got {:?}",
                p.name,
                truncate(s, 24)
            )));
        }
        if p.kind == Kind::FilterList {
            check_filters(p.name, v)?;
        }
        if let Loc::TagFilter(_) = p.loc {
            check_tag_filter(p.name, v)?;
        }
        if p.name == "tag_bindings" {
            check_tag_bindings(p.name, v)?;
        }
        if p.kind == Kind::Object {
            check_nested_ids(p.name, v)?;
        }
    }

    let mut page_number = None;
    let mut page_size = None;
    if tool.is_paged() {
        if let Some(v) = map.get("page_number") {
            let n = positive(v).ok_or_else(|| ToolError::invalid("argument `page_number` must be an integer >= 1".into()))?;
            page_number = Some(n);
        }
        if let Some(v) = map.get("page_size") {
            let n = positive(v)
                .filter(|n| *n <= MAX_PAGE_SIZE)
                .ok_or_else(|| ToolError::invalid(format!("argument `page_size` must be an integer from 1 to {MAX_PAGE_SIZE}")))?;
            page_size = Some(n);
        }
        if let Some(c) = &cursor {
            if jsonapi::query_fingerprint(tool.name, &query_args(tool, &map)) != c.fingerprint {
                return Err(ToolError::invalid(format!(
                    "argument `next_cursor` belongs to another query (another tool, organization, workspace or filter); {CURSOR_RESTART}"
                )));
            }
            page_number = Some(c.page); // the cursor wins over page_number
            page_size = Some(c.page_size);
        }
    }
    let fields = map.get(FIELDS_ARG).map(parse_fields).transpose()?;
    let include = map.get(INCLUDE_ARG).map(|v| parse_include(tool, v)).transpose()?.unwrap_or_default();
    Ok(Args { map, page_number, page_size, fields, include })
}

/// `fields`: at most [`MAX_FIELDS`] snake_case names. A name that is not an
/// identifier is refused (it could only be a mistake or an attempt to reach
/// the query string); a well-formed name no record has is reported in the
/// answer's `fields_missing`.
fn parse_fields(v: &Value) -> Result<Vec<String>, ToolError> {
    let items = v.as_array().ok_or_else(|| {
        ToolError::invalid(format!("argument `{FIELDS_ARG}` must be an array of attribute names, e.g. [\"name\", \"status\"]"))
    })?;
    if items.len() > MAX_FIELDS {
        return Err(ToolError::invalid(format!("argument `{FIELDS_ARG}` names {} attributes; give at most {MAX_FIELDS}", items.len())));
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let name = item
            .as_str()
            .ok_or_else(|| ToolError::invalid(format!("argument `{FIELDS_ARG}` must hold strings, got {}", type_name(item))))?;
        if !is_field_name(name) {
            return Err(ToolError::invalid(format!(
                "argument `{FIELDS_ARG}` holds {:?}, which is not an attribute name: use the snake_case names of the answer (lowercase letters, digits and `_`, e.g. terraform_version)",
                truncate(name, 40)
            )));
        }
        if !out.iter().any(|f| f == name) {
            out.push(name.to_owned());
        }
    }
    if out.is_empty() {
        return Err(ToolError::invalid(format!("argument `{FIELDS_ARG}` is empty; omit it to get every attribute")));
    }
    Ok(out)
}

/// `include`: names from the tool's declared [`Include`]s only.
fn parse_include(tool: &ToolSpec, v: &Value) -> Result<Vec<&'static Include>, ToolError> {
    let names = || tool.includes.iter().map(|i| i.name).collect::<Vec<_>>().join(", ");
    let items =
        v.as_array().ok_or_else(|| ToolError::invalid(format!("argument `{INCLUDE_ARG}` must be an array of names from: {}", names())))?;
    if items.len() > tool.includes.len() {
        return Err(ToolError::invalid(format!(
            "argument `{INCLUDE_ARG}` names {} records; {} offers only: {}",
            items.len(),
            tool.name,
            names()
        )));
    }
    let mut out: Vec<&'static Include> = Vec::new();
    for item in items {
        let found = item.as_str().and_then(|s| tool.includes.iter().find(|i| i.name == s));
        let Some(inc) = found else {
            let shown = item.as_str().map(|s| format!("{:?}", truncate(s, 40))).unwrap_or_else(|| type_name(item).to_owned());
            return Err(ToolError::invalid(format!("argument `{INCLUDE_ARG}` holds {shown}; {} can include: {}", tool.name, names())));
        };
        if !out.iter().any(|i| i.name == inc.name) {
            out.push(inc);
        }
    }
    Ok(out)
}

const CURSOR_RESTART: &str = "pass next_cursor with the same arguments as the call that returned it (or with only the path arguments), or call without next_cursor to start a new listing";

/// Decode `next_cursor` and put the filters it carries back into the
/// arguments, so a follow-up call may pass only the cursor. Filters and a
/// page size given alongside the cursor must equal the cursor's: a cursor
/// for one query never returns a page of another.
fn restore_query(tool: &ToolSpec, v: &Value, map: &mut Map<String, Value>) -> Result<jsonapi::Cursor, ToolError> {
    let cursor = v.as_str().and_then(jsonapi::Cursor::decode).ok_or_else(|| {
        ToolError::invalid("argument `next_cursor` is not a cursor returned by this tool; pass the next_cursor value unchanged".into())
    })?;
    for (k, v) in &cursor.filters {
        if !tool.param(k).is_some_and(|p| p.loc != Loc::Path) {
            return Err(ToolError::invalid(format!("argument `next_cursor` was not returned by {}; {CURSOR_RESTART}", tool.name)));
        }
        match map.get(k) {
            Some(given) if given != v => {
                return Err(ToolError::invalid(format!("argument `next_cursor` was made for another value of `{k}`; {CURSOR_RESTART}")));
            }
            Some(_) => {}
            None => {
                map.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(k) = map
        .keys()
        .find(|k| !PAGING.contains(&k.as_str()) && !cursor.filters.contains_key(*k) && tool.param(k).is_some_and(|p| p.loc != Loc::Path))
    {
        return Err(ToolError::invalid(format!("argument `next_cursor` was made without the filter `{k}`; {CURSOR_RESTART}")));
    }
    if let Some(size) = map.get("page_size")
        && positive(size) != Some(cursor.page_size)
    {
        return Err(ToolError::invalid(format!(
            "argument `next_cursor` was made for page_size {}; omit page_size or pass the same value",
            cursor.page_size
        )));
    }
    Ok(cursor)
}

/// The arguments that select what a list tool lists: path arguments
/// (trimmed, as they are sent) and filters; not the paging arguments.
fn query_args(tool: &ToolSpec, map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(k, _)| !PAGING.contains(&k.as_str()) && !SHAPING.contains(&k.as_str()))
        .map(|(k, v)| {
            let path = tool.param(k).is_some_and(|p| p.loc == Loc::Path);
            let v = match v {
                Value::String(s) if path => Value::String(s.trim().to_owned()),
                other => other.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

fn check_kind(name: &str, kind: Kind, v: &Value) -> Result<(), ToolError> {
    let ok = match kind {
        Kind::String => v.is_string(),
        Kind::Integer => as_integer(v).is_some(),
        Kind::Boolean => v.is_boolean(),
        Kind::StringList => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        Kind::Object => v.is_object(),
        // Shape only; fields, operators and values are checked by check_filters.
        Kind::FilterList => v.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
        Kind::KeyValueList => v.as_array().is_some_and(|a| {
            a.iter().all(|i| {
                i.as_object().is_some_and(|o| {
                    o.len() == 2 && o.get("key").is_some_and(Value::is_string) && o.get("value").is_some_and(Value::is_string)
                })
            })
        }),
    };
    if ok {
        return Ok(());
    }
    let expected = match kind {
        Kind::String => "a string",
        Kind::Integer => "an integer",
        Kind::Boolean => "a boolean (true or false)",
        Kind::StringList => "an array of strings",
        Kind::Object => "an object",
        Kind::FilterList => "an array of {\"field\", \"operator\", \"value\"} objects",
        Kind::KeyValueList => {
            "an array of {\"key\": string, \"value\": string} objects (values are HCL literals, e.g. \"\\\"text\\\"\" or \"3\")"
        }
    };
    Err(ToolError::invalid(format!("argument `{name}` must be {expected}, got {}", type_name(v))))
}

/// Every id an argument carries (one string, or each item of a list) must
/// have its documented shape, wherever it is sent: a run id passed as a
/// configuration version, or a path smuggled into a relationship, is refused
/// here rather than sent. The error quotes at most the start of the value.
fn check_ids(name: &str, prefix: &str, v: &Value) -> Result<(), ToolError> {
    let (what, bad) = match v {
        Value::String(s) => ("be an id", (!id_matches(prefix, s)).then_some(s.as_str())),
        Value::Array(items) => ("hold ids", items.iter().filter_map(Value::as_str).find(|s| !id_matches(prefix, s))),
        _ => return Ok(()),
    };
    match bad {
        None => Ok(()),
        Some(s) => Err(ToolError::invalid(format!(
            "argument `{name}` must {what} of the form `{prefix}-` followed by letters and digits, got {:?}",
            truncate(s, 24)
        ))),
    }
}

/// Longest filter value accepted.
const MAX_FILTER_VALUE: usize = 256;

/// Every filter is `{field, operator, value}`: a snake_case field name, a
/// documented operator, and a short value (none for `is_empty` /
/// `is_not_empty`). Nothing else, so nothing but these reaches the query.
fn check_filters(name: &str, v: &Value) -> Result<(), ToolError> {
    let items = v.as_array().map(Vec::as_slice).unwrap_or_default();
    if items.len() > MAX_FILTERS {
        return Err(ToolError::invalid(format!("argument `{name}` may hold at most {MAX_FILTERS} filters")));
    }
    for (i, f) in items.iter().enumerate() {
        let Some(o) = f.as_object() else { continue };
        if let Some(k) = o.keys().find(|k| !matches!(k.as_str(), "field" | "operator" | "value")) {
            let k = crate::limits::truncate_name(k, crate::limits::MAX_ECHOED_NAME);
            return Err(ToolError::invalid(format!("`{name}[{i}]` has an unknown key `{k}`; use field, operator and value")));
        }
        let field = o.get("field").and_then(Value::as_str).unwrap_or_default();
        if field.is_empty() || field.len() > 64 || !field.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(ToolError::invalid(format!("`{name}[{i}].field` must be a snake_case field name, got {:?}", truncate(field, 24))));
        }
        let op = o.get("operator").and_then(Value::as_str).unwrap_or_default();
        if !FILTER_OPERATORS.contains(&op) {
            return Err(ToolError::invalid(format!(
                "`{name}[{i}].operator` must be one of {}, not {:?}",
                FILTER_OPERATORS.join(", "),
                truncate(op, 24)
            )));
        }
        let needs_value = !matches!(op, "is_empty" | "is_not_empty");
        match o.get("value") {
            Some(Value::String(s)) if s.len() <= MAX_FILTER_VALUE && (!s.is_empty() || !needs_value) => {}
            None if !needs_value => {}
            Some(Value::Number(_) | Value::Bool(_)) => {}
            Some(Value::String(s)) if s.len() > MAX_FILTER_VALUE => {
                return Err(ToolError::invalid(format!("`{name}[{i}].value` is longer than {MAX_FILTER_VALUE} characters")));
            }
            _ => return Err(ToolError::invalid(format!("`{name}[{i}].value` must be a non-empty string for operator {op}"))),
        }
    }
    Ok(())
}

/// Most items of a tag filter or a tag binding list.
pub(crate) const MAX_TAGS: usize = 50;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

/// A tag key: letters, digits, `-`, `_`, `.`, `/` (nothing that could end
/// or open another query parameter: no `&`, `=`, `[`, `:`...).
fn tag_key_ok(k: &str) -> bool {
    !k.is_empty() && k.len() <= MAX_TAG_KEY && k.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
}

/// A tag value: printable, without the characters that structure a query
/// string (`&`, `=`, `[`, `]`, `?`, `#`, `%`) and without control characters.
fn tag_value_ok(v: &str) -> bool {
    v.chars().count() <= MAX_TAG_VALUE && v.chars().all(|c| !c.is_control() && !matches!(c, '&' | '=' | '[' | ']' | '?' | '#' | '%'))
}

/// `tagged: ["env:prod", "team"]`: each item a key, or `key:value`.
fn check_tag_filter(name: &str, v: &Value) -> Result<(), ToolError> {
    let items = v.as_array().map(Vec::as_slice).unwrap_or_default();
    if items.len() > MAX_TAGS {
        return Err(ToolError::invalid(format!("argument `{name}` holds at most {MAX_TAGS} tags")));
    }
    for item in items.iter().filter_map(Value::as_str) {
        let (key, value) = item.split_once(':').unwrap_or((item, ""));
        if !tag_key_ok(key) || !tag_value_ok(value) {
            return Err(ToolError::invalid(format!(
                "argument `{name}` items must be `key` or `key:value` (key: letters, digits, `-`, `_`, `.`, `/`; value without `&=[]?#%` or control characters), got {:?}",
                truncate(item, 24)
            )));
        }
    }
    Ok(())
}

/// `tag_bindings: [{key, value}]` (shape checked by `check_kind`).
fn check_tag_bindings(name: &str, v: &Value) -> Result<(), ToolError> {
    let items = v.as_array().map(Vec::as_slice).unwrap_or_default();
    if items.len() > MAX_TAGS {
        return Err(ToolError::invalid(format!("argument `{name}` holds at most {MAX_TAGS} tag bindings")));
    }
    for item in items {
        let key = item["key"].as_str().unwrap_or_default();
        let value = item["value"].as_str().unwrap_or_default();
        if !tag_key_ok(key) || !tag_value_ok(value) {
            return Err(ToolError::invalid(format!(
                "argument `{name}`: each key must be letters, digits, `-`, `_`, `.` or `/`, each value without `&=[]?#%` or control characters, got key {:?}",
                truncate(key, 24)
            )));
        }
    }
    Ok(())
}

/// Ids inside an object argument (`vcs_repo.oauth_token_id`) are checked
/// like the top-level argument of the same name: declared, with their
/// documented shape. An undeclared id field is refused (its owner could not
/// be checked).
fn check_nested_ids(name: &str, v: &Value) -> Result<(), ToolError> {
    for (field, value) in crate::catalog::nested_ids(v) {
        match crate::catalog::id_argument(&field) {
            None => {
                return Err(ToolError::invalid(format!(
                    "argument `{name}` has an id field `{}` this server cannot check",
                    crate::limits::truncate_name(&field, crate::limits::MAX_ECHOED_NAME)
                )));
            }
            Some(_) => {
                if let Some(prefix) = crate::catalog::id_prefix(&field) {
                    check_ids(&format!("{name}.{field}"), prefix, value)?;
                }
            }
        }
    }
    Ok(())
}

fn as_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| f as i64)),
        _ => None,
    }
}

fn positive(v: &Value) -> Option<u64> {
    as_integer(v).filter(|n| *n >= 1).map(|n| n as u64)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
