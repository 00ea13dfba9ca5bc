//! Property tests standing in for a fuzzer, with a bounded case count so they
//! run in CI (`PROPTEST_CASES` raises it for a longer local run):
//!
//! - the MCP request path (edge, rmcp, tool dispatch, argument validation) is
//!   fed arbitrary bytes and arbitrary JSON-RPC messages: it never panics,
//!   always answers with a known status, and allocates a bounded amount;
//! - every catalog tool's argument validation and request building take
//!   arbitrary arguments without panicking;
//! - the JSON:API flattening takes arbitrary JSON (and arbitrary JSON:API
//!   shaped documents) without panicking and with allocation bounded by a
//!   small multiple of the input; flattened while parsed from the text, it
//!   gives the tree's value or leaves the document to the tree, and written
//!   from the text (compact or pretty), the tree's answer byte for byte;
//! - the written path's scanner reads any JSON serde_json writes, and
//!   nothing serde_json refuses (the same texts with one byte changed).
//!
//! Allocation is measured by a counting global allocator. Tests in this binary
//! run one at a time (a shared lock), so one test's allocations never count
//! against another's.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use k8s_openapi::{ByteString, api::core::v1::Secret};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tfc_mcp_gateway::mcp_tool::ToMcpTool;
use tfc_mcp_gateway::{
    bench_api,
    catalog::catalog,
    execute::prepare,
    http::{HttpSettings, Shutdown, mcp_router},
    json_scan::Scanner,
    jsonapi::{Grants, decode_cursor, flatten_document, parse_errors},
    jsonapi_parse::{flatten_text, flatten_text_with_skeleton},
    limits::Limits,
    mcp::Shared,
    metrics::Metrics,
    route::sha256_hex,
    routes::RouteTable,
    upstream::Upstream,
};
use tower::ServiceExt;
use url::Url;

// ---- counting allocator ---------------------------------------------------------------

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // This thread's own (current, peak) bytes: pure functions are measured
    // here, untouched by what other test threads (proptest generating their
    // next inputs, a runtime's workers) allocate meanwhile. Const-initialised
    // without destructor, so usable inside the allocator.
    static LOCAL: std::cell::Cell<(isize, isize)> = const { std::cell::Cell::new((0, 0)) };
}

