"""Runs as tasks (the `io.modelcontextprotocol/tasks` extension, SEP-2663),
end to end on the real stack (operator, gateway with the chart's shared key,
HCP Terraform simulator), in raw JSON-RPC over HTTP so the wire format is the
one checked:

- 2026-07-28 (no session): `hashicorp_terraform_cloud_runs_wait` on a
  moving run answers `resultType: "task"`; every `tasks/get` is a fresh HTTP
  request; the task goes `working` while the run plans, then `completed`
  where it waits for confirmation, with the synchronous tool's answer
  inlined; after the apply, a second task follows it to `applied`;
- 2025-11-25 with the extension in the request's `_meta`: the same;
- another gateway process with the same key (a replica) reads the task, one
  with its own key does not; another server's URL cannot read (or cancel)
  the task, a tampered id is refused, and none of these reaches HCP
  Terraform;
- `tasks/cancel` discards a run that has not started (its workspace is
  locked), and is refused on a server whose methods exclude it;
- clients without the extension keep the synchronous call."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

import mcpclient as mcp
from conftest import MINTED_TOKENS
from stack import GATEWAY_NAMESPACE, free_port, http_get, terminate, wait_for

ORG = "acme-corp"
RUN_WAIT = "hashicorp_terraform_cloud_runs_wait"
CREATE_RUN = "create_a_hashicorp_terraform_cloud_run"
APPLY = "hashicorp_terraform_cloud_runs_apply"
CREATE_WS = "create_a_hashicorp_terraform_cloud_workspace"
DELETE_WS = "hashicorp_terraform_cloud_workspaces_force_delete"
LOCK = "hashicorp_terraform_cloud_workspaces_lock"
UNLOCK = "hashicorp_terraform_cloud_workspaces_unlock"
EXT = "io.modelcontextprotocol/tasks"
MODERN = "2026-07-28"
LEGACY = "2025-11-25"


def serve(stack, namespace, name, **spec) -> str:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def sim_step_delay(stack, ms: int) -> None:
    request = urllib.request.Request(stack.sim["api"] + "/_sim/step-delay", data=json.dumps({"ms": ms}).encode(),
                                     method="PUT", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def rpc(url: str, method: str, params: dict, version: str = MODERN, tasks: bool = True, name: str | None = None) -> dict:
    """One JSON-RPC request as its own HTTP request (no session)."""
    params = dict(params)
    params["_meta"] = {
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {"extensions": {EXT: {}}} if tasks else {},
        "io.modelcontextprotocol/clientInfo": {"name": "tasks-e2e", "version": "1"},
    }
    body = {"jsonrpc": "2.0", "id": str(uuid.uuid4()), "method": method, "params": params}
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": version, "Mcp-Method": method}
    if name is not None:
        headers["Mcp-Name"] = name
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers=headers)
    for _ in range(20):
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read().decode()
                kind = response.headers.get("content-type", "")
        except urllib.error.HTTPError as error:
            if error.code == 429:  # the server's request rate: wait it out like a client would
                time.sleep(float(error.headers.get("retry-after", "1")))
                continue
            raw, kind = error.read().decode(), error.headers.get("content-type", "")
        if kind.startswith("text/event-stream"):
            raw = [line[5:].strip() for line in raw.splitlines() if line.startswith("data:") and line[5:].strip()][-1]
        return json.loads(raw)
    raise AssertionError("rate-limited for too long")


def call_wait(url: str, arguments: dict, version: str = MODERN, tasks: bool = True) -> dict:
    return rpc(url, "tools/call", {"name": RUN_WAIT, "arguments": arguments}, version, tasks, RUN_WAIT)


def task_request(url: str, method: str, task_id: str, version: str = MODERN) -> dict:
    return rpc(url, method, {"taskId": task_id}, version, True, task_id)


def follow(url: str, task_id: str, version: str = MODERN, timeout: float = 90) -> tuple[list[str], dict]:
    """Polls tasks/get (each a fresh request) until the task ends; the
    run statuses seen while working, and the final task."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = task_request(url, "tasks/get", task_id, version)
        task = answer["result"]
        assert task["resultType"] == "complete" and task["taskId"] == task_id, answer
        if task["status"] != "working":
            return seen, task
        seen.append(task["statusMessage"].rsplit(" is ", 1)[-1])
        assert task["pollIntervalMs"] >= 1000, task
        time.sleep(1)
    raise AssertionError(f"task {task_id} did not end within {timeout} s")


