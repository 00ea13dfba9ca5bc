//! Answers shaped by the caller: `fields` (projection of each record) and
//! `include` (related records, see [`crate::catalog::Include`]).
//!
//! Projection is applied by the gateway to the flat answer, so it works for
//! every list and get tool whatever HCP Terraform supports; where a tool
//! declares a sparse-fieldset type, the same names also go upstream as
//! `fields[type]=`, so less is sent over the wire.

use serde_json::{Map, Value, json};

use super::Args;
use crate::catalog::ToolSpec;
use crate::jsonapi;

/// Keys every projected record keeps.
const ALWAYS_KEPT: &[&str] = &["id", "type"];

/// Relationships the gateway itself reads from an answer (the organization
/// allow-list's second line of defence and owner memory): always in an
/// upstream sparse fieldset.
const ALWAYS_UPSTREAM: &[&str] = &["organization", "workspace"];

/// The `(fields[type], names)` query pair for the tool's sparse fieldset,
/// when it declares one and the call asks for `fields`. A flat name maps
/// back to the API's: `terraform_version` -> `terraform-version`,
/// `current_run_id` -> the `current-run` relationship, `organization_name`
/// -> `organization`. Included relationships are kept so `included` stays
/// linked.
pub(crate) fn sparse_query(tool: &ToolSpec, args: &Args) -> Option<(String, String)> {
    let (type_, fields) = (tool.sparse_type?, args.fields.as_ref()?);
    let mut names: Vec<String> = Vec::new();
    let mut add = |n: String| {
        if !names.contains(&n) {
            names.push(n);
        }
    };
    for f in fields {
        if ALWAYS_KEPT.contains(&f.as_str()) {
            continue;
        }
        if f == "organization_name" {
            add("organization".into());
        } else if let Some(stem) = f.strip_suffix("_ids") {
            add(jsonapi::to_kebab(stem));
            add(format!("{}s", jsonapi::to_kebab(stem)));
        } else if let Some(stem) = f.strip_suffix("_id") {
            add(jsonapi::to_kebab(stem));
        } else if f == "web_url" {
            // From links, always sent.
        } else {
            add(jsonapi::to_kebab(f));
        }
    }
    for inc in &args.include {
        add(inc.api.split('.').next().unwrap_or(inc.api).to_owned());
    }
    for rel in ALWAYS_UPSTREAM {
        add((*rel).to_owned());
    }
    Some((format!("fields[{type_}]"), names.join(",")))
}

/// The `include=` query value, when the call asks for related records.
pub(crate) fn include_query(args: &Args) -> Option<(String, String)> {
    (!args.include.is_empty()).then(|| ("include".to_owned(), args.include.iter().map(|i| i.api).collect::<Vec<_>>().join(",")))
}

/// Keep only `fields` (and `id`, `type`) of the answer's records: each of
/// `results` for a list, the answer itself for a single record. Everything
/// around the records (pagination, cursor, `included`, notes) stays.
/// Requested names no record has are listed in `fields_missing`.
pub(crate) fn project(value: &mut Value, fields: &[String]) {
    let Value::Object(m) = value else { return };
    let mut seen = vec![false; fields.len()];
    if let Some(Value::Array(items)) = m.get_mut("results") {
        for item in items {
            if let Value::Object(r) = item {
                project_record(r, fields, &mut seen);
            }
        }
    } else {
        project_single(m, fields, &mut seen);
    }
    let missing: Vec<&String> = fields.iter().zip(&seen).filter(|(_, s)| !**s).map(|(f, _)| f).collect();
    if !missing.is_empty() {
        m.insert("fields_missing".into(), json!(missing));
    }
}

fn project_record(r: &mut Map<String, Value>, fields: &[String], seen: &mut [bool]) {
    for (i, f) in fields.iter().enumerate() {
        if r.contains_key(f) {
            seen[i] = true;
        }
    }
    r.retain(|k, _| ALWAYS_KEPT.contains(&k.as_str()) || fields.iter().any(|f| f == k));
}

/// A single record keeps its `included` records and the notes a handler
/// added about the answer itself (`truncated`...), besides the fields.
fn project_single(m: &mut Map<String, Value>, fields: &[String], seen: &mut [bool]) {
    const KEPT_AROUND: &[&str] = &["included", "truncated", "truncation"];
    for (i, f) in fields.iter().enumerate() {
        if m.contains_key(f) {
            seen[i] = true;
        }
    }
    m.retain(|k, _| ALWAYS_KEPT.contains(&k.as_str()) || KEPT_AROUND.contains(&k.as_str()) || fields.iter().any(|f| f == k));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_list_keeps_id_type_and_the_fields_of_each_record() {
        let mut v = json!({"results": [
            {"id": "ws-1", "type": "workspaces", "name": "a", "terraform_version": "1.9.0", "locked": false},
            {"id": "ws-2", "type": "workspaces", "name": "b", "locked": true}
        ], "pagination": {"page_number": 1}, "next_cursor": null, "included": [{"id": "run-1", "status": "applied"}]});
        project(&mut v, &names(&["name", "terraform_version", "nope"]));
        assert_eq!(v["results"][0], json!({"id": "ws-1", "type": "workspaces", "name": "a", "terraform_version": "1.9.0"}));
        assert_eq!(v["results"][1], json!({"id": "ws-2", "type": "workspaces", "name": "b"}));
        assert_eq!(v["pagination"], json!({"page_number": 1}));
        assert_eq!(v["included"][0]["status"], "applied");
        assert_eq!(v["fields_missing"], json!(["nope"]));
    }

    #[test]
    fn a_single_record_keeps_its_included_records() {
        let mut v = json!({"id": "run-1", "type": "runs", "status": "planned", "message": "m", "included": [{"id": "plan-1"}]});
        project(&mut v, &names(&["status"]));
        assert_eq!(v, json!({"id": "run-1", "type": "runs", "status": "planned", "included": [{"id": "plan-1"}]}));
    }
}