fn local_add(delta: isize) {
    let _ = LOCAL.try_with(|l| {
        let (now, peak) = l.get();
        let now = now + delta;
        l.set((now, peak.max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        local_add(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        local_add(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + (new_size - layout.size());
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        local_add(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Serialises the tests of this binary so allocation figures are their own.
static SERIAL: Mutex<()> = Mutex::new(());

/// Also builds the lazily built tables (the catalog, id patterns) once, so
/// their one-off allocation never counts against a measured call.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static WARM: std::sync::Once = std::sync::Once::new();
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    WARM.call_once(|| {
        let base = Url::parse("https://app.terraform.io").unwrap();
        let doc = json!({"data": [{"id": "ws-1", "type": "workspaces", "attributes": {"name": "a", "log-read-url": "https://x"}}]});
        let _ = flatten_document(&doc, Some(&base), None, None);
        for tool in catalog().iter() {
            let _ = prepare(tool, Map::new());
        }
    });
    guard
}

/// Allocation allowed on top of the per-byte bound: the measured call's fixed
/// costs, and whatever the gateway's runtime threads allocate meanwhile (the
/// counter is process-wide). Unbounded allocation is orders of magnitude more.
const SLACK: usize = 4 * 1024 * 1024;

/// Bytes allocated above the starting point while `f` runs (its peak).
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = CURRENT.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(start))
}

/// [`peak_during`] for a pure function, counting this thread's allocations only.
fn local_peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LOCAL.with(|l| {
        let (now, _) = l.get();
        l.set((now, now));
        now
    });
    let out = f();
    let peak = LOCAL.with(|l| l.get().1);
    (out, (peak - start).max(0) as usize)
}

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

// ---- arbitrary JSON ---------------------------------------------------------------------

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        // Shapes the gateway looks for: ids, kebab keys, URLs, huge numbers as text.
        prop::sample::select(vec!["ws-abc123", "run-1", "", "-", "/", "https://x/y", "99999999999999999999", "\u{0}"])
            .prop_map(|s| Value::String(s.to_owned())),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,12}",
        prop::sample::select(vec![
            "data",
            "id",
            "type",
            "attributes",
            "relationships",
            "links",
            "meta",
            "included",
            "pagination",
            "next-page",
            "current-page",
            "page-size",
            "total-count",
            "total-pages",
            "self",
            "related",
            "errors",
            "status",
            "detail",
        ])
        .prop_map(str::to_owned),
    ]
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON:API-shaped document with arbitrary contents in every slot.
fn jsonapi_document() -> impl Strategy<Value = Value> {
    let resource = (arbitrary_json(), arbitrary_json(), arbitrary_json(), arbitrary_json(), arbitrary_json()).prop_map(
        |(id, type_, attributes, relationships, links)| {
            json!({"id": id, "type": type_, "attributes": attributes, "relationships": relationships, "links": links})
        },
    );
    (prop::collection::vec(resource, 0..6), any::<bool>(), arbitrary_json(), arbitrary_json()).prop_map(
        |(mut resources, single, meta, included)| {
            let data = if single { resources.pop().unwrap_or(Value::Null) } else { Value::Array(resources) };
            json!({"data": data, "meta": meta, "included": included, "links": {"next": "https://app.terraform.io/api/v2/x?page%5Bnumber%5D=2"}})
        },
    )
}

fn serialized_len(v: &Value) -> usize {
    serde_json::to_vec(v).map(|b| b.len()).unwrap_or(0)
}

// ---- JSON:API flattening --------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn flattening_any_json_never_panics_and_allocates_in_proportion(doc in prop_oneof![arbitrary_json(), jsonapi_document()],
                                                                     page in any::<Option<u64>>(), size in any::<Option<u64>>()) {
        let _serial = serial();
        let base = Url::parse("https://app.terraform.io").unwrap();
        let input = serialized_len(&doc);
        let (_, peak) = local_peak_during(|| {
            let flat = flatten_document(&doc, Some(&base), page, size);
            let _ = parse_errors(&doc);
            flat
        });
        // A flattened tree is a rewrite of its input: a few times its size,
        // never driven by numbers inside it (page sizes, counts).
        prop_assert!(peak <= 64 * input + SLACK, "flattening {input} bytes of JSON peaked at {peak} bytes");
    }

    #[test]
    fn flattening_while_parsing_gives_the_trees_value_or_leaves_it_to_the_tree(
        doc in prop_oneof![arbitrary_json(), jsonapi_document()], page in any::<Option<u64>>(), size in any::<Option<u64>>()) {
        let _serial = serial();
        let base = Url::parse("https://app.terraform.io").unwrap();
        let text = serde_json::to_vec(&doc).unwrap();
        let (flat, peak) = local_peak_during(|| flatten_text(&text, Some(&base), page, size, &Grants::NONE));
        prop_assert!(peak <= 64 * text.len() + SLACK, "flattening {} bytes of text peaked at {peak} bytes", text.len());
        // The tree of the same text (a float read back may differ from `doc`'s).
        let tree = || serde_json::from_slice::<Value>(&text).unwrap();
        if let Some(flat) = flat {
            prop_assert!(tree().get("data").is_some());
            prop_assert_eq!(flat, flatten_document(&tree(), Some(&base), page, size));
        }
        if let Some((flat, _)) = flatten_text_with_skeleton(&text, Some(&base), page, size, &Grants::NONE) {
            prop_assert_eq!(flat, flatten_document(&tree(), Some(&base), page, size));
        }
    }

    #[test]
    fn an_answer_written_while_parsed_is_the_trees_answer_byte_for_byte(
        doc in jsonapi_document(), page in 1..5u64, reveal in any::<bool>(), as_list in any::<bool>(), pretty in any::<bool>()) {
        let _serial = serial();
        let mut doc = doc;
        if as_list && !doc["data"].is_array() {
            doc["data"] = json!([doc["data"].take()]);
        }
        let route: tfc_mcp_gateway::route::Route = serde_json::from_value(json!({
            "version": 1, "tokenSha256": "00", "server": "ns/s", "tfcAddress": "https://app.terraform.io", "methods": ["read"],
            "state": {"revealSensitiveOutputs": reveal, "allowRawStateDownload": false}
        })).unwrap();
        // A list tool for a list (it pages), a get for anything else.
        let (tool, arguments) = if doc["data"].is_array() {
            (catalog().get("list_all_hashicorp_terraform_cloud_workspaces").unwrap(), json!({"organization_name": "acme", "page_number": page}))
        } else {
            (catalog().get("get_single_hashicorp_terraform_cloud_run_by_id").unwrap(), json!({"run_id": "run-1"}))
        };
        let arguments = arguments.as_object().cloned().unwrap();
        let args = bench_api::validate(tool, arguments).unwrap();
        let base = Url::parse("https://app.terraform.io").unwrap();
        let grants = bench_api::grants(&route);
        let text = if pretty { serde_json::to_vec_pretty(&doc) } else { serde_json::to_vec(&doc) }.unwrap();
        let (written, peak) = local_peak_during(|| bench_api::written_response(&text, Some(&base), &route, tool, &args, &grants));
        // The answer (two texts) and a resource's scratch: a few times the input.
        prop_assert!(peak <= 16 * text.len() + SLACK, "writing {} bytes of text peaked at {peak} bytes", text.len());
        if let Some(written) = written {
            let tree = serde_json::from_slice::<Value>(&text).unwrap();
            let flat = bench_api::flatten(tree, Some(&base), &route, tool, &args, &grants);
            let answer = bench_api::response_bytes(bench_api::fit(flat, 64 * 1024));
            prop_assert_eq!(String::from_utf8_lossy(&written), String::from_utf8_lossy(&answer));
        }
    }

    /// The written path's scanner reads what serde_json reads and nothing
    /// else: any JSON, compact or pretty, and the same with one byte changed.
    #[test]
    fn the_scanner_reads_what_serde_json_reads_and_nothing_else(
        doc in arbitrary_json(), pretty in any::<bool>(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let scans = |text: &str| {
            let mut scanner = Scanner::new(text);
            scanner.skip().is_some() && scanner.end().is_some()
        };
        let text = if pretty { serde_json::to_string_pretty(&doc) } else { serde_json::to_string(&doc) }.unwrap();
        prop_assert!(scans(&text), "not read: {text}");
        let mut bytes = text.into_bytes();
        let at = at.index(bytes.len());
        bytes[at] = byte;
        if let Ok(changed) = std::str::from_utf8(&bytes) {
            prop_assert!(!scans(changed) || serde_json::from_str::<Value>(changed).is_ok(), "read what serde_json refuses: {changed}");
        }
    }

    #[test]
    fn cursors_of_any_text_decode_without_panicking(text in ".{0,200}") {
        // Serialised: the allocation peaks measured by the other tests count every thread.
        let _serial = serial();
        let _ = decode_cursor(&text);
    }
}

// ---- argument validation and request building ------------------------------------------------

fn arguments() -> impl Strategy<Value = Map<String, Value>> {
    // Real argument names of the catalog (so validation goes deep) mixed with noise.
    let names: Vec<String> = catalog()
        .iter()
        .flat_map(|t| {
            t.to_mcp_tool().input_schema.get("properties").and_then(Value::as_object).map(|p| p.keys().cloned().collect::<Vec<_>>())
        })
        .flatten()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let name = prop_oneof![3 => prop::sample::select(names), 1 => ".{0,20}"];
    prop::collection::btree_map(name, arbitrary_json(), 0..10).prop_map(|m| m.into_iter().collect())
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn every_tool_validates_any_arguments_without_panicking(index in any::<prop::sample::Index>(), args in arguments()) {
        let _serial = serial();
        let tools: Vec<_> = catalog().iter().collect();
        let tool = tools[index.index(tools.len())];
        let input = serialized_len(&Value::Object(args.clone()));
        let (_, peak) = local_peak_during(|| prepare(tool, args));
        prop_assert!(peak <= 64 * input + SLACK, "{}: preparing {input} bytes of arguments peaked at {peak} bytes", tool.name);
    }
}

// ---- the MCP request path ----------------------------------------------------------------------

const TOKEN: &str = "tfcmcp_fuzz";
const DISCOVERY_TOKEN: &str = "tfcmcp_fuzz_discovery";

struct Edge {
    runtime: tokio::runtime::Runtime,
    router: Router,
}

fn route_secret(name: &str, url_token: &str, exposure: &str) -> Secret {
    // Nothing listens on the upstream address: tool calls that pass validation
    // end in a transport error (or the egress guard's refusal), never a hang.
    let route = json!({
        "version": 1, "tokenSha256": sha256_hex(url_token), "server": format!("fuzz/{name}"),
        "tfcAddress": "http://127.0.0.1:1", "methods": ["list", "get", "create", "update", "delete", "custom"],
        "toolExposure": exposure, "organizations": ["acme-corp"],
    });
    let mut s = Secret::default();
    s.metadata.name = Some(name.into());
    s.data = Some(BTreeMap::from([
        ("route.json".to_owned(), ByteString(serde_json::to_vec(&route).unwrap())),
        ("tfc-token".to_owned(), ByteString(b"upstream-token".to_vec())),
    ]));
    s
}

fn edge() -> &'static Edge {
    static EDGE: std::sync::OnceLock<Edge> = std::sync::OnceLock::new();
    EDGE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let router = runtime.block_on(async {
            let routes = RouteTable::default();
            routes.apply(&route_secret("all", TOKEN, "All"));
            routes.apply(&route_secret("discovery", DISCOVERY_TOKEN, "Discovery"));
            let limits = Limits { rate_per_second: 0.0, request_timeout: Duration::from_secs(5), ..Limits::default() };
            let shared = Arc::new(Shared::with_limits(Upstream::new("fuzz", Duration::from_secs(2)), Metrics::default(), limits));
            mcp_router(routes, shared, &HttpSettings::default(), &Shutdown::default())
        });
        Edge { runtime, router }
    })
}

