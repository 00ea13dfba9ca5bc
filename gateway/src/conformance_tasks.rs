//! Test-only task fixtures of the official MCP conformance suite's tasks
//! scenarios (`tasks-*`, extension `io.modelcontextprotocol/tasks`), served
//! only with `--enable-conformance-tools` like [`crate::conformance`].
//!
//! They run on the real task machinery of [`crate::tasks`]: the same signed,
//! stateless task id (same key, binding to the route and caller, expiry),
//! the same `tasks/get` / `tasks/cancel` / `tasks/update` gating. Nothing is
//! kept in memory: a fixture's state is a function of its arguments and of
//! the time since the id's start, as a run's state is read upstream.
//!
//! | tool                  | task support | behaviour |
//! |-----------------------|--------------|-----------|
//! | `greet`               | none         | `Hello, {name}!` at once |
//! | `slow_compute`        | optional     | done after `seconds` (at most [`MAX_SECONDS`]); `seconds: 0`, or a client without the extension, is answered synchronously |
//! | `failing_job`         | required     | after a second, a tool error (`completed`, `isError`) |
//! | `protocol_error_job`  | required     | after a second, `failed` with a JSON-RPC error |
//! | `test_tool_with_task` | required     | asks `user_name` (input-required result), then a task whose result greets that name |
//! | `confirm_delete`      | required     | a task that stays `input_required` (asks to confirm) |
//!
//! `confirm_delete` shows what this gateway's tasks cannot do: take input
//! after they started. `tasks/update` is acknowledged (the id is checked)
//! but cannot change the task, whose id is its whole state; this gateway
//! asks before a task starts instead (`test_tool_with_task`, and approvals).
//! The suite's `tasks-mrtr-input` scenario therefore stays in the baseline.
//!
//! A task-required fixture called by a client that did not declare the
//! extension is refused with -32021 naming it. `tasks/cancel` of a fixture
//! is acknowledged but cannot change the task: the id is the whole state and
//! a fixture has no upstream run to cancel, so `slow_compute` is capped at
//! [`MAX_SECONDS`] to settle soon after a cancel.

use std::time::Duration;

use rmcp::{
    ErrorData as McpError,
    model::{
        CallToolResponse, CallToolResult, ClientCapabilities, ContentBlock, InputRequests, InputRequiredResult, InputResponses, JsonObject,
        TaskPayload, Tool, ToolAnnotations,
    },
};
use serde_json::{Map, Value, json};

use crate::conformance_input::{answer, elicit, elicited};

pub const GREET: &str = "greet";
pub const SLOW_COMPUTE: &str = "slow_compute";
pub const FAILING_JOB: &str = "failing_job";
pub const PROTOCOL_ERROR_JOB: &str = "protocol_error_job";
pub const TOOL_WITH_TASK: &str = "test_tool_with_task";
pub const CONFIRM_DELETE: &str = "confirm_delete";

/// Longest `slow_compute` (a stateless fixture cannot record a cancel).
pub const MAX_SECONDS: u64 = 5;
/// How long the jobs take.
const JOB_TIME: Duration = Duration::from_secs(1);
/// Longest name echoed back.
const MAX_ECHO: usize = 64;

/// How a call of a fixture is served.
pub enum Dispatch {
    /// Answered at once.
    Now(Result<CallToolResponse, McpError>),
    /// Runs as a task with these arguments.
    Task(JsonObject),
}

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("schemas are JSON objects"),
    }
}

fn tool(name: &'static str, description: &'static str, schema: Value) -> Tool {
    Tool::new(name, description, object(schema)).with_annotations(ToolAnnotations::new().read_only(true).open_world(false))
}

/// The fixtures, for `tools/list`.
pub fn tools() -> Vec<Tool> {
    let none = json!({ "type": "object", "properties": {} });
    vec![
        tool(
            GREET,
            "Conformance test tool: greets synchronously.",
            json!({ "type": "object", "properties": { "name": { "type": "string" } }, "required": ["name"] }),
        ),
        tool(
            SLOW_COMPUTE,
            "Conformance test tool: a task that finishes after `seconds` (at most 5).",
            json!({ "type": "object", "properties": { "seconds": { "type": "integer", "minimum": 0 }, "label": { "type": "string" } } }),
        ),
        tool(FAILING_JOB, "Conformance test tool: a task that ends with a tool error.", none.clone()),
        tool(PROTOCOL_ERROR_JOB, "Conformance test tool: a task that fails with a protocol error.", none.clone()),
        tool(TOOL_WITH_TASK, "Conformance test tool: asks for a name, then greets it from a task.", none),
        tool(
            CONFIRM_DELETE,
            "Conformance test tool: a task that waits for a confirmation it cannot take.",
            json!({ "type": "object", "properties": { "filename": { "type": "string" } } }),
        ),
    ]
}

