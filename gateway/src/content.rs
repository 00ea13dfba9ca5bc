//! The MCP methods beyond tools, glued to the route: `prompts/list`,
//! `prompts/get`, `completion/complete`, `resources/list`,
//! `resources/templates/list` and `resources/read` (see [`crate::prompts`],
//! [`crate::completions`], [`crate::resources`]). Everything is computed
//! from the route on each request; nothing is kept per client.
//!
//! On 2026-07-28 the list results carry caching hints: [`LIST_TTL_MS`],
//! scope `private` (they depend on the URL's route). Reads are not cached
//! (`ttlMs` 0, filled in by rmcp), and a missing resource is -32602 there
//! (rmcp maps -32002).

use std::sync::Arc;

use rmcp::{
    ErrorData as McpError, RoleServer,
    model::{
        CacheScope, CompleteRequestParams, CompleteResult, GetPromptRequestParams, GetPromptResponse, ListPromptsResult,
        ListResourceTemplatesResult, ListResourcesResult, ProtocolVersion, ReadResourceRequestParams, ReadResourceResult,
    },
    service::RequestContext,
};

use crate::{completions, conformance_content, conformance_input, mcp::Shared, prompts, resources, routes::LoadedRoute};

/// How long a client may reuse a list of prompts, resources or templates.
pub const LIST_TTL_MS: u64 = 60_000;

fn is_2026_07_28_or_later(context: &RequestContext<RoleServer>) -> bool {
    context.protocol_version().is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str())
}

fn outcome<T>(result: &Result<T, McpError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) if e.code == rmcp::model::ErrorCode::RESOURCE_NOT_FOUND => "not_found",
        Err(_) => "invalid_arguments",
    }
}

pub fn list_prompts(shared: &Shared, route: &LoadedRoute, context: &RequestContext<RoleServer>) -> Result<ListPromptsResult, McpError> {
    let mut prompts = prompts::list(route);
    if shared.conformance_tools {
        prompts.extend(conformance_content::prompts());
        prompts.push(conformance_input::prompt());
    }
    shared.metrics.request(&route.route.server, "prompts/list", "", "ok");
    let mut result = ListPromptsResult::with_all_items(prompts);
    if is_2026_07_28_or_later(context) {
        result = result.with_ttl_ms(LIST_TTL_MS).with_cache_scope(CacheScope::Private);
    }
    Ok(result)
}

pub fn get_prompt(shared: &Shared, route: &LoadedRoute, request: GetPromptRequestParams) -> Result<GetPromptResponse, McpError> {
    if shared.conformance_tools {
        if let Some(result) = conformance_content::get_prompt(&request.name, request.arguments.as_ref()) {
            return Ok(result.into());
        }
        if let Some(result) = conformance_input::get_prompt(&request.name, request.input_responses.as_ref()) {
            return result;
        }
    }
    let result = prompts::get(route, &request.name, request.arguments.as_ref());
    let name = if result.is_ok() { request.name.as_str() } else { "unknown" };
    shared.metrics.request(&route.route.server, "prompts/get", name, outcome(&result));
    result.map(Into::into)
}

pub async fn complete(
    shared: &Shared,
    route: &Arc<LoadedRoute>,
    request: CompleteRequestParams,
    context: &RequestContext<RoleServer>,
) -> Result<CompleteResult, McpError> {
    if shared.conformance_tools
        && let Some(result) = conformance_content::complete(&request)
    {
        return Ok(result);
    }
    let result = completions::complete(shared, route, &request, &context.ct).await;
    if result.is_err() {
        shared.metrics.request(&route.route.server, "completion/complete", "", outcome(&result));
    }
    result
}

pub fn list_resources(shared: &Shared, route: &LoadedRoute, context: &RequestContext<RoleServer>) -> Result<ListResourcesResult, McpError> {
    let mut items = resources::resources();
    if shared.conformance_tools {
        items.extend(conformance_content::resources());
    }
    shared.metrics.request(&route.route.server, "resources/list", "", "ok");
    let mut result = ListResourcesResult::with_all_items(items);
    if is_2026_07_28_or_later(context) {
        result = result.with_ttl_ms(LIST_TTL_MS).with_cache_scope(CacheScope::Private);
    }
    Ok(result)
}

pub fn list_resource_templates(
    shared: &Shared,
    route: &LoadedRoute,
    context: &RequestContext<RoleServer>,
) -> Result<ListResourceTemplatesResult, McpError> {
    let mut items = resources::templates(route);
    if shared.conformance_tools {
        items.extend(conformance_content::templates());
    }
    shared.metrics.request(&route.route.server, "resources/templates/list", "", "ok");
    let mut result = ListResourceTemplatesResult::with_all_items(items);
    if is_2026_07_28_or_later(context) {
        result = result.with_ttl_ms(LIST_TTL_MS).with_cache_scope(CacheScope::Private);
    }
    Ok(result)
}

pub async fn read_resource(
    shared: &Shared,
    route: &Arc<LoadedRoute>,
    request: ReadResourceRequestParams,
    context: &RequestContext<RoleServer>,
) -> Result<ReadResourceResult, McpError> {
    if shared.conformance_tools
        && let Some(contents) = conformance_content::read(&request.uri)
    {
        return Ok(ReadResourceResult::new(vec![contents]));
    }
    let contents = resources::read(shared, route, &request.uri, &context.ct).await?;
    Ok(ReadResourceResult::new(vec![contents]))
}
