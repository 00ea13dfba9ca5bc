"""Hostile tenants against the gateway, end to end: one tenant runs slowloris
bodies, a flood of 1 MiB arguments and many long runs_wait calls while
another tenant's calls still succeed with normal latency and the gateway's
RSS stays bounded; deleting a route cancels its in-flight runs_wait within
about a second (the simulator stops being polled); a legacy SSE client that
stops reading is closed.

A dedicated gateway process with known, tight limits serves these tests (fed
by the same route Secrets as the stack's gateway)."""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

import mcpclient as mcp
from conftest import MINTED_TOKENS
from stack import GATEWAY_NAMESPACE, free_port, http_get, terminate, wait_for

LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
CREATE_RUN = "create_a_hashicorp_terraform_cloud_run"
RUN_WAIT = "hashicorp_terraform_cloud_runs_wait"
# The chart's gateway memory limit: the RSS must stay well under it.
RSS_LIMIT_KIB = 256 * 1024
PER_SERVER = 4
PER_NAMESPACE = 8


def serve(stack, namespace, name="srv", **spec) -> dict[str, str]:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access


def call_body(name: str, arguments: dict, request_id: int = 1) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


def sim_step_delay(stack, ms: int) -> None:
    request = urllib.request.Request(stack.sim["api"] + "/_sim/step-delay", data=json.dumps({"ms": ms}).encode(),
                                     method="PUT", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class HostileGateway:
    """A gateway with small, known caps and short timeouts."""

    def __init__(self, stack):
        self.stack = stack
        self.port = free_port()
        self.admin_port = free_port()
        self.log_path = stack.work / "gateway-hostile.log"
        env = {**os.environ, "KUBECONFIG": str(stack.cp_dir / "gateway.kubeconfig"),
               "RUST_LOG": os.environ.get("RUST_LOG", "info,kube=warn,rmcp=warn")}
        self.proc = subprocess.Popen(
            [str(stack.bin / "tfc-mcp-gateway"), "--namespace", GATEWAY_NAMESPACE,
             "--listen", f"127.0.0.1:{self.port}", "--admin-listen", f"127.0.0.1:{self.admin_port}",
             # The request rate is not what is tested here: let the abuser through it.
             "--rate-limit-per-second", "1000", "--rate-limit-burst", "1000",
             f"--max-inflight-per-server={PER_SERVER}", f"--max-inflight-per-namespace={PER_NAMESPACE}",
             "--memory-budget-mib", "48", "--body-read-timeout-secs", "3", "--header-read-timeout-secs", "3",
             "--write-stall-timeout-secs", "3", "--sse-keep-alive-secs", "1",
             *stack.gateway_network_args(public_base_url=f"http://127.0.0.1:{self.port}")],
            stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT, env=env, start_new_session=True)
        wait_for("the hostile-test gateway", lambda: http_get(f"http://127.0.0.1:{self.admin_port}/readyz")[0] == 200)

    def url(self, minted: str) -> str:
        return f"http://127.0.0.1:{self.port}/mcp/{minted.split('/mcp/', 1)[1]}"

    def metric(self, name: str) -> float:
        _, body = http_get(f"http://127.0.0.1:{self.admin_port}/metrics")
        total = 0.0
        for line in body.decode().splitlines():
            if line.startswith(name) and (len(line) == len(name) or line[len(name)] in " {"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self) -> None:
        terminate(self.proc)


@pytest.fixture(scope="module")
def gateway(stack):
    g = HostileGateway(stack)
    try:
        yield g
    finally:
        g.stop()


def timed_call(url: str, arguments: dict) -> tuple[float, int, dict | None]:
    started = time.monotonic()
    status, _, raw = mcp.raw_post(url, call_body(LIST_WS, arguments))
    elapsed = time.monotonic() - started
    return elapsed, status, (json.loads(raw) if status == 200 else None)


def victim_latencies(url: str, n: int) -> list[float]:
    latencies = []
    for _ in range(n):
        elapsed, status, answer = timed_call(url, {"organization_name": "acme-corp", "search_name": "core-network"})
        assert status == 200, status
        assert not answer["result"]["isError"], answer
        latencies.append(elapsed)
        time.sleep(0.05)
    return latencies


# ---- the abuser ---------------------------------------------------------------------------------


def slowloris(port: int, path: str, stop: threading.Event, sockets: int = 40) -> None:
    """Sockets that announce a 1 MiB body and send a byte every half second."""
    open_sockets = []
    for _ in range(sockets):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       f"Accept: application/json, text/event-stream\r\nContent-Length: {1024 * 1024 - 1024}\r\n\r\n").encode())
            open_sockets.append(s)
        except OSError:
            pass
    while not stop.is_set():
        for s in list(open_sockets):
            try:
                s.sendall(b" ")
            except OSError:
                open_sockets.remove(s)
                # Closed by the gateway (body timeout): open another one.
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=5)
                    s.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {1024 * 1024 - 1024}\r\n\r\n").encode())
                    open_sockets.append(s)
                except OSError:
                    pass
        stop.wait(0.5)
    for s in open_sockets:
        s.close()


