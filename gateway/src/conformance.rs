//! Test-only tools for the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`). They exist only when the gateway
//! runs with `--enable-conformance-tools` (off by default): without it,
//! `tools/list` never shows them and a call is refused like any unknown tool.
//!
//! Each tool answers from memory, never calls HCP Terraform and never reads
//! the route's upstream token. Names and results follow the suite's scenario
//! descriptions:
//!
//! | scenario                      | tool                           |
//! |-------------------------------|--------------------------------|
//! | tools-call-simple-text        | `test_simple_text`             |
//! | tools-call-error              | `test_error_handling`          |
//! | tools-call-image              | `test_image_content`           |
//! | tools-call-audio              | `test_audio_content`           |
//! | tools-call-embedded-resource  | `test_embedded_resource`       |
//! | tools-call-mixed-content      | `test_multiple_content_types`  |
//! | tools-call-with-progress      | `test_tool_with_progress`      |
//! | json-schema-2020-12           | `json_schema_2020_12_tool`     |
//! | server-stateless (2026-07-28) | `test_missing_capability` (needs `sampling` declared: -32021 otherwise), `test_streaming_elicitation` (asks through an input-required result, never a server-to-client request), `test_logging_tool` (never logs: no `logging` capability) |
//! | http-custom-header-server-validation | `test_custom_headers` (argument `region` mirrored in the `Mcp-Param-Region` header) |
//!
//! The suite's test prompts and resources are in [`crate::conformance_content`],
//! its task fixtures (`greet`, `slow_compute`, ...) in [`crate::conformance_tasks`],
//! its multi-round-trip (input-required) tools in [`crate::conformance_input`],
//! the handshake revisions' server-to-client request tools in
//! [`crate::conformance_client_requests`].
//! Scenarios that need logging, server-to-client requests on the handshake
//! revisions (sampling, elicitation) or resource subscriptions are not served
//! (the gateway is stateless); they are listed, one reason each, in
//! `e2e/conformance/baseline-2025-11-25.yml` and `baseline-2026-07-28.yml`.

use std::time::Duration;

use rmcp::{
    ErrorData as McpError, RoleServer,
    model::{
        CallToolResponse, CallToolResult, ClientCapabilities, ContentBlock, InputRequests, InputRequiredResult, InputResponses, JsonObject,
        ProgressNotificationParam, ResourceContents, Tool, ToolAnnotations,
    },
    service::RequestContext,
};

use crate::{conformance_client_requests, conformance_input};
use serde_json::{Value, json};

pub const SIMPLE_TEXT: &str = "test_simple_text";
pub const ERROR_HANDLING: &str = "test_error_handling";
pub const IMAGE_CONTENT: &str = "test_image_content";
pub const AUDIO_CONTENT: &str = "test_audio_content";
pub const EMBEDDED_RESOURCE: &str = "test_embedded_resource";
pub const MULTIPLE_CONTENT_TYPES: &str = "test_multiple_content_types";
pub const TOOL_WITH_PROGRESS: &str = "test_tool_with_progress";
pub const JSON_SCHEMA_2020_12: &str = "json_schema_2020_12_tool";
pub const MISSING_CAPABILITY: &str = "test_missing_capability";
pub const STREAMING_ELICITATION: &str = "test_streaming_elicitation";
pub const LOGGING_TOOL: &str = "test_logging_tool";
pub const CUSTOM_HEADERS: &str = "test_custom_headers";

/// A 1x1 red PNG.
const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
/// Eight samples of 8-bit mono silence at 8 kHz, as WAV.
const WAV_SILENCE: &str = "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==";

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("schemas are JSON objects"),
    }
}

fn no_arguments() -> JsonObject {
    object(json!({ "type": "object", "properties": {} }))
}

fn tool(name: &'static str, description: &'static str, schema: JsonObject) -> Tool {
    Tool::new(name, description, schema).with_annotations(ToolAnnotations::new().read_only(true).open_world(false))
}