/// Statuses the edge may answer with; anything else (a 500 above all) is a bug.
const KNOWN: &[u16] = &[200, 202, 400, 404, 405, 406, 413, 415, 422, 429, 503];

fn post(edge: &Edge, token: &str, body: Vec<u8>, content_type: &str, protocol: Option<&str>) -> (u16, usize) {
    let mut request = Request::post(format!("/mcp/{token}"))
        .header("host", "localhost")
        .header("content-type", content_type)
        .header("accept", "application/json, text/event-stream");
    if let Some(p) = protocol {
        request = request.header("mcp-protocol-version", p);
    }
    let request = request.body(Body::from(body)).unwrap();
    edge.runtime.block_on(async {
        let response = edge.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024).await.unwrap();
        (status.as_u16(), bytes.len())
    })
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "initialize",
            "tools/list",
            "tools/call",
            "ping",
            "resources/list",
            "prompts/list",
            "completion/complete",
            "logging/setLevel",
            "server/discover",
            "notifications/initialized",
            "notifications/cancelled",
        ])
        .prop_map(str::to_owned),
        ".{0,24}",
    ]
}

fn tool_name() -> impl Strategy<Value = String> {
    let names: Vec<String> =
        catalog().iter().map(|t| t.name.to_owned()).chain(["search_tools", "get_tool_schema", "call_tool"].map(String::from)).collect();
    prop_oneof![4 => prop::sample::select(names), 1 => ".{0,80}"]
}

