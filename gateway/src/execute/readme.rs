//! A workspace's README: `GET /workspaces/:id?include=readme` includes a
//! `workspace-readme` record whose `raw-markdown` is the README of the
//! configuration's root directory (VCS-connected workspaces only).

use serde_json::{Value, json};

use super::{Cx, ToolError, enforce_org_on_result};

/// Longest README returned (characters); a longer one is cut and flagged.
const MAX_README_CHARS: usize = 32 * 1024;

pub(super) async fn workspace_readme(cx: &Cx<'_, '_>) -> Result<Value, ToolError> {
    let query = [("include".to_owned(), "readme".to_owned())];
    let resp = cx.client.api(cx.tool.verb, &cx.req.path, &query, None).await?;
    if !resp.is_success() {
        return Err(cx.error(&resp, None));
    }
    let doc = resp.body.unwrap_or(Value::Null);
    // The organization check of the answer, as for any read.
    let mut flat = cx.flatten(json!({"data": doc.get("data").cloned().unwrap_or(Value::Null)}));
    enforce_org_on_result(cx, &mut flat)?;
    Ok(readme_result(&doc))
}

/// `{workspace_id, workspace_name, has_readme, readme_markdown, truncated}`.
pub(crate) fn readme_result(doc: &Value) -> Value {
    let data = doc.get("data").unwrap_or(&Value::Null);
    let rel = data.pointer("/relationships/readme/data");
    let rel_id = rel.and_then(|r| r.get("id")).and_then(Value::as_str);
    let included = doc.get("included").and_then(Value::as_array);
    let readme = included.into_iter().flatten().find(|r| {
        r.get("type").and_then(Value::as_str) == Some("workspace-readme")
            && (rel_id.is_none() || r.get("id").and_then(Value::as_str) == rel_id)
    });
    let markdown = readme.and_then(|r| r.pointer("/attributes/raw-markdown")).and_then(Value::as_str);
    let (text, truncated) = match markdown {
        Some(m) if m.chars().count() > MAX_README_CHARS => (Some(m.chars().take(MAX_README_CHARS).collect::<String>()), true),
        Some(m) => (Some(m.to_owned()), false),
        None => (None, false),
    };
    let mut out = json!({
        "workspace_id": data.get("id"),
        "workspace_name": data.pointer("/attributes/name"),
        "has_readme": text.is_some(),
        "readme_markdown": text,
        "truncated": truncated,
    });
    if markdown.is_none() {
        out["note"] = json!(
            "This workspace has no README: HCP Terraform shows the README.md of the configuration's root directory for VCS-connected workspaces."
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_is_read_from_the_included_record() {
        let doc = json!({
            "data": {"id": "ws-1", "type": "workspaces", "attributes": {"name": "net"},
                     "relationships": {"readme": {"data": {"id": "227247", "type": "workspace-readme"}}}},
            "included": [{"id": "227247", "type": "workspace-readme", "attributes": {"raw-markdown": "# Net\n"}}],
        });
        let r = readme_result(&doc);
        assert_eq!(r["readme_markdown"], "# Net\n");
        assert_eq!(r["has_readme"], true);
        let none =
            readme_result(&json!({"data": {"id": "ws-2", "attributes": {"name": "x"}, "relationships": {"readme": {"data": null}}}}));
        assert_eq!(none["has_readme"], false);
        assert!(none["note"].as_str().unwrap().contains("README"));
    }
}
