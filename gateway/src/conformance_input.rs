//! Test-only multi-round-trip (SEP-2322) diagnostics for the official MCP
//! conformance suite, next to its other test tools (see [`crate::conformance`]):
//! they exist only with `--enable-conformance-tools`, answer from memory and
//! never call HCP Terraform. Each answers the first call with an
//! input-required result and the retried call (with `inputResponses` and the
//! echoed `requestState`) with a complete one. Names and shapes follow the
//! suite's 2026-07-28 scenarios:
//!
//! | scenario                                     | fixture                                        |
//! |----------------------------------------------|------------------------------------------------|
//! | input-required-result-basic-elicitation (+ missing-input-response, result-type, ignore-extra-params, validate-input) | tool `test_input_required_result_elicitation` |
//! | input-required-result-basic-sampling         | tool `test_input_required_result_sampling`     |
//! | input-required-result-basic-list-roots       | tool `test_input_required_result_list_roots`   |
//! | input-required-result-request-state          | tool `test_input_required_result_request_state` |
//! | input-required-result-multiple-input-requests | tool `test_input_required_result_multiple_inputs` |
//! | input-required-result-multi-round            | tool `test_input_required_result_multi_round`  |
//! | input-required-result-tampered-state         | tool `test_input_required_result_tampered_state` |
//! | input-required-result-capability-check       | tool `test_input_required_result_capabilities` |
//! | input-required-result-non-tool-request       | prompt `test_input_required_result_prompt`     |
//!
//! Request states are sealed like the approval flow's (rmcp's HMAC
//! [`RequestStateCodec`]), with a random key of this process, bound to the
//! tool and expiring; a tampered state is refused with invalid params.

use std::{sync::OnceLock, time::Duration};

use rmcp::{
    ErrorData as McpError,
    model::{
        CallToolResponse, CallToolResult, ClientCapabilities, ContentBlock, GetPromptResponse, GetPromptResult, InputRequest,
        InputRequests, InputRequiredResult, InputResponses, Prompt, PromptArgument, PromptMessage, RequestStateCodec, Role, SealOptions,
    },
};
use serde_json::{Map, Value, json};

pub const ELICITATION: &str = "test_input_required_result_elicitation";
pub const SAMPLING: &str = "test_input_required_result_sampling";
pub const LIST_ROOTS: &str = "test_input_required_result_list_roots";
pub const REQUEST_STATE: &str = "test_input_required_result_request_state";
pub const MULTIPLE_INPUTS: &str = "test_input_required_result_multiple_inputs";
pub const MULTI_ROUND: &str = "test_input_required_result_multi_round";
pub const TAMPERED_STATE: &str = "test_input_required_result_tampered_state";
pub const CAPABILITIES: &str = "test_input_required_result_capabilities";
pub const PROMPT: &str = "test_input_required_result_prompt";

/// The tools, with their descriptions, for `tools/list`.
pub const TOOLS: [(&str, &str); 8] = [
    (ELICITATION, "Conformance test tool: asks the user's name through an input-required result."),
    (SAMPLING, "Conformance test tool: asks the client's model a question through an input-required result."),
    (LIST_ROOTS, "Conformance test tool: asks for the client's roots through an input-required result."),
    (REQUEST_STATE, "Conformance test tool: round-trips a sealed request state."),
    (MULTIPLE_INPUTS, "Conformance test tool: asks for an elicitation, a sampling and the roots at once."),
    (MULTI_ROUND, "Conformance test tool: asks in two rounds, carrying the first answer in the request state."),
    (TAMPERED_STATE, "Conformance test tool: refuses a request state that fails its integrity check."),
    (CAPABILITIES, "Conformance test tool: asks only for what the client declared it can answer."),
];

/// How long a diagnostic request state stays valid.
const STATE_TTL: Duration = Duration::from_secs(300);
/// Longest answer echoed back in a result.
const MAX_ECHO: usize = 200;

/// A random key of this process: the diagnostics' states verify on this replica only.
fn codec() -> &'static RequestStateCodec {
    static CODEC: OnceLock<RequestStateCodec> = OnceLock::new();
    CODEC.get_or_init(|| {
        RequestStateCodec::try_new(crate::approval::new_key().into_bytes()).expect("64 random hex characters are a valid key")
    })
}

fn seal(tool: &str, payload: &Value) -> String {
    codec().seal_with(payload.to_string().as_bytes(), &SealOptions::new().associated_data(tool.as_bytes()).ttl(STATE_TTL))
}