/// True when `name` is a fixture that runs as a task.
pub fn is_task_fixture(name: &str) -> bool {
    [SLOW_COMPUTE, FAILING_JOB, PROTOCOL_ERROR_JOB, TOOL_WITH_TASK, CONFIRM_DELETE].contains(&name)
}

fn shown(value: Option<&Value>) -> String {
    value.and_then(Value::as_str).unwrap_or_default().chars().take(MAX_ECHO).collect()
}

fn seconds(arguments: &Map<String, Value>) -> u64 {
    arguments.get("seconds").and_then(Value::as_u64).unwrap_or(1).min(MAX_SECONDS)
}

fn text(message: String) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(message)])
}

fn computed(arguments: &Map<String, Value>) -> CallToolResult {
    text(format!("Computed {} in {}s.", shown(arguments.get("label")), seconds(arguments)))
}

fn needs_tasks() -> McpError {
    let required: ClientCapabilities =
        serde_json::from_value(json!({ "extensions": { rmcp::model::TASKS_EXTENSION_ID: {} } })).unwrap_or_default();
    McpError::missing_required_client_capability(required)
}

fn protocol_error() -> McpError {
    McpError::internal_error("protocol_error_job failed on purpose (conformance test)", None)
}

/// How to serve a call of `name`; `None` when it is not a fixture.
pub fn dispatch(name: &str, arguments: &JsonObject, responses: Option<&InputResponses>, tasks: bool) -> Option<Dispatch> {
    let now = |result: CallToolResult| Some(Dispatch::Now(Ok(result.into())));
    match name {
        GREET => now(text(format!("Hello, {}!", shown(arguments.get("name"))))),
        // Fast, or a client that does not follow tasks: the plain answer.
        // (A client without the extension waits the seconds out in the call.)
        SLOW_COMPUTE if !tasks || seconds(arguments) == 0 => now(computed(arguments)),
        SLOW_COMPUTE => Some(Dispatch::Task(arguments.clone())),
        FAILING_JOB | PROTOCOL_ERROR_JOB | TOOL_WITH_TASK | CONFIRM_DELETE if !tasks => Some(Dispatch::Now(Err(needs_tasks()))),
        CONFIRM_DELETE => Some(Dispatch::Task(object(json!({ "filename": shown(arguments.get("filename")) })))),
        FAILING_JOB | PROTOCOL_ERROR_JOB => Some(Dispatch::Task(Map::new())),
        TOOL_WITH_TASK => match answer(responses, "user_name") {
            Err(error) => Some(Dispatch::Now(Err(error))),
            Ok(None) => {
                let mut requests = InputRequests::new();
                requests.insert("user_name".to_owned(), elicit("What is your name?", "name", "string"));
                Some(Dispatch::Now(Ok(InputRequiredResult::new(Some(requests), None).into())))
            }
            Ok(Some(result)) => match elicited(result, "name") {
                Ok(name) => Some(Dispatch::Task(object(json!({ "name": name })))),
                Err(error) => Some(Dispatch::Now(Err(error))),
            },
        },
        _ => None,
    }
}

/// How long a synchronous call of `name` takes (`slow_compute` for a client
/// without the extension).
pub fn sync_time(name: &str, arguments: &JsonObject) -> Duration {
    if name == SLOW_COMPUTE { Duration::from_secs(seconds(arguments)) } else { Duration::ZERO }
}

fn as_object<T: serde::Serialize>(value: &T) -> JsonObject {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => JsonObject::new(),
    }
}

