//! A plain stateless `tools/call` answered in the connection's own task.
//!
//! rmcp's `StreamableHttpService` serves every stateless POST by starting a
//! whole service for it: a peer, channels, a serve loop and two spawned tasks,
//! each hop a wake-up of another worker thread. For the call that is nearly
//! all of the traffic none of that is used:
//! - on a revision before 2026-07-28, a `tools/call` with no `_meta` (no
//!   progress, no task);
//! - on 2026-07-28, a `tools/call` whose `_meta` holds only the client's
//!   version, capabilities and info, whose `Mcp-Method` and `Mcp-Name`
//!   headers match the body as they are, with no `Mcp-Param-*` header, and
//!   that is not a retry with answers (`requestState`, `inputResponses`).
//!
//! For those this module parses the message with rmcp's own types, checks
//! what rmcp's stateless path checks for such a request, and calls the same
//! `Service::handle_request` (the handler's dispatch, the per-request version
//! and metadata checks, the task guard, the result shaping for each revision)
//! directly; on 2026-07-28 an error gets the HTTP status rmcp gives it.
//!
//! Anything else, or anything in doubt (other methods, batches, other `_meta`,
//! unusual `Accept` headers, headers rmcp would refuse or would have to
//! decode, the test-only conformance tools) returns `None` and goes to rmcp
//! unchanged, so the answer is the one rmcp would give.
//!
//! The answer to such a call (text blocks, structured content, the error
//! flag) is written here with [`crate::json_write`], byte for byte what
//! serde_json writes for rmcp's message; any other shape of answer is
//! serialised by serde_json itself.

use std::collections::HashMap;

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::Response,
};
use bytes::Bytes;
use rmcp::{
    RoleServer, Service,
    model::{
        CallToolRequestParams, CallToolResult, ClientCapabilities, ClientJsonRpcMessage, ClientRequest, ContentBlock, ErrorCode,
        GetExtensions, GetMeta, Implementation, InitializeRequestParams, JsonObject, JsonRpcRequest, JsonRpcVersion2_0, ProtocolVersion,
        Request, RequestId, RequestMetaObject, ResultType, ServerJsonRpcMessage, ServerResult,
    },
    service::{Peer, RequestContext, RunningService, serve_directly},
};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::{execute::WrittenAnswer, mcp::GatewayHandler};

const HEADER_PROTOCOL_VERSION: &str = "mcp-protocol-version";

/// What serves the direct calls: the handler, one peer per protocol revision
/// (what rmcp builds per request: only the revision is in it), and the token
/// a hard shutdown cancels.
pub struct DirectCalls {
    handler: GatewayHandler,
    peers: HashMap<String, Peer<RoleServer>>,
    /// The services the peers belong to: they idle for the life of the process.
    _services: Vec<RunningService<RoleServer, GatewayHandler>>,
    hard: CancellationToken,
}

impl DirectCalls {
    /// Must run inside the Tokio runtime (the idle services are spawned).
    pub fn new(handler: GatewayHandler, hard: CancellationToken) -> Self {
        let mut peers = HashMap::new();
        let mut services = Vec::new();
        for version in ProtocolVersion::KNOWN_VERSIONS.iter().filter(|v| served_directly(v.as_str())) {
            // As rmcp's `peer_info_for_stateless_request`: the header's
            // revision, no capabilities, no client info.
            let info = InitializeRequestParams::new(ClientCapabilities::default(), Implementation::default())
                .with_protocol_version(version.clone());
            // A transport that never delivers a message and discards any sent:
            // nothing is sent on it, because direct calls carry no progress
            // token and no revision here can be asked for input over it.
            let transport = (futures::sink::drain::<ServerJsonRpcMessage>(), futures::stream::pending::<ClientJsonRpcMessage>());
            let service = serve_directly(handler.clone(), transport, Some(info));
            peers.insert(version.as_str().to_owned(), service.peer().clone());
            services.push(service);
        }
        Self { handler, peers, _services: services, hard }
    }

