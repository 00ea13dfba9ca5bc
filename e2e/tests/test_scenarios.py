"""End-to-end scenarios: a TfcMcpServer applied to a real kube-apiserver,
reconciled by the operator, served by the gateway, called through the
official Python MCP SDK, against the HCP Terraform simulator."""

from __future__ import annotations

import datetime as dt
import time

import mcpclient as mcp
from conftest import MINTED_TOKENS
from stack import GATEWAY_NAMESPACE, wait_for

LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
CURRENT_STATE = "get_single_hashicorp_terraform_cloud_current_state_version_by_id"
CREATE_RUN = "create_a_hashicorp_terraform_cloud_run"
APPLY_RUN = "hashicorp_terraform_cloud_runs_apply"
FORCE_UNLOCK = "hashicorp_terraform_cloud_workspaces_force_unlock"
LIST_POLICIES = "list_all_hashicorp_terraform_cloud_organization_policies"
GET_RUN = "get_single_hashicorp_terraform_cloud_run_by_id"
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")


def serve(stack, namespace, name="srv", **spec) -> str:
    """Applies a server, waits for Ready, returns its MCP URL."""
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def workspace(url, name, org="acme-corp") -> dict:
    result = mcp.call(url, LIST_WS, {"organization_name": org, "search_name": name})
    assert result.ok, result
    matches = [w for w in result.data["results"] if w["name"] == name]
    assert matches, f"{name} not in {[w['name'] for w in result.data['results']]}"
    return matches[0]


def route_secret_name(namespace, name):
    return f"tfcmcp.{namespace}.{name}"


def test_stuck_pipeline_force_unlock_and_rerun(stack, namespace):
    url = serve(stack, namespace)
    ws = workspace(url, "payment-gateway")
    assert ws["locked"] is True

    unlocked = mcp.call(url, FORCE_UNLOCK, {"workspace_id": ws["id"]})
    assert unlocked.ok, unlocked
    assert unlocked.data["locked"] is False

    run = mcp.call(url, CREATE_RUN, {"workspace_id": ws["id"], "message": "AI auto-recovery"})
    assert run.ok, run
    assert run.data["id"].startswith("run-")
    assert run.data["message"] == "AI auto-recovery"

    # The simulator itself shows the workspace unlocked and the run present.
    status, doc = stack.sim_call("GET", f"/api/v2/workspaces/{ws['id']}")
    assert status == 200 and doc["data"]["attributes"]["locked"] is False
    status, runs = stack.sim_call("GET", f"/api/v2/workspaces/{ws['id']}/runs")
    assert status == 200
    assert "AI auto-recovery" in [r["attributes"]["message"] for r in runs["data"]]


def test_audit_reads_current_state_outputs(stack, namespace):
    url = serve(stack, namespace, methods=["read"])
    ws = workspace(url, "internal-vpn")
    state = mcp.call(url, CURRENT_STATE, {"workspace_id": ws["id"]})
    assert state.ok, state
    assert state.data["id"].startswith("sv-")
    outputs = state.data["outputs"]
    assert outputs["vpn_encryption_algorithm"]["value"] == "AES-128"
    # Sensitive outputs are masked unless the spec allows revealing them.
    sensitive = [o for o in outputs.values() if o["sensitive"]]
    assert sensitive and all(o["value"] == "<sensitive>" for o in sensitive)


def test_run_created_then_applied_once_confirmable(stack, namespace):
    url = serve(stack, namespace)
    ws = workspace(url, "frontend-cdn")
    run = mcp.call(url, CREATE_RUN, {"workspace_id": ws["id"], "message": "apply through MCP"})
    assert run.ok, run
    run_id = run.data["id"]

    # Applying too early is refused with the run's current status.
    early = mcp.call(url, APPLY_RUN, {"run_id": run_id})
    if not early.ok:
        assert "409" in early.text or "confirm" in early.text.lower(), early

    def confirmable():
        current = mcp.call(url, GET_RUN, {"run_id": run_id})
        assert current.ok, current
        return current.data["status"] == "planned"

    wait_for("the run to wait for confirmation", confirmable, timeout=30, interval=0.3)
    applied = mcp.call(url, APPLY_RUN, {"run_id": run_id, "comment": "approved by the assistant"})
    assert applied.ok, applied

    def finished():
        current = mcp.call(url, GET_RUN, {"run_id": run_id})
        return current.data["status"] == "applied"

    wait_for("the run to be applied", finished, timeout=30, interval=0.3)