/// The conformance tools, in a stable order, for `tools/list`.
pub fn tools() -> Vec<Tool> {
    vec![
        tool(SIMPLE_TEXT, "Conformance test tool: returns a simple text response.", no_arguments()),
        tool(ERROR_HANDLING, "Conformance test tool: always returns a tool error.", no_arguments()),
        tool(IMAGE_CONTENT, "Conformance test tool: returns a 1x1 PNG image.", no_arguments()),
        tool(AUDIO_CONTENT, "Conformance test tool: returns a short WAV clip.", no_arguments()),
        tool(EMBEDDED_RESOURCE, "Conformance test tool: returns an embedded text resource.", no_arguments()),
        tool(MULTIPLE_CONTENT_TYPES, "Conformance test tool: returns text, image and resource content.", no_arguments()),
        tool(TOOL_WITH_PROGRESS, "Conformance test tool: reports progress 0, 50 and 100 of 100.", no_arguments()),
        tool(
            JSON_SCHEMA_2020_12,
            "Tool with JSON Schema 2020-12 features",
            object(json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": {
                    "address": {
                        "$anchor": "addressDef",
                        "type": "object",
                        "properties": { "street": { "type": "string" }, "city": { "type": "string" } }
                    }
                },
                "properties": {
                    "name": { "type": "string" },
                    "address": { "$ref": "#/$defs/address" },
                    "contactMethod": { "type": "string", "enum": ["phone", "email"] },
                    "phone": { "type": "string" },
                    "email": { "type": "string" }
                },
                "allOf": [{ "anyOf": [{ "required": ["phone"] }, { "required": ["email"] }] }],
                "if": { "properties": { "contactMethod": { "const": "phone" } }, "required": ["contactMethod"] },
                "then": { "required": ["phone"] },
                "else": { "required": ["email"] },
                "additionalProperties": false
            })),
        ),
        tool(MISSING_CAPABILITY, "Conformance test tool: needs the client's sampling capability.", no_arguments()),
        tool(STREAMING_ELICITATION, "Conformance test tool: asks the user through an input-required result.", no_arguments()),
        tool(LOGGING_TOOL, "Conformance test tool: would log, but this server declares no logging.", no_arguments()),
        tool(
            CUSTOM_HEADERS,
            "Conformance test tool: echoes a region mirrored in the Mcp-Param-Region header.",
            object(json!({
                "type": "object",
                "properties": { "region": { "type": "string", "x-mcp-header": "Region" } },
                "required": ["region"]
            })),
        ),
    ]
    .into_iter()
    .chain(conformance_input::TOOLS.into_iter().map(|(name, description)| tool(name, description, no_arguments())))
    .chain(conformance_client_requests::tools())
    .chain(crate::conformance_tasks::tools())
    .collect()
}

/// True when `name` is one of the conformance tools.
pub fn is_conformance_tool(name: &str) -> bool {
    find(name).is_some()
}

/// The conformance tool called `name` (for rmcp's `Mcp-Param-*` header
/// validation, which needs the called tool's input schema).
pub fn find(name: &str) -> Option<Tool> {
    tools().into_iter().find(|t| t.name == name)
}

/// Missing-required-client-capability (-32021) unless the request's `_meta`
/// (or the session's initialize) declared the capability.
fn require(declared: bool, required: serde_json::Value) -> Result<(), McpError> {
    if declared {
        return Ok(());
    }
    let required: ClientCapabilities = serde_json::from_value(required).unwrap_or_default();
    Err(McpError::missing_required_client_capability(required))
}