    /// The call in `body` if it is served here, else `None` (and rmcp answers).
    pub fn eligible(&self, headers: &HeaderMap, body: &Bytes) -> Option<DirectCall> {
        if !accepts_json_and_sse(headers) || !crate::http::is_json_content_type(headers) {
            return None;
        }
        let version = headers.get(HEADER_PROTOCOL_VERSION)?.to_str().ok()?;
        let peer = self.peers.get(version)?.clone();
        // The plain shape only, read straight into its fields (rmcp reads any
        // message through a buffered, untagged enum: several times the work).
        // Anything else (another method, an unknown or repeated field, `_meta`
        // with anything else in it) is left to rmcp.
        let call: PlainCall = serde_json::from_slice(body).ok()?;
        if call.method != "tools/call" {
            return None;
        }
        let modern = version == ProtocolVersion::V_2026_07_28.as_str();
        let meta = if modern {
            Some(modern_request_meta(headers, &call.params.name, call.params.meta?)?)
        } else if call.params.meta.is_some_and(|meta| !meta.is_empty()) {
            return None;
        } else {
            None
        };
        let mut params = CallToolRequestParams::new(call.params.name);
        params.arguments = call.params.arguments;
        let mut request = ClientRequest::CallToolRequest(Request::new(params));
        // Where rmcp's reading of a request puts its `_meta`.
        if let Some(meta) = meta {
            request.extensions_mut().insert(meta);
        }
        Some(DirectCall { peer, modern, request: JsonRpcRequest { jsonrpc: call.jsonrpc, id: call.id, request } })
    }

    /// Serves an eligible call; `parts` carries what the edge resolved (route,
    /// caller, slots, budget), as rmcp's request extensions do.
    pub async fn serve(&self, parts: Parts, call: DirectCall) -> Response {
        let DirectCall { peer, modern, request } = call;
        let JsonRpcRequest { id, mut request, .. } = request;
        // As rmcp's serve loop: the message's meta and extensions move to the context.
        let mut context = RequestContext::new(id.clone(), peer);
        context.ct = self.hard.child_token();
        context.meta = std::mem::take(request.get_meta_mut());
        context.extensions = std::mem::take(request.extensions_mut());
        context.extensions.insert(parts);
        let (answer, written) = crate::mcp::TEXT_FROM_STRUCTURED
            .scope(Default::default(), async {
                let answer = self.handler.handle_request(request, context).await;
                (answer, crate::mcp::TEXT_FROM_STRUCTURED.with(|slot| slot.take()))
            })
            .await;
        let status = match &answer {
            Err(error) if modern => modern_error_status(error.code),
            _ => StatusCode::OK,
        };
        let body = match answer {
            Ok(ServerResult::CallToolResult(result)) if is_plain(&result) => Ok(tool_response(&id, &result, written.as_ref())),
            Ok(ServerResult::CallToolResult(mut result)) => {
                crate::mcp::fill_deferred_text(&mut result, written);
                serde_json::to_vec(&ServerJsonRpcMessage::response(ServerResult::CallToolResult(result), id))
            }
            Ok(result) => serde_json::to_vec(&ServerJsonRpcMessage::response(result, id)),
            Err(error) => serde_json::to_vec(&ServerJsonRpcMessage::error(error, Some(id))),
        };
        match body {
            Ok(body) => {
                let mut response = Response::new(Body::from(body));
                *response.status_mut() = status;
                response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            Err(_) => crate::http::json_error(StatusCode::INTERNAL_SERVER_ERROR, "could not serialise the response"),
        }
    }
}

/// An eligible call: the peer of its revision, whether that is 2026-07-28,
/// and the request as rmcp would have read it.
pub struct DirectCall {
    peer: Peer<RoleServer>,
    modern: bool,
    request: JsonRpcRequest<ClientRequest>,
}

/// The `_meta` of a 2026-07-28 call served here, or `None` for rmcp: only
/// the client's version (the header's), capabilities and info, the first two
/// readable (so rmcp's checks of the request metadata pass, as they must for
/// the answer to be the handler's), and the standard headers exactly what rmcp
/// accepts without decoding: one `Mcp-Method: tools/call`, one `Mcp-Name`
/// equal to the tool's name as it is (no Base64 form), no `Mcp-Param-*`.
fn modern_request_meta(headers: &HeaderMap, name: &str, meta: JsonObject) -> Option<RequestMetaObject> {
    const VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
    const KEYS: [&str; 3] = [VERSION_KEY, "io.modelcontextprotocol/clientCapabilities", "io.modelcontextprotocol/clientInfo"];
    let version = ProtocolVersion::V_2026_07_28;
    // One value each, of visible ASCII (rmcp refuses any other as a header mismatch).
    let single = |header: &str| {
        let mut values = headers.get_all(header).iter();
        let value = values.next()?;
        values.next().is_none().then(|| value.to_str().ok()).flatten()
    };
    if single(HEADER_PROTOCOL_VERSION).is_none()
        || single("mcp-method")? != "tools/call"
        || single("mcp-name")? != name
        || name.starts_with("=?")
        || headers.keys().any(|header| header.as_str().starts_with("mcp-param-"))
        || meta.keys().any(|key| !KEYS.contains(&key.as_str()))
        || meta.get(VERSION_KEY).and_then(serde_json::Value::as_str) != Some(version.as_str())
    {
        return None;
    }
    let meta = RequestMetaObject::from(meta);
    meta.missing_required_keys(&version).is_empty().then_some(meta)
}

/// The HTTP status of a JSON-RPC error on 2026-07-28, as rmcp's stateless
/// path gives it for a request whose `_meta` is well formed (the only kind
/// served here): 400 for a protocol-level refusal, 404 for an unknown
/// method, 200 for the rest (answered in band).
fn modern_error_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::UNSUPPORTED_PROTOCOL_VERSION | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY | ErrorCode::HEADER_MISMATCH => {
            StatusCode::BAD_REQUEST
        }
        ErrorCode::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    }
}

