#!/usr/bin/env python3
"""Gateway benchmark: prints figures, asserts nothing about timing.

    python3 e2e/bench/gateway.py                # full run, about 6 minutes
    python3 e2e/bench/gateway.py --quick        # 3 s per point, 10 and 1,000 routes

What it measures, in one run, on one machine (everything on loopback):

1. Two tool calls through the gateway to the HCP Terraform simulator, each
   against the very upstream request the gateway makes for it, sent straight
   to the simulator with the bearer token, alternating point by point:
   - a small call: `get_single_hashicorp_terraform_cloud_run_by_id` against
     `GET /api/v2/runs/<id>`;
   - a 57 KB page: `list_all_hashicorp_terraform_cloud_workspaces` for
     acme-corp (20 workspaces) against
     `GET /api/v2/organizations/acme-corp/workspaces`.
   Each is one stateless Streamable HTTP POST. Printed: p50 and p99 latency
   and throughput at concurrency 1, 16 and 64; the overhead (gateway minus
   direct, in microseconds) and the throughput ratio gateway/direct; and the
   performance targets next to the figures with whether each is met:
   small call p50 overhead <= 150 us and p99 overhead <= 1 ms at
   concurrency 1, the page's p50 overhead <= 500 us, and throughput >= 80 %
   of the direct path's at concurrency 16 and 64.
   Beside each point, the floor: `gateway/examples/forward_floor.rs`, a
   proxy built from the gateway's HTTP server and client crates that only
   forwards the request to the same upstream URL. Its overhead over direct
   is what this machine charges for any proxy hop on loopback (two more
   socket round trips and their wake-ups); the gateway's overhead above the
   floor is the cost of its own work. `--no-floor` skips it.
   `--rounds N` measures every point N times, the paths alternating, and
   reports each figure's median: on a shared machine one burst of other
   work otherwise decides a ratio.
   At concurrency 1 the latency targets are also measured paired
   (`gateway/examples/paired_latency.rs`): one client sends the gateway's,
   the direct, the floor's (and the baseline's) request in turn, in a new
   random order every round, one at a time over one kept-alive connection
   each, for `--duration` x `--rounds` x 2 seconds per call; the direct
   request also goes over a second connection, whose difference from the
   first is the measurement's own noise. Load that comes and goes then
   lands on every path alike; measured one path after the other, the floor
   alone came out anywhere from 785 us faster than direct to 1.2 ms
   slower. The targets table gives the concurrency-1 latency figures both
   ways: wrk's consecutive calls, and paired, where every path's request
   comes between the others' (steadier, and colder: each process runs
   other code between two of its requests, so the floor's and the
   gateway's overheads are both higher than wrk's).
2. `tools/list` throughput and latency with 10, 1,000 and 10,000 routes
   loaded, the cost of the route lookup (a request for an unknown URL token
   is answered 404 right after the lookup, so its latency is the edge plus the
   lookup; the in-process nanoseconds come from the Rust bench
   `cargo bench -p tfc-mcp-gateway --bench route_lookup`), and the gateway's
   resident memory at each size, per route (target: 10,000 routes in
   <= 100 MB resident).

Setup: release builds of the gateway and the simulator; the gateways under
test and the floor run one worker thread (`--workers`, default 1, as a CPU
limit of 1 would set: here they share two cores with the simulator and wrk,
and a second thread woken to look for work costs more CPU per call than it
takes over; `--workers 0` gives them one per CPU, like the simulator); the
instruction counts (`--instructions`) keep one per CPU, as before, so they
compare with earlier counts; the simulator's own
rate limit is off; the gateway runs with its per-server request rate limit
and its per-server and per-namespace caps on requests in flight off
(`--rate-limit-per-second 0 --max-inflight-per-server 0
--max-inflight-per-namespace 0`: 64 connections to one server would meet
the default cap of 32) and every bench route sets
`upstream.maxRequestsPerSecond: 1000000` (the route Secret is written
directly, so above the CRD's maximum of 1,000: at 1,000 the upstream pacing,
not the gateway, is what a small call's throughput measures). Routes are written as route
Secrets straight into tfc-mcp-system (no operator). The load generator is
wrk (C, epoll, one thread), installed with apt-get when missing; its CPU use
is printed next to the gateway's so one can see it is not the bottleneck.
Logs (including one audit line per tool call, as in production) go to files
under the work directory.
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import hashlib
import http.client
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "e2e"))

from stack import GATEWAY_NAMESPACE, SIM_TOKEN, Stack, free_port, http_get, log, terminate, wait_for  # noqa: E402

TOOL = "list_all_hashicorp_terraform_cloud_workspaces"
RUN_TOOL = "get_single_hashicorp_terraform_cloud_run_by_id"
ORG = "acme-corp"

# The targets (overheads in microseconds, throughput as gateway/direct).
TARGET_P50_US = 150
TARGET_P99_US = 1000
TARGET_PAGE_P50_US = 500
TARGET_THROUGHPUT = 0.80
TARGET_RSS_10K_MB = 100
ALL_METHODS = ["list", "get", "create", "update", "delete", "custom"]
CLK_TCK = os.sysconf("SC_CLK_TCK")

WRK_LUA = r"""
wrk.method = "%(method)s"
%(body)s
%(headers)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"bytes":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,' ..
    '"max_us":%%d,"err_connect":%%d,"err_read":%%d,"err_write":%%d,"err_status":%%d,"err_timeout":%%d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def lua_string(s: str) -> str:
    return json.dumps(s)  # a JSON string literal is a valid Lua string literal for ASCII


# ---- setup ------------------------------------------------------------------------------


def build_release() -> Path:
    log("building the gateway and the simulator (cargo build --release)")
    subprocess.run(["cargo", "build", "--release", "--bin", "tfc-mcp-gateway", "--bin", "tfc-sim", "--example", "forward_floor",
                    "--example", "paired_latency"], cwd=ROOT, check=True)
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release"


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing wrk (apt-get install -y wrk)")
        if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], stdout=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], stdout=subprocess.DEVNULL, check=True)
        path = shutil.which("wrk")
    if not path:
        sys.exit("wrk is needed: apt-get install wrk")
    return path