fn jsonrpc_message() -> impl Strategy<Value = Value> {
    (method(), arbitrary_json(), tool_name(), arguments(), any::<bool>(), arbitrary_json()).prop_map(
        |(method, id, name, args, structured, params)| {
            let params = if method == "tools/call" && structured { json!({"name": name, "arguments": args}) } else { params };
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        },
    )
}

proptest! {
    #![proptest_config(cases(160))]

    #[test]
    fn any_bytes_get_a_known_answer(body in prop::collection::vec(any::<u8>(), 0..4096),
                                    json in any::<bool>(), discovery in any::<bool>()) {
        let _serial = serial();
        let edge = edge();
        let token = if discovery { DISCOVERY_TOKEN } else { TOKEN };
        let content_type = if json { "application/json" } else { "text/plain" };
        let input = body.len();
        let ((status, _), peak) = peak_during(|| post(edge, token, body, content_type, None));
        prop_assert!(KNOWN.contains(&status), "unexpected status {status}");
        prop_assert!(peak <= 8 * 1024 * 1024 + 64 * input, "a {input}-byte request peaked at {peak} bytes");
    }

    #[test]
    fn any_jsonrpc_message_gets_a_known_answer(message in jsonrpc_message(), discovery in any::<bool>(),
                                               protocol in prop::option::of(prop::sample::select(vec!["2025-06-18", "2025-11-25", "2026-07-28", "1999-01-01"]))) {
        let _serial = serial();
        let edge = edge();
        let token = if discovery { DISCOVERY_TOKEN } else { TOKEN };
        let body = serde_json::to_vec(&message).unwrap();
        let input = body.len();
        let ((status, answer_len), peak) = peak_during(|| post(edge, token, body, "application/json", protocol));
        prop_assert!(KNOWN.contains(&status), "unexpected status {status} for {message}");
        // tools/list answers are the biggest (the whole catalog's schemas).
        prop_assert!(answer_len <= 4 * 1024 * 1024, "answer of {answer_len} bytes");
        prop_assert!(peak <= 16 * 1024 * 1024 + 64 * input, "a {input}-byte message peaked at {peak} bytes");
    }
}

#[test]
fn known_good_call_is_answered() {
    // Guards the properties above against a harness that answers everything with 404.
    let _serial = serial();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string().into_bytes();
    let (status, len) = post(edge(), TOKEN, body, "application/json", Some("2025-06-18"));
    assert_eq!(status, StatusCode::OK.as_u16());
    assert!(len > 1000, "tools/list answer is {len} bytes");
}