/// The payload of a state sealed for `tool`; tampered, expired or another
/// tool's state is a protocol error (invalid params), never a result.
fn open(tool: &str, state: &str) -> Result<Value, McpError> {
    let refused = || McpError::invalid_params("requestState failed its integrity check (tampered, expired or for another call)", None);
    let bytes = codec().open_with(state, tool.as_bytes()).map_err(|_| refused())?;
    serde_json::from_slice(&bytes).map_err(|_| refused())
}

fn request(value: Value) -> InputRequest {
    serde_json::from_value(value).expect("a valid input request")
}

pub(crate) fn elicit(message: &str, field: &str, kind: &str) -> InputRequest {
    request(json!({
        "method": "elicitation/create",
        "params": {
            "message": message,
            "requestedSchema": { "type": "object", "properties": { field: { "type": kind } }, "required": [field] },
        },
    }))
}

fn sample(text: &str, max_tokens: u32) -> InputRequest {
    request(json!({
        "method": "sampling/createMessage",
        "params": { "messages": [{ "role": "user", "content": { "type": "text", "text": text } }], "maxTokens": max_tokens },
    }))
}

fn list_roots() -> InputRequest {
    request(json!({ "method": "roots/list", "params": {} }))
}

fn ask(requests: impl IntoIterator<Item = (&'static str, InputRequest)>, state: Option<String>) -> InputRequiredResult {
    let requests: InputRequests = requests.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    InputRequiredResult::new(Some(requests), state)
}

fn text(message: String) -> CallToolResponse {
    CallToolResult::success(vec![ContentBlock::text(message)]).into()
}

fn shown(value: &str) -> String {
    value.chars().take(MAX_ECHO).collect()
}

/// What the client answered under `key`: `Ok(None)` when it did not answer
/// it (the caller asks again), an error when the answer is not an object.
pub(crate) fn answer<'a>(responses: Option<&'a InputResponses>, key: &str) -> Result<Option<&'a Map<String, Value>>, McpError> {
    match responses.and_then(|r| r.get(key)) {
        None => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(McpError::invalid_params(format!("inputResponses.{key} must be the result object of its input request"), None)),
    }
}

/// An accepted elicitation's `content.<field>` as text.
pub(crate) fn elicited(result: &Map<String, Value>, field: &str) -> Result<String, McpError> {
    if result.get("action").and_then(Value::as_str) != Some("accept") {
        return Err(McpError::invalid_params("the elicitation was not accepted", None));
    }
    match result.get("content").and_then(|c| c.get(field)) {
        Some(Value::String(s)) => Ok(shown(s)),
        Some(other @ (Value::Bool(_) | Value::Number(_))) => Ok(other.to_string()),
        _ => Err(McpError::invalid_params(format!("the elicitation result has no content.{field}"), None)),
    }
}

/// A sampling result's text.
fn sampled(result: &Map<String, Value>) -> String {
    shown(result.get("content").and_then(|c| c.get("text")).and_then(Value::as_str).unwrap_or(""))
}

/// The roots' URIs of a `roots/list` result.
fn roots(result: &Map<String, Value>) -> Result<Vec<String>, McpError> {
    let roots = result
        .get("roots")
        .and_then(Value::as_array)
        .ok_or_else(|| McpError::invalid_params("the roots/list result has no roots array", None))?;
    Ok(roots.iter().take(10).filter_map(|r| r.get("uri").and_then(Value::as_str)).map(shown).collect())
}

/// Runs a diagnostic tool; `None` when `name` is not one of them.
pub fn call(
    name: &str,
    responses: Option<&InputResponses>,
    state: Option<&str>,
    capabilities: Option<&ClientCapabilities>,
) -> Option<Result<CallToolResponse, McpError>> {
    let result = match name {
        ELICITATION => basic_elicitation(responses),
        SAMPLING => match answer(responses, "capital_question") {
            Ok(Some(result)) => Ok(text(format!("The model answered: {}", sampled(result)))),
            Ok(None) => Ok(ask([("capital_question", sample("What is the capital of France?", 100))], None).into()),
            Err(e) => Err(e),
        },
        LIST_ROOTS => match answer(responses, "client_roots") {
            Ok(Some(result)) => roots(result).map(|roots| text(format!("The client's roots: {}", roots.join(", ")))),
            Ok(None) => Ok(ask([("client_roots", list_roots())], None).into()),
            Err(e) => Err(e),
        },
        REQUEST_STATE | TAMPERED_STATE => confirm_with_state(name, responses, state),
        MULTIPLE_INPUTS => multiple_inputs(responses, state),
        MULTI_ROUND => multi_round(responses, state),
        CAPABILITIES => Ok(declared_only(capabilities).into()),
        _ => return None,
    };
    Some(result)
}