def workspace(url: str, name: str) -> str:
    ws = mcp.call(url, CREATE_WS, {"organization_name": ORG, "name": name})
    assert ws.ok, ws
    return ws.data["id"]


def new_run(url: str, ws_id: str, **extra) -> str:
    run = mcp.call(url, CREATE_RUN, {"workspace_id": ws_id, "message": "tasks e2e", **extra})
    assert run.ok, run
    return run.data["id"]


def upstream_reads(stack, before: int) -> list[dict]:
    return [r for r in stack.sim_requests()[before:] if r["path"].startswith("/api/v2/runs/")]


def start_task(url: str, run_id: str, version: str) -> str:
    created = call_wait(url, {"run_id": run_id, "timeout_seconds": 300, "poll_interval_seconds": 1}, version)
    task = created["result"]
    assert task["resultType"] == "task" and task["status"] == "working", created
    assert task["ttlMs"] > 300_000 and task["pollIntervalMs"] == 1000, task
    assert "ttl" not in task and "pollInterval" not in task and "task" not in task, task
    assert task["statusMessage"].startswith(f"run {run_id} is "), task
    return task["taskId"]


def test_a_task_follows_a_run_through_plan_and_apply_on_both_revisions(stack, namespace):
    url = serve(stack, namespace, "tasks")
    ws_id = workspace(url, f"tasks-e2e-{uuid.uuid4().hex[:8]}")
    # Slower runs, so the task is seen working (the simulator steps every 200 ms otherwise).
    sim_step_delay(stack, 700)
    try:
        for version in (MODERN, LEGACY):
            run_id = new_run(url, ws_id)
            # The plan: working while it queues and plans, then completed where it waits for a person.
            seen, done = follow(url, start_task(url, run_id, version), version)
            assert seen and set(seen) <= {"pending", "plan_queued", "planning"}, seen
            assert done["status"] == "completed", done
            result = done["result"]
            assert result["isError"] is False and result["structuredContent"]["status"] == "planned", done
            assert result["structuredContent"]["wait"]["needs_action"] is True, done
            assert APPLY in result["structuredContent"]["next_tools"], done
            assert "waits for confirmation" in done["statusMessage"], done

            # Applied (a plain call), then followed to the end as another task.
            assert mcp.call(url, APPLY, {"run_id": run_id}).ok
            seen, done = follow(url, start_task(url, run_id, version), version)
            assert seen and set(seen) <= {"confirmed", "apply_queued", "applying"}, seen
            assert done["status"] == "completed", done
            assert done["result"]["structuredContent"]["status"] == "applied", done
            assert done["result"]["structuredContent"]["wait"]["final"] is True, done
    finally:
        sim_step_delay(stack, 200)
        mcp.call(url, DELETE_WS, {"workspace_id": ws_id})


def test_a_task_on_an_auto_apply_run_follows_it_to_applied(stack, namespace):
    """An auto-apply run is never confirmable (as in HCP Terraform): the wait
    goes on through `planned` and the task ends when the run is applied."""
    url = serve(stack, namespace, "tasks-auto")
    ws_id = workspace(url, f"tasks-auto-{uuid.uuid4().hex[:8]}")
    sim_step_delay(stack, 700)
    try:
        run_id = new_run(url, ws_id, auto_apply=True)
        seen, done = follow(url, start_task(url, run_id, MODERN))
        assert seen, "the task was seen working"
        assert done["status"] == "completed", done
        run = done["result"]["structuredContent"]
        assert run["status"] == "applied" and run["wait"]["final"] is True, done
        assert run["actions"]["is_confirmable"] is False and run["auto_apply"] is True, done
    finally:
        sim_step_delay(stack, 200)
        mcp.call(url, DELETE_WS, {"workspace_id": ws_id})


