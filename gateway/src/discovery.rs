//! `toolExposure: Discovery`: instead of every allowed tool, `tools/list`
//! shows three meta tools, for clients that struggle with long tool lists:
//!
//! - `search_tools` (query -> names and descriptions of matching tools),
//! - `get_tool_schema` (name -> the tool's input schema),
//! - `call_tool` (name + arguments -> the tool's result).
//!
//! All three see only the tools the server's filter allows; a hidden tool is
//! answered exactly like a tool that does not exist.

use std::sync::{Arc, LazyLock};

use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use crate::mcp_tool::ToMcpTool;
use crate::{catalog::ToolSpec, filter::ToolFilter};

pub const SEARCH_TOOLS: &str = "search_tools";
pub const GET_TOOL_SCHEMA: &str = "get_tool_schema";
pub const CALL_TOOL: &str = "call_tool";

/// Value of `route.tool_exposure` that turns discovery on.
pub const DISCOVERY: &str = "Discovery";

/// Results `search_tools` returns unless asked for another number.
pub const DEFAULT_SEARCH_LIMIT: usize = 20;
pub const MAX_SEARCH_LIMIT: usize = 100;
/// Longest `search_tools` query, in characters: a few keywords, not a document.
pub const MAX_QUERY_CHARS: usize = 256;
/// Most words in a `search_tools` query.
pub const MAX_QUERY_TERMS: usize = 16;

/// Refuses a query longer than [`MAX_QUERY_CHARS`] or with more than
/// [`MAX_QUERY_TERMS`] words, before any work is done on it.
pub fn check_query(query: &str) -> Result<(), String> {
    // Counting stops at the first character past the limit: a 1 MiB query costs nothing more.
    if query.chars().nth(MAX_QUERY_CHARS).is_some() {
        return Err(format!("`query` is longer than {MAX_QUERY_CHARS} characters; give a few keywords"));
    }
    if query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).nth(MAX_QUERY_TERMS).is_some() {
        return Err(format!("`query` has more than {MAX_QUERY_TERMS} words; give a few keywords"));
    }
    Ok(())
}

fn schema(value: Value) -> Arc<Map<String, Value>> {
    match value {
        Value::Object(m) => Arc::new(m),
        _ => Arc::new(Map::new()),
    }
}

static META_TOOLS: LazyLock<Arc<Vec<Tool>>> = LazyLock::new(|| {
    Arc::new(vec![
        Tool::new(
            SEARCH_TOOLS,
            "Search the HCP Terraform tools this server allows. Give a few keywords (for example \
             \"list workspaces\", \"apply run\", \"state outputs\"); returns matching tool names with \
             their descriptions. An empty query lists every allowed tool. Then call get_tool_schema \
             for the arguments and call_tool to run one.",
            schema(json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "maxLength": MAX_QUERY_CHARS,
                              "description": "A few keywords (at most 16) to look for in tool names and descriptions."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_SEARCH_LIMIT,
                              "description": "Most results to return (default 20)."}
                },
                "additionalProperties": false
            })),
        )
        .with_title("Search tools")
        .with_annotations(ToolAnnotations::with_title("Search tools").read_only(true).open_world(false)),
        Tool::new(
            GET_TOOL_SCHEMA,
            "Get the input JSON Schema of one tool found with search_tools, to know which arguments call_tool needs.",
            schema(json!({
                "type": "object",
                "properties": {"name": {"type": "string", "minLength": 1, "description": "The tool name, as search_tools returned it."}},
                "required": ["name"],
                "additionalProperties": false
            })),
        )
        .with_title("Get tool schema")
        .with_annotations(ToolAnnotations::with_title("Get tool schema").read_only(true).open_world(false)),
        Tool::new(
            CALL_TOOL,
            "Run one HCP Terraform tool found with search_tools, with arguments that follow its schema \
             (see get_tool_schema). Returns that tool's result.",
            schema(json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1, "description": "The tool name."},
                    "arguments": {"type": "object", "description": "The tool's arguments, as its input schema describes them."}
                },
                "required": ["name"],
                "additionalProperties": false
            })),
        )
        .with_title("Call tool")
        .with_annotations(ToolAnnotations::with_title("Call tool").open_world(true)),
    ])
});

/// The three tools a Discovery server lists.
pub fn meta_tools() -> Arc<Vec<Tool>> {
    META_TOOLS.clone()
}

pub fn is_meta_tool(name: &str) -> bool {
    matches!(name, SEARCH_TOOLS | GET_TOOL_SCHEMA | CALL_TOOL)
}

/// Lowercase words of a text, with `_` and `-` as separators.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(MAX_QUERY_TERMS).map(str::to_lowercase).collect()
}

/// A crude stem so `runs` finds `run` and `policies` finds `policy`.
fn stem(word: &str) -> &str {
    if word.len() > 4 && word.ends_with("ies") {
        &word[..word.len() - 3]
    } else if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") {
        &word[..word.len() - 1]
    } else {
        word
    }
}

fn score(tool: &ToolSpec, terms: &[String]) -> u32 {
    let name = tool.name.to_lowercase();
    let title = tool.title.to_lowercase();
    let description = tool.description.to_lowercase();
    let mut total = 0;
    for term in terms {
        let t = stem(term);
        let mut s = 0;
        if name.contains(t) {
            s += 4;
        }
        if tool.tag.contains(t) || tool.method.as_str() == t {
            s += 2;
        }
        if title.contains(t) {
            s += 2;
        }
        if description.contains(t) {
            s += 1;
        }
        total += s;
    }
    total
}