fn basic_elicitation(responses: Option<&InputResponses>) -> Result<CallToolResponse, McpError> {
    match answer(responses, "user_name")? {
        Some(result) => Ok(text(format!("Hello, {}!", elicited(result, "name")?))),
        // First call, or a retry that does not answer `user_name`: ask (again).
        None => Ok(ask([("user_name", elicit("What is your name?", "name", "string"))], None).into()),
    }
}

fn confirm_with_state(tool: &str, responses: Option<&InputResponses>, state: Option<&str>) -> Result<CallToolResponse, McpError> {
    let Some(state) = state else {
        return Ok(ask([("confirm", elicit("Please confirm", "ok", "boolean"))], Some(seal(tool, &json!({ "round": 1 })))).into());
    };
    open(tool, state)?;
    match answer(responses, "confirm")? {
        Some(result) => Ok(text(format!("state-ok: request state verified; confirmed: {}", elicited(result, "ok")?))),
        None => Ok(ask([("confirm", elicit("Please confirm", "ok", "boolean"))], Some(seal(tool, &json!({ "round": 1 })))).into()),
    }
}

fn multiple_inputs(responses: Option<&InputResponses>, state: Option<&str>) -> Result<CallToolResponse, McpError> {
    if let Some(state) = state {
        open(MULTIPLE_INPUTS, state)?;
        if let (Some(name), Some(greeting), Some(client_roots)) =
            (answer(responses, "user_name")?, answer(responses, "greeting")?, answer(responses, "client_roots")?)
        {
            return Ok(text(format!(
                "Every input answered: name {}, greeting {}, roots {}.",
                elicited(name, "name")?,
                sampled(greeting),
                roots(client_roots)?.join(", ")
            )));
        }
    }
    Ok(ask(
        [
            ("user_name", elicit("What is your name?", "name", "string")),
            ("greeting", sample("Generate a greeting", 50)),
            ("client_roots", list_roots()),
        ],
        Some(seal(MULTIPLE_INPUTS, &json!({ "round": 1 }))),
    )
    .into())
}

fn multi_round(responses: Option<&InputResponses>, state: Option<&str>) -> Result<CallToolResponse, McpError> {
    let step1 =
        || ask([("step1", elicit("Step 1: What is your name?", "name", "string"))], Some(seal(MULTI_ROUND, &json!({ "round": 1 }))));
    let Some(state) = state else { return Ok(step1().into()) };
    let payload = open(MULTI_ROUND, state)?;
    match payload.get("round").and_then(Value::as_u64) {
        Some(1) => match answer(responses, "step1")? {
            Some(result) => {
                let name = elicited(result, "name")?;
                let next = seal(MULTI_ROUND, &json!({ "round": 2, "name": name }));
                Ok(ask([("step2", elicit("Step 2: What is your favorite color?", "color", "string"))], Some(next)).into())
            }
            None => Ok(step1().into()),
        },
        Some(2) => {
            let name = payload.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
            match answer(responses, "step2")? {
                Some(result) => Ok(text(format!("Both rounds answered: {name} likes {}.", elicited(result, "color")?))),
                None => {
                    Ok(ask([("step2", elicit("Step 2: What is your favorite color?", "color", "string"))], Some(state.to_owned())).into())
                }
            }
        }
        _ => Err(McpError::invalid_params("requestState names no round of this call", None)),
    }
}

/// Only what the client declared in this request's `_meta` can be asked.
fn declared_only(capabilities: Option<&ClientCapabilities>) -> InputRequiredResult {
    let mut requests = Vec::new();
    if capabilities.is_some_and(|c| c.elicitation.is_some()) {
        requests.push(("user_name", elicit("What is your name?", "name", "string")));
    }
    if capabilities.is_some_and(|c| c.sampling.is_some()) {
        requests.push(("greeting", sample("Generate a greeting", 50)));
    }
    if capabilities.is_some_and(|c| c.roots.is_some()) {
        requests.push(("client_roots", list_roots()));
    }
    ask(requests, None)
}

/// The prompt of the `input-required-result-non-tool-request` scenario.
pub fn prompt() -> Prompt {
    Prompt::new(
        PROMPT,
        Some("Conformance test prompt: asks the user for context through an input-required result."),
        Option::<Vec<PromptArgument>>::None,
    )
}