def test_another_server_cannot_read_or_cancel_the_task_and_bad_ids_are_refused(stack, namespace):
    url = serve(stack, namespace, "tasks-a")
    other = serve(stack, namespace, "tasks-b")
    ws_id = workspace(url, f"tasks-e2e-{uuid.uuid4().hex[:8]}")
    lock = mcp.call(url, LOCK, {"workspace_id": ws_id, "reason": "tasks e2e"})
    assert lock.ok, lock
    try:
        # The workspace is locked: the run stays pending, the task stays working.
        run_id = new_run(url, ws_id)
        created = call_wait(url, {"run_id": run_id, "timeout_seconds": 300})
        task_id = created["result"]["taskId"]
        before = len(stack.sim_requests())

        foreign = task_request(other, "tasks/get", task_id)
        assert foreign["error"]["code"] == -32602, foreign
        assert "task not found" in foreign["error"]["message"], foreign
        assert task_request(other, "tasks/cancel", task_id)["error"]["code"] == -32602
        tampered = task_id[:-3] + ("AAA" if not task_id.endswith("AAA") else "BBB")
        assert task_request(url, "tasks/get", tampered)["error"]["code"] == -32602
        assert task_request(url, "tasks/get", "nonexistent-12345")["error"]["code"] == -32602
        assert upstream_reads(stack, before) == [], "no refused id reached HCP Terraform"

        # Its own server still reads it (any request, no session).
        mine = task_request(url, "tasks/get", task_id)
        assert mine["result"]["status"] == "working" and mine["result"]["statusMessage"] == f"run {run_id} is pending", mine

        # Cancel: the pending run is discarded; the task ends with the wait's answer.
        ack = task_request(url, "tasks/cancel", task_id)
        assert ack["result"]["resultType"] == "complete", ack
        _, done = follow(url, task_id)
        assert done["result"]["structuredContent"]["status"] == "discarded", done
    finally:
        mcp.call(url, UNLOCK, {"workspace_id": ws_id})
        mcp.call(url, DELETE_WS, {"workspace_id": ws_id})


def test_cancel_is_refused_where_the_server_does_not_allow_it(stack, namespace):
    url = serve(stack, namespace, "tasks-admin")
    watcher = serve(stack, namespace, "tasks-watch", methods=["read", "observe"])
    ws_id = workspace(url, f"tasks-e2e-{uuid.uuid4().hex[:8]}")
    assert mcp.call(url, LOCK, {"workspace_id": ws_id, "reason": "tasks e2e"}).ok
    try:
        run_id = new_run(url, ws_id)
        created = call_wait(watcher, {"run_id": run_id, "timeout_seconds": 300})
        task_id = created["result"]["taskId"]
        before = len(stack.sim_requests())
        refused = task_request(watcher, "tasks/cancel", task_id)
        assert refused["error"]["code"] == -32600 and "does not allow stopping runs" in refused["error"]["message"], refused
        assert not [r for r in stack.sim_requests()[before:] if r["method"] == "POST"], "nothing was stopped"
        assert task_request(watcher, "tasks/get", task_id)["result"]["status"] == "working"
        mcp.call(url, "hashicorp_terraform_cloud_runs_discard", {"run_id": run_id})
    finally:
        mcp.call(url, UNLOCK, {"workspace_id": ws_id})
        mcp.call(url, DELETE_WS, {"workspace_id": ws_id})


