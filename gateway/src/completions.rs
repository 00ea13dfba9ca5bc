//! `completion/complete` for prompt arguments, from the live API.
//!
//! - `organization`: the server's allowed organizations when it has an
//!   allow-list (no API call); otherwise the organizations the token sees,
//!   through the organization list tool.
//! - `workspace`: workspace names of the organization (the request's
//!   `context.arguments.organization`, or the only allowed one) that start
//!   with the typed prefix, through the workspace list tool
//!   (`search[wildcard-name]=prefix*`), one page of at most 100.
//!
//! Every lookup goes through the tool path ([`crate::tool_read`]): a hidden
//! list tool means no suggestions, an organization outside the allow-list
//! is never asked about, and a lookup is bounded by [`COMPLETION_TIMEOUT`].
//! A failed lookup answers no suggestions rather than an error, so a client
//! typing an argument is never interrupted. Template arguments (ids) get no
//! suggestions.

use std::{sync::Arc, time::Duration};

use rmcp::{
    ErrorData as McpError,
    model::{CompleteRequestParams, CompleteResult, CompletionInfo, Reference},
};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use crate::{
    limits::{MAX_ECHOED_NAME, truncate_name},
    mcp::Shared,
    prompts::{self, ArgKind},
    resources,
    routes::LoadedRoute,
    tool_read,
};

/// Longest a completion lookup may take.
pub const COMPLETION_TIMEOUT: Duration = Duration::from_secs(5);
/// Most suggestions returned (the MCP limit).
pub const MAX_VALUES: usize = CompletionInfo::MAX_VALUES;

const LIST_ORGS: &str = "list_all_hashicorp_terraform_cloud_organizations";
const LIST_WS: &str = "list_all_hashicorp_terraform_cloud_workspaces";

fn completion(mut values: Vec<String>, more: bool) -> CompleteResult {
    let more = more || values.len() > MAX_VALUES;
    values.truncate(MAX_VALUES);
    CompleteResult::new(CompletionInfo::with_pagination(values, None, more).unwrap_or_default())
}

fn none() -> CompleteResult {
    completion(Vec::new(), false)
}

/// Names from `candidates` starting with `prefix` (case-insensitive), sorted, unique.
pub fn by_prefix<'a>(candidates: impl IntoIterator<Item = &'a str>, prefix: &str) -> Vec<String> {
    let prefix = prefix.to_ascii_lowercase();
    let mut out: Vec<String> = candidates.into_iter().filter(|c| c.to_ascii_lowercase().starts_with(&prefix)).map(str::to_owned).collect();
    out.sort();
    out.dedup();
    out
}

/// `completion/complete`.
pub async fn complete(
    shared: &Shared,
    route: &Arc<LoadedRoute>,
    request: &CompleteRequestParams,
    ct: &CancellationToken,
) -> Result<CompleteResult, McpError> {
    let argument = &request.argument;
    match &request.r#ref {
        Reference::Prompt(reference) => {
            let Some(prompt) = prompts::find(route, &reference.name) else {
                return Err(McpError::invalid_params(format!("Unknown prompt: {}", truncate_name(&reference.name, MAX_ECHOED_NAME)), None));
            };
            let Some(spec) = prompt.args.iter().find(|a| a.name == argument.name) else {
                return Err(McpError::invalid_params(
                    format!("prompt {} has no argument `{}`", prompt.name, truncate_name(&argument.name, MAX_ECHOED_NAME)),
                    None,
                ));
            };
            // A prefix no name can have gets nothing, without a lookup.
            let value = argument.value.trim();
            if !value.is_empty() && !prompts::valid_name(value) {
                return Ok(none());
            }
            let context = request.context.as_ref().and_then(|c| c.arguments.as_ref());
            Ok(match spec.kind {
                ArgKind::Organization => organizations(shared, route, value, ct).await,
                ArgKind::Workspace => {
                    let org = context
                        .and_then(|a| a.get(prompts::ORGANIZATION))
                        .map(|o| o.trim().to_owned())
                        .filter(|o| !o.is_empty())
                        .or_else(|| prompts::default_organization(route).map(str::to_owned));
                    match org {
                        Some(org) if prompts::valid_name(&org) && prompts::organization_allowed(route, &org) => {
                            workspaces(shared, route, &org, value, ct).await
                        }
                        _ => none(),
                    }
                }
                ArgKind::RunId => none(),
            })
        }
        Reference::Resource(reference) => {
            let known = resources::available(route).any(|t| t.uri_template == reference.uri);
            if !known {
                return Err(resources::not_found(&reference.uri));
            }
            Ok(none())
        }
        #[allow(unreachable_patterns)]
        _ => Ok(none()),
    }
}

async fn organizations(shared: &Shared, route: &Arc<LoadedRoute>, prefix: &str, ct: &CancellationToken) -> CompleteResult {
    if !route.route.organizations.is_empty() {
        return completion(by_prefix(route.route.organizations.iter().map(String::as_str), prefix), false);
    }
    let mut args = Map::new();
    args.insert("page_size".into(), json!(100));
    if !prefix.is_empty() {
        args.insert("search_query".into(), json!(prefix));
    }
    lookup(shared, route, LIST_ORGS, args, prefix, ct).await
}

async fn workspaces(shared: &Shared, route: &Arc<LoadedRoute>, org: &str, prefix: &str, ct: &CancellationToken) -> CompleteResult {
    let mut args = Map::new();
    args.insert("organization_name".into(), json!(org));
    args.insert("page_size".into(), json!(100));
    args.insert("fields".into(), json!(["name"]));
    if !prefix.is_empty() {
        args.insert("search_wildcard_name".into(), json!(format!("{prefix}*")));
    }
    lookup(shared, route, LIST_WS, args, prefix, ct).await
}

/// One page of a list tool, its `name` fields by prefix.
async fn lookup(
    shared: &Shared,
    route: &Arc<LoadedRoute>,
    tool: &str,
    args: Map<String, Value>,
    prefix: &str,
    ct: &CancellationToken,
) -> CompleteResult {
    let limit = tool_read::timeout(shared, COMPLETION_TIMEOUT);
    match tool_read::run(shared, route, "completion/complete", tool, args, ct, limit).await {
        Ok(page) => {
            let names = page
                .get("results")
                .and_then(Value::as_array)
                .map(|items| items.iter().filter_map(|i| i.get("name").and_then(Value::as_str)).collect::<Vec<_>>());
            let more = page.get("next_cursor").is_some_and(Value::is_string);
            completion(by_prefix(names.unwrap_or_default(), prefix), more)
        }
        Err(_) => none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_case_insensitively_sorted_unique() {
        assert_eq!(by_prefix(["prod-db", "Prod-web", "staging", "prod-db"], "PROD"), ["Prod-web", "prod-db"]);
        assert_eq!(by_prefix(["a", "b"], ""), ["a", "b"]);
        assert!(by_prefix(["a"], "zz").is_empty());
    }

    #[test]
    fn at_most_a_hundred_values() {
        let many: Vec<String> = (0..150).map(|i| format!("ws-{i:03}")).collect();
        let result = completion(many, false);
        assert_eq!(result.completion.values.len(), MAX_VALUES);
        assert_eq!(result.completion.has_more, Some(true));
        assert!(result.completion.validate().is_ok());
    }
}
