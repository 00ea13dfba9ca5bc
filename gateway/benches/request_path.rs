//! Instruction counts of the request path of one tool call, under callgrind
//! (gungraun): stable on a noisy machine, where timings are not. Each step
//! is measured alone, its setup not counted:
//!
//! - `route_lookup`: the URL token's SHA-256 and the route table read (1,000 routes);
//! - `validate`: argument validation (list workspaces, get a run);
//! - `build_request`: the upstream request from validated arguments;
//! - `parse_page`: the upstream answer, a 20-workspace JSON:API page (57 KB,
//!   `fixtures/workspaces-page.json`, recorded from the simulator), parsed;
//! - `flatten_page`: that page flattened under the route's output rules
//!   (the tree's path, taken on servers that remember owners or scope);
//! - `flatten_text_page`: the page's text flattened while parsed, under the
//!   same rules (every other server: `parse_page` and `flatten_page` in one);
//! - `respond_page`: the flattened page through the result budget into the
//!   MCP answer's bytes (structured content, text block, JSON-RPC envelope);
//! - `written_page`: the page's text straight to the MCP answer's bytes,
//!   flattened and written while parsed (what the direct path does with a
//!   list: `flatten_text_page` and `respond_page` in one, no tree);
//! - `small_call_answer`: a small call's answer through the tree's path:
//!   one run's upstream bytes (2 KB, `fixtures/run.json`, from the
//!   simulator) flattened while parsed, budgeted and written as the MCP
//!   answer;
//! - `small_call_written`: the same bytes straight to the MCP answer's
//!   bytes, written while parsed (what the direct path does with one
//!   resource).
//!
//! Run it, with the delta against the checked-in baseline
//! (`benches/baseline/request_path.txt`), through
//!
//!     python3 e2e/bench/instructions.py [--update-baseline]
//!
//! which installs the matching `gungraun-runner` and valgrind when missing.
//! `cargo bench -p tfc-mcp-gateway --bench request_path` runs it bare.

use std::{collections::BTreeMap, hint::black_box, sync::Arc};

use gungraun::prelude::*;
use k8s_openapi::{ByteString, api::core::v1::Secret};
use serde_json::{Map, Value, json};
use tfc_mcp_gateway::{
    bench_api::{self, ValidArgs},
    catalog::{ToolSpec, catalog},
    execute::Request,
    jsonapi::Grants,
    route::{ROUTE_KEY, Route, TFC_TOKEN_KEY, sha256_hex},
    routes::{LoadedRoute, RouteTable},
};
use url::Url;

const LIST_WORKSPACES: &str = "list_all_hashicorp_terraform_cloud_workspaces";
const GET_RUN: &str = "get_single_hashicorp_terraform_cloud_run_by_id";
const PAGE: &[u8] = include_bytes!("fixtures/workspaces-page.json");
const RUN: &[u8] = include_bytes!("fixtures/run.json");
const ROUTES: usize = 1_000;

fn tool(name: &str) -> &'static ToolSpec {
    catalog().get(name).expect("catalog tool")
}

fn arguments(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("object")
}

fn list_arguments() -> Map<String, Value> {
    arguments(json!({"organization_name": "acme-corp"}))
}

fn run_arguments() -> Map<String, Value> {
    arguments(json!({"run_id": "run-CZcmD7eagjhyX0vN"}))
}

fn route_json(i: usize) -> Value {
    json!({
        "version": 1, "tokenSha256": sha256_hex(&token(i)), "server": format!("bench/r{i:05}"),
        "tfcAddress": "https://app.terraform.io", "organizations": ["acme-corp"],
        "methods": ["list", "get", "create", "update", "delete", "custom"],
        "upstream": {"maxRequestsPerSecond": 1000, "retryOn429": false},
    })
}

fn token(i: usize) -> String {
    format!("tfcmcp_bench{i:06}_{}", &sha256_hex(&i.to_string())[..24])
}

fn route() -> Route {
    serde_json::from_value(route_json(0)).expect("route document")
}

// ---- setups (not counted) ---------------------------------------------------------

// Inputs a benchmark only reads are leaked by their setup: dropping them at
// the end of the benchmark function would be counted as its work.

fn route_table() -> (&'static RouteTable, String) {
    let secrets: Vec<Secret> = (0..ROUTES)
        .map(|i| {
            let mut s = Secret::default();
            s.metadata.name = Some(format!("tfcmcp.bench.r{i:05}"));
            s.data = Some(BTreeMap::from([
                (ROUTE_KEY.to_owned(), ByteString(serde_json::to_vec(&route_json(i)).unwrap())),
                (TFC_TOKEN_KEY.to_owned(), ByteString(b"upstream".to_vec())),
            ]));
            s
        })
        .collect();
    let table = RouteTable::default();
    table.replace_all(&secrets);
    assert_eq!(table.len(), ROUTES);
    (Box::leak(Box::new(table)), token(ROUTES / 2))
}

fn validated(name: &str, arguments: Map<String, Value>) -> (&'static ToolSpec, ValidArgs) {
    let tool = tool(name);
    let args = bench_api::validate(tool, arguments).expect("valid arguments");
    (tool, args)
}

struct Flatten {
    doc: Value,
    base: Url,
    route: Route,
    tool: &'static ToolSpec,
    args: ValidArgs,
    grants: Grants,
}