def test_the_extension_is_advertised_and_plain_clients_keep_the_synchronous_call(stack, namespace):
    url = serve(stack, namespace, "tasks-plain")
    discover = rpc(url, "server/discover", {}, tasks=False)
    assert EXT in discover["result"]["capabilities"]["extensions"], discover
    ws_id = workspace(url, f"tasks-e2e-{uuid.uuid4().hex[:8]}")
    try:
        run_id = new_run(url, ws_id)
        # No extension declared: the plain answer, as before.
        plain = call_wait(url, {"run_id": run_id, "poll_interval_seconds": 1, "timeout_seconds": 60}, tasks=False)
        assert plain["result"]["resultType"] == "complete" and plain["result"]["structuredContent"]["status"] == "planned", plain
        # The 1.x SDK (2025-11-25, no extension) gets the same synchronous answer.
        sdk = mcp.call(url, RUN_WAIT, {"run_id": run_id, "timeout_seconds": 30})
        assert sdk.ok and sdk.data["status"] == "planned", sdk
        # Removed by SEP-2663.
        for method in ("tasks/result", "tasks/list"):
            assert rpc(url, method, {"taskId": "x"}, name="x")["error"]["code"] == -32601, method
        mcp.call(url, "hashicorp_terraform_cloud_runs_discard", {"run_id": run_id})
    finally:
        mcp.call(url, DELETE_WS, {"workspace_id": ws_id})


# ---- other gateway processes: a replica with the shared key, and a stranger ---------------------


class Gateway:
    """Another gateway process fed by the same route Secrets; with the
    chart's approval key (a replica) or without (a key of its own)."""

    def __init__(self, stack, shared_key: bool):
        self.port, admin = free_port(), free_port()
        env = {**os.environ, "KUBECONFIG": str(stack.cp_dir / "gateway.kubeconfig"),
               "RUST_LOG": os.environ.get("RUST_LOG", "info,kube=warn,rmcp=warn")}
        key = [f"--approval-keys-dir={stack.approval_keys}"] if shared_key else []
        self.proc = subprocess.Popen(
            [str(stack.bin / "tfc-mcp-gateway"), "--namespace", GATEWAY_NAMESPACE,
             "--listen", f"127.0.0.1:{self.port}", "--admin-listen", f"127.0.0.1:{admin}", *key,
             *stack.gateway_network_args(public_base_url=f"http://127.0.0.1:{self.port}")],
            stdout=open(stack.work / f"gateway-tasks-{self.port}.log", "ab"), stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
        wait_for("another gateway", lambda: http_get(f"http://127.0.0.1:{admin}/readyz")[0] == 200)

    def url(self, url: str) -> str:
        return f"http://127.0.0.1:{self.port}/mcp/{url.split('/mcp/', 1)[1]}"

    def stop(self) -> None:
        terminate(self.proc)


@pytest.fixture
def gateways(stack):
    replica, stranger = Gateway(stack, shared_key=True), Gateway(stack, shared_key=False)
    try:
        yield replica, stranger
    finally:
        replica.stop()
        stranger.stop()


def test_any_replica_with_the_shared_key_answers_and_no_other(stack, namespace, gateways):
    replica, stranger = gateways
    url = serve(stack, namespace, "tasks-replicas")
    ws_id = workspace(url, f"tasks-e2e-{uuid.uuid4().hex[:8]}")
    assert mcp.call(url, LOCK, {"workspace_id": ws_id, "reason": "tasks e2e"}).ok
    try:
        run_id = new_run(url, ws_id)
        task_id = call_wait(url, {"run_id": run_id, "timeout_seconds": 300})["result"]["taskId"]
        # Created on one gateway, read on another (same key): no session, no memory.
        on_replica = wait_for("the replica to serve the route", lambda: (a := task_request(replica.url(url), "tasks/get", task_id))
                              and "result" in a and a, timeout=30)
        assert on_replica["result"]["status"] == "working", on_replica
        assert on_replica["result"]["statusMessage"] == f"run {run_id} is pending", on_replica
        before = len(stack.sim_requests())
        foreign = wait_for("the stranger to serve the route", lambda: task_request(stranger.url(url), "tasks/get", task_id), timeout=30)
        assert foreign["error"]["code"] == -32602, foreign
        assert upstream_reads(stack, before) == []
        mcp.call(url, "hashicorp_terraform_cloud_runs_discard", {"run_id": run_id})
    finally:
        mcp.call(url, UNLOCK, {"workspace_id": ws_id})
        mcp.call(url, DELETE_WS, {"workspace_id": ws_id})