/// The fixture task's state after `waited`.
pub fn payload(name: &str, arguments: &JsonObject, waited: Duration) -> TaskPayload {
    if name == CONFIRM_DELETE {
        let mut input_requests = InputRequests::new();
        let message = format!("Delete {}?", shown(arguments.get("filename")));
        input_requests.insert("confirm".to_owned(), elicit(&message, "confirm", "boolean"));
        return TaskPayload::InputRequired { input_requests };
    }
    let takes = if name == SLOW_COMPUTE { Duration::from_secs(seconds(arguments)) } else { JOB_TIME };
    if waited < takes {
        return TaskPayload::Working;
    }
    match name {
        SLOW_COMPUTE => TaskPayload::Completed { result: as_object(&computed(arguments)) },
        FAILING_JOB => TaskPayload::Completed {
            result: as_object(&CallToolResult::error(vec![ContentBlock::text("failing_job failed on purpose (conformance test)")])),
        },
        TOOL_WITH_TASK => TaskPayload::Completed { result: as_object(&text(format!("Hello, {}!", shown(arguments.get("name"))))) },
        _ => TaskPayload::Failed { error: as_object(&protocol_error()) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dispatched(name: &str, arguments: Value, responses: Option<Value>, tasks: bool) -> Dispatch {
        let responses: Option<InputResponses> = responses.map(|r| serde_json::from_value(r).unwrap());
        dispatch(name, &object(arguments), responses.as_ref(), tasks).unwrap()
    }

    #[test]
    fn sync_fixtures_answer_at_once_and_required_ones_need_the_extension() {
        assert!(matches!(dispatched(GREET, json!({"name": "x"}), None, true), Dispatch::Now(Ok(_))));
        assert!(matches!(dispatched(SLOW_COMPUTE, json!({"seconds": 0}), None, true), Dispatch::Now(Ok(_))));
        assert!(matches!(dispatched(SLOW_COMPUTE, json!({"seconds": 2}), None, false), Dispatch::Now(Ok(_))));
        assert!(matches!(dispatched(SLOW_COMPUTE, json!({"seconds": 2}), None, true), Dispatch::Task(_)));
        for name in [FAILING_JOB, PROTOCOL_ERROR_JOB, TOOL_WITH_TASK, CONFIRM_DELETE] {
            let Dispatch::Now(Err(error)) = dispatched(name, json!({}), None, false) else { panic!("{name}") };
            assert_eq!(error.code.0, -32021);
            assert!(error.data.unwrap()["requiredCapabilities"]["extensions"][rmcp::model::TASKS_EXTENSION_ID].is_object());
        }
        assert!(dispatch("test_simple_text", &JsonObject::new(), None, true).is_none());
    }

    #[test]
    fn the_task_with_input_asks_then_carries_the_name() {
        assert!(matches!(dispatched(TOOL_WITH_TASK, json!({}), None, true), Dispatch::Now(Ok(CallToolResponse::InputRequired(_)))));
        let answer = json!({"user_name": {"action": "accept", "content": {"name": "Alice"}}});
        let Dispatch::Task(arguments) = dispatched(TOOL_WITH_TASK, json!({}), Some(answer), true) else { panic!() };
        let TaskPayload::Completed { result } = payload(TOOL_WITH_TASK, &arguments, JOB_TIME) else { panic!() };
        assert_eq!(result["content"][0]["text"], "Hello, Alice!");
    }

    #[test]
    fn state_follows_the_time_since_the_start() {
        let args = object(json!({"seconds": 600, "label": "l"}));
        assert!(matches!(payload(SLOW_COMPUTE, &args, Duration::from_secs(4)), TaskPayload::Working));
        assert!(matches!(payload(SLOW_COMPUTE, &args, Duration::from_secs(MAX_SECONDS)), TaskPayload::Completed { .. }));
        let TaskPayload::Completed { result } = payload(FAILING_JOB, &JsonObject::new(), JOB_TIME) else { panic!() };
        assert_eq!(result["isError"], true);
        let TaskPayload::Failed { error } = payload(PROTOCOL_ERROR_JOB, &JsonObject::new(), JOB_TIME) else { panic!() };
        assert!(error["code"].is_number() && error["message"].is_string());
        let TaskPayload::InputRequired { input_requests } = payload(CONFIRM_DELETE, &JsonObject::new(), Duration::from_secs(3600)) else {
            panic!()
        };
        assert!(input_requests.contains_key("confirm"));
    }
}