/// Runs a conformance tool; `None` when `name` is not one of them, so the
/// caller goes on with its own dispatch.
pub async fn call(
    name: &str,
    arguments: &JsonObject,
    responses: Option<&InputResponses>,
    state: Option<&str>,
    context: &RequestContext<RoleServer>,
) -> Option<Result<CallToolResponse, McpError>> {
    let capabilities = context.client_capabilities();
    if let Some(result) = conformance_input::call(name, responses, state, capabilities.as_ref()) {
        return Some(result);
    }
    if let Some(result) = conformance_client_requests::call(name, arguments, context).await {
        return Some(Ok(result.into()));
    }
    let result = match name {
        MISSING_CAPABILITY => {
            if let Err(error) = require(capabilities.as_ref().is_some_and(|c| c.sampling.is_some()), json!({ "sampling": {} })) {
                return Some(Err(error));
            }
            CallToolResult::success(vec![ContentBlock::text("The client declared sampling.")])
        }
        STREAMING_ELICITATION => {
            if let Err(error) = require(capabilities.as_ref().is_some_and(|c| c.elicitation.is_some()), json!({ "elicitation": {} })) {
                return Some(Err(error));
            }
            if responses.is_some_and(|r| r.contains_key("confirm")) {
                CallToolResult::success(vec![ContentBlock::text("Answered.")])
            } else {
                let mut requests = InputRequests::new();
                requests.insert("confirm".to_owned(), crate::approval::input_request("Conformance test: please confirm."));
                return Some(Ok(InputRequiredResult::new(Some(requests), None).into()));
            }
        }
        LOGGING_TOOL => CallToolResult::success(vec![ContentBlock::text("Nothing logged: this server declares no logging.")]),
        CUSTOM_HEADERS => {
            let region = arguments.get("region").and_then(Value::as_str).unwrap_or_default();
            CallToolResult::success(vec![ContentBlock::text(format!("region: {}", region.chars().take(64).collect::<String>()))])
        }
        SIMPLE_TEXT => CallToolResult::success(vec![ContentBlock::text("This is a simple text response for testing.")]),
        ERROR_HANDLING => CallToolResult::error(vec![ContentBlock::text("This tool intentionally returns an error for testing")]),
        IMAGE_CONTENT => CallToolResult::success(vec![ContentBlock::image(PNG_1X1, "image/png")]),
        AUDIO_CONTENT => CallToolResult::success(vec![ContentBlock::audio(WAV_SILENCE, "audio/wav")]),
        EMBEDDED_RESOURCE => CallToolResult::success(vec![ContentBlock::resource(ResourceContents::text(
            "This is an embedded resource content.",
            "test://embedded-resource",
        ))]),
        MULTIPLE_CONTENT_TYPES => CallToolResult::success(vec![
            ContentBlock::text("Multiple content types test:"),
            ContentBlock::image(PNG_1X1, "image/png"),
            ContentBlock::resource(
                ResourceContents::text(r#"{"test":"data","value":123}"#, "test://mixed-content-resource")
                    .with_mime_type("application/json"),
            ),
        ]),
        TOOL_WITH_PROGRESS => {
            let token = context.meta.get_progress_token();
            for (i, progress) in [0.0, 50.0, 100.0].into_iter().enumerate() {
                if i > 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                if let Some(token) = &token {
                    let mut param = ProgressNotificationParam::new(token.clone(), progress);
                    param.total = Some(100.0);
                    let _ = context.peer.notify_progress(param).await;
                }
            }
            CallToolResult::success(vec![ContentBlock::text("Progress tool completed: reported 0, 50 and 100 of 100.")])
        }
        JSON_SCHEMA_2020_12 => CallToolResult::success(vec![ContentBlock::text("JSON Schema 2020-12 tool called.")]),
        _ => return None,
    };
    Some(Ok(result.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_tool_is_dispatched_and_nothing_else() {
        let tools = tools();
        assert_eq!(tools.len(), 30);
        for tool in &tools {
            assert!(is_conformance_tool(&tool.name), "{}", tool.name);
            assert!(tool.description.is_some());
        }
        assert!(!is_conformance_tool("list_all_hashicorp_terraform_cloud_workspaces"));
    }

    #[test]
    fn schema_2020_12_keywords_are_kept() {
        let tool = tools().into_iter().find(|t| t.name == JSON_SCHEMA_2020_12).unwrap();
        let schema = serde_json::to_value(tool.input_schema.as_ref()).unwrap();
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert!(schema["$defs"]["address"].is_object());
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["$defs"]["address"]["$anchor"], "addressDef");
        for keyword in ["allOf", "if", "then", "else"] {
            assert!(schema.get(keyword).is_some(), "{keyword}");
        }
    }
}