def flood(url: str, stop: threading.Event, outcomes: list[int]) -> None:
    """Tool calls with ~1 MiB of arguments, back to back."""
    body = json.dumps(call_body(LIST_WS, {"organization_name": "acme-corp", "search_name": "x" * (1024 * 1024 - 2048)})).encode()
    while not stop.is_set():
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Accept": "application/json, text/event-stream"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                outcomes.append(response.status)
        except urllib.error.HTTPError as error:
            outcomes.append(error.code)
            error.read()
        except OSError:
            outcomes.append(0)


def long_wait(url: str, run_id: str, outcomes: list[int]) -> None:
    try:
        status, _, _ = mcp.raw_post(url, call_body(RUN_WAIT, {"run_id": run_id, "poll_interval_seconds": 2, "timeout_seconds": 25,
                                                               "wait_for_statuses": ["applied"]}))
    except OSError:
        # An admitted wait outlasts the client's 10 s: the abuser hangs up.
        status = 0
    outcomes.append(status)


def test_an_abusive_tenant_leaves_others_answering_with_bounded_memory(stack, gateway):
    stack.create_namespace("hostile-victim")
    stack.create_token_secret("hostile-victim")
    stack.create_namespace("hostile-abuser")
    stack.create_token_secret("hostile-abuser")
    victim = gateway.url(serve(stack, "hostile-victim")["url"])
    abuser = gateway.url(serve(stack, "hostile-abuser")["url"])

    baseline = victim_latencies(victim, 15)
    rss_before = rss_kib(gateway.proc.pid)

    ws = mcp.call(abuser, LIST_WS, {"organization_name": "acme-corp", "search_name": "core-network"}).data["results"][0]["id"]
    sim_step_delay(stack, 120_000)  # the abuser's runs stay pending: its waits last
    stop = threading.Event()
    peak = {"rss": rss_before}

    def sample():
        while not stop.is_set():
            peak["rss"] = max(peak["rss"], rss_kib(gateway.proc.pid))
            stop.wait(0.1)

    flood_outcomes: list[int] = []
    wait_outcomes: list[int] = []
    threads = [threading.Thread(target=sample), threading.Thread(target=slowloris, args=(gateway.port, abuser.split(f":{gateway.port}", 1)[1], stop))]
    threads += [threading.Thread(target=flood, args=(abuser, stop, flood_outcomes)) for _ in range(12)]
    try:
        run = mcp.call(abuser, CREATE_RUN, {"workspace_id": ws, "message": "hostile wait"})
        assert run.ok, run
        run_id = run.data["id"]
        waits = [threading.Thread(target=long_wait, args=(abuser, run_id, wait_outcomes)) for _ in range(20)]
        for t in threads + waits:
            t.start()
        time.sleep(3)
        under_attack = victim_latencies(victim, 30)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        sim_step_delay(stack, 200)

    p50_before, p50_during = statistics.median(baseline), statistics.median(under_attack)
    p99_during = max(under_attack)
    print(f"\nvictim latency before: p50={p50_before * 1000:.0f} ms max={max(baseline) * 1000:.0f} ms")
    print(f"victim latency under attack: p50={p50_during * 1000:.0f} ms max={p99_during * 1000:.0f} ms")
    print(f"latencies under attack (ms): {[round(x * 1000) for x in under_attack]}")
    print(f"abuser flood answers: { {s: flood_outcomes.count(s) for s in set(flood_outcomes)} }")
    print(f"gateway RSS: before={rss_before // 1024} MiB peak={peak['rss'] // 1024} MiB (limit {RSS_LIMIT_KIB // 1024} MiB)")
    # Not grossly slowed: a second at most at the median, a few seconds at worst.
    assert p50_during < max(10 * p50_before, 1.0), (p50_before, p50_during)
    assert p99_during < 5.0, under_attack
    assert peak["rss"] < RSS_LIMIT_KIB, peak
    # The abuser was held at its caps: its extra waits and floods were turned away.
    for t in waits:
        t.join(timeout=60)
    assert 429 in wait_outcomes, wait_outcomes
    assert sum(1 for s in wait_outcomes if s == 200) <= PER_SERVER, wait_outcomes
    assert gateway.metric('tfcmcp_gateway_rejected_requests_total{server="hostile-abuser/srv",reason="server_busy"}') > 0