fn parsed_page() -> &'static Flatten {
    let route = route();
    let (tool, args) = validated(LIST_WORKSPACES, list_arguments());
    Box::leak(Box::new(Flatten {
        doc: bench_api::parse_answer(PAGE).expect("fixture page"),
        base: Url::parse(&route.tfc_address).expect("address"),
        grants: bench_api::grants(&route),
        route,
        tool,
        args,
    }))
}

fn flattened_page() -> Value {
    let f = parsed_page();
    bench_api::flatten(f.doc.clone(), Some(&f.base), &f.route, f.tool, &f.args, &f.grants)
}

/// What a small call's answer needs besides its bytes: get one run.
fn run_call() -> &'static Flatten {
    let route = route();
    let (tool, args) = validated(GET_RUN, run_arguments());
    Box::leak(Box::new(Flatten {
        doc: Value::Null,
        base: Url::parse(&route.tfc_address).expect("address"),
        grants: bench_api::grants(&route),
        route,
        tool,
        args,
    }))
}

/// A fresh copy of the page for each run: flattening takes it over.
fn page_to_flatten() -> (&'static Flatten, Value) {
    let f = parsed_page();
    (f, f.doc.clone())
}

// ---- benchmarks ------------------------------------------------------------------

#[library_benchmark]
#[bench::hit_of_1000(route_table())]
fn route_lookup(input: (&'static RouteTable, String)) -> Option<Arc<LoadedRoute>> {
    let (table, token) = input;
    black_box(table.lookup_hash(&sha256_hex(black_box(&token))))
}

#[library_benchmark]
#[bench::list_workspaces((tool(LIST_WORKSPACES), list_arguments()))]
#[bench::get_run((tool(GET_RUN), run_arguments()))]
fn validate(input: (&'static ToolSpec, Map<String, Value>)) -> Option<ValidArgs> {
    let (tool, arguments) = input;
    black_box(bench_api::validate(tool, black_box(arguments)).ok())
}

#[library_benchmark]
#[bench::list_workspaces(validated(LIST_WORKSPACES, list_arguments()))]
#[bench::get_run(validated(GET_RUN, run_arguments()))]
fn build_request(input: (&'static ToolSpec, ValidArgs)) -> Option<Request> {
    let (tool, args) = input;
    black_box(bench_api::build_request(tool, black_box(&args)).ok())
}

#[library_benchmark]
#[bench::workspaces_20()]
fn parse_page() -> Value {
    black_box(bench_api::parse_answer(black_box(PAGE)).unwrap_or_default())
}

// Dropping a parsed page: what flattening a borrowed page left for later
// (before flattening moved the values; `flatten_page` now includes dropping
// what it does not keep).
#[library_benchmark]
#[bench::workspaces_20(parsed_page().doc.clone())]
fn drop_page(doc: Value) {
    drop(black_box(doc));
}

#[library_benchmark]
#[bench::workspaces_20(page_to_flatten())]
fn flatten_page(input: (&'static Flatten, Value)) -> Value {
    let (f, doc) = input;
    black_box(bench_api::flatten(black_box(doc), Some(&f.base), &f.route, f.tool, &f.args, &f.grants))
}

#[library_benchmark]
#[bench::workspaces_20(flattened_page())]
fn respond_page(page: Value) -> Vec<u8> {
    black_box(bench_api::response_bytes(bench_api::fit(black_box(page), 64 * 1024)))
}

// A small call's whole answer path: the upstream bytes of one run (2 KB)
// parsed, flattened, budgeted and written as the MCP answer.
#[library_benchmark]
#[bench::get_run(run_call())]
fn small_call_answer(f: &'static Flatten) -> Vec<u8> {
    let flat = bench_api::flatten_text(black_box(RUN), Some(&f.base), &f.route, f.tool, &f.args, &f.grants).unwrap_or_default();
    black_box(bench_api::response_bytes(bench_api::fit(flat, 64 * 1024)))
}

// The run's text written while parsed into the MCP answer's bytes (what
// the direct path does with one resource that fits the budget).
#[library_benchmark]
#[bench::get_run(run_call())]
fn small_call_written(f: &'static Flatten) -> Vec<u8> {
    black_box(bench_api::written_response(black_box(RUN), Some(&f.base), &f.route, f.tool, &f.args, &f.grants).unwrap_or_default())
}

// The page's text written while parsed into the MCP answer's bytes (what
// the direct path does with a list that fits the budget).
#[library_benchmark]
#[bench::workspaces_20(parsed_page())]
fn written_page(f: &'static Flatten) -> Vec<u8> {
    black_box(bench_api::written_response(black_box(PAGE), Some(&f.base), &f.route, f.tool, &f.args, &f.grants).unwrap_or_default())
}

// The page's text flattened while parsed (what a call does on a server
// that remembers no owners): parse_page + flatten_page in one pass.
#[library_benchmark]
#[bench::workspaces_20(parsed_page())]
fn flatten_text_page(f: &'static Flatten) -> Value {
    black_box(bench_api::flatten_text(black_box(PAGE), Some(&f.base), &f.route, f.tool, &f.args, &f.grants).unwrap_or_default())
}

library_benchmark_group!(
    name = request_path,
    benchmarks = [
        route_lookup,
        validate,
        build_request,
        parse_page,
        drop_page,
        flatten_page,
        flatten_text_page,
        respond_page,
        written_page,
        small_call_answer,
        small_call_written
    ]
);

main!(library_benchmark_groups = request_path);