def route_secret(i: int, sim_api: str, rps: int) -> tuple[str, dict]:
    """A route Secret as the operator would write it; returns (url token, manifest)."""
    token = f"tfcmcp_bench{i:06d}" + hashlib.sha256(f"bench-{i}".encode()).hexdigest()[:24]
    route = {
        "version": 1,
        "tokenSha256": hashlib.sha256(token.encode()).hexdigest(),
        "server": f"bench/r{i:05d}",
        "displayName": f"bench route {i}",
        "tfcAddress": sim_api,
        "organizations": [ORG],
        "methods": ALL_METHODS,
        "upstream": {"maxRequestsPerSecond": rps, "retryOn429": False},
    }
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"tfcmcp.bench.r{i:05d}", "namespace": GATEWAY_NAMESPACE,
                     "labels": {"tfcmcp.dev/route": "true"}},
        "type": "Opaque",
        "data": {"route.json": base64.b64encode(json.dumps(route).encode()).decode(),
                 "tfc-token": base64.b64encode(SIM_TOKEN.encode()).decode()},
    }
    return token, manifest


def create_routes(stack: Stack, start: int, end: int, rps: int, batch: int = 250, workers: int = 4) -> list[str]:
    """Creates route Secrets [start, end) with kubectl create, in parallel batches."""
    tokens, manifests = [], []
    for i in range(start, end):
        token, manifest = route_secret(i, stack.sim["api"], rps)
        tokens.append(token)
        manifests.append(manifest)
    batches = [manifests[i:i + batch] for i in range(0, len(manifests), batch)]

    def send(items):
        stack.kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(send, batches))
    log(f"created {end - start} route Secrets in {time.monotonic() - started:.1f}s")
    return tokens


def metrics(admin: int) -> dict[str, float]:
    _, body = http_get(f"http://127.0.0.1:{admin}/metrics", timeout=30)
    values: dict[str, float] = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            values[key] = float(value)
    return values


