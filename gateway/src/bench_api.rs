//! The pure steps of a tool call, one by one, for the instruction-count
//! benchmark (`benches/request_path.rs`). Not an API: hidden from the docs,
//! nothing else uses it. Each function is the code the request path runs,
//! not a copy of it.

use rmcp::model::RequestId;
use serde_json::{Map, Value};
use url::Url;

use crate::{
    catalog::ToolSpec,
    execute::{self, Args, Request, ToolError, budget},
    filter::ToolFilter,
    jsonapi::Grants,
    mcp,
    route::Route,
};

/// Arguments that passed validation.
pub struct ValidArgs(Args);

/// Argument validation, as a call does before anything else.
pub fn validate(tool: &ToolSpec, arguments: Map<String, Value>) -> Result<ValidArgs, ToolError> {
    execute::validate_args(tool, arguments).map(ValidArgs)
}

/// The upstream request of validated arguments.
pub fn build_request(tool: &ToolSpec, args: &ValidArgs) -> Result<Request, ToolError> {
    Request::build(tool, &args.0)
}

/// The temporary URLs a route's results may keep.
pub fn grants(route: &Route) -> Grants {
    ToolFilter::from_route(route).grants()
}

/// An upstream answer flattened under the route's output rules (what a
/// handler does with a JSON:API document, less remembering owners).
pub fn flatten(doc: Value, base: Option<&Url>, route: &Route, tool: &ToolSpec, args: &ValidArgs, grants: &Grants) -> Value {
    execute::flatten_answer(doc, base, route, tool, &args.0, grants)
}

/// An upstream answer's text flattened while parsed, as a handler does on
/// a server that remembers no owners (`None`: it takes the tree's path).
pub fn flatten_text(text: &[u8], base: Option<&Url>, route: &Route, tool: &ToolSpec, args: &ValidArgs, grants: &Grants) -> Option<Value> {
    execute::flatten_answer_text(text, base, route, tool, &args.0, grants)
}

/// An upstream answer parsed as the client parses it (a tree).
pub fn parse_answer(bytes: &[u8]) -> Option<Value> {
    crate::answer_json::parse(bytes).ok()
}

/// The result budget applied to a flattened answer.
pub fn fit(value: Value, max_bytes: usize) -> Value {
    budget::fit(value, max_bytes, None)
}

/// The MCP answer to `tools/call` as it goes on the wire: the result
/// (structured content and its text block) in a JSON-RPC response, written
/// as the direct path writes it (most calls; rmcp's own serialisation of
/// the same message is byte for byte the same).
pub fn response_bytes(value: Value) -> Vec<u8> {
    let mut result = mcp::TEXT_FROM_STRUCTURED.sync_scope(Default::default(), || mcp::structured_result(value));
    result.result_type = None;
    crate::direct_call::tool_response(&RequestId::Number(1), &result, None)
}

/// An answer's text straight to the MCP answer's bytes, as the direct path
/// answers a list or one resource (flattened and written while parsed,
/// under the route's output rules, within a 64 KiB budget); `None` when it
/// takes the tree's path.
pub fn written_response(
    text: &[u8],
    base: Option<&Url>,
    route: &Route,
    tool: &ToolSpec,
    args: &ValidArgs,
    grants: &Grants,
) -> Option<Vec<u8>> {
    let place = execute::Place { base, route, tool, args: &args.0, grants };
    let written = execute::written_answer(text, place, 64 * 1024, |_| {})?;
    let (mut result, written) = mcp::TEXT_FROM_STRUCTURED.sync_scope(Default::default(), || {
        let result = mcp::structured_answer(execute::ToolAnswer::Written(written));
        (result, mcp::TEXT_FROM_STRUCTURED.with(|slot| slot.take()))
    });
    result.result_type = None;
    Some(crate::direct_call::tool_response(&RequestId::Number(1), &result, written.as_ref()))
}
