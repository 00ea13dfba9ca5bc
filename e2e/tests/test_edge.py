"""The gateway's edge, end to end: legacy HTTP+SSE through the Python SDK,
API tokens, Origin checks, per-server rate limits, body limits, Discovery
mode, progress notifications, identical 404s for unknown, expired and
revoked tokens, upstream rate-limit headers, two gateways serving one client
without affinity, and draining on SIGTERM."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
from mcp import ClientSession

import mcpclient as mcp
from conftest import MINTED_TOKENS
from stack import GATEWAY_NAMESPACE, free_port, http_get, terminate, wait_for

LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
CREATE_RUN = "create_a_hashicorp_terraform_cloud_run"
RUN_WAIT = "hashicorp_terraform_cloud_runs_wait"
GET_RUN = "get_single_hashicorp_terraform_cloud_run_by_id"
ALLOWED_ORIGIN = "https://chat.example.com"


def serve(stack, namespace, name="srv", **spec) -> dict[str, str]:
    """Applies a server, waits for Ready, returns its access Secret."""
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access


def workspace_id(url: str, name: str, org: str = "acme-corp") -> str:
    result = mcp.call(url, LIST_WS, {"organization_name": org, "search_name": name})
    assert result.ok, result
    return next(w["id"] for w in result.data["results"] if w["name"] == name)


def call_body(name: str, arguments: dict, request_id: int = 1) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


def headers_without_date(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() != "date"}


def sim_step_delay(stack, ms: int) -> None:
    request = urllib.request.Request(stack.sim["api"] + "/_sim/step-delay", data=json.dumps({"ms": ms}).encode(),
                                     method="PUT", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def discard_run(stack, run_id: str) -> None:
    stack.sim_call("POST", f"/api/v2/runs/{run_id}/actions/discard", {"comment": "test cleanup"})


# ---- a second gateway, with an Origin allow-list --------------------------------------


class SecondGateway:
    """Another gateway process fed by the same route Secrets, configured with
    an Origin allow-list; it shows that any replica serves any Streamable
    HTTP request."""

    def __init__(self, stack):
        self.stack = stack
        self.port = free_port()
        self.admin_port = free_port()
        self.log_path = stack.work / "gateway-edge.log"
        env = {**os.environ, "KUBECONFIG": str(stack.cp_dir / "gateway.kubeconfig"),
               "RUST_LOG": os.environ.get("RUST_LOG", "info,kube=warn,rmcp=warn")}
        self.proc = subprocess.Popen(
            [str(stack.bin / "tfc-mcp-gateway"), "--namespace", GATEWAY_NAMESPACE,
             "--listen", f"127.0.0.1:{self.port}", "--admin-listen", f"127.0.0.1:{self.admin_port}",
             f"--allowed-origins={ALLOWED_ORIGIN}", "--shutdown-grace-secs", "20",
             *stack.gateway_network_args(public_base_url=f"http://127.0.0.1:{self.port}")],
            stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT, env=env, start_new_session=True)
        wait_for("the second gateway", lambda: http_get(f"http://127.0.0.1:{self.admin_port}/readyz")[0] == 200)

    def stop(self) -> int:
        return terminate(self.proc)


@pytest.fixture(scope="module")
def second_gateway(stack):
    gateway = SecondGateway(stack)
    try:
        yield gateway
    finally:
        gateway.stop()


def on_gateway(port: int, url: str) -> str:
    path = url.split("/mcp/", 1)[1]
    return f"http://127.0.0.1:{port}/mcp/{path}"


# ---- legacy HTTP+SSE ------------------------------------------------------------------------


def sse_session(url: str, fn, headers: dict[str, str] | None = None):
    async def go():
        async with mcp.sse_client(url, headers=headers) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                return await fn(session, init)

    return mcp._run(go())


def test_legacy_sse_lists_and_calls_tools(stack, namespace):
    access = serve(stack, namespace, displayName="Legacy SSE")
    assert access["sse-url"] == access["url"] + "/sse"

    async def go(session, init):
        tools = (await session.list_tools()).tools
        result = await session.call_tool(LIST_WS, {"organization_name": "acme-corp", "search_name": "internal-vpn"})
        return init, tools, result

    init, tools, result = sse_session(access["sse-url"], go)
    assert init.serverInfo.title == "Legacy SSE"
    assert LIST_WS in {t.name for t in tools}
    assert not result.isError, result
    assert [w["name"] for w in result.structuredContent["results"]] == ["internal-vpn"]


# ---- API tokens -------------------------------------------------------------------------------


def test_require_api_token(stack, namespace):
    keys = {"alice": "client-" + secrets.token_urlsafe(16), "bob": "client-" + secrets.token_urlsafe(16)}
    MINTED_TOKENS.extend(keys.values())
    stack.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mcp-client-tokens", "namespace": namespace},
                 "stringData": keys})
    access = serve(stack, namespace, auth={"requireApiToken": True, "apiTokenSecretRef": {"name": "mcp-client-tokens"}})
    url = access["url"]

    status, headers, _ = mcp.raw_post(url)
    assert status == 401
    assert headers_without_date(headers)["www-authenticate"].startswith("Bearer")
    status, headers, _ = mcp.raw_post(url, headers={"Authorization": "Bearer not-a-key"})
    assert status == 401
    assert "invalid_token" in headers_without_date(headers)["www-authenticate"]
    for key in keys.values():
        assert mcp.raw_post(url, headers={"Authorization": f"Bearer {key}"})[0] == 200
    assert LIST_WS in mcp.tool_names(url, headers={"Authorization": f"Bearer {keys['alice']}"})

    # The legacy stream needs it too.
    async def names(session, _init):
        return {t.name for t in (await session.list_tools()).tools}

    assert LIST_WS in sse_session(access["sse-url"], names, headers={"Authorization": f"Bearer {keys['bob']}"})
    request = urllib.request.Request(access["sse-url"], headers={"Accept": "text/event-stream"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


# ---- Origin, and two gateways for one client ------------------------------------------------------


def test_disallowed_origin_is_refused(stack, namespace, second_gateway):
    url = on_gateway(second_gateway.port, serve(stack, namespace)["url"])
    assert mcp.raw_post(url, headers={"Origin": "https://evil.example"})[0] == 403
    assert mcp.raw_post(url, headers={"Origin": ALLOWED_ORIGIN})[0] == 200
    assert mcp.raw_post(url)[0] == 200
    # Checked before the token, so an unknown token cannot be told apart either.
    unknown = on_gateway(second_gateway.port, "http://x/mcp/tfcmcp_" + secrets.token_urlsafe(32))
    assert mcp.raw_post(unknown, headers={"Origin": "https://evil.example"})[0] == 403


def test_two_gateways_serve_one_client_without_affinity(stack, namespace, second_gateway):
    url = serve(stack, namespace)["url"]
    urls = [url, on_gateway(second_gateway.port, url)]
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}}
    steps = [init, {"jsonrpc": "2.0", "method": "notifications/initialized"}, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
             call_body(LIST_WS, {"organization_name": "acme-corp", "search_name": "core-network"}, 3)]
    for i, body in enumerate(steps):
        status, _, raw = mcp.raw_post(urls[i % 2], body)
        assert status in (200, 202), (i, status, raw)
        if status == 200:
            answer = json.loads(raw)
            assert "result" in answer, answer
    assert not answer["result"]["isError"]


# ---- limits ------------------------------------------------------------------------------------


def test_per_server_rate_limit_answers_429_with_retry_after(stack, namespace):
    url = serve(stack, namespace)["url"]
    statuses, retry_after = [], None
    for _ in range(120):
        status, headers, _ = mcp.raw_post(url)
        statuses.append(status)
        if status == 429:
            retry_after = headers_without_date(headers).get("retry-after")
            break
    assert statuses[-1] == 429, statuses
    assert retry_after is not None and int(retry_after) >= 1
    assert statuses.count(200) >= 40  # the burst
    time.sleep(int(retry_after))
    assert mcp.raw_post(url)[0] == 200


def test_huge_body_is_refused_with_413(stack, namespace):
    url = serve(stack, namespace)["url"]
    body = call_body(LIST_WS, {"organization_name": "acme-corp", "search_name": "x" * (1024 * 1024 + 4096)})
    status, _, _ = mcp.raw_post(url, body)
    assert status == 413


# ---- Discovery ------------------------------------------------------------------------------------


def test_discovery_mode(stack, namespace):
    url = serve(stack, namespace, toolExposure="Discovery", methods=["read"])["url"]
    assert mcp.tool_names(url) == {"search_tools", "get_tool_schema", "call_tool"}

    found = mcp.call(url, "search_tools", {"query": "list workspaces"})
    assert found.ok, found
    assert found.data["tools"][0]["name"] == LIST_WS
    assert all(not t["name"].startswith(("create_", "update_", "delete_")) for t in found.data["tools"])

    schema = mcp.call(url, "get_tool_schema", {"name": LIST_WS})
    assert schema.ok and "organization_name" in schema.data["inputSchema"]["properties"]

    called = mcp.call(url, "call_tool", {"name": LIST_WS, "arguments": {"organization_name": "acme-corp", "search_name": "core-network"}})
    assert called.ok, called
    assert [w["name"] for w in called.data["results"]] == ["core-network"]

    # A write tool is hidden here: refused exactly like a tool that does not exist.
    hidden = mcp.call(url, "call_tool", {"name": CREATE_RUN, "arguments": {"workspace_id": "ws-x"}})
    unknown = mcp.call(url, "call_tool", {"name": "no_such_tool", "arguments": {}})
    assert not hidden.ok and not unknown.ok
    assert hidden.text.replace(CREATE_RUN, "X") == unknown.text.replace("no_such_tool", "X")
    assert not mcp.call(url, "get_tool_schema", {"name": CREATE_RUN}).ok


# ---- progress ---------------------------------------------------------------------------------------


def test_progress_notifications_while_waiting_for_a_run(stack, namespace):
    url = serve(stack, namespace)["url"]
    ws = workspace_id(url, "core-network")
    sim_step_delay(stack, 1200)
    run_id = None
    try:
        run = mcp.call(url, CREATE_RUN, {"workspace_id": ws, "message": "progress check"})
        assert run.ok, run
        run_id = run.data["id"]
        seen: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress, total, message):
            seen.append((progress, total, message))

        async def go():
            async with mcp.streamablehttp_client(url) as (read, write, _):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    return await session.call_tool(RUN_WAIT, {"run_id": run_id, "poll_interval_seconds": 1, "timeout_seconds": 8,
                                                              "wait_for_statuses": ["planned"]}, progress_callback=on_progress)

        result = mcp._run(go())
        assert not result.isError, result
        assert len(seen) >= 3, seen
        values = [p for p, _, _ in seen]
        assert values == sorted(values) and len(set(values)) == len(values), seen
        assert any(run_id in (m or "") for _, _, m in seen), seen
    finally:
        sim_step_delay(stack, 200)
        if run_id:
            discard_run(stack, run_id)


# ---- refusing tokens without an oracle ------------------------------------------------------------


def test_unknown_expired_and_revoked_tokens_get_identical_404s(stack, namespace):
    expires = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=6)
    expired_url = serve(stack, namespace, name="short", expiresAt=expires.isoformat().replace("+00:00", "Z"))["url"]
    revoked_url = serve(stack, namespace, name="rotated")["url"]
    assert mcp.raw_post(revoked_url)[0] == 200
    stack.kubectl("annotate", "tfcmcpserver", "rotated", "-n", namespace, "--overwrite", "tfcmcp.dev/rotate-token=1")
    wait_for("the old token to be revoked", lambda: mcp.raw_post(revoked_url)[0] == 404, timeout=20)
    MINTED_TOKENS.append(stack.wait_ready("rotated", namespace)["token"])
    unknown_url = expired_url.rsplit("/", 1)[0] + "/tfcmcp_" + secrets.token_urlsafe(32)

    while dt.datetime.now(dt.timezone.utc) < expires:
        time.sleep(0.05)
    time.sleep(0.2)
    answers = {}
    for what, url in {"unknown": unknown_url, "expired": expired_url, "revoked": revoked_url}.items():
        for suffix in ("", "/sse"):
            status, headers, body = mcp.raw_post(url + suffix) if suffix == "" else _get(url + suffix)
            answers[what + suffix] = (status, headers_without_date(headers), body)
    first = answers["unknown"]
    assert first[0] == 404
    for what, answer in answers.items():
        assert answer == first, (what, answer, first)


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept": "text/event-stream"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# ---- upstream rate limits as HTTP headers -------------------------------------------------------------


def test_upstream_429_is_also_sent_as_ratelimit_headers(stack, namespace):
    url = serve(stack, namespace)["url"]
    status, _ = stack.sim_put_rate_limit(2)
    assert status in (200, 204)
    try:
        for i in range(10):
            status, headers, raw = mcp.raw_post(url, call_body(LIST_WS, {"organization_name": "acme-corp"}, i))
            assert status == 200
            answer = json.loads(raw)
            if answer["result"]["isError"]:
                break
        else:
            pytest.fail("the simulator never answered 429")
        assert answer["result"]["structuredContent"]["error"]["status"] == 429
        headers = headers_without_date(headers)
        assert headers["ratelimit-limit"] == "2"
        assert "ratelimit-reset" in headers and int(headers["ratelimit-reset"]) >= 0
    finally:
        stack.sim_put_rate_limit(0)


# ---- draining on SIGTERM (runs last in this file: it stops the second gateway) --------------------------


def test_zz_second_gateway_drains_in_flight_calls_on_sigterm(stack, namespace, second_gateway):
    url = on_gateway(second_gateway.port, serve(stack, namespace)["url"])
    ws = workspace_id(url, "prod-database-cluster")
    sim_step_delay(stack, 1500)
    run_id = None
    try:
        run = mcp.call(url, CREATE_RUN, {"workspace_id": ws, "message": "drain check"})
        assert run.ok, run
        run_id = run.data["id"]
        outcome: dict = {}

        def waiter():
            outcome["answer"] = mcp.raw_post(url, call_body(RUN_WAIT, {"run_id": run_id, "poll_interval_seconds": 1, "timeout_seconds": 4}))

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(1.0)
        second_gateway.proc.send_signal(signal.SIGTERM)
        wait_for("readiness to fail while draining",
                 lambda: http_get(f"http://127.0.0.1:{second_gateway.admin_port}/readyz")[0] == 503, timeout=5)
        thread.join(timeout=30)
        status, _, raw = outcome["answer"]
        assert status == 200, raw
        assert not json.loads(raw)["result"]["isError"]
        assert second_gateway.proc.wait(timeout=20) == 0
    finally:
        sim_step_delay(stack, 200)
        if run_id:
            discard_run(stack, run_id)


def test_the_gateway_serves_on_the_threads_it_is_given(stack):
    """`--worker-threads` (the chart's gateway.workerThreads) sets the threads
    that serve requests; the startup line says how many. Out of range, the
    gateway refuses to start, naming the flag."""
    started = [json.loads(line) for line in (stack.work / "gateway.log").read_text(errors="replace").splitlines()
               if '"runtime started"' in line]
    assert started and started[-1]["worker_threads"] == 2, started
    for bad in ("0", "1025", "many"):
        result = subprocess.run([str(stack.bin / "tfc-mcp-gateway"), f"--worker-threads={bad}"],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode != 0 and "--worker-threads" in result.stderr, result.stderr
