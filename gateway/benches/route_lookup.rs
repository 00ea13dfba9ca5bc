//! Route lookup cost with 10, 1,000 and 10,000 routes loaded: what every MCP
//! request pays before anything else (SHA-256 of the URL token, then a hash
//! map read under a read lock). No external harness: plain `Instant` timing.
//!
//!     cargo bench -p tfc-mcp-gateway --bench route_lookup
//!
//! `e2e/bench/gateway.py` runs it and prints its lines after the end-to-end figures.

use std::{collections::BTreeMap, hint::black_box, time::Instant};

use k8s_openapi::{ByteString, api::core::v1::Secret};
use tfc_mcp_gateway::{
    route::{ROUTE_KEY, TFC_TOKEN_KEY, sha256_hex},
    routes::RouteTable,
};

fn token(i: usize) -> String {
    format!("tfcmcp_bench_{i:06}_{}", &sha256_hex(&i.to_string())[..24])
}

fn secret(i: usize) -> Secret {
    let route = serde_json::json!({
        "version": 1, "tokenSha256": sha256_hex(&token(i)), "server": format!("bench/r{i}"),
        "tfcAddress": "http://127.0.0.1:1", "methods": ["list", "get", "create", "update", "delete", "custom"],
        "upstream": {"maxRequestsPerSecond": 1000, "retryOn429": false},
    });
    let mut s = Secret::default();
    s.metadata.name = Some(format!("tfcmcp.bench.r{i}"));
    s.data = Some(BTreeMap::from([
        (ROUTE_KEY.to_owned(), ByteString(serde_json::to_vec(&route).unwrap())),
        (TFC_TOKEN_KEY.to_owned(), ByteString(b"upstream".to_vec())),
    ]));
    s
}

fn per_op(iterations: usize, mut f: impl FnMut(usize)) -> f64 {
    for i in 0..iterations / 10 {
        f(i); // warm-up
    }
    let started = Instant::now();
    for i in 0..iterations {
        f(i);
    }
    started.elapsed().as_nanos() as f64 / iterations as f64
}

fn main() {
    const ITERATIONS: usize = 1_000_000;
    println!("{:>6} | {:>10} | {:>13} | {:>14} | {:>10}", "routes", "load ms", "lookup hit ns", "lookup miss ns", "sha256 ns");
    for n in [10usize, 1_000, 10_000] {
        let secrets: Vec<Secret> = (0..n).map(secret).collect();
        let table = RouteTable::default();
        let started = Instant::now();
        table.replace_all(&secrets);
        let load_ms = started.elapsed().as_secs_f64() * 1e3;
        assert_eq!(table.len(), n);
        let tokens: Vec<String> = (0..n).map(token).collect();
        let misses: Vec<String> = (0..1024).map(|i| format!("tfcmcp_unknown_{i}")).collect();

        let hit = per_op(ITERATIONS, |i| {
            black_box(table.lookup(black_box(&tokens[i % n])).expect("known token"));
        });
        let miss = per_op(ITERATIONS, |i| {
            assert!(black_box(table.lookup(black_box(&misses[i % misses.len()]))).is_none());
        });
        let hash = per_op(ITERATIONS, |i| {
            black_box(sha256_hex(black_box(&tokens[i % n])));
        });
        println!("{n:>6} | {load_ms:>10.1} | {hit:>13.0} | {miss:>14.0} | {hash:>10.0}");
    }
}