def test_read_only_server_hides_and_refuses_writes(stack, namespace):
    url = serve(stack, namespace, methods=["read"])
    tools = mcp.list_tools(url)
    names = {t.name for t in tools}
    assert LIST_WS in names and CURRENT_STATE in names and LIST_POLICIES in names
    assert not names & {CREATE_RUN, APPLY_RUN, FORCE_UNLOCK}
    assert all(t.name.startswith(("list_all_", "get_single_")) for t in tools)
    assert all(t.annotations and t.annotations.readOnlyHint for t in tools)

    before = len(stack.sim_requests())
    hidden = mcp.call_error(url, FORCE_UNLOCK, {"workspace_id": "ws-anything"})
    unknown = mcp.call_error(url, "no_such_tool", {"workspace_id": "ws-anything"})
    assert hidden.error.code == unknown.error.code
    assert hidden.error.message.replace(FORCE_UNLOCK, "X") == unknown.error.message.replace("no_such_tool", "X")
    seen = stack.sim_requests()[before:]
    assert not [r for r in seen if r["method"] in WRITE_METHODS], seen


def test_tags_filter_tools(stack, namespace):
    url = serve(stack, namespace, methods=["read"], tags=["policies"])
    names = mcp.tool_names(url)
    assert LIST_POLICIES in names
    assert LIST_WS not in names


def test_expiry_revokes_then_removes_everything(stack, namespace):
    expires = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=8)
    url = serve(stack, namespace, name="short", expiresAt=expires.isoformat().replace("+00:00", "Z"))
    assert LIST_WS in mcp.tool_names(url)
    assert mcp.call(url, LIST_WS, {"organization_name": "acme-corp"}).ok

    while dt.datetime.now(dt.timezone.utc) < expires:
        time.sleep(0.05)
    # Refused by the gateway's own clock within a second of the instant.
    deadline = time.monotonic() + 1.0
    status = None
    while time.monotonic() < deadline:
        status = mcp.raw_post(url)[0]
        if status == 404:
            break
        time.sleep(0.05)
    assert status == 404

    wait_for("the expired server to be deleted", lambda: stack.get("tfcmcpserver", "short", namespace) is None, timeout=20)
    assert stack.get("secret", "short-mcp", namespace) is None
    assert stack.get("secret", route_secret_name(namespace, "short"), GATEWAY_NAMESPACE) is None


def test_delete_removes_secrets_and_url(stack, namespace):
    url = serve(stack, namespace, name="gone")
    assert mcp.raw_post(url)[0] == 200
    stack.kubectl("delete", "tfcmcpserver", "gone", "-n", namespace, "--wait=true", "--timeout=30s")
    wait_for("the URL to stop working", lambda: mcp.raw_post(url)[0] == 404, timeout=10)
    wait_for("the access Secret to go", lambda: stack.get("secret", "gone-mcp", namespace) is None, timeout=20)
    assert stack.get("secret", route_secret_name(namespace, "gone"), GATEWAY_NAMESPACE) is None


def test_missing_token_secret_then_recovers(stack, namespace):
    manifest = stack.server_manifest("late", namespace)
    manifest["spec"]["tfc"]["tokenSecretRef"] = {"name": "arrives-later", "key": "token"}
    stack.apply(manifest)
    wait_for("Ready=False/SecretNotFound",
             lambda: (stack.condition("late", namespace) or {}).get("reason") == "SecretNotFound", timeout=20)
    condition = stack.condition("late", namespace)
    assert condition["status"] == "False"
    assert stack.get("secret", route_secret_name(namespace, "late"), GATEWAY_NAMESPACE) is None
    events = stack.kubectl("get", "events", "-n", namespace, "-o", "json").stdout
    assert "SecretNotFound" in events
    generation = stack.get("tfcmcpserver", "late", namespace)["metadata"]["generation"]

    stack.create_token_secret(namespace, name="arrives-later")
    access = stack.wait_ready("late", namespace, timeout=20)
    MINTED_TOKENS.append(access["token"])
    assert stack.get("tfcmcpserver", "late", namespace)["metadata"]["generation"] == generation
    assert LIST_WS in mcp.tool_names(access["url"])


def test_upstream_429_reaches_the_client_with_rate_limit_facts(stack, namespace):
    url = serve(stack, namespace)
    status, _ = stack.sim_put_rate_limit(2)
    assert status in (200, 204)
    try:
        errors = []
        for _ in range(8):
            result = mcp.call(url, LIST_WS, {"organization_name": "acme-corp"})
            if not result.ok:
                errors.append(result)
                break
        assert errors, "the simulator never answered 429"
        error = errors[0]
        assert "429" in error.text
        assert "ratelimit-limit" in error.text and "ratelimit-reset" in error.text
        facts = error.data["error"]["ratelimit"]
        assert facts["ratelimit-limit"] == 2
        assert facts["ratelimit-reset"] is not None
    finally:
        stack.sim_put_rate_limit(0)


def test_gateway_cannot_read_secrets_outside_its_namespace(stack, namespace):
    gateway_kubeconfig = str(stack.cp_dir / "gateway.kubeconfig")
    denied = stack.kubectl("get", "secrets", "-n", namespace, check=False, kubeconfig=gateway_kubeconfig)
    assert denied.returncode != 0 and "forbidden" in denied.stderr.lower()
    allowed = stack.kubectl("get", "secrets", "-n", GATEWAY_NAMESPACE, check=False, kubeconfig=gateway_kubeconfig)
    assert allowed.returncode == 0, allowed.stderr
