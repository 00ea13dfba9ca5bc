"""Budgets shared across gateway replicas, end to end: three gateway
processes count each other from an EndpointSlice in the real API server (the
test writes it: no endpoint controller runs here) and each keeps its share
of one HCP Terraform token's pacing and of the per-server request rate. The
simulator's arrival log shows the upstream never saw more than the budget
(plus the tolerance below) while all three served; after the slice drops to
one endpoint, the remaining replica takes the whole budget.

Tolerance: over any sliding window of W seconds the upstream may see
rate x W (the sustained budget) + rate (the bursts: the replicas' bucket
capacities add up to one second of the budget), plus 10 % of that and 3
requests for scheduling and network jitter on a shared test machine (a
delayed send bunches with the next one). Three unshared replicas would be
allowed three times as much.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import MINTED_TOKENS
from stack import GATEWAY_NAMESPACE, free_port, http_get, log, terminate, wait_for

GET_WS = "get_single_hashicorp_terraform_cloud_workspace_by_id"
# Two workspaces of the seed: one per phase, so the arrival log tells the phases apart.
WS_PACED = "ws-Cn6wB2pKx9Ls3TdE"
WS_LIMITED = "ws-Db5hM1qVz7Yc8PfS"
PEER_SERVICE = "pacing-peers"
REPLICAS = 3
UPSTREAM_RATE = 9      # the paced server's spec.upstream.maxRequestsPerSecond
REQUEST_RATE = 15      # every gateway's --rate-limit-per-second (and burst)
WINDOW = 2.0           # seconds of a sliding window


def allowed(rate: float, window: float = WINDOW) -> float:
    budget = rate * window + rate
    return budget * 1.1 + 3


class Gateway:
    def __init__(self, stack, index: int):
        self.index = index
        self.port = free_port()
        self.admin_port = free_port()
        env = {**os.environ, "KUBECONFIG": str(stack.cp_dir / "gateway.kubeconfig"),
               "RUST_LOG": os.environ.get("RUST_LOG", "info,kube=warn,rmcp=warn")}
        self.proc = subprocess.Popen(
            [str(stack.bin / "tfc-mcp-gateway"), "--namespace", GATEWAY_NAMESPACE,
             "--listen", f"127.0.0.1:{self.port}", "--admin-listen", f"127.0.0.1:{self.admin_port}",
             f"--peer-service={PEER_SERVICE}", f"--peer-self=gw-{index}",
             f"--rate-limit-per-second={REQUEST_RATE}", f"--rate-limit-burst={REQUEST_RATE}",
             *stack.gateway_network_args(public_base_url=f"http://127.0.0.1:{self.port}")],
            stdout=open(stack.work / f"gateway-pacing-{index}.log", "ab"), stderr=subprocess.STDOUT, env=env,
            start_new_session=True)

    def url(self, minted: str) -> str:
        return f"http://127.0.0.1:{self.port}/mcp/{minted.split('/mcp/', 1)[1]}"

    def peers(self) -> float | None:
        _, body = http_get(f"http://127.0.0.1:{self.admin_port}/metrics")
        for line in body.decode().splitlines():
            if line.startswith("tfcmcp_gateway_peers "):
                return float(line.split()[1])
        return None

    def stop(self) -> None:
        terminate(self.proc)


def endpoint_slice(pods: list[int]) -> dict:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{PEER_SERVICE}-abcde", "namespace": GATEWAY_NAMESPACE,
                         "labels": {"kubernetes.io/service-name": PEER_SERVICE}},
            "addressType": "IPv4", "ports": [{"name": "mcp", "port": 8080, "protocol": "TCP"}],
            "endpoints": [{"addresses": [f"10.77.0.{i + 1}"], "conditions": {"ready": True},
                           "targetRef": {"kind": "Pod", "name": f"gw-{i}", "namespace": GATEWAY_NAMESPACE}}
                          for i in pods]}


@pytest.fixture(scope="module")
def replicas(stack):
    # The Service has no selector: its one slice is the test's.
    stack.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": PEER_SERVICE, "namespace": GATEWAY_NAMESPACE},
                 "spec": {"ports": [{"name": "mcp", "port": 80, "targetPort": 8080}]}})
    stack.apply(endpoint_slice(list(range(REPLICAS))))
    gateways = [Gateway(stack, i) for i in range(REPLICAS)]
    try:
        for g in gateways:
            wait_for(f"pacing gateway {g.index} to be ready", lambda g=g: http_get(f"http://127.0.0.1:{g.admin_port}/readyz")[0] == 200)
            wait_for(f"pacing gateway {g.index} to count {REPLICAS} replicas", lambda g=g: g.peers() == REPLICAS)
        yield gateways
    finally:
        for g in gateways:
            g.stop()
        stack.kubectl("delete", "endpointslice", f"{PEER_SERVICE}-abcde", "-n", GATEWAY_NAMESPACE, "--ignore-not-found")
        stack.kubectl("delete", "service", PEER_SERVICE, "-n", GATEWAY_NAMESPACE, "--ignore-not-found")


def arrivals(stack, workspace: str) -> list[float]:
    _, body = http_get(f"{stack.sim['api']}/_sim/arrivals?path_prefix=/api/v2/workspaces/{workspace}")
    return [t / 1000 for t in json.loads(body)["arrivals_ms"]]


def max_in_window(times: list[float], window: float = WINDOW) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


class Load:
    """`threads` callers per URL, each calling GET_WS on `workspace` in a loop for `seconds`."""

    def __init__(self, urls: list[str], workspace: str, threads: int, seconds: float):
        self.served = [0] * len(urls)
        self.limited = [0] * len(urls)
        self.failures: list[str] = []
        self.lock = threading.Lock()
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                           "params": {"name": GET_WS, "arguments": {"workspace_id": workspace}}}).encode()
        deadline = time.monotonic() + seconds
        workers = [threading.Thread(target=self.run, args=(i, url, body, deadline))
                   for i, url in enumerate(urls) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    def run(self, index: int, url: str, body: bytes, deadline: float) -> None:
        while time.monotonic() < deadline:
            request = urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2025-06-18"})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer = json.loads(response.read())
                ok = "result" in answer and not answer["result"].get("isError")
                with self.lock:
                    if ok:
                        self.served[index] += 1
                    else:
                        self.failures.append(json.dumps(answer)[:300])
            except urllib.error.HTTPError as error:
                error.read()
                with self.lock:
                    if error.code == 429:
                        self.limited[index] += 1
                    else:
                        self.failures.append(f"HTTP {error.code}")
                time.sleep(0.02)


def serve(stack, namespace: str, name: str, rate: int) -> str:
    stack.apply(stack.server_manifest(name, namespace, methods=["read"], upstream={"maxRequestsPerSecond": rate}))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def phase(stack, urls: list[str], workspace: str, threads: int, seconds: float) -> tuple[Load, list[float]]:
    before = len(arrivals(stack, workspace))
    load = Load(urls, workspace, threads, seconds)
    time.sleep(0.5)  # the last paced sends arrive
    return load, arrivals(stack, workspace)[before:]


def steady_rate(times: list[float]) -> float:
    """Requests per second after the first second (the bursts)."""
    rest = [t for t in times if t >= times[0] + 1.0]
    return (len(rest) - 1) / (rest[-1] - rest[0]) if len(rest) > 2 else 0.0


def test_three_replicas_share_one_token_and_one_server_rate(stack, namespace, replicas):
    paced = serve(stack, namespace, "paced", UPSTREAM_RATE)
    limited = serve(stack, namespace, "limited", 1000)

    # 1. One token paced at 9/s, all three replicas loaded: each takes 3/s.
    load, times = phase(stack, [g.url(paced) for g in replicas], WS_PACED, threads=4, seconds=8)
    assert not load.failures, load.failures[:3]
    assert all(n >= 5 for n in load.served), f"every replica served: {load.served}"
    peak = max_in_window(times)
    assert peak <= allowed(UPSTREAM_RATE), f"{peak} upstream requests in {WINDOW}s (budget {UPSTREAM_RATE}/s): {times}"
    assert len(times) <= UPSTREAM_RATE * (times[-1] - times[0]) * 1.1 + UPSTREAM_RATE + 3, len(times)
    assert steady_rate(times) >= UPSTREAM_RATE * 0.6, f"the budget is used: {steady_rate(times):.1f}/s"
    shared_rate = steady_rate(times)
    log(f"pacing, 3 replicas: {len(times)} upstream calls, peak {peak} per {WINDOW}s (allowed {allowed(UPSTREAM_RATE):.0f}), "
        f"steady {shared_rate:.1f}/s (budget {UPSTREAM_RATE}/s), served per replica {load.served}")

    # 2. One server's request rate (15/s), all three replicas loaded: 5/s each, the rest get 429.
    load, times = phase(stack, [g.url(limited) for g in replicas], WS_LIMITED, threads=3, seconds=6)
    assert not load.failures, load.failures[:3]
    assert all(n >= 5 for n in load.served) and all(n > 0 for n in load.limited), (load.served, load.limited)
    peak = max_in_window(times)
    assert peak <= allowed(REQUEST_RATE), f"{peak} requests in {WINDOW}s (limit {REQUEST_RATE}/s): {times}"
    assert sum(load.served) <= REQUEST_RATE * 6 * 1.1 + REQUEST_RATE + 3, load.served
    log(f"request rate, 3 replicas: served {load.served} (429: {load.limited}) in 6s, peak {peak} per {WINDOW}s "
        f"(allowed {allowed(REQUEST_RATE):.0f}, limit {REQUEST_RATE}/s)")

    # 3. Two replicas leave the Service: the one left takes the whole budget, in place.
    stack.apply(endpoint_slice([0]))
    wait_for("the remaining replica to count itself alone", lambda: replicas[0].peers() == 1, timeout=30)
    alone = replicas[0]
    load, times = phase(stack, [alone.url(paced)], WS_PACED, threads=12, seconds=6)
    assert not load.failures, load.failures[:3]
    assert max_in_window(times) <= allowed(UPSTREAM_RATE), times
    rate = steady_rate(times)
    assert rate >= UPSTREAM_RATE * 0.75, f"alone, one replica paces at the full budget: {rate:.1f}/s (shared: {shared_rate:.1f}/s)"
    log(f"pacing, 1 replica: steady {rate:.1f}/s (with 3 replicas: {shared_rate / REPLICAS:.1f}/s each, {shared_rate:.1f}/s in all), "
        f"peak {max_in_window(times)} per {WINDOW}s")
    load, times = phase(stack, [alone.url(limited)], WS_LIMITED, threads=6, seconds=5)
    assert not load.failures, load.failures[:3]
    assert load.served[0] >= REQUEST_RATE * 5 * 0.7, f"alone, the full request rate: {load.served}"
    log(f"request rate, 1 replica: served {load.served[0]} in 5s (429: {load.limited[0]})")
    assert max_in_window(times) <= allowed(REQUEST_RATE), times
    # Replicas not listed count themselves on top: never more than the budget.
    assert replicas[1].peers() == 2 and replicas[2].peers() == 2
