#!/usr/bin/env python3
"""Soak benchmark: several tenants at a legitimate load, then the same load
with one abusive tenant beside them. Prints figures, asserts nothing.

    python3 e2e/bench/soak.py               # 2 x 90 s, debug build
    python3 e2e/bench/soak.py --quick       # 2 x 20 s
    python3 e2e/bench/soak.py --release     # release builds (cargo build --release)

Setup (all on loopback): a real control plane, the HCP Terraform simulator
with one API token per tenant, and the gateway as `e2e/stack.py` starts it
(the project's default limits). Routes are route Secrets written straight into
the gateway namespace (no operator), one per tenant, each in its own
namespace (`server: tenant-N/app`).

Legitimate tenants (`--tenants`, `--workers` each) run a closed loop with a
short think time: `tools/list`, then listing acme-corp's workspaces (a 57 KB
upstream page), then reading one workspace.

The abuser (phase 2 only), all at once:
- slowloris: `--slowloris` connections that send a POST's headers with a
  1 MiB Content-Length and then one byte a second;
- a flood of tool calls whose arguments are 1 MiB of text (`--flood` threads);
- `--waits` concurrent `runs_wait` calls on a run that stays pending (its
  workspace is locked by someone else), each asking for a 600 s wait;
- a stream of wrong Bearer tokens (its server requires an API token) and
  unknown URL tokens;
- `--large` threads downloading a large raw state one after another (the
  locked workspace's current state padded with `--large-resources`
  resources, about 3 MB per 10,000; its server allows raw state downloads):
  CPU-heavy answers, parsed on the worker thread serving their call, which
  holds up that thread's other calls meanwhile.

`--abuse large` (a comma-separated list) runs only some of these.
`--gateway BINARY` runs another gateway build (an earlier one, to compare)
in place of this tree's.

Printed per phase: the legitimate tenants' request count, error rate, p50 and
p99 latency; the abuser's answers by status; the gateway's peak resident
memory (sampled every 100 ms); the CPU used by the gateway and by the load
generator itself (both on this machine's cores, so latency under abuse is
partly the load generator's own doing).
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import http.client
import json
import os
import shutil
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "e2e"))

from stack import GATEWAY_NAMESPACE, Stack, cargo_build, log, wait_for  # noqa: E402

ORG = "acme-corp"
LOCKED_WORKSPACE = "payment-gateway"
ALL_METHODS = ["list", "get", "create", "update", "delete", "custom"]


def tenant_token(name: str) -> str:
    return "tfcmcp_soak" + hashlib.sha256(f"soak-{name}".encode()).hexdigest()[:32]


def route_manifest(name: str, namespace: str, sim_api: str, upstream_token: str, api_token: str | None,
                   raw_state: bool = False) -> dict:
    token = tenant_token(name)
    route = {
        "requireApiToken": api_token is not None,
        "apiTokenSha256": [hashlib.sha256(api_token.encode()).hexdigest()] if api_token else [],
        "version": 1,
        "tokenSha256": hashlib.sha256(token.encode()).hexdigest(),
        "server": f"{namespace}/app",
        "tfcAddress": sim_api,
        "organizations": [ORG],
        "methods": ALL_METHODS,
        "state": {"allowRawStateDownload": raw_state, "revealSensitiveOutputs": False},
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"tfcmcp.soak.{name}", "namespace": GATEWAY_NAMESPACE, "labels": {"tfcmcp.dev/route": "true"}},
        "type": "Opaque",
        "data": {"route.json": base64.b64encode(json.dumps(route).encode()).decode(),
                 "tfc-token": base64.b64encode(upstream_token.encode()).decode()},
    }


def rpc(method: str, params: dict | None = None, id_: int = 1) -> bytes:
    message = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        message["params"] = params
    return json.dumps(message).encode()


def call(name: str, arguments: dict) -> bytes:
    return rpc("tools/call", {"name": name, "arguments": arguments})


# The abuser's server requires an API token (so wrong ones are refused); its
# other traffic carries the right one.
ABUSER_API_TOKEN = "soak-abuser-api-token"
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
           "MCP-Protocol-Version": "2025-06-18", "Authorization": f"Bearer {ABUSER_API_TOKEN}"}


def post(port: int, path: str, body: bytes, timeout: float = 30, headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={**HEADERS, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def tool_failed(body: bytes) -> bool:
    try:
        answer = json.loads(body)
    except ValueError:
        return True
    return "error" in answer or bool(answer.get("result", {}).get("isError"))


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors = 0
        self.statuses: collections.Counter = collections.Counter()

    def add(self, seconds: float, ok: bool, status: int | str) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.errors += 0 if ok else 1
            self.statuses[status] += 1

    def summary(self) -> dict:
        lat = sorted(self.latencies)
        n = len(lat)

        def pct(p: float) -> float:
            return lat[min(n - 1, int(p * n))] * 1000 if n else float("nan")

        return {"requests": n, "errors": self.errors, "error_rate": self.errors / n if n else float("nan"),
                "p50_ms": pct(0.50), "p99_ms": pct(0.99), "mean_ms": statistics.fmean(lat) * 1000 if n else float("nan"),
                "statuses": dict(self.statuses)}


# ---- load ------------------------------------------------------------------------------------


def legit_worker(port: int, token: str, workspace_id: str, stop: threading.Event, rec: Recorder, think: float) -> None:
    requests = [rpc("tools/list", id_=2),
                call("list_all_hashicorp_terraform_cloud_workspaces", {"organization_name": ORG}),
                call("get_single_hashicorp_terraform_cloud_workspace_by_id", {"workspace_id": workspace_id})]
    i = 0
    while not stop.is_set():
        body = requests[i % len(requests)]
        i += 1
        started = time.monotonic()
        try:
            status, answer = post(port, f"/mcp/{token}", body)
            ok = status == 200 and not tool_failed(answer)
        except OSError as e:
            status, ok = type(e).__name__, False
        rec.add(time.monotonic() - started, ok, status)
        stop.wait(think)


def slowloris(port: int, token: str, stop: threading.Event, rec: Recorder) -> None:
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError as e:
            rec.add(0, False, type(e).__name__)
            stop.wait(0.5)
            continue
        try:
            s.sendall((f"POST /mcp/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       f"Accept: application/json, text/event-stream\r\nAuthorization: Bearer {ABUSER_API_TOKEN}\r\n"
                       "Content-Length: 1048576\r\n\r\n").encode())
            s.settimeout(1.0)
            while not stop.is_set():
                s.sendall(b"{")
                try:
                    data = s.recv(4096)
                    if data or data == b"":
                        status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "closed"
                        rec.add(0, False, f"slowloris:{status}")
                        stop.wait(0.05)  # reconnect at once, near enough
                        break
                except socket.timeout:
                    pass
        except OSError:
            rec.add(0, False, "slowloris:reset")
        finally:
            s.close()


def flood(port: int, token: str, stop: threading.Event, rec: Recorder) -> None:
    big = call("list_all_hashicorp_terraform_cloud_workspaces", {"organization_name": ORG, "search_name": "x" * (1024 * 1024 - 200)})
    while not stop.is_set():
        started = time.monotonic()
        try:
            status, _ = post(port, f"/mcp/{token}", big)
        except OSError as e:
            status = type(e).__name__
        rec.add(time.monotonic() - started, False, f"flood:{status}")
        stop.wait(0.01)


def long_wait(port: int, token: str, run_id: str, stop: threading.Event, rec: Recorder) -> None:
    body = call("hashicorp_terraform_cloud_runs_wait", {"run_id": run_id, "timeout_seconds": 600, "poll_interval_seconds": 1})
    while not stop.is_set():
        started = time.monotonic()
        try:
            status, _ = post(port, f"/mcp/{token}", body, timeout=700)
        except OSError as e:
            status = type(e).__name__
        rec.add(time.monotonic() - started, False, f"wait:{status}")
        stop.wait(0.2)


def large_answers(port: int, token: str, state_version_id: str, stop: threading.Event, rec: Recorder) -> None:
    body = call("hashicorp_terraform_cloud_state_versions_download", {"state_version_id": state_version_id})
    while not stop.is_set():
        started = time.monotonic()
        try:
            status, answer = post(port, f"/mcp/{token}", body, timeout=60)
            status = "tool error" if status == 200 and tool_failed(answer) else status
        except OSError as e:
            status = type(e).__name__
        rec.add(time.monotonic() - started, False, f"large:{status}")


def bad_credentials(port: int, token: str, stop: threading.Event, rec: Recorder) -> None:
    i = 0
    while not stop.is_set():
        i += 1
        path = f"/mcp/{token}" if i % 2 else f"/mcp/tfcmcp_guess{i}"
        try:
            status, _ = post(port, path, rpc("tools/list"), headers={"Authorization": f"Bearer wrong-{i}"})
        except OSError as e:
            status = type(e).__name__
        rec.add(0, False, f"creds:{status}")
        stop.wait(0.01)


def cpu_secs(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def rss_sampler(pid: int, stop: threading.Event, out: dict) -> None:
    peak = 0
    while not stop.is_set():
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            break
        stop.wait(0.1)
    out["peak_rss_mib"] = peak / 1024


ATTACKS = ("slowloris", "flood", "waits", "creds", "large")


def attacks(text: str) -> str:
    """`--abuse`: known attacks only."""
    unknown = [kind for kind in text.split(",") if kind not in ATTACKS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown attack(s) {', '.join(unknown)}; known: {', '.join(ATTACKS)}")
    return text


def phase(name: str, seconds: float, port: int, gateway_pid: int, tenants: list[str], workspace_id: str, args,
          abuser: str | None, run_id: str | None, state_version_id: str | None = None) -> dict:
    log(f"phase {name}: {seconds:.0f} s, {len(tenants)} tenants x {args.workers} workers"
        + (f", abuser: {args.abuse} ({args.slowloris} slowloris, {args.flood} flood, {args.waits} waits, {args.large} large)"
           if abuser else ""))
    stop = threading.Event()
    legit, abuse, rss = Recorder(), Recorder(), {}
    threads = [threading.Thread(target=rss_sampler, args=(gateway_pid, stop, rss))]
    for t in tenants:
        threads += [threading.Thread(target=legit_worker, args=(port, tenant_token(t), workspace_id, stop, legit, args.think))
                    for _ in range(args.workers)]
    if abuser:
        token = tenant_token(abuser)
        kinds = {
            "slowloris": [threading.Thread(target=slowloris, args=(port, token, stop, abuse)) for _ in range(args.slowloris)],
            "flood": [threading.Thread(target=flood, args=(port, token, stop, abuse)) for _ in range(args.flood)],
            "waits": [threading.Thread(target=long_wait, args=(port, token, run_id, stop, abuse)) for _ in range(args.waits)],
            "creds": [threading.Thread(target=bad_credentials, args=(port, token, stop, abuse))],
            "large": [threading.Thread(target=large_answers, args=(port, token, state_version_id, stop, abuse))
                      for _ in range(args.large)],
        }
        threads += [t for kind in args.abuse.split(",") for t in kinds[kind]]
    cpu_before, load_before = cpu_secs(gateway_pid), os.times()
    for t in threads:
        t.daemon = True
        t.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(min(10, max(0, deadline - time.monotonic())))
        s = legit.summary()
        log(f"  ... {name}: {s['requests']} legitimate requests, p50 {s['p50_ms']:.1f} ms, errors {s['errors']}")
    stop.set()
    gateway_cpu = cpu_secs(gateway_pid) - cpu_before
    load_after = os.times()
    load_cpu = (load_after.user - load_before.user) + (load_after.system - load_before.system)
    for t in threads:
        t.join(timeout=2)  # long waits and slowloris sockets are daemons; the gateway stops them
    return {"phase": name, "legit": legit.summary(), "abuse": abuse.summary() if abuser else None, **rss,
            "gateway_cpu_share": gateway_cpu / seconds, "load_generator_cpu_share": load_cpu / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=90, help="length of each phase (default 90)")
    parser.add_argument("--quick", action="store_true", help="20 s phases")
    parser.add_argument("--release", action="store_true", help="release builds")
    parser.add_argument("--tenants", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="closed-loop workers per legitimate tenant")
    parser.add_argument("--think", type=float, default=0.1, help="seconds between a worker's requests")
    parser.add_argument("--slowloris", type=int, default=64)
    parser.add_argument("--flood", type=int, default=8)
    parser.add_argument("--waits", type=int, default=64)
    parser.add_argument("--abuse", default=",".join(ATTACKS), type=attacks,
                        help=f"the abuser's attacks (comma separated; default all): {', '.join(ATTACKS)}")
    parser.add_argument("--large", type=int, default=2, help="abuser threads downloading a large raw state")
    parser.add_argument("--large-resources", type=int, default=10_000, help="resources the large state is padded with")
    parser.add_argument("--gateway", type=Path, metavar="BINARY", help="run this gateway binary instead of this tree's")
    parser.add_argument("--work", type=Path, default=ROOT / "e2e" / ".work" / "soak")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 20

    if args.work.exists():
        shutil.rmtree(args.work)
    stack = Stack(args.work, release=args.release)
    stack.bin = cargo_build(args.release)
    if args.gateway:
        # This tree's binaries, but the given gateway.
        mixed = args.work / "bin"
        mixed.mkdir(parents=True)
        for binary in stack.bin.iterdir():
            if binary.is_file() and os.access(binary, os.X_OK):
                (mixed / binary.name).symlink_to(binary)
        (mixed / "tfc-mcp-gateway").unlink()
        (mixed / "tfc-mcp-gateway").symlink_to(args.gateway.resolve())
        stack.bin = mixed
    tenants = [f"tenant-{i}" for i in range(args.tenants)]
    abuser = "abuser"
    upstream_tokens = {name: f"sim-soak-{name}" for name in [*tenants, abuser]}
    results = []
    try:
        stack.start_control_plane()
        stack.install_cluster_resources()
        port_file = stack.work / "sim-ports.json"
        token_args = [a for t in upstream_tokens.values() for a in ("--token", t)]
        stack._spawn("simulator", [str(stack.bin / "tfc-sim"), "--port-file", str(port_file), *token_args,
                                   "--step-delay-ms", "200", "--rate-limit", "0"])
        stack.sim = wait_for("the simulator", lambda: json.loads(port_file.read_text()), timeout=30)
        stack.start_gateway()
        gateway_pid = stack.procs["gateway"].pid
        for name, upstream in upstream_tokens.items():
            stack.apply(route_manifest(name, name, stack.sim["api"], upstream, ABUSER_API_TOKEN if name == abuser else None,
                                       raw_state=name == abuser))
        port = stack.public_port
        wait_for("every route to be served",
                 lambda: all(post(port, f"/mcp/{tenant_token(n)}", rpc("ping"))[0] == 200 for n in upstream_tokens), timeout=60)

        # A workspace to read, and a run that stays pending (its workspace is locked by someone else).
        auth = {"Authorization": f"Bearer {upstream_tokens[abuser]}", "Content-Type": "application/vnd.api+json"}
        api = stack.sim["api"].removeprefix("http://")
        conn = http.client.HTTPConnection(api, timeout=10)
        conn.request("GET", f"/api/v2/organizations/{ORG}/workspaces/{LOCKED_WORKSPACE}", headers=auth)
        workspace_id = json.loads(conn.getresponse().read())["data"]["id"]
        run = {"data": {"type": "runs", "attributes": {"message": "soak: stays pending"},
                        "relationships": {"workspace": {"data": {"type": "workspaces", "id": workspace_id}}}}}
        conn.request("POST", "/api/v2/runs", body=json.dumps(run), headers=auth)
        run_id = json.loads(conn.getresponse().read())["data"]["id"]
        # The large answer: that workspace's current state, padded.
        conn.request("GET", f"/api/v2/workspaces/{workspace_id}/current-state-version", headers=auth)
        state_version_id = json.loads(conn.getresponse().read())["data"]["id"]
        left = args.large_resources
        while left > 0:
            conn.request("PUT", "/_sim/state-resources", headers=auth,
                         body=json.dumps({"state_version_id": state_version_id, "count": min(left, 10_000)}))
            conn.getresponse().read()
            left -= 10_000
        conn.close()
        status, answer = post(port, f"/mcp/{tenant_token(abuser)}", call(
            "hashicorp_terraform_cloud_state_versions_download", {"state_version_id": state_version_id}), timeout=60)
        log(f"the large answer: raw state of {args.large_resources} padded resources, HTTP {status}, "
            f"{len(answer) / 1e6:.1f} MB answered (tool error: {tool_failed(answer)})")

        results.append(phase("baseline", args.seconds, port, gateway_pid, tenants, workspace_id, args, None, None))
        results.append(phase("with abuser", args.seconds, port, gateway_pid, tenants, workspace_id, args, abuser, run_id,
                             state_version_id))
    finally:
        stack.stop_for_good()

    print("\n== soak: legitimate tenants with and without an abusive tenant ==")
    print(f"{'phase':<14}{'requests':>10}{'errors':>8}{'err %':>8}{'p50 ms':>9}{'p99 ms':>9}{'peak RSS MiB':>14}"
          f"{'gateway CPU':>13}{'load gen CPU':>14}")
    for r in results:
        legit = r["legit"]
        print(f"{r['phase']:<14}{legit['requests']:>10}{legit['errors']:>8}{100 * legit['error_rate']:>8.2f}"
              f"{legit['p50_ms']:>9.1f}{legit['p99_ms']:>9.1f}{r.get('peak_rss_mib', float('nan')):>14.1f}"
              f"{r['gateway_cpu_share']:>12.0%}{r['load_generator_cpu_share']:>14.0%}")
    print("(CPU as a share of one core; gateway and load generator share this machine's cores)")
    base, abused = results[0]["legit"], results[1]["legit"]
    print(f"ratios with/without abuser: p50 {abused['p50_ms'] / base['p50_ms']:.2f}x, p99 {abused['p99_ms'] / base['p99_ms']:.2f}x")
    print(f"legitimate statuses with abuser: {abused['statuses']}")
    print(f"abuser's answers: {results[1]['abuse']['statuses']}")
    (args.work / "soak.json").write_text(json.dumps(results, indent=2))
    print(f"(raw figures: {args.work / 'soak.json'})")


if __name__ == "__main__":
    main()