def metric_sum(values: dict[str, float], prefix: str, *must: str, exclude: str | None = None) -> float:
    return sum(v for k, v in values.items() if k.startswith(prefix) and all(m in k for m in must)
               and not (exclude and exclude in k))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_secs(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


# ---- one load point -------------------------------------------------------------------------


class Bench:
    def __init__(self, stack: Stack, wrk: str, duration: float, warmup: float):
        self.stack = stack
        self.wrk = wrk
        self.duration = duration
        self.warmup = warmup
        self.gateway_pid = 0
        self.admin = 0
        self.rows: list[dict] = []

    def lua(self, name: str, method: str, body: str | None, headers: dict[str, str]) -> Path:
        path = self.stack.work / f"wrk-{name}.lua"
        path.write_text(WRK_LUA % {
            "method": method,
            "body": f"wrk.body = {lua_string(body)}" if body else "",
            "headers": "\n".join(f"wrk.headers[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()),
        })
        return path

    def wrk_run(self, url: str, script: Path, connections: int, seconds: float) -> dict:
        argv = [self.wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(script), url]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        match = re.search(r"^WRKJSON (\{.*\})$", out, re.M)
        if not match:
            raise RuntimeError(f"wrk printed no result:\n{out}")
        result = json.loads(match.group(1))
        result["wrk_cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return result

    def point(self, label: str, url: str, script: Path, connections: int, pids: dict[str, int], check=None) -> dict:
        if self.warmup > 0:
            self.wrk_run(url, script, connections, self.warmup)
        cpu_before = {name: cpu_secs(pid) for name, pid in pids.items()}
        m_before = metrics(self.admin) if check else None
        result = self.wrk_run(url, script, connections, self.duration)
        secs = result["duration_us"] / 1e6
        row = {
            "label": label,
            "c": connections,
            "requests": result["requests"],
            "rps": result["requests"] / secs,
            "p50_ms": result["p50_us"] / 1000,
            "p99_ms": result["p99_us"] / 1000,
            "p50_us": result["p50_us"],
            "p99_us": result["p99_us"],
            "errors": result["err_connect"] + result["err_read"] + result["err_write"] + result["err_status"] + result["err_timeout"],
            "kib_per_req": result["bytes"] / max(1, result["requests"]) / 1024,
            "wrk_cpu_pct": 100 * result["wrk_cpu"] / secs,
        }
        for name, pid in pids.items():
            row[f"{name}_cpu_pct"] = 100 * (cpu_secs(pid) - cpu_before[name]) / secs
        if check:
            row["errors"] += check(m_before, metrics(self.admin), result["requests"])
        self.rows.append(row)
        log(f"{label} c={connections}: {row['rps']:.0f} req/s, p50 {row['p50_ms']:.2f} ms, p99 {row['p99_ms']:.2f} ms, "
            f"errors {row['errors']}, wrk cpu {row['wrk_cpu_pct']:.0f}%")
        return row


def median_row(rows: list[dict]) -> dict:
    """Each figure's median over rounds of one point (errors are summed)."""
    if len(rows) == 1:
        return rows[0]
    merged = dict(rows[0])
    for key, value in rows[0].items():
        if key == "errors":
            merged[key] = sum(r[key] for r in rows)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            merged[key] = statistics.median(r[key] for r in rows)
    return merged


class KeptAlive:
    """POSTs over one HTTP/1.1 connection kept alive, as wrk sends them: the
    instruction counts are of calls, not of connection setup."""

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        self.path = parts.path or "/"
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        self.connection.request("POST", self.path, body=body, headers=headers)
        response = self.connection.getresponse()
        answer = response.read()
        if response.will_close:
            sys.exit(f"the server closed the connection after {self.path}: the counts would include connection setup")
        return response.status, answer


def mcp_post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers=headers_for(body))
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}
MODERN = "2026-07-28"
REVISION = "2025-06-18"  # --revision
WORKERS = 1  # --workers: the gateway's and the floor's worker threads (0: one per CPU)


def message(method: str, params: dict | None = None) -> dict:
    """A JSON-RPC request as a client on --revision sends it: on 2026-07-28 the
    client's version, capabilities and info travel in every request's `_meta`."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method}
    if REVISION == MODERN:
        params = dict(params or {}, _meta={
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "tfc-mcp-bench", "version": "1"},
        })
    if params is not None:
        body["params"] = params
    return body


def headers_for(body: dict) -> dict[str, str]:
    """The HTTP headers of `body` on --revision (2026-07-28 adds `Mcp-Method`, and `Mcp-Name` for a call)."""
    headers = dict(MCP_HEADERS, **{"MCP-Protocol-Version": REVISION})
    if REVISION == MODERN:
        headers["Mcp-Method"] = body["method"]
        if body["method"] == "tools/call":
            headers["Mcp-Name"] = body["params"]["name"]
    return headers


def tool_call_check(before: dict, after: dict, requests: int) -> int:
    """Tool calls that did not end `ok` (a tool error is HTTP 200 to wrk).
    Calls still in flight when wrk stops are cancelled by the disconnect:
    those (at most one per connection) are not errors of the gateway."""
    prefix = "tfcmcp_gateway_requests_total{"
    outcomes: dict[str, float] = {}
    for key in set(before) | set(after):
        if key.startswith(prefix) and 'method="tools/call"' in key:
            outcome = re.search(r'outcome="([^"]*)"', key).group(1)
            outcomes[outcome] = outcomes.get(outcome, 0) + after.get(key, 0) - before.get(key, 0)
    outcomes = {k: int(v) for k, v in outcomes.items() if v}
    if set(outcomes) - {"ok", "cancelled"}:
        log(f"tool call outcomes: {outcomes}")
    bad = sum(v for k, v in outcomes.items() if k not in ("ok", "cancelled"))
    return int(bad + max(0, requests - outcomes.get("ok", 0)))


# ---- main ---------------------------------------------------------------------------------


def main() -> None:
    global REVISION, WORKERS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured point (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up before each point (default 2)")
    parser.add_argument("--concurrency", default="1,16,64", help="connections for the tool-call comparison")
    parser.add_argument("--routes", default="10,1000,10000", help="route-table sizes for tools/list")
    parser.add_argument("--list-concurrency", type=int, default=16, help="connections for tools/list and lookup points")
    parser.add_argument("--upstream-rps", type=int, default=1_000_000,
                        help="upstream.maxRequestsPerSecond of the bench routes (above the CRD's 1,000 so pacing is not the result)")
    parser.add_argument("--quick", action="store_true", help="3 s points, 1 s warm-up, 10 and 1,000 routes")
    parser.add_argument("--skip-build", action="store_true", help="use the existing target/release binaries")
    parser.add_argument("--no-rust-bench", action="store_true", help="skip cargo bench --bench route_lookup")
    parser.add_argument("--work", type=Path, default=ROOT / "e2e" / ".work" / "bench")
    parser.add_argument("--baseline-gateway", type=Path, metavar="BINARY",
                        help="also run this gateway binary (an earlier build) on the same routes and print it side by side")
    parser.add_argument("--baseline-workers", type=int, metavar="N",
                        help="run the baseline gateway (this build when --baseline-gateway is not given) on N worker "
                             "threads (0: one per CPU) rather than --workers: the thread count's own effect, A/B")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every point this many times, the paths alternating, and report the medians (default 1)")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip the floor: the no-op forwarding proxy (gateway/examples/forward_floor.rs) measured beside each point")
    parser.add_argument("--instructions", action="store_true",
                        help="instead of the figures: the instructions the whole gateway process executes per call "
                             "(callgrind), small call and page, for this build and --baseline-gateway if given")
    parser.add_argument("--revision", default=REVISION, choices=[REVISION, MODERN],
                        help=f"the MCP revision the calls are made on (default {REVISION}; {MODERN} carries the client's "
                             "version in each request's _meta and the Mcp-Method / Mcp-Name headers)")
    parser.add_argument("--workers", type=int, default=WORKERS,
                        help="worker threads of the gateways under test and of the floor (TOKIO_WORKER_THREADS, which "
                             "earlier builds read too), as a CPU limit of that many would set; 0: one per CPU. Default 1: "
                             "the gateway shares this machine's cores with the simulator and wrk, and a second thread "
                             "woken to look for work costs more than it takes over (see the README)")
    parser.add_argument("--profile", action="store_true",
                        help="instead of the figures: perf-record the gateway under the small call and the page at c=16, print the hottest symbols")
    args = parser.parse_args()
    REVISION, WORKERS = args.revision, args.workers
    if args.quick:
        args.duration, args.warmup = 3, 1
        if args.routes == parser.get_default("routes"):
            args.routes = "10,1000"
    concurrency = [int(c) for c in args.concurrency.split(",")]
    sizes = sorted(int(n) for n in args.routes.split(","))

    wrk = ensure_wrk()
    release = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" if args.skip_build else build_release()
    if args.work.exists():
        shutil.rmtree(args.work)
    stack = Stack(args.work)
    stack.bin = release
    bench = Bench(stack, wrk, args.duration, args.warmup)
    memory: list[dict] = []
    lookup_ns = None
    try:
        stack.start_control_plane()
        stack.install_cluster_resources()
        stack.start_simulator(rate_limit=0)
        bench.admin = free_port()
        port = free_port()
        gateway = start_gateway(stack, "gateway", release / "tfc-mcp-gateway", port, bench.admin)
        bench.gateway_pid = gateway.pid
        baseline = None
        if args.baseline_workers is not None and not args.baseline_gateway:
            args.baseline_gateway = release / "tfc-mcp-gateway"
        if args.baseline_gateway:
            base_port, base_admin = free_port(), free_port()
            baseline = start_gateway(stack, "baseline-gateway", args.baseline_gateway.resolve(), base_port, base_admin,
                                     workers=args.baseline_workers)
        sim_pid = stack.procs["simulator"].pid
        pids = {"gw": gateway.pid, "sim": sim_pid}

        def wait_routes(n: int) -> None:
            wait_for(f"the gateway to load {n} routes",
                     lambda: metrics(bench.admin).get("tfcmcp_gateway_routes_loaded") == n, timeout=300, interval=0.5)

        idle_rss = rss_mib(gateway.pid)
        tokens = create_routes(stack, 0, sizes[0], args.upstream_rps)
        wait_routes(sizes[0])
        url = f"http://127.0.0.1:{port}/mcp/{tokens[0]}"
        base_url = f"http://127.0.0.1:{base_port}/mcp/{tokens[0]}" if baseline else None
        if baseline:
            wait_for("the baseline gateway to load the routes",
                     lambda: metrics(base_admin).get("tfcmcp_gateway_routes_loaded") == sizes[0], timeout=300, interval=0.5)

        # Sanity: the exact requests the load generator will send.
        call_body = message("tools/call", {"name": TOOL, "arguments": {"organization_name": ORG}})
        status, answer = mcp_post(url, call_body)
        assert status == 200 and not answer["result"].get("isError"), answer
        assert "structuredContent" in answer["result"], json.dumps(answer)[:3000]
        n_ws = len(answer["result"]["structuredContent"]["results"])
        status, listed = mcp_post(url, message("tools/list"))
        n_tools = len(listed["result"]["tools"])
        direct_url = f"{stack.sim['api']}/api/v2/organizations/{ORG}/workspaces"
        upstream_seen = [r for r in stack.sim_requests() if r["path"].endswith(f"/organizations/{ORG}/workspaces")]
        assert upstream_seen and upstream_seen[-1]["query"] == "", upstream_seen[-1:]
        page_kib = len(direct_get(direct_url)) / 1024
        log(f"tool call returns {n_ws} workspaces ({page_kib:.0f} KiB upstream); tools/list returns {n_tools} tools")

        # The small call: one run, read once so its owner is cached (as in steady use).
        run_id = first_run_id(stack)
        run_body = message("tools/call", {"name": RUN_TOOL, "arguments": {"run_id": run_id}})
        status, answer = mcp_post(url, run_body)
        assert status == 200 and not answer["result"].get("isError"), answer
        before = len(stack.sim_requests())
        mcp_post(url, run_body)
        seen = stack.sim_requests()[before:]
        assert [r["path"] for r in seen] == [f"/api/v2/runs/{run_id}"], seen
        run_url = f"{stack.sim['api']}/api/v2/runs/{run_id}"

        direct_headers = {"Authorization": f"Bearer {SIM_TOKEN}", "Accept": "application/vnd.api+json"}
        # 2026-07-28 has no ping: its lightest request is server/discover.
        list_body, ping_body = message("tools/list"), message("ping" if REVISION != MODERN else "server/discover")
        call_lua = bench.lua("call", "POST", json.dumps(call_body), headers_for(call_body))
        direct_lua = bench.lua("direct", "GET", None, direct_headers)
        run_lua = bench.lua("run", "POST", json.dumps(run_body), headers_for(run_body))
        list_lua = bench.lua("list", "POST", json.dumps(list_body), headers_for(list_body))
        ping_lua = bench.lua("ping", "POST", json.dumps(ping_body), headers_for(ping_body))

        if args.profile:
            for label, script in (("small call", run_lua), ("57 KB page", call_lua)):
                profile_gateway(bench, label, url, script, gateway.pid, args.duration)
            return
        if args.instructions:
            binaries = [("this build", release / "tfc-mcp-gateway")]
            if args.baseline_gateway:
                terminate(baseline)
                binaries.append(("baseline", args.baseline_gateway.resolve()))
            counts = {label: gateway_instructions(stack, binary, tokens[0], {"small call": run_body, "57 KB page": call_body})
                      for label, binary in binaries}
            floor = None if args.no_floor else floor_instructions(
                stack, release / "examples" / "forward_floor", {"small call": run_url, "57 KB page": direct_url})
            print_instructions(counts, floor)
            return

        # The floor: a proxy that only forwards, to each call's upstream URL.
        floors = {}
        if not args.no_floor:
            for kind, target in (("small", run_url), ("page", direct_url)):
                floors[kind] = start_floor(stack, f"floor-{kind}", release / "examples" / "forward_floor", target)

        # 1. tool calls via the gateway vs the same upstream request direct.
        comparison = {"small": [], "page": []}
        floor_rows = {"small": {}, "page": {}}
        paired: dict[str, dict] = {}
        base_pids = {"gw": baseline.pid, "sim": sim_pid} if baseline else None
        for c in concurrency:
            for kind, label, direct_target, script in (("small", "run", run_url, run_lua), ("page", "workspaces", direct_url, call_lua)):
                # Every round measures each path once, alternating, so a
                # burst of other work lands on all of them; the medians are kept.
                rounds = {"direct": [], "via": [], "base": [], "floor": []}
                for _ in range(args.rounds):
                    rounds["direct"].append(bench.point(f"direct GET {label}", direct_target, direct_lua, c, pids))
                    rounds["via"].append(bench.point(f"gateway {label}", url, script, c, pids, check=tool_call_check))
                    if baseline:
                        bench.admin, admin = base_admin, bench.admin
                        rounds["base"].append(bench.point(f"baseline gateway {label}", base_url, script, c, base_pids,
                                                          check=tool_call_check))
                        bench.admin = admin
                    if kind in floors:
                        port_, process = floors[kind]
                        rounds["floor"].append(bench.point(f"floor (no-op proxy) {label}", f"http://127.0.0.1:{port_}/", script, c,
                                                           {"gw": process.pid, "sim": sim_pid}))
                median = {name: median_row(rows) if rows else None for name, rows in rounds.items()}
                comparison[kind].append((c, median["via"], median["direct"], median["base"]))
                if median["floor"]:
                    floor_rows[kind][c] = median["floor"]
        # 1e. concurrency 1 measured paired: every path in turn, one request at a time.
        if 1 in concurrency:
            seconds = args.duration * args.rounds * 2
            for kind, label, direct_target, body in (("small", "run", run_url, run_body), ("page", "workspaces", direct_url, call_body)):
                call = {"method": "POST", "headers": headers_for(body), "body": json.dumps(body)}
                direct = {"url": direct_target, "method": "GET", "headers": direct_headers}
                # The same direct request on a second connection: what this measurement's own noise is.
                targets = [{"name": "direct", **direct}, {"name": "direct 2", **direct}, {"name": "gateway", "url": url, **call}]
                if kind in floors:
                    targets.append({"name": "floor", "url": f"http://127.0.0.1:{floors[kind][0]}/", **call})
                if baseline:
                    targets.append({"name": "baseline", "url": base_url, **call})
                paired[kind] = paired_latency(release, targets, seconds, args.warmup, label)
        if baseline:
            terminate(baseline)
        for _, process in floors.values():
            terminate(process)

        # 2. tools/list and route lookup at each table size.
        loaded = sizes[0]
        for n in sizes:
            if n > loaded:
                create_routes(stack, loaded, n, args.upstream_rps)
                wait_routes(n)
                loaded = n
            time.sleep(1)
            rss_before = rss_mib(gateway.pid)
            lst = bench.point(f"tools/list @{n}", url, list_lua, args.list_concurrency, pids)
            last = f"http://127.0.0.1:{port}/mcp/{route_secret(n - 1, '', 0)[0]}"
            ping = bench.point(f"ping (last route) @{n}", last, ping_lua, args.list_concurrency, pids)
            miss = bench.point(f"unknown token 404 @{n}", f"http://127.0.0.1:{port}/mcp/tfcmcp_no_such_token_{n}",
                               ping_lua, args.list_concurrency, pids)
            memory.append({"n": n, "rss_loaded": rss_before, "rss_after": rss_mib(gateway.pid), "list": lst, "ping": ping, "miss": miss})
    finally:
        stack.stop_for_good()

    if not args.no_rust_bench:
        lookup_ns = rust_lookup_bench()

    print_report(args, comparison, floor_rows, paired, memory, idle_rss, lookup_ns, n_tools, n_ws, page_kib)


def paired_latency(release: Path, targets: list[dict], seconds: float, warmup: float, label: str) -> dict[str, dict]:
    """Latency at concurrency 1 with the targets' requests interleaved (gateway/examples/paired_latency.rs)."""
    log(f"paired, one connection each: {', '.join(t['name'] for t in targets)} {label}, {seconds:g} s")
    plan = json.dumps({"seconds": seconds, "warmup": warmup, "targets": targets})
    done = subprocess.run([str(release / "examples" / "paired_latency")], input=plan, capture_output=True, text=True,
                          timeout=seconds + warmup + 120)
    if done.returncode != 0:
        raise RuntimeError(f"paired_latency failed:\n{done.stderr}")
    result = json.loads(done.stdout)
    for name, row in result.items():
        log(f"  {name}: {row['requests']} requests, p50 {row['p50_us']:.0f} us, p99 {row['p99_us']:.0f} us, errors {row['errors']}")
    return result


def worker_env(workers: int | None = None) -> dict[str, str]:
    """A worker-thread count (default --workers) as tokio reads it, in every build."""
    workers = WORKERS if workers is None else workers
    return {"TOKIO_WORKER_THREADS": str(workers)} if workers > 0 else {}


def start_floor(stack: Stack, name: str, binary: Path, upstream: str) -> tuple[int, subprocess.Popen]:
    """The no-op forwarding proxy in front of one upstream URL: (port, process)."""
    port = free_port()
    process = stack._spawn(name, [str(binary), "--listen", f"127.0.0.1:{port}", "--upstream", upstream],
                           env={"FORWARD_TOKEN": SIM_TOKEN, **worker_env()})
    wait_for(f"the {name} proxy to answer", lambda: http_get(f"http://127.0.0.1:{port}/")[0] == 200)
    return port, process


def start_gateway(stack: Stack, name: str, binary: Path, port: int, admin: int, workers: int | None = None) -> subprocess.Popen:
    process = stack._spawn(
        name,
        [str(binary), "--namespace", GATEWAY_NAMESPACE,
         "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}",
         "--rate-limit-per-second", "0", "--max-inflight-per-server", "0", "--max-inflight-per-namespace", "0",
         *stack.gateway_network_args(public_base_url=f"http://127.0.0.1:{port}")],
        env={"KUBECONFIG": str(stack.cp_dir / "gateway.kubeconfig"), **worker_env(workers)},
    )
    wait_for(f"the {name} to be ready", lambda: http_get(f"http://127.0.0.1:{admin}/readyz")[0] == 200)
    return process


def gateway_instructions(stack: Stack, binary: Path, token: str, bodies: dict[str, dict]) -> dict[str, float]:
    """Instructions the whole gateway process executes per call (callgrind, every thread: the edge, the MCP
    layer, the upstream client, logging), after a warm-up, for each body. Not timing: the same on a loaded machine."""
    port, admin = free_port(), free_port()
    argv = [str(binary), "--namespace", GATEWAY_NAMESPACE, "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}",
            "--rate-limit-per-second", "0", "--max-inflight-per-server", "0", "--max-inflight-per-namespace", "0",
            *stack.gateway_network_args(public_base_url=f"http://127.0.0.1:{port}")]
    url = f"http://127.0.0.1:{port}/mcp/{token}"

    def call(body: dict) -> Callable[[], None]:
        connection: list[KeptAlive] = []

        def one() -> None:
            if not connection:
                connection.append(KeptAlive(url))
            status, text = connection[0].post(json.dumps(body).encode(), headers_for(body))
            answer = json.loads(text)
            assert status == 200 and not answer["result"].get("isError"), answer
        return one

    return callgrind_per_call(
        stack, binary.name, argv, {"KUBECONFIG": str(stack.cp_dir / "gateway.kubeconfig")},
        ("the gateway under callgrind to load its routes", lambda: metrics(admin).get("tfcmcp_gateway_routes_loaded", 0) > 0),
        {label: call(body) for label, body in bodies.items()})


def floor_instructions(stack: Stack, binary: Path, targets: dict[str, str]) -> dict[str, float]:
    """The same count for the floor (the no-op forwarding proxy), one process per upstream URL."""
    per_call = {}
    for label, upstream in targets.items():
        port = free_port()
        url = f"http://127.0.0.1:{port}/"

        connection = KeptAlive(url)

        def one() -> None:
            status, _ = connection.post(b"{}", {})
            assert status == 200

        per_call |= callgrind_per_call(
            stack, binary.name, [str(binary), "--listen", f"127.0.0.1:{port}", "--upstream", upstream], {"FORWARD_TOKEN": SIM_TOKEN},
            ("the floor under callgrind to answer", lambda: http_get(url)[0] == 200), {label: one})
    return per_call


def callgrind_per_call(stack: Stack, name: str, argv: list[str], env: dict[str, str], ready: tuple[str, Callable[[], bool]],
                       calls: dict[str, Callable[[], None]], count: int = 200) -> dict[str, float]:
    """Runs `argv` under callgrind and counts, for each of `calls`, the instructions of `count` calls after 20 of warm-up."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        sys.exit("--instructions needs valgrind (apt-get install valgrind)")
    out = stack.work / f"callgrind-{name}-{free_port()}.out"
    process = stack._spawn(f"callgrind-{out.stem}",
                           ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", *argv], env=env)
    what, check = ready
    wait_for(what, check, timeout=300, interval=1)
    control = lambda *a: subprocess.run(["callgrind_control", *a, str(process.pid)], stdout=subprocess.DEVNULL, check=True)
    per_call = {}
    try:
        for label, call in calls.items():
            for _ in range(20):  # warm-up: caches, pools, the owner cache
                call()
            control("-i", "on")
            control("-z")
            started = time.monotonic()
            for _ in range(count):
                call()
            control("-d")
            control("-i", "off")
            dumps = sorted(stack.work.glob(f"{out.name}.*"), key=lambda p: p.stat().st_mtime)
            total = 0
            for line in dumps[-1].read_text().splitlines():
                if line.startswith("totals:") or line.startswith("summary:"):
                    total = int(line.split()[1])
            per_call[label] = total / count
            log(f"{name}: {label}: {per_call[label]:,.0f} instructions per call ({time.monotonic() - started:.0f} s under callgrind)")
    finally:
        terminate(process)
    return per_call


def print_instructions(counts: dict[str, dict[str, float]], floor: dict[str, float] | None) -> None:
    print()
    print("instructions executed by the whole process per tool call (callgrind; 200 calls after 20 of warm-up;")
    print("one connection, stateless Streamable HTTP POST; valgrind runs no SHA or AVX-512 code paths, so hashing counts high)")
    labels = list(next(iter(counts.values())))
    head = f"{'call':<12} | " + " | ".join(f"{name:>14}" for name in counts) + (" | ratio" if len(counts) == 2 else "")
    if floor:
        head += f" | {'floor':>10} | {'this build - floor':>18}" + (f" | {'baseline - floor':>16} | ratio" if len(counts) == 2 else "")
    print_head(head)
    for label in labels:
        row = [counts[name][label] for name in counts]
        line = f"{label:<12} | " + " | ".join(f"{n:>14,.0f}" for n in row) + (f" | {row[0] / row[1]:.2f}" if len(row) == 2 else "")
        if floor:
            above = [n - floor[label] for n in row]
            line += f" | {floor[label]:>10,.0f} | {above[0]:>18,.0f}"
            if len(row) == 2:
                line += f" | {above[1]:>16,.0f} | {above[0] / above[1]:.2f}"
        print(line)
    if floor:
        print("   floor: gateway/examples/forward_floor.rs, a proxy that only forwards (the gateway's HTTP server and client);")
        print("   this build - floor: the instructions of the gateway's own work")


def profile_gateway(bench: Bench, label: str, url: str, script: Path, pid: int, seconds: float) -> None:
    """Where the gateway's CPU goes under one tool call at c=16: perf's flat profile by symbol."""
    data = bench.stack.work / f"perf-{label.replace(' ', '-')}.data"
    bench.wrk_run(url, script, 16, 1)
    perf = subprocess.Popen(["perf", "record", "-F", "499", "--call-graph", "dwarf,32768", "-o", str(data), "-p", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = bench.wrk_run(url, script, 16, seconds)
    perf.send_signal(2)
    perf.wait(timeout=60)
    log(f"{label} c=16: {result['requests'] / (result['duration_us'] / 1e6):.0f} req/s while profiled")
    report = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "--sort", "dso,symbol",
                             "--percent-limit", "0.7"], capture_output=True, text=True).stdout
    print(f"\n== {label}: gateway CPU by symbol (perf, c=16) ==")
    print("\n".join(" ".join(line.split()[:4])[:150] for line in report.splitlines() if line.strip() and not line.startswith("#")))


def direct_get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {SIM_TOKEN}", "Accept": "application/vnd.api+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def first_run_id(stack: Stack) -> str:
    """A run of the first acme-corp workspace that has one."""
    _, page = stack.sim_call("GET", f"/api/v2/organizations/{ORG}/workspaces?page%5Bsize%5D=100")
    for ws in page["data"]:
        _, runs = stack.sim_call("GET", f"/api/v2/workspaces/{ws['id']}/runs")
        if runs and runs["data"]:
            return runs["data"][0]["id"]
    raise RuntimeError(f"no run in {ORG}")


def rust_lookup_bench() -> str | None:
    log("in-process route lookup: cargo bench -p tfc-mcp-gateway --bench route_lookup")
    run = subprocess.run(["cargo", "bench", "-q", "-p", "tfc-mcp-gateway", "--bench", "route_lookup"], cwd=ROOT,
                         capture_output=True, text=True)
    if run.returncode != 0:
        log(f"route_lookup bench failed:\n{run.stderr[-2000:]}")
        return None
    return "\n".join(line for line in run.stdout.splitlines() if line.strip())


def print_report(args, comparison, floor_rows, paired, memory, idle_rss, lookup_ns, n_tools, n_ws, page_kib) -> None:
    cpu = os.cpu_count()
    print()
    print("=" * 100)
    print(f"tfc-mcp gateway benchmark: {cpu} CPUs shared by wrk, gateway, simulator and kube-apiserver; "
          f"{args.duration:g} s per point after {args.warmup:g} s warm-up"
          f"{f', medians of {args.rounds} rounds' if args.rounds > 1 else ''}; release builds; loopback.")
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (anything above {cpu} means other work competed for the CPUs)")
    print(f"upstream.maxRequestsPerSecond={args.upstream_rps} on the bench routes, gateway --rate-limit-per-second 0 "
          f"--max-inflight-per-server 0 --max-inflight-per-namespace 0, simulator rate limit off, audit log on.")
    print(f"gateways and floor: {f'{WORKERS} worker thread(s) (TOKIO_WORKER_THREADS, as a CPU limit of {WORKERS} sets)' if WORKERS else 'one worker thread per CPU'}; "
          f"simulator: one per CPU.")
    titles = {
        "small": f"1a. small call: {RUN_TOOL} via the gateway vs GET /api/v2/runs/<id> direct",
        "page": f"1b. {page_kib:.0f} KiB page: {TOOL}(organization_name={ORG}) via the gateway vs "
                f"GET /api/v2/organizations/{ORG}/workspaces direct ({n_ws} workspaces)",
    }
    for kind in ("small", "page"):
        print()
        print(titles[kind])
        print_comparison(comparison[kind])
    print("   overhead = gateway - direct (us); thr ratio = gateway / direct throughput; cpu = % of one core during the gateway run;")
    print("   gw cpu/call = the gateway's CPU time per call (us), steadier than latency on a shared machine")
    if any(floor_rows.values()):
        print()
        print("1c. the floor: a proxy that only forwards (gateway/examples/forward_floor.rs: the gateway's HTTP server and client")
        print("    crates, nothing else), in front of the same upstream URL; what this machine charges for one proxy hop")
        print_floor(comparison, floor_rows)
    if args.baseline_gateway:
        print()
        threads = "" if args.baseline_workers is None else f" on {args.baseline_workers or 'one per CPU'} worker thread(s)"
        print(f"1d. this build against the baseline gateway ({args.baseline_gateway}{threads}), same routes, points alternating")
        print_baseline(comparison)
    if paired:
        print()
        print(f"1e. concurrency 1, paired: every path's request in turn, one at a time over one kept-alive connection each "
              f"({args.duration * args.rounds * 2:g} s per call)")
        print_paired(paired)
    print()
    print(f"2. tools/list ({n_tools} tools), ping and an unknown-token request, {args.list_concurrency} connections, "
          f"by routes loaded (idle gateway RSS {idle_rss:.0f} MiB)")
    head = f"{'routes':>6} | {'RSS MiB':>7} {'KiB/route':>9} | {'tools/list req/s':>16} {'p50 ms':>7} {'p99 ms':>7} | {'ping req/s':>10} {'p50 ms':>7} | " \
           f"{'404 req/s':>9} {'p50 ms':>7} {'p99 ms':>7} | {'wrk cpu':>7} | {'errors':>6}"
    print_head(head)
    previous = None
    for m in memory:
        lst, ping, miss = m["list"], m["ping"], m["miss"]
        # Growth from the previous table size, per added route (the first size also carries warm-up allocations).
        per_route = f"{(m['rss_loaded'] - previous['rss_loaded']) * 1024 / (m['n'] - previous['n']):>9.2f}" if previous else f"{'-':>9}"
        previous = m
        print(f"{m['n']:>6} | {m['rss_loaded']:>7.0f} {per_route} | {lst['rps']:>16.0f} {lst['p50_ms']:>7.2f} {lst['p99_ms']:>7.2f} | "
              f"{ping['rps']:>10.0f} {ping['p50_ms']:>7.2f} | {miss['rps']:>9.0f} {miss['p50_ms']:>7.2f} {miss['p99_ms']:>7.2f} | "
              f"{lst['wrk_cpu_pct']:>6.0f}% | {lst['errors'] + ping['errors'] + miss['errors'] - miss['requests']:>6}")
    print("   RSS: gateway resident memory with the routes loaded, before the load; KiB/route: its growth from the previous size,")
    print("   per added route;")
    print("   ping goes to the most recently added route" + (" (server/discover on 2026-07-28, which has no ping);" if REVISION == MODERN else ";"))
    print("   404: an unknown URL token, refused right after the route lookup (edge + lookup only); its 404s are expected, not errors.")
    if lookup_ns:
        print()
        print("3. route lookup in process (cargo bench -p tfc-mcp-gateway --bench route_lookup): sha256 of the token + hash map")
        for line in lookup_ns.splitlines():
            print("   " + line)
    print()
    print_targets(comparison, floor_rows, paired, memory)
    print("=" * 100)


def print_comparison(rows) -> None:
    head = f"{'conc':>4} | {'gateway req/s':>13} {'p50 ms':>7} {'p99 ms':>7} | {'direct req/s':>12} {'p50 ms':>7} {'p99 ms':>7} | " \
           f"{'p50 +us':>7} {'p99 +us':>7} {'thr ratio':>9} | {'gw cpu':>6} {'gw cpu/call':>11} {'sim cpu':>7} {'wrk cpu':>7} | {'errors':>6}"
    print_head(head)
    for c, via, direct, _ in rows:
        print(f"{c:>4} | {via['rps']:>13.0f} {via['p50_ms']:>7.2f} {via['p99_ms']:>7.2f} | "
              f"{direct['rps']:>12.0f} {direct['p50_ms']:>7.2f} {direct['p99_ms']:>7.2f} | "
              f"{via['p50_us'] - direct['p50_us']:>7.0f} {via['p99_us'] - direct['p99_us']:>7.0f} {via['rps'] / direct['rps']:>9.2f} | "
              f"{via['gw_cpu_pct']:>5.0f}% {cpu_per_call(via):>11.0f} {via['sim_cpu_pct']:>6.0f}% {via['wrk_cpu_pct']:>6.0f}% | "
              f"{via['errors'] + direct['errors']:>6}")


def print_head(head: str) -> None:
    print(head)
    print("-" * len(head))


def points(comparison):
    """(kind, concurrency, gateway row, direct row, baseline row) of every compared point."""
    for kind in ("small", "page"):
        for c, via, direct, base in comparison[kind]:
            yield kind, c, via, direct, base


def print_floor(comparison, floor_rows) -> None:
    head = f"{'call':>5} {'conc':>4} | {'floor req/s':>11} {'p50 ms':>7} {'p50 +us':>7} {'thr ratio':>9} {'cpu/call us':>11} | " \
           f"{'gateway - floor: p50 us':>23} {'thr ratio':>9} {'cpu/call us':>11}"
    print_head(head)
    for kind, c, via, direct, _ in points(comparison):
        floor = floor_rows[kind].get(c)
        if not floor:
            continue
        print(f"{kind:>5} {c:>4} | {floor['rps']:>11.0f} {floor['p50_ms']:>7.2f} {floor['p50_us'] - direct['p50_us']:>7.0f} "
              f"{floor['rps'] / direct['rps']:>9.2f} {cpu_per_call(floor):>11.0f} | "
              f"{via['p50_us'] - floor['p50_us']:>23.0f} {via['rps'] / floor['rps']:>9.2f} {cpu_per_call(via) - cpu_per_call(floor):>11.0f}")
    print("   p50 +us and thr ratio: the floor against direct; gateway - floor: what the gateway's own work adds to the hop")


def print_paired(paired: dict[str, dict]) -> None:
    head = f"{'call':>5} {'path':>8} | {'requests':>8} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} | {'p50 +us':>7} {'p99 +us':>7} | {'errors':>6}"
    print_head(head)
    for kind, rows in paired.items():
        direct = rows["direct"]
        for name in ("direct", "direct 2", "gateway", "floor", "baseline"):
            if name in rows:
                row = rows[name]
                print(f"{kind:>5} {name:>8} | {row['requests']:>8} {row['p50_us'] / 1000:>7.2f} {row['p90_us'] / 1000:>7.2f} "
                      f"{row['p99_us'] / 1000:>7.2f} | {row['p50_us'] - direct['p50_us']:>7.0f} {row['p99_us'] - direct['p99_us']:>7.0f} | "
                      f"{row['errors']:>6}")
    print("   +us: that path's percentile minus the direct request's, from the same interleaved sample (in a new random order")
    print("   every round); direct 2: the same direct request on a second connection, so its +us is the measurement's own noise")


def cpu_per_call(row: dict) -> float:
    return row["gw_cpu_pct"] * 1e4 / max(row["rps"], 1e-9)


def print_baseline(comparison) -> None:
    head = f"{'call':>5} {'conc':>4} | {'req/s base':>10} {'this':>7} {'ratio':>6} | {'p50 ms base':>11} {'this':>6} | " \
           f"{'cpu/call us base':>16} {'this':>6} {'ratio':>6}"
    print_head(head)
    for kind, c, via, _, base in points(comparison):
        print(f"{kind:>5} {c:>4} | {base['rps']:>10.0f} {via['rps']:>7.0f} {via['rps'] / base['rps']:>6.2f} | "
              f"{base['p50_ms']:>11.2f} {via['p50_ms']:>6.2f} | "
              f"{cpu_per_call(base):>16.0f} {cpu_per_call(via):>6.0f} {cpu_per_call(via) / cpu_per_call(base):>6.2f}")
    print("   ratio > 1 on req/s and < 1 on cpu/call mean this build is faster")


def print_targets(comparison, floor_rows, paired, memory) -> None:
    """The issue's targets next to the measured figures, and the floor's own figure where there is one."""
    checks = []

    def floor_share(kind: str, c: int, direct: dict) -> str:
        floor = floor_rows[kind].get(c)
        return f"(no-op proxy: {100 * floor['rps'] / direct['rps']:.0f} %)" if floor else ""

    by_c = {kind: {c: (via, direct) for c, via, direct, _ in rows} for kind, rows in comparison.items()}

    def latency_checks(how: str, small, page, floors) -> None:
        """The concurrency-1 latency targets, of (gateway, direct) rows measured one way."""
        def note(kind: str, direct: dict) -> str:
            floor = floors.get(kind)
            return f"(no-op proxy: {floor['p50_us'] - direct['p50_us']:.0f} us)" if floor else ""
        targets = ((small, "small", "small call", "p50", TARGET_P50_US, True), (small, "small", "small call", "p99", TARGET_P99_US, False),
                   (page, "page", "57 KB page", "p50", TARGET_PAGE_P50_US, True))
        for rows, kind, label, pct, target, with_floor in targets:
            if rows:
                via, direct = rows
                over = via[f"{pct}_us"] - direct[f"{pct}_us"]
                checks.append((f"{label} {pct} overhead, c=1 ({how})", f"{over:.0f} us", f"<= {target} us", over <= target,
                               note(kind, direct) if with_floor else ""))

    # Concurrency 1 both ways: wrk's consecutive calls (1a, 1b), and paired (1e),
    # where every path's request comes between the others' (steadier, and colder).
    latency_checks("wrk", by_c["small"].get(1), by_c["page"].get(1), {kind: rows.get(1) for kind, rows in floor_rows.items()})
    if paired:
        latency_checks("paired", *((paired[kind]["gateway"], paired[kind]["direct"]) if kind in paired else None for kind in ("small", "page")),
                       {kind: rows.get("floor") for kind, rows in paired.items()})
    for kind, label in (("small", "small call"), ("page", "57 KB page")):
        for c in (16, 64):
            if c in by_c[kind]:
                via, direct = by_c[kind][c]
                ratio = via["rps"] / direct["rps"]
                checks.append((f"{label} throughput, c={c}", f"{100 * ratio:.0f} % of direct", f">= {100 * TARGET_THROUGHPUT:.0f} %",
                               ratio >= TARGET_THROUGHPUT, floor_share(kind, c, direct)))
    big = [m for m in memory if m["n"] == 10_000]
    if big:
        mb = big[0]["rss_loaded"] * 1.048576
        checks.append(("RSS with 10,000 routes", f"{mb:.0f} MB ({mb * 1000 / 10_000:.1f} KB/route)", f"<= {TARGET_RSS_10K_MB} MB",
                       mb <= TARGET_RSS_10K_MB, ""))
    print("targets")
    width = max(len(name) for name, *_ in checks) if checks else 10
    for name, measured, target, met, floor in checks:
        print(f"   {name:<{width}}  {measured:>18}  target {target:<10}  {'met' if met else 'NOT met':<8} {floor}".rstrip())


if __name__ == "__main__":
    main()