# ---- revocation cancels calls in flight ---------------------------------------------------------------


def run_polls(stack, run_id: str) -> list[dict]:
    return [r for r in stack.sim_requests() if r["method"] == "GET" and r["path"] == f"/api/v2/runs/{run_id}"]


def test_deleting_a_route_cancels_its_in_flight_runs_wait(stack, namespace, gateway):
    url = gateway.url(serve(stack, namespace)["url"])
    ws = mcp.call(url, LIST_WS, {"organization_name": "acme-corp", "search_name": "core-network"}).data["results"][0]["id"]
    sim_step_delay(stack, 120_000)
    try:
        run = mcp.call(url, CREATE_RUN, {"workspace_id": ws, "message": "revocation check"})
        assert run.ok, run
        run_id = run.data["id"]
        outcome: dict = {}

        def waiter():
            outcome["answer"] = mcp.raw_post(url, call_body(RUN_WAIT, {"run_id": run_id, "poll_interval_seconds": 1, "timeout_seconds": 120,
                                                                       "wait_for_statuses": ["applied"]}))
            outcome["at"] = time.monotonic()

        thread = threading.Thread(target=waiter)
        thread.start()
        wait_for("runs_wait to poll the run", lambda: len(run_polls(stack, run_id)) >= 2, timeout=20)

        stack.kubectl("delete", "tfcmcpserver", "srv", "-n", namespace, "--wait=false")
        # The moment the gateway stops serving the URL, the call must end within about a second.
        wait_for("the route to be removed", lambda: mcp.raw_post(url)[0] == 404, timeout=30, interval=0.05)
        removed_at = time.monotonic()
        thread.join(timeout=10)
        assert not thread.is_alive(), "runs_wait kept running after its route was deleted"
        print(f"\nruns_wait ended {outcome['at'] - removed_at:+.2f} s after the URL stopped answering")
        assert outcome["at"] - removed_at < 1.5
        status, _, raw = outcome["answer"]
        assert status == 200, raw
        answer = json.loads(raw)
        assert answer["result"]["isError"], answer
        assert answer["result"]["structuredContent"]["error"]["kind"] == "revoked", answer

        polls = len(run_polls(stack, run_id))
        time.sleep(3)
        assert len(run_polls(stack, run_id)) == polls, "the simulator was still polled with the revoked route's token"
    finally:
        sim_step_delay(stack, 200)


# ---- legacy SSE: a client that stops reading ------------------------------------------------------------


def test_an_sse_client_that_stops_reading_is_closed(stack, namespace, gateway):
    access = serve(stack, namespace)
    sse_path = access["sse-url"].split("/mcp/", 1)[1]
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect(("127.0.0.1", gateway.port))
    client.sendall(f"GET /mcp/{sse_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
    client.settimeout(10)
    head = b""
    # The response is chunked: look for the whole endpoint URI, not for the event's end.
    while not re.search(rb"/messages\?sessionId=[0-9a-f]{32}", head):
        chunk = client.recv(4096)
        assert chunk, head
        head += chunk
    endpoint = re.search(rb"/mcp/[^\s]*/messages\?sessionId=[0-9a-f]{32}", head).group(0).decode()
    messages = f"http://127.0.0.1:{gateway.port}{endpoint}"
    wait_for("the session to count", lambda: gateway.metric("tfcmcp_gateway_sse_sessions") >= 1, timeout=5)

    def post(body: dict) -> int:
        request = urllib.request.Request(messages, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    assert post({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}}) == 202
    post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    # The client never reads again; the answers (each the whole tool list) pile up.
    started = time.monotonic()
    statuses = []
    while time.monotonic() - started < 30:
        statuses.append(post({"jsonrpc": "2.0", "id": len(statuses) + 2, "method": "tools/list"}))
        if statuses[-1] == 404:
            break
        time.sleep(0.05)
    closed_after = time.monotonic() - started
    print(f"\nsession closed after {closed_after:.1f} s; POST statuses: { {s: statuses.count(s) for s in set(statuses)} }")
    assert statuses[-1] == 404, statuses
    assert closed_after < 20
    wait_for("the session to be gone", lambda: gateway.metric("tfcmcp_gateway_sse_sessions") == 0, timeout=10)
    # The connection itself is closed too (the write stall timeout): reading drains to EOF or a reset.
    client.settimeout(5)
    deadline = time.monotonic() + 20
    closed = False
    try:
        while time.monotonic() < deadline:
            if not client.recv(65536):
                closed = True
                break
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    finally:
        client.close()
    assert closed, "the gateway kept the connection of a client that does not read"
