//! Test-only tools that ask the client through a server-to-client request
//! (the handshake revisions' `sampling/createMessage` and `elicitation/create`),
//! for the official MCP conformance suite; they exist only with
//! `--enable-conformance-tools` (see [`crate::conformance`]).
//!
//! | scenario (2025-11-25)         | tool                                 |
//! |-------------------------------|--------------------------------------|
//! | tools-call-sampling           | `test_sampling` (argument `prompt`)  |
//! | tools-call-elicitation        | `test_elicitation` (argument `message`) |
//! | elicitation-sep1034-defaults  | `test_elicitation_sep1034_defaults`  |
//! | elicitation-sep1330-enums     | `test_elicitation_sep1330_enums`     |
//!
//! The request travels on the call's own response stream (Streamable HTTP)
//! or on the legacy SSE stream; when the client cannot answer (it declared no
//! such capability, or did not answer within [`ANSWER_TIMEOUT`]) the tool
//! answers a tool error saying so. On 2026-07-28 the same questions travel as
//! input-required results instead (see [`crate::conformance_input`]).

// Sampling is deprecated (SEP-2577), but the 2025-11-25 requirement set still tests it.
#![allow(deprecated)]

use std::time::Duration;

use rmcp::{
    RoleServer,
    model::{CallToolResult, ContentBlock, CreateMessageRequestParams, ElicitRequestParams, JsonObject, Tool, ToolAnnotations},
    service::RequestContext,
};
use serde_json::{Value, json};

pub const SAMPLING: &str = "test_sampling";
pub const ELICITATION: &str = "test_elicitation";
pub const SEP1034_DEFAULTS: &str = "test_elicitation_sep1034_defaults";
pub const SEP1330_ENUMS: &str = "test_elicitation_sep1330_enums";

/// How long a tool waits for the client's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest argument forwarded to the client.
const MAX_ARGUMENT: usize = 500;

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("schemas are JSON objects"),
    }
}

fn tool(name: &'static str, description: &'static str, schema: Value) -> Tool {
    Tool::new(name, description, object(schema)).with_annotations(ToolAnnotations::new().read_only(true).open_world(false))
}

pub fn tools() -> Vec<Tool> {
    let one_string = |name: &str| json!({ "type": "object", "properties": { name: { "type": "string" } }, "required": [name] });
    vec![
        tool(SAMPLING, "Conformance test tool: asks the client's model (sampling/createMessage).", one_string("prompt")),
        tool(ELICITATION, "Conformance test tool: asks the user (elicitation/create).", one_string("message")),
        tool(
            SEP1034_DEFAULTS,
            "Conformance test tool: asks the user with a form whose fields have defaults.",
            json!({ "type": "object", "properties": {} }),
        ),
        tool(
            SEP1330_ENUMS,
            "Conformance test tool: asks the user with every kind of enum field.",
            json!({ "type": "object", "properties": {} }),
        ),
    ]
}

fn argument(arguments: &JsonObject, name: &str) -> String {
    arguments.get(name).and_then(Value::as_str).unwrap_or_default().chars().take(MAX_ARGUMENT).collect()
}

fn form(message: &str, properties: Value, required: &[&str]) -> ElicitRequestParams {
    serde_json::from_value(json!({
        "mode": "form",
        "message": message,
        "requestedSchema": { "type": "object", "properties": properties, "required": required },
    }))
    .expect("a valid elicitation form")
}

fn sep1034_form() -> ElicitRequestParams {
    form(
        "Please review the defaults.",
        json!({
            "name": { "type": "string", "default": "John Doe" },
            "age": { "type": "integer", "default": 30 },
            "score": { "type": "number", "default": 95.5 },
            "status": { "type": "string", "enum": ["active", "inactive", "pending"], "default": "active" },
            "verified": { "type": "boolean", "default": true }
        }),
        &[],
    )
}

fn sep1330_form() -> ElicitRequestParams {
    form(
        "Please choose.",
        json!({
            "untitledSingle": { "type": "string", "enum": ["option1", "option2", "option3"] },
            "titledSingle": { "type": "string", "oneOf": [
                { "const": "value1", "title": "First Option" },
                { "const": "value2", "title": "Second Option" },
                { "const": "value3", "title": "Third Option" }
            ] },
            "legacyEnum": { "type": "string", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"] },
            "untitledMulti": { "type": "array", "items": { "type": "string", "enum": ["option1", "option2", "option3"] } },
            "titledMulti": { "type": "array", "items": { "anyOf": [
                { "const": "value1", "title": "First Choice" },
                { "const": "value2", "title": "Second Choice" },
                { "const": "value3", "title": "Third Choice" }
            ] } }
        }),
        &[],
    )
}

fn unreachable_client(error: impl std::fmt::Display) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(format!(
        "The client could not be asked ({error}); on 2026-07-28 ask through an input-required result instead."
    ))])
}

/// Runs one of these tools; `None` when `name` is not one of them.
pub async fn call(name: &str, arguments: &JsonObject, context: &RequestContext<RoleServer>) -> Option<CallToolResult> {
    let elicit = |params: ElicitRequestParams| async move {
        match context.peer.create_elicitation_with_timeout(params, Some(ANSWER_TIMEOUT)).await {
            Ok(answer) => {
                let answer = serde_json::to_value(answer).unwrap_or_default();
                CallToolResult::success(vec![ContentBlock::text(format!(
                    "Elicitation completed: action={}, content={}",
                    answer.get("action").and_then(Value::as_str).unwrap_or("unknown"),
                    answer.get("content").cloned().unwrap_or(Value::Null)
                ))])
            }
            Err(error) => unreachable_client(error),
        }
    };
    let result = match name {
        SAMPLING => {
            let params: CreateMessageRequestParams = serde_json::from_value(json!({
                "messages": [{ "role": "user", "content": { "type": "text", "text": argument(arguments, "prompt") } }],
                "maxTokens": 100,
            }))
            .expect("a valid sampling request");
            match tokio::time::timeout(ANSWER_TIMEOUT, context.peer.create_message(params)).await {
                Ok(Ok(answer)) => {
                    let answer = serde_json::to_value(answer).unwrap_or_default();
                    let text = answer.get("content").and_then(|c| c.get("text")).and_then(Value::as_str).unwrap_or_default();
                    CallToolResult::success(vec![ContentBlock::text(format!("LLM response: {text}"))])
                }
                Ok(Err(error)) => unreachable_client(error),
                Err(_) => unreachable_client("timed out"),
            }
        }
        ELICITATION => {
            let properties = json!({
                "username": { "type": "string", "description": "User's response" },
                "email": { "type": "string", "description": "User's email address" }
            });
            elicit(form(&argument(arguments, "message"), properties, &["username", "email"])).await
        }
        SEP1034_DEFAULTS => elicit(sep1034_form()).await,
        SEP1330_ENUMS => elicit(sep1330_form()).await,
        _ => return None,
    };
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_are_valid_elicitation_requests() {
        for params in [sep1034_form(), sep1330_form()] {
            let value = serde_json::to_value(params).unwrap();
            assert_eq!(value["requestedSchema"]["type"], "object");
        }
        assert_eq!(tools().len(), 4);
    }
}