/// A tool result of text blocks, structured content and the error flag
/// only (its text block possibly [deferred](crate::mcp::text_is_deferred)),
/// marked complete on 2026-07-28: what [`tool_response`] writes.
pub(crate) fn is_plain(result: &CallToolResult) -> bool {
    result.result_type.as_ref().is_none_or(ResultType::is_complete)
        && (result.meta.is_none() || crate::mcp::text_is_deferred(result))
        && result.content.iter().all(|block| matches!(block, ContentBlock::Text(t) if t.meta.is_none() && t.annotations.is_none()))
}

/// The JSON-RPC response carrying a [plain](is_plain) tool result, as
/// `serde_json::to_vec(&ServerJsonRpcMessage::response(..))` writes it;
/// a deferred text and the structured content come from `written` when
/// the result's answer was written.
pub(crate) fn tool_response(id: &RequestId, result: &CallToolResult, written: Option<&WrittenAnswer>) -> Vec<u8> {
    if !crate::mcp::text_is_deferred(result) {
        let texts = result.content.iter().filter_map(ContentBlock::as_text).map(|t| t.text.len()).sum::<usize>();
        let mut out = Vec::with_capacity(128 + texts * 2 + texts / 4);
        write_tool_response(&mut out, id, result, false, None);
        return out;
    }
    if let Some(written) = written {
        let mut out = Vec::with_capacity(160 + written.text_len() + written.structured_len());
        write_tool_response(&mut out, id, result, true, Some(written));
        return out;
    }
    // The size is known only once written: the buffer starts at the size of
    // this thread's last such answer (a page of a list is often followed by
    // another), not at 4 KiB doubling and copying its way up.
    let mut out = Vec::with_capacity(LAST_SIZE.get().clamp(4096, MAX_PRESIZE));
    write_tool_response(&mut out, id, result, true, None);
    LAST_SIZE.set(out.len());
    out
}

/// The largest buffer started at the last answer's size (the default result
/// budget, 64 KiB, written twice, fits).
const MAX_PRESIZE: usize = 128 * 1024;