/// `prompts/get` of [`PROMPT`]; `None` for any other prompt.
pub fn get_prompt(name: &str, responses: Option<&InputResponses>) -> Option<Result<GetPromptResponse, McpError>> {
    if name != PROMPT {
        return None;
    }
    let result = match answer(responses, "user_context") {
        Ok(Some(result)) => elicited(result, "context")
            .map(|context| GetPromptResult::new(vec![PromptMessage::new_text(Role::User, format!("Use this context: {context}"))]).into()),
        Ok(None) => Ok(ask([("user_context", elicit("What context should the prompt use?", "context", "string"))], None).into()),
        Err(e) => Err(e),
    };
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn responses(value: Value) -> InputResponses {
        serde_json::from_value(value).unwrap()
    }

    fn input_required(response: CallToolResponse) -> InputRequiredResult {
        match response {
            CallToolResponse::InputRequired(result) => result,
            other => panic!("expected input-required, got {other:?}"),
        }
    }

    fn complete_text(response: CallToolResponse) -> String {
        match response {
            CallToolResponse::Complete(result) => result.content[0].as_text().unwrap().text.clone(),
            other => panic!("expected a complete result, got {other:?}"),
        }
    }

    #[test]
    fn basic_elicitation_asks_then_greets_and_asks_again_for_a_missing_key() {
        let first = input_required(call(ELICITATION, None, None, None).unwrap().unwrap());
        assert!(first.input_requests.unwrap().contains_key("user_name"));
        let answered = responses(json!({"user_name": {"action": "accept", "content": {"name": "Alice"}}, "extra": 1}));
        assert_eq!(complete_text(call(ELICITATION, Some(&answered), None, None).unwrap().unwrap()), "Hello, Alice!");
        let wrong = responses(json!({"wrong_key": {"action": "accept", "content": {}}}));
        input_required(call(ELICITATION, Some(&wrong), None, None).unwrap().unwrap());
        let invalid = responses(json!({"user_name": 12345}));
        assert!(call(ELICITATION, Some(&invalid), None, None).unwrap().is_err());
    }

    #[test]
    fn a_tampered_or_foreign_state_is_refused() {
        let first = input_required(call(TAMPERED_STATE, None, None, None).unwrap().unwrap());
        let state = first.request_state.unwrap();
        let ok = responses(json!({"confirm": {"action": "accept", "content": {"ok": true}}}));
        assert!(complete_text(call(TAMPERED_STATE, Some(&ok), Some(&state), None).unwrap().unwrap()).contains("state-ok"));
        assert!(call(TAMPERED_STATE, Some(&ok), Some(&format!("{state}-TAMPERED")), None).unwrap().is_err());
        // Sealed for another tool: refused too.
        assert!(call(REQUEST_STATE, Some(&ok), Some(&state), None).unwrap().is_err());
    }

    #[test]
    fn multi_round_carries_the_first_answer() {
        let r1 = input_required(call(MULTI_ROUND, None, None, None).unwrap().unwrap());
        let a1 = responses(json!({"step1": {"action": "accept", "content": {"name": "Bob"}}}));
        let r2 = input_required(call(MULTI_ROUND, Some(&a1), r1.request_state.as_deref(), None).unwrap().unwrap());
        assert!(r2.input_requests.as_ref().unwrap().contains_key("step2"));
        let a2 = responses(json!({"step2": {"action": "accept", "content": {"color": "green"}}}));
        let done = complete_text(call(MULTI_ROUND, Some(&a2), r2.request_state.as_deref(), None).unwrap().unwrap());
        assert_eq!(done, "Both rounds answered: Bob likes green.");
    }

    #[test]
    fn only_declared_capabilities_are_asked() {
        let sampling_only: ClientCapabilities = serde_json::from_value(json!({"sampling": {}})).unwrap();
        let result = input_required(call(CAPABILITIES, None, None, Some(&sampling_only)).unwrap().unwrap());
        assert_eq!(result.input_requests.unwrap().keys().collect::<Vec<_>>(), ["greeting"]);
    }

    #[test]
    fn the_prompt_asks_then_answers() {
        assert!(matches!(get_prompt(PROMPT, None), Some(Ok(GetPromptResponse::InputRequired(_)))));
        let answered = responses(json!({"user_context": {"action": "accept", "content": {"context": "tests"}}}));
        assert!(matches!(get_prompt(PROMPT, Some(&answered)), Some(Ok(GetPromptResponse::Complete(_)))));
        assert!(get_prompt("other", None).is_none());
    }
}