fn summary(tool: &ToolSpec) -> Value {
    json!({
        "name": tool.name,
        "title": tool.title,
        "description": tool.description,
        "method": tool.method.as_str(),
        "tag": tool.tag,
    })
}

/// `search_tools`: allowed tools matching `query`, best first. A tool
/// matches when at least one term is found in it; tools that match more
/// terms (and in the name rather than the description) come first.
pub fn search(filter: &ToolFilter, query: &str, limit: usize) -> Value {
    let limit = limit.clamp(1, MAX_SEARCH_LIMIT);
    let terms = words(query);
    let mut scored: Vec<(u32, usize, &ToolSpec)> = filter
        .tools()
        .enumerate()
        .map(|(i, t)| (if terms.is_empty() { 1 } else { score(t, &terms) }, i, t))
        .filter(|(s, _, _)| *s > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let total = scored.len();
    let tools: Vec<Value> = scored.into_iter().take(limit).map(|(_, _, t)| summary(t)).collect();
    let mut out = json!({ "query": query, "total_matches": total, "tools": tools });
    if total == 0 {
        out["hint"] = json!("No allowed tool matches; try other words, or an empty query to list every allowed tool.");
    } else {
        out["hint"] = json!("Call get_tool_schema with a name for its arguments, then call_tool with name and arguments.");
    }
    out
}

/// `get_tool_schema`: the schema of an allowed tool, `None` for unknown and hidden ones alike.
pub fn tool_schema(filter: &ToolFilter, name: &str) -> Option<Value> {
    let tool = filter.get(name)?;
    let mcp = tool.to_mcp_tool();
    Some(json!({
        "name": tool.name,
        "title": tool.title,
        "description": tool.description,
        "inputSchema": Value::Object(tool.input_schema().as_ref().clone()),
        "annotations": mcp.annotations,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::Route;

    fn filter(methods: &[&str], exclude: &[&str]) -> ToolFilter {
        let route: Route = serde_json::from_value(json!({
            "version": 1, "tokenSha256": "00", "server": "ns/a", "tfcAddress": "http://x",
            "methods": methods, "excludeTools": exclude, "toolExposure": "Discovery",
        }))
        .unwrap();
        ToolFilter::from_route(&route)
    }

    fn names(v: &Value) -> Vec<String> {
        v["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn search_finds_allowed_tools_best_first() {
        let f = filter(&["list", "get"], &[]);
        let found = search(&f, "list workspaces", 5);
        assert_eq!(names(&found)[0], "list_all_hashicorp_terraform_cloud_workspaces");
        // Stems: "runs" finds run tools.
        assert!(names(&search(&f, "runs", 50)).iter().any(|n| n == "get_single_hashicorp_terraform_cloud_run_by_id"));
        // Write tools are not allowed here, so they are never found.
        assert!(names(&search(&f, "create run", 100)).iter().all(|n| !n.starts_with("create_")));
        // Empty query lists everything allowed (up to the limit).
        let all = search(&f, "", 100);
        assert_eq!(all["total_matches"].as_u64().unwrap() as usize, f.count());
        assert_eq!(names(&search(&f, "", 3)).len(), 3);
        assert_eq!(search(&f, "zzzz-nothing", 10)["total_matches"], 0);
    }

    #[test]
    fn schema_only_for_allowed_tools() {
        let f = filter(&["read"], &["list_all_hashicorp_terraform_cloud_workspaces"]);
        assert!(tool_schema(&f, "get_single_hashicorp_terraform_cloud_run_by_id").is_some());
        // Hidden by exclude, hidden by method, and unknown: all the same None.
        assert!(tool_schema(&f, "list_all_hashicorp_terraform_cloud_workspaces").is_none());
        assert!(tool_schema(&f, "create_a_hashicorp_terraform_cloud_run").is_none());
        assert!(tool_schema(&f, "no_such_tool").is_none());
        let s = tool_schema(&f, "get_single_hashicorp_terraform_cloud_run_by_id").unwrap();
        assert_eq!(s["inputSchema"]["type"], "object");
        assert!(s["inputSchema"]["properties"]["run_id"].is_object());
    }

    #[test]
    fn oversized_queries_are_refused() {
        assert!(check_query("list workspaces").is_ok());
        assert!(check_query(&"a".repeat(MAX_QUERY_CHARS)).is_ok());
        let huge = "x".repeat(1024 * 1024);
        let started = std::time::Instant::now();
        assert!(check_query(&huge).unwrap_err().contains("longer than"));
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
        assert!(check_query(&"a ".repeat(MAX_QUERY_TERMS + 1)).unwrap_err().contains("words"));
    }

    #[test]
    fn meta_tools_are_three() {
        let names: Vec<_> = meta_tools().iter().map(|t| t.name.to_string()).collect();
        assert_eq!(names, [SEARCH_TOOLS, GET_TOOL_SCHEMA, CALL_TOOL]);
        assert!(is_meta_tool(CALL_TOOL) && !is_meta_tool("list_all_hashicorp_terraform_cloud_workspaces"));
    }
}