thread_local! {
    static LAST_SIZE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    static LAST_STRUCTURED_SIZE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// With `deferred`, the text block is written from the structured content,
/// or both come from `written`.
fn write_tool_response(out: &mut Vec<u8>, id: &RequestId, result: &CallToolResult, deferred: bool, written: Option<&WrittenAnswer>) {
    use crate::json_write::{write_str, write_text_and_value, write_value};
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    let _ = serde_json::to_writer(&mut *out, id);
    out.extend_from_slice(br#","result":{"#);
    if let Some(result_type) = &result.result_type {
        out.extend_from_slice(br#""resultType":"#);
        write_str(out, result_type.as_str());
        out.push(b',');
    }
    out.extend_from_slice(br#""content":["#);
    let mut structured_written = None;
    match (&result.structured_content, deferred) {
        (Some(_), true) if let Some(written) = written => {
            out.extend_from_slice(br#"{"type":"text","text":""#);
            written.write_text(out);
            out.extend_from_slice(br#""}"#);
        }
        // The text the result would carry (its compact JSON without nulls),
        // written from it in the walk that writes the structured content.
        (Some(structured), true) => {
            out.extend_from_slice(br#"{"type":"text","text":""#);
            let mut written = Vec::with_capacity(LAST_STRUCTURED_SIZE.get().clamp(1024, MAX_PRESIZE / 2));
            write_text_and_value(out, &mut written, structured);
            out.extend_from_slice(br#""}"#);
            LAST_STRUCTURED_SIZE.set(written.len());
            structured_written = Some(written);
        }
        _ => {
            for (i, text) in result.content.iter().filter_map(ContentBlock::as_text).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(br#"{"type":"text","text":"#);
                write_str(out, &text.text);
                out.push(b'}');
            }
        }
    }
    out.push(b']');
    if let Some(structured) = &result.structured_content {
        out.extend_from_slice(br#","structuredContent":"#);
        match (structured_written, written) {
            (Some(bytes), _) => out.extend_from_slice(&bytes),
            (None, Some(written)) if deferred => written.write_structured(out),
            (None, _) => write_value(out, structured, false),
        }
    }
    match result.is_error {
        Some(true) => out.extend_from_slice(br#","isError":true"#),
        Some(false) => out.extend_from_slice(br#","isError":false"#),
        None => {}
    }
    out.extend_from_slice(b"}}");
}

/// `{"jsonrpc": "2.0", "id": .., "method": .., "params": {"name", "arguments"?, "_meta"?}}`
/// and nothing more; the types of `jsonrpc`, `id` and `arguments` are rmcp's own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainCall {
    jsonrpc: JsonRpcVersion2_0,
    id: RequestId,
    method: String,
    params: PlainParams,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainParams {
    name: String,
    #[serde(default)]
    arguments: Option<JsonObject>,
    #[serde(rename = "_meta", default)]
    meta: Option<JsonObject>,
}

/// Revisions answered here: the ones before per-request metadata and the
/// standard `Mcp-*` headers, and 2026-07-28, whose headers and metadata
/// [`modern_request_meta`] checks; a later one stays with rmcp until its
/// checks are written here.
fn served_directly(version: &str) -> bool {
    (version < ProtocolVersion::V_2026_07_28.as_str() && version < ProtocolVersion::STANDARD_HEADERS.as_str())
        || version == ProtocolVersion::V_2026_07_28.as_str()
}

/// `Accept` lists both `application/json` and `text/event-stream`, plainly:
/// any parameter (a quality, a profile) sends the request to rmcp, which
/// weighs them.
fn accepts_json_and_sse(headers: &HeaderMap) -> bool {
    let (mut json, mut sse) = (false, false);
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else { return false };
        for entry in value.split(',') {
            let entry = entry.trim();
            if entry.contains(';') || entry.contains('"') {
                return false;
            }
            json |= entry.eq_ignore_ascii_case("application/json");
            sse |= entry.eq_ignore_ascii_case("text/event-stream");
        }
    }
    json && sse
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn tool_answers_are_written_as_serde_json_writes_them() {
        let page: serde_json::Value = serde_json::from_slice(include_bytes!("../benches/fixtures/workspaces-page.json")).expect("page");
        let odd = serde_json::json!({"s": "\"quoted\" \\ \n\t\u{1} é 日本", "n": [1, -2, 0.5, null], "o": {"k": null}});
        let mut results = vec![
            crate::mcp::structured_result(page.clone()),
            crate::mcp::structured_result(odd.clone()),
            crate::mcp::summarised_result("list_things", page),
            CallToolResult::error(vec![ContentBlock::text("upstream said \"no\"\n")]),
            CallToolResult::success(vec![]),
            CallToolResult::success(vec![ContentBlock::text("a"), ContentBlock::text("b\u{7f}")]),
        ];
        let mut no_flag = CallToolResult::success(vec![ContentBlock::text("x")]);
        no_flag.is_error = None;
        no_flag.structured_content = Some(serde_json::Value::Null);
        results.push(no_flag);
        let ids = [RequestId::Number(7), RequestId::Number(-1), RequestId::String("a\"b".into())];
        // As the handler leaves it for a peer on 2026-07-28 (marked complete)
        // and on a revision before it (no mark).
        let marked = |mark: Option<ResultType>| {
            results.iter().cloned().map(move |mut result| {
                result.result_type = mark.clone();
                result
            })
        };
        for result in marked(Some(ResultType::COMPLETE)).chain(marked(None)) {
            assert!(is_plain(&result));
            for id in &ids {
                let expected =
                    serde_json::to_vec(&ServerJsonRpcMessage::response(ServerResult::CallToolResult(result.clone()), id.clone()))
                        .expect("serialises");
                assert_eq!(String::from_utf8_lossy(&tool_response(id, &result, None)), String::from_utf8_lossy(&expected));
            }
        }
        // A text block left to this path: written from the structured
        // content, byte for byte the answer with the text in it; and put back
        // as it would have been for serde_json.
        let odd_list = serde_json::json!({"results": [odd.clone(), null, {"x": null}], "next_cursor": null});
        for value in [odd, odd_list, serde_json::json!({}), serde_json::json!("s")] {
            let mut whole = crate::mcp::structured_result(value.clone());
            let mut deferred =
                crate::mcp::TEXT_FROM_STRUCTURED.sync_scope(Default::default(), || crate::mcp::structured_result(value.clone()));
            whole.result_type = None;
            deferred.result_type = None;
            assert!(crate::mcp::text_is_deferred(&deferred) && is_plain(&deferred));
            assert!(!crate::mcp::text_is_deferred(&whole));
            let expected =
                serde_json::to_vec(&ServerJsonRpcMessage::response(ServerResult::CallToolResult(whole.clone()), RequestId::Number(3)))
                    .expect("serialises");
            assert_eq!(String::from_utf8_lossy(&tool_response(&RequestId::Number(3), &deferred, None)), String::from_utf8_lossy(&expected));
            crate::mcp::fill_deferred_text(&mut deferred, None);
            assert_eq!(deferred, whole);
        }
        // Anything else is left to serde_json.
        let mut with_type = CallToolResult::success(vec![]);
        with_type.result_type = Some(ResultType::TASK);
        assert!(!is_plain(&with_type));
        let mut with_meta = CallToolResult::success(vec![]);
        with_meta.result_type = None;
        with_meta.meta = Some(Default::default());
        assert!(!is_plain(&with_meta));
        let mut image = CallToolResult::success(vec![ContentBlock::image("AAAA", "image/png")]);
        image.result_type = None;
        assert!(!is_plain(&image));
    }

    #[test]
    fn a_huge_answer_does_not_make_the_next_buffers_huge() {
        // One tenant's 1 MiB answer, then another's small one on the same thread:
        // the small one's buffer starts at most at MAX_PRESIZE, whatever came before.
        let deferred = |value: serde_json::Value| {
            let mut result = crate::mcp::TEXT_FROM_STRUCTURED.sync_scope(Default::default(), || crate::mcp::structured_result(value));
            result.result_type = None;
            result
        };
        let huge = tool_response(&RequestId::Number(1), &deferred(serde_json::json!({"log": "x".repeat(1 << 20)})), None);
        assert!(huge.len() > 2 << 20);
        let small = tool_response(&RequestId::Number(2), &deferred(serde_json::json!({"id": "run-1"})), None);
        assert!(small.capacity() <= MAX_PRESIZE, "{}", small.capacity());
        // And a run of small answers brings it back down.
        let again = tool_response(&RequestId::Number(3), &deferred(serde_json::json!({"id": "run-1"})), None);
        assert!(again.capacity() <= 4096, "{}", again.capacity());
    }

    #[test]
    fn revisions() {
        assert!(served_directly("2025-11-25"));
        assert!(served_directly("2025-03-26"));
        assert!(served_directly("2026-07-28"));
        assert!(!served_directly("2026-12-01"));
    }

    #[test]
    fn accept_must_be_plain() {
        assert!(accepts_json_and_sse(&headers(&[("accept", "application/json, text/event-stream")])));
        assert!(accepts_json_and_sse(&headers(&[("accept", "application/json"), ("accept", "text/event-stream")])));
        assert!(!accepts_json_and_sse(&headers(&[("accept", "application/json")])));
        assert!(!accepts_json_and_sse(&headers(&[("accept", "application/json;q=0, text/event-stream")])));
        assert!(!accepts_json_and_sse(&headers(&[("accept", "*/*")])));
    }

    #[tokio::test]
    async fn only_plain_tool_calls_are_direct() {
        let upstream = crate::upstream::Upstream::new("t", Duration::from_secs(1));
        let shared = std::sync::Arc::new(crate::mcp::Shared::new(upstream, crate::metrics::Metrics::default()));
        let direct = DirectCalls::new(GatewayHandler::new(shared), CancellationToken::new());
        let h = headers(&[
            ("accept", "application/json, text/event-stream"),
            ("content-type", "application/json"),
            ("mcp-protocol-version", "2025-11-25"),
        ]);
        let call = |body: &str| direct.eligible(&h, &Bytes::copy_from_slice(body.as_bytes())).is_some();
        assert!(call(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{}}}"#));
        assert!(call(r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x","_meta":{}}}"#));
        // Progress, tasks, per-request revision: rmcp.
        assert!(!call(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":1}}}"#));
        assert!(!call(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#));
        assert!(!call(r#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}]"#));
        assert!(!call(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#));
        assert!(!call("not json"));
        // Fields rmcp reads (approval retries), unknown or repeated fields: rmcp.
        assert!(!call(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","requestState":"s"}}"#));
        assert!(!call(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","inputResponses":{}}}"#));
        assert!(!call(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","task":{}}}"#));
        assert!(!call(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","extra":1,"params":{"name":"x"}}"#));
        assert!(!call(r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"x"}}"#));
        assert!(!call(r#"{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"x"}}"#));
        assert!(!call(r#"{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"x"}}"#));
        assert!(!call(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":[1]}}"#));
        assert!(call(r#"{"jsonrpc":"2.0","id":1.0,"method":"tools/call","params":{"name":"x","arguments":null}}"#));
        let body = Bytes::from_static(br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}"#);
        let unversioned = headers(&[("accept", "application/json, text/event-stream"), ("content-type", "application/json")]);
        assert!(direct.eligible(&unversioned, &body).is_none());
    }

    #[tokio::test]
    async fn plain_2026_07_28_calls_are_direct() {
        let upstream = crate::upstream::Upstream::new("t", Duration::from_secs(1));
        let shared = std::sync::Arc::new(crate::mcp::Shared::new(upstream, crate::metrics::Metrics::default()));
        let direct = DirectCalls::new(GatewayHandler::new(shared), CancellationToken::new());
        let standard = [
            ("accept", "application/json, text/event-stream"),
            ("content-type", "application/json"),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "x"),
        ];
        let meta = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}}"#;
        let call = |h: &HeaderMap, params: &str| {
            let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"x","arguments":{{}}{params}}}}}"#);
            direct.eligible(h, &Bytes::from(body))
        };
        let h = headers(&standard);
        let served = call(&h, &format!(",{meta}")).expect("a plain 2026-07-28 call is direct");
        assert!(served.modern);
        // Its metadata reaches the handler as rmcp would pass it.
        assert_eq!(served.request.request.get_meta().protocol_version(), Some(ProtocolVersion::V_2026_07_28));
        // Without client info it is still the client's business, and direct.
        let no_info =
            r#","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;
        assert!(call(&h, no_info).is_some());

        // Metadata rmcp must check or act on: rmcp.
        assert!(call(&h, "").is_none(), "no _meta");
        assert!(call(&h, r#","_meta":{}"#).is_none());
        for (key, value) in [
            ("io.modelcontextprotocol/protocolVersion", serde_json::json!("2025-11-25")),
            ("io.modelcontextprotocol/protocolVersion", serde_json::json!(7)),
            ("io.modelcontextprotocol/clientCapabilities", serde_json::json!("none")),
            ("progressToken", serde_json::json!(1)),
            ("io.modelcontextprotocol/logLevel", serde_json::json!("debug")),
        ] {
            let mut changed: serde_json::Value = serde_json::from_str(&format!("{{{meta}}}")).expect("json");
            changed["_meta"][key] = value.clone();
            let changed = changed.to_string();
            assert!(call(&h, &format!(",{}", &changed[1..changed.len() - 1])).is_none(), "{key}: {value}");
        }
        assert!(call(&h, &format!(r#",{meta},"requestState":"s""#)).is_none());
        assert!(call(&h, &format!(r#",{meta},"inputResponses":{{}}"#)).is_none());
        // Standard headers that are missing, repeated, different, encoded or extra: rmcp.
        let without = |name: &str| headers(&standard.iter().copied().filter(|(k, _)| *k != name).collect::<Vec<_>>());
        let plus = |pair: (&'static str, &'static str)| headers(&[&standard[..], &[pair]].concat());
        for h in [
            without("mcp-method"),
            without("mcp-name"),
            plus(("mcp-name", "x")),
            plus(("mcp-method", "tools/call")),
            plus(("mcp-protocol-version", "2026-07-28")),
            plus(("mcp-param-region", "eu")),
        ] {
            assert!(call(&h, &format!(",{meta}")).is_none(), "{h:?}");
        }
        let mut renamed = h.clone();
        renamed.insert("mcp-name", HeaderValue::from_static("=?base64?eA==?="));
        assert!(call(&renamed, &format!(",{meta}")).is_none(), "a Base64 name is rmcp's to decode");
        renamed.insert("mcp-name", HeaderValue::from_bytes("é".as_bytes()).expect("obs-text"));
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"é","arguments":{}"#;
        assert!(direct.eligible(&renamed, &Bytes::from(format!("{body},{meta}}}}}"))).is_none(), "not visible ASCII: rmcp refuses it");
        renamed.insert("mcp-name", HeaderValue::from_static("y"));
        assert!(call(&renamed, &format!(",{meta}")).is_none());
        renamed.insert("mcp-name", HeaderValue::from_static("x"));
        renamed.insert("mcp-method", HeaderValue::from_static("tools/list"));
        assert!(call(&renamed, &format!(",{meta}")).is_none());
    }

    #[test]
    fn modern_errors_get_rmcps_status() {
        assert_eq!(modern_error_status(ErrorCode::HEADER_MISMATCH), StatusCode::BAD_REQUEST);
        assert_eq!(modern_error_status(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION), StatusCode::BAD_REQUEST);
        assert_eq!(modern_error_status(ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY), StatusCode::BAD_REQUEST);
        assert_eq!(modern_error_status(ErrorCode::METHOD_NOT_FOUND), StatusCode::NOT_FOUND);
        assert_eq!(modern_error_status(ErrorCode::INVALID_PARAMS), StatusCode::OK);
        assert_eq!(modern_error_status(ErrorCode::INTERNAL_ERROR), StatusCode::OK);
    }
}
