//! The one-connection latency of the gateway benchmark, measured paired: one
//! client sends each target's request in turn (the call through the gateway,
//! the same upstream request direct, the floor, a baseline gateway), one
//! request at a time over one kept-alive connection per target, in a new
//! random order every round. On a shared machine, load that comes and goes then
//! lands on every target alike, and the difference of two targets'
//! percentiles is the overhead of one over the other rather than which of
//! them ran during a quiet second (measured one after the other, the floor,
//! which only forwards, came out anywhere from 785 µs faster than a direct
//! request to 1.2 ms slower).
//!
//! Reads the targets as JSON on stdin:
//!
//!     {"seconds": 10, "warmup": 1, "targets": [{"name": "direct", "url": "http://...",
//!      "method": "GET", "headers": {"authorization": "Bearer ..."}, "body": null}, ...]}
//!
//! and prints, per target, the requests, errors (a status other than 200, or
//! an MCP answer with `"isError":true`) and the latency percentiles in µs:
//!
//!     {"direct": {"requests": 9000, "errors": 0, "p50_us": 110.0, "p90_us": 150.0, "p99_us": 400.0}, ...}

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Plan {
    seconds: f64,
    #[serde(default)]
    warmup: f64,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    url: String,
    method: String,
    #[serde(default)]
    headers: HashMap<String, String>,
    #[serde(default)]
    body: Option<String>,
}

/// One target's connection and what it measured.
struct Measured {
    client: reqwest::Client,
    request: reqwest::Request,
    latencies_us: Vec<f64>,
    errors: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let plan: Plan = serde_json::from_str(&input)?;
    anyhow::ensure!(!plan.targets.is_empty(), "no targets");
    let mut measured = Vec::with_capacity(plan.targets.len());
    for target in &plan.targets {
        // One connection per target, kept alive, as wrk -c1 keeps it.
        let client = reqwest::Client::builder().http1_only().tcp_nodelay(true).pool_max_idle_per_host(1).build()?;
        let mut request = client.request(target.method.parse()?, &target.url);
        for (name, value) in &target.headers {
            request = request.header(name, value);
        }
        if let Some(body) = &target.body {
            request = request.body(body.clone());
        }
        measured.push(Measured { client, request: request.build()?, latencies_us: Vec::new(), errors: 0 });
    }
    let mut order: Vec<usize> = (0..measured.len()).collect();
    let mut shuffle = Shuffle(0x9e37_79b9_7f4a_7c15);
    for (seconds, keep) in [(plan.warmup, false), (plan.seconds, true)] {
        let until = Instant::now() + Duration::from_secs_f64(seconds.max(0.0));
        while Instant::now() < until {
            // A new order every round: each target follows each other one
            // about as often (what a call leaves behind, such as the
            // gateway's work after its answer, slows whatever comes next).
            shuffle.order(&mut order);
            for &i in &order {
                let one = &mut measured[i];
                let (took, ok) = send(one).await;
                if keep {
                    one.latencies_us.push(took.as_secs_f64() * 1e6);
                    one.errors += u64::from(!ok);
                }
            }
        }
    }
    let mut report = BTreeMap::new();
    for (target, one) in plan.targets.iter().zip(&mut measured) {
        one.latencies_us.sort_by(f64::total_cmp);
        let at = |p: f64| percentile(&one.latencies_us, p);
        report.insert(
            target.name.clone(),
            json!({"requests": one.latencies_us.len(), "errors": one.errors,
                   "p50_us": at(0.50), "p90_us": at(0.90), "p99_us": at(0.99)}),
        );
    }
    println!("{}", Value::from(serde_json::Map::from_iter(report)));
    Ok(())
}

/// Sends one request and reads its whole answer: the time that took (the
/// answer's check not included), and whether it succeeded.
async fn send(one: &Measured) -> (Duration, bool) {
    let Some(request) = one.request.try_clone() else { return (Duration::ZERO, false) };
    let started = Instant::now();
    let answer = match one.client.execute(request).await {
        Ok(answer) => {
            let status = answer.status();
            answer.bytes().await.ok().map(|body| (status, body))
        }
        Err(_) => None,
    };
    let took = started.elapsed();
    let ok = answer.is_some_and(|(status, body)| status == reqwest::StatusCode::OK && !contains(&body, br#""isError":true"#));
    (took, ok)
}

/// Fisher-Yates with xorshift64: a fixed sequence of orders, no dependency.
struct Shuffle(u64);

impl Shuffle {
    fn order(&mut self, items: &mut [usize]) {
        for i in (1..items.len()).rev() {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            items.swap(i, (self.0 % (i as u64 + 1)) as usize);
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The nearest-rank percentile of sorted values (0 when there are none).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
